//! [`Passthrough`]: the identity step.

use std::borrow::Cow;
use std::marker::PhantomData;

use futures::future::BoxFuture;

use super::{impl_pipe_operator, ChunkStream, Runnable};
use crate::error::Result;
use crate::value::Data;

/// Passes its input on unchanged, chunk by chunk (LangChain's
/// `RunnablePassthrough`). Handy as a branch of a [`Parallel`](crate::Parallel).
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct Passthrough<T>(PhantomData<fn() -> T>);

impl<T> std::fmt::Debug for Passthrough<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passthrough")
    }
}

impl<T> Passthrough<T> {
    /// The identity step.
    pub fn new() -> Self {
        Passthrough(PhantomData)
    }
}

/// The identity step: `Passthrough::new()`, short for map literals in
/// `chain!` (`{ "context": retriever, "question": passthrough() }`).
pub fn passthrough<T>() -> Passthrough<T> {
    Passthrough::new()
}

impl<T> Default for Passthrough<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Passthrough<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T: Data> Runnable for Passthrough<T> {
    type Input = T;
    type Output = T;

    fn name(&self) -> Cow<'_, str> {
        "RunnablePassthrough".into()
    }

    fn invoke_body<'a>(&'a self, input: T) -> BoxFuture<'a, Result<T>> {
        Box::pin(std::future::ready(Ok(input)))
    }

    fn transforms_input(&self) -> bool {
        true
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, T>) -> ChunkStream<'a, T> {
        input
    }
}

impl_pipe_operator!([T] Passthrough<T>);
