//! [`Trace`]: the normalized, canonically ordered event stream of one run,
//! and its JSON Lines file.

use std::path::Path;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use runwright::{Error, Result, StreamEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::canonical::{canonical_order, sort_map_keys};
use crate::files::{check_header, format_error, parse_lines, read_text, write_atomic};
use crate::mode::Pacing;
use crate::normalize::{normalize_events, versions_free};

/// The `format` of a trace file's header.
pub const TRACE_FORMAT: &str = "runwright-trace";

/// The trace format version this crate writes and reads.
pub const TRACE_VERSION: u64 = 1;

/// The first line of a trace file: what the file is and what ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TraceHeader {
    /// Always [`TRACE_FORMAT`].
    pub format: String,
    /// The format version ([`TRACE_VERSION`]).
    pub version: u64,
    /// The runwright version that recorded it.
    pub runwright: String,
    /// What ran, as the recording code named it (a test's name, say).
    pub name: String,
    /// The name of the root run (the first event's), if there was an event.
    pub root: Option<String>,
    /// How many event lines follow (the error line included).
    pub events: usize,
    /// Whether events carry `at_ms` (see [`Trace::record_timed`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timed: bool,
}

/// The normalized event stream of one run: what a trace file holds.
///
/// Record one from any event stream, write it, read it back:
///
/// ```
/// use runwright::{Lambda, RunnableExt};
/// use runwright_recorder::Trace;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("shout");
/// let trace = Trace::record("shout", shout.stream_events("hi".into())).await;
/// assert_eq!(trace.events()[0]["run_id"], "run-0");
/// assert_eq!(trace.header().root.as_deref(), Some("shout"));
///
/// let again = Trace::parse("shout.jsonl", &trace.to_jsonl())?;
/// assert_eq!(again, trace);
/// # Ok(()) }
/// ```
///
/// See the crate docs for the file format and the canonical order.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    header: TraceHeader,
    events: Vec<Value>,
}

/// The JSON line of an error that ended a stream.
fn error_json(e: &Error) -> Value {
    json!({"error": {"type": e.type_name(), "message": e.message(), "step": e.step()}})
}

impl Trace {
    /// Collects an event stream (what `stream_events` returns) into a trace
    /// named `name`. An error item becomes the trace's last line.
    pub async fn record<S>(name: &str, stream: S) -> Trace
    where
        S: Stream<Item = Result<StreamEvent>>,
    {
        Self::collect(name, stream, false).await
    }

    /// [`record`](Self::record), with each event's time (`at_ms`,
    /// milliseconds since the first event) kept, so `trace show` can print
    /// durations. Such a trace differs from run to run.
    pub async fn record_timed<S>(name: &str, stream: S) -> Trace
    where
        S: Stream<Item = Result<StreamEvent>>,
    {
        Self::collect(name, stream, true).await
    }

    async fn collect<S>(name: &str, stream: S, timed: bool) -> Trace
    where
        S: Stream<Item = Result<StreamEvent>>,
    {
        let mut stream = std::pin::pin!(stream);
        let mut raw = Vec::new();
        let start = std::time::Instant::now();
        while let Some(item) = stream.next().await {
            let mut v = match &item {
                Ok(ev) => ev.to_json(),
                Err(e) => error_json(e),
            };
            if timed {
                let ms = start.elapsed().as_secs_f64() * 1000.0;
                if let Value::Object(m) = &mut v {
                    m.insert("at_ms".into(), json!((ms * 1000.0).round() / 1000.0));
                }
            }
            raw.push(v);
            if item.is_err() {
                break;
            }
        }
        let mut trace = Self::from_json(name, raw);
        trace.header.timed = timed;
        trace
    }

    /// A trace of events already collected.
    pub fn from_events<I>(name: &str, items: I) -> Trace
    where
        I: IntoIterator<Item = Result<StreamEvent>>,
    {
        let mut raw = Vec::new();
        for item in items {
            match item {
                Ok(ev) => raw.push(ev.to_json()),
                Err(e) => {
                    raw.push(error_json(&e));
                    break;
                }
            }
        }
        Self::from_json(name, raw)
    }

    /// A trace of events as v2 JSON, not yet normalized (from
    /// [`StreamEvent::to_json`], or LangChain's own `astream_events`): put in
    /// canonical order, then normalized.
    pub fn from_json(name: &str, raw: Vec<Value>) -> Trace {
        let (order, maps) = canonical_order(&raw);
        let mut slots: Vec<Option<Value>> = raw.into_iter().map(Some).collect();
        let mut events: Vec<Value> = order.iter().filter_map(|&i| slots[i].take()).collect();
        sort_map_keys(&mut events, &maps);
        normalize_events(events.iter_mut());
        events.iter_mut().for_each(versions_free);
        let root = events
            .iter()
            .find_map(|e| e.get("name").and_then(Value::as_str))
            .map(str::to_owned);
        Trace {
            header: TraceHeader {
                format: TRACE_FORMAT.into(),
                version: TRACE_VERSION,
                runwright: env!("CARGO_PKG_VERSION").into(),
                name: name.into(),
                root,
                events: events.len(),
                timed: false,
            },
            events,
        }
    }

    /// The header.
    pub fn header(&self) -> &TraceHeader {
        &self.header
    }

    /// The normalized events in canonical order (the error line last, if
    /// the stream failed).
    pub fn events(&self) -> &[Value] {
        &self.events
    }

    /// The error the stream ended with, if it failed: `{"type", "message",
    /// "step"}`.
    pub fn error(&self) -> Option<&Value> {
        self.events.last().and_then(|e| e.get("error"))
    }

    /// The whole file: the header line, then one line per event.
    pub fn to_jsonl(&self) -> String {
        let mut out = line(&serde_json::to_value(&self.header).unwrap_or(Value::Null));
        out.push_str(&self.events_jsonl());
        out
    }

    /// The event lines alone, without the header (which names the runwright
    /// version): what [`assert_events_snapshot!`](crate::assert_events_snapshot)
    /// snapshots.
    pub fn events_jsonl(&self) -> String {
        self.events.iter().map(line).collect()
    }

    /// The trace's lines back as a live stream, for building a front end
    /// against a recorded run without running it: each event's JSON, then
    /// the `{"error": ...}` line if the run failed. A timed trace
    /// ([`Trace::record_timed`]) waits between events as recorded with
    /// [`Pacing::Recorded`] (scaled with [`Pacing::Scaled`]); an untimed one,
    /// or [`Pacing::Instant`], comes as fast as it is read. Paced streams
    /// sleep on tokio's timer.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use runwright::{Lambda, RunnableExt};
    /// use runwright_recorder::{Pacing, Trace};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("shout");
    /// let trace = Trace::record_timed("shout", shout.stream_events("hi".into())).await;
    /// let events: Vec<_> = trace.replay(Pacing::Recorded).collect().await;
    /// assert_eq!(events.len(), 3);
    /// assert_eq!(events[0]["event"], "on_chain_start");
    /// # }
    /// ```
    pub fn replay(&self, pacing: Pacing) -> BoxStream<'static, Value> {
        let mut last = None;
        let paced: Vec<(Option<std::time::Duration>, Value)> = self
            .events
            .iter()
            .map(|e| {
                let at = e.get("at_ms").and_then(Value::as_f64);
                let wait = match (last, at) {
                    (Some(l), Some(a)) if a > l => pacing.delay_ms(a - l),
                    _ => None,
                };
                if at.is_some() {
                    last = at;
                }
                (wait, e.clone())
            })
            .collect();
        Box::pin(futures::stream::iter(paced).then(|(wait, e)| async move {
            if let Some(d) = wait {
                tokio::time::sleep(d).await;
            }
            e
        }))
    }

    /// Writes the trace file atomically (temporary file, then rename).
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), self.to_jsonl().as_bytes(), None)
    }

    /// Reads a trace file.
    pub fn read(path: impl AsRef<Path>) -> Result<Trace> {
        let path = path.as_ref();
        Self::parse(&path.display().to_string(), &read_text(path)?)
    }

    /// Parses the text of a trace file; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Trace> {
        let lines = parse_lines(source, text)?;
        let Some((_, header)) = lines.first() else {
            return Err(format_error(source, None, "empty file (no header line)"));
        };
        check_header(source, header, TRACE_FORMAT, TRACE_VERSION, "runwright trace")?;
        let header: TraceHeader = serde_json::from_value(header.clone())
            .map_err(|e| format_error(source, Some(1), format!("invalid header: {e}")))?;
        let events: Vec<Value> = lines.into_iter().skip(1).map(|(_, v)| v).collect();
        for (i, e) in events.iter().enumerate() {
            if !e.is_object() || (e.get("event").is_none() && e.get("error").is_none()) {
                return Err(format_error(
                    source,
                    Some(i + 2),
                    "not an event (an object with \"event\", or an \"error\" line)",
                ));
            }
        }
        if events.len() != header.events {
            let last = events.len() + 1;
            return Err(format_error(
                source,
                None,
                if events.len() < header.events {
                    format!(
                        "truncated: the header announces {} events, the file ends after {} (line {last})",
                        header.events,
                        events.len()
                    )
                } else {
                    format!(
                        "the header announces {} events, the file has {} (line {last} is the last)",
                        header.events,
                        events.len()
                    )
                },
            ));
        }
        Ok(Trace { header, events })
    }
}

fn line(v: &Value) -> String {
    let mut s = v.to_string();
    s.push('\n');
    s
}
