//! The streaming rules of the reference README (2 to 8) for sequences,
//! parallel maps, every kind of lambda, generators and nested runnables.

use futures::{StreamExt, TryStreamExt};
use runwright::{
    Assign, ChunkStream, EventPhase, Generator, Lambda, Map, Parallel, Passthrough, RunConfig, RunnableExt,
};
use runwright_recorder::assert_events_snapshot;
use serde_json::{json, Value as Json};

use crate::common::*;

/// Appends a dot to each chunk as it passes.
fn dotted<'a>(input: ChunkStream<'a, String>) -> ChunkStream<'a, String> {
    Box::pin(input.map_ok(|s| format!("{s}.")))
}

/// The snapshot (`snapshots/it__runtime_streaming_rules__each_chunk_...snap`)
/// shows rule 3: each step starts when its predecessor yields its first
/// chunk; each chunk goes source -> upper -> dotted -> root
/// (`"a"`, `"A"`, `"A."`, `"A."`) before the next one is made; the ends come
/// in step order, the root's last.
#[tokio::test]
async fn each_chunk_travels_the_whole_pipeline_and_steps_start_lazily() {
    let chain = letters("source", 3).pipe(upper()) | Generator::new(dotted);
    assert_events_snapshot!(raw: chain.stream_events("go".into()));
}

#[tokio::test]
async fn plain_stream_produces_the_next_chunk_only_after_the_last_came_out() {
    let source = letters("source", 5);
    let probe = source.probe.clone();
    let chain = source.pipe(upper()) | Generator::new(dotted);
    let mut out = chain.stream("go".into());
    let mut seen = Vec::new();
    while let Some(chunk) = out.next().await {
        seen.push(chunk.expect("chunk"));
        assert_eq!(probe.produced(), seen.len(), "the source ran ahead of the consumer");
    }
    assert_eq!(seen, ["A.", "B.", "C.", "D.", "E."]);
}

#[tokio::test]
async fn streamed_input_steps_start_without_input_and_show_it_at_their_end() {
    let chain = letters("source", 3).pipe(upper()) | Generator::new(dotted);
    let events = events_of(chain.stream_events("go".into())).await;
    let start = |name| data(one(&events, name, EventPhase::Start));
    let end = |name| data(one(&events, name, EventPhase::End));
    // Rule 1: the root's start has the call's input, its end has none.
    assert_eq!(start("RunnableSequence"), json!({"input": "go"}));
    assert_eq!(end("RunnableSequence"), json!({"output": "A.B.C."}));
    // The source cannot transform: its input was collected, so it has one.
    assert_eq!(start("source"), json!({"input": "go"}));
    // Rule 2: steps fed a stream start with `{}`.
    assert_eq!(start("upper"), json!({}));
    assert_eq!(start("dotted"), json!({}));
    // Rule 8: a streaming step's output is the fold of its chunks; its
    // input the fold of what it was fed.
    assert_eq!(end("source"), json!({"output": "abc", "input": "go"}));
    assert_eq!(end("upper"), json!({"output": "ABC", "input": "abc"}));
    assert_eq!(end("dotted"), json!({"output": "A.B.C.", "input": "ABC"}));
}

#[tokio::test]
async fn every_kind_of_lambda_streams_through_a_sequence_by_the_rules() {
    let chain = letters("source", 3).pipe(upper())
        | Lambda::from_fn(exclaim)
        | Lambda::from_async(bracket)
        | Lambda::blocking(slow_len);
    let events = events_of(chain.stream_events("go".into())).await;
    assert_eq!(
        names(&events),
        [
            "on_chain_start:RunnableSequence",
            "on_chain_start:source",
            "on_chain_stream:source",
            "on_chain_start:upper",
            "on_chain_stream:upper",
            // A sync lambda starts on its first input chunk, then collects.
            "on_chain_start:exclaim",
            "on_chain_stream:source",
            "on_chain_stream:upper",
            "on_chain_stream:source",
            "on_chain_stream:upper",
            "on_chain_end:source",
            "on_chain_end:upper",
            "on_chain_stream:exclaim",
            "on_chain_start:bracket",
            "on_chain_end:exclaim",
            "on_chain_stream:bracket",
            "on_chain_start:slow_len",
            "on_chain_end:bracket",
            "on_chain_stream:slow_len",
            "on_chain_stream:RunnableSequence",
            "on_chain_end:slow_len",
            "on_chain_end:RunnableSequence",
        ]
    );
    // Rule 8: a non-streaming lambda emits exactly one stream event, its output.
    assert_eq!(chunks_of(&events, "exclaim"), [json!("ABC!")]);
    assert_eq!(chunks_of(&events, "bracket"), [json!("[ABC!]")]);
    assert_eq!(chunks_of(&events, "slow_len"), [json!(6)]);
    for name in ["exclaim", "bracket", "slow_len"] {
        assert_eq!(data(one(&events, name, EventPhase::Start)), json!({}), "{name}");
    }
    assert_eq!(
        data(one(&events, "bracket", EventPhase::End)),
        json!({"output": "[ABC!]", "input": "ABC!"})
    );
    assert_eq!(
        data(one(&events, "slow_len", EventPhase::End)),
        json!({"output": 6, "input": "[ABC!]"})
    );
    // The ends come in step order, the root's last.
    let ends: Vec<_> = events
        .iter()
        .filter(|e| e.phase == EventPhase::End)
        .map(|e| e.name().to_string())
        .collect();
    assert_eq!(
        ends,
        ["source", "upper", "exclaim", "bracket", "slow_len", "RunnableSequence"]
    );
}

fn pieces<'a>(_input: ChunkStream<'a, String>) -> ChunkStream<'a, Map> {
    let chunks = [
        json!({"a": "x"}),
        json!({"a": "y", "b": 1}),
        json!({"c": [1]}),
        json!({"c": [2]}),
    ];
    Box::pin(futures::stream::iter(
        chunks
            .into_iter()
            .map(|c| Ok(c.as_object().cloned().unwrap_or_default())),
    ))
}

#[tokio::test]
async fn a_streamed_maps_output_is_the_key_wise_merge_of_its_chunks() {
    let events = events_of(Generator::new(pieces).stream_events("go".into())).await;
    assert_eq!(chunks_of(&events, "pieces").len(), 4);
    assert_eq!(
        data(one(&events, "pieces", EventPhase::End)),
        json!({"output": {"a": "xy", "b": 1, "c": [1, 2]}})
    );
}

fn double(x: i64) -> runwright::Result<i64> {
    Ok(x * 2)
}

async fn halve(x: i64) -> runwright::Result<i64> {
    Ok(x / 2)
}

fn square(x: i64) -> runwright::Result<i64> {
    Ok(x * x)
}

fn countdown<'a>(input: ChunkStream<'a, i64>) -> ChunkStream<'a, i64> {
    Box::pin(
        input
            .map_ok(|n| futures::stream::iter((0..n).rev().map(Ok)))
            .try_flatten(),
    )
}

#[tokio::test]
async fn parallel_branches_get_map_key_tags_and_a_streamed_input() {
    let map = Parallel::new()
        .branch("a", Lambda::from_fn(double))
        .branch("b", Lambda::from_async(halve))
        .branch("c", Generator::new(countdown))
        .branch("d", Lambda::blocking(square));
    let events = events_of(map.stream_events(4)).await;
    let root = "RunnableParallel<a,b,c,d>";
    let mut starts: Vec<String> = tree(&events)
        .into_iter()
        .filter(|l| l.starts_with("on_chain_start"))
        .collect();
    assert_eq!(starts.remove(0), format!("on_chain_start:{root} #0 parents=[] tags=[]"));
    // Branches start in any order; each is a child of the map.
    let mut starts: Vec<String> = starts.iter().map(|l| without_run(l)).collect();
    starts.sort();
    assert_eq!(
        starts,
        [
            "on_chain_start:countdown parents=[0] tags=[\"map:key:c\"]",
            "on_chain_start:double parents=[0] tags=[\"map:key:a\"]",
            "on_chain_start:halve parents=[0] tags=[\"map:key:b\"]",
            "on_chain_start:square parents=[0] tags=[\"map:key:d\"]",
        ]
    );
    for branch in ["double", "halve", "countdown", "square"] {
        assert_eq!(data(one(&events, branch, EventPhase::Start)), json!({}), "{branch}");
        assert_eq!(data(one(&events, branch, EventPhase::End))["input"], 4, "{branch}");
    }
    assert_eq!(
        chunks_of(&events, "countdown"),
        [json!(3), json!(2), json!(1), json!(0)]
    );
    // The map streams `{key: chunk}` and its output merges them key-wise.
    let root_chunks = chunks_of(&events, root);
    assert_eq!(root_chunks.len(), 7);
    assert!(root_chunks.contains(&json!({"a": 8})));
    let out = data(one(&events, root, EventPhase::End))["output"].clone();
    assert_eq!(out["a"], 8);
    assert_eq!(out["b"], 2);
    assert_eq!(out["c"], 6, "3 + 2 + 1 + 0");
    assert_eq!(out["d"], 16);
    assert_eq!(events.last().map(|e| e.name().to_string()), Some(root.to_string()));
}

fn question(q: &str) -> Map {
    let mut m = Map::new();
    m.insert("q".into(), json!(q));
    m
}

fn to_map(s: String) -> runwright::Result<Map> {
    Ok(question(&s))
}

fn q_len(m: Map) -> runwright::Result<usize> {
    Ok(m["q"].as_str().map_or(0, str::len))
}

#[tokio::test]
async fn assign_streams_the_passthrough_part_first() {
    let assign = Assign::new().key("len", Lambda::from_fn(q_len));
    let chunks: Vec<Map> = assign.stream(question("four")).try_collect().await.expect("streams");
    assert_eq!(
        chunks,
        [
            question("four"),
            json!({"len": 4}).as_object().cloned().unwrap_or_default()
        ]
    );

    let events = events_of(assign.stream_events(question("four"))).await;
    // When the mapper starts relative to the passthrough chunk is left open
    // (LangChain starts it in a background task); the nesting is not.
    assert_eq!(
        lineage(&events),
        [
            "RunnableAssign<len> [] under []",
            "RunnableParallel<len> [] under [\"RunnableAssign<len>\"]",
            "q_len [\"map:key:len\"] under [\"RunnableAssign<len>\", \"RunnableParallel<len>\"]",
        ]
    );
    assert_eq!(
        chunks_of(&events, "RunnableAssign<len>"),
        [json!({"q": "four"}), json!({"len": 4})]
    );
    assert_eq!(
        data(one(&events, "RunnableAssign<len>", EventPhase::End)),
        json!({"output": {"q": "four", "len": 4}})
    );
}

#[tokio::test]
async fn local_step_tags_come_first_and_are_not_inherited() {
    let inner = (Lambda::from_fn(exclaim) | Lambda::from_fn(exclaim).named("again"))
        .with_config(RunConfig::new().tags(["zeta", "alpha"]).run_name("inner"));
    let chain = Lambda::from_fn(reverse_word) | inner;
    let config = RunConfig::new().tags(["alpha", "beta"]);
    let events = events_of(chain.stream_events_with("ab".into(), config, Default::default())).await;
    let starts: Vec<String> = tree(&events)
        .into_iter()
        .filter(|l| l.starts_with("on_chain_start"))
        .collect();
    assert_eq!(
        starts,
        [
            "on_chain_start:RunnableSequence #0 parents=[] tags=[\"alpha\", \"beta\"]",
            "on_chain_start:reverse_word #1 parents=[0] tags=[\"seq:step:1\", \"alpha\", \"beta\"]",
            // The child's own tags join the inherited ones, sorted, deduplicated.
            "on_chain_start:inner #2 parents=[0] tags=[\"seq:step:2\", \"alpha\", \"beta\", \"zeta\"]",
            // `seq:step:2` is the inner sequence's local tag: not inherited.
            "on_chain_start:exclaim #3 parents=[0, 2] tags=[\"seq:step:1\", \"alpha\", \"beta\", \"zeta\"]",
            "on_chain_start:again #4 parents=[0, 2] tags=[\"seq:step:2\", \"alpha\", \"beta\", \"zeta\"]",
        ]
    );
    assert_eq!(chunks_of(&events, "RunnableSequence"), [json!("ba!!")]);
}

fn metadata_of(events: &[runwright::StreamEvent], name: &str) -> Json {
    json!(*one(events, name, EventPhase::Start).metadata())
}

#[tokio::test]
async fn metadata_merges_down_and_the_caller_or_parent_wins() {
    let leaf = Lambda::from_fn(exclaim).with_config(
        RunConfig::new()
            .run_name("leaf")
            .metadata("k", "leaf")
            .metadata("m", "leaf")
            .metadata("leaf_only", 3),
    );
    let inner = (Lambda::from_fn(reverse_word) | leaf).with_config(
        RunConfig::new()
            .run_name("inner")
            .metadata("m", "inner")
            .metadata("inner_only", 2),
    );
    let config = RunConfig::new().metadata("k", "caller").metadata("root_only", 1);
    let events = events_of(inner.stream_events_with("ab".into(), config, Default::default())).await;
    assert_eq!(
        metadata_of(&events, "inner"),
        json!({"k": "caller", "root_only": 1, "m": "inner", "inner_only": 2})
    );
    let leaf = metadata_of(&events, "leaf");
    assert_eq!(
        leaf["k"], "caller",
        "the caller's value wins over a child's with_config"
    );
    assert_eq!(leaf["m"], "inner", "the parent's value wins over a child's with_config");
    assert_eq!(leaf["leaf_only"], 3);
    assert_eq!(leaf["inner_only"], 2);
    assert_eq!(leaf["root_only"], 1);
    assert_eq!(metadata_of(&events, "reverse_word")["m"], "inner");
}

/// A child with its own `with_config`, invoked from a body with no config
/// passed (LangChain's `ensure_config` path): its bound metadata wins over
/// the inherited value, and its bound tags, sorted, come after the inherited
/// ones (an inherited tag it binds again moves to the end).
#[tokio::test]
async fn a_child_invoked_without_config_keeps_its_bound_metadata_and_appends_its_tags() {
    let child = Lambda::from_fn(exclaim).with_config(
        RunConfig::new()
            .run_name("child")
            .tags(["zchild", "achild", "b"])
            .metadata("k", "child"),
    );
    let parent = Lambda::from_async(move |x: String| {
        let child = child.clone();
        async move { child.invoke(x).await }
    })
    .with_config(
        RunConfig::new()
            .run_name("parent")
            .tags(["c", "b", "a"])
            .metadata("k", "parent")
            .metadata("p", 1),
    );
    let events = events_of(parent.stream_events("hi".into())).await;
    let start = one(&events, "child", EventPhase::Start);
    assert_eq!(json!(*start.metadata()), json!({"k": "child", "p": 1}));
    assert_eq!(
        tree(&events)[1],
        "on_chain_start:child #1 parents=[0] tags=[\"a\", \"c\", \"achild\", \"b\", \"zchild\"]"
    );
}

/// `.with_config(a).with_config(b)`: what `b` sets replaces what `a` set
/// (LangChain's shallow update of the bound config), what `b` leaves unset
/// stays.
#[tokio::test]
async fn a_stacked_with_config_replaces_what_it_sets() {
    let stacked = Lambda::from_fn(exclaim)
        .with_config(
            RunConfig::new()
                .run_name("inner")
                .tag("first")
                .metadata("x", 1)
                .metadata("f", 1),
        )
        .with_config(RunConfig::new().tag("second").metadata("x", 2).metadata("s", 2));
    let events = events_of(stacked.stream_events("hi".into())).await;
    let start = one(&events, "inner", EventPhase::Start);
    assert_eq!(json!(*start.metadata()), json!({"x": 2, "s": 2}));
    assert_eq!(tree(&events)[0], "on_chain_start:inner #0 parents=[] tags=[\"second\"]");
}

#[tokio::test]
async fn nested_runnables_list_their_parents_root_first() {
    let branch = Lambda::from_fn(reverse_word) | Lambda::from_async(bracket);
    let map = Parallel::new().branch("x", branch).branch("y", Passthrough::new());
    let chain = Lambda::from_fn(exclaim) | map;
    let events = events_of(chain.stream_events("ab".into())).await;
    let mut runs = lineage(&events);
    // The map's branches start in any order.
    runs[3..].sort();
    assert_eq!(
        runs,
        [
            "RunnableSequence [] under []",
            "exclaim [\"seq:step:1\"] under [\"RunnableSequence\"]",
            "RunnableParallel<x,y> [\"seq:step:2\"] under [\"RunnableSequence\"]",
            "RunnablePassthrough [\"map:key:y\"] under [\"RunnableSequence\", \"RunnableParallel<x,y>\"]",
            "RunnableSequence [\"map:key:x\"] under [\"RunnableSequence\", \"RunnableParallel<x,y>\"]",
            "bracket [\"seq:step:2\"] under [\"RunnableSequence\", \"RunnableParallel<x,y>\", \"RunnableSequence\"]",
            "reverse_word [\"seq:step:1\"] under [\"RunnableSequence\", \"RunnableParallel<x,y>\", \"RunnableSequence\"]",
        ]
    );
    let out = data(one(&events, "RunnableParallel<x,y>", EventPhase::End))["output"].clone();
    assert_eq!(out["x"], "[!ba]");
    assert_eq!(out["y"], "ab!");
}

#[tokio::test]
async fn runs_are_named_like_langchain() {
    let failing = Lambda::from_fn(|_: String| -> runwright::Result<String> { Err(runwright::Error::msg("no")) });
    let with_fallbacks = failing.with_fallbacks([Lambda::from_fn(reverse_word).boxed()]);
    let map = Parallel::new()
        .branch("a", Passthrough::new())
        .branch("b", Generator::new(upper_case));
    let assign = Assign::new().key("n", Lambda::from_fn(q_len));
    let renamed = Lambda::from_fn(exclaim).with_config(RunConfig::new().run_name("shout"));
    let chain = Lambda::from_fn(exclaim)
        | renamed
        | with_fallbacks
        | map
        | Lambda::from_fn(|m: Map| Ok(m["a"].as_str().unwrap_or_default().to_string()))
        | Lambda::from_fn(to_map)
        | assign;
    let events = events_of(chain.stream_events("x".into())).await;
    let mut started: Vec<&str> = events
        .iter()
        .filter(|e| e.phase == EventPhase::Start)
        .map(|e| e.name())
        .collect();
    // The map's branches start in any order.
    started.sort_unstable();
    let mut expected = vec![
        "RunnableSequence",
        "exclaim",
        "shout",
        "RunnableWithFallbacks",
        "RunnableLambda",
        "reverse_word",
        "RunnableParallel<a,b>",
        "RunnablePassthrough",
        "upper_case",
        "RunnableLambda",
        "to_map",
        "RunnableAssign<n>",
        "RunnableParallel<n>",
        "q_len",
    ];
    expected.sort_unstable();
    assert_eq!(started, expected);
    let out: Vec<Map> = chain.stream("x".into()).try_collect().await.expect("streams");
    assert_eq!(out.last().and_then(|m| m.get("n")), Some(&json!(3)));
}

fn two_models() -> Parallel<runwright::LanguageModelInput> {
    Parallel::new()
        .branch("a", runwright::FakeListChatModel::new(["ab"]))
        .branch("b", runwright::FakeListChatModel::new(["xyz"]))
}

#[tokio::test]
async fn parallel_branches_all_start_before_any_streams() {
    let par = two_models();
    let events = events_of(par.stream_events("go".into())).await;
    let n = names(&events);
    let last_start = n.iter().rposition(|e| e == "on_chat_model_start:FakeListChatModel");
    let first_stream = n.iter().position(|e| e.ends_with("_stream:FakeListChatModel"));
    assert!(last_start < first_stream, "{n:?}");
    // Branches move on by one chunk per round, in the order chunks came.
    let chunks: Vec<String> = chunks_of(&events, "RunnableParallel<a,b>")
        .iter()
        .map(|c| {
            let (k, v) = c.as_object().and_then(|m| m.iter().next()).expect("one key");
            format!("{k}{}", v["content"].as_str().unwrap_or_default())
        })
        .collect();
    assert_eq!(chunks, ["aa", "bx", "ab", "by", "bz"]);
}

#[tokio::test]
async fn parallel_gives_its_chunks_in_the_same_order_with_and_without_a_listener() {
    let par = two_models();
    let plain: Vec<Json> = par
        .stream("go".into())
        .map(|c| serde_json::to_value(c.expect("a chunk")).expect("json"))
        .map(|mut c| {
            // Message ids name the run; compare the rest.
            for v in c.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                v.as_object_mut().map(|m| m.remove("id"));
            }
            c
        })
        .collect()
        .await;
    let events = events_of(par.stream_events("go".into())).await;
    let mut watched = chunks_of(&events, "RunnableParallel<a,b>");
    for c in &mut watched {
        for v in c.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
            v.as_object_mut().map(|m| m.remove("id"));
        }
    }
    assert_eq!(plain, watched);
}

#[tokio::test]
async fn invoked_parallel_starts_every_branch_before_running_any() {
    let par = Parallel::new()
        .branch("upper", Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("up"))
        .branch("size", Lambda::from_fn(|s: String| Ok(s.len())).named("len"));
    let outer = Lambda::from_async(move |s: String| {
        let par = par.clone();
        async move { par.invoke(s).await }
    })
    .named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    assert_eq!(
        names(&events),
        [
            "on_chain_start:outer",
            "on_chain_start:RunnableParallel<upper,size>",
            "on_chain_start:up",
            "on_chain_start:len",
            "on_chain_end:up",
            "on_chain_end:len",
            "on_chain_end:RunnableParallel<upper,size>",
            "on_chain_stream:outer",
            "on_chain_end:outer",
        ]
    );
}

#[tokio::test]
async fn a_failing_branch_fails_the_map_in_its_turn() {
    let par = Parallel::new()
        .branch("ok", runwright::FakeListChatModel::new(["abc"]))
        .branch(
            "bad",
            Lambda::from_async(|_: runwright::LanguageModelInput| async {
                Err::<String, _>(runwright::Error::msg("branch failed"))
            }),
        );
    let out = drain(par.stream_events("go".into())).await;
    assert_eq!(
        out.error.map(|e| e.message().to_owned()).as_deref(),
        Some("branch failed")
    );
    // As in LangChain: the model took its next step in the round the error
    // came in; the map handed on only what came before; nothing ended.
    let tokens: Vec<Json> = out
        .events
        .iter()
        .filter(|e| e.event() == "on_chat_model_stream")
        .map(|e| data(e)["chunk"]["content"].clone())
        .collect();
    assert_eq!(tokens, [json!("a"), json!("b")]);
    assert_eq!(chunks_of(&out.events, "RunnableParallel<ok,bad>").len(), 1);
    assert!(
        out.events.iter().all(|e| e.phase != EventPhase::End),
        "{:?}",
        names(&out.events)
    );
}

#[tokio::test]
async fn assign_mapper_starts_before_the_step_upstream_ends() {
    async fn to_dict(x: String) -> runwright::Result<Map> {
        let mut m = Map::new();
        m.insert("text".into(), x.into());
        Ok(m)
    }
    let chain = runwright::FakeListChatModel::new(["hi there"])
        | runwright::StrOutputParser
        | Lambda::from_async(to_dict).named("to_dict")
        | Assign::new().key(
            "size",
            Lambda::from_fn(|m: Map| Ok(m["text"].as_str().map_or(0, str::len))),
        );
    let events = events_of(chain.stream_events("go".into())).await;
    let n = names(&events);
    let at = |name: &str| {
        n.iter()
            .position(|e| e == name)
            .unwrap_or_else(|| panic!("no {name} in {n:?}"))
    };
    let mapper_start = at("on_chain_start:RunnableParallel<size>");
    assert!(at("on_chain_stream:RunnableAssign<size>") < mapper_start);
    assert!(mapper_start < at("on_chain_end:to_dict"));
    // The mapper is the assign's child, with no step tag of its own.
    let mapper = one(&events, "RunnableParallel<size>", EventPhase::Start);
    assert_eq!(mapper.tags().iter().count(), 0);
    assert_eq!(
        mapper.parent_ids().last(),
        Some(&one(&events, "RunnableAssign<size>", EventPhase::Start).run_id())
    );
    let out: Vec<Json> = chunks_of(&events, "RunnableAssign<size>");
    assert_eq!(out, [json!({"text": "hi there"}), json!({"size": 8})]);
}
