//! Sync code that calls runnables: a sync lambda, `#[tool]` or `#[chain_fn]`
//! body runs another step with `invoke_blocking` or `stream_blocking`, three
//! levels deep, under `stream_events` read by a consumer that sleeps after
//! every event, on a current-thread and on a multi-thread runtime. Every run
//! nests under the run that called it, every event comes out once and in
//! order (more of them than the event queue holds), and nothing hangs: each
//! test fails after a timeout instead.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use runwright::{
    chain_fn, tool, ErrorKind, EventPhase, EventStream, GenericFakeChatModel, Lambda, RunContext, RunnableExt,
    StrOutputParser, StreamEvent,
};
use serde_json::json;

use crate::common::*;

/// Words in the model's answer: it streams `2 * WORDS - 1` tokens (words
/// and the spaces between them), more events than the event queue's bound
/// of 256.
const WORDS: usize = 150;
const TOKENS: usize = 2 * WORDS - 1;

/// How long the consumer sleeps after each event.
const CONSUMER_PAUSE: Duration = Duration::from_millis(5);

fn answer() -> String {
    (0..WORDS).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------
// Bounds and the slow consumer

/// Runs `test` in a task of its own and fails if it takes longer than a
/// minute. A blocking call that deadlocks holds the thread a timer would fire
/// on (the only one of a current-thread runtime), so a watchdog thread
/// aborts the test binary, saying why, if even the timeout cannot fire.
async fn bounded<F>(test: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let (disarm, armed) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = armed.recv_timeout(Duration::from_secs(180)) {
            eprintln!("runtime_sync_calls: a test hung for 3 minutes (a deadlocked blocking call); aborting");
            std::process::abort();
        }
    });
    let outcome = tokio::time::timeout(Duration::from_secs(60), tokio::spawn(test)).await;
    let _ = disarm.send(());
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        Err(_) => panic!("the test did not finish within a minute: a blocking call hung"),
    }
}

/// Reads every event, sleeping after each.
async fn read_slowly(mut events: EventStream<'_>) -> Vec<StreamEvent> {
    let mut out = Vec::new();
    while let Some(event) = events.next().await {
        out.push(event.expect("the run succeeds"));
        tokio::time::sleep(CONSUMER_PAUSE).await;
    }
    out
}

/// Whether an event line (`names`) is the model's token, or that token
/// passing through the parser and the sequence.
fn is_token_event(line: &str) -> bool {
    matches!(
        line,
        "on_chat_model_stream:GenericFakeChatModel"
            | "on_parser_stream:StrOutputParser"
            | "on_chain_stream:RunnableSequence"
    )
}

/// The event names, with the model's tokens and the chunks that follow them
/// through a sequence counted instead of listed.
fn outline(events: &[StreamEvent]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut run = 0;
    for line in names(events) {
        if is_token_event(&line) {
            run += 1;
            continue;
        }
        if run > 0 {
            out.push(format!("{run} token events"));
            run = 0;
        }
        out.push(line);
    }
    if run > 0 {
        out.push(format!("{run} token events"));
    }
    out
}

/// The model's tokens in order, as its stream events carried them.
fn streamed_tokens(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter(|e| e.event() == "on_chat_model_stream")
        .map(|e| {
            e.data
                .chunk
                .as_ref()
                .expect("a token event carries its chunk")
                .to_json()["content"]
                .as_str()
                .expect("text content")
                .to_string()
        })
        .collect()
}

/// Each token event of the model is followed by the parser's and the
/// sequence's for the same chunk: the chunk travelled the whole pipeline
/// before the next token was produced.
fn assert_tokens_travel_the_pipeline(events: &[StreamEvent]) {
    let lines: Vec<String> = names(events).into_iter().filter(|l| is_token_event(l)).collect();
    assert_eq!(lines.len(), 3 * TOKENS);
    for (i, triple) in lines.chunks(3).enumerate() {
        assert_eq!(
            triple,
            [
                "on_chat_model_stream:GenericFakeChatModel",
                "on_parser_stream:StrOutputParser",
                "on_chain_stream:RunnableSequence",
            ],
            "token {i}"
        );
    }
}

// ---------------------------------------------------------------------------
// The steps

/// The bottom of the stream variant: an async step that sleeps (a timer
/// that must fire while a sync body waits), then the model and a parser.
fn model_pipeline() -> impl runwright::Runnable<Input = String, Output = String> {
    async fn pause(question: String) -> runwright::Result<String> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(question)
    }
    Lambda::from_async(pause) | GenericFakeChatModel::new([answer()]) | StrOutputParser
}

/// `inner`: reads the pipeline with `stream_blocking`, token by token.
fn streaming_inner() -> Lambda<String, String> {
    let pipeline = model_pipeline();
    Lambda::from_fn(move |question: String| {
        let mut text = String::new();
        for token in pipeline.stream_blocking(question) {
            text.push_str(&token?);
        }
        Ok(text)
    })
    .named("inner")
}

/// `middle`: reads `inner` with `stream_blocking` and shouts its text.
fn streaming_middle() -> Lambda<String, String> {
    let inner = streaming_inner();
    Lambda::from_fn(move |question: String| {
        let mut text = String::new();
        for chunk in inner.stream_blocking(question) {
            text.push_str(&chunk?);
        }
        Ok(text.to_uppercase())
    })
    .named("middle")
}

/// `outer`, `middle` and `inner`, each a sync lambda calling the next with
/// `invoke_blocking`; `inner` invokes the model (which streams its tokens
/// when someone listens).
fn invoking_outer() -> Lambda<String, usize> {
    let model = GenericFakeChatModel::new([answer()]);
    let inner =
        Lambda::from_fn(move |question: String| Ok(model.invoke_blocking(question.into())?.text().into_owned()))
            .named("inner");
    let middle =
        Lambda::from_fn(move |question: String| Ok(inner.invoke_blocking(question)?.to_uppercase())).named("middle");
    Lambda::from_fn(move |question: String| Ok(middle.invoke_blocking(question)?.split(' ').count())).named("outer")
}

/// `outer` reads `middle` with `stream_blocking` and counts its words.
fn streaming_outer() -> Lambda<String, usize> {
    let middle = streaming_middle();
    Lambda::from_fn(move |question: String| {
        let mut text = String::new();
        for chunk in middle.stream_blocking(question) {
            text.push_str(&chunk?);
        }
        Ok(text.split(' ').count())
    })
    .named("outer")
}

/// Counts the words of the model's answer, from sync code.
///
/// * `question` - what to ask the model
#[tool]
fn count_answer_words(question: String) -> runwright::Result<usize> {
    Ok(streaming_middle().invoke_blocking(question)?.split(' ').count())
}

/// The model's answer, shouted, from sync code.
#[chain_fn]
fn shout_answer(question: String) -> runwright::Result<String> {
    let mut text = String::new();
    for chunk in streaming_middle().stream_blocking(question) {
        text.push_str(&chunk?);
    }
    Ok(text)
}

// ---------------------------------------------------------------------------
// What each test checks

/// The start and end events and the token count of the stream variant
/// beneath a top run `top` of kind `kind` ("chain" or "tool"), which
/// streams `middle` (`middle` then has a stream event) or invokes it.
fn stream_variant_outline(kind: &str, top: &str, middle_streamed: bool) -> Vec<String> {
    let mut expected: Vec<String> = [
        format!("on_{kind}_start:{top}"),
        "on_chain_start:middle".into(),
        "on_chain_start:inner".into(),
        "on_chain_start:RunnableSequence".into(),
        "on_chain_start:pause".into(),
        "on_chain_stream:pause".into(),
        "on_chain_end:pause".into(),
        "on_chat_model_start:GenericFakeChatModel".into(),
        // The parser transforms its input: it starts with the first token.
        "1 token events".into(),
        "on_parser_start:StrOutputParser".into(),
        format!("{} token events", 3 * TOKENS - 1),
        "on_chat_model_end:GenericFakeChatModel".into(),
        "on_parser_end:StrOutputParser".into(),
        "on_chain_end:RunnableSequence".into(),
        "on_chain_stream:inner".into(),
        "on_chain_end:inner".into(),
    ]
    .into();
    if middle_streamed {
        expected.push("on_chain_stream:middle".into());
    }
    expected.push("on_chain_end:middle".into());
    if kind == "chain" {
        expected.push(format!("on_chain_stream:{top}"));
    }
    expected.push(format!("on_{kind}_end:{top}"));
    expected
}

fn stream_variant_lineage(top: &str) -> Vec<String> {
    let under = |names: &[&str]| format!("{names:?}");
    vec![
        format!("{top} [] under []"),
        format!("middle [] under {}", under(&[top])),
        format!("inner [] under {}", under(&[top, "middle"])),
        format!("RunnableSequence [] under {}", under(&[top, "middle", "inner"])),
        format!(
            "pause [\"seq:step:1\"] under {}",
            under(&[top, "middle", "inner", "RunnableSequence"])
        ),
        format!(
            "GenericFakeChatModel [\"seq:step:2\"] under {}",
            under(&[top, "middle", "inner", "RunnableSequence"])
        ),
        format!(
            "StrOutputParser [\"seq:step:3\"] under {}",
            under(&[top, "middle", "inner", "RunnableSequence"])
        ),
    ]
}

async fn three_sync_lambdas_invoke_each_other() {
    let outer = invoking_outer();
    let events = read_slowly(outer.stream_events("q".into())).await;

    assert_eq!(
        lineage(&events),
        [
            "outer [] under []",
            "middle [] under [\"outer\"]",
            "inner [] under [\"outer\", \"middle\"]",
            "GenericFakeChatModel [] under [\"outer\", \"middle\", \"inner\"]",
        ]
    );
    let mut expected = vec![
        "on_chain_start:outer".to_string(),
        "on_chain_start:middle".into(),
        "on_chain_start:inner".into(),
        "on_chat_model_start:GenericFakeChatModel".into(),
    ];
    expected.extend((0..TOKENS).map(|_| "on_chat_model_stream:GenericFakeChatModel".to_string()));
    expected.extend(
        [
            "on_chat_model_end:GenericFakeChatModel",
            "on_chain_end:inner",
            "on_chain_end:middle",
            "on_chain_stream:outer",
            "on_chain_end:outer",
        ]
        .map(String::from),
    );
    assert_eq!(names(&events), expected);
    assert_eq!(streamed_tokens(&events), answer(), "every token, once, in order");
    assert_eq!(
        data(one(&events, "middle", EventPhase::End))["output"],
        json!(answer().to_uppercase())
    );
    assert_eq!(data(one(&events, "outer", EventPhase::End))["output"], json!(WORDS));
}

async fn three_sync_lambdas_stream_each_other() {
    let outer = streaming_outer();
    let events = read_slowly(outer.stream_events("q".into())).await;

    assert_eq!(lineage(&events), stream_variant_lineage("outer"));
    assert_eq!(outline(&events), stream_variant_outline("chain", "outer", true));
    assert_tokens_travel_the_pipeline(&events);
    assert_eq!(streamed_tokens(&events), answer(), "every token, once, in order");
    assert_eq!(data(one(&events, "inner", EventPhase::End))["output"], json!(answer()));
    assert_eq!(data(one(&events, "outer", EventPhase::End))["output"], json!(WORDS));
}

async fn a_sync_tool_streams_two_sync_lambdas_deep() {
    let input: runwright::tools::ToolInput = json!({ "question": "q" }).into();
    let events = read_slowly(count_answer_words.stream_events(input)).await;

    assert_eq!(lineage(&events), stream_variant_lineage("count_answer_words"));
    assert_eq!(
        outline(&events),
        stream_variant_outline("tool", "count_answer_words", false)
    );
    assert_tokens_travel_the_pipeline(&events);
    assert_eq!(streamed_tokens(&events), answer(), "every token, once, in order");
    assert_eq!(
        data(one(&events, "count_answer_words", EventPhase::End))["output"],
        json!(WORDS)
    );
}

async fn a_sync_chain_fn_streams_two_sync_lambdas_deep() {
    let events = read_slowly(shout_answer.stream_events("q".into())).await;

    assert_eq!(lineage(&events), stream_variant_lineage("shout_answer"));
    assert_eq!(outline(&events), stream_variant_outline("chain", "shout_answer", true));
    assert_tokens_travel_the_pipeline(&events);
    assert_eq!(streamed_tokens(&events), answer(), "every token, once, in order");
    assert_eq!(
        data(one(&events, "shout_answer", EventPhase::End))["output"],
        json!(answer().to_uppercase())
    );
}

// ---------------------------------------------------------------------------
// The tests, on both runtime flavours

#[tokio::test(flavor = "current_thread")]
async fn sync_lambdas_invoke_three_deep_on_a_current_thread_runtime() {
    bounded(three_sync_lambdas_invoke_each_other()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_lambdas_invoke_three_deep_on_a_multi_thread_runtime() {
    bounded(three_sync_lambdas_invoke_each_other()).await;
}

#[tokio::test(flavor = "current_thread")]
async fn sync_lambdas_stream_three_deep_on_a_current_thread_runtime() {
    bounded(three_sync_lambdas_stream_each_other()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_lambdas_stream_three_deep_on_a_multi_thread_runtime() {
    bounded(three_sync_lambdas_stream_each_other()).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_sync_tool_calls_sync_lambdas_on_a_current_thread_runtime() {
    bounded(a_sync_tool_streams_two_sync_lambdas_deep()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_tool_calls_sync_lambdas_on_a_multi_thread_runtime() {
    bounded(a_sync_tool_streams_two_sync_lambdas_deep()).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_sync_chain_fn_calls_sync_lambdas_on_a_current_thread_runtime() {
    bounded(a_sync_chain_fn_streams_two_sync_lambdas_deep()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_chain_fn_calls_sync_lambdas_on_a_multi_thread_runtime() {
    bounded(a_sync_chain_fn_streams_two_sync_lambdas_deep()).await;
}

// ---------------------------------------------------------------------------
// Other places sync code runs

/// Outside any runtime, the blocking calls still run (on the helper
/// runtime), and the runs still nest.
#[test]
fn blocking_calls_work_outside_any_runtime() {
    assert_eq!(invoking_outer().invoke_blocking("q".into()).expect("runs"), WORDS);
    assert_eq!(streaming_outer().invoke_blocking("q".into()).expect("runs"), WORDS);
    let chunks: Vec<usize> = streaming_outer()
        .stream_blocking("q".into())
        .collect::<runwright::Result<_>>()
        .expect("streams");
    assert_eq!(chunks, [WORDS]);

    let events =
        runwright::block_on(async { read_slowly(streaming_outer().stream_events("q".into())).await }).expect("runs");
    assert_eq!(lineage(&events), stream_variant_lineage("outer"));
    assert_eq!(streamed_tokens(&events), answer());
}

/// A `Lambda::blocking` body (on tokio's blocking pool) calls sync steps
/// that call further ones.
async fn a_blocking_lambda_calls_sync_lambdas() {
    let middle = streaming_middle();
    let outer = Lambda::blocking(move |question: String| Ok(middle.invoke_blocking(question)?.len())).named("outer");
    let events = read_slowly(outer.stream_events("q".into())).await;
    assert_eq!(lineage(&events), stream_variant_lineage("outer"));
    assert_eq!(outline(&events), stream_variant_outline("chain", "outer", false));
    assert_eq!(
        data(one(&events, "outer", EventPhase::End))["output"],
        json!(answer().len())
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocking_lambda_calls_sync_lambdas_on_a_current_thread_runtime() {
    bounded(a_blocking_lambda_calls_sync_lambdas()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_lambda_calls_sync_lambdas_on_a_multi_thread_runtime() {
    bounded(a_blocking_lambda_calls_sync_lambdas()).await;
}

/// A task spawned with `runwright::spawn` beneath a blocking call runs
/// (on a current-thread runtime, the one thread is waiting) and nests.
#[tokio::test(flavor = "current_thread")]
async fn a_task_spawned_beneath_a_blocking_call_runs_and_nests() {
    bounded(async {
        let leaf = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("leaf");
        let spawner = Lambda::from_async(move |s: String| {
            let leaf = leaf.clone();
            async move { runwright::spawn(async move { leaf.invoke(s).await }).await? }
        })
        .named("spawner");
        let outer = Lambda::from_fn(move |s: String| spawner.invoke_blocking(s)).named("outer");
        let events = read_slowly(outer.stream_events("abc".into())).await;
        assert_eq!(
            lineage(&events),
            [
                "outer [] under []",
                "spawner [] under [\"outer\"]",
                "leaf [] under [\"outer\", \"spawner\"]",
            ]
        );
        assert_eq!(data(one(&events, "outer", EventPhase::End))["output"], json!("ABC"));
    })
    .await;
}

/// When the consumer drops the event stream while a sync body (in a task of
/// its own) waits on a stream, the wait ends with `Cancelled` and the
/// stream beneath is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_event_stream_cancels_a_waiting_blocking_call() {
    bounded(async {
        let source = endless("source");
        let probe = source.probe.clone();
        let outcome: Arc<Mutex<Option<ErrorKind>>> = Arc::default();
        let seen = outcome.clone();
        let reader = Lambda::from_fn(move |go: String| {
            for chunk in source.stream_blocking(go) {
                if let Err(e) = chunk {
                    *seen.lock().expect("lock") = Some(e.kind());
                    return Err(e);
                }
            }
            Ok(())
        })
        .named("reader");
        let pump = Lambda::from_async(move |go: String| {
            let reader = reader.clone();
            async move { runwright::spawn(async move { reader.invoke(go).await }).await? }
        });
        let mut events = pump.stream_events("go".into());
        let mut source_chunks = 0;
        while source_chunks < 10 {
            let event = events.next().await.expect("an event").expect("no error");
            if event.name() == "source" && event.phase == EventPhase::Stream {
                source_chunks += 1;
            }
            tokio::time::sleep(CONSUMER_PAUSE).await;
        }
        drop(events);
        while outcome.lock().expect("lock").is_none() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(*outcome.lock().expect("lock"), Some(ErrorKind::Cancelled));
        while !probe.dropped() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
}

/// A blocking call sees the run that called it as its parent, also when
/// no one listens.
#[tokio::test(flavor = "current_thread")]
async fn a_blocking_call_nests_without_a_listener() {
    bounded(async {
        let depth = Lambda::from_fn(|_: String| {
            let ctx = RunContext::current().expect("inside a run");
            Ok(ctx.parent_ids().len())
        });
        let outer = Lambda::from_fn(move |s: String| depth.invoke_blocking(s));
        assert_eq!(outer.invoke("x".into()).await.expect("runs"), 1);
    })
    .await;
}

/// An error three sync bodies deep comes back through every blocking call
/// as it was, naming the step that failed; the event stream yields the
/// events so far, then the error, then ends.
async fn an_error_three_deep_comes_back() {
    let failing = Lambda::from_fn(|_: String| -> runwright::Result<String> { Err(runwright::Error::msg("no answer")) })
        .named("failing");
    let middle = Lambda::from_fn(move |s: String| failing.invoke_blocking(s)).named("middle");
    let outer = Lambda::from_fn(move |s: String| {
        let mut out = String::new();
        for chunk in middle.stream_blocking(s) {
            out.push_str(&chunk?);
        }
        Ok(out)
    })
    .named("outer");
    let outcome = drain(outer.stream_events("q".into())).await;
    let error = outcome.error.expect("the run fails");
    assert_eq!(error.kind(), ErrorKind::Step);
    assert_eq!(error.message(), "no answer");
    assert_eq!(error.step(), Some("failing"));
    assert_eq!(
        names(&outcome.events),
        [
            "on_chain_start:outer",
            "on_chain_start:middle",
            "on_chain_start:failing"
        ]
    );
    assert_eq!(outcome.items_after_error, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn an_error_three_deep_comes_back_on_a_current_thread_runtime() {
    bounded(an_error_three_deep_comes_back()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_three_deep_comes_back_on_a_multi_thread_runtime() {
    bounded(an_error_three_deep_comes_back()).await;
}
