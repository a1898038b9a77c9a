//! [`Generator`]: a function over the input stream, as a streaming step.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::lambda::fn_name;
use super::{collect, impl_pipe_operator, ChunkStream, Runnable};
use crate::error::Result;
use crate::value::Data;

type GenFn<I, O> = Arc<dyn for<'a> Fn(ChunkStream<'a, I>) -> ChunkStream<'a, O> + Send + Sync>;

/// A step that turns its input stream into an output stream (LangChain's
/// `RunnableGenerator`): it starts on the first input chunk and yields as it
/// goes, so a sequence keeps streaming through it. Its final output is the
/// fold of what it yields.
///
/// ```
/// use futures::{StreamExt, TryStreamExt};
/// use runwright::{ChunkStream, Generator, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let upper = Generator::new(|input: ChunkStream<'_, String>| -> ChunkStream<'_, String> {
///     Box::pin(input.map_ok(|s| s.to_uppercase()))
/// });
/// let out: Vec<String> = upper.stream("abc".into()).try_collect().await.unwrap();
/// assert_eq!(out, ["ABC"]);
/// # }
/// ```
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct Generator<I, O> {
    name: Arc<str>,
    f: GenFn<I, O>,
}

/// Shows the name; the function has nothing to show.
impl<I, O> std::fmt::Debug for Generator<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<I, O> Clone for Generator<I, O> {
    fn clone(&self) -> Self {
        Generator {
            name: self.name.clone(),
            f: self.f.clone(),
        }
    }
}

impl<I: Data, O: Data> Generator<I, O> {
    /// A generator from a function over the input stream.
    pub fn new<F>(f: F) -> Self
    where
        F: for<'a> Fn(ChunkStream<'a, I>) -> ChunkStream<'a, O> + Send + Sync + 'static,
    {
        Generator {
            name: fn_name::<F>(),
            f: Arc::new(f),
        }
    }

    /// Renames the step.
    pub fn named(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<I: Data, O: Data> Runnable for Generator<I, O> {
    type Input = I;
    type Output = O;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn invoke_body<'a>(&'a self, input: I) -> BoxFuture<'a, Result<O>> {
        let out = self.stream_body(input);
        Box::pin(async move {
            collect(out)
                .await?
                .ok_or_else(|| crate::error::Error::new(crate::error::ErrorKind::Step, "generator produced no output"))
        })
    }

    fn stream_body<'a>(&'a self, input: I) -> ChunkStream<'a, O> {
        (self.f)(Box::pin(futures::stream::once(std::future::ready(Ok(input)))))
    }

    fn transforms_input(&self) -> bool {
        true
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, I>) -> ChunkStream<'a, O> {
        (self.f)(input)
    }
}

impl_pipe_operator!([I, O] Generator<I, O>);
