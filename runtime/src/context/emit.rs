//! Emitting events: a run's own (start, stream, end, error) and custom
//! events dispatched from inside it.

use std::sync::Arc;

use serde::Serialize;

use super::{current, RunContext};
use crate::error::{Error, ErrorKind, Result};
use crate::events::{EventData, EventPhase, StreamEvent};
use crate::intercept::CallItem;
use crate::value::Payload;

impl RunContext {
    /// Emits an event of this run to every listener. Does nothing (and builds
    /// nothing) when nobody listens.
    pub(crate) fn emit(&self, phase: EventPhase, data: EventData) {
        let Some(sink) = &self.sink else { return };
        sink.push(StreamEvent::new(phase, self.run_type, self.info().clone(), data));
    }

    pub(crate) fn emit_custom(&self, name: Arc<str>, payload: Payload) {
        let Some(sink) = &self.sink else { return };
        sink.push(StreamEvent::custom(
            name,
            self.run_type,
            self.info().clone(),
            Some(payload),
        ));
    }
}

/// Emits an `on_custom_event` named `name` from the current run; `data` is
/// delivered exactly as given. Fails outside a run.
///
/// ```
/// use futures::StreamExt;
/// use runwright::{Lambda, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let step = Lambda::from_fn(|x: String| {
///     runwright::dispatch_custom_event("progress", serde_json::json!({"done": 1}))?;
///     Ok(x)
/// });
/// let events: Vec<_> = step.stream_events("hi".to_string()).collect().await;
/// assert!(events.iter().any(|e| e.as_ref().unwrap().event() == "on_custom_event"));
/// # }
/// ```
pub fn dispatch_custom_event<T>(name: &str, data: T) -> Result<()>
where
    T: Serialize + Send + Sync + 'static,
{
    let ctx = current().ok_or_else(|| {
        Error::new(
            ErrorKind::Usage,
            format!("dispatch_custom_event(\"{name}\") called outside any run"),
        )
    })?;
    let payload = Payload::new(data);
    if let Some(i) = ctx.interceptor() {
        i.item(
            ctx.run_id(),
            CallItem::Custom {
                name: name.to_owned(),
                data: payload.to_json(),
            },
        );
    }
    ctx.emit_custom(Arc::from(name), payload);
    Ok(())
}
