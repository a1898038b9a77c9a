//! Chat messages, in LangChain's shapes.
//!
//! A chat model takes a list of [`Message`]s and answers with an
//! [`AIMessage`], or, streaming, with [`AIMessageChunk`]s that add up (with
//! [`Chunk::concat`]) exactly as LangChain's `+` does:
//! text concatenated, tool-call pieces merged by index and re-parsed, token
//! counts summed.
//!
//! Each type serializes to the JSON that LangChain's events carry
//! (`{"type": "HumanMessage", "content": "hi"}`) and reads it back.
//!
//! ```
//! use runwright::{AIMessageChunk, Chunk, HumanMessage, Message};
//!
//! let question = Message::from(HumanMessage::new("hi"));
//! assert_eq!(serde_json::to_string(&question).unwrap(), r#"{"type":"HumanMessage","content":"hi"}"#);
//!
//! let mut answer = AIMessageChunk::new("Hel").with_id("lc_run--1");
//! answer.concat(AIMessageChunk::new("lo"));
//! assert_eq!(answer.text(), "Hello");
//! assert_eq!(answer.id.as_deref(), Some("lc_run--1"));
//! ```

mod ai;
mod json_chunk;
mod lazy_map;
mod merge;
mod plain;
mod tool;
mod tool_call;
mod usage;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as Json;

use crate::error::{Error, ErrorKind};
use crate::value::{Chunk, Map};

pub use ai::{AIMessage, AIMessageChunk, ChunkPosition};
pub use lazy_map::LazyMap;
pub use plain::{HumanMessage, SystemMessage};
pub use tool::{ToolMessage, ToolStatus};
pub use tool_call::{InvalidToolCall, ToolCall, ToolCallChunk};
pub use usage::UsageMetadata;

/// What a message says: a text, or a list of content blocks (strings, or
/// objects such as `{"type": "text", "text": "..."}` or image blocks).
///
/// Serializes as a JSON string or array.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Content blocks.
    Blocks(Vec<Json>),
}

impl Content {
    /// The text: the string itself, or the string blocks and the `text` of
    /// `{"type": "text"}` blocks, concatenated (LangChain's `message.text`).
    ///
    /// ```
    /// use runwright::messages::Content;
    /// let c = Content::Blocks(vec![
    ///     serde_json::json!("a"),
    ///     serde_json::json!({"type": "image", "url": "x"}),
    ///     serde_json::json!({"type": "text", "text": "b"}),
    /// ]);
    /// assert_eq!(c.text(), "ab");
    /// ```
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Content::Text(s) => Cow::Borrowed(s),
            Content::Blocks(blocks) => {
                let mut out = String::new();
                for block in blocks {
                    match block {
                        Json::String(s) => out.push_str(s),
                        Json::Object(o) if o.get("type").and_then(Json::as_str) == Some("text") => {
                            if let Some(t) = o.get("text").and_then(Json::as_str) {
                                out.push_str(t);
                            }
                        }
                        _ => {}
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    /// The text, when the content is plain text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Content::Text(s) => Some(s),
            Content::Blocks(_) => None,
        }
    }

    /// Whether there is nothing: an empty text or no blocks.
    pub fn is_empty(&self) -> bool {
        match self {
            Content::Text(s) => s.is_empty(),
            Content::Blocks(b) => b.is_empty(),
        }
    }
}

impl Default for Content {
    fn default() -> Self {
        Content::Text(String::new())
    }
}

impl fmt::Display for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl From<&str> for Content {
    fn from(s: &str) -> Self {
        Content::Text(s.to_owned())
    }
}

impl From<String> for Content {
    fn from(s: String) -> Self {
        Content::Text(s)
    }
}

impl From<&String> for Content {
    fn from(s: &String) -> Self {
        Content::Text(s.clone())
    }
}

impl From<Vec<Json>> for Content {
    fn from(blocks: Vec<Json>) -> Self {
        Content::Blocks(blocks)
    }
}

/// Contents add up as LangChain's `merge_content` does.
impl Chunk for Content {
    fn concat(&mut self, next: Self) {
        merge::merge_content(self, next);
    }
}

/// Any chat message.
///
/// Serializes as the message itself; deserializes from a message object
/// (`{"type": "HumanMessage", ...}`, also with the short types `human`,
/// `ai`, `system`, `tool`, or OpenAI's `{"role": "user", ...}`), a
/// `[role, content]` pair, or a bare string (a human message), as
/// LangChain's `convert_to_messages` accepts.
///
/// ```
/// use runwright::Message;
/// let m: Vec<Message> = serde_json::from_str(
///     r#"[{"type": "HumanMessage", "content": "hi"}, ["ai", "hello"], {"role": "user", "content": "bye"}]"#,
/// ).unwrap();
/// assert_eq!(m[0], Message::human("hi"));
/// assert_eq!(m[1], Message::ai("hello"));
/// assert_eq!(m[2].text(), "bye");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Message {
    /// A system message.
    System(SystemMessage),
    /// A human (user) message.
    Human(HumanMessage),
    /// A complete AI message.
    Ai(AIMessage),
    /// A streamed piece of an AI message (or the sum of pieces).
    AiChunk(AIMessageChunk),
    /// A tool's answer to a tool call.
    Tool(ToolMessage),
}

impl Message {
    /// A [`SystemMessage`].
    pub fn system(content: impl Into<Content>) -> Self {
        Message::System(SystemMessage::new(content))
    }

    /// A [`HumanMessage`].
    pub fn human(content: impl Into<Content>) -> Self {
        Message::Human(HumanMessage::new(content))
    }

    /// An [`AIMessage`].
    pub fn ai(content: impl Into<Content>) -> Self {
        Message::Ai(AIMessage::new(content))
    }

    /// A [`ToolMessage`] answering the call `tool_call_id`.
    pub fn tool(content: impl Into<Content>, tool_call_id: impl Into<String>) -> Self {
        Message::Tool(ToolMessage::new(content, tool_call_id))
    }

    /// Reads a message from JSON, in any of the forms listed on [`Message`].
    pub fn from_json(value: Json) -> crate::error::Result<Message> {
        let wire = match value {
            Json::String(s) => return Ok(Message::human(s)),
            Json::Array(pair) if pair.len() == 2 => {
                let mut pair = pair.into_iter();
                let (role, content) = (pair.next(), pair.next());
                let role = match role {
                    Some(Json::String(role)) => role,
                    _ => return Err(invalid("a [role, content] pair needs a string role")),
                };
                let content: Content =
                    serde_json::from_value(content.unwrap_or(Json::Null)).map_err(|e| invalid(e.to_string()))?;
                Wire {
                    kind: Some(role),
                    content: Some(content),
                    ..Wire::default()
                }
            }
            Json::Object(_) => serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?,
            other => {
                return Err(invalid(format!(
                    "expected a message (an object, a [role, content] pair or a string), got {other}"
                )))
            }
        };
        wire.into_message(None).map_err(invalid)
    }

    /// The content.
    pub fn content(&self) -> &Content {
        match self {
            Message::System(m) => &m.content,
            Message::Human(m) => &m.content,
            Message::Ai(m) => &m.content,
            Message::AiChunk(m) => &m.content,
            Message::Tool(m) => &m.content,
        }
    }

    /// The text of the content (see [`Content::text`]).
    pub fn text(&self) -> Cow<'_, str> {
        self.content().text()
    }

    /// The message's id.
    pub fn id(&self) -> Option<&str> {
        match self {
            Message::System(m) => m.id.as_deref(),
            Message::Human(m) => m.id.as_deref(),
            Message::Ai(m) => m.id.as_deref(),
            Message::AiChunk(m) => m.id.as_deref(),
            Message::Tool(m) => m.id.as_deref(),
        }
    }

    /// The message's name.
    pub fn name(&self) -> Option<&str> {
        match self {
            Message::System(m) => m.name.as_deref(),
            Message::Human(m) => m.name.as_deref(),
            Message::Ai(m) => m.name.as_deref(),
            Message::AiChunk(m) => m.name.as_deref(),
            Message::Tool(m) => m.name.as_deref(),
        }
    }

    /// The LangChain class name, as the JSON `type` says: `SystemMessage`,
    /// `HumanMessage`, `AIMessage`, `AIMessageChunk` or `ToolMessage`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::System(_) => "SystemMessage",
            Message::Human(_) => "HumanMessage",
            Message::Ai(_) => "AIMessage",
            Message::AiChunk(_) => "AIMessageChunk",
            Message::Tool(_) => "ToolMessage",
        }
    }

    /// LangChain's short message type: `system`, `human`, `ai` or `tool`
    /// (an `AIMessageChunk` is `ai` too).
    pub fn role(&self) -> &'static str {
        match self {
            Message::System(_) => "system",
            Message::Human(_) => "human",
            Message::Ai(_) | Message::AiChunk(_) => "ai",
            Message::Tool(_) => "tool",
        }
    }

    /// The tool calls of an AI message (empty for other messages).
    pub fn tool_calls(&self) -> &[ToolCall] {
        match self {
            Message::Ai(m) => &m.tool_calls,
            Message::AiChunk(m) => &m.tool_calls,
            _ => &[],
        }
    }
}

/// Two AI chunks merge; any other pair keeps the later message.
impl Chunk for Message {
    fn concat(&mut self, next: Self) {
        match (self, next) {
            (Message::AiChunk(a), Message::AiChunk(b)) => a.concat(b),
            (slot, next) => *slot = next,
        }
    }
}

impl From<&str> for Message {
    /// A human message, as LangChain reads a bare string.
    fn from(s: &str) -> Self {
        Message::human(s)
    }
}

impl From<String> for Message {
    /// A human message, as LangChain reads a bare string.
    fn from(s: String) -> Self {
        Message::human(s)
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Message::from_json(Json::deserialize(d)?).map_err(|e| D::Error::custom(e.message()))
    }
}

fn invalid(message: impl Into<Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}

/// Writes the fields every message has: `type`, `content`, then `name`,
/// `id`, `additional_kwargs` and `response_metadata` when set.
pub(crate) fn serialize_common<M: SerializeMap>(
    m: &mut M,
    type_name: &str,
    content: &Content,
    name: &Option<String>,
    id: &Option<String>,
    additional_kwargs: &Map,
    response_metadata: &Map,
) -> Result<(), M::Error> {
    m.serialize_entry("type", type_name)?;
    m.serialize_entry("content", content)?;
    if let Some(name) = name {
        m.serialize_entry("name", name)?;
    }
    if let Some(id) = id {
        m.serialize_entry("id", id)?;
    }
    if !additional_kwargs.is_empty() {
        m.serialize_entry("additional_kwargs", additional_kwargs)?;
    }
    if !response_metadata.is_empty() {
        m.serialize_entry("response_metadata", response_metadata)?;
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    System,
    Human,
    Ai,
    AiChunk,
    Tool,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "SystemMessage" | "SystemMessageChunk" | "system" | "developer" => Kind::System,
            "HumanMessage" | "HumanMessageChunk" | "human" | "user" => Kind::Human,
            "AIMessage" | "ai" | "assistant" => Kind::Ai,
            "AIMessageChunk" => Kind::AiChunk,
            "ToolMessage" | "ToolMessageChunk" | "tool" => Kind::Tool,
            _ => return None,
        })
    }
}

/// Accepts a string or a number, as LangChain coerces ids to strings.
fn de_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Json>::deserialize(d)? {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s),
        Some(Json::Number(n)) => Some(n.to_string()),
        Some(other) => return Err(D::Error::custom(format!("expected a string id, got {other}"))),
    })
}

/// Every field any message has, all optional: what the JSON forms are read
/// into before they become one message type.
#[derive(Default, Deserialize)]
struct Wire {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "de_string_or_number")]
    id: Option<String>,
    #[serde(default)]
    additional_kwargs: Option<Map>,
    #[serde(default)]
    response_metadata: Option<Map>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
    #[serde(default)]
    invalid_tool_calls: Option<Vec<InvalidToolCall>>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    tool_call_chunks: Option<Vec<ToolCallChunk>>,
    #[serde(default)]
    chunk_position: Option<ChunkPosition>,
    #[serde(default, deserialize_with = "de_string_or_number")]
    tool_call_id: Option<String>,
    #[serde(default)]
    status: Option<ToolStatus>,
    #[serde(default)]
    artifact: Option<Json>,
}

impl Wire {
    /// The message the fields describe; `expected` is the kind to assume
    /// when the JSON names none.
    fn into_message(self, expected: Option<Kind>) -> Result<Message, String> {
        let named = self.role.as_deref().or(self.kind.as_deref());
        let kind = match named {
            Some(name) => Kind::parse(name).ok_or_else(|| {
                format!(
                    "unknown message type `{name}`: expected one of SystemMessage, HumanMessage, AIMessage, \
                     AIMessageChunk, ToolMessage (or system, human, user, ai, assistant, tool)"
                )
            })?,
            None => expected.ok_or("a message needs a `type` or a `role`")?,
        };
        let content = self.content.unwrap_or_default();
        let additional_kwargs = LazyMap::from(self.additional_kwargs.unwrap_or_default());
        let response_metadata = LazyMap::from(self.response_metadata.unwrap_or_default());
        Ok(match kind {
            Kind::System => Message::System(SystemMessage {
                content,
                name: self.name,
                id: self.id,
                additional_kwargs,
                response_metadata,
            }),
            Kind::Human => Message::Human(HumanMessage {
                content,
                name: self.name,
                id: self.id,
                additional_kwargs,
                response_metadata,
            }),
            Kind::Ai => Message::Ai(AIMessage {
                content,
                name: self.name,
                id: self.id,
                additional_kwargs,
                response_metadata,
                tool_calls: self.tool_calls.unwrap_or_default(),
                invalid_tool_calls: self.invalid_tool_calls.unwrap_or_default(),
                usage_metadata: self.usage_metadata.map(Box::new),
            }),
            Kind::AiChunk => {
                let mut chunk = AIMessageChunk {
                    content,
                    name: self.name,
                    id: self.id,
                    additional_kwargs,
                    response_metadata,
                    tool_calls: self.tool_calls.unwrap_or_default(),
                    invalid_tool_calls: self.invalid_tool_calls.unwrap_or_default(),
                    usage_metadata: self.usage_metadata.map(Box::new),
                    tool_call_chunks: self.tool_call_chunks.unwrap_or_default(),
                    chunk_position: self.chunk_position,
                    whole: false,
                };
                chunk.init_tool_calls();
                Message::AiChunk(chunk)
            }
            Kind::Tool => Message::Tool(ToolMessage {
                content,
                name: self.name,
                id: self.id,
                additional_kwargs,
                response_metadata,
                tool_call_id: self.tool_call_id.ok_or("a ToolMessage needs a `tool_call_id`")?,
                status: self.status.unwrap_or_default(),
                artifact: self.artifact,
            }),
        })
    }
}

/// Reads one message type from any message JSON whose kind fits.
pub(crate) fn deserialize_as<'de, D, T>(d: D, kind: &'static str, pick: fn(Message) -> Option<T>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let wire = Wire::deserialize(d)?;
    let default = Kind::parse(kind);
    let message = wire.into_message(default).map_err(D::Error::custom)?;
    let found = message.type_name();
    pick(message).ok_or_else(|| D::Error::custom(format!("expected a {kind}, found a {found}")))
}

/// The builder methods and `text` every message type has: `with_id`,
/// `with_name`, and, for the AI types (`ai`), `with_usage` and
/// `with_response_metadata`. Expands inside an `impl` block.
macro_rules! message_methods {
    () => {
        /// Sets the id.
        #[must_use]
        pub fn with_id(mut self, id: impl Into<String>) -> Self {
            self.id = Some(id.into());
            self
        }

        /// Sets the name.
        #[must_use]
        pub fn with_name(mut self, name: impl Into<String>) -> Self {
            self.name = Some(name.into());
            self
        }

        /// The text of the content (see [`Content::text`](crate::messages::Content::text)).
        pub fn text(&self) -> std::borrow::Cow<'_, str> {
            self.content.text()
        }
    };
    (ai) => {
        $crate::messages::message_methods!();

        /// Sets the token counts.
        #[must_use]
        pub fn with_usage(mut self, usage: $crate::messages::UsageMetadata) -> Self {
            self.usage_metadata = Some(Box::new(usage));
            self
        }

        /// Sets the response metadata.
        #[must_use]
        pub fn with_response_metadata(mut self, metadata: $crate::value::Map) -> Self {
            self.response_metadata = metadata.into();
            self
        }
    };
}
pub(crate) use message_methods;

/// Implements `Deserialize`, `Chunk` (the later message wins) and the
/// conversion into [`Message`] for a message type without chunk semantics.
macro_rules! message_basics {
    ($t:ident, $variant:ident, $type_name:expr) => {
        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::messages::deserialize_as(d, $type_name, |m| match m {
                    $crate::messages::Message::$variant(m) => Some(m),
                    _ => None,
                })
            }
        }

        impl $crate::value::Chunk for $t {}

        impl From<$t> for $crate::messages::Message {
            fn from(m: $t) -> Self {
                $crate::messages::Message::$variant(m)
            }
        }
    };
}
pub(crate) use message_basics;
