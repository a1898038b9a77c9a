//! Dropping a stream cancels everything beneath it promptly: the source
//! sees its drop, and nothing polls it afterwards.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use runwright::{ChunkStream, EventPhase, Generator, RunnableExt};

use crate::common::*;

/// Lets every other task run for a while, on paused time.
async fn let_everything_run() {
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_secs(60)).await;
}

/// Reads events until the root has streamed `n` chunks.
async fn until_root_chunks(events: &mut runwright::EventStream<'_>, root: &str, n: usize) {
    let mut seen = 0;
    while seen < n {
        let ev = events.next().await.expect("an endless run").expect("no error");
        if ev.name() == root && ev.phase == EventPhase::Stream {
            seen += 1;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_stream_events_stops_an_endless_source_at_once() {
    let source = endless("source");
    let probe = source.probe.clone();
    let chain = source.pipe(upper());
    let mut events = chain.stream_events("go".into());
    until_root_chunks(&mut events, "RunnableSequence", 3).await;
    assert!(!probe.dropped());
    // Bounded by the event queue: the run does not race ahead of the reader.
    assert!(probe.produced() < 200, "produced {}", probe.produced());

    drop(events);
    assert!(probe.dropped(), "the source is dropped with the event stream");
    let polls = probe.polls();
    let_everything_run().await;
    assert_eq!(probe.polls(), polls, "nothing polls the source after the drop");
}

#[tokio::test(start_paused = true)]
async fn dropping_a_plain_stream_stops_an_endless_source_at_once() {
    let source = endless("source");
    let probe = source.probe.clone();
    let chain = source.pipe(upper()).pipe(upper());
    let mut out = chain.stream("go".into());
    for expected in ["A", "B", "C"] {
        assert_eq!(out.next().await.expect("endless").expect("no error"), expected);
    }
    assert_eq!(probe.produced(), 3);
    drop(out);
    assert!(probe.dropped());
    let polls = probe.polls();
    let_everything_run().await;
    assert_eq!(probe.polls(), polls);
}

/// A generator that pumps `source` from a task spawned with
/// `runwright::spawn`. The task ignores a closed channel and keeps pulling:
/// only the abort of its `RunTask` (dropped with the stream) stops it.
fn pumped(source: Arc<CountingSource<String>>) -> Generator<String, String> {
    Generator::new(move |_input: ChunkStream<'_, String>| -> ChunkStream<'_, String> {
        let source = source.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<String>(1);
        let task = runwright::spawn(async move {
            let mut chunks = source.stream("go".into());
            while let Some(Ok(chunk)) = chunks.next().await {
                let _ = tx.send(chunk).await;
                tokio::task::yield_now().await;
            }
        });
        Box::pin(futures::stream::unfold((rx, task), |(mut rx, task)| async move {
            rx.recv().await.map(|c| (Ok(c), (rx, task)))
        }))
    })
    .named("pump")
}

#[tokio::test(start_paused = true)]
async fn dropping_stream_events_aborts_a_task_spawned_inside_the_run() {
    let source = Arc::new(endless("source"));
    let probe = source.probe.clone();
    let pump = pumped(source);
    let mut events = pump.stream_events("go".into());
    until_root_chunks(&mut events, "pump", 3).await;
    assert!(!probe.dropped());

    drop(events);
    // The abort is carried out when the runtime next schedules the task.
    let mut yields = 0;
    while !probe.dropped() && yields < 10 {
        tokio::task::yield_now().await;
        yields += 1;
    }
    assert!(probe.dropped(), "the spawned task was not aborted");
    let polls = probe.polls();
    let_everything_run().await;
    assert_eq!(probe.polls(), polls, "nothing polls the source after the drop");
}

#[tokio::test(start_paused = true)]
async fn the_spawned_sources_events_nest_under_the_spawning_run() {
    let pump = pumped(Arc::new(letters("source", 2)));
    let events = events_of(pump.stream_events("go".into())).await;
    assert_eq!(lineage(&events), ["pump [] under []", "source [] under [\"pump\"]"]);
    assert_eq!(chunks_of(&events, "source"), chunks_of(&events, "pump"));
    assert_eq!(chunks_of(&events, "pump").len(), 2);
}
