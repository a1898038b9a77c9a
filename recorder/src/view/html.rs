//! The run tree as one self-contained HTML page: what `runwright trace view`
//! writes.
//!
//! The page is rendered here, not in the browser: every run is already in
//! the markup (a `<details>` element, so it folds without script), and every
//! string of the trace goes through [`escape`] on its way in. The inline
//! script only searches, folds and unfolds. Nothing is loaded from anywhere:
//! the style and the script are this crate's own (`viewer.css`,
//! `viewer.js`), inlined, and the page's content security policy forbids
//! any fetch, so it opens the same from `file://`, offline.

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::Value;

use super::{display, runs_of, RunView};
use crate::Trace;

const STYLE: &str = include_str!("viewer.css");
const SCRIPT: &str = include_str!("viewer.js");

/// Text made safe for HTML, in element content and in quoted attributes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A run kind as a class name: only `[a-z0-9_]` (a trace file is input too).
fn kind_class(kind: &str) -> String {
    kind.chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn millis(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn plural(n: usize, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// What the events say about a run beyond [`RunView`]: its errors and custom
/// events, as they were recorded.
#[derive(Default)]
struct Extra {
    /// Whether it has an end (or error) event.
    ended: bool,
    errors: Vec<(String, String)>,
    custom: Vec<(String, Value)>,
}

fn extras(trace: &Trace) -> HashMap<String, Extra> {
    let mut out: HashMap<String, Extra> = HashMap::new();
    for ev in trace.events() {
        let (Some(id), Some(event)) = (
            ev.get("run_id").and_then(Value::as_str),
            ev.get("event").and_then(Value::as_str),
        ) else {
            continue;
        };
        if event.ends_with("_end") || event.ends_with("_error") {
            out.entry(id.to_owned()).or_default().ended = true;
        }
        if event == "on_custom_event" {
            let name = ev["name"].as_str().unwrap_or_default().to_owned();
            out.entry(id.to_owned())
                .or_default()
                .custom
                .push((name, ev["data"].clone()));
        } else if event.ends_with("_error") {
            let e = &ev["data"]["error"];
            let kind = e["type"].as_str().unwrap_or("Error").to_owned();
            let message = match &e["message"] {
                Value::String(s) => s.clone(),
                Value::Null => match e {
                    Value::String(s) => s.clone(),
                    _ => String::new(),
                },
                other => other.to_string(),
            };
            out.entry(id.to_owned()).or_default().errors.push((kind, message));
        }
    }
    out
}

/// Everything [`html`] needs to draw one run.
struct Page<'a> {
    runs: &'a [RunView],
    extras: &'a HashMap<String, Extra>,
    /// The time span of a timed trace: its first and last event times.
    span_ms: Option<(f64, f64)>,
    /// The trace's error line: `(type, message, step)`.
    failure: Option<(String, String, Option<String>)>,
}

impl Page<'_> {
    /// A run that never ended in a trace that failed: the error went through it.
    fn unfinished(&self, i: usize) -> bool {
        self.failure.is_some() && !self.extras.get(&self.runs[i].id).is_some_and(|x| x.ended)
    }

    /// Where the trace's error happened: the innermost unfinished run named
    /// as the error's step (runs other than tools have no error event).
    fn failed_here(&self, i: usize) -> bool {
        let Some((_, _, Some(step))) = &self.failure else {
            return false;
        };
        let r = &self.runs[i];
        self.unfinished(i)
            && &r.name == step
            && !r.children.iter().any(|&c| self.unfinished(c))
            && self.extras.get(&r.id).is_none_or(|x| x.errors.is_empty())
    }
}

/// A value: a string as its text, anything else as a one-line preview
/// (messages as `[human "..."]`) with its whole JSON folded beneath.
fn value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => {
            let _ = write!(out, "<pre class=\"text\">{}</pre>", escape(s));
        }
        other => {
            let _ = write!(out, "<code class=\"preview\">{}</code>", escape(&display(other)));
            if other.is_object() || other.is_array() {
                let pretty = serde_json::to_string_pretty(other).unwrap_or_default();
                let _ = write!(
                    out,
                    "<details class=\"json\"><summary>JSON</summary><pre>{}</pre></details>",
                    escape(&pretty)
                );
            }
        }
    }
}

fn field(out: &mut String, class: &str, label: &str, body: impl FnOnce(&mut String)) {
    let _ = write!(
        out,
        "<div class=\"field {class}\"><span class=\"label\">{}</span><div class=\"content\">",
        escape(label)
    );
    body(out);
    out.push_str("</div></div>");
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn draw(out: &mut String, page: &Page<'_>, i: usize) {
    let r = &page.runs[i];
    let extra = page.extras.get(&r.id);
    let errors = extra.map(|x| x.errors.as_slice()).unwrap_or_default();
    let failed_here = page.failed_here(i);
    let mut class = format!("run k-{}", kind_class(&r.kind));
    if !errors.is_empty() || failed_here {
        class.push_str(" error");
    } else if page.unfinished(i) {
        class.push_str(" failed");
    }
    let _ = write!(
        out,
        "<details class=\"{class}\" data-run=\"{}\" open><summary>",
        escape(&r.id)
    );
    let _ = write!(
        out,
        "<span class=\"kind\">{}</span> <span class=\"name\">{}</span>",
        escape(&r.kind),
        escape(&r.name)
    );
    if let Some(t) = &r.tag {
        let _ = write!(out, " <span class=\"tag\">{}</span>", escape(t));
    }
    let _ = write!(out, " <span class=\"id\">{}</span>", escape(&r.id));
    if !errors.is_empty() || failed_here {
        out.push_str(" <span class=\"badge error-badge\">error</span>");
    } else if page.unfinished(i) {
        out.push_str(" <span class=\"badge failed-badge\">did not finish</span>");
    }
    if let Some((first, last)) = page.span_ms {
        let total = last - first;
        let start = r.start_ms.unwrap_or(first);
        let end = r.end_ms;
        let shown_end = end.unwrap_or(last);
        let (left, width) = if total > 0.0 {
            (
                ((start - first) / total * 100.0).clamp(0.0, 100.0),
                ((shown_end - start) / total * 100.0).clamp(0.0, 100.0),
            )
        } else {
            (0.0, 100.0)
        };
        let dur = match end {
            Some(e) => millis(e - start),
            None => "-".into(),
        };
        let open = if end.is_none() { " open-ended" } else { "" };
        let _ = write!(
            out,
            "<span class=\"dur\">{}</span><span class=\"bar\" title=\"{} to {}\"><span class=\"span{open}\" style=\"left:{left:.3}%;width:{width:.3}%\"></span></span>",
            escape(&dur),
            escape(&millis(start - first)),
            escape(&end.map(|e| millis(e - first)).unwrap_or_else(|| "(did not end)".into())),
        );
    }
    out.push_str("</summary><div class=\"fields\">");

    let tool = r.kind == "tool";
    if let Some(input) = &r.input {
        if tool {
            field(out, "input", "arguments", |o| {
                let _ = write!(o, "<pre class=\"tool-args\">{}</pre>", escape(&pretty(input)));
            });
        } else {
            field(out, "input", "input", |o| value(o, input));
        }
    }
    let chunks = r.text_chunks + r.other_chunks;
    let output_is_text = r
        .output
        .as_ref()
        .is_some_and(|o| !r.text.is_empty() && display(o) == display(&Value::String(r.text.clone())));
    if !r.text.is_empty() && !output_is_text {
        field(out, "streamed", "streamed", |o| {
            let _ = write!(
                o,
                "<pre class=\"text\">{}</pre><span class=\"note\">{}</span>",
                escape(&r.text),
                plural(r.text_chunks, "chunk")
            );
        });
    } else if r.text.is_empty() && chunks > 0 {
        field(out, "streamed", "streamed", |o| {
            let _ = write!(
                o,
                "<span class=\"note\">{} without text</span>",
                plural(chunks, "chunk")
            );
        });
    }
    if let Some(output) = &r.output {
        let calls = output.get("tool_calls").and_then(Value::as_array);
        let empty_with_calls = calls.is_some_and(|c| !c.is_empty()) && display(output) == "\"\"";
        if !empty_with_calls {
            field(out, "output", "output", |o| {
                value(o, output);
                if output_is_text {
                    let _ = write!(
                        o,
                        "<span class=\"note\">streamed in {}</span>",
                        plural(r.text_chunks, "chunk")
                    );
                }
            });
        }
        for c in calls.into_iter().flatten() {
            field(out, "tool-call", "tool call", |o| {
                let _ = write!(
                    o,
                    "<span class=\"tool-name\">{}</span>",
                    escape(c["name"].as_str().unwrap_or("?"))
                );
                if let Some(id) = c.get("id").and_then(Value::as_str) {
                    let _ = write!(o, " <span class=\"id\">{}</span>", escape(id));
                }
                let args = c.get("args").cloned().unwrap_or(Value::Null);
                let _ = write!(o, "<pre class=\"tool-args\">{}</pre>", escape(&pretty(&args)));
            });
        }
    }
    if let Some(x) = extra {
        for (name, data) in &x.custom {
            field(out, "custom", "custom event", |o| {
                let _ = write!(o, "<span class=\"name\">{}</span>", escape(name));
                value(o, data);
            });
        }
    }
    for (kind, message) in errors {
        field(out, "error-field", "error", |o| {
            let _ = write!(o, "<pre class=\"text\">{}: {}</pre>", escape(kind), escape(message));
        });
    }
    if failed_here {
        if let Some((kind, message, _)) = &page.failure {
            field(out, "error-field", "error", |o| {
                let _ = write!(o, "<pre class=\"text\">{}: {}</pre>", escape(kind), escape(message));
            });
        }
    }
    out.push_str("</div>");
    if !r.children.is_empty() {
        out.push_str("<div class=\"children\">");
        for &c in &r.children {
            draw(out, page, c);
        }
        out.push_str("</div>");
    }
    out.push_str("</details>\n");
}

/// The time axis above the tree of a timed trace: three ticks, from the
/// first event (0) to the last.
fn axis(out: &mut String, total: f64) {
    out.push_str("<div class=\"axis-row\"><span class=\"axis-label\">time</span><span class=\"dur\"></span><span class=\"axis\">");
    for k in 0..=2 {
        let at = total * f64::from(k) / 2.0;
        let _ = write!(
            out,
            "<span class=\"tick\" style=\"left:{}%\">{}</span>",
            k * 50,
            escape(&millis(at))
        );
    }
    out.push_str("</span></div>\n");
}

/// The run tree of a trace as one self-contained HTML page, what `runwright
/// trace view FILE` writes: each run folds open and shut, with its kind,
/// name, step tag and id, its input and output, the text it streamed, a chat
/// model's tool calls with their arguments, a tool's arguments, custom
/// events, and errors (a run that failed has the class `error`). A timed
/// trace ([`Trace::record_timed`]) gets a time axis, and each run a bar from
/// its start to its end. A search box keeps the runs whose name, kind or
/// text contain what is typed (and their ancestors), highlighted; the page's
/// address can preset it: `trace.html#search=get_weather`.
///
/// The page loads nothing: its style and script are inline, and its content
/// security policy allows no fetch, so it works from `file://` offline.
/// Every string from the trace is escaped.
///
/// ```
/// use runwright::{Lambda, RunnableExt};
/// use runwright_recorder::{view, Trace};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("<shout>");
/// let trace = Trace::record("shout", shout.stream_events("hi".into())).await;
/// let page = view::html(&trace);
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(page.contains("<span class=\"name\">&lt;shout&gt;</span>"));
/// assert_eq!(page.matches("class=\"run ").count(), 1);
/// # }
/// ```
pub fn html(trace: &Trace) -> String {
    let h = trace.header();
    let (runs, roots) = runs_of(trace);
    let extras = extras(trace);
    let times = || {
        trace
            .events()
            .iter()
            .filter_map(|e| e.get("at_ms").and_then(Value::as_f64))
            .filter(|t| t.is_finite())
    };
    // The axis runs from the first event to the last.
    let span_ms = times()
        .reduce(f64::min)
        .zip(times().reduce(f64::max))
        .filter(|_| h.timed);
    let failure = trace.error().map(|e| {
        (
            e["type"].as_str().unwrap_or("Error").to_owned(),
            e["message"].as_str().unwrap_or_default().to_owned(),
            e["step"].as_str().map(str::to_owned),
        )
    });
    let page = Page {
        runs: &runs,
        extras: &extras,
        span_ms,
        failure,
    };

    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} - runwright trace</title>\n<style>\n{STYLE}</style></head>\n<body>\n<header>\n",
        escape(&h.name)
    );
    let _ = write!(
        out,
        "<h1><span class=\"what\">trace</span> {}</h1>\n<p class=\"meta\">{} · {}{}{} · runwright {}</p>\n",
        escape(&h.name),
        plural(h.events, "event"),
        plural(runs.len(), "run"),
        match span_ms {
            Some((first, last)) => format!(" · {}", millis(last - first)),
            None => " · untimed (Trace::record_timed keeps times)".into(),
        },
        match &h.root {
            Some(root) => format!(" · root {}", escape(root)),
            None => String::new(),
        },
        escape(&h.runwright),
    );
    if let Some((kind, message, step)) = &page.failure {
        let _ = writeln!(
            out,
            "<p class=\"failure\">failed: {}: {}{}</p>",
            escape(kind),
            escape(message),
            step.as_ref()
                .map(|s| format!(" (in {})", escape(s)))
                .unwrap_or_default()
        );
    }
    out.push_str(
        "<div class=\"controls\"><input type=\"search\" id=\"search\" placeholder=\"Search runs: name, kind, text  (press /)\" autocomplete=\"off\" spellcheck=\"false\">\
         <button type=\"button\" id=\"expand\">Expand all</button><button type=\"button\" id=\"collapse\">Collapse all</button>\
         <span id=\"status\"></span></div>\n</header>\n<main id=\"tree\">\n",
    );
    if let Some((first, last)) = span_ms {
        axis(&mut out, last - first);
    }
    if runs.is_empty() {
        out.push_str("<p class=\"empty\">This trace has no runs.</p>\n");
    }
    for &r in &roots {
        draw(&mut out, &page, r);
    }
    let _ = write!(out, "</main>\n<script>\n{SCRIPT}</script>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<script>alert('x') & "y"</script>"#),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn the_inline_style_and_script_cannot_close_their_element() {
        // The page inlines them verbatim: neither may end its element early
        // or open a comment, and neither may name anything to load.
        for (name, text) in [("viewer.css", STYLE), ("viewer.js", SCRIPT)] {
            let lower = text.to_ascii_lowercase();
            for bad in ["</style", "</script", "<!--", "http:", "https:", "url(", "@import"] {
                assert!(!lower.contains(bad), "{name} contains {bad:?}");
            }
        }
    }

    #[test]
    fn kind_classes_keep_only_safe_characters() {
        assert_eq!(kind_class("chat_model"), "chat_model");
        assert_eq!(kind_class("x\" onclick=\"y"), "xonclicky");
    }
}
