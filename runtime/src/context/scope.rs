//! Entering a run context for the duration of one poll.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use pin_project_lite::pin_project;

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
#[inline(always)]
pub(crate) fn enter<R>(slot: &Option<Arc<RunContext>>, f: impl FnOnce() -> R) -> R {
    struct Restore(*const RunContext);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let ptr = slot.as_ref().map_or(std::ptr::null(), Arc::as_ptr);
    let _restore = Restore(CURRENT.with(|c| c.replace(ptr)));
    // The run's span is entered with its context (and left before it), so
    // what the body traces nests under the run.
    // Without a span the path is the one without the feature.
    #[cfg(feature = "tracing")]
    if let Some(span) = slot.as_ref().and_then(|c| c.span.as_ref()) {
        let _entered = span.enter();
        return f();
    }
    f()
}

pin_project! {
    /// A future or stream that runs inside a given run context: the context is
    /// entered on every poll and while the inner value is dropped.
    pub struct Scoped<T> {
        ctx: Option<Arc<RunContext>>,
        // Structurally pinned; dropped in place (`Pin::set`) by the drop below.
        #[pin]
        inner: Option<T>,
    }

    impl<T> PinnedDrop for Scoped<T> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.inner.is_some() {
                let ctx = this.ctx.take();
                let mut inner = this.inner;
                enter(&ctx, move || inner.set(None));
            }
        }
    }
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
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            Some(inner) => enter(this.ctx, || inner.poll(cx)),
            None => Poll::Pending,
        }
    }
}

impl<S: Stream> Stream for Scoped<S> {
    type Item = S::Item;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            Some(inner) => enter(this.ctx, || inner.poll_next(cx)),
            None => Poll::Ready(None),
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
