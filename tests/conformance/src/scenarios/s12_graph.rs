//! 12: a two-node StateGraph (a writer and a model) in every stream mode,
//! and its events.

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use std::sync::{Arc, LazyLock};

use runwright::graph::{create_react_agent, AgentState, CompiledGraph, GraphTool, StateGraph, StreamMode, END, START};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, FakeToolCallingChatModel, GenericFakeChatModel, RunConfig, RunnableExt};

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

pub(crate) fn modes_of(call: &Value) -> (Vec<StreamMode>, bool) {
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
pub(crate) async fn graph_chunks<S>(out: &mut Records, case: &str, call: &Value, graph: &CompiledGraph<S>, input: S)
where
    S: runwright::Data + serde::de::DeserializeOwned,
{
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

/// Use this tool to look up which items are in a place.
///
/// * `place` - where to look
#[tool]
async fn get_items(place: String) -> String {
    let _ = place;
    let writer = runwright::stream_writer();
    for item in ["books", "pencils", "pictures"] {
        writer.write(json!({ "custom_tool_data": item }));
    }
    "books, pencils, pictures".to_string()
}

static INNER_MODEL: LazyLock<std::sync::Mutex<Option<Arc<GenericFakeChatModel>>>> =
    LazyLock::new(|| std::sync::Mutex::new(None));

/// Use this tool to look up which items are in a place (asks a model).
///
/// * `place` - where to look
#[tool(name = "get_items")]
async fn get_items_from_model(place: String) -> runwright::Result<String> {
    let model = INNER_MODEL
        .lock()
        .expect("not poisoned")
        .clone()
        .expect("the case sets the inner model");
    let answer = model.invoke(format!("Which items are in the {place}?").into()).await?;
    Ok(answer.text().into_owned())
}

fn agent_model() -> FakeToolCallingChatModel {
    FakeToolCallingChatModel::new([
        AIMessage::new("").with_tool_calls(vec![
            ToolCall::new("get_items", json!({"place": "bedroom"})).with_id("call_1")
        ]),
        AIMessage::new("You might find books, pencils and pictures."),
    ])
}

fn agent(tool: Arc<dyn GraphTool>) -> CompiledGraph<AgentState> {
    create_react_agent(agent_model(), vec![tool]).expect("a valid agent")
}

fn question() -> AgentState {
    serde_json::from_value(json!({"messages": [{"role": "user", "content": "what items are in the bedroom?"}]}))
        .expect("a valid state")
}

/// All of scenario 12.
pub(crate) async fn run() -> Records {
    let calls = Calls::of(12);
    let mut out = run_joke_cases().await;
    // The joke cases' records come first; the event case of the joke graph
    // is last among them in the reference order too? No: the reference
    // orders the agent's stream cases before both event cases.
    let joke_events: Vec<_> = out
        .all
        .iter()
        .filter(|r| r.case == "joke_graph.astream_events")
        .cloned()
        .collect();
    out.all.retain(|r| r.case != "joke_graph.astream_events");
    for case in [
        "react_agent.values",
        "react_agent.updates",
        "react_agent.custom",
        "react_agent.messages",
        "react_agent.debug",
        "react_agent.[updates,custom]",
    ] {
        let call = calls.start(&mut out, case);
        graph_chunks(&mut out, case, &call, &agent(Arc::new(get_items)), question()).await;
    }
    let case = "react_agent_llm_in_tool.messages";
    let call = calls.start(&mut out, case);
    *INNER_MODEL.lock().expect("not poisoned") =
        Some(Arc::new(GenericFakeChatModel::new(["books, pencils, pictures"])));
    graph_chunks(
        &mut out,
        case,
        &call,
        &agent(Arc::new(get_items_from_model)),
        question(),
    )
    .await;
    out.all.extend(joke_events);
    let case = "react_agent.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &agent(Arc::new(get_items)), question()).await;
    out
}
