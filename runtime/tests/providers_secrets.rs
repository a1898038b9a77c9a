//! A sentinel API key, taken from the environment as users give it, never
//! shows: not in an error message (Display, Debug, sources), not in a log
//! line of the HTTP stack, not in a model's Debug output, not in invocation
//! parameters, not in events written to a file as a recorder writes them.
//! The server does receive it, which shows the sentinel was really used.
//!
//! One test in its own binary: it installs the process's logger and sets
//! environment variables.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use runwright::models::{ChatAnthropic, ChatModel, ChatOpenAI, StructuredMethod};
use runwright::{Error, RunnableExt};
use serde_json::json;
use support::{first_events, fixture, FaultServer, Part, Reply};

const SENTINEL: &str = "sk-SENTINEL-9f86d081884c7d659a2feaa0c55ad015";

/// Every log record, formatted.
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LINES
            .lock()
            .unwrap()
            .push(format!("{} {} {:?}", record.level(), record.target(), record.args()));
    }
    fn flush(&self) {}
}

/// Everything an error shows: Display, Debug, and each source's Display.
fn everything_about(e: &Error) -> String {
    let mut out = format!("{e}\n{e:?}\n{e:#?}\n");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!("{s}\n{s:?}\n"));
        source = s.source();
    }
    out
}

#[derive(Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Weather {
    city: String,
}
impl runwright::Chunk for Weather {}

#[tokio::test]
async fn the_api_key_never_shows() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    std::env::set_var("OPENAI_API_KEY", SENTINEL);
    std::env::set_var("ANTHROPIC_API_KEY", SENTINEL);

    let chat = fixture("openai-chat-stream.sse");
    let server = FaultServer::start([
        Reply::sse(chat.clone()),
        Reply::json(
            401,
            json!({"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}),
        ),
        Reply::json(500, json!({"error": {"message": "boom"}})),
        Reply::json(500, json!({"error": {"message": "boom"}})),
        Reply::sse(fixture("openai-stream-error-midstream.sse")),
        Reply::Stream(vec![Part::Bytes(first_events(&chat, 3)), Part::Abort]),
        Reply::json(
            401,
            json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
        ),
    ])
    .await;
    let openai = ChatOpenAI::new("m")
        .base_url(format!("{}/v1", server.url))
        .retry_backoff(Duration::from_millis(5), Duration::from_millis(20));
    let anthropic = ChatAnthropic::new("m").base_url(&server.url).max_retries(0);

    let mut shown = String::new();
    let mut errors = 0;

    // A run under a listener, its events written to a file as a recorder would.
    let events: Vec<_> = openai.stream_events("hi".into()).collect().await;
    let path = std::env::temp_dir().join(format!("runwright-secrets-{}.jsonl", std::process::id()));
    let lines: Vec<String> = events
        .iter()
        .map(|e| e.as_ref().unwrap().to_json().to_string())
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let recorded = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(recorded.contains("on_chat_model_stream"));
    shown.push_str(&recorded);

    // 401, then 500 retried to the end, then a mid-stream error, then a cut.
    for _ in 0..4 {
        let one = openai.clone().max_retries(1);
        let items: Vec<_> = one.stream("hi".into()).collect().await;
        for item in items {
            if let Err(e) = item {
                shown.push_str(&everything_about(&e));
                errors += 1;
            }
        }
    }
    // Anthropic's 401, and a refused connection.
    if let Err(e) = anthropic.invoke("hi".into()).await {
        shown.push_str(&everything_about(&e));
        errors += 1;
    }
    let refused = ChatOpenAI::new("m").base_url("http://127.0.0.1:9/v1").max_retries(0);
    if let Err(e) = refused.invoke("hi".into()).await {
        shown.push_str(&everything_about(&e));
        errors += 1;
    }
    assert_eq!(errors, 6, "every failing call gave its error");

    // Debug output and invocation parameters of every model shape.
    let structured = openai
        .clone()
        .with_structured_output::<Weather>(StructuredMethod::ToolCalling);
    shown.push_str(&format!(
        "{openai:?}\n{openai:#?}\n{anthropic:?}\n{structured:?}\n{:?}\n{:?}\n",
        openai.invocation_params(),
        anthropic.invocation_params()
    ));

    let logged = LINES.lock().unwrap().join("\n");
    assert!(
        !logged.is_empty(),
        "the logger captured nothing, so the check below proves nothing"
    );
    shown.push_str(&logged);

    assert!(!shown.contains(SENTINEL), "the key leaked:\n{shown}");
    assert!(!shown.contains("SENTINEL"), "part of the key leaked");

    // The key did go where it belongs.
    let requests = server.requests();
    assert_eq!(
        requests[0].headers["authorization"],
        format!("Bearer {SENTINEL}").as_str()
    );
    assert_eq!(requests.last().unwrap().headers["x-api-key"], SENTINEL);
    assert!(requests.iter().all(|r| !r.body.to_string().contains(SENTINEL)));
}
