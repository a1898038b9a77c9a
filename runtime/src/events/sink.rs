//! The queue between the runs that produce events and the stream that yields
//! them. Bounded: a producer finding it full waits until the consumer drains
//! it (see [`EventSink::poll_capacity`]), so a slow consumer slows the run.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::{EventFilter, StreamEvent};
use crate::error::Error;

/// How many events may wait in a sink before producers are paused.
pub(crate) const HIGH_WATER: usize = 256;

#[derive(Default)]
struct State {
    queue: VecDeque<Result<StreamEvent, Error>>,
    consumer: Option<Waker>,
    /// The waker of the task polling the consumer while it drives the run
    /// inline: producers polled with it need no wake-up registration.
    driving: Option<Waker>,
    producers: Vec<Waker>,
    peak: usize,
}

pub(crate) struct EventSink {
    state: Mutex<State>,
    len: AtomicUsize,
    closed: AtomicBool,
    /// The consumer is waiting on the run it drives: producers hand over
    /// as soon as one event waits, so the first events come out at once.
    hungry: AtomicBool,
    filter: EventFilter,
    /// The sink of an enclosing `stream_events`, which sees these events too.
    outer: Option<Arc<EventSink>>,
}

impl EventSink {
    pub(crate) fn new(filter: EventFilter, outer: Option<Arc<EventSink>>) -> Self {
        EventSink {
            state: Mutex::new(State::default()),
            len: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            hungry: AtomicBool::new(false),
            filter,
            outer,
        }
    }

    /// Whether this sink or an enclosing one keeps events of such a run.
    pub(crate) fn accepts(&self, name: &str, run_type: &str, tags: &crate::events::EventTags) -> bool {
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
            let n = st.queue.len();
            st.peak = st.peak.max(n);
            self.len.store(n, Ordering::Relaxed);
            st.consumer.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Takes the next event, or registers the consumer to be woken by the
    /// next push.
    pub(crate) fn pop(&self, cx: Option<&mut Context<'_>>) -> Option<Result<StreamEvent, Error>> {
        let (item, wake) = {
            let mut st = self.state.lock();
            let item = st.queue.pop_front();
            let n = st.queue.len();
            self.len.store(n, Ordering::Relaxed);
            if item.is_none() {
                if let Some(cx) = cx {
                    st.consumer = Some(cx.waker().clone());
                }
            }
            let wake = if n <= HIGH_WATER / 2 && !st.producers.is_empty() {
                std::mem::take(&mut st.producers)
            } else {
                Vec::new()
            };
            (item, wake)
        };
        for w in wake {
            w.wake();
        }
        item
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
    }

    /// Ready when a producer may emit more; otherwise registers the producer
    /// to be woken when the consumer has drained the queue.
    ///
    /// The limit is [`HIGH_WATER`] events, or a single one while the
    /// consumer is waiting on the run it drives (first events come out at
    /// once; the next poll resumes the run where it stopped).
    pub(crate) fn poll_capacity(&self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(outer) = &self.outer {
            if outer.poll_capacity(cx).is_pending() {
                return Poll::Pending;
            }
        }
        let limit = if self.hungry.load(Ordering::Relaxed) {
            1
        } else {
            HIGH_WATER
        };
        if self.len.load(Ordering::Relaxed) < limit || self.closed.load(Ordering::Relaxed) {
            return Poll::Ready(());
        }
        let mut st = self.state.lock();
        if st.queue.len() < limit {
            return Poll::Ready(());
        }
        // Polled inline by the consumer: it polls the run again itself.
        if st.driving.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        if !st.producers.iter().any(|w| w.will_wake(cx.waker())) {
            st.producers.push(cx.waker().clone());
        }
        // The consumer may be parked waiting for events: make sure it runs.
        if let Some(w) = st.consumer.take() {
            w.wake();
        }
        Poll::Pending
    }

    /// The consumer is gone: drop what is queued, never block producers again.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        let producers = {
            let mut st = self.state.lock();
            st.queue.clear();
            self.len.store(0, Ordering::Relaxed);
            std::mem::take(&mut st.producers)
        };
        for w in producers {
            w.wake();
        }
    }

    /// The most events that were ever waiting at once.
    pub(crate) fn peak(&self) -> usize {
        self.state.lock().peak
    }
}
