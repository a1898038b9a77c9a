//! d10_interrupts: see `differential/scenarios.py`, function `d10`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use runwright::graph::checkpoint::InMemorySaver;
use runwright::graph::{create_react_agent, interrupt, AgentState, CompiledGraph, Reducer, StateGraph, END, START};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, FakeToolCallingChatModel};

use super::calls_of;
use super::durable::Thread;
use crate::record::Records;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AskState {
    question: String,
    answer: String,
    log: Vec<String>,
}

impl runwright::Chunk for AskState {}

/// START -> prepare -> ask (interrupts for the answer) -> finish -> END.
pub(crate) fn build_ask(
    breakpoints: impl FnOnce(StateGraph<AskState>) -> StateGraph<AskState>,
) -> (CompiledGraph<AskState>, Arc<InMemorySaver>) {
    let saver = Arc::new(InMemorySaver::new());
    let g = StateGraph::<AskState>::new()
        .reducer("log", Reducer::Append)
        .add_node("prepare", |_: AskState| async move { Ok(json!({"log": ["prepare"]})) })
        .add_node("ask", |s: AskState| async move {
            runwright::stream_writer().write(json!({"enter": "ask"}));
            let answer: Value = interrupt(json!({"question": s.question}))?;
            runwright::stream_writer().write(json!({ "resumed_with": answer }));
            Ok(json!({"answer": answer, "log": ["ask"]}))
        })
        .add_node("finish", |s: AskState| async move {
            Ok(json!({"log": [format!("finish:{}", s.answer)]}))
        })
        .add_edge(START, "prepare")
        .add_edge("prepare", "ask")
        .add_edge("ask", "finish")
        .add_edge("finish", END)
        .checkpointer(saver.clone());
    (breakpoints(g).compile().expect("a valid graph"), saver)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct TwoAskState {
    answers: Vec<Value>,
}

impl runwright::Chunk for TwoAskState {}

fn build_two_asks() -> (CompiledGraph<TwoAskState>, Arc<InMemorySaver>) {
    let saver = Arc::new(InMemorySaver::new());
    let g = StateGraph::<TwoAskState>::new()
        .reducer("answers", Reducer::Append)
        .add_node("ask_twice", |_: TwoAskState| async move {
            let w = runwright::stream_writer();
            w.write(json!({"enter": "ask_twice"}));
            let a: Value = interrupt(json!({"question": "first?"}))?;
            w.write(json!({ "first": a }));
            let b: Value = interrupt(json!({"question": "second?"}))?;
            w.write(json!({ "second": b }));
            Ok(json!({"answers": [a, b]}))
        })
        .add_node(
            "after",
            |_: TwoAskState| async move { Ok(json!({"answers": ["after"]})) },
        )
        .add_edge(START, "ask_twice")
        .add_edge("ask_twice", "after")
        .add_edge("after", END)
        .checkpointer(saver.clone())
        .compile()
        .expect("a valid graph");
    (g, saver)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ParState {
    got: Vec<String>,
}

impl runwright::Chunk for ParState {}

fn as_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn build_parallel_asks() -> (CompiledGraph<ParState>, Arc<InMemorySaver>) {
    let saver = Arc::new(InMemorySaver::new());
    let g = StateGraph::<ParState>::new()
        .reducer("got", Reducer::Append)
        .add_node("left", |_: ParState| async move {
            let v: Value = interrupt(json!({"side": "left"}))?;
            Ok(json!({"got": [format!("left:{}", as_text(&v))]}))
        })
        .add_node("right", |_: ParState| async move {
            let v: Value = interrupt(json!({"side": "right"}))?;
            Ok(json!({"got": [format!("right:{}", as_text(&v))]}))
        })
        .add_node("plain", |_: ParState| async move { Ok(json!({"got": ["plain"]})) })
        .add_edge(START, "left")
        .add_edge(START, "right")
        .add_edge(START, "plain")
        // LangGraph's `add_edge(["left", "right", "plain"], END)`: a waiting
        // edge to END ends the run as the three edges to END do.
        .add_edge("left", END)
        .add_edge("right", END)
        .add_edge("plain", END)
        .checkpointer(saver.clone())
        .compile()
        .expect("a valid graph");
    (g, saver)
}

/// Deletes a file, after asking for approval.
///
/// * `path` - the file
#[tool]
async fn delete_file(path: String) -> runwright::Result<String> {
    let decision: Value = interrupt(json!({"action": "delete_file", "path": path}))?;
    Ok(if decision == "yes" {
        format!("deleted {path}")
    } else {
        format!("kept {path}")
    })
}

fn build_risky_agent() -> (CompiledGraph<AgentState>, Arc<InMemorySaver>) {
    let saver = Arc::new(InMemorySaver::new());
    let model = FakeToolCallingChatModel::new([
        AIMessage::new("").with_id("ai-1").with_tool_calls(vec![ToolCall::new(
            "delete_file",
            json!({"path": "a.txt"}),
        )
        .with_id("call_1")]),
        AIMessage::new("file handled").with_id("ai-2"),
    ]);
    let agent = create_react_agent(model, vec![Arc::new(delete_file)])
        .expect("a valid agent")
        .with_checkpointer(saver.clone());
    (agent, saver)
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d10_interrupts");
    let mut out = Records::default();
    for case in [
        "single.updates+values",
        "single.updates",
        "single.values",
        "single.custom",
        "single.ainvoke",
        "single.ainvoke_v2",
        "single.astream_v2",
        "single.astream_events",
        "single.resume_twice",
        "single.new_input_while_interrupted",
    ] {
        let (g, saver) = build_ask(|g| g);
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    for case in ["two_in_one_node", "two_in_one_node.resume_map"] {
        let (g, saver) = build_two_asks();
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    for case in ["parallel", "parallel.resume_map_both"] {
        let (g, saver) = build_parallel_asks();
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    let case = "tool_approval";
    let (g, saver) = build_risky_agent();
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);

    for case in ["resume_with_update", "resume_with_goto", "update_without_resume"] {
        let (g, saver) = build_ask(|g| g);
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    let case = "interrupt_before";
    let (g, saver) = build_ask(|g| g.interrupt_before(&["ask"]));
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    let case = "interrupt_after";
    let (g, saver) = build_ask(|g| g.interrupt_after(&["prepare"]));
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    out
}
