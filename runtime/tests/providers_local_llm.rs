//! The HTTP providers against a real model: llama.cpp's server with Gemma 3
//! 270M (scripts/local-llm/setup.sh), at `RUNWRIGHT_LOCAL_LLM_URL` (for
//! example `http://127.0.0.1:8080`). Without that variable every test here
//! prints why it is skipped and passes, so `cargo test --workspace` works
//! anywhere; `.ci/run` starts the server and sets it.
//!
//! The model is a small base model: the tests check structure (streaming,
//! framing, finish reasons, usage, tool-call arguments that parse), never
//! wording. The tool-call tests use the few-shot history of the server's
//! README (calls without results), which makes the model call the tool
//! with `{"city": "Paris"}` at temperature 0.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use futures::StreamExt;
use runwright::models::{ChatAnthropic, ChatOpenAI, StructuredMethod};
use runwright::prompts::ChatPromptTemplate;
use runwright::{
    tool, AIMessage, AIMessageChunk, Chunk, ErrorKind, LanguageModelInput, Map, Message, Runnable, RunnableExt,
    StrOutputParser, ToolCall,
};
use serde_json::json;

/// The server's URL, or `None` (and a line saying the test is skipped).
fn server(test: &str) -> Option<String> {
    match std::env::var("RUNWRIGHT_LOCAL_LLM_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ => {
            println!(
                "skipped {test}: RUNWRIGHT_LOCAL_LLM_URL is not set (bash scripts/local-llm/setup.sh starts a server)"
            );
            None
        }
    }
}

fn openai(url: &str) -> ChatOpenAI {
    ChatOpenAI::new("gemma-3-270m")
        .base_url(format!("{url}/v1"))
        .api_key("sk-local-unused")
        .temperature(0.0)
}

fn anthropic(url: &str) -> ChatAnthropic {
    ChatAnthropic::new("gemma-3-270m")
        .base_url(url)
        .api_key("sk-local-unused")
        .temperature(0.0)
}

/// Fails the test instead of hanging (the server serves one request at a
/// time, so tests wait for each other).
async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(300), f)
        .await
        .expect("no answer from the local model within 300 s")
}

/// A streamed answer: its chunks, and how often the next chunk was not
/// there yet when the previous one had been taken (more than zero means
/// the answer arrived piece by piece, not whole at the end).
struct Streamed {
    chunks: Vec<AIMessageChunk>,
    waits: usize,
}

async fn stream<R>(model: &R, input: LanguageModelInput) -> Streamed
where
    R: Runnable<Input = LanguageModelInput, Output = AIMessageChunk>,
{
    bounded(async {
        let mut s = model.stream(input);
        let mut out = Streamed {
            chunks: Vec::new(),
            waits: 0,
        };
        loop {
            let mut next = s.next();
            let item = match futures::poll!(&mut next) {
                Poll::Ready(item) => item,
                Poll::Pending => {
                    if !out.chunks.is_empty() {
                        out.waits += 1;
                    }
                    next.await
                }
            };
            match item {
                Some(chunk) => out.chunks.push(chunk.expect("a chunk")),
                None => return out,
            }
        }
    })
    .await
}

fn fold(chunks: &[AIMessageChunk]) -> AIMessageChunk {
    let mut out = AIMessageChunk::default();
    for c in chunks {
        out.concat(c.clone());
    }
    out
}

/// Checks what every streamed answer has: pieces that came one by one, the
/// last one marked, usage that adds up.
fn check_framing(s: &Streamed) -> AIMessageChunk {
    assert!(s.chunks.len() >= 3, "only {} chunks", s.chunks.len());
    assert!(s.waits > 0, "every chunk was there at once: nothing streamed");
    let (last, rest) = s.chunks.split_last().unwrap();
    assert_eq!(last.chunk_position, Some(runwright::ChunkPosition::Last));
    assert!(rest.iter().all(|c| c.chunk_position.is_none()));
    let message = fold(&s.chunks);
    let usage = message.usage_metadata.clone().expect("usage");
    assert!(usage.input_tokens > 0 && usage.output_tokens > 0, "{usage:?}");
    assert_eq!(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    assert_eq!(message.response_metadata["model_name"], "gemma-3-270m");
    message
}

/// The few-shot history: two questions answered by calls (no results), then
/// the question about Paris.
fn weather_history(tool: &str) -> Vec<Message> {
    let call = |id: &str, city: &str| {
        Message::Ai(AIMessage::new("").with_tool_calls(vec![ToolCall::new(tool, json!({"city": city})).with_id(id)]))
    };
    vec![
        Message::system(format!("You are a weather bot. Always answer by calling {tool}.")),
        Message::human("What is the weather in Berlin?"),
        call("call_1", "Berlin"),
        Message::human("What is the weather in London?"),
        call("call_2", "London"),
        Message::human("What is the weather in Paris?"),
    ]
}

fn weather_tool() -> serde_json::Value {
    json!({"type": "function", "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                       "required": ["city"]}}})
}

#[tokio::test]
async fn openai_client_streams_a_reply_with_usage_and_finish_reason() {
    let Some(url) = server("openai_client_streams_a_reply_with_usage_and_finish_reason") else {
        return;
    };
    let model = openai(&url).max_tokens(24);
    let s = stream(&model, "Describe the city of Paris in a few sentences.".into()).await;
    let message = check_framing(&s);
    assert!(
        message.id.as_deref().is_some_and(|id| id.starts_with("chatcmpl-")),
        "{:?}",
        message.id
    );
    assert!(!message.text().is_empty());
    assert_eq!(message.usage_metadata.unwrap().output_tokens, 24);
    assert_eq!(message.response_metadata["finish_reason"], "length");
    assert_eq!(message.response_metadata["model_provider"], "openai");
}

#[tokio::test]
async fn anthropic_client_streams_a_reply_with_usage_and_stop_reason() {
    let Some(url) = server("anthropic_client_streams_a_reply_with_usage_and_stop_reason") else {
        return;
    };
    let model = anthropic(&url).max_tokens(24);
    let input = vec![
        Message::system("You are a helpful assistant."),
        Message::human("Describe the city of Paris in a few sentences."),
    ];
    let s = stream(&model, input.into()).await;
    let message = check_framing(&s);
    assert!(!message.text().is_empty());
    assert_eq!(message.usage_metadata.unwrap().output_tokens, 24);
    assert_eq!(message.response_metadata["stop_reason"], "max_tokens");
    assert_eq!(message.response_metadata["model_provider"], "anthropic");
}

#[tokio::test]
async fn openai_client_streams_a_tool_call_whose_arguments_parse() {
    let Some(url) = server("openai_client_streams_a_tool_call_whose_arguments_parse") else {
        return;
    };
    let model = openai(&url).max_tokens(60).with_tools([weather_tool()]).unwrap();
    let s = stream(&model, weather_history("get_weather").into()).await;
    let message = check_framing(&s);
    let pieces = s.chunks.iter().filter(|c| !c.tool_call_chunks.is_empty()).count();
    assert!(pieces > 1, "the arguments came in {pieces} piece(s)");
    assert_eq!(message.response_metadata["finish_reason"], "tool_calls");
    assert_eq!(message.tool_calls.len(), 1, "{:?}", message.tool_calls);
    let call = &message.tool_calls[0];
    assert_eq!(call.name, "get_weather");
    assert!(call.id.is_some());
    assert_eq!(serde_json::Value::Object(call.args.clone()), json!({"city": "Paris"}));
    assert!(message.invalid_tool_calls.is_empty());
}

#[tokio::test]
async fn anthropic_client_streams_a_tool_call_whose_arguments_parse() {
    let Some(url) = server("anthropic_client_streams_a_tool_call_whose_arguments_parse") else {
        return;
    };
    let model = anthropic(&url).max_tokens(60).with_tools([weather_tool()]).unwrap();
    let s = stream(&model, weather_history("get_weather").into()).await;
    let message = check_framing(&s);
    assert!(s.chunks.iter().filter(|c| !c.tool_call_chunks.is_empty()).count() > 1);
    assert_eq!(message.response_metadata["stop_reason"], "tool_use");
    assert_eq!(message.tool_calls.len(), 1, "{:?}", message.tool_calls);
    let call = &message.tool_calls[0];
    assert_eq!(call.name, "get_weather");
    assert_eq!(serde_json::Value::Object(call.args.clone()), json!({"city": "Paris"}));
}

/// Describes a city with the local model.
///
/// * `city` - the city
#[tool]
async fn describe_city(city: String) -> runwright::Result<String> {
    let url = std::env::var("RUNWRIGHT_LOCAL_LLM_URL").map_err(runwright::Error::msg)?;
    let prompt = ChatPromptTemplate::from_template("Describe {city} in a few words.")?;
    let chain = prompt | openai(url.trim_end_matches('/')).max_tokens(12) | StrOutputParser;
    let mut vars = Map::new();
    vars.insert("city".into(), city.into());
    chain.invoke(vars).await
}

#[tokio::test]
async fn tokens_of_a_model_inside_a_tool_stream_under_the_tool() {
    let Some(_) = server("tokens_of_a_model_inside_a_tool_stream_under_the_tool") else {
        return;
    };
    let events: Vec<_> = bounded(describe_city.stream_events(json!({"city": "Paris"}).into()).collect()).await;
    let events: Vec<_> = events.into_iter().map(|e| e.expect("an event")).collect();
    let names: Vec<&str> = events.iter().map(|e| e.event()).collect();
    assert_eq!(names.first(), Some(&"on_tool_start"));
    assert_eq!(names.last(), Some(&"on_tool_end"));
    let tool_run = events[0].run_id();
    let tokens: Vec<_> = events.iter().filter(|e| e.event() == "on_chat_model_stream").collect();
    assert!(tokens.len() >= 3, "{names:?}");
    for token in &tokens {
        assert_eq!(token.name(), "ChatOpenAI");
        assert_eq!(
            token.parent_ids().first(),
            Some(&tool_run),
            "a token outside the tool's run"
        );
        assert!(token
            .data
            .chunk
            .as_ref()
            .and_then(|c| c.downcast_ref::<AIMessageChunk>())
            .is_some());
    }
    let model_start = names.iter().position(|n| *n == "on_chat_model_start").unwrap();
    let model_end = names.iter().position(|n| *n == "on_chat_model_end").unwrap();
    let first_token = names.iter().position(|n| *n == "on_chat_model_stream").unwrap();
    assert!(model_start < first_token && first_token < model_end);
    let streamed: String = tokens
        .iter()
        .map(|t| {
            t.data
                .chunk
                .as_ref()
                .unwrap()
                .downcast_ref::<AIMessageChunk>()
                .unwrap()
                .text()
                .into_owned()
        })
        .collect();
    let output = events.last().unwrap().to_json()["data"]["output"].clone();
    let output = output
        .as_str()
        .or(output["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(output, streamed, "the tool's output is the model's streamed text");
}

#[tokio::test]
async fn prompt_model_parser_chain_streams_text() {
    let Some(url) = server("prompt_model_parser_chain_streams_text") else {
        return;
    };
    let chain = ChatPromptTemplate::from_template("Tell me about {topic}.").unwrap()
        | openai(&url).max_tokens(16)
        | StrOutputParser;
    let mut vars = Map::new();
    vars.insert("topic".into(), "bridges".into());
    let pieces: Vec<String> = bounded(chain.stream(vars).map(|p| p.unwrap()).collect()).await;
    assert!(pieces.len() >= 3, "{pieces:?}");
}

/// The answer the structured-output tests ask for.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Weather {
    /// The city.
    city: String,
}
impl runwright::Chunk for Weather {}

#[tokio::test]
async fn structured_output_in_json_schema_mode_gives_a_typed_value() {
    let Some(url) = server("structured_output_in_json_schema_mode_gives_a_typed_value") else {
        return;
    };
    let model = openai(&url)
        .max_tokens(40)
        .with_structured_output::<Weather>(StructuredMethod::JsonSchema);
    let input = "Answer in JSON with the city the user asks about. What is the weather in Paris?";
    let weather: Weather = bounded(model.invoke(input.into())).await.expect("a Weather");
    assert!(!weather.city.is_empty());
}

#[tokio::test]
async fn structured_output_by_tool_calling_gives_a_typed_value_with_both_clients() {
    let Some(url) = server("structured_output_by_tool_calling_gives_a_typed_value_with_both_clients") else {
        return;
    };
    let openai = openai(&url)
        .max_tokens(60)
        .with_structured_output::<Weather>(StructuredMethod::ToolCalling);
    let weather = bounded(openai.invoke(weather_history("Weather").into()))
        .await
        .expect("a Weather");
    assert_eq!(weather.city, "Paris");
    let anthropic = anthropic(&url).max_tokens(60).with_structured_output::<Weather>();
    let weather = bounded(anthropic.invoke(weather_history("Weather").into()))
        .await
        .expect("a Weather");
    assert_eq!(weather.city, "Paris");
}

#[tokio::test]
async fn the_servers_own_errors_become_typed_errors() {
    let Some(url) = server("the_servers_own_errors_become_typed_errors") else {
        return;
    };
    // A prompt longer than the context: HTTP 400 with a JSON body, although
    // the request streams.
    let long = "hello ".repeat(6000);
    let err = bounded(openai(&url).max_tokens(4).invoke(long.as_str().into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = bounded(anthropic(&url).max_tokens(4).invoke(long.as_str().into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");

    // A tool call cut off by `max_tokens` after a prefilled `<tool_call>`:
    // the server's error arrives mid-stream, inside HTTP 200, after chunks.
    let model = openai(&url).max_tokens(60).with_tools([weather_tool()]).unwrap();
    let input = vec![
        Message::human("What is the weather in Paris?"),
        Message::ai("<tool_call>\n"),
    ];
    let items: Vec<_> = bounded(model.stream(input.into()).collect()).await;
    let (last, chunks) = items.split_last().unwrap();
    assert!(!chunks.is_empty() && chunks.iter().all(|c| c.is_ok()));
    let err = last.as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider, "{err}");
}
