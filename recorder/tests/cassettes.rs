//! Cassettes: record a run with the live model, replay it without; record
//! modes; secrets; pacing; concurrent recorders.

mod common;

use std::time::Duration;

use common::{get_weather, scratch, Agent};
use futures::TryStreamExt;
use runwright::models::{ChatModel, ChatRequest, ModelProfile};
use runwright::{
    AIMessage, AIMessageChunk, ChunkStream, FakeToolCallingChatModel, GenericFakeChatModel, Map, RunnableExt, ToolCall,
    UsageMetadata,
};
use runwright_recorder::{Cassette, Pacing, RecordMode, Recorder, Trace};
use serde_json::json;

fn tool_calling_model() -> FakeToolCallingChatModel {
    FakeToolCallingChatModel::new([
        AIMessage::new("let me check").with_tool_calls(vec![
            ToolCall::new("get_weather", json!({"city": "Paris"})).with_id("call_1")
        ]),
        AIMessage::new("It is sunny in Paris."),
    ])
}

#[tokio::test]
async fn a_replayed_tool_calling_run_gives_the_recorded_events() {
    let dir = scratch("agent");
    let path = dir.join("agent.jsonl");

    let live = Recorder::new(tool_calling_model(), &path)
        .unwrap()
        .with_mode(RecordMode::Once)
        .bind_tools(&[&get_weather]);
    let agent = Agent { model: live };
    let recorded = Trace::record("agent", agent.stream_events("weather in Paris?".into())).await;
    assert!(recorded.error().is_none(), "{:?}", recorded.error());
    assert_eq!(agent.model.inner().inner().unwrap().tools_seen().len(), 2);

    let cassette = Cassette::read(&path).unwrap();
    assert_eq!(cassette.interactions().len(), 2);
    assert_eq!(cassette.header().model, "FakeToolCallingChatModel");
    let first = &cassette.interactions()[0];
    assert_eq!(first.request["tools"][0]["function"]["name"], "get_weather");
    let last = first.chunks.last().unwrap();
    assert_eq!(last.chunk.tool_call_chunks[0].name.as_deref(), Some("get_weather"));
    // The second request carries the first answer, whose id names a run:
    // numbered, so it matches on replay.
    let second = cassette.interactions()[1].request.to_string();
    assert!(second.contains("lc_run--run-0"), "{second}");
    assert!(second.contains("sunny in Paris"), "{second}");

    let replay = Recorder::replay(&path).unwrap().bind_tools(&[&get_weather]);
    let agent = Agent { model: replay };
    let replayed = Trace::record("agent", agent.stream_events("weather in Paris?".into())).await;
    assert_eq!(replayed.events(), recorded.events());
    assert!(recorded
        .events()
        .iter()
        .any(|e| e["event"] == "on_tool_end" && e["data"]["output"]["content"] == "sunny in Paris"));
    assert_eq!(
        recorded
            .events()
            .iter()
            .filter(|e| e["event"] == "on_chat_model_start")
            .count(),
        2
    );
}

#[tokio::test]
async fn usage_and_tool_call_chunks_survive_the_file() {
    let dir = scratch("usage");
    let path = dir.join("usage.jsonl");
    let chunks = vec![
        AIMessageChunk::new("hi").with_usage(UsageMetadata::new(3, 1)),
        AIMessageChunk::new("").with_tool_call_chunks(vec![runwright::ToolCallChunk::new(
            Some("f"),
            Some("{\"a\": 1}"),
            Some("c1"),
            Some(0),
        )]),
    ];
    let live = Recorder::new(Scripted::new(chunks.clone()), &path)
        .unwrap()
        .with_mode(RecordMode::Once);
    // Chunks without an id get their run's, which differs between runs.
    let without_ids = |chunks: Vec<AIMessageChunk>| -> Vec<AIMessageChunk> {
        chunks
            .into_iter()
            .map(|mut c| {
                c.id = None;
                c
            })
            .collect()
    };
    let got = without_ids(live.stream("q".into()).try_collect().await.unwrap());
    let replay = Recorder::replay(&path).unwrap();
    let again = without_ids(replay.stream("q".into()).try_collect().await.unwrap());
    assert_eq!(again, got);
    assert_eq!(again, without_ids(chunks));
    assert_eq!(again[0].usage_metadata.as_deref(), Some(&UsageMetadata::new(3, 1)));
    assert_eq!(again[1].tool_calls[0].args["a"], 1);
}

/// A model with invocation parameters that carry secrets, as a provider's
/// would: an API key and an `Authorization` header.
struct Scripted {
    profile: ModelProfile,
    chunks: Vec<AIMessageChunk>,
    params: Map,
}

impl Scripted {
    fn new(chunks: Vec<AIMessageChunk>) -> Self {
        Scripted {
            profile: ModelProfile::chat("ChatScripted").with_metadata("ls_model_name", "scripted-1"),
            chunks,
            params: Map::new(),
        }
    }
}

impl ChatModel for Scripted {
    fn profile(&self) -> &ModelProfile {
        &self.profile
    }

    fn stream_chat<'a>(&'a self, _request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        Box::pin(futures::stream::iter(self.chunks.clone().into_iter().map(Ok)))
    }

    fn invocation_params(&self) -> Map {
        self.params.clone()
    }
}

#[tokio::test]
async fn secrets_in_the_request_config_are_never_written() {
    let dir = scratch("secrets");
    let path = dir.join("secrets.jsonl");
    let mut model = Scripted::new(vec![AIMessageChunk::new("ok")]);
    let params = json!({
        "model": "scripted-1",
        "temperature": 0.2,
        "api_key": "sk-live-0123456789",
        "headers": {"Authorization": "Bearer sk-live-0123456789", "X-Echo-Key": "sk-live-0123456789", "Accept": "text/event-stream"},
        "org_token": "org-secret-42",
    });
    model.params = params.as_object().cloned().unwrap();
    let redactions = runwright_recorder::Redactions::default().field("org_token");
    let live = Recorder::new(model, &path)
        .unwrap()
        .with_mode(RecordMode::Once)
        .with_redactions(redactions.clone());
    live.invoke("hello".into()).await.unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    for secret in [
        "sk-live-0123456789",
        "Bearer",
        "Authorization",
        "authorization",
        "api_key",
        "org-secret-42",
        "org_token",
    ] {
        assert!(!text.contains(secret), "the cassette contains {secret:?}:\n{text}");
    }
    // What is not secret stays, so requests still match on it.
    assert!(text.contains("\"temperature\":0.2"), "{text}");
    assert!(text.contains("text/event-stream"), "{text}");

    // The same model (same secrets) replays from it; so does the cassette alone.
    let mut model = Scripted::new(vec![]);
    model.params = params.as_object().cloned().unwrap();
    let replay = Recorder::new(model, &path)
        .unwrap()
        .with_mode(RecordMode::None)
        .with_redactions(redactions);
    assert_eq!(replay.invoke("hello".into()).await.unwrap().text(), "ok");
    let offline = Recorder::replay(&path).unwrap();
    assert_eq!(offline.invoke("hello".into()).await.unwrap().text(), "ok");
}

#[tokio::test]
async fn record_modes_behave_as_vcrpy_s() {
    let dir = scratch("modes");
    let path = dir.join("modes.jsonl");
    let model = |answers: &[&str]| GenericFakeChatModel::new(answers.iter().copied());

    // once, no file: records.
    let r = Recorder::new(model(&["one"]), &path)
        .unwrap()
        .with_mode(RecordMode::Once);
    assert_eq!(r.invoke("a".into()).await.unwrap().text(), "one");
    // once, file exists: replays, and a new request is a miss.
    let r = Recorder::new(model(&["never"]), &path)
        .unwrap()
        .with_mode(RecordMode::Once);
    assert_eq!(r.invoke("a".into()).await.unwrap().text(), "one");
    let miss = r.invoke("b".into()).await.unwrap_err();
    assert!(miss.message().contains("record mode once"), "{miss}");

    // new_episodes: replays what it has, records the rest.
    let r = Recorder::new(model(&["two"]), &path)
        .unwrap()
        .with_mode(RecordMode::NewEpisodes);
    assert_eq!(r.invoke("a".into()).await.unwrap().text(), "one");
    assert_eq!(r.invoke("b".into()).await.unwrap().text(), "two");
    assert_eq!(Cassette::read(&path).unwrap().interactions().len(), 2);

    // none: replays, never records.
    let r = Recorder::new(model(&["never"]), &path)
        .unwrap()
        .with_mode(RecordMode::None);
    assert_eq!(r.invoke("b".into()).await.unwrap().text(), "two");
    assert!(r.invoke("c".into()).await.is_err());
    assert_eq!(Cassette::read(&path).unwrap().interactions().len(), 2);

    // all: records everything again; the old calls are gone.
    let r = Recorder::new(model(&["three"]), &path)
        .unwrap()
        .with_mode(RecordMode::All);
    assert_eq!(r.invoke("a".into()).await.unwrap().text(), "three");
    let c = Cassette::read(&path).unwrap();
    assert_eq!(c.interactions().len(), 1);
    assert_eq!(c.interactions()[0].chunks[0].chunk.text(), "three");
}

#[tokio::test]
async fn each_recorded_answer_plays_once_in_order() {
    let dir = scratch("repeats");
    let path = dir.join("repeats.jsonl");
    let r = Recorder::new(GenericFakeChatModel::new(["first", "second"]), &path)
        .unwrap()
        .with_mode(RecordMode::Once);
    r.invoke("same".into()).await.unwrap();
    r.invoke("same".into()).await.unwrap();
    let replay = Recorder::replay(&path).unwrap();
    assert_eq!(replay.invoke("same".into()).await.unwrap().text(), "first");
    assert_eq!(replay.invoke("same".into()).await.unwrap().text(), "second");
    let third = replay.invoke("same".into()).await.unwrap_err();
    assert!(
        third
            .message()
            .contains("replayed already: each recorded answer plays once"),
        "{third}"
    );
}

#[tokio::test]
async fn a_failing_model_call_is_recorded_and_replayed_as_such() {
    let dir = scratch("failing");
    let path = dir.join("failing.jsonl");
    let r = Recorder::new(GenericFakeChatModel::new(Vec::<String>::new()), &path)
        .unwrap()
        .with_mode(RecordMode::Once);
    let live = r.invoke("x".into()).await.unwrap_err();
    let replayed = Recorder::replay(&path).unwrap().invoke("x".into()).await.unwrap_err();
    assert_eq!(replayed.message(), live.message());
    assert_eq!(replayed.kind(), live.kind());
}

#[tokio::test(start_paused = true)]
async fn paced_replay_keeps_the_recorded_delays() {
    let dir = scratch("pacing");
    let path = dir.join("paced.jsonl");
    let text = concat!(
        r#"{"format":"runwright-cassette","version":1,"runwright":"0.1.0","model":"ChatDemo","interactions":1}"#,
        "\n",
        r#"{"interaction":0,"request":{"messages":[{"type":"HumanMessage","content":"hi"}],"tools":[],"params":{}}}"#,
        "\n",
        r#"{"interaction":0,"chunk":{"type":"AIMessageChunk","content":"a"},"delay_ms":300}"#,
        "\n",
        r#"{"interaction":0,"chunk":{"type":"AIMessageChunk","content":"b"},"delay_ms":200}"#,
        "\n",
        r#"{"interaction":0,"end":{"chunks":2}}"#,
        "\n",
    );
    std::fs::write(&path, text).unwrap();

    let paced = Recorder::replay(&path).unwrap().with_pacing(Pacing::Recorded);
    let start = tokio::time::Instant::now();
    let chunks: Vec<_> = paced.stream("hi".into()).try_collect().await.unwrap();
    assert_eq!(chunks.len(), 2);
    assert_eq!(start.elapsed(), Duration::from_millis(500));

    let halved = Recorder::replay(&path).unwrap().with_pacing(Pacing::Scaled(0.5));
    let start = tokio::time::Instant::now();
    halved.invoke("hi".into()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(250));

    let instant = Recorder::replay(&path).unwrap();
    let start = tokio::time::Instant::now();
    instant.invoke("hi".into()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorders_on_different_cassettes_in_parallel_never_interfere() {
    let dir = scratch("parallel-recorders");
    let mut tasks = Vec::new();
    for k in 0..8 {
        let path = dir.join(format!("cassette-{k}.jsonl"));
        tasks.push(tokio::spawn(async move {
            let answers: Vec<String> = (0..20).map(|i| format!("answer {k}.{i}")).collect();
            let r = Recorder::new(GenericFakeChatModel::new(answers), &path)
                .unwrap()
                .with_mode(RecordMode::Once);
            for i in 0..20 {
                let out = r.invoke(format!("question {k}.{i}").into()).await.unwrap();
                assert_eq!(out.text(), format!("answer {k}.{i}"));
            }
            path
        }));
    }
    for (k, t) in tasks.into_iter().enumerate() {
        let path = t.await.unwrap();
        let c = Cassette::read(&path).unwrap();
        assert_eq!(c.interactions().len(), 20);
        for (i, it) in c.interactions().iter().enumerate() {
            assert_eq!(it.request["messages"][0]["content"], format!("question {k}.{i}"));
            let text: String = it.chunks.iter().map(|c| c.chunk.text().into_owned()).collect();
            assert_eq!(text, format!("answer {k}.{i}"));
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
