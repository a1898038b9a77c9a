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
}

impl TaskMeta {
    pub(super) fn id(&self) -> uuid::Uuid {
        *self.id.get_or_init(uuid::Uuid::new_v4)
    }

    fn checkpoint_ns(&self) -> String {
        format!("{}:{}", self.node, self.id())
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
    /// Other tasks run in the same step (the gate, and this task's index in
    /// it): this one lets them start before it runs, and ends once every one
    /// of them has streamed its update (or failed) and those before it have
    /// ended, as LangGraph's tasks of one step show.
    pub(super) step: Option<(Arc<StepGate>, usize)>,
}

/// Where the tasks of one step meet. The step's tasks are polled by one
/// join, so they share its waker; the gate is made once per step with
/// several tasks, never per event.
pub(super) struct StepGate {
    state: parking_lot::Mutex<GateState>,
}

struct GateState {
    /// How many tasks have their update out (or failed).
    arrived: usize,
    /// Which tasks have ended (or failed).
    done: Vec<bool>,
    wakers: Vec<std::task::Waker>,
}

impl StepGate {
    pub(super) fn new(tasks: usize) -> Self {
        StepGate {
            state: parking_lot::Mutex::new(GateState {
                arrived: 0,
                done: vec![false; tasks],
                wakers: Vec::new(),
            }),
        }
    }

    fn wake(st: &mut GateState) {
        for w in st.wakers.drain(..) {
            w.wake();
        }
    }

    /// Task `i` has its update out; a failed task is done at once.
    fn arrive(&self, i: usize, failed: bool) {
        let mut st = self.state.lock();
        st.arrived += 1;
        if failed {
            st.done[i] = true;
        }
        Self::wake(&mut st);
    }

    /// Waits until every task has arrived and those before task `i` are done.
    fn turn(&self, i: usize) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut st = self.state.lock();
            if st.arrived == st.done.len() && st.done[..i].iter().all(|d| *d) {
                return std::task::Poll::Ready(());
            }
            if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                st.wakers.push(cx.waker().clone());
            }
            std::task::Poll::Pending
        })
    }

    /// Task `i` ends (its end event follows in the same poll).
    fn done(&self, i: usize) {
        let mut st = self.state.lock();
        st.done[i] = true;
        Self::wake(&mut st);
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
            if self.step.is_some() {
                GiveWay(false).await;
            }
            let update = self.update(input).await;
            if let Some((gate, i)) = &self.step {
                gate.arrive(*i, update.is_err());
            }
            yield update?;
            if let Some((gate, i)) = &self.step {
                gate.turn(*i).await;
                gate.done(*i);
            }
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
