//! Traces for people to read: the run tree `runwright trace show` prints
//! ([`show`]), the run tree snapshots keep ([`tree`]), what `runwright
//! trace diff` prints ([`diff`]), and the HTML page `runwright trace view`
//! writes ([`html`]). Plain functions of a [`Trace`], with no command-line
//! dependency: the `cli` feature only builds the command.

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::Value;
use similar::{capture_diff_slices, Algorithm, DiffOp};

use crate::Trace;

mod html;
pub use html::html;

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
    input: Option<Value>,
    output: Option<Value>,
    /// Custom events and the error, in full, for [`tree`].
    events: Vec<String>,
}

/// `on_chat_model_start` -> `chat_model`.
fn kind_of(event: &str) -> Option<&str> {
    let rest = event.strip_prefix("on_")?;
    ["_start", "_stream", "_end", "_error"]
        .iter()
        .find_map(|s| rest.strip_suffix(s))
}

/// The text of a chunk: a string, or a message's text content.
pub(crate) fn chunk_text(chunk: &Value) -> Option<String> {
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

/// A string as JSON, whole.
fn full_quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A message's role, from its type: `HumanMessage` -> `human`.
fn role(kind: &str) -> String {
    let base = kind.strip_suffix("Chunk").unwrap_or(kind);
    let base = base.strip_suffix("Message").unwrap_or(base);
    match base {
        "AI" => "ai".into(),
        "" => "message".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// A value on one line, whole, for the run tree: a string quoted, a message
/// as its quoted text (a model's answer reads as the text it streamed), a
/// list of messages (a prompt's output, a model's input) as
/// `[human "...", ai "..."]`, anything else as compact JSON.
fn display(v: &Value) -> String {
    fn message(m: &Value) -> String {
        let text = chunk_text(m).unwrap_or_default();
        let mut out = format!(
            "{} {}",
            role(m["type"].as_str().unwrap_or_default()),
            full_quoted(&text)
        );
        for c in m.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            let args = c.get("args").map(Value::to_string).unwrap_or_default();
            out.push_str(&format!(" +{}({args})", c["name"].as_str().unwrap_or("?")));
        }
        out
    }
    fn flat<'a>(list: &'a [Value], out: &mut Vec<&'a Value>) {
        for m in list {
            match m {
                Value::Array(inner) => flat(inner, out),
                m => out.push(m),
            }
        }
    }
    match v {
        Value::String(s) => full_quoted(s),
        Value::Object(m) if m.contains_key("type") && m.contains_key("content") => {
            full_quoted(&chunk_text(v).unwrap_or_default())
        }
        Value::Object(m) if m.get("messages").is_some_and(Value::is_array) && m.len() <= 2 => {
            let mut all = Vec::new();
            flat(
                m["messages"].as_array().map(Vec::as_slice).unwrap_or_default(),
                &mut all,
            );
            let shown: Vec<String> = all.into_iter().map(message).collect();
            format!("[{}]", shown.join(", "))
        }
        other => other.to_string(),
    }
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
            let name = ev["name"].as_str().unwrap_or_default();
            r.notes.push(format!("custom event {}", quoted(name)));
            r.events
                .push(format!("custom event {} {}", full_quoted(name), ev["data"]));
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
        if let Some(input) = ev["data"].get("input") {
            if r.input.is_none() {
                r.input = Some(input.clone());
            }
        }
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
            r.output = ev["data"].get("output").cloned();
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
            r.events.push(format!(
                "error: {}: {}",
                e["type"].as_str().unwrap_or("Error"),
                e["message"].as_str().unwrap_or_default()
            ));
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
/// use runwright_recorder::{view, Trace};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let chain = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("shout")
///     | Lambda::from_fn(|s: String| Ok(format!("{s}!"))).named("exclaim");
/// let trace = Trace::record("shout", chain.stream_events("hi".into())).await;
/// let shown = view::show(&trace);
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

/// The run tree of a trace as [`assert_events_snapshot!`] keeps it by
/// default: made to be read in a diff. Each run is a line, `name (kind)
/// [step tag]`, under its parent; beneath it, what the run brought that is
/// not already shown elsewhere in the tree:
///
/// * `input`: unless it is its parent's input or the output of the step
///   before it (what a sequence hands on);
/// * `output`: unless it is the run's own input or a child's output (what a
///   sequence or a parser hands back), with the number of chunks it came in
///   when it streamed; the streamed text on a line of its own when it is not
///   the output;
/// * a chat model's tool calls, custom events (name and data), errors.
///
/// Values are whole (never clipped), strings quoted, a model's message as
/// its text, lists of messages as `[human "...", ai "..."]`. There are no
/// run ids, metadata or times, and events are not in the order they came:
/// [`Trace::events_jsonl`] has all of that. So the model's answer is one
/// line, and one changed word in it is one changed line.
///
/// ```
/// use runwright::prompts::ChatPromptTemplate;
/// use runwright::{GenericFakeChatModel, RunnableExt, StrOutputParser};
/// use runwright_recorder::{view, Trace};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let chain = ChatPromptTemplate::from_template("tell me a joke about {topic}").unwrap()
///     | GenericFakeChatModel::new(["Why not?"])
///     | StrOutputParser;
/// let mut input = runwright::Map::new();
/// input.insert("topic".into(), "parrots".into());
/// let trace = Trace::record("joke", chain.stream_events(input)).await;
/// assert_eq!(
///     view::tree(&trace),
///     r#"RunnableSequence (chain)
/// │ input {"topic":"parrots"}
/// ├─ ChatPromptTemplate (prompt) [seq:step:1]
/// │    output [human "tell me a joke about parrots"]
/// ├─ GenericFakeChatModel (chat_model) [seq:step:2]
/// │    output "Why not?" (3 chunks)
/// └─ StrOutputParser (parser) [seq:step:3]
/// "#
/// );
/// # }
/// ```
///
/// [`assert_events_snapshot!`]: crate::assert_events_snapshot
pub fn tree(trace: &Trace) -> String {
    let (runs, roots) = runs_of(trace);
    let mut out = String::new();
    for &r in &roots {
        draw_tree(&mut out, &runs, r, None, "", "", "");
    }
    if let Some(e) = trace.error() {
        let _ = writeln!(
            out,
            "failed: {}: {}{}",
            e["type"].as_str().unwrap_or("Error"),
            e["message"].as_str().unwrap_or_default(),
            e["step"].as_str().map(|s| format!(" (in {s})")).unwrap_or_default()
        );
    }
    out
}

/// The detail lines of one run in [`tree`]; `before` is the sibling run
/// just before it.
fn tree_details(runs: &[RunView], i: usize, parent: Option<usize>, before: Option<usize>) -> Vec<String> {
    let r = &runs[i];
    let shown = |v: &Option<Value>| v.as_ref().map(display);
    let input = shown(&r.input);
    let output = shown(&r.output);
    let mut lines = Vec::new();
    let handed =
        parent.and_then(|p| shown(&runs[p].input)) == input || before.and_then(|b| shown(&runs[b].output)) == input;
    if let Some(input) = &input {
        if !handed {
            lines.push(format!("input {input}"));
        }
    }
    let text = (!r.text.is_empty()).then(|| full_quoted(&r.text));
    let passed_on = passes_on(runs, i);
    let tool_calls = if r.kind == "chat_model" {
        r.output.as_ref().map(tool_calls_whole).unwrap_or_default()
    } else {
        Vec::new()
    };
    match &output {
        // A model's empty answer beside its tool calls says nothing.
        Some(o) if !(passed_on || o == "\"\"" && !tool_calls.is_empty()) => {
            let chunks = r.text_chunks + r.other_chunks;
            if text.as_ref() == Some(o) {
                lines.push(format!(
                    "output {o} ({chunks} chunk{})",
                    if chunks == 1 { "" } else { "s" }
                ));
            } else {
                lines.push(format!("output {o}"));
                if let Some(t) = &text {
                    lines.push(format!(
                        "streamed {t} ({} chunk{})",
                        r.text_chunks,
                        if r.text_chunks == 1 { "" } else { "s" }
                    ));
                }
            }
        }
        _ => {}
    }
    lines.extend(tool_calls);
    lines.extend(r.events.iter().cloned());
    lines
}

/// Whether a run's output is what it was handed: its own input, or a
/// child's output (a sequence's last step's, a parser's input text).
fn passes_on(runs: &[RunView], i: usize) -> bool {
    let r = &runs[i];
    let shown = |v: &Option<Value>| v.as_ref().map(display);
    let output = shown(&r.output);
    output.is_some() && (output == shown(&r.input) || r.children.iter().any(|&c| shown(&runs[c].output) == output))
}

/// A chat model's tool calls, whole: `tool call get_weather({"city":"Paris"})`.
fn tool_calls_whole(output: &Value) -> Vec<String> {
    output
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let args = c.get("args").map(Value::to_string).unwrap_or_default();
            format!("tool call {}({args})", c["name"].as_str().unwrap_or("?"))
        })
        .collect()
}

fn draw_tree(
    out: &mut String,
    runs: &[RunView],
    i: usize,
    parent: Option<usize>,
    prefix: &str,
    branch: &str,
    pad: &str,
) {
    let r = &runs[i];
    let mut line = format!("{prefix}{branch}{} ({})", r.name, r.kind);
    if let Some(t) = &r.tag {
        line.push_str(&format!(" [{t}]"));
    }
    let _ = writeln!(out, "{line}");
    let inner = format!("{prefix}{pad}");
    let detail_pad = if r.children.is_empty() { "  " } else { "│ " };
    let before = parent.and_then(|p| {
        let siblings = &runs[p].children;
        let k = siblings.iter().position(|&c| c == i)?;
        k.checked_sub(1).map(|k| siblings[k])
    });
    for d in tree_details(runs, i, parent, before) {
        let _ = writeln!(out, "{inner}{detail_pad}{d}");
    }
    for (k, &c) in r.children.iter().enumerate() {
        let last = k + 1 == r.children.len();
        draw_tree(
            out,
            runs,
            c,
            Some(i),
            &inner,
            if last { "└─ " } else { "├─ " },
            if last { "   " } else { "│  " },
        );
    }
}

/// The two sides of a difference between long texts: each clipped to a
/// window around the first character where they differ.
fn around_difference(a: &str, b: &str) -> (String, String) {
    let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let at = ca.iter().zip(&cb).take_while(|(x, y)| x == y).count();
    let window = |c: &[char]| {
        let start = at.saturating_sub(30);
        let end = (at + 50).min(c.len());
        let mut s: String = c[start..end].iter().collect();
        if start > 0 {
            s.insert_str(0, "...");
        }
        if end < c.len() {
            s.push_str("...");
        }
        s
    };
    (window(&ca), window(&cb))
}

/// The runs whose output or streamed text differ between two traces, and
/// the runs of one side only. Runs are matched by id: numbered in order of
/// first appearance, the same program gives the same ids.
fn run_differences(a: (&str, &Trace), b: (&str, &Trace)) -> Vec<String> {
    let ((name_a, ta), (name_b, tb)) = (a, b);
    let (ra, _) = runs_of(ta);
    let (rb, _) = runs_of(tb);
    let label = |r: &RunView| format!("{} {} ({})", r.id, r.name, r.kind);
    let same = |x: &RunView, y: &RunView| x.id == y.id && x.name == y.name && x.kind == y.kind;
    let shown = |v: &Option<Value>| v.as_ref().map(display).unwrap_or_else(|| "(none)".into());
    let mut out = Vec::new();
    for (i, x) in ra.iter().enumerate() {
        let Some(j) = rb.iter().position(|y| same(x, y)) else {
            out.push(format!("only in {name_a}: {}", label(x)));
            continue;
        };
        let y = &rb[j];
        let mut field = |what: &str, p: String, q: String| {
            if p != q {
                let (p, q) = around_difference(&p, &q);
                out.push(format!("{}: {what} {p} / {q}", label(x)));
            }
        };
        // As in the tree: an output passed on from a child or from the
        // input is reported where it was made, not at every run it passed.
        let (oa, ob) = (shown(&x.output), shown(&y.output));
        if !(passes_on(&ra, i) && passes_on(&rb, j)) {
            field("output", oa.clone(), ob.clone());
        }
        let (sa, sb) = (full_quoted(&x.text), full_quoted(&y.text));
        let separate = |s: &str, o: &str, r: &RunView| !r.text.is_empty() && s != o;
        if separate(&sa, &oa, x) || separate(&sb, &ob, y) {
            field("streamed", sa, sb);
        }
    }
    for y in &rb {
        if !ra.iter().any(|x| same(x, y)) {
            out.push(format!("only in {name_b}: {}", label(y)));
        }
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

/// A JSON pointer as a path to read: `/data/chunk/content` ->
/// `data.chunk.content`, `/tags/0` -> `tags[0]`.
fn readable_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    if out.is_empty() {
        "(event)".into()
    } else {
        out
    }
}

/// Where two events differ, from the JSON patch that turns one into the
/// other (`data.chunk.content: "a" / "b"`): a changed value shows both
/// sides, an added or removed one `(absent)` on the other.
fn field_diffs(a: &Value, b: &Value) -> Vec<String> {
    use json_patch::PatchOperation;
    let patch = json_patch::diff(a, b);
    let mut out: Vec<String> = patch
        .iter()
        .map(|op| match op {
            PatchOperation::Replace(r) => {
                let at = r.path.to_string();
                format!(
                    "{}: {} / {}",
                    readable_path(&at),
                    short(a.pointer(&at)),
                    short(Some(&r.value))
                )
            }
            PatchOperation::Add(r) => {
                let at = r.path.to_string();
                format!("{}: {} / {}", readable_path(&at), short(None), short(Some(&r.value)))
            }
            PatchOperation::Remove(r) => {
                let at = r.path.to_string();
                format!("{}: {} / {}", readable_path(&at), short(a.pointer(&at)), short(None))
            }
            other => format!("{other:?}"),
        })
        .collect();
    if out.is_empty() {
        // Equal as JSON, keys in another order.
        if let (Value::Object(x), Value::Object(y)) = (a, b) {
            let ka: Vec<&String> = x.keys().collect();
            let kb: Vec<&String> = y.keys().collect();
            out.push(format!("(event): keys in another order: {ka:?} / {kb:?}"));
        }
    }
    out
}

#[derive(Default)]
struct Report {
    differences: usize,
    described: Vec<String>,
    /// The earliest differing event of the first trace (or of the second,
    /// for one only there): its index and description.
    first: Option<(usize, String)>,
}

impl Report {
    fn note_first(&mut self, i: usize, ev: &Value) {
        if self.first.as_ref().is_none_or(|(k, _)| i < *k) {
            self.first = Some((i, format!("event {i} (line {}), {}", i + 2, describe(ev))));
        }
    }

    fn differ(&mut self, i: usize, a: &Value, j: usize, b: &Value) {
        let (x, y) = (without_time(a), without_time(b));
        if x == y {
            return;
        }
        self.note_first(i, a);
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
        let fields = field_diffs(&x, &y);
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
            self.note_first(i, ev);
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

/// The differences between two traces, as `runwright trace diff` prints
/// them, or `None` when they hold the same events. First the runs whose
/// output or streamed text differ (each value clipped around where the two
/// part), and the runs one side has and the other not; then the first
/// differing events. Events are aligned by kind, name and run (so one missing event shows as one
/// difference, not as every event after it); for two aligned events that
/// differ, the differing fields (from the JSON patch between them) are
/// listed as `path: a / b`. The first line after the header names the
/// first event where the traces part, and its run. Event times (`at_ms`)
/// are ignored.
///
/// ```
/// use runwright::{Lambda, RunnableExt};
/// use runwright_recorder::{view, Trace};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("shout");
/// let a = Trace::record("a", shout.stream_events("hi".into())).await;
/// let b = Trace::record("a", shout.stream_events("ho".into())).await;
/// assert!(view::diff(("a.jsonl", &a), ("a.jsonl", &a)).is_none());
/// let d = view::diff(("a.jsonl", &a), ("b.jsonl", &b)).unwrap();
/// assert!(d.contains("runs:\n  run-0 shout (chain): output \"HI\" / \"HO\"\n"), "{d}");
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
    let Report {
        differences,
        described,
        first,
    } = report;
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
    if let Some((_, first)) = &first {
        let _ = writeln!(out, "first divergence: {first}");
    }
    let runs = run_differences(a, b);
    if !runs.is_empty() {
        out.push_str("runs:\n");
        for r in &runs {
            let _ = writeln!(out, "  {r}");
        }
        out.push_str("events:\n");
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_differences_read_as_paths_with_both_sides() {
        let a = json!({"data": {"chunk": {"content": "talk"}}, "tags": ["x", "y"], "gone": 1});
        let b = json!({"data": {"chunk": {"content": "sing"}}, "tags": ["x", "z"], "new/key": true});
        let mut d = field_diffs(&a, &b);
        d.sort();
        assert_eq!(
            d,
            [
                "data.chunk.content: \"talk\" / \"sing\"",
                "gone: 1 / (absent)",
                "new/key: (absent) / true",
                "tags[1]: \"y\" / \"z\"",
            ]
        );
        let (x, y) = (json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1}));
        assert_eq!(
            field_diffs(&x, &y),
            ["(event): keys in another order: [\"a\", \"b\"] / [\"b\", \"a\"]"]
        );
    }
}
