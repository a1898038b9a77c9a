//! Running a call's side effect through the interceptor installed above
//! the current run (see [`crate::intercept`]): recorded, or replayed
//! without running it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use serde::Serialize;
use serde_json::Value;

use super::{current, dispatch_custom_event, stream_writer, RunContext};
use crate::error::{Error, Result};
use crate::intercept::{Call, CallItem, CallKind, CallOutcome, CallRecording, Intercept, Interceptor, Secrets};

/// An installed interceptor: one thin pointer in each context beneath it.
pub(crate) struct Installed(pub(crate) Arc<dyn Interceptor>);

/// The interception of the current run's call of `kind`, if an interceptor
/// is installed above it: the run's context and the decision.
fn decide(kind: CallKind, secrets: Secrets, input: impl FnOnce() -> Value) -> Option<(Arc<RunContext>, Intercept)> {
    let ctx = current()?;
    let interceptor = ctx.interceptor()?.clone();
    // Built only now: with no interceptor, a call pays one test.
    let input = input();
    let decision = ask(&*interceptor, Some(&ctx), kind, secrets, &input, "");
    Some((ctx, decision))
}

/// What `interceptor` decides on a call of `kind` made by the run `ctx`,
/// or, outside any run, by one named `name` at the root.
fn ask(
    interceptor: &dyn Interceptor,
    ctx: Option<&RunContext>,
    kind: CallKind,
    secrets: Secrets,
    input: &Value,
    name: &str,
) -> Intercept {
    match ctx {
        Some(ctx) => interceptor.intercept(&Call {
            kind,
            path: &ctx.path(),
            input,
            run_id: ctx.run_id(),
            parent_ids: ctx.parent_ids(),
            secrets,
        }),
        None => interceptor.intercept(&Call {
            kind,
            path: &[name.to_owned()],
            input,
            // Unique, so that the interceptor tells concurrent calls apart.
            run_id: uuid::Uuid::now_v7(),
            parent_ids: &[],
            secrets,
        }),
    }
}

/// Gives back a replayed custom event or written item, from the current run.
fn replay_item(item: CallItem) {
    match item {
        CallItem::Custom { name, data } => {
            // Outside a run is impossible here: replays happen in a body.
            let _ = dispatch_custom_event(&name, data);
        }
        CallItem::Write(data) => stream_writer().write(data),
        CallItem::Chunk(_) | CallItem::Pause(_) => {}
    }
}

fn as_json<T: Serialize>(what: &str, value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| {
        Error::new(
            crate::error::ErrorKind::Step,
            format!("{what}: cannot record the output: {e}"),
        )
    })
}

/// Runs `body`, the side effect of the current run (a tool's function, a
/// retriever's query), through the interceptor installed above, if any:
/// recorded, or replayed without running it. `decode` makes an output again
/// from its JSON; `fold` makes one from replayed chunks, for a call that
/// was recorded streaming.
pub(crate) async fn call_through<R, T, Fut>(
    kind: CallKind,
    secrets: Secrets,
    request: R,
    input: impl FnOnce(&R) -> Value,
    body: impl FnOnce(R) -> Fut,
    decode: impl Fn(Value) -> Result<T>,
    fold: impl FnOnce(Vec<T>) -> Result<T>,
) -> Result<T>
where
    T: Serialize,
    Fut: Future<Output = Result<T>>,
{
    let Some((ctx, decision)) = decide(kind, secrets, || input(&request)) else {
        return body(request).await;
    };
    match decision {
        Intercept::Live => body(request).await,
        Intercept::Fail(e) => Err(e),
        Intercept::Replay { items, outcome } => {
            let mut chunks = Vec::new();
            for item in items {
                match item {
                    CallItem::Chunk(c) => chunks.push(decode(c)?),
                    CallItem::Pause(d) => tokio::time::sleep(d).await,
                    other => replay_item(other),
                }
            }
            match outcome {
                CallOutcome::Error(e) => Err(e),
                CallOutcome::Output(Value::Null) if !chunks.is_empty() => fold(chunks),
                CallOutcome::Output(v) => decode(v),
            }
        }
        Intercept::Record(recording) => {
            let out = body(request).await;
            let outcome = match &out {
                Ok(v) => CallOutcome::Output(as_json(ctx.name(), v)?),
                Err(e) => CallOutcome::Error(e.clone()),
            };
            recording.end(outcome)?;
            out
        }
    }
}

/// [`call_through`] for a body that streams (a chat model's provider
/// stream): recorded chunk by chunk, replayed as a stream. A call recorded
/// whole replays as one chunk.
pub(crate) fn stream_through<'a, R, T>(
    kind: CallKind,
    request: R,
    input: impl FnOnce(&R) -> Value,
    body: impl FnOnce(R) -> BoxStream<'a, Result<T>>,
    decode: fn(Value) -> Result<T>,
) -> BoxStream<'a, Result<T>>
where
    T: Serialize + Send + 'a,
{
    let Some((ctx, decision)) = decide(kind, Secrets::NONE, || input(&request)) else {
        return body(request);
    };
    through(decision, ctx.shared_name().clone(), move || body(request), decode)
}

/// Runs `body`, a stream the current run makes, through `interceptor`
/// rather than through the one installed above the run: for a component
/// that keeps its own calls, such as `runwright-recorder`'s `Recorder`, a
/// chat model that records its requests in a file of its own. The
/// interceptor sees the call as the current run's (its place, id and
/// parents), or, outside any run, as a call at the root named `name`; its
/// decision is carried out as for an installed interceptor: the body runs,
/// or runs and is kept, or the recorded items are given back (`decode`
/// makes a chunk again from its JSON), or the call fails.
///
/// ```
/// use futures::{StreamExt, TryStreamExt};
/// use runwright::context::intercept_stream;
/// use runwright::intercept::{Call, CallItem, CallKind, CallOutcome, Intercept, Interceptor};
/// use serde_json::{json, Value};
///
/// /// Answers every call with the same two chunks.
/// struct Canned;
///
/// impl Interceptor for Canned {
///     fn intercept(&self, _call: &Call<'_>) -> Intercept {
///         let items = vec![CallItem::Chunk(json!("a")), CallItem::Chunk(json!("b"))];
///         Intercept::Replay { items, outcome: CallOutcome::Output(Value::Null) }
///     }
/// }
///
/// # futures::executor::block_on(async {
/// let body = || futures::stream::iter([Ok(String::from("live"))]).boxed();
/// let decode = |v: Value| runwright::intercept::replay_json::<String>("canned", v);
/// let out: Vec<String> = intercept_stream(&Canned, CallKind::ChatModel, "canned", json!({}), body, decode)
///     .try_collect()
///     .await
///     .unwrap();
/// assert_eq!(out, ["a", "b"]);
/// # });
/// ```
pub fn intercept_stream<'a, T>(
    interceptor: &dyn Interceptor,
    kind: CallKind,
    name: &str,
    input: Value,
    body: impl FnOnce() -> BoxStream<'a, Result<T>>,
    decode: fn(Value) -> Result<T>,
) -> BoxStream<'a, Result<T>>
where
    T: Serialize + Send + 'a,
{
    let ctx = current();
    let decision = ask(interceptor, ctx.as_deref(), kind, Secrets::NONE, &input, name);
    let what = ctx.map_or_else(|| Arc::from(name), |c| c.shared_name().clone());
    through(decision, what, body, decode)
}

/// A stream as `decision` has it: the body's, kept as it passes, or the
/// replayed items (with their pauses), or the error.
fn through<'a, T>(
    decision: Intercept,
    what: Arc<str>,
    body: impl FnOnce() -> BoxStream<'a, Result<T>>,
    decode: fn(Value) -> Result<T>,
) -> BoxStream<'a, Result<T>>
where
    T: Serialize + Send + 'a,
{
    match decision {
        Intercept::Live => body(),
        Intercept::Fail(e) => Box::pin(futures::stream::iter([Err(e)])),
        Intercept::Replay { items, outcome } => {
            let tail = match outcome {
                CallOutcome::Error(e) => Some(Err(e)),
                CallOutcome::Output(Value::Null) => None,
                CallOutcome::Output(v) => Some(decode(v)),
            };
            let items = futures::stream::iter(items).filter_map(move |item| async move {
                match item {
                    CallItem::Chunk(c) => Some(decode(c)),
                    CallItem::Pause(d) => {
                        tokio::time::sleep(d).await;
                        None
                    }
                    other => {
                        replay_item(other);
                        None
                    }
                }
            });
            Box::pin(items.chain(futures::stream::iter(tail)))
        }
        Intercept::Record(recording) => Box::pin(Recorded {
            inner: body(),
            recording: Some(recording),
            what,
            done: false,
        }),
    }
}

/// A stream whose chunks and end go to a recording as they pass.
struct Recorded<'a, T> {
    inner: BoxStream<'a, Result<T>>,
    recording: Option<Box<dyn CallRecording>>,
    what: Arc<str>,
    /// The inner stream ended (or the recording failed): nothing more.
    done: bool,
}

impl<T: Serialize> Stream for Recorded<'_, T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let item = futures::ready!(this.inner.as_mut().poll_next(cx));
        if !matches!(item, Some(Ok(_))) {
            this.done = true;
        }
        match &item {
            Some(Ok(chunk)) => {
                if let Some(r) = this.recording.as_mut() {
                    match as_json(&this.what, chunk) {
                        Ok(json) => r.item(CallItem::Chunk(json)),
                        Err(e) => {
                            this.recording = None;
                            this.done = true;
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
            }
            Some(Err(e)) => {
                if let Some(r) = this.recording.take() {
                    if let Err(failed) = r.end(CallOutcome::Error(e.clone())) {
                        return Poll::Ready(Some(Err(failed)));
                    }
                }
            }
            None => {
                if let Some(r) = this.recording.take() {
                    if let Err(failed) = r.end(CallOutcome::Output(Value::Null)) {
                        return Poll::Ready(Some(Err(failed)));
                    }
                }
            }
        }
        Poll::Ready(item)
    }
}
