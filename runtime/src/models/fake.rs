//! Fake chat models with LangChain's exact chunking, for tests and examples.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use parking_lot::Mutex;

use super::{ChatModel, ChatRequest, ModelProfile};
use crate::error::{Error, ErrorKind, Result};
use crate::messages::{AIMessage, AIMessageChunk, ChunkPosition, ToolCall, ToolCallChunk};
use crate::python::json_dumps;
use crate::runnable::ChunkStream;

/// Splits `text` the way Python's `re.split(r"(\\s)", text)` does: every
/// whitespace character is a token of its own, with the (possibly empty)
/// runs of other characters between them.
pub(crate) fn split_on_whitespace(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            out.push(std::mem::take(&mut current));
            out.push(c.to_string());
        } else {
            current.push(c);
        }
    }
    out.push(current);
    out
}

/// Marks the last chunk of a list as the last of its message.
fn mark_last(mut chunks: Vec<AIMessageChunk>) -> Vec<AIMessageChunk> {
    if let Some(last) = chunks.last_mut() {
        last.chunk_position = Some(ChunkPosition::Last);
    }
    chunks
}

fn content_chunks(message: &AIMessage) -> Vec<AIMessageChunk> {
    let text = message.content.text();
    if text.is_empty() {
        return Vec::new();
    }
    split_on_whitespace(&text)
        .into_iter()
        .map(|tok| {
            let mut c = AIMessageChunk::new(tok);
            c.id.clone_from(&message.id);
            c
        })
        .collect()
}

fn exhausted(name: &str) -> Error {
    Error::new(
        ErrorKind::Step,
        format!(
            "{name} has no more messages to answer with: it answers with each message once \
             (`.repeating()` makes it start over after the last)"
        ),
    )
}

fn stream_of(chunks: Vec<AIMessageChunk>) -> ChunkStream<'static, AIMessageChunk> {
    Box::pin(futures::stream::iter(chunks.into_iter().map(Ok)))
}

/// Answers each call with the next of its messages, streamed with
/// whitespace as separate chunks (LangChain's `GenericFakeChatModel`):
/// `"hello world"` streams `"hello"`, `" "`, `"world"`.
///
/// As LangChain's, it answers with each message once and then fails ("has
/// no more messages"): a test sees a model called more often than it
/// planned. A chain invoked again and again (a server, a benchmark, a
/// closure called per request) wants [`repeating`](Self::repeating), which
/// starts over after the last message. ([`FakeListChatModel`] always
/// starts over, as LangChain's does.)
///
/// Clones share the list: a clone answers with the next message of the
/// same list, as one model used in two places would.
///
/// ```
/// use futures::TryStreamExt;
/// use runwright::{GenericFakeChatModel, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let model = GenericFakeChatModel::new(["hello world"]);
/// let chunks: Vec<_> = model.stream("hi".into()).try_collect().await.unwrap();
/// let texts: Vec<String> = chunks.iter().map(|c| c.text().into_owned()).collect();
/// assert_eq!(texts, ["hello", " ", "world"]);
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct GenericFakeChatModel {
    profile: ModelProfile,
    messages: Arc<Mutex<VecDeque<AIMessage>>>,
    repeating: bool,
}

impl GenericFakeChatModel {
    /// Answers with these texts, one per call.
    pub fn new<I, S>(texts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::from_messages(texts.into_iter().map(|t| AIMessage::new(t.into())))
    }

    /// Answers with these messages, one per call.
    pub fn from_messages(messages: impl IntoIterator<Item = AIMessage>) -> Self {
        GenericFakeChatModel {
            profile: ModelProfile::chat("GenericFakeChatModel"),
            messages: Arc::new(Mutex::new(messages.into_iter().collect())),
            repeating: false,
        }
    }

    /// Starts over after the last message instead of failing, so the model
    /// (and a chain holding it) can be called any number of times.
    ///
    /// ```
    /// use runwright::{GenericFakeChatModel, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let model = GenericFakeChatModel::new(["one", "two"]).repeating();
    /// let mut answers = Vec::new();
    /// for _ in 0..3 {
    ///     answers.push(model.invoke("hi".into()).await?.text().into_owned());
    /// }
    /// assert_eq!(answers, ["one", "two", "one"]);
    /// # Ok(()) }
    /// ```
    pub fn repeating(mut self) -> Self {
        self.repeating = true;
        self
    }

    fn next(&self) -> Option<AIMessage> {
        let mut messages = self.messages.lock();
        let next = messages.pop_front()?;
        if self.repeating {
            messages.push_back(next.clone());
        }
        Some(next)
    }
}

impl ChatModel for GenericFakeChatModel {
    fn profile(&self) -> &ModelProfile {
        &self.profile
    }

    fn stream_chat<'a>(&'a self, _request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        match self.next() {
            Some(m) => stream_of(mark_last(content_chunks(&m))),
            None => Box::pin(futures::stream::iter([Err(exhausted("GenericFakeChatModel"))])),
        }
    }
}

/// A [`GenericFakeChatModel`] that also calls tools: after the content, each
/// tool call of its message streams as one chunk carrying a tool-call chunk
/// (the arguments as JSON text).
///
/// Like [`GenericFakeChatModel`], it answers with each message once, then
/// fails; [`repeating`](Self::repeating) makes it start over instead.
///
/// It records the tool definitions each request carried
/// ([`tools_seen`](Self::tools_seen)), so a test can check what
/// [`bind_tools`](super::ChatModel::bind_tools) sends.
#[derive(Clone, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct FakeToolCallingChatModel {
    inner: GenericFakeChatModel,
    tools_seen: Arc<Mutex<Vec<Vec<serde_json::Value>>>>,
}

impl FakeToolCallingChatModel {
    /// Answers with these messages (with their tool calls), one per call.
    pub fn new(messages: impl IntoIterator<Item = AIMessage>) -> Self {
        let mut inner = GenericFakeChatModel::from_messages(messages);
        inner.profile = ModelProfile::chat("FakeToolCallingChatModel");
        FakeToolCallingChatModel {
            inner,
            tools_seen: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Starts over after the last message instead of failing.
    pub fn repeating(mut self) -> Self {
        self.inner.repeating = true;
        self
    }

    /// The tool definitions of each request answered so far, in order.
    pub fn tools_seen(&self) -> Vec<Vec<serde_json::Value>> {
        self.tools_seen.lock().clone()
    }
}

fn tool_call_chunk(i: usize, call: &ToolCall, message_id: &Option<String>) -> AIMessageChunk {
    let mut c = AIMessageChunk::new("");
    c.id.clone_from(message_id);
    // Through the builder, so `tool_calls` is parsed from the piece, as
    // LangChain's constructor does (the reference chunk shows both).
    c.with_tool_call_chunks(vec![ToolCallChunk::new(
        Some(&call.name),
        Some(&json_dumps(&serde_json::Value::Object(call.args.clone()), true)),
        call.id.as_deref(),
        Some(i as i64),
    )])
}

impl ChatModel for FakeToolCallingChatModel {
    fn profile(&self) -> &ModelProfile {
        &self.inner.profile
    }

    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        self.tools_seen.lock().push(request.tools);
        let Some(m) = self.inner.next() else {
            return Box::pin(futures::stream::iter([Err(exhausted("FakeToolCallingChatModel"))]));
        };
        let mut chunks = content_chunks(&m);
        for (i, call) in m.tool_calls.iter().enumerate() {
            chunks.push(tool_call_chunk(i, call, &m.id));
        }
        stream_of(mark_last(chunks))
    }
}

/// The error [`FakeListChatModel`] fails with when told to. Its message is
/// empty, as LangChain's `FakeListChatModelError` is.
#[derive(Debug)]
pub struct FakeListChatModelError {
    /// The chunk the model failed before.
    pub chunk: usize,
}

impl std::fmt::Display for FakeListChatModelError {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

impl std::error::Error for FakeListChatModelError {}

/// Cycles through its responses, streaming one chunk per character
/// (LangChain's `FakeListChatModel`); can be told to fail before chunk `k`.
/// After the last response it starts over, as LangChain's does, so it can
/// be called any number of times; clones share the position in the list.
///
/// ```
/// use futures::StreamExt;
/// use runwright::{FakeListChatModel, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let model = FakeListChatModel::new(["abcdef"]).error_on_chunk(3);
/// let items: Vec<_> = model.stream("hi".into()).collect().await;
/// assert_eq!(items.len(), 4); // a, b, c, then the error
/// assert!(items[3].is_err());
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct FakeListChatModel {
    profile: ModelProfile,
    responses: Arc<[String]>,
    next: Arc<AtomicUsize>,
    error_on_chunk: Option<usize>,
}

impl FakeListChatModel {
    /// Answers with these responses in turn, starting over after the last.
    pub fn new<I, S>(responses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        FakeListChatModel {
            profile: ModelProfile::chat("FakeListChatModel"),
            responses: responses.into_iter().map(Into::into).collect(),
            next: Arc::new(AtomicUsize::new(0)),
            error_on_chunk: None,
        }
    }

    /// Fails with [`FakeListChatModelError`] before chunk `k` (0-based).
    pub fn error_on_chunk(mut self, k: usize) -> Self {
        self.error_on_chunk = Some(k);
        self
    }
}

impl ChatModel for FakeListChatModel {
    fn profile(&self) -> &ModelProfile {
        &self.profile
    }

    fn stream_chat<'a>(&'a self, _request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        self.next_answer(self.error_on_chunk)
    }

    /// The next response whole. As in LangChain, only a streamed answer
    /// fails at [`error_on_chunk`](FakeListChatModel::error_on_chunk): an
    /// invoked model nobody listens to answers in one piece.
    fn generate<'a>(&'a self, _request: ChatRequest) -> BoxFuture<'a, Result<AIMessageChunk>> {
        let chunks = self.next_answer(None);
        Box::pin(async move { Ok(crate::runnable::collect(chunks).await?.unwrap_or_default()) })
    }
}

impl FakeListChatModel {
    /// The next response as a chunk per character, failing before chunk
    /// `fail_at`.
    fn next_answer(&self, fail_at: Option<usize>) -> ChunkStream<'static, AIMessageChunk> {
        if self.responses.is_empty() {
            return Box::pin(futures::stream::iter([Err(Error::new(
                ErrorKind::InvalidInput,
                "FakeListChatModel has no responses",
            ))]));
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.responses.len();
        let chars: Vec<char> = self.responses[i].chars().collect();
        let n = chars.len();
        Box::pin(futures::stream::iter((0..n).map_while(move |k| {
            if fail_at == Some(k) {
                return Some(Err(Error::from_source(
                    ErrorKind::Step,
                    FakeListChatModelError { chunk: k },
                )));
            }
            if fail_at.is_some_and(|f| k > f) {
                return None;
            }
            let mut c = AIMessageChunk::new(chars[k].to_string());
            if k + 1 == n {
                c.chunk_position = Some(ChunkPosition::Last);
            }
            Some(Ok(c))
        })))
    }
}

crate::runnable::impl_pipe_operator!([] GenericFakeChatModel);
crate::runnable::impl_pipe_operator!([] FakeToolCallingChatModel);
crate::runnable::impl_pipe_operator!([] FakeListChatModel);

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(model: &dyn ChatModel) -> Vec<AIMessageChunk> {
        futures::executor::block_on(futures::TryStreamExt::try_collect(
            model.stream_chat(ChatRequest::default()),
        ))
        .unwrap()
    }

    #[test]
    fn tool_calls_stream_one_chunk_each_after_the_content() {
        let call = ToolCall::new("weather", serde_json::json!({"city": "Paris"})).with_id("call-1");
        let model = FakeToolCallingChatModel::new([AIMessage::new("ok then").with_tool_calls(vec![call.clone()])]);
        let chunks = collect(&model);
        assert_eq!(chunks.len(), 4);
        let last = chunks.last().unwrap();
        assert_eq!(last.chunk_position, Some(ChunkPosition::Last));
        assert_eq!(last.tool_call_chunks[0].args.as_deref(), Some(r#"{"city": "Paris"}"#));
        assert_eq!(last.tool_call_chunks[0].index, Some(0));
        let mut merged = chunks[0].clone();
        for c in &chunks[1..] {
            crate::value::Chunk::concat(&mut merged, c.clone());
        }
        assert_eq!(merged.text(), "ok then");
        assert_eq!(merged.tool_calls, [call]);
    }

    #[test]
    fn generic_model_answers_once_per_message_then_fails_clearly() {
        let model = GenericFakeChatModel::new(["a b"]);
        let texts: Vec<String> = collect(&model).iter().map(|c| c.text().into_owned()).collect();
        assert_eq!(texts, ["a", " ", "b"]);
        let err = futures::executor::block_on(futures::StreamExt::next(&mut model.stream_chat(ChatRequest::default())))
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("no more messages"), "{err}");
        assert!(err.to_string().contains("`.repeating()`"), "{err}");
    }

    #[test]
    fn repeating_models_start_over_after_the_last_message() {
        let texts =
            |model: &dyn ChatModel| -> String { collect(model).iter().map(|c| c.text().into_owned()).collect() };
        let model = GenericFakeChatModel::new(["a", "b"]).repeating();
        let answers: Vec<String> = (0..5).map(|_| texts(&model)).collect();
        assert_eq!(answers, ["a", "b", "a", "b", "a"]);

        let call = ToolCall::new("weather", serde_json::json!({})).with_id("call-1");
        let model =
            FakeToolCallingChatModel::new([AIMessage::new("x").with_tool_calls(vec![call.clone()])]).repeating();
        for _ in 0..3 {
            let chunks = collect(&model);
            assert_eq!(chunks.last().unwrap().tool_calls, std::slice::from_ref(&call));
        }
    }

    #[test]
    fn whitespace_split_matches_python_re_split() {
        assert_eq!(split_on_whitespace("a  b"), ["a", " ", "", " ", "b"]);
        assert_eq!(split_on_whitespace("hello world "), ["hello", " ", "world", " ", ""]);
        assert_eq!(split_on_whitespace("x\ny"), ["x", "\n", "y"]);
    }
}
