//! [`SystemMessage`]: instructions for the model.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{message_basics, serialize_common, Content};
use crate::value::Map;

/// Instructions for the model, usually the first message (LangChain's `SystemMessage`).
///
/// JSON: `{"type": "SystemMessage", "content", "name"?, "id"?, "additional_kwargs"?, "response_metadata"?}`.
///
/// ```
/// use runwright::SystemMessage;
/// let m = SystemMessage::new("You are terse.").with_id("m1");
/// assert_eq!(
///     serde_json::to_value(&m).unwrap(),
///     serde_json::json!({"type": "SystemMessage", "content": "You are terse.", "id": "m1"})
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemMessage {
    /// What the message says.
    pub content: Content,
    /// An optional name of the speaker.
    pub name: Option<String>,
    /// An optional unique id.
    pub id: Option<String>,
    /// Extra provider-specific data.
    pub additional_kwargs: Map,
    /// Response metadata (headers, model name, ...).
    pub response_metadata: Map,
}

impl SystemMessage {
    /// A message with this content.
    pub fn new(content: impl Into<Content>) -> Self {
        SystemMessage {
            content: content.into(),
            ..Default::default()
        }
    }

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

    /// The text of the content (see [`Content::text`]).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        self.content.text()
    }
}

impl Serialize for SystemMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        serialize_common(
            &mut m,
            "SystemMessage",
            &self.content,
            &self.name,
            &self.id,
            &self.additional_kwargs,
            &self.response_metadata,
        )?;
        m.end()
    }
}

impl From<&str> for SystemMessage {
    fn from(s: &str) -> Self {
        SystemMessage::new(s)
    }
}

impl From<String> for SystemMessage {
    fn from(s: String) -> Self {
        SystemMessage::new(s)
    }
}

message_basics!(SystemMessage, System, "SystemMessage");
