//! The seed's complaint, settled: a tool that calls a chain needs no config
//! parameter for the chain's events to reach `stream_events` on the tool.
//! The chat model's tokens come out as `on_chat_model_stream`, nested under
//! the tool's run, also when the model runs in a task started with
//! `runwright::spawn` or from a sync tool.

use std::sync::Arc;

use runwright::prompts::ChatPromptTemplate;
use runwright::{
    tool, AIMessageChunk, EventPhase, GenericFakeChatModel, Lambda, Map, RunConfig, RunContext, RunnableExt,
    StrOutputParser, StreamEvent,
};
use serde_json::json;

use crate::common::*;

const LONG_TEXT: &str = "According to all known laws of aviation, there is no way a bee should be able to fly.";
const SUMMARY: &str = "Bees defy aviation laws and fly anyway.";

fn reverse(x: String) -> runwright::Result<String> {
    Ok(x.chars().rev().collect())
}

async fn summarize(long_text: String) -> runwright::Result<String> {
    let prompt = ChatPromptTemplate::from_template(
        "You are an expert writer. Summarize the following text in 10 words or less:\n\n{long_text}",
    )?;
    let chain = prompt | GenericFakeChatModel::new([SUMMARY]) | StrOutputParser | Lambda::from_fn(reverse);
    let mut vars = Map::new();
    vars.insert("long_text".into(), long_text.into());
    chain.invoke(vars).await
}

/// A tool that summarizes input text using advanced techniques.
#[tool]
async fn special_summarization_tool(long_text: String) -> runwright::Result<String> {
    summarize(long_text).await
}

/// Summarizes in a task of its own.
#[tool]
async fn spawning_summarization_tool(long_text: String) -> runwright::Result<String> {
    runwright::spawn(summarize(long_text)).await?
}

/// Summarizes from sync code, waiting for the chain.
#[tool]
fn sync_summarization_tool(long_text: String) -> runwright::Result<String> {
    runwright::block_on(summarize(long_text))?
}

/// Summarizes with an explicit config built from its context (extra tag).
#[tool]
async fn tagging_summarization_tool(long_text: String, ctx: Arc<RunContext>) -> runwright::Result<String> {
    assert_eq!(
        ctx.run_type(),
        runwright::RunType::Tool,
        "the context is the tool's run"
    );
    let prompt = ChatPromptTemplate::from_template("Summarize: {long_text}")?;
    let chain = prompt | GenericFakeChatModel::new([SUMMARY]) | StrOutputParser;
    let mut vars = Map::new();
    vars.insert("long_text".into(), long_text.into());
    chain.invoke_with(vars, RunConfig::new().tag("summary")).await
}

fn input() -> runwright::tools::ToolInput {
    json!({ "long_text": LONG_TEXT }).into()
}

/// The model tokens of a tool's event stream, each checked to nest under the
/// tool's run (root first in `parent_ids`), and the tool's end output.
fn tokens_under_tool(events: &[StreamEvent], tool: &str) -> Vec<String> {
    let start = one(events, tool, EventPhase::Start);
    assert_eq!(start.event(), "on_tool_start");
    let tool_run = start.run_id();
    let tokens: Vec<&StreamEvent> = events.iter().filter(|e| e.event() == "on_chat_model_stream").collect();
    for t in &tokens {
        assert_eq!(
            t.parent_ids().first(),
            Some(&tool_run),
            "{tool}: a token nests under the tool: {t:?}"
        );
        assert_eq!(t.parent_ids().len(), 2, "{tool}: tool -> sequence -> model");
    }
    let end = one(events, tool, EventPhase::End);
    assert_eq!(
        end.to_json()["data"]["output"],
        ".yawyna ylf dna swal noitaiva yfed seeB"
    );
    tokens
        .iter()
        .map(|t| {
            let chunk = t.data.chunk.as_ref().and_then(|c| c.downcast_ref::<AIMessageChunk>());
            chunk.expect("a model token is an AIMessageChunk").text().into_owned()
        })
        .collect()
}

const TOKENS: [&str; 13] = [
    "Bees", " ", "defy", " ", "aviation", " ", "laws", " ", "and", " ", "fly", " ", "anyway.",
];

#[tokio::test]
async fn tool_streams_its_inner_chat_model_tokens_without_config() {
    let events = events_of(special_summarization_tool.stream_events(input())).await;
    assert_eq!(tokens_under_tool(&events, "special_summarization_tool"), TOKENS);
    // The whole inner chain is there, nested: sequence, prompt, model,
    // parser, reverse.
    assert_eq!(names(&events)[0], "on_tool_start:special_summarization_tool");
    assert!(events[0].parent_ids().is_empty(), "the tool is the root");
    for name in [
        "RunnableSequence",
        "ChatPromptTemplate",
        "GenericFakeChatModel",
        "StrOutputParser",
        "reverse",
    ] {
        let start = one(&events, name, EventPhase::Start);
        assert_eq!(start.parent_ids()[0], events[0].run_id(), "{name} nests under the tool");
    }
}

#[tokio::test]
async fn tool_events_survive_spawn() {
    let events = events_of(spawning_summarization_tool.stream_events(input())).await;
    assert_eq!(tokens_under_tool(&events, "spawning_summarization_tool"), TOKENS);
}

#[tokio::test]
async fn sync_tool_events_nest_too() {
    let events = events_of(sync_summarization_tool.stream_events(input())).await;
    assert_eq!(tokens_under_tool(&events, "sync_summarization_tool"), TOKENS);
}

#[tokio::test]
async fn runs_invoked_with_an_explicit_config_still_nest_under_the_tool() {
    let events = events_of(tagging_summarization_tool.stream_events(input())).await;
    let tool_run = events[0].run_id();
    let tokens: Vec<&StreamEvent> = events.iter().filter(|e| e.event() == "on_chat_model_stream").collect();
    assert_eq!(tokens.len(), TOKENS.len());
    for t in tokens {
        assert_eq!(t.parent_ids().first(), Some(&tool_run));
        assert!(
            t.tags().contains("summary"),
            "the config's tag is applied: {:?}",
            t.tags()
        );
    }
}

#[tokio::test]
async fn tool_invoked_inside_a_chain_nests_its_inner_runs_under_itself() {
    let chain = runwright::Passthrough::<Map>::new() | special_summarization_tool;
    let mut vars = Map::new();
    vars.insert("long_text".into(), LONG_TEXT.into());
    let events = events_of(chain.stream_events(vars)).await;
    let tool_start = one(&events, "special_summarization_tool", EventPhase::Start);
    let model = one(&events, "GenericFakeChatModel", EventPhase::Start);
    assert_eq!(
        *model.parent_ids(),
        [events[0].run_id(), tool_start.run_id(), model.parent_ids()[2]],
        "root sequence -> tool -> inner sequence -> model"
    );
}
