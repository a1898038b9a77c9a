//! 12: a two-node StateGraph (a writer and a model) in every stream mode,
//! and its events.

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use runwright::graph::{CompiledGraph, StateGraph, StreamMode, END, START};
use runwright::{GenericFakeChatModel, RunConfig, RunnableExt};

use super::common::{events, Calls};
use crate::record::Records;

const JOKE: &str = "Why did the cat sit on the computer? To keep an eye on the mouse!";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct JokeState {
    topic: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    joke: Option<String>,
}

impl runwright::Chunk for JokeState {}

fn joke_graph() -> CompiledGraph<JokeState> {
    let model = std::sync::Arc::new(GenericFakeChatModel::new([JOKE]));
    StateGraph::<JokeState>::new()
        .add_sync_node("refine_topic", |s: JokeState| {
            runwright::stream_writer().write(json!({"progress": "refining topic"}));
            Ok(json!({"topic": format!("{} and cats", s.topic)}))
        })
        .add_node("generate_joke", move |s: JokeState| {
            let model = model.clone();
            async move {
                runwright::stream_writer().write(json!({"progress": "calling model"}));
                let answer = model.invoke(format!("Tell a joke about {}", s.topic).into()).await?;
                Ok(json!({"joke": answer.text()}))
            }
        })
        .add_edge(START, "refine_topic")
        .add_edge("refine_topic", "generate_joke")
        .add_edge("generate_joke", END)
        .compile()
        .expect("a valid graph")
}

fn modes_of(call: &Value) -> (Vec<StreamMode>, bool) {
    let names: Vec<String> = match &call["kwargs"]["stream_mode"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|m| m.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    let modes = names
        .iter()
        .filter_map(|n| match n.as_str() {
            "values" => Some(StreamMode::Values),
            "updates" => Some(StreamMode::Updates),
            "messages" => Some(StreamMode::Messages),
            "custom" => Some(StreamMode::Custom),
            "debug" => Some(StreamMode::Debug),
            _ => None,
        })
        .collect();
    (modes, call["kwargs"]["stream_mode"].is_array())
}

/// Records `graph.astream(input, stream_mode=...)`: payloads alone for one
/// mode, `[mode, payload]` for a list of modes.
async fn graph_chunks(out: &mut Records, case: &str, call: &Value, graph: &CompiledGraph<JokeState>, input: JokeState) {
    let (modes, as_list) = modes_of(call);
    let mut s = graph.stream_modes(input, &modes, RunConfig::new());
    while let Some(item) = s.next().await {
        match item {
            Ok((mode, payload)) if as_list => out.push(case, "chunk", json!([mode.as_str(), payload])),
            Ok((_, payload)) => out.push(case, "chunk", payload),
            Err(e) => out.error(case, &e),
        }
    }
}

/// The joke graph's cases (the agent's cases need the prebuilt agent).
pub(crate) async fn run_joke_cases() -> Records {
    let calls = Calls::of(12);
    let mut out = Records::default();
    let ice_cream = || JokeState {
        topic: "ice cream".into(),
        joke: None,
    };
    for case in [
        "joke_graph.values",
        "joke_graph.updates",
        "joke_graph.custom",
        "joke_graph.messages",
        "joke_graph.debug",
        "joke_graph.[updates,custom]",
        "joke_graph.[messages,custom,values]",
    ] {
        let call = calls.start(&mut out, case);
        graph_chunks(&mut out, case, &call, &joke_graph(), ice_cream()).await;
    }
    let case = "joke_graph.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &joke_graph(), ice_cream()).await;
    out
}
