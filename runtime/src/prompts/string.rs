//! [`PromptTemplate`]: a text template that gives a text prompt.

use std::borrow::Cow;

use futures::future::BoxFuture;

use super::template::{check_variables, sorted_variables, variables_from_json, FString};
use super::PromptValue;
use crate::error::Result;
use crate::runnable::{impl_pipe_operator, RunType, Runnable};
use crate::value::Map;

/// A text template with `{variables}` (LangChain's `PromptTemplate` with
/// f-string syntax). As a step it takes the variables (a JSON object) and
/// gives a [`PromptValue::Text`].
///
/// Each variable's value is inserted as Python's `str()` would print it: a
/// string as is, `True`/`None`, `{'k': 'v'}`, documents as LangChain prints
/// them (see [`python::py_str`](crate::python::py_str)).
///
/// ```
/// use runwright::{map, PromptTemplate, PromptValue, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let prompt = PromptTemplate::from_template("say {word} {{literally}}")?;
/// assert_eq!(prompt.input_variables(), ["word"]);
/// assert_eq!(prompt.invoke(map! { "word": "abc" }).await?, PromptValue::from("say abc {literally}"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct PromptTemplate {
    template: FString,
    input_variables: Vec<String>,
}

impl PromptTemplate {
    /// Parses an f-string template. A malformed one (an unclosed `{`, a
    /// single `}`, an empty or dotted variable name) is an
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) error naming the
    /// position.
    pub fn from_template(template: impl AsRef<str>) -> Result<Self> {
        let template = FString::parse(template.as_ref())?;
        let input_variables = sorted_variables(template.variables());
        Ok(PromptTemplate {
            template,
            input_variables,
        })
    }

    /// The template as written.
    pub fn template(&self) -> &str {
        self.template.source()
    }

    /// The variables the template needs, sorted.
    pub fn input_variables(&self) -> &[String] {
        &self.input_variables
    }

    /// The formatted text. Fails when a variable is missing.
    pub fn format(&self, variables: &Map) -> Result<String> {
        check_variables("PromptTemplate", &self.input_variables, variables)?;
        Ok(self.template.format(variables))
    }

    /// The formatted prompt.
    pub fn format_prompt(&self, variables: &Map) -> Result<PromptValue> {
        self.format(variables).map(PromptValue::from)
    }

    /// The formatted prompt for any JSON input, as LangChain reads one: an
    /// object holds the variables; another value is the only variable's
    /// value when the template has exactly one, and an error otherwise.
    pub fn format_prompt_json(&self, input: serde_json::Value) -> Result<PromptValue> {
        let variables = variables_from_json("PromptTemplate", &self.input_variables, input)?;
        self.format_prompt(&variables)
    }
}

impl Runnable for PromptTemplate {
    type Input = Map;
    type Output = PromptValue;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed("PromptTemplate")
    }

    fn run_type(&self) -> RunType {
        RunType::Prompt
    }

    fn invoke_body<'a>(&'a self, input: Map) -> BoxFuture<'a, Result<PromptValue>> {
        Box::pin(std::future::ready(self.format_prompt(&input)))
    }
}

impl_pipe_operator!([] PromptTemplate);
