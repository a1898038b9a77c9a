//! [`JsonOutputParser`]: a model's output as JSON, streamed as partial values.

use std::borrow::Cow;

use futures::future::BoxFuture;
use futures::StreamExt;
use serde_json::Value as Json;

use super::json_stream::{JsonStreamParser, PartialValue};
use super::ModelOutput;
use crate::error::Result;
use crate::runnable::{impl_pipe_operator, ChunkStream, RunType, Runnable};

/// Parses a model's output as JSON (LangChain's `JsonOutputParser`). Streamed,
/// it yields the partial value each time it changes: `{}`, then
/// `{"countries": []}`, then `{"countries": [{"name": "France"}]}`, ...,
/// dropping incomplete keys and literals as LangChain does, in time linear in
/// the document (an incremental parser; no re-parse per chunk). A leading
/// `` ```json `` fence is skipped.
///
/// Unlike LangChain, a document that is still invalid or incomplete when the
/// input ends is an error naming the position.
///
/// ```
/// use futures::TryStreamExt;
/// use runwright::{GenericFakeChatModel, JsonOutputParser, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let chain = GenericFakeChatModel::new([r#"{"a": [1, 2]}"#]) | JsonOutputParser;
/// let values: Vec<_> = chain.stream("hi".into()).try_collect().await.unwrap();
/// let last = values.last().unwrap().to_json();
/// assert_eq!(last, serde_json::json!({"a": [1, 2]}));
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct JsonOutputParser;

impl JsonOutputParser {
    /// The same parser streaming JSON Patch operations (from the previous
    /// value to the new one) instead of whole values: LangChain's
    /// `JsonOutputParser(diff=True)`. Invoked, it still gives the parsed
    /// value.
    pub fn diff(self) -> JsonPatchOutputParser {
        JsonPatchOutputParser
    }
}

/// The partial values of a streamed input, each yielded when it changed.
fn partial_values<'a>(input: ChunkStream<'a, ModelOutput>) -> ChunkStream<'a, PartialValue> {
    Box::pin(async_stream::stream! {
        let mut parser = JsonStreamParser::new();
        let mut input = input;
        while let Some(chunk) = input.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    yield Err(e);
                    return;
                }
            };
            match parser.push(&chunk.text()) {
                Ok(Some(value)) => yield Ok(value),
                Ok(None) => {}
                Err(e) => {
                    yield Err(e);
                    return;
                }
            }
        }
        let last = parser.last().cloned();
        match parser.finish_partial() {
            Ok(value) if last.as_ref() != Some(&value) => yield Ok(value),
            Ok(_) => {}
            Err(e) => yield Err(e),
        }
    })
}

fn parse_whole(text: &str) -> Result<PartialValue> {
    let mut parser = JsonStreamParser::new();
    parser.push(text)?;
    parser.finish_partial()
}

impl Runnable for JsonOutputParser {
    type Input = ModelOutput;
    type Output = PartialValue;

    fn name(&self) -> Cow<'_, str> {
        "JsonOutputParser".into()
    }

    fn run_type(&self) -> RunType {
        RunType::Parser
    }

    fn invoke_body<'a>(&'a self, input: ModelOutput) -> BoxFuture<'a, Result<PartialValue>> {
        Box::pin(std::future::ready(parse_whole(&input.text())))
    }

    fn transforms_input(&self) -> bool {
        true
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, ModelOutput>) -> ChunkStream<'a, PartialValue> {
        partial_values(input)
    }
}

/// [`JsonOutputParser`] streaming JSON Patch operations: made by
/// [`JsonOutputParser::diff`]. Each streamed chunk is a JSON array of the
/// operations that turn the previous value into the new one; they add up
/// (concatenate) to the whole document's patch, which is the stream's end
/// output. Invoked, it gives the parsed value itself, as LangChain's does
/// (a patch needs a previous value, and an invoked parser has none).
///
/// ```
/// use futures::TryStreamExt;
/// use runwright::{JsonOutputParser, ModelOutput, RunnableExt};
/// use serde_json::json;
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let parser = JsonOutputParser.diff();
/// let text = r#"{"a": 1}"#;
/// assert_eq!(parser.invoke(ModelOutput::from(text)).await.unwrap(), json!({"a": 1}));
/// let patches: Vec<_> = parser.stream(ModelOutput::from(text)).try_collect().await.unwrap();
/// assert_eq!(patches, [json!([{"op": "replace", "path": "", "value": {"a": 1}}])]);
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct JsonPatchOutputParser;

impl Runnable for JsonPatchOutputParser {
    type Input = ModelOutput;
    type Output = Json;

    fn name(&self) -> Cow<'_, str> {
        "JsonOutputParser".into()
    }

    fn run_type(&self) -> RunType {
        RunType::Parser
    }

    fn invoke_body<'a>(&'a self, input: ModelOutput) -> BoxFuture<'a, Result<Json>> {
        Box::pin(std::future::ready(parse_whole(&input.text()).map(|v| v.to_json())))
    }

    fn transforms_input(&self) -> bool {
        true
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, ModelOutput>) -> ChunkStream<'a, Json> {
        let mut previous = Json::Null;
        Box::pin(partial_values(input).map(move |value| {
            let value = value?.to_json();
            let ops = patch_ops(&previous, &value);
            previous = value;
            Ok(ops)
        }))
    }
}

/// The operations from `from` to `to`, as a JSON array.
fn patch_ops(from: &Json, to: &Json) -> Json {
    json_patch::diff(from, to)
        .0
        .into_iter()
        .filter_map(|op| serde_json::to_value(op).ok())
        .collect()
}

impl_pipe_operator!([] JsonOutputParser);
impl_pipe_operator!([] JsonPatchOutputParser);
