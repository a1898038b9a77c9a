//! Runs as `tracing` spans, exported to OpenTelemetry (runwright's feature
//! `tracing`, through tracing-opentelemetry): the exported span tree is the
//! run tree, with the GenAI attributes on model and tool spans and errors
//! on failing runs' spans; plain `invoke` is traced, no event stream needed.
//! With no subscriber, outputs and events are those of an untraced run.

use std::collections::HashMap;

use futures::TryStreamExt;
use opentelemetry::trace::{SpanId, Status, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use runwright::models::{ChatModel, ChatRequest, ModelProfile};
use runwright::prompts::ChatPromptTemplate;
use runwright::tools::ToolInput;
use runwright::{
    tool, AIMessageChunk, ChunkStream, Lambda, Map, RunnableExt, StrOutputParser, ToolCall, UsageMetadata,
};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

/// A chat model that answers one chunk with token usage and a finish reason,
/// as a provider does, under a model name its runs' metadata carry.
struct Provider(ModelProfile);

impl Provider {
    fn new() -> Self {
        Provider(ModelProfile::chat("ChatTestProvider").with_metadata("ls_model_name", "test-model-1"))
    }
}

impl ChatModel for Provider {
    fn profile(&self) -> &ModelProfile {
        &self.0
    }

    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        let mut chunk = AIMessageChunk::new(format!("{} messages in", request.messages.len()));
        chunk.usage_metadata = Some(Box::new(UsageMetadata::new(12, 5)));
        chunk.response_metadata.insert("finish_reason".into(), json!("stop"));
        chunk
            .response_metadata
            .insert("model_name".into(), json!("test-model-1-0425"));
        Box::pin(futures::stream::iter([Ok(chunk)]))
    }
}

/// Shouts a word.
///
/// * `word` - the word
#[tool]
fn shout(word: String) -> String {
    word.to_uppercase()
}

/// The spans exported while `run` runs, with a subscriber exporting to
/// OpenTelemetry installed on this thread.
async fn exported<F: std::future::Future>(run: impl FnOnce() -> F) -> (F::Output, Vec<SpanData>) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    // Per thread: a `#[tokio::test]` runs on one thread, and the other tests
    // of this binary keep running with no subscriber.
    let out = {
        let _guard = tracing::subscriber::set_default(subscriber);
        run().await
    };
    provider.force_flush().unwrap();
    (out, exporter.get_finished_spans().unwrap())
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn text(span: &SpanData, key: &str) -> String {
    match attr(span, key) {
        Some(v) => v.as_str().into_owned(),
        None => panic!("span {} has no {key}: {:?}", span.name, span.attributes),
    }
}

/// The span tree as indented names, children in start order.
fn tree(spans: &[SpanData]) -> Vec<String> {
    let ids: HashMap<SpanId, &SpanData> = spans.iter().map(|s| (s.span_context.span_id(), s)).collect();
    let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
    let mut roots = Vec::new();
    for s in spans {
        if ids.contains_key(&s.parent_span_id) {
            children.entry(s.parent_span_id).or_default().push(s);
        } else {
            roots.push(s);
        }
    }
    fn walk(s: &SpanData, depth: usize, children: &HashMap<SpanId, Vec<&SpanData>>, out: &mut Vec<String>) {
        out.push(format!("{}{}", "  ".repeat(depth), s.name));
        let mut kids = children.get(&s.span_context.span_id()).cloned().unwrap_or_default();
        kids.sort_by_key(|k| k.start_time);
        for k in kids {
            walk(k, depth + 1, children, out);
        }
    }
    roots.sort_by_key(|r| r.start_time);
    let mut out = Vec::new();
    for r in roots {
        walk(r, 0, &children, &mut out);
    }
    out
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name} in {:?}", tree(spans)))
}

fn topic(t: &str) -> Map {
    let mut input = Map::new();
    input.insert("topic".into(), t.into());
    input
}

#[tokio::test]
async fn an_invoked_chain_exports_its_run_tree_with_the_model_call() {
    let chain = ChatPromptTemplate::from_template("tell me about {topic}").unwrap() | Provider::new() | StrOutputParser;
    let (out, spans) = exported(|| chain.invoke(topic("otters"))).await;
    assert_eq!(out.unwrap(), "1 messages in");
    assert_eq!(
        tree(&spans),
        [
            "RunnableSequence",
            "  ChatPromptTemplate",
            "  ChatTestProvider",
            "  StrOutputParser"
        ]
    );

    let model = named(&spans, "ChatTestProvider");
    assert_eq!(text(model, "runwright.run.type"), "chat_model");
    assert_eq!(text(model, "gen_ai.operation.name"), "chat");
    assert_eq!(text(model, "gen_ai.request.model"), "test-model-1");
    assert_eq!(text(model, "gen_ai.response.model"), "test-model-1-0425");
    assert_eq!(text(model, "gen_ai.provider.name"), "testprovider");
    assert_eq!(text(model, "gen_ai.system"), "testprovider");
    assert_eq!(attr(model, "gen_ai.usage.input_tokens"), Some(&Value::I64(12)));
    assert_eq!(attr(model, "gen_ai.usage.output_tokens"), Some(&Value::I64(5)));
    assert_eq!(text(model, "gen_ai.response.finish_reasons"), "stop");
    assert_eq!(model.status, Status::Unset);

    let root = named(&spans, "RunnableSequence");
    assert_eq!(text(root, "runwright.run.type"), "chain");
    assert!(uuid_like(&text(root, "runwright.run.id")));
    assert_eq!(attr(root, "gen_ai.operation.name"), None);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn a_streamed_model_call_adds_up_its_usage_on_the_span() {
    let chain = ChatPromptTemplate::from_template("tell me about {topic}").unwrap() | Provider::new();
    let (chunks, spans) = exported(|| chain.stream(topic("otters")).try_collect::<Vec<_>>()).await;
    assert_eq!(chunks.unwrap().len(), 1);
    let model = named(&spans, "ChatTestProvider");
    assert_eq!(attr(model, "gen_ai.usage.input_tokens"), Some(&Value::I64(12)));
    assert_eq!(text(model, "gen_ai.response.finish_reasons"), "stop");
}

#[tokio::test]
async fn a_tool_called_from_a_lambda_nests_under_it_with_its_call_id() {
    let caller = Lambda::from_async(|word: String| async move {
        let call = ToolCall::new("shout", json!({ "word": word })).with_id("call_7");
        let answer = shout.invoke(ToolInput::from(call)).await?;
        Ok(answer
            .into_message()
            .map(|m| m.content.text().into_owned())
            .unwrap_or_default())
    })
    .named("caller");
    let outer = Lambda::from_fn(|s: String| Ok(s)).named("first") | caller;
    let (out, spans) = exported(|| outer.invoke("hey".into())).await;
    assert_eq!(out.unwrap(), "HEY");
    assert_eq!(tree(&spans), ["RunnableSequence", "  first", "  caller", "    shout"]);
    let tool = named(&spans, "shout");
    assert_eq!(text(tool, "runwright.run.type"), "tool");
    assert_eq!(text(tool, "gen_ai.operation.name"), "execute_tool");
    assert_eq!(text(tool, "gen_ai.tool.name"), "shout");
    assert_eq!(text(tool, "gen_ai.tool.call.id"), "call_7");
}

#[tokio::test]
async fn runs_in_spawned_tasks_nest_under_the_spawning_run() {
    let inner = std::sync::Arc::new(Lambda::from_fn(|s: String| Ok(s.len())).named("inner"));
    let spawner = Lambda::from_async(move |s: String| {
        let inner = inner.clone();
        let task = runwright::spawn(async move { inner.invoke(s).await });
        async move { task.await? }
    })
    .named("spawner");
    let (out, spans) = exported(|| spawner.invoke("four".into())).await;
    assert_eq!(out.unwrap(), 4);
    assert_eq!(tree(&spans), ["spawner", "  inner"]);
}

#[tokio::test]
async fn a_failing_run_records_its_error_on_its_span_and_its_parents() {
    let chain = Lambda::from_fn(|s: String| Ok(s)).named("fine")
        | Lambda::from_fn(|_: String| -> runwright::Result<String> { Err(runwright::Error::msg("the well is dry")) })
            .named("broken");
    let (out, spans) = exported(|| chain.invoke("x".into())).await;
    let err = out.unwrap_err();
    assert_eq!(tree(&spans), ["RunnableSequence", "  fine", "  broken"]);

    let broken = named(&spans, "broken");
    assert_eq!(text(broken, "error.type"), err.type_name());
    assert!(matches!(&broken.status, Status::Error { description } if description.contains("the well is dry")));
    let exception = broken
        .events
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("an exception event");
    assert!(exception
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "exception.message" && kv.value.as_str().contains("the well is dry")));

    assert!(matches!(named(&spans, "RunnableSequence").status, Status::Error { .. }));
    assert_eq!(named(&spans, "fine").status, Status::Unset);
    assert_eq!(attr(named(&spans, "fine"), "error.type"), None);
}

/// A body's own spans nest under its run's, made before or after an
/// `.await` (the span is entered on every poll), invoked or streamed.
#[tokio::test]
async fn spans_a_body_makes_nest_under_its_run_across_awaits() {
    let busy = Lambda::from_async(|s: String| async move {
        tracing::info_span!("before").in_scope(|| ());
        tokio::task::yield_now().await;
        tracing::info_span!("after").in_scope(|| ());
        Ok(s.len())
    })
    .named("busy");
    let (out, spans) = exported(|| busy.invoke("four".into())).await;
    assert_eq!(out.unwrap(), 4);
    assert_eq!(tree(&spans), ["busy", "  before", "  after"]);

    let (out, spans) = exported(|| busy.stream("four".into()).try_collect::<Vec<_>>()).await;
    assert_eq!(out.unwrap(), [4]);
    assert_eq!(tree(&spans), ["busy", "  before", "  after"]);
}

#[tokio::test]
async fn a_root_run_nests_under_the_span_current_where_it_starts() {
    let step = Lambda::from_fn(|s: String| Ok(s)).named("step");
    let (_, spans) = exported(|| {
        use tracing::Instrument;
        async { step.invoke("x".into()).await }.instrument(tracing::info_span!("handler"))
    })
    .await;
    assert_eq!(tree(&spans), ["handler", "  step"]);
}

/// With the feature on and no subscriber, a run gives what it gives without
/// the feature: the same output, the same events (the whole test suite runs
/// with the feature on, and checks the events against LangChain's).
#[tokio::test]
async fn without_a_subscriber_outputs_and_events_are_unchanged() {
    let chain = ChatPromptTemplate::from_template("tell me about {topic}").unwrap() | Provider::new() | StrOutputParser;
    let plain = chain.invoke(topic("otters")).await.unwrap();
    let plain_events: Vec<_> = chain.stream_events(topic("otters")).try_collect().await.unwrap();
    let in_run =
        Lambda::from_async(|_: ()| async { Ok(runwright::RunContext::current().map(|c| c.tracing_span().is_some())) });
    assert_eq!(
        in_run.invoke(()).await.unwrap(),
        Some(false),
        "no span without a subscriber"
    );

    let ((traced, traced_events), spans) = exported(|| async {
        let out = chain.invoke(topic("otters")).await.unwrap();
        let events: Vec<_> = chain.stream_events(topic("otters")).try_collect().await.unwrap();
        (out, events)
    })
    .await;
    assert!(!spans.is_empty());
    assert_eq!(plain, traced);
    let shape = |events: &[runwright::StreamEvent]| -> Vec<String> {
        events
            .iter()
            .map(|e| {
                let mut j = serde_json::to_value(e).unwrap();
                let o = j.as_object_mut().unwrap();
                o.remove("run_id");
                o.remove("parent_ids");
                // Message ids embed the run id: `lc_run--<uuid>`.
                let line = j.to_string();
                let mut parts = line.split("lc_run--");
                let mut out = parts.next().unwrap_or_default().to_owned();
                for rest in parts {
                    out.push_str("lc_run--*");
                    out.push_str(rest.get(36..).unwrap_or_default());
                }
                out
            })
            .collect()
    };
    assert_eq!(shape(&plain_events), shape(&traced_events));
}
