//! d12_subgraphs: see `differential/scenarios.py`, function `d12`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use runwright::graph::checkpoint::InMemorySaver;
use runwright::graph::{interrupt, CompiledGraph, Reducer, StateGraph, END, START};
use runwright::messages::AIMessage;
use runwright::{GenericFakeChatModel, RunnableExt};

use super::calls_of;
use super::durable::Thread;
use crate::record::Records;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct NoteState {
    #[serde(default)]
    topic: String,
    #[serde(default)]
    notes: Vec<Value>,
}

impl runwright::Chunk for NoteState {}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// The subgraph: START -> s_write -> (s_ask ->) s_done -> END, no
/// checkpointer of its own.
fn build_child(ask: bool) -> CompiledGraph<NoteState> {
    let model = GenericFakeChatModel::from_messages([AIMessage::new("sub says hi").with_id("m-sub")]);
    let mut g = StateGraph::<NoteState>::new()
        .reducer("notes", Reducer::Append)
        .add_node("s_write", move |s: NoteState| {
            let model = model.clone();
            async move {
                runwright::stream_writer().write(json!({"child": "s_write"}));
                let m = model.invoke(format!("talk about {}", s.topic).into()).await?;
                Ok(json!({"notes": [m.text()]}))
            }
        })
        .add_node("s_done", |_: NoteState| async move { Ok(json!({"notes": ["s_done"]})) })
        .add_edge(START, "s_write");
    if ask {
        g = g
            .add_node("s_ask", |s: NoteState| async move {
                runwright::stream_writer().write(json!({"child": "s_ask"}));
                let answer: Value = interrupt(json!({"confirm": s.topic}))?;
                Ok(json!({"notes": [format!("ok:{}", text(&answer))]}))
            })
            .add_edge("s_write", "s_ask")
            .add_edge("s_ask", "s_done");
    } else {
        g = g.add_edge("s_write", "s_done");
    }
    g.add_edge("s_done", END).compile().expect("a valid graph")
}

/// START -> pre -> child (the subgraph as the node, or a function calling
/// it) -> post -> END, on an `InMemorySaver`.
fn build_parent(child: CompiledGraph<NoteState>, in_function: bool) -> (CompiledGraph<NoteState>, Arc<InMemorySaver>) {
    let saver = Arc::new(InMemorySaver::new());
    let mut g = StateGraph::<NoteState>::new()
        .reducer("notes", Reducer::Append)
        .add_node("pre", |_: NoteState| async move {
            runwright::stream_writer().write(json!({"parent": "pre"}));
            Ok(json!({"notes": ["pre"]}))
        });
    g = if in_function {
        g.add_node("child", move |s: NoteState| {
            let child = child.clone();
            async move {
                runwright::stream_writer().write(json!({"parent": "call_child"}));
                let out = child
                    .invoke(NoteState {
                        topic: s.topic,
                        notes: Vec::new(),
                    })
                    .await?;
                Ok(json!({"notes": out.notes}))
            }
        })
    } else {
        g.add_runnable_node("child", child)
    };
    let g = g
        .add_node("post", |_: NoteState| async move { Ok(json!({"notes": ["post"]})) })
        .add_edge(START, "pre")
        .add_edge("pre", "child")
        .add_edge("child", "post")
        .add_edge("post", END)
        .checkpointer(saver.clone())
        .compile()
        .expect("a valid graph");
    (g, saver)
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct LevelState {
    #[serde(default)]
    trail: Vec<String>,
}

impl runwright::Chunk for LevelState {}

/// top: START -> mid -> END; mid: START -> mid_node -> leaf -> END; leaf:
/// START -> leaf_node (a model) -> END.
fn build_three_levels() -> (CompiledGraph<LevelState>, Arc<InMemorySaver>) {
    let model = GenericFakeChatModel::from_messages([AIMessage::new("deep token").with_id("m-leaf")]);
    let leaf = StateGraph::<LevelState>::new()
        .reducer("trail", Reducer::Append)
        .add_node("leaf_node", move |_: LevelState| {
            let model = model.clone();
            async move {
                runwright::stream_writer().write(json!({"at": "leaf_node"}));
                let m = model.invoke("x".into()).await?;
                Ok(json!({"trail": [format!("leaf:{}", m.text())]}))
            }
        })
        .add_edge(START, "leaf_node")
        .add_edge("leaf_node", END)
        .compile()
        .expect("a valid graph");
    let mid = StateGraph::<LevelState>::new()
        .reducer("trail", Reducer::Append)
        .add_node("mid_node", |_: LevelState| async move {
            runwright::stream_writer().write(json!({"at": "mid_node"}));
            Ok(json!({"trail": ["mid"]}))
        })
        .add_runnable_node("leaf", leaf)
        .add_edge(START, "mid_node")
        .add_edge("mid_node", "leaf")
        .add_edge("leaf", END)
        .compile()
        .expect("a valid graph");
    let saver = Arc::new(InMemorySaver::new());
    let top = StateGraph::<LevelState>::new()
        .reducer("trail", Reducer::Append)
        .add_runnable_node("mid", mid)
        .add_edge(START, "mid")
        .add_edge("mid", END)
        .checkpointer(saver.clone())
        .compile()
        .expect("a valid graph");
    (top, saver)
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct AnswerState {
    #[serde(default)]
    answer: String,
}

impl runwright::Chunk for AnswerState {}

/// START -> talk (a model) -> END.
fn build_root_model() -> (CompiledGraph<AnswerState>, Arc<InMemorySaver>) {
    let model = GenericFakeChatModel::from_messages([AIMessage::new("root words").with_id("m-root")]);
    let saver = Arc::new(InMemorySaver::new());
    let g = StateGraph::<AnswerState>::new()
        .add_node("talk", move |_: AnswerState| {
            let model = model.clone();
            async move {
                let m = model.invoke("q".into()).await?;
                Ok(json!({"answer": m.text()}))
            }
        })
        .add_edge(START, "talk")
        .add_edge("talk", END)
        .checkpointer(saver.clone())
        .compile()
        .expect("a valid graph");
    (g, saver)
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d12_subgraphs");
    let mut out = Records::default();
    for (case, in_function, ask) in [
        ("node.subgraphs", false, false),
        ("node.no_subgraphs", false, false),
        ("node.single_mode_subgraphs", false, false),
        ("node.checkpoints_subgraphs", false, false),
        ("in_function.subgraphs", true, false),
        ("interrupt_in_subgraph", false, true),
        ("interrupt_in_subgraph.no_subgraphs", false, true),
        ("interrupt_in_subgraph.in_function", true, true),
    ] {
        let (g, saver) = build_parent(build_child(ask), in_function);
        let mut t = Thread::new(case, g, saver);
        t.replay_all(&calls.all(case)).await;
        t.finish(&mut out);
    }
    let case = "root_model.messages";
    let (g, saver) = build_root_model();
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    let case = "three_levels";
    let (g, saver) = build_three_levels();
    let mut t = Thread::new(case, g, saver);
    t.replay_all(&calls.all(case)).await;
    t.finish(&mut out);
    out
}
