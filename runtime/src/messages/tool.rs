//! [`ToolMessage`]: a tool's answer to a tool call.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::{message_basics, serialize_common, Content, LazyMap};

/// Whether a tool call succeeded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ToolStatus {
    /// The tool ran (`"success"`).
    #[default]
    Success,
    /// The tool failed and the content says how (`"error"`).
    Error,
}

/// The result of a tool call, sent back to the model (LangChain's
/// `ToolMessage`).
///
/// JSON: the common message fields, then `"tool_call_id"`, `"status"`, and
/// `"artifact"` when set.
///
/// ```
/// use runwright::ToolMessage;
/// let m = ToolMessage::new("olleh", "call_123").with_name("bad_tool");
/// assert_eq!(
///     serde_json::to_value(&m).unwrap(),
///     serde_json::json!({
///         "type": "ToolMessage", "content": "olleh", "name": "bad_tool",
///         "tool_call_id": "call_123", "status": "success"
///     })
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ToolMessage {
    /// The tool's output, as text or content blocks.
    pub content: Content,
    /// The tool's name.
    pub name: Option<String>,
    /// An optional unique id.
    pub id: Option<String>,
    /// Extra provider-specific data.
    pub additional_kwargs: LazyMap,
    /// Response metadata.
    pub response_metadata: LazyMap,
    /// The id of the [`ToolCall`](super::ToolCall) this answers.
    pub tool_call_id: String,
    /// Whether the call succeeded.
    pub status: ToolStatus,
    /// The tool's full output when the content is only a summary of it; not
    /// sent to the model.
    pub artifact: Option<serde_json::Value>,
}

impl ToolMessage {
    /// A successful answer to the call `tool_call_id`.
    pub fn new(content: impl Into<Content>, tool_call_id: impl Into<String>) -> Self {
        ToolMessage {
            content: content.into(),
            tool_call_id: tool_call_id.into(),
            ..Default::default()
        }
    }

    super::message_methods!();

    /// Sets the status.
    #[must_use]
    pub fn with_status(mut self, status: ToolStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets the artifact.
    #[must_use]
    pub fn with_artifact(mut self, artifact: serde_json::Value) -> Self {
        self.artifact = Some(artifact);
        self
    }
}

impl Serialize for ToolMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        serialize_common(
            &mut m,
            "ToolMessage",
            &self.content,
            &self.name,
            &self.id,
            &self.additional_kwargs,
            &self.response_metadata,
        )?;
        m.serialize_entry("tool_call_id", &self.tool_call_id)?;
        m.serialize_entry("status", &self.status)?;
        if let Some(artifact) = &self.artifact {
            m.serialize_entry("artifact", artifact)?;
        }
        m.end()
    }
}

message_basics!(ToolMessage, Tool, "ToolMessage");
