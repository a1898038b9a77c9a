//! [`ModelOutput`]: what a parser reads.

use std::borrow::Cow;

use serde::{Serialize, Serializer};

use crate::messages::{AIMessage, AIMessageChunk};
use crate::value::Chunk;

/// What a model gives a parser: text (from a text-completion model) or a
/// message (from a chat model). Parsers take either, as LangChain's do, so
/// `model | parser` type-checks for both kinds of model.
///
/// Serializes as the value it holds.
#[derive(Clone, Debug, PartialEq)]
// Not boxed on purpose: a ModelOutput is made for every streamed chunk, and
// moving its ~190 bytes is cheaper than an allocation per chunk.
#[allow(clippy::large_enum_variant)]
pub enum ModelOutput {
    /// Text.
    Text(String),
    /// A chat model's message (or one chunk of it).
    Message(AIMessageChunk),
}

impl ModelOutput {
    /// The text: the string, or the message's text content.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            ModelOutput::Text(t) => Cow::Borrowed(t),
            ModelOutput::Message(m) => m.text(),
        }
    }
}

impl Chunk for ModelOutput {
    fn concat(&mut self, next: Self) {
        match (self, next) {
            (ModelOutput::Text(a), ModelOutput::Text(b)) => a.push_str(&b),
            (ModelOutput::Message(a), ModelOutput::Message(b)) => a.concat(b),
            (slot, other) => *slot = other,
        }
    }

    fn concat_ref(&mut self, next: &Self) {
        match (self, next) {
            (ModelOutput::Text(a), ModelOutput::Text(b)) => a.push_str(b),
            (ModelOutput::Message(a), ModelOutput::Message(b)) => a.concat_ref(b),
            (slot, other) => *slot = other.clone(),
        }
    }
}

impl Serialize for ModelOutput {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ModelOutput::Text(t) => t.serialize(s),
            ModelOutput::Message(m) => m.serialize(s),
        }
    }
}

impl From<String> for ModelOutput {
    fn from(t: String) -> Self {
        ModelOutput::Text(t)
    }
}

impl From<&str> for ModelOutput {
    fn from(t: &str) -> Self {
        ModelOutput::Text(t.to_owned())
    }
}

impl From<AIMessageChunk> for ModelOutput {
    fn from(m: AIMessageChunk) -> Self {
        ModelOutput::Message(m)
    }
}

impl From<AIMessage> for ModelOutput {
    fn from(m: AIMessage) -> Self {
        ModelOutput::Message(AIMessageChunk::from(m))
    }
}
