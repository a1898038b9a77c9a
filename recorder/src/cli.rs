//! What the `runwright` command prints: `trace show` ([`show`]) and
//! `trace diff` ([`diff`]).

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::Value;
use similar::{capture_diff_slices, Algorithm, DiffOp};

use crate::Trace;

/// How many differing events `trace diff` describes before it summarizes.
const MAX_DIFFERENCES: usize = 8;
/// How many differing fields it lists for one event.
const MAX_FIELDS: usize = 6;
/// How many characters of streamed text or of a value it prints.
const MAX_TEXT: usize = 100;

#[derive(Default)]
struct RunView {
    id: String,
    name: String,
    kind: String,
    tag: Option<String>,
    parent: Option<String>,
    start_ms: Option<f64>,
    end_ms: Option<f64>,
    text: String,
    text_chunks: usize,
    other_chunks: usize,
    notes: Vec<String>,
    children: Vec<usize>,
}

/// `on_chat_model_start` -> `chat_model`.
fn kind_of(event: &str) -> Option<&str> {
    let rest = event.strip_prefix("on_")?;
    ["_start", "_stream", "_end", "_error"]
        .iter()
        .find_map(|s| rest.strip_suffix(s))
}

/// The text of a chunk: a string, or a message's text content.
fn chunk_text(chunk: &Value) -> Option<String> {
    match chunk {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => match m.get("content")? {
            Value::String(s) => Some(s.clone()),
            Value::Array(parts) => Some(
                parts
                    .iter()
                    .filter_map(|p| p.as_str().or_else(|| p.get("text").and_then(Value::as_str)))
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_TEXT).collect();
    out.push_str("...");
    out
}

fn quoted(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap_or_default();
    clip(&q)
}

/// A value on one line: a message as its quoted text, a string quoted,
/// anything else as compact JSON.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => quoted(s),
        Value::Object(m) if m.contains_key("type") && m.contains_key("content") => chunk_text(v)
            .map(|t| quoted(&t))
            .unwrap_or_else(|| clip(&v.to_string())),
        _ => clip(&v.to_string()),
    }
}

/// The tool calls of a chat model's output message: `get_weather({"city":"Paris"})`.
fn tool_calls_of(output: &Value) -> Vec<String> {
    let Some(calls) = output.get("tool_calls").and_then(Value::as_array) else {
        return Vec::new();
    };
    calls
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap_or("?");
            let args = c.get("args").map(Value::to_string).unwrap_or_default();
            format!("tool call {}", clip(&format!("{name}({args})")))
        })
        .collect()
}

fn runs_of(trace: &Trace) -> (Vec<RunView>, Vec<usize>) {
    let mut runs: Vec<RunView> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for ev in trace.events() {
        let Some(id) = ev.get("run_id").and_then(Value::as_str) else {
            continue;
        };
        let i = *index.entry(id.to_owned()).or_insert_with(|| {
            runs.push(RunView {
                id: id.to_owned(),
                parent: ev["parent_ids"]
                    .as_array()
                    .and_then(|a| a.last())
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                ..Default::default()
            });
            runs.len() - 1
        });
        let r = &mut runs[i];
        let event = ev["event"].as_str().unwrap_or_default();
        let at = ev.get("at_ms").and_then(Value::as_f64);
        if event == "on_custom_event" {
            r.notes.push(format!(
                "custom event {}",
                quoted(ev["name"].as_str().unwrap_or_default())
            ));
            continue;
        }
        if r.kind.is_empty() {
            r.kind = kind_of(event).unwrap_or("?").to_owned();
            r.name = ev["name"].as_str().unwrap_or_default().to_owned();
            r.tag = ev["tags"]
                .as_array()
                .and_then(|t| t.first())
                .and_then(Value::as_str)
                .filter(|t| {
                    ["seq:step:", "map:key:", "retry:attempt:", "graph:step:"]
                        .iter()
                        .any(|p| t.starts_with(p))
                })
                .map(str::to_owned);
        }
        r.start_ms = r.start_ms.or(at);
        if event.ends_with("_start") {
            if r.kind == "tool" {
                if let Some(input) = ev["data"].get("input") {
                    r.notes.push(format!("input {}", value_text(input)));
                }
            }
        } else if event.ends_with("_stream") {
            match ev["data"].get("chunk").and_then(chunk_text) {
                Some(t) => {
                    r.text.push_str(&t);
                    r.text_chunks += 1;
                }
                None => r.other_chunks += 1,
            }
        } else if event.ends_with("_end") {
            r.end_ms = at;
            if let Some(output) = ev["data"].get("output") {
                match r.kind.as_str() {
                    "chat_model" => r.notes.extend(tool_calls_of(output)),
                    "tool" => r.notes.push(format!("output {}", value_text(output))),
                    _ => {}
                }
            }
        } else if event.ends_with("_error") {
            r.end_ms = at;
            let e = &ev["data"]["error"];
            r.notes.push(format!(
                "error: {}: {}",
                e["type"].as_str().unwrap_or("Error"),
                clip(e["message"].as_str().unwrap_or_default())
            ));
        }
    }
    let mut roots = Vec::new();
    for i in 0..runs.len() {
        match runs[i].parent.as_ref().and_then(|p| index.get(p)) {
            Some(&p) => runs[p].children.push(i),
            None => roots.push(i),
        }
    }
    (runs, roots)
}

fn draw(out: &mut String, runs: &[RunView], i: usize, prefix: &str, branch: &str, pad: &str) {
    let r = &runs[i];
    let mut line = format!("{prefix}{branch}{} ({}) {}", r.name, r.kind, r.id);
    if let Some(t) = &r.tag {
        line.push_str(&format!(" [{t}]"));
    }
    if let (Some(s), Some(e)) = (r.start_ms, r.end_ms) {
        line.push_str(&format!(" {:.1} ms", e - s));
    }
    let _ = writeln!(out, "{line}");
    let inner = format!("{prefix}{pad}");
    let detail_pad = if r.children.is_empty() { "  " } else { "│ " };
    // Chunks that carried no text (a model streaming a tool call's
    // arguments) are counted, not shown as an empty string.
    let (text_chunks, other_chunks) = if r.text.is_empty() {
        (0, r.text_chunks + r.other_chunks)
    } else {
        (r.text_chunks, r.other_chunks)
    };
    if text_chunks > 0 {
        let _ = writeln!(
            out,
            "{inner}{detail_pad}streamed {} ({} chunk{})",
            quoted(&r.text),
            text_chunks,
            if text_chunks == 1 { "" } else { "s" }
        );
    }
    if other_chunks > 0 {
        let _ = writeln!(
            out,
            "{inner}{detail_pad}streamed {} chunk{}",
            other_chunks,
            if other_chunks == 1 { "" } else { "s" }
        );
    }
    for n in &r.notes {
        let _ = writeln!(out, "{inner}{detail_pad}{n}");
    }
    for (k, &c) in r.children.iter().enumerate() {
        let last = k + 1 == r.children.len();
        draw(
            out,
            runs,
            c,
            &inner,
            if last { "└─ " } else { "├─ " },
            if last { "   " } else { "│  " },
        );
    }
}

/// The run tree of a trace, as `runwright trace show` prints it: each run's
/// name, kind, id and step tag, its duration when the trace is timed, the
/// text it streamed, the tool calls a chat model answered with, a tool's
/// input and output, its custom events and errors.
///
/// ```
/// use runwright::{Lambda, RunnableExt};
/// use runwright_recorder::{cli, Trace};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let chain = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("shout")
///     | Lambda::from_fn(|s: String| Ok(format!("{s}!"))).named("exclaim");
/// let trace = Trace::record("shout", chain.stream_events("hi".into())).await;
/// let shown = cli::show(&trace);
/// assert!(shown.contains("├─ shout (chain) run-1 [seq:step:1]"), "{shown}");
/// assert!(shown.contains("streamed \"HI!\" (1 chunk)"), "{shown}");
/// # }
/// ```
pub fn show(trace: &Trace) -> String {
    let h = trace.header();
    let (runs, roots) = runs_of(trace);
    let mut out = format!(
        "trace {}: {} event{}, {} run{}{}\n",
        quoted(&h.name),
        h.events,
        if h.events == 1 { "" } else { "s" },
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        if h.timed { ", timed" } else { "" }
    );
    for &r in &roots {
        draw(&mut out, &runs, r, "", "", "");
    }
    if let Some(e) = trace.error() {
        let _ = writeln!(
            out,
            "failed: {}: {}{}",
            e["type"].as_str().unwrap_or("Error"),
            clip(e["message"].as_str().unwrap_or_default()),
            e["step"].as_str().map(|s| format!(" (in {s})")).unwrap_or_default()
        );
    }
    out
}

/// An event's one-line description: `on_chain_start RunnableSequence run-0`.
fn describe(ev: &Value) -> String {
    if let Some(e) = ev.get("error") {
        return format!(
            "error {}: {}",
            e["type"].as_str().unwrap_or("Error"),
            clip(e["message"].as_str().unwrap_or_default())
        );
    }
    format!(
        "{} {} {}",
        ev["event"].as_str().unwrap_or("?"),
        ev["name"].as_str().unwrap_or("?"),
        ev["run_id"].as_str().unwrap_or("?")
    )
}

/// What aligns events between two traces: their kind, name and run.
fn signature(ev: &Value) -> String {
    describe(ev)
}

fn without_time(ev: &Value) -> Value {
    let mut v = ev.clone();
    if let Value::Object(m) = &mut v {
        m.remove("at_ms");
    }
    v
}

fn short(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(v) => clip(&v.to_string()),
    }
}

/// The paths where two JSON values differ (`data.chunk.content`, `tags[0]`).
fn field_diffs(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    if out.len() > MAX_FIELDS || a == b {
        return;
    }
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                field_diffs_opt(Some(va), y.get(k), &join(k), out);
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    field_diffs_opt(None, Some(vb), &join(k), out);
                }
            }
            if out.is_empty() {
                // Same keys and values, another order.
                let ka: Vec<&String> = x.keys().collect();
                let kb: Vec<&String> = y.keys().collect();
                out.push(format!(
                    "{}: keys in another order: {ka:?} / {kb:?}",
                    if path.is_empty() { "(event)" } else { path }
                ));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                field_diffs(va, vb, &format!("{path}[{i}]"), out);
            }
        }
        _ => out.push(format!("{path}: {} / {}", short(Some(a)), short(Some(b)))),
    }
}

fn field_diffs_opt(a: Option<&Value>, b: Option<&Value>, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Some(a), Some(b)) => field_diffs(a, b, path, out),
        (a, b) => out.push(format!("{path}: {} / {}", short(a), short(b))),
    }
}

#[derive(Default)]
struct Report {
    differences: usize,
    described: Vec<String>,
}

impl Report {
    fn differ(&mut self, i: usize, a: &Value, j: usize, b: &Value) {
        let (x, y) = (without_time(a), without_time(b));
        if x == y {
            return;
        }
        self.differences += 1;
        if self.differences > MAX_DIFFERENCES {
            return;
        }
        let mut d = if i == j {
            format!("event {i} (line {}):", i + 2)
        } else {
            format!("event {i} (line {}) / event {j} (line {}):", i + 2, j + 2)
        };
        if describe(&x) == describe(&y) {
            d.push_str(&format!(" {}\n", describe(&x)));
        } else {
            d.push_str(&format!("\n  {}\n  {}\n", describe(&x), describe(&y)));
        }
        let mut fields = Vec::new();
        field_diffs(&x, &y, "", &mut fields);
        for f in fields.iter().take(MAX_FIELDS) {
            d.push_str(&format!("  {f}\n"));
        }
        if fields.len() > MAX_FIELDS {
            d.push_str("  ...\n");
        }
        self.described.push(d);
    }

    /// Events of one side with no counterpart on the other.
    fn only_all(&mut self, side: &str, events: &[Value], range: std::ops::Range<usize>) {
        for (i, ev) in range.clone().zip(&events[range]) {
            self.differences += 1;
            if self.differences <= MAX_DIFFERENCES {
                self.described.push(format!(
                    "only in {side}: event {i} (line {}): {}\n",
                    i + 2,
                    describe(ev)
                ));
            }
        }
    }
}

/// The first differences between two traces, as `runwright trace diff`
/// prints them, or `None` when they hold the same events. Events are
/// aligned by kind, name and run (so one missing event shows as one
/// difference, not as every event after it); for two aligned events that
/// differ, the differing fields are listed as `path: a / b`. Event times
/// (`at_ms`) are ignored.
///
/// ```
/// use runwright::{Lambda, RunnableExt};
/// use runwright_recorder::{cli, Trace};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("shout");
/// let a = Trace::record("a", shout.stream_events("hi".into())).await;
/// let b = Trace::record("a", shout.stream_events("ho".into())).await;
/// assert!(cli::diff(("a.jsonl", &a), ("a.jsonl", &a)).is_none());
/// let d = cli::diff(("a.jsonl", &a), ("b.jsonl", &b)).unwrap();
/// assert!(d.contains("data.input: \"hi\" / \"ho\""), "{d}");
/// # }
/// ```
pub fn diff(a: (&str, &Trace), b: (&str, &Trace)) -> Option<String> {
    let (name_a, ta) = a;
    let (name_b, tb) = b;
    let mut lines: Vec<String> = Vec::new();
    let (ha, hb) = (ta.header(), tb.header());
    if ha.name != hb.name {
        lines.push(format!("header name: {} / {}", quoted(&ha.name), quoted(&hb.name)));
    }
    if ha.root != hb.root {
        lines.push(format!(
            "header root: {} / {}",
            quoted(ha.root.as_deref().unwrap_or("")),
            quoted(hb.root.as_deref().unwrap_or(""))
        ));
    }
    let (ea, eb) = (ta.events(), tb.events());
    let sa: Vec<String> = ea.iter().map(signature).collect();
    let sb: Vec<String> = eb.iter().map(signature).collect();
    let mut report = Report::default();
    for op in capture_diff_slices(Algorithm::Myers, &sa, &sb) {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for k in 0..len {
                    report.differ(old_index + k, &ea[old_index + k], new_index + k, &eb[new_index + k]);
                }
            }
            DiffOp::Delete { old_index, old_len, .. } => {
                report.only_all(name_a, ea, old_index..old_index + old_len);
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                report.only_all(name_b, eb, new_index..new_index + new_len);
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let paired = old_len.min(new_len);
                for k in 0..paired {
                    report.differ(old_index + k, &ea[old_index + k], new_index + k, &eb[new_index + k]);
                }
                report.only_all(name_a, ea, old_index + paired..old_index + old_len);
                report.only_all(name_b, eb, new_index + paired..new_index + new_len);
            }
        }
    }
    let Report { differences, described } = report;
    if lines.is_empty() && differences == 0 {
        return None;
    }
    let mut out = format!(
        "--- {name_a} ({} events)\n+++ {name_b} ({} events)\n",
        ea.len(),
        eb.len()
    );
    for l in &lines {
        out.push_str(l);
        out.push('\n');
    }
    for d in &described {
        out.push_str(d);
    }
    if differences > MAX_DIFFERENCES {
        out.push_str(&format!("... and {} more\n", differences - MAX_DIFFERENCES));
    }
    out.push_str(&format!(
        "{differences} event{} differ{}\n",
        if differences == 1 { "" } else { "s" },
        if differences == 1 { "s" } else { "" }
    ));
    Some(out)
}
