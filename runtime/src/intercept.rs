//! Interception of the runs that touch the outside world: chat models,
//! LLMs, tools, retrievers and steps marked as side effects. An
//! [`Interceptor`] installed with [`RunConfig::intercept`] sees each such
//! run beneath it before its body runs, and decides: run it, run it and
//! keep what it gives, or give back what was kept before without running
//! it. It is how a recording session (`runwright-recorder`'s `Recording`)
//! records a whole run and replays it offline.
//!
//! Like everything in the context it is inherited: nothing is passed by
//! hand, and a tool that calls a model is intercepted too. With no
//! interceptor installed a run pays one test of an empty field.
//!
//! A component can also put calls of its own through an interceptor it
//! keeps itself, installed nowhere
//! ([`intercept_stream`](crate::context::intercept_stream)): the recorder's
//! per-model `Recorder` does, so that a model's cassette and a whole-run
//! recording are kept by the same machinery.
//!
//! [`RunConfig::intercept`]: crate::RunConfig::intercept

use std::fmt;
use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Result};

/// What kind of run an intercepted call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallKind {
    /// A chat model's call.
    ChatModel,
    /// A text-completion model's call.
    Llm,
    /// A tool's run.
    Tool,
    /// A retriever's query.
    Retriever,
    /// A step marked as a side effect (`RunnableExt::side_effect`).
    SideEffect,
}

impl CallKind {
    /// `chat_model`, `llm`, `tool`, `retriever` or `side_effect`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::ChatModel => "chat_model",
            CallKind::Llm => "llm",
            CallKind::Tool => "tool",
            CallKind::Retriever => "retriever",
            CallKind::SideEffect => "side_effect",
        }
    }
}

impl fmt::Display for CallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One intercepted call, as the interceptor sees it before the body runs.
#[derive(Debug)]
#[non_exhaustive]
pub struct Call<'a> {
    /// What kind of run it is.
    pub kind: CallKind,
    /// Where it is in the run tree: the names of the runs from the root down
    /// to this one, each with its step tag (`tools [graph:step:2]`), so the
    /// same program gives the same path whatever the timing.
    pub path: &'a [String],
    /// Its input as JSON (its events' input).
    pub input: &'a Value,
    /// Its run id.
    pub run_id: Uuid,
    /// The ids of the runs above it, root first.
    pub parent_ids: &'a [Uuid],
    /// What of the call its runnable marks secret (a tool's
    /// [`secret_args`](crate::tools::Tool::secret_args) and
    /// [`secret_output`](crate::tools::Tool::secret_output)): an
    /// interceptor that keeps calls must not keep those.
    pub secrets: Secrets,
}

/// What of a call is secret: fields of its input (dotted paths into the
/// input as [`Call::input`] shows it: a tool's argument names) and whether
/// its output is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    /// Secret input fields.
    pub input: &'static [&'static str],
    /// The output is secret.
    pub output: bool,
}

impl Secrets {
    /// Nothing secret beyond what the interceptor's own rules find.
    pub const NONE: Secrets = Secrets {
        input: &[],
        output: false,
    };
}

impl Call<'_> {
    /// The run's name: the last element of its path, without the step tag.
    pub fn name(&self) -> &str {
        let last = self.path.last().map(String::as_str).unwrap_or_default();
        match last.find(" [") {
            Some(i) => &last[..i],
            None => last,
        }
    }
}

/// Something an intercepted run produced besides its output, in order.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CallItem {
    /// A streamed chunk, as JSON.
    Chunk(Value),
    /// A custom event the run dispatched itself
    /// ([`dispatch_custom_event`](crate::dispatch_custom_event)).
    Custom {
        /// Its name.
        name: String,
        /// Its data.
        data: Value,
    },
    /// An item the run wrote with [`stream_writer`](crate::stream_writer).
    Write(Value),
    /// In a replay only: wait this long before the next item, to give the
    /// items back at the pace they were recorded at. A running call never
    /// produces one: an interceptor that keeps the pace times the items
    /// itself.
    Pause(Duration),
}

/// How an intercepted run ended.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum CallOutcome {
    /// Its output as JSON (for a streamed run: `null`, the chunks are its
    /// output).
    Output(Value),
    /// It failed.
    Error(Error),
}

/// What to do with an intercepted call.
#[non_exhaustive]
pub enum Intercept {
    /// Run the body; keep nothing.
    Live,
    /// Run the body, and hand what it produces to this.
    Record(Box<dyn CallRecording>),
    /// Do not run the body: it produced these items, and ended so.
    Replay {
        /// The chunks, custom events and writes, in order.
        items: Vec<CallItem>,
        /// Its output or error.
        outcome: CallOutcome,
    },
    /// Do not run the body: fail with this error (a replay with no
    /// recorded answer).
    Fail(Error),
}

impl fmt::Debug for Intercept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Intercept::Live => f.write_str("Live"),
            Intercept::Record(_) => f.write_str("Record(..)"),
            Intercept::Replay { items, outcome } => f
                .debug_struct("Replay")
                .field("items", items)
                .field("outcome", outcome)
                .finish(),
            Intercept::Fail(e) => f.debug_tuple("Fail").field(e).finish(),
        }
    }
}

/// The keeper of one recorded call: told what the body produces.
pub trait CallRecording: Send {
    /// The body produced a chunk, dispatched a custom event or wrote an item.
    fn item(&mut self, item: CallItem);
    /// The body ended. Dropping a recording without `end` means the call was
    /// abandoned (its stream dropped early): keep nothing. An error (the
    /// recording could not be written) fails the call.
    fn end(self: Box<Self>, outcome: CallOutcome) -> Result<()>;
}

/// Decides what happens to the calls beneath the run it is installed on.
pub trait Interceptor: Send + Sync + 'static {
    /// A call of one of the [`CallKind`]s is starting.
    fn intercept(&self, call: &Call<'_>) -> Intercept;

    /// A run (of any kind) started beneath the interceptor, under the runs
    /// `parent_ids` (root first). A recorded call that has runs beneath it
    /// cannot be replayed without running its body, or their events would
    /// be missing.
    fn run_started(&self, parent_ids: &[Uuid]) {
        let _ = parent_ids;
    }

    /// A run dispatched a custom event or wrote an item: `run_id` is the
    /// run's own.
    fn item(&self, run_id: Uuid, item: CallItem) {
        let _ = (run_id, item);
    }
}

/// A recorded output made again from its JSON, as a replay does; `what`
/// names the runnable in the error when the JSON does not fit `T`.
pub fn replay_json<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| {
        Error::new(
            crate::error::ErrorKind::InvalidInput,
            format!("{what}: the recorded output does not fit the output type: {e}"),
        )
    })
}
