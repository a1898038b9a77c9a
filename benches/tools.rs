//! Workload 5 of the LangChain baseline (bench/README.md): a `#[tool]` that
//! invokes a nested 3-step chain of async lambdas, watched with
//! `stream_events` (10 events per call).
//!
//! Bench ids: `tool_events/nested_chain_tool` (one event session; throughput:
//! its 10 events), `tool_events/tool_invoke` and
//! `tool_events/nested_chain_invoke` (one call each).

mod fixtures;

use std::sync::LazyLock;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use runwright::{tool, BoxRunnable, Lambda, RunnableExt};
use serde_json::json;

use fixtures::runtime;

async fn s1(x: i64) -> runwright::Result<i64> {
    Ok(x + 1)
}

async fn s2(x: i64) -> runwright::Result<i64> {
    Ok(x * 2)
}

async fn s3(x: i64) -> runwright::Result<i64> {
    Ok(x - 3)
}

/// `s1 | s2 | s3`, built once, as in Python.
static NESTED: LazyLock<BoxRunnable<i64, i64>> =
    LazyLock::new(|| (Lambda::from_async(s1) | Lambda::from_async(s2) | Lambda::from_async(s3)).boxed());

/// Run the nested 3-step chain on x.
///
/// * `x` - the number
#[tool]
async fn nested_chain_tool(x: i64) -> runwright::Result<i64> {
    NESTED.invoke(x).await
}

const EVENTS: [&str; 10] = [
    "on_tool_start:nested_chain_tool",
    "on_chain_start:RunnableSequence",
    "on_chain_start:s1",
    "on_chain_end:s1",
    "on_chain_start:s2",
    "on_chain_end:s2",
    "on_chain_start:s3",
    "on_chain_end:s3",
    "on_chain_end:RunnableSequence",
    "on_tool_end:nested_chain_tool",
];

fn tool_events(c: &mut Criterion) {
    let rt = runtime();
    // The same events, in the same order, as LangChain's.
    let seen: Vec<String> = rt.block_on(async {
        let mut s = nested_chain_tool.stream_events(json!({"x": 1}).into());
        let mut seen = Vec::new();
        while let Some(ev) = s.next().await {
            let ev = ev.expect("event");
            seen.push(format!("{}:{}", ev.event(), ev.name()));
        }
        seen
    });
    assert_eq!(seen, EVENTS);
    let out = rt
        .block_on(nested_chain_tool.invoke(json!({"x": 1}).into()))
        .expect("tool output");
    assert_eq!(out.into_value(), Some(1));

    let mut g = c.benchmark_group("tool_events");
    g.throughput(Throughput::Elements(EVENTS.len() as u64));
    g.bench_function("nested_chain_tool", |b| {
        b.iter(|| {
            let n = rt.block_on(nested_chain_tool.stream_events(json!({"x": 1}).into()).count());
            assert_eq!(n, EVENTS.len());
        })
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("tool_invoke", |b| {
        b.iter(|| {
            let out = rt.block_on(nested_chain_tool.invoke(json!({"x": 1}).into())).unwrap();
            assert_eq!(out.into_value(), Some(1));
        })
    });
    g.bench_function("nested_chain_invoke", |b| {
        b.iter(|| assert_eq!(rt.block_on(NESTED.invoke(1)).unwrap(), 1))
    });
    g.finish();
}

criterion_group!(benches, tool_events);
criterion_main!(benches);
