//! Whole-run recordings: a tool-calling agent whose tool calls a real HTTP
//! service, recorded once and replayed offline; misses and file errors.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::scratch;
use runwright::graph::{create_react_agent, AgentState};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, EventFilter, FakeToolCallingChatModel, RunnableExt};
use runwright_recorder::{RecordMode, Recording, Trace};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A weather service on a local port, counting the requests it answers.
struct Service {
    addr: std::net::SocketAddr,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Service {
    async fn start() -> Service {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let city = request
                        .split_whitespace()
                        .nth(1)
                        .and_then(|p| p.split("city=").nth(1))
                        .unwrap_or("nowhere")
                        .to_owned();
                    seen.fetch_add(1, Ordering::SeqCst);
                    let body = json!({"city": city, "sky": "sunny", "celsius": 21}).to_string();
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                });
            }
        });
        Service { addr, requests, task }
    }

    async fn stop(self) -> usize {
        self.task.abort();
        let _ = self.task.await;
        self.requests.load(Ordering::SeqCst)
    }
}

/// The weather in a city, from the weather service at the run's
/// configurable `weather_service` address.
#[tool]
async fn get_weather(city: String) -> runwright::Result<String> {
    let addr = runwright::RunContext::current()
        .and_then(|c| {
            c.configurable()
                .get("weather_service")
                .and_then(|v| v.as_str().map(str::to_owned))
        })
        .ok_or_else(|| runwright::Error::msg("no weather service"))?;
    let mut stream = TcpStream::connect(addr.as_str())
        .await
        .map_err(|e| runwright::Error::msg(format!("weather service: {e}")))?;
    let request = format!("GET /weather?city={city} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| runwright::Error::msg(e.to_string()))?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .await
        .map_err(|e| runwright::Error::msg(e.to_string()))?;
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or_default();
    Ok(body.to_owned())
}

/// The time in a city.
#[tool]
async fn get_time(city: String) -> String {
    runwright::dispatch_custom_event("clock", json!({"city": &city})).ok();
    format!("noon in {city}")
}

/// A model that calls both tools at once, then answers.
fn model() -> FakeToolCallingChatModel {
    FakeToolCallingChatModel::new([
        AIMessage::new("").with_tool_calls(vec![
            ToolCall::new("get_weather", json!({"city": "Paris"})).with_id("call_1"),
            ToolCall::new("get_time", json!({"city": "Paris"})).with_id("call_2"),
        ]),
        AIMessage::new("Sunny, 21 degrees, and it is noon."),
    ])
}

async fn run(model: FakeToolCallingChatModel, recording: &Recording, service: Option<&Service>) -> Trace {
    let agent = create_react_agent(model, vec![Arc::new(get_weather), Arc::new(get_time)]).unwrap();
    let mut config = recording.config();
    if let Some(s) = service {
        config = config.configurable("weather_service", s.addr.to_string());
    }
    Trace::record(
        "agent",
        agent.stream_events_with(
            AgentState::user("weather and time in Paris?"),
            config,
            EventFilter::default(),
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_recorded_once_replays_offline_with_the_same_events() {
    let dir = scratch("recording-agent");
    let path = dir.join("agent.jsonl");
    let service = Service::start().await;
    let addr = service.addr;

    let recording = Recording::open(&path).unwrap().with_mode(RecordMode::All);
    let recorded = run(model(), &recording, Some(&service)).await;
    assert!(recorded.error().is_none(), "{:?}", recorded.error());
    let answer = recorded.events().last().unwrap()["data"]["output"]["messages"][4]["content"].clone();
    assert_eq!(answer, "Sunny, 21 degrees, and it is noon.");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"celsius\\\":21"), "{text}");
    // Two model turns, two tool calls.
    assert_eq!(recording.len(), 4);

    let requests = service.stop().await;
    assert_eq!(requests, 1);

    for i in 0..50 {
        // A model with no answers: any call to it would fail.
        let replay = Recording::open(&path).unwrap().with_mode(RecordMode::None);
        let replayed = run(FakeToolCallingChatModel::new([]), &replay, None).await;
        assert_eq!(replayed.events(), recorded.events(), "replay {i} differs");
    }
    // The service is gone, and saw nothing more.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn a_miss_names_the_runnable_its_place_and_input_with_a_diff() {
    let dir = scratch("recording-miss");
    let path = dir.join("agent.jsonl");
    let recording = Recording::open(&path).unwrap().with_mode(RecordMode::All);
    run(model(), &recording, None).await;

    // Another question: the model's first call misses.
    let replay = Recording::open(&path).unwrap().with_mode(RecordMode::None);
    let agent = create_react_agent(
        FakeToolCallingChatModel::new([]),
        vec![Arc::new(get_weather), Arc::new(get_time)],
    )
    .unwrap();
    let err = agent
        .invoke_with(AgentState::user("weather in Rome?"), replay.config())
        .await
        .unwrap_err();
    let msg = err.message();
    assert!(
        msg.starts_with(&format!(
            "{}: no recorded call for chat_model `FakeToolCallingChatModel` at LangGraph > agent [graph:step:1] > RunnableSequence [seq:step:1] > FakeToolCallingChatModel [seq:step:2] (record mode none (set in code by with_mode(RecordMode::None), which RUNWRIGHT_RECORD does not override): replay only)\ninput:\n",
            path.display()
        )),
        "{msg}"
    );
    assert!(
        msg.contains("nearest recorded call: call 0, line 2; diff from it to this call:"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "\n-        \"content\": \"weather and time in Paris?\",\n+        \"content\": \"weather in Rome?\",\n"
        ),
        "{msg}"
    );
}

#[tokio::test]
async fn replayed_tool_errors_and_custom_events_come_back() {
    let dir = scratch("recording-errors");
    let path = dir.join("agent.jsonl");
    // No service: get_weather fails, and its error is recorded.
    let recording = Recording::open(&path).unwrap().with_mode(RecordMode::All);
    let recorded = run(model(), &recording, None).await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(
            "{\"call\":1,\"error\":{\"kind\":\"step\",\"type\":\"Error\",\"message\":\"no weather service\"}}"
        ),
        "{text}"
    );
    let replay = Recording::open(&path).unwrap().with_mode(RecordMode::None);
    let replayed = run(FakeToolCallingChatModel::new([]), &replay, None).await;
    assert_eq!(replayed.events(), recorded.events());
    assert_eq!(replayed.error(), recorded.error());
    assert!(replayed
        .events()
        .iter()
        .any(|e| e["event"] == "on_custom_event" && e["name"] == "clock"));
}

fn recorded_file(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    let path = dir.join("agent.jsonl");
    let recording = Recording::open(&path).unwrap().with_mode(RecordMode::All);
    futures::executor::block_on(async {
        get_time
            .invoke_with(
                runwright::tools::ToolInput::Args(json!({"city": "Oslo"})),
                recording.config(),
            )
            .await
            .unwrap();
    });
    path
}

#[test]
fn file_errors_name_the_file_and_line() {
    let path = recorded_file("recording-corrupt");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");

    let mut corrupt = lines.clone();
    corrupt[2] = "{\"call\":0,\"custom\":";
    std::fs::write(&path, corrupt.join("\n")).unwrap();
    let err = Recording::open(&path).unwrap_err();
    assert!(
        err.message()
            .starts_with(&format!("{}:3: invalid JSON", path.display())),
        "{}",
        err.message()
    );

    std::fs::write(&path, lines[..3].join("\n") + "\n").unwrap();
    let err = Recording::open(&path).unwrap_err();
    assert_eq!(
        err.message(),
        format!("{}: truncated: call 0 has no output or error line", path.display())
    );

    let old = lines[0].replace("\"version\":1", "\"version\":0");
    let text = [old.as_str()]
        .iter()
        .chain(&lines[1..])
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    std::fs::write(&path, text).unwrap();
    let err = Recording::open(&path).unwrap_err();
    assert_eq!(
        err.message(),
        format!(
            "{}:1: runwright recording format version 0 is not supported (this runwright-recorder reads version 1)",
            path.display()
        )
    );
}

/// A model whose invocation parameters carry an API key and an
/// `Authorization` header, as a provider's do, and which repeats the key in
/// its answer.
struct Leaky {
    profile: runwright::models::ModelProfile,
    params: runwright::Map,
}

impl runwright::models::ChatModel for Leaky {
    fn profile(&self) -> &runwright::models::ModelProfile {
        &self.profile
    }

    fn stream_chat<'a>(
        &'a self,
        _request: runwright::models::ChatRequest,
    ) -> runwright::ChunkStream<'a, runwright::AIMessageChunk> {
        Box::pin(futures::stream::iter([Ok(runwright::AIMessageChunk::new(
            "your key is sk-live-0123456789",
        ))]))
    }

    fn invocation_params(&self) -> runwright::Map {
        self.params.clone()
    }
}

/// Signs a request with a key.
#[tool]
fn sign(api_key: String, body: String) -> String {
    format!("signed {body} with {api_key}")
}

const SECRETS: [&str; 4] = ["sk-live-0123456789", "Bearer", "tok-9876543210", "org-secret-42"];

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test]
async fn no_recorded_file_holds_a_key_or_an_auth_header() {
    let dir = scratch("recording-secrets");
    let path = dir.join("secrets.jsonl");
    let params = json!({
        "model": "leaky-1",
        "api_key": "sk-live-0123456789",
        "headers": {"Authorization": "Bearer sk-live-0123456789", "Accept": "text/event-stream"},
        "org_token": "org-secret-42",
    });
    let model = Leaky {
        profile: runwright::models::ModelProfile::chat("ChatLeaky"),
        params: params.as_object().cloned().unwrap(),
    };
    let recording = Recording::open(&path)
        .unwrap()
        .with_mode(RecordMode::All)
        .with_redactions(runwright_recorder::Redactions::default().field("org_token"));
    let answer = model.invoke_with("hello".into(), recording.config()).await.unwrap();
    assert_eq!(answer.text(), "your key is sk-live-0123456789");
    let signed = sign
        .invoke_with(
            runwright::tools::ToolInput::Args(json!({"api_key": "tok-9876543210", "body": "hi"})),
            recording.config(),
        )
        .await
        .unwrap();
    assert_eq!(
        signed.value().map(String::as_str),
        Some("signed hi with tok-9876543210")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("text/event-stream"), "{text}");

    // This test's file, and every recording and cassette the suite wrote
    // or keeps.
    let mut files = Vec::new();
    files_under(dir.parent().unwrap(), &mut files);
    files_under(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/cassettes"),
        &mut files,
    );
    assert!(files.contains(&path));
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "jsonl")) {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        for secret in SECRETS {
            assert!(!text.contains(secret), "{} holds {secret:?}:\n{text}", f.display());
        }
    }
}

/// Opens a vault with a passphrase the tool marks secret.
///
/// * `vault` - which vault
/// * `passphrase` - its passphrase
#[tool]
fn open_vault(vault: String, passphrase: String) -> String {
    format!("vault {vault} opened with {passphrase}: code 7731-9912")
}

#[tokio::test]
async fn a_tools_secret_arguments_and_output_are_never_written_and_still_match() {
    let dir = scratch("recording-tool-secrets");
    let path = dir.join("vault.jsonl");
    let vault = open_vault.secret_args(&["passphrase"]).secret_output();
    let args = json!({"vault": "main", "passphrase": "correct-horse-battery"});
    let recording = Recording::open(&path).unwrap().with_mode(RecordMode::All);
    let live = vault
        .invoke_with(runwright::tools::ToolInput::Args(args.clone()), recording.config())
        .await
        .unwrap();
    assert_eq!(
        live.value().map(String::as_str),
        Some("vault main opened with correct-horse-battery: code 7731-9912")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("correct-horse-battery"),
        "the argument is written: {text}"
    );
    assert!(!text.contains("7731-9912"), "the output is written: {text}");
    assert!(
        text.contains("\"vault\":\"main\""),
        "the other argument is kept: {text}"
    );

    // Replayed: matched without the secret (any passphrase), the output is the marker.
    let replay = Recording::open(&path).unwrap().with_mode(RecordMode::None);
    let again = vault
        .invoke_with(
            runwright::tools::ToolInput::Args(json!({"vault": "main", "passphrase": "another-one-entirely"})),
            replay.config(),
        )
        .await
        .unwrap();
    assert_eq!(again.value().map(String::as_str), Some("<redacted>"));
    // Without the marks, the same call writes both.
    let plain_path = dir.join("plain.jsonl");
    let plain = Recording::open(&plain_path).unwrap().with_mode(RecordMode::All);
    open_vault
        .invoke_with(runwright::tools::ToolInput::Args(args), plain.config())
        .await
        .unwrap();
    let text = std::fs::read_to_string(&plain_path).unwrap();
    assert!(
        text.contains("correct-horse-battery") && text.contains("7731-9912"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Looks a phrase up.
#[tool]
fn look_up(phrase: String) -> String {
    format!("found {phrase}")
}

async fn look(recording: &Recording, phrase: &str) -> runwright::Result<String> {
    let args = runwright::tools::ToolInput::Args(json!({"phrase": phrase}));
    let out = look_up.invoke_with(args, recording.config()).await?;
    Ok(out.value().cloned().unwrap_or_default())
}

/// A recording's miss finds the nearest recorded call as a recorder's does:
/// of two calls equally close by lines, the one sharing more words.
#[tokio::test]
async fn a_recording_miss_breaks_line_ties_by_shared_words_as_a_recorder_does() {
    let dir = scratch("recording-nearest-tie");
    let path = dir.join("look.jsonl");
    let recording = Recording::open(&path).unwrap().with_mode(RecordMode::All);
    look(&recording, "the weather in Paris today").await.unwrap();
    look(&recording, "what is the weather like in Rome").await.unwrap();

    let replay = Recording::open(&path).unwrap().with_mode(RecordMode::None);
    let msg = look(&replay, "what is the weather like in Paris")
        .await
        .unwrap_err()
        .message()
        .to_owned();
    assert!(msg.contains("nearest recorded call: call 1, line 4;"), "{msg}");
    let msg = look(&replay, "the weather in Paris tomorrow")
        .await
        .unwrap_err()
        .message()
        .to_owned();
    assert!(msg.contains("nearest recorded call: call 0, line 2;"), "{msg}");
}

/// A model wrapped in a `Recorder`, run under a `Recording`: two sessions
/// on one call, the recording's installed in the run, the recorder's its
/// own. Both keep the call as the same normalized request; the recording
/// replays it without reaching the recorder, and the cassette replays it
/// alone.
#[tokio::test]
async fn a_recorder_under_a_recording_keeps_the_call_in_both_files() {
    use runwright::GenericFakeChatModel;
    use runwright_recorder::{Cassette, Recorder};

    let dir = scratch("recorder-under-recording");
    let cassette = dir.join("model.jsonl");
    let file = dir.join("run.jsonl");
    let recording = Recording::open(&file).unwrap().with_mode(RecordMode::All);
    let model = Recorder::new(GenericFakeChatModel::new(["hello there"]), &cassette)
        .unwrap()
        .with_mode(RecordMode::All);
    let answer = model.invoke_with("hi".into(), recording.config()).await.unwrap();
    assert_eq!(answer.text(), "hello there");

    let kept = Cassette::read(&cassette).unwrap();
    assert_eq!(kept.interactions().len(), 1);
    let text = std::fs::read_to_string(&file).unwrap();
    let call: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(call["kind"], "chat_model");
    assert_eq!(call["path"], json!(["GenericFakeChatModel"]));
    assert_eq!(call["input"], kept.interactions()[0].request);
    assert_eq!(recording.len(), 1);

    // A recorder with no answer and no cassette would fail: the recording
    // answers before it is asked.
    let replay = Recording::open(&file).unwrap().with_mode(RecordMode::None);
    let unrecorded = dir.join("never.jsonl");
    let empty = Recorder::new(GenericFakeChatModel::new(Vec::<String>::new()), &unrecorded)
        .unwrap()
        .with_mode(RecordMode::None);
    let again = empty.invoke_with("hi".into(), replay.config()).await.unwrap();
    assert_eq!(again.text(), "hello there");
    let alone = Recorder::replay(&cassette).unwrap().invoke("hi".into()).await.unwrap();
    assert_eq!(alone.text(), "hello there");
    assert!(empty.invoke("hi".into()).await.is_err());
    assert!(!unrecorded.exists());
}
