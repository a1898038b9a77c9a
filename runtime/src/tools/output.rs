//! [`ToolOutput`]: what a tool gives.

use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use crate::messages::{Content, ToolMessage};
use crate::python::json_dumps;
use crate::value::Chunk;

/// What a tool gives: its function's value, or, when the tool was called
/// with a model's tool call, a [`ToolMessage`] answering that call. A tool
/// that [handles its errors](super::Tool::handle_errors) gives the error's
/// text instead of failing.
///
/// It serializes as the value, the message or the text, which is how
/// LangChain's tools show their output in events.
#[derive(Clone, Debug, PartialEq)]
// Not boxed: a tool gives one output per call, and a `ToolMessage` is matched
// on by users (`ToolOutput::Message(m)`) more than it is moved.
#[allow(clippy::large_enum_variant)]
pub enum ToolOutput<T> {
    /// The function's value (the tool was called with plain arguments).
    Value(T),
    /// A handled error's text (plain arguments, error handling on).
    Error(String),
    /// The answer to a model's tool call: the value as text (or the handled
    /// error's text, with `status: "error"`), the call's id and the tool's
    /// name.
    Message(ToolMessage),
}

impl<T> ToolOutput<T> {
    /// The function's value, if the tool gave one.
    pub fn value(&self) -> Option<&T> {
        match self {
            ToolOutput::Value(v) => Some(v),
            _ => None,
        }
    }

    /// [`value`](Self::value), consuming the output.
    pub fn into_value(self) -> Option<T> {
        match self {
            ToolOutput::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The answer to a tool call, if the tool was called with one.
    pub fn message(&self) -> Option<&ToolMessage> {
        match self {
            ToolOutput::Message(m) => Some(m),
            _ => None,
        }
    }

    /// [`message`](Self::message), consuming the output.
    pub fn into_message(self) -> Option<ToolMessage> {
        match self {
            ToolOutput::Message(m) => Some(m),
            _ => None,
        }
    }

    /// Whether the tool failed and handled its error (an
    /// [`Error`](ToolOutput::Error), or a message with `status: "error"`).
    pub fn is_error(&self) -> bool {
        match self {
            ToolOutput::Value(_) => false,
            ToolOutput::Error(_) => true,
            ToolOutput::Message(m) => m.status == crate::messages::ToolStatus::Error,
        }
    }
}

impl<T: Serialize> Serialize for ToolOutput<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolOutput::Value(v) => v.serialize(s),
            ToolOutput::Error(e) => e.serialize(s),
            ToolOutput::Message(m) => m.serialize(s),
        }
    }
}

/// A tool yields its output whole: a later output replaces an earlier one.
impl<T> Chunk for ToolOutput<T> {}

/// The text of the output: the string, the handled error, or the message's
/// text. Lets a string tool feed a step that takes a `String`.
impl From<ToolOutput<String>> for String {
    fn from(o: ToolOutput<String>) -> String {
        match o {
            ToolOutput::Value(s) | ToolOutput::Error(s) => s,
            ToolOutput::Message(m) => m.text().into_owned(),
        }
    }
}

/// The output as JSON, as it serializes.
impl<T: Serialize> From<ToolOutput<T>> for Json {
    fn from(o: ToolOutput<T>) -> Json {
        serde_json::to_value(&o).unwrap_or(Json::Null)
    }
}

/// How a tool's value becomes a [`ToolMessage`]'s content (LangChain's
/// `_format_output`): a string as is, a list of strings and objects as
/// content blocks, anything else as `json.dumps(value, ensure_ascii=False)`.
pub(crate) fn message_content<T: Serialize>(value: &T) -> Content {
    match serde_json::to_value(value) {
        Ok(Json::String(s)) => Content::Text(s),
        Ok(Json::Array(items)) if items.iter().all(|i| i.is_string() || i.is_object()) => Content::Blocks(items),
        Ok(other) => Content::Text(json_dumps(&other, false)),
        Err(e) => Content::Text(format!("<output could not be serialized: {e}>")),
    }
}
