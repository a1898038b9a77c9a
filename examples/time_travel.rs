//! cargo run --example time_travel
//!
//! A thread's history, a replay from an earlier checkpoint and a fork, with
//! every model and tool call coming from a recording.
//!
//! An agent asks for the weather in Paris on a thread. Then it goes back in
//! time: it runs again from the checkpoint before its tool ran (a replay),
//! and from the same checkpoint with the model's tool call changed to Rome
//! (a fork). LangGraph runs the model and the tools again when it goes back
//! in time; here the run is under a `Recording`, so the replayed and forked
//! runs' model and tool calls are answered from
//! `examples/cassettes/time_travel.jsonl`: deterministic and offline. With
//! no recording file (or `RUNWRIGHT_RECORD=all`) the calls run and are
//! recorded; the model is then a scripted fake.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use runwright::graph::checkpoint::InMemorySaver;
use runwright::graph::{create_react_agent, AgentState, Command};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, FakeToolCallingChatModel, RunnableExt};
use runwright_recorder::{RecordMode, Recording};

const RECORDING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cassettes/time_travel.jsonl");

/// How many times the weather tool's body really ran.
static LOOKUPS: AtomicUsize = AtomicUsize::new(0);

/// The weather in a city.
///
/// * `city` - the city
#[tool]
fn weather(city: String) -> String {
    LOOKUPS.fetch_add(1, Ordering::Relaxed);
    let sky = if city == "Rome" { "rainy" } else { "sunny" };
    format!("It is {sky} in {city}.")
}

fn last_text(state: &AgentState) -> String {
    state.messages.last().map(|m| m.text().into_owned()).unwrap_or_default()
}

#[tokio::main]
async fn main() -> runwright::Result<()> {
    // `once`: replay when the file exists, record it when it does not.
    let recording = Recording::open(RECORDING)?.with_default_mode(RecordMode::Once);
    println!("-- {:?} {RECORDING}", recording.mode());
    // Used only while recording: what the model answers, call by call.
    let answer = |text: &str| AIMessage::new(text);
    let ask_paris = answer("").with_tool_calls(vec![
        ToolCall::new("weather", json!({"city": "Paris"})).with_id("call_1")
    ]);
    let model = FakeToolCallingChatModel::new([
        ask_paris,
        answer("It is sunny in Paris."),
        answer("It is sunny in Paris."),
        answer("Rome is rainy today."),
    ]);
    let agent =
        create_react_agent(model.clone(), vec![Arc::new(weather)])?.with_checkpointer(Arc::new(InMemorySaver::new()));
    let thread = recording.config().configurable("thread_id", "trip");

    let done = agent
        .invoke_with(AgentState::user("What is the weather in Paris?"), thread.clone())
        .await?;
    println!("-- the run: {}", last_text(&done));

    println!("-- its history, newest first");
    let history = agent.get_state_history(thread.clone()).await?;
    for s in &history {
        let m = s.metadata.as_ref().expect("saved");
        println!("step {:>2} {:?} next {:?}", m.step, m.source, s.next);
    }
    let before_tools = history
        .iter()
        .find(|s| s.next == ["tools"])
        .expect("a checkpoint before the tools ran");
    let at = |config: runwright::RunConfig| recording.config().merged(&config);

    // Replay: the same steps again from there.
    let replayed = agent
        .resume(Command::default(), at(before_tools.config.run_config()))
        .await?;
    println!(
        "-- replayed from step {}: {}",
        before_tools.metadata.as_ref().unwrap().step,
        last_text(&replayed)
    );

    // Fork: the model's tool call asks for Rome instead, then go on.
    let mut call: Value = before_tools.values["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    call["tool_calls"][0]["args"] = json!({"city": "Rome"});
    let fork = agent
        .update_state(
            at(before_tools.config.run_config()),
            json!({"messages": [call]}),
            Some("agent"),
        )
        .await?;
    let forked = agent.resume(Command::default(), at(fork)).await?;
    println!("-- forked to Rome: {}", last_text(&forked));

    println!(
        "-- calls that really ran: {} to the model, {} to the tool (the rest came from the recording)",
        model.tools_seen().len(),
        LOOKUPS.load(Ordering::Relaxed)
    );
    Ok(())
}
