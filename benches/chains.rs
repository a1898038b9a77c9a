//! Workloads 1-4 of bench/README.md and the limit benchmark: a 5-step
//! sequence, Chain(10k) streamed and with events, first-chunk latency, and
//! the same Chain(10k) as a hand-written futures pipeline with no runtime.

mod fixtures;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::StreamExt;
use runwright::messages::AIMessageChunk;
use runwright::{EventPhase, Lambda, RunType, RunnableExt};

use fixtures::{chain, input, prompt, runtime};

fn add1(x: i64) -> runwright::Result<i64> {
    Ok(x + 1)
}

async fn aadd1(x: i64) -> runwright::Result<i64> {
    Ok(x + 1)
}

fn seq_invoke(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("seq_invoke");
    g.throughput(Throughput::Elements(1));
    let sync_seq = Lambda::from_fn(add1)
        | Lambda::from_fn(add1)
        | Lambda::from_fn(add1)
        | Lambda::from_fn(add1)
        | Lambda::from_fn(add1);
    g.bench_function("sync_lambdas", |b| {
        b.iter(|| assert_eq!(rt.block_on(sync_seq.invoke(0)).unwrap(), 5))
    });
    let async_seq = Lambda::from_async(aadd1)
        | Lambda::from_async(aadd1)
        | Lambda::from_async(aadd1)
        | Lambda::from_async(aadd1)
        | Lambda::from_async(aadd1);
    g.bench_function("async_lambdas", |b| {
        b.iter(|| assert_eq!(rt.block_on(async_seq.invoke(0)).unwrap(), 5))
    });
    g.finish();
}

const N: usize = 10_000;

fn stream_chunks(c: &mut Criterion) {
    let rt = runtime();
    let chain = chain(N);
    let mut g = c.benchmark_group("stream_chunks");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("chain_10k", |b| {
        b.iter(|| {
            let n = rt.block_on(chain.stream(input()).count());
            assert_eq!(n, N);
        })
    });
    g.finish();
}

fn stream_events(c: &mut Criterion) {
    let rt = runtime();
    let chain = chain(N);
    let mut g = c.benchmark_group("stream_events");
    g.throughput(Throughput::Elements(3 * N as u64 + 8));
    g.bench_function("chain_10k", |b| {
        b.iter(|| {
            let n = rt.block_on(chain.stream_events(input()).count());
            assert_eq!(n, 3 * N + 8);
        })
    });
    g.finish();
}

/// Times from the call to the first item that `is_first` accepts; the rest
/// of the stream is drained untimed.
fn first_chunk(c: &mut Criterion) {
    let rt = runtime();
    let chain = chain(100);
    let mut g = c.benchmark_group("first_chunk");
    g.bench_function("stream", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                rt.block_on(async {
                    let start = Instant::now();
                    let mut s = chain.stream(input());
                    let first = s.next().await;
                    total += start.elapsed();
                    assert!(matches!(first, Some(Ok(_))));
                    while s.next().await.is_some() {}
                });
            }
            total
        })
    });
    for (name, wanted) in [
        ("events_chat_model_stream", RunType::ChatModel),
        ("events_root_chain_stream", RunType::Chain),
    ] {
        g.bench_function(BenchmarkId::new(name, 100), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    rt.block_on(async {
                        let start = Instant::now();
                        let mut s = chain.stream_events(input());
                        while let Some(ev) = s.next().await {
                            let ev = ev.unwrap();
                            if ev.phase == EventPhase::Stream
                                && ev.run_type == wanted
                                && (wanted != RunType::Chain || ev.parent_ids().is_empty())
                            {
                                break;
                            }
                        }
                        total += start.elapsed();
                        while s.next().await.is_some() {}
                    });
                }
                total
            })
        });
    }
    g.finish();
}

/// The floor: Chain(10k) by hand, a plain futures stream with no run
/// context, no events and no runtime types in between: format the prompt,
/// stream the model's chunks, map each to its text.
fn limit(c: &mut Criterion) {
    let rt = runtime();
    let prompt = prompt();
    let mut g = c.benchmark_group("limit");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("hand_written_chain_10k", |b| {
        b.iter(|| {
            let n = rt.block_on(async {
                let messages = prompt.format_messages(&input()).unwrap();
                assert_eq!(messages.len(), 2);
                let model = futures::stream::iter((0..N).map(|_| AIMessageChunk::new("a")));
                model.map(|c| c.text().into_owned()).count().await
            });
            assert_eq!(n, N);
        })
    });
    g.finish();
}

criterion_group!(benches, seq_invoke, stream_chunks, stream_events, first_chunk, limit);
criterion_main!(benches);
