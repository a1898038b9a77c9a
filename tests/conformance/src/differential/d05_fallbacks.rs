//! d05_fallbacks: see `differential/scenarios.py`, function `d05`.

use runwright::prompts::ChatPromptTemplate;
use runwright::{FakeListChatModel, Map, Runnable, RunnableExt, StrOutputParser};

use super::calls_of;
use crate::record::Records;
use crate::scenarios::common::{chunks, events, output};

/// `prompt | primary.with_fallbacks([backup]) | StrOutputParser`, the primary
/// failing before its first chunk when `primary_fails`.
fn chain(primary_fails: bool) -> impl Runnable<Input = Map, Output = String> {
    let prompt = ChatPromptTemplate::from_template("tell me about {topic}").expect("valid template");
    let primary = FakeListChatModel::new(["primary"]);
    let primary = if primary_fails {
        primary.error_on_chunk(0)
    } else {
        primary
    };
    let backup = FakeListChatModel::new(["backup"]).boxed();
    prompt | primary.with_fallbacks([backup]) | StrOutputParser
}

fn topic() -> Map {
    let mut m = Map::new();
    m.insert("topic".into(), "x".into());
    m
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d05_fallbacks");
    let mut out = Records::default();

    let case = "primary_ok.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &chain(false), topic()).await;

    let case = "primary_fails.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &chain(true), topic()).await;

    let case = "primary_fails.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &chain(true), topic()).await;

    let case = "primary_fails.ainvoke";
    calls.start(&mut out, case);
    output(&mut out, case, &chain(true), topic()).await;
    out
}
