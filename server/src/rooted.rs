//! [`Rooted`]: the served runnable as the request's root run, telling the
//! handler that run's id (LangServe's `metadata.run_id` is the root run's).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use runwright::{ChunkStream, Map, Payload, RunConfig, RunContext, RunType, Runnable};
use uuid::Uuid;

/// `R` itself in every respect (name, run type, config, payloads, bodies),
/// so the run and its events are `R`'s; only, when its body is made, which
/// happens inside its run, it keeps that run's id.
pub(crate) struct Rooted<R> {
    inner: Arc<R>,
    run_id: Arc<OnceLock<Uuid>>,
}

impl<R> Rooted<R> {
    /// `inner`, and the slot its run's id lands in.
    pub(crate) fn new(inner: Arc<R>) -> (Self, Arc<OnceLock<Uuid>>) {
        let run_id = Arc::new(OnceLock::new());
        (
            Rooted {
                inner,
                run_id: run_id.clone(),
            },
            run_id,
        )
    }

    fn note_run(&self) {
        if self.run_id.get().is_none() {
            if let Some(run) = RunContext::current() {
                let _ = self.run_id.set(run.run_id());
            }
        }
    }
}

impl<R: Runnable> Runnable for Rooted<R> {
    type Input = R::Input;
    type Output = R::Output;

    fn name(&self) -> Cow<'_, str> {
        self.inner.name()
    }

    fn run_type(&self) -> RunType {
        self.inner.run_type()
    }

    fn config(&self) -> Option<&RunConfig> {
        self.inner.config()
    }

    fn own_metadata(&self) -> Option<&Map> {
        self.inner.own_metadata()
    }

    fn configurable_in_metadata(&self) -> &'static [&'static str] {
        self.inner.configurable_in_metadata()
    }

    fn input_payload(&self, input: &Self::Input) -> Payload {
        self.inner.input_payload(input)
    }

    fn output_payload(&self, output: &Self::Output) -> Payload {
        self.inner.output_payload(output)
    }

    fn tool_call_id(&self, input: &Self::Input) -> Option<String> {
        self.inner.tool_call_id(input)
    }

    fn emits_own_chunks(&self) -> bool {
        self.inner.emits_own_chunks()
    }

    fn streams_after_run(&self) -> bool {
        self.inner.streams_after_run()
    }

    fn split_after_run(&self, output: Self::Output) -> Vec<Self::Output> {
        self.inner.split_after_run(output)
    }

    fn invoke_body<'a>(&'a self, input: Self::Input) -> BoxFuture<'a, runwright::Result<Self::Output>> {
        self.note_run();
        self.inner.invoke_body(input)
    }

    fn stream_body<'a>(&'a self, input: Self::Input) -> ChunkStream<'a, Self::Output> {
        self.note_run();
        self.inner.stream_body(input)
    }

    fn transforms_input(&self) -> bool {
        self.inner.transforms_input()
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, Self::Input>) -> ChunkStream<'a, Self::Output> {
        self.note_run();
        self.inner.transform_body(input)
    }
}
