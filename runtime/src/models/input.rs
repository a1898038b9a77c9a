//! [`LanguageModelInput`]: what a model accepts.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::messages::{HumanMessage, Message};
use crate::prompts::PromptValue;
use crate::value::Chunk;

/// What a model accepts: a string, a list of messages, or a prompt value, so
/// that `prompt | model` and `model.invoke("hi")` both work.
///
/// Serializes as the value it holds (a string, a list of messages, a prompt
/// value), which is how a root model's input shows in events.
#[derive(Clone, Debug, PartialEq)]
pub enum LanguageModelInput {
    /// A single human turn.
    Text(String),
    /// A conversation.
    Messages(Vec<Message>),
    /// The output of a prompt template.
    Prompt(PromptValue),
}

impl LanguageModelInput {
    /// The input as a conversation (a text becomes one human message).
    pub fn to_messages(&self) -> Vec<Message> {
        match self {
            LanguageModelInput::Text(t) => vec![Message::from(HumanMessage::new(t.clone()))],
            LanguageModelInput::Messages(m) => m.clone(),
            LanguageModelInput::Prompt(p) => p.to_messages(),
        }
    }

    /// [`to_messages`](Self::to_messages), consuming the input.
    pub fn into_messages(self) -> Vec<Message> {
        match self {
            LanguageModelInput::Text(t) => vec![Message::from(HumanMessage::new(t))],
            LanguageModelInput::Messages(m) => m,
            LanguageModelInput::Prompt(p) => p.to_messages(),
        }
    }

    /// The input as one prompt string, as a text-completion model sees it
    /// (messages are written `Human: ...`, one per line).
    pub fn to_text(&self) -> String {
        match self {
            LanguageModelInput::Text(t) => t.clone(),
            LanguageModelInput::Prompt(p) => p.to_string(),
            LanguageModelInput::Messages(m) => m
                .iter()
                .map(|m| format!("{}: {}", buffer_role(m), m.text()))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

fn buffer_role(m: &Message) -> &'static str {
    match m {
        Message::System(_) => "System",
        Message::Human(_) => "Human",
        Message::Ai(_) | Message::AiChunk(_) => "AI",
        Message::Tool(_) => "Tool",
    }
}

impl Chunk for LanguageModelInput {}

impl Serialize for LanguageModelInput {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LanguageModelInput::Text(t) => t.serialize(s),
            LanguageModelInput::Messages(m) => m.serialize(s),
            LanguageModelInput::Prompt(p) => p.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for LanguageModelInput {
    /// A JSON string, or a list of messages.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Messages(Vec<Message>),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Text(t) => LanguageModelInput::Text(t),
            Raw::Messages(m) => LanguageModelInput::Messages(m),
        })
    }
}

impl From<String> for LanguageModelInput {
    fn from(t: String) -> Self {
        LanguageModelInput::Text(t)
    }
}

impl From<&str> for LanguageModelInput {
    fn from(t: &str) -> Self {
        LanguageModelInput::Text(t.to_owned())
    }
}

impl From<Vec<Message>> for LanguageModelInput {
    fn from(m: Vec<Message>) -> Self {
        LanguageModelInput::Messages(m)
    }
}

impl From<PromptValue> for LanguageModelInput {
    fn from(p: PromptValue) -> Self {
        LanguageModelInput::Prompt(p)
    }
}
