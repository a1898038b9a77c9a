//! What every scenario does: replay a call record and record what comes out.

use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};

use crate::record::{calls, Records};
use runwright::{EventFilter, RunConfig, Runnable, RunnableExt};

/// The call records of one scenario, handed out by case name.
pub(crate) struct Calls {
    calls: Vec<(String, Value)>,
}

impl Calls {
    pub(crate) fn of(n: u32) -> Self {
        Calls { calls: calls(n) }
    }

    /// The call records of a JSON Lines text, in order.
    pub(crate) fn in_text(text: &str) -> Self {
        let calls = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|r| r["kind"] == "call")
            .map(|r| (r["case"].as_str().unwrap_or_default().to_owned(), r["value"].clone()))
            .collect();
        Calls { calls }
    }

    /// Every call record of a case, in order (a durable case makes several
    /// calls on one thread: the first starts it, the others go on).
    pub(crate) fn all(&self, case: &str) -> Vec<Value> {
        let all: Vec<Value> = self
            .calls
            .iter()
            .filter(|(c, _)| c == case)
            .map(|(_, v)| v.clone())
            .collect();
        assert!(!all.is_empty(), "no call record for case {case}");
        all
    }

    /// Starts a case: pushes its call record, returns the call value.
    pub(crate) fn start(&self, out: &mut Records, case: &str) -> Value {
        let call = self
            .calls
            .iter()
            .find(|(c, _)| c == case)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no call record for case {case}"));
        out.push(case, "call", call.clone());
        call
    }
}

fn list(v: &Value) -> Option<Vec<String>> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
}

/// The filter a call record's kwargs describe.
pub(crate) fn filter_of(call: &Value) -> EventFilter {
    let k = &call["kwargs"];
    let mut f = EventFilter::new();
    if let Some(l) = list(&k["include_names"]) {
        f = f.include_names(l);
    }
    if let Some(l) = list(&k["include_types"]) {
        f = f.include_types(l);
    }
    if let Some(l) = list(&k["include_tags"]) {
        f = f.include_tags(l);
    }
    if let Some(l) = list(&k["exclude_names"]) {
        f = f.exclude_names(l);
    }
    if let Some(l) = list(&k["exclude_types"]) {
        f = f.exclude_types(l);
    }
    if let Some(l) = list(&k["exclude_tags"]) {
        f = f.exclude_tags(l);
    }
    f
}

/// The call-time config a call record's kwargs describe.
pub(crate) fn config_of(call: &Value) -> RunConfig {
    let c = &call["kwargs"]["config"];
    let mut cfg = RunConfig::new();
    if let Some(n) = c["run_name"].as_str() {
        cfg = cfg.run_name(n);
    }
    if let Some(t) = list(&c["tags"]) {
        cfg = cfg.tags(t);
    }
    if let Some(m) = c["metadata"].as_object() {
        for (k, v) in m {
            cfg = cfg.metadata(k.clone(), v.clone());
        }
    }
    if let Some(m) = c["configurable"].as_object() {
        for (k, v) in m {
            cfg = cfg.configurable(k.clone(), v.clone());
        }
    }
    if let Some(n) = c["max_concurrency"].as_u64() {
        cfg = cfg.max_concurrency(n as usize);
    }
    cfg
}

/// Records the events of `stream_events` (then an error record if it fails).
pub(crate) async fn events<R: Runnable + ?Sized>(out: &mut Records, case: &str, call: &Value, r: &R, input: R::Input) {
    let mut s = r.stream_events_with(input, config_of(call), filter_of(call));
    while let Some(item) = s.next().await {
        match item {
            Ok(ev) => out.push(case, "event", ev.to_json()),
            Err(e) => out.error(case, &e),
        }
    }
}

/// Records the chunks of `stream` (then an error record if it fails).
pub(crate) async fn chunks<R: Runnable + ?Sized>(out: &mut Records, case: &str, r: &R, input: R::Input) {
    let mut s = r.stream(input);
    while let Some(item) = s.next().await {
        match item {
            Ok(c) => out.push(case, "chunk", to_json(&c)),
            Err(e) => out.error(case, &e),
        }
    }
}

/// Records the output of `invoke` (or its error).
pub(crate) async fn output<R: Runnable + ?Sized>(out: &mut Records, case: &str, r: &R, input: R::Input) {
    match r.invoke(input).await {
        Ok(o) => out.push(case, "output", to_json(&o)),
        Err(e) => out.error(case, &e),
    }
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| json!({"type": "SerializationError", "message": e.to_string()}))
}

/// What Python's `ValueError` is to the references: its type name shows in
/// error records and tool error events.
#[derive(Debug)]
pub(crate) struct ValueError(pub(crate) String);

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}
