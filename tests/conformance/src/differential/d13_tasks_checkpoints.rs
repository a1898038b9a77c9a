//! d13_tasks_checkpoints: see `differential/scenarios.py`, function `d13`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use runwright::graph::checkpoint::InMemorySaver;
use runwright::graph::{CompiledGraph, Reducer, StateGraph, END, START};
use runwright::{Error, ErrorKind};

use super::calls_of;
use super::d10_interrupts::build_ask;
use super::durable::Thread;
use crate::record::Records;
use crate::scenarios::common::ValueError;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StepState {
    n: i64,
    seen: Vec<String>,
}

impl runwright::Chunk for StepState {}

/// START -> a -> (b, c) -> d -> END; `c` fails with `fail`.
fn build_diamond(fail: bool) -> (CompiledGraph<StepState>, Arc<InMemorySaver>) {
    let saver = Arc::new(InMemorySaver::new());
    let g = StateGraph::<StepState>::new()
        .reducer("seen", Reducer::Append)
        .add_node(
            "a",
            |s: StepState| async move { Ok(json!({"n": s.n + 1, "seen": ["a"]})) },
        )
        .add_node("b", |_: StepState| async move { Ok(json!({"seen": ["b"]})) })
        .add_node("c", move |_: StepState| async move {
            if fail {
                return Err(Error::from_source(ErrorKind::Step, ValueError("c failed".into())));
            }
            Ok(json!({"seen": ["c"]}))
        })
        .add_node(
            "d",
            |s: StepState| async move { Ok(json!({"n": s.n * 2, "seen": ["d"]})) },
        )
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("a", "c")
        .add_edge_from_all(&["b", "c"], "d")
        .add_edge("d", END)
        .checkpointer(saver.clone())
        .compile()
        .expect("a valid graph");
    (g, saver)
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d13_tasks_checkpoints");
    let mut out = Records::default();
    for case in [
        "diamond.tasks",
        "diamond.checkpoints",
        "diamond.debug",
        "diamond.tasks+checkpoints+updates",
    ] {
        let (g, saver) = build_diamond(false);
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    let case = "failing.tasks";
    let (g, saver) = build_diamond(true);
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    let case = "interrupt.debug";
    let (g, saver) = build_ask(|g| g);
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    let case = "durability_exit.checkpoints";
    let (g, saver) = build_diamond(false);
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    out
}
