//! [`Parallel`]: named branches run concurrently on the same input.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, SelectAll};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::Value as Json;

use super::run::{self, RunStream, Source};
use super::tee::tee;
use super::{impl_pipe_operator, ChunkStream, Runnable};
use crate::context::CallOpts;
use crate::error::Result;
use crate::events::StepTag;
use crate::value::{Data, Map};

/// One branch, seen through its JSON output.
trait Branch<I>: Send + Sync {
    fn invoke<'a>(&'a self, input: I, opts: CallOpts) -> BoxFuture<'a, Result<Json>>;
    fn stream<'a>(&'a self, input: Source<'a, I>, opts: CallOpts) -> ChunkStream<'a, Json>;
}

fn to_json<T: Serialize>(v: T) -> Result<Json> {
    Ok(serde_json::to_value(v)?)
}

impl<R: Runnable> Branch<R::Input> for R {
    fn invoke<'a>(&'a self, input: R::Input, opts: CallOpts) -> BoxFuture<'a, Result<Json>> {
        Box::pin(async move { to_json(run::invoke(self, input, opts).await?) })
    }

    fn stream<'a>(&'a self, input: Source<'a, R::Input>, opts: CallOpts) -> ChunkStream<'a, Json> {
        Box::pin(RunStream::new(self, input, opts).and_then(|c| std::future::ready(to_json(c))))
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
    pub fn branch<R>(mut self, key: impl Into<Arc<str>>, runnable: R) -> Self
    where
        R: Runnable<Input = I> + 'static,
    {
        self.branches.push((key.into(), Arc::new(runnable)));
        let keys: Vec<&str> = self.branches.iter().map(|(k, _)| &**k).collect();
        self.name = Arc::from(format!("RunnableParallel<{}>", keys.join(",")));
        self
    }

    /// The branch keys, in the order they were added.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.branches.iter().map(|(k, _)| &**k)
    }

    fn merge<'a>(&'a self, streams: Vec<ChunkStream<'a, Json>>) -> ChunkStream<'a, Map> {
        let mut all = SelectAll::new();
        for ((key, _), s) in self.branches.iter().zip(streams) {
            let key = key.clone();
            all.push(s.map_ok(move |chunk| {
                let mut m = Map::new();
                m.insert(key.to_string(), chunk);
                m
            }));
        }
        Box::pin(all)
    }
}

impl<I: Data> Runnable for Parallel<I> {
    type Input = I;
    type Output = Map;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn invoke_body<'a>(&'a self, input: I) -> BoxFuture<'a, Result<Map>> {
        let mut running: FuturesUnordered<_> = self
            .branches
            .iter()
            .map(|(key, b)| {
                let fut = b.invoke(input.clone(), CallOpts::step(StepTag::Map(key.clone())));
                async move { (key, fut.await) }
            })
            .collect();
        Box::pin(async move {
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

impl_pipe_operator!([I] Parallel<I>);
