//! Sync code waiting for async work: [`block_on`] and [`BlockingStream`],
//! which `invoke_blocking` and `stream_blocking` are made of.
//!
//! A sync body (a `Lambda::from_fn`, a sync `#[tool]` or `#[chain_fn]`, or
//! any function they call) runs on the thread that polls its run, inside a
//! poll. To wait for another runnable there, three things must hold:
//!
//! - **Where the future is driven.** On a multi-thread tokio runtime, the
//!   thread hands its worker to another thread (`block_in_place`) and drives
//!   the future itself with the runtime's handle, so timers, I/O and tasks
//!   stay on the user's runtime. On a current-thread runtime that cannot
//!   be done: the one thread that drives the runtime is the one waiting. The
//!   future is then polled on this thread by a small loop that parks it
//!   between wake-ups, with a helper runtime entered (one worker thread,
//!   started on first use) whose worker drives the timers and I/O the
//!   future registers and runs the tasks it spawns. The same loop serves
//!   calls made outside any runtime, and calls nested in one of these loops
//!   (the thread is still the current-thread runtime's). Nothing here uses
//!   `futures::executor`, whose `block_on` refuses to nest.
//! - **The run context.** The future is wrapped in the caller's context
//!   ([`Scoped`]), so the runs it starts nest under the calling run.
//! - **Events.** The consumer of a `stream_events` drives the run inline:
//!   while a body waits here, the consumer is stuck in the same poll and can
//!   drain nothing. While a call waits, the sinks above it let producers queue
//!   without waiting for room ([`EventSink::open_bridge`]); the bound applies
//!   again when the call returns. A call also returns (with a `Cancelled`
//!   error, dropping its future) when a listener's stream is dropped
//!   meanwhile, which another task can do.

use std::cell::Cell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use futures::{Stream, StreamExt};
use pin_project_lite::pin_project;
use tokio::runtime::{Handle, Runtime, RuntimeFlavor};

use super::scope::{current, Scoped};
use crate::error::{Error, ErrorKind, Result};
use crate::events::sink::EventSink;

/// Runs a future to completion from sync code, inside the current run: the
/// runnables it runs nest under the run that calls this, and their events
/// reach the same listeners.
///
/// This is what [`RunnableExt::invoke_blocking`](crate::RunnableExt::invoke_blocking)
/// does with an `invoke`; use it for any other future a sync body needs to
/// wait for (a `batch`, an `invoke_with`, ...). It works in a sync body at
/// any depth, on a multi-thread or a current-thread tokio runtime, and
/// outside any runtime; see [the crate docs](crate#sync-code-that-calls-runnables)
/// for how it waits and for its limits. In async code, `.await` instead.
///
/// Fails, instead of panicking, when the helper runtime a current-thread
/// caller needs cannot be started; and with [`ErrorKind::Cancelled`] when
/// the stream listening to the calling run is dropped while the call waits.
///
/// ```
/// use runwright::{Lambda, RunConfig, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let double = Lambda::from_fn(|x: i32| Ok(x * 2));
/// let sum_doubles = Lambda::from_fn(move |xs: Vec<i32>| {
///     let outs = runwright::block_on(double.batch(xs, RunConfig::default()))?;
///     outs.into_iter().sum::<runwright::Result<i32>>()
/// });
/// assert_eq!(sum_doubles.invoke(vec![1, 2, 3]).await.unwrap(), 12);
/// # }
/// ```
pub fn block_on<F: Future>(future: F) -> Result<F::Output> {
    let ctx = current();
    let sink = ctx.as_ref().and_then(|c| c.sink().cloned());
    wait(sink.as_ref(), Scoped::new(ctx, future))
}

/// A stream read from sync code, one blocking `next` at a time, inside the
/// run that was current when it was made: what
/// [`RunnableExt::stream_blocking`](crate::RunnableExt::stream_blocking)
/// returns.
///
/// Each item is waited for as [`block_on`] waits; between two items the
/// stream is not polled, so nothing runs ahead of the reader. A failure of
/// the wait itself (see [`block_on`]) is yielded as an `Err` item, and the
/// iterator ends after it. Dropping it drops the stream inside its run,
/// which cancels the work beneath.
///
/// ```
/// use futures::TryStreamExt;
/// use runwright::{BlockingStream, Lambda, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let inner = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("upper");
/// // A sync body listening to the events of a run of its own.
/// let outer = Lambda::from_fn(move |s: String| {
///     let events = BlockingStream::new(inner.stream_events(s));
///     events.map(|e| e.map(|e| e.event().to_string())).collect::<runwright::Result<Vec<_>>>()
/// });
/// let names = outer.invoke("hi".into()).await.unwrap();
/// assert_eq!(names, ["on_chain_start", "on_chain_stream", "on_chain_end"]);
/// # }
/// ```
#[must_use = "iterators do nothing unless iterated"]
pub struct BlockingStream<S> {
    stream: Scoped<S>,
    /// The sink of the run it was made in, as [`block_on`] takes it.
    sink: Option<Arc<EventSink>>,
    done: bool,
}

impl<S> std::fmt::Debug for BlockingStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingStream")
            .field("stream", &self.stream)
            .field("done", &self.done)
            .finish()
    }
}

impl<S: Stream + Unpin> BlockingStream<S> {
    /// Reads `stream` from sync code, inside the current run.
    pub fn new(stream: S) -> Self {
        let ctx = current();
        let sink = ctx.as_ref().and_then(|c| c.sink().cloned());
        BlockingStream {
            stream: Scoped::new(ctx, stream),
            sink,
            done: false,
        }
    }
}

impl<S, T> Iterator for BlockingStream<S>
where
    S: Stream<Item = Result<T>> + Unpin,
{
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.done {
            return None;
        }
        match wait(self.sink.as_ref(), self.stream.next()) {
            Ok(item) => {
                self.done = item.is_none();
                item
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Waits for `future`, already in its run's context, whose runs emit into
/// `sink` (and the sinks enclosing it).
fn wait<F: Future>(sink: Option<&Arc<EventSink>>, future: F) -> Result<F::Output> {
    let bridge = sink.map(|s| Bridge::open(s.clone()));
    drive(Watched {
        future,
        bridge: bridge.as_ref(),
    })
}

/// A blocking call's hold on the sinks above it (see
/// [`EventSink::open_bridge`]), released when the call returns.
struct Bridge {
    sink: Arc<EventSink>,
    key: u64,
}

impl Bridge {
    fn open(sink: Arc<EventSink>) -> Self {
        static KEYS: AtomicU64 = AtomicU64::new(0);
        sink.open_bridge();
        Bridge {
            sink,
            key: KEYS.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.sink.close_bridge(self.key);
    }
}

pin_project! {
    /// The waited-for future, given up when the listener's stream is dropped.
    struct Watched<'b, F> {
        #[pin]
        future: F,
        bridge: Option<&'b Bridge>,
    }
}

impl<F: Future> Future for Watched<'_, F> {
    type Output = Result<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // Checked first too: a future that is always ready (a stream read
        // in a loop) would otherwise never see the close.
        if this.bridge.is_some_and(|b| b.sink.is_closed()) {
            return Poll::Ready(Err(cancelled()));
        }
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match this.bridge {
            Some(b) if b.sink.poll_closed(b.key, cx).is_ready() => Poll::Ready(Err(cancelled())),
            _ => Poll::Pending,
        }
    }
}

fn cancelled() -> Error {
    Error::new(
        ErrorKind::Cancelled,
        "the event stream listening to this run was dropped while a blocking call waited",
    )
}

thread_local! {
    /// How many [`park_on`] loops this thread is in. Nonzero means the
    /// thread is a current-thread runtime's (or none's) that waits: a call
    /// nested in it parks too, whatever runtime is entered by then.
    static PARKED: Cell<usize> = const { Cell::new(0) };
}

/// Drives `future` to completion on this thread, as the runtime allows.
fn drive<T, F: Future<Output = Result<T>>>(future: F) -> Result<T> {
    if PARKED.with(Cell::get) == 0 {
        if let Ok(handle) = Handle::try_current() {
            if handle.runtime_flavor() == RuntimeFlavor::MultiThread {
                return tokio::task::block_in_place(|| handle.block_on(future));
            }
        }
    }
    let _helper = helper()?.enter();
    park_on(future)
}

/// The runtime that drives timers and I/O, and runs spawned tasks, for
/// futures a current-thread caller waits for (its own runtime's one thread
/// is the waiting one). One worker; started on first use, never stopped.
fn helper() -> Result<&'static Handle> {
    static HELPER: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    let built = HELPER.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("runwright-blocking")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    match built {
        Ok(rt) => Ok(rt.handle()),
        Err(e) => Err(Error::new(
            ErrorKind::Task,
            format!("a blocking call could not start its helper runtime: {e}"),
        )),
    }
}

/// Wakes a [`park_on`] loop. The flag is the loop's own: a nested loop on
/// the same thread may take the thread's unpark token, never this flag.
struct Unpark {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.thread.unpark();
        }
    }
}

/// Polls `future` on this thread until it is ready, parking in between.
fn park_on<F: Future>(future: F) -> F::Output {
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            PARKED.with(|p| p.set(p.get() - 1));
        }
    }
    PARKED.with(|p| p.set(p.get() + 1));
    let _depth = Depth;

    let unpark = Arc::new(Unpark {
        thread: thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    // Tokio's cooperative budget is the budget of the task this thread was
    // polling when the sync body was called, and nothing resets it here:
    // spent, it would make every tokio resource refuse forever.
    let mut future = pin!(tokio::task::unconstrained(future));
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        while !unpark.woken.swap(false, Ordering::AcqRel) {
            thread::park();
        }
    }
}
