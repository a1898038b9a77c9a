//! The normalization of the LangChain reference traces (their README,
//! "Normalization"), the one implementation runwright uses everywhere: trace
//! files, cassettes, snapshots and the conformance runner.
//!
//! 1. Every UUID in every string is replaced, in order of first appearance:
//!    `run-0, run-1, ...` when first seen as an event's `parent_ids` entry or
//!    `run_id`, right after `lc_run--`, or as an exact-UUID `id` inside
//!    `stream_log` patches; `uuid-0, uuid-1, ...` otherwise. Within an event,
//!    `parent_ids` (root first) come first, then `run_id`, then the whole
//!    event depth-first in key order.
//! 2. Every object under a key named `metadata`, and the metadata element
//!    of LangGraph `messages` tuples (`[message, metadata]`), has its keys
//!    sorted.
//! 3. The values of `start_time`, `end_time` and `timestamp` (and the values
//!    of `stream_log` ops on paths ending in those) become `"<ts>"`; `null`
//!    stays `null`.
//!
//! ```
//! use serde_json::json;
//! use runwright_recorder::normalize::normalize_case;
//!
//! let mut event = json!({
//!     "event": "on_chain_start",
//!     "run_id": "6f1c0b52-3a1e-4c8e-9b1a-2f0d3c4b5a69",
//!     "metadata": {"b": 1, "a": 2},
//!     "parent_ids": [],
//! });
//! normalize_case([("event", &mut event)]);
//! assert_eq!(event["run_id"], "run-0");
//! assert_eq!(event["metadata"].as_object().unwrap().keys().next().unwrap(), "a");
//! ```

use std::collections::HashMap;

use serde_json::{Map, Value};

const UUID_LEN: usize = 36;

fn is_uuid_at(b: &[u8], i: usize) -> bool {
    if i + UUID_LEN > b.len() {
        return false;
    }
    (0..UUID_LEN).all(|k| {
        let c = b[i + k];
        match k {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        }
    })
}

fn is_uuid(s: &str) -> bool {
    s.len() == UUID_LEN && is_uuid_at(s.as_bytes(), 0)
}

/// Numbers the UUIDs of one case (one trace, one request): keep one
/// `Labels` for all the records that share a numbering.
#[derive(Debug, Default)]
pub struct Labels {
    seen: HashMap<String, String>,
    runs: usize,
    others: usize,
}

impl Labels {
    fn label(&mut self, uuid: &str, as_run: bool) -> String {
        if let Some(l) = self.seen.get(uuid) {
            return l.clone();
        }
        let l = if as_run {
            self.runs += 1;
            format!("run-{}", self.runs - 1)
        } else {
            self.others += 1;
            format!("uuid-{}", self.others - 1)
        };
        self.seen.insert(uuid.to_owned(), l.clone());
        l
    }

    fn replace_in(&mut self, s: &str, exact_id_is_run: bool) -> String {
        if exact_id_is_run && is_uuid(s) {
            return self.label(s, true);
        }
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        let mut last = 0;
        while i < b.len() {
            if is_uuid_at(b, i) && (i == 0 || !b[i - 1].is_ascii_hexdigit()) {
                out.push_str(&s[last..i]);
                let as_run = s[..i].ends_with("lc_run--");
                out.push_str(&self.label(&s[i..i + UUID_LEN], as_run));
                i += UUID_LEN;
                last = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&s[last..]);
        out
    }

    fn walk(&mut self, v: &mut Value, in_log: bool, key: Option<&str>) {
        match v {
            Value::String(s) => {
                let exact = in_log && key == Some("id");
                *s = self.replace_in(s, exact);
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x, in_log, None)),
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    // An op's value replacing a whole state carries the run id
                    // under "id" too.
                    self.walk(x, in_log, Some(k));
                }
            }
            _ => {}
        }
    }

    /// Labels the UUIDs of one record in the README's traversal order.
    /// `kind` is the record's kind: `event` (its `parent_ids` and `run_id`
    /// are run ids), `patch` or `log` (exact-UUID `id` values are run ids),
    /// anything else (only `lc_run--` UUIDs are run ids).
    pub fn apply(&mut self, kind: &str, value: &mut Value) {
        if kind == "event" {
            if let Some(Value::Array(ids)) = value.get_mut("parent_ids") {
                for id in ids.iter_mut() {
                    if let Value::String(s) = id {
                        *s = self.label(s, true);
                    }
                }
            }
            if let Some(Value::String(s)) = value.get_mut("run_id") {
                *s = self.label(s, true);
            }
        }
        let in_log = kind == "patch" || kind == "log";
        self.walk(value, in_log, None);
    }
}

fn sort_keys(m: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    *m = entries.into_iter().collect();
}

/// A LangGraph `messages` item: `[message, metadata]`.
fn is_message_tuple(a: &[Value]) -> bool {
    a.len() == 2
        && a[1].is_object()
        && a[0]
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("Message") || t.ends_with("MessageChunk"))
}

/// Sorts the keys of every object under a key named `metadata`, and of the
/// metadata element of LangGraph `messages` tuples (`[message, metadata]`),
/// at any depth.
pub fn sort_metadata(v: &mut Value) {
    match v {
        Value::Array(a) => {
            if is_message_tuple(a) {
                if let Value::Object(md) = &mut a[1] {
                    sort_keys(md);
                }
            }
            a.iter_mut().for_each(sort_metadata)
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "metadata" {
                    if let Value::Object(md) = x {
                        sort_keys(md);
                    }
                }
                sort_metadata(x);
            }
        }
        _ => {}
    }
}

/// Replaces the values of `start_time`, `end_time` and `timestamp` (and
/// `stream_log` ops on such paths) with `"<ts>"`, at any depth.
pub fn redact_times(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(redact_times),
        Value::Object(m) => {
            let is_time_op = m
                .get("path")
                .and_then(Value::as_str)
                .is_some_and(|p| p.ends_with("/start_time") || p.ends_with("/end_time"));
            for (k, x) in m.iter_mut() {
                let timed =
                    matches!(k.as_str(), "start_time" | "end_time" | "timestamp") || (is_time_op && k == "value");
                if timed && !x.is_null() {
                    *x = Value::String("<ts>".into());
                } else {
                    redact_times(x);
                }
            }
        }
        _ => {}
    }
}

/// Normalizes the records of one case in place (`(kind, value)` pairs in
/// file order).
pub fn normalize_case<'a>(records: impl IntoIterator<Item = (&'a str, &'a mut Value)>) {
    let mut labels = Labels::default();
    for (kind, value) in records {
        normalize_record(&mut labels, kind, value);
    }
}

/// Normalizes the `astream_events` JSON of one stream in place, in order.
pub fn normalize_events<'a>(events: impl IntoIterator<Item = &'a mut Value>) {
    normalize_case(events.into_iter().map(|e| ("event", e)));
}

/// Normalizes one record with a numbering shared with other records.
pub fn normalize_record(labels: &mut Labels, kind: &str, value: &mut Value) {
    labels.apply(kind, value);
    sort_metadata(value);
    redact_times(value);
}

/// Replaces the value of every `metadata.lc_versions`, at any depth, with
/// `"<versions>"`; the key stays where it was.
///
/// Not one of the README's steps (its step 4 leaves `lc_versions` alone and
/// lets a comparator ignore it): the value names the runwright or
/// langchain-core version, so traces and snapshots would otherwise change
/// with every release, and never match the reference traces. Trace files
/// apply it after [`normalize_events`].
///
/// ```
/// use serde_json::json;
/// use runwright_recorder::normalize::versions_free;
///
/// let mut event = json!({"metadata": {"lc_versions": {"runwright": "0.1.0"}, "ls_provider": "openai"}});
/// versions_free(&mut event);
/// assert_eq!(event, json!({"metadata": {"lc_versions": "<versions>", "ls_provider": "openai"}}));
/// ```
pub fn versions_free(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(md)) = m.get_mut("metadata") {
                if let Some(x) = md.get_mut("lc_versions") {
                    *x = Value::String("<versions>".into());
                }
            }
            m.values_mut().for_each(versions_free);
        }
        Value::Array(a) => a.iter_mut().for_each(versions_free),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn run_ids_are_numbered_parents_first() {
        let mut ev = json!({
            "event": "on_chain_start",
            "run_id": "11111111-1111-4111-8111-111111111111",
            "data": {"chunk": {"id": "lc_run--22222222-2222-4222-8222-222222222222"}},
            "metadata": {"b": 1, "a": 2},
            "parent_ids": ["33333333-3333-4333-8333-333333333333"]
        });
        normalize_case([("event", &mut ev)]);
        assert_eq!(ev["parent_ids"][0], "run-0");
        assert_eq!(ev["run_id"], "run-1");
        assert_eq!(ev["data"]["chunk"]["id"], "lc_run--run-2");
        assert_eq!(
            ev["metadata"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn the_metadata_of_a_messages_tuple_is_sorted() {
        let mut v = json!(["messages", [{"type": "AIMessageChunk", "content": "hi"}, {"b": 1, "a": 2}]]);
        normalize_case([("chunk", &mut v)]);
        assert_eq!(v[1][1].as_object().unwrap().keys().collect::<Vec<_>>(), ["a", "b"]);
        let mut pair = json!([{"no": "type"}, {"b": 1, "a": 2}]);
        normalize_case([("chunk", &mut pair)]);
        assert_eq!(pair[1].as_object().unwrap().keys().collect::<Vec<_>>(), ["b", "a"]);
    }

    #[test]
    fn other_uuids_and_times() {
        let mut v = json!({"ns": "node:44444444-4444-4444-8444-444444444444", "start_time": "2026", "end_time": null});
        normalize_case([("chunk", &mut v)]);
        assert_eq!(v["ns"], "node:uuid-0");
        assert_eq!(v["start_time"], "<ts>");
        assert!(v["end_time"].is_null());
    }
}
