//! Checkpoints of a graph's threads, and where they are kept
//! ([`Checkpointer`]), in the shape of LangGraph's savers.
//!
//! A graph compiled with a checkpointer keeps, for each thread (the
//! `thread_id` of the run config's `configurable`), a checkpoint after every
//! superstep: the state's channels, what runs next, and the metadata of the
//! step. Tasks that finish within a step save their writes at once
//! ([`Checkpointer::put_writes`]), so a run stopped in the middle of a step
//! (an [`interrupt`](super::interrupt), a crash) resumes without running
//! them again.
//!
//! Savers: [`InMemorySaver`] for tests and one process; `SqliteSaver`
//! (feature `sqlite`), a file with no server; `PostgresSaver` (feature
//! `postgres`), one database that many processes share.

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
mod versions;

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::Result;
use crate::value::Map;

pub use memory::InMemorySaver;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PostgresSaver;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteSaver;
pub(crate) use versions::find;
pub use versions::Versions;

/// The format version of the [`Checkpoint`]s this crate writes.
pub const CHECKPOINT_VERSION: u32 = 4;

/// Which checkpoint of which thread: LangGraph's `configurable` keys
/// `thread_id`, `checkpoint_ns` (empty for a root graph,
/// `node:<task id>` for a subgraph) and `checkpoint_id` (none: the latest).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckpointConfig {
    /// The thread.
    pub thread_id: String,
    /// The graph's namespace within the thread (empty for the root graph).
    #[serde(default)]
    pub checkpoint_ns: String,
    /// One checkpoint; none means the thread's latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_id: Option<String>,
    /// Inside a subgraph, the checkpoint of each graph on the way down, by
    /// namespace: the root's (`""`), the enclosing subgraphs', and this
    /// one's (LangGraph's `checkpoint_map`). Empty for a root graph, and in
    /// what savers return; set in the configs of [`StateSnapshot`]s and
    /// `checkpoints` items of subgraphs.
    ///
    /// [`StateSnapshot`]: crate::graph::StateSnapshot
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checkpoint_map: BTreeMap<String, String>,
}

impl CheckpointConfig {
    /// The latest checkpoint of the root graph of `thread_id`.
    pub fn thread(thread_id: impl Into<String>) -> Self {
        CheckpointConfig {
            thread_id: thread_id.into(),
            checkpoint_ns: String::new(),
            checkpoint_id: None,
            checkpoint_map: BTreeMap::new(),
        }
    }

    /// The same thread and namespace at checkpoint `id` (no
    /// `checkpoint_map`).
    #[must_use]
    pub fn at(&self, id: impl Into<String>) -> Self {
        CheckpointConfig {
            thread_id: self.thread_id.clone(),
            checkpoint_ns: self.checkpoint_ns.clone(),
            checkpoint_id: Some(id.into()),
            checkpoint_map: BTreeMap::new(),
        }
    }

    /// This config with its `checkpoint_map`, for a subgraph's checkpoint
    /// whose enclosing graphs' checkpoints are `parents` (its metadata's
    /// `parents`): those and this one. A root graph's config has none.
    #[must_use]
    pub fn with_map(mut self, parents: &BTreeMap<String, String>) -> Self {
        self.checkpoint_map.clear();
        if let (false, Some(id)) = (self.checkpoint_ns.is_empty(), &self.checkpoint_id) {
            self.checkpoint_map = parents.clone();
            self.checkpoint_map.insert(self.checkpoint_ns.clone(), id.clone());
        }
        self
    }

    /// As LangGraph's config shows it: `{"configurable": {"thread_id",
    /// "checkpoint_ns", "checkpoint_id"}}`.
    pub fn to_json(&self) -> Json {
        let mut c = Map::new();
        c.insert("thread_id".into(), self.thread_id.clone().into());
        c.insert("checkpoint_ns".into(), self.checkpoint_ns.clone().into());
        if let Some(id) = &self.checkpoint_id {
            c.insert("checkpoint_id".into(), id.clone().into());
        }
        if !self.checkpoint_map.is_empty() {
            let map: Map = self
                .checkpoint_map
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            c.insert("checkpoint_map".into(), map.into());
        }
        serde_json::json!({ "configurable": c })
    }
}

/// What made a checkpoint (LangGraph's `metadata.source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointSource {
    /// A run's input, before its first step (step -1).
    Input,
    /// A superstep of the loop.
    Loop,
    /// [`update_state`](super::CompiledGraph::update_state).
    Update,
    /// A copy of another thread's or an old checkpoint, to run from.
    Fork,
}

/// A checkpoint's metadata: its source, its step, the checkpoints of the
/// graphs it is nested in, and anything else the run config's metadata
/// carried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMetadata {
    /// What made it.
    pub source: CheckpointSource,
    /// The step: -1 for the input, then 0, 1, ...
    pub step: i64,
    /// The checkpoint id of each enclosing graph, by namespace.
    #[serde(default)]
    pub parents: BTreeMap<String, String>,
    /// The rest (a run's metadata, `writes` of an update).
    #[serde(flatten)]
    pub extra: Map,
}

impl CheckpointMetadata {
    /// Metadata of `source` at `step`.
    pub fn new(source: CheckpointSource, step: i64) -> Self {
        CheckpointMetadata {
            source,
            step,
            parents: BTreeMap::new(),
            extra: Map::new(),
        }
    }
}

/// A graph's channels after a step, and what runs next.
///
/// `channel_values` holds the state's keys, plus the channels that say what
/// runs next: `branch:to:<node>` for each node due (LangGraph's names), the
/// [`SendTo`](super::SendTo)s due in `__pregel_tasks`, and the sources each
/// waiting edge has seen in its `join:...` channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The format version ([`CHECKPOINT_VERSION`]).
    pub v: u32,
    /// Its id: a UUID whose order is the order checkpoints were made in.
    pub id: String,
    /// When it was made (RFC 3339, UTC).
    pub ts: String,
    /// The channels' values.
    pub channel_values: Map,
    /// Each channel's version: a number that grows each time it is written.
    pub channel_versions: Versions<u64>,
    /// For each node, the versions of the channels it has seen when it last ran.
    pub versions_seen: Versions<Versions<u64>>,
    /// The channels the step that made it wrote.
    #[serde(default)]
    pub updated_channels: Vec<String>,
}

/// A write a task made in a step that has not finished: kept so that the
/// step, resumed, does not run the task again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingWrite {
    /// The task that wrote it.
    pub task_id: String,
    /// The channel (a state key, `branch:to:<node>`, `__interrupt__`,
    /// `__resume__`, `__error__`).
    pub channel: String,
    /// The value.
    pub value: Json,
}

/// A checkpoint with its config, metadata, parent and pending writes
/// (LangGraph's `CheckpointTuple`).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointTuple {
    /// Where it is: its thread, namespace and id.
    pub config: CheckpointConfig,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Its metadata.
    pub metadata: CheckpointMetadata,
    /// The checkpoint it follows, if any.
    pub parent_config: Option<CheckpointConfig>,
    /// The writes of the tasks of the next step that have already run.
    pub pending_writes: Vec<PendingWrite>,
}

/// Which checkpoints [`Checkpointer::list`] gives.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    /// Only those made before this checkpoint of the same thread.
    pub before: Option<String>,
    /// At most this many.
    pub limit: Option<usize>,
    /// Only those whose metadata has these keys with these values.
    pub filter: Map,
}

impl ListOptions {
    /// Whether `metadata` passes the filter.
    pub fn matches(&self, metadata: &CheckpointMetadata) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let Ok(Json::Object(m)) = serde_json::to_value(metadata) else {
            return false;
        };
        self.filter.iter().all(|(k, v)| m.get(k) == Some(v))
    }
}

/// Where a graph's checkpoints are kept (LangGraph's `BaseCheckpointSaver`).
///
/// Implementations must be safe to share between runs and, for the ones on
/// a database, between processes: [`put`](Self::put) of a checkpoint id
/// that exists replaces nothing else, [`put_writes`](Self::put_writes) of
/// the same task and index twice keeps one.
pub trait Checkpointer: Send + Sync + 'static {
    /// Stores `checkpoint` after the one `config` names (its parent, or none
    /// for a thread's first); returns the config naming the new one. The
    /// checkpoint is given, not lent: a saver that keeps it in memory keeps
    /// it as it is, without a copy.
    fn put<'a>(
        &'a self,
        config: &'a CheckpointConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
    ) -> BoxFuture<'a, Result<CheckpointConfig>>;

    /// Stores the writes task `task_id` made in the step after the
    /// checkpoint `config` names (which must exist).
    fn put_writes<'a>(
        &'a self,
        config: &'a CheckpointConfig,
        task_id: &'a str,
        writes: Vec<(String, Json)>,
    ) -> BoxFuture<'a, Result<()>>;

    /// The checkpoint `config` names (the thread's latest in its namespace
    /// when it names no id), with its pending writes.
    fn get_tuple<'a>(&'a self, config: &'a CheckpointConfig) -> BoxFuture<'a, Result<Option<CheckpointTuple>>>;

    /// The checkpoints of `config`'s thread and namespace, newest first.
    fn list<'a>(
        &'a self,
        config: &'a CheckpointConfig,
        options: &'a ListOptions,
    ) -> BoxFuture<'a, Result<Vec<CheckpointTuple>>>;

    /// Deletes every checkpoint and write of a thread, in every namespace.
    fn delete_thread<'a>(&'a self, thread_id: &'a str) -> BoxFuture<'a, Result<()>>;
}

/// A new checkpoint id: a version 7 UUID, whose text sorts in the order the
/// ids were made (within one process, even in the same millisecond).
pub fn new_checkpoint_id() -> String {
    uuid_string(uuid::Uuid::now_v7())
}

/// A UUID's hyphenated text, written straight into a string of its size.
pub(crate) fn uuid_string(id: uuid::Uuid) -> String {
    id.hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        .to_owned()
}

/// The current time as RFC 3339 with microseconds, UTC.
pub(crate) fn now_rfc3339() -> String {
    crate::value::time::rfc3339_micros(std::time::SystemTime::now())
}

#[cfg(test)]
pub(crate) mod saver_tests;

/// The index a write is stored under: its place in the task's writes, or,
/// for a channel whose latest value replaces the earlier ones (an
/// interrupt, an error, a resume value), a fixed negative place of its own
/// (as LangGraph's `WRITES_IDX_MAP`).
pub fn write_index(channel: &str, idx: usize) -> usize {
    match channel {
        ERROR => usize::MAX,
        INTERRUPT => usize::MAX - 2,
        RESUME => usize::MAX - 3,
        _ => idx,
    }
}

/// The channel of a task's error.
pub const ERROR: &str = "__error__";
/// The task id of the writes no task made: a [`Command`](super::Command)'s
/// update, kept on the checkpoint it applies to (LangGraph's `NULL_TASK_ID`).
pub const NULL_TASK_ID: &str = "00000000-0000-0000-0000-000000000000";
/// The channel of a task's interrupts.
pub const INTERRUPT: &str = "__interrupt__";
/// The channel of the values a task's interrupts were resumed with.
pub const RESUME: &str = "__resume__";
/// The channel of the [`SendTo`](super::SendTo)s due.
pub const TASKS: &str = "__pregel_tasks";

pub(crate) fn require_id<'a>(config: &'a CheckpointConfig, what: &str) -> Result<&'a str> {
    config.checkpoint_id.as_deref().ok_or_else(|| {
        crate::error::Error::new(
            crate::error::ErrorKind::InvalidInput,
            format!(
                "{what} needs a checkpoint id (thread `{}`, namespace `{}`)",
                config.thread_id, config.checkpoint_ns
            ),
        )
    })
}

pub(crate) fn no_checkpoint(config: &CheckpointConfig) -> crate::error::Error {
    crate::error::Error::new(
        crate::error::ErrorKind::InvalidInput,
        format!(
            "thread `{}` (namespace `{}`) has no checkpoint `{}`",
            config.thread_id,
            config.checkpoint_ns,
            config.checkpoint_id.as_deref().unwrap_or("")
        ),
    )
}
