//! Building a graph: [`StateGraph`] (nodes, edges, conditional edges,
//! reducers) and [`compile`](StateGraph::compile), which checks it and
//! resolves what leaves each node.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

use super::checkpoint::Checkpointer;
use super::durable::Durability;
use super::pregel::{CompiledGraph, Inner, Join};
use super::routing::{Branch, Exits, Targets};
use super::{Reducer, END, START};
use crate::config::RunConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::runnable::{BoxRunnable, ChunkStream, Lambda, Runnable};
use crate::value::Data;

/// A node's body: on the state, or (a node fed by [`SendTo`](super::SendTo)s)
/// on raw JSON.
pub(super) enum Body<S> {
    State(BoxRunnable<S, Json>),
    Raw(BoxRunnable<Json, Json>),
}

/// A node of the graph: its name and its body.
pub(super) struct Node<S> {
    pub(super) name: Arc<str>,
    pub(super) body: Body<S>,
    /// The compiled graph the node is (added with `add_runnable_node`): its
    /// tasks are subgraphs, whose state `get_state` shows.
    pub(super) subgraph: Option<super::CompiledGraph<S>>,
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

/// The name of function type `F` when it is a `fn` item (the last segment
/// of its type name, generics dropped); `Unnamed` for a closure, as
/// LangGraph names a Python `lambda` router.
fn fn_name<F>() -> &'static str {
    let full = std::any::type_name::<F>();
    // The last path segment, without the generic arguments.
    let (mut depth, mut start, mut end) = (0usize, 0usize, None);
    for (i, c) in full.char_indices() {
        match c {
            '<' => {
                if depth == 0 && end.is_none() {
                    end = Some(i);
                }
                depth += 1;
            }
            '>' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => {
                start = i + 1;
                end = None;
            }
            _ => {}
        }
    }
    let last = &full[start..end.unwrap_or(full.len())];
    let plain = !last.is_empty() && last.chars().all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        last
    } else {
        "Unnamed"
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

/// A graph under construction. See the [module docs](super).
#[must_use = "a graph does nothing until it is compiled and run"]
pub struct StateGraph<S> {
    reducers: HashMap<String, Reducer>,
    nodes: Vec<Node<S>>,
    edges: Vec<(String, String)>,
    joins: Vec<(Vec<String>, String)>,
    branches: Vec<Branch<S>>,
    remaining_steps: Option<String>,
    checkpointer: Option<Arc<dyn Checkpointer>>,
    durability: Durability,
    interrupt_before: Vec<String>,
    interrupt_after: Vec<String>,
    errors: Vec<String>,
    _state: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for StateGraph<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateGraph")
            .field("nodes", &self.nodes.iter().map(|n| &*n.name).collect::<Vec<_>>())
            .field("edges", &self.edges)
            .field("conditional_edges", &self.branches.len())
            .finish_non_exhaustive()
    }
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
            joins: Vec::new(),
            branches: Vec::new(),
            remaining_steps: None,
            checkpointer: None,
            durability: Durability::default(),
            interrupt_before: Vec::new(),
            interrupt_after: Vec::new(),
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

    /// Keeps the graph's threads in `saver`: runs whose config names a
    /// `thread_id` (in `configurable`) go on from the thread's last
    /// checkpoint and save one after each step, and nodes can
    /// [`interrupt`](super::interrupt) (LangGraph's `compile(checkpointer=...)`).
    pub fn checkpointer(mut self, saver: Arc<dyn Checkpointer>) -> Self {
        self.checkpointer = Some(saver);
        self
    }

    /// When runs save their checkpoints ([`Durability::Async`] unless set;
    /// a run config's `configurable` key `durability` overrides it).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Stops a run on a thread before any of `nodes` runs (LangGraph's
    /// static breakpoints, `compile(interrupt_before=[...])`): the
    /// `updates` stream shows `{"__interrupt__": []}`; a run with
    /// [`Command::default()`](super::Command) goes on from there.
    pub fn interrupt_before(mut self, nodes: &[&str]) -> Self {
        self.interrupt_before.extend(nodes.iter().map(|n| (*n).to_owned()));
        self
    }

    /// Stops a run on a thread after the step in which any of `nodes` ran
    /// (`compile(interrupt_after=[...])`), as
    /// [`interrupt_before`](Self::interrupt_before) does.
    pub fn interrupt_after(mut self, nodes: &[&str]) -> Self {
        self.interrupt_after.extend(nodes.iter().map(|n| (*n).to_owned()));
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
            subgraph: None,
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
        let subgraph = (&runnable as &dyn Any)
            .downcast_ref::<super::CompiledGraph<S>>()
            .cloned();
        let mut graph = self.push_node(name, Body::State(BoxRunnable::new(ToUpdate(runnable))));
        if let Some(node) = graph.nodes.last_mut().filter(|n| &*n.name == name) {
            node.subgraph = subgraph;
        }
        graph
    }

    /// Adds a node whose input is raw JSON: the state as JSON when an edge
    /// leads to it, a [`SendTo`](super::SendTo)'s `arg` when a conditional
    /// edge sends to it.
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

    /// Once every node of `from` has run (since `to` last ran), run `to`
    /// (LangGraph's `add_edge([a, b], to)`, a waiting edge): a join after a
    /// fan-out whose branches take different numbers of steps.
    pub fn add_edge_from_all(mut self, from: &[&str], to: &str) -> Self {
        self.joins
            .push((from.iter().map(|f| (*f).to_owned()).collect(), to.to_owned()));
        self
    }

    /// After `from`, run the nodes `route` picks from the state ([`END`] to
    /// stop, [`SendTo`](super::SendTo)s to fan out).
    ///
    /// As in LangGraph, the routing function runs inside `from`'s run, on the
    /// state with `from`'s update applied, and shows in events as a chain run
    /// tagged `seq:step:3`. The run is named after the function when it is a
    /// plain `fn` item (`route_by_size` in the example), and `Unnamed` for a
    /// closure (as LangGraph names a Python `lambda`); give a closure a name
    /// with [`add_named_conditional_edges`](Self::add_named_conditional_edges).
    /// A conditional edge from [`START`] runs before the first step, unseen.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use runwright::graph::{StateGraph, END, START};
    /// #[derive(Clone, Serialize, Deserialize)]
    /// struct State { n: i64 }
    /// impl runwright::Chunk for State {}
    ///
    /// fn route_by_size(s: &State) -> &'static str {
    ///     if s.n > 5 { "big" } else { END }
    /// }
    ///
    /// let graph = StateGraph::<State>::new()
    ///     .add_sync_node("start", |s: State| Ok(serde_json::json!({"n": s.n + 1})))
    ///     .add_sync_node("big", |_: State| Ok(serde_json::json!({})))
    ///     .add_edge(START, "start")
    ///     .add_conditional_edges("start", route_by_size) // a run named `route_by_size`
    ///     .add_edge("big", END)
    ///     .compile();
    /// assert!(graph.is_ok());
    /// ```
    pub fn add_conditional_edges<F, T>(self, from: &str, route: F) -> Self
    where
        F: Fn(&S) -> T + Send + Sync + 'static,
        T: Targets,
    {
        let name = fn_name::<F>();
        self.push_branch(from, name, route)
    }

    /// [`add_conditional_edges`](Self::add_conditional_edges) with the name
    /// its routing function's run shows in events (for closures, which have
    /// none of their own).
    pub fn add_named_conditional_edges<F, T>(self, from: &str, name: &str, route: F) -> Self
    where
        F: Fn(&S) -> T + Send + Sync + 'static,
        T: Targets,
    {
        self.push_branch(from, name, route)
    }

    /// A conditional edge from `from`; its routing function runs as a chain
    /// run named `name` (from [`START`]: between steps, unseen).
    fn push_branch<F, T>(mut self, from: &str, name: &str, route: F) -> Self
    where
        F: Fn(&S) -> T + Send + Sync + 'static,
        T: Targets,
    {
        self.branches.push(Branch {
            from: from.to_owned(),
            route: Arc::new(move |s: &S| Ok(route(s).into_routes())),
            traced: (from != START).then(|| Arc::from(name)),
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
        for (from, to) in &self.joins {
            let node = |n: &str| self.nodes.iter().any(|x| &*x.name == n);
            for n in from.iter().chain([to]) {
                if !node(n) {
                    errors.push(format!("edge {from:?} -> {to} names `{n}`, which is not a node"));
                }
            }
        }
        for b in &self.branches {
            if !known(&b.from) {
                errors.push(format!("conditional edge from unknown node `{}`", b.from));
            }
        }
        if !self.edges.iter().any(|(f, _)| f == START) && !self.branches.iter().any(|b| b.from == START) {
            errors.push("nothing leaves START: add an edge from START".to_owned());
        }
        for n in self.interrupt_before.iter().chain(&self.interrupt_after) {
            if !self.nodes.iter().any(|x| &*x.name == n) {
                errors.push(format!("breakpoint `{n}` is not a node"));
            }
        }
        if !errors.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("the graph is not valid: {}", errors.join("; ")),
            ));
        }
        let exits = |from: &str| Exits::resolve(from, &self.edges, &self.nodes, &self.branches);
        let start = exits(START);
        let node_exits = self.nodes.iter().map(|n| exits(&n.name)).collect();
        let index = |n: &str| self.nodes.iter().position(|x| &*x.name == n).unwrap_or_default();
        let joins: Vec<Join> = self
            .joins
            .iter()
            .map(|(from, to)| Join {
                sources: from.iter().map(|f| index(f)).collect(),
                to: index(to),
                channel: Arc::from(format!("join:{}:{to}", from.join("+"))),
            })
            .collect();
        let breakpoints = |names: &[String]| -> Vec<bool> {
            self.nodes
                .iter()
                .map(|n| names.iter().any(|b| **b == *n.name))
                .collect()
        };
        let interrupt_before = breakpoints(&self.interrupt_before);
        let interrupt_after = breakpoints(&self.interrupt_after);
        Ok(CompiledGraph {
            inner: Arc::new(Inner {
                reducers: self.reducers,
                triggers: self.nodes.iter().map(|n| super::durable::trigger(&n.name)).collect(),
                nodes: self.nodes,
                branches: self.branches,
                start,
                exits: node_exits,
                joins,
                remaining_steps: self.remaining_steps,
                interrupt_before,
                interrupt_after,
                config: RunConfig::new().metadata("ls_integration", "langgraph"),
            }),
            checkpointer: self.checkpointer,
            durability: self.durability,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::fn_name;

    fn route_by_size(_: &u8) -> &'static str {
        "big"
    }

    fn generic<T>(_: &T) -> &'static str {
        "x"
    }

    fn type_of<F>(_: &F) -> &'static str {
        fn_name::<F>()
    }

    #[test]
    fn routers_are_named_after_their_function_and_closures_unnamed() {
        assert_eq!(type_of(&route_by_size), "route_by_size");
        assert_eq!(type_of(&generic::<Vec<u8>>), "generic");
        assert_eq!(type_of(&|_: &u8| "small"), "Unnamed");
        assert_eq!(fn_name::<fn(&u8) -> &'static str>(), "Unnamed");
    }
}
