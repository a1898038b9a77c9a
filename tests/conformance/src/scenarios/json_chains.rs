//! 03, 04, 05 and 07: a chat model streaming JSON into `JsonOutputParser`,
//! then a plain function or a generator, and event filters on it.

use std::collections::HashSet;

use futures::StreamExt;
use serde_json::Value;

use runwright::parsers::json_stream::PartialValue;
use runwright::{ChunkStream, Generator, GenericFakeChatModel, JsonOutputParser, Lambda, RunConfig, RunnableExt};

use super::common::{chunks, events, Calls};
use crate::record::Records;

pub(crate) const JSON_TEXT: &str = r#"{"countries": [{"name": "France", "population": 67391582}, {"name": "Spain", "population": 47351567}, {"name": "Japan", "population": 125584838}]}"#;
pub(crate) const JSON_PROMPT: &str = "output a list of the countries france, spain and japan and their populations in JSON format. Use a dict with an outer key of \"countries\" which contains a list of countries. Each country should have the key `name` and `population`";

fn model() -> GenericFakeChatModel {
    GenericFakeChatModel::new([JSON_TEXT])
}

/// The names of the countries of a parsed document (`""` when it has none),
/// as the guide's plain function returns them.
fn _extract_country_names(inputs: PartialValue) -> runwright::Result<Value> {
    let Some(countries) = inputs.get("countries").filter(|c| c.is_array()) else {
        return Ok(Value::String(String::new()));
    };
    Ok(Value::Array(
        countries
            .elements()
            .filter(|c| c.is_object())
            .map(|c| c.get("name").map_or(Value::Null, PartialValue::to_json))
            .collect(),
    ))
}

/// Yields each country name once, as soon as it appears in the stream of
/// partial documents.
fn _extract_country_names_streaming(input: ChunkStream<'_, PartialValue>) -> ChunkStream<'_, String> {
    let mut seen = HashSet::new();
    Box::pin(
        input
            .filter_map(move |doc| {
                let names: Vec<String> = match &doc {
                    Ok(doc) => doc
                        .get("countries")
                        .filter(|c| c.is_array())
                        .map(|countries| {
                            countries
                                .elements()
                                .filter_map(|c| c.get("name").and_then(PartialValue::as_str).map(str::to_owned))
                                .filter(|n| !n.is_empty())
                                .collect()
                        })
                        .unwrap_or_default(),
                    Err(_) => Vec::new(),
                };
                let fresh: Vec<String> = names.into_iter().filter(|n| seen.insert(n.clone())).collect();
                std::future::ready(match doc {
                    Err(e) => Some(futures::stream::iter(vec![Err(e)])),
                    Ok(_) if fresh.is_empty() => None,
                    Ok(_) => Some(futures::stream::iter(fresh.into_iter().map(Ok).collect::<Vec<_>>())),
                })
            })
            .flatten(),
    )
}

pub(crate) async fn run_03() -> Records {
    let calls = Calls::of(3);
    let mut out = Records::default();
    let case = "astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &(model() | JsonOutputParser), JSON_PROMPT.into()).await;
    let case = "astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &(model() | JsonOutputParser), JSON_PROMPT.into()).await;
    let case = "diff.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &(model() | JsonOutputParser.diff()), JSON_PROMPT.into()).await;
    out
}

/// Scenarios 04 and 05: `astream` then `astream_events` of one chain.
async fn stream_then_events<R>(n: u32, chain: impl Fn() -> R) -> Records
where
    R: runwright::Runnable<Input = runwright::LanguageModelInput>,
{
    let calls = Calls::of(n);
    let mut out = Records::default();
    let case = "astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &chain(), JSON_PROMPT.into()).await;
    let case = "astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &chain(), JSON_PROMPT.into()).await;
    out
}

pub(crate) async fn run_04() -> Records {
    stream_then_events(4, || {
        model() | JsonOutputParser | Lambda::from_fn(_extract_country_names)
    })
    .await
}

pub(crate) async fn run_05() -> Records {
    stream_then_events(5, || {
        model() | JsonOutputParser | Generator::new(_extract_country_names_streaming)
    })
    .await
}

pub(crate) async fn run_07() -> Records {
    let calls = Calls::of(7);
    let mut out = Records::default();
    let named = || {
        model().with_config(RunConfig::new().run_name("model"))
            | JsonOutputParser.with_config(RunConfig::new().run_name("my_parser"))
    };
    let tagged = || (model() | JsonOutputParser).with_config(RunConfig::new().tag("my_chain"));
    for case in [
        "named.no_filter",
        "named.include_names=my_parser",
        "named.include_types=chat_model",
        "tagged.include_tags=my_chain",
        "named.exclude_names=my_parser",
        "named.exclude_types=chat_model",
        "tagged.exclude_tags=my_chain",
        "tagged.exclude_tags=seq:step:1",
        "named.include_types=chat_model,parser+exclude_names=my_parser",
        "named.include_names=model+include_tags=seq:step:2",
    ] {
        let call = calls.start(&mut out, case);
        if case.starts_with("named") {
            events(&mut out, case, &call, &named(), JSON_PROMPT.into()).await;
        } else {
            events(&mut out, case, &call, &tagged(), JSON_PROMPT.into()).await;
        }
    }
    out
}
