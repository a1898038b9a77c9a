//! Splits one chunk stream into several that each see every chunk.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::Stream;
use parking_lot::Mutex;

use super::ChunkStream;
use crate::error::Result;

struct Shared<'a, T> {
    source: ChunkStream<'a, T>,
    queues: Vec<Option<VecDeque<Result<T>>>>,
    waiters: Vec<Option<Waker>>,
    done: bool,
}

/// One copy of a teed stream. Whichever copy needs a chunk first pulls it
/// from the source and leaves a clone for the others.
#[must_use = "streams do nothing unless polled"]
pub(crate) struct Tee<'a, T> {
    shared: Arc<Mutex<Shared<'a, T>>>,
    index: usize,
}

pub(crate) fn tee<'a, T: Clone + Send + 'a>(source: ChunkStream<'a, T>, n: usize) -> Vec<Tee<'a, T>> {
    let shared = Arc::new(Mutex::new(Shared {
        source,
        queues: (0..n).map(|_| Some(VecDeque::new())).collect(),
        waiters: (0..n).map(|_| None).collect(),
        done: false,
    }));
    (0..n)
        .map(|index| Tee {
            shared: shared.clone(),
            index,
        })
        .collect()
}

impl<T: Clone> Stream for Tee<'_, T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let mut guard = self.shared.lock();
        let sh = &mut *guard;
        if let Some(item) = sh.queues[self.index].as_mut().and_then(VecDeque::pop_front) {
            return Poll::Ready(Some(item));
        }
        if sh.done {
            return Poll::Ready(None);
        }
        match sh.source.as_mut().poll_next(cx) {
            Poll::Pending => {
                sh.waiters[self.index] = Some(cx.waker().clone());
                Poll::Pending
            }
            Poll::Ready(item) => {
                match &item {
                    Some(it) => {
                        for (i, q) in sh.queues.iter_mut().enumerate() {
                            if let (true, Some(q)) = (i != self.index, q.as_mut()) {
                                q.push_back(it.clone());
                            }
                        }
                    }
                    None => sh.done = true,
                }
                let waiters: Vec<Waker> = sh.waiters.iter_mut().filter_map(Option::take).collect();
                drop(guard);
                for w in waiters {
                    w.wake();
                }
                Poll::Ready(item)
            }
        }
    }
}

impl<T> Drop for Tee<'_, T> {
    fn drop(&mut self) {
        let mut sh = self.shared.lock();
        sh.queues[self.index] = None;
        sh.waiters[self.index] = None;
    }
}
