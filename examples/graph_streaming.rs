//! cargo run --example graph_streaming
//!
//! LangGraph's "how to stream data from within a tool", on fake models
//! (offline): a tool that streams custom data with the stream writer, a tool
//! whose own model call streams its tokens in `messages` mode, and a graph
//! without prebuilt pieces whose tool streams a model's tokens through the
//! writer.

use std::sync::Arc;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use runwright::graph::{create_react_agent, AgentState, StateGraph, StreamMode, END, START};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, FakeToolCallingChatModel, GenericFakeChatModel, RunConfig, RunnableExt};

/// Use this tool to list items one might find in a place you're asked about.
///
/// * `place` - the place to look in
#[tool]
async fn get_items(place: String) -> String {
    let writer = runwright::stream_writer();
    let items = ["books", "pencils", "pictures"];
    for item in items {
        writer.write(json!({ "custom_tool_data": item, "place": &place }));
    }
    items.join(", ")
}

/// Use this tool to list items one might find in a place you're asked about
/// (it asks a model).
///
/// * `place` - the place to look in
#[tool(name = "get_items")]
async fn get_items_from_a_model(place: String) -> runwright::Result<String> {
    // No config parameter: the model's run nests under the tool on its own.
    let model = GenericFakeChatModel::new(["books, pencils, pictures"]);
    let answer = model
        .invoke(format!("What might I find in the {place}?").into())
        .await?;
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

#[derive(Clone, Serialize, Deserialize)]
struct State {
    place: String,
    #[serde(default)]
    answer: String,
}
impl runwright::Chunk for State {}

#[tokio::main]
async fn main() -> runwright::Result<()> {
    println!("-- custom data from a tool (stream mode `custom`)");
    let agent = create_react_agent(agent_model(), vec![Arc::new(get_items)])?;
    let mut items = agent.stream_modes(
        AgentState::user("what items are in the bedroom?"),
        &[StreamMode::Custom],
        RunConfig::new(),
    );
    while let Some((_, item)) = items.try_next().await? {
        println!("{item}");
    }

    println!("-- a tool's model tokens (stream mode `messages`, node `tools`)");
    let agent = create_react_agent(agent_model(), vec![Arc::new(get_items_from_a_model)])?;
    let mut messages = agent.stream_modes(
        AgentState::user("what items are in the bedroom?"),
        &[StreamMode::Messages],
        RunConfig::new(),
    );
    while let Some((_, pair)) = messages.try_next().await? {
        let (message, metadata) = (&pair[0], &pair[1]);
        if message["type"] == "AIMessageChunk" && message["content"] != "" && metadata["langgraph_node"] == "tools" {
            print!("{}|", message["content"].as_str().unwrap_or_default());
        }
    }
    println!();

    println!("-- without prebuilt pieces: a tool streams a model's tokens through the writer");
    let model = Arc::new(GenericFakeChatModel::new(["books, pencils and pictures"]));
    let graph = StateGraph::<State>::new()
        .add_node("call_tool", move |s: State| {
            let model = model.clone();
            async move {
                let writer = runwright::stream_writer();
                let mut answer = String::new();
                let mut tokens = model.stream(format!("What might I find in the {}?", s.place).into());
                while let Some(token) = tokens.try_next().await? {
                    writer.write(json!({ "role": "assistant", "content": token.text() }));
                    answer.push_str(&token.text());
                }
                Ok(json!({ "answer": answer }))
            }
        })
        .add_edge(START, "call_tool")
        .add_edge("call_tool", END)
        .compile()?;
    let state = State {
        place: "office".into(),
        answer: String::new(),
    };
    let mut tokens = graph.stream_modes(state, &[StreamMode::Custom], RunConfig::new());
    while let Some((_, token)) = tokens.try_next().await? {
        print!("{}|", token["content"].as_str().unwrap_or_default());
    }
    println!();
    Ok(())
}
