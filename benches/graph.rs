//! Workload 8 of the LangChain baseline (bench/README.md): LangGraph's
//! counterparts on runwright's graph engine.
//!
//! * `graph/invoke_3_nodes`: START → a → b → c → END, each node a sync
//!   function returning `{"x": x + 1}`; `invoke({"x": 0})` gives `{"x": 3}`.
//!   Throughput: 1 invoke.
//! * `graph/custom_stream_10k`: START → emit → END, where `emit` writes
//!   `{"i": i}` for i in 0..10,000 with the stream writer and returns
//!   `{"x": x + 1}`; the graph's `custom` stream mode is drained (10,000
//!   items). Throughput: 10,000 items.

mod fixtures;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use runwright::graph::{StateGraph, StreamMode, END, START};
use runwright::RunnableExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use fixtures::runtime;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct State {
    x: i64,
}
impl runwright::Chunk for State {}

const ITEMS: usize = 10_000;

fn add1(s: State) -> runwright::Result<serde_json::Value> {
    Ok(json!({"x": s.x + 1}))
}

fn emit(s: State) -> runwright::Result<serde_json::Value> {
    let w = runwright::stream_writer();
    for i in 0..ITEMS {
        w.write(json!({"i": i}));
    }
    Ok(json!({"x": s.x + 1}))
}

fn graph(c: &mut Criterion) {
    let rt = runtime();
    let app = StateGraph::<State>::new()
        .add_sync_node("a", add1)
        .add_sync_node("b", add1)
        .add_sync_node("c", add1)
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("b", "c")
        .add_edge("c", END)
        .compile()
        .expect("graph");
    assert_eq!(rt.block_on(app.invoke(State { x: 0 })).expect("invoke").x, 3);

    let app2 = StateGraph::<State>::new()
        .add_sync_node("emit", emit)
        .add_edge(START, "emit")
        .add_edge("emit", END)
        .compile()
        .expect("graph");
    let count = || rt.block_on(app2.stream_mode(State { x: 0 }, StreamMode::Custom).count());
    assert_eq!(count(), ITEMS);

    let mut g = c.benchmark_group("graph");
    g.throughput(Throughput::Elements(1));
    g.bench_function("invoke_3_nodes", |b| {
        b.iter(|| assert_eq!(rt.block_on(app.invoke(State { x: 0 })).unwrap().x, 3))
    });
    g.throughput(Throughput::Elements(ITEMS as u64));
    g.bench_function("custom_stream_10k", |b| b.iter(|| assert_eq!(count(), ITEMS)));
    g.finish();
}

criterion_group!(benches, graph);
criterion_main!(benches);
