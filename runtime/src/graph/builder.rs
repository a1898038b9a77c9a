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

use super::pregel::{CompiledGraph, Inner};
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

/// A graph under construction. See the [module docs](super).
#[must_use = "a graph does nothing until it is compiled and run"]
pub struct StateGraph<S> {
    reducers: HashMap<String, Reducer>,
    nodes: Vec<Node<S>>,
    edges: Vec<(String, String)>,
    branches: Vec<Branch<S>>,
    remaining_steps: Option<String>,
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

    /// After `from`, run the nodes `route` picks from the state ([`END`] to
    /// stop, [`SendTo`](super::SendTo)s to fan out).
    pub fn add_conditional_edges<F, T>(self, from: &str, route: F) -> Self
    where
        F: Fn(&S) -> T + Send + Sync + 'static,
        T: Targets,
    {
        self.push_branch(from, None, route)
    }

    /// [`add_conditional_edges`](Self::add_conditional_edges) with a routing
    /// function that shows in events: it runs inside `from`'s run, as a
    /// chain run named `name`, on the state with `from`'s update applied.
    pub fn add_named_conditional_edges<F, T>(self, from: &str, name: &str, route: F) -> Self
    where
        F: Fn(&S) -> T + Send + Sync + 'static,
        T: Targets,
    {
        self.push_branch(from, Some(name), route)
    }

    /// A conditional edge from `from`; `traced` names the run its routing
    /// function shows as (none: it runs between steps, unseen).
    fn push_branch<F, T>(mut self, from: &str, traced: Option<&str>, route: F) -> Self
    where
        F: Fn(&S) -> T + Send + Sync + 'static,
        T: Targets,
    {
        self.branches.push(Branch {
            from: from.to_owned(),
            route: Arc::new(move |s: &S| Ok(route(s).into_routes())),
            traced: traced.map(Arc::from),
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
        let exits = |from: &str| Exits::resolve(from, &self.edges, &self.nodes, &self.branches);
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
