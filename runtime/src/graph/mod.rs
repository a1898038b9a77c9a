//! Graphs of steps over a shared state (LangGraph's `StateGraph`), run in
//! supersteps, with LangGraph's stream modes.
//!
//! A node is a function (or runnable) from the state to a partial update;
//! updates are folded into the state key by key with each key's
//! [`Reducer`]. Nodes triggered in the same step run concurrently, and their
//! updates are applied after the step in the order the nodes were added.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use serde_json::json;
//! use runwright::graph::{StateGraph, END, START};
//! use runwright::RunnableExt;
//!
//! #[derive(Clone, Serialize, Deserialize)]
//! struct State { x: i64 }
//! impl runwright::Chunk for State {}
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
//! let graph = StateGraph::<State>::new()
//!     .add_node("double", |s: State| async move { Ok(json!({"x": s.x * 2})) })
//!     .add_edge(START, "double")
//!     .add_edge("double", END)
//!     .compile()?;
//! assert_eq!(graph.invoke(State { x: 21 }).await?.x, 42);
//! # Ok(()) }
//! ```

mod prebuilt;
mod reducer;
mod stream;

use std::any::Any;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::config::RunConfig;
use crate::context::{current, CallOpts, ChildDefaults, ItemSink, LazyMetadata, RunContext};
use crate::error::{Error, ErrorKind, Result};
use crate::events::StepTag;
use crate::events::{EventData, EventPhase};
use crate::runnable::run::{RunStream, Source};
use crate::runnable::{BoxRunnable, ChunkStream, Lambda, RunType, Runnable};
use crate::value::{Data, Map, Payload};

pub use prebuilt::{create_react_agent, AgentState, GraphTool, ToolNode};
pub use reducer::Reducer;
pub use stream::{GraphStream, StreamMode};

/// The graph's entry: `add_edge(START, "first_node")`.
pub const START: &str = "__start__";
/// The graph's exit: `add_edge("last_node", END)`.
pub const END: &str = "__end__";

/// The recursion limit when the config sets none (LangGraph's default).
pub const DEFAULT_RECURSION_LIMIT: usize = 25;

type Router<S> = Arc<dyn Fn(&S) -> Result<Vec<Route>> + Send + Sync>;

/// A task sent to a node with its own input (LangGraph's `Send`): the node
/// runs once per `Send`, on `arg` instead of the state. A conditional edge
/// returns them to fan out, as the prebuilt agent does for tool calls.
#[derive(Clone, Debug, PartialEq)]
pub struct SendTo {
    /// The node to run.
    pub node: String,
    /// Its input.
    pub arg: Json,
}

impl SendTo {
    /// A task for `node` with input `arg`.
    pub fn new(node: impl Into<String>, arg: Json) -> Self {
        SendTo { node: node.into(), arg }
    }
}

impl Serialize for SendTo {
    /// LangChain's encoding: `{"type": "Send", "node", "arg"}`.
    fn serialize<Z: serde::Serializer>(&self, s: Z) -> std::result::Result<Z::Ok, Z::Error> {
        json!({"type": "Send", "node": self.node, "arg": self.arg}).serialize(s)
    }
}

/// Where a conditional edge goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// Run this node on the state ([`END`] stops).
    Node(String),
    /// Run a node on its own input.
    Send(SendTo),
}

impl Route {
    fn to_json(routes: &[Route]) -> Json {
        match routes {
            [Route::Node(n)] => Json::String(n.clone()),
            _ => Json::Array(
                routes
                    .iter()
                    .map(|r| match r {
                        Route::Node(n) => Json::String(n.clone()),
                        Route::Send(s) => json!({"type": "Send", "node": s.node, "arg": s.arg}),
                    })
                    .collect(),
            ),
        }
    }
}

/// What a conditional edge may return: a node name, several, [`END`], or
/// [`SendTo`]s.
pub trait Targets {
    /// The routes.
    fn into_routes(self) -> Vec<Route>;
}

impl Targets for &str {
    fn into_routes(self) -> Vec<Route> {
        vec![Route::Node(self.to_owned())]
    }
}

impl Targets for String {
    fn into_routes(self) -> Vec<Route> {
        vec![Route::Node(self)]
    }
}

impl<T: Into<String>> Targets for Vec<T> {
    fn into_routes(self) -> Vec<Route> {
        self.into_iter().map(|t| Route::Node(t.into())).collect()
    }
}

impl Targets for SendTo {
    fn into_routes(self) -> Vec<Route> {
        vec![Route::Send(self)]
    }
}

impl Targets for Vec<Route> {
    fn into_routes(self) -> Vec<Route> {
        self
    }
}

/// A node's body: on the state, or (a node fed by [`SendTo`]s) on raw JSON.
enum Body<S> {
    State(BoxRunnable<S, Json>),
    Raw(BoxRunnable<Json, Json>),
}

struct Node<S> {
    name: Arc<str>,
    body: Body<S>,
}

struct Branch<S> {
    from: String,
    route: Router<S>,
    /// Traced branches run inside the source node's run, as a chain run of
    /// this name (LangGraph traces named routing functions).
    traced: Option<Arc<str>>,
}

/// A node's output as JSON: moved when it already is JSON, serialized
/// otherwise (serializing a JSON value only copies it).
fn update_json<U: Serialize + 'static>(update: U) -> Result<Json> {
    let mut slot = Some(update);
    let any: &mut dyn Any = &mut slot;
    match any.downcast_mut::<Option<Json>>() {
        Some(json) => Ok(json.take().unwrap_or(Json::Null)),
        None => Ok(serde_json::to_value(slot)?),
    }
}

/// A runnable's output as a JSON update.
struct ToUpdate<R>(R);

impl<R> Runnable for ToUpdate<R>
where
    R: Runnable,
{
    type Input = R::Input;
    type Output = Json;

    fn name(&self) -> Cow<'_, str> {
        self.0.name()
    }

    fn invoke_body<'a>(&'a self, input: R::Input) -> BoxFuture<'a, Result<Json>> {
        let fut = self.0.invoke_body(input);
        Box::pin(async move { update_json(fut.await?) })
    }

    fn stream_body<'a>(&'a self, input: R::Input) -> ChunkStream<'a, Json> {
        Box::pin(self.0.stream_body(input).map(|c| c.and_then(update_json)))
    }
}

/// A graph under construction. See the [module docs](self).
pub struct StateGraph<S> {
    reducers: HashMap<String, Reducer>,
    nodes: Vec<Node<S>>,
    edges: Vec<(String, String)>,
    branches: Vec<Branch<S>>,
    remaining_steps: Option<String>,
    errors: Vec<String>,
    _state: PhantomData<fn() -> S>,
}

impl<S> Default for StateGraph<S>
where
    S: Data + DeserializeOwned,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<S> StateGraph<S>
where
    S: Data + DeserializeOwned,
{
    /// A graph with no nodes; every state key replaces its old value unless
    /// [`reducer`](Self::reducer) says otherwise.
    pub fn new() -> Self {
        StateGraph {
            reducers: HashMap::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
            branches: Vec::new(),
            remaining_steps: None,
            errors: Vec::new(),
            _state: PhantomData,
        }
    }

    /// Sets how updates to state key `key` are applied.
    pub fn reducer(mut self, key: impl Into<String>, reducer: Reducer) -> Self {
        self.reducers.insert(key.into(), reducer);
        self
    }

    /// Gives every node's input a key `key` holding how many steps remain
    /// before the recursion limit (LangGraph's `RemainingSteps` managed
    /// value). It is never part of the state itself.
    pub fn remaining_steps(mut self, key: impl Into<String>) -> Self {
        self.remaining_steps = Some(key.into());
        self
    }

    fn push_node(mut self, name: &str, body: Body<S>) -> Self {
        if name == START || name == END {
            self.errors.push(format!("`{name}` is reserved and cannot name a node"));
        } else if self.nodes.iter().any(|n| &*n.name == name) {
            self.errors.push(format!("node `{name}` is added twice"));
        }
        self.nodes.push(Node {
            name: Arc::from(name),
            body,
        });
        self
    }

    /// Adds a node running an async function of the state that returns a
    /// partial update (anything serializing to a JSON object).
    pub fn add_node<F, Fut, U>(self, name: &str, f: F) -> Self
    where
        F: Fn(S) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<U>> + Send + 'static,
        U: Serialize + Send + 'static,
    {
        let step = Lambda::from_async(move |s: S| {
            let fut = f(s);
            async move { update_json(fut.await?) }
        });
        self.push_node(name, Body::State(BoxRunnable::new(step)))
    }

    /// Adds a node running a sync function of the state.
    pub fn add_sync_node<F, U>(self, name: &str, f: F) -> Self
    where
        F: Fn(S) -> Result<U> + Send + Sync + 'static,
        U: Serialize + Send + 'static,
    {
        let step = Lambda::from_fn(move |s: S| update_json(f(s)?));
        self.push_node(name, Body::State(BoxRunnable::new(step)))
    }

    /// Adds a node running any runnable on the state; its output is the
    /// update.
    pub fn add_runnable_node<R>(self, name: &str, runnable: R) -> Self
    where
        R: Runnable<Input = S> + 'static,
    {
        self.push_node(name, Body::State(BoxRunnable::new(ToUpdate(runnable))))
    }

    /// Adds a node whose input is raw JSON: the state as JSON when an edge
    /// leads to it, a [`SendTo`]'s `arg` when a conditional edge sends to it.
    pub fn add_json_node<F, Fut>(self, name: &str, f: F) -> Self
    where
        F: Fn(Json) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Json>> + Send + 'static,
    {
        let step = Lambda::from_async(f);
        self.push_node(name, Body::Raw(BoxRunnable::new(step)))
    }

    /// After `from`, run `to` ([`START`] and [`END`] allowed).
    pub fn add_edge(mut self, from: &str, to: &str) -> Self {
        self.edges.push((from.to_owned(), to.to_owned()));
        self
    }

    /// After `from`, run the nodes `route` picks from the state ([`END`] to
    /// stop, [`SendTo`]s to fan out).
    pub fn add_conditional_edges<F, T>(mut self, from: &str, route: F) -> Self
    where
        F: Fn(&S) -> T + Send + Sync + 'static,
        T: Targets,
    {
        self.branches.push(Branch {
            from: from.to_owned(),
            route: Arc::new(move |s: &S| Ok(route(s).into_routes())),
            traced: None,
        });
        self
    }

    /// [`add_conditional_edges`](Self::add_conditional_edges) with a routing
    /// function that shows in events: it runs inside `from`'s run, as a
    /// chain run named `name`, on the state with `from`'s update applied.
    pub fn add_named_conditional_edges<F, T>(mut self, from: &str, name: &str, route: F) -> Self
    where
        F: Fn(&S) -> T + Send + Sync + 'static,
        T: Targets,
    {
        self.branches.push(Branch {
            from: from.to_owned(),
            route: Arc::new(move |s: &S| Ok(route(s).into_routes())),
            traced: Some(Arc::from(name)),
        });
        self
    }

    /// Checks the graph and makes it runnable. Every edge must name nodes that
    /// exist, and something must leave [`START`].
    pub fn compile(self) -> Result<CompiledGraph<S>> {
        let mut errors = self.errors;
        let known = |n: &str| n == START || n == END || self.nodes.iter().any(|x| &*x.name == n);
        for (from, to) in &self.edges {
            for n in [from, to] {
                if !known(n) {
                    errors.push(format!("edge {from} -> {to} names an unknown node `{n}`"));
                }
            }
            if from == END {
                errors.push(format!("edge {from} -> {to} leaves END"));
            }
        }
        for b in &self.branches {
            if !known(&b.from) {
                errors.push(format!("conditional edge from unknown node `{}`", b.from));
            }
            if b.traced.is_some() && b.from == START {
                errors.push("a named conditional edge cannot leave START (it runs inside its node)".to_owned());
            }
        }
        if !self.edges.iter().any(|(f, _)| f == START) && !self.branches.iter().any(|b| b.from == START) {
            errors.push("nothing leaves START: add an edge from START".to_owned());
        }
        if !errors.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("the graph is not valid: {}", errors.join("; ")),
            ));
        }
        let exits = |from: &str| Exits {
            hops: self
                .edges
                .iter()
                .filter(|(f, _)| f == from)
                .map(|(_, to)| match self.nodes.iter().position(|n| &*n.name == to) {
                    Some(i) => Hop::Node(i),
                    None if to == END => Hop::End,
                    None => Hop::Name(to.clone()),
                })
                .collect(),
            plain: (0..self.branches.len())
                .filter(|&i| self.branches[i].from == from && self.branches[i].traced.is_none())
                .collect(),
            traced: (0..self.branches.len())
                .filter(|&i| self.branches[i].from == from && self.branches[i].traced.is_some())
                .collect(),
        };
        let start = exits(START);
        let node_exits = self.nodes.iter().map(|n| exits(&n.name)).collect();
        Ok(CompiledGraph {
            inner: Arc::new(Inner {
                reducers: self.reducers,
                nodes: self.nodes,
                branches: self.branches,
                start,
                exits: node_exits,
                remaining_steps: self.remaining_steps,
                config: RunConfig::new().metadata("ls_integration", "langgraph"),
            }),
        })
    }
}

/// Where an edge leads, resolved when the graph is compiled.
enum Hop {
    Node(usize),
    End,
    /// Not a node ([`START`]): refused when taken, as a router's bad pick is.
    Name(String),
}

/// A route taken, resolved or not.
enum Pick {
    Node(usize),
    Route(Route),
}

/// What leaves a node (or [`START`]): its edges, then its untraced and its
/// traced conditional edges (indices into the branches).
struct Exits {
    hops: Vec<Hop>,
    plain: Vec<usize>,
    traced: Vec<usize>,
}

struct Inner<S> {
    reducers: HashMap<String, Reducer>,
    nodes: Vec<Node<S>>,
    branches: Vec<Branch<S>>,
    start: Exits,
    /// What leaves each node, by index.
    exits: Vec<Exits>,
    remaining_steps: Option<String>,
    config: RunConfig,
}

/// A graph ready to run: a [`Runnable`] named `LangGraph` from a state to the
/// final state. Streaming it yields the state after each step; its events
/// show each node as a chain run tagged `graph:step:N` and the graph's
/// updates as its stream chunks. [`stream_modes`](Self::stream_modes) gives
/// LangGraph's stream modes.
pub struct CompiledGraph<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for CompiledGraph<S> {
    fn clone(&self) -> Self {
        CompiledGraph {
            inner: self.inner.clone(),
        }
    }
}

/// A stream-mode item as it was handed over; it becomes JSON once, when the
/// stream yields it.
pub(crate) enum Item {
    Json(Json),
    Payload(Payload),
}

impl Item {
    pub(crate) fn into_json(self) -> Json {
        match self {
            Item::Json(j) => j,
            Item::Payload(p) => p.into_json(),
        }
    }

    fn into_payload(self) -> Payload {
        match self {
            Item::Json(j) => Payload::new(j),
            Item::Payload(p) => p,
        }
    }
}

/// With its own queue, an outlet puts one marker in the sink for this many
/// items waiting, so the sink's backpressure still paces the run.
const ITEMS_PER_MARKER: usize = 64;

/// Where a graph run hands its stream-mode items.
///
/// Without `messages`, nothing but the items would go to the run's own event
/// sink, so they wait in a queue of their own, as they were written: no
/// event around them, no box, one lock per item. The sink gets a marker when
/// the first item waits (and one per [`ITEMS_PER_MARKER`] more), which keeps
/// the pacing a queued event gives: a run driven by its consumer pauses as
/// soon as something waits. With `messages`, the items go through the sink,
/// in order with the chat-model events.
pub(crate) struct Outlet {
    modes: Vec<StreamMode>,
    sink: Arc<crate::events::sink::EventSink>,
    queue: Option<parking_lot::Mutex<VecDeque<(StreamMode, Item)>>>,
    closed: AtomicBool,
}

impl Outlet {
    pub(crate) fn new(modes: &[StreamMode], sink: Arc<crate::events::sink::EventSink>) -> Self {
        Outlet {
            modes: modes.to_vec(),
            sink,
            queue: (!modes.contains(&StreamMode::Messages)).then(Default::default),
            closed: AtomicBool::new(false),
        }
    }

    fn wants(&self, mode: StreamMode) -> bool {
        self.modes.contains(&mode)
    }

    pub(crate) fn push(&self, mode: StreamMode, payload: impl FnOnce() -> Json) {
        if self.wants(mode) {
            self.push_item(mode, Item::Json(payload()));
        }
    }

    fn push_item(&self, mode: StreamMode, item: Item) {
        let Some(queue) = &self.queue else {
            self.sink
                .push_local(stream::local_item(mode.as_str(), Some(item.into_payload())));
            return;
        };
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let waiting = {
            let mut q = queue.lock();
            q.push_back((mode, item));
            q.len()
        };
        if waiting % ITEMS_PER_MARKER == 1 {
            self.sink.push_local(stream::local_item(stream::MARKER, None));
        }
    }

    /// Moves the waiting items to `into` (empty); false when none wait.
    pub(crate) fn take(&self, into: &mut VecDeque<(StreamMode, Item)>) -> bool {
        let Some(queue) = &self.queue else { return false };
        let mut q = queue.lock();
        if q.is_empty() {
            return false;
        }
        std::mem::swap(&mut *q, into);
        true
    }

    /// The consumer is gone: drop what waits, take nothing more.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        if let Some(q) = &self.queue {
            q.lock().clear();
        }
    }

    /// For `messages`: the messages a node returned (those not already
    /// streamed token by token are reported whole, with the node's
    /// metadata).
    fn push_node_messages(&self, update: &Json, node_meta: &Map) {
        if !self.wants(StreamMode::Messages) {
            return;
        }
        let Some(update) = update.as_object() else { return };
        for value in update.values() {
            let items: Vec<&Json> = match value {
                Json::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for m in items {
                let is_message = m
                    .get("type")
                    .and_then(Json::as_str)
                    .is_some_and(|t| t.ends_with("Message") || t.ends_with("MessageChunk"));
                if is_message {
                    self.sink.push_local(stream::local_item(
                        stream::NODE_MESSAGE,
                        Some(Payload::new(json!([m, node_meta]))),
                    ));
                }
            }
        }
    }
}

/// The [`stream_writer`](crate::stream_writer) items of a graph run with the
/// `custom` mode.
impl ItemSink for Outlet {
    fn push_json(&self, item: Json) {
        if self.wants(StreamMode::Custom) {
            self.push_item(StreamMode::Custom, Item::Json(item));
        }
    }

    /// An item of another type, or one a listener also has.
    fn push_payload(&self, item: Payload) {
        if self.wants(StreamMode::Custom) {
            self.push_item(StreamMode::Custom, Item::Payload(item));
        }
    }
}

fn outlet_of(ctx: &Option<Arc<RunContext>>) -> Option<Arc<Outlet>> {
    ctx.as_ref().and_then(|c| c.extension::<Outlet>())
}

/// The typed state. Read from a JSON value, as a user's own
/// `serde_json::from_value` would; the map is lent, not copied.
fn to_state<S: DeserializeOwned>(state: &mut Map) -> Result<S> {
    let value = Json::Object(std::mem::take(state));
    let typed = S::deserialize(&value);
    if let Json::Object(m) = value {
        *state = m;
    }
    typed.map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("the graph state does not fit the state type: {e}"),
        )
    })
}

fn now_ts() -> Json {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    json!(d.as_secs_f64())
}

/// One node run's `langgraph_*` metadata (and its task id), built only when
/// something reads them: a listener, [`RunContext::metadata`], the `debug` or
/// `messages` stream modes.
struct TaskMeta {
    step: usize,
    node: Arc<str>,
    /// The index of the [`SendTo`] that made the task (a pushed task).
    push: Option<usize>,
    id: OnceLock<uuid::Uuid>,
}

impl TaskMeta {
    fn id(&self) -> uuid::Uuid {
        *self.id.get_or_init(uuid::Uuid::new_v4)
    }

    fn checkpoint_ns(&self) -> String {
        format!("{}:{}", self.node, self.id())
    }

    fn triggers(&self) -> Json {
        match self.push {
            Some(_) => json!(["__pregel_push"]),
            None => json!([format!("branch:to:{}", self.node)]),
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
enum NodeInput<S> {
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
struct Task<S> {
    node: usize,
    input: NodeInput<S>,
    meta: Arc<TaskMeta>,
    /// Where its traced routers put the routes they pick (when it has some).
    routes: Option<Arc<parking_lot::Mutex<Vec<Route>>>>,
}

/// A task as a run: the node's body, then its traced routers on the state
/// with the node's update applied. The routes they pick are handed back.
struct TaskRun<'a, S> {
    inner: &'a Inner<S>,
    node: &'a Node<S>,
    traced: &'a [usize],
    state: &'a Map,
    remaining: Option<i64>,
    routes: Option<Arc<parking_lot::Mutex<Vec<Route>>>>,
}

/// A traced routing function, as a run.
struct RouterRun<'a, S> {
    name: &'a str,
    route: &'a Router<S>,
    picked: Arc<parking_lot::Mutex<Vec<Route>>>,
}

impl<S> Runnable for RouterRun<'_, S>
where
    S: Data + DeserializeOwned,
{
    type Input = S;
    type Output = Json;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.name)
    }

    fn invoke_body<'b>(&'b self, input: S) -> BoxFuture<'b, Result<Json>> {
        Box::pin(async move {
            let routes = (self.route)(&input)?;
            let out = Route::to_json(&routes);
            self.picked.lock().extend(routes);
            Ok(out)
        })
    }
}

/// What a step reports beyond the state it leaves.
#[derive(Clone, Copy)]
struct Reports {
    /// Someone listens to the graph's events (the nodes' inputs are JSON).
    listening: bool,
    updates: bool,
    messages: bool,
    debug: bool,
}

impl Reports {
    /// Whether the updates as applied are needed.
    fn applied(self) -> bool {
        self.listening || self.updates || self.messages || self.debug
    }
}

impl<S> Inner<S>
where
    S: Data + DeserializeOwned,
{
    /// Folds `update` into `state`; returns the update as applied (messages
    /// with the ids the reducer gave them) when `report` asks for it.
    fn apply(&self, state: &mut Map, node: &str, update: Json, report: bool) -> Result<Json> {
        let update = match update {
            Json::Object(m) => m,
            Json::Null => return Ok(Json::Null),
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("node `{node}` returned {other}, not an object of state updates"),
                ))
            }
        };
        let replace = Reducer::Replace;
        if !report {
            for (k, v) in update {
                let reducer = self.reducers.get(&k).unwrap_or(&replace);
                let old = state.remove(&k);
                let new = reducer.apply_value(&k, old, v)?;
                state.insert(k, new);
            }
            return Ok(Json::Null);
        }
        let mut applied = Map::new();
        for (k, v) in update {
            let reducer = self.reducers.get(&k).unwrap_or(&replace);
            let old = state.remove(&k);
            let (new, as_applied) = reducer.apply(&k, old, v)?;
            state.insert(k.clone(), new);
            applied.insert(k, as_applied);
        }
        Ok(Json::Object(applied))
    }

    /// The state as a node sees it: with the managed keys.
    fn node_view(&self, state: &Map, remaining: Option<i64>) -> Map {
        let mut view = state.clone();
        if let (Some(key), Some(n)) = (&self.remaining_steps, remaining) {
            view.insert(key.clone(), json!(n));
        }
        view
    }

    /// The tasks of step `step`, from what leaves the nodes of `from` (their
    /// edges, their untraced conditional edges on `typed`, then the routes
    /// their traced routers picked): nodes pulled from the state (in the
    /// order they were added), then the sent tasks in the order they were
    /// sent.
    fn tasks_for(
        &self,
        from: &[(&Exits, Option<&parking_lot::Mutex<Vec<Route>>>)],
        state: &Map,
        typed: &S,
        step: usize,
        remaining: Option<i64>,
        reports: Reports,
    ) -> Result<Vec<Task<S>>> {
        let find = |name: &str| {
            self.nodes.iter().position(|n| &*n.name == name).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("a conditional edge chose `{name}`, which is not a node"),
                )
            })
        };
        let mut pulled: Vec<usize> = Vec::new();
        let mut pushed: Vec<(usize, Json)> = Vec::new();
        // Every router runs before a bad pick is refused (the first one).
        let mut bad: Option<Error> = None;
        let mut take = |pick: Pick, bad: &mut Option<Error>| {
            let found = match pick {
                Pick::Node(i) => Ok((i, None)),
                Pick::Route(Route::Node(n)) if n == END => return,
                Pick::Route(Route::Node(n)) => find(&n).map(|i| (i, None)),
                Pick::Route(Route::Send(s)) => find(&s.node).map(|i| (i, Some(s.arg))),
            };
            match found {
                Ok((i, None)) if !pulled.contains(&i) => pulled.push(i),
                Ok((_, None)) => {}
                Ok((i, Some(arg))) => pushed.push((i, arg)),
                Err(e) => {
                    bad.get_or_insert(e);
                }
            }
        };
        for (exits, picked) in from {
            for hop in &exits.hops {
                match hop {
                    Hop::Node(i) => take(Pick::Node(*i), &mut bad),
                    Hop::End => {}
                    Hop::Name(n) => take(Pick::Route(Route::Node(n.clone())), &mut bad),
                }
            }
            for &b in &exits.plain {
                for r in (self.branches[b].route)(typed)? {
                    take(Pick::Route(r), &mut bad);
                }
            }
            if let Some(picked) = picked {
                for r in picked.lock().drain(..) {
                    take(Pick::Route(r), &mut bad);
                }
            }
        }
        if let Some(e) = bad {
            return Err(e);
        }
        pulled.sort_unstable();
        let json_input = |i: usize| {
            reports.listening
                || reports.debug
                || self.remaining_steps.is_some()
                || matches!(self.nodes[i].body, Body::Raw(_))
        };
        let view = pulled
            .iter()
            .any(|&i| json_input(i))
            .then(|| Json::Object(self.node_view(state, remaining)));
        let task = |node: usize, input: NodeInput<S>, push: Option<usize>| Task {
            node,
            input,
            meta: Arc::new(TaskMeta {
                step,
                node: self.nodes[node].name.clone(),
                push,
                id: OnceLock::new(),
            }),
            routes: (!self.exits[node].traced.is_empty()).then(Default::default),
        };
        let mut tasks: Vec<Task<S>> = Vec::with_capacity(pulled.len() + pushed.len());
        for i in pulled {
            let input = match &view {
                Some(v) if json_input(i) => NodeInput::Json(v.clone()),
                _ => NodeInput::State(typed.clone()),
            };
            tasks.push(task(i, input, None));
        }
        for (n, (i, arg)) in pushed.into_iter().enumerate() {
            tasks.push(task(i, NodeInput::Json(arg), Some(n)));
        }
        Ok(tasks)
    }

    /// Folds a task's update into the state and reports it.
    #[allow(clippy::too_many_arguments)]
    fn finish_task(
        &self,
        ctx: Option<&Arc<RunContext>>,
        outlet: Option<&Arc<Outlet>>,
        reports: Reports,
        state: &mut Map,
        task: &Task<S>,
        update: Json,
        step: usize,
    ) -> Result<()> {
        let node = &self.nodes[task.node];
        if !reports.applied() {
            self.apply(state, &node.name, update, false)?;
            return Ok(());
        }
        let update = self.apply(state, &node.name, update, true)?;
        let mut item = Map::new();
        item.insert(node.name.to_string(), update.clone());
        if let Some(ctx) = ctx.filter(|c| c.is_listening()) {
            ctx.emit(EventPhase::Stream, EventData::with_chunk(Payload::new(item.clone())));
        }
        if let Some(o) = outlet {
            if reports.messages {
                // The node's metadata as `messages` items show it.
                let mut node_meta = ctx.map(|c| c.metadata().clone()).unwrap_or_default();
                node_meta.extend(task.meta.metadata());
                o.push_node_messages(&update, &node_meta);
            }
            o.push(StreamMode::Updates, || Json::Object(item));
            o.push(StreamMode::Debug, || {
                json!({
                    "step": step,
                    "timestamp": now_ts(),
                    "type": "task_result",
                    "payload": {
                        "id": task.meta.id().to_string(),
                        "name": &*node.name,
                        "error": null,
                        "result": update,
                        "interrupts": [],
                    },
                })
            });
        }
        Ok(())
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
            let body: ChunkStream<'b, Json> = match (&self.node.body, input) {
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
            yield update;
        })
    }
}

impl<S> CompiledGraph<S>
where
    S: Data + DeserializeOwned,
{
    /// Runs the graph, yielding the state after the input and after each
    /// step.
    fn run(&self, input: S) -> ChunkStream<'_, S> {
        let inner = &*self.inner;
        Box::pin(async_stream::try_stream! {
            let ctx = current();
            let outlet = outlet_of(&ctx);
            let wants = |m: StreamMode| outlet.as_ref().is_some_and(|o| o.wants(m));
            let reports = Reports {
                listening: ctx.as_ref().is_some_and(|c| c.is_listening()),
                updates: wants(StreamMode::Updates),
                messages: wants(StreamMode::Messages),
                debug: wants(StreamMode::Debug),
            };
            let limit = ctx.as_ref().and_then(|c| c.recursion_limit()).unwrap_or(DEFAULT_RECURSION_LIMIT);
            let mut state = Map::new();
            inner.apply(&mut state, START, serde_json::to_value(&input)?, false)?;
            if let Some(o) = &outlet {
                o.push(StreamMode::Values, || Json::Object(state.clone()));
            }
            let mut typed: S = to_state(&mut state)?;
            let mut step: usize = 1;
            let remaining = |step: usize| Some(limit as i64 - step as i64);
            let mut tasks = inner.tasks_for(&[(&inner.start, None)], &state, &typed, step, remaining(step), reports)?;
            while !tasks.is_empty() {
                if step > limit {
                    let last: Vec<&str> = tasks.iter().map(|t| &*inner.nodes[t.node].name).collect();
                    Err(Error::new(
                        ErrorKind::RecursionLimit,
                        format!(
                            "recursion limit of {limit} reached without hitting a stop condition (nodes due next: {}); set a higher recursion_limit in the config",
                            last.join(", ")
                        ),
                    ))?;
                }
                // Named routers run inside their node on the pre-step state.
                let snapshot = if tasks.iter().any(|t| t.routes.is_some()) { state.clone() } else { Map::new() };
                if let Some(o) = &outlet {
                    for task in &tasks {
                        o.push(StreamMode::Debug, || json!({
                            "step": step,
                            "timestamp": now_ts(),
                            "type": "task",
                            "payload": {
                                "id": task.meta.id().to_string(),
                                "name": &*inner.nodes[task.node].name,
                                "input": task.input,
                                "triggers": task.meta.triggers(),
                            },
                        }));
                    }
                }
                let run_task = |task: &mut Task<S>| {
                    let node = &inner.nodes[task.node];
                    let opts = CallOpts {
                        step: Some(StepTag::Graph(step as u32)),
                        lazy_metadata: Some(task.meta.clone()),
                        children: Some(ChildDefaults {
                            step: Some(StepTag::Seq(1)),
                            metadata: Some(task.meta.clone()),
                        }),
                        ..Default::default()
                    };
                    let run = TaskRun {
                        inner,
                        node,
                        traced: &inner.exits[task.node].traced,
                        state: &snapshot,
                        remaining: remaining(step),
                        routes: task.routes.clone(),
                    };
                    let input = std::mem::replace(&mut task.input, NodeInput::Json(Json::Null));
                    async move {
                        let mut out = RunStream::new(&run, Source::Value(input), opts);
                        let mut update: Option<Json> = None;
                        while let Some(chunk) = out.next().await {
                            let chunk = chunk?;
                            match update.as_mut() {
                                Some(u) => crate::value::Chunk::concat(u, chunk),
                                None => update = Some(chunk),
                            }
                        }
                        Ok::<_, Error>(update.unwrap_or(Json::Null))
                    }
                };
                if let [task] = &mut tasks[..] {
                    // One task: no join.
                    let update = run_task(task).await?;
                    inner.finish_task(ctx.as_ref(), outlet.as_ref(), reports, &mut state, task, update, step)?;
                } else {
                    let results = futures::future::join_all(tasks.iter_mut().map(run_task)).await;
                    for (task, update) in tasks.iter().zip(results) {
                        inner.finish_task(ctx.as_ref(), outlet.as_ref(), reports, &mut state, task, update?, step)?;
                    }
                }
                if let Some(o) = &outlet {
                    o.push(StreamMode::Values, || Json::Object(state.clone()));
                }
                typed = to_state(&mut state)?;
                yield typed.clone();
                step += 1;
                let from: Vec<(&Exits, Option<&parking_lot::Mutex<Vec<Route>>>)> =
                    tasks.iter().map(|t| (&inner.exits[t.node], t.routes.as_deref())).collect();
                tasks = inner.tasks_for(&from, &state, &typed, step, remaining(step), reports)?;
            }
        })
    }
}

impl<S> Runnable for CompiledGraph<S>
where
    S: Data + DeserializeOwned,
{
    type Input = S;
    type Output = S;

    fn name(&self) -> Cow<'_, str> {
        "LangGraph".into()
    }

    fn run_type(&self) -> RunType {
        RunType::Chain
    }

    fn config(&self) -> Option<&RunConfig> {
        Some(&self.inner.config)
    }

    fn emits_own_chunks(&self) -> bool {
        true
    }

    fn invoke_body<'a>(&'a self, input: S) -> BoxFuture<'a, Result<S>> {
        let mut states = self.run(input.clone());
        Box::pin(async move {
            let mut last = input;
            while let Some(s) = states.next().await {
                last = s?;
            }
            Ok(last)
        })
    }

    fn stream_body<'a>(&'a self, input: S) -> ChunkStream<'a, S> {
        self.run(input)
    }
}

crate::runnable::impl_pipe_operator!([S] CompiledGraph<S>);
