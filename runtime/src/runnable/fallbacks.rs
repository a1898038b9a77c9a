//! [`WithFallbacks`]: try other runnables when one fails.

use std::borrow::Cow;

use futures::future::BoxFuture;
use futures::StreamExt;

use super::run::{self, RunStream, Source};
use super::{impl_pipe_operator, BoxRunnable, ChunkStream, Runnable};
use crate::context::{CallOpts, RunContext};
use crate::error::{Error, Result};
use crate::events::{EventData, EventPhase};
use crate::value::{Data, Payload};

/// A runnable that, when it fails, tries its fallbacks in order (LangChain's
/// `RunnableWithFallbacks`). If all fail, the first error is returned.
/// When streaming, a runnable that fails before its first chunk hands over to
/// the next; one that fails after yielding chunks ends the stream with its
/// error (the chunks are already out).
///
/// Its events are LangChain's: a start with the input and an end with the
/// output of the runnable that answered, each attempt a child run (a failed
/// one starts and never ends), and no `on_chain_stream` of its own except as
/// the root of `stream_events` (the chunks show as the answering runnable's).
///
/// ```
/// use runwright::{Error, Lambda, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let flaky = Lambda::from_fn(|_: i32| -> runwright::Result<i32> { Err(Error::msg("down")) });
/// let backup = Lambda::from_fn(|x: i32| Ok(x)).boxed();
/// assert_eq!(flaky.with_fallbacks([backup]).invoke(7).await.unwrap(), 7);
/// # }
/// ```
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct WithFallbacks<I, O> {
    runnables: Vec<BoxRunnable<I, O>>,
}

impl<I: Data, O: Data> std::fmt::Debug for WithFallbacks<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithFallbacks")
            .field("runnables", &self.runnables)
            .finish()
    }
}

impl<I, O> Clone for WithFallbacks<I, O> {
    fn clone(&self) -> Self {
        WithFallbacks {
            runnables: self.runnables.clone(),
        }
    }
}

impl<I: Data, O: Data> WithFallbacks<I, O> {
    pub(crate) fn new(primary: BoxRunnable<I, O>, fallbacks: Vec<BoxRunnable<I, O>>) -> Self {
        let mut runnables = vec![primary];
        runnables.extend(fallbacks);
        WithFallbacks { runnables }
    }
}

impl<I: Data, O: Data> Runnable for WithFallbacks<I, O> {
    type Input = I;
    type Output = O;

    fn name(&self) -> Cow<'_, str> {
        "RunnableWithFallbacks".into()
    }

    /// LangChain's `RunnableWithFallbacks` streams without reporting its
    /// chunks; only an event stream's root run shows them (see `stream_body`).
    fn emits_own_chunks(&self) -> bool {
        true
    }

    fn invoke_body<'a>(&'a self, input: I) -> BoxFuture<'a, Result<O>> {
        Box::pin(async move {
            let mut first_error: Option<Error> = None;
            for r in &self.runnables {
                match run::invoke(r, input.clone(), CallOpts::default()).await {
                    Ok(out) => return Ok(out),
                    // An interrupt is no failure to fall back from.
                    Err(e) if e.kind() == crate::error::ErrorKind::Interrupted => return Err(e),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            Err(first_error.unwrap_or_else(|| Error::msg("no runnable to fall back on")))
        })
    }

    fn stream_body<'a>(&'a self, input: I) -> ChunkStream<'a, O> {
        let chosen = async move {
            let mut first_error: Option<Error> = None;
            for r in &self.runnables {
                let mut s = RunStream::new(r, Source::Value(input.clone()), CallOpts::default());
                match s.next().await {
                    Some(Err(e)) if e.kind() == crate::error::ErrorKind::Interrupted => {
                        return Box::pin(futures::stream::iter([Err(e)])) as ChunkStream<'a, O>;
                    }
                    Some(Err(e)) => {
                        first_error.get_or_insert(e);
                    }
                    Some(Ok(first)) => {
                        let rest = futures::stream::iter([Ok(first)]).chain(s);
                        return match RunContext::current().filter(|c| c.roots_its_stream()) {
                            Some(ctx) => Box::pin(rest.inspect(move |chunk| {
                                if let Ok(chunk) = chunk {
                                    ctx.emit(EventPhase::Stream, EventData::with_chunk(Payload::new(chunk.clone())));
                                }
                            })) as ChunkStream<'a, O>,
                            None => Box::pin(rest),
                        };
                    }
                    None => return Box::pin(futures::stream::empty()) as ChunkStream<'a, O>,
                }
            }
            let e = first_error.unwrap_or_else(|| Error::msg("no runnable to fall back on"));
            Box::pin(futures::stream::iter([Err(e)]))
        };
        Box::pin(futures::stream::once(chosen).flatten())
    }
}

impl_pipe_operator!([I, O] WithFallbacks<I, O>);
