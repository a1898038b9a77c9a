//! Backpressure: a slow consumer slows the producers, so memory stays
//! bounded however long the stream.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use runwright::{EventPhase, Passthrough, RunnableExt};

const CHUNKS: usize = 1_000_000;

/// The sink pauses producers at 256 queued events; one poll of a pipeline
/// may add a few more (one event per step) before the pause takes effect.
const BOUND: usize = 256 + 8;

fn one(_: usize) -> u64 {
    1
}

#[tokio::test(start_paused = true)]
async fn a_slow_consumer_of_a_million_chunks_keeps_the_event_queue_bounded() {
    let source = CountingSource::new("source", Some(CHUNKS), one);
    let chain = source.pipe(Passthrough::<u64>::new());
    let mut events = chain.stream_events("go".into());
    let (mut since_pause, mut root_chunks, mut total) = (0usize, 0usize, None);
    while let Some(ev) = events.next().await {
        let ev = ev.expect("no error");
        since_pause += 1;
        if &*ev.name == "RunnableSequence" {
            match ev.phase {
                EventPhase::Stream => root_chunks += 1,
                EventPhase::End => total = ev.data.output.as_ref().map(|o| o.to_json()),
                _ => {}
            }
        }
        // A slow reader: it yields every 100 events and sleeps every 1000.
        if since_pause % 100 == 99 {
            tokio::task::yield_now().await;
        }
        if since_pause == 1000 {
            since_pause = 0;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    assert_eq!(root_chunks, CHUNKS);
    assert_eq!(
        total,
        Some(serde_json::json!(CHUNKS)),
        "the output is the sum of the chunks"
    );
    let peak = events.peak_buffered();
    assert!(peak <= BOUND, "{peak} events waited at once");
    assert!(peak >= 128, "the reader was slow, so the queue filled up: {peak}");
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
