//! Stopping a graph run to ask a person ([`interrupt`]) and going on
//! ([`Command`]).
//!
//! A node, or anything it calls at any depth (a tool, a chain), calls
//! [`interrupt`] with a value for the person. The first time, the call
//! fails with [`ErrorKind::Interrupted`]; returned with `?`, it stops the
//! run: the state and the step's finished tasks are saved, and the stream
//! shows the interrupt as LangGraph does (`{"__interrupt__": [...]}`). A
//! run with [`Command::resume`] runs the interrupted node again from its
//! start; this time `interrupt` returns the resume value. A node that calls
//! `interrupt` several times gets the resume values in order, one per run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::routing::SendTo;
use crate::context::RunContext;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Map;

/// A question a run stopped on: the value given to [`interrupt`] and the
/// interrupt's id (to resume several interrupts by id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interrupt {
    /// What the node asked.
    pub value: Json,
    /// The interrupt's id: the same on every run of the same task and call.
    pub id: String,
}

/// The error [`interrupt`] fails with (its source): the interrupts.
#[derive(Debug, Clone)]
pub struct GraphInterrupt(pub Vec<Interrupt>);

impl std::fmt::Display for GraphInterrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let values: Vec<String> = self.0.iter().map(|i| i.value.to_string()).collect();
        write!(f, "interrupted: {}", values.join(", "))
    }
}

impl std::error::Error for GraphInterrupt {}

impl GraphInterrupt {
    /// The interrupts an error carries, when it is an interrupt.
    pub fn of(e: &Error) -> Option<&[Interrupt]> {
        if e.kind() != ErrorKind::Interrupted {
            return None;
        }
        let source = std::error::Error::source(e)?;
        source.downcast_ref::<GraphInterrupt>().map(|g| &g.0[..])
    }
}

/// How to go on with a thread (LangGraph's `Command`): the value an
/// interrupt returns when its node runs again, an update to the state
/// first, nodes to go to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// The resume value: one value for the one pending interrupt, or, with
    /// [`resume_by_id`](Self::resume_by_id), a value per interrupt id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
    /// An update applied to the state before the step runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Json>,
    /// Nodes to run next (in addition to those due).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goto: Vec<Goto>,
}

/// What a [`Command`] resumes with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Resume {
    /// The value for the one pending interrupt.
    Value(Json),
    /// A value per interrupt id.
    ById(std::collections::BTreeMap<String, Json>),
}

/// Where a [`Command`] goes: a node on the state, or a node on its own input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Goto {
    /// A node, on the state.
    Node(String),
    /// A node on its own input.
    Send {
        /// The node.
        node: String,
        /// Its input.
        arg: Json,
    },
}

impl From<SendTo> for Goto {
    fn from(s: SendTo) -> Self {
        Goto::Send {
            node: s.node,
            arg: s.arg,
        }
    }
}

impl Command {
    /// Resumes the one pending interrupt with `value`.
    pub fn resume(value: impl Serialize) -> Self {
        Command {
            resume: Some(Resume::Value(serde_json::to_value(value).unwrap_or(Json::Null))),
            ..Default::default()
        }
    }

    /// Resumes each interrupt named by id with its value.
    pub fn resume_by_id(values: impl IntoIterator<Item = (String, Json)>) -> Self {
        Command {
            resume: Some(Resume::ById(values.into_iter().collect())),
            ..Default::default()
        }
    }

    /// Also applies `update` to the state (a JSON object of state keys)
    /// before the step.
    #[must_use]
    pub fn with_update(mut self, update: Json) -> Self {
        self.update = Some(update);
        self
    }

    /// Also runs node `node` next.
    #[must_use]
    pub fn with_goto(mut self, to: impl Into<Goto>) -> Self {
        self.goto.push(to.into());
        self
    }

    /// An update alone.
    pub fn update(update: Json) -> Self {
        Command {
            update: Some(update),
            ..Default::default()
        }
    }
}

impl From<&str> for Goto {
    fn from(s: &str) -> Self {
        Goto::Node(s.to_owned())
    }
}

impl From<String> for Goto {
    fn from(s: String) -> Self {
        Goto::Node(s)
    }
}

/// What a task's run knows of its interrupts: the values its earlier
/// interrupts were resumed with, in order, and the value a [`Command`]
/// gave for the next one. Attached to the task's run; found from any run
/// beneath it.
pub(super) struct TaskScratch {
    /// The task's id (an interrupt's id is made from it).
    pub(super) task_id: uuid::Uuid,
    /// The thread the task runs on, for a subgraph it runs: saved under the
    /// task's namespace, in the same thread.
    pub(super) thread: Option<super::durable::ThreadRef>,
    /// The values interrupts were resumed with, in the order of the calls.
    pub(super) resumed: parking_lot::Mutex<Vec<Json>>,
    /// The value for the first interrupt not resumed yet.
    pub(super) next: parking_lot::Mutex<Option<Json>>,
    /// How many times `interrupt` was called in this run of the task.
    calls: AtomicUsize,
    /// A resume value no pending interrupt waited for: the first
    /// `interrupt` call of the step that has no answer takes it
    /// (LangGraph's global resume write).
    global: Option<GlobalResume>,
}

/// A step's resume value for whichever task asks first.
pub(super) type GlobalResume = Arc<parking_lot::Mutex<Option<Json>>>;

impl TaskScratch {
    pub(super) fn new(
        task_id: uuid::Uuid,
        thread: Option<super::durable::ThreadRef>,
        resumed: Vec<Json>,
        next: Option<Json>,
    ) -> Self {
        TaskScratch {
            task_id,
            thread,
            resumed: parking_lot::Mutex::new(resumed),
            next: parking_lot::Mutex::new(next),
            calls: AtomicUsize::new(0),
            global: None,
        }
    }

    /// Also lets the task take the step's global resume value.
    pub(super) fn with_global(mut self, global: GlobalResume) -> Self {
        self.global = Some(global);
        self
    }

    /// The id of call `n` of `interrupt` in this task.
    pub(super) fn interrupt_id(task_id: &uuid::Uuid, n: usize) -> String {
        let name = format!("{task_id}:interrupt:{n}");
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes())
            .simple()
            .to_string()
    }

    fn call(&self, value: Json) -> Result<Json> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        let mut resumed = self.resumed.lock();
        if let Some(v) = resumed.get(n) {
            return Ok(v.clone());
        }
        if n == resumed.len() {
            let global = || self.global.as_ref().and_then(|g| g.lock().take());
            if let Some(v) = self.next.lock().take().or_else(global) {
                resumed.push(v.clone());
                return Ok(v);
            }
        }
        Err(Error::from_source(
            ErrorKind::Interrupted,
            GraphInterrupt(vec![Interrupt {
                value,
                id: Self::interrupt_id(&self.task_id, n),
            }]),
        ))
    }
}

/// Stops the graph run to ask `value` of a person; returns the value the
/// run is resumed with ([`Command::resume`]).
///
/// Call it from a node, or from anything a node calls (a tool, a chain), and
/// return its error with `?`: the run stops, its state saved by the graph's
/// checkpointer; the thread's next run with a [`Command`] runs the node
/// again from its start, and this call then returns the resume value. It
/// needs a graph compiled with a checkpointer and run on a thread.
///
/// ```
/// use std::sync::Arc;
/// use serde::{Deserialize, Serialize};
/// use serde_json::json;
/// use runwright::graph::{checkpoint::InMemorySaver, interrupt, Command, StateGraph, END, START};
/// use runwright::{RunConfig, RunnableExt};
///
/// #[derive(Clone, Debug, Serialize, Deserialize)]
/// struct State { action: String, approved: Option<bool> }
/// impl runwright::Chunk for State {}
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let graph = StateGraph::<State>::new()
///     .add_node("ask", |s: State| async move {
///         let approved: bool = interrupt(json!({"approve": s.action}))?;
///         Ok(json!({"approved": approved}))
///     })
///     .add_edge(START, "ask")
///     .add_edge("ask", END)
///     .checkpointer(Arc::new(InMemorySaver::new()))
///     .compile()?;
/// let thread = RunConfig::new().configurable("thread_id", "t1");
/// let state = graph.invoke_with(State { action: "deploy".into(), approved: None }, thread.clone()).await?;
/// assert_eq!(state.approved, None); // stopped at the interrupt
/// let asked = graph.get_state(thread.clone()).await?.interrupts;
/// assert_eq!(asked[0].value, json!({"approve": "deploy"}));
/// let state = graph.resume(Command::resume(true), thread).await?;
/// assert_eq!(state.approved, Some(true));
/// # Ok(()) }
/// ```
pub fn interrupt<T: DeserializeOwned>(value: impl Serialize) -> Result<T> {
    let value = serde_json::to_value(value)?;
    let scratch = task_scratch().ok_or_else(|| {
        Error::new(
            ErrorKind::Usage,
            "interrupt() was called outside a graph node run on a thread: call it from a node (or from what \
             a node calls) of a graph compiled with a checkpointer, run with a `thread_id`",
        )
    })?;
    let answer = scratch.call(value)?;
    serde_json::from_value(answer.clone()).map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("the value the interrupt was resumed with ({answer}) does not fit the type asked for: {e}"),
        )
    })
}

/// The scratch of the graph task the current run is in.
fn task_scratch() -> Option<Arc<TaskScratch>> {
    enclosing_scratch(RunContext::current())
}

/// The scratch of the graph task `ctx` (or a run above it) is in.
pub(super) fn enclosing_scratch(ctx: Option<Arc<RunContext>>) -> Option<Arc<TaskScratch>> {
    let mut ctx = ctx;
    while let Some(c) = ctx {
        if let Some(s) = c.extension::<TaskScratch>() {
            return Some(s);
        }
        ctx = c.parent().cloned();
    }
    None
}

/// The interrupts as a stream item shows them: `[{"value", "id"}, ...]`.
pub(super) fn interrupts_json(interrupts: &[Interrupt]) -> Json {
    Json::Array(
        interrupts
            .iter()
            .map(|i| {
                let mut m = Map::new();
                m.insert("value".into(), i.value.clone());
                m.insert("id".into(), i.id.clone().into());
                Json::Object(m)
            })
            .collect(),
    )
}
