//! d09_nesting_errors_filters: see `differential/scenarios.py`, function `d09`.
//!
//! A chain nested three deep through lambdas, under each kind of filter;
//! errors at each depth; a failing tool inside a lambda; a stream dropped by
//! its consumer; a custom event in a tagged child under `include_tags`.

use crate::scenarios::common::ValueError;
use std::sync::LazyLock;

use futures::StreamExt;
use serde_json::{json, Value};

use runwright::prompts::ChatPromptTemplate;
use runwright::tools::ToolInput;
use runwright::{
    dispatch_custom_event, tool, Error, ErrorKind, FakeListChatModel, Lambda, Map, RunnableExt, StrOutputParser,
};

use super::calls_of;
use crate::record::Records;
use crate::scenarios::common::{events, to_json};

fn value_error(message: String) -> Error {
    Error::from_source(ErrorKind::Step, ValueError(message))
}

fn vars(x: &str) -> Map {
    let mut m = Map::new();
    m.insert("x".into(), x.into());
    m
}

async fn middle(x: String) -> runwright::Result<String> {
    let inner = ChatPromptTemplate::from_template("echo {x}")? | FakeListChatModel::new(["abc"]) | StrOutputParser;
    Ok(inner.invoke(vars(&x)).await? + "|")
}

async fn outer_step(x: String) -> runwright::Result<String> {
    Lambda::from_async(middle).invoke(x).await
}

fn nested_chain() -> impl runwright::Runnable<Input = String, Output = String> {
    Lambda::from_fn(|x: String| Ok(x + "?")) | Lambda::from_async(outer_step)
}

/// `top -> mid -> leaf`, each invoked from its parent's body; the run at
/// `depth` fails after its child returned.
fn failing_at(depth: u8) -> Lambda<i64, i64> {
    let leaf = move |x: i64| async move {
        if depth == 3 {
            return Err(value_error(format!("leaf failed on {x}")));
        }
        Ok(x + 1)
    };
    let mid = move |x: i64| async move {
        let v = Lambda::from_async(leaf).named("leaf").invoke(x).await?;
        if depth == 2 {
            return Err(value_error(format!("mid failed on {v}")));
        }
        Ok(v * 2)
    };
    let top = move |x: i64| async move {
        let v = Lambda::from_async(mid).named("mid").invoke(x).await?;
        if depth == 1 {
            return Err(value_error(format!("top failed on {v}")));
        }
        Ok(v)
    };
    Lambda::from_async(top).named("top")
}

/// Always fails.
#[tool]
async fn boom(text: String) -> Result<String, ValueError> {
    Err(ValueError(format!("boom: {text}")))
}

async fn call_tool(x: String) -> runwright::Result<String> {
    let out = boom.invoke(ToolInput::from(json!({ "text": x }))).await?;
    Ok(out.into_value().unwrap_or_default())
}

static LONG_CHAIN: LazyLock<ChatPromptTemplate> =
    LazyLock::new(|| ChatPromptTemplate::from_template("go {x}").expect("a valid template"));

fn long_chain() -> impl runwright::Runnable<Input = Map, Output = String> {
    LONG_CHAIN.clone() | FakeListChatModel::new(["abcdefgh"]) | StrOutputParser
}

fn take_of(call: &Value) -> usize {
    call["kwargs"]["take"].as_u64().unwrap_or(u64::MAX) as usize
}

async fn emit(x: String) -> runwright::Result<String> {
    dispatch_custom_event("progress", json!({ "at": x }))?;
    Ok(x)
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d09_nesting_errors_filters");
    let mut out = Records::default();

    for case in [
        "three_deep.astream_events",
        "three_deep.include_types=chat_model",
        "three_deep.include_names=middle",
        "three_deep.include_tags=seq:step:3",
        "three_deep.exclude_types=chain",
        "three_deep.call_tags+include_tags",
    ] {
        let call = calls.start(&mut out, case);
        events(&mut out, case, &call, &nested_chain(), "hi".into()).await;
    }

    for depth in 1..=3 {
        let case = format!("error_at_depth_{depth}.astream_events");
        let call = calls.start(&mut out, &case);
        events(&mut out, &case, &call, &failing_at(depth), 1).await;
    }

    let case = "tool_error_in_lambda.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &Lambda::from_async(call_tool), "x".into()).await;

    // The consumer drops each stream after `take` items.
    let case = "early_drop.astream_events";
    let call = calls.start(&mut out, case);
    let chain = long_chain();
    let mut s = chain.stream_events(vars("1")).take(take_of(&call));
    while let Some(item) = s.next().await {
        match item {
            Ok(ev) => out.push(case, "event", ev.to_json()),
            Err(e) => out.error(case, &e),
        }
    }
    drop(s);

    let case = "early_drop.astream";
    let call = calls.start(&mut out, case);
    let mut s = chain.stream(vars("1")).take(take_of(&call));
    while let Some(item) = s.next().await {
        match item {
            Ok(c) => out.push(case, "chunk", to_json(&c)),
            Err(e) => out.error(case, &e),
        }
    }
    drop(s);

    let case = "custom_in_tagged_child.include_tags=emitter";
    let call = calls.start(&mut out, case);
    let custom_nested = Lambda::from_fn(|x: String| Ok(x))
        | Lambda::from_async(emit).with_config(runwright::RunConfig::new().tag("emitter"));
    events(&mut out, case, &call, &custom_nested, "p".into()).await;

    out
}
