//! [`PromptValue`]: what a prompt template produces.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::messages::Message;
use crate::value::Chunk;

/// A formatted prompt, ready for a model: a list of messages for a chat
/// model, or a text for a completion model. Either converts to the other.
///
/// JSON: `{"type": "ChatPromptValue", "messages": [...]}` or
/// `{"type": "StringPromptValue", "text": "..."}`.
///
/// ```
/// use runwright::{Message, PromptValue};
/// let chat = PromptValue::from(vec![Message::system("Be terse."), Message::human("hi")]);
/// assert_eq!(chat.to_string(), "System: Be terse.\nHuman: hi");
///
/// let text = PromptValue::from("say abc");
/// assert_eq!(text.to_messages(), vec![Message::human("say abc")]);
/// assert_eq!(serde_json::to_string(&text).unwrap(), r#"{"type":"StringPromptValue","text":"say abc"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum PromptValue {
    /// Messages, from a chat prompt template (LangChain's `ChatPromptValue`).
    #[serde(rename = "ChatPromptValue")]
    Chat {
        /// The messages.
        messages: Vec<Message>,
    },
    /// A text, from a string prompt template (LangChain's `StringPromptValue`).
    #[serde(rename = "StringPromptValue")]
    Text {
        /// The text.
        text: String,
    },
}

impl PromptValue {
    /// The prompt as messages: a text is one human message.
    pub fn to_messages(&self) -> Vec<Message> {
        match self {
            PromptValue::Chat { messages } => messages.clone(),
            PromptValue::Text { text } => vec![Message::human(text.as_str())],
        }
    }

    /// [`to_messages`](Self::to_messages), consuming the value.
    pub fn into_messages(self) -> Vec<Message> {
        match self {
            PromptValue::Chat { messages } => messages,
            PromptValue::Text { text } => vec![Message::human(text)],
        }
    }
}

/// The prompt as text: a text as is; messages as LangChain's
/// `get_buffer_string` writes them, one `Role: text` line each (`System`,
/// `Human`, `AI`, `Tool`).
impl fmt::Display for PromptValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromptValue::Text { text } => f.write_str(text),
            PromptValue::Chat { messages } => {
                for (i, m) in messages.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    let role = match m {
                        Message::System(_) => "System",
                        Message::Human(_) => "Human",
                        Message::Ai(_) | Message::AiChunk(_) => "AI",
                        Message::Tool(_) => "Tool",
                    };
                    write!(f, "{role}: {}", m.text())?;
                    let function_call = match m {
                        Message::Ai(a) => a.additional_kwargs.get("function_call"),
                        Message::AiChunk(a) => a.additional_kwargs.get("function_call"),
                        _ => None,
                    };
                    if let Some(call) = function_call {
                        f.write_str(&crate::python::py_str(call))?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// The later value wins: prompts do not add up.
impl Chunk for PromptValue {}

impl From<Vec<Message>> for PromptValue {
    fn from(messages: Vec<Message>) -> Self {
        PromptValue::Chat { messages }
    }
}

impl From<String> for PromptValue {
    fn from(text: String) -> Self {
        PromptValue::Text { text }
    }
}

impl From<&str> for PromptValue {
    fn from(text: &str) -> Self {
        PromptValue::Text { text: text.to_owned() }
    }
}

impl From<PromptValue> for Vec<Message> {
    fn from(value: PromptValue) -> Self {
        value.into_messages()
    }
}

impl From<PromptValue> for String {
    fn from(value: PromptValue) -> Self {
        match value {
            PromptValue::Text { text } => text,
            chat => chat.to_string(),
        }
    }
}
