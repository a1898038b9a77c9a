//! [`InMemorySaver`]: checkpoints in a map, for tests and one-process runs.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::Value as Json;

use super::{
    Checkpoint, CheckpointConfig, CheckpointMetadata, CheckpointTuple, Checkpointer, ListOptions, PendingWrite,
};
use crate::error::Result;

/// One namespace of one thread: its checkpoints, and the writes made after
/// each.
#[derive(Default)]
struct Namespace {
    /// Sorted by id. Ids sort in the order they were made, so a new
    /// checkpoint goes at the end; no key is kept beside the checkpoint's
    /// own id. Not boxed: one allocation less per checkpoint, for a copy of
    /// the list each time it doubles.
    checkpoints: Vec<Saved>,
}

impl Namespace {
    /// Where checkpoint `id` is, or would go.
    fn find(&self, id: &str) -> Result<usize, usize> {
        // A new checkpoint's id is the greatest: checked first.
        match self.checkpoints.last() {
            Some(last) if last.checkpoint.id.as_str() < id => Err(self.checkpoints.len()),
            None => Err(0),
            Some(_) => self.checkpoints.binary_search_by(|s| s.checkpoint.id.as_str().cmp(id)),
        }
    }

    fn get(&self, id: &str) -> Option<&Saved> {
        self.find(id).ok().map(|i| &self.checkpoints[i])
    }
}

struct Saved {
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    parent: Option<String>,
    /// In the order they arrived in, each with its index in the task's
    /// writes ([`super::write_index`]): a step has few, so a retried write is
    /// found by going through them.
    writes: Vec<(usize, PendingWrite)>,
}

/// Keeps checkpoints in memory (LangGraph's `InMemorySaver`): they last as
/// long as the saver. Clones share nothing; share one through an `Arc`.
#[derive(Default)]
pub struct InMemorySaver {
    /// By thread, then namespace.
    threads: parking_lot::Mutex<BTreeMap<String, BTreeMap<String, Namespace>>>,
}

impl std::fmt::Debug for InMemorySaver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemorySaver")
            .field("threads", &self.threads.lock().len())
            .finish()
    }
}

impl InMemorySaver {
    /// An empty saver.
    pub fn new() -> Self {
        Self::default()
    }

    /// The namespaces thread `thread_id` has checkpoints in, sorted: the
    /// root graph's (`""`) first, then its subgraphs' (each after the graph
    /// it runs in). What LangGraph's `list` goes through for a config
    /// without `checkpoint_ns`.
    pub fn namespaces(&self, thread_id: &str) -> Vec<String> {
        self.threads
            .lock()
            .get(thread_id)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn tuple(config: &CheckpointConfig, saved: &Saved) -> CheckpointTuple {
        CheckpointTuple {
            config: config.at(saved.checkpoint.id.as_str()),
            checkpoint: saved.checkpoint.clone(),
            metadata: saved.metadata.clone(),
            parent_config: saved.parent.as_ref().map(|p| config.at(p.clone())),
            pending_writes: saved.writes.iter().map(|(_, w)| w.clone()).collect(),
        }
    }
}

impl Checkpointer for InMemorySaver {
    fn put<'a>(
        &'a self,
        config: &'a CheckpointConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
    ) -> BoxFuture<'a, Result<CheckpointConfig>> {
        Box::pin(async move {
            let at = config.at(checkpoint.id.clone());
            let mut threads = self.threads.lock();
            // Looked up before inserting: a thread's names are copied once.
            let thread = match threads.get_mut(&config.thread_id) {
                Some(t) => t,
                None => threads.entry(config.thread_id.clone()).or_default(),
            };
            let ns = match thread.get_mut(&config.checkpoint_ns) {
                Some(ns) => ns,
                None => thread.entry(config.checkpoint_ns.clone()).or_default(),
            };
            if let Err(i) = ns.find(&checkpoint.id) {
                let saved = Saved {
                    metadata,
                    parent: config.checkpoint_id.clone(),
                    writes: Vec::new(),
                    checkpoint,
                };
                ns.checkpoints.insert(i, saved);
            }
            Ok(at)
        })
    }

    fn put_writes<'a>(
        &'a self,
        config: &'a CheckpointConfig,
        task_id: &'a str,
        writes: Vec<(String, Json)>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let id = super::require_id(config, "put_writes")?;
            let mut threads = self.threads.lock();
            let saved = threads
                .get_mut(&config.thread_id)
                .and_then(|t| t.get_mut(&config.checkpoint_ns))
                .and_then(|ns| ns.find(id).ok().map(|i| &mut ns.checkpoints[i]))
                .ok_or_else(|| super::no_checkpoint(config))?;
            for (idx, (channel, value)) in writes.into_iter().enumerate() {
                let place = super::write_index(&channel, idx);
                let earlier = saved
                    .writes
                    .iter()
                    .position(|(p, w)| *p == place && w.task_id == task_id);
                // The same write twice (a retried save) is kept once, the
                // first; a special channel's latest value replaces the
                // earlier one, in the place the first arrived in.
                match earlier {
                    None => saved.writes.push((
                        place,
                        PendingWrite {
                            task_id: task_id.to_owned(),
                            channel,
                            value,
                        },
                    )),
                    Some(k) if place != idx => {
                        let w = &mut saved.writes[k].1;
                        w.channel = channel;
                        w.value = value;
                    }
                    Some(_) => {}
                }
            }
            Ok(())
        })
    }

    fn get_tuple<'a>(&'a self, config: &'a CheckpointConfig) -> BoxFuture<'a, Result<Option<CheckpointTuple>>> {
        Box::pin(async move {
            let threads = self.threads.lock();
            let Some(ns) = threads
                .get(&config.thread_id)
                .and_then(|t| t.get(&config.checkpoint_ns))
            else {
                return Ok(None);
            };
            let found = match &config.checkpoint_id {
                Some(id) => ns.get(id),
                None => ns.checkpoints.last(),
            };
            Ok(found.map(|saved| Self::tuple(config, saved)))
        })
    }

    fn list<'a>(
        &'a self,
        config: &'a CheckpointConfig,
        options: &'a ListOptions,
    ) -> BoxFuture<'a, Result<Vec<CheckpointTuple>>> {
        Box::pin(async move {
            let threads = self.threads.lock();
            let Some(ns) = threads
                .get(&config.thread_id)
                .and_then(|t| t.get(&config.checkpoint_ns))
            else {
                return Ok(Vec::new());
            };
            let limit = options.limit.unwrap_or(usize::MAX);
            Ok(ns
                .checkpoints
                .iter()
                .rev()
                .filter(|s| options.before.as_ref().is_none_or(|b| s.checkpoint.id < *b))
                .filter(|s| options.matches(&s.metadata))
                .take(limit)
                .map(|saved| Self::tuple(config, saved))
                .collect())
        })
    }

    fn delete_thread<'a>(&'a self, thread_id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.threads.lock().remove(thread_id);
            Ok(())
        })
    }
}
