//! The stream writer: items that code inside a run hands to whoever
//! installed a writer above it (a [`RunConfig::stream_writer`](crate::config::RunConfig::stream_writer) function, or a
//! feature's [`ItemSink`] such as a graph's `custom` stream mode), each also
//! an `on_custom_event` for a listener that keeps it.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde_json::Value as Json;

use super::{current, RunContext};
use crate::config::WriterFn;
use crate::intercept::CallItem;
use crate::value::Payload;

/// Where [`stream_writer`] items go.
#[derive(Clone)]
pub(crate) enum Writer {
    /// A function installed with [`RunConfig::stream_writer`](crate::config::RunConfig::stream_writer).
    Fn(WriterFn),
    /// A queue of a feature above the context (a graph stream's): JSON
    /// items are moved in as they are, with no box and no event around them.
    Sink(Arc<dyn ItemSink>),
}

/// A [`Writer`] that takes items as they are written.
pub(crate) trait ItemSink: Send + Sync {
    /// Takes an item that is JSON already.
    fn push_json(&self, item: Json);
    /// Takes any other item (or one a listener shares).
    fn push_payload(&self, item: Payload);
}

/// `value` as JSON when it is JSON already (moved, not copied).
fn into_json<T: 'static>(value: T) -> Result<Json, T> {
    let mut slot = Some(value);
    let any: &mut dyn Any = &mut slot;
    if let Some(json) = any.downcast_mut::<Option<Json>>().and_then(Option::take) {
        return Ok(json);
    }
    match slot {
        Some(value) => Err(value),
        None => Ok(Json::Null),
    }
}

/// A handle for pushing items to whoever installed a stream writer above the
/// current run (a graph's `custom` stream mode, or a
/// [`RunConfig::stream_writer`](crate::config::RunConfig::stream_writer)). Each item is also an `on_custom_event`
/// named `custom` of the run that wrote it, so `stream_events` shows it too.
/// Writing with nobody listening does nothing.
#[derive(Clone)]
pub struct StreamWriter {
    writer: Option<Writer>,
    /// The run that wrote, when a listener keeps its custom events. Decided
    /// once: filters do not change during a run, and a listener that has
    /// gone away drops what it is sent.
    watched: Option<Arc<RunContext>>,
    listening: bool,
    /// The run that wrote, when an interceptor (a recording) is installed
    /// above it: it is told of every item.
    intercepted: Option<Arc<RunContext>>,
}

impl StreamWriter {
    /// Pushes one item.
    pub fn write<T: serde::Serialize + Send + Sync + 'static>(&self, item: T) {
        match (&self.writer, &self.watched, &self.intercepted) {
            (None, None, None) => {}
            // The hot path: straight into a feature's queue.
            (Some(Writer::Sink(sink)), None, None) => match into_json(item) {
                Ok(json) => sink.push_json(json),
                Err(item) => sink.push_payload(Payload::new(item)),
            },
            (writer, watched, intercepted) => {
                let payload = Payload::new(item);
                if let Some(ctx) = intercepted {
                    if let Some(i) = ctx.interceptor() {
                        i.item(ctx.run_id(), CallItem::Write(payload.to_json()));
                    }
                }
                if let Some(ctx) = watched {
                    ctx.emit_custom(custom_name().clone(), payload.clone());
                }
                match writer {
                    Some(Writer::Fn(w)) => w(payload),
                    Some(Writer::Sink(sink)) => sink.push_payload(payload),
                    None => {}
                }
            }
        }
    }

    /// Whether anyone receives the items.
    pub fn is_connected(&self) -> bool {
        self.writer.is_some() || self.listening || self.intercepted.is_some()
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// The name of the custom events the stream writer emits, shared.
fn custom_name() -> &'static Arc<str> {
    static NAME: OnceLock<Arc<str>> = OnceLock::new();
    NAME.get_or_init(|| Arc::from("custom"))
}

/// The stream writer of the current run (a no-op writer outside any run or
/// where none is installed).
pub fn stream_writer() -> StreamWriter {
    let ctx = current();
    // Build the custom events only for a listener that keeps them (a
    // graph's own stream-mode queue does not).
    let listening = ctx.as_ref().is_some_and(|c| c.is_listening());
    let intercepted = ctx.as_ref().filter(|c| c.interceptor().is_some()).cloned();
    StreamWriter {
        writer: ctx.as_ref().and_then(|c| c.writer.clone()),
        watched: ctx.filter(|c| c.is_listening() && c.keeps_custom(custom_name())),
        listening,
        intercepted,
    }
}
