//! Chat models and text-completion models.
//!
//! A chat model implements [`ChatModel`]: it turns a [`ChatRequest`] into a
//! stream of [`AIMessageChunk`]s. That is all a provider writes; the blanket
//! [`Runnable`] impl makes every chat model a step that takes a
//! [`LanguageModelInput`] (a string, messages or a prompt value), runs as a
//! `chat_model` run, reports each chunk as `on_chat_model_stream`, and, when
//! invoked under a listener, still streams so the listener sees the tokens.
//!
//! Two providers speak HTTP: `ChatOpenAI` (OpenAI's chat completions, and
//! any server that speaks them: llama.cpp, vLLM, Ollama; feature `openai`)
//! and `ChatAnthropic` (Anthropic's messages API; feature `anthropic`). Both
//! features are on by default; without them the crate has no HTTP stack.

#[cfg(feature = "anthropic")]
mod anthropic;
mod bind;
mod fake;
#[cfg(any(feature = "openai", feature = "anthropic"))]
mod http;
mod input;
mod llm;
#[cfg(feature = "openai")]
mod openai;
#[cfg(any(feature = "openai", feature = "anthropic"))]
mod provider_error;
#[cfg(any(feature = "openai", feature = "anthropic"))]
mod settings;
#[cfg(any(feature = "openai", feature = "anthropic"))]
mod sse;
#[cfg(any(feature = "openai", feature = "anthropic"))]
pub(crate) mod structured;

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;
use serde_json::json;

use crate::context::intercept;
use crate::context::{current, RunContext};
use crate::error::Result;
use crate::events::{EventData, EventPhase};
use crate::intercept::{replay_json, CallKind};
use crate::messages::{AIMessageChunk, Message, UsageMetadata};
use crate::runnable::{ChunkStream, RunType, Runnable};
use crate::value::{Chunk, Map, Payload};

#[cfg(feature = "anthropic")]
#[cfg_attr(docsrs, doc(cfg(feature = "anthropic")))]
pub use anthropic::ChatAnthropic;
pub use bind::WithTools;
pub use fake::{FakeListChatModel, FakeListChatModelError, FakeToolCallingChatModel, GenericFakeChatModel};
#[cfg(any(feature = "openai", feature = "anthropic"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "openai", feature = "anthropic"))))]
pub use http::{http_client_builder, ApiKey};
pub use input::LanguageModelInput;
#[doc(hidden)]
pub use llm::__llm;
pub use llm::{FakeListLLM, FakeStreamingListLLM, Llm};
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub use openai::ChatOpenAI;
#[cfg(any(feature = "openai", feature = "anthropic"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "openai", feature = "anthropic"))))]
pub use provider_error::ProviderError;
/// The reqwest the providers are built on, for naming its types in
/// `ChatOpenAI::http_client` and `ChatOpenAI::headers` (and
/// `ChatAnthropic`'s) without depending on a matching version yourself.
#[cfg(any(feature = "openai", feature = "anthropic"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "openai", feature = "anthropic"))))]
pub use reqwest;
#[cfg(any(feature = "openai", feature = "anthropic"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "openai", feature = "anthropic"))))]
pub use structured::{StructuredMethod, StructuredOutput, ToolChoice};

/// What a chat model is asked: the conversation, the tools it may call, and
/// the model's invocation parameters.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ChatRequest {
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// JSON schemas of the tools bound to the model (OpenAI function format).
    pub tools: Vec<serde_json::Value>,
    /// The model's invocation parameters
    /// ([`ChatModel::invocation_params`]): model name, sampling settings,
    /// and whatever else a provider sends with the call (headers, keys).
    /// What a cassette matches requests on, with secrets redacted.
    pub params: crate::value::Map,
}

impl ChatRequest {
    /// A request for these messages.
    #[must_use]
    pub fn new(messages: Vec<Message>) -> Self {
        ChatRequest {
            messages,
            ..Default::default()
        }
    }

    /// Sets the tool definitions.
    #[must_use]
    pub fn with_tools(mut self, tools: Vec<serde_json::Value>) -> Self {
        self.tools = tools;
        self
    }

    /// Sets the invocation parameters.
    #[must_use]
    pub fn with_params(mut self, params: crate::value::Map) -> Self {
        self.params = params;
        self
    }
}

/// A model's name and the metadata its runs carry (`ls_provider`,
/// `ls_model_type`, ...), built once.
#[derive(Clone, Debug)]
pub struct ModelProfile {
    name: Arc<str>,
    metadata: Map,
}

fn versions() -> serde_json::Value {
    json!({ "runwright": env!("CARGO_PKG_VERSION") })
}

impl ModelProfile {
    /// The profile of a chat model class named `name` (for example
    /// `ChatOpenAI`): its `ls_provider` is the name without a leading or
    /// trailing `Chat`, lower-cased.
    #[must_use]
    pub fn chat(name: &str) -> Self {
        let provider = name
            .strip_prefix("Chat")
            .or_else(|| name.strip_suffix("Chat"))
            .unwrap_or(name)
            .to_lowercase();
        ModelProfile {
            name: Arc::from(name),
            metadata: [
                ("ls_provider", json!(provider)),
                ("ls_model_type", json!("chat")),
                ("ls_integration", json!("langchain_chat_model")),
                ("lc_versions", versions()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        }
    }

    /// The profile of a text-completion model class named `name`: its
    /// `ls_provider` is the name without a trailing `LLM`, lower-cased.
    #[must_use]
    pub fn llm(name: &str) -> Self {
        let provider = name.strip_suffix("LLM").unwrap_or(name).to_lowercase();
        ModelProfile {
            name: Arc::from(name),
            metadata: [
                ("ls_provider", json!(provider)),
                ("ls_model_type", json!("llm")),
                ("lc_versions", versions()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        }
    }

    /// Adds a metadata entry (a model name, a temperature, ...).
    #[must_use]
    pub fn with_metadata(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }

    /// The class name runs show.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The metadata every run of the model carries (its `ls_*` keys win over
    /// inherited metadata, as in LangChain).
    pub fn metadata(&self) -> &Map {
        &self.metadata
    }
}

/// A chat model: a provider over HTTP, a local model, or a fake for tests.
///
/// ```
/// use futures::StreamExt;
/// use runwright::models::{ChatModel, ChatRequest, ModelProfile};
/// use runwright::{AIMessageChunk, ChunkStream, RunnableExt};
///
/// struct Echo(ModelProfile);
/// impl ChatModel for Echo {
///     fn profile(&self) -> &ModelProfile { &self.0 }
///     fn stream_chat<'a>(&'a self, req: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
///         let last = req.messages.last().map(|m| m.text().into_owned()).unwrap_or_default();
///         Box::pin(futures::stream::iter([Ok(AIMessageChunk::new(last))]))
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let echo = Echo(ModelProfile::chat("EchoChat"));
/// assert_eq!(echo.invoke("hi".into()).await.unwrap().text(), "hi");
/// # }
/// ```
pub trait ChatModel: Send + Sync {
    /// The model's name and run metadata.
    fn profile(&self) -> &ModelProfile;

    /// Streams the answer to `request`. Chunks without an id get the run's
    /// (`lc_run--<run id>`); the last chunk should carry
    /// `chunk_position: Some(ChunkPosition::Last)`.
    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk>;

    /// Answers `request` whole. The default folds
    /// [`stream_chat`](Self::stream_chat); a provider with a cheaper
    /// non-streaming call overrides it. Used when a model is invoked and
    /// nobody listens to its tokens.
    fn generate<'a>(&'a self, request: ChatRequest) -> BoxFuture<'a, Result<AIMessageChunk>> {
        let chunks = self.stream_chat(request);
        Box::pin(async move { Ok(crate::runnable::collect(chunks).await?.unwrap_or_default()) })
    }

    /// The tools bound to this model, sent with every request.
    fn bound_tools(&self) -> &[serde_json::Value] {
        &[]
    }

    /// The parameters sent with every request ([`ChatRequest::params`]): the
    /// model name, sampling settings, and any transport settings (headers,
    /// an API key) the provider wants recorders to see. The default is none.
    /// Secrets belong here only because recorders redact them (see
    /// `runwright-recorder`'s `Redactions`).
    fn invocation_params(&self) -> crate::value::Map {
        crate::value::Map::new()
    }

    /// This model with `tools` bound: each request tells the model about
    /// them (see [`WithTools`]). Tools of different types go in one slice:
    /// `model.bind_tools(&[&search, &calculator])`.
    fn bind_tools(self, tools: &[&dyn crate::tools::AsToolSpec]) -> WithTools<Self>
    where
        Self: Sized,
    {
        WithTools::new(self, tools)
    }
}

/// A shared model is a model: `Arc<M>` lets several chains use one client
/// (one connection pool, one recorder).
impl<M: ChatModel + ?Sized> ChatModel for Arc<M> {
    fn profile(&self) -> &ModelProfile {
        (**self).profile()
    }

    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        (**self).stream_chat(request)
    }

    fn generate<'a>(&'a self, request: ChatRequest) -> BoxFuture<'a, Result<AIMessageChunk>> {
        (**self).generate(request)
    }

    fn bound_tools(&self) -> &[serde_json::Value] {
        (**self).bound_tools()
    }

    fn invocation_params(&self) -> crate::value::Map {
        (**self).invocation_params()
    }
}

/// Gives chunks their run's id and reports them as tokens to listeners.
fn tokens<'a>(
    ctx: Option<Arc<RunContext>>,
    chunks: ChunkStream<'a, AIMessageChunk>,
    id_suffix: &'a str,
) -> ChunkStream<'a, AIMessageChunk> {
    let id = ctx.as_ref().map(|c| format!("lc_run--{}{id_suffix}", c.run_id()));
    // The token counts so far, for the run's span (chunks' counts add up).
    let mut usage: Option<UsageMetadata> = None;
    Box::pin(chunks.map(move |chunk| {
        let mut chunk = chunk?;
        if let Some(ctx) = ctx.as_ref().filter(|c| c.is_traced()) {
            if let Some(u) = &chunk.usage_metadata {
                let total = usage.get_or_insert_with(|| UsageMetadata::new(0, 0));
                total.input_tokens += u.input_tokens;
                total.output_tokens += u.output_tokens;
            }
            ctx.trace_model_answer(&chunk, usage.as_ref());
        }
        if chunk.id.is_none() {
            chunk.id.clone_from(&id);
        }
        if let Some(ctx) = ctx.as_ref().filter(|c| c.is_listening()) {
            ctx.emit(EventPhase::Stream, EventData::with_chunk(Payload::new(chunk.clone())));
        }
        Ok(chunk)
    }))
}

/// What an interceptor (a recording) sees of a model call: the request.
fn request_json(request: &ChatRequest) -> serde_json::Value {
    json!({
        "messages": request.messages,
        "tools": request.tools,
        "params": request.params,
    })
}

fn decode_chunk(v: serde_json::Value) -> Result<AIMessageChunk> {
    replay_json("chat model", v)
}

/// The provider's stream, through the interceptor installed above, if any.
fn provider_stream<M: ChatModel + ?Sized>(model: &M, request: ChatRequest) -> ChunkStream<'_, AIMessageChunk> {
    intercept::stream_through(
        CallKind::ChatModel,
        request,
        request_json,
        move |request| model.stream_chat(request),
        decode_chunk,
    )
}

/// The provider's whole answer, through the interceptor installed above, if
/// any (a call recorded streaming replays as its chunks added up).
async fn provider_answer<M: ChatModel + ?Sized>(model: &M, request: ChatRequest) -> Result<AIMessageChunk> {
    intercept::call_through(
        CallKind::ChatModel,
        crate::intercept::Secrets::NONE,
        request,
        request_json,
        move |request| model.generate(request),
        decode_chunk,
        |chunks| {
            let mut all = chunks.into_iter();
            let mut first = all.next().unwrap_or_default();
            for c in all {
                first.concat(c);
            }
            Ok(first)
        },
    )
    .await
}

fn request_for<M: ChatModel + ?Sized>(model: &M, input: LanguageModelInput) -> ChatRequest {
    ChatRequest {
        messages: input.into_messages(),
        tools: model.bound_tools().to_vec(),
        params: model.invocation_params(),
    }
}

impl<M: ChatModel> Runnable for M {
    type Input = LanguageModelInput;
    type Output = AIMessageChunk;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.profile().name())
    }

    fn run_type(&self) -> RunType {
        RunType::ChatModel
    }

    fn own_metadata(&self) -> Option<&Map> {
        Some(self.profile().metadata())
    }

    fn input_payload(&self, input: &LanguageModelInput) -> Payload {
        Payload::new(json!({ "messages": [input.to_messages()] }))
    }

    fn invoke_body<'a>(&'a self, input: LanguageModelInput) -> BoxFuture<'a, Result<AIMessageChunk>> {
        let request = request_for(self, input);
        Box::pin(async move {
            let ctx = current();
            // Under a listener that keeps its events the model streams, so the
            // tokens show; otherwise it answers whole, and LangChain suffixes
            // that message's id. Either way the answer is a whole message
            // (`whole`), as LangChain's invoked models return an `AIMessage`.
            if ctx.as_ref().is_some_and(|c| c.is_watched()) {
                let chunks = tokens(ctx, provider_stream(self, request), "");
                let mut message = crate::runnable::collect(chunks).await?.unwrap_or_default();
                message.whole = true;
                return Ok(message);
            }
            let mut message = provider_answer(self, request).await?;
            if let Some(ctx) = ctx.as_ref().filter(|c| c.is_traced()) {
                ctx.trace_model_answer(&message, message.usage_metadata.as_deref());
            }
            if message.id.is_none() {
                message.id = ctx.map(|c| format!("lc_run--{}-0", c.run_id()));
            }
            message.whole = true;
            Ok(message)
        })
    }

    fn stream_body<'a>(&'a self, input: LanguageModelInput) -> ChunkStream<'a, AIMessageChunk> {
        let request = request_for(self, input);
        tokens(current(), provider_stream(self, request), "")
    }
}
