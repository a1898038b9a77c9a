//! [`Assign`]: adds keys computed from the input map to it.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;

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
#[derive(Debug)]
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
        let for_map = copies.pop().map(|c| Box::pin(c) as ChunkStream<'a, Map>);
        let for_passthrough = copies.pop();
        let added = for_map.map(|m| RunStream::new(&self.mapper, Source::Stream(m), CallOpts::default()));
        let head = futures::stream::iter(for_passthrough).flatten().filter_map(move |c| {
            std::future::ready(match c {
                Ok(c) => {
                    let c = self.without_assigned(c);
                    (!c.is_empty()).then_some(Ok(c))
                }
                Err(e) => Some(Err(e)),
            })
        });
        Box::pin(head.chain(futures::stream::iter(added).flatten()))
    }
}

impl_pipe_operator!([] Assign);
