//! With nobody listening (plain `invoke` and `stream`), no event payload is
//! built: values flowing through a pipeline are never cloned or serialized.
//! Under `stream_events` they are (cloned into typed payloads), and they are
//! serialized only when someone asks for JSON.

use std::sync::Arc;

use futures::TryStreamExt;
use runwright::{ChunkStream, Generator, Lambda, Passthrough, Runnable, RunnableExt};

use crate::common::*;

fn add_one(c: Counted) -> runwright::Result<Counted> {
    Ok(c.map(|n| n + 1))
}

async fn double(c: Counted) -> runwright::Result<Counted> {
    Ok(c.map(|n| n * 2))
}

fn negate<'a>(input: ChunkStream<'a, Counted>) -> ChunkStream<'a, Counted> {
    Box::pin(input.map_ok(|c| c.map(|n| -n)))
}

/// `add_one | double | negate (generator) | passthrough | nested (add_one | double)`
fn pipeline() -> impl Runnable<Input = Counted, Output = Counted> {
    let nested = Lambda::from_fn(add_one) | Lambda::from_async(double);
    Lambda::from_fn(add_one)
        | Lambda::from_async(double)
        | Generator::new(negate)
        | Passthrough::<Counted>::new()
        | nested
}

#[tokio::test]
async fn invoke_and_stream_clone_and_serialize_nothing() {
    let tally = Arc::new(Tally::default());
    let chain = pipeline();

    let out = chain.invoke(Counted::new(1, &tally)).await.expect("no error");
    assert_eq!(out.n, -6);

    let chunks: Vec<Counted> = chain
        .stream(Counted::new(1, &tally))
        .try_collect()
        .await
        .expect("no error");
    assert_eq!(chunks.iter().map(|c| c.n).collect::<Vec<_>>(), [-6]);

    assert_eq!(tally.clones(), 0, "no payload was built");
    assert_eq!(tally.serializations(), 0);
}

#[tokio::test]
async fn stream_events_builds_payloads_and_serializes_only_on_demand() {
    let tally = Arc::new(Tally::default());
    let chain = pipeline();
    let events = events_of(chain.stream_events(Counted::new(1, &tally))).await;
    assert!(tally.clones() > 0, "events carry copies of the values");
    assert_eq!(tally.serializations(), 0, "payloads are typed until JSON is asked for");
    let end = events.last().expect("events");
    assert_eq!(
        end.data
            .output
            .as_ref()
            .and_then(|o| o.downcast_ref::<Counted>())
            .map(|c| c.n),
        Some(-6)
    );

    let json: Vec<String> = events.iter().map(|e| e.to_json().to_string()).collect();
    assert!(tally.serializations() > 0);
    assert!(json.last().is_some_and(|j| j.contains("\"output\":-6")));
}
