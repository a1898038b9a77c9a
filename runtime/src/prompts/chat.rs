//! [`ChatPromptTemplate`]: message templates that give a list of messages.

use std::borrow::Cow;

use futures::future::BoxFuture;
use serde_json::Value as Json;

use super::template::{check_variables, python_type, sorted_variables, variables_from_json, FString};
use super::PromptValue;
use crate::error::{Error, ErrorKind, Result};
use crate::messages::{AIMessage, HumanMessage, Message, SystemMessage};
use crate::python::py_str;
use crate::runnable::{impl_pipe_operator, RunType, Runnable};
use crate::value::Map;

/// A slot in a chat prompt that takes a whole list of messages from a
/// variable (LangChain's `MessagesPlaceholder`), e.g. a conversation's
/// history.
///
/// The variable's value is a JSON array of messages in any form
/// [`Message`] reads (`{"type": "HumanMessage", ...}`, `["ai", "text"]`,
/// a bare string, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct MessagesPlaceholder {
    variable_name: String,
    optional: bool,
    n_messages: Option<usize>,
}

impl MessagesPlaceholder {
    /// A required placeholder for the variable `variable_name`.
    pub fn new(variable_name: impl Into<String>) -> Self {
        MessagesPlaceholder {
            variable_name: variable_name.into(),
            optional: false,
            n_messages: None,
        }
    }

    /// Makes the variable optional: when it is missing, the slot is empty.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Keeps only the last `n` messages of the variable.
    pub fn with_n_messages(mut self, n: usize) -> Self {
        self.n_messages = Some(n);
        self
    }

    /// The variable's name.
    pub fn variable_name(&self) -> &str {
        &self.variable_name
    }

    /// Whether the variable may be missing.
    pub fn is_optional(&self) -> bool {
        self.optional
    }

    fn format(&self, variables: &Map) -> Result<Vec<Message>> {
        let value = match variables.get(&self.variable_name) {
            Some(value) => value,
            None if self.optional => return Ok(Vec::new()),
            None => {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("missing the messages variable {:?}", self.variable_name),
                ))
            }
        };
        let Json::Array(items) = value else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "variable {} should be a list of base messages, got {} of type <class '{}'>",
                    self.variable_name,
                    py_str(value),
                    python_type(value)
                ),
            ));
        };
        let mut messages = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                Message::from_json(item.clone()).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!(
                            "variable {}: item {i} is not a message: {}",
                            self.variable_name,
                            e.message()
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if let Some(n) = self.n_messages.filter(|n| *n > 0) {
            let skip = messages.len().saturating_sub(n);
            messages.drain(..skip);
        }
        Ok(messages)
    }
}

/// One entry of [`ChatPromptTemplate::from_messages`]: a role with a
/// template for its text, a [`MessagesPlaceholder`], or a fixed message.
///
/// When the entries are of different kinds, name the first one's type (for
/// example `MessageTemplate::system(..)`) and `.into()` the others.
///
/// Converts from `(role, template)` pairs, where the role is `"system"`,
/// `"human"` or `"user"`, `"ai"` or `"assistant"`, or `"placeholder"` (the
/// template then is `"{variable}"`, an optional placeholder); from a bare
/// string (a human template); from a placeholder; and from messages.
#[derive(Clone, Debug)]
pub struct MessageTemplate(Entry);

#[derive(Clone, Debug)]
enum Entry {
    Role { role: String, template: String },
    Placeholder(MessagesPlaceholder),
    Message(Box<Message>),
}

impl MessageTemplate {
    /// A message of `role` whose text is the f-string `template`.
    pub fn new(role: impl Into<String>, template: impl Into<String>) -> Self {
        MessageTemplate(Entry::Role {
            role: role.into(),
            template: template.into(),
        })
    }

    /// A system message template.
    pub fn system(template: impl Into<String>) -> Self {
        Self::new("system", template)
    }

    /// A human message template.
    pub fn human(template: impl Into<String>) -> Self {
        Self::new("human", template)
    }

    /// An AI message template.
    pub fn ai(template: impl Into<String>) -> Self {
        Self::new("ai", template)
    }

    /// A fixed message, included as is.
    pub fn message(message: impl Into<Message>) -> Self {
        MessageTemplate(Entry::Message(Box::new(message.into())))
    }
}

impl<R: Into<String>, T: Into<String>> From<(R, T)> for MessageTemplate {
    fn from((role, template): (R, T)) -> Self {
        MessageTemplate::new(role, template)
    }
}

impl From<&str> for MessageTemplate {
    /// A human message template.
    fn from(template: &str) -> Self {
        MessageTemplate::human(template)
    }
}

impl From<String> for MessageTemplate {
    /// A human message template.
    fn from(template: String) -> Self {
        MessageTemplate::human(template)
    }
}

impl From<MessagesPlaceholder> for MessageTemplate {
    fn from(p: MessagesPlaceholder) -> Self {
        MessageTemplate(Entry::Placeholder(p))
    }
}

impl From<Message> for MessageTemplate {
    fn from(m: Message) -> Self {
        MessageTemplate::message(m)
    }
}

impl From<SystemMessage> for MessageTemplate {
    fn from(m: SystemMessage) -> Self {
        MessageTemplate::message(m)
    }
}

impl From<HumanMessage> for MessageTemplate {
    fn from(m: HumanMessage) -> Self {
        MessageTemplate::message(m)
    }
}

impl From<AIMessage> for MessageTemplate {
    fn from(m: AIMessage) -> Self {
        MessageTemplate::message(m)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    System,
    Human,
    Ai,
}

#[derive(Clone, Debug)]
enum Part {
    Template { role: Role, template: FString },
    Placeholder(MessagesPlaceholder),
    Message(Box<Message>),
}

/// A chat prompt (LangChain's `ChatPromptTemplate`): message templates and
/// placeholders that, given the variables (a JSON object), give a
/// [`PromptValue::Chat`].
///
/// ```
/// use runwright::{map, ChatPromptTemplate, Message, MessageTemplate, MessagesPlaceholder, PromptValue, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let prompt = ChatPromptTemplate::from_messages([
///     MessageTemplate::system("You are {name}."),
///     MessagesPlaceholder::new("history").into(),
///     ("human", "{question}").into(),
/// ])?;
/// assert_eq!(prompt.input_variables(), ["history", "name", "question"]);
///
/// let vars = map! {"name": "terse", "history": [["human", "hi"], ["ai", "hello"]], "question": "why?"};
/// let value = prompt.invoke(vars).await?;
/// assert_eq!(
///     value,
///     PromptValue::from(vec![
///         Message::system("You are terse."),
///         Message::human("hi"),
///         Message::ai("hello"),
///         Message::human("why?"),
///     ])
/// );
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ChatPromptTemplate {
    parts: Vec<Part>,
    input_variables: Vec<String>,
    optional_variables: Vec<String>,
}

impl ChatPromptTemplate {
    /// A prompt of one human message whose text is the f-string `template`.
    ///
    /// ```
    /// let prompt = runwright::ChatPromptTemplate::from_template("tell me a joke about {topic}")?;
    /// assert_eq!(prompt.input_variables(), ["topic"]);
    /// # Ok::<(), runwright::Error>(())
    /// ```
    pub fn from_template(template: impl Into<String>) -> Result<Self> {
        Self::from_messages([MessageTemplate::human(template)])
    }

    /// A prompt of these entries, in order. Fails on an unknown role, a
    /// malformed template (naming the position), a placeholder entry not of
    /// the form `"{variable}"`, or a variable used both as an optional
    /// placeholder and in a template.
    pub fn from_messages<I>(messages: I) -> Result<Self>
    where
        I: IntoIterator,
        I::Item: Into<MessageTemplate>,
    {
        let mut parts = Vec::new();
        for entry in messages {
            parts.push(match entry.into().0 {
                Entry::Role { role, template } => compile(&role, &template)?,
                Entry::Placeholder(p) => Part::Placeholder(p),
                Entry::Message(m) => Part::Message(m),
            });
        }
        let mut required = Vec::new();
        let mut optional = Vec::new();
        for part in &parts {
            match part {
                Part::Template { template, .. } => required.extend(template.variables()),
                Part::Placeholder(p) if p.optional => optional.push(p.variable_name.as_str()),
                Part::Placeholder(p) => required.push(p.variable_name.as_str()),
                Part::Message(_) => {}
            }
        }
        let input_variables = sorted_variables(required);
        let optional_variables = sorted_variables(optional);
        let overlap: Vec<&String> = input_variables
            .iter()
            .filter(|v| optional_variables.contains(v))
            .collect();
        if !overlap.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("Found overlapping input and partial variables: {overlap:?}"),
            ));
        }
        Ok(ChatPromptTemplate {
            parts,
            input_variables,
            optional_variables,
        })
    }

    /// The variables the prompt needs, sorted (required placeholders
    /// included).
    pub fn input_variables(&self) -> &[String] {
        &self.input_variables
    }

    /// The variables of optional placeholders, sorted.
    pub fn optional_variables(&self) -> &[String] {
        &self.optional_variables
    }

    /// The formatted messages. Fails when a variable is missing or a
    /// placeholder's value is not a list of messages.
    pub fn format_messages(&self, variables: &Map) -> Result<Vec<Message>> {
        check_variables("ChatPromptTemplate", &self.input_variables, variables)?;
        let mut messages = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            match part {
                Part::Template { role, template } => {
                    let text = template.format(variables);
                    messages.push(match role {
                        Role::System => Message::system(text),
                        Role::Human => Message::human(text),
                        Role::Ai => Message::ai(text),
                    });
                }
                Part::Placeholder(p) => messages.extend(p.format(variables)?),
                Part::Message(m) => messages.push(Message::clone(m)),
            }
        }
        Ok(messages)
    }

    /// The formatted prompt.
    pub fn format_prompt(&self, variables: &Map) -> Result<PromptValue> {
        self.format_messages(variables).map(PromptValue::from)
    }

    /// The formatted prompt for any JSON input, as LangChain reads one: an
    /// object holds the variables; another value is the only variable's
    /// value when the prompt has exactly one, and an error otherwise.
    pub fn format_prompt_json(&self, input: Json) -> Result<PromptValue> {
        let variables = variables_from_json("ChatPromptTemplate", &self.input_variables, input)?;
        self.format_prompt(&variables)
    }
}

fn compile(role: &str, template: &str) -> Result<Part> {
    let role = match role {
        "human" | "user" => Role::Human,
        "ai" | "assistant" => Role::Ai,
        "system" => Role::System,
        "placeholder" => {
            let name = template.strip_prefix('{').and_then(|t| t.strip_suffix('}'));
            return match name {
                Some(name) if !name.is_empty() => Ok(Part::Placeholder(MessagesPlaceholder::new(name).optional())),
                _ => Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "Invalid placeholder template: {template}. Expected a variable name surrounded by curly braces."
                    ),
                )),
            };
        }
        other => {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "Unexpected message type: {other}. Use one of 'human', 'user', 'ai', 'assistant', or 'system'."
                ),
            ))
        }
    };
    Ok(Part::Template {
        role,
        template: FString::parse(template)?,
    })
}

impl Runnable for ChatPromptTemplate {
    type Input = Map;
    type Output = PromptValue;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed("ChatPromptTemplate")
    }

    fn run_type(&self) -> RunType {
        RunType::Prompt
    }

    fn invoke_body<'a>(&'a self, input: Map) -> BoxFuture<'a, Result<PromptValue>> {
        Box::pin(std::future::ready(self.format_prompt(&input)))
    }
}

impl_pipe_operator!([] ChatPromptTemplate);
