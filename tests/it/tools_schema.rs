//! A tool's JSON schema is what model providers expect of a tool definition
//! (`{"type": "object", "properties", "required"}`, argument descriptions
//! from the doc comment, nested types inline), and `bind_tools` sends it.

use futures::TryStreamExt;
use runwright::tools::{JsonSchema, ToolInput};
use runwright::{tool, AIMessage, ChatModel, FakeToolCallingChatModel, RunnableExt, ToolCall};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A postal address.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Address {
    /// Street and number.
    pub street: String,
    /// Postal code.
    #[expect(dead_code, reason = "an argument of the schema that the tool's body does not read")]
    pub zip: String,
    /// The floor, if any.
    pub floor: Option<i32>,
}

/// How to travel.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Train,
    Plane,
    RoadTrip,
}

/// Plans a trip to an address.
///
/// # Arguments
///
/// * `to` - where to go
/// * `mode` - how to get there
/// * `budget` - the most to spend, in euros
/// * `stops` - places to stop on the way
#[tool]
fn plan_trip(to: Address, mode: Mode, budget: Option<u32>, stops: Vec<String>) -> String {
    format!(
        "{mode:?} to {} ({} stops, budget {budget:?}, floor {:?})",
        to.street,
        stops.len(),
        to.floor
    )
}

#[test]
fn nested_struct_enum_option_and_vec_arguments_have_a_provider_schema() {
    insta::assert_json_snapshot!("plan_trip_openai_definition", plan_trip.spec().to_openai());
    let params = plan_trip.spec().parameters();
    assert_eq!(params["required"], json!(["to", "mode", "stops"]));
    assert_eq!(params["additionalProperties"], json!(false));
    assert!(params.get("$defs").is_none(), "nested types are inline");
    assert_eq!(plan_trip.spec().to_anthropic()["input_schema"], *params);
}

#[tokio::test]
async fn nested_arguments_deserialize() {
    let args = json!({"to": {"street": "1 Rue X", "zip": "75001"}, "mode": "road_trip", "stops": ["Lyon"]});
    let out = plan_trip.invoke(args.into()).await.unwrap();
    assert_eq!(
        out.into_value().as_deref(),
        Some("RoadTrip to 1 Rue X (1 stops, budget None, floor None)")
    );

    let err = plan_trip
        .invoke(json!({"to": {"street": "1 Rue X"}, "mode": "bike", "stops": []}).into())
        .await
        .unwrap_err();
    let msg = err.message();
    assert!(
        msg.contains("argument `to` (expected object): missing field `zip`"),
        "{msg}"
    );
    assert!(
        msg.contains(r#"argument `mode` (expected one of "train", "plane", "road_trip")"#),
        "{msg}"
    );
}

/// Reverses a word.
///
/// * `word` - the word
#[tool]
fn reverse(word: String) -> String {
    word.chars().rev().collect()
}

#[tokio::test]
async fn bind_tools_sends_the_definitions_and_the_calls_run_the_tools() {
    let answer = AIMessage::new("").with_tool_calls(vec![
        ToolCall::new("reverse", json!({"word": "hello"})).with_id("call_1"),
        ToolCall::new(
            "plan_trip",
            json!({"to": {"street": "s", "zip": "z"}, "mode": "train", "stops": []}),
        )
        .with_id("call_2"),
    ]);
    let model = FakeToolCallingChatModel::new([answer]).bind_tools(&[&reverse, &plan_trip]);
    assert_eq!(runwright::Runnable::name(&model), "FakeToolCallingChatModel");

    let chunks: Vec<_> = model.stream("go".into()).try_collect().await.unwrap();
    let seen = model.inner().tools_seen();
    assert_eq!(seen, [vec![reverse.spec().to_openai(), plan_trip.spec().to_openai()]]);
    assert_eq!(
        seen[0][0]["function"]["parameters"]["properties"]["word"]["description"],
        "the word"
    );

    let message = chunks.into_iter().reduce(|mut a, b| {
        runwright::Chunk::concat(&mut a, b);
        a
    });
    let calls = message.expect("chunks").tool_calls;
    assert_eq!(calls.len(), 2);
    let answer = reverse.invoke(ToolInput::Call(calls[0].clone())).await.unwrap();
    let answer = answer.into_message().expect("a ToolMessage");
    assert_eq!(
        (answer.text().as_ref(), answer.tool_call_id.as_str()),
        ("olleh", "call_1")
    );
    let trip = plan_trip.invoke(ToolInput::Call(calls[1].clone())).await.unwrap();
    assert_eq!(
        trip.into_message().unwrap().text(),
        "Train to s (0 stops, budget None, floor None)"
    );
}
