//! [`ChainFn`]: the runnable `#[chain_fn]` makes of a function.

use std::borrow::Cow;

use futures::future::BoxFuture;

use super::{impl_pipe_operator, Runnable};
use crate::error::Result;
use crate::value::Data;

/// A function as `#[chain_fn]` sees it: a name, an input, an output, a body.
/// `#[chain_fn]` implements it on a hidden type; [`ChainFn`] runs it.
pub trait ChainBody: Send + Sync + 'static {
    /// What the function takes.
    type Input: Data;
    /// What it gives.
    type Output: Data;

    /// The function's name: the run's name in events.
    fn name(&self) -> &'static str;

    /// Runs the function.
    fn call(&self, input: Self::Input) -> BoxFuture<'static, Result<Self::Output>>;
}

/// A function made a step by `#[chain_fn]` (LangChain's `@chain`): a
/// [`Lambda`](crate::Lambda) named after the function, as a constant.
///
/// Like a lambda, it runs inside its own run (runnables it invokes nest
/// under it), collects a streamed input, and yields its output as one chunk.
///
/// ```
/// use runwright::{chain_fn, RunnableExt};
///
/// #[chain_fn]
/// async fn shout(text: String) -> runwright::Result<String> {
///     Ok(text.to_uppercase())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(runwright::Runnable::name(&shout), "shout");
/// assert_eq!(shout.invoke("hey".into()).await.unwrap(), "HEY");
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct ChainFn<F>(F);

impl<F> ChainFn<F> {
    /// The step running `f`.
    pub const fn new(f: F) -> Self {
        ChainFn(f)
    }
}

impl<F: ChainBody> Runnable for ChainFn<F> {
    type Input = F::Input;
    type Output = F::Output;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.0.name())
    }

    fn invoke_body<'a>(&'a self, input: F::Input) -> BoxFuture<'a, Result<F::Output>> {
        self.0.call(input)
    }

    fn transforms_input(&self) -> bool {
        true
    }
}

impl_pipe_operator!([F] ChainFn<F>);
