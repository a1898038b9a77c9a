//! [`WithTools`]: a chat model told about tools.

use futures::future::BoxFuture;
use serde_json::Value as Json;

use super::{ChatModel, ChatRequest, ModelProfile};
use crate::error::Result;
use crate::messages::AIMessageChunk;
use crate::runnable::ChunkStream;
use crate::tools::AsToolSpec;

/// A chat model with tools bound to it: every request it makes carries the
/// tools' definitions (OpenAI's function format, from each tool's
/// [`ToolSpec`](crate::tools::ToolSpec)), so the model may answer with tool
/// calls. Made by [`ChatModel::bind_tools`]; the run is still the model's
/// (same name, same metadata).
///
/// ```
/// use runwright::{tool, ChatModel, FakeToolCallingChatModel};
///
/// /// Reverses a word.
/// #[tool]
/// fn reverse(word: String) -> String {
///     word.chars().rev().collect()
/// }
///
/// let model = FakeToolCallingChatModel::new([]).bind_tools(&[&reverse]);
/// assert_eq!(model.bound_tools()[0]["function"]["name"], "reverse");
/// ```
#[derive(Clone, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct WithTools<M> {
    model: M,
    tools: Vec<Json>,
}

impl<M: ChatModel> WithTools<M> {
    pub(crate) fn new(model: M, tools: &[&dyn AsToolSpec]) -> Self {
        WithTools {
            model,
            tools: tools.iter().map(|t| t.tool_spec().to_openai()).collect(),
        }
    }

    /// The model the tools are bound to.
    pub fn inner(&self) -> &M {
        &self.model
    }
}

impl<M: ChatModel> ChatModel for WithTools<M> {
    fn profile(&self) -> &ModelProfile {
        self.model.profile()
    }

    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        self.model.stream_chat(request)
    }

    fn generate<'a>(&'a self, request: ChatRequest) -> BoxFuture<'a, Result<AIMessageChunk>> {
        self.model.generate(request)
    }

    /// The bound tools replace any the inner model had, as LangChain's
    /// `bind_tools` does.
    fn bound_tools(&self) -> &[Json] {
        &self.tools
    }

    fn invocation_params(&self) -> crate::value::Map {
        self.model.invocation_params()
    }
}

crate::runnable::impl_pipe_operator!([M] WithTools<M>);
