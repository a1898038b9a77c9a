//! [`Retry`]: run again on failure, with backoff.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::StreamExt;

use super::backoff::{Attempt, Backoff};
use super::run::{self, RunStream, Source};
use super::{impl_pipe_operator, ChunkStream, Runnable};
use crate::context::CallOpts;
use crate::error::{Error, Result};
use crate::events::StepTag;

type RetryIf = Arc<dyn Fn(&Error) -> bool + Send + Sync>;

/// When and how often [`Retry`] tries again.
///
/// ```
/// use std::time::Duration;
/// let policy = runwright::RetryPolicy::new(5)
///     .backoff(Duration::from_millis(50), Duration::from_secs(2))
///     .retry_if(|e| e.kind() == runwright::ErrorKind::Timeout);
/// # let _ = policy;
/// ```
#[derive(Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    backoff: Backoff,
    retry_if: Option<RetryIf>,
}

/// Shows the settings, and whether a predicate is set (not the predicate).
impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let retry_if = if self.retry_if.is_some() { "Some(<fn>)" } else { "None" };
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("initial_delay", &self.backoff.initial)
            .field("max_delay", &self.backoff.max)
            .field("jitter", &self.backoff.jitter)
            .field("retry_if", &format_args!("{retry_if}"))
            .finish()
    }
}

impl RetryPolicy {
    /// At most `max_attempts` tries in all (at least one), 100 ms after the
    /// first failure, doubling up to 10 s, with jitter; every error retried.
    #[must_use]
    pub fn new(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(10),
                jitter: true,
            },
            retry_if: None,
        }
    }

    /// Sets the first delay and the cap of the exponential backoff (jitter
    /// included: no delay is longer than `max`).
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff.initial = initial;
        self.backoff.max = max;
        self
    }

    /// Turns jitter (a random part of each delay) on or off.
    #[must_use]
    pub fn jitter(mut self, on: bool) -> Self {
        self.backoff.jitter = on;
        self
    }

    /// Retries only the errors for which `f` is true.
    #[must_use]
    pub fn retry_if(mut self, f: impl Fn(&Error) -> bool + Send + Sync + 'static) -> Self {
        self.retry_if = Some(Arc::new(f));
        self
    }

    /// How a failed attempt ends: retried, or final.
    fn on_error<T>(&self, e: Error) -> Attempt<T, Error> {
        if e.kind() != crate::error::ErrorKind::Interrupted && self.retry_if.as_ref().is_none_or(|f| f(&e)) {
            Attempt::Retry(e, None)
        } else {
            Attempt::Fail(e)
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new(3)
    }
}

/// A runnable that runs again when it fails (LangChain's `RunnableRetry`).
/// Each attempt is a child run; attempts after the first are tagged
/// `retry:attempt:N`. A stream is retried only while it has yielded nothing:
/// unlike LangChain, which never retries a stream, a stream that fails
/// before its first chunk runs again (its consumer has seen nothing yet),
/// and one that fails later ends with its error (see ARCHITECTURE.md,
/// "Where runwright deliberately differs").
#[derive(Clone, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct Retry<R> {
    inner: R,
    policy: RetryPolicy,
}

impl<R: Runnable> Retry<R> {
    pub(crate) fn new(inner: R, policy: RetryPolicy) -> Self {
        Retry { inner, policy }
    }

    fn opts(attempt: u32) -> CallOpts {
        if attempt > 1 {
            CallOpts::step(StepTag::Retry(attempt))
        } else {
            CallOpts::default()
        }
    }
}

impl<R: Runnable> Runnable for Retry<R> {
    type Input = R::Input;
    type Output = R::Output;

    fn name(&self) -> Cow<'_, str> {
        self.inner.name()
    }

    fn invoke_body<'a>(&'a self, input: R::Input) -> BoxFuture<'a, Result<R::Output>> {
        Box::pin(async move {
            let input = &input;
            self.policy
                .backoff
                .run(self.policy.max_attempts, |attempt| async move {
                    match run::invoke(&self.inner, input.clone(), Self::opts(attempt)).await {
                        Ok(out) => Attempt::Done(out),
                        Err(e) => self.policy.on_error(e),
                    }
                })
                .await
        })
    }

    fn stream_body<'a>(&'a self, input: R::Input) -> ChunkStream<'a, R::Output> {
        let chosen = async move {
            let input = &input;
            let first = self
                .policy
                .backoff
                .run(self.policy.max_attempts, |attempt| async move {
                    // A failed attempt's stream is dropped here, before the
                    // backoff's sleep.
                    let mut s = RunStream::new(&self.inner, Source::Value(input.clone()), Self::opts(attempt));
                    match s.next().await {
                        Some(Err(e)) => self.policy.on_error(e),
                        Some(Ok(first)) => Attempt::Done(Some((first, s))),
                        None => Attempt::Done(None),
                    }
                })
                .await;
            match first {
                Err(e) => Box::pin(futures::stream::iter([Err(e)])) as ChunkStream<'a, R::Output>,
                Ok(Some((first, s))) => Box::pin(futures::stream::iter([Ok(first)]).chain(s)),
                Ok(None) => Box::pin(futures::stream::empty()),
            }
        };
        Box::pin(futures::stream::once(chosen).flatten())
    }
}

impl_pipe_operator!([R] Retry<R>);
