//! [`BoxRunnable`]: type erasure, when you want it.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::Stream;

use super::{impl_pipe_operator, owned, ChunkStream, LogOptions, RunLogPatch, RunType, Runnable};
use crate::config::RunConfig;
use crate::error::Result;
use crate::events::{EventFilter, StreamEvent};
use crate::value::Data;

/// A runnable of any type with input `I` and output `O`, cheap to clone.
/// Made by [`boxed`](crate::RunnableExt::boxed).
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct BoxRunnable<I, O>(Arc<dyn Runnable<Input = I, Output = O>>);

/// Shows the runnable's name: what is behind the box has no `Debug` to show.
impl<I: Data, O: Data> std::fmt::Debug for BoxRunnable<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BoxRunnable").field(&self.0.name()).finish()
    }
}

impl<I, O> Clone for BoxRunnable<I, O> {
    fn clone(&self) -> Self {
        BoxRunnable(self.0.clone())
    }
}

impl<I: Data, O: Data> BoxRunnable<I, O> {
    /// Erases `r`'s type.
    pub fn new<R: Runnable<Input = I, Output = O> + 'static>(r: R) -> Self {
        BoxRunnable(Arc::new(r))
    }

    /// [`RunnableExt::stream_owned`](crate::RunnableExt::stream_owned): a
    /// `'static` stream of the output, sharing this box's runnable.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use runwright::{Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let step = Lambda::from_fn(|s: String| Ok(s.len())).boxed();
    /// let lengths = step.stream_owned("four".into());
    /// assert_eq!(tokio::spawn(lengths.try_collect::<Vec<_>>()).await.unwrap().unwrap(), [4]);
    /// # }
    /// ```
    pub fn stream_owned(&self, input: I) -> impl Stream<Item = Result<O>> + Send + Unpin + 'static {
        owned::stream(self.0.clone(), input)
    }

    /// [`RunnableExt::stream_events_owned`](crate::RunnableExt::stream_events_owned):
    /// a `'static` event stream, sharing this box's runnable.
    pub fn stream_events_owned(&self, input: I) -> impl Stream<Item = Result<StreamEvent>> + Send + Unpin + 'static {
        owned::events(self.0.clone(), input, None, EventFilter::default())
    }

    /// [`RunnableExt::stream_events_owned_with`](crate::RunnableExt::stream_events_owned_with):
    /// with a call-time config and a filter.
    pub fn stream_events_owned_with(
        &self,
        input: I,
        config: RunConfig,
        filter: EventFilter,
    ) -> impl Stream<Item = Result<StreamEvent>> + Send + Unpin + 'static {
        owned::events(self.0.clone(), input, Some(config), filter)
    }

    /// [`RunnableExt::stream_log_owned`](crate::RunnableExt::stream_log_owned):
    /// a `'static` log stream, sharing this box's runnable.
    pub fn stream_log_owned(
        &self,
        input: I,
        options: LogOptions,
    ) -> impl Stream<Item = Result<RunLogPatch>> + Send + Unpin + 'static {
        owned::log(self.0.clone(), input, options)
    }
}

impl<I: Data, O: Data> Runnable for BoxRunnable<I, O> {
    type Input = I;
    type Output = O;

    fn name(&self) -> Cow<'_, str> {
        self.0.name()
    }

    fn run_type(&self) -> RunType {
        self.0.run_type()
    }

    fn config(&self) -> Option<&RunConfig> {
        self.0.config()
    }

    fn own_metadata(&self) -> Option<&crate::value::Map> {
        self.0.own_metadata()
    }

    fn input_payload(&self, input: &Self::Input) -> crate::value::Payload {
        self.0.input_payload(input)
    }

    fn output_payload(&self, output: &Self::Output) -> crate::value::Payload {
        self.0.output_payload(output)
    }

    fn tool_call_id(&self, input: &Self::Input) -> Option<String> {
        self.0.tool_call_id(input)
    }

    fn streams_after_run(&self) -> bool {
        self.0.streams_after_run()
    }

    fn emits_own_chunks(&self) -> bool {
        self.0.emits_own_chunks()
    }

    fn split_after_run(&self, output: Self::Output) -> Vec<Self::Output> {
        self.0.split_after_run(output)
    }

    fn invoke_body<'a>(&'a self, input: I) -> BoxFuture<'a, Result<O>> {
        self.0.invoke_body(input)
    }

    fn stream_body<'a>(&'a self, input: I) -> ChunkStream<'a, O> {
        self.0.stream_body(input)
    }

    fn transforms_input(&self) -> bool {
        self.0.transforms_input()
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, I>) -> ChunkStream<'a, O> {
        self.0.transform_body(input)
    }
}

impl_pipe_operator!([I, O] BoxRunnable<I, O>);
