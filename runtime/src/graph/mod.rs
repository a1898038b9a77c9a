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

type Router<S> = Arc<dyn Fn(&S) -> Result<Vec<String>> + Send + Sync>;

/// Where a conditional edge goes: a node name, several, or [`END`].
pub trait Targets {
    /// The node names.
    fn into_targets(self) -> Vec<String>;
}

impl Targets for &str {
    fn into_targets(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl Targets for String {
    fn into_targets(self) -> Vec<String> {
        vec![self]
    }
}

impl<T: Into<String>> Targets for Vec<T> {
    fn into_targets(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

/// A node: the user's step, renamed to the node's name, run on the whole
/// state (never as a transform: its start event shows the state).
struct Node<S> {
    name: Arc<str>,
    inner: BoxRunnable<S, Json>,
}

impl<S: Value> Runnable for Node<S> {
    type Input = S;
    type Output = Json;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn invoke_body<'a>(&'a self, input: S) -> BoxFuture<'a, Result<Json>> {
        self.inner.invoke_body(input)
    }

    fn stream_body<'a>(&'a self, input: S) -> ChunkStream<'a, Json> {
        self.inner.stream_body(input)
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
    branches: Vec<(String, Router<S>)>,
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
            errors: Vec::new(),
            _state: PhantomData,
        }
    }

    /// Sets how updates to state key `key` are applied.
    pub fn reducer(mut self, key: impl Into<String>, reducer: Reducer) -> Self {
        self.reducers.insert(key.into(), reducer);
        self
    }

    fn push_node(mut self, name: &str, inner: BoxRunnable<S, Json>) -> Self {
        if name == START || name == END {
            self.errors.push(format!("`{name}` is reserved and cannot name a node"));
        } else if self.nodes.iter().any(|n| &*n.name == name) {
            self.errors.push(format!("node `{name}` is added twice"));
        }
        self.nodes.push(Node {
            name: Arc::from(name),
            inner,
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
        self.push_node(name, BoxRunnable::new(step))
    }

    /// Adds a node running a sync function of the state.
    pub fn add_sync_node<F, U>(self, name: &str, f: F) -> Self
    where
        F: Fn(S) -> Result<U> + Send + Sync + 'static,
        U: Serialize + Send + 'static,
    {
        let step = Lambda::from_fn(move |s: S| Ok(serde_json::to_value(f(s)?)?));
        self.push_node(name, BoxRunnable::new(step))
    }

    /// Adds a node running any runnable on the state; its output is the
    /// update.
    pub fn add_runnable_node<R>(self, name: &str, runnable: R) -> Self
    where
        R: Runnable<Input = S> + 'static,
    {
        self.push_node(name, BoxRunnable::new(ToUpdate(runnable)))
    }

    /// After `from`, run `to` ([`START`] and [`END`] allowed).
    pub fn add_edge(mut self, from: &str, to: &str) -> Self {
        self.edges.push((from.to_owned(), to.to_owned()));
        self
    }

    /// After `from`, run the nodes `route` picks from the state ([`END`] to
    /// stop).
    pub fn add_conditional_edges<F, T>(mut self, from: &str, route: F) -> Self
    where
        F: Fn(&S) -> T + Send + Sync + 'static,
        T: Targets,
    {
        self.branches
            .push((from.to_owned(), Arc::new(move |s: &S| Ok(route(s).into_targets()))));
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
        for (from, _) in &self.branches {
            if !known(from) {
                errors.push(format!("conditional edge from unknown node `{from}`"));
            }
        }
        if !self.edges.iter().any(|(f, _)| f == START) && !self.branches.iter().any(|(f, _)| f == START) {
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
                config: RunConfig::new().metadata("ls_integration", "langgraph"),
            }),
        })
    }
}

struct Inner<S> {
    reducers: HashMap<String, Reducer>,
    nodes: Vec<Node<S>>,
    edges: Vec<(String, String)>,
    branches: Vec<(String, Router<S>)>,
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

    pub(crate) fn push(&self, mode: StreamMode, payload: Json) {
        if self.wants(mode) {
            self.push_payload(mode, Payload::new(payload));
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
    ctx.as_ref()
        .and_then(|c| c.outlet.clone())
        .and_then(|o| o.downcast::<Outlet>().ok())
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

impl<S> CompiledGraph<S>
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
            let reducer = self.inner.reducers.get(&k).cloned().unwrap_or_default();
            let old = state.remove(&k);
            let (new, as_applied) = reducer.apply(&k, old, v)?;
            state.insert(k.clone(), new);
            applied.insert(k, as_applied);
        }
        Ok(Json::Object(applied))
    }

    /// The nodes to run after `done` ran on `state`.
    fn next_nodes(&self, done: &[&str], state: &S) -> Result<Vec<usize>> {
        let mut targets: Vec<String> = Vec::new();
        for from in done {
            for (f, t) in &self.inner.edges {
                if f == from {
                    targets.push(t.clone());
                }
            }
            for (f, route) in &self.inner.branches {
                if f == from {
                    targets.extend(route(state)?);
                }
            }
        }
        let mut next = Vec::new();
        for t in targets {
            if t == END {
                continue;
            }
            match self.inner.nodes.iter().position(|n| *n.name == *t) {
                Some(i) if !next.contains(&i) => next.push(i),
                Some(_) => {}
                None => {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        format!("a conditional edge from {done:?} chose `{t}`, which is not a node"),
                    ))
                }
            }
        }
        next.sort_unstable();
        Ok(next)
    }

    /// Runs the graph, yielding the state after the input and after each
    /// step.
    fn run(&self, input: S) -> ChunkStream<'_, S> {
        Box::pin(async_stream::try_stream! {
            let ctx = current();
            let outlet = outlet_of(&ctx);
            let limit = ctx.as_ref().and_then(|c| c.recursion_limit()).unwrap_or(DEFAULT_RECURSION_LIMIT);
            let mut state = Map::new();
            self.apply(&mut state, START, serde_json::to_value(&input)?)?;
            if let Some(o) = &outlet {
                o.push(StreamMode::Values, Json::Object(state.clone()));
            }
            let mut typed: S = to_state(&state)?;
            let mut next = self.next_nodes(&[START], &typed)?;
            let mut step: usize = 1;
            while !next.is_empty() {
                if step > limit {
                    let last: Vec<&str> = next.iter().map(|&i| &*self.inner.nodes[i].name).collect();
                    Err(Error::new(
                        ErrorKind::RecursionLimit,
                        format!(
                            "recursion limit of {limit} reached without hitting a stop condition (nodes due next: {}); set a higher recursion_limit in the config",
                            last.join(", ")
                        ),
                    ))?;
                }
                let tasks: Vec<(usize, uuid::Uuid)> = next.iter().map(|&i| (i, uuid::Uuid::new_v4())).collect();
                let runs = tasks.iter().map(|&(i, task_id)| {
                    let node = &self.inner.nodes[i];
                    let ns = format!("{}:{task_id}", node.name);
                    if let Some(o) = &outlet {
                        o.push(StreamMode::Debug, json!({
                            "step": step,
                            "timestamp": now_ts(),
                            "type": "task",
                            "payload": {
                                "id": task_id.to_string(),
                                "name": &*node.name,
                                "input": Json::Object(state.clone()),
                                "triggers": [format!("branch:to:{}", node.name)],
                            },
                        }));
                    }
                    let config = RunConfig::new()
                        .metadata("langgraph_step", step)
                        .metadata("langgraph_node", &*node.name)
                        .metadata("langgraph_triggers", json!([format!("branch:to:{}", node.name)]))
                        .metadata("langgraph_path", json!(["__pregel_pull", &*node.name]))
                        .metadata("langgraph_checkpoint_ns", ns.clone());
                    let mut child_meta = Map::new();
                    child_meta.insert("checkpoint_ns".into(), ns.into());
                    let opts = CallOpts {
                        step: Some(StepTag::Graph(step as u32)),
                        config: Some(config),
                        children: Some(ChildDefaults { step: Some(StepTag::Seq(1)), metadata: child_meta }),
                        ..Default::default()
                    };
                    let input = typed.clone();
                    let mut node_meta = ctx.as_ref().map(|c| c.metadata().clone()).unwrap_or_default();
                    if let Some(cfg) = &opts.config {
                        node_meta.extend(cfg.metadata.clone());
                    }
                    async move {
                        let mut out = RunStream::new(node, Source::Value(input), opts);
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
                let mut done = Vec::new();
                for ((i, task_id), result) in tasks.iter().zip(results) {
                    let node = &self.inner.nodes[*i];
                    let (update, node_meta) = result?;
                    let update = self.apply(&mut state, &node.name, update)?;
                    let mut item = Map::new();
                    item.insert(node.name.to_string(), update.clone());
                    if let Some(ctx) = ctx.as_ref().filter(|c| c.is_listening()) {
                        ctx.emit(EventPhase::Stream, EventData::with_chunk(Payload::new(item.clone())));
                    }
                    if let Some(o) = &outlet {
                        o.push_node_messages(&update, &node_meta);
                        o.push(StreamMode::Updates, Json::Object(item));
                        o.push(StreamMode::Debug, json!({
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
                    done.push(&*node.name);
                }
                if let Some(o) = &outlet {
                    o.push(StreamMode::Values, Json::Object(state.clone()));
                }
                typed = to_state(&state)?;
                yield typed.clone();
                next = self.next_nodes(&done, &typed)?;
                step += 1;
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
