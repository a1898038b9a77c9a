//! [`Assign`]: adds keys computed from the input map to it.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::{Stream, StreamExt};

use super::run::{self, RunStream, Source};
use super::tee::tee;
use super::{impl_pipe_operator, ChunkStream, Parallel, Runnable};
use crate::context::CallOpts;
use crate::error::Result;
use crate::value::Map;

/// Passes its input map on and adds keys computed from it (LangChain's
/// `RunnablePassthrough.assign`). The new keys' runnables run concurrently,
/// as a [`Parallel`] beneath this run; streaming yields the input first, then
/// each new key's chunks.
///
/// ```
/// use runwright::{Assign, Lambda, Map, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let add = Assign::new().key("len", Lambda::from_fn(|m: Map| Ok(m["q"].as_str().map_or(0, str::len))));
/// let mut input = Map::new();
/// input.insert("q".into(), "four".into());
/// let out = add.invoke(input).await.unwrap();
/// assert_eq!(out["len"], 4);
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct Assign {
    name: Arc<str>,
    mapper: Parallel<Map>,
}

impl Default for Assign {
    fn default() -> Self {
        Self::new()
    }
}

impl Assign {
    /// Assigns nothing yet.
    pub fn new() -> Self {
        Assign {
            name: Arc::from("RunnableAssign<>"),
            mapper: Parallel::new(),
        }
    }

    /// Adds `key`, computed by `runnable` from the input map.
    pub fn key<R>(mut self, key: impl Into<Arc<str>>, runnable: R) -> Self
    where
        R: Runnable<Input = Map> + 'static,
    {
        self.mapper = self.mapper.branch(key, runnable);
        let keys: Vec<&str> = self.mapper.keys().collect();
        self.name = Arc::from(format!("RunnableAssign<{}>", keys.join(",")));
        self
    }

    fn without_assigned(&self, mut chunk: Map) -> Map {
        for k in self.mapper.keys() {
            chunk.remove(k);
        }
        chunk
    }
}

impl Runnable for Assign {
    type Input = Map;
    type Output = Map;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn invoke_body<'a>(&'a self, input: Map) -> BoxFuture<'a, Result<Map>> {
        Box::pin(async move {
            let added = run::invoke(&self.mapper, input.clone(), CallOpts::default()).await?;
            let mut out = input;
            out.extend(added);
            Ok(out)
        })
    }

    fn stream_body<'a>(&'a self, input: Map) -> ChunkStream<'a, Map> {
        let head = self.without_assigned(input.clone());
        let added = RunStream::new(&self.mapper, Source::Value(input), CallOpts::default());
        let head = futures::stream::iter((!head.is_empty()).then_some(Ok(head)));
        Box::pin(head.chain(added))
    }

    fn transforms_input(&self) -> bool {
        true
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, Map>) -> ChunkStream<'a, Map> {
        let mut copies = tee(input, 2);
        let (Some(for_map), Some(for_passthrough)) = (copies.pop(), copies.pop()) else {
            return Box::pin(futures::stream::empty());
        };
        let mapper = RunStream::new(&self.mapper, Source::Stream(Box::pin(for_map)), CallOpts::default());
        Box::pin(AssignStream {
            assign: self,
            passthrough: Some(Box::pin(for_passthrough)),
            handed_on: false,
            mapper,
            first: None,
        })
    }
}

/// A streaming assign, as LangChain's `RunnableAssign._atransform`: the
/// input's own keys as they come, then the new keys. The mapper runs
/// alongside from the first chunk handed on (LangChain's task for its first
/// chunk runs once the assign first yields), so it starts before the step
/// upstream ends; its first item waits until the input's keys are through.
struct AssignStream<'a> {
    assign: &'a Assign,
    passthrough: Option<ChunkStream<'a, Map>>,
    /// Whether a passthrough chunk was handed on yet.
    handed_on: bool,
    mapper: RunStream<'a, Parallel<Map>>,
    /// The mapper's first item, once it came (`Some(None)`: it ended).
    first: Option<Option<Result<Map>>>,
}

impl Stream for AssignStream<'_> {
    type Item = Result<Map>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Map>>> {
        let this = &mut *self;
        while let Some(passthrough) = this.passthrough.as_mut() {
            if this.handed_on && this.first.is_none() {
                if let Poll::Ready(item) = this.mapper.poll_next_unpin(cx) {
                    this.first = Some(item);
                }
            }
            match passthrough.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    let chunk = this.assign.without_assigned(chunk);
                    if !chunk.is_empty() {
                        this.handed_on = true;
                        return Poll::Ready(Some(Ok(chunk)));
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => this.passthrough = None,
            }
        }
        match this.first.take() {
            Some(item) => Poll::Ready(item),
            None => this.mapper.poll_next_unpin(cx),
        }
    }
}

impl_pipe_operator!([] Assign, map);
