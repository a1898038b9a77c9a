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
use super::checkpoint::{self, CheckpointSource, Checkpointer};
use super::durable::{self, Durability, Plan, Saving};
use super::interrupt::{
    enclosing_scratch, interrupts_json, Command, GlobalResume, Goto, GraphInterrupt, Interrupt, Resume, TaskScratch,
};
use super::outlet::{outlet_of, Outlet};
use super::routing::SendTo;
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

/// The `configurable` keys a graph's run shows in its metadata (and so
/// every run beneath it), as LangGraph's `ensure_config` copies them.
pub(super) const PROPAGATED: &[&str] = &[
    "thread_id",
    "checkpoint_id",
    "checkpoint_ns",
    "task_id",
    "run_id",
    "assistant_id",
    "graph_id",
];

/// The recursion limit when the config sets none (LangGraph's default).
pub const DEFAULT_RECURSION_LIMIT: usize = 25;

/// What a compiled graph is made of, shared by its clones and their runs.
pub(super) struct Inner<S> {
    pub(super) reducers: HashMap<String, Reducer>,
    pub(super) nodes: Vec<Node<S>>,
    /// Each node's trigger channel (`branch:to:<node>`), by index.
    pub(super) triggers: Vec<Arc<str>>,
    pub(super) branches: Vec<Branch<S>>,
    pub(super) start: Exits,
    /// What leaves each node, by index.
    pub(super) exits: Vec<Exits>,
    /// The waiting edges (`add_edge_from_all`).
    pub(super) joins: Vec<Join>,
    pub(super) remaining_steps: Option<String>,
    /// The static breakpoints, by node index.
    pub(super) interrupt_before: Vec<bool>,
    pub(super) interrupt_after: Vec<bool>,
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
    /// Where the graph's threads are kept, if anywhere.
    pub(super) checkpointer: Option<Arc<dyn Checkpointer>>,
    /// When runs save their checkpoints, unless the run config says.
    pub(super) durability: Durability,
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
            checkpointer: self.checkpointer.clone(),
            durability: self.durability,
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
        cached: bool,
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
            if !cached {
                o.push(StreamMode::Updates, || Json::Object(item));
            }
            o.push_debug(StreamMode::Tasks, "task_result", step as i64, || {
                json!({
                    "id": task.meta.id().to_string(),
                    "name": &*node.name,
                    "error": null,
                    "result": update,
                    "interrupts": [],
                })
            });
        }
        Ok(())
    }
}

/// How a run starts: on an input, or going on with its thread.
pub(super) enum Start<S> {
    Input(S),
    Command(Command),
}

/// How a task of a step ended.
enum Outcome {
    /// Its update (and, in the task, the routes its routers picked).
    Done(Json),
    /// It stopped at an interrupt.
    Interrupted(Vec<Interrupt>),
}

/// A step's task whose writes were saved by an earlier run of the step.
enum Saved {
    /// It finished: its update, and the routes its routers picked.
    Done(Json, Vec<Route>),
    /// It stopped at interrupts; it runs again with these resume values.
    Interrupted(Vec<Interrupt>, Vec<Json>),
}

/// A task's saved writes, read back.
fn saved_of(writes: Vec<(String, Json)>) -> Saved {
    let mut update = Map::new();
    let mut routes = Vec::new();
    let mut interrupts = None;
    let mut resumed = Vec::new();
    for (channel, value) in writes {
        if channel == checkpoint::INTERRUPT {
            interrupts = Some(serde_json::from_value(value).unwrap_or_default());
        } else if channel == checkpoint::RESUME {
            resumed = serde_json::from_value(value).unwrap_or_default();
        } else if channel == checkpoint::ERROR {
            // A task that failed runs again.
            interrupts.get_or_insert_with(Vec::new);
        } else if let Some(node) = channel.strip_prefix("branch:to:") {
            routes.push(Route::Node(node.to_owned()));
        } else if channel == checkpoint::TASKS {
            routes.push(Route::Send(SendTo::new(
                value["node"].as_str().unwrap_or_default(),
                value["arg"].clone(),
            )));
        } else {
            update.insert(channel, value);
        }
    }
    // A task that stopped at an interrupt and finished on a resume keeps
    // its interrupt write beside its results: it is done.
    let finished = !update.is_empty() || !routes.is_empty();
    match interrupts {
        Some(i) if !finished => Saved::Interrupted(i, resumed),
        _ => Saved::Done(Json::Object(update), routes),
    }
}

/// The error of a resume with one value while the interrupts `ids` are
/// pending.
fn many_pending(ids: Vec<&str>) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "{} interrupts are pending ({}): resume them by id (Command::resume_by_id)",
            ids.len(),
            ids.join(", ")
        ),
    )
}

/// What a finished task saves: its update's keys and the routes it picked.
fn writes_of(update: &Json, routes: &[Route]) -> Vec<(String, Json)> {
    let mut writes: Vec<(String, Json)> = match update {
        Json::Object(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => Vec::new(),
    };
    for r in routes {
        match r {
            Route::Node(n) => writes.push((format!("branch:to:{n}"), Json::Null)),
            Route::Send(s) => writes.push((checkpoint::TASKS.to_owned(), json!({"node": s.node, "arg": s.arg}))),
        }
    }
    writes
}

impl<S> CompiledGraph<S>
where
    S: Data + DeserializeOwned,
{
    /// Runs the graph, yielding the state after each step; `streamed`: the
    /// updates show as the run's stream chunks, and the state the run
    /// starts from (after the input) is not yielded (an invoke takes the
    /// last state yielded).
    pub(super) fn run(&self, start: Start<S>, streamed: bool) -> ChunkStream<'_, S> {
        let inner = &*self.inner;
        Box::pin(async_stream::try_stream! {
            let ctx = current();
            // A graph run inside another graph's task is that task's
            // subgraph: its namespace is the task's.
            let graph_ns: Option<Arc<str>> = ctx.as_ref().and_then(|c| {
                c.metadata().get("langgraph_checkpoint_ns").and_then(Json::as_str).map(Arc::from)
            });
            // (A compiled graph as a node runs in its task's own context.)
            let enclosing = graph_ns.as_ref().and_then(|_| enclosing_scratch(ctx.clone()));
            let outlet = match (outlet_of(&ctx), &graph_ns) {
                (Some(o), _) => Some(o),
                (None, Some(ns)) => root_outlet(&ctx).and_then(|o| o.for_subgraph(ns)),
                (None, None) => None,
            };
            let wants = |m: StreamMode| outlet.as_ref().is_some_and(|o| o.wants(m));
            let listening = ctx.as_ref().is_some_and(|c| c.is_listening());
            let reports = Reports {
                listening,
                chunks: listening && streamed,
                updates: wants(StreamMode::Updates),
                messages: wants(StreamMode::Messages),
                debug: wants(StreamMode::Debug) || wants(StreamMode::Tasks),
            };
            let limit = ctx.as_ref().and_then(|c| c.recursion_limit()).unwrap_or(DEFAULT_RECURSION_LIMIT);
            let thread = enclosing.as_ref().and_then(|e| e.thread.as_ref());
            let mut saving = match (&self.checkpointer, &graph_ns, &thread) {
                // A subgraph saves in its task's thread, under its namespace.
                (None, Some(ns), Some(thread)) => Saving::nested(thread, ns, ctx.as_ref())?,
                _ => Saving::of(self.checkpointer.as_ref(), self.durability, ctx.as_ref())?,
            };
            // Whether saved checkpoints show as stream items.
            let show = outlet.as_ref().is_some_and(|o| o.wants_record(StreamMode::Checkpoints));
            let saved = match saving.as_mut() {
                Some(s) => s.load().await?,
                None => None,
            };
            // A subgraph whose task runs again after an interrupt goes on
            // from where it stopped, with the value its task was resumed with.
            let start = match start {
                Start::Input(_) if thread.is_some() && saved.as_ref().is_some_and(|t| Plan::has_due(&t.checkpoint.channel_values)) => {
                    let next = enclosing.as_ref().and_then(|e| e.next.lock().take());
                    Start::Command(Command { resume: next.map(Resume::Value), ..Default::default() })
                }
                start => start,
            };
            let mut state = Map::new();
            let mut plan = Plan {
                seen: inner.joins.iter().map(|j| vec![false; j.sources.len()]).collect(),
                ..Default::default()
            };
            // The writes tasks of the step due saved before the run stopped.
            let mut pending: HashMap<String, Vec<(String, Json)>> = HashMap::new();
            let mut resume: Option<Resume> = None;
            // The step the next tasks run in.
            let mut step: i64;
            let resuming = matches!(start, Start::Command(_));
            match start {
                Start::Input(input) => {
                    let input = serde_json::to_value(&input)?;
                    let base = saved.as_ref().map_or(-1, |t| t.metadata.step + 1);
                    if let Some(t) = &saved {
                        // A new input on a thread: its state goes on, what was due is dropped.
                        state = Plan::from_channels(inner, &t.checkpoint.channel_values, &t.config.thread_id)?.0;
                    }
                    if let Some(s) = saving.as_mut() {
                        let mut channels = state.clone();
                        channels.insert("__start__".into(), input.clone());
                        let saved = s.save(channels, CheckpointSource::Input, base, vec!["__start__".to_owned()], [], None, show).await?;
                        if let (Some(o), Some(saved)) = (&outlet, saved) {
                            o.push_debug(StreamMode::Checkpoints, "checkpoint", base, || s.checkpoint_item(inner, &saved, &state, &plan, true));
                        }
                    }
                    let keys: Vec<String> = input.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
                    inner.apply(&mut state, START, input, false)?;
                    if let Some(o) = &outlet {
                        o.push(StreamMode::Values, || Json::Object(state.clone()));
                    }
                    let typed: S = to_state(&mut state)?;
                    let (pulled, pushed) = inner.plan_for(&[(&inner.start, None)], &[], &typed)?;
                    plan.pulled = pulled;
                    plan.pushed = pushed;
                    step = base + 1;
                    if let Some(s) = saving.as_mut() {
                        let mut wrote = keys;
                        wrote.extend(plan.pulled.iter().map(|&i| inner.triggers[i].to_string()));
                        let ran = [(Arc::from(START), durable::trigger(START))];
                        let saved = s.save(plan.channels(inner, &state), CheckpointSource::Loop, step, wrote, ran, None, show).await?;
                        if let (Some(o), Some(saved)) = (&outlet, saved) {
                            o.push_debug(StreamMode::Checkpoints, "checkpoint", step, || s.checkpoint_item(inner, &saved, &state, &plan, false));
                        }
                    }
                    step += 1;
                }
                Start::Command(cmd) => {
                    let (Some(s), Some(t)) = (saving.as_ref(), saved) else {
                        Err(Error::new(
                            ErrorKind::InvalidInput,
                            match &saving {
                                None => "a Command goes on with a thread: compile the graph with a checkpointer".to_owned(),
                                Some(s) => format!("thread `{}` has no checkpoint to go on from", s.config.thread_id),
                            },
                        ))?;
                        unreachable!()
                    };
                    let (st, pl) = Plan::from_channels(inner, &t.checkpoint.channel_values, &s.config.thread_id)?;
                    state = st;
                    plan = pl;
                    step = t.metadata.step + 1;
                    let replay = matches!(t.metadata.source, CheckpointSource::Input | CheckpointSource::Loop)
                        && s.is_replay(&t).await?;
                    if replay {
                        // Going back in time: a fork of the old checkpoint,
                        // from which every task due runs again.
                        let channels = plan.channels(inner, &state);
                        let s = saving.as_mut().expect("a thread");
                        let saved = s.save(channels, CheckpointSource::Fork, step, Vec::new(), [], None, show).await?;
                        if let (Some(o), Some(saved)) = (&outlet, saved) {
                            o.push_debug(StreamMode::Checkpoints, "checkpoint", step, || s.checkpoint_item(inner, &saved, &state, &plan, false));
                        }
                        step += 1;
                    } else {
                        if let (Some(o), Some(s)) = (&outlet, saving.as_ref()) {
                            // The checkpoint the run goes on from, shown again
                            // with the interrupts its tasks stopped on.
                            let saved = (t.parent_config.clone(), t.metadata.clone());
                            o.push_debug(StreamMode::Checkpoints, "checkpoint", t.metadata.step, || {
                                let mut item = s.checkpoint_item(inner, &saved, &state, &plan, false);
                                for task in item["tasks"].as_array_mut().into_iter().flatten() {
                                    let asked = t.pending_writes.iter().find(|w| {
                                        w.channel == checkpoint::INTERRUPT && Some(&w.task_id) == task["id"].as_str().map(str::to_owned).as_ref()
                                    });
                                    if let Some(w) = asked {
                                        task["interrupts"] = w.value.clone();
                                    }
                                }
                                item
                            });
                        }
                        for w in t.pending_writes {
                            pending.entry(w.task_id).or_default().push((w.channel, w.value));
                        }
                    }
                    // A Command's update is the step's global write, kept on the
                    // checkpoint (LangGraph's): every later run of the step
                    // applies the earlier ones again, and get_state shows them.
                    if let Some(global) = pending.remove(checkpoint::NULL_TASK_ID) {
                        let earlier: Map = global.into_iter().filter(|(c, _)| !c.starts_with("__")).collect();
                        if !earlier.is_empty() {
                            inner.apply(&mut state, "__input__", Json::Object(earlier), false)?;
                        }
                    }
                    if let Some(update) = cmd.update {
                        if let (false, Some(s), Json::Object(m)) = (replay, saving.as_ref(), &update) {
                            let writes: Vec<(String, Json)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                            s.save_writes(checkpoint::NULL_TASK_ID, writes).await?;
                        }
                        inner.apply(&mut state, "__input__", update, false)?;
                    }
                    for g in cmd.goto {
                        match g {
                            Goto::Node(n) => {
                                let i = inner.node_index(&n)?;
                                if !plan.pulled.contains(&i) {
                                    plan.pulled.push(i);
                                }
                            }
                            Goto::Send { node, arg } => plan.pushed.push((inner.node_index(&node)?, arg)),
                        }
                    }
                    resume = cmd.resume;
                    if let Some(Resume::Value(_)) = &resume {
                        // Refused before anything shows: one value for several
                        // pending interrupts (tasks stopped and not finished since).
                        let mut asked: Vec<(&str, Vec<Interrupt>)> = Vec::new();
                        let mut done: Vec<&str> = Vec::new();
                        for (task, writes) in &pending {
                            for (channel, value) in writes {
                                match channel.as_str() {
                                    checkpoint::INTERRUPT => {
                                        let i: Vec<Interrupt> = serde_json::from_value(value.clone()).unwrap_or_default();
                                        if !i.is_empty() {
                                            asked.push((task, i));
                                        }
                                    }
                                    c if !c.starts_with("__") => done.push(task),
                                    _ => {}
                                }
                            }
                        }
                        asked.retain(|(t, _)| !done.contains(t));
                        if asked.len() > 1 {
                            asked.sort_by(|a, b| a.0.cmp(b.0));
                            Err(many_pending(asked.iter().flat_map(|(_, i)| i.iter().map(|x| x.id.as_str())).collect()))?;
                        }
                    }
                    if let Some(o) = &outlet {
                        o.push(StreamMode::Values, || Json::Object(state.clone()));
                    }
                }
            }
            let mut typed: S = to_state(&mut state)?;
            if !streamed {
                yield typed.clone();
            }
            let mut steps_run: usize = 0;
            let remaining = |n: usize| Some(limit as i64 - n as i64);
            let mut interrupted: Vec<Interrupt> = Vec::new();
            // A run going on from a checkpoint passes its breakpoints.
            let mut passed = resuming;
            while !plan.is_empty() {
                let before = plan.pulled.iter().chain(plan.pushed.iter().map(|(i, _)| i)).any(|&i| inner.interrupt_before[i]);
                if saving.is_some() && before && !passed {
                    if let Some(o) = &outlet {
                        o.push(StreamMode::Updates, || json!({ checkpoint::INTERRUPT: [] }));
                    }
                    break;
                }
                passed = false;
                if steps_run >= limit {
                    let mut due: Vec<&str> = plan.pulled.iter().map(|&i| &*inner.nodes[i].name).collect();
                    due.extend(plan.pushed.iter().map(|(i, _)| &*inner.nodes[*i].name));
                    Err(Error::new(
                        ErrorKind::RecursionLimit,
                        format!(
                            "recursion limit of {limit} reached without hitting a stop condition (nodes due next: {}); set a higher recursion_limit in the config",
                            due.join(", ")
                        ),
                    ))?;
                }
                let ids = saving.as_ref().map(|s| (s.config.checkpoint_id.as_deref().unwrap_or_default(), s.config.checkpoint_ns.as_str()));
                let mut tasks = inner.tasks_of(
                    &plan.pulled,
                    &plan.pushed,
                    &state,
                    &typed,
                    step as usize,
                    remaining(steps_run + 1),
                    reports,
                    ids,
                    graph_ns.as_ref(),
                );
                // What an earlier run of this step saved of each task.
                let mut earlier: Vec<Option<Saved>> = tasks
                    .iter()
                    .map(|t| (!pending.is_empty()).then(|| pending.remove(&t.meta.id().to_string())).flatten().map(saved_of))
                    .collect();
                pending.clear();
                let mut next_resume: Vec<Option<Json>> = vec![None; tasks.len()];
                let global_resume: GlobalResume = Arc::default();
                if let Some(r) = resume.take() {
                    let waiting: Vec<(usize, &Vec<Interrupt>)> = earlier
                        .iter()
                        .enumerate()
                        .filter_map(|(k, e)| match e {
                            Some(Saved::Interrupted(i, _)) if !i.is_empty() => Some((k, i)),
                            _ => None,
                        })
                        .collect();
                    match r {
                        Resume::Value(v) => match &waiting[..] {
                            // No interrupt waits (the thread was updated since, or
                            // goes on from a breakpoint): the first to ask takes it.
                            [] => *global_resume.lock() = Some(v),
                            [(k, _)] => next_resume[*k] = Some(v),
                            many => Err(many_pending(many.iter().flat_map(|(_, i)| i.iter().map(|x| x.id.as_str())).collect()))?,
                        },
                        Resume::ById(mut by_id) => {
                            for (k, list) in &waiting {
                                if let Some(v) = list.iter().find_map(|i| by_id.remove(&i.id)) {
                                    next_resume[*k] = Some(v);
                                }
                            }
                            if let Some(id) = by_id.keys().next() {
                                Err(Error::new(
                                    ErrorKind::InvalidInput,
                                    format!("no pending interrupt has id `{id}`"),
                                ))?;
                            }
                        }
                    }
                }
                // Named routers run inside their node on the pre-step state.
                let snapshot = if tasks.iter().any(|t| t.routes.is_some()) { state.clone() } else { Map::new() };
                if let Some(o) = &outlet {
                    for (task, e) in tasks.iter().zip(&earlier) {
                        if matches!(e, Some(Saved::Done(..))) {
                            continue;
                        }
                        o.push_debug(StreamMode::Tasks, "task", step, || json!({
                            "id": task.meta.id().to_string(),
                            "name": &*inner.nodes[task.node].name,
                            "input": task.input,
                            "triggers": task.meta.triggers(),
                        }));
                    }
                }
                let to_run = earlier.iter().filter(|e| !matches!(e, Some(Saved::Done(..)))).count();
                // Several tasks: each waits, once started, for the others to start.
                let gate = (to_run > 1).then(|| StepStart::new(to_run));
                let saving_ref = saving.as_ref();
                // A subgraph streamed with its namespace: what its tasks
                // write goes out under it.
                let writer = outlet
                    .as_ref()
                    .filter(|o| graph_ns.is_some() && o.wants(StreamMode::Custom))
                    .map(|o| crate::context::Writer::Sink(o.clone()));
                let failures: parking_lot::Mutex<Vec<(usize, Json)>> = parking_lot::Mutex::default();
                let failures = &failures;
                let run_task = |(k, task): (usize, &mut Task<S>), resumed: Vec<Json>, next: Option<Json>| {
                    let node = &inner.nodes[task.node];
                    let mut opts = CallOpts {
                        step: Some(StepTag::Graph(step as u32)),
                        lazy_metadata: Some(task.meta.clone()),
                        children: Some(ChildDefaults {
                            step: Some(StepTag::Seq(1)),
                            metadata: Some(task.meta.clone()),
                        }),
                        ..Default::default()
                    };
                    // Only a run on a thread can stop at an interrupt (and only
                    // there do tasks have their ids before their events need them).
                    opts.writer = writer.clone();
                    let scratch = saving_ref.map(|_| {
                        let scratch = Arc::new(
                            TaskScratch::new(task.meta.id(), saving_ref.map(Saving::thread_ref), resumed, next)
                                .with_global(global_resume.clone()),
                        );
                        opts.extensions.insert(scratch.clone());
                        scratch
                    });
                    let run = TaskRun {
                        inner,
                        node,
                        traced: &inner.exits[task.node].traced,
                        state: &snapshot,
                        remaining: remaining(steps_run + 1),
                        routes: task.routes.clone(),
                        step: gate.as_ref().map(Arrival::new),
                    };
                    let input = std::mem::replace(&mut task.input, NodeInput::Json(Json::Null));
                    let routes = task.routes.clone();
                    async move {
                        let mut out = RunStream::new(&run, Source::Value(input), opts);
                        let mut update: Option<Json> = None;
                        let mut failed = None;
                        while let Some(chunk) = out.next().await {
                            match chunk {
                                Ok(chunk) => match update.as_mut() {
                                    Some(u) => crate::value::Chunk::concat(u, chunk),
                                    None => update = Some(chunk),
                                },
                                Err(e) => {
                                    failed = Some(e);
                                    break;
                                }
                            }
                        }
                        drop(out);
                        let outcome = match failed {
                            None => Outcome::Done(update.unwrap_or(Json::Null)),
                            Some(e) => match GraphInterrupt::of(&e) {
                                Some(i) => Outcome::Interrupted(i.to_vec()),
                                None => {
                                    // Its result shows once the step's finished
                                    // tasks' have (below), as the error as JSON.
                                    failures.lock().push((k, json!({"type": e.type_name(), "message": e.message()})));
                                    if let (Some(s), Some(scratch)) = (saving_ref, &scratch) {
                                        // Saved as LangGraph saves it: the exception's repr.
                                        let repr = format!("{}('{}')", e.type_name(), e.message().replace('\\', "\\\\").replace('\'', "\\'"));
                                        let error = vec![(checkpoint::ERROR.to_owned(), Json::String(repr))];
                                        let mut id = uuid::Uuid::encode_buffer();
                                        s.save_writes(scratch.task_id.hyphenated().encode_lower(&mut id), error).await?;
                                    }
                                    return Err(e);
                                }
                            },
                        };
                        if let (Some(s), Some(scratch)) = (saving_ref, &scratch) {
                            let writes = match &outcome {
                                Outcome::Done(update) => {
                                    let picked: Vec<Route> = routes.as_ref().map(|r| r.lock().clone()).unwrap_or_default();
                                    writes_of(update, &picked)
                                }
                                Outcome::Interrupted(i) => vec![
                                    (checkpoint::INTERRUPT.to_owned(), serde_json::to_value(i)?),
                                    (checkpoint::RESUME.to_owned(), Json::Array(scratch.resumed.lock().clone())),
                                ],
                            };
                            let mut id = uuid::Uuid::encode_buffer();
                            s.save_writes(scratch.task_id.hyphenated().encode_lower(&mut id), writes).await?;
                        }
                        Ok::<_, Error>((k, outcome))
                    }
                };
                let mut runs = Vec::with_capacity(to_run);
                let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(tasks.len());
                // Tasks an earlier run of the step finished: their updates
                // show again first, marked cached (as LangGraph's).
                let cached: Vec<bool> = earlier.iter().map(|e| matches!(e, Some(Saved::Done(..)))).collect();
                for ((k, task), e) in tasks.iter_mut().enumerate().zip(earlier.iter_mut()) {
                    match e.take() {
                        Some(Saved::Done(update, routes)) => {
                            if let Some(r) = &task.routes {
                                r.lock().extend(routes);
                            }
                            if let Some(o) = &outlet {
                                o.push(StreamMode::Updates, || {
                                    json!({ &*inner.nodes[task.node].name: update.clone(), "__metadata__": {"cached": true} })
                                });
                            }
                            outcomes.push(Some(Outcome::Done(update)));
                        }
                        Some(Saved::Interrupted(_, resumed)) => {
                            outcomes.push(None);
                            runs.push(run_task((k, task), resumed, next_resume[k].take()));
                        }
                        None => {
                            outcomes.push(None);
                            runs.push(run_task((k, task), Vec::new(), None));
                        }
                    }
                }
                // One task: no join.
                let results = if runs.len() == 1 {
                    let only = runs.pop().expect("one run");
                    drop(runs);
                    vec![only.await]
                } else {
                    futures::future::join_all(runs).await
                };
                let mut first_error = None;
                for r in results {
                    match r {
                        Ok((k, o)) => outcomes[k] = Some(o),
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                if let Some(e) = first_error {
                    if let Some(o) = &outlet {
                        // The step's results in task order: what finished, then
                        // what failed (LangGraph's, whose tasks end as they finish).
                        let failed = std::mem::take(&mut *failures.lock());
                        for (task, outcome) in tasks.iter().zip(&outcomes) {
                            if let Some(Outcome::Done(update)) = outcome {
                                o.push_debug(StreamMode::Tasks, "task_result", step, || json!({
                                    "id": task.meta.id().to_string(),
                                    "name": &*inner.nodes[task.node].name,
                                    "error": null,
                                    "result": update,
                                    "interrupts": [],
                                }));
                            }
                        }
                        for (k, error) in failed {
                            o.push_debug(StreamMode::Tasks, "task_result", step, || json!({
                                "id": tasks[k].meta.id().to_string(),
                                "name": &*inner.nodes[tasks[k].node].name,
                                "error": error,
                                "result": {},
                                "interrupts": [],
                            }));
                        }
                    }
                    if let Some(s) = saving.as_mut() {
                        s.finish().await?;
                    }
                    Err(e)?;
                }
                for o in &outcomes {
                    if let Some(Outcome::Interrupted(i)) = o {
                        interrupted.extend(i.iter().cloned());
                    }
                }
                if !interrupted.is_empty() {
                    // The step stops here; its finished tasks' writes wait,
                    // saved. Its items, in task order: each interrupt (in
                    // `updates`, and in `values` with the state the step
                    // started from), each finished task's update; then the
                    // state with those updates, which the run ends with.
                    let mut after: Option<Map> = None;
                    for ((task, o), was_cached) in tasks.iter().zip(outcomes).zip(&cached) {
                        match o {
                            Some(Outcome::Interrupted(i)) => {
                                let asked = interrupts_json(&i);
                                if let Some(o) = &outlet {
                                    o.push_debug(StreamMode::Tasks, "task_result", step, || json!({
                                        "id": task.meta.id().to_string(),
                                        "name": &*inner.nodes[task.node].name,
                                        "error": null,
                                        "result": {},
                                        "interrupts": asked.clone(),
                                    }));
                                }
                                if let Some(ctx) = ctx.as_ref().filter(|c| reports.chunks && c.is_listening()) {
                                    let item = json!({ checkpoint::INTERRUPT: asked.clone() });
                                    ctx.emit(EventPhase::Stream, EventData::with_chunk(Payload::new(item)));
                                }
                                if let Some(o) = &outlet {
                                    o.push(StreamMode::Updates, || json!({ checkpoint::INTERRUPT: asked.clone() }));
                                    o.push(StreamMode::Values, || {
                                        let mut v = state.clone();
                                        v.insert(checkpoint::INTERRUPT.into(), asked);
                                        Json::Object(v)
                                    });
                                }
                            }
                            Some(Outcome::Done(update)) => {
                                let after = after.get_or_insert_with(|| state.clone());
                                inner.finish_task(ctx.as_ref(), outlet.as_ref(), reports, after, task, update, step as usize, *was_cached)?;
                            }
                            None => {}
                        }
                    }
                    if let Some(mut after) = after {
                        if let Some(o) = &outlet {
                            o.push(StreamMode::Values, || Json::Object(after.clone()));
                        }
                        yield to_state(&mut after)?;
                    }
                    break;
                }
                let mut wrote: Vec<String> = Vec::new();
                for ((task, o), was_cached) in tasks.iter().zip(outcomes).zip(&cached) {
                    let Some(Outcome::Done(update)) = o else { continue };
                    if saving.is_some() {
                        if let Json::Object(m) = &update {
                            wrote.extend(m.keys().cloned());
                        }
                    }
                    inner.finish_task(ctx.as_ref(), outlet.as_ref(), reports, &mut state, task, update, step as usize, *was_cached)?;
                }
                if let Some(o) = &outlet {
                    o.push(StreamMode::Values, || Json::Object(state.clone()));
                }
                typed = to_state(&mut state)?;
                yield typed.clone();
                let from: Vec<(&Exits, Option<&parking_lot::Mutex<Vec<Route>>>)> =
                    tasks.iter().map(|t| (&inner.exits[t.node], t.routes.as_deref())).collect();
                let mut joined = Vec::new();
                for (j, seen) in inner.joins.iter().zip(&mut plan.seen) {
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
                let (pulled, pushed) = inner.plan_for(&from, &joined, &typed)?;
                plan.pulled = pulled;
                plan.pushed = pushed;
                if let Some(s) = saving.as_mut() {
                    let ran = tasks.iter().map(|t| (inner.nodes[t.node].name.clone(), inner.triggers[t.node].clone()));
                    wrote.extend(plan.pulled.iter().map(|&i| inner.triggers[i].to_string()));
                    let saved = s.save(plan.channels(inner, &state), CheckpointSource::Loop, step, wrote, ran, None, show).await?;
                    if let (Some(o), Some(saved)) = (&outlet, saved) {
                        o.push_debug(StreamMode::Checkpoints, "checkpoint", step, || s.checkpoint_item(inner, &saved, &state, &plan, false));
                    }
                }
                step += 1;
                steps_run += 1;
                if saving.is_some() && !plan.is_empty() && tasks.iter().any(|t| inner.interrupt_after[t.node]) {
                    if let Some(o) = &outlet {
                        o.push(StreamMode::Updates, || json!({ checkpoint::INTERRUPT: [] }));
                    }
                    break;
                }
            }
            if let Some(s) = saving.as_mut() {
                s.finish().await?;
            }
            // A subgraph's interrupt stops its task in the graph above too.
            if !interrupted.is_empty() && thread.is_some() {
                Err(Error::from_source(ErrorKind::Interrupted, GraphInterrupt(interrupted)))?;
            }
        })
    }
}

/// The outlet of the graph stream a run is beneath, if any.
fn root_outlet(ctx: &Option<Arc<RunContext>>) -> Option<Arc<Outlet>> {
    let mut c = ctx.clone();
    while let Some(run) = c {
        if let Some(o) = run.extension::<Outlet>() {
            return Some(o);
        }
        c = run.parent().cloned();
    }
    None
}

impl<S> CompiledGraph<S> {
    /// The same graph, keeping its threads in `saver` (see
    /// [`StateGraph::checkpointer`](super::StateGraph::checkpointer)): for
    /// graphs compiled elsewhere, such as
    /// [`create_react_agent`](super::create_react_agent)'s.
    pub fn with_checkpointer(mut self, saver: Arc<dyn Checkpointer>) -> Self {
        self.checkpointer = Some(saver);
        self
    }

    /// Where the graph keeps its threads, if anywhere (set by
    /// [`with_checkpointer`](Self::with_checkpointer) or
    /// [`StateGraph::checkpointer`](super::StateGraph::checkpointer)).
    pub fn checkpointer(&self) -> Option<&Arc<dyn Checkpointer>> {
        self.checkpointer.as_ref()
    }

    /// The same graph, saving with `durability` unless a run config says.
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }
}

impl<S> CompiledGraph<S>
where
    S: Data + DeserializeOwned,
{
    /// The state a run from `start` ends with.
    pub(super) fn last_state(&self, start: Start<S>) -> BoxFuture<'_, Result<S>> {
        let mut states = self.run(start, false);
        Box::pin(async move {
            let mut last = None;
            while let Some(s) = states.next().await {
                last = Some(s?);
            }
            last.ok_or_else(|| Error::new(ErrorKind::Task, "the graph run gave no state"))
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

    fn configurable_in_metadata(&self) -> &'static [&'static str] {
        PROPAGATED
    }

    fn invoke_body<'a>(&'a self, input: S) -> BoxFuture<'a, Result<S>> {
        self.last_state(Start::Input(input))
    }

    fn stream_body<'a>(&'a self, input: S) -> ChunkStream<'a, S> {
        self.run(Start::Input(input), true)
    }
}

crate::runnable::impl_pipe_operator!([S] CompiledGraph<S>);
