//! [`ChatOpenAI`]: OpenAI's chat completions API, and every server that
//! speaks it (llama.cpp, vLLM, Ollama's OpenAI endpoint, ...).

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Value as Json};
use sse_stream::Sse;

use super::http::{ApiKey, AuthHeader, Transport};
use super::provider_error::ProviderError;
use super::settings::{content_json, provider_builder, Settings};
use super::sse::{check_complete, delta_chunk, event_json, last_chunk, post_and_parse, EventParser};
use super::structured::{schema_tool, StructuredMethod, StructuredOutput, ToolChoice};
use super::{ChatModel, ChatRequest, ModelProfile};
use crate::error::Result;
use crate::messages::{AIMessageChunk, Content, Message, ToolCall, ToolCallChunk, UsageMetadata};
use crate::python::json_dumps;
use crate::runnable::ChunkStream;
use crate::value::Map;

const PROVIDER: &str = "openai";

/// A chat model behind OpenAI's chat completions API (LangChain's
/// `ChatOpenAI`), streamed over server-sent events.
///
/// The API key comes from `OPENAI_API_KEY` (or [`api_key`](Self::api_key));
/// without one, no `Authorization` header is sent, which is what local
/// servers want. The base URL comes from `OPENAI_BASE_URL` (or
/// [`base_url`](Self::base_url)), default `https://api.openai.com/v1`.
///
/// Each answer streams its text, its tool calls (pieces with their
/// `index`, which add up to [`ToolCall`]s), and a last chunk with
/// `usage_metadata` (the request asks for `stream_options.include_usage`)
/// and `response_metadata` (`finish_reason`, `model_name`,
/// `system_fingerprint`, `model_provider`). Failures are
/// [`ProviderError`]s of the matching [`ErrorKind`](crate::ErrorKind); see
/// [`max_retries`](Self::max_retries) and the timeouts for what is retried
/// and bounded.
///
/// ```no_run
/// use runwright::models::ChatOpenAI;
/// use runwright::prompts::ChatPromptTemplate;
/// use runwright::{RunnableExt, StrOutputParser};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let model = ChatOpenAI::new("gpt-4o-mini").temperature(0.0).max_tokens(200);
/// let chain = ChatPromptTemplate::from_template("Tell me about {topic}")? | model | StrOutputParser;
/// let answer = chain.invoke(serde_json::json!({"topic": "Paris"}).as_object().unwrap().clone()).await?;
/// println!("{answer}");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct ChatOpenAI {
    profile: ModelProfile,
    settings: Settings,
    transport: Transport,
    response_format: Option<Json>,
}

impl ChatOpenAI {
    const CLASS: &'static str = "ChatOpenAI";

    /// A client for `model`, configured from `OPENAI_API_KEY` and
    /// `OPENAI_BASE_URL`.
    pub fn new(model: impl Into<String>) -> Self {
        let base_url = std::env::var("OPENAI_BASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "https://api.openai.com/v1".into());
        let settings = Settings::new(model);
        ChatOpenAI {
            profile: settings.profile(Self::CLASS),
            settings,
            transport: Transport::new(
                PROVIDER,
                base_url,
                ApiKey::from_env("OPENAI_API_KEY"),
                AuthHeader::Bearer,
            ),
            response_format: None,
        }
    }

    /// Sets the `response_format` of every request (`{"type":
    /// "json_object"}`, `{"type": "json_schema", ...}`).
    pub fn response_format(mut self, format: Json) -> Self {
        self.response_format = Some(format);
        self
    }

    /// This model answering with a `T` (LangChain's `with_structured_output`):
    /// `T`'s JSON schema becomes a tool the model is told to call, or the
    /// response format, as `method` says.
    ///
    /// ```no_run
    /// use runwright::models::{ChatOpenAI, StructuredMethod};
    /// use runwright::RunnableExt;
    ///
    /// /// The weather in a city.
    /// #[derive(Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    /// struct Weather {
    ///     city: String,
    ///     celsius: f64,
    /// }
    /// impl runwright::Chunk for Weather {}
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let model = ChatOpenAI::new("gpt-4o-mini").with_structured_output::<Weather>(StructuredMethod::ToolCalling);
    /// let weather: Weather = model.invoke("It is 21 degrees in Paris.".into()).await?;
    /// # let _ = weather; Ok(()) }
    /// ```
    pub fn with_structured_output<T: JsonSchema + DeserializeOwned>(
        mut self,
        method: StructuredMethod,
    ) -> StructuredOutput<Self, T> {
        let (name, tool) = schema_tool::<T>();
        match method {
            StructuredMethod::ToolCalling => {
                self.settings.tools = vec![tool];
                self.settings.tool_choice = Some(ToolChoice::Tool(name.clone()));
                StructuredOutput::by_tool_call(self, name)
            }
            StructuredMethod::JsonMode => {
                StructuredOutput::by_json(self.response_format(json!({"type": "json_object"})))
            }
            StructuredMethod::JsonSchema => {
                let schema = tool["function"]["parameters"].clone();
                let format = json!({"type": "json_schema", "json_schema": {"name": name, "schema": schema}});
                StructuredOutput::by_json(self.response_format(format))
            }
        }
    }

    /// The JSON body of a streaming request for `request`.
    pub(crate) fn request_body(&self, request: &ChatRequest) -> Json {
        let s = &self.settings;
        let mut body = Map::new();
        body.insert("model".into(), s.model.clone().into());
        body.insert(
            "messages".into(),
            request.messages.iter().map(message_json).collect::<Vec<_>>().into(),
        );
        body.insert("stream".into(), true.into());
        body.insert("stream_options".into(), json!({"include_usage": true}));
        if let Some(t) = s.temperature {
            body.insert("temperature".into(), t.into());
        }
        if let Some(n) = s.max_tokens {
            body.insert("max_tokens".into(), n.into());
        }
        if !s.stop.is_empty() {
            body.insert("stop".into(), s.stop.clone().into());
        }
        if !request.tools.is_empty() {
            body.insert("tools".into(), request.tools.clone().into());
            if let Some(choice) = &s.tool_choice {
                body.insert("tool_choice".into(), choice.to_openai());
            }
        }
        if let Some(format) = &self.response_format {
            body.insert("response_format".into(), format.clone());
        }
        for (k, v) in &s.extra {
            body.insert(k.clone(), v.clone());
        }
        Json::Object(body)
    }
}

provider_builder!(ChatOpenAI, "OPENAI_API_KEY", "OPENAI_BASE_URL");

impl ChatModel for ChatOpenAI {
    fn profile(&self) -> &ModelProfile {
        &self.profile
    }

    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        let body = self.request_body(&request);
        post_and_parse(&self.transport, "/chat/completions", &[], body, OpenAIParser::default())
    }

    fn bound_tools(&self) -> &[Json] {
        &self.settings.tools
    }

    fn invocation_params(&self) -> Map {
        let mut params = self.settings.params("openai-chat");
        if let Some(choice) = &self.settings.tool_choice {
            params.insert("tool_choice".into(), choice.to_openai());
        }
        if let Some(format) = &self.response_format {
            params.insert("response_format".into(), format.clone());
        }
        params
    }
}

crate::runnable::impl_pipe_operator!([] ChatOpenAI);

/// A message as OpenAI's API takes it.
fn message_json(message: &Message) -> Json {
    let with_name = |mut m: Json, name: &Option<String>| {
        if let Some(name) = name {
            m["name"] = name.clone().into();
        }
        m
    };
    match message {
        Message::System(m) => with_name(json!({"role": "system", "content": content_json(&m.content)}), &m.name),
        Message::Human(m) => with_name(json!({"role": "user", "content": content_json(&m.content)}), &m.name),
        Message::Ai(m) => with_name(assistant_json(&m.content, &m.tool_calls), &m.name),
        Message::AiChunk(m) => with_name(assistant_json(&m.content, &m.tool_calls), &m.name),
        Message::Tool(m) => json!({
            "role": "tool",
            "tool_call_id": m.tool_call_id,
            "content": content_json(&m.content),
        }),
    }
}

fn assistant_json(content: &Content, calls: &[ToolCall]) -> Json {
    let mut m = json!({"role": "assistant"});
    m["content"] = if content.is_empty() && !calls.is_empty() {
        Json::Null
    } else {
        content_json(content)
    };
    if !calls.is_empty() {
        // Arguments as LangChain writes them (Python's `json.dumps`).
        let calls: Vec<Json> = calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({
                    "id": c.id.clone().unwrap_or_else(|| format!("call_{i}")),
                    "type": "function",
                    "function": {"name": c.name, "arguments": json_dumps(&Json::Object(c.args.clone()), true)},
                })
            })
            .collect();
        m["tool_calls"] = calls.into();
    }
    m
}

/// Reads a chat-completions event stream: `data:` lines with
/// `chat.completion.chunk` objects, an error object instead of one, and
/// `data: [DONE]` at the end.
#[derive(Debug, Default)]
pub(crate) struct OpenAIParser {
    done: bool,
    id: Option<String>,
    model: Option<String>,
    fingerprint: Option<String>,
    finish_reason: Option<String>,
    usage: Option<UsageMetadata>,
}

fn string(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_owned)
}

impl EventParser for OpenAIParser {
    fn event(&mut self, event: Sse) -> Result<Option<AIMessageChunk>> {
        let Some(data) = event.data else {
            return Ok(None);
        };
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        let v = event_json(PROVIDER, &data)?;
        if let Some(error) = v.get("error").filter(|e| !e.is_null()) {
            return Err(ProviderError::from_error_object(PROVIDER, "", None, error).into_error());
        }
        if event.event.as_deref() == Some("error") {
            return Err(ProviderError::from_error_object(PROVIDER, "", None, &v).into_error());
        }
        if self.id.is_none() {
            self.id = string(&v, "id");
        }
        if self.model.is_none() {
            self.model = string(&v, "model");
        }
        if let Some(f) = string(&v, "system_fingerprint") {
            self.fingerprint = Some(f);
        }
        // Counts are totals so far: a later report replaces an earlier one.
        if let Some(usage) = v.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(usage_of(usage));
        }
        let Some(choice) = v.get("choices").and_then(Json::as_array).and_then(|c| c.first()) else {
            return Ok(None);
        };
        if let Some(reason) = string(choice, "finish_reason") {
            self.finish_reason = Some(reason);
        }
        let delta = choice.get("delta");
        let text = delta
            .and_then(|d| d.get("content"))
            .and_then(Json::as_str)
            .unwrap_or("");
        let calls: Vec<ToolCallChunk> = delta
            .and_then(|d| d.get("tool_calls"))
            .and_then(Json::as_array)
            .map(|calls| calls.iter().map(tool_call_chunk).collect())
            .unwrap_or_default();
        Ok(delta_chunk(self.id.as_deref(), text, calls))
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn finish(&mut self) -> Result<AIMessageChunk> {
        check_complete(PROVIDER, self.done, "data: [DONE]")?;
        let metadata = [
            ("finish_reason", self.finish_reason.take()),
            ("model_name", self.model.take()),
            ("system_fingerprint", self.fingerprint.take()),
        ];
        Ok(last_chunk(PROVIDER, self.id.as_deref(), metadata, self.usage.take()))
    }
}

fn tool_call_chunk(call: &Json) -> ToolCallChunk {
    let function = call.get("function");
    let field = |key: &str| function.and_then(|f| f.get(key)).and_then(Json::as_str);
    ToolCallChunk::new(
        field("name"),
        field("arguments"),
        call.get("id").and_then(Json::as_str),
        call.get("index").and_then(Json::as_i64),
    )
}

/// OpenAI's usage object as LangChain's `UsageMetadata` (cached prompt
/// tokens as `cache_read`, reasoning tokens as `reasoning`).
fn usage_of(u: &Json) -> UsageMetadata {
    let n = |v: Option<&Json>| v.and_then(Json::as_u64);
    let mut usage = UsageMetadata::new(
        n(u.get("prompt_tokens")).unwrap_or(0),
        n(u.get("completion_tokens")).unwrap_or(0),
    );
    if let Some(total) = n(u.get("total_tokens")) {
        usage.total_tokens = total;
    }
    if let Some(cached) = n(u.pointer("/prompt_tokens_details/cached_tokens")) {
        usage.input_token_details = Some(Map::from_iter([("cache_read".into(), cached.into())]));
    }
    if let Some(reasoning) = n(u.pointer("/completion_tokens_details/reasoning_tokens")) {
        usage.output_token_details = Some(Map::from_iter([("reasoning".into(), reasoning.into())]));
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::messages::ChunkPosition;
    use crate::models::sse::testing::{fold, run};

    const CHAT: &[u8] = include_bytes!("../../tests/fixtures/local-llm/openai-chat-stream.sse");
    const TOOL: &[u8] = include_bytes!("../../tests/fixtures/local-llm/openai-tool-call-stream.sse");
    const MIDSTREAM_ERROR: &[u8] = include_bytes!("../../tests/fixtures/local-llm/openai-stream-error-midstream.sse");

    /// The transcript's `data:` objects, read without the parser under test.
    fn data_objects(bytes: &[u8]) -> Vec<Json> {
        std::str::from_utf8(bytes)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    /// Every piece size gives the same items as the whole transcript.
    fn parse_in_pieces(bytes: &[u8]) -> Vec<Result<AIMessageChunk>> {
        let whole = run(bytes, bytes.len(), OpenAIParser::default());
        for piece in [1, 2, 3, 7, 64] {
            let pieces = run(bytes, piece, OpenAIParser::default());
            assert_eq!(pieces.len(), whole.len(), "piece size {piece}");
            for (a, b) in pieces.iter().zip(&whole) {
                match (a, b) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "piece size {piece}"),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    _ => panic!("piece size {piece}: {a:?} vs {b:?}"),
                }
            }
        }
        whole
    }

    #[test]
    fn chat_transcript_gives_its_text_usage_and_finish_reason() {
        let items = parse_in_pieces(CHAT);
        let objects = data_objects(CHAT);
        let expected_text: String = objects
            .iter()
            .filter_map(|o| o.pointer("/choices/0/delta/content").and_then(Json::as_str))
            .collect();
        let text_deltas = objects
            .iter()
            .filter(|o| {
                o.pointer("/choices/0/delta/content")
                    .and_then(Json::as_str)
                    .is_some_and(|t| !t.is_empty())
            })
            .count();
        // One chunk per text delta, then the last chunk.
        assert_eq!(items.len(), text_deltas + 1);
        let last = items.last().unwrap().as_ref().unwrap();
        assert_eq!(last.chunk_position, Some(ChunkPosition::Last));
        assert!(items[..items.len() - 1]
            .iter()
            .all(|c| c.as_ref().unwrap().chunk_position.is_none()));

        let message = fold(&items);
        assert_eq!(message.text(), expected_text);
        assert_eq!(message.id.as_deref(), Some("chatcmpl-GYCTv9qqdlVzycqcyNzG2uFGPVHcQXeX"));
        assert_eq!(
            Json::Object(message.response_metadata.clone().into_map()),
            json!({"finish_reason": "length", "model_name": "gemma-3-270m",
                   "system_fingerprint": "b0-unknown", "model_provider": "openai"})
        );
        let usage = message.usage_metadata.clone().unwrap();
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.total_tokens),
            (26, 50, 76)
        );
        assert_eq!(
            usage.input_token_details,
            Some(Map::from_iter([("cache_read".into(), 1.into())]))
        );
        assert!(message.tool_calls.is_empty());
    }

    #[test]
    fn tool_call_transcript_merges_its_argument_pieces() {
        let items = parse_in_pieces(TOOL);
        let pieces: Vec<&ToolCallChunk> = items
            .iter()
            .flat_map(|c| c.as_ref().unwrap().tool_call_chunks.iter())
            .collect();
        assert_eq!(pieces.len(), 7, "one piece per delta");
        assert!(pieces.iter().all(|p| p.index == Some(0)));
        let message = fold(&items);
        assert_eq!(
            message.tool_calls,
            [ToolCall::new("get_weather", json!({"city": "Paris"})).with_id("EbPUWE2lN4UYCPR62uNWSMc5CNzr05wY")]
        );
        assert_eq!(
            message.tool_call_chunks[0].args.as_deref(),
            Some(r#"{"city": "Paris"}"#)
        );
        assert_eq!(message.response_metadata["finish_reason"], "tool_calls");
        assert_eq!(message.text(), "");
        // llama.cpp sends no usage without `include_usage`.
        assert_eq!(message.usage_metadata, None);
    }

    #[test]
    fn error_object_mid_stream_ends_the_stream_after_the_chunks() {
        let items = parse_in_pieces(MIDSTREAM_ERROR);
        let (last, chunks) = items.split_last().unwrap();
        assert!(!chunks.is_empty());
        assert!(chunks.iter().all(|c| c.is_ok()));
        let err = last.as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert!(
            err.message().contains("does not match the expected peg-native format"),
            "{err}"
        );
        let source = std::error::Error::source(err)
            .unwrap()
            .downcast_ref::<ProviderError>()
            .unwrap();
        assert_eq!(
            (source.status(), source.error_type()),
            (Some(500), Some("server_error"))
        );
        // The pieces before the error are the tool call so far.
        assert_eq!(fold(chunks).tool_call_chunks.len(), 1);
    }

    #[test]
    fn a_transcript_without_done_is_an_incomplete_answer() {
        let cut = &CHAT[..CHAT.len() - "data: [DONE]\n\n".len()];
        let items = run(cut, 5, OpenAIParser::default());
        let err = items.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connection);
        assert!(err.message().contains("[DONE]"), "{err}");
    }

    #[test]
    fn comments_crlf_and_unknown_fields_are_skipped_malformed_json_is_not() {
        let text = b": keep-alive\r\n\r\nretry: 10\r\nfoo\r\ndata: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\r\n\r\n:\n\ndata: [DONE]\n\n";
        let items = run(text, 1, OpenAIParser::default());
        assert_eq!(fold(&items).text(), "hi");
        assert!(items.iter().all(|i| i.is_ok()));

        let bad = b"data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\": [\n\n";
        let items = run(bad, 3, OpenAIParser::default());
        assert_eq!(items.len(), 2);
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.message().contains("not JSON"), "{err}");
    }

    #[test]
    fn request_body_has_the_settings_tools_and_messages_in_openai_form() {
        let model = ChatOpenAI::new("gemma-3-270m")
            .temperature(0.0)
            .max_tokens(60)
            .stop(["\n\n"])
            .param("seed", 7)
            .tool_choice(ToolChoice::Any)
            .with_tools([json!({"name": "get_weather", "parameters": {"type": "object"}})])
            .unwrap();
        let call = ToolCall::new("get_weather", json!({"city": "Berlin"})).with_id("call_1");
        let request = ChatRequest::new(vec![
            Message::system("You are a weather bot."),
            Message::human("Berlin?"),
            Message::Ai(crate::messages::AIMessage::new("").with_tool_calls(vec![call])),
            Message::tool("sunny", "call_1"),
        ])
        .with_tools(model.bound_tools().to_vec());
        let body = model.request_body(&request);
        assert_eq!(
            body,
            json!({
                "model": "gemma-3-270m",
                "messages": [
                    {"role": "system", "content": "You are a weather bot."},
                    {"role": "user", "content": "Berlin?"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_1", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{\"city\": \"Berlin\"}"}}]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
                ],
                "stream": true,
                "stream_options": {"include_usage": true},
                "temperature": 0.0,
                "max_tokens": 60,
                "stop": ["\n\n"],
                "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
                "tool_choice": "required",
                "seed": 7
            })
        );
        let params = model.invocation_params();
        assert_eq!(params["model"], "gemma-3-270m");
        assert_eq!(params["max_tokens"], 60);
        assert_eq!(
            model.profile().metadata().get("ls_model_name"),
            Some(&json!("gemma-3-270m"))
        );
    }
}
