//! [`HumanMessage`]: what the user says.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{message_basics, serialize_common, Content};
use crate::value::Map;

/// A message from the user (LangChain's `HumanMessage`).
///
/// JSON: `{"type": "HumanMessage", "content", "name"?, "id"?, "additional_kwargs"?, "response_metadata"?}`.
///
/// ```
/// use runwright::HumanMessage;
/// let m = HumanMessage::new("hi").with_id("m1");
/// assert_eq!(
///     serde_json::to_value(&m).unwrap(),
///     serde_json::json!({"type": "HumanMessage", "content": "hi", "id": "m1"})
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HumanMessage {
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

impl HumanMessage {
    /// A message with this content.
    pub fn new(content: impl Into<Content>) -> Self {
        HumanMessage {
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

impl Serialize for HumanMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        serialize_common(
            &mut m,
            "HumanMessage",
            &self.content,
            &self.name,
            &self.id,
            &self.additional_kwargs,
            &self.response_metadata,
        )?;
        m.end()
    }
}

impl From<&str> for HumanMessage {
    fn from(s: &str) -> Self {
        HumanMessage::new(s)
    }
}

impl From<String> for HumanMessage {
    fn from(s: String) -> Self {
        HumanMessage::new(s)
    }
}

message_basics!(HumanMessage, Human, "HumanMessage");
