//! The owned streams (`stream_owned`, `stream_events_owned`,
//! `stream_log_owned`): `'static`, so a spawned task can serve them after
//! the scope that built the runnable has ended; the same items as the
//! borrowed streams; and dropping one cancels the work beneath. Each test is
//! bounded: a hang fails it.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt};
use runwright::{Lambda, LogOptions, RunLogPatch, Runnable, RunnableExt, StreamEvent};
use serde_json::Value as Json;
use tokio::sync::mpsc;

use crate::common::*;

/// Fails the test instead of hanging.
async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("the test hung for 20 s")
}

/// `source (a, b, c) | upper | upper`: nested runs that stream.
fn chain() -> impl Runnable<Input = String, Output = String> + 'static {
    letters("source", 3).pipe(upper()).pipe(upper())
}

/// What a web handler does: builds the runnable in its own scope and
/// returns only the stream, which must not borrow anything of that scope.
fn served_events(input: &str) -> impl Stream<Item = runwright::Result<StreamEvent>> + Send + 'static {
    let runnable = Arc::new(chain());
    runnable.stream_events_owned(input.to_owned())
}

/// Consumes `stream` in a spawned task that forwards each item over a
/// channel, and collects what arrives.
async fn through_a_task<T: Send + 'static>(
    stream: impl Stream<Item = runwright::Result<T>> + Send + 'static,
) -> Vec<T> {
    let (tx, mut rx) = mpsc::channel(4);
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream.next().await {
            if tx.send(item.expect("the run succeeds")).await.is_err() {
                return;
            }
        }
    });
    let mut out = Vec::new();
    while let Some(item) = rx.recv().await {
        out.push(item);
    }
    task.await.expect("the serving task does not panic");
    out
}

#[tokio::test]
async fn an_owned_event_stream_is_served_from_a_spawned_task_after_its_scope_ended() {
    let served = bounded(through_a_task(served_events("go"))).await;
    let borrowed = bounded(events_of(chain().stream_events("go".into()))).await;
    assert!(served.len() > 10, "a run tree's worth of events: {}", served.len());
    assert_eq!(tree(&served), tree(&borrowed));
    assert_same_events(&normalized(&served), &normalized(&borrowed));
}

#[tokio::test]
async fn an_owned_output_stream_yields_what_the_borrowed_one_does() {
    fn served() -> impl Stream<Item = runwright::Result<String>> + Send + 'static {
        Arc::new(chain()).stream_owned("go".into())
    }
    let served = bounded(through_a_task(served())).await;
    let borrowed: Vec<String> = bounded(chain().stream("go".into()).try_collect()).await.unwrap();
    assert_eq!(served, ["A", "B", "C"]);
    assert_eq!(served, borrowed);
}

#[tokio::test]
async fn an_owned_log_stream_builds_the_state_the_borrowed_one_does() {
    fn served() -> impl Stream<Item = runwright::Result<RunLogPatch>> + Send + 'static {
        Arc::new(chain()).stream_log_owned("go".into(), LogOptions::default())
    }
    let served = bounded(through_a_task(served())).await;
    let borrowed: Vec<RunLogPatch> = bounded(chain().stream_log("go".into(), LogOptions::default()).try_collect())
        .await
        .unwrap();
    let normalized_ops = |patches: &[RunLogPatch]| {
        let mut n = Normalizer::default();
        patches
            .iter()
            .map(|p| n.log(&Json::Array(p.ops.clone())))
            .collect::<Vec<_>>()
    };
    assert_eq!(normalized_ops(&served), normalized_ops(&borrowed));
    let mut state = Json::Null;
    for patch in &served {
        patch.apply_to(&mut state).unwrap();
    }
    assert_eq!(state["final_output"], "ABC");
}

#[tokio::test]
async fn a_boxed_runnable_serves_owned_streams_without_an_arc() {
    fn served() -> impl Stream<Item = runwright::Result<StreamEvent>> + Send + 'static {
        chain().boxed().stream_events_owned("go".into())
    }
    let served = bounded(through_a_task(served())).await;
    let borrowed = bounded(events_of(chain().boxed().stream_events("go".into()))).await;
    assert_same_events(&normalized(&served), &normalized(&borrowed));
    let chunks = bounded(through_a_task(chain().boxed().stream_owned("go".into()))).await;
    assert_eq!(chunks, ["A", "B", "C"]);
}

/// Counts its drops.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_an_owned_event_stream_cancels_the_run_beneath() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let started = Arc::new(tokio::sync::Notify::new());
    let events = {
        let (dropped, finished, started) = (dropped.clone(), finished.clone(), started.clone());
        let sleeper = Lambda::from_async(move |s: String| {
            let guard = DropGuard(dropped.clone());
            let (finished, started) = (finished.clone(), started.clone());
            async move {
                let _guard = guard;
                started.notify_one();
                tokio::time::sleep(Duration::from_secs(3600)).await;
                finished.store(true, Ordering::SeqCst);
                Ok(s)
            }
        })
        .named("sleeper");
        Arc::new(sleeper).stream_events_owned("zzz".into())
    };
    // A task drives the stream until the sleeper's body is asleep, then
    // drops it.
    let reader = tokio::spawn(async move {
        let mut events = events;
        let mut seen = Vec::new();
        loop {
            tokio::select! {
                event = events.next() => {
                    let event = event.expect("the run goes on").expect("no error");
                    seen.push(event.event());
                }
                _ = started.notified() => return seen,
            }
        }
    });
    let seen = bounded(reader).await.expect("the reader does not panic");
    assert_eq!(seen, ["on_chain_start"]);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the sleeping body is dropped with the stream"
    );
    // Well past the sleep: nothing finishes it.
    tokio::time::sleep(Duration::from_secs(7200)).await;
    assert!(!finished.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn dropping_an_owned_output_stream_stops_an_endless_source() {
    let source = endless("source");
    let probe = source.probe.clone();
    let mut out = Arc::new(source.pipe(upper())).stream_owned("go".into());
    let first_three = bounded(async {
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(out.next().await.expect("endless").expect("no error"));
        }
        got
    })
    .await;
    assert_eq!(first_three, ["A", "B", "C"]);
    assert!(!probe.dropped());
    drop(out);
    assert!(probe.dropped(), "the source is dropped with the owned stream");
}

#[tokio::test]
async fn an_owned_stream_nests_under_the_run_it_was_made_in() {
    let inner = Arc::new(Lambda::from_fn(exclaim).named("inner"));
    // The outer step makes the owned stream and hands it to a plain tokio
    // task (no run context there); the inner run still nests under it.
    let outer = Lambda::from_async(move |s: String| {
        let events = inner.clone().stream_owned(s);
        async move {
            let chunks: Vec<String> = tokio::spawn(events.try_collect())
                .await
                .map_err(runwright::Error::msg)??;
            Ok(chunks.concat())
        }
    })
    .named("outer");
    let events = bounded(events_of(outer.stream_events("hi".into()))).await;
    let lines = lineage(&events);
    assert!(lines.contains(&r#"inner [] under ["outer"]"#.to_owned()), "{lines:#?}");
}
