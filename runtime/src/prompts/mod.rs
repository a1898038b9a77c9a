//! Prompt templates: the step that turns variables into a model's input.
//!
//! [`ChatPromptTemplate`] gives a list of messages for a chat model,
//! [`PromptTemplate`] a text for a completion model; both produce a
//! [`PromptValue`], which converts to either. Templates use LangChain's
//! f-string syntax: `{variable}` is replaced, `{{` and `}}` are literal
//! braces. Values are inserted as Python's `str()` would print them (see
//! [`python`](crate::python)), so a prompt reads exactly as LangChain's would.
//!
//! A prompt takes its variables as a [`Map`](crate::Map): [`map!`](crate::map)
//! writes one, and [`invoke_json`](crate::RunnableExt::invoke_json) takes a
//! JSON object (a `json!` value, a request's body) in its place.
//!
//! ```
//! use runwright::{map, ChatPromptTemplate, RunnableExt};
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
//! let prompt = ChatPromptTemplate::from_template("tell me a joke about {topic}")?;
//! let value = prompt.invoke(map! { "topic": "parrot" }).await?;
//! assert_eq!(value.to_string(), "Human: tell me a joke about parrot");
//! let value = prompt.invoke_json(serde_json::json!({"topic": "parrot"})).await?;
//! assert_eq!(value.to_string(), "Human: tell me a joke about parrot");
//! # Ok(()) }
//! ```

mod chat;
mod string;
mod template;
mod value;

#[cfg(test)]
mod tests;

pub use chat::{ChatPromptTemplate, MessageTemplate, MessagesPlaceholder};
pub use string::PromptTemplate;
pub use value::PromptValue;
