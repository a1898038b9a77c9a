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
    AIMessage,
    BaseMessage,
    ChatPromptTemplate,
    FakeListChatModel,
    FakeToolCallingChatModel,
    HumanMessage,
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
from langgraph.graph.message import add_messages

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
    # Which `configurable` values a run's metadata shows (langchain-core's
    # ensure_config copies a few), and that the call's metadata wins.
    seq_desc = "RunnableLambda(async step_a) | RunnableLambda(async shout)"
    await rec_events(
        sc,
        "configurable_in_metadata",
        RunnableLambda(step_a) | RunnableLambda(shout),
        "x",
        seq_desc,
        config={
            "metadata": {"user_id": "from_metadata"},
            "configurable": {
                "model": "m1",
                "checkpoint_ns": "ns1",
                "user_id": "u1",
                "temperature": 0.5,
                "flag": True,
                "__hidden": "h",
                "nested": {"a": 1},
                "api_key": "k",
            },
        },
    )
    await rec_events(
        sc,
        "configurable_in_metadata.metadata_wins",
        RunnableLambda(step_a) | RunnableLambda(shout),
        "x",
        seq_desc,
        config={"metadata": {"model": "from_metadata"}, "configurable": {"model": "m1", "checkpoint_ns": 7}},
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


# ---------------------------------------------------------------------------
# Durable graphs (d10-d13): checkpointers, interrupts, threads, subgraphs
# ---------------------------------------------------------------------------
#
# A case is one thread (`InMemorySaver`, `{"configurable": {"thread_id": ...}}`)
# driven by several API calls in turn: every call gets a `call` record (api,
# input, kwargs, naming the graph in `runnable`) followed by what it gave
# (`chunk`, `output`, `state`, `event`, `checkpoint`, `error`). The first
# record of a case is its first call.
#
# Ids are only known once the case has ended (a call may name a checkpoint an
# earlier call made), so a case's records are kept raw and normalized at its
# end by `DurableNormalizer`, in record order:
#
#  * checkpoint ids (uuid6)                     -> "ckpt-0", "ckpt-1", ...
#  * task ids (xxh3 / uuid5 hashes, UUID-shaped) -> "task-0", ...
#  * interrupt ids (32 hex digits, xxh3_128)    -> "int-0", ...
#  * run ids                                    -> "run-0", ... (as Normalizer)
#  * other UUIDs (message ids LangGraph adds)   -> "uuid-0", ...
#    each in order of first appearance, dict keys included (a resume map and
#    `metadata.parents` are keyed by ids); NULL_TASK_ID (all zeros) is kept;
#  * channel versions "<32-digit n>.<random>"   -> "<32-digit n>.<r>";
#  * created_at / ts / timestamp / start_time / end_time -> "<ts>";
#  * the keys of `metadata` and of a checkpoint's `channel_versions`,
#    `channel_values` and `versions_seen` (and its inner maps) sorted: their
#    order is a set's iteration order in LangGraph, not stable run to run;
#  * in `pending_writes`, each run of one task's consecutive edge writes
#    (`branch:to:*`, `join:*`) sorted by channel, for the same reason.
#
# Which UUID is a checkpoint id and which a task id is known exactly: the
# functions LangGraph makes them with are wrapped below to remember what they
# returned (nothing else changes).

import re as _re  # noqa: E402

import langgraph.checkpoint.base as _lg_ckpt_base  # noqa: E402
import langgraph.pregel._algo as _lg_algo  # noqa: E402
import langgraph.pregel._checkpoint as _lg_pregel_ckpt  # noqa: E402
import langgraph.pregel.main as _lg_main  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from langgraph.types import Command, interrupt  # noqa: E402
from pydantic import BaseModel  # noqa: E402

MADE_IDS: dict[str, set[str]] = {"ckpt": set(), "task": set()}


def _remember(kind: str, f):
    def made(*a, **k):
        v = f(*a, **k)
        MADE_IDS[kind].add(str(v).lower())
        return v

    return made


_lg_ckpt_base.uuid6 = _remember("ckpt", _lg_ckpt_base.uuid6)
_lg_pregel_ckpt.uuid6 = _remember("ckpt", _lg_pregel_ckpt.uuid6)
_lg_algo._xxhash_str = _remember("task", _lg_algo._xxhash_str)
_lg_algo._uuid5_str = _remember("task", _lg_algo._uuid5_str)
_lg_main._update_task_id = _remember("task", _lg_main._update_task_id)

# The task id of writes no task made (Command(update=...), resume values):
# langgraph._internal._constants.NULL_TASK_ID, kept as it is.
NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"
HEX32_RE = _re.compile(r"(?<![0-9a-fA-F-])[0-9a-f]{32}(?![0-9a-fA-F-])")
VERSION_RE = _re.compile(r"(\d{32})\.\S+")
DURABLE_TS_KEYS = {"start_time", "end_time", "timestamp", "created_at", "ts"}
# Dicts whose key order is a set's iteration order in LangGraph (it changes
# with PYTHONHASHSEED): a checkpoint's channel maps, sorted by key.
SORTED_KEYS = {"metadata", "channel_versions", "channel_values", "versions_seen"}


class DurableNormalizer(Normalizer):
    """Normalizer with checkpoint / task / interrupt labels (see above)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}

    def _next(self, kind: str) -> str:
        k = self.counts.get(kind, 0)
        self.counts[kind] = k + 1
        return f"{kind}-{k}"

    def label(self, u: str, is_run: bool) -> str:
        u = u.lower()
        if u == NULL_TASK_ID:
            return u
        if u not in self.map:
            if u in MADE_IDS["ckpt"]:
                self.map[u] = self._next("ckpt")
            elif u in MADE_IDS["task"]:
                self.map[u] = self._next("task")
            elif is_run:
                self.map[u] = f"run-{self.n_run}"
                self.n_run += 1
            else:
                self.map[u] = f"uuid-{self.n_other}"
                self.n_other += 1
        return self.map[u]

    def s(self, text: str, run_hint: bool = False) -> str:
        m = VERSION_RE.fullmatch(text)
        if m:
            return f"{m.group(1)}.<r>"
        text = super().s(text, run_hint)

        def rep(m: "_re.Match") -> str:
            h = m.group(0)
            if h not in self.map:
                self.map[h] = self._next("int")
            return self.map[h]

        return HEX32_RE.sub(rep, text)

    def walk(self, o: Any, key: str | None = None, log_ctx: bool = False, parent_key: str | None = None) -> Any:
        if isinstance(o, str) and key in DURABLE_TS_KEYS:
            return "<ts>"
        if isinstance(o, dict):
            items = list(o.items())
            if key in SORTED_KEYS or parent_key == "versions_seen":
                items.sort(key=lambda kv: kv[0])
            out = {}
            for k, v in items:
                if k in DURABLE_TS_KEYS and isinstance(v, str):
                    out[self.s(k)] = "<ts>"
                else:
                    out[self.s(k)] = self.walk(v, k, log_ctx, key)
            return out
        if isinstance(o, list):
            if key == "pending_writes":
                o = canonical_writes(o)
            return [self.walk(v, key, log_ctx) for v in o]
        return super().walk(o, key, log_ctx)


def canonical_writes(writes: list) -> list:
    """A task's edge writes (`branch:to:*`, `join:*`) in name order.

    A node's static edges are a set in StateGraph, so the order it writes its
    trigger channels in changes with PYTHONHASHSEED; every run of consecutive
    such writes of one task is sorted by channel. Nothing else moves."""
    out = list(writes)
    edge = lambda w: isinstance(w, list) and len(w) == 3 and str(w[1]).startswith(("branch:to:", "join:"))  # noqa: E731
    i = 0
    while i < len(out):
        j = i
        while j < len(out) and edge(out[j]) and out[j][0] == out[i][0]:
            j += 1
        if j - i > 1:
            out[i:j] = sorted(out[i:j], key=lambda w: w[1])
        i = max(j, i + 1)
    return out


def denc(o: Any) -> Any:
    """`enc`, but a named tuple (StateSnapshot, PregelTask, CheckpointTuple)
    is an object of its fields, not a list, at any depth."""
    import dataclasses

    if isinstance(o, tuple) and hasattr(o, "_asdict"):
        return {"type": type(o).__name__, **{k: denc(v) for k, v in o._asdict().items()}}
    if isinstance(o, dict):
        return {str(k): denc(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [denc(v) for v in o]
    if dataclasses.is_dataclass(o) and not isinstance(o, type) and not isinstance(o, BaseModel):
        return {"type": type(o).__name__, **{f.name: denc(getattr(o, f.name)) for f in dataclasses.fields(o)}}
    return enc(o)


def sorted_meta(ch: Any) -> Any:
    """A `messages` item's metadata dict with sorted keys, in any stream form:
    (msg, meta), (mode, (msg, meta)), (ns, mode, (msg, meta)), (ns, (msg, meta))."""
    if isinstance(ch, tuple) and len(ch) == 2 and isinstance(ch[1], dict) and isinstance(ch[0], BaseMessage):
        return (ch[0], dict(sorted(ch[1].items())))
    if isinstance(ch, tuple) and len(ch) == 2 and ch[0] == "messages":
        return ("messages", sorted_meta(ch[1]))
    if isinstance(ch, tuple) and len(ch) == 3 and ch[1] == "messages":
        return (ch[0], "messages", sorted_meta(ch[2]))
    if isinstance(ch, tuple) and len(ch) == 2 and isinstance(ch[0], tuple):
        return (ch[0], sorted_meta(ch[1]))
    if isinstance(ch, dict) and ch.get("type") == "messages" and isinstance(ch.get("data"), tuple):
        return {**ch, "data": sorted_meta(ch["data"])}
    return ch


def tconf(thread: str, **extra: Any) -> dict:
    return {"configurable": {"thread_id": thread, **extra}}


class Thread:
    """One durable case (see above): API calls on one graph and saver."""

    def __init__(self, sc: Scenario, case: str, graph: Any, desc: str, saver: InMemorySaver) -> None:
        self.sc, self.case, self.graph, self.desc, self.saver = sc, case, graph, desc, saver
        self.raw: list[tuple[str, Any]] = []

    def call(self, api: str, inp: Any = None, runnable: str | None = None, **kw: Any) -> None:
        d = {"api": api, "runnable": runnable or self.desc, "input": denc(inp)}
        if kw:
            d["kwargs"] = denc(kw)
        self.raw.append(("call", d))

    def add(self, kind: str, value: Any) -> None:
        self.raw.append((kind, denc(value)))

    async def astream(self, inp: Any, config: dict, **kw: Any) -> list:
        self.call("graph.astream", inp, config=config, **kw)
        out = []
        try:
            async for ch in self.graph.astream(inp, config, **kw):
                out.append(ch)
                self.add("chunk", sorted_meta(ch))
        except Exception as exc:  # noqa: BLE001
            self.add("error", exc)
        return out

    async def ainvoke(self, inp: Any, config: dict, **kw: Any) -> Any:
        self.call("graph.ainvoke", inp, config=config, **kw)
        try:
            v = await self.graph.ainvoke(inp, config, **kw)
            self.add("output", v)
            return v
        except Exception as exc:  # noqa: BLE001
            self.add("error", exc)

    async def events(self, inp: Any, config: dict, **kw: Any) -> None:
        self.call("graph.astream_events", inp, config=config, version="v2", **kw)
        try:
            async for ev in self.graph.astream_events(inp, config, version="v2", **kw):
                self.raw.append(("event", ev))
        except Exception as exc:  # noqa: BLE001
            self.add("error", exc)

    async def get_state(self, config: dict, **kw: Any) -> Any:
        self.call("graph.aget_state", None, config=config, **kw)
        try:
            st = await self.graph.aget_state(config, **kw)
            self.add("state", st)
            return st
        except Exception as exc:  # noqa: BLE001
            self.add("error", exc)

    async def history(self, config: dict, **kw: Any) -> list:
        self.call("graph.aget_state_history", None, config=config, **kw)
        out = []
        try:
            async for st in self.graph.aget_state_history(config, **kw):
                out.append(st)
                self.add("state", st)
        except Exception as exc:  # noqa: BLE001
            self.add("error", exc)
        return out

    async def update_state(self, config: dict, values: Any, **kw: Any) -> Any:
        self.call("graph.aupdate_state", values, config=config, **kw)
        try:
            v = await self.graph.aupdate_state(config, values, **kw)
            self.add("output", v)
            return v
        except Exception as exc:  # noqa: BLE001
            self.add("error", exc)

    async def checkpoint(self, config: dict) -> Any:
        """The saver's CheckpointTuple (config, checkpoint, metadata, parent_config, pending_writes)."""
        self.call("saver.aget_tuple", None, runnable="the graph's InMemorySaver", config=config)
        t = await self.saver.aget_tuple(config)
        self.add("checkpoint", t)
        return t

    async def all_checkpoints(self, thread: str) -> None:
        """Every checkpoint the saver holds for `thread`, all namespaces (saver.alist)."""
        self.call("saver.alist", None, runnable="the graph's InMemorySaver", config=tconf(thread))
        async for t in self.saver.alist(tconf(thread)):
            self.add("checkpoint", t)

    def finish(self) -> None:
        n = DurableNormalizer()
        for kind, v in self.raw:
            if kind == "event":
                self.sc.add(self.case, kind, n.event(v))
            else:
                self.sc.add(self.case, kind, n.walk(v))


def saver_graph(builder: Any, **kw: Any) -> tuple[Any, InMemorySaver]:
    saver = InMemorySaver()
    return builder.compile(checkpointer=saver, **kw), saver



# ---------------------------------------------------------------------------
# d10: interrupts and resumes
# ---------------------------------------------------------------------------


class AskState(TypedDict):
    question: str
    answer: str
    log: Annotated[list, operator.add]


def build_ask(**compile_kw: Any):
    async def prepare(state: AskState) -> dict:
        return {"log": ["prepare"]}

    async def ask(state: AskState) -> dict:
        get_stream_writer()({"enter": "ask"})
        answer = interrupt({"question": state["question"]})
        get_stream_writer()({"resumed_with": answer})
        return {"answer": answer, "log": ["ask"]}

    async def finish(state: AskState) -> dict:
        return {"log": ["finish:" + str(state["answer"])]}

    g = StateGraph(AskState)
    g.add_node("prepare", prepare)
    g.add_node("ask", ask)
    g.add_node("finish", finish)
    g.add_edge(START, "prepare")
    g.add_edge("prepare", "ask")
    g.add_edge("ask", "finish")
    g.add_edge("finish", END)
    return saver_graph(g, **compile_kw)


ASK_DESC = (
    "StateGraph(AskState{question: str, answer: str, log: list (operator.add)}), InMemorySaver; "
    "START -> prepare ({'log': ['prepare']}) -> ask (writer {'enter': 'ask'}; answer = interrupt({'question': state.question}); "
    "writer {'resumed_with': answer}; {'answer': answer, 'log': ['ask']}) -> finish ({'log': ['finish:' + answer]}) -> END"
)
ASK_IN = {"question": "color?", "answer": "", "log": []}


class TwoAskState(TypedDict):
    answers: Annotated[list, operator.add]


def build_two_asks():
    async def ask_twice(state: TwoAskState) -> dict:
        w = get_stream_writer()
        w({"enter": "ask_twice"})
        a = interrupt({"question": "first?"})
        w({"first": a})
        b = interrupt({"question": "second?"})
        w({"second": b})
        return {"answers": [a, b]}

    async def after(state: TwoAskState) -> dict:
        return {"answers": ["after"]}

    g = StateGraph(TwoAskState)
    g.add_node("ask_twice", ask_twice)
    g.add_node("after", after)
    g.add_edge(START, "ask_twice")
    g.add_edge("ask_twice", "after")
    g.add_edge("after", END)
    return saver_graph(g)


TWO_DESC = (
    "StateGraph(TwoAskState{answers: list (operator.add)}), InMemorySaver; START -> ask_twice (writer {'enter': 'ask_twice'}; "
    "a = interrupt({'question': 'first?'}); writer {'first': a}; b = interrupt({'question': 'second?'}); writer {'second': b}; "
    "{'answers': [a, b]}) -> after ({'answers': ['after']}) -> END"
)


class ParState(TypedDict):
    got: Annotated[list, operator.add]


def build_parallel_asks():
    async def left(state: ParState) -> dict:
        return {"got": ["left:" + str(interrupt({"side": "left"}))]}

    async def right(state: ParState) -> dict:
        return {"got": ["right:" + str(interrupt({"side": "right"}))]}

    async def plain(state: ParState) -> dict:
        return {"got": ["plain"]}

    g = StateGraph(ParState)
    g.add_node("left", left)
    g.add_node("right", right)
    g.add_node("plain", plain)
    g.add_edge(START, "left")
    g.add_edge(START, "right")
    g.add_edge(START, "plain")
    g.add_edge(["left", "right", "plain"], END)
    return saver_graph(g)


PAR_DESC = (
    "StateGraph(ParState{got: list (operator.add)}), InMemorySaver; START -> left ({'got': ['left:' + interrupt({'side': 'left'})]}), "
    "right ({'got': ['right:' + interrupt({'side': 'right'})]}), plain ({'got': ['plain']}) (added in that order); "
    "[left, right, plain] -> END"
)


class AgentState(TypedDict):
    messages: Annotated[list, add_messages]


@tool
def delete_file(path: str) -> str:
    """Deletes a file, after asking for approval."""
    decision = interrupt({"action": "delete_file", "path": path})
    return f"deleted {path}" if decision == "yes" else f"kept {path}"


def build_risky_agent():
    from langgraph.prebuilt import create_react_agent

    model = FakeToolCallingChatModel(
        messages=iter(
            [
                AIMessage(content="", id="ai-1", tool_calls=[{"name": "delete_file", "args": {"path": "a.txt"}, "id": "call_1"}]),
                AIMessage(content="file handled", id="ai-2"),
            ]
        )
    )
    saver = InMemorySaver()
    return create_react_agent(model, [delete_file], checkpointer=saver), saver


AGENT_DESC = (
    "create_react_agent(FakeToolCallingChatModel([AIMessage('', id='ai-1', tool_calls=[delete_file(path='a.txt') id call_1]), "
    "AIMessage('file handled', id='ai-2')]), [@tool delete_file(path): decision = interrupt({'action': 'delete_file', 'path': path}); "
    "'deleted '+path if decision == 'yes' else 'kept '+path], checkpointer=InMemorySaver())"
)


async def d10(out: str) -> None:
    sc = Scenario("d10_interrupts.jsonl")
    modes = ["updates", "values"]

    # (a) one interrupt, streamed in updates+values, then resumed
    graph, saver = build_ask()
    t = Thread(sc, "single.updates+values", graph, ASK_DESC, saver)
    await t.astream(ASK_IN, tconf("t1"), stream_mode=modes)
    await t.astream(Command(resume="blue"), tconf("t1"), stream_mode=modes)
    t.finish()

    for mode in ("updates", "values", "custom"):
        graph, saver = build_ask()
        t = Thread(sc, f"single.{mode}", graph, ASK_DESC, saver)
        await t.astream(ASK_IN, tconf("t1"), stream_mode=mode)
        await t.astream(Command(resume="blue"), tconf("t1"), stream_mode=mode)
        t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "single.ainvoke", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.ainvoke(Command(resume="blue"), tconf("t1"))
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "single.ainvoke_v2", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"), version="v2")
    await t.ainvoke(Command(resume="blue"), tconf("t1"), version="v2")
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "single.astream_v2", graph, ASK_DESC, saver)
    await t.astream(ASK_IN, tconf("t1"), stream_mode=modes, version="v2")
    await t.astream(Command(resume="blue"), tconf("t1"), stream_mode=modes, version="v2")
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "single.astream_events", graph, ASK_DESC, saver)
    await t.events(ASK_IN, tconf("t1"))
    await t.events(Command(resume="blue"), tconf("t1"))
    t.finish()

    # resuming a thread that is not interrupted, and without a thread
    graph, saver = build_ask()
    t = Thread(sc, "single.resume_twice", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.ainvoke(Command(resume="blue"), tconf("t1"))
    await t.ainvoke(Command(resume="again"), tconf("t1"))
    await t.ainvoke(None, tconf("t1"))
    t.finish()

    # a new input while interrupted: the pending task is dropped, the run starts over
    graph, saver = build_ask()
    t = Thread(sc, "single.new_input_while_interrupted", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.ainvoke({"question": "size?", "answer": "", "log": []}, tconf("t1"))
    await t.ainvoke(Command(resume="big"), tconf("t1"))
    t.finish()

    # (b) two interrupts in one node, resumed one at a time
    graph, saver = build_two_asks()
    t = Thread(sc, "two_in_one_node", graph, TWO_DESC, saver)
    m3 = ["updates", "values", "custom"]
    await t.astream({"answers": []}, tconf("t1"), stream_mode=m3)
    await t.astream(Command(resume="A"), tconf("t1"), stream_mode=m3)
    await t.get_state(tconf("t1"))
    await t.astream(Command(resume="B"), tconf("t1"), stream_mode=m3)
    t.finish()

    # the same, resumed by interrupt id (a resume map)
    graph, saver = build_two_asks()
    t = Thread(sc, "two_in_one_node.resume_map", graph, TWO_DESC, saver)
    await t.ainvoke({"answers": []}, tconf("t1"))
    st = await graph.aget_state(tconf("t1"))
    await t.ainvoke(Command(resume={st.interrupts[0].id: "A"}), tconf("t1"))
    st = await graph.aget_state(tconf("t1"))
    await t.ainvoke(Command(resume={st.interrupts[0].id: "B"}), tconf("t1"))
    t.finish()

    # two nodes of one step interrupting: a plain resume value is refused,
    # a map answers each
    graph, saver = build_parallel_asks()
    t = Thread(sc, "parallel", graph, PAR_DESC, saver)
    await t.astream({"got": []}, tconf("t1"), stream_mode=modes)
    st = await t.get_state(tconf("t1"))
    await t.get_state(st.config)  # the same checkpoint by id: the step as recorded, not "live"
    await t.astream(Command(resume="x"), tconf("t1"), stream_mode=modes)
    st = await graph.aget_state(tconf("t1"))
    by_side = {i.value["side"]: i.id for i in st.interrupts}
    await t.astream(Command(resume={by_side["left"]: "L"}), tconf("t1"), stream_mode=modes)
    await t.get_state(tconf("t1"))
    await t.astream(Command(resume={by_side["right"]: "R"}), tconf("t1"), stream_mode=modes)
    t.finish()

    graph, saver = build_parallel_asks()
    t = Thread(sc, "parallel.resume_map_both", graph, PAR_DESC, saver)
    await t.ainvoke({"got": []}, tconf("t1"))
    st = await graph.aget_state(tconf("t1"))
    by_side = {i.value["side"]: i.id for i in st.interrupts}
    await t.ainvoke(Command(resume={by_side["left"]: "L", by_side["right"]: "R"}), tconf("t1"))
    t.finish()

    # (c) an interrupt inside a tool the prebuilt agent runs
    graph, saver = build_risky_agent()
    t = Thread(sc, "tool_approval", graph, AGENT_DESC, saver)
    await t.astream({"messages": [HumanMessage(content="delete a.txt", id="h-1")]}, tconf("t1"), stream_mode=modes)
    await t.get_state(tconf("t1"))
    await t.checkpoint(tconf("t1"))
    await t.astream(Command(resume="yes"), tconf("t1"), stream_mode=modes)
    t.finish()

    # (d) Command(resume=..., update=...) and Command(resume=..., goto=...)
    graph, saver = build_ask()
    t = Thread(sc, "resume_with_update", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.astream(Command(resume="green", update={"log": ["from-command"], "question": "hue?"}), tconf("t1"), stream_mode=modes)
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "resume_with_goto", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.astream(Command(resume="red", goto="prepare"), tconf("t1"), stream_mode=modes)
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "update_without_resume", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.astream(Command(update={"question": "shape?"}), tconf("t1"), stream_mode=modes)
    await t.get_state(tconf("t1"))
    t.finish()

    # static breakpoints: interrupt_before / interrupt_after at compile time
    graph, saver = build_ask(interrupt_before=["ask"])
    t = Thread(sc, "interrupt_before", graph, ASK_DESC + "; compile(interrupt_before=['ask'])", saver)
    await t.astream(ASK_IN, tconf("t1"), stream_mode=modes)
    await t.get_state(tconf("t1"))
    await t.astream(None, tconf("t1"), stream_mode=modes)
    await t.astream(Command(resume="blue"), tconf("t1"), stream_mode=modes)
    t.finish()

    graph, saver = build_ask(interrupt_after=["prepare"])
    t = Thread(sc, "interrupt_after", graph, ASK_DESC + "; compile(interrupt_after=['prepare'])", saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.get_state(tconf("t1"))
    await t.astream(None, tconf("t1"), stream_mode=modes)
    t.finish()
    sc.write(out)



# ---------------------------------------------------------------------------
# d11: thread state: get_state, history, update_state, replay, fork
# ---------------------------------------------------------------------------


class CountState(TypedDict):
    n: int
    log: Annotated[list, operator.add]


def build_count(**compile_kw: Any):
    async def a(state: CountState) -> dict:
        return {"n": state["n"] + 1, "log": ["a"]}

    async def b(state: CountState) -> dict:
        return {"n": state["n"] * 10, "log": ["b"]}

    g = StateGraph(CountState)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return saver_graph(g, **compile_kw)


COUNT_DESC = (
    "StateGraph(CountState{n: int, log: list (operator.add)}), InMemorySaver; "
    "START -> a ({'n': n+1, 'log': ['a']}) -> b ({'n': n*10, 'log': ['b']}) -> END"
)
COUNT_IN = {"n": 1, "log": []}


def snapshot_with_next(history: list, nxt: tuple) -> dict:
    return next(st.config for st in history if st.next == nxt)


async def d11(out: str) -> None:
    sc = Scenario("d11_thread_state.jsonl")

    graph, saver = build_count()
    t = Thread(sc, "fresh_thread", graph, COUNT_DESC, saver)
    await t.get_state(tconf("nobody"))
    await t.history(tconf("nobody"))
    t.finish()

    graph, saver = build_count()
    t = Thread(sc, "finished", graph, COUNT_DESC, saver)
    await t.ainvoke(COUNT_IN, tconf("t1"))
    await t.get_state(tconf("t1"))
    await t.history(tconf("t1"))
    await t.checkpoint(tconf("t1"))
    await t.all_checkpoints("t1")
    t.finish()

    graph, saver = build_count()
    t = Thread(sc, "finished.history_filters", graph, COUNT_DESC, saver)
    await t.ainvoke(COUNT_IN, tconf("t1"))
    await t.history(tconf("t1"), limit=2)
    await t.history(tconf("t1"), filter={"source": "input"})
    hist = [st async for st in graph.aget_state_history(tconf("t1"))]
    await t.history(tconf("t1"), before=hist[1].config)
    await t.get_state(hist[2].config)
    t.finish()

    graph, saver = build_count()
    t = Thread(sc, "two_runs", graph, COUNT_DESC, saver)
    await t.ainvoke(COUNT_IN, tconf("t1"))
    await t.ainvoke({"n": 5, "log": ["second"]}, tconf("t1"))
    await t.history(tconf("t1"))
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "interrupted", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.get_state(tconf("t1"))
    await t.checkpoint(tconf("t1"))
    await t.history(tconf("t1"))
    await t.ainvoke(Command(resume="blue"), tconf("t1"))
    await t.get_state(tconf("t1"))
    await t.history(tconf("t1"))
    await t.all_checkpoints("t1")
    t.finish()

    graph, saver = build_count()
    t = Thread(sc, "update_state.as_node", graph, COUNT_DESC, saver)
    await t.ainvoke(COUNT_IN, tconf("t1"))
    await t.update_state(tconf("t1"), {"n": 100, "log": ["manual"]}, as_node="a")
    st = await t.get_state(tconf("t1"))
    await t.checkpoint(tconf("t1"))
    await t.checkpoint(st.parent_config)  # the update's writes are stored on the checkpoint it updated
    await t.astream(None, tconf("t1"), stream_mode="updates")
    await t.history(tconf("t1"))
    t.finish()

    graph, saver = build_count()
    t = Thread(sc, "update_state.inferred_node", graph, COUNT_DESC, saver)
    await t.ainvoke(COUNT_IN, tconf("t1"))
    await t.update_state(tconf("t1"), {"n": 3})
    await t.get_state(tconf("t1"))
    await t.astream(None, tconf("t1"), stream_mode="updates")
    t.finish()

    graph, saver = build_count()
    t = Thread(sc, "update_state.new_thread", graph, COUNT_DESC, saver)
    await t.update_state(tconf("t1"), {"n": 4, "log": []})
    await t.get_state(tconf("t1"))
    await t.update_state(tconf("t2"), {"n": 4, "log": []}, as_node="a")
    await t.get_state(tconf("t2"))
    await t.astream(None, tconf("t2"), stream_mode="updates")
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "update_state.interrupted_node", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.update_state(tconf("t1"), {"answer": "manual", "log": ["edited"]}, as_node="ask")
    await t.get_state(tconf("t1"))
    await t.astream(None, tconf("t1"), stream_mode=["updates", "values"])
    await t.history(tconf("t1"))
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "update_state.while_interrupted", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.update_state(tconf("t1"), {"question": "size?"})
    await t.get_state(tconf("t1"))
    await t.astream(Command(resume="big"), tconf("t1"), stream_mode=["updates", "values"])
    t.finish()

    graph, saver = build_count()
    t = Thread(sc, "replay", graph, COUNT_DESC, saver)
    await t.ainvoke(COUNT_IN, tconf("t1"))
    hist = await t.history(tconf("t1"))
    before_b = snapshot_with_next(hist, ("b",))
    await t.astream(None, before_b, stream_mode=["updates", "values"])
    await t.history(tconf("t1"))
    await t.get_state(tconf("t1"))
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "replay.interrupt_fires_again", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"))
    await t.ainvoke(Command(resume="blue"), tconf("t1"))
    hist = await t.history(tconf("t1"))
    before_ask = snapshot_with_next(hist, ("ask",))
    await t.astream(None, before_ask, stream_mode=["updates", "values"])
    await t.get_state(tconf("t1"))
    await t.astream(Command(resume="red"), tconf("t1"), stream_mode=["updates", "values"])
    await t.history(tconf("t1"))
    t.finish()

    graph, saver = build_count()
    t = Thread(sc, "fork", graph, COUNT_DESC, saver)
    await t.ainvoke(COUNT_IN, tconf("t1"))
    hist = [st async for st in graph.aget_state_history(tconf("t1"))]
    before_b = snapshot_with_next(hist, ("b",))
    fork = await t.update_state(before_b, {"n": 7})
    await t.get_state(fork)
    await t.astream(None, fork, stream_mode=["updates", "values"])
    await t.history(tconf("t1"))
    t.finish()

    for durability in ("sync", "async", "exit"):
        graph, saver = build_count()
        t = Thread(sc, f"durability.{durability}", graph, COUNT_DESC, saver)
        await t.ainvoke(COUNT_IN, tconf("t1"), durability=durability)
        await t.history(tconf("t1"))
        t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "durability.exit_interrupted", graph, ASK_DESC, saver)
    await t.ainvoke(ASK_IN, tconf("t1"), durability="exit")
    await t.history(tconf("t1"))
    await t.checkpoint(tconf("t1"))
    await t.ainvoke(Command(resume="blue"), tconf("t1"), durability="exit")
    await t.history(tconf("t1"))
    t.finish()
    sc.write(out)



# ---------------------------------------------------------------------------
# d12: subgraphs
# ---------------------------------------------------------------------------


class NoteState(TypedDict):
    topic: str
    notes: Annotated[list, operator.add]


def build_child(ask: bool = False):
    """The subgraph: START -> s_write -> (s_ask ->) s_done -> END."""
    model = gmodel(AIMessage(content="sub says hi", id="m-sub"))

    async def s_write(state: NoteState) -> dict:
        get_stream_writer()({"child": "s_write"})
        m = await model.ainvoke("talk about " + state["topic"])
        return {"notes": [m.content]}

    async def s_ask(state: NoteState) -> dict:
        get_stream_writer()({"child": "s_ask"})
        return {"notes": ["ok:" + str(interrupt({"confirm": state["topic"]}))]}

    async def s_done(state: NoteState) -> dict:
        return {"notes": ["s_done"]}

    g = StateGraph(NoteState)
    g.add_node("s_write", s_write)
    g.add_node("s_done", s_done)
    g.add_edge(START, "s_write")
    if ask:
        g.add_node("s_ask", s_ask)
        g.add_edge("s_write", "s_ask")
        g.add_edge("s_ask", "s_done")
    else:
        g.add_edge("s_write", "s_done")
    g.add_edge("s_done", END)
    return g.compile()


CHILD_DESC = (
    "child = StateGraph(NoteState{topic: str, notes: list (operator.add)}).compile() (no checkpointer); "
    "START -> s_write (writer {'child': 's_write'}; m = GenericFakeChatModel([AIMessage('sub says hi', id='m-sub')]).ainvoke('talk about '+topic); "
    "{'notes': [m.content]}) -> {ask}s_done ({'notes': ['s_done']}) -> END"
)
CHILD_ASK = "s_ask (writer {'child': 's_ask'}; {'notes': ['ok:' + interrupt({'confirm': topic})]}) -> "


def build_parent(child: Any, in_function: bool = False):
    async def pre(state: NoteState) -> dict:
        get_stream_writer()({"parent": "pre"})
        return {"notes": ["pre"]}

    async def call_child(state: NoteState) -> dict:
        get_stream_writer()({"parent": "call_child"})
        out = await child.ainvoke({"topic": state["topic"], "notes": []})
        return {"notes": out["notes"]}

    async def post(state: NoteState) -> dict:
        return {"notes": ["post"]}

    g = StateGraph(NoteState)
    g.add_node("pre", pre)
    g.add_node("child", call_child if in_function else child)
    g.add_node("post", post)
    g.add_edge(START, "pre")
    g.add_edge("pre", "child")
    g.add_edge("child", "post")
    g.add_edge("post", END)
    return saver_graph(g)


def parent_desc(in_function: bool, ask: bool) -> str:
    child = CHILD_DESC.replace("{ask}", CHILD_ASK if ask else "")
    node = (
        "child (async call_child: writer {'parent': 'call_child'}; out = await child.ainvoke({'topic': topic, 'notes': []}); {'notes': out.notes})"
        if in_function
        else "child (the compiled child graph as the node)"
    )
    return (
        "parent = StateGraph(NoteState), InMemorySaver; START -> pre (writer {'parent': 'pre'}; {'notes': ['pre']}) -> "
        + node
        + " -> post ({'notes': ['post']}) -> END; "
        + child
    )


NOTE_IN = {"topic": "cats", "notes": []}
ALL_MODES = ["updates", "values", "messages", "custom"]


class LevelState(TypedDict):
    trail: Annotated[list, operator.add]


def build_three_levels():
    model = gmodel(AIMessage(content="deep token", id="m-leaf"))

    async def leaf_node(state: LevelState) -> dict:
        get_stream_writer()({"at": "leaf_node"})
        m = await model.ainvoke("x")
        return {"trail": ["leaf:" + m.content]}

    leaf = StateGraph(LevelState)
    leaf.add_node("leaf_node", leaf_node)
    leaf.add_edge(START, "leaf_node")
    leaf.add_edge("leaf_node", END)

    async def mid_node(state: LevelState) -> dict:
        get_stream_writer()({"at": "mid_node"})
        return {"trail": ["mid"]}

    mid = StateGraph(LevelState)
    mid.add_node("mid_node", mid_node)
    mid.add_node("leaf", leaf.compile())
    mid.add_edge(START, "mid_node")
    mid.add_edge("mid_node", "leaf")
    mid.add_edge("leaf", END)

    top = StateGraph(LevelState)
    top.add_node("mid", mid.compile())
    top.add_edge(START, "mid")
    top.add_edge("mid", END)
    return saver_graph(top)


LEVELS_DESC = (
    "top = StateGraph(LevelState{trail: list (operator.add)}), InMemorySaver: START -> mid -> END; "
    "mid (compiled, as a node): START -> mid_node (writer {'at': 'mid_node'}; {'trail': ['mid']}) -> leaf -> END; "
    "leaf (compiled, as a node): START -> leaf_node (writer {'at': 'leaf_node'}; m = GenericFakeChatModel([AIMessage('deep token', id='m-leaf')]).ainvoke('x'); "
    "{'trail': ['leaf:' + m.content]}) -> END"
)


class AnswerState(TypedDict):
    answer: str


def build_root_model():
    model = gmodel(AIMessage(content="root words", id="m-root"))

    async def talk(state: AnswerState) -> dict:
        m = await model.ainvoke("q")
        return {"answer": m.content}

    g = StateGraph(AnswerState)
    g.add_node("talk", talk)
    g.add_edge(START, "talk")
    g.add_edge("talk", END)
    return saver_graph(g)


ROOT_MODEL_DESC = (
    "StateGraph(AnswerState{answer: str}), InMemorySaver; START -> talk (m = GenericFakeChatModel([AIMessage('root words', id='m-root')]).ainvoke('q'); "
    "{'answer': m.content}) -> END"
)


async def d12(out: str) -> None:
    sc = Scenario("d12_subgraphs.jsonl")

    graph, saver = build_parent(build_child())
    t = Thread(sc, "node.subgraphs", graph, parent_desc(False, False), saver)
    await t.astream(NOTE_IN, tconf("t1"), stream_mode=ALL_MODES, subgraphs=True)
    await t.get_state(tconf("t1"))
    await t.history(tconf("t1"))
    await t.all_checkpoints("t1")
    t.finish()

    graph, saver = build_parent(build_child())
    t = Thread(sc, "node.no_subgraphs", graph, parent_desc(False, False), saver)
    await t.astream(NOTE_IN, tconf("t1"), stream_mode=ALL_MODES)
    t.finish()

    graph, saver = build_parent(build_child())
    t = Thread(sc, "node.single_mode_subgraphs", graph, parent_desc(False, False), saver)
    await t.astream(NOTE_IN, tconf("t1"), stream_mode="updates", subgraphs=True)
    t.finish()

    graph, saver = build_parent(build_child())
    t = Thread(sc, "node.checkpoints_subgraphs", graph, parent_desc(False, False), saver)
    await t.astream(NOTE_IN, tconf("t1"), stream_mode="checkpoints", subgraphs=True)
    t.finish()

    graph, saver = build_parent(build_child(), in_function=True)
    t = Thread(sc, "in_function.subgraphs", graph, parent_desc(True, False), saver)
    await t.astream(NOTE_IN, tconf("t1"), stream_mode=ALL_MODES, subgraphs=True)
    await t.all_checkpoints("t1")
    t.finish()

    graph, saver = build_parent(build_child(ask=True))
    t = Thread(sc, "interrupt_in_subgraph", graph, parent_desc(False, True), saver)
    await t.astream(NOTE_IN, tconf("t1"), stream_mode=["updates", "values", "custom"], subgraphs=True)
    await t.get_state(tconf("t1"))
    await t.get_state(tconf("t1"), subgraphs=True)
    await t.all_checkpoints("t1")
    await t.astream(Command(resume="yes"), tconf("t1"), stream_mode=["updates", "values", "custom"], subgraphs=True)
    await t.get_state(tconf("t1"))
    await t.all_checkpoints("t1")
    t.finish()

    graph, saver = build_parent(build_child(ask=True))
    t = Thread(sc, "interrupt_in_subgraph.no_subgraphs", graph, parent_desc(False, True), saver)
    await t.astream(NOTE_IN, tconf("t1"), stream_mode=["updates", "values"])
    await t.astream(Command(resume="yes"), tconf("t1"), stream_mode=["updates", "values"])
    t.finish()

    graph, saver = build_parent(build_child(ask=True), in_function=True)
    t = Thread(sc, "interrupt_in_subgraph.in_function", graph, parent_desc(True, True), saver)
    await t.astream(NOTE_IN, tconf("t1"), stream_mode=["updates", "values", "custom"], subgraphs=True)
    await t.get_state(tconf("t1"), subgraphs=True)
    await t.astream(Command(resume="yes"), tconf("t1"), stream_mode=["updates", "values", "custom"], subgraphs=True)
    t.finish()

    graph, saver = build_root_model()
    t = Thread(sc, "root_model.messages", graph, ROOT_MODEL_DESC, saver)
    await t.astream({"answer": ""}, tconf("t1"), stream_mode="messages", subgraphs=True)
    t.finish()

    graph, saver = build_three_levels()
    t = Thread(sc, "three_levels", graph, LEVELS_DESC, saver)
    await t.astream({"trail": []}, tconf("t1"), stream_mode=ALL_MODES, subgraphs=True)
    await t.all_checkpoints("t1")
    t.finish()
    sc.write(out)


# ---------------------------------------------------------------------------
# d13: tasks, checkpoints and debug stream modes
# ---------------------------------------------------------------------------


class StepState(TypedDict):
    n: int
    seen: Annotated[list, operator.add]


def build_diamond(fail: bool = False):
    async def a(state: StepState) -> dict:
        return {"n": state["n"] + 1, "seen": ["a"]}

    async def b(state: StepState) -> dict:
        return {"seen": ["b"]}

    async def c(state: StepState) -> dict:
        if fail:
            raise ValueError("c failed")
        return {"seen": ["c"]}

    async def d(state: StepState) -> dict:
        return {"n": state["n"] * 2, "seen": ["d"]}

    g = StateGraph(StepState)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_node("c", c)
    g.add_node("d", d)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    g.add_edge(["b", "c"], "d")
    g.add_edge("d", END)
    return saver_graph(g)


DIAMOND_DESC = (
    "StateGraph(StepState{n: int, seen: list (operator.add)}), InMemorySaver; START -> a ({'n': n+1, 'seen': ['a']}); "
    "a -> b ({'seen': ['b']}), a -> c ({'seen': ['c']}{fail}); [b, c] -> d ({'n': n*2, 'seen': ['d']}) -> END"
)
STEP_IN = {"n": 1, "seen": []}


async def d13(out: str) -> None:
    sc = Scenario("d13_tasks_checkpoints.jsonl")
    desc = DIAMOND_DESC.replace("{fail}", "")
    for mode in ("tasks", "checkpoints", "debug"):
        graph, saver = build_diamond()
        t = Thread(sc, f"diamond.{mode}", graph, desc, saver)
        await t.astream(STEP_IN, tconf("t1"), stream_mode=mode)
        if mode == "checkpoints":
            await t.all_checkpoints("t1")
        t.finish()

    graph, saver = build_diamond()
    t = Thread(sc, "diamond.tasks+checkpoints+updates", graph, desc, saver)
    await t.astream(STEP_IN, tconf("t1"), stream_mode=["tasks", "checkpoints", "updates"])
    t.finish()

    graph, saver = build_diamond(fail=True)
    t = Thread(sc, "failing.tasks", graph, DIAMOND_DESC.replace("{fail}", "; c raises ValueError('c failed')"), saver)
    await t.astream(STEP_IN, tconf("t1"), stream_mode=["tasks", "checkpoints"])
    await t.get_state(tconf("t1"))
    await t.checkpoint(tconf("t1"))
    t.finish()

    graph, saver = build_ask()
    t = Thread(sc, "interrupt.debug", graph, ASK_DESC, saver)
    await t.astream(ASK_IN, tconf("t1"), stream_mode="debug")
    await t.astream(Command(resume="blue"), tconf("t1"), stream_mode="debug")
    t.finish()

    graph, saver = build_diamond()
    t = Thread(sc, "durability_exit.checkpoints", graph, desc, saver)
    await t.astream(STEP_IN, tconf("t1"), stream_mode="checkpoints", durability="exit")
    await t.history(tconf("t1"))
    t.finish()
    sc.write(out)


ALL = [d01, d02, d03, d04, d05, d06, d07, d08, d09, d10, d11, d12, d13]


async def main(out: str, only: list[str]) -> None:
    for f in ALL:
        if not only or f.__name__ in only:
            await f(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: scenarios.py OUT_DIR [dNN ...]")
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
