//! Workload 9 of bench/README.md: what a checkpointer costs per superstep,
//! against LangGraph with the same backend.
//!
//! The graph: START → n1 → … → n10 → END, each node a sync function
//! returning `{"x": x + 1}`; `invoke({"x": 0})` gives `{"x": 10}`, in 10
//! supersteps. Durability `sync` (each step's checkpoint is saved before
//! the next step starts), the same mode on the LangGraph side.
//!
//! * `graph_checkpoint/line_10_plain`: the graph compiled without a
//!   checkpointer.
//! * `graph_checkpoint/line_10_memory`: with `InMemorySaver`.
//! * `graph_checkpoint/line_10_sqlite`: with `SqliteSaver` on a file in a
//!   fresh temporary directory (WAL, `synchronous = NORMAL`, as
//!   `SqliteSaver::open` sets them).
//! * `graph_checkpoint/line_10_postgres`: with `PostgresSaver` on
//!   `DATABASE_URL`; only when it is set.
//!
//! Each checkpointed iteration runs on a thread of its own (a new
//! `thread_id`), timed from the call to the result; the thread is then
//! deleted, untimed, so that the saver stays small however many iterations
//! criterion runs (the baseline does the same). Throughput: 10 supersteps.
//! bench/compare takes the per-superstep overhead as (checkpointed −
//! plain) / 10.

mod fixtures;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use runwright::graph::checkpoint::{Checkpointer, InMemorySaver, SqliteSaver};
use runwright::graph::{CompiledGraph, Durability, StateGraph, END, START};
use runwright::{RunConfig, RunnableExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use fixtures::runtime;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct State {
    x: i64,
}
impl runwright::Chunk for State {}

/// Nodes in the line, and so supersteps per run.
const STEPS: usize = 10;

fn add1(s: State) -> runwright::Result<serde_json::Value> {
    Ok(json!({"x": s.x + 1}))
}

fn line(saver: Option<Arc<dyn Checkpointer>>) -> CompiledGraph<State> {
    let names: Vec<String> = (1..=STEPS).map(|i| format!("n{i}")).collect();
    let mut g = StateGraph::<State>::new();
    for n in &names {
        g = g.add_sync_node(n.as_str(), add1);
    }
    g = g.add_edge(START, names[0].as_str());
    for w in names.windows(2) {
        g = g.add_edge(w[0].as_str(), w[1].as_str());
    }
    g = g.add_edge(names[STEPS - 1].as_str(), END);
    if let Some(saver) = saver {
        g = g.checkpointer(saver).durability(Durability::Sync);
    }
    g.compile().expect("graph")
}

fn checkpoint(c: &mut Criterion) {
    let rt = runtime();
    let plain = line(None);
    assert_eq!(
        rt.block_on(plain.invoke(State { x: 0 })).expect("invoke").x,
        STEPS as i64
    );

    let dir = std::env::temp_dir().join(format!("runwright-bench-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut savers: Vec<(&str, Arc<dyn Checkpointer>)> = vec![
        ("line_10_memory", Arc::new(InMemorySaver::new())),
        (
            "line_10_sqlite",
            Arc::new(
                rt.block_on(SqliteSaver::open(dir.join("checkpoints.sqlite")))
                    .expect("sqlite"),
            ),
        ),
    ];
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let pg = rt
                .block_on(runwright::graph::checkpoint::PostgresSaver::connect(&url))
                .expect("postgres");
            savers.push(("line_10_postgres", Arc::new(pg)));
        }
        _ => eprintln!("graph_checkpoint/line_10_postgres: DATABASE_URL is not set, not measured"),
    }

    let mut g = c.benchmark_group("graph_checkpoint");
    g.throughput(Throughput::Elements(STEPS as u64));
    g.bench_function("line_10_plain", |b| {
        b.iter(|| assert_eq!(rt.block_on(plain.invoke(State { x: 0 })).unwrap().x, STEPS as i64))
    });

    static THREAD: AtomicU64 = AtomicU64::new(0);
    let prefix = format!("bench-{}", std::process::id());
    for (id, saver) in savers {
        let app = line(Some(saver.clone()));
        let run = |timed: &mut Duration| {
            let thread_id = format!("{prefix}-{}", THREAD.fetch_add(1, Ordering::Relaxed));
            let config = RunConfig::new().configurable("thread_id", thread_id.clone());
            let t0 = Instant::now();
            let out = rt.block_on(app.invoke_with(State { x: 0 }, config)).unwrap();
            *timed += t0.elapsed();
            assert_eq!(out.x, STEPS as i64);
            rt.block_on(saver.delete_thread(&thread_id)).unwrap();
        };
        // The run saves the input's checkpoint and one per step.
        let mut warm = Duration::ZERO;
        run(&mut warm);
        g.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    run(&mut timed);
                }
                timed
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, checkpoint);
criterion_main!(benches);
