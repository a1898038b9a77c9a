//! The graph engine: supersteps, reducers, stream modes, the recursion
//! limit, deterministic merges of concurrent nodes, and cancellation.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use runwright::graph::{Reducer, StateGraph, StreamMode, END, START};
use runwright::{ErrorKind, GenericFakeChatModel, RunConfig, RunnableExt};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Counter {
    x: i64,
    #[serde(default)]
    log: Vec<String>,
}
impl runwright::Chunk for Counter {}

#[tokio::test]
async fn a_node_that_loops_forever_hits_the_recursion_limit_naming_it() {
    let graph = StateGraph::<Counter>::new()
        .add_sync_node("again", |s: Counter| Ok(json!({"x": s.x + 1})))
        .add_edge(START, "again")
        .add_conditional_edges("again", |_: &Counter| "again")
        .compile()
        .unwrap();
    let err = graph
        .invoke_with(Counter { x: 0, log: vec![] }, RunConfig::new().recursion_limit(7))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RecursionLimit);
    assert!(err.message().contains("recursion limit of 7"), "{err}");
    assert!(err.message().contains("again"), "names the last nodes: {err}");
    let default = graph.invoke(Counter { x: 0, log: vec![] }).await.unwrap_err();
    assert!(default.message().contains("recursion limit of 25"), "{default}");
}

#[tokio::test]
async fn concurrent_nodes_merge_their_updates_in_a_fixed_order() {
    // Three nodes in one superstep, finishing in an order that varies with
    // their sleeps; the append reducer shows the order updates are applied.
    let graph = StateGraph::<Counter>::new()
        .reducer("log", Reducer::Append)
        .add_node("a", |_: Counter| async {
            tokio::time::sleep(Duration::from_millis(3)).await;
            Ok(json!({"log": ["a"]}))
        })
        .add_node("b", |_: Counter| async { Ok(json!({"log": ["b"]})) })
        .add_node("c", |_: Counter| async {
            tokio::task::yield_now().await;
            Ok(json!({"log": ["c"], "x": 1}))
        })
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge(START, "c")
        .add_edge("a", END)
        .compile()
        .unwrap();
    for _ in 0..100 {
        let out = graph.invoke(Counter { x: 0, log: vec![] }).await.unwrap();
        assert_eq!(out.log, ["a", "b", "c"]);
        assert_eq!(out.x, 1);
    }
}

#[tokio::test]
async fn dropping_the_graph_stream_cancels_the_running_node() {
    let started = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicUsize::new(0));
    struct OnDrop(Arc<AtomicBool>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let (st, dr, po) = (started.clone(), dropped.clone(), polls.clone());
    let graph = StateGraph::<Counter>::new()
        .add_node("forever", move |_: Counter| {
            let (st, dr, po) = (st.clone(), dr.clone(), po.clone());
            async move {
                let _guard = OnDrop(dr);
                st.store(true, Ordering::SeqCst);
                loop {
                    po.fetch_add(1, Ordering::SeqCst);
                    runwright::stream_writer().write(json!({"tick": 1}));
                    tokio::task::yield_now().await;
                }
                #[allow(unreachable_code)]
                Ok(json!({}))
            }
        })
        .add_edge(START, "forever")
        .compile()
        .unwrap();
    let mut s = graph.stream_modes(Counter { x: 0, log: vec![] }, &[StreamMode::Custom], RunConfig::new());
    for _ in 0..3 {
        assert!(matches!(s.next().await, Some(Ok((StreamMode::Custom, _)))));
    }
    assert!(started.load(Ordering::SeqCst));
    drop(s);
    assert!(
        dropped.load(Ordering::SeqCst),
        "the node's future was dropped with the stream"
    );
    let after = polls.load(Ordering::SeqCst);
    tokio::task::yield_now().await;
    assert_eq!(polls.load(Ordering::SeqCst), after, "nothing polls the node any more");
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Chat {
    messages: Vec<serde_json::Value>,
}
impl runwright::Chunk for Chat {}

#[tokio::test]
async fn messages_mode_streams_tokens_of_a_model_deep_inside_a_node() {
    let model = Arc::new(GenericFakeChatModel::new(["hello there"]));
    let inner = runwright::Lambda::from_async(move |q: String| {
        let model = model.clone();
        async move { Ok(model.invoke(q.into()).await?.text().into_owned()) }
    });
    let inner = Arc::new(inner);
    let graph = StateGraph::<Chat>::new()
        .reducer("messages", Reducer::AddMessages)
        .add_node("talk", move |_: Chat| {
            let inner = inner.clone();
            async move {
                let answer = inner.invoke("hi".into()).await?;
                Ok(json!({"messages": [{"role": "assistant", "content": answer}]}))
            }
        })
        .add_edge(START, "talk")
        .add_edge("talk", END)
        .compile()
        .unwrap();
    let items: Vec<(StreamMode, serde_json::Value)> = graph
        .stream_modes(
            Chat {
                messages: vec![json!({"role": "user", "content": "hi"})],
            },
            &[StreamMode::Messages, StreamMode::Values],
            RunConfig::new(),
        )
        .try_collect()
        .await
        .unwrap();
    let messages: Vec<&serde_json::Value> = items
        .iter()
        .filter(|(m, _)| *m == StreamMode::Messages)
        .map(|(_, p)| p)
        .collect();
    // Three tokens, then the message the node returned (a new one, not the
    // streamed one), with the node's metadata.
    assert_eq!(messages.len(), 4);
    let tokens = &messages[..3];
    assert!(tokens.iter().all(|t| t[0]["type"] == "AIMessageChunk"));
    assert_eq!(messages[3][0]["type"], "AIMessage");
    assert_eq!(messages[3][0]["content"], "hello there");
    assert_eq!(messages[3][1]["langgraph_node"], "talk");
    assert_eq!(tokens[0][0]["content"], "hello");
    assert_eq!(tokens[0][1]["langgraph_node"], "talk");
    assert_eq!(tokens[0][1]["langgraph_step"], 1);
    let last = &items.last().unwrap().1;
    assert_eq!(last["messages"].as_array().unwrap().len(), 2);
    assert_eq!(last["messages"][1]["type"], "AIMessage");
}

#[tokio::test]
async fn invalid_graphs_are_refused_with_every_problem_named() {
    let err = StateGraph::<Counter>::new()
        .add_sync_node("a", |_| Ok(json!({})))
        .add_sync_node("a", |_| Ok(json!({})))
        .add_edge("a", "nowhere")
        .compile()
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(msg.contains("added twice"), "{msg}");
    assert!(msg.contains("`nowhere`"), "{msg}");
    assert!(msg.contains("START"), "{msg}");
}

#[tokio::test]
async fn a_node_returning_a_non_object_update_fails_naming_the_node() {
    let graph = StateGraph::<Counter>::new()
        .add_sync_node("bad", |_| Ok(json!([1, 2])))
        .add_edge(START, "bad")
        .compile()
        .unwrap();
    let err = graph.invoke(Counter { x: 0, log: vec![] }).await.unwrap_err();
    assert!(err.to_string().contains("node `bad`"), "{err}");
}

/// Fails on purpose.
///
/// * `x` - anything
#[runwright::tool]
fn broken(x: String) -> runwright::Result<String> {
    Err(runwright::Error::msg(format!("cannot handle {x}")))
}

#[tokio::test]
async fn tool_node_turns_errors_and_unknown_tools_into_error_messages() {
    use runwright::graph::ToolNode;
    let node = ToolNode::new(vec![Arc::new(broken)]);
    let state = json!({"messages": [
        {"type": "HumanMessage", "content": "go"},
        {"type": "AIMessage", "content": "", "tool_calls": [
            {"name": "broken", "args": {"x": "this"}, "id": "c1", "type": "tool_call"},
            {"name": "missing", "args": {}, "id": "c2", "type": "tool_call"}
        ]}
    ]});
    let out = node.run(&state).await.unwrap();
    let msgs = out["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "one answer per call, in call order");
    assert_eq!(msgs[0]["tool_call_id"], "c1");
    assert_eq!(msgs[0]["status"], "error");
    assert!(
        msgs[0]["content"].as_str().unwrap().contains("cannot handle this"),
        "{}",
        msgs[0]
    );
    assert_eq!(msgs[1]["tool_call_id"], "c2");
    assert_eq!(msgs[1]["status"], "error");
    assert!(
        msgs[1]["content"]
            .as_str()
            .unwrap()
            .contains("missing is not a valid tool"),
        "{}",
        msgs[1]
    );
}

#[tokio::test]
async fn tasks_of_a_step_fold_by_node_name_not_by_insertion() {
    let node = |name: &'static str| move |_: Counter| async move { Ok(json!({ "log": [name] })) };
    let graph = StateGraph::<Counter>::new()
        .reducer("log", Reducer::Append)
        .add_node("zeta", node("zeta"))
        .add_node("alpha", node("alpha"))
        .add_node("mid", node("mid"))
        .add_edge(START, "zeta")
        .add_edge(START, "alpha")
        .add_edge(START, "mid")
        .compile()
        .unwrap();
    let out = graph.invoke(Counter { x: 0, log: vec![] }).await.unwrap();
    assert_eq!(out.log, ["alpha", "mid", "zeta"]);
    let updates: Vec<_> = graph
        .stream_mode(Counter { x: 0, log: vec![] }, StreamMode::Updates)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(updates[0], json!({"alpha": {"log": ["alpha"]}}));
    assert_eq!(updates[2], json!({"zeta": {"log": ["zeta"]}}));
}

#[tokio::test]
async fn every_task_of_a_step_starts_before_any_streams_and_ends_as_it_completes() {
    /// The node runs' events (`on_chain_start a`, ...), within 5 s.
    async fn node_events(graph: &runwright::graph::CompiledGraph<Counter>) -> Vec<String> {
        let events = graph
            .stream_events(Counter { x: 0, log: vec![] })
            .try_collect::<Vec<_>>();
        tokio::time::timeout(Duration::from_secs(5), events)
            .await
            .expect("the step does not hang")
            .unwrap()
            .into_iter()
            .filter(|e| e.name() != "LangGraph")
            .map(|e| format!("{} {}", e.to_json()["event"].as_str().unwrap(), e.name()))
            .collect()
    }
    let node = |name: &'static str| move |_: Counter| async move { Ok(json!({ "log": [name] })) };
    // Nodes that finish at once: all start, then each streams and ends, in
    // task order (by node name).
    let instant = StateGraph::<Counter>::new()
        .reducer("log", Reducer::Append)
        .add_node("b", node("b"))
        .add_node("a", node("a"))
        .add_edge(START, "b")
        .add_edge(START, "a")
        .compile()
        .unwrap();
    assert_eq!(
        node_events(&instant).await,
        [
            "on_chain_start a",
            "on_chain_start b",
            "on_chain_stream a",
            "on_chain_end a",
            "on_chain_stream b",
            "on_chain_end b"
        ]
    );
    // A slow node first in task order holds nobody up: the fast one ends
    // first, as it completes.
    let timed = StateGraph::<Counter>::new()
        .reducer("log", Reducer::Append)
        .add_node("a_slow", |_: Counter| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(json!({ "log": ["a_slow"] }))
        })
        .add_node("b_fast", node("b_fast"))
        .add_edge(START, "a_slow")
        .add_edge(START, "b_fast")
        .compile()
        .unwrap();
    assert_eq!(
        node_events(&timed).await,
        [
            "on_chain_start a_slow",
            "on_chain_start b_fast",
            "on_chain_stream b_fast",
            "on_chain_end b_fast",
            "on_chain_stream a_slow",
            "on_chain_end a_slow"
        ]
    );
    // The updates are still applied in task order.
    let out = timed.invoke(Counter { x: 0, log: vec![] }).await.unwrap();
    assert_eq!(out.log, ["a_slow", "b_fast"]);
    // A failing task holds nobody up either: the step fails, it does not hang.
    let failing = StateGraph::<Counter>::new()
        .add_node("a", |_: Counter| async move {
            Err::<serde_json::Value, _>(runwright::Error::new(ErrorKind::InvalidInput, "no"))
        })
        .add_node("b", node("b"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .compile()
        .unwrap();
    let run = failing.invoke(Counter { x: 0, log: vec![] });
    let err = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .expect("the step does not hang")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_waiting_edge_runs_its_node_once_all_sources_have_run() {
    let node = |name: &'static str| move |_: Counter| async move { Ok(json!({ "log": [name] })) };
    let graph = StateGraph::<Counter>::new()
        .reducer("log", Reducer::Append)
        .add_node("short", node("short"))
        .add_node("long1", node("long1"))
        .add_node("long2", node("long2"))
        .add_node("join", node("join"))
        .add_edge(START, "short")
        .add_edge(START, "long1")
        .add_edge("long1", "long2")
        .add_edge_from_all(&["short", "long2"], "join")
        .add_edge("join", END)
        .compile()
        .unwrap();
    let out = graph.invoke(Counter { x: 0, log: vec![] }).await.unwrap();
    assert_eq!(out.log, ["long1", "short", "long2", "join"]);
}

#[tokio::test]
async fn a_graph_invoked_inside_a_step_shows_no_stream_chunks_of_its_own() {
    let graph = StateGraph::<Counter>::new()
        .add_sync_node("inc", |s: Counter| Ok(json!({"x": s.x + 1})))
        .add_edge(START, "inc")
        .add_edge("inc", END)
        .compile()
        .unwrap();
    let step = runwright::Lambda::from_async(move |x: i64| {
        let graph = graph.clone();
        async move { Ok(graph.invoke(Counter { x, log: vec![] }).await?.x) }
    })
    .named("outer");
    let events = step.stream_events(1).try_collect::<Vec<_>>().await.unwrap();
    let graph_chunks = events
        .iter()
        .filter(|e| e.name() == "LangGraph" && e.to_json()["event"] == "on_chain_stream")
        .count();
    assert_eq!(graph_chunks, 0);
    assert!(events
        .iter()
        .any(|e| e.name() == "inc" && e.to_json()["event"] == "on_chain_stream"));
}

#[tokio::test]
async fn a_model_tagged_nostream_streams_no_tokens_in_messages_mode() {
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct Chat {
        quiet: String,
    }
    impl runwright::Chunk for Chat {}
    let silent = Arc::new(GenericFakeChatModel::new(["shh"]).with_config(RunConfig::new().tags(["nostream"])));
    let graph = StateGraph::<Chat>::new()
        .add_node("hush", move |_: Chat| {
            let silent = silent.clone();
            async move { Ok(json!({"quiet": silent.invoke("hello".into()).await?.text()})) }
        })
        .add_edge(START, "hush")
        .add_edge("hush", END)
        .compile()
        .unwrap();
    let items: Vec<_> = graph
        .stream_modes(
            Chat { quiet: String::new() },
            &[StreamMode::Messages, StreamMode::Values],
            RunConfig::new(),
        )
        .try_collect()
        .await
        .unwrap();
    assert!(items.iter().all(|(m, _)| *m != StreamMode::Messages), "{items:?}");
    assert_eq!(items.last().unwrap().1, json!({"quiet": "shh"}));
}
