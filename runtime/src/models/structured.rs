//! Tools as plain JSON, which tool a model must call ([`ToolChoice`]), and
//! answers as typed values ([`StructuredOutput`]).

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Value as Json};

use super::{ChatModel, LanguageModelInput};
use crate::error::{Error, ErrorKind, Result};
use crate::messages::AIMessageChunk;
use crate::runnable::{Runnable, RunnableExt};
use crate::value::Data;

/// Which tool the model must call, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model decides (the default when tools are bound).
    Auto,
    /// No tool call.
    None,
    /// Some tool call (OpenAI's `required`, Anthropic's `any`).
    Any,
    /// A call of the tool with this name.
    Tool(String),
}

impl ToolChoice {
    /// OpenAI's `tool_choice`.
    #[cfg(feature = "openai")]
    pub(crate) fn to_openai(&self) -> Json {
        match self {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Any => json!("required"),
            ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
        }
    }

    /// Anthropic's `tool_choice`.
    #[cfg(feature = "anthropic")]
    pub(crate) fn to_anthropic(&self) -> Json {
        match self {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Any => json!({"type": "any"}),
            ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
        }
    }
}

/// A tool definition in OpenAI's function format (what
/// [`ChatRequest::tools`](super::ChatRequest::tools) holds), from any of the
/// shapes people write: OpenAI's `{"type": "function", "function": {...}}`,
/// a bare `{"name", "description", "parameters"}`, Anthropic's `{"name",
/// "description", "input_schema"}`, or a JSON schema with a `title` (and a
/// `description`), as LangChain's `convert_to_openai_tool` reads them.
pub(crate) fn openai_tool(tool: Json) -> Result<Json> {
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("not a tool definition ({why}): {}", short(&tool)),
        )
    };
    let Json::Object(mut obj) = tool.clone() else {
        return Err(invalid("expected a JSON object"));
    };
    if obj.get("type").and_then(Json::as_str) == Some("function") {
        let name_ok = obj
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Json::as_str)
            .is_some_and(|n| !n.is_empty());
        return if name_ok {
            Ok(Json::Object(obj))
        } else {
            Err(invalid("`function.name` is missing"))
        };
    }
    let (name, parameters) = if let Some(Json::String(name)) = obj.remove("name") {
        let parameters = obj
            .remove("parameters")
            .or_else(|| obj.remove("input_schema"))
            .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
        (name, parameters)
    } else if let Some(Json::String(title)) = obj.remove("title") {
        let description = obj.remove("description");
        let mut f = json!({"name": title, "parameters": Json::Object(obj)});
        if let Some(d) = description {
            f["description"] = d;
        }
        return Ok(json!({"type": "function", "function": f}));
    } else {
        return Err(invalid("it has no `name`, no `function` and no `title`"));
    };
    let mut f = json!({"name": name, "parameters": parameters});
    if let Some(d) = obj.remove("description") {
        f["description"] = d;
    }
    Ok(json!({"type": "function", "function": f}))
}

/// An OpenAI-format tool as Anthropic's `{"name", "description", "input_schema"}`.
#[cfg(feature = "anthropic")]
pub(crate) fn anthropic_tool(tool: &Json) -> Json {
    match tool.get("function") {
        Some(f) => {
            let mut t = json!({
                "name": f.get("name").cloned().unwrap_or(Json::Null),
                "input_schema": f.get("parameters").cloned().unwrap_or_else(|| json!({"type": "object"})),
            });
            if let Some(d) = f.get("description") {
                t["description"] = d.clone();
            }
            t
        }
        None => tool.clone(),
    }
}

fn short(v: &Json) -> String {
    let text = v.to_string();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// The schema of `T` as a tool: its name (the schema's title), its
/// description (the type's doc comment) and its parameters.
pub(crate) fn schema_tool<T: JsonSchema>() -> (String, Json) {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
        s.meta_schema = None;
    });
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let Json::Object(mut parameters) = schema.to_value() else {
        let name = T::schema_name().into_owned();
        return (name.clone(), json!({"type": "function", "function": {"name": name}}));
    };
    let name = match parameters.remove("title") {
        Some(Json::String(t)) => t,
        _ => T::schema_name().into_owned(),
    };
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .take(64)
        .collect();
    let description = parameters.remove("description");
    let mut f = json!({"name": name, "parameters": Json::Object(parameters)});
    if let Some(d) = description {
        f["description"] = d;
    }
    (name, json!({"type": "function", "function": f}))
}

/// How a model is made to answer with structured data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StructuredMethod {
    /// The schema becomes a tool the model is told to call; the call's
    /// arguments are the answer. Works with both providers.
    ToolCalling,
    /// OpenAI's JSON mode (`response_format: {"type": "json_object"}`): the
    /// answer is a JSON document; the prompt must ask for JSON and say its
    /// shape.
    JsonMode,
    /// OpenAI's structured outputs (`response_format: {"type":
    /// "json_schema"}`): the answer follows the schema (llama.cpp enforces
    /// it with a grammar).
    JsonSchema,
}

/// How a [`StructuredOutput`] reads its model's answer.
#[derive(Clone, Debug)]
enum Reading {
    /// The arguments of the call of this tool.
    ToolCall(String),
    /// The text, as JSON (OpenAI's JSON mode and structured outputs).
    #[cfg(feature = "openai")]
    Json,
}

/// A chat model whose answers are read into a `T` (LangChain's
/// `with_structured_output`): made by `ChatOpenAI::with_structured_output`
/// or `ChatAnthropic::with_structured_output`.
///
/// It is a runnable step (a `chain` run named `StructuredOutput`, with the
/// model's run beneath it) from a model input to a `T`. An answer that does
/// not fit `T` is an [`ErrorKind::InvalidInput`] error naming what is wrong.
/// Its output must be a runnable [`Data`](crate::Data): derive `Clone` and `Serialize`
/// and add `impl runwright::Chunk for T {}`.
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct StructuredOutput<M, T> {
    model: M,
    reading: Reading,
    name: Arc<str>,
    _out: PhantomData<fn() -> T>,
}

impl<M, T> StructuredOutput<M, T> {
    pub(crate) fn by_tool_call(model: M, tool: String) -> Self {
        StructuredOutput {
            model,
            reading: Reading::ToolCall(tool),
            name: Arc::from("StructuredOutput"),
            _out: PhantomData,
        }
    }

    #[cfg(feature = "openai")]
    pub(crate) fn by_json(model: M) -> Self {
        StructuredOutput {
            model,
            reading: Reading::Json,
            name: Arc::from("StructuredOutput"),
            _out: PhantomData,
        }
    }

    /// The configured model beneath (with the schema's tool or response
    /// format set).
    pub fn model(&self) -> &M {
        &self.model
    }
}

impl<M: Clone, T> Clone for StructuredOutput<M, T> {
    fn clone(&self) -> Self {
        StructuredOutput {
            model: self.model.clone(),
            reading: self.reading.clone(),
            name: self.name.clone(),
            _out: PhantomData,
        }
    }
}

impl<M: std::fmt::Debug, T> std::fmt::Debug for StructuredOutput<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StructuredOutput")
            .field("model", &self.model)
            .field("reading", &self.reading)
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

/// Reads `message` into a `T` as `reading` says.
fn read<T: DeserializeOwned>(reading: &Reading, message: &AIMessageChunk) -> Result<T> {
    let type_name = std::any::type_name::<T>();
    let misfit = |what: String| Error::new(ErrorKind::InvalidInput, what);
    match reading {
        Reading::ToolCall(tool) => {
            let call = message
                .tool_calls
                .iter()
                .find(|c| &c.name == tool)
                .or_else(|| message.tool_calls.first())
                .ok_or_else(|| {
                    let raw = message.invalid_tool_calls.first().and_then(|c| c.args.clone());
                    misfit(match raw {
                        Some(args) => format!("the model's call of `{tool}` has arguments that are not JSON: {args}"),
                        None => format!("the model answered without calling `{tool}`: {:?}", message.text()),
                    })
                })?;
            serde_json::from_value(Json::Object(call.args.clone())).map_err(|e| {
                misfit(format!(
                    "the model's call of `{tool}` does not fit `{type_name}`: {e}; arguments: {}",
                    Json::Object(call.args.clone())
                ))
            })
        }
        #[cfg(feature = "openai")]
        Reading::Json => {
            let text = message.text();
            let trimmed = strip_fences(text.trim());
            serde_json::from_str(trimmed).map_err(|e| {
                misfit(format!(
                    "the model's answer is not a `{type_name}` in JSON: {e}; answer: {trimmed:?}"
                ))
            })
        }
    }
}

/// The inside of a Markdown code fence (```` ```json ... ``` ````), if the
/// text is one.
#[cfg(feature = "openai")]
fn strip_fences(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let body = rest.split_once('\n').map_or("", |(_, b)| b);
    body.trim_end().strip_suffix("```").unwrap_or(body).trim()
}

impl<M, T> Runnable for StructuredOutput<M, T>
where
    M: ChatModel,
    T: Data + DeserializeOwned,
{
    type Input = LanguageModelInput;
    type Output = T;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn invoke_body<'a>(&'a self, input: LanguageModelInput) -> BoxFuture<'a, Result<T>> {
        Box::pin(async move {
            let message = self.model.invoke(input).await?;
            read(&self.reading, &message)
        })
    }
}

crate::runnable::impl_pipe_operator!([M, T] StructuredOutput<M, T>);

// Both providers' formats side by side: run with the default features.
#[cfg(all(test, feature = "openai", feature = "anthropic"))]
mod tests {
    use super::*;
    use crate::messages::ToolCall;

    #[test]
    fn every_tool_shape_becomes_openai_format() {
        let expected = json!({"type": "function", "function": {
            "name": "get_weather", "parameters": {"type": "object"}, "description": "Weather"}});
        for shape in [
            expected.clone(),
            json!({"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}),
            json!({"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}),
            json!({"title": "get_weather", "description": "Weather", "type": "object"}),
        ] {
            assert_eq!(openai_tool(shape).unwrap(), expected);
        }
        let err = openai_tool(json!({"type": "object"})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("no `name`"), "{err}");
        assert_eq!(
            anthropic_tool(&expected),
            json!({"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}})
        );
    }

    /// The weather in a city.
    #[derive(serde::Deserialize, schemars::JsonSchema, Debug, PartialEq)]
    struct Weather {
        /// The city.
        city: String,
    }

    #[test]
    fn a_type_becomes_a_tool_named_after_it() {
        let (name, tool) = schema_tool::<Weather>();
        assert_eq!(name, "Weather");
        assert_eq!(tool["function"]["description"], "The weather in a city.");
        assert_eq!(tool["function"]["parameters"]["required"], json!(["city"]));
    }

    #[test]
    fn answers_are_read_from_tool_calls_or_json_text() {
        let call = AIMessageChunk::new("").with_tool_calls(vec![ToolCall::new("Weather", json!({"city": "Paris"}))]);
        let w: Weather = read(&Reading::ToolCall("Weather".into()), &call).unwrap();
        assert_eq!(w.city, "Paris");

        let text = AIMessageChunk::new("```json\n{\"city\": \"Rome\"}\n```");
        let w: Weather = read(&Reading::Json, &text).unwrap();
        assert_eq!(w.city, "Rome");

        let wrong = AIMessageChunk::new("").with_tool_calls(vec![ToolCall::new("Weather", json!({"town": "Paris"}))]);
        let err = read::<Weather>(&Reading::ToolCall("Weather".into()), &wrong).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("missing field `city`"), "{err}");

        let none = read::<Weather>(&Reading::ToolCall("Weather".into()), &AIMessageChunk::new("hm")).unwrap_err();
        assert!(none.message().contains("without calling `Weather`"), "{none}");
    }
}
