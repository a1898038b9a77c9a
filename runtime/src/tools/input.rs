//! [`ToolInput`]: what a tool accepts, and [`ToolCallId`], the id a tool
//! body can ask for.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;

use crate::messages::ToolCall;
use crate::value::{Chunk, Map};

/// What a tool accepts: a JSON object of arguments, a bare string (for a
/// tool with one argument), or a model's tool call.
///
/// Converts from all of those, so `tool.invoke("hello".into())`,
/// `tool.invoke(json!({"word": "hello"}).into())` and
/// `tool.invoke(call.into())` all work; a JSON object with
/// `"type": "tool_call"` is read as a tool call. It serializes as the value
/// it holds, which is how a root tool's input shows in events.
///
/// ```
/// use runwright::tools::ToolInput;
/// use serde_json::json;
///
/// assert!(matches!(ToolInput::from("hello"), ToolInput::Text(_)));
/// assert!(matches!(ToolInput::from(json!({"word": "hello"})), ToolInput::Args(_)));
/// let call = json!({"name": "t", "args": {"word": "hi"}, "id": "call_1", "type": "tool_call"});
/// assert!(matches!(ToolInput::from(call), ToolInput::Call(_)));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ToolInput {
    /// A bare string: the value of the tool's only argument.
    Text(String),
    /// The arguments, which should be a JSON object (anything else is
    /// rejected when the tool runs, with an error saying what it expects).
    Args(Json),
    /// A model's request to call the tool: the tool runs on its `args` and
    /// answers with a [`ToolMessage`](crate::ToolMessage) carrying its id.
    Call(ToolCall),
}

impl ToolInput {
    /// The id of the tool call, when the input is one.
    pub fn tool_call_id(&self) -> Option<&str> {
        match self {
            ToolInput::Call(c) => c.id.as_deref(),
            _ => None,
        }
    }
}

impl From<String> for ToolInput {
    fn from(s: String) -> Self {
        ToolInput::Text(s)
    }
}

impl From<&str> for ToolInput {
    fn from(s: &str) -> Self {
        ToolInput::Text(s.to_owned())
    }
}

impl From<Map> for ToolInput {
    fn from(m: Map) -> Self {
        ToolInput::Args(Json::Object(m))
    }
}

impl From<ToolCall> for ToolInput {
    fn from(c: ToolCall) -> Self {
        ToolInput::Call(c)
    }
}

impl From<Json> for ToolInput {
    /// A string is [`Text`](ToolInput::Text); an object with
    /// `"type": "tool_call"`, a string `name` and an object `args` is a
    /// [`Call`](ToolInput::Call); anything else is [`Args`](ToolInput::Args).
    fn from(v: Json) -> Self {
        match v {
            Json::String(s) => ToolInput::Text(s),
            Json::Object(m) if is_tool_call(&m) => match serde_json::from_value::<ToolCall>(Json::Object(m.clone())) {
                Ok(call) => ToolInput::Call(call),
                Err(_) => ToolInput::Args(Json::Object(m)),
            },
            other => ToolInput::Args(other),
        }
    }
}

fn is_tool_call(m: &Map) -> bool {
    m.get("type").and_then(Json::as_str) == Some("tool_call")
        && m.get("name").is_some_and(Json::is_string)
        && m.get("args").is_some_and(Json::is_object)
}

impl Serialize for ToolInput {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolInput::Text(t) => t.serialize(s),
            ToolInput::Args(a) => a.serialize(s),
            ToolInput::Call(c) => c.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ToolInput {
    /// Any JSON value, read as [`From<serde_json::Value>`](#impl-From<Value>-for-ToolInput) does.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ToolInput::from(Json::deserialize(d)?))
    }
}

/// Streamed into a tool (`passthrough | tool`), pieces add up: strings
/// concatenate, argument objects merge key by key, anything else is replaced.
impl Chunk for ToolInput {
    fn concat(&mut self, next: Self) {
        match (self, next) {
            (ToolInput::Text(a), ToolInput::Text(b)) => a.push_str(&b),
            (ToolInput::Args(Json::Object(a)), ToolInput::Args(Json::Object(b))) => a.concat(b),
            (slot, next) => *slot = next,
        }
    }
}

/// The id of the model's tool call a tool runs for (`None` when the tool
/// was called with plain arguments). A `#[tool]` function gets it by taking
/// a parameter of this type, which is not part of the tool's JSON schema.
///
/// ```
/// use runwright::tools::ToolCallId;
/// let id = ToolCallId(Some("call_1".into()));
/// assert_eq!(id.as_deref(), Some("call_1"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ToolCallId(pub Option<String>);

impl std::ops::Deref for ToolCallId {
    type Target = Option<String>;
    fn deref(&self) -> &Option<String> {
        &self.0
    }
}
