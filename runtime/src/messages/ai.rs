//! [`AIMessage`] and its streamed form [`AIMessageChunk`], which adds up as
//! LangChain's `add_ai_message_chunks`.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::merge::{merge_content, merge_dicts, merge_lists};
use super::message_methods;
use super::{
    deserialize_as, serialize_common, Content, InvalidToolCall, LazyMap, Message, ToolCall, ToolCallChunk,
    UsageMetadata,
};
use crate::python::json_dumps;
use crate::value::{Chunk, Map};

/// Where a chunk stands in its stream. Only the last one is marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChunkPosition {
    /// The stream's last chunk (`"last"`).
    Last,
}

/// A model's answer (LangChain's `AIMessage`): text and/or tool calls.
///
/// JSON: the common message fields, then `"tool_calls"` and
/// `"invalid_tool_calls"` (always), and `"usage_metadata"` when set.
///
/// ```
/// use runwright::{AIMessage, ToolCall};
/// let m = AIMessage::new("")
///     .with_id("lc_run--1")
///     .with_tool_calls(vec![ToolCall::new("get_items", serde_json::json!({"place": "bedroom"})).with_id("call_1")]);
/// assert_eq!(
///     serde_json::to_string(&m).unwrap(),
///     r#"{"type":"AIMessage","content":"","id":"lc_run--1","tool_calls":[{"name":"get_items","args":{"place":"bedroom"},"id":"call_1","type":"tool_call"}],"invalid_tool_calls":[]}"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct AIMessage {
    /// What the model said.
    pub content: Content,
    /// An optional name.
    pub name: Option<String>,
    /// The message id (`lc_run--<run id>` when the model gave none).
    pub id: Option<String>,
    /// Extra provider-specific data.
    pub additional_kwargs: LazyMap,
    /// Response metadata (model name, finish reason, ...).
    pub response_metadata: LazyMap,
    /// The tools the model asks to call.
    pub tool_calls: Vec<ToolCall>,
    /// Tool calls whose arguments did not parse.
    pub invalid_tool_calls: Vec<InvalidToolCall>,
    /// Token counts.
    pub usage_metadata: Option<Box<UsageMetadata>>,
}

impl AIMessage {
    /// A message with this content.
    pub fn new(content: impl Into<Content>) -> Self {
        AIMessage {
            content: content.into(),
            ..Default::default()
        }
    }

    message_methods!(ai);

    /// Sets the tool calls.
    #[must_use]
    pub fn with_tool_calls(mut self, tool_calls: Vec<ToolCall>) -> Self {
        self.tool_calls = tool_calls;
        self
    }
}

impl Serialize for AIMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        serialize_common(
            &mut m,
            "AIMessage",
            &self.content,
            &self.name,
            &self.id,
            &self.additional_kwargs,
            &self.response_metadata,
        )?;
        m.serialize_entry("tool_calls", &self.tool_calls)?;
        m.serialize_entry("invalid_tool_calls", &self.invalid_tool_calls)?;
        if let Some(usage) = &self.usage_metadata {
            m.serialize_entry("usage_metadata", usage)?;
        }
        m.end()
    }
}

/// Reads an `AIMessage` JSON, or an `AIMessageChunk` one (dropping its chunk
/// fields).
impl<'de> Deserialize<'de> for AIMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_as(d, "AIMessage", |m| match m {
            Message::Ai(m) => Some(m),
            Message::AiChunk(m) => Some(m.into()),
            _ => None,
        })
    }
}

/// The later message wins: whole messages do not add up.
impl Chunk for AIMessage {}

impl From<AIMessage> for Message {
    fn from(m: AIMessage) -> Self {
        Message::Ai(m)
    }
}

impl From<&str> for AIMessage {
    fn from(s: &str) -> Self {
        AIMessage::new(s)
    }
}

impl From<String> for AIMessage {
    fn from(s: String) -> Self {
        AIMessage::new(s)
    }
}

/// A piece of a streamed AI message (LangChain's `AIMessageChunk`).
///
/// Chunks add up with [`Chunk::concat`] as LangChain's `+` does:
///
/// * content: texts concatenate; content blocks merge by their `index`;
/// * `tool_call_chunks`: pieces with the same `index` merge (`args` texts
///   concatenate, as do `name`s when several pieces carry one), and
///   `tool_calls` / `invalid_tool_calls` are parsed again from the merged
///   pieces with partial-JSON parsing (see
///   [`init_tool_calls`](Self::init_tool_calls));
/// * `usage_metadata` sums; `additional_kwargs` and `response_metadata` merge
///   key by key;
/// * the id is the first provider id (one not starting with `lc_`), else
///   the first `lc_run-` id, else the first other one;
/// * `chunk_position` is `last` if either is.
///
/// JSON: as [`AIMessage`] (type `AIMessageChunk`), then
/// `"tool_call_chunks"` (always) and `"chunk_position"` when set.
///
/// ```
/// use runwright::{AIMessageChunk, Chunk, ToolCallChunk};
/// let mut m = AIMessageChunk::new("")
///     .with_tool_call_chunks(vec![ToolCallChunk::new(Some("get_items"), Some("{\"pla"), Some("call_1"), Some(0))]);
/// m.concat(AIMessageChunk::new("").with_tool_call_chunks(vec![ToolCallChunk::new(None, Some("ce\": \"bed"), None, Some(0))]));
/// assert_eq!(m.tool_calls[0].args["place"], "bed");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct AIMessageChunk {
    /// What the model said so far.
    pub content: Content,
    /// An optional name.
    pub name: Option<String>,
    /// The message id.
    pub id: Option<String>,
    /// Extra provider-specific data.
    pub additional_kwargs: LazyMap,
    /// Response metadata.
    pub response_metadata: LazyMap,
    /// The tool calls parsed from `tool_call_chunks`.
    pub tool_calls: Vec<ToolCall>,
    /// The tool calls whose arguments are not a JSON object (yet).
    pub invalid_tool_calls: Vec<InvalidToolCall>,
    /// Token counts.
    pub usage_metadata: Option<Box<UsageMetadata>>,
    /// The streamed pieces of tool calls: the source of `tool_calls` and
    /// `invalid_tool_calls`.
    pub tool_call_chunks: Vec<ToolCallChunk>,
    /// Set on the stream's last chunk.
    pub chunk_position: Option<ChunkPosition>,
    /// Whether this is a whole message, not a piece of a stream: what an
    /// invoked chat model returns (and what an [`AIMessage`] converts to).
    /// A whole message serializes as the `AIMessage` LangChain's invoked
    /// models return, so a step it is handed shows an `AIMessage` input;
    /// adding a chunk to it makes it a piece again.
    pub whole: bool,
}

impl AIMessageChunk {
    /// A chunk with this content.
    pub fn new(content: impl Into<Content>) -> Self {
        // Every field by hand: `..Default::default()` would make a default
        // content only to drop it, on the per-chunk path of every model.
        AIMessageChunk {
            content: content.into(),
            name: None,
            id: None,
            additional_kwargs: LazyMap::default(),
            response_metadata: LazyMap::default(),
            tool_calls: Vec::new(),
            invalid_tool_calls: Vec::new(),
            usage_metadata: None,
            tool_call_chunks: Vec::new(),
            chunk_position: None,
            whole: false,
        }
    }

    message_methods!(ai);

    /// Sets the tool-call pieces, and the tool calls parsed from them.
    #[must_use]
    pub fn with_tool_call_chunks(mut self, chunks: Vec<ToolCallChunk>) -> Self {
        self.tool_call_chunks = chunks;
        self.init_tool_calls();
        self
    }

    /// Sets whole tool calls; without tool-call pieces, each becomes one
    /// piece (its arguments as Python's `json.dumps` writes them, no index).
    #[must_use]
    pub fn with_tool_calls(mut self, tool_calls: Vec<ToolCall>) -> Self {
        self.tool_calls = tool_calls;
        self.init_tool_calls();
        self
    }

    /// Sets the chunk position.
    #[must_use]
    pub fn with_chunk_position(mut self, position: ChunkPosition) -> Self {
        self.chunk_position = Some(position);
        self
    }

    /// Brings `tool_calls` and `tool_call_chunks` in line, as LangChain's
    /// `init_tool_calls` validator does on every construction.
    ///
    /// With pieces, the calls are parsed from them: arguments that parse (as
    /// partial JSON; empty arguments are `{}`) to an object make a
    /// [`ToolCall`], anything else an [`InvalidToolCall`] with the raw text
    /// and no error. Without pieces, the calls and invalid calls become
    /// pieces. Call it after changing `tool_call_chunks` by hand.
    pub fn init_tool_calls(&mut self) {
        if self.tool_call_chunks.is_empty() {
            let from_calls = self.tool_calls.iter().map(|tc| ToolCallChunk {
                name: Some(tc.name.clone()),
                args: Some(json_dumps(&serde_json::Value::Object(tc.args.clone()), true)),
                id: tc.id.clone(),
                index: None,
            });
            let from_invalid = self.invalid_tool_calls.iter().map(|tc| ToolCallChunk {
                name: tc.name.clone(),
                args: tc.args.clone(),
                id: tc.id.clone(),
                index: None,
            });
            self.tool_call_chunks = from_calls.chain(from_invalid).collect();
            return;
        }
        let mut tool_calls = Vec::new();
        let mut invalid_tool_calls = Vec::new();
        for chunk in &self.tool_call_chunks {
            let args = match chunk.args.as_deref() {
                None | Some("") => Some(serde_json::Value::Object(Map::new())),
                Some(text) => parse_partial_json(text),
            };
            match args {
                Some(serde_json::Value::Object(args)) => tool_calls.push(ToolCall {
                    name: chunk.name.clone().unwrap_or_default(),
                    args,
                    id: chunk.id.clone(),
                }),
                _ => invalid_tool_calls.push(InvalidToolCall {
                    name: chunk.name.clone(),
                    args: chunk.args.clone(),
                    id: chunk.id.clone(),
                    error: None,
                }),
            }
        }
        self.tool_calls = tool_calls;
        self.invalid_tool_calls = invalid_tool_calls;
    }
}

fn parse_partial_json(text: &str) -> Option<serde_json::Value> {
    crate::python::partial_json::parse_partial_json(text)
}

/// The rank of an id when chunks merge: provider ids (not `lc_`-prefixed)
/// first, then `lc_run-` ids, then other `lc_` ids.
fn id_rank(id: &str) -> u8 {
    if !id.starts_with("lc_") {
        2
    } else if id.starts_with("lc_run-") {
        1
    } else {
        0
    }
}

/// LangChain's `add_ai_message_chunks(self, next)`.
impl Chunk for AIMessageChunk {
    fn concat(&mut self, next: Self) {
        self.whole = false;
        merge_content(&mut self.content, next.content);
        // Most chunks carry no metadata: merge (and allocate) only when one does.
        if !next.additional_kwargs.is_empty() {
            merge_dicts(&mut self.additional_kwargs, next.additional_kwargs.into_map());
        }
        if !next.response_metadata.is_empty() {
            merge_dicts(&mut self.response_metadata, next.response_metadata.into_map());
        }

        // Text-only chunks (the common case, once per streamed token) skip
        // the tool-call merge entirely.
        let has_pieces = !self.tool_call_chunks.is_empty() || !next.tool_call_chunks.is_empty();
        if has_pieces {
            let mut raw: Vec<serde_json::Value> = self.tool_call_chunks.iter().map(ToolCallChunk::to_json).collect();
            merge_lists(
                &mut raw,
                next.tool_call_chunks.iter().map(ToolCallChunk::to_json).collect(),
            );
            self.tool_call_chunks = raw.iter().map(ToolCallChunk::from_json).collect();
        }

        match (self.usage_metadata.as_mut(), next.usage_metadata) {
            (Some(a), Some(b)) => (**a).concat(*b),
            (None, Some(b)) => self.usage_metadata = Some(b),
            (_, None) => {}
        }

        self.merge_id(&next.id);
        if next.chunk_position == Some(ChunkPosition::Last) {
            self.chunk_position = Some(ChunkPosition::Last);
        }

        // LangChain builds the sum from the merged pieces alone; calls set
        // without pieces do not survive a merge.
        self.tool_calls.clear();
        self.invalid_tool_calls.clear();
        if has_pieces {
            self.init_tool_calls();
        }
    }

    /// A text chunk onto a text chunk (a streamed token, the common case)
    /// adds up without copying `next`; anything else goes through
    /// [`concat`](Chunk::concat).
    fn concat_ref(&mut self, next: &Self) {
        let plain = self.tool_call_chunks.is_empty()
            && next.tool_call_chunks.is_empty()
            && next.additional_kwargs.is_empty()
            && next.response_metadata.is_empty()
            && next.usage_metadata.is_none();
        match (&mut self.content, &next.content) {
            (Content::Text(a), Content::Text(b)) if plain => {
                a.push_str(b);
                self.whole = false;
                self.merge_id(&next.id);
                if next.chunk_position == Some(ChunkPosition::Last) {
                    self.chunk_position = Some(ChunkPosition::Last);
                }
                // As in `concat`: without pieces the sum has no tool calls.
                self.tool_calls.clear();
                self.invalid_tool_calls.clear();
            }
            _ => self.concat(next.clone()),
        }
    }
}

impl AIMessageChunk {
    /// Whether the sum takes `next`'s id: the first provider id wins, then
    /// the first `lc_run-` id, then the first other one; empty ids never do.
    fn merged_id_from(&self, next: Option<&str>) -> bool {
        match (self.id.as_deref().filter(|s| !s.is_empty()), next) {
            (_, None | Some("")) => false,
            (None, Some(_)) => true,
            (Some(a), Some(b)) => id_rank(a) < id_rank(b),
        }
    }

    fn merge_id(&mut self, next: &Option<String>) {
        if self.merged_id_from(next.as_deref()) {
            self.id.clone_from(next);
        } else if self.id.as_deref() == Some("") {
            self.id = None;
        }
    }
}

impl Serialize for AIMessageChunk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.whole {
            return AIMessage::from(self.clone()).serialize(s);
        }
        let mut m = s.serialize_map(None)?;
        serialize_common(
            &mut m,
            "AIMessageChunk",
            &self.content,
            &self.name,
            &self.id,
            &self.additional_kwargs,
            &self.response_metadata,
        )?;
        m.serialize_entry("tool_calls", &self.tool_calls)?;
        m.serialize_entry("invalid_tool_calls", &self.invalid_tool_calls)?;
        if let Some(usage) = &self.usage_metadata {
            m.serialize_entry("usage_metadata", usage)?;
        }
        m.serialize_entry("tool_call_chunks", &self.tool_call_chunks)?;
        if let Some(position) = &self.chunk_position {
            m.serialize_entry("chunk_position", position)?;
        }
        m.end()
    }
}

/// Reads an `AIMessageChunk` JSON, or an `AIMessage` one; the tool calls are
/// brought in line with the pieces as on construction.
impl<'de> Deserialize<'de> for AIMessageChunk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_as(d, "AIMessageChunk", |m| match m {
            Message::AiChunk(m) => Some(m),
            Message::Ai(m) => Some(m.into()),
            _ => None,
        })
    }
}

impl From<AIMessageChunk> for Message {
    fn from(m: AIMessageChunk) -> Self {
        Message::AiChunk(m)
    }
}

impl From<&str> for AIMessageChunk {
    fn from(s: &str) -> Self {
        AIMessageChunk::new(s)
    }
}

impl From<String> for AIMessageChunk {
    fn from(s: String) -> Self {
        AIMessageChunk::new(s)
    }
}

/// The complete message: the chunk's fields without `tool_call_chunks` and
/// `chunk_position` (LangChain's `message_chunk_to_message`).
impl From<AIMessageChunk> for AIMessage {
    fn from(c: AIMessageChunk) -> Self {
        AIMessage {
            content: c.content,
            name: c.name,
            id: c.id,
            additional_kwargs: c.additional_kwargs,
            response_metadata: c.response_metadata,
            tool_calls: c.tool_calls,
            invalid_tool_calls: c.invalid_tool_calls,
            usage_metadata: c.usage_metadata,
        }
    }
}

/// A chunk holding the whole message; its tool calls become pieces.
impl From<AIMessage> for AIMessageChunk {
    fn from(m: AIMessage) -> Self {
        let mut chunk = AIMessageChunk {
            content: m.content,
            name: m.name,
            id: m.id,
            additional_kwargs: m.additional_kwargs,
            response_metadata: m.response_metadata,
            tool_calls: m.tool_calls,
            invalid_tool_calls: m.invalid_tool_calls,
            usage_metadata: m.usage_metadata,
            tool_call_chunks: Vec::new(),
            chunk_position: None,
            whole: true,
        };
        chunk.init_tool_calls();
        chunk
    }
}
