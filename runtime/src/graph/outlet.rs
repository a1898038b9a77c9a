//! Where a graph run hands its stream-mode items: the [`Outlet`] (its own
//! queue, or the run's event sink) and the [`Item`]s waiting in it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::mode::{self, StreamMode};
use crate::context::{ItemSink, RunContext};
use crate::value::{Map, Payload};

/// A stream-mode item as it was handed over; it becomes JSON once, when the
/// stream yields it.
pub(crate) enum Item {
    Json(Json),
    Payload(Payload),
}

impl Item {
    pub(crate) fn into_json(self) -> Json {
        match self {
            Item::Json(j) => j,
            Item::Payload(p) => p.into_json(),
        }
    }

    fn into_payload(self) -> Payload {
        match self {
            Item::Json(j) => Payload::new(j),
            Item::Payload(p) => p,
        }
    }
}

/// With its own queue, an outlet puts one marker in the sink for this many
/// items waiting, so the sink's backpressure still paces the run.
const ITEMS_PER_MARKER: usize = 64;

/// Where a graph run hands its stream-mode items.
///
/// Without `messages`, nothing but the items would go to the run's own event
/// sink, so they wait in a queue of their own, as they were written: no
/// event around them, no box, one lock per item. The sink gets a marker when
/// the first item waits (and one per [`ITEMS_PER_MARKER`] more), which keeps
/// the pacing a queued event gives: a run driven by its consumer pauses as
/// soon as something waits. With `messages`, the items go through the sink,
/// in order with the chat-model events.
pub(crate) struct Outlet {
    modes: Vec<StreamMode>,
    sink: Arc<crate::events::sink::EventSink>,
    queue: Option<Arc<parking_lot::Mutex<VecDeque<Queued>>>>,
    closed: Arc<AtomicBool>,
    /// The stream wants the items of subgraphs, with their namespaces
    /// (set before the run starts).
    subgraphs: Arc<AtomicBool>,
    /// The namespace of the graph this outlet is for (none: the root).
    ns: Option<Arc<str>>,
}

/// An item waiting in an outlet's queue: its graph's namespace, mode, item.
pub(crate) type Queued = (Option<Arc<str>>, StreamMode, Item);

impl Outlet {
    pub(crate) fn new(modes: &[StreamMode], sink: Arc<crate::events::sink::EventSink>) -> Self {
        Outlet {
            modes: modes.to_vec(),
            sink,
            queue: (!modes.contains(&StreamMode::Messages)).then(Default::default),
            closed: Arc::default(),
            subgraphs: Arc::default(),
            ns: None,
        }
    }

    /// Asks for the items of subgraphs too.
    pub(crate) fn want_subgraphs(&self) {
        self.subgraphs.store(true, Ordering::Relaxed);
    }

    /// The outlet of a subgraph with namespace `ns`, when the stream wants
    /// subgraphs' items: the same queue, its items marked with `ns`.
    pub(super) fn for_subgraph(&self, ns: &str) -> Option<Arc<Outlet>> {
        self.subgraphs.load(Ordering::Relaxed).then(|| {
            Arc::new(Outlet {
                modes: self.modes.clone(),
                sink: self.sink.clone(),
                queue: self.queue.clone(),
                closed: self.closed.clone(),
                subgraphs: self.subgraphs.clone(),
                ns: Some(Arc::from(ns)),
            })
        })
    }

    pub(super) fn wants(&self, mode: StreamMode) -> bool {
        self.modes.contains(&mode)
    }

    /// Whether a task or checkpoint record of `mode` is pushed (in its own
    /// mode, or in `debug`).
    pub(super) fn wants_record(&self, mode: StreamMode) -> bool {
        self.wants(mode) || self.wants(StreamMode::Debug)
    }

    /// Pushes a task or checkpoint record: in its own mode, and wrapped
    /// (`{"step", "timestamp", "type", "payload"}`) in `debug`.
    pub(super) fn push_debug(&self, mode: StreamMode, kind: &str, step: i64, payload: impl FnOnce() -> Json) {
        if !self.wants_record(mode) {
            return;
        }
        let debug = self.wants(StreamMode::Debug);
        let payload = payload();
        if debug {
            let item = json!({
                "step": step,
                "timestamp": super::checkpoint::now_rfc3339(),
                "type": kind,
                "payload": payload.clone(),
            });
            self.push_item(StreamMode::Debug, Item::Json(item));
        }
        if self.wants(mode) {
            self.push_item(mode, Item::Json(payload));
        }
    }

    pub(crate) fn push(&self, mode: StreamMode, payload: impl FnOnce() -> Json) {
        if self.wants(mode) {
            self.push_item(mode, Item::Json(payload()));
        }
    }

    fn push_item(&self, mode: StreamMode, item: Item) {
        let Some(queue) = &self.queue else {
            let local = match &self.ns {
                None => mode::local_item(mode.as_str(), Some(item.into_payload())),
                Some(ns) => mode::local_item(
                    mode::NS_ITEM,
                    Some(Payload::new(json!([&**ns, mode.as_str(), item.into_json()]))),
                ),
            };
            self.sink.push_local(local);
            return;
        };
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let waiting = {
            let mut q = queue.lock();
            q.push_back((self.ns.clone(), mode, item));
            q.len()
        };
        if waiting % ITEMS_PER_MARKER == 1 {
            self.sink.push_local(mode::local_item(mode::MARKER, None));
        }
    }

    /// Moves the waiting items to `into` (empty); false when none wait.
    pub(crate) fn take(&self, into: &mut VecDeque<Queued>) -> bool {
        let Some(queue) = &self.queue else { return false };
        let mut q = queue.lock();
        if q.is_empty() {
            return false;
        }
        std::mem::swap(&mut *q, into);
        true
    }

    /// The consumer is gone: drop what waits, take nothing more.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        if let Some(q) = &self.queue {
            q.lock().clear();
        }
    }

    /// For `messages`: the messages a node returned (those not already
    /// streamed token by token are reported whole, with the node's
    /// metadata).
    pub(super) fn push_node_messages(&self, update: &Json, node_meta: &Map) {
        if !self.wants(StreamMode::Messages) {
            return;
        }
        let Some(update) = update.as_object() else { return };
        for value in update.values() {
            let items: Vec<&Json> = match value {
                Json::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for m in items {
                let is_message = m
                    .get("type")
                    .and_then(Json::as_str)
                    .is_some_and(|t| t.ends_with("Message") || t.ends_with("MessageChunk"));
                if is_message {
                    self.sink.push_local(mode::local_item(
                        mode::NODE_MESSAGE,
                        Some(Payload::new(json!([m, node_meta]))),
                    ));
                }
            }
        }
    }
}

/// The outlet of the run `ctx`, when it is a graph stream's run (set by
/// [`CompiledGraph::stream_modes`](super::CompiledGraph::stream_modes)).
pub(super) fn outlet_of(ctx: &Option<Arc<RunContext>>) -> Option<Arc<Outlet>> {
    ctx.as_ref().and_then(|c| c.extension::<Outlet>())
}

/// The [`stream_writer`](crate::context::stream_writer) items of a graph run
/// with the `custom` mode (the context hands them over through this trait,
/// without knowing the outlet's type).
impl ItemSink for Outlet {
    fn push_json(&self, item: Json) {
        if self.wants(StreamMode::Custom) {
            self.push_item(StreamMode::Custom, Item::Json(item));
        }
    }

    /// An item of another type, or one a listener also has.
    fn push_payload(&self, item: Payload) {
        if self.wants(StreamMode::Custom) {
            self.push_item(StreamMode::Custom, Item::Payload(item));
        }
    }
}
