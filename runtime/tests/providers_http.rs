//! The HTTP providers against a fault-injecting server on 127.0.0.1: what
//! they send, and every failure the issue lists (retries with their delays,
//! typed errors, timeouts, broken and stalled streams, a dropped stream
//! closing its connection). Each test is bounded: a hang fails it.

mod support;

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use runwright::models::{ChatAnthropic, ChatOpenAI, ProviderError};
use runwright::prompts::ChatPromptTemplate;
use runwright::{tool, AIMessageChunk, ChatModel, Chunk, Error, ErrorKind, RunnableExt, StrOutputParser};
use serde_json::json;
use support::{first_events, fixture, FaultServer, Part, Reply};

/// Fails the test instead of hanging.
async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("the test hung for 20 s")
}

fn openai(server: &FaultServer) -> ChatOpenAI {
    ChatOpenAI::new("test-model")
        .base_url(format!("{}/v1", server.url))
        .api_key("sk-test-key")
        .retry_backoff(Duration::from_millis(10), Duration::from_secs(2))
}

fn anthropic(server: &FaultServer) -> ChatAnthropic {
    ChatAnthropic::new("test-model")
        .base_url(&server.url)
        .api_key("sk-ant-test-key")
        .retry_backoff(Duration::from_millis(10), Duration::from_secs(2))
}

/// What a stream yielded: its chunks, then its error if any.
async fn run<R>(model: &R) -> (Vec<AIMessageChunk>, Option<Error>)
where
    R: runwright::Runnable<Input = runwright::LanguageModelInput, Output = AIMessageChunk>,
{
    bounded(async {
        let mut chunks = Vec::new();
        let mut stream = model.stream("Describe Paris.".into());
        while let Some(item) = stream.next().await {
            match item {
                Ok(c) => chunks.push(c),
                Err(e) => {
                    assert!(stream.next().await.is_none(), "the stream goes on after its error");
                    return (chunks, Some(e));
                }
            }
        }
        (chunks, None)
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

fn provider_error(e: &Error) -> &ProviderError {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<ProviderError>())
        .unwrap_or_else(|| panic!("no ProviderError under {e:?}"))
}

fn text_of_fixture(name: &str) -> String {
    let bytes = fixture(name);
    std::str::from_utf8(&bytes)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|o| {
            o.pointer("/choices/0/delta/content")
                .or_else(|| o.pointer("/delta/text"))
                .and_then(|t| t.as_str())
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn openai_request_carries_the_settings_and_the_key() {
    let server = FaultServer::start([Reply::sse(fixture("openai-chat-stream.sse"))]).await;
    let model = openai(&server).temperature(0.0).max_tokens(50);
    let (chunks, error) = run(&model).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(fold(&chunks).text(), text_of_fixture("openai-chat-stream.sse"));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.headers["authorization"], "Bearer sk-test-key");
    assert_eq!(r.headers["accept"], "text/event-stream");
    assert_eq!(
        r.body,
        json!({
            "model": "test-model",
            "messages": [{"role": "user", "content": "Describe Paris."}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.0,
            "max_tokens": 50
        })
    );
}

#[tokio::test]
async fn anthropic_request_carries_the_version_and_the_key() {
    let server = FaultServer::start([Reply::sse(fixture("anthropic-messages-stream.sse"))]).await;
    let (chunks, error) = run(&anthropic(&server).max_tokens(20)).await;
    assert!(error.is_none(), "{error:?}");
    let message = fold(&chunks);
    assert_eq!(message.text(), text_of_fixture("anthropic-messages-stream.sse"));
    assert_eq!(message.response_metadata["stop_reason"], "max_tokens");
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.headers["x-api-key"], "sk-ant-test-key");
    assert_eq!(r.headers["anthropic-version"], "2023-06-01");
    assert!(r.headers.get("authorization").is_none());
    assert_eq!(r.body["max_tokens"], 20);
    assert_eq!(r.body["stream"], true);
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_ms() {
    let server = FaultServer::start([
        Reply::json(
            429,
            json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
        )
        .header("retry-after-ms", "300"),
        Reply::sse(fixture("openai-chat-stream.sse")),
    ])
    .await;
    let (chunks, error) = run(&openai(&server).max_retries(2)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(fold(&chunks).text(), text_of_fixture("openai-chat-stream.sse"));
    let gaps = server.gaps();
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0] >= Duration::from_millis(300), "retried after {:?}", gaps[0]);
}

#[tokio::test]
async fn anthropic_429_is_retried_after_its_retry_after_seconds() {
    let server = FaultServer::start([
        Reply::json(
            429,
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}),
        )
        .header("retry-after", "1"),
        Reply::sse(fixture("anthropic-messages-stream.sse")),
    ])
    .await;
    let (chunks, error) = run(&anthropic(&server)).await;
    assert!(error.is_none(), "{error:?}");
    assert!(!chunks.is_empty());
    assert!(server.gaps()[0] >= Duration::from_secs(1), "{:?}", server.gaps());
}

#[tokio::test]
async fn server_errors_are_retried_with_growing_delays_then_reported() {
    let boom = || {
        Reply::json(
            500,
            json!({"error": {"code": 500, "message": "boom", "type": "server_error"}}),
        )
    };
    let server = FaultServer::start([boom(), boom(), boom()]).await;
    let model = openai(&server)
        .max_retries(2)
        .retry_backoff(Duration::from_millis(100), Duration::from_secs(1));
    let (chunks, error) = run(&model).await;
    assert!(chunks.is_empty());
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Provider);
    let cause = provider_error(&error);
    assert_eq!(
        (cause.status(), cause.attempts(), cause.message()),
        (Some(500), 3, "boom")
    );
    assert!(error.to_string().contains("gave up after 3 attempts"), "{error}");
    let gaps = server.gaps();
    assert_eq!(gaps.len(), 2);
    assert!(gaps[0] >= Duration::from_millis(100), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(200), "the backoff doubles: {gaps:?}");
}

#[tokio::test]
async fn an_overloaded_anthropic_is_retried_until_it_answers() {
    let overloaded = Reply::json(
        529,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    );
    let server = FaultServer::start([overloaded, Reply::sse(fixture("anthropic-tool-use-stream.sse"))]).await;
    let (chunks, error) = run(&anthropic(&server)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(fold(&chunks).tool_calls[0].args["city"], "Paris");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_the_retries() {
    let server = FaultServer::start([
        Reply::json(429, json!({"error": {"message": "come back tomorrow"}})).header("retry-after", "3600")
    ])
    .await;
    let (_, error) = run(&openai(&server).max_retries(5)).await;
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(provider_error(&error).retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_400_json_body_to_a_streaming_request_is_invalid_input_and_not_retried() {
    let body = json!({"error": {"code": 400, "message": "the request exceeds the available context size",
                                "type": "exceed_context_size_error"}});
    let server = FaultServer::start([Reply::json(400, body)]).await;
    let (chunks, error) = run(&openai(&server).max_retries(3)).await;
    assert!(chunks.is_empty());
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error.message().contains("exceeds the available context size"),
        "{error}"
    );
    assert_eq!(provider_error(&error).status(), Some(400));
    assert_eq!(server.requests().len(), 1);

    let body =
        json!({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: field required"}});
    let server = FaultServer::start([Reply::json(400, body)]).await;
    let (_, error) = run(&anthropic(&server)).await;
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(provider_error(&error).error_type(), Some("invalid_request_error"));
}

#[tokio::test]
async fn a_401_is_an_authentication_error() {
    let server = FaultServer::start([Reply::json(
        401,
        json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}),
    )])
    .await;
    let (_, error) = run(&openai(&server)).await;
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert_eq!(provider_error(&error).code(), Some("invalid_api_key"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_json_answer_to_a_streaming_request_is_an_error_not_an_empty_stream() {
    let server = FaultServer::start([Reply::json(200, json!({"object": "chat.completion", "choices": []}))]).await;
    let (chunks, error) = run(&openai(&server)).await;
    assert!(chunks.is_empty());
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert!(error.message().contains("expected an event stream"), "{error}");
}

#[tokio::test]
async fn an_error_object_mid_stream_comes_after_the_chunks_already_produced() {
    let server = FaultServer::start([Reply::sse(fixture("openai-stream-error-midstream.sse"))]).await;
    let (chunks, error) = run(&openai(&server)).await;
    assert!(!chunks.is_empty());
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Provider);
    assert!(error.message().contains("peg-native format"), "{error}");
    assert_eq!(provider_error(&error).status(), Some(500));
    assert_eq!(server.requests().len(), 1, "a stream that has begun is not retried");

    let mut events = first_events(&fixture("anthropic-messages-stream.sse"), 5);
    events.extend_from_slice(
        b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Internal server error\"}}\n\n",
    );
    let server = FaultServer::start([Reply::sse(events)]).await;
    let (chunks, error) = run(&anthropic(&server)).await;
    assert_eq!(chunks.len(), 3, "the three text deltas before the error");
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Provider);
    assert_eq!(provider_error(&error).error_type(), Some("api_error"));
}

#[tokio::test]
async fn a_stream_cut_after_n_bytes_is_a_connection_error_after_its_chunks() {
    let transcript = fixture("openai-chat-stream.sse");
    let server = FaultServer::start([Reply::Stream(vec![
        Part::Bytes(transcript[..2000].to_vec()),
        Part::Sleep(Duration::from_millis(50)),
        Part::Abort,
    ])])
    .await;
    let (chunks, error) = run(&openai(&server)).await;
    assert!(!chunks.is_empty());
    assert!(text_of_fixture("openai-chat-stream.sse").starts_with(&*fold(&chunks).text()));
    let error = error.expect("an error, not a short answer");
    assert_eq!(error.kind(), ErrorKind::Connection);
    assert!(error.message().contains("dropped mid-stream"), "{error}");

    let transcript = fixture("anthropic-tool-use-stream.sse");
    let server = FaultServer::start([Reply::Stream(vec![
        Part::Bytes(transcript[..900].to_vec()),
        Part::Abort,
    ])])
    .await;
    let (chunks, error) = run(&anthropic(&server)).await;
    assert!(!chunks.is_empty());
    assert_eq!(error.expect("an error").kind(), ErrorKind::Connection);
}

#[tokio::test]
async fn a_stream_that_ends_cleanly_before_its_end_marker_is_an_error() {
    let transcript = fixture("openai-tool-call-stream.sse");
    let server = FaultServer::start([Reply::sse(first_events(&transcript, 4))]).await;
    let (chunks, error) = run(&openai(&server)).await;
    assert_eq!(chunks.len(), 3);
    let error = error.expect("an error, not a short answer");
    assert_eq!(error.kind(), ErrorKind::Connection);
    assert!(error.message().contains("[DONE]"), "{error}");

    let transcript = fixture("anthropic-messages-stream.sse");
    let server = FaultServer::start([Reply::sse(first_events(&transcript, 10))]).await;
    let (_, error) = run(&anthropic(&server)).await;
    assert!(error.expect("an error").message().contains("message_stop"));
}

#[tokio::test]
async fn a_stalled_stream_times_out_and_its_connection_is_closed() {
    let transcript = fixture("openai-chat-stream.sse");
    let server = FaultServer::start([Reply::Stream(vec![
        Part::Bytes(first_events(&transcript, 4)),
        Part::Stall,
    ])])
    .await;
    let model = openai(&server).idle_timeout(Duration::from_millis(300));
    let (chunks, error) = run(&model).await;
    assert_eq!(chunks.len(), 3);
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.message().contains("idle timeout"), "{error}");
    assert!(
        bounded(server.wait_for_disconnect(Duration::from_secs(5))).await,
        "the server still holds the connection"
    );
}

#[tokio::test]
async fn a_response_with_no_first_byte_times_out() {
    // Headers, then silence: the body's first byte is late; not retried,
    // since the answer has begun.
    let server = FaultServer::start([Reply::Stream(vec![Part::Stall])]).await;
    let model = openai(&server)
        .first_byte_timeout(Duration::from_millis(300))
        .max_retries(2);
    let (_, error) = run(&model).await;
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.message().contains("first-byte timeout"), "{error}");
    assert_eq!(server.requests().len(), 1);

    // No response head at all: retried, then reported.
    let server = FaultServer::start([
        Reply::Hang(Duration::from_secs(30)),
        Reply::Hang(Duration::from_secs(30)),
    ])
    .await;
    let model = anthropic(&server)
        .first_byte_timeout(Duration::from_millis(300))
        .max_retries(1);
    let (_, error) = run(&model).await;
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(provider_error(&error).attempts(), 2);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn keep_alive_comments_are_skipped() {
    let transcript = fixture("openai-chat-stream.sse");
    let mut parts = vec![Part::Bytes(b":\n\n".to_vec()), Part::Sleep(Duration::from_millis(20))];
    for event in std::str::from_utf8(&transcript).unwrap().split_inclusive("\n\n") {
        parts.push(Part::Bytes(event.as_bytes().to_vec()));
        parts.push(Part::Bytes(b": keep-alive\n\n".to_vec()));
    }
    let server = FaultServer::start([Reply::Stream(parts)]).await;
    let (chunks, error) = run(&openai(&server)).await;
    assert!(error.is_none(), "{error:?}");
    let message = fold(&chunks);
    assert_eq!(message.text(), text_of_fixture("openai-chat-stream.sse"));
    assert_eq!(message.usage_metadata.unwrap().total_tokens, 76);
}

#[tokio::test]
async fn malformed_lines_are_skipped_or_reported_as_protocol_errors() {
    // Lines that are not `field: value` are unknown fields: skipped.
    let mut events = b"garbage without a colon\nretry: soon\n\n".to_vec();
    events.extend(fixture("openai-chat-stream.sse"));
    let server = FaultServer::start([Reply::sse(events)]).await;
    let (_, error) = run(&openai(&server)).await;
    assert!(error.is_none(), "{error:?}");

    // Data that is not JSON ends the stream with a protocol error.
    let mut events = first_events(&fixture("openai-chat-stream.sse"), 3);
    events.extend_from_slice(b"data: {\"choices\": [{\"delta\": \n\n");
    let server = FaultServer::start([Reply::sse(events)]).await;
    let (chunks, error) = run(&openai(&server)).await;
    assert_eq!(chunks.len(), 2);
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Protocol);

    // So do bytes that are not UTF-8.
    let mut events = first_events(&fixture("anthropic-messages-stream.sse"), 3);
    events.extend_from_slice(b"event: content_block_delta\ndata: {\"type\": \"\xff\xfe\"}\n\n");
    let server = FaultServer::start([Reply::sse(events)]).await;
    let (_, error) = run(&anthropic(&server)).await;
    assert_eq!(error.expect("an error").kind(), ErrorKind::Protocol);
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let transcript = fixture("openai-chat-stream.sse");
    let server = FaultServer::start([Reply::Stream(vec![
        Part::Bytes(first_events(&transcript, 4)),
        Part::Drip(b": still here\n\n".to_vec(), Duration::from_millis(20)),
    ])])
    .await;
    let model = openai(&server);
    bounded(async {
        let mut stream = model.stream("hi".into());
        let first = stream.next().await.unwrap().unwrap();
        assert!(!first.text().is_empty());
        assert_eq!(server.disconnects(), 0);
        drop(stream);
    })
    .await;
    assert!(
        bounded(server.wait_for_disconnect(Duration::from_secs(5))).await,
        "the server still sends to a dropped stream"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_a_connection_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let model = ChatOpenAI::new("m")
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .max_retries(2)
        .retry_backoff(Duration::from_millis(10), Duration::from_millis(50));
    let (_, error) = run(&model).await;
    let error = error.expect("an error");
    assert_eq!(error.kind(), ErrorKind::Connection);
    assert!(error.message().contains("could not connect"), "{error}");
    assert_eq!(provider_error(&error).attempts(), 3);
}

#[tokio::test]
async fn tokens_reach_listeners_in_a_prompt_model_parser_chain() {
    let server = FaultServer::start([Reply::sse(fixture("openai-chat-stream.sse"))]).await;
    let chain = ChatPromptTemplate::from_template("Describe {city}.").unwrap() | openai(&server) | StrOutputParser;
    let input = json!({"city": "Paris"}).as_object().unwrap().clone();
    let events: Vec<_> = bounded(chain.stream_events(input).collect()).await;
    let events: Vec<_> = events.into_iter().map(Result::unwrap).collect();
    let tokens: Vec<&runwright::StreamEvent> = events.iter().filter(|e| e.event() == "on_chat_model_stream").collect();
    assert!(tokens.len() > 10);
    assert!(tokens.iter().all(|e| e.name() == "ChatOpenAI"));
    let end = events.last().unwrap();
    assert_eq!(end.event(), "on_chain_end");
    assert_eq!(
        end.to_json()["data"]["output"],
        json!(text_of_fixture("openai-chat-stream.sse"))
    );
    let model_end = events
        .iter()
        .find(|e| e.event() == "on_chat_model_end")
        .unwrap()
        .to_json();
    assert_eq!(model_end["data"]["output"]["usage_metadata"]["total_tokens"], 76);
    assert_eq!(model_end["metadata"]["ls_provider"], "openai");
    assert_eq!(server.requests()[0].body["messages"][0]["content"], "Describe Paris.");
}

/// Current weather of a city.
///
/// * `city` - the city
#[tool]
fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

#[tokio::test]
async fn typed_tools_bound_with_bind_tools_are_sent_in_each_providers_format() {
    let server = FaultServer::start([
        Reply::sse(fixture("openai-tool-call-stream.sse")),
        Reply::sse(fixture("anthropic-tool-use-stream.sse")),
    ])
    .await;
    let (chunks, error) = run(&openai(&server).bind_tools(&[&get_weather])).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(fold(&chunks).tool_calls[0].name, "get_weather");
    let (chunks, error) = run(&anthropic(&server).bind_tools(&[&get_weather])).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(fold(&chunks).tool_calls[0].args["city"], "Paris");
    let requests = server.requests();
    let spec = get_weather.spec();
    assert_eq!(requests[0].body["tools"], json!([spec.to_openai()]));
    assert_eq!(requests[1].body["tools"], json!([spec.to_anthropic()]));
}

/// A client of the user's own, whose mark is a default header.
fn own_client() -> runwright::models::reqwest::Client {
    use runwright::models::reqwest::header::{HeaderMap, HeaderValue};
    let mut defaults = HeaderMap::new();
    defaults.insert("x-own-client", HeaderValue::from_static("yes"));
    runwright::models::http_client_builder()
        .unwrap()
        .default_headers(defaults)
        .build()
        .unwrap()
}

#[tokio::test]
async fn openai_sends_through_the_given_client_with_the_extra_headers() {
    let server = FaultServer::start([Reply::sse(fixture("openai-chat-stream.sse"))]).await;
    let mut more = runwright::models::reqwest::header::HeaderMap::new();
    more.insert("x-title", "Runwright test".parse().unwrap());
    let model = openai(&server)
        .http_client(own_client())
        // A setting that used to rebuild the client must keep the user's.
        .connect_timeout(Duration::from_secs(3))
        .header("api-key", "azure-key")
        .unwrap()
        .header("HTTP-Referer", "https://example.com")
        .unwrap()
        .headers(more);
    let (_, error) = run(&model).await;
    assert!(error.is_none(), "{error:?}");
    let r = &server.requests()[0];
    assert_eq!(r.headers["x-own-client"], "yes");
    assert_eq!(r.headers["api-key"], "azure-key");
    assert_eq!(r.headers["http-referer"], "https://example.com");
    assert_eq!(r.headers["x-title"], "Runwright test");
    assert_eq!(r.headers["authorization"], "Bearer sk-test-key");
    assert!(!format!("{model:?}").contains("azure-key"));
}

#[tokio::test]
async fn anthropic_sends_through_the_given_client_with_the_extra_headers() {
    let server = FaultServer::start([Reply::sse(fixture("anthropic-messages-stream.sse"))]).await;
    let model = anthropic(&server)
        .http_client(own_client())
        .header("anthropic-beta", "tools-2024-05-16")
        .unwrap()
        .header("anthropic-version", "2024-01-01")
        .unwrap();
    let (_, error) = run(&model.max_tokens(20)).await;
    assert!(error.is_none(), "{error:?}");
    let r = &server.requests()[0];
    assert_eq!(r.headers["x-own-client"], "yes");
    assert_eq!(r.headers["anthropic-beta"], "tools-2024-05-16");
    // The user's value replaces the provider's own.
    let versions: Vec<_> = r.headers.get_all("anthropic-version").iter().collect();
    assert_eq!(versions, ["2024-01-01"]);
    assert_eq!(r.headers["x-api-key"], "sk-ant-test-key");
}

#[tokio::test]
async fn retries_go_through_the_given_client_too() {
    let server = FaultServer::start([
        Reply::json(503, json!({"error": {"message": "busy"}})),
        Reply::sse(fixture("openai-chat-stream.sse")),
    ])
    .await;
    let model = openai(&server).http_client(own_client()).max_retries(1);
    let (_, error) = run(&model).await;
    assert!(error.is_none(), "{error:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.headers["x-own-client"] == "yes"));
}

#[test]
fn a_header_http_cannot_carry_is_an_error_naming_it() {
    for (name, value) in [("Bad Header", "v"), ("X-Title", "one\ntwo")] {
        let e = ChatOpenAI::new("m").header(name, value).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        assert!(e.to_string().contains(name), "{e}");
        let e = ChatAnthropic::new("m").header(name, value).unwrap_err();
        assert!(e.to_string().contains(name), "{e}");
    }
}
