//! [`SideEffect`]: a step an interceptor (a recording) records and replays
//! like a tool, for code that reaches the outside world (an HTTP call, a
//! database query) in a plain lambda.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{impl_pipe_operator, ChunkStream, RunType, Runnable};
use crate::config::RunConfig;
use crate::context::intercept;
use crate::error::Result;
use crate::intercept::{replay_json, Call, CallKind, Intercept, Interceptor};
use crate::value::{Chunk, Map, Payload};

/// A step recorded and replayed as a side effect: see
/// [`RunnableExt::side_effect`](crate::RunnableExt::side_effect).
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct SideEffect<R> {
    inner: R,
}

impl<R: Clone> Clone for SideEffect<R> {
    fn clone(&self) -> Self {
        SideEffect {
            inner: self.inner.clone(),
        }
    }
}

impl<R> std::fmt::Debug for SideEffect<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SideEffect").finish_non_exhaustive()
    }
}

impl<R> SideEffect<R> {
    pub(crate) fn new(inner: R) -> Self {
        SideEffect { inner }
    }

    /// The wrapped step.
    pub fn inner(&self) -> &R {
        &self.inner
    }
}

impl<R> Runnable for SideEffect<R>
where
    R: Runnable,
    R::Output: DeserializeOwned,
{
    type Input = R::Input;
    type Output = R::Output;

    fn name(&self) -> Cow<'_, str> {
        self.inner.name()
    }

    fn run_type(&self) -> RunType {
        self.inner.run_type()
    }

    fn config(&self) -> Option<&RunConfig> {
        self.inner.config()
    }

    fn own_metadata(&self) -> Option<&Map> {
        self.inner.own_metadata()
    }

    fn input_payload(&self, input: &Self::Input) -> Payload {
        self.inner.input_payload(input)
    }

    fn output_payload(&self, output: &Self::Output) -> Payload {
        self.inner.output_payload(output)
    }

    fn tool_call_id(&self, input: &Self::Input) -> Option<String> {
        self.inner.tool_call_id(input)
    }

    fn streams_after_run(&self) -> bool {
        self.inner.streams_after_run()
    }

    fn emits_own_chunks(&self) -> bool {
        self.inner.emits_own_chunks()
    }

    fn split_after_run(&self, output: Self::Output) -> Vec<Self::Output> {
        self.inner.split_after_run(output)
    }

    fn invoke_body<'a>(&'a self, input: R::Input) -> BoxFuture<'a, Result<R::Output>> {
        Box::pin(intercept::call_through(
            CallKind::SideEffect,
            crate::intercept::Secrets::NONE,
            input,
            |i| self.inner.input_payload(i).to_json(),
            move |i| self.inner.invoke_body(i),
            // Named only on a replay: no allocation on the common path.
            move |v| replay_json(&self.inner.name(), v),
            |chunks| {
                let mut all = chunks.into_iter();
                let mut first = all
                    .next()
                    .ok_or_else(|| crate::error::Error::msg("a recorded call with no output"))?;
                for c in all {
                    first.concat(c);
                }
                Ok(first)
            },
        ))
    }

    fn stream_body<'a>(&'a self, input: R::Input) -> ChunkStream<'a, R::Output> {
        intercept::stream_through(
            CallKind::SideEffect,
            input,
            |i| self.inner.input_payload(i).to_json(),
            move |i| self.inner.stream_body(i),
            decode::<R::Output>,
        )
    }
}

fn decode<T: DeserializeOwned>(v: Value) -> Result<T> {
    replay_json("side effect", v)
}

impl_pipe_operator!([R] SideEffect<R>);

/// The interceptor of [`RunnableExt::never_intercepted`](crate::RunnableExt::never_intercepted):
/// every call runs.
pub(crate) struct AlwaysLive;

impl Interceptor for AlwaysLive {
    fn intercept(&self, _call: &Call<'_>) -> Intercept {
        Intercept::Live
    }
}

pub(crate) fn always_live() -> Arc<dyn Interceptor> {
    static LIVE: std::sync::OnceLock<Arc<dyn Interceptor>> = std::sync::OnceLock::new();
    LIVE.get_or_init(|| Arc::new(AlwaysLive)).clone()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use futures::TryStreamExt;
    use serde_json::json;

    use crate::config::RunConfig;
    use crate::intercept::{Call, CallItem, CallOutcome, Intercept, Interceptor};
    use crate::runnable::{Lambda, RunnableExt};

    /// Replays every call as two chunks, 300 ms apart.
    struct Paced;

    impl Interceptor for Paced {
        fn intercept(&self, _call: &Call<'_>) -> Intercept {
            let pause = CallItem::Pause(Duration::from_millis(300));
            Intercept::Replay {
                items: vec![
                    pause.clone(),
                    CallItem::Chunk(json!(1)),
                    pause,
                    CallItem::Chunk(json!(2)),
                ],
                outcome: CallOutcome::Output(serde_json::Value::Null),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn replays_wait_out_their_pauses_streamed_or_whole() {
        let step = Lambda::from_fn(|x: u32| Ok(x)).side_effect();
        let config = || RunConfig::new().intercept(Arc::new(Paced));

        let start = tokio::time::Instant::now();
        let chunks: Vec<u32> = step.stream_with(0, config()).try_collect().await.unwrap();
        assert_eq!(chunks, [1, 2]);
        assert_eq!(start.elapsed(), Duration::from_millis(600));

        let start = tokio::time::Instant::now();
        assert_eq!(step.invoke_with(0, config()).await.unwrap(), 3);
        assert_eq!(start.elapsed(), Duration::from_millis(600));
    }
}
