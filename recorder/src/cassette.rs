//! [`Cassette`]: recorded chat-model calls, and their JSON Lines file.

use std::path::Path;

use runwright::models::ChatRequest;
use runwright::{AIMessageChunk, Error, ErrorKind, Map, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::files::{check_header, format_error, parse_lines, read_text};
use crate::normalize::Labels;
use crate::redact::Redactions;

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
    normalize_request_secrets(request, redactions).0
}

/// The normalized request, and the secret values redaction removed from it.
pub(crate) fn normalize_request_secrets(request: &ChatRequest, redactions: &Redactions) -> (Value, Vec<String>) {
    let mut v = json!({
        "messages": request.messages,
        "tools": request.tools,
        "params": request.params,
    });
    let secrets = redactions.redact(&mut v, &[]);
    Labels::default().apply("request", &mut v);
    (v, secrets)
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

    pub(crate) fn header_mut(&mut self) -> &mut CassetteHeader {
        &mut self.header
    }

    pub(crate) fn truncate(&mut self, n: usize) {
        self.interactions.truncate(n);
        self.header.interactions = self.interactions.len();
        self.index_lines();
    }
}
