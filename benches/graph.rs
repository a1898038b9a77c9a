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
//!
//! Two info rows, not compared with LangGraph:
//!
//! * `graph/json_items_10k_floor`: the same 10,000 `json!({"i": i})` values
//!   built into a queue and then taken out and dropped, with no graph. The
//!   node is a sync function, so every item it writes waits until it
//!   returns: this is the least any engine can spend on the faithful
//!   workload (serde_json's `preserve_order` makes each item an `IndexMap`
//!   of three allocations, all alive at once).
//! * `graph/custom_stream_10k_typed`: `custom_stream_10k` with a typed item,
//!   `w.write(Progress { i })` (a `#[derive(Serialize)]` struct): an item
//!   waits as one small box and becomes JSON when the stream yields it.

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

#[derive(Serialize)]
struct Progress {
    i: usize,
}

fn emit_typed(s: State) -> runwright::Result<serde_json::Value> {
    let w = runwright::stream_writer();
    for i in 0..ITEMS {
        w.write(Progress { i });
    }
    Ok(json!({"x": s.x + 1}))
}

/// What any engine does at least for `custom_stream_10k`: the items, all
/// waiting, then taken out in order and dropped.
fn json_items_floor() -> usize {
    let mut queue = std::collections::VecDeque::new();
    for i in 0..ITEMS {
        queue.push_back(std::hint::black_box(json!({"i": i})));
    }
    queue.into_iter().map(std::hint::black_box).count()
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

    // Info rows (see the module docs).
    g.bench_function("json_items_10k_floor", |b| {
        b.iter(|| assert_eq!(json_items_floor(), ITEMS))
    });
    let app3 = StateGraph::<State>::new()
        .add_sync_node("emit", emit_typed)
        .add_edge(START, "emit")
        .add_edge("emit", END)
        .compile()
        .expect("graph");
    let typed = || rt.block_on(app3.stream_mode(State { x: 0 }, StreamMode::Custom).count());
    assert_eq!(typed(), ITEMS);
    g.bench_function("custom_stream_10k_typed", |b| b.iter(|| assert_eq!(typed(), ITEMS)));
    g.finish();
}

criterion_group!(benches, graph);
criterion_main!(benches);
