//! A trace file back as a live stream: its lines in order, paced as
//! recorded, scaled, or at once.

use futures::StreamExt;
use runwright_recorder::{Pacing, Trace};
use serde_json::json;
use tokio::time::{Duration, Instant};

/// A timed trace of a failing run: events at 0, 100 and 250 ms, then the
/// error line.
fn timed() -> Trace {
    let lines = [
        json!({"format": "runwright-trace", "version": 1, "runwright": "0.1.0", "name": "t", "root": "step", "events": 4, "timed": true}),
        json!({"event": "on_chain_start", "data": {"input": "hi"}, "name": "step", "tags": [], "run_id": "run-0", "metadata": {}, "parent_ids": [], "at_ms": 0.0}),
        json!({"event": "on_chain_stream", "data": {"chunk": "H"}, "name": "step", "tags": [], "run_id": "run-0", "metadata": {}, "parent_ids": [], "at_ms": 100.0}),
        json!({"event": "on_chain_stream", "data": {"chunk": "I"}, "name": "step", "tags": [], "run_id": "run-0", "metadata": {}, "parent_ids": [], "at_ms": 250.0}),
        json!({"error": {"type": "Error", "message": "no", "step": "step"}}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    Trace::parse("t.jsonl", &text).unwrap()
}

async fn replayed(pacing: Pacing) -> (Vec<serde_json::Value>, Duration) {
    let start = Instant::now();
    let lines: Vec<_> = timed().replay(pacing).collect().await;
    (lines, start.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_timed_trace_replays_with_its_recorded_waits() {
    let (lines, took) = replayed(Pacing::Recorded).await;
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1]["data"]["chunk"], "H");
    assert_eq!(lines[3]["error"]["message"], "no");
    assert_eq!(took, Duration::from_millis(250));

    let (_, took) = replayed(Pacing::Scaled(0.5)).await;
    assert_eq!(took, Duration::from_millis(125));
    let (lines, took) = replayed(Pacing::Instant).await;
    assert_eq!(took, Duration::ZERO);
    assert_eq!(lines, timed().events());
}

#[tokio::test(start_paused = true)]
async fn each_event_comes_after_its_wait_not_all_at_the_end() {
    let start = Instant::now();
    let mut lines = timed().replay(Pacing::Recorded);
    let mut at = Vec::new();
    while let Some(_line) = lines.next().await {
        at.push(start.elapsed().as_millis());
    }
    assert_eq!(at, [0, 100, 250, 250]);
}

#[tokio::test(start_paused = true)]
async fn an_untimed_trace_replays_at_once() {
    let shout = runwright::Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("shout");
    use runwright::RunnableExt;
    let trace = Trace::record("shout", shout.stream_events("hi".into())).await;
    let start = Instant::now();
    let lines: Vec<_> = trace.replay(Pacing::Recorded).collect().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(lines, trace.events());
}
