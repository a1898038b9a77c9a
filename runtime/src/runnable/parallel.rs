//! [`Parallel`]: named branches run concurrently on the same input.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::Value as Json;

use super::run::{self, RunStream, Source};
use super::tee::tee;
use super::{impl_pipe_operator, ChunkStream, Runnable};
use crate::context::{current, CallOpts};
use crate::error::Result;
use crate::events::sink::EventSink;
use crate::events::StepTag;
use crate::value::{Data, Map};

/// One branch, seen through its JSON output.
trait Branch<I>: Send + Sync {
    /// Starts the branch now, runs it in the returned future.
    fn invoke<'a>(&'a self, input: I, opts: CallOpts) -> BoxFuture<'a, Result<Json>>;
    fn stream<'a>(&'a self, input: Source<'a, I>, opts: CallOpts) -> Box<dyn BranchRun + 'a>;
}

/// A branch's run as a stream of JSON chunks, which can be advanced up to
/// its start alone ([`RunStream::poll_start`]).
trait BranchRun: Stream<Item = Result<Json>> + Send + Unpin {
    fn poll_start(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

struct JsonRun<'a, R: Runnable>(RunStream<'a, R>);

impl<R: Runnable> Stream for JsonRun<'_, R> {
    type Item = Result<Json>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Json>>> {
        self.0.poll_next_unpin(cx).map(|item| item.map(|r| r.and_then(to_json)))
    }
}

impl<R: Runnable> BranchRun for JsonRun<'_, R> {
    fn poll_start(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.poll_start(cx)
    }
}

fn to_json<T: Serialize>(v: T) -> Result<Json> {
    Ok(serde_json::to_value(v)?)
}

impl<R: Runnable> Branch<R::Input> for R {
    /// Starts the branch's run at once (its start event is out when this
    /// returns); the future runs it.
    fn invoke<'a>(&'a self, input: R::Input, opts: CallOpts) -> BoxFuture<'a, Result<Json>> {
        let started = run::start(self, input, opts);
        Box::pin(async move { to_json(started.finish().await?) })
    }

    fn stream<'a>(&'a self, input: Source<'a, R::Input>, opts: CallOpts) -> Box<dyn BranchRun + 'a> {
        Box::new(JsonRun(RunStream::new(self, input, opts)))
    }
}

/// A branch whose runnable's input the map's input converts into. `chain!`
/// adds its branches after a step so (with the identity conversion), to
/// check the joint where the user wrote it.
struct Converting<R, I> {
    runnable: R,
    input: PhantomData<fn(I)>,
}

impl<I, R> Branch<I> for Converting<R, I>
where
    I: Data + Into<R::Input>,
    R: Runnable,
{
    fn invoke<'a>(&'a self, input: I, opts: CallOpts) -> BoxFuture<'a, Result<Json>> {
        Branch::invoke(&self.runnable, input.into(), opts)
    }

    fn stream<'a>(&'a self, input: Source<'a, I>, opts: CallOpts) -> Box<dyn BranchRun + 'a> {
        let input = match input {
            Source::Value(v) => Source::Value(v.into()),
            Source::Stream(s) => Source::Stream(Box::pin(s.map_ok(Into::into))),
        };
        Branch::stream(&self.runnable, input, opts)
    }
}

/// Named branches that run concurrently on the same input (LangChain's
/// `RunnableParallel`, a dict literal in a chain). The output is a JSON
/// object with one key per branch, in the order the branches finished;
/// streaming yields `{key: chunk}` objects as each branch streams.
///
/// ```
/// use runwright::{Lambda, Parallel, Passthrough, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let both = Parallel::new()
///     .branch("double", Lambda::from_fn(|x: i64| Ok(x * 2)))
///     .branch("same", Passthrough::new());
/// let out = both.invoke(21).await.unwrap();
/// assert_eq!(out["double"], 42);
/// assert_eq!(out["same"], 21);
/// # }
/// ```
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct Parallel<I> {
    name: Arc<str>,
    branches: Vec<(Arc<str>, Arc<dyn Branch<I>>)>,
}

/// Shows the branch keys; the branches are type-erased.
impl<I> std::fmt::Debug for Parallel<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.branches.iter().map(|(k, _)| &**k).collect();
        f.debug_struct("Parallel").field("branches", &keys).finish()
    }
}

impl<I> Clone for Parallel<I> {
    fn clone(&self) -> Self {
        Parallel {
            name: self.name.clone(),
            branches: self.branches.clone(),
        }
    }
}

impl<I: Data> Default for Parallel<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: Data> Parallel<I> {
    /// A map with no branches yet.
    pub fn new() -> Self {
        Parallel {
            name: Arc::from("RunnableParallel<>"),
            branches: Vec::new(),
        }
    }

    /// Adds a branch under `key`. Its output must serialize to JSON.
    pub fn branch<R>(self, key: impl Into<Arc<str>>, runnable: R) -> Self
    where
        R: Runnable<Input = I> + 'static,
    {
        self.push(key.into(), Arc::new(runnable))
    }

    /// Adds a branch that takes what the map's input converts into. Not
    /// public: `branch`'s exact input type is what lets `Parallel::new()`
    /// infer its input from the first branch.
    pub(crate) fn branch_converting<R>(self, key: impl Into<Arc<str>>, runnable: R) -> Self
    where
        R: Runnable + 'static,
        I: Into<R::Input>,
    {
        let branch = Converting {
            runnable,
            input: PhantomData,
        };
        self.push(key.into(), Arc::new(branch))
    }

    fn push(mut self, key: Arc<str>, branch: Arc<dyn Branch<I>>) -> Self {
        self.branches.push((key, branch));
        let keys: Vec<&str> = self.branches.iter().map(|(k, _)| &**k).collect();
        self.name = Arc::from(format!("RunnableParallel<{}>", keys.join(",")));
        self
    }

    /// The branch keys, in the order they were added.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.branches.iter().map(|(k, _)| &**k)
    }

    fn merge<'a>(&'a self, streams: Vec<Box<dyn BranchRun + 'a>>) -> ChunkStream<'a, Map> {
        let slots: Vec<Slot<'a>> = self
            .branches
            .iter()
            .zip(streams)
            .map(|((key, _), s)| Slot {
                key: key.clone(),
                stream: Some(s),
                started: false,
                item: None,
            })
            .collect();
        let ready = VecDeque::with_capacity(slots.len());
        // Made inside the parallel's run: its sink, if anyone listens.
        let sink = current().and_then(|c| c.sink().cloned());
        Box::pin(Merge { slots, ready, sink })
    }
}

/// One branch of a [`Merge`]: its stream (until it ends) and the item it
/// gave that waits to be handed out.
struct Slot<'a> {
    key: Arc<str>,
    stream: Option<Box<dyn BranchRun + 'a>>,
    started: bool,
    item: Option<Result<Json>>,
}

/// The branches' streams merged in rounds, as LangChain's parallel does
/// with `asyncio.wait(FIRST_COMPLETED)`. A round first starts every branch
/// that can start (so all branches start before any streams), then polls
/// every started branch whose last item was handed out for its next one;
/// items are handed out in the order they came, one per poll. So each
/// branch moves on by one item per round, and a failing branch's error comes
/// out in its turn. Producers do not pause inside a round
/// ([`EventSink::round`]), so the order does not depend on the consumer's
/// pace and is the same with and without a listener.
struct Merge<'a> {
    slots: Vec<Slot<'a>>,
    /// The slots holding an item, in the order the items came.
    ready: VecDeque<usize>,
    sink: Option<Arc<EventSink>>,
}

/// One round of a [`Merge`]; whether a branch is still open.
fn round(slots: &mut [Slot<'_>], ready: &mut VecDeque<usize>, cx: &mut Context<'_>) -> bool {
    let mut open = false;
    for slot in slots.iter_mut() {
        if let (false, Some(stream)) = (slot.started, slot.stream.as_mut()) {
            slot.started = stream.poll_start(cx).is_ready();
        }
    }
    for (i, slot) in slots.iter_mut().enumerate() {
        let Some(stream) = slot.stream.as_mut() else {
            continue;
        };
        if slot.item.is_none() && slot.started {
            match stream.poll_next_unpin(cx) {
                Poll::Ready(Some(item)) => {
                    slot.item = Some(item);
                    ready.push_back(i);
                }
                Poll::Ready(None) => {
                    slot.stream = None;
                    continue;
                }
                Poll::Pending => {}
            }
        }
        open = true;
    }
    open
}

impl Stream for Merge<'_> {
    type Item = Result<Map>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Map>>> {
        let this = &mut *self;
        let open = match &this.sink {
            Some(sink) => {
                if sink.poll_capacity(cx).is_pending() {
                    return Poll::Pending;
                }
                let _round = sink.round();
                round(&mut this.slots, &mut this.ready, cx)
            }
            None => round(&mut this.slots, &mut this.ready, cx),
        };
        if let Some(i) = this.ready.pop_front() {
            let slot = &mut this.slots[i];
            let item = slot.item.take().map(|item| {
                item.map(|chunk| {
                    let mut m = Map::new();
                    m.insert(slot.key.to_string(), chunk);
                    m
                })
            });
            return Poll::Ready(item);
        }
        if open {
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    }
}

impl<I: Data> Runnable for Parallel<I> {
    type Input = I;
    type Output = Map;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn invoke_body<'a>(&'a self, input: I) -> BoxFuture<'a, Result<Map>> {
        Box::pin(async move {
            // Every branch starts (its start event out) before any runs.
            let mut running: FuturesUnordered<_> = self
                .branches
                .iter()
                .map(|(key, b)| {
                    let fut = b.invoke(input.clone(), CallOpts::step(StepTag::Map(key.clone())));
                    async move { (key, fut.await) }
                })
                .collect();
            let mut out = Map::new();
            while let Some((key, res)) = running.next().await {
                out.insert(key.to_string(), res?);
            }
            Ok(out)
        })
    }

    fn stream_body<'a>(&'a self, input: I) -> ChunkStream<'a, Map> {
        let streams = self
            .branches
            .iter()
            .map(|(key, b)| b.stream(Source::Value(input.clone()), CallOpts::step(StepTag::Map(key.clone()))))
            .collect();
        self.merge(streams)
    }

    fn transforms_input(&self) -> bool {
        true
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, I>) -> ChunkStream<'a, Map> {
        let copies = tee(input, self.branches.len());
        let streams = self
            .branches
            .iter()
            .zip(copies)
            .map(|((key, b), copy)| {
                b.stream(
                    Source::Stream(Box::pin(copy)),
                    CallOpts::step(StepTag::Map(key.clone())),
                )
            })
            .collect();
        self.merge(streams)
    }
}

impl_pipe_operator!([I] Parallel<I>, map);
