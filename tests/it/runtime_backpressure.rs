//! Backpressure: a slow consumer slows the producers, so memory stays
//! bounded however long the stream.

use std::time::Duration;

use futures::StreamExt;
use runwright::{EventPhase, EventStream, Lambda, Passthrough, RunnableExt};

use crate::common::*;

const CHUNKS: usize = 1_000_000;

/// The sink pauses producers at 256 queued events; one poll of a pipeline
/// may add a few more (one event per step) before the pause takes effect.
const BOUND: usize = 256 + 8;

fn one(_: usize) -> u64 {
    1
}

/// Reads every event, yielding every 100 and sleeping every 1000; returns
/// how many chunks the root streamed and its end output.
async fn read_slowly(events: &mut EventStream<'_>, root: &str) -> (usize, Option<serde_json::Value>) {
    let (mut since_pause, mut root_chunks, mut total) = (0usize, 0usize, None);
    while let Some(ev) = events.next().await {
        let ev = ev.expect("no error");
        since_pause += 1;
        if ev.name() == root {
            match ev.phase {
                EventPhase::Stream => root_chunks += 1,
                EventPhase::End => total = ev.data.output.as_ref().map(|o| o.to_json()),
                _ => {}
            }
        }
        if since_pause % 100 == 99 {
            tokio::task::yield_now().await;
        }
        if since_pause == 1000 {
            since_pause = 0;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    (root_chunks, total)
}

#[tokio::test(start_paused = true)]
async fn a_slow_consumer_of_a_million_chunks_keeps_the_event_queue_bounded() {
    let source = CountingSource::new("source", Some(CHUNKS), one);
    let chain = source.pipe(Passthrough::<u64>::new());
    let mut events = chain.stream_events("go".into());
    let (root_chunks, total) = read_slowly(&mut events, "RunnableSequence").await;
    assert_eq!(root_chunks, CHUNKS);
    assert_eq!(
        total,
        Some(serde_json::json!(CHUNKS)),
        "the output is the sum of the chunks"
    );
    let peak = events.peak_buffered();
    assert!(peak <= BOUND, "{peak} events waited at once");
}

/// Drains a million-chunk source from a task of its own: the consumer does
/// not drive that producer, so only the sink's backpressure holds it back.
async fn pump_in_a_task(_: String) -> runwright::Result<u64> {
    drain_in_a_task(CHUNKS).await
}

/// Streams a source of `n` chunks from a task of its own and sums them.
async fn drain_in_a_task(n: usize) -> runwright::Result<u64> {
    let source = CountingSource::new("source", Some(n), one);
    runwright::spawn(async move {
        let mut chunks = source.stream("go".into());
        let mut sum = 0;
        while let Some(chunk) = chunks.next().await {
            sum += chunk?;
        }
        Ok(sum)
    })
    .await?
}

#[tokio::test(start_paused = true)]
async fn a_producer_in_a_spawned_task_waits_for_a_slow_consumer() {
    let pump = Lambda::from_async(pump_in_a_task);
    let mut events = pump.stream_events("go".into());
    let (source_chunks, _) = read_slowly(&mut events, "source").await;
    assert_eq!(source_chunks, CHUNKS);
    let peak = events.peak_buffered();
    assert!(peak <= BOUND, "{peak} events waited at once");
    assert!(
        peak > 1,
        "the producer ran ahead of the reader until the queue was full: {peak}"
    );
}

#[tokio::test]
async fn plain_stream_never_runs_ahead_of_its_consumer() {
    let source = CountingSource::new("source", Some(CHUNKS), one);
    let probe = source.probe.clone();
    let chain = source.pipe(Passthrough::<u64>::new()).pipe(Passthrough::<u64>::new());
    let mut out = chain.stream("go".into());
    let mut n = 0;
    while let Some(chunk) = out.next().await {
        probe.consume();
        n += chunk.expect("no error");
    }
    assert_eq!(n, CHUNKS as u64);
    assert_eq!(probe.produced(), CHUNKS);
    assert_eq!(probe.max_ahead(), 1, "one chunk in flight at most");
}

/// A producer on another worker thread and a consumer that yields after
/// every event hand the queue back and forth thousands of times: no wake-up
/// is lost (the stream ends) and the bound holds. The timeout only turns a
/// lost wake-up into a failure instead of a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_on_another_thread_is_never_left_paused() {
    const N: usize = 200_000;
    async fn pump(_: String) -> runwright::Result<u64> {
        drain_in_a_task(N).await
    }
    let pump = Lambda::from_async(pump);
    let run = async {
        let mut events = pump.stream_events("go".into());
        let mut source_chunks = 0;
        while let Some(ev) = events.next().await {
            let ev = ev.expect("no error");
            if ev.name() == "source" && ev.phase == EventPhase::Stream {
                source_chunks += 1;
            }
            tokio::task::yield_now().await;
        }
        (source_chunks, events.peak_buffered())
    };
    let (source_chunks, peak) = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the stream ended: no producer was left paused");
    assert_eq!(source_chunks, N);
    assert!(peak <= BOUND, "{peak} events waited at once");
}
