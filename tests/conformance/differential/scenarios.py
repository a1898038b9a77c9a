#!/usr/bin/env python
"""The differential scenarios, run on real LangChain / LangGraph.

Each file `dNN_*.jsonl` written here holds the records real LangChain gives
for its cases (format: ../reference/README.md). The runwright side of every
case lives in `../src/differential/`, under the same file and case names;
`../tests/differential.rs` compares the two after the same normalization.

    python scenarios.py OUT_DIR      # writes OUT_DIR/dNN_*.jsonl

Run it through `scripts/differential.sh`, which makes the pinned venv. The
committed files in `reference/` are its output, never edited by hand.
"""

from __future__ import annotations

import asyncio
import operator
import sys
from typing import Annotated, Any, TypedDict

from lc_record import (
    DOCS,
    ChatPromptTemplate,
    FakeListChatModel,
    InMemoryRetriever,
    JsonOutputParser,
    Normalizer,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    Scenario,
    StrOutputParser,
    adispatch_custom_event,
    call_rec,
    enc,
    gmodel,
    rec_astream,
    rec_events,
    rec_graph,
    tool,
)
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

JOKE = "Why did the parrot talk? Because it could!"

# ---------------------------------------------------------------------------
# Cases whose branches run concurrently
# ---------------------------------------------------------------------------
#
# Where sibling branches of a RunnableParallel (or RunnableAssign) stream at
# the same time, asyncio interleaves them in an order that changes from run
# to run (task sets iterate in address order), so those cases are recorded
# in a canonical form instead: `per_run` in the call record. The comparator
# (../tests/differential.rs) puts runwright's records in the same form.
#
#  1. Runs are renumbered in the order of their paths from the root, each
#     step of a path being the run's (name, tags); every `run-N` in the case
#     is renamed accordingly.
#  2. Events are stably sorted by that run number, then start / stream / end,
#     then (stream events) by the sorted top-level keys of a dict chunk: each
#     branch's own chunks keep their order; the order between runs and
#     between branches is dropped.
#  3. Chunk records are stably sorted by their sorted top-level keys.
#  4. Every object's keys are sorted (branch completion order is dropped).
#     Run labels no event names (the `lc_run--run-N` ids of chunks in a
#     case without events) are numbered after those, in their order of
#     first appearance once sorted, which is how the run happened to number
#     them otherwise.
#  5. One `info` record keeps the order fact that does hold: before any
#     direct child of a parallel streams, all its direct children started
#     (`{"branches_start_before_streaming": bool}`, over the original order).


def canonical_per_run(records: list[dict]) -> list[dict]:
    import json
    import re

    call, rest = records[0], records[1:]
    events = [r["value"] for r in rest if r["kind"] == "event"]
    runs: dict[str, dict] = {}
    for ev in events:
        runs.setdefault(ev["run_id"], {"name": ev["name"], "tags": ev["tags"], "parents": ev["parent_ids"]})

    def path(run: str) -> list:
        info = runs[run]
        return [[runs[p]["name"], runs[p]["tags"]] if p in runs else [p] for p in info["parents"]] + [[info["name"], info["tags"]]]

    order = sorted(runs, key=path)
    rename = {old: f"run-{i}" for i, old in enumerate(order)}

    fact = True
    for run, info in runs.items():
        if not info["name"].startswith("RunnableParallel<"):
            continue
        kids = [ev for ev in events if ev["parent_ids"] and ev["parent_ids"][-1] == run]
        starts = [i for i, ev in enumerate(kids) if ev["event"].endswith("_start")]
        streams = [i for i, ev in enumerate(kids) if ev["event"].endswith("_stream")]
        if streams and starts and max(starts) > min(streams):
            fact = False

    def sort_keys(o):
        if isinstance(o, dict):
            return {k: sort_keys(o[k]) for k in sorted(o)}
        if isinstance(o, list):
            return [sort_keys(v) for v in o]
        return o

    def relabel(o):
        if isinstance(o, str):
            return re.sub(r"run-\d+", lambda m: rename.get(m.group(0), m.group(0)), o)
        if isinstance(o, dict):
            return {k: relabel(v) for k, v in o.items()}
        if isinstance(o, list):
            return [relabel(v) for v in o]
        return o

    def rank(r: dict):
        if r["kind"] == "event":
            ev = r["value"]
            phase = 0 if ev["event"].endswith("_start") else 2 if ev["event"].endswith("_end") else 1
            chunk = ev["data"].get("chunk") if phase == 1 else None
            keys = sorted(chunk) if isinstance(chunk, dict) else []
            return (0, int(rename[ev["run_id"]][4:]), phase, json.dumps(keys))
        if r["kind"] == "chunk":
            keys = sorted(r["value"]) if isinstance(r["value"], dict) else []
            return (1, 0, 0, json.dumps(keys))
        return (2, 0, 0, "")

    out = sorted(rest, key=rank)
    for label in re.findall(r"run-\d+", json.dumps([r["value"] for r in out])):
        rename.setdefault(label, f"run-{len(rename)}")
    out = [{"case": r["case"], "kind": r["kind"], "value": sort_keys(relabel(r["value"]))} for r in out]
    call = {**call, "value": {**call["value"], "compare": "per_run"}}
    info = {"case": call["case"], "kind": "info", "value": {"branches_start_before_streaming": fact}}
    return [call, *out, info]


def per_run(sc: Scenario, case: str) -> None:
    """Puts the records of `case` (the last one recorded) in the canonical form."""
    k = next(i for i, r in enumerate(sc.records) if r["case"] == case)
    sc.records[k:] = canonical_per_run(sc.records[k:])
JSON_TEXT = '{"name": "France", "population": 67391582}'


async def rec_ainvoke(sc: Scenario, case: str, runnable: Any, inp: Any, desc: str, config: Any = None) -> None:
    n = Normalizer()
    kw = {"config": config} if config is not None else {}
    sc.add(case, "call", call_rec("ainvoke", desc, inp, **kw))
    try:
        sc.add(case, "output", n.walk(enc(await runnable.ainvoke(inp, config))))
    except Exception as exc:  # noqa: BLE001
        sc.add(case, "error", n.walk(enc(exc)))


async def rec_events_first(sc: Scenario, case: str, runnable: Any, inp: Any, desc: str, take: int) -> None:
    """astream_events, dropped by the consumer after `take` events."""
    n = Normalizer()
    sc.add(case, "call", call_rec("astream_events", desc, inp, version="v2", take=take))
    stream = runnable.astream_events(inp, version="v2")
    k = 0
    async for ev in stream:
        sc.add(case, "event", n.event(ev))
        k += 1
        if k == take:
            break
    await stream.aclose()


async def rec_astream_first(sc: Scenario, case: str, runnable: Any, inp: Any, desc: str, take: int) -> None:
    """astream, dropped by the consumer after `take` chunks."""
    n = Normalizer()
    sc.add(case, "call", call_rec("astream", desc, inp, take=take))
    stream = runnable.astream(inp)
    k = 0
    async for ch in stream:
        sc.add(case, "chunk", n.walk(enc(ch)))
        k += 1
        if k == take:
            break
    await stream.aclose()


# ---------------------------------------------------------------------------
# d01: config inheritance (rule a)
# ---------------------------------------------------------------------------


async def d01(out: str) -> None:
    sc = Scenario("d01_config_inheritance.jsonl")

    async def child(x: str) -> str:
        return x + "!"

    child_r = RunnableLambda(child).with_config(tags=["zchild", "achild"], metadata={"k": "child", "c": 2})

    async def parent(x: str) -> str:
        return await child_r.ainvoke(x)

    parent_r = RunnableLambda(parent).with_config(tags=["outer"], metadata={"k": "outer", "o": 1})
    desc = (
        "RunnableLambda(async parent: child.ainvoke(x)).with_config(tags=['outer'], metadata={'k':'outer','o':1}); "
        "child = RunnableLambda(async child: x+'!').with_config(tags=['zchild','achild'], metadata={'k':'child','c':2})"
    )
    await rec_events(sc, "bound_child_in_parent", parent_r, "hi", desc)
    await rec_events(
        sc,
        "bound_child_in_parent.call_config",
        parent_r,
        "hi",
        desc,
        config={"tags": ["call"], "metadata": {"k": "call", "z": 0}},
    )

    async def shout(x: str) -> str:
        return x.upper()

    stacked = (
        RunnableLambda(shout)
        .with_config(tags=["first"], metadata={"x": 1, "f": 1})
        .with_config(tags=["second"], metadata={"x": 2, "s": 2})
    )
    await rec_events(
        sc,
        "stacked_with_config",
        stacked,
        "hi",
        "RunnableLambda(async shout).with_config(tags=['first'], metadata={'x':1,'f':1}).with_config(tags=['second'], metadata={'x':2,'s':2})",
    )
    stacked_names = RunnableLambda(shout).with_config(run_name="inner_name").with_config(run_name="outer_name")
    await rec_events(
        sc,
        "stacked_run_names",
        stacked_names,
        "hi",
        "RunnableLambda(async shout).with_config(run_name='inner_name').with_config(run_name='outer_name')",
    )

    async def step_a(x: str) -> str:
        return x + "a"

    async def step_b(x: str) -> str:
        return x + "b"

    seq = (
        RunnableLambda(step_a) | RunnableLambda(step_b).with_config(tags=["inner"], metadata={"m": "inner", "i": 1})
    ).with_config(tags=["outer"], metadata={"m": "outer"})
    await rec_events(
        sc,
        "sequence_child_with_config",
        seq,
        "x",
        "(RunnableLambda(async step_a) | RunnableLambda(async step_b).with_config(tags=['inner'], metadata={'m':'inner','i':1})).with_config(tags=['outer'], metadata={'m':'outer'})",
        config={"tags": ["call"], "metadata": {"c": 1}},
    )

    model = FakeListChatModel(responses=["ok go"]).with_config(tags=["model_tag"], metadata={"level": "model"})

    async def inner(x: str) -> str:
        m = await model.ainvoke(x)
        return m.content

    inner_r = RunnableLambda(inner).with_config(tags=["inner_tag"], metadata={"level": "inner"})

    async def middle(x: str) -> str:
        return await inner_r.ainvoke(x)

    middle_r = RunnableLambda(middle).with_config(tags=["middle_tag"], metadata={"level": "middle", "mid": True})

    async def outer(x: str) -> str:
        return await middle_r.ainvoke(x)

    await rec_events(
        sc,
        "three_deep_bound_configs",
        RunnableLambda(outer),
        "q",
        "RunnableLambda(async outer) -> middle.with_config(tags=['middle_tag'], metadata={'level':'middle','mid':True}) -> inner.with_config(tags=['inner_tag'], metadata={'level':'inner'}) -> FakeListChatModel(['ok go']).with_config(tags=['model_tag'], metadata={'level':'model'}), each ainvoked without config",
    )
    await rec_events(
        sc,
        "root_with_config_and_call_config",
        RunnableLambda(shout).with_config(run_name="bound", tags=["b2", "b1"], metadata={"who": "bound", "b": 1}),
        "hi",
        "RunnableLambda(async shout).with_config(run_name='bound', tags=['b2','b1'], metadata={'who':'bound','b':1})",
        config={"run_name": "called", "tags": ["c1"], "metadata": {"who": "call"}},
    )
    sc.write(out)


# ---------------------------------------------------------------------------
# d02: retrievers (rule b)
# ---------------------------------------------------------------------------


async def d02(out: str) -> None:
    sc = Scenario("d02_retrievers.jsonl")
    retriever = InMemoryRetriever(docs=DOCS)
    await rec_events(sc, "retriever.astream_events", retriever, "where did harrison work?", "InMemoryRetriever(docs=DOCS)")
    await rec_events(
        sc,
        "retriever_with_config.astream_events",
        retriever.with_config(run_name="Docs", tags=["kb"], metadata={"source": "mem"}),
        "spicy",
        "InMemoryRetriever(docs=DOCS).with_config(run_name='Docs', tags=['kb'], metadata={'source':'mem'})",
    )

    async def lookup(q: str) -> int:
        docs = await retriever.ainvoke(q)
        return len(docs)

    await rec_events(
        sc,
        "retriever_in_lambda.astream_events",
        RunnableLambda(lookup),
        "harrison",
        "RunnableLambda(async lookup: len(await retriever.ainvoke(q)))",
    )
    await rec_astream(sc, "retriever.astream", retriever, "food", "InMemoryRetriever(docs=DOCS)")
    await rec_events(
        sc,
        "retriever_then_lambda.astream_events",
        retriever | RunnableLambda(lambda docs: [d.page_content for d in docs]),
        "kensho",
        "InMemoryRetriever(docs=DOCS) | RunnableLambda(lambda docs: [d.page_content for d in docs])",
    )
    sc.write(out)


# ---------------------------------------------------------------------------
# d03: parallel maps (rule c)
# ---------------------------------------------------------------------------


async def d03(out: str) -> None:
    sc = Scenario("d03_parallel.jsonl")
    par = RunnableParallel(a=FakeListChatModel(responses=["ab"]), b=FakeListChatModel(responses=["xyz"]))
    desc = "RunnableParallel(a=FakeListChatModel(['ab']), b=FakeListChatModel(['xyz']))"
    await rec_events(sc, "two_models.astream_events", par, "go", desc)
    per_run(sc, "two_models.astream_events")
    await rec_astream(
        sc,
        "two_models.astream",
        RunnableParallel(a=FakeListChatModel(responses=["ab"]), b=FakeListChatModel(responses=["xyz"])),
        "go",
        desc,
    )

    async def fail(x: str) -> str:
        raise ValueError(f"branch failed on {x}")

    failing = RunnableParallel(ok=FakeListChatModel(responses=["abc"]), bad=RunnableLambda(fail))
    per_run(sc, "two_models.astream")
    await rec_events(
        sc,
        "failing_branch.astream_events",
        failing,
        "go",
        "RunnableParallel(ok=FakeListChatModel(['abc']), bad=RunnableLambda(async fail: raises ValueError))",
    )

    async def length(x: Any) -> int:
        return len(x.to_string())

    chain = ChatPromptTemplate.from_template("say {word}") | RunnableParallel(
        said=FakeListChatModel(responses=["hey"]) | StrOutputParser(),
        size=RunnableLambda(length),
    )
    per_run(sc, "failing_branch.astream_events")
    await rec_events(
        sc,
        "map_in_sequence.astream_events",
        chain,
        {"word": "hey"},
        "ChatPromptTemplate('say {word}') | RunnableParallel(said=FakeListChatModel(['hey']) | StrOutputParser(), size=RunnableLambda(async length: len(prompt.to_string())))",
    )

    @tool
    async def mapper_tool(text: str) -> str:
        """Runs a sequence with a map inside."""
        inner = RunnableLambda(lambda s: s.strip()) | RunnableParallel(
            upper=RunnableLambda(lambda s: s.upper()), size=RunnableLambda(lambda s: len(s))
        )
        out = await inner.ainvoke(text)
        return f"{out['upper']}:{out['size']}"

    per_run(sc, "map_in_sequence.astream_events")
    await rec_events(
        sc,
        "map_in_sequence_in_tool.astream_events",
        mapper_tool,
        {"text": " abc "},
        "@tool async mapper_tool(text): (RunnableLambda(strip) | RunnableParallel(upper=RunnableLambda(upper), size=RunnableLambda(len))).ainvoke(text)",
    )
    sc.write(out)


# ---------------------------------------------------------------------------
# d04: assign (rule d)
# ---------------------------------------------------------------------------


async def d04(out: str) -> None:
    sc = Scenario("d04_assign.jsonl")

    async def to_dict(x: str) -> dict:
        return {"text": x}

    async def size(d: dict) -> int:
        return len(d["text"])

    chain = (
        FakeListChatModel(responses=["hi there"])
        | StrOutputParser()
        | RunnableLambda(to_dict)
        | RunnablePassthrough.assign(size=RunnableLambda(size))
    )
    desc = "FakeListChatModel(['hi there']) | StrOutputParser() | RunnableLambda(async to_dict: {'text': x}) | RunnablePassthrough.assign(size=RunnableLambda(async size: len(d['text'])))"
    await rec_events(sc, "assign_after_stream.astream_events", chain, "go", desc)
    await rec_astream(
        sc,
        "assign_after_stream.astream",
        FakeListChatModel(responses=["hi there"])
        | StrOutputParser()
        | RunnableLambda(to_dict)
        | RunnablePassthrough.assign(size=RunnableLambda(size)),
        "go",
        desc,
    )

    async def upper(d: dict) -> str:
        return d["q"].upper()

    async def count(d: dict) -> int:
        return len(d["q"])

    two = RunnablePassthrough.assign(upper=RunnableLambda(upper), n=RunnableLambda(count))
    await rec_events(
        sc,
        "assign_two_keys.astream_events",
        two,
        {"q": "abc"},
        "RunnablePassthrough.assign(upper=RunnableLambda(async upper), n=RunnableLambda(async count))",
    )
    per_run(sc, "assign_two_keys.astream_events")
    await rec_ainvoke(
        sc,
        "assign_two_keys.ainvoke",
        two,
        {"q": "abc"},
        "RunnablePassthrough.assign(upper=RunnableLambda(async upper), n=RunnableLambda(async count))",
    )
    per_run(sc, "assign_two_keys.ainvoke")
    sc.write(out)


# ---------------------------------------------------------------------------
# d05: fallbacks in a streaming chain (rule e)
# ---------------------------------------------------------------------------


async def d05(out: str) -> None:
    sc = Scenario("d05_fallbacks.jsonl")
    prompt = ChatPromptTemplate.from_template("tell me about {topic}")

    def chain_ok():
        return (
            prompt
            | FakeListChatModel(responses=["primary"]).with_fallbacks([FakeListChatModel(responses=["backup"])])
            | StrOutputParser()
        )

    def chain_fail():
        return (
            prompt
            | FakeListChatModel(responses=["primary"], error_on_chunk_number=0).with_fallbacks(
                [FakeListChatModel(responses=["backup"])]
            )
            | StrOutputParser()
        )

    desc_ok = "ChatPromptTemplate('tell me about {topic}') | FakeListChatModel(['primary']).with_fallbacks([FakeListChatModel(['backup'])]) | StrOutputParser()"
    desc_fail = "ChatPromptTemplate('tell me about {topic}') | FakeListChatModel(['primary'], error_on_chunk_number=0).with_fallbacks([FakeListChatModel(['backup'])]) | StrOutputParser()"
    await rec_events(sc, "primary_ok.astream_events", chain_ok(), {"topic": "x"}, desc_ok)
    await rec_events(sc, "primary_fails.astream_events", chain_fail(), {"topic": "x"}, desc_fail)
    await rec_astream(sc, "primary_fails.astream", chain_fail(), {"topic": "x"}, desc_fail)
    await rec_ainvoke(sc, "primary_fails.ainvoke", chain_fail(), {"topic": "x"}, desc_fail)
    sc.write(out)


# ---------------------------------------------------------------------------
# d06: retry (rule f)
# ---------------------------------------------------------------------------


async def d06(out: str) -> None:
    sc = Scenario("d06_retry.jsonl")
    attempts = {"n": 0}

    async def flaky(x: int) -> int:
        attempts["n"] += 1
        if attempts["n"] < 2:
            raise ValueError(f"attempt {attempts['n']} failed")
        return x * 10

    def retrying():
        attempts["n"] = 0
        return RunnableLambda(flaky).with_retry(stop_after_attempt=3, wait_exponential_jitter=False)

    desc = "RunnableLambda(async flaky: fails on the first attempt).with_retry(stop_after_attempt=3, wait_exponential_jitter=False)"
    await rec_ainvoke(sc, "flaky.ainvoke", retrying(), 4, desc)
    await rec_events(sc, "flaky.astream_events", retrying(), 4, desc)
    await rec_astream(sc, "flaky.astream", retrying(), 4, desc)

    async def plus_one(x: int) -> int:
        return x + 1

    def chain():
        return RunnableLambda(plus_one) | retrying()

    cdesc = "RunnableLambda(async plus_one) | " + desc
    await rec_ainvoke(sc, "flaky_in_sequence.ainvoke", chain(), 4, cdesc)
    await rec_events(sc, "flaky_in_sequence.astream_events", chain(), 4, cdesc)
    sc.write(out)


# ---------------------------------------------------------------------------
# d07: JsonOutputParser in diff mode (rule g)
# ---------------------------------------------------------------------------


async def d07(out: str) -> None:
    sc = Scenario("d07_json_diff.jsonl")
    desc = "FakeListChatModel([JSON_TEXT]) | JsonOutputParser(diff=True)"

    def chain():
        return FakeListChatModel(responses=[JSON_TEXT]) | JsonOutputParser(diff=True)

    await rec_ainvoke(sc, "chain.ainvoke", chain(), "go", desc)
    await rec_ainvoke(sc, "parser_alone.ainvoke", JsonOutputParser(diff=True), JSON_TEXT, "JsonOutputParser(diff=True)")
    await rec_astream(sc, "chain.astream", chain(), "go", desc)
    await rec_events(sc, "chain.astream_events", chain(), "go", desc)
    sc.write(out)


# ---------------------------------------------------------------------------
# d08: LangGraph supersteps (rules h, i)
# ---------------------------------------------------------------------------


class FanState(TypedDict):
    log: Annotated[list, operator.add]
    topic: str
    count: int


def build_fan_out():
    async def zeta(state: FanState) -> dict:
        get_stream_writer()({"from": "zeta"})
        return {"log": ["zeta"], "count": 1}

    async def alpha(state: FanState) -> dict:
        get_stream_writer()({"from": "alpha"})
        return {"log": ["alpha"]}

    async def mid(state: FanState) -> dict:
        get_stream_writer()({"from": "mid"})
        return {"log": ["mid"]}

    async def join(state: FanState) -> dict:
        return {"log": ["join"], "topic": state["topic"] + "!"}

    g = StateGraph(FanState)
    g.add_node("zeta", zeta)
    g.add_node("alpha", alpha)
    g.add_node("mid", mid)
    g.add_node("join", join)
    g.add_edge(START, "zeta")
    g.add_edge(START, "alpha")
    g.add_edge(START, "mid")
    g.add_edge(["zeta", "alpha", "mid"], "join")
    g.add_edge("join", END)
    return g.compile()


FAN_DESC = "StateGraph(FanState{log: list (operator.add), topic: str, count: int}); START -> zeta, alpha, mid (added in that order, each writes {'from': node} with the stream writer); [zeta, alpha, mid] -> join -> END"


class RouteState(TypedDict):
    n: int
    path: list


def build_router(named: bool):
    async def start(state: RouteState) -> dict:
        return {"n": state["n"] + 1, "path": state["path"] + ["start"]}

    async def small(state: RouteState) -> dict:
        return {"path": state["path"] + ["small"]}

    async def big(state: RouteState) -> dict:
        return {"path": state["path"] + ["big"]}

    def route_by_size(state: RouteState) -> str:
        return "big" if state["n"] > 5 else "small"

    g = StateGraph(RouteState)
    g.add_node("start", start)
    g.add_node("small", small)
    g.add_node("big", big)
    g.add_edge(START, "start")
    if named:
        g.add_conditional_edges("start", route_by_size, ["small", "big"])
    else:
        g.add_conditional_edges("start", lambda s: "big" if s["n"] > 5 else "small", ["small", "big"])
    g.add_edge("small", END)
    g.add_edge("big", END)
    return g.compile()


ROUTE_DESC = "StateGraph(RouteState{n, path}); START -> start (n+1) -> conditional edges by {router} (n > 5: big, else small) -> END"


class OrderState(TypedDict):
    first: str
    second: int
    third: list


def build_ordered():
    async def fill(state: OrderState) -> dict:
        return {"third": ["t"], "first": "f", "second": 2}

    g = StateGraph(OrderState)
    g.add_node("fill", fill)
    g.add_edge(START, "fill")
    g.add_edge("fill", END)
    return g.compile()


class ChatState(TypedDict):
    answer: str
    quiet: str


def build_nostream():
    loud = FakeListChatModel(responses=["hi you"])
    silent = FakeListChatModel(responses=["shh"]).with_config(tags=["nostream"])

    async def talk(state: ChatState) -> dict:
        m = await loud.ainvoke("hello")
        return {"answer": m.content}

    async def hush(state: ChatState) -> dict:
        m = await silent.ainvoke("hello")
        return {"quiet": m.content}

    g = StateGraph(ChatState)
    g.add_node("talk", talk)
    g.add_node("hush", hush)
    g.add_edge(START, "talk")
    g.add_edge("talk", "hush")
    g.add_edge("hush", END)
    return g.compile()


NOSTREAM_DESC = "StateGraph(ChatState{answer, quiet}); START -> talk (FakeListChatModel(['hi you']).ainvoke) -> hush (FakeListChatModel(['shh']).with_config(tags=['nostream']).ainvoke) -> END"


async def d08(out: str) -> None:
    sc = Scenario("d08_graph_supersteps.jsonl")
    inp = {"log": [], "topic": "t", "count": 0}
    await rec_graph(sc, "fan_out.updates", build_fan_out(), inp, FAN_DESC, stream_mode="updates")
    await rec_graph(sc, "fan_out.values", build_fan_out(), inp, FAN_DESC, stream_mode="values")
    await rec_graph(sc, "fan_out.custom", build_fan_out(), inp, FAN_DESC, stream_mode="custom")
    await rec_graph(sc, "fan_out.updates+custom", build_fan_out(), inp, FAN_DESC, stream_mode=["updates", "custom"])
    await rec_events(sc, "fan_out.astream_events", build_fan_out(), inp, FAN_DESC)

    rin = {"n": 1, "path": []}
    await rec_events(sc, "named_router.astream_events", build_router(True), rin, ROUTE_DESC.replace("{router}", "def route_by_size"))
    await rec_graph(sc, "named_router.updates", build_router(True), {"n": 9, "path": []}, ROUTE_DESC.replace("{router}", "def route_by_size"), stream_mode="updates")
    await rec_events(sc, "lambda_router.astream_events", build_router(False), rin, ROUTE_DESC.replace("{router}", "a lambda"))

    await rec_graph(
        sc,
        "values_field_order.values",
        build_ordered(),
        {"third": [], "second": 0, "first": ""},
        "StateGraph(OrderState{first, second, third}); fill returns {'third', 'first', 'second'}; input in the order third, second, first",
        stream_mode="values",
    )
    await rec_graph(sc, "nostream.messages", build_nostream(), {"answer": "", "quiet": ""}, NOSTREAM_DESC, stream_mode="messages")
    await rec_graph(sc, "nostream.values", build_nostream(), {"answer": "", "quiet": ""}, NOSTREAM_DESC, stream_mode="values")

    graph = build_router(True)

    async def run_graph(n: int) -> list:
        state = await graph.ainvoke({"n": n, "path": []})
        return state["path"]

    await rec_events(
        sc,
        "graph_in_lambda.astream_events",
        RunnableLambda(run_graph),
        7,
        "RunnableLambda(async run_graph: (await graph.ainvoke({'n': n, 'path': []}))['path']), graph = " + ROUTE_DESC.replace("{router}", "def route_by_size"),
    )
    sc.write(out)


# ---------------------------------------------------------------------------
# d09: nesting, errors at each depth, filters on nested runs, early drop
# ---------------------------------------------------------------------------


async def d09(out: str) -> None:
    sc = Scenario("d09_nesting_errors_filters.jsonl")

    def nested_chain():
        inner = ChatPromptTemplate.from_template("echo {x}") | FakeListChatModel(responses=["abc"]) | StrOutputParser()

        async def middle(x: str) -> str:
            return (await inner.ainvoke({"x": x})) + "|"

        async def outer_step(x: str) -> str:
            return await RunnableLambda(middle).ainvoke(x)

        return RunnableLambda(lambda x: x + "?") | RunnableLambda(outer_step)

    desc = "RunnableLambda(lambda x: x+'?') | RunnableLambda(async outer_step: RunnableLambda(async middle: (ChatPromptTemplate('echo {x}') | FakeListChatModel(['abc']) | StrOutputParser()).ainvoke({'x': x}) + '|').ainvoke(x))"
    await rec_events(sc, "three_deep.astream_events", nested_chain(), "hi", desc)
    await rec_events(sc, "three_deep.include_types=chat_model", nested_chain(), "hi", desc, include_types=["chat_model"])
    await rec_events(sc, "three_deep.include_names=middle", nested_chain(), "hi", desc, include_names=["middle"])
    await rec_events(sc, "three_deep.include_tags=seq:step:3", nested_chain(), "hi", desc, include_tags=["seq:step:3"])
    await rec_events(sc, "three_deep.exclude_types=chain", nested_chain(), "hi", desc, exclude_types=["chain"])
    await rec_events(
        sc,
        "three_deep.call_tags+include_tags",
        nested_chain(),
        "hi",
        desc,
        config={"tags": ["deep"]},
        include_tags=["deep"],
        exclude_names=["RunnableSequence"],
    )

    def failing_at(depth: int):
        async def leaf(x: int) -> int:
            if depth == 3:
                raise ValueError(f"leaf failed on {x}")
            return x + 1

        async def mid(x: int) -> int:
            v = await RunnableLambda(leaf).ainvoke(x)
            if depth == 2:
                raise ValueError(f"mid failed on {v}")
            return v * 2

        async def top(x: int) -> int:
            v = await RunnableLambda(mid).ainvoke(x)
            if depth == 1:
                raise ValueError(f"top failed on {v}")
            return v

        return RunnableLambda(top)

    for depth in (1, 2, 3):
        await rec_events(
            sc,
            f"error_at_depth_{depth}.astream_events",
            failing_at(depth),
            1,
            f"RunnableLambda(async top) -> RunnableLambda(async mid) -> RunnableLambda(async leaf), each ainvoked; depth {depth} raises ValueError after its child returns",
        )

    @tool
    async def boom(text: str) -> str:
        """Always fails."""
        raise ValueError(f"boom: {text}")

    async def call_tool(x: str) -> str:
        return await boom.ainvoke({"text": x})

    await rec_events(
        sc,
        "tool_error_in_lambda.astream_events",
        RunnableLambda(call_tool),
        "x",
        "RunnableLambda(async call_tool: boom.ainvoke({'text': x})); @tool async boom raises ValueError",
    )

    def long_chain():
        return ChatPromptTemplate.from_template("go {x}") | FakeListChatModel(responses=["abcdefgh"]) | StrOutputParser()

    ldesc = "ChatPromptTemplate('go {x}') | FakeListChatModel(['abcdefgh']) | StrOutputParser()"
    await rec_events_first(sc, "early_drop.astream_events", long_chain(), {"x": "1"}, ldesc, take=9)
    await rec_astream_first(sc, "early_drop.astream", long_chain(), {"x": "1"}, ldesc, take=3)

    async def emit(x: str) -> str:
        await adispatch_custom_event("progress", {"at": x})
        return x

    custom_nested = RunnableLambda(lambda x: x) | RunnableLambda(emit).with_config(tags=["emitter"])
    await rec_events(
        sc,
        "custom_in_tagged_child.include_tags=emitter",
        custom_nested,
        "p",
        "RunnableLambda(lambda x: x) | RunnableLambda(async emit: adispatch_custom_event('progress', {'at': x})).with_config(tags=['emitter'])",
        include_tags=["emitter"],
    )
    sc.write(out)


ALL = [d01, d02, d03, d04, d05, d06, d07, d08, d09]


async def main(out: str, only: list[str]) -> None:
    for f in ALL:
        if not only or f.__name__ in only:
            await f(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: scenarios.py OUT_DIR [dNN ...]")
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
