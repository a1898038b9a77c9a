//! [`StrOutputParser`]: a model's output as plain text.

use std::borrow::Cow;

use futures::future::BoxFuture;
use futures::TryStreamExt;

use super::ModelOutput;
use crate::error::Result;
use crate::messages::Content;
use crate::runnable::{impl_pipe_operator, ChunkStream, RunType, Runnable};

/// Turns a model's output into its text, chunk by chunk (LangChain's
/// `StrOutputParser`), so `prompt | model | StrOutputParser` streams tokens
/// as strings.
///
/// ```
/// use futures::TryStreamExt;
/// use runwright::{GenericFakeChatModel, RunnableExt, StrOutputParser};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let chain = GenericFakeChatModel::new(["hello there"]) | StrOutputParser;
/// let tokens: Vec<String> = chain.stream("hi".into()).try_collect().await.unwrap();
/// assert_eq!(tokens, ["hello", " ", "there"]);
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct StrOutputParser;

impl Runnable for StrOutputParser {
    type Input = ModelOutput;
    type Output = String;

    fn name(&self) -> Cow<'_, str> {
        "StrOutputParser".into()
    }

    fn run_type(&self) -> RunType {
        RunType::Parser
    }

    fn invoke_body<'a>(&'a self, input: ModelOutput) -> BoxFuture<'a, Result<String>> {
        Box::pin(std::future::ready(Ok(input.text().into_owned())))
    }

    fn transforms_input(&self) -> bool {
        true
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, ModelOutput>) -> ChunkStream<'a, String> {
        Box::pin(input.map_ok(|chunk| match chunk {
            ModelOutput::Text(t) => t,
            // Moved out, not copied, in the common case of plain text.
            ModelOutput::Message(m) => match m.content {
                Content::Text(text) => text,
                blocks => blocks.text().into_owned(),
            },
        }))
    }
}

impl_pipe_operator!([] StrOutputParser);
