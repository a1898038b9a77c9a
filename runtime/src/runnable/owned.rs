//! The owned streams (`stream_owned`, `stream_events_owned`,
//! `stream_log_owned`): the borrowed ones, moved into a generator together
//! with the `Arc` of the runnable they borrow, so that the result is
//! `'static` and can leave the scope that made it (a web handler's return
//! value, a spawned task).
//!
//! Two things keep them the same as the borrowed streams. The run context
//! current at the call is captured then (`in_current_run`), and the inner
//! stream is made and polled inside it, so the run nests where a borrowed
//! stream made at that point would. And the inner stream lives in the
//! generator: dropping the owned stream drops it, which cancels the work
//! beneath, as dropping a borrowed stream does.

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};

use super::Runnable;
use super::{EventStream, LogOptions, LogStream, RunLogPatch, RunnableExt};
use crate::config::RunConfig;
use crate::context::InCurrentRun;
use crate::error::Result;
use crate::events::{EventFilter, StreamEvent};

/// A `'static` stream of results, boxed so that it is `Unpin` (`.next()`
/// works on it directly).
pub(crate) type Owned<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

/// Forwards `inner` from inside a generator that owns what it borrows.
macro_rules! forward {
    ($inner:expr) => {
        Box::pin(
            async_stream::stream! {
                let mut inner = $inner;
                while let Some(item) = inner.next().await {
                    yield item;
                }
            }
            .in_current_run(),
        )
    };
}

pub(crate) fn stream<R: Runnable + ?Sized + 'static>(runnable: Arc<R>, input: R::Input) -> Owned<R::Output> {
    forward!(runnable.stream(input))
}

pub(crate) fn events<R: Runnable + ?Sized + 'static>(
    runnable: Arc<R>,
    input: R::Input,
    config: Option<RunConfig>,
    filter: EventFilter,
) -> Owned<StreamEvent> {
    forward!(EventStream::new(&*runnable, input, config, filter))
}

pub(crate) fn log<R: Runnable + ?Sized + 'static>(
    runnable: Arc<R>,
    input: R::Input,
    options: LogOptions,
) -> Owned<RunLogPatch> {
    forward!(LogStream::new(&*runnable, input, options))
}
