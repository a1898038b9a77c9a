//! Spawning tasks that stay inside the current run.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::JoinHandle;

use super::scope::{current, enter_run, InCurrentRun};
use crate::error::{Error, ErrorKind, Result};

/// A task started by [`spawn`] or [`spawn_blocking`].
///
/// Await it for the task's output. Dropping it aborts the task, so work
/// spawned inside a run ends when the stream that drives the run is dropped;
/// call [`detach`](RunTask::detach) to let the task outlive the handle.
#[must_use = "dropping a RunTask aborts the task; call .detach() to let it run"]
pub struct RunTask<T> {
    handle: Option<JoinHandle<T>>,
}

impl<T> std::fmt::Debug for RunTask<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunTask")
            .field("finished", &self.handle.as_ref().is_none_or(JoinHandle::is_finished))
            .finish()
    }
}

impl<T> RunTask<T> {
    /// Lets the task run on after this handle is gone.
    pub fn detach(mut self) {
        self.handle.take();
    }

    /// Aborts the task now.
    pub fn abort(&self) {
        if let Some(h) = &self.handle {
            h.abort();
        }
    }
}

impl<T> Future for RunTask<T> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let Some(handle) = self.handle.as_mut() else {
            return Poll::Ready(Err(Error::new(ErrorKind::Task, "task was detached")));
        };
        Pin::new(handle).poll(cx).map(|r| {
            r.map_err(|e| {
                let kind = if e.is_cancelled() {
                    ErrorKind::Cancelled
                } else {
                    ErrorKind::Task
                };
                Error::new(kind, format!("spawned task failed: {e}"))
            })
        })
    }
}

impl<T> Drop for RunTask<T> {
    fn drop(&mut self) {
        if let Some(h) = &self.handle {
            h.abort();
        }
    }
}

/// Spawns a future on the tokio runtime, inside the current run: runnables it
/// invokes nest under the run that spawned it, and their events reach the
/// same listeners.
///
/// Plain `tokio::spawn` does not do this (its task starts outside any run).
///
/// ```
/// use runwright::{Lambda, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let inner = Lambda::from_fn(|x: i32| Ok(x + 1));
/// let outer = Lambda::from_async(move |x: i32| {
///     let inner = inner.clone();
///     async move { runwright::spawn(async move { inner.invoke(x).await }).await? }
/// });
/// assert_eq!(outer.invoke(1).await.unwrap(), 2);
/// # }
/// ```
pub fn spawn<F>(future: F) -> RunTask<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    RunTask {
        handle: Some(tokio::spawn(future.in_current_run())),
    }
}

/// Runs blocking code on tokio's blocking pool, inside the current run.
pub fn spawn_blocking<F, T>(f: F) -> RunTask<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let ctx = current();
    RunTask {
        handle: Some(tokio::task::spawn_blocking(move || enter_run(&ctx, f))),
    }
}
