//! [`Lambda`]: a plain function as a step.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;

use super::run::{self, RunStream, Source};
use super::{impl_pipe_operator, BoxRunnable, ChunkStream, Runnable};
use crate::context::CallOpts;
use crate::error::Result;
use crate::value::Data;

type SyncFn<I, O> = Arc<dyn Fn(I) -> Result<O> + Send + Sync>;
type AsyncFn<I, O> = Arc<dyn Fn(I) -> BoxFuture<'static, Result<O>> + Send + Sync>;
type PickFn<I, O> = Arc<dyn Fn(&I) -> Result<BoxRunnable<I, O>> + Send + Sync>;

enum Body<I, O> {
    Sync(SyncFn<I, O>),
    Blocking(SyncFn<I, O>),
    Async(AsyncFn<I, O>),
    Pick(PickFn<I, O>),
}

/// Shows which kind of function it is, not the function.
impl<I, O> std::fmt::Debug for Body<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Body::Sync(_) => "Sync",
            Body::Blocking(_) => "Blocking",
            Body::Async(_) => "Async",
            Body::Pick(_) => "Pick",
        })
    }
}

impl<I, O> Clone for Body<I, O> {
    fn clone(&self) -> Self {
        match self {
            Body::Sync(f) => Body::Sync(f.clone()),
            Body::Blocking(f) => Body::Blocking(f.clone()),
            Body::Async(f) => Body::Async(f.clone()),
            Body::Pick(f) => Body::Pick(f.clone()),
        }
    }
}

/// The name LangChain would give a function: its own name, or
/// `RunnableLambda` for a closure.
pub(crate) fn fn_name<F>() -> Arc<str> {
    let full = std::any::type_name::<F>();
    if full.contains("{{closure}}") {
        return Arc::from("RunnableLambda");
    }
    let base = full.split('<').next().unwrap_or(full);
    Arc::from(base.rsplit("::").next().unwrap_or(base))
}

/// A function as a step (LangChain's `RunnableLambda`): sync, blocking or
/// async. It runs inside its own run, so runnables it invokes nest under it.
///
/// Named after the function (`fn reverse_word` gives `reverse_word`), or
/// `RunnableLambda` for a closure; [`named`](Lambda::named) renames it. In a
/// streaming sequence it collects its input, then yields its output as one
/// chunk.
///
/// ```
/// use runwright::{Lambda, RunnableExt};
/// fn add_one(x: i32) -> runwright::Result<i32> { Ok(x + 1) }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let step = Lambda::from_fn(add_one);
/// assert_eq!(runwright::Runnable::name(&step), "add_one");
/// assert_eq!(step.invoke(1).await.unwrap(), 2);
/// # }
/// ```
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct Lambda<I, O> {
    name: Arc<str>,
    body: Body<I, O>,
}

impl<I, O> std::fmt::Debug for Lambda<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda")
            .field("name", &self.name)
            .field("body", &self.body)
            .finish()
    }
}

impl<I, O> Clone for Lambda<I, O> {
    fn clone(&self) -> Self {
        Lambda {
            name: self.name.clone(),
            body: self.body.clone(),
        }
    }
}

impl<I: Data, O: Data> Lambda<I, O> {
    /// A sync function, run inline on the thread that polls the run (keep
    /// it quick; see [`blocking`](Lambda::blocking) for slow work).
    ///
    /// It may run other steps with
    /// [`invoke_blocking`](crate::RunnableExt::invoke_blocking) and
    /// [`stream_blocking`](crate::RunnableExt::stream_blocking); they nest
    /// under its run ([the crate docs](crate#sync-code-that-calls-runnables)).
    /// A function that calls none pays nothing for that.
    pub fn from_fn<F>(f: F) -> Self
    where
        F: Fn(I) -> Result<O> + Send + Sync + 'static,
    {
        Lambda {
            name: fn_name::<F>(),
            body: Body::Sync(Arc::new(f)),
        }
    }

    /// A sync function that blocks (I/O, heavy computation, a long wait on
    /// other steps through
    /// [`invoke_blocking`](crate::RunnableExt::invoke_blocking)): it runs on
    /// tokio's blocking pool, still inside the run, so that the runtime's
    /// threads stay free meanwhile. Running it needs a tokio runtime.
    ///
    /// ```
    /// use runwright::{Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let lookup = Lambda::from_fn(|id: u32| Ok(format!("user {id}")));
    /// let slow = Lambda::blocking(move |id: u32| {
    ///     std::thread::sleep(std::time::Duration::from_millis(1)); // blocking I/O
    ///     lookup.invoke_blocking(id)
    /// });
    /// assert_eq!(slow.invoke(7).await.unwrap(), "user 7");
    /// # }
    /// ```
    pub fn blocking<F>(f: F) -> Self
    where
        F: Fn(I) -> Result<O> + Send + Sync + 'static,
    {
        Lambda {
            name: fn_name::<F>(),
            body: Body::Blocking(Arc::new(f)),
        }
    }

    /// An async function.
    pub fn from_async<F, Fut>(f: F) -> Self
    where
        F: Fn(I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O>> + Send + 'static,
    {
        Lambda {
            name: fn_name::<F>(),
            body: Body::Async(Arc::new(move |i| Box::pin(f(i)))),
        }
    }

    /// A function that picks the runnable to run on the input (LangChain's
    /// lambda returning a runnable): the picked runnable runs beneath this
    /// step, on the same input, and its output is this step's output.
    ///
    /// ```
    /// use runwright::{Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let small = Lambda::from_fn(|x: i32| Ok(x + 1)).boxed();
    /// let big = Lambda::from_fn(|x: i32| Ok(x * 100)).boxed();
    /// let route = Lambda::returning(move |x: &i32| Ok(if *x < 10 { small.clone() } else { big.clone() }));
    /// assert_eq!(route.invoke(3).await.unwrap(), 4);
    /// assert_eq!(route.invoke(30).await.unwrap(), 3000);
    /// # }
    /// ```
    pub fn returning<F>(f: F) -> Self
    where
        F: Fn(&I) -> Result<BoxRunnable<I, O>> + Send + Sync + 'static,
    {
        Lambda {
            name: fn_name::<F>(),
            body: Body::Pick(Arc::new(f)),
        }
    }

    /// Renames the step: the name its events, its run tree entry and its
    /// errors show (a closure's default name is `RunnableLambda`, as in
    /// LangChain).
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use runwright::{Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let step = Lambda::from_fn(|s: String| Ok(s.len())).named("length");
    /// let events: Vec<_> = step.stream_events("abc".into()).try_collect().await?;
    /// assert!(events.iter().all(|e| e.name() == "length"));
    /// # Ok(()) }
    /// ```
    pub fn named(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<I: Data, O: Data> Runnable for Lambda<I, O> {
    type Input = I;
    type Output = O;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn invoke_body<'a>(&'a self, input: I) -> BoxFuture<'a, Result<O>> {
        match &self.body {
            Body::Sync(f) => Box::pin(std::future::ready(f(input))),
            Body::Async(f) => f(input),
            Body::Blocking(f) => {
                let f = f.clone();
                Box::pin(async move { crate::context::spawn_blocking(move || f(input)).await? })
            }
            Body::Pick(f) => {
                let picked = f(&input);
                Box::pin(async move { run::invoke(&picked?, input, CallOpts::default()).await })
            }
        }
    }

    fn stream_body<'a>(&'a self, input: I) -> ChunkStream<'a, O> {
        let Body::Pick(f) = &self.body else {
            return Box::pin(futures::stream::once(self.invoke_body(input)));
        };
        let picked = f(&input);
        Box::pin(async_stream::stream! {
            match picked {
                Ok(r) => {
                    let mut s = RunStream::new(&r, Source::Value(input), CallOpts::default());
                    while let Some(item) = s.next().await {
                        yield item;
                    }
                }
                Err(e) => yield Err(e),
            }
        })
    }

    fn transforms_input(&self) -> bool {
        true
    }
}

impl_pipe_operator!([I, O] Lambda<I, O>);
