//! The one place every run goes through: make the child context, emit the
//! start event, run the body inside the context, forward chunks as events,
//! emit the end (or a tool's error) event with the aggregated output.
//!
//! When nobody listens, none of the payloads is built: no clone of an input,
//! an output or a chunk, no fold of the chunks, no name.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use parking_lot::Mutex;

use super::{ChunkStream, RunType, Runnable};
use crate::context::{current, enter, enter_run, CallOpts, InRun, RunContext};
use crate::error::{Error, Result};
use crate::events::{EventData, EventPhase};
use crate::value::{Chunk, Payload};

fn name_of<R: Runnable + ?Sized>(r: &R) -> Arc<str> {
    Arc::from(&*r.name())
}

fn start_ctx<R: Runnable + ?Sized>(r: &R, parent: Option<&Arc<RunContext>>, mut opts: CallOpts) -> Arc<RunContext> {
    opts.propagate = r.configurable_in_metadata();
    RunContext::child(parent, r.run_type(), || name_of(r), r.config(), r.own_metadata(), opts)
}

fn fail<R: Runnable + ?Sized>(
    r: &R,
    ctx: &RunContext,
    e: Error,
    input: Option<Payload>,
    tool_call_id: Option<String>,
) -> Error {
    let e = e.in_step(|| {
        if ctx.name().is_empty() {
            name_of(r)
        } else {
            ctx.shared_name().clone()
        }
    });
    ctx.trace_error(&e);
    if ctx.run_type() == RunType::Tool {
        ctx.emit(
            EventPhase::Error,
            EventData {
                error: Some(e.clone()),
                input,
                tool_call_id,
                ..Default::default()
            },
        );
    }
    e
}

/// The id of the model's tool call a tool run answers, for its error event
/// and its span. Asked only of tool runs, and only when someone listens or
/// traces.
fn tool_call_id_of<R: Runnable + ?Sized>(r: &R, ctx: &RunContext, input: &R::Input) -> Option<String> {
    if ctx.run_type() == RunType::Tool && (ctx.is_listening() || ctx.is_traced()) {
        let id = r.tool_call_id(input);
        ctx.trace_tool_call(id.as_deref());
        id
    } else {
        None
    }
}

/// Invokes `r` on `input` as a run of its own beneath the current run.
pub(crate) async fn invoke<R: Runnable + ?Sized>(r: &R, input: R::Input, opts: CallOpts) -> Result<R::Output> {
    start(r, input, opts).finish().await
}

/// Starts `r` on `input` beneath the current run *now*: makes its context
/// and emits its start event; [`Started::finish`] runs the body. A parallel
/// starts all its branches this way before running any, as LangChain's
/// `asyncio.gather` does.
pub(crate) fn start<R: Runnable + ?Sized>(r: &R, input: R::Input, opts: CallOpts) -> Started<'_, R> {
    let ctx = start_ctx(r, current().as_ref(), opts);
    let input_payload = if ctx.is_listening() {
        let p = r.input_payload(&input);
        ctx.emit(EventPhase::Start, EventData::with_input(Some(p.clone())));
        Some(p)
    } else {
        None
    };
    let tool_call_id = tool_call_id_of(r, &ctx, &input);
    Started {
        r,
        ctx,
        input,
        input_payload,
        tool_call_id,
    }
}

/// A run whose start event is out; [`finish`](Started::finish) runs its body
/// and ends it.
pub(crate) struct Started<'r, R: Runnable + ?Sized> {
    r: &'r R,
    ctx: Arc<RunContext>,
    input: R::Input,
    input_payload: Option<Payload>,
    tool_call_id: Option<String>,
}

impl<'r, R: Runnable + ?Sized> Started<'r, R> {
    /// Runs the body inside the run's context, then emits the end (or a
    /// tool's error) event.
    pub(crate) async fn finish(self) -> Result<R::Output> {
        let Started {
            r,
            ctx,
            input,
            input_payload,
            tool_call_id,
        } = self;
        let slot = Some(ctx.clone());
        let body = ctx.in_span(enter_run(&slot, || r.invoke_body(input)));
        match InRun::body(slot, body).await {
            Ok(out) => {
                if ctx.is_listening() {
                    ctx.emit(
                        EventPhase::End,
                        EventData {
                            input: input_payload,
                            output: Some(r.output_payload(&out)),
                            ..Default::default()
                        },
                    );
                }
                Ok(out)
            }
            Err(e) => Err(fail(r, &ctx, e, input_payload, tool_call_id)),
        }
    }
}

/// What a run is started on: a whole input, or a stream of input chunks.
pub enum Source<'a, I> {
    /// A whole input: the run streams its output for it.
    Value(I),
    /// A streamed input: the run transforms it.
    Stream(ChunkStream<'a, I>),
}

/// Shows a whole input; a stream has nothing to show before it is polled.
impl<I: std::fmt::Debug> std::fmt::Debug for Source<'_, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Value(input) => f.debug_tuple("Value").field(input).finish(),
            Source::Stream(_) => f.debug_tuple("Stream").finish_non_exhaustive(),
        }
    }
}

enum State<'a, I, O> {
    /// Not started; holds the input.
    Idle(Option<Source<'a, I>>),
    /// Collecting a streamed input for a step that cannot transform.
    Collecting {
        input: ChunkStream<'a, I>,
        acc: Option<I>,
    },
    /// Running the body.
    Running(ChunkStream<'a, O>),
    /// The run has ended; yielding its output in pieces, outside the run.
    Replay(std::vec::IntoIter<O>),
    /// The input stream failed before the run started: the error to hand on.
    Failed(Option<Error>),
    Done,
}

enum InputRecord<I> {
    None,
    Known(Payload),
    Tapped(Arc<Mutex<Option<I>>>),
}

/// The output stream of one run: what `stream` and `transform` return.
///
/// The run starts lazily, on the first poll (for a streamed input, once its
/// first chunk is there). Each chunk is forwarded as it comes; the end event
/// follows the last chunk. Dropping the stream drops the body inside the
/// run's context, which cancels whatever it was doing.
#[must_use = "streams do nothing unless polled"]
pub struct RunStream<'a, R: Runnable + ?Sized> {
    runnable: &'a R,
    parent: Option<Arc<RunContext>>,
    opts: Option<CallOpts>,
    state: State<'a, R::Input, R::Output>,
    ctx: Option<Arc<RunContext>>,
    acc: Option<R::Output>,
    input: InputRecord<R::Input>,
    tool_call_id: Option<String>,
}

// Nothing in a RunStream is ever pinned in place: the body and the input are
// boxed streams, everything else is moved freely.
impl<R: Runnable + ?Sized> Unpin for RunStream<'_, R> {}

/// Shows the runnable's name; the rest is the run's machinery.
impl<R: Runnable + ?Sized> std::fmt::Debug for RunStream<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunStream")
            .field("runnable", &self.runnable.name())
            .finish_non_exhaustive()
    }
}

impl<'a, R: Runnable + ?Sized> RunStream<'a, R> {
    /// The parent is the run current *now*, when the stream is made, not
    /// when it is first polled (by then another step may be current).
    pub(crate) fn new(runnable: &'a R, source: Source<'a, R::Input>, opts: CallOpts) -> Self {
        RunStream {
            runnable,
            parent: current(),
            opts: Some(opts),
            state: State::Idle(Some(source)),
            ctx: None,
            acc: None,
            input: InputRecord::None,
            tool_call_id: None,
        }
    }

    fn start(&mut self, input: Option<&R::Input>) -> Arc<RunContext> {
        let opts = self.opts.take().unwrap_or_default();
        let ctx = start_ctx(self.runnable, self.parent.as_ref(), opts);
        if ctx.is_listening() {
            let p = input.map(|i| self.runnable.input_payload(i));
            if let Some(p) = &p {
                self.input = InputRecord::Known(p.clone());
            }
            ctx.emit(EventPhase::Start, EventData::with_input(p));
        }
        self.tool_call_id = input.and_then(|i| tool_call_id_of(self.runnable, &ctx, i));
        self.ctx = Some(ctx.clone());
        ctx
    }

    fn run_body(&mut self, ctx: Arc<RunContext>, make: impl FnOnce(&'a R) -> ChunkStream<'a, R::Output>) {
        let r = self.runnable;
        let slot = Some(ctx);
        let body = enter_run(&slot, || make(r));
        self.state = State::Running(match &slot {
            Some(ctx) => ctx.in_span_stream(body),
            None => body,
        });
    }

    fn input_payload(&mut self) -> Option<Payload> {
        match std::mem::replace(&mut self.input, InputRecord::None) {
            InputRecord::None => None,
            InputRecord::Known(p) => Some(p),
            InputRecord::Tapped(t) => t.lock().take().map(|i| self.runnable.input_payload(&i)),
        }
    }

    fn finish(&mut self, ctx: &Arc<RunContext>) {
        self.state = State::Done;
        // The run is over: its context (and span) need not outlive it.
        self.ctx = None;
        if ctx.is_listening() {
            let data = EventData {
                input: self.input_payload(),
                output: self.acc.take().map(|o| self.runnable.output_payload(&o)),
                ..Default::default()
            };
            ctx.emit(EventPhase::End, data);
        }
    }

    fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<R::Output>>> {
        let State::Running(body) = &mut self.state else {
            return Poll::Ready(None);
        };
        let mut listening = false;
        if let Some(sink) = self.ctx.as_ref().and_then(|c| c.sink()) {
            if sink.poll_capacity(cx).is_pending() {
                return Poll::Pending;
            }
            listening = true;
        }
        // `self.ctx` itself is the slot swapped in for the poll: no clone.
        let polled = enter(&self.ctx, || body.as_mut().poll_next(cx));
        match polled {
            Poll::Pending => Poll::Pending,
            // The hot path with nobody listening: hand the chunk on.
            Poll::Ready(Some(Ok(chunk))) if !listening && !self.runnable.streams_after_run() => {
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(item) => {
                let ctx = self.ctx.clone().expect("a running stream has a context");
                self.on_item(&ctx, item)
            }
        }
    }

    fn on_item(&mut self, ctx: &Arc<RunContext>, item: Option<Result<R::Output>>) -> Poll<Option<Result<R::Output>>> {
        match item {
            Some(Ok(chunk)) if self.runnable.streams_after_run() => {
                if ctx.is_listening() {
                    self.acc = Some(chunk.clone());
                }
                self.finish(ctx);
                let mut pieces = self.runnable.split_after_run(chunk).into_iter();
                let first = pieces.next();
                self.state = State::Replay(pieces);
                Poll::Ready(first.map(Ok))
            }
            Some(Ok(chunk)) => {
                // Models report their own chunks as tokens
                // (on_chat_model_stream / on_llm_stream), never as generic
                // stream events.
                if !self.runnable.emits_own_chunks() {
                    ctx.emit(EventPhase::Stream, EventData::with_chunk(Payload::new(chunk.clone())));
                }
                match self.acc.as_mut() {
                    Some(acc) => acc.concat_ref(&chunk),
                    None => self.acc = Some(chunk.clone()),
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Some(Err(e)) => {
                self.state = State::Done;
                self.ctx = None;
                let input = self.input_payload();
                let tool_call_id = self.tool_call_id.take();
                Poll::Ready(Some(Err(fail(self.runnable, ctx, e, input, tool_call_id))))
            }
            None => {
                self.finish(ctx);
                Poll::Ready(None)
            }
        }
    }
}

impl<R: Runnable + ?Sized> RunStream<'_, R> {
    /// Advances the run up to its start without polling its body: Ready
    /// once it runs (its start event out), has ended, or has an input error
    /// to hand on; Pending while its streamed input has not come far enough
    /// (the first chunk for a step that transforms, all of it otherwise).
    pub(crate) fn poll_start(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match &mut self.state {
                State::Running(_) | State::Replay(_) | State::Failed(_) | State::Done => return Poll::Ready(()),
                State::Idle(source) => match source.take() {
                    Some(Source::Value(input)) if self.runnable.transforms_input() => {
                        // As in LangChain, a transforming step always streams
                        // from an input stream, even when handed one value: its
                        // start shows no input, its end shows the input.
                        let once: ChunkStream<'_, R::Input> = Box::pin(futures::stream::iter([Ok(input)]));
                        self.state = State::Idle(Some(Source::Stream(once)));
                    }
                    Some(Source::Value(input)) => {
                        let ctx = self.start(Some(&input));
                        self.run_body(ctx, move |r| r.stream_body(input));
                    }
                    Some(Source::Stream(input)) if !self.runnable.transforms_input() => {
                        self.state = State::Collecting { input, acc: None };
                    }
                    Some(Source::Stream(mut input)) => {
                        // A transforming step starts once its first input
                        // chunk is there, so the step feeding it starts first.
                        let first = match input.as_mut().poll_next(cx) {
                            Poll::Pending => {
                                self.state = State::Idle(Some(Source::Stream(input)));
                                return Poll::Pending;
                            }
                            Poll::Ready(Some(Err(e))) => {
                                self.state = State::Failed(Some(e));
                                return Poll::Ready(());
                            }
                            Poll::Ready(first) => first.and_then(|r| r.ok()),
                        };
                        let ctx = self.start(None);
                        let head = futures::stream::iter(first.map(Ok));
                        let rest: ChunkStream<'_, R::Input> = if ctx.is_listening() {
                            let tap = Arc::new(Mutex::new(None::<R::Input>));
                            self.input = InputRecord::Tapped(tap.clone());
                            Box::pin(head.chain(input).inspect(move |c| {
                                if let Ok(c) = c {
                                    let mut t = tap.lock();
                                    match t.as_mut() {
                                        Some(acc) => acc.concat_ref(c),
                                        None => *t = Some(c.clone()),
                                    }
                                }
                            }))
                        } else {
                            Box::pin(head.chain(input))
                        };
                        self.run_body(ctx, move |r| r.transform_body(rest));
                    }
                    None => self.state = State::Done,
                },
                State::Collecting { input, acc } => match input.as_mut().poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(chunk))) => match acc.as_mut() {
                        Some(a) => a.concat(chunk),
                        None => *acc = Some(chunk),
                    },
                    Poll::Ready(Some(Err(e))) => {
                        self.state = State::Failed(Some(e));
                        return Poll::Ready(());
                    }
                    Poll::Ready(None) => match acc.take() {
                        // Nothing came in: like LangChain, the step never runs.
                        None => self.state = State::Done,
                        Some(input) => self.state = State::Idle(Some(Source::Value(input))),
                    },
                },
            }
        }
    }
}

impl<R: Runnable + ?Sized> Stream for RunStream<'_, R> {
    type Item = Result<R::Output>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.poll_start(cx).is_pending() {
            return Poll::Pending;
        }
        match &mut this.state {
            State::Running(_) => this.poll_body(cx),
            State::Replay(pieces) => Poll::Ready(pieces.next().map(Ok)),
            State::Failed(e) => {
                let e = e.take();
                this.state = State::Done;
                Poll::Ready(e.map(Err))
            }
            _ => Poll::Ready(None),
        }
    }
}

impl<R: Runnable + ?Sized> Drop for RunStream<'_, R> {
    fn drop(&mut self) {
        if let (Some(ctx), State::Running(_)) = (self.ctx.take(), &self.state) {
            let slot = Some(ctx);
            let state = &mut self.state;
            enter(&slot, move || *state = State::Done);
        }
    }
}
