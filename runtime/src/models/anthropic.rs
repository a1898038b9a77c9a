//! [`ChatAnthropic`]: Anthropic's messages API, and servers that speak it
//! (llama.cpp's `/v1/messages`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Value as Json};
use sse_stream::Sse;

use super::http::{ApiKey, AuthHeader, Transport};
use super::provider_error::{provider_error, ProviderError};
use super::settings::{content_json, provider_builder, Settings};
use super::sse::{check_complete, delta_chunk, event_json, last_chunk, post_and_parse, EventParser};
use super::structured::{anthropic_tool, schema_tool, StructuredOutput, ToolChoice};
use super::{ChatModel, ChatRequest, ModelProfile};
use crate::error::{ErrorKind, Result};
use crate::messages::{AIMessageChunk, Content, Message, ToolCall, ToolCallChunk, ToolStatus, UsageMetadata};
use crate::runnable::ChunkStream;
use crate::value::Map;

const PROVIDER: &str = "anthropic";

/// The `anthropic-version` header every request carries.
const API_VERSION: &str = "2023-06-01";

/// What `max_tokens` is when none is set: the API requires one.
const DEFAULT_MAX_TOKENS: u32 = 1024;

/// A chat model behind Anthropic's messages API (LangChain's
/// `ChatAnthropic`), streamed over server-sent events.
///
/// The API key comes from `ANTHROPIC_API_KEY` (or
/// [`api_key`](Self::api_key)) and goes in the `x-api-key` header; the base
/// URL from `ANTHROPIC_BASE_URL` (or [`base_url`](Self::base_url)), default
/// `https://api.anthropic.com` (requests go to `{base}/v1/messages`).
/// `max_tokens` is 1024 unless set.
///
/// System messages become the request's `system`; tool messages become
/// `tool_result` blocks of a user turn; turns of the same role are merged,
/// as the API wants.
///
/// Each answer streams its text, its tool calls (`tool_use` blocks, their
/// `input_json_delta` pieces indexed by block, in whatever order the blocks
/// close), and a last chunk with `usage_metadata` (input tokens from
/// `message_start`, cache reads and writes included; output tokens from
/// `message_delta`) and `response_metadata` (`stop_reason`,
/// `stop_sequence`, `model_name`, `model_provider`).
///
/// ```no_run
/// use runwright::models::ChatAnthropic;
/// use runwright::RunnableExt;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let model = ChatAnthropic::new("claude-sonnet-4-5").max_tokens(300);
/// let answer = model.invoke("Describe Paris in one sentence.".into()).await?;
/// println!("{}", answer.text());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct ChatAnthropic {
    profile: ModelProfile,
    settings: Settings,
    transport: Transport,
}

impl ChatAnthropic {
    const CLASS: &'static str = "ChatAnthropic";

    /// A client for `model`, configured from `ANTHROPIC_API_KEY` and
    /// `ANTHROPIC_BASE_URL`.
    pub fn new(model: impl Into<String>) -> Self {
        let base_url = std::env::var("ANTHROPIC_BASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "https://api.anthropic.com".into());
        let settings = Settings::new(model);
        ChatAnthropic {
            profile: settings.profile(Self::CLASS),
            settings,
            transport: Transport::new(
                PROVIDER,
                base_url,
                ApiKey::from_env("ANTHROPIC_API_KEY"),
                AuthHeader::XApiKey,
            ),
        }
    }

    /// This model answering with a `T` (LangChain's `with_structured_output`):
    /// `T`'s JSON schema becomes a tool the model is told to call, and the
    /// call's arguments are read into a `T`. (Anthropic has no JSON mode;
    /// tool calling is its way.)
    pub fn with_structured_output<T: JsonSchema + DeserializeOwned>(mut self) -> StructuredOutput<Self, T> {
        let (name, tool) = schema_tool::<T>();
        self.settings.tools = vec![tool];
        self.settings.tool_choice = Some(ToolChoice::Tool(name.clone()));
        StructuredOutput::by_tool_call(self, name)
    }

    /// The JSON body of a streaming request for `request`.
    pub(crate) fn request_body(&self, request: &ChatRequest) -> Json {
        let s = &self.settings;
        let (system, messages) = messages_json(&request.messages);
        let mut body = Map::new();
        body.insert("model".into(), s.model.clone().into());
        body.insert("max_tokens".into(), s.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS).into());
        if let Some(system) = system {
            body.insert("system".into(), system);
        }
        body.insert("messages".into(), messages.into());
        body.insert("stream".into(), true.into());
        if let Some(t) = s.temperature {
            body.insert("temperature".into(), t.into());
        }
        if !s.stop.is_empty() {
            body.insert("stop_sequences".into(), s.stop.clone().into());
        }
        if !request.tools.is_empty() {
            body.insert(
                "tools".into(),
                request.tools.iter().map(anthropic_tool).collect::<Vec<_>>().into(),
            );
            if let Some(choice) = &s.tool_choice {
                body.insert("tool_choice".into(), choice.to_anthropic());
            }
        }
        for (k, v) in &s.extra {
            body.insert(k.clone(), v.clone());
        }
        Json::Object(body)
    }
}

provider_builder!(ChatAnthropic, "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL");

impl ChatModel for ChatAnthropic {
    fn profile(&self) -> &ModelProfile {
        &self.profile
    }

    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        let body = self.request_body(&request);
        let headers = &[("anthropic-version", API_VERSION)];
        post_and_parse(
            &self.transport,
            "/v1/messages",
            headers,
            body,
            AnthropicParser::default(),
        )
    }

    fn bound_tools(&self) -> &[Json] {
        &self.settings.tools
    }

    fn invocation_params(&self) -> Map {
        let mut params = self.settings.params("anthropic-chat");
        if let Some(choice) = &self.settings.tool_choice {
            params.insert("tool_choice".into(), choice.to_anthropic());
        }
        params
    }
}

crate::runnable::impl_pipe_operator!([] ChatAnthropic);

/// The system prompt and the turns, as the messages API takes them.
fn messages_json(messages: &[Message]) -> (Option<Json>, Vec<Json>) {
    let mut system: Vec<&Content> = Vec::new();
    let mut turns: Vec<(&'static str, Json)> = Vec::new();
    for message in messages {
        let (role, content) = match message {
            Message::System(m) => {
                system.push(&m.content);
                continue;
            }
            Message::Human(m) => ("user", content_json(&m.content)),
            Message::Ai(m) => ("assistant", assistant_content(&m.content, &m.tool_calls)),
            Message::AiChunk(m) => ("assistant", assistant_content(&m.content, &m.tool_calls)),
            Message::Tool(m) => {
                let mut result = json!({
                    "type": "tool_result",
                    "tool_use_id": m.tool_call_id,
                    "content": content_json(&m.content),
                });
                if m.status == ToolStatus::Error {
                    result["is_error"] = true.into();
                }
                ("user", json!([result]))
            }
        };
        match turns.last_mut() {
            Some((last_role, last)) if *last_role == role => {
                let mut blocks = into_blocks(std::mem::take(last));
                blocks.extend(into_blocks(content));
                *last = blocks.into();
            }
            _ => turns.push((role, content)),
        }
    }
    let system = match system.as_slice() {
        [] => None,
        [only @ Content::Blocks(_)] => Some(content_json(only)),
        many => Some(
            many.iter()
                .map(|c| c.text().into_owned())
                .collect::<Vec<_>>()
                .join("\n\n")
                .into(),
        ),
    };
    let turns = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    (system, turns)
}

/// An assistant turn: its text, then a `tool_use` block per call.
fn assistant_content(content: &Content, calls: &[ToolCall]) -> Json {
    if calls.is_empty() {
        return content_json(content);
    }
    let mut blocks = into_blocks(content_json(content));
    for (i, call) in calls.iter().enumerate() {
        blocks.push(json!({
            "type": "tool_use",
            "id": call.id.clone().unwrap_or_else(|| format!("toolu_{i}")),
            "name": call.name,
            "input": Json::Object(call.args.clone()),
        }));
    }
    blocks.into()
}

/// Content as a list of blocks (an empty text is no block: the API refuses
/// empty text blocks).
fn into_blocks(content: Json) -> Vec<Json> {
    match content {
        Json::String(s) if s.is_empty() => Vec::new(),
        Json::String(s) => vec![json!({"type": "text", "text": s})],
        Json::Array(blocks) => blocks,
        Json::Null => Vec::new(),
        other => vec![other],
    }
}

/// Reads a messages event stream: `message_start`, content blocks (started,
/// added to, stopped, in any order between blocks), `message_delta`,
/// `message_stop`; `ping`s; an `error` event.
#[derive(Debug, Default)]
pub(crate) struct AnthropicParser {
    done: bool,
    id: Option<String>,
    model: Option<String>,
    input: Option<UsageMetadata>,
    output_tokens: Option<u64>,
    stop_reason: Option<String>,
    stop_sequence: Option<String>,
    /// The open blocks: index to type.
    open: BTreeMap<i64, String>,
}

fn protocol(message: String) -> crate::error::Error {
    provider_error(PROVIDER, ErrorKind::Protocol, message)
}

impl AnthropicParser {
    fn chunk(&self, text: &str, calls: Vec<ToolCallChunk>) -> Option<AIMessageChunk> {
        delta_chunk(self.id.as_deref(), text, calls)
    }
}

fn block_index(v: &Json) -> Result<i64> {
    v.get("index")
        .and_then(Json::as_i64)
        .ok_or_else(|| protocol(format!("a content block event without an index: {v}")))
}

impl EventParser for AnthropicParser {
    fn event(&mut self, event: Sse) -> Result<Option<AIMessageChunk>> {
        let Some(data) = event.data else {
            return Ok(None);
        };
        let v = event_json(PROVIDER, &data)?;
        let kind = v
            .get("type")
            .and_then(Json::as_str)
            .or(event.event.as_deref())
            .unwrap_or("");
        match kind {
            "message_start" => {
                let message = v.get("message").unwrap_or(&Json::Null);
                self.id = message.get("id").and_then(Json::as_str).map(str::to_owned);
                self.model = message.get("model").and_then(Json::as_str).map(str::to_owned);
                if let Some(usage) = message.get("usage") {
                    self.input = Some(input_usage(usage));
                }
                Ok(None)
            }
            "content_block_start" => {
                let index = block_index(&v)?;
                let block = v.get("content_block").unwrap_or(&Json::Null);
                let block_type = block.get("type").and_then(Json::as_str).unwrap_or("").to_owned();
                if self.open.insert(index, block_type.clone()).is_some() {
                    return Err(protocol(format!("content block {index} started twice")));
                }
                match block_type.as_str() {
                    "text" => Ok(self.chunk(block.get("text").and_then(Json::as_str).unwrap_or(""), Vec::new())),
                    "tool_use" => {
                        // The API starts a block with `"input": {}` and sends
                        // the arguments as deltas; a block that comes whole
                        // carries them here.
                        let args = match block.get("input") {
                            Some(Json::Object(input)) if !input.is_empty() => Json::Object(input.clone()).to_string(),
                            _ => String::new(),
                        };
                        let call = ToolCallChunk::new(
                            block.get("name").and_then(Json::as_str),
                            Some(&args),
                            block.get("id").and_then(Json::as_str),
                            Some(index),
                        );
                        Ok(self.chunk("", vec![call]))
                    }
                    // Thinking and server-tool blocks are not part of the message.
                    _ => Ok(None),
                }
            }
            "content_block_delta" => {
                let index = block_index(&v)?;
                if !self.open.contains_key(&index) {
                    return Err(protocol(format!(
                        "a delta for content block {index}, which is not open"
                    )));
                }
                let delta = v.get("delta").unwrap_or(&Json::Null);
                let text = |key: &str| delta.get(key).and_then(Json::as_str).unwrap_or("");
                match delta.get("type").and_then(Json::as_str) {
                    Some("text_delta") => Ok(self.chunk(text("text"), Vec::new())),
                    Some("input_json_delta") => {
                        let call = ToolCallChunk::new(None, Some(text("partial_json")), None, Some(index));
                        Ok(self.chunk("", vec![call]))
                    }
                    _ => Ok(None),
                }
            }
            "content_block_stop" => {
                self.open.remove(&block_index(&v)?);
                Ok(None)
            }
            "message_delta" => {
                let delta = v.get("delta").unwrap_or(&Json::Null);
                if let Some(reason) = delta.get("stop_reason").and_then(Json::as_str) {
                    self.stop_reason = Some(reason.to_owned());
                }
                if let Some(sequence) = delta.get("stop_sequence").and_then(Json::as_str) {
                    self.stop_sequence = Some(sequence.to_owned());
                }
                // A running total: the last one counts.
                if let Some(n) = v.pointer("/usage/output_tokens").and_then(Json::as_u64) {
                    self.output_tokens = Some(n);
                }
                Ok(None)
            }
            "message_stop" => {
                self.done = true;
                Ok(None)
            }
            "error" => {
                let error = v.get("error").unwrap_or(&v);
                Err(ProviderError::from_error_object(PROVIDER, "", None, error).into_error())
            }
            // `ping`, and event types newer than this code.
            _ => Ok(None),
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn finish(&mut self) -> Result<AIMessageChunk> {
        check_complete(PROVIDER, self.done, "message_stop")?;
        let metadata = [
            ("model_name", self.model.take()),
            ("stop_reason", self.stop_reason.take()),
            ("stop_sequence", self.stop_sequence.take()),
        ];
        let mut usage = self.input.take().unwrap_or_default();
        if let Some(out) = self.output_tokens {
            usage.output_tokens = out;
        }
        usage.total_tokens = usage.input_tokens + usage.output_tokens;
        Ok(last_chunk(PROVIDER, self.id.as_deref(), metadata, Some(usage)))
    }
}

/// `message_start`'s usage as LangChain counts it: input tokens include the
/// cache reads and writes, which the details break out.
fn input_usage(u: &Json) -> UsageMetadata {
    let n = |key: &str| u.get(key).and_then(Json::as_u64);
    let read = n("cache_read_input_tokens");
    let creation = n("cache_creation_input_tokens");
    let input = n("input_tokens").unwrap_or(0) + read.unwrap_or(0) + creation.unwrap_or(0);
    let mut usage = UsageMetadata::new(input, n("output_tokens").unwrap_or(0));
    if read.is_some() || creation.is_some() {
        let mut details = Map::new();
        details.insert("cache_read".into(), read.unwrap_or(0).into());
        details.insert("cache_creation".into(), creation.unwrap_or(0).into());
        usage.input_token_details = Some(details);
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::ChunkPosition;
    use crate::models::sse::testing::{fold, run};

    const TEXT: &[u8] = include_bytes!("../../tests/fixtures/local-llm/anthropic-messages-stream.sse");
    const TOOL: &[u8] = include_bytes!("../../tests/fixtures/local-llm/anthropic-tool-use-stream.sse");
    const PARALLEL_TOOLS: &[u8] =
        include_bytes!("../../tests/fixtures/local-llm/anthropic-parallel-tool-uses-stream.sse");

    /// The transcript's `data:` objects, read without the parser under test.
    fn data_objects(bytes: &[u8]) -> Vec<Json> {
        std::str::from_utf8(bytes)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    /// Every piece size gives the same items as the whole transcript.
    fn parse_in_pieces(bytes: &[u8]) -> Vec<Result<AIMessageChunk>> {
        let whole = run(bytes, bytes.len(), AnthropicParser::default());
        for piece in [1, 2, 5, 64] {
            let pieces = run(bytes, piece, AnthropicParser::default());
            assert_eq!(pieces.len(), whole.len(), "piece size {piece}");
            for (a, b) in pieces.iter().zip(&whole) {
                assert_eq!(a.as_ref().ok(), b.as_ref().ok(), "piece size {piece}");
            }
        }
        whole
    }

    #[test]
    fn text_transcript_gives_its_text_usage_and_stop_reason() {
        let items = parse_in_pieces(TEXT);
        let objects = data_objects(TEXT);
        let expected: String = objects
            .iter()
            .filter_map(|o| o.pointer("/delta/text").and_then(Json::as_str))
            .collect();
        let deltas = objects.iter().filter(|o| o["type"] == "content_block_delta").count();
        assert_eq!(items.len(), deltas + 1);
        let message = fold(&items);
        assert_eq!(message.text(), expected);
        assert_eq!(message.chunk_position, Some(ChunkPosition::Last));
        assert_eq!(message.id.as_deref(), Some("chatcmpl-Iokv5b4vdJwGhtMgjzBHFtxUEScOnkrL"));
        assert_eq!(
            Json::Object(message.response_metadata.clone().into_map()),
            json!({"model_name": "gemma-3-270m", "stop_reason": "max_tokens", "model_provider": "anthropic"})
        );
        let usage = message.usage_metadata.unwrap();
        // 5 new input tokens and 21 read from the cache.
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.total_tokens),
            (26, 20, 46)
        );
        assert_eq!(usage.input_token_details.unwrap()["cache_read"], 21);
    }

    #[test]
    fn tool_use_transcript_merges_its_input_json_deltas() {
        let items = parse_in_pieces(TOOL);
        let message = fold(&items);
        assert_eq!(
            message.tool_calls,
            [ToolCall::new("get_weather", json!({"city": "Paris"})).with_id("Yh1enHuwxYNnhz5n7diz5hLGQU6sae0v")]
        );
        assert_eq!(message.tool_call_chunks.len(), 1);
        assert_eq!(message.tool_call_chunks[0].index, Some(0));
        assert_eq!(message.response_metadata["stop_reason"], "tool_use");
        assert_eq!(message.usage_metadata.unwrap().output_tokens, 31);
    }

    #[test]
    fn blocks_closing_out_of_order_still_give_each_call_its_arguments() {
        // Recorded from llama.cpp: every block's stop comes after the last
        // block has started.
        let text = std::str::from_utf8(PARALLEL_TOOLS).unwrap();
        let first_stop = text.find("content_block_stop").unwrap();
        assert!(
            text[..first_stop].contains(r#""index":1"#),
            "the recording closes its blocks late"
        );
        let items = parse_in_pieces(PARALLEL_TOOLS);
        let message = fold(&items);
        let objects = data_objects(PARALLEL_TOOLS);
        let blocks = objects.iter().filter(|o| o["type"] == "content_block_start").count();
        assert!(blocks >= 2);
        assert_eq!(message.tool_calls.len(), blocks);
        for index in 0..blocks as i64 {
            let args: String = objects
                .iter()
                .filter(|o| o["index"] == index)
                .filter_map(|o| o.pointer("/delta/partial_json").and_then(Json::as_str))
                .collect();
            let call = &message.tool_calls[index as usize];
            assert_eq!(
                Json::Object(call.args.clone()),
                serde_json::from_str::<Json>(&args).unwrap()
            );
            assert_eq!(
                call.id.as_deref(),
                objects
                    .iter()
                    .find(|o| o["index"] == index)
                    .unwrap()
                    .pointer("/content_block/id")
                    .and_then(Json::as_str)
            );
        }
        assert!(message.invalid_tool_calls.is_empty());
    }

    #[test]
    fn errors_and_broken_streams_end_with_an_error() {
        let error = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let items = run(error, 1, AnthropicParser::default());
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap().text(), "Hi");
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert_eq!(err.message(), "anthropic: Overloaded (overloaded_error)");

        let cut = &TEXT[..TEXT.len() / 2];
        let err = run(cut, 7, AnthropicParser::default()).pop().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connection);
        assert!(err.message().contains("message_stop"), "{err}");

        let stray = b"data: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n";
        let err = run(stray, 4, AnthropicParser::default()).pop().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
    }

    #[test]
    fn request_body_moves_system_and_tool_results_where_the_api_wants_them() {
        let model = ChatAnthropic::new("gemma-3-270m")
            .temperature(0.0)
            .stop(["END"])
            .with_tools([json!({"type": "function", "function": {
                "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}})])
            .unwrap();
        let call = ToolCall::new("get_weather", json!({"city": "Berlin"})).with_id("toolu_1");
        let request = ChatRequest::new(vec![
            Message::system("You are a weather bot."),
            Message::human("Berlin?"),
            Message::Ai(crate::messages::AIMessage::new("Let me look.").with_tool_calls(vec![call])),
            Message::tool("sunny", "toolu_1"),
            Message::human("And now?"),
        ])
        .with_tools(model.bound_tools().to_vec());
        assert_eq!(
            model.request_body(&request),
            json!({
                "model": "gemma-3-270m",
                "max_tokens": 1024,
                "system": "You are a weather bot.",
                "messages": [
                    {"role": "user", "content": "Berlin?"},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "Let me look."},
                        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Berlin"}}]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                        {"type": "text", "text": "And now?"}]}
                ],
                "stream": true,
                "temperature": 0.0,
                "stop_sequences": ["END"],
                "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}]
            })
        );
    }
}
