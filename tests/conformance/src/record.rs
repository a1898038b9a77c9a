//! Records in the reference format, and the call records the scenarios
//! replay.

use serde::Serialize;
use serde_json::{json, Value};

use crate::normalize::normalize_case;

/// One line of a scenario file: `{"case", "kind", "value"}`.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    /// The case name.
    pub case: String,
    /// `call`, `event`, `chunk`, `patch`, `log`, `output`, `error`, `info`, ...
    pub kind: String,
    /// The payload.
    pub value: Value,
}

/// The records of one scenario as they are produced.
#[derive(Default)]
pub struct Records {
    /// All records so far.
    pub all: Vec<Record>,
}

impl Records {
    /// Adds a record.
    pub fn push(&mut self, case: &str, kind: &str, value: Value) {
        self.all.push(Record {
            case: case.to_owned(),
            kind: kind.to_owned(),
            value,
        });
    }

    /// Adds an error record.
    pub fn error(&mut self, case: &str, e: &runwright::Error) {
        self.push(case, "error", json!({"type": e.type_name(), "message": e.message()}));
    }
}

pub(crate) fn normalize(records: &mut [Record]) {
    let mut start = 0;
    while start < records.len() {
        let case = records[start].case.clone();
        let end = records[start..]
            .iter()
            .position(|r| r.case != case)
            .map_or(records.len(), |k| start + k);
        normalize_case(records[start..end].iter_mut().map(|r| (r.kind.as_str(), &mut r.value)));
        start = end;
    }
}

const FILES: &[(u32, &str)] = &[
    (1, include_str!("../reference/01_chat_model.jsonl")),
    (2, include_str!("../reference/02_prompt_model_parser.jsonl")),
    (3, include_str!("../reference/03_json_parser_partial.jsonl")),
    (
        5,
        include_str!("../reference/05_json_parser_then_async_generator.jsonl"),
    ),
    (8, include_str!("../reference/08_tools_config_propagation.jsonl")),
    (
        9,
        include_str!("../reference/09_lambda_async_and_chain_decorator.jsonl"),
    ),
    (10, include_str!("../reference/10_custom_events.jsonl")),
    (12, include_str!("../reference/12_langgraph_stream_modes.jsonl")),
];

const HELDOUT: &str = include_str!("../reference/heldout-calls.jsonl");

/// The `call` records of scenario `n`, in order: `(case, value)`.
pub(crate) fn calls(n: u32) -> Vec<(String, Value)> {
    let prefix = format!("{n:02}_");
    let lines: Box<dyn Iterator<Item = &str>> = match FILES.iter().find(|(k, _)| *k == n) {
        Some((_, text)) => Box::new(text.lines()),
        None => Box::new(HELDOUT.lines()),
    };
    lines
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["kind"] == "call")
        .filter(|r| {
            r.get("file")
                .is_none_or(|f| f.as_str().is_some_and(|f| f.starts_with(&prefix)))
        })
        .map(|r| (r["case"].as_str().unwrap_or_default().to_owned(), r["value"].clone()))
        .collect()
}

/// Parses JSON Lines records; panics naming the line (for tests).
pub fn parse_records(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}: {l}", i + 1)))
        .collect()
}

/// Drops `lc_versions` (version-specific) wherever it stands: in events'
/// metadata and in the metadata of LangGraph's message tuples.
pub fn strip_versions(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("lc_versions");
            m.values_mut().for_each(strip_versions);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_versions),
        _ => {}
    }
}

/// The case names of `records`, in the order they first appear.
pub fn case_names(records: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in records {
        let c = r["case"].as_str().unwrap_or_default();
        if names.last().map(String::as_str) != Some(c) {
            names.push(c.to_owned());
        }
    }
    names
}
