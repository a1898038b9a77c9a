//! 08: tools that call runnables, with and without an explicit context
//! parameter; tool-call input; a tool in a sequence; failing tools, with and
//! without error handling.
//!
//! None of these tools needs its context to make the inner runs visible:
//! the run context is implicit. Where LangChain's tool takes a `config` and
//! passes it on, the runwright tool takes the context and passes its tags
//! and metadata on (`invoke_with`); the inner runs nest under the tool
//! either way, where LangChain makes them new roots (a deliberate
//! difference, checked in `tests/compare.rs`).

use super::common::ValueError;
use std::sync::{Arc, LazyLock};

use runwright::prompts::ChatPromptTemplate;
use runwright::tools::ToolInput;
use runwright::{
    tool, GenericFakeChatModel, Lambda, Map, Passthrough, RunConfig, RunContext, RunnableExt, StrOutputParser,
};

use super::common::{events, Calls};
use crate::record::Records;

fn reverse_word_fn(word: String) -> runwright::Result<String> {
    Ok(word.chars().rev().collect())
}

static REVERSE_WORD: LazyLock<Lambda<String, String>> =
    LazyLock::new(|| Lambda::from_fn(reverse_word_fn).named("reverse_word"));

/// The tags and metadata of a run, as a config to pass on.
fn config_of(ctx: &RunContext) -> RunConfig {
    let mut cfg = RunConfig::new().tags(ctx.tags().iter().map(|t| t.to_string()));
    for (k, v) in ctx.metadata() {
        cfg = cfg.metadata(k.clone(), v.clone());
    }
    cfg
}

/// Reverses a word (sync, no context parameter).
#[tool]
fn bad_tool(word: String) -> runwright::Result<String> {
    REVERSE_WORD.invoke_blocking(word)
}

/// Reverses a word, passing its run's tags and metadata on.
#[tool]
fn correct_tool(word: String, ctx: &RunContext) -> runwright::Result<String> {
    runwright::block_on(REVERSE_WORD.invoke_with(word, config_of(ctx)))?
}

/// Reverses a word with an explicit config made from its context.
#[tool]
fn config_tool(word: String, ctx: Arc<RunContext>) -> runwright::Result<String> {
    runwright::block_on(REVERSE_WORD.invoke_with(word, config_of(&ctx)))?
}

const SUMMARY: &str = "Bees defy aviation laws and fly anyway.";

fn reverse(x: String) -> runwright::Result<String> {
    Ok(x.chars().rev().collect())
}

async fn summarize(long_text: String, config: RunConfig) -> runwright::Result<String> {
    let prompt = ChatPromptTemplate::from_template(
        "You are an expert writer. Summarize the following text in 10 words or less:\n\n{long_text}",
    )?;
    let chain = prompt | GenericFakeChatModel::new([SUMMARY]) | StrOutputParser | Lambda::from_fn(reverse);
    let mut vars = Map::new();
    vars.insert("long_text".into(), long_text.into());
    chain.invoke_with(vars, config).await
}

/// A tool that summarizes input text using advanced techniques.
#[tool]
async fn special_summarization_tool(long_text: String) -> runwright::Result<String> {
    summarize(long_text, RunConfig::new()).await
}

/// A tool that summarizes input text using advanced techniques.
#[tool]
async fn special_summarization_tool_with_config(long_text: String, ctx: Arc<RunContext>) -> runwright::Result<String> {
    summarize(long_text, config_of(&ctx)).await
}

/// Fails on every word.
#[tool]
fn failing_tool(word: String) -> Result<String, ValueError> {
    Err(ValueError(format!("cannot handle {word}")))
}

/// Fails on every word, and says so instead of failing.
#[tool(handle_errors)]
fn handled_failing_tool(word: String) -> Result<String, ValueError> {
    Err(ValueError(format!("tool exception for {word}")))
}

pub(crate) async fn run() -> Records {
    let calls = Calls::of(8);
    let mut out = Records::default();
    let input = |call: &serde_json::Value| ToolInput::from(call["input"].clone());

    for (case, tool) in [("bad_tool.str_input", &bad_tool), ("bad_tool.dict_input", &bad_tool)] {
        let call = calls.start(&mut out, case);
        events(&mut out, case, &call, tool, input(&call)).await;
    }
    for case in ["correct_tool.str_input", "correct_tool.dict_input"] {
        let call = calls.start(&mut out, case);
        events(&mut out, case, &call, &correct_tool, input(&call)).await;
    }
    let case = "config_tool.dict_input";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &config_tool, input(&call)).await;

    let case = "summarization_tool.no_config";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &special_summarization_tool, input(&call)).await;

    let case = "summarization_tool.with_config";
    let call = calls.start(&mut out, case);
    events(
        &mut out,
        case,
        &call,
        &special_summarization_tool_with_config,
        input(&call),
    )
    .await;

    let case = "bad_tool.tool_call_input";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &bad_tool, input(&call)).await;

    let case = "nested.passthrough_then_tool.str_input";
    let call = calls.start(&mut out, case);
    let seq = Passthrough::<String>::new() | bad_tool;
    events(&mut out, case, &call, &seq, "hello".to_string()).await;

    for case in ["failing_tool.dict_input", "failing_tool.tool_call_input"] {
        let call = calls.start(&mut out, case);
        events(&mut out, case, &call, &failing_tool, input(&call)).await;
    }

    let case = "nested.failing_tool_in_chain";
    let call = calls.start(&mut out, case);
    let seq = Passthrough::<Map>::new() | failing_tool;
    let word = call["input"].as_object().cloned().unwrap_or_default();
    events(&mut out, case, &call, &seq, word).await;

    let case = "handled_failing_tool.dict_input";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &handled_failing_tool, input(&call)).await;

    out
}
