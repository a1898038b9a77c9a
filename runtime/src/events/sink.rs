//! The queue between the runs that produce events and the stream that yields
//! them. Bounded: a producer finding it full waits until the consumer drains
//! it (see [`EventSink::poll_capacity`]), so a slow consumer slows the run.
//!
//! Except beneath a blocking call (`runwright::block_on` and the `*_blocking`
//! calls of a sync body): the consumer may be the very thread that waits
//! there, so while one is open ([`EventSink::open_bridge`]) producers never
//! wait for room, and the blocking call learns of a consumer that went away
//! ([`EventSink::poll_closed`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::{EventFilter, StreamEvent};
use crate::error::Error;

/// How many events may wait in a sink before producers are paused.
pub(crate) const HIGH_WATER: usize = 256;

/// The most events a run queues before handing over to a consumer that
/// drives it inline. A batch saves re-polling the run from its root for
/// every event (one Chain(10k) `stream_events` runs ~10% faster with 8 than
/// with 1), but each session holds its batch: 1,000 concurrent sessions of
/// Chain(100) that yield after every event (bench/README.md, workload 6)
/// take 13.8 MB / 0.127 s with 1, 17.6 MB / 0.145 s with 8 and
/// 53.5 MB / 0.206 s with 64.
const DRIVE_BATCH: usize = 8;

#[derive(Default)]
struct State {
    queue: VecDeque<Result<StreamEvent, Error>>,
    consumer: Option<Waker>,
    /// The waker of the task polling the consumer while it drives the run
    /// inline: producers polled with it need no wake-up registration.
    driving: Option<Waker>,
    producers: Vec<Waker>,
    /// Blocking calls waiting beneath this sink, to be woken when it closes:
    /// (their key, their waker).
    closers: Vec<(u64, Waker)>,
    peak: usize,
}

pub(crate) struct EventSink {
    state: Mutex<State>,
    /// Events queued so far. Written only under the state lock, so a plain
    /// store, not a read-modify-write: an event costs no extra atomic
    /// instruction. Waiting events (queued, or taken out in a batch but not
    /// yielded yet) are `pushed - yielded`.
    pushed: AtomicUsize,
    /// Events the consumer has yielded (or dropped on close). Written only
    /// by the consumer.
    yielded: AtomicUsize,
    /// Producers wait for room (their wakers are in the state).
    blocked: AtomicBool,
    closed: AtomicBool,
    /// Blocking calls now waiting beneath this sink: while there is one,
    /// producers never wait for room (see [`open_bridge`](Self::open_bridge)).
    bridges: AtomicUsize,
    /// The consumer is waiting on the run it drives: producers hand over
    /// once [`drive_limit`](Self::drive_limit) events wait.
    hungry: AtomicBool,
    /// How many events producers queue before handing over to a consumer
    /// that drives the run inline: 1 for the first drive, so the first
    /// events come out at once, then doubling with each drive up to
    /// [`DRIVE_BATCH`], so a fast run hands over in batches instead of
    /// being polled again from the root for every event.
    drive_limit: AtomicUsize,
    filter: EventFilter,
    /// The sink of an enclosing `stream_events`, which sees these events too.
    outer: Option<Arc<EventSink>>,
    /// Rounds of a parallel's branches in progress ([`round`](Self::round)):
    /// producers do not pause inside one.
    rounds: AtomicUsize,
}

/// A parallel's round in progress; ends when dropped.
pub(crate) struct Round<'a>(&'a EventSink);

impl Drop for Round<'_> {
    fn drop(&mut self) {
        self.0.rounds.fetch_sub(1, Ordering::Relaxed);
    }
}

impl EventSink {
    pub(crate) fn new(filter: EventFilter, outer: Option<Arc<EventSink>>) -> Self {
        EventSink {
            state: Mutex::new(State::default()),
            pushed: AtomicUsize::new(0),
            yielded: AtomicUsize::new(0),
            blocked: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            bridges: AtomicUsize::new(0),
            hungry: AtomicBool::new(false),
            drive_limit: AtomicUsize::new(1),
            filter,
            outer,
            rounds: AtomicUsize::new(0),
        }
    }

    /// Starts a round of a parallel's branches: until the guard is dropped,
    /// [`poll_capacity`](Self::poll_capacity) does not pause producers, so
    /// which branches have an item at the end of a round does not depend on
    /// when the consumer takes events (a round queues a few events per
    /// branch at most). The parallel checks for room before a round.
    pub(crate) fn round(&self) -> Round<'_> {
        self.rounds.fetch_add(1, Ordering::Relaxed);
        Round(self)
    }

    /// Whether this sink or an enclosing one keeps events of such a run.
    pub(crate) fn accepts(&self, name: &str, run_type: &str, tags: &super::EventTags) -> bool {
        (!self.closed.load(Ordering::Relaxed)
            && (self.filter.is_empty() || self.filter.includes_run(name, run_type, || Box::new(tags.iter()))))
            || self.outer.as_ref().is_some_and(|o| o.accepts(name, run_type, tags))
    }

    /// Queues an event for this sink and every enclosing one that wants it.
    pub(crate) fn push(&self, event: StreamEvent) {
        if let Some(outer) = &self.outer {
            outer.push(event.clone());
        }
        if self.closed.load(Ordering::Relaxed) || !self.filter.includes(&event) {
            return;
        }
        self.enqueue(Ok(event));
    }

    /// Queues an event for this sink only: not filtered, not forwarded to
    /// enclosing sinks (a graph's stream-mode items).
    pub(crate) fn push_local(&self, event: StreamEvent) {
        if !self.closed.load(Ordering::Relaxed) {
            self.enqueue(Ok(event));
        }
    }

    /// Queues the error that ends the stream (never filtered).
    pub(crate) fn push_error(&self, error: Error) {
        self.enqueue(Err(error));
    }

    fn enqueue(&self, item: Result<StreamEvent, Error>) {
        let waker = {
            let mut st = self.state.lock();
            st.queue.push_back(item);
            let pushed = self.pushed.load(Ordering::Relaxed) + 1;
            self.pushed.store(pushed, Ordering::Relaxed);
            let n = pushed.saturating_sub(self.yielded.load(Ordering::Relaxed));
            st.peak = st.peak.max(n);
            st.consumer.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Moves every queued event into `batch` (which the consumer has
    /// emptied) under one lock, or registers the consumer to be woken by the
    /// next push when there is none. The events still count as waiting until
    /// the consumer reports each one with [`yielded`](Self::yielded).
    ///
    /// Paused producers are woken here too, under the lock they register
    /// under: [`yielded`](Self::yielded) checks for them without the lock and
    /// may miss one that is registering at that moment, never this.
    pub(crate) fn take_batch(&self, batch: &mut VecDeque<Result<StreamEvent, Error>>, cx: Option<&mut Context<'_>>) {
        let producers = {
            let mut st = self.state.lock();
            if st.queue.is_empty() {
                if let Some(cx) = cx {
                    st.consumer = Some(cx.waker().clone());
                }
            } else {
                std::mem::swap(&mut st.queue, batch);
            }
            self.blocked.store(false, Ordering::Relaxed);
            std::mem::take(&mut st.producers)
        };
        for w in producers {
            w.wake();
        }
    }

    /// The consumer has yielded one event of its batch: wakes paused
    /// producers once the queue has drained to half (a cheap check without
    /// the lock; [`take_batch`](Self::take_batch) is the one that cannot
    /// miss them).
    pub(crate) fn yielded(&self) {
        let yielded = self.yielded.load(Ordering::Relaxed) + 1;
        self.yielded.store(yielded, Ordering::Relaxed);
        let n = self.pushed.load(Ordering::Relaxed).saturating_sub(yielded);
        if n <= HIGH_WATER / 2 && self.blocked.load(Ordering::Relaxed) {
            let producers = {
                let mut st = self.state.lock();
                self.blocked.store(false, Ordering::Relaxed);
                std::mem::take(&mut st.producers)
            };
            for w in producers {
                w.wake();
            }
        }
    }

    /// The consumer is about to drive the run inline, with this waker.
    pub(crate) fn begin_drive(&self, waker: &Waker) {
        let mut st = self.state.lock();
        if !st.driving.as_ref().is_some_and(|w| w.will_wake(waker)) {
            st.driving = Some(waker.clone());
        }
        drop(st);
        self.hungry.store(true, Ordering::Relaxed);
    }

    /// The inline drive returned.
    pub(crate) fn end_drive(&self) {
        self.hungry.store(false, Ordering::Relaxed);
        let limit = self.drive_limit.load(Ordering::Relaxed);
        if limit < DRIVE_BATCH {
            self.drive_limit.store(limit * 2, Ordering::Relaxed);
        }
    }

    /// Ready when a producer may emit more; otherwise registers the producer
    /// to be woken when the consumer has drained the queue.
    ///
    /// The limit is [`HIGH_WATER`] events, or the drive limit while the
    /// consumer is waiting on the run it drives (a single event at first, so
    /// first events come out at once; the next poll resumes the run where it
    /// stopped).
    pub(crate) fn poll_capacity(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.rounds.load(Ordering::Relaxed) > 0 {
            return Poll::Ready(());
        }
        if let Some(outer) = &self.outer {
            if outer.poll_capacity(cx).is_pending() {
                return Poll::Pending;
            }
        }
        let limit = if self.hungry.load(Ordering::Relaxed) {
            self.drive_limit.load(Ordering::Relaxed)
        } else {
            HIGH_WATER
        };
        // Checked only once the queue is full: the bridge count is not
        // read on the way of an event that finds room.
        if self.waiting() < limit || self.closed.load(Ordering::Relaxed) || self.bridges.load(Ordering::Acquire) > 0 {
            return Poll::Ready(());
        }
        let mut st = self.state.lock();
        // Again under the lock that `open_bridge` takes to wake producers.
        if self.waiting() < limit || self.bridges.load(Ordering::Acquire) > 0 {
            return Poll::Ready(());
        }
        // Polled inline by the consumer: it polls the run again itself.
        if st.driving.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        if !st.producers.iter().any(|w| w.will_wake(cx.waker())) {
            st.producers.push(cx.waker().clone());
        }
        self.blocked.store(true, Ordering::Relaxed);
        // The consumer may be parked waiting for events: make sure it runs.
        if let Some(w) = st.consumer.take() {
            w.wake();
        }
        Poll::Pending
    }

    /// The consumer is gone: drop what is queued, never block producers
    /// again, and tell the blocking calls waiting beneath.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let (producers, closers) = {
            let mut st = self.state.lock();
            st.queue.clear();
            self.yielded
                .store(self.pushed.load(Ordering::Relaxed), Ordering::Relaxed);
            self.blocked.store(false, Ordering::Relaxed);
            (std::mem::take(&mut st.producers), std::mem::take(&mut st.closers))
        };
        for w in producers {
            w.wake();
        }
        for (_, w) in closers {
            w.wake();
        }
    }

    /// A blocking call starts waiting beneath this sink. Until the matching
    /// [`close_bridge`](Self::close_bridge), producers here and in the
    /// enclosing sinks never wait for room: the consumer may be the thread
    /// that waits in the call, which cannot drain anything before the call
    /// returns. Paused producers are woken, in case the call waits on them.
    pub(crate) fn open_bridge(&self) {
        self.bridges.fetch_add(1, Ordering::AcqRel);
        let producers = {
            let mut st = self.state.lock();
            self.blocked.store(false, Ordering::Relaxed);
            std::mem::take(&mut st.producers)
        };
        for w in producers {
            w.wake();
        }
        if let Some(outer) = &self.outer {
            outer.open_bridge();
        }
    }

    /// The blocking call opened by [`open_bridge`](Self::open_bridge) has
    /// returned, and no longer waits to be told of a close (`key`).
    pub(crate) fn close_bridge(&self, key: u64) {
        self.bridges.fetch_sub(1, Ordering::AcqRel);
        {
            let mut st = self.state.lock();
            st.closers.retain(|(k, _)| *k != key);
        }
        if let Some(outer) = &self.outer {
            outer.close_bridge(key);
        }
    }

    /// Whether this sink or an enclosing one is closed (its consumer is gone).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.outer.as_ref().is_some_and(|o| o.is_closed())
    }

    /// Ready once this sink or an enclosing one is closed (its consumer is
    /// gone); otherwise registers the blocking call `key` to be woken then.
    pub(crate) fn poll_closed(&self, key: u64, cx: &mut Context<'_>) -> Poll<()> {
        if self.closed.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        {
            let mut st = self.state.lock();
            // Checked again under the lock `close` takes: no close is missed.
            if self.closed.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            match st.closers.iter_mut().find(|(k, _)| *k == key) {
                Some((_, w)) if w.will_wake(cx.waker()) => {}
                Some((_, w)) => w.clone_from(cx.waker()),
                None => st.closers.push((key, cx.waker().clone())),
            }
        }
        match &self.outer {
            Some(outer) => outer.poll_closed(key, cx),
            None => Poll::Pending,
        }
    }

    /// How many events wait: queued, or taken in a batch and not yet
    /// yielded. `yielded` is read first: it never passes `pushed`.
    fn waiting(&self) -> usize {
        let yielded = self.yielded.load(Ordering::Acquire);
        self.pushed.load(Ordering::Acquire).saturating_sub(yielded)
    }

    /// The most events that were ever waiting at once.
    pub(crate) fn peak(&self) -> usize {
        self.state.lock().peak
    }
}
