//! Entering a run context for the duration of one poll.

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
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
///
/// The run's `tracing` span is not entered here: this is the per-poll path
/// of a run's body, which carries its span itself when it has one
/// ([`RunContext::in_span`]), so that with nobody tracing this is exactly
/// the code without the `tracing` feature. [`enter_run`] enters both.
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
    f()
}

/// [`enter`], with the run's span entered too (and left before the context
/// is), so that what `f` traces nests under the run: for making a run's
/// body, and for work carried into a run from elsewhere ([`Scoped`]).
#[inline(always)]
pub(crate) fn enter_run<R>(slot: &Option<Arc<RunContext>>, f: impl FnOnce() -> R) -> R {
    enter(slot, || {
        #[cfg(feature = "tracing")]
        let _span = super::trace::SpanGuard::enter(slot.as_deref());
        f()
    })
}

pin_project! {
    /// A future or stream that runs inside a given run context: the context
    /// (and the run's `tracing` span, with that feature) is entered on every
    /// poll and while the inner value is dropped.
    pub struct Scoped<T, M: SpanMode = WithSpan> {
        ctx: Option<Arc<RunContext>>,
        mode: PhantomData<M>,
        // Structurally pinned; dropped in place (`Pin::set`) by the drop below.
        #[pin]
        inner: Option<T>,
    }

    impl<T, M: SpanMode> PinnedDrop for Scoped<T, M> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.inner.is_some() {
                let ctx = this.ctx.take();
                let mut inner = this.inner;
                if M::SPAN {
                    enter_run(&ctx, move || inner.set(None));
                } else {
                    enter(&ctx, move || inner.set(None));
                }
            }
        }
    }
}

/// Whether a [`Scoped`] enters the run's span with its context.
pub trait SpanMode: mode::Sealed {
    #[doc(hidden)]
    const SPAN: bool;
}

mod mode {
    pub trait Sealed {}
}

/// [`Scoped`]'s default: the run's span is entered with its context.
#[derive(Debug)]
pub struct WithSpan;

/// The mode of a run's own body, which carries its span itself
/// ([`RunContext::in_span`]).
#[derive(Debug)]
pub(crate) struct OwnSpan;

impl mode::Sealed for WithSpan {}
impl mode::Sealed for OwnSpan {}
impl SpanMode for WithSpan {
    const SPAN: bool = true;
}
impl SpanMode for OwnSpan {
    const SPAN: bool = false;
}

/// A run's own body in its context.
pub(crate) type InRun<T> = Scoped<T, OwnSpan>;

impl<T, M: SpanMode> std::fmt::Debug for Scoped<T, M> {
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
            mode: PhantomData,
            inner: Some(inner),
        }
    }
}

impl<T> InRun<T> {
    /// A run's own body in its context: the span, if the run has one, is
    /// the body's own ([`RunContext::in_span`]).
    pub(crate) fn body(ctx: Option<Arc<RunContext>>, inner: T) -> Self {
        Scoped {
            ctx,
            mode: PhantomData,
            inner: Some(inner),
        }
    }
}

impl<F: Future, M: SpanMode> Future for Scoped<F, M> {
    type Output = F::Output;
    // Always inlined: entering the context is two stores and a test, the
    // inner poll carries the weight.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            Some(inner) if M::SPAN => enter_run(this.ctx, || inner.poll(cx)),
            Some(inner) => enter(this.ctx, || inner.poll(cx)),
            None => Poll::Pending,
        }
    }
}

impl<S: Stream, M: SpanMode> Stream for Scoped<S, M> {
    type Item = S::Item;
    #[inline(always)]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            Some(inner) if M::SPAN => enter_run(this.ctx, || inner.poll_next(cx)),
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
