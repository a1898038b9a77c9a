//! LangGraph's stream modes ([`StreamMode`]), and the local items a graph
//! run queues for them.

use std::sync::Arc;

use crate::events::{RunInfo, RunType, StreamEvent};
use crate::value::Payload;

/// What a graph stream reports (LangGraph's `stream_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamMode {
    /// The whole state: after the input, then after each step.
    Values,
    /// Each node's update, as `{node: update}`.
    Updates,
    /// Every chat-model token produced at any depth inside a node, as
    /// `[chunk, metadata]` (the metadata names the node and the step).
    Messages,
    /// Whatever nodes and tools write with [`stream_writer`](crate::stream_writer).
    Custom,
    /// Each task as it starts (`id`, `name`, `input`, `triggers`) and as it
    /// ends (`id`, `name`, `error`, `result`, `interrupts`).
    Tasks,
    /// Each checkpoint a run on a thread makes, as it is made: its config,
    /// parent, values, metadata, the nodes due next and their tasks.
    Checkpoints,
    /// `tasks` and `checkpoints` together, each item wrapped as
    /// `{"step", "timestamp", "type": "task" | "task_result" | "checkpoint", "payload"}`.
    Debug,
}

impl StreamMode {
    /// The mode's LangGraph name.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamMode::Values => "values",
            StreamMode::Updates => "updates",
            StreamMode::Messages => "messages",
            StreamMode::Custom => "custom",
            StreamMode::Tasks => "tasks",
            StreamMode::Checkpoints => "checkpoints",
            StreamMode::Debug => "debug",
        }
    }

    pub(super) fn from_name(name: &str) -> Option<StreamMode> {
        Some(match name {
            "values" => StreamMode::Values,
            "updates" => StreamMode::Updates,
            "messages" => StreamMode::Messages,
            "custom" => StreamMode::Custom,
            "tasks" => StreamMode::Tasks,
            "checkpoints" => StreamMode::Checkpoints,
            "debug" => StreamMode::Debug,
            _ => return None,
        })
    }
}

/// The local item naming a message a node returned (`messages` mode).
pub(crate) const NODE_MESSAGE: &str = "__node_message__";

/// The local item carrying a subgraph's item: `[namespace, mode, payload]`.
pub(crate) const NS_ITEM: &str = "__ns_item__";

/// The local item standing for items waiting in the outlet's own queue.
pub(crate) const MARKER: &str = "__outlet__";

/// An item a graph run puts in its own queue (never forwarded to enclosing
/// listeners): a custom-phase event named after its mode.
pub(crate) fn local_item(mode: &'static str, payload: Option<Payload>) -> StreamEvent {
    // Shared, so an item costs no allocation beyond its payload.
    static NAMES: std::sync::OnceLock<Vec<(&'static str, Arc<str>)>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        [
            "values",
            "updates",
            "messages",
            "custom",
            "tasks",
            "checkpoints",
            "debug",
            NODE_MESSAGE,
            MARKER,
        ]
        .into_iter()
        .map(|n| (n, Arc::from(n)))
        .collect()
    });
    let name = names
        .iter()
        .find(|(n, _)| *n == mode)
        .map_or_else(|| Arc::from(mode), |(_, a)| a.clone());
    StreamEvent::custom(name, RunType::Chain, RunInfo::none(), payload)
}
