//! [`Cassette`]: recorded chat-model calls, and their JSON Lines file.

use std::path::Path;

use runwright::intercept::CallKind;
use runwright::models::ChatRequest;
use runwright::{AIMessageChunk, Error, ErrorKind, Map, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::files::{check_header, format_error, parse_lines, read_text};
use crate::redact::Redactions;
use crate::session::{self, recorded_error, Entry, Format, Item, Settings, Terms};

/// The `format` of a cassette file's header.
pub const CASSETTE_FORMAT: &str = "runwright-cassette";

/// The cassette format version this crate writes and reads.
pub const CASSETTE_VERSION: u64 = 1;

/// The first line of a cassette file: the recorded model, and how many
/// interactions follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CassetteHeader {
    /// Always [`CASSETTE_FORMAT`].
    pub format: String,
    /// The format version ([`CASSETTE_VERSION`]).
    pub version: u64,
    /// The runwright version that recorded it.
    pub runwright: String,
    /// The recorded model's name (its runs' name).
    pub model: String,
    /// The model's run metadata (`ls_provider`, ...), without the
    /// version-specific `lc_versions`.
    #[serde(default)]
    pub metadata: Map,
    /// The model's invocation parameters, redacted.
    #[serde(default)]
    pub params: Map,
    /// How many interactions follow.
    pub interactions: usize,
}

/// One recorded chunk and the time since the one before (or since the
/// request, for the first).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RecordedChunk {
    /// The chunk, as the model streamed it (redacted).
    pub chunk: AIMessageChunk,
    /// Milliseconds since the previous chunk.
    pub delay_ms: u64,
}

/// The error a recorded call ended with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedError {
    /// The error's kind (`step`, `timeout`, ...).
    pub kind: String,
    /// Its message.
    pub message: String,
}

impl RecordedError {
    pub(crate) fn of(e: &Error) -> Self {
        let kind = match e.kind() {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RecursionLimit => "recursion_limit",
            ErrorKind::Usage => "usage",
            ErrorKind::Task => "task",
            _ => "step",
        };
        RecordedError {
            kind: kind.into(),
            message: e.message().into(),
        }
    }

    /// The error to replay.
    pub fn to_error(&self) -> Error {
        let kind = match self.kind.as_str() {
            "invalid_input" => ErrorKind::InvalidInput,
            "cancelled" => ErrorKind::Cancelled,
            "timeout" => ErrorKind::Timeout,
            "recursion_limit" => ErrorKind::RecursionLimit,
            "usage" => ErrorKind::Usage,
            "task" => ErrorKind::Task,
            _ => ErrorKind::Step,
        };
        Error::new(kind, self.message.clone())
    }
}

/// One model call: the normalized request, the chunks of the answer, and
/// the error it ended with, if any.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Interaction {
    /// The request as [`normalize_request`] makes it: what replays match on.
    pub request: Value,
    /// The answer's chunks, tool-call chunks and usage included.
    pub chunks: Vec<RecordedChunk>,
    /// The error the call ended with.
    pub error: Option<RecordedError>,
}

/// The request a cassette stores and matches on: `{"messages", "tools",
/// "params"}`, the fields in `redactions` removed, and UUIDs (run ids in
/// message ids, `lc_run--...`) numbered in order of appearance, so the same
/// conversation matches on every run.
///
/// ```
/// use runwright::models::ChatRequest;
/// use runwright::Message;
/// use runwright_recorder::{normalize_request, Redactions};
///
/// let mut params = runwright::Map::new();
/// params.insert("api_key".into(), "sk-123".into());
/// params.insert("temperature".into(), 0.into());
/// let req = ChatRequest::new(vec![Message::human("hi")]).with_params(params);
/// let n = normalize_request(&req, &Redactions::default());
/// assert_eq!(n["params"], serde_json::json!({"temperature": 0}));
/// assert_eq!(n["messages"][0]["content"], "hi");
/// ```
pub fn normalize_request(request: &ChatRequest, redactions: &Redactions) -> Value {
    session::normalize(&request_json(request), &[], redactions).0
}

/// A request as JSON, before normalization: what a recorder's session sees
/// of a model call, as a recording's does.
pub(crate) fn request_json(request: &ChatRequest) -> Value {
    json!({
        "messages": request.messages,
        "tools": request.tools,
        "params": request.params,
    })
}

/// Recorded chat-model calls: what a cassette file holds.
///
/// ```
/// use runwright_recorder::Cassette;
///
/// let text = concat!(
///     r#"{"format":"runwright-cassette","version":1,"runwright":"0.1.0","model":"EchoChat","interactions":1}"#, "\n",
///     r#"{"interaction":0,"request":{"messages":[],"tools":[],"params":{}}}"#, "\n",
///     r#"{"interaction":0,"chunk":{"type":"AIMessageChunk","content":"hi"},"delay_ms":0}"#, "\n",
///     r#"{"interaction":0,"end":{"chunks":1}}"#, "\n",
/// );
/// let c = Cassette::parse("echo.jsonl", text).unwrap();
/// assert_eq!(c.interactions()[0].chunks[0].chunk.text(), "hi");
/// assert_eq!(c.to_jsonl().lines().count(), 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Cassette {
    header: CassetteHeader,
    interactions: Vec<Interaction>,
    /// The line of each interaction's request, for messages.
    lines: Vec<usize>,
}

impl Cassette {
    /// An empty cassette for a model named `model`.
    pub fn new(model: &str, metadata: Map, params: Map) -> Self {
        Cassette {
            header: CassetteHeader {
                format: CASSETTE_FORMAT.into(),
                version: CASSETTE_VERSION,
                runwright: env!("CARGO_PKG_VERSION").into(),
                model: model.into(),
                metadata,
                params,
                interactions: 0,
            },
            interactions: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// The header.
    pub fn header(&self) -> &CassetteHeader {
        &self.header
    }

    /// The recorded calls, in the order they were made.
    pub fn interactions(&self) -> &[Interaction] {
        &self.interactions
    }

    /// The file line where interaction `i`'s request is (1-based), once the
    /// cassette is written or read.
    pub fn line_of(&self, i: usize) -> Option<usize> {
        self.lines.get(i).copied()
    }

    /// Adds an interaction.
    pub fn push(&mut self, interaction: Interaction) {
        self.interactions.push(interaction);
        self.header.interactions = self.interactions.len();
        self.index_lines();
    }

    fn index_lines(&mut self) {
        let mut n = 2;
        self.lines = self
            .interactions
            .iter()
            .map(|i| {
                let at = n;
                n += i.chunks.len() + 2;
                at
            })
            .collect();
    }

    /// The whole file: the header line, then for each interaction its
    /// request line, one line per chunk, and an end line.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        let mut push = |v: Value| {
            out.push_str(&v.to_string());
            out.push('\n');
        };
        push(serde_json::to_value(&self.header).unwrap_or(Value::Null));
        for (i, it) in self.interactions.iter().enumerate() {
            push(json!({"interaction": i, "request": it.request}));
            for c in &it.chunks {
                push(json!({"interaction": i, "chunk": c.chunk, "delay_ms": c.delay_ms}));
            }
            let mut end = json!({"chunks": it.chunks.len()});
            if let Some(e) = &it.error {
                end["error"] = json!(e);
            }
            push(json!({"interaction": i, "end": end}));
        }
        out
    }

    /// Reads a cassette file.
    pub fn read(path: impl AsRef<Path>) -> Result<Cassette> {
        let path = path.as_ref();
        Self::parse(&path.display().to_string(), &read_text(path)?)
    }

    /// Parses the text of a cassette file; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Cassette> {
        let lines = parse_lines(source, text)?;
        let mut lines = lines.into_iter();
        let Some((_, header)) = lines.next() else {
            return Err(format_error(source, None, "empty file (no header line)"));
        };
        check_header(source, &header, CASSETTE_FORMAT, CASSETTE_VERSION, "runwright cassette")?;
        let header: CassetteHeader = serde_json::from_value(header)
            .map_err(|e| format_error(source, Some(1), format!("invalid header: {e}")))?;
        let mut interactions = Vec::new();
        let mut at = Vec::new();
        let mut open: Option<Interaction> = None;
        let mut last_line = 1;
        for (n, v) in lines {
            last_line = n;
            let err = |msg: String| format_error(source, Some(n), msg);
            let index = v.get("interaction").and_then(Value::as_u64);
            let expected = interactions.len() as u64;
            if index != Some(expected) {
                return Err(err(format!(
                    "expected a line of interaction {expected}, found {}",
                    index.map_or("no interaction number".to_string(), |i| format!("interaction {i}"))
                )));
            }
            if let Some(request) = v.get("request") {
                if open.is_some() {
                    return Err(err(format!(
                        "interaction {expected} has a second request before its end"
                    )));
                }
                open = Some(Interaction {
                    request: request.clone(),
                    chunks: Vec::new(),
                    error: None,
                });
                at.push(n);
            } else if let Some(chunk) = v.get("chunk") {
                let Some(it) = open.as_mut() else {
                    return Err(err(format!("a chunk of interaction {expected} before its request")));
                };
                let chunk: AIMessageChunk = serde_json::from_value(chunk.clone())
                    .map_err(|e| err(format!("invalid chunk: {}", e.to_string().trim())))?;
                let delay_ms = v.get("delay_ms").and_then(Value::as_u64).unwrap_or(0);
                it.chunks.push(RecordedChunk { chunk, delay_ms });
            } else if let Some(end) = v.get("end") {
                let Some(mut it) = open.take() else {
                    return Err(err(format!("the end of interaction {expected} before its request")));
                };
                let count = end.get("chunks").and_then(Value::as_u64);
                if count != Some(it.chunks.len() as u64) {
                    return Err(err(format!(
                        "interaction {expected} ends announcing {} chunks, {} were recorded",
                        count.map_or("no count of".to_string(), |c| c.to_string()),
                        it.chunks.len()
                    )));
                }
                if let Some(e) = end.get("error") {
                    it.error =
                        Some(serde_json::from_value(e.clone()).map_err(|e| err(format!("invalid error record: {e}")))?);
                }
                interactions.push(it);
            } else {
                return Err(err("expected a request, chunk or end line".into()));
            }
        }
        if open.is_some() || interactions.len() != header.interactions {
            return Err(format_error(
                source,
                None,
                format!(
                    "truncated: the header announces {} interactions, {} are complete (the file ends at line {last_line})",
                    header.interactions,
                    interactions.len()
                ),
            ));
        }
        Ok(Cassette {
            header,
            interactions,
            lines: at,
        })
    }

    /// Its interactions as a session's calls.
    pub(crate) fn entries(&self) -> Vec<Entry> {
        self.interactions
            .iter()
            .enumerate()
            .map(|(i, it)| Entry {
                kind: CallKind::ChatModel.as_str().into(),
                path: Vec::new(),
                input: it.request.clone(),
                items: it
                    .chunks
                    .iter()
                    .map(|c| Item {
                        value: json!({"chunk": c.chunk}),
                        delay_ms: c.delay_ms,
                    })
                    .collect(),
                outcome: Some(match &it.error {
                    Some(e) => json!({"error": {"kind": e.kind, "message": e.message}}),
                    None => json!({"output": null}),
                }),
                composite: false,
                line: self.line_of(i),
            })
            .collect()
    }

    /// The cassette of a session's calls under `header`; `source` names the
    /// file in errors.
    pub(crate) fn of_entries(mut header: CassetteHeader, calls: &[&Entry], source: &str) -> Result<Cassette> {
        let mut interactions = Vec::with_capacity(calls.len());
        for c in calls {
            let mut chunks = Vec::with_capacity(c.items.len());
            for item in &c.items {
                if let Some(chunk) = item.value.get("chunk") {
                    let chunk = serde_json::from_value(chunk.clone()).map_err(|e| {
                        Error::new(
                            ErrorKind::Step,
                            format!("{source}: cannot record a chunk after redaction: {e}"),
                        )
                    })?;
                    chunks.push(RecordedChunk {
                        chunk,
                        delay_ms: item.delay_ms,
                    });
                }
            }
            interactions.push(Interaction {
                request: c.input.clone(),
                chunks,
                error: c.outcome.as_ref().and_then(recorded_error),
            });
        }
        header.interactions = interactions.len();
        let mut cassette = Cassette {
            header,
            interactions,
            lines: Vec::new(),
        };
        cassette.index_lines();
        Ok(cassette)
    }
}

/// A model's name, run metadata and invocation parameters: the header of
/// what its recorder records.
#[derive(Debug)]
pub(crate) struct RecordedModel {
    pub(crate) name: String,
    /// Without the version-specific `lc_versions`.
    pub(crate) metadata: Map,
    /// Not redacted yet.
    pub(crate) params: Map,
}

/// A cassette file, as a recorder's session writes it.
#[derive(Debug)]
pub(crate) struct CassetteFile {
    /// The header as read (or a new one's).
    read: CassetteHeader,
    /// The live model, whose name, metadata and parameters head the file
    /// once it records.
    live: Option<RecordedModel>,
}

static CASSETTE_TERMS: Terms = Terms {
    file: "cassette",
    entry: "interaction",
    call: "request",
    answer: "answer",
    by_place: false,
    repeats: Some("the recorder allows repeats (Recorder::allow_repeats)"),
    replay_only: (
        "this recorder replays only: it has no live model",
        "to record it, wrap the live model in Recorder::new and run with RUNWRIGHT_RECORD=new_episodes",
    ),
};

impl CassetteFile {
    pub(crate) fn new(read: CassetteHeader, live: Option<RecordedModel>) -> Self {
        CassetteFile { read, live }
    }

    /// The header: the live model's once a call was recorded, else the one
    /// read.
    pub(crate) fn header(&self, recorded: bool, redactions: &Redactions) -> CassetteHeader {
        let mut h = self.read.clone();
        if let Some(live) = self.live.as_ref().filter(|_| recorded) {
            let mut params = Value::Object(live.params.clone());
            redactions.apply(&mut params);
            h.model.clone_from(&live.name);
            h.metadata.clone_from(&live.metadata);
            h.params = match params {
                Value::Object(m) => m,
                _ => Map::new(),
            };
        }
        h
    }
}

impl Format for CassetteFile {
    fn terms(&self) -> &'static Terms {
        &CASSETTE_TERMS
    }

    fn text(&self, path: &Path, calls: &[&Entry], settings: &Settings) -> Result<String> {
        let header = self.header(true, &settings.redactions);
        Ok(Cassette::of_entries(header, calls, &path.display().to_string())?.to_jsonl())
    }
}
