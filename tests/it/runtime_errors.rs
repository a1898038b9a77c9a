//! Errors are items, not silence: a failing run yields the events produced
//! up to the failure, then exactly one `Err`, then the stream ends; `invoke`
//! returns the error, which names the failing step.
//!
//! Time is paused: a run that hung would let the guard's timer fire at once
//! instead of blocking the test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{Future, StreamExt, TryStreamExt};
use runwright::{
    ChunkStream, Error, EventPhase, FakeListChatModel, Generator, Lambda, Parallel, RetryPolicy, RunnableExt,
    StrOutputParser,
};
use serde_json::json;

use crate::common::*;

async fn guarded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(3600), f)
        .await
        .expect("the run hung")
}

fn step_one(x: i64) -> runwright::Result<i64> {
    Ok(x + 1)
}

fn fail_step(x: i64) -> runwright::Result<i64> {
    Err(Error::msg(format!("fail_step got {x}")))
}

fn step_three(x: i64) -> runwright::Result<i64> {
    Ok(x * 10)
}

#[tokio::test(start_paused = true)]
async fn a_failing_middle_step_ends_the_stream_with_its_error() {
    let chain = Lambda::from_fn(step_one) | Lambda::from_fn(fail_step) | Lambda::from_fn(step_three);

    let e = guarded(chain.invoke(1)).await.expect_err("the chain fails");
    assert_eq!(e.step(), Some("fail_step"));
    assert_eq!(e.message(), "fail_step got 2");

    let out = guarded(drain(chain.stream_events(1))).await;
    assert_eq!(
        names(&out.events),
        [
            "on_chain_start:RunnableSequence",
            "on_chain_start:step_one",
            "on_chain_stream:step_one",
            "on_chain_start:fail_step",
            "on_chain_end:step_one",
        ]
    );
    let e = out.error.expect("one Err item");
    assert_eq!((e.step(), e.message()), (Some("fail_step"), "fail_step got 2"));
    assert_eq!(out.items_after_error, 0);

    let items: Vec<runwright::Result<i64>> = guarded(chain.stream(1).collect()).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().map_err(Error::message), Err("fail_step got 2"));
}

fn fail_after_two<'a>(input: ChunkStream<'a, String>) -> ChunkStream<'a, String> {
    Box::pin(input.enumerate().map(|(i, chunk)| {
        if i == 2 {
            Err(Error::msg("generator failed after 2 chunks"))
        } else {
            chunk.map(|c| c.to_uppercase())
        }
    }))
}

#[tokio::test(start_paused = true)]
async fn a_generator_failing_mid_stream_ends_the_stream_after_its_chunks() {
    let source = letters("source", 5);
    let probe = source.probe.clone();
    let chain = source.pipe(Generator::new(fail_after_two));
    let out = guarded(drain(chain.stream_events("go".into()))).await;
    assert_eq!(
        names(&out.events),
        [
            "on_chain_start:RunnableSequence",
            "on_chain_start:source",
            "on_chain_stream:source",
            "on_chain_start:fail_after_two",
            "on_chain_stream:fail_after_two",
            "on_chain_stream:RunnableSequence",
            "on_chain_stream:source",
            "on_chain_stream:fail_after_two",
            "on_chain_stream:RunnableSequence",
            "on_chain_stream:source",
        ]
    );
    assert_eq!(chunks_of(&out.events, "RunnableSequence"), [json!("A"), json!("B")]);
    let e = out.error.expect("one Err item");
    assert_eq!(
        (e.step(), e.message()),
        (Some("fail_after_two"), "generator failed after 2 chunks")
    );
    assert_eq!(out.items_after_error, 0);
    assert_eq!(probe.produced(), 3, "nothing is pulled after the failure");
    assert!(probe.dropped());

    let streamed: Vec<runwright::Result<String>> = guarded(chain.stream("go".into()).collect()).await;
    let streamed: Vec<_> = streamed.iter().map(|r| r.as_ref().map_err(Error::message)).collect();
    assert_eq!(
        streamed,
        [
            Ok(&"A".to_string()),
            Ok(&"B".to_string()),
            Err("generator failed after 2 chunks")
        ]
    );
    // Invoked, the generator gets the whole input as one chunk: no failure.
    assert_eq!(guarded(chain.invoke("go".into())).await.expect("one chunk"), "ABCDE");
}

async fn never(x: i64) -> runwright::Result<i64> {
    futures::future::pending::<()>().await;
    Ok(x)
}

fn explode(_: i64) -> runwright::Result<i64> {
    Err(Error::msg("branch exploded"))
}

#[tokio::test(start_paused = true)]
async fn a_failing_parallel_branch_fails_the_map_without_waiting_for_the_others() {
    let map = Parallel::new()
        .branch("slow", Lambda::from_async(never))
        .branch("bad", Lambda::from_fn(explode));

    let e = guarded(map.invoke(1)).await.expect_err("the map fails");
    assert_eq!((e.step(), e.message()), (Some("explode"), "branch exploded"));

    let out = guarded(drain(map.stream_events(1))).await;
    let e = out.error.expect("one Err item");
    assert_eq!(e.step(), Some("explode"));
    assert_eq!(out.items_after_error, 0);
    assert_eq!(names(&out.events)[0], "on_chain_start:RunnableParallel<slow,bad>");
    assert!(names(&out.events).contains(&"on_chain_start:explode".to_string()));
    assert!(!out.events.iter().any(|e| e.event() == "on_chain_end"), "nothing ended");
}

fn primary(_: String) -> runwright::Result<String> {
    Err(Error::msg("primary is down"))
}

fn secondary(_: String) -> runwright::Result<String> {
    Err(Error::msg("secondary is down too"))
}

#[tokio::test(start_paused = true)]
async fn fallbacks_take_over_from_a_failing_runnable() {
    let chain = Lambda::from_fn(primary).with_fallbacks([Lambda::from_fn(reverse_word).boxed()]);
    assert_eq!(guarded(chain.invoke("abc".into())).await.expect("falls back"), "cba");

    let events = guarded(events_of(chain.stream_events("abc".into()))).await;
    assert_eq!(
        tree(&events),
        [
            "on_chain_start:RunnableWithFallbacks #0 parents=[] tags=[]",
            "on_chain_start:primary #1 parents=[0] tags=[]",
            "on_chain_start:reverse_word #2 parents=[0] tags=[]",
            "on_chain_stream:reverse_word #2 parents=[0] tags=[]",
            "on_chain_stream:RunnableWithFallbacks #0 parents=[] tags=[]",
            "on_chain_end:reverse_word #2 parents=[0] tags=[]",
            "on_chain_end:RunnableWithFallbacks #0 parents=[] tags=[]",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn when_every_fallback_fails_the_first_error_ends_the_stream() {
    let chain = Lambda::from_fn(primary).with_fallbacks([Lambda::from_fn(secondary).boxed()]);
    let e = guarded(chain.invoke("abc".into())).await.expect_err("all fail");
    assert_eq!((e.step(), e.message()), (Some("primary"), "primary is down"));

    let out = guarded(drain(chain.stream_events("abc".into()))).await;
    assert_eq!(
        names(&out.events),
        [
            "on_chain_start:RunnableWithFallbacks",
            "on_chain_start:primary",
            "on_chain_start:secondary",
        ]
    );
    let e = out.error.expect("one Err item");
    assert_eq!((e.step(), e.message()), (Some("primary"), "primary is down"));
    assert_eq!(out.items_after_error, 0);
}

#[tokio::test(start_paused = true)]
async fn nested_fallbacks_show_no_chunks_of_their_own_and_a_failed_attempt_never_ends() {
    let primary = FakeListChatModel::new(["primary"]).error_on_chunk(0);
    let chain = primary.with_fallbacks([FakeListChatModel::new(["ok"]).boxed()]) | StrOutputParser;
    let events = guarded(events_of(chain.stream_events("hi".into()))).await;
    assert_eq!(
        tree(&events),
        [
            "on_chain_start:RunnableSequence #0 parents=[] tags=[]",
            "on_chain_start:RunnableWithFallbacks #1 parents=[0] tags=[\"seq:step:1\"]",
            "on_chat_model_start:FakeListChatModel #2 parents=[0, 1] tags=[]",
            "on_chat_model_start:FakeListChatModel #3 parents=[0, 1] tags=[]",
            "on_chat_model_stream:FakeListChatModel #3 parents=[0, 1] tags=[]",
            "on_parser_start:StrOutputParser #4 parents=[0] tags=[\"seq:step:2\"]",
            "on_parser_stream:StrOutputParser #4 parents=[0] tags=[\"seq:step:2\"]",
            "on_chain_stream:RunnableSequence #0 parents=[] tags=[]",
            "on_chat_model_stream:FakeListChatModel #3 parents=[0, 1] tags=[]",
            "on_parser_stream:StrOutputParser #4 parents=[0] tags=[\"seq:step:2\"]",
            "on_chain_stream:RunnableSequence #0 parents=[] tags=[]",
            "on_chat_model_end:FakeListChatModel #3 parents=[0, 1] tags=[]",
            "on_chain_end:RunnableWithFallbacks #1 parents=[0] tags=[\"seq:step:1\"]",
            "on_parser_end:StrOutputParser #4 parents=[0] tags=[\"seq:step:2\"]",
            "on_chain_end:RunnableSequence #0 parents=[] tags=[]",
        ]
    );
    let start = one(&events, "RunnableWithFallbacks", EventPhase::Start);
    assert_eq!(data(start)["input"], json!("hi"), "starts with its input");
}

#[tokio::test(start_paused = true)]
async fn a_model_failing_only_when_streamed_answers_an_invoke_nobody_watches() {
    // LangChain's `error_on_chunk_number` applies to streams only: invoked
    // without a listener, the model answers whole and no fallback runs.
    let primary = FakeListChatModel::new(["primary"]).error_on_chunk(0);
    let chain = primary.with_fallbacks([FakeListChatModel::new(["backup"]).boxed()]) | StrOutputParser;
    assert_eq!(guarded(chain.invoke("hi".into())).await.unwrap(), "primary");
}

/// A step failing its first `failures` calls, then echoing its input.
fn flaky(failures: usize) -> (Lambda<String, String>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let step = Lambda::from_fn(move |s: String| {
        if seen.fetch_add(1, Ordering::SeqCst) < failures {
            Err(Error::msg("flaked"))
        } else {
            Ok(s)
        }
    })
    .named("flaky");
    (step, calls)
}

fn no_wait(attempts: u32) -> RetryPolicy {
    RetryPolicy::new(attempts)
        .backoff(Duration::ZERO, Duration::ZERO)
        .jitter(false)
}

#[tokio::test(start_paused = true)]
async fn retry_runs_again_until_success_each_attempt_a_tagged_child() {
    let (step, calls) = flaky(2);
    let retried = step.with_retry(no_wait(3));
    assert_eq!(
        guarded(retried.invoke("x".into())).await.expect("third time lucky"),
        "x"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    calls.store(0, Ordering::SeqCst);
    let events = guarded(events_of(retried.stream_events("x".into()))).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        tree(&events),
        [
            "on_chain_start:flaky #0 parents=[] tags=[]",
            "on_chain_start:flaky #1 parents=[0] tags=[]",
            "on_chain_start:flaky #2 parents=[0] tags=[\"retry:attempt:2\"]",
            "on_chain_start:flaky #3 parents=[0] tags=[\"retry:attempt:3\"]",
            "on_chain_stream:flaky #3 parents=[0] tags=[\"retry:attempt:3\"]",
            "on_chain_stream:flaky #0 parents=[] tags=[]",
            "on_chain_end:flaky #3 parents=[0] tags=[\"retry:attempt:3\"]",
            "on_chain_end:flaky #0 parents=[] tags=[]",
        ]
    );
}

/// A stream of `s` that fails after its first chunk on its first
/// `failures` runs.
fn flaky_midstream(failures: usize) -> (Generator<String, String>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let step = Generator::new(move |input: ChunkStream<'_, String>| -> ChunkStream<'_, String> {
        let fail = seen.fetch_add(1, Ordering::SeqCst) < failures;
        Box::pin(input.flat_map(move |chunk| {
            let after = if fail {
                Some(Err(Error::msg("broke mid-stream")))
            } else {
                None
            };
            futures::stream::iter(std::iter::once(chunk).chain(after))
        }))
    })
    .named("midstream");
    (step, calls)
}

#[tokio::test(start_paused = true)]
async fn retry_never_retries_a_stream_that_has_yielded() {
    // Retrying would hand the consumer the first chunks twice.
    let (step, calls) = flaky_midstream(1);
    let retried = step.with_retry(no_wait(3));
    let items: Vec<_> = guarded(retried.stream("x".into()).collect()).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().ok().map(String::as_str), Some("x"));
    assert_eq!(items[1].as_ref().err().map(Error::message), Some("broke mid-stream"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_gives_up_after_its_attempts_with_one_error() {
    let (step, calls) = flaky(usize::MAX);
    let retried = step.with_retry(no_wait(3));
    let e = guarded(retried.invoke("x".into())).await.expect_err("never succeeds");
    assert_eq!((e.step(), e.message()), (Some("flaky"), "flaked"));
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    let out = guarded(drain(retried.stream_events("x".into()))).await;
    assert_eq!(calls.load(Ordering::SeqCst), 6);
    assert_eq!(out.events.len(), 4, "the root's start and three attempts' starts");
    let e = out.error.expect("one Err item");
    assert_eq!((e.step(), e.message()), (Some("flaky"), "flaked"));
    assert_eq!(out.items_after_error, 0);

    let streamed = guarded(retried.stream("x".into()).try_collect::<Vec<String>>()).await;
    assert_eq!(streamed.map_err(|e| e.message().to_string()), Err("flaked".to_string()));
    assert_eq!(calls.load(Ordering::SeqCst), 9);
}
