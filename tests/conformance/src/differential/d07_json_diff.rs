//! d07_json_diff: see `differential/scenarios.py`, function `d07`.

use runwright::{FakeListChatModel, JsonOutputParser, ModelOutput, Runnable};

use super::calls_of;
use crate::record::Records;
use crate::scenarios::common::{chunks, events, output};

const JSON_TEXT: &str = r#"{"name": "France", "population": 67391582}"#;

fn chain() -> impl Runnable<Input = runwright::LanguageModelInput, Output = serde_json::Value> {
    FakeListChatModel::new([JSON_TEXT]) | JsonOutputParser.diff()
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d07_json_diff");
    let mut out = Records::default();

    let case = "chain.ainvoke";
    calls.start(&mut out, case);
    output(&mut out, case, &chain(), "go".into()).await;

    let case = "parser_alone.ainvoke";
    calls.start(&mut out, case);
    output(&mut out, case, &JsonOutputParser.diff(), ModelOutput::from(JSON_TEXT)).await;

    let case = "chain.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &chain(), "go".into()).await;

    let case = "chain.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &chain(), "go".into()).await;
    out
}
