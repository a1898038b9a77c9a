//! A step's tasks: what a task is, the `langgraph_*` metadata of its node
//! run ([`TaskMeta`], a [`LazyMetadata`]), and the task as a run (the node's
//! body, then its traced routers).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value as Json};

use super::builder::{Body, Node};
use super::pregel::{to_state, Inner};
use super::routing::{Route, RouterRun};
use crate::context::{CallOpts, LazyMetadata};
use crate::error::{Error, ErrorKind, Result};
use crate::events::StepTag;
use crate::runnable::{ChunkStream, Runnable};
use crate::value::{Data, Map, Payload};

/// One node run's `langgraph_*` metadata (and its task id), built only when
/// something reads them: a listener,
/// [`RunContext::metadata`](crate::context::RunContext::metadata), the
/// `debug` or `messages` stream modes.
pub(super) struct TaskMeta {
    pub(super) step: usize,
    pub(super) node: Arc<str>,
    /// The index of the [`SendTo`](super::SendTo) that made the task (a
    /// pushed task).
    pub(super) push: Option<usize>,
    /// The waiting edges into the node, which trigger it too.
    pub(super) joins: Option<Arc<[Arc<str>]>>,
    pub(super) id: OnceLock<uuid::Uuid>,
    /// The namespace of the task's graph (none: the root graph).
    pub(super) graph_ns: Option<Arc<str>>,
}

impl TaskMeta {
    pub(super) fn id(&self) -> uuid::Uuid {
        *self.id.get_or_init(uuid::Uuid::new_v4)
    }

    /// The task's namespace: `<node>:<task id>`, after its graph's.
    pub(super) fn checkpoint_ns(&self) -> String {
        match &self.graph_ns {
            Some(ns) => format!("{ns}|{}:{}", self.node, self.id()),
            None => format!("{}:{}", self.node, self.id()),
        }
    }

    pub(super) fn triggers(&self) -> Json {
        match self.push {
            Some(_) => json!(["__pregel_push"]),
            None => {
                let mut t = vec![Json::from(format!("branch:to:{}", self.node))];
                t.extend(self.joins.iter().flat_map(|j| j.iter().map(|c| Json::from(&**c))));
                Json::Array(t)
            }
        }
    }

    fn path(&self) -> Json {
        match self.push {
            Some(i) => json!(["__pregel_push", i, false]),
            None => json!(["__pregel_pull", &*self.node]),
        }
    }
}

impl LazyMetadata for TaskMeta {
    fn metadata(&self) -> Map {
        let mut m = Map::new();
        m.insert("langgraph_step".into(), self.step.into());
        m.insert("langgraph_node".into(), Json::from(&*self.node));
        m.insert("langgraph_triggers".into(), self.triggers());
        m.insert("langgraph_path".into(), self.path());
        m.insert("langgraph_checkpoint_ns".into(), self.checkpoint_ns().into());
        m
    }

    fn child_metadata(&self) -> Map {
        let mut m = Map::new();
        m.insert("checkpoint_ns".into(), self.checkpoint_ns().into());
        m
    }
}

/// What a node run is given: the state as JSON (what listeners, `debug` and
/// nodes on raw JSON see), or, when nobody needs the JSON, the typed state
/// itself.
#[derive(Clone)]
pub(super) enum NodeInput<S> {
    Json(Json),
    State(S),
}

impl<S: Serialize> Serialize for NodeInput<S> {
    fn serialize<Z: serde::Serializer>(&self, s: Z) -> std::result::Result<Z::Ok, Z::Error> {
        match self {
            NodeInput::Json(j) => j.serialize(s),
            NodeInput::State(v) => v.serialize(s),
        }
    }
}

impl<S> crate::value::Chunk for NodeInput<S> {}

/// One task of a step: a node on its input.
pub(super) struct Task<S> {
    pub(super) node: usize,
    pub(super) input: NodeInput<S>,
    pub(super) meta: Arc<TaskMeta>,
    /// Where its traced routers put the routes they pick (when it has some).
    pub(super) routes: Option<Arc<parking_lot::Mutex<Vec<Route>>>>,
}

/// A task as a run: the node's body, then its traced routers on the state
/// with the node's update applied. The routes they pick are handed back.
pub(super) struct TaskRun<'a, S> {
    pub(super) inner: &'a Inner<S>,
    pub(super) node: &'a Node<S>,
    pub(super) traced: &'a [usize],
    pub(super) state: &'a Map,
    pub(super) remaining: Option<i64>,
    pub(super) routes: Option<Arc<parking_lot::Mutex<Vec<Route>>>>,
    /// Other tasks run in the same step: this one waits, once started,
    /// until every one of them has started too.
    pub(super) step: Option<Arrival<'a>>,
}

/// Where the tasks of one step with several tasks meet before running: each
/// starts, then waits until all have started, so every start comes before
/// any update streams (as in LangGraph, which starts them all before running
/// any). Nothing waits after that: each task streams and ends as it
/// completes. Lives on the stack of the superstep loop; the only allocation
/// is the waker list, once a task waits.
pub(super) struct StepStart {
    state: parking_lot::Mutex<StartState>,
}

struct StartState {
    /// How many tasks have not started yet.
    left: usize,
    wakers: Vec<std::task::Waker>,
}

impl StepStart {
    pub(super) fn new(tasks: usize) -> Self {
        StepStart {
            state: parking_lot::Mutex::new(StartState {
                left: tasks,
                wakers: Vec::new(),
            }),
        }
    }

    /// A task has started; the last one wakes those waiting and is told so.
    fn arrive(&self) -> bool {
        let mut st = self.state.lock();
        st.left = st.left.saturating_sub(1);
        if st.left > 0 {
            return false;
        }
        for w in st.wakers.drain(..) {
            w.wake();
        }
        true
    }

    /// Waits until every task has started.
    fn all_started(&self) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut st = self.state.lock();
            if st.left == 0 {
                return std::task::Poll::Ready(());
            }
            // The tasks of one step usually share the join's waker.
            if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                st.wakers.push(cx.waker().clone());
            }
            std::task::Poll::Pending
        })
    }
}

/// One task's place at its step's [`StepStart`]: it arrives once, when its
/// body first runs, or when it is dropped without having run (so a task that
/// never got that far holds nobody up).
pub(super) struct Arrival<'a> {
    gate: &'a StepStart,
    arrived: std::sync::atomic::AtomicBool,
}

impl<'a> Arrival<'a> {
    pub(super) fn new(gate: &'a StepStart) -> Self {
        Arrival {
            gate,
            arrived: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Arrives (if not yet) and waits for the others. The last to arrive
    /// gives way once, so that the step's tasks then go on in task order
    /// as far as their completion allows.
    async fn wait_for_siblings(&self) {
        if self.arrived.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        if self.gate.arrive() {
            GiveWay(false).await;
        } else {
            self.gate.all_started().await;
        }
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        if !*self.arrived.get_mut() {
            self.gate.arrive();
        }
    }
}

/// Gives way once to the other futures of a join.
struct GiveWay(bool);

impl std::future::Future for GiveWay {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

impl<'a, S> Runnable for TaskRun<'a, S>
where
    S: Data + DeserializeOwned,
{
    type Input = NodeInput<S>;
    type Output = Json;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.node.name)
    }

    fn input_payload(&self, input: &NodeInput<S>) -> Payload {
        match input {
            NodeInput::Json(j) => Payload::new(j.clone()),
            NodeInput::State(s) => Payload::new(s.clone()),
        }
    }

    fn invoke_body<'b>(&'b self, input: NodeInput<S>) -> BoxFuture<'b, Result<Json>> {
        let out = self.stream_body(input);
        Box::pin(async move { Ok(crate::runnable::collect(out).await?.unwrap_or(Json::Null)) })
    }

    fn stream_body<'b>(&'b self, input: NodeInput<S>) -> ChunkStream<'b, Json> {
        Box::pin(async_stream::try_stream! {
            if let Some(arrival) = &self.step {
                arrival.wait_for_siblings().await;
            }
            yield self.update(input).await?;
        })
    }
}

impl<S> TaskRun<'_, S>
where
    S: Data + DeserializeOwned,
{
    /// The node's update, once its traced routers have run.
    async fn update(&self, input: NodeInput<S>) -> Result<Json> {
        let body: ChunkStream<'_, Json> = match (&self.node.body, input) {
            (Body::State(r), NodeInput::State(s)) => r.stream_body(s),
            (Body::State(r), NodeInput::Json(input)) => {
                let s: S = serde_json::from_value(input).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!("node `{}`: its input does not fit the state type: {e}", self.node.name),
                    )
                })?;
                r.stream_body(s)
            }
            (Body::Raw(r), NodeInput::Json(input)) => r.stream_body(input),
            (Body::Raw(r), NodeInput::State(s)) => r.stream_body(serde_json::to_value(&s)?),
        };
        let update = crate::runnable::collect(body).await?.unwrap_or(Json::Null);
        if let (false, Some(picked)) = (self.traced.is_empty(), &self.routes) {
            let mut after = self.state.clone();
            self.inner.apply(&mut after, &self.node.name, update.clone(), false)?;
            let view: S = to_state(&mut self.inner.node_view(&after, self.remaining))?;
            for &b in self.traced {
                let b = &self.inner.branches[b];
                let router = RouterRun {
                    name: b.traced.as_deref().unwrap_or_default(),
                    route: &b.route,
                    picked: picked.clone(),
                };
                let opts = CallOpts {
                    step: Some(StepTag::Seq(3)),
                    structural: true,
                    ..Default::default()
                };
                crate::runnable::run::invoke(&router, view.clone(), opts).await?;
            }
        }
        Ok(update)
    }
}
