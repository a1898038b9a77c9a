//! LangGraph's "stream data from within a tool" guide, checked: custom data
//! from a tool, a tool's model tokens in `messages` mode, and a graph
//! without prebuilt pieces streaming through the writer.

use std::sync::Arc;

use futures::TryStreamExt;
use serde_json::{json, Value};

use runwright::graph::{create_react_agent, AgentState, StreamMode};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, FakeToolCallingChatModel, GenericFakeChatModel, RunConfig, RunnableExt};

/// Lists items one might find in a place.
///
/// * `place` - the place
#[tool]
async fn get_items(place: String) -> String {
    let writer = runwright::stream_writer();
    for item in ["books", "pencils", "pictures"] {
        writer.write(json!({ "custom_tool_data": item, "place": &place }));
    }
    "books, pencils, pictures".into()
}

/// Lists items one might find in a place, asking a model.
///
/// * `place` - the place
#[tool(name = "get_items")]
async fn get_items_from_a_model(place: String) -> runwright::Result<String> {
    let model = GenericFakeChatModel::new(["books, pencils, pictures"]);
    Ok(model
        .invoke(format!("items in the {place}?").into())
        .await?
        .text()
        .into_owned())
}

fn model() -> FakeToolCallingChatModel {
    FakeToolCallingChatModel::new([
        AIMessage::new("").with_tool_calls(vec![
            ToolCall::new("get_items", json!({"place": "bedroom"})).with_id("call_1")
        ]),
        AIMessage::new("You might find books, pencils and pictures."),
    ])
}

async fn items(agent: &runwright::graph::CompiledGraph<AgentState>, modes: &[StreamMode]) -> Vec<(StreamMode, Value)> {
    agent
        .stream_modes(
            AgentState::user("what items are in the bedroom?"),
            modes,
            RunConfig::new(),
        )
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_tool_streams_custom_data_with_the_writer() {
    let agent = create_react_agent(model(), vec![Arc::new(get_items)]).unwrap();
    let custom = items(&agent, &[StreamMode::Custom]).await;
    let data: Vec<&Value> = custom.iter().map(|(_, v)| &v["custom_tool_data"]).collect();
    assert_eq!(data, ["books", "pencils", "pictures"]);
    assert!(custom.iter().all(|(_, v)| v["place"] == "bedroom"));

    // The same items are custom events in stream_events, under the tool.
    let agent = create_react_agent(model(), vec![Arc::new(get_items)]).unwrap();
    let events: Vec<_> = agent
        .stream_events(AgentState::user("what items are in the bedroom?"))
        .try_collect()
        .await
        .unwrap();
    let tool_run = events.iter().find(|e| e.event() == "on_tool_start").unwrap().run_id();
    let written: Vec<_> = events.iter().filter(|e| e.event() == "on_custom_event").collect();
    assert_eq!(written.len(), 3);
    assert!(written.iter().all(|e| e.run_id() == tool_run));
}

#[tokio::test]
async fn a_tools_model_tokens_stream_in_messages_mode_under_the_tools_node() {
    let agent = create_react_agent(model(), vec![Arc::new(get_items_from_a_model)]).unwrap();
    let messages = items(&agent, &[StreamMode::Messages]).await;
    let from_tools: Vec<&str> = messages
        .iter()
        .filter(|(_, p)| p[0]["type"] == "AIMessageChunk" && p[1]["langgraph_node"] == "tools")
        .filter_map(|(_, p)| p[0]["content"].as_str())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(from_tools.concat(), "books, pencils, pictures");
    assert!(from_tools.len() > 1, "streamed token by token: {from_tools:?}");
}

#[tokio::test]
async fn a_graph_without_prebuilt_pieces_streams_a_models_tokens_through_the_writer() {
    use runwright::graph::{StateGraph, END, START};
    #[derive(Clone, serde::Serialize, serde::Deserialize)]
    struct State {
        place: String,
        #[serde(default)]
        answer: String,
    }
    impl runwright::Chunk for State {}
    let model = Arc::new(GenericFakeChatModel::new(["books, pencils and pictures"]));
    let graph = StateGraph::<State>::new()
        .add_node("call_tool", move |s: State| {
            let model = model.clone();
            async move {
                let writer = runwright::stream_writer();
                let mut answer = String::new();
                let mut tokens = model.stream(format!("items in the {}?", s.place).into());
                while let Some(t) = tokens.try_next().await? {
                    writer.write(json!({ "content": t.text() }));
                    answer.push_str(&t.text());
                }
                Ok(json!({ "answer": answer }))
            }
        })
        .add_edge(START, "call_tool")
        .add_edge("call_tool", END)
        .compile()
        .unwrap();
    let items: Vec<(StreamMode, Value)> = graph
        .stream_modes(
            State {
                place: "office".into(),
                answer: String::new(),
            },
            &[StreamMode::Custom, StreamMode::Values],
            RunConfig::new(),
        )
        .try_collect()
        .await
        .unwrap();
    let tokens: Vec<&str> = items
        .iter()
        .filter(|(m, _)| *m == StreamMode::Custom)
        .filter_map(|(_, v)| v["content"].as_str())
        .collect();
    assert_eq!(tokens.len(), 7);
    assert_eq!(tokens.concat(), "books, pencils and pictures");
    assert_eq!(items.last().unwrap().1["answer"], "books, pencils and pictures");
}
