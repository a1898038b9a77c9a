//! [`EventStream`]: the stream `stream_events` returns.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use uuid::Uuid;

use super::run::{RunStream, Source};
use super::Runnable;
use crate::config::RunConfig;
use crate::context::{current, CallOpts};
use crate::error::{Error, Result};
use crate::events::sink::EventSink;
use crate::events::{EventFilter, EventPhase, StreamEvent};
use crate::value::Payload;

enum First {
    Pending,
    Sent(Uuid),
}

/// The events of one run tree, in the order they happened, as
/// `stream_events` yields them.
///
/// The run is driven by polling this stream: nothing runs in the background,
/// a slow consumer slows the run (at most a few hundred events wait), and
/// dropping the stream cancels all the work beneath it. A failing run yields
/// the events produced up to the failure, then one `Err`, then ends.
#[must_use = "streams do nothing unless polled"]
pub struct EventStream<'a> {
    sink: Arc<EventSink>,
    /// Events taken from the sink in one batch, yielded one by one.
    batch: VecDeque<Result<StreamEvent, Error>>,
    driver: Option<BoxFuture<'a, ()>>,
    root_input: Option<Payload>,
    first: First,
    finished: bool,
}

/// Shows whether the stream has ended; the rest is the run's machinery.
impl std::fmt::Debug for EventStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<'a> EventStream<'a> {
    pub(crate) fn new<R: Runnable + ?Sized>(
        runnable: &'a R,
        input: R::Input,
        config: Option<RunConfig>,
        filter: EventFilter,
    ) -> Self {
        let outer = current().and_then(|c| c.sink().cloned());
        let sink = Arc::new(EventSink::new(filter, outer));
        let opts = CallOpts {
            config: config.map(Box::new),
            sink: Some(sink.clone()),
            ..Default::default()
        };
        Self::with_sink(runnable, input, sink, opts)
    }

    /// Drives a root run whose events go to `sink` (which `opts` installs).
    pub(crate) fn with_sink<R: Runnable + ?Sized>(
        runnable: &'a R,
        input: R::Input,
        sink: Arc<EventSink>,
        opts: CallOpts,
    ) -> Self {
        let root_input = Some(Payload::new(input.clone()));
        let root = RunStream::new(runnable, Source::Value(input), opts);
        let driver = drive(root, sink.clone()).boxed();
        Self::driven(sink, root_input, driver)
    }

    /// [`with_sink`](Self::with_sink) for a runnable the stream owns.
    pub(crate) fn with_sink_owned<R: Runnable + 'a>(
        runnable: R,
        input: R::Input,
        sink: Arc<EventSink>,
        opts: CallOpts,
    ) -> Self {
        let root_input = Some(Payload::new(input.clone()));
        let errors = sink.clone();
        let driver = async move { drive(RunStream::new(&runnable, Source::Value(input), opts), errors).await }.boxed();
        Self::driven(sink, root_input, driver)
    }

    fn driven(sink: Arc<EventSink>, root_input: Option<Payload>, driver: BoxFuture<'a, ()>) -> Self {
        EventStream {
            sink,
            batch: VecDeque::new(),
            driver: Some(driver),
            root_input,
            first: First::Pending,
            finished: false,
        }
    }

    /// The most events that ever waited in this stream's queue at once: a
    /// diagnostic showing that a slow consumer keeps memory bounded.
    pub fn peak_buffered(&self) -> usize {
        self.sink.peak()
    }

    /// Applies the root-input rule: the first event (custom events aside)
    /// carries the call's input; the end of that same run then carries none.
    fn finish_item(&mut self, mut item: Result<StreamEvent, Error>) -> Result<StreamEvent, Error> {
        match &mut item {
            Ok(ev) if ev.phase != EventPhase::Custom => match self.first {
                First::Pending => {
                    ev.data.input = self.root_input.take();
                    self.first = First::Sent(ev.run_id());
                }
                First::Sent(id) => {
                    if ev.run_id() == id && ev.phase == EventPhase::End {
                        ev.data.input = None;
                    }
                }
            },
            Ok(_) => {}
            Err(_) => self.finished = true,
        }
        item
    }
}

impl Stream for EventStream<'_> {
    type Item = Result<StreamEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        loop {
            if let Some(item) = this.next_batched(None) {
                return Poll::Ready(Some(this.finish_item(item)));
            }
            if let Some(driver) = this.driver.as_mut() {
                this.sink.begin_drive(cx.waker());
                let done = driver.poll_unpin(cx).is_ready();
                this.sink.end_drive();
                if done {
                    this.driver = None;
                    continue;
                }
            }
            return match this.next_batched(Some(cx)) {
                Some(item) => Poll::Ready(Some(this.finish_item(item))),
                None if this.driver.is_none() => {
                    this.finished = true;
                    Poll::Ready(None)
                }
                None => Poll::Pending,
            };
        }
    }
}

impl EventStream<'_> {
    /// The next event of the current batch, taking a new batch from the
    /// sink when this one is used up (one lock per batch, not per event).
    fn next_batched(&mut self, cx: Option<&mut Context<'_>>) -> Option<Result<StreamEvent, Error>> {
        if self.batch.is_empty() {
            self.sink.take_batch(&mut self.batch, cx);
        }
        let item = self.batch.pop_front()?;
        self.sink.yielded();
        Some(item)
    }
}

impl Drop for EventStream<'_> {
    fn drop(&mut self) {
        self.sink.close();
        self.driver = None;
    }
}

/// Runs the root run to its end; its error goes to the sink, for the
/// stream to give after the events before it.
async fn drive<S: Stream<Item = Result<T>> + Unpin, T>(mut root: S, errors: Arc<EventSink>) {
    while let Some(item) = root.next().await {
        if let Err(e) = item {
            errors.push_error(e);
            break;
        }
    }
}
