//! A graph run on a thread: what runs next as checkpoint channels
//! ([`Plan`]), and the saving of checkpoints and task writes ([`Saving`])
//! with the run's [`Durability`].

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use futures::future::{BoxFuture, FutureExt, Shared};
use serde_json::{json, Value as Json};

use super::checkpoint::{
    self, Checkpoint, CheckpointConfig, CheckpointMetadata, CheckpointSource, CheckpointTuple, Checkpointer, Versions,
    TASKS,
};
use super::pregel::Inner;
use crate::context::RunContext;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Map;

/// When a graph run saves its checkpoints (LangGraph's `durability`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// Each step's checkpoint is saved before the next step starts: a crash
    /// loses nothing but the step that was running (and of it, only the
    /// tasks that had not finished).
    Sync,
    /// Each step's checkpoint is saved while the next step runs (the
    /// default, as in LangGraph): faster; a crash may lose the step before.
    #[default]
    Async,
    /// Only when the run ends (it finishes, stops at an interrupt, or
    /// fails): fastest; a crash loses the whole run.
    Exit,
}

impl Durability {
    /// From LangGraph's names `sync`, `async`, `exit`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sync" => Durability::Sync,
            "async" => Durability::Async,
            "exit" => Durability::Exit,
            _ => return None,
        })
    }
}

/// What runs next: the nodes pulled by an edge (by index), the
/// [`SendTo`](super::SendTo)s, and which sources each waiting edge has seen.
#[derive(Clone, Debug, Default)]
pub(super) struct Plan {
    pub(super) pulled: Vec<usize>,
    pub(super) pushed: Vec<(usize, Json)>,
    pub(super) seen: Vec<Vec<bool>>,
}

const BRANCH: &str = "branch:to:";

impl Plan {
    /// Whether a checkpoint's channels have something due.
    pub(super) fn has_due(channels: &Map) -> bool {
        channels.keys().any(|k| k.starts_with(BRANCH) || k == TASKS)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pulled.is_empty() && self.pushed.is_empty()
    }

    /// The checkpoint's channels: the state's keys and this plan's.
    pub(super) fn channels<S>(&self, inner: &Inner<S>, state: &Map) -> Map {
        // Made at its size: the plan's channels do not grow it again.
        let more = self.pulled.len() + 1 + self.seen.len();
        let mut values = Map::with_capacity(state.len() + more);
        values.extend(state.iter().map(|(k, v)| (k.clone(), v.clone())));
        for &i in &self.pulled {
            values.insert(inner.triggers[i].to_string(), Json::Null);
        }
        if !self.pushed.is_empty() {
            let sends = self
                .pushed
                .iter()
                .map(|(i, arg)| json!({"type": "Send", "node": &*inner.nodes[*i].name, "arg": arg}))
                .collect();
            values.insert(TASKS.into(), Json::Array(sends));
        }
        for (join, seen) in inner.joins.iter().zip(&self.seen) {
            if seen.iter().any(|s| *s) {
                let names = join
                    .sources
                    .iter()
                    .zip(seen)
                    .filter(|(_, s)| **s)
                    .map(|(&n, _)| Json::from(&*inner.nodes[n].name))
                    .collect();
                values.insert(join.channel.to_string(), Json::Array(names));
            }
        }
        values
    }

    /// The state and the plan a checkpoint's channels hold.
    pub(super) fn from_channels<S>(inner: &Inner<S>, channels: &Map, thread: &str) -> Result<(Map, Plan)> {
        let node = |name: &str| {
            inner.nodes.iter().position(|n| &*n.name == name).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("thread `{thread}`: its checkpoint names node `{name}`, which this graph does not have"),
                )
            })
        };
        let mut state = Map::new();
        let mut plan = Plan {
            seen: inner.joins.iter().map(|j| vec![false; j.sources.len()]).collect(),
            ..Default::default()
        };
        for (k, v) in channels {
            if let Some(name) = k.strip_prefix(BRANCH) {
                plan.pulled.push(node(name)?);
            } else if k == TASKS {
                for send in v.as_array().into_iter().flatten() {
                    let name = send["node"].as_str().unwrap_or_default();
                    plan.pushed.push((node(name)?, send["arg"].clone()));
                }
            } else if k == "__start__" {
                // The input of an input checkpoint, consumed by the step after.
            } else if let Some(j) = inner.joins.iter().position(|j| *j.channel == **k) {
                for name in v.as_array().into_iter().flatten().filter_map(Json::as_str) {
                    let n = node(name)?;
                    if let Some(p) = inner.joins[j].sources.iter().position(|&s| s == n) {
                        plan.seen[j][p] = true;
                    }
                }
            } else {
                state.insert(k.clone(), v.clone());
            }
        }
        plan.pulled.sort_unstable();
        plan.pulled.dedup();
        Ok((state, plan))
    }
}

/// Gives each list key (a reducer's) that has no value an empty list:
/// LangGraph's reducer channels always have a value, so the input
/// checkpoint of a new thread shows its empty lists.
pub(super) fn list_defaults<S>(inner: &Inner<S>, values: &mut Map) {
    for (key, reducer) in &inner.reducers {
        if matches!(reducer, super::Reducer::Append | super::Reducer::AddMessages) && !values.contains_key(key) {
            values.insert(key.clone(), Json::Array(Vec::new()));
        }
    }
}

/// A task's id on a thread: the same for the same checkpoint, namespace,
/// step, node and place, so a resumed step finds its finished tasks' writes.
/// A version 8 UUID made of the XXH3-128 hash of those (each string after
/// its length, so no two lists of them hash the same text).
pub(super) fn task_id(checkpoint_id: &str, ns: &str, step: i64, node: &str, push: Option<usize>) -> uuid::Uuid {
    // The bytes hashed: each string after its length, the step, the place.
    // Written into a buffer on the stack and hashed at once (a streaming
    // hasher costs several times as much on inputs this small); the
    // streaming hasher takes what does not fit, with the same result.
    let parts = [checkpoint_id, ns, node];
    let len = parts.iter().map(|p| 8 + p.len()).sum::<usize>() + 8 + 9;
    let mut buf = [0u8; 256];
    if len <= buf.len() {
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            buf[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        for part in parts {
            put(&(part.len() as u64).to_le_bytes());
            put(part.as_bytes());
        }
        put(&step.to_le_bytes());
        match push {
            Some(i) => {
                put(&[1]);
                put(&(i as u64).to_le_bytes());
            }
            None => put(&[0]),
        }
        let hash = xxhash_rust::xxh3::xxh3_128(&buf[..at]);
        return uuid::Builder::from_custom_bytes(hash.to_be_bytes()).into_uuid();
    }
    task_id_streamed(parts, step, push)
}

fn task_id_streamed(parts: [&str; 3], step: i64, push: Option<usize>) -> uuid::Uuid {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for part in parts {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.update(&step.to_le_bytes());
    match push {
        Some(i) => {
            h.update(&[1]);
            h.update(&(i as u64).to_le_bytes());
        }
        None => h.update(&[0]),
    }
    uuid::Builder::from_custom_bytes(h.digest128().to_be_bytes()).into_uuid()
}

type Put = Shared<BoxFuture<'static, std::result::Result<(), Error>>>;

/// A task's id and the writes it made.
type TaskWrites = (String, Vec<(String, Json)>);

/// A checkpoint not saved yet (durability `exit`), with the writes made
/// after it.
struct Stashed {
    parent: CheckpointConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    writes: Vec<TaskWrites>,
}

/// The thread a graph's task runs on, handed to a subgraph it runs: the
/// subgraph saves under the task's namespace in the same thread.
pub(super) struct ThreadRef {
    run: Arc<RunThread>,
    /// The checkpoint the task's step runs from.
    checkpoint_id: Option<String>,
}

/// What the tasks of one run share of its thread (made once a run, not
/// once a task).
struct RunThread {
    saver: Arc<dyn Checkpointer>,
    thread_id: String,
    durability: Durability,
    /// The run's namespace.
    ns: String,
    /// The checkpoint of each graph the run is nested in, by namespace.
    parents: BTreeMap<String, String>,
}

/// A node's name and its trigger channel's (`branch:to:<node>`): what a
/// checkpoint's `versions_seen` records of a node that ran.
pub(super) type Ran = (Arc<str>, Arc<str>);

/// The trigger channel of node `name`.
pub(super) fn trigger(name: &str) -> Arc<str> {
    format!("{BRANCH}{name}").into()
}

/// What the `checkpoints` stream mode shows of a saved checkpoint: its
/// parent (none while durability `exit` keeps it) and metadata.
pub(super) type Shown = (Option<CheckpointConfig>, CheckpointMetadata);

/// Saves a run's checkpoints and task writes on its thread.
pub(super) struct Saving {
    saver: Arc<dyn Checkpointer>,
    /// The thread and namespace; its id is the latest checkpoint's.
    pub(super) config: CheckpointConfig,
    durability: Durability,
    /// Each channel's version, sorted by channel: what the next checkpoint's
    /// `channel_versions` copies.
    versions: Vec<(Arc<str>, u64)>,
    /// The versions each node has seen, sorted by node.
    seen: Vec<(Arc<str>, Versions<u64>)>,
    /// What the run's tasks share of its thread, made when the first asks.
    run_thread: OnceLock<Arc<RunThread>>,
    /// The save under way (durability `async`).
    in_flight: Option<Put>,
    stash: parking_lot::Mutex<Option<Stashed>>,
    /// Durability `exit`: the writes made after the checkpoint the run
    /// started from, saved only if the run makes no checkpoint after it.
    early: parking_lot::Mutex<Vec<TaskWrites>>,
    /// The metadata every checkpoint of the run carries (the run's).
    extra: Map,
    /// The checkpoint the run config named, if it named one.
    named: Option<String>,
    /// The checkpoints of the graphs this one is nested in, by namespace.
    parents: BTreeMap<String, String>,
}

impl Saving {
    /// The saving of a run of a graph compiled with a checkpointer: its
    /// thread from the run config's `configurable` (`thread_id`, and
    /// `checkpoint_id` to start from an earlier checkpoint).
    pub(super) fn of(
        saver: Option<&Arc<dyn Checkpointer>>,
        default: Durability,
        ctx: Option<&Arc<RunContext>>,
    ) -> Result<Option<Saving>> {
        let Some(saver) = saver else {
            return Ok(None);
        };
        let conf = ctx.map(|c| c.configurable());
        let config = config_of(conf)?;
        Self::on(saver, config, default, conf)
    }

    /// The saving of a subgraph's run under namespace `ns` of the thread
    /// of the task it runs in.
    pub(super) fn nested(thread: &ThreadRef, ns: &str, ctx: Option<&Arc<RunContext>>) -> Result<Option<Saving>> {
        let run = &thread.run;
        let config = CheckpointConfig {
            thread_id: run.thread_id.clone(),
            checkpoint_ns: ns.to_owned(),
            checkpoint_id: None,
            checkpoint_map: BTreeMap::new(),
        };
        let conf = ctx.map(|c| c.configurable());
        let mut saving = Self::on(&run.saver, config, run.durability, None)?;
        if let (Some(s), Some(conf)) = (saving.as_mut(), conf) {
            s.set_extra(conf);
            s.parents = run.parents.clone();
            if let Some(id) = &thread.checkpoint_id {
                s.parents.insert(run.ns.clone(), id.clone());
            }
        }
        Ok(saving)
    }

    /// The thread the tasks of this run's current step run on, for their
    /// subgraphs.
    pub(super) fn thread_ref(&self) -> ThreadRef {
        let run = self.run_thread.get_or_init(|| {
            Arc::new(RunThread {
                saver: self.saver.clone(),
                thread_id: self.config.thread_id.clone(),
                durability: self.durability,
                ns: self.config.checkpoint_ns.clone(),
                parents: self.parents.clone(),
            })
        });
        ThreadRef {
            run: run.clone(),
            checkpoint_id: self.config.checkpoint_id.clone(),
        }
    }

    fn on(
        saver: &Arc<dyn Checkpointer>,
        config: CheckpointConfig,
        default: Durability,
        conf: Option<&Map>,
    ) -> Result<Option<Saving>> {
        let durability = match conf.and_then(|c| c.get("durability")).and_then(Json::as_str) {
            Some(name) => Durability::from_name(name).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("durability `{name}` is none of `sync`, `async`, `exit`"),
                )
            })?,
            None => default,
        };
        let mut saving = Saving {
            saver: saver.clone(),
            config,
            durability,
            versions: Vec::new(),
            seen: Vec::new(),
            run_thread: OnceLock::new(),
            in_flight: None,
            stash: parking_lot::Mutex::new(None),
            early: parking_lot::Mutex::default(),
            extra: Map::new(),
            named: None,
            parents: BTreeMap::new(),
        };
        saving.named = saving.config.checkpoint_id.clone();
        if let Some(conf) = conf {
            saving.set_extra(conf);
        }
        Ok(Some(saving))
    }

    /// The node that ran last before the loaded checkpoint (the one that
    /// saw the newest version): what an update without `as_node` is
    /// applied as. None when only the input was seen; an error on a tie.
    pub(super) fn last_node(&self) -> Result<Option<String>> {
        let mut best: Option<(u64, &str)> = None;
        let mut tie = false;
        for (node, seen) in &self.seen {
            if node.starts_with("__") {
                continue;
            }
            let v = seen.values().copied().max().unwrap_or_default();
            match best {
                Some((b, _)) if v < b => {}
                Some((b, _)) if v == b => tie = true,
                _ => {
                    best = Some((v, node));
                    tie = false;
                }
            }
        }
        if tie {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "update_state: several nodes ran last; name the one to update as (as_node)",
            ));
        }
        Ok(best.map(|(_, n)| n.to_owned()))
    }

    /// The metadata the run's checkpoints carry besides their source, step
    /// and parents: the run's `configurable` values that are plain scalars,
    /// but for the thread's own keys (as LangGraph's).
    pub(super) fn set_extra(&mut self, configurable: &Map) {
        for (k, v) in configurable {
            let own = matches!(
                k.as_str(),
                "thread_id" | "checkpoint_id" | "checkpoint_ns" | "checkpoint_map" | "durability"
            ) || k.starts_with("langgraph_")
                || k.starts_with("__");
            if !own && (v.is_string() || v.is_number() || v.is_boolean()) {
                self.extra.insert(k.clone(), v.clone());
            }
        }
    }

    /// Loads the checkpoint the run starts from.
    pub(super) async fn load(&mut self) -> Result<Option<CheckpointTuple>> {
        let found = self.saver.get_tuple(&self.config).await?;
        if let Some(t) = &found {
            self.config.checkpoint_id = Some(t.checkpoint.id.clone());
            let versions = &t.checkpoint.channel_versions;
            self.versions = versions.iter().map(|(k, v)| (Arc::from(k), *v)).collect();
            let seen = &t.checkpoint.versions_seen;
            self.seen = seen.iter().map(|(k, v)| (Arc::from(k), v.clone())).collect();
        } else if let Some(id) = &self.config.checkpoint_id {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("thread `{}` has no checkpoint `{id}`", self.config.thread_id),
            ));
        }
        Ok(found)
    }

    /// Whether the run starts from an earlier checkpoint than the thread's
    /// latest (named by `checkpoint_id`): a replay.
    pub(super) async fn is_replay(&self, loaded: &CheckpointTuple) -> Result<bool> {
        if self.named.is_none() {
            return Ok(false);
        }
        let latest = self
            .saver
            .get_tuple(&CheckpointConfig {
                checkpoint_id: None,
                ..self.config.clone()
            })
            .await?;
        Ok(latest.is_some_and(|l| l.checkpoint.id != loaded.checkpoint.id))
    }

    /// Waits for the save under way, if any.
    async fn settle(&self) -> Result<()> {
        match &self.in_flight {
            Some(put) => put.clone().await,
            None => Ok(()),
        }
    }

    /// Saves a checkpoint of `channels` made by `source` at `step`; `wrote`:
    /// the channels the step wrote, `ran`: the nodes that ran. With `show`,
    /// returns what the `checkpoints` stream mode shows of it.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn save(
        &mut self,
        channels: Map,
        source: CheckpointSource,
        step: i64,
        wrote: Vec<String>,
        ran: impl IntoIterator<Item = Ran>,
        extra: Option<Map>,
        show: bool,
    ) -> Result<Option<Shown>> {
        // As LangGraph's: every channel a step writes gets the same new
        // version, one above every version so far.
        let version = self.versions.iter().map(|(_, v)| *v).max().unwrap_or_default() + 1;
        for ch in &wrote {
            match checkpoint::find(&self.versions, ch) {
                Ok(i) => self.versions[i].1 = version,
                Err(i) => self.versions.insert(i, (Arc::from(ch.as_str()), version)),
            }
        }
        for (node, trigger) in ran {
            let v = match checkpoint::find(&self.versions, &trigger) {
                Ok(i) => self.versions[i].1,
                Err(_) => 0,
            };
            let i = match checkpoint::find(&self.seen, &node) {
                Ok(i) => i,
                Err(i) => {
                    self.seen.insert(i, (node, Versions::new()));
                    i
                }
            };
            self.seen[i].1.insert(trigger, v);
        }
        let checkpoint = Checkpoint {
            v: checkpoint::CHECKPOINT_VERSION,
            id: checkpoint::new_checkpoint_id(),
            ts: checkpoint::now_rfc3339(),
            channel_values: channels,
            // One allocation each; the names and the nodes' maps are shared.
            channel_versions: Versions::from_sorted(&self.versions),
            versions_seen: Versions::from_sorted(&self.seen),
            updated_channels: wrote,
        };
        let mut metadata = CheckpointMetadata::new(source, step);
        metadata.extra = extra.unwrap_or_else(|| self.extra.clone());
        metadata.parents = self.parents.clone();
        let shown = show.then(|| {
            let parent = self.config.checkpoint_id.is_some() && self.durability != Durability::Exit;
            (parent.then(|| self.config.clone()), metadata.clone())
        });
        let id = match self.durability {
            // The saver's config names it: its id is taken from there.
            Durability::Sync => None,
            _ => Some(checkpoint.id.clone()),
        };
        match self.durability {
            Durability::Sync => {
                let at = self.saver.put(&self.config, checkpoint, metadata).await?;
                if at.checkpoint_id.is_none() {
                    // The next checkpoint would have no parent: the thread's
                    // history would break without a word.
                    return Err(Error::new(
                        ErrorKind::Usage,
                        format!(
                            "the checkpointer's put returned a config without a checkpoint_id (thread `{}`): \
                             it must name the checkpoint it stored",
                            self.config.thread_id
                        ),
                    ));
                }
                self.config.checkpoint_id = at.checkpoint_id;
            }
            Durability::Async => {
                self.settle().await?;
                let saver = self.saver.clone();
                let parent = self.config.clone();
                let put: BoxFuture<'static, Result<()>> =
                    Box::pin(async move { saver.put(&parent, checkpoint, metadata).await.map(|_| ()) });
                // Started now, on its own task: it runs while the next step does.
                let handle = tokio::spawn(put);
                let joined: BoxFuture<'static, Result<()>> = Box::pin(async move {
                    handle
                        .await
                        .map_err(|e| Error::new(ErrorKind::Task, format!("saving a checkpoint failed: {e}")))?
                });
                self.in_flight = Some(joined.shared());
            }
            Durability::Exit => {
                let mut stash = self.stash.lock();
                // The run's first checkpoint's parent is what the thread had.
                let parent = match stash.take() {
                    Some(s) => s.parent,
                    None => self.config.clone(),
                };
                *stash = Some(Stashed {
                    parent,
                    checkpoint,
                    metadata,
                    writes: Vec::new(),
                });
            }
        }
        if id.is_some() {
            self.config.checkpoint_id = id;
        }
        Ok(shown)
    }

    /// The `checkpoints` stream item of the checkpoint just saved, holding
    /// `state` with `plan` due (or the input, for an input checkpoint).
    pub(super) fn checkpoint_item<S>(
        &self,
        inner: &Inner<S>,
        saved: &Shown,
        state: &Map,
        plan: &Plan,
        input: bool,
    ) -> Json {
        let id = self.config.checkpoint_id.as_deref().unwrap_or_default();
        let step = saved.1.step + 1;
        let mut due: Vec<(String, Option<usize>)> = if input {
            vec![("__start__".to_owned(), None)]
        } else {
            // In the order of the graph's nodes, as LangGraph's.
            let mut pulled = plan.pulled.clone();
            pulled.sort_unstable();
            pulled
                .into_iter()
                .map(|i| (inner.nodes[i].name.to_string(), None))
                .collect()
        };
        due.extend(
            plan.pushed
                .iter()
                .enumerate()
                .map(|(k, (i, _))| (inner.nodes[*i].name.to_string(), Some(k))),
        );
        let tasks: Vec<Json> = due
            .iter()
            .map(|(name, push)| {
                let id = task_id(id, &self.config.checkpoint_ns, step, name, *push).to_string();
                let state = inner
                    .subgraph_state(&self.config.thread_id, &self.config.checkpoint_ns, name, &id)
                    .map(|c| c.to_json());
                json!({
                    "id": id,
                    "name": name,
                    "interrupts": [],
                    "state": state,
                })
            })
            .collect();
        let mut values = state.clone();
        list_defaults(inner, &mut values);
        let parents = &saved.1.parents;
        json!({
            "config": self.config.clone().with_map(parents).to_json(),
            "parent_config": saved.0.as_ref().map(|c| c.clone().with_map(parents).to_json()),
            "values": values,
            "metadata": saved.1,
            "next": due.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            "tasks": tasks,
        })
    }

    /// Saves the writes task `task_id` made after the latest checkpoint.
    pub(super) async fn save_writes(&self, task_id: &str, writes: Vec<(String, Json)>) -> Result<()> {
        if self.durability == Durability::Exit {
            match self.stash.lock().as_mut() {
                Some(s) => s.writes.push((task_id.to_owned(), writes)),
                None => self.early.lock().push((task_id.to_owned(), writes)),
            }
            return Ok(());
        }
        self.settle().await?;
        self.saver.put_writes(&self.config, task_id, writes).await
    }

    /// Saves what is left to save: the save under way, or (durability
    /// `exit`) the run's last checkpoint and the writes after it.
    pub(super) async fn finish(&mut self) -> Result<()> {
        self.settle().await?;
        self.in_flight = None;
        let stashed = self.stash.lock().take();
        let early = std::mem::take(&mut *self.early.lock());
        match stashed {
            Some(s) => {
                let at = self.saver.put(&s.parent, s.checkpoint, s.metadata).await?;
                for (task, writes) in s.writes {
                    self.saver.put_writes(&at, &task, writes).await?;
                }
            }
            // No checkpoint since the one the run started from: what its
            // step's tasks wrote is kept there.
            None => {
                for (task, writes) in early {
                    self.saver.put_writes(&self.config, &task, writes).await?;
                }
            }
        }
        Ok(())
    }
}

/// The thread, namespace and checkpoint a run config's `configurable` names.
pub(super) fn config_of(conf: Option<&Map>) -> Result<CheckpointConfig> {
    let get = |k: &str| conf.and_then(|c| c.get(k));
    let thread_id = match get("thread_id") {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => n.to_string(),
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "this graph has a checkpointer: its run config needs a `thread_id` in `configurable` \
                 (`RunConfig::new().configurable(\"thread_id\", \"...\")`)",
            ))
        }
    };
    Ok(CheckpointConfig {
        thread_id,
        checkpoint_ns: get("checkpoint_ns")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned(),
        checkpoint_id: get("checkpoint_id").and_then(Json::as_str).map(str::to_owned),
        checkpoint_map: BTreeMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures::future::BoxFuture;
    use serde_json::{json, Value as Json};

    use crate::config::RunConfig;
    use crate::error::{ErrorKind, Result};
    use crate::graph::checkpoint::{
        Checkpoint, CheckpointConfig, CheckpointMetadata, CheckpointTuple, Checkpointer, InMemorySaver, ListOptions,
    };
    use crate::graph::{Durability, StateGraph, END, START};
    use crate::runnable::RunnableExt;

    /// Stores as `InMemorySaver` does, but answers `put` with a config that
    /// names no checkpoint.
    struct Forgetful(InMemorySaver);

    impl Checkpointer for Forgetful {
        fn put<'a>(
            &'a self,
            config: &'a CheckpointConfig,
            checkpoint: Checkpoint,
            metadata: CheckpointMetadata,
        ) -> BoxFuture<'a, Result<CheckpointConfig>> {
            Box::pin(async move {
                let mut at = self.0.put(config, checkpoint, metadata).await?;
                at.checkpoint_id = None;
                Ok(at)
            })
        }
        fn put_writes<'a>(
            &'a self,
            config: &'a CheckpointConfig,
            task_id: &'a str,
            writes: Vec<(String, Json)>,
        ) -> BoxFuture<'a, Result<()>> {
            self.0.put_writes(config, task_id, writes)
        }
        fn get_tuple<'a>(&'a self, config: &'a CheckpointConfig) -> BoxFuture<'a, Result<Option<CheckpointTuple>>> {
            self.0.get_tuple(config)
        }
        fn list<'a>(
            &'a self,
            config: &'a CheckpointConfig,
            options: &'a ListOptions,
        ) -> BoxFuture<'a, Result<Vec<CheckpointTuple>>> {
            self.0.list(config, options)
        }
        fn delete_thread<'a>(&'a self, thread_id: &'a str) -> BoxFuture<'a, Result<()>> {
            self.0.delete_thread(thread_id)
        }
    }

    #[tokio::test]
    async fn a_saver_whose_put_names_no_checkpoint_is_an_error_not_a_broken_history() {
        let graph = StateGraph::<Json>::new()
            .add_sync_node("a", |_: Json| Ok(json!({"x": 1})))
            .add_edge(START, "a")
            .add_edge("a", END)
            .checkpointer(Arc::new(Forgetful(InMemorySaver::new())))
            .durability(Durability::Sync)
            .compile()
            .unwrap();
        let err = graph
            .invoke_with(json!({"x": 0}), RunConfig::new().configurable("thread_id", "t1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.message().contains("without a checkpoint_id (thread `t1`)"), "{err}");
    }

    #[test]
    fn task_ids_hash_at_once_as_streamed_and_never_change() {
        let id = "1f0d3a4e-8c5b-7e21-9a3f-0b1c2d3e4f50";
        for ns in ["", "outer:1f0d3a4e-8c5b-7e21-9a3f-0b1c2d3e4f51", &"n".repeat(300)] {
            for push in [None, Some(0), Some(7)] {
                let once = super::task_id(id, ns, 3, "agent", push);
                assert_eq!(
                    once,
                    super::task_id_streamed([id, ns, "agent"], 3, push),
                    "{ns} {push:?}"
                );
            }
        }
        // Stored with writes: a change would orphan every saved task write.
        assert_eq!(
            super::task_id(id, "", 3, "agent", None).to_string(),
            "f68e9161-d7e4-87cf-8df6-2196319359d8"
        );
    }
}
