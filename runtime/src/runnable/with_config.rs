//! [`WithConfig`]: a runnable with a bound config.

use std::borrow::Cow;

use futures::future::BoxFuture;

use super::{impl_pipe_operator, ChunkStream, RunType, Runnable};
use crate::config::RunConfig;
use crate::error::Result;

/// A runnable with a config bound to its own run (run name, tags, metadata,
/// configurable values). Made by [`with_config`](crate::RunnableExt::with_config).
///
/// It is the same step, not a wrapper run: events show one run, renamed and
/// tagged as configured.
#[derive(Clone, Debug)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct WithConfig<R> {
    inner: R,
    config: RunConfig,
}

impl<R: Runnable> WithConfig<R> {
    pub(crate) fn new(inner: R, config: RunConfig) -> Self {
        let config = match inner.config() {
            Some(own) => own.rebound(&config),
            None => config,
        };
        WithConfig { inner, config }
    }

    /// The configured runnable.
    pub fn inner(&self) -> &R {
        &self.inner
    }
}

impl<R: Runnable> Runnable for WithConfig<R> {
    type Input = R::Input;
    type Output = R::Output;

    fn name(&self) -> Cow<'_, str> {
        self.inner.name()
    }

    fn run_type(&self) -> RunType {
        self.inner.run_type()
    }

    fn config(&self) -> Option<&RunConfig> {
        Some(&self.config)
    }

    fn own_metadata(&self) -> Option<&crate::value::Map> {
        self.inner.own_metadata()
    }

    fn input_payload(&self, input: &Self::Input) -> crate::value::Payload {
        self.inner.input_payload(input)
    }

    fn output_payload(&self, output: &Self::Output) -> crate::value::Payload {
        self.inner.output_payload(output)
    }

    fn tool_call_id(&self, input: &Self::Input) -> Option<String> {
        self.inner.tool_call_id(input)
    }

    fn streams_after_run(&self) -> bool {
        self.inner.streams_after_run()
    }

    fn emits_own_chunks(&self) -> bool {
        self.inner.emits_own_chunks()
    }

    fn split_after_run(&self, output: Self::Output) -> Vec<Self::Output> {
        self.inner.split_after_run(output)
    }

    fn invoke_body<'a>(&'a self, input: R::Input) -> BoxFuture<'a, Result<R::Output>> {
        self.inner.invoke_body(input)
    }

    fn stream_body<'a>(&'a self, input: R::Input) -> ChunkStream<'a, R::Output> {
        self.inner.stream_body(input)
    }

    fn transforms_input(&self) -> bool {
        self.inner.transforms_input()
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, R::Input>) -> ChunkStream<'a, R::Output> {
        self.inner.transform_body(input)
    }
}

impl_pipe_operator!([R] WithConfig<R>);
