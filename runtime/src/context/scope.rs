//! Entering a run context for the duration of one poll.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;

use super::RunContext;

thread_local! {
    static CURRENT: RefCell<Option<Arc<RunContext>>> = const { RefCell::new(None) };
}

/// The context of the run executing on this thread right now.
pub(crate) fn current() -> Option<Arc<RunContext>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Runs `f` with `slot` as the current context, then puts things back, also
/// when `f` panics. The value is swapped in and out, never cloned.
pub(crate) fn enter<R>(slot: &mut Option<Arc<RunContext>>, f: impl FnOnce() -> R) -> R {
    struct Restore<'a>(&'a mut Option<Arc<RunContext>>);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            CURRENT.with(|c| std::mem::swap(self.0, &mut *c.borrow_mut()));
        }
    }
    CURRENT.with(|c| std::mem::swap(slot, &mut *c.borrow_mut()));
    let _restore = Restore(slot);
    f()
}

/// A future or stream that runs inside a given run context: the context is
/// entered on every poll and while the inner value is dropped.
pub struct Scoped<T> {
    ctx: Option<Arc<RunContext>>,
    inner: Option<T>,
}

impl<T> Scoped<T> {
    pub(crate) fn new(ctx: Option<Arc<RunContext>>, inner: T) -> Self {
        Scoped {
            ctx,
            inner: Some(inner),
        }
    }

    fn project(self: Pin<&mut Self>) -> (&mut Option<Arc<RunContext>>, Option<Pin<&mut T>>) {
        // SAFETY: `inner` is structurally pinned: it is never moved while
        // `Scoped` is pinned. `Drop` drops it in place (by assigning `None`),
        // and nothing else takes it out. `ctx` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = this.inner.as_mut().map(|i| unsafe { Pin::new_unchecked(i) });
        (&mut this.ctx, inner)
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project() {
            (ctx, Some(inner)) => enter(ctx, || inner.poll(cx)),
            (_, None) => Poll::Pending,
        }
    }
}

impl<S: Stream> Stream for Scoped<S> {
    type Item = S::Item;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        match self.project() {
            (ctx, Some(inner)) => enter(ctx, || inner.poll_next(cx)),
            (_, None) => Poll::Ready(None),
        }
    }
}

impl<T> Drop for Scoped<T> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            let mut ctx = self.ctx.take();
            let inner = &mut self.inner;
            // Dropped in place: `inner` may be pinned.
            enter(&mut ctx, move || *inner = None);
        }
    }
}

/// Carries the current run context into a future or stream that will be
/// polled elsewhere (a spawned task, a stream handed to another component).
pub trait InCurrentRun: Sized {
    /// Wraps `self` so that it runs inside the run context current *now*.
    ///
    /// ```
    /// use runwright::InCurrentRun;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let handle = tokio::spawn(async { runwright::RunContext::current().is_some() }.in_current_run());
    /// assert!(!handle.await.unwrap()); // no run was current when it was wrapped
    /// # }
    /// ```
    fn in_current_run(self) -> Scoped<Self> {
        Scoped::new(current(), self)
    }
}

impl<T> InCurrentRun for T {}
