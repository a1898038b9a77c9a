//! d11_thread_state: see `differential/scenarios.py`, function `d11`.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use runwright::graph::checkpoint::InMemorySaver;
use runwright::graph::{CompiledGraph, Reducer, StateGraph, END, START};
use runwright::RunConfig;

use super::calls_of;
use super::d10_interrupts::build_ask;
use super::durable::Thread;
use crate::record::Records;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct CountState {
    n: i64,
    log: Vec<String>,
}

impl runwright::Chunk for CountState {}

/// START -> a (n+1) -> b (n*10) -> END.
fn build_count() -> (CompiledGraph<CountState>, Arc<InMemorySaver>) {
    let saver = Arc::new(InMemorySaver::new());
    let g = StateGraph::<CountState>::new()
        .reducer("log", Reducer::Append)
        .add_node(
            "a",
            |s: CountState| async move { Ok(json!({"n": s.n + 1, "log": ["a"]})) },
        )
        .add_node(
            "b",
            |s: CountState| async move { Ok(json!({"n": s.n * 10, "log": ["b"]})) },
        )
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("b", END)
        .checkpointer(saver.clone())
        .compile()
        .expect("a valid graph");
    (g, saver)
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d11_thread_state");
    let mut out = Records::default();
    let count_cases = ["fresh_thread", "finished", "finished.history_filters", "two_runs"];
    for case in count_cases {
        let (g, saver) = build_count();
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    let case = "interrupted";
    let (g, saver) = build_ask(|g| g);
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    for case in [
        "update_state.as_node",
        "update_state.inferred_node",
        "update_state.new_thread",
    ] {
        let (g, saver) = build_count();
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    for case in ["update_state.interrupted_node", "update_state.while_interrupted"] {
        let (g, saver) = build_ask(|g| g);
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    let case = "replay";
    let (g, saver) = build_count();
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    let case = "replay.interrupt_fires_again";
    let (g, saver) = build_ask(|g| g);
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);

    // The fork's update names a checkpoint the case never showed before
    // (LangGraph's script found it in an unrecorded history): the one
    // before `b`.
    let case = "fork";
    let (g, saver) = build_count();
    let mut t = Thread::new(case, g, saver);
    let all = calls.all(case);
    t.replay(&all[0], &HashMap::new()).await;
    let history = t
        .graph()
        .get_state_history(RunConfig::new().configurable("thread_id", "t1"))
        .await
        .expect("a history");
    let before_b = history
        .iter()
        .find(|s| s.next == ["b"])
        .and_then(|s| s.config.checkpoint_id.clone())
        .expect("a checkpoint before b");
    let label = all[1]["kwargs"]["config"]["configurable"]["checkpoint_id"]
        .as_str()
        .expect("the fork's checkpoint label");
    t.replay(&all[1], &HashMap::from([(label, before_b)])).await;
    for call in &all[2..] {
        t.replay(call, &HashMap::new()).await;
    }
    t.finish(&mut out);

    for case in ["durability.sync", "durability.async", "durability.exit"] {
        let (g, saver) = build_count();
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    let case = "durability.exit_interrupted";
    let (g, saver) = build_ask(|g| g);
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    out
}
