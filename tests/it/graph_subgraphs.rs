//! Subgraphs: a compiled graph as a node, or run inside a node; their items
//! with namespaces; their threads and interrupts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use runwright::graph::checkpoint::{CheckpointConfig, Checkpointer, InMemorySaver, ListOptions};
use runwright::graph::{interrupt, Command, CompiledGraph, Reducer, StateGraph, StreamMode, TaskState, END, START};
use runwright::{GenericFakeChatModel, RunConfig, RunnableExt};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Notes {
    #[serde(default)]
    topic: String,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    joke: String,
}
impl runwright::Chunk for Notes {}

/// `s_write`: writes a custom item, asks a model for a joke.
fn child() -> CompiledGraph<Notes> {
    StateGraph::<Notes>::new()
        .add_node("s_write", |s: Notes| async move {
            runwright::stream_writer().write(json!({"child": "s_write"}));
            let model = GenericFakeChatModel::new(["a sub joke"]);
            let joke = model.invoke(format!("joke about {}", s.topic).into()).await?;
            Ok(json!({"joke": joke.text()}))
        })
        .add_edge(START, "s_write")
        .add_edge("s_write", END)
        .compile()
        .unwrap()
}

fn parent(sub: CompiledGraph<Notes>) -> CompiledGraph<Notes> {
    StateGraph::<Notes>::new()
        .add_sync_node("pre", |_: Notes| Ok(json!({"notes": ["pre"]})))
        .add_runnable_node("child", sub)
        .add_edge(START, "pre")
        .add_edge("pre", "child")
        .add_edge("child", END)
        .compile()
        .unwrap()
}

type Item = (Vec<String>, StreamMode, Value);

async fn stream_subgraphs(graph: &CompiledGraph<Notes>, modes: &[StreamMode], config: RunConfig) -> Vec<Item> {
    graph
        .stream_modes(
            Notes {
                topic: "cats".into(),
                ..Default::default()
            },
            modes,
            config,
        )
        .with_subgraphs()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_subgraph_node_streams_its_items_under_its_namespace() {
    let graph = parent(child());
    let items = stream_subgraphs(
        &graph,
        &[StreamMode::Updates, StreamMode::Custom, StreamMode::Messages],
        RunConfig::new(),
    )
    .await;
    let root: Vec<&Item> = items.iter().filter(|(ns, _, _)| ns.is_empty()).collect();
    let inner: Vec<&Item> = items.iter().filter(|(ns, _, _)| !ns.is_empty()).collect();
    assert_eq!(root.len(), 2, "{items:#?}");
    assert_eq!(root[0].2, json!({"pre": {"notes": ["pre"]}}));
    assert_eq!(root[1].2["child"]["joke"], "a sub joke");
    let ns = &inner[0].0;
    assert_eq!(ns.len(), 1);
    assert!(ns[0].starts_with("child:"), "{ns:?}");
    assert!(inner.iter().all(|(n, _, _)| n == ns), "one namespace: {items:#?}");
    let modes: Vec<StreamMode> = inner.iter().map(|(_, m, _)| *m).collect();
    assert!(
        modes.contains(&StreamMode::Custom)
            && modes.contains(&StreamMode::Messages)
            && modes.contains(&StreamMode::Updates),
        "{modes:?}"
    );
    let custom = inner.iter().find(|(_, m, _)| *m == StreamMode::Custom).unwrap();
    assert_eq!(custom.2, json!({"child": "s_write"}));
    let token = inner.iter().find(|(_, m, _)| *m == StreamMode::Messages).unwrap();
    let meta = &token.2[1];
    assert_eq!(
        meta["langgraph_node"], "s_write",
        "the inner task's own metadata: {meta}"
    );
    assert_eq!(
        meta["checkpoint_ns"],
        ns[0].as_str(),
        "the root task's namespace: {meta}"
    );
    let full = meta["langgraph_checkpoint_ns"].as_str().unwrap();
    assert!(full.starts_with(&format!("{}|s_write:", ns[0])), "{full}");
    let update = inner.iter().find(|(_, m, _)| *m == StreamMode::Updates).unwrap();
    assert_eq!(update.2["s_write"]["joke"], "a sub joke");
}

#[tokio::test]
async fn without_subgraphs_their_tokens_and_custom_items_still_stream() {
    let graph = parent(child());
    let items: Vec<(StreamMode, Value)> = graph
        .stream_modes(
            Notes {
                topic: "cats".into(),
                ..Default::default()
            },
            &[StreamMode::Updates, StreamMode::Custom, StreamMode::Messages],
            RunConfig::new(),
        )
        .try_collect()
        .await
        .unwrap();
    let updates: Vec<&Value> = items
        .iter()
        .filter(|(m, _)| *m == StreamMode::Updates)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(updates.len(), 2, "only the root's updates: {items:#?}");
    assert!(items
        .iter()
        .any(|(m, v)| *m == StreamMode::Custom && v["child"] == "s_write"));
    assert!(items
        .iter()
        .any(|(m, v)| *m == StreamMode::Messages && v[1]["langgraph_node"] == "s_write"));
}

#[tokio::test]
async fn a_graph_run_inside_a_node_function_is_that_nodes_subgraph() {
    let sub = child();
    let graph = StateGraph::<Notes>::new()
        .add_node("child", move |s: Notes| {
            let sub = sub.clone();
            async move {
                let out = sub.invoke(s).await?;
                Ok(json!({"joke": out.joke}))
            }
        })
        .add_edge(START, "child")
        .compile()
        .unwrap();
    let items = stream_subgraphs(&graph, &[StreamMode::Updates], RunConfig::new()).await;
    let inner: Vec<&Item> = items.iter().filter(|(ns, _, _)| !ns.is_empty()).collect();
    assert_eq!(inner.len(), 1, "{items:#?}");
    assert!(inner[0].0[0].starts_with("child:"));
    assert_eq!(inner[0].2["s_write"]["joke"], "a sub joke");
}

#[tokio::test]
async fn three_levels_nest_their_namespaces() {
    let leaf = StateGraph::<Notes>::new()
        .add_sync_node("leaf_node", |_: Notes| {
            runwright::stream_writer().write(json!({"at": "leaf_node"}));
            Ok(json!({"notes": ["leaf"]}))
        })
        .add_edge(START, "leaf_node")
        .compile()
        .unwrap();
    let mid = StateGraph::<Notes>::new()
        .add_runnable_node("leaf", leaf)
        .add_edge(START, "leaf")
        .compile()
        .unwrap();
    let root = StateGraph::<Notes>::new()
        .add_runnable_node("mid", mid)
        .add_edge(START, "mid")
        .compile()
        .unwrap();
    let items = stream_subgraphs(&root, &[StreamMode::Custom], RunConfig::new()).await;
    assert_eq!(items.len(), 1, "{items:#?}");
    let ns = &items[0].0;
    assert_eq!(ns.len(), 2, "{ns:?}");
    assert!(ns[0].starts_with("mid:") && ns[1].starts_with("leaf:"), "{ns:?}");
}

#[tokio::test]
async fn an_interrupt_in_a_subgraph_stops_the_parent_and_resumes_inside() {
    let first_runs = Arc::new(AtomicUsize::new(0));
    let counted = first_runs.clone();
    let sub = StateGraph::<Notes>::new()
        .reducer("notes", Reducer::Append)
        .add_node("s_first", move |_: Notes| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { Ok(json!({"notes": ["s_first"]})) }
        })
        .add_node("s_ask", |_: Notes| async move {
            let answer: String = interrupt(json!({"ask": "topic?"}))?;
            Ok(json!({"topic": answer}))
        })
        .add_edge(START, "s_first")
        .add_edge("s_first", "s_ask")
        .compile()
        .unwrap();
    let saver = Arc::new(InMemorySaver::new());
    let graph = StateGraph::<Notes>::new()
        .add_runnable_node("child", sub)
        .add_edge(START, "child")
        .add_edge("child", END)
        .checkpointer(saver.clone())
        .compile()
        .unwrap();
    let config = RunConfig::new().configurable("thread_id", "sub");
    let items = stream_subgraphs(&graph, &[StreamMode::Updates], config.clone()).await;
    let interrupts: Vec<&Item> = items
        .iter()
        .filter(|(_, _, v)| v.get("__interrupt__").is_some())
        .collect();
    assert_eq!(interrupts.len(), 2, "inside, then in the parent: {items:#?}");
    assert!(!interrupts[0].0.is_empty() && interrupts[1].0.is_empty());
    assert_eq!(interrupts[0].2, interrupts[1].2, "the same interrupt");

    let state = graph.get_state(config.clone()).await.unwrap();
    assert_eq!(state.next, ["child"]);
    assert_eq!(state.interrupts[0].value, json!({"ask": "topic?"}));
    // The subgraph's checkpoints are in the same thread, under its namespace.
    let ns = format!("child:{}", state.tasks[0].id);
    let inner = CheckpointConfig {
        checkpoint_ns: ns.clone(),
        ..CheckpointConfig::thread("sub")
    };
    assert_eq!(saver.namespaces("sub"), ["".to_owned(), ns.clone()]);
    let inner_history = saver.list(&inner, &ListOptions::default()).await.unwrap();
    assert!(!inner_history.is_empty());
    let root_id = state.config.checkpoint_id.clone().unwrap();
    assert_eq!(
        inner_history[0].metadata.parents.get(""),
        Some(&root_id),
        "{:?}",
        inner_history[0].metadata
    );
    // The task points at the subgraph's checkpoints; with its subgraphs,
    // the thread's state nests the subgraph's, whose config maps each
    // graph's checkpoint on the way down.
    assert_eq!(state.tasks[0].state, Some(TaskState::Config(inner.clone())));
    let nested = graph.get_state_with_subgraphs(config.clone()).await.unwrap();
    let Some(TaskState::Snapshot(sub)) = &nested.tasks[0].state else {
        panic!("a nested state: {nested:#?}")
    };
    assert_eq!(sub.next, ["s_ask"]);
    assert_eq!(sub.values["notes"], json!(["s_first"]));
    assert_eq!(sub.interrupts, state.interrupts);
    assert_eq!(sub.config.checkpoint_ns, ns);
    assert_eq!(sub.config.checkpoint_map.get(""), Some(&root_id));
    assert_eq!(sub.config.checkpoint_map.get(&ns), sub.config.checkpoint_id.as_ref());
    assert!(state.config.checkpoint_map.is_empty(), "none at the root");

    let done = graph.resume(Command::resume("dogs"), config.clone()).await.unwrap();
    assert_eq!(done.topic, "dogs");
    assert_eq!(done.notes, ["s_first"]);
    assert_eq!(
        first_runs.load(Ordering::SeqCst),
        1,
        "the subgraph's finished node did not run again"
    );
    assert!(graph.get_state(config).await.unwrap().next.is_empty());
}
