//! Entering a run context for the duration of one poll.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;

use super::RunContext;

thread_local! {
    /// The current run's context, borrowed: a pointer to the `Arc` payload
    /// that the innermost [`enter`] keeps alive. A plain pointer in a `Cell`
    /// makes entering and leaving a run two stores, with no reference
    /// counting and no thread-local destructor: it happens on every poll of
    /// every step.
    static CURRENT: Cell<*const RunContext> = const { Cell::new(std::ptr::null()) };
}

/// The context of the run executing on this thread right now.
pub(crate) fn current() -> Option<Arc<RunContext>> {
    let ptr = CURRENT.with(Cell::get);
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer was set by `enter` from `Arc::as_ptr` of an
    // `Arc` that `enter`'s caller keeps borrowed until `enter` puts the
    // previous pointer back (also on panic), so that `Arc` is alive here and
    // its strong count is at least 1. Entries nest: a pointer restored by an
    // inner `enter` belongs to an outer `enter` still on this thread's stack.
    unsafe {
        Arc::increment_strong_count(ptr);
        Some(Arc::from_raw(ptr))
    }
}

/// Runs `f` with `slot` as the current context, then puts the previous one
/// back, also when `f` panics. Nothing is cloned: `slot` stays borrowed, and
/// so alive, while it is current.
pub(crate) fn enter<R>(slot: &Option<Arc<RunContext>>, f: impl FnOnce() -> R) -> R {
    struct Restore(*const RunContext);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let ptr = slot.as_ref().map_or(std::ptr::null(), Arc::as_ptr);
    let _restore = Restore(CURRENT.with(|c| c.replace(ptr)));
    f()
}

/// A future or stream that runs inside a given run context: the context is
/// entered on every poll and while the inner value is dropped.
pub struct Scoped<T> {
    ctx: Option<Arc<RunContext>>,
    inner: Option<T>,
}

impl<T> std::fmt::Debug for Scoped<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoped")
            .field("run", &self.ctx.as_ref().map(|c| c.name()))
            .finish_non_exhaustive()
    }
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
            let ctx = self.ctx.take();
            let inner = &mut self.inner;
            // Dropped in place: `inner` may be pinned.
            enter(&ctx, move || *inner = None);
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
