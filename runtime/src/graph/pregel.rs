//! The compiled graph and its superstep loop: each step runs its tasks
//! (concurrently when there are several), folds their updates into the
//! state in LangGraph's task order (by node name), reports them, and stops at the
//! recursion limit.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Value as Json};

use super::builder::Node;
use super::outlet::{outlet_of, Outlet};
use super::routing::{Branch, Exits, Route};
use super::task::{Arrival, NodeInput, StepStart, Task, TaskRun};
use super::{Reducer, StreamMode, START};
use crate::config::RunConfig;
use crate::context::{current, CallOpts, ChildDefaults, LazyMetadata, RunContext};
use crate::error::{Error, ErrorKind, Result};
use crate::events::StepTag;
use crate::events::{EventData, EventPhase};
use crate::runnable::run::{RunStream, Source};
use crate::runnable::{ChunkStream, RunType, Runnable};
use crate::value::{Data, Map, Payload};

/// The recursion limit when the config sets none (LangGraph's default).
pub const DEFAULT_RECURSION_LIMIT: usize = 25;

/// What a compiled graph is made of, shared by its clones and their runs.
pub(super) struct Inner<S> {
    pub(super) reducers: HashMap<String, Reducer>,
    pub(super) nodes: Vec<Node<S>>,
    pub(super) branches: Vec<Branch<S>>,
    pub(super) start: Exits,
    /// What leaves each node, by index.
    pub(super) exits: Vec<Exits>,
    /// The waiting edges (`add_edge_from_all`).
    pub(super) joins: Vec<Join>,
    pub(super) remaining_steps: Option<String>,
    pub(super) config: RunConfig,
}

/// A waiting edge: `to` runs once every node of `sources` has run.
pub(super) struct Join {
    pub(super) sources: Vec<usize>,
    pub(super) to: usize,
    /// LangGraph's name of its channel (`join:a+b:to`), a trigger of `to`.
    pub(super) channel: Arc<str>,
}

/// A graph ready to run: a [`Runnable`] named `LangGraph` from a state to the
/// final state. Streaming it yields the state after each step; its events
/// show each node as a chain run tagged `graph:step:N` and the graph's
/// updates as its stream chunks. [`stream_modes`](Self::stream_modes) gives
/// LangGraph's stream modes.
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct CompiledGraph<S> {
    pub(super) inner: Arc<Inner<S>>,
}

impl<S> std::fmt::Debug for CompiledGraph<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledGraph")
            .field("nodes", &self.inner.nodes.iter().map(|n| &*n.name).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl<S> Clone for CompiledGraph<S> {
    fn clone(&self) -> Self {
        CompiledGraph {
            inner: self.inner.clone(),
        }
    }
}

/// The typed state. Read from a JSON value, as a user's own
/// `serde_json::from_value` would; the map is lent, not copied.
pub(super) fn to_state<S: DeserializeOwned>(state: &mut Map) -> Result<S> {
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

/// What a step reports beyond the state it leaves.
#[derive(Clone, Copy)]
pub(super) struct Reports {
    /// Someone listens to the graph's events (the nodes' inputs are JSON).
    pub(super) listening: bool,
    /// The graph's run shows each update as a stream chunk: someone listens
    /// and the graph is streamed (an invoked graph shows none, as in
    /// LangGraph).
    pub(super) chunks: bool,
    pub(super) updates: bool,
    pub(super) messages: bool,
    pub(super) debug: bool,
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
    pub(super) fn apply(&self, state: &mut Map, node: &str, update: Json, report: bool) -> Result<Json> {
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
    pub(super) fn node_view(&self, state: &Map, remaining: Option<i64>) -> Map {
        let mut view = state.clone();
        if let (Some(key), Some(n)) = (&self.remaining_steps, remaining) {
            view.insert(key.clone(), json!(n));
        }
        view
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
        if let Some(ctx) = ctx.filter(|c| reports.chunks && c.is_listening()) {
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

impl<S> CompiledGraph<S>
where
    S: Data + DeserializeOwned,
{
    /// Runs the graph, yielding the state after the input and after each
    /// step; `streamed`: the updates show as the run's stream chunks.
    fn run(&self, input: S, streamed: bool) -> ChunkStream<'_, S> {
        let inner = &*self.inner;
        Box::pin(async_stream::try_stream! {
            let ctx = current();
            let outlet = outlet_of(&ctx);
            let wants = |m: StreamMode| outlet.as_ref().is_some_and(|o| o.wants(m));
            let listening = ctx.as_ref().is_some_and(|c| c.is_listening());
            let reports = Reports {
                listening,
                chunks: listening && streamed,
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
            // Which sources of each waiting edge have run since it last fired.
            let mut seen: Vec<Vec<bool>> = inner.joins.iter().map(|j| vec![false; j.sources.len()]).collect();
            let mut tasks = inner.tasks_for(&[(&inner.start, None)], &[], &state, &typed, step, remaining(step), reports)?;
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
                // Several tasks: each waits, once started, for the others to start.
                let gate = (tasks.len() > 1).then(|| StepStart::new(tasks.len()));
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
                        step: gate.as_ref().map(Arrival::new),
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
                let mut joined = Vec::new();
                for (j, seen) in inner.joins.iter().zip(&mut seen) {
                    for t in &tasks {
                        if let Some(k) = j.sources.iter().position(|&s| s == t.node) {
                            seen[k] = true;
                        }
                    }
                    if seen.iter().all(|s| *s) {
                        seen.iter_mut().for_each(|s| *s = false);
                        joined.push(j.to);
                    }
                }
                tasks = inner.tasks_for(&from, &joined, &state, &typed, step, remaining(step), reports)?;
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
        let mut states = self.run(input.clone(), false);
        Box::pin(async move {
            let mut last = input;
            while let Some(s) = states.next().await {
                last = s?;
            }
            Ok(last)
        })
    }

    fn stream_body<'a>(&'a self, input: S) -> ChunkStream<'a, S> {
        self.run(input, true)
    }
}

crate::runnable::impl_pipe_operator!([S] CompiledGraph<S>);
