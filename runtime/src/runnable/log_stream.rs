//! `stream_log`: the run as JSON Patch operations on a run state, with
//! LangChain's `astream_log` paths (`/logs/<name>`, `/streamed_output/-`,
//! `/final_output`, ...).

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use futures::{Stream, StreamExt};
use serde_json::{json, Value as Json};
use uuid::Uuid;

use super::{EventStream, Runnable};
use crate::config::RunConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::events::{EventFilter, EventPhase, RunType, StreamEvent};
use crate::value::{Chunk, Payload};

/// Options of [`stream_log`](crate::RunnableExt::stream_log).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LogOptions {
    /// `true` (the default): yield each patch. `false`: yield each patch
    /// together with the whole state so far.
    pub diff: bool,
    /// Whether the root's chunks are appended to `/streamed_output`.
    pub with_streamed_output_list: bool,
    /// Which runs beneath the root get a `/logs/<name>` entry.
    pub filter: EventFilter,
    /// Call-time config of the root run.
    pub config: Option<RunConfig>,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            diff: true,
            with_streamed_output_list: true,
            filter: EventFilter::default(),
            config: None,
        }
    }
}

impl LogOptions {
    /// Yields the whole state with each patch.
    #[must_use]
    pub fn with_state(mut self) -> Self {
        self.diff = false;
        self
    }

    /// Sets the filter for `/logs` entries.
    #[must_use]
    pub fn filter(mut self, filter: EventFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Leaves `/streamed_output` empty.
    #[must_use]
    pub fn without_streamed_output_list(mut self) -> Self {
        self.with_streamed_output_list = false;
        self
    }

    /// Sets the call-time config.
    #[must_use]
    pub fn config(mut self, config: RunConfig) -> Self {
        self.config = Some(config);
        self
    }
}

/// A batch of JSON Patch (RFC 6902) operations on the run state, as
/// `stream_log` yields it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RunLogPatch {
    /// The operations, each `{"op", "path", "value"}`.
    pub ops: Vec<Json>,
    /// How many operations have been yielded so far, these included.
    pub total_ops: usize,
    /// The state after these operations (only with `diff: false`).
    pub state: Option<Json>,
}

impl RunLogPatch {
    /// Applies the operations to `state`.
    pub fn apply_to(&self, state: &mut Json) -> Result<()> {
        let patch: json_patch::Patch = serde_json::from_value(Json::Array(self.ops.clone()))?;
        json_patch::patch(state, &patch).map_err(|e| Error::from_source(ErrorKind::InvalidInput, e))
    }
}

type Fold = Box<dyn FnMut(&Payload) -> (Json, Json) + Send>;

/// The stream `stream_log` returns.
#[must_use = "streams do nothing unless polled"]
pub struct LogStream<'a> {
    events: EventStream<'a>,
    options: LogOptions,
    root: Option<Uuid>,
    keys: HashMap<Uuid, String>,
    counts: HashMap<String, usize>,
    fold: Fold,
    total_ops: usize,
    state: Json,
}

/// Shows the options and how far the log has come, not the fold.
impl std::fmt::Debug for LogStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStream")
            .field("options", &self.options)
            .field("total_ops", &self.total_ops)
            .finish_non_exhaustive()
    }
}

fn now_iso() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (year, month, day) = crate::value::time::civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// LangChain logs a chat model as an `llm` run.
fn log_type(t: RunType) -> &'static str {
    match t {
        RunType::ChatModel => "llm",
        other => other.as_str(),
    }
}

/// A run's `final_output` as LangChain's log writes it.
fn logged_output(ev: &StreamEvent) -> Json {
    let out = ev.data.output.as_ref().map(Payload::to_json).unwrap_or(Json::Null);
    match ev.run_type {
        RunType::Prompt => out,
        RunType::Retriever => json!({ "documents": out }),
        RunType::ChatModel | RunType::Llm => {
            let text = out.get("content").cloned().unwrap_or_else(|| out.clone());
            let text = if text.is_string() {
                text
            } else {
                Json::String(String::new())
            };
            let generation = if ev.run_type == RunType::ChatModel {
                let kind = if out.get("type").and_then(Json::as_str) == Some("AIMessageChunk") {
                    "ChatGenerationChunk"
                } else {
                    "ChatGeneration"
                };
                json!({"text": text, "generation_info": null, "type": kind, "message": out})
            } else {
                json!({"text": text, "generation_info": null, "type": "Generation"})
            };
            json!({"generations": [[generation]], "llm_output": null, "run": null, "type": "LLMResult"})
        }
        _ => match out {
            Json::Object(_) => out,
            other => json!({ "output": other }),
        },
    }
}

impl<'a> LogStream<'a> {
    pub(crate) fn new<R: Runnable + ?Sized>(runnable: &'a R, input: R::Input, options: LogOptions) -> Self {
        let events = EventStream::new(runnable, input, options.config.clone(), EventFilter::default());
        let mut acc: Option<R::Output> = None;
        let mut last = Json::Null;
        let fold: Fold = Box::new(move |chunk: &Payload| {
            if let Some(c) = chunk.downcast_ref::<R::Output>() {
                match acc.as_mut() {
                    Some(a) => a.concat(c.clone()),
                    None => acc = Some(c.clone()),
                }
            }
            let after = acc.as_ref().map_or(Json::Null, |a| Payload::new(a.clone()).to_json());
            (std::mem::replace(&mut last, after.clone()), after)
        });
        LogStream {
            events,
            options,
            root: None,
            keys: HashMap::new(),
            counts: HashMap::new(),
            fold,
            total_ops: 0,
            state: Json::Null,
        }
    }

    fn ops_for(&mut self, ev: &StreamEvent) -> Vec<Json> {
        let root = *self.root.get_or_insert(ev.run_id());
        if ev.run_id() == root {
            return match ev.phase {
                EventPhase::Start => vec![json!({
                    "op": "replace",
                    "path": "",
                    "value": {
                        "id": ev.run_id().to_string(),
                        "streamed_output": [],
                        "final_output": null,
                        "logs": {},
                        "name": ev.name(),
                        "type": log_type(ev.run_type),
                    }
                })],
                EventPhase::Stream => {
                    let Some(chunk) = &ev.data.chunk else { return vec![] };
                    let mut ops = Vec::new();
                    if self.options.with_streamed_output_list {
                        ops.push(json!({"op": "add", "path": "/streamed_output/-", "value": chunk.to_json()}));
                    }
                    let (before, after) = (self.fold)(chunk);
                    for op in json_patch::diff(&before, &after).0 {
                        let mut op = serde_json::to_value(op).unwrap_or(Json::Null);
                        if let Some(p) = op.get_mut("path") {
                            *p = Json::String(format!("/final_output{}", p.as_str().unwrap_or("")));
                        }
                        ops.push(op);
                    }
                    ops
                }
                _ => vec![],
            };
        }
        match ev.phase {
            EventPhase::Start => {
                if !self
                    .options
                    .filter
                    .includes_run(ev.name(), log_type(ev.run_type), || Box::new(ev.tags().iter()))
                {
                    return vec![];
                }
                let n = self.counts.entry(ev.name().to_string()).or_insert(0);
                *n += 1;
                let key = if *n == 1 {
                    ev.name().to_string()
                } else {
                    format!("{}:{n}", ev.name())
                };
                self.keys.insert(ev.run_id(), key.clone());
                vec![json!({
                    "op": "add",
                    "path": format!("/logs/{key}"),
                    "value": {
                        "id": ev.run_id().to_string(),
                        "name": ev.name(),
                        "type": log_type(ev.run_type),
                        "tags": &ev.tags(),
                        "metadata": ev.metadata(),
                        "start_time": now_iso(),
                        "streamed_output": [],
                        "streamed_output_str": [],
                        "final_output": null,
                        "end_time": null,
                    }
                })]
            }
            EventPhase::Stream => {
                let (Some(key), Some(chunk)) = (self.keys.get(&ev.run_id()), &ev.data.chunk) else {
                    return vec![];
                };
                let value = chunk.to_json();
                match ev.run_type {
                    RunType::ChatModel | RunType::Llm => {
                        let token = match &value {
                            Json::String(s) => Json::String(s.clone()),
                            other => other.get("content").cloned().unwrap_or(Json::String(String::new())),
                        };
                        vec![
                            json!({"op": "add", "path": format!("/logs/{key}/streamed_output_str/-"), "value": token}),
                            json!({"op": "add", "path": format!("/logs/{key}/streamed_output/-"), "value": value}),
                        ]
                    }
                    _ => vec![json!({"op": "add", "path": format!("/logs/{key}/streamed_output/-"), "value": value})],
                }
            }
            EventPhase::End => {
                let Some(key) = self.keys.get(&ev.run_id()) else {
                    return vec![];
                };
                vec![
                    json!({"op": "add", "path": format!("/logs/{key}/final_output"), "value": logged_output(ev)}),
                    json!({"op": "add", "path": format!("/logs/{key}/end_time"), "value": now_iso()}),
                ]
            }
            _ => vec![],
        }
    }
}

impl Stream for LogStream<'_> {
    type Item = Result<RunLogPatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let ev = match this.events.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(ev))) => ev,
            };
            let ops = this.ops_for(&ev);
            if ops.is_empty() {
                continue;
            }
            this.total_ops += ops.len();
            let mut patch = RunLogPatch {
                ops,
                total_ops: this.total_ops,
                state: None,
            };
            if !this.options.diff {
                if let Err(e) = patch.apply_to(&mut this.state) {
                    return Poll::Ready(Some(Err(e)));
                }
                patch.state = Some(this.state.clone());
            }
            return Poll::Ready(Some(Ok(patch)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::now_iso;

    #[test]
    fn timestamps_are_iso_8601_with_milliseconds() {
        let t = now_iso();
        assert_eq!(t.len(), "2026-11-21T23:20:16.123+00:00".len(), "{t}");
        assert_eq!(&t[4..5], "-");
        assert_eq!(&t[10..11], "T");
        assert!(t.ends_with("+00:00"));
    }
}
