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

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::config::RunConfig;
use crate::context::{current, CallOpts, ChildDefaults, RunContext, StepTag};
use crate::error::{Error, ErrorKind, Result};
use crate::events::{EventData, EventPhase};
use crate::runnable::run::{RunStream, Source};
use crate::runnable::{BoxRunnable, ChunkStream, Lambda, RunType, Runnable};
use crate::value::{Map, Payload, Value};

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
        Box::pin(async move { Ok(serde_json::to_value(fut.await?)?) })
    }

    fn stream_body<'a>(&'a self, input: R::Input) -> ChunkStream<'a, Json> {
        Box::pin(
            self.0
                .stream_body(input)
                .map(|c| c.and_then(|c| Ok(serde_json::to_value(c)?))),
        )
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
    S: Value + DeserializeOwned,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<S> StateGraph<S>
where
    S: Value + DeserializeOwned,
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
            async move { Ok(serde_json::to_value(fut.await?)?) }
        });
        self.push_node(name, Body::State(BoxRunnable::new(step)))
    }

    /// Adds a node running a sync function of the state.
    pub fn add_sync_node<F, U>(self, name: &str, f: F) -> Self
    where
        F: Fn(S) -> Result<U> + Send + Sync + 'static,
        U: Serialize + Send + 'static,
    {
        let step = Lambda::from_fn(move |s: S| Ok(serde_json::to_value(f(s)?)?));
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
        Ok(CompiledGraph {
            inner: Arc::new(Inner {
                reducers: self.reducers,
                nodes: self.nodes,
                edges: self.edges,
                branches: self.branches,
                remaining_steps: self.remaining_steps,
                config: RunConfig::new().metadata("ls_integration", "langgraph"),
            }),
        })
    }
}

struct Inner<S> {
    reducers: HashMap<String, Reducer>,
    nodes: Vec<Node<S>>,
    edges: Vec<(String, String)>,
    branches: Vec<Branch<S>>,
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

/// Where a graph run hands its stream-mode items.
pub(crate) struct Outlet {
    pub(crate) modes: Vec<StreamMode>,
    pub(crate) sink: Arc<crate::events::sink::EventSink>,
}

impl Outlet {
    fn wants(&self, mode: StreamMode) -> bool {
        self.modes.contains(&mode)
    }

    pub(crate) fn push(&self, mode: StreamMode, payload: impl FnOnce() -> Json) {
        if self.wants(mode) {
            self.push_payload(mode, Payload::new(payload()));
        }
    }

    /// Queues an item as it was written: it becomes JSON once, when the
    /// stream yields it.
    pub(crate) fn push_payload(&self, mode: StreamMode, payload: Payload) {
        if self.wants(mode) {
            self.sink.push_local(stream::local_item(mode.as_str(), payload));
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
                        Payload::new(json!([m, node_meta])),
                    ));
                }
            }
        }
    }
}

fn outlet_of(ctx: &Option<Arc<RunContext>>) -> Option<Arc<Outlet>> {
    ctx.as_ref().and_then(|c| c.outlet.clone())
}

fn to_state<S: DeserializeOwned>(state: &Map) -> Result<S> {
    serde_json::from_value(Json::Object(state.clone())).map_err(|e| {
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

/// One task of a step: a node on its input.
struct Task {
    node: usize,
    input: Json,
    /// The index of the [`SendTo`] that made it (a pushed task).
    push: Option<usize>,
}

/// A task as a run: the node's body, then its traced routers on the state
/// with the node's update applied. The routes they pick are handed back.
struct TaskRun<'a, S> {
    inner: &'a Inner<S>,
    node: &'a Node<S>,
    state: &'a Map,
    remaining: Option<i64>,
    routes: Arc<parking_lot::Mutex<Vec<Route>>>,
}

/// A traced routing function, as a run.
struct RouterRun<'a, S> {
    name: &'a str,
    route: &'a Router<S>,
    picked: Arc<parking_lot::Mutex<Vec<Route>>>,
}

impl<S> Runnable for RouterRun<'_, S>
where
    S: Value + DeserializeOwned,
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

impl<S> Inner<S>
where
    S: Value + DeserializeOwned,
{
    /// Folds `update` into `state`; returns the update as applied (messages
    /// with the ids the reducer gave them).
    fn apply(&self, state: &mut Map, node: &str, update: Json) -> Result<Json> {
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
        let mut applied = Map::new();
        for (k, v) in update {
            let reducer = self.reducers.get(&k).cloned().unwrap_or_default();
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

    /// The routes leaving `from` without running a traced router: its edges
    /// and its untraced conditional edges on `state`.
    fn plain_routes(&self, from: &str, state: &S) -> Result<Vec<Route>> {
        let mut routes: Vec<Route> = self
            .edges
            .iter()
            .filter(|(f, _)| f == from)
            .map(|(_, t)| Route::Node(t.clone()))
            .collect();
        for b in self.branches.iter().filter(|b| b.from == from && b.traced.is_none()) {
            routes.extend((b.route)(state)?);
        }
        Ok(routes)
    }

    /// The tasks of the next step, from the routes the last one picked:
    /// nodes pulled from the state (in the order they were added), then the
    /// sent tasks in the order they were sent.
    fn tasks_for(&self, routes: Vec<Route>, state: &Map, remaining: Option<i64>) -> Result<Vec<Task>> {
        let find = |name: &str| {
            self.nodes.iter().position(|n| &*n.name == name).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("a conditional edge chose `{name}`, which is not a node"),
                )
            })
        };
        let mut pulled: Vec<usize> = Vec::new();
        let mut pushed: Vec<Task> = Vec::new();
        for r in routes {
            match r {
                Route::Node(n) if n == END => {}
                Route::Node(n) => {
                    let i = find(&n)?;
                    if !pulled.contains(&i) {
                        pulled.push(i);
                    }
                }
                Route::Send(s) => {
                    let i = find(&s.node)?;
                    let push = Some(pushed.len());
                    pushed.push(Task {
                        node: i,
                        input: s.arg,
                        push,
                    });
                }
            }
        }
        pulled.sort_unstable();
        let view = Json::Object(self.node_view(state, remaining));
        let mut tasks: Vec<Task> = pulled
            .into_iter()
            .map(|i| Task {
                node: i,
                input: view.clone(),
                push: None,
            })
            .collect();
        tasks.extend(pushed);
        Ok(tasks)
    }
}

impl<'a, S> Runnable for TaskRun<'a, S>
where
    S: Value + DeserializeOwned,
{
    type Input = Json;
    type Output = Json;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.node.name)
    }

    fn invoke_body<'b>(&'b self, input: Json) -> BoxFuture<'b, Result<Json>> {
        let out = self.stream_body(input);
        Box::pin(async move { Ok(crate::runnable::collect(out).await?.unwrap_or(Json::Null)) })
    }

    fn stream_body<'b>(&'b self, input: Json) -> ChunkStream<'b, Json> {
        Box::pin(async_stream::try_stream! {
            let body: ChunkStream<'b, Json> = match &self.node.body {
                Body::State(r) => {
                    let s: S = serde_json::from_value(input).map_err(|e| {
                        Error::new(
                            ErrorKind::InvalidInput,
                            format!("node `{}`: its input does not fit the state type: {e}", self.node.name),
                        )
                    })?;
                    r.stream_body(s)
                }
                Body::Raw(r) => r.stream_body(input),
            };
            let update = crate::runnable::collect(body).await?.unwrap_or(Json::Null);
            let traced: Vec<&Branch<S>> =
                self.inner.branches.iter().filter(|b| b.from == *self.node.name && b.traced.is_some()).collect();
            if !traced.is_empty() {
                let mut after = self.state.clone();
                self.inner.apply(&mut after, &self.node.name, update.clone())?;
                let view: S = to_state(&self.inner.node_view(&after, self.remaining))?;
                for b in traced {
                    let router = RouterRun {
                        name: b.traced.as_deref().unwrap_or_default(),
                        route: &b.route,
                        picked: self.routes.clone(),
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
    S: Value + DeserializeOwned,
{
    /// Runs the graph, yielding the state after the input and after each
    /// step.
    fn run(&self, input: S) -> ChunkStream<'_, S> {
        let inner = &*self.inner;
        Box::pin(async_stream::try_stream! {
            let ctx = current();
            let outlet = outlet_of(&ctx);
            let limit = ctx.as_ref().and_then(|c| c.recursion_limit()).unwrap_or(DEFAULT_RECURSION_LIMIT);
            let mut state = Map::new();
            inner.apply(&mut state, START, serde_json::to_value(&input)?)?;
            if let Some(o) = &outlet {
                o.push(StreamMode::Values, || Json::Object(state.clone()));
            }
            let mut typed: S = to_state(&state)?;
            let mut step: usize = 1;
            let remaining = |step: usize| Some(limit as i64 - step as i64);
            let mut tasks = inner.tasks_for(inner.plain_routes(START, &typed)?, &state, remaining(step))?;
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
                let ids: Vec<uuid::Uuid> = tasks.iter().map(|_| uuid::Uuid::new_v4()).collect();
                let routes: Vec<Arc<parking_lot::Mutex<Vec<Route>>>> = tasks.iter().map(|_| Default::default()).collect();
                // Named routers run inside their node on the pre-step state.
                let snapshot = if inner.branches.iter().any(|b| b.traced.is_some()) { state.clone() } else { Map::new() };
                let runs = tasks.iter_mut().zip(&ids).zip(&routes).map(|((task, task_id), picked)| {
                    let node = &inner.nodes[task.node];
                    let ns = format!("{}:{task_id}", node.name);
                    let (path, triggers) = match task.push {
                        Some(i) => (json!(["__pregel_push", i, false]), json!(["__pregel_push"])),
                        None => (json!(["__pregel_pull", &*node.name]), json!([format!("branch:to:{}", node.name)])),
                    };
                    if let Some(o) = &outlet {
                        o.push(StreamMode::Debug, || json!({
                            "step": step,
                            "timestamp": now_ts(),
                            "type": "task",
                            "payload": {
                                "id": task_id.to_string(),
                                "name": &*node.name,
                                "input": task.input,
                                "triggers": triggers,
                            },
                        }));
                    }
                    let config = RunConfig::new()
                        .metadata("langgraph_step", step)
                        .metadata("langgraph_node", &*node.name)
                        .metadata("langgraph_triggers", triggers)
                        .metadata("langgraph_path", path)
                        .metadata("langgraph_checkpoint_ns", ns.clone());
                    // The node's metadata as `messages` items show it: only
                    // built for a stream that reports messages.
                    let node_meta = if outlet.as_ref().is_some_and(|o| o.wants(StreamMode::Messages)) {
                        let mut m = ctx.as_ref().map(|c| c.metadata().clone()).unwrap_or_default();
                        m.extend(config.metadata.clone());
                        m
                    } else {
                        Map::new()
                    };
                    let mut child_meta = Map::new();
                    child_meta.insert("checkpoint_ns".into(), ns.into());
                    let opts = CallOpts {
                        step: Some(StepTag::Graph(step as u32)),
                        config: Some(config),
                        children: Some(ChildDefaults { step: Some(StepTag::Seq(1)), metadata: child_meta }),
                        ..Default::default()
                    };
                    let run = TaskRun {
                        inner,
                        node,
                        state: &snapshot,
                        remaining: remaining(step),
                        routes: picked.clone(),
                    };
                    let input = std::mem::take(&mut task.input);
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
                        Ok::<_, Error>((update.unwrap_or(Json::Null), node_meta))
                    }
                });
                let results = futures::future::join_all(runs).await;
                let mut done: Vec<usize> = Vec::new();
                for ((task, task_id), result) in tasks.iter().zip(&ids).zip(results) {
                    let node = &inner.nodes[task.node];
                    let (update, node_meta) = result?;
                    let update = inner.apply(&mut state, &node.name, update)?;
                    let mut item = Map::new();
                    item.insert(node.name.to_string(), update.clone());
                    if let Some(ctx) = ctx.as_ref().filter(|c| c.is_listening()) {
                        ctx.emit(EventPhase::Stream, EventData::with_chunk(Payload::new(item.clone())));
                    }
                    if let Some(o) = &outlet {
                        o.push_node_messages(&update, &node_meta);
                        o.push(StreamMode::Updates, || Json::Object(item));
                        o.push(StreamMode::Debug, || json!({
                            "step": step,
                            "timestamp": now_ts(),
                            "type": "task_result",
                            "payload": {
                                "id": task_id.to_string(),
                                "name": &*node.name,
                                "error": null,
                                "result": update,
                                "interrupts": [],
                            },
                        }));
                    }
                    done.push(task.node);
                }
                if let Some(o) = &outlet {
                    o.push(StreamMode::Values, || Json::Object(state.clone()));
                }
                typed = to_state(&state)?;
                yield typed.clone();
                let mut next_routes = Vec::new();
                for (node, picked) in done.iter().zip(&routes) {
                    next_routes.extend(inner.plain_routes(&inner.nodes[*node].name, &typed)?);
                    next_routes.extend(picked.lock().drain(..));
                }
                step += 1;
                tasks = inner.tasks_for(next_routes, &state, remaining(step))?;
            }
        })
    }
}

impl<S> Runnable for CompiledGraph<S>
where
    S: Value + DeserializeOwned,
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
