//! A thread's state: [`get_state`](CompiledGraph::get_state),
//! [`get_state_history`](CompiledGraph::get_state_history),
//! [`update_state`](CompiledGraph::update_state), and runs going on with a
//! thread ([`resume`](CompiledGraph::resume)).

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value as Json};

use super::checkpoint::{self, CheckpointConfig, CheckpointSource, CheckpointTuple, ListOptions};
use super::durable::{self, Plan, Saving};
use super::interrupt::{Command, Interrupt};
use super::pregel::{to_state, CompiledGraph, Start};
use super::START;
use crate::config::RunConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::runnable::{ChunkStream, RunType, Runnable};
use crate::value::{Data, Map};

/// A thread's state at one checkpoint (LangGraph's `StateSnapshot`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StateSnapshot {
    /// The state's values.
    pub values: Map,
    /// The nodes due next, in task order (none: the run finished).
    pub next: Vec<String>,
    /// The checkpoint this is.
    pub config: CheckpointConfig,
    /// Its metadata (none for a thread with no checkpoint).
    pub metadata: Option<checkpoint::CheckpointMetadata>,
    /// When it was made.
    pub created_at: Option<String>,
    /// The checkpoint before it.
    pub parent_config: Option<CheckpointConfig>,
    /// The tasks due next, with what those that already ran left.
    pub tasks: Vec<TaskSnapshot>,
    /// The interrupts the run stopped on, waiting for a resume.
    pub interrupts: Vec<Interrupt>,
}

/// A task due at a checkpoint (LangGraph's `PregelTask`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskSnapshot {
    /// The task's id.
    pub id: String,
    /// Its node.
    pub name: String,
    /// How it was made: `["__pregel_pull", node]` or `["__pregel_push", i, false]`.
    pub path: Json,
    /// Its error, if it failed.
    pub error: Option<String>,
    /// The interrupts it stopped on.
    pub interrupts: Vec<Interrupt>,
    /// Its update, if it finished.
    pub result: Option<Json>,
    /// For a subgraph's task (a node that is a compiled graph): where its
    /// checkpoints are, or, from
    /// [`get_state_with_subgraphs`](CompiledGraph::get_state_with_subgraphs),
    /// the subgraph's own state (LangGraph's `PregelTask.state`).
    pub state: Option<TaskState>,
}

/// A subgraph task's state in a [`TaskSnapshot`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TaskState {
    /// The thread and namespace of the subgraph's checkpoints.
    Config(CheckpointConfig),
    /// The subgraph's state.
    Snapshot(Box<StateSnapshot>),
}

impl<S> super::pregel::Inner<S> {
    /// Where the checkpoints of task `task_id` of node `name` are, if the
    /// node is a compiled graph; `graph_ns` is the namespace of the graph
    /// the task runs in.
    pub(super) fn subgraph_state(
        &self,
        thread_id: &str,
        graph_ns: &str,
        name: &str,
        task_id: &str,
    ) -> Option<CheckpointConfig> {
        self.nodes.iter().find(|n| &*n.name == name)?.subgraph.as_ref()?;
        let ns = if graph_ns.is_empty() {
            format!("{name}:{task_id}")
        } else {
            format!("{graph_ns}|{name}:{task_id}")
        };
        Some(CheckpointConfig {
            checkpoint_ns: ns,
            ..CheckpointConfig::thread(thread_id)
        })
    }
}

/// A graph run going on with a thread: the graph on a [`Command`].
pub(super) struct CommandRun<S>(pub(super) CompiledGraph<S>);

impl<S> Clone for CommandRun<S> {
    fn clone(&self) -> Self {
        CommandRun(self.0.clone())
    }
}

impl crate::value::Chunk for Command {}

impl<S> Runnable for CommandRun<S>
where
    S: Data + DeserializeOwned,
{
    type Input = Command;
    type Output = S;

    fn name(&self) -> Cow<'_, str> {
        "LangGraph".into()
    }

    fn run_type(&self) -> RunType {
        RunType::Chain
    }

    fn config(&self) -> Option<&RunConfig> {
        Some(&self.0.inner.config)
    }

    fn emits_own_chunks(&self) -> bool {
        true
    }

    fn configurable_in_metadata(&self) -> &'static [&'static str] {
        super::pregel::PROPAGATED
    }

    fn invoke_body<'a>(&'a self, input: Command) -> BoxFuture<'a, Result<S>> {
        self.0.last_state(Start::Command(input))
    }

    fn stream_body<'a>(&'a self, input: Command) -> ChunkStream<'a, S> {
        self.0.run(Start::Command(input), true)
    }
}

impl CheckpointConfig {
    /// A run config naming this checkpoint (`configurable`: `thread_id`,
    /// `checkpoint_ns`, `checkpoint_id`): to run from it, or read it.
    pub fn run_config(&self) -> RunConfig {
        let mut config = RunConfig::new().configurable("thread_id", self.thread_id.clone());
        if !self.checkpoint_ns.is_empty() {
            config = config.configurable("checkpoint_ns", self.checkpoint_ns.clone());
        }
        if let Some(id) = &self.checkpoint_id {
            config = config.configurable("checkpoint_id", id.clone());
        }
        config
    }
}

impl<S> CompiledGraph<S>
where
    S: Data + DeserializeOwned,
{
    /// Goes on with the thread `config` names: resumes its interrupts with
    /// the command's values, applies its update, runs what is due (and its
    /// `goto`s), and returns the state the run ends with. With a
    /// `checkpoint_id` in `config`, the run goes on from that checkpoint (a
    /// replay, or a fork after [`update_state`](Self::update_state)); a
    /// [`Command::default()`] just goes on.
    pub async fn resume(&self, command: Command, config: RunConfig) -> Result<S> {
        let run = CommandRun(self.clone());
        crate::runnable::run::invoke(&run, command, crate::context::CallOpts::config(config)).await
    }

    /// The graph as a runnable on [`Command`]s: runs going on with a thread
    /// (what [`resume`](Self::resume) invokes), to stream their events or
    /// compose them.
    pub fn on_command(&self) -> impl Runnable<Input = Command, Output = S> + Clone {
        CommandRun(self.clone())
    }

    fn saver(&self) -> Result<&Arc<dyn checkpoint::Checkpointer>> {
        self.checkpointer.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::Usage,
                "this graph has no checkpointer: compile it with `StateGraph::checkpointer`",
            )
        })
    }

    /// The state of the thread `config` names, at its latest checkpoint (or
    /// the one its `checkpoint_id` names).
    pub async fn get_state(&self, config: RunConfig) -> Result<StateSnapshot> {
        let saver = self.saver()?.clone();
        let at = durable::config_of(Some(&config.configurable))?;
        self.state_in(saver, at, false).await
    }

    /// [`get_state`](Self::get_state) with the state of each subgraph task
    /// (a node that is a compiled graph) in its [`TaskSnapshot::state`],
    /// theirs nesting theirs (LangGraph's `get_state(subgraphs=True)`).
    pub async fn get_state_with_subgraphs(&self, config: RunConfig) -> Result<StateSnapshot> {
        let saver = self.saver()?.clone();
        let at = durable::config_of(Some(&config.configurable))?;
        self.state_in(saver, at, true).await
    }

    /// The state at `at` in `saver` (a subgraph has no saver of its own:
    /// its parent's is given), with subgraph tasks' states if `recurse`.
    fn state_in(
        &self,
        saver: Arc<dyn checkpoint::Checkpointer>,
        at: CheckpointConfig,
        recurse: bool,
    ) -> BoxFuture<'_, Result<StateSnapshot>> {
        Box::pin(async move {
            let live = at.checkpoint_id.is_none();
            let Some(t) = saver.get_tuple(&at).await? else {
                return Ok(Self::no_state(at));
            };
            let mut snapshot = self.snapshot(t, live)?;
            if recurse {
                for task in &mut snapshot.tasks {
                    let Some(TaskState::Config(c)) = &task.state else {
                        continue;
                    };
                    let Some(sub) = self
                        .inner
                        .nodes
                        .iter()
                        .find(|n| *n.name == task.name)
                        .and_then(|n| n.subgraph.as_ref())
                    else {
                        continue;
                    };
                    let state = sub.state_in(saver.clone(), c.clone(), true).await?;
                    task.state = Some(TaskState::Snapshot(Box::new(state)));
                }
            }
            Ok(snapshot)
        })
    }

    /// The state of a thread with no checkpoint.
    fn no_state(at: CheckpointConfig) -> StateSnapshot {
        StateSnapshot {
            values: Map::new(),
            next: Vec::new(),
            config: at,
            metadata: None,
            created_at: None,
            parent_config: None,
            tasks: Vec::new(),
            interrupts: Vec::new(),
        }
    }

    /// Every checkpoint of the thread `config` names, newest first (before
    /// its `checkpoint_id`, if it names one).
    pub async fn get_state_history(&self, config: RunConfig) -> Result<Vec<StateSnapshot>> {
        self.get_state_history_with(config, ListOptions::default()).await
    }

    /// [`get_state_history`](Self::get_state_history) with LangGraph's
    /// `limit`, `before` and `filter` (metadata entries to match). A
    /// `checkpoint_id` in `config` is the `before` when `options` has none.
    pub async fn get_state_history_with(&self, config: RunConfig, options: ListOptions) -> Result<Vec<StateSnapshot>> {
        let saver = self.saver()?;
        let mut at = durable::config_of(Some(&config.configurable))?;
        let own = at.checkpoint_id.take();
        let options = ListOptions {
            before: options.before.or(own),
            ..options
        };
        saver
            .list(&at, &options)
            .await?
            .into_iter()
            .map(|t| self.snapshot(t, false))
            .collect()
    }

    /// The snapshot of a checkpoint: as it was saved, or (`live`, the
    /// thread's current state) with the updates of the tasks that finished
    /// since applied, and only the tasks still due in `next`.
    fn snapshot(&self, t: CheckpointTuple, live: bool) -> Result<StateSnapshot> {
        let inner = &*self.inner;
        let (mut values, plan) = Plan::from_channels(inner, &t.checkpoint.channel_values, &t.config.thread_id)?;
        let step = t.metadata.step + 1;
        durable::list_defaults(inner, &mut values);
        // The tasks in the order of the graph's nodes (LangGraph's), the
        // Sends after them; an input checkpoint's one task is `__start__`,
        // whose result is the input.
        let input = t.checkpoint.channel_values.get(START);
        let due = input
            .map(|_| (START.to_owned(), None))
            .into_iter()
            .chain(plan.pulled.iter().map(|&i| (inner.nodes[i].name.to_string(), None)))
            .chain(
                plan.pushed
                    .iter()
                    .enumerate()
                    .map(|(n, (i, _))| (inner.nodes[*i].name.to_string(), Some(n))),
            );
        let mut tasks = Vec::new();
        for (name, push) in due {
            let id = durable::task_id(&t.checkpoint.id, &t.config.checkpoint_ns, step, &name, push).to_string();
            let state = inner
                .subgraph_state(&t.config.thread_id, &t.config.checkpoint_ns, &name, &id)
                .map(TaskState::Config);
            let mut task = TaskSnapshot {
                path: match push {
                    Some(n) => json!(["__pregel_push", n, false]),
                    None => json!(["__pregel_pull", name]),
                },
                id,
                name,
                error: None,
                interrupts: Vec::new(),
                result: None,
                state,
            };
            let mut update = Map::new();
            let mut ran = false;
            for w in t.pending_writes.iter().filter(|w| w.task_id == task.id) {
                match w.channel.as_str() {
                    checkpoint::INTERRUPT => {
                        task.interrupts = serde_json::from_value(w.value.clone()).unwrap_or_default();
                    }
                    checkpoint::ERROR => task.error = w.value.as_str().map(str::to_owned),
                    checkpoint::RESUME | checkpoint::TASKS => {}
                    c if c.starts_with("branch:to:") => ran = true,
                    c => {
                        ran = true;
                        update.insert(c.to_owned(), w.value.clone());
                    }
                }
            }
            if task.name == START {
                ran = true;
                update = input.and_then(Json::as_object).cloned().unwrap_or_default();
            }
            // A task that finished after an interrupt keeps both.
            if ran && task.error.is_none() {
                task.result = Some(Json::Object(update));
            }
            tasks.push(task);
        }
        if live {
            // A Command's update kept on the checkpoint (global writes).
            let global: Map = t
                .pending_writes
                .iter()
                .filter(|w| w.task_id == checkpoint::NULL_TASK_ID && !w.channel.starts_with("__"))
                .map(|w| (w.channel.clone(), w.value.clone()))
                .collect();
            if !global.is_empty() {
                inner.apply(&mut values, "__input__", Json::Object(global), false)?;
            }
        }
        let mut next: Vec<String> = Vec::new();
        let mut interrupts = Vec::new();
        for task in &mut tasks {
            match (&task.result, live) {
                (Some(update), true) => {
                    inner.apply(&mut values, &task.name, update.clone(), false)?;
                    // Answered: the live state lists only what still waits.
                    task.interrupts.clear();
                }
                _ => {
                    next.push(task.name.clone());
                    interrupts.extend(task.interrupts.iter().cloned());
                }
            }
        }
        let parents = &t.metadata.parents;
        Ok(StateSnapshot {
            values,
            next,
            created_at: Some(t.checkpoint.ts.clone()),
            config: t.config.with_map(parents),
            parent_config: t.parent_config.map(|c| c.with_map(parents)),
            metadata: Some(t.metadata),
            tasks,
            interrupts,
        })
    }

    /// Applies `values` (a JSON object of state keys, folded with their
    /// reducers) to the thread `config` names, as if node `as_node` had
    /// returned it: what follows that node is due next. Without `as_node`,
    /// the update is the input's (what follows START is due). Saves a
    /// checkpoint (source `update`) after the one `config` names (an older
    /// one: a fork) and returns the config naming it.
    pub async fn update_state(&self, config: RunConfig, values: Json, as_node: Option<&str>) -> Result<RunConfig> {
        let inner = &*self.inner;
        self.saver()?;
        let ctx = crate::context::RunContext::child(
            None,
            RunType::Chain,
            || Arc::from("update_state"),
            None,
            None,
            crate::context::CallOpts::config(config),
        );
        let mut saving = Saving::of(self.checkpointer.as_ref(), self.durability, Some(&ctx))?
            .ok_or_else(|| Error::new(ErrorKind::Usage, "this graph has no checkpointer"))?;
        let saved = saving.load().await?;
        let (mut state, mut plan, step) = match &saved {
            Some(t) => {
                let (s, p) = Plan::from_channels(inner, &t.checkpoint.channel_values, &t.config.thread_id)?;
                (s, p, t.metadata.step + 1)
            }
            None => (Map::new(), Plan::default(), 0),
        };
        let due_before = plan.pulled.clone();
        if plan.seen.is_empty() {
            plan.seen = inner.joins.iter().map(|j| vec![false; j.sources.len()]).collect();
        }
        let inferred = match as_node {
            Some(_) => None,
            None => saving.last_node()?,
        };
        let node = as_node.or(inferred.as_deref()).unwrap_or(START);
        let exits = if node == START {
            &inner.start
        } else {
            let i = inner.nodes.iter().position(|n| &*n.name == node).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("update_state: as_node `{node}` is not a node of this graph"),
                )
            })?;
            &inner.exits[i]
        };
        let wrote: Vec<String> = values
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        inner.apply(&mut state, node, values.clone(), false)?;
        let typed: S = to_state(&mut state)?;
        // What follows the node; traced routers run here, on the new state.
        let picked = parking_lot::Mutex::new(Vec::new());
        for &b in &exits.traced {
            picked.lock().extend((inner.branches[b].route)(&typed)?);
        }
        let (pulled, pushed) = inner.plan_for(&[(exits, Some(&picked))], &[], &typed)?;
        plan.pulled = pulled;
        plan.pushed = pushed;
        saving
            .save(
                plan.channels(inner, &state),
                CheckpointSource::Update,
                step,
                wrote,
                [(Arc::from(node), durable::trigger(node))],
                None,
                false,
            )
            .await?;
        saving.finish().await?;
        // As LangGraph's: the update is also kept as writes on the checkpoint
        // updated, under the node's task there if it had one (an
        // interrupted node's: its history shows the update as its result).
        if let (Some(t), Json::Object(m)) = (&saved, &values) {
            let task = match inner.nodes.iter().position(|n| &*n.name == node) {
                Some(i) if due_before.contains(&i) => durable::task_id(
                    &t.checkpoint.id,
                    &t.config.checkpoint_ns,
                    t.metadata.step + 1,
                    node,
                    None,
                ),
                _ => {
                    let base = uuid::Uuid::parse_str(&t.checkpoint.id).unwrap_or_default();
                    uuid::Uuid::new_v5(&base, checkpoint::INTERRUPT.as_bytes())
                }
            };
            let writes: Vec<(String, Json)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            self.saver()?.put_writes(&t.config, &task.to_string(), writes).await?;
        }
        Ok(saving.config.run_config())
    }
}
