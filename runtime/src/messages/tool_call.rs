//! Tool calls as an AI message carries them: [`ToolCall`], its streamed
//! pieces ([`ToolCallChunk`]) and the ones whose arguments did not parse
//! ([`InvalidToolCall`]).

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::value::{Chunk, Map};

/// A request from the model to call a tool (LangChain's `ToolCall`).
///
/// JSON: `{"name", "args", "id", "type": "tool_call"}`.
///
/// ```
/// use runwright::ToolCall;
/// use serde_json::json;
///
/// let call = ToolCall::new("get_items", json!({"place": "bedroom"})).with_id("call_1");
/// assert_eq!(
///     serde_json::to_value(&call).unwrap(),
///     json!({"name": "get_items", "args": {"place": "bedroom"}, "id": "call_1", "type": "tool_call"})
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ToolCall {
    /// The tool's name.
    pub name: String,
    /// The arguments, a JSON object.
    #[serde(default)]
    pub args: Map,
    /// The call's id, which the answering [`ToolMessage`](super::ToolMessage)
    /// repeats as its `tool_call_id`.
    #[serde(default)]
    pub id: Option<String>,
}

impl ToolCall {
    /// A call of `name` with `args` (a JSON object; anything else gives empty
    /// arguments).
    pub fn new(name: impl Into<String>, args: serde_json::Value) -> Self {
        let args = match args {
            serde_json::Value::Object(m) => m,
            _ => Map::new(),
        };
        ToolCall {
            name: name.into(),
            args,
            id: None,
        }
    }

    /// Sets the call's id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

impl Serialize for ToolCall {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("args", &self.args)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("type", "tool_call")?;
        m.end()
    }
}

impl Chunk for ToolCall {}

/// A piece of a tool call as a model streams it (LangChain's
/// `ToolCallChunk`): pieces with the same `index` add up, their `args`
/// strings concatenated.
///
/// JSON: `{"name", "args", "id", "index", "type": "tool_call_chunk"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ToolCallChunk {
    /// The tool's name (usually only in the first piece).
    #[serde(default)]
    pub name: Option<String>,
    /// A piece of the arguments' JSON text.
    #[serde(default)]
    pub args: Option<String>,
    /// The call's id (usually only in the first piece).
    #[serde(default)]
    pub id: Option<String>,
    /// Which call of the message the piece belongs to.
    #[serde(default)]
    pub index: Option<i64>,
}

impl ToolCallChunk {
    /// A piece with the given fields.
    pub fn new(name: Option<&str>, args: Option<&str>, id: Option<&str>, index: Option<i64>) -> Self {
        ToolCallChunk {
            name: name.map(str::to_owned),
            args: args.map(str::to_owned),
            id: id.map(str::to_owned),
            index,
        }
    }

    /// The piece as LangChain's merge sees it: its JSON, as its
    /// [`Serialize`] impl writes it.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        // Strings, an integer and nulls: serializing them cannot fail.
        serde_json::to_value(self).expect("a tool-call piece serializes to JSON")
    }

    /// `rtc.get(...)` of each field, as LangChain rebuilds a merged chunk.
    pub(crate) fn from_json(v: &serde_json::Value) -> Self {
        let string = |key: &str| v.get(key).and_then(serde_json::Value::as_str).map(str::to_owned);
        ToolCallChunk {
            name: string("name"),
            args: string("args"),
            id: string("id"),
            index: v.get("index").and_then(serde_json::Value::as_i64),
        }
    }
}

impl Serialize for ToolCallChunk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("args", &self.args)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("index", &self.index)?;
        m.serialize_entry("type", "tool_call_chunk")?;
        m.end()
    }
}

impl Chunk for ToolCallChunk {}

/// A tool call whose arguments are not a JSON object (LangChain's
/// `InvalidToolCall`): the raw text is kept.
///
/// JSON: `{"name", "args", "id", "error", "type": "invalid_tool_call"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct InvalidToolCall {
    /// The tool's name, if known.
    #[serde(default)]
    pub name: Option<String>,
    /// The arguments' raw text.
    #[serde(default)]
    pub args: Option<String>,
    /// The call's id, if known.
    #[serde(default)]
    pub id: Option<String>,
    /// What was wrong, if known.
    #[serde(default)]
    pub error: Option<String>,
}

impl InvalidToolCall {
    /// A call whose arguments (`args`, the raw text) did not parse.
    pub fn new(name: Option<&str>, args: Option<&str>, id: Option<&str>, error: Option<&str>) -> Self {
        InvalidToolCall {
            name: name.map(str::to_owned),
            args: args.map(str::to_owned),
            id: id.map(str::to_owned),
            error: error.map(str::to_owned),
        }
    }
}

impl Serialize for InvalidToolCall {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("args", &self.args)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("error", &self.error)?;
        m.serialize_entry("type", "invalid_tool_call")?;
        m.end()
    }
}

impl Chunk for InvalidToolCall {}
