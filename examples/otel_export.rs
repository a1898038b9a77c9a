//! cargo run --example otel_export --features otel [-- --in-memory]
//!
//! Every run as an OpenTelemetry span. With runwright's `tracing` feature
//! each run is a `tracing` span whose parent is its parent run's span, with
//! OpenTelemetry's GenAI attributes on model and tool calls; the
//! `tracing-opentelemetry` layer turns them into OpenTelemetry spans, which
//! `opentelemetry-otlp` sends to the collector at
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (OTLP over HTTP, for example
//! `http://localhost:4318`). With `--in-memory`, or when that variable is not
//! set, the spans go to the SDK's in-memory exporter and the span tree is
//! printed instead.
//!
//! Nothing here needs an event stream: a plain `invoke` is traced.

use std::collections::HashMap;

use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use opentelemetry_sdk::Resource;
use runwright::models::{ChatModel, ChatRequest, ModelProfile};
use runwright::prompts::ChatPromptTemplate;
use runwright::tools::ToolInput;
use runwright::{
    tool, AIMessageChunk, ChunkStream, Lambda, Map, RunnableExt, StrOutputParser, ToolCall, UsageMetadata,
};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

/// A stand-in for a provider's chat model: one answer, with the token usage
/// and finish reason a provider reports.
struct Forecaster(ModelProfile);

impl ChatModel for Forecaster {
    fn profile(&self) -> &ModelProfile {
        &self.0
    }

    fn stream_chat<'a>(&'a self, _request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        let mut answer = AIMessageChunk::new("Sunny, with a chance of otters.");
        answer.usage_metadata = Some(Box::new(UsageMetadata::new(14, 8)));
        answer.response_metadata.insert("finish_reason".into(), json!("stop"));
        Box::pin(futures::stream::iter([Ok(answer)]))
    }
}

/// Looks up the weather of a city.
///
/// * `city` - the city
#[tool]
fn get_weather(city: String) -> runwright::Result<String> {
    if city.is_empty() {
        return Err(runwright::Error::msg("no city given"));
    }
    Ok(format!("It is sunny in {city}."))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok();
    let in_memory = std::env::args().any(|a| a == "--in-memory") || endpoint.is_none();

    let resource = Resource::builder().with_service_name("runwright-example").build();
    let memory = InMemorySpanExporter::default();
    let provider = if in_memory {
        SdkTracerProvider::builder()
            .with_resource(resource)
            .with_simple_exporter(memory.clone())
            .build()
    } else {
        // Reads OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_EXPORTER_OTLP_* variables).
        let otlp = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
        SdkTracerProvider::builder()
            .with_resource(resource)
            .with_batch_exporter(otlp)
            .build()
    };
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("otel_export")));
    tracing::subscriber::set_global_default(subscriber)?;

    // A chain, invoked.
    let model = Forecaster(ModelProfile::chat("ChatForecaster").with_metadata("ls_model_name", "forecaster-1"));
    let chain = ChatPromptTemplate::from_template("What is the weather in {city}?")? | model | StrOutputParser;
    let mut input = Map::new();
    input.insert("city".into(), "Paris".into());
    println!("chain: {}", chain.invoke(input).await?);

    // A tool called from inside another step, as a model's tool call: it
    // nests under that step. The second call fails, and its span says so.
    let agent = Lambda::from_async(|city: String| async move {
        let call = ToolCall::new("get_weather", json!({ "city": city })).with_id("call_1");
        let answer = get_weather.invoke(ToolInput::from(call)).await?;
        Ok(answer
            .into_message()
            .map(|m| m.content.text().into_owned())
            .unwrap_or_default())
    })
    .named("agent");
    println!("agent: {}", agent.invoke("Lyon".into()).await?);
    if let Err(e) = agent.invoke(String::new()).await {
        println!("agent: failed: {e}");
    }

    provider.force_flush()?;
    if in_memory {
        println!("\nspans (in-memory exporter):");
        print_tree(&memory.get_finished_spans()?);
    } else {
        println!("\nspans sent to {}", endpoint.unwrap_or_default());
    }
    provider.shutdown()?;
    Ok(())
}

/// Prints spans as a tree, each with its run type and GenAI attributes.
fn print_tree(spans: &[SpanData]) {
    let known: HashMap<SpanId, &SpanData> = spans.iter().map(|s| (s.span_context.span_id(), s)).collect();
    let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
    let mut roots = Vec::new();
    for s in spans {
        match known.contains_key(&s.parent_span_id) {
            true => children.entry(s.parent_span_id).or_default().push(s),
            false => roots.push(s),
        }
    }
    fn show(s: &SpanData, depth: usize, children: &HashMap<SpanId, Vec<&SpanData>>) {
        let attrs: Vec<String> = s
            .attributes
            .iter()
            .filter(|kv| kv.key.as_str().starts_with("gen_ai.") || kv.key.as_str() == "error.type")
            .map(|kv| format!("{}={}", kv.key, kv.value))
            .collect();
        let run_type = s
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "runwright.run.type")
            .map(|kv| kv.value.to_string())
            .unwrap_or_default();
        let status = match &s.status {
            opentelemetry::trace::Status::Error { description } => format!(" ERROR({description})"),
            _ => String::new(),
        };
        println!(
            "{}{} [{run_type}]{status} {}",
            "  ".repeat(depth),
            s.name,
            attrs.join(" ")
        );
        let mut kids = children.get(&s.span_context.span_id()).cloned().unwrap_or_default();
        kids.sort_by_key(|k| k.start_time);
        for k in kids {
            show(k, depth + 1, children);
        }
    }
    roots.sort_by_key(|r| r.start_time);
    for r in roots {
        show(r, 0, &children);
    }
}
