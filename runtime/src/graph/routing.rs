//! Where a run goes next: edges and conditional edges ([`Route`],
//! [`SendTo`], [`Targets`]), resolved when the graph is compiled
//! ([`Exits`]), and the tasks of the next step chosen from them.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value as Json};

use super::builder::{Body, Node};
use super::pregel::{Inner, Reports};
use super::task::{NodeInput, Task, TaskMeta};
use super::END;
use crate::error::{Error, ErrorKind, Result};
use crate::runnable::Runnable;
use crate::value::{Data, Map};

/// What runs next: the nodes pulled (by index), and the nodes sent their
/// own input.
pub(super) type Due = (Vec<usize>, Vec<(usize, Json)>);

/// A conditional edge's routing function.
pub(super) type Router<S> = Arc<dyn Fn(&S) -> Result<Vec<Route>> + Send + Sync>;

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

/// A conditional edge.
pub(super) struct Branch<S> {
    pub(super) from: String,
    pub(super) route: Router<S>,
    /// Traced branches run inside the source node's run, as a chain run of
    /// this name (LangGraph traces named routing functions).
    pub(super) traced: Option<Arc<str>>,
}

/// Where an edge leads, resolved when the graph is compiled.
enum Hop {
    Node(usize),
    End,
    /// Not a node ([`START`](super::START)): refused when taken, as a
    /// router's bad pick is.
    Name(String),
}

/// A route taken, resolved or not.
enum Pick {
    Node(usize),
    Route(Route),
}

/// What leaves a node (or [`START`](super::START)): its edges, then its
/// untraced and its traced conditional edges (indices into the branches).
pub(super) struct Exits {
    hops: Vec<Hop>,
    plain: Vec<usize>,
    pub(super) traced: Vec<usize>,
}

impl Exits {
    /// What leaves `from`, given the graph's edges, nodes and branches.
    pub(super) fn resolve<S>(
        from: &str,
        edges: &[(String, String)],
        nodes: &[Node<S>],
        branches: &[Branch<S>],
    ) -> Exits {
        Exits {
            hops: edges
                .iter()
                .filter(|(f, _)| f == from)
                .map(|(_, to)| match nodes.iter().position(|n| &*n.name == to) {
                    Some(i) => Hop::Node(i),
                    None if to == END => Hop::End,
                    None => Hop::Name(to.clone()),
                })
                .collect(),
            plain: (0..branches.len())
                .filter(|&i| branches[i].from == from && branches[i].traced.is_none())
                .collect(),
            traced: (0..branches.len())
                .filter(|&i| branches[i].from == from && branches[i].traced.is_some())
                .collect(),
        }
    }
}

/// A traced routing function, as a run.
pub(super) struct RouterRun<'a, S> {
    pub(super) name: &'a str,
    pub(super) route: &'a Router<S>,
    pub(super) picked: Arc<parking_lot::Mutex<Vec<Route>>>,
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

impl<S> Inner<S>
where
    S: Data + DeserializeOwned,
{
    /// The channels of the waiting edges into `node` (none: `None`).
    fn joins_to(&self, node: usize) -> Option<Arc<[Arc<str>]>> {
        let joins: Vec<Arc<str>> = self
            .joins
            .iter()
            .filter(|j| j.to == node)
            .map(|j| j.channel.clone())
            .collect();
        (!joins.is_empty()).then(|| Arc::from(joins))
    }

    /// What runs next, from what leaves the nodes of `from` (their edges,
    /// their untraced conditional edges (from START) on `typed`, then the
    /// routes their traced routers picked) and the waiting edges `joined`
    /// that fire: nodes pulled from the state (by name), then the sent tasks
    /// in the order they were sent.
    pub(super) fn plan_for(
        &self,
        from: &[(&Exits, Option<&parking_lot::Mutex<Vec<Route>>>)],
        joined: &[usize],
        typed: &S,
    ) -> Result<Due> {
        let find = |name: &str| self.node_index(name);
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
        for &i in joined {
            take(Pick::Node(i), &mut bad);
        }
        if let Some(e) = bad {
            return Err(e);
        }
        Ok((pulled, pushed))
    }

    /// The node named `name`, by index.
    pub(super) fn node_index(&self, name: &str) -> Result<usize> {
        self.nodes.iter().position(|n| &*n.name == name).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("a conditional edge chose `{name}`, which is not a node"),
            )
        })
    }

    /// The tasks of step `step`: the nodes of `pulled` in LangGraph's order
    /// (by node name, which decides how their updates fold, and the order
    /// of `updates` and custom items), then those of `pushed` in order.
    /// `ids`: the checkpoint and namespace of a run on a thread, which make
    /// the tasks' ids.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn tasks_of(
        &self,
        pulled: &[usize],
        pushed: &[(usize, Json)],
        state: &Map,
        typed: &S,
        step: usize,
        remaining: Option<i64>,
        reports: Reports,
        ids: Option<(&str, &str)>,
        graph_ns: Option<&Arc<str>>,
    ) -> Vec<Task<S>> {
        let mut pulled = pulled.to_vec();
        pulled.sort_unstable_by(|&a, &b| self.nodes[a].name.cmp(&self.nodes[b].name));
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
        let task = |node: usize, input: NodeInput<S>, push: Option<usize>| {
            let id = OnceLock::new();
            if let Some((checkpoint, ns)) = ids {
                let _ = id.set(super::durable::task_id(
                    checkpoint,
                    ns,
                    step as i64,
                    &self.nodes[node].name,
                    push,
                ));
            }
            Task {
                node,
                input,
                meta: Arc::new(TaskMeta {
                    step,
                    node: self.nodes[node].name.clone(),
                    push,
                    joins: push.is_none().then(|| self.joins_to(node)).flatten(),
                    id,
                    graph_ns: graph_ns.cloned(),
                }),
                routes: (!self.exits[node].traced.is_empty()).then(Default::default),
            }
        };
        let mut tasks: Vec<Task<S>> = Vec::with_capacity(pulled.len() + pushed.len());
        for i in pulled {
            let input = match &view {
                Some(v) if json_input(i) => NodeInput::Json(v.clone()),
                _ => NodeInput::State(typed.clone()),
            };
            tasks.push(task(i, input, None));
        }
        for (n, (i, arg)) in pushed.iter().enumerate() {
            tasks.push(task(*i, NodeInput::Json(arg.clone()), Some(n)));
        }
        tasks
    }
}
