//! Runs: each a spawned task writing its SSE events into a log of its own,
//! which every stream of the run (the one that made it, and any joining
//! later with `Last-Event-ID`) reads from.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::Event;
use futures::future::{AbortHandle, Abortable};
use futures::{Stream, StreamExt};
use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use tokio::sync::watch;
use uuid::Uuid;

use super::shapes::now;

/// The events a run keeps for streams that join it later: beyond this,
/// the oldest are dropped (a join from before them starts at the oldest
/// kept), so a run's memory is bounded however slow its readers are.
pub(crate) const MAX_RUN_EVENTS: usize = 10_000;

/// What a run's status is (the API's `RunStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    Running,
    Success,
    Error,
    Interrupted,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Success => "success",
            Status::Error => "error",
            Status::Interrupted => "interrupted",
        }
    }

    pub(crate) fn finished(self) -> bool {
        !matches!(self, Status::Pending | Status::Running)
    }
}

/// One logged SSE event: its id (the run's sequence number), its name and
/// its data (JSON text).
#[derive(Clone, Debug)]
pub(crate) struct Logged {
    pub(crate) id: u64,
    pub(crate) event: String,
    pub(crate) data: String,
}

struct Log {
    status: Status,
    updated_at: String,
    events: VecDeque<Logged>,
    next_id: u64,
    /// The run's result (`wait` and `join`): the last state's values.
    output: Json,
}

/// A run: what the API shows of it, and its event log.
pub(crate) struct Run {
    pub(crate) id: Uuid,
    pub(crate) thread_id: Option<String>,
    pub(crate) assistant_id: Uuid,
    pub(crate) created_at: String,
    pub(crate) metadata: Json,
    pub(crate) multitask_strategy: String,
    log: Mutex<Log>,
    /// Bumped on each event and at the end, waking the run's readers.
    changed: watch::Sender<u64>,
    abort: Mutex<Option<AbortHandle>>,
}

impl Run {
    pub(crate) fn new(
        thread_id: Option<String>,
        assistant_id: Uuid,
        metadata: Json,
        multitask_strategy: String,
    ) -> Arc<Run> {
        let created_at = now();
        Arc::new(Run {
            id: Uuid::new_v4(),
            thread_id,
            assistant_id,
            metadata,
            multitask_strategy,
            log: Mutex::new(Log {
                status: Status::Pending,
                updated_at: created_at.clone(),
                events: VecDeque::new(),
                next_id: 0,
                output: Json::Null,
            }),
            created_at,
            changed: watch::channel(0).0,
            abort: Mutex::new(None),
        })
    }

    /// The API's `Run` object.
    pub(crate) fn to_json(&self) -> Json {
        let log = self.log.lock();
        json!({
            "run_id": self.id,
            "thread_id": self.thread_id,
            "assistant_id": self.assistant_id,
            "created_at": self.created_at,
            "updated_at": log.updated_at,
            "status": log.status.as_str(),
            "metadata": self.metadata,
            "multitask_strategy": self.multitask_strategy,
            "kwargs": {},
        })
    }

    pub(crate) fn status(&self) -> Status {
        self.log.lock().status
    }

    pub(crate) fn output(&self) -> Json {
        self.log.lock().output.clone()
    }

    pub(crate) fn set_status(&self, status: Status) {
        let mut log = self.log.lock();
        if !log.status.finished() {
            log.status = status;
            log.updated_at = now();
        }
        drop(log);
        self.changed.send_modify(|n| *n += 1);
    }

    /// Ends the run with `status` and `output`, once: a run cancelled
    /// while it finished keeps what came first.
    pub(crate) fn finish(&self, status: Status, output: Json) {
        let mut log = self.log.lock();
        if log.status.finished() {
            return;
        }
        log.status = status;
        log.updated_at = now();
        log.output = output;
        drop(log);
        self.abort.lock().take();
        self.changed.send_modify(|n| *n += 1);
    }

    /// Appends an event to the log (dropping the oldest past
    /// [`MAX_RUN_EVENTS`]).
    pub(crate) fn push(&self, event: impl Into<String>, data: &Json) {
        let mut log = self.log.lock();
        let id = log.next_id;
        log.next_id += 1;
        if log.events.len() == MAX_RUN_EVENTS {
            log.events.pop_front();
        }
        log.events.push_back(Logged {
            id,
            event: event.into(),
            data: data.to_string(),
        });
        drop(log);
        self.changed.send_modify(|n| *n += 1);
    }

    pub(crate) fn set_abort(&self, handle: AbortHandle) {
        *self.abort.lock() = Some(handle);
    }

    /// Stops the run's task (dropping its graph stream, which cancels the
    /// work beneath) if it has not finished.
    pub(crate) fn cancel(&self) {
        if let Some(handle) = self.abort.lock().take() {
            handle.abort();
        }
    }

    /// Waits for the run to finish.
    pub(crate) async fn join(&self) {
        let mut rx = self.changed.subscribe();
        while !self.status().finished() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// The run's events after the one with id `after` (all of them for
    /// none), as they come, until the run ends.
    pub(crate) fn events(self: &Arc<Self>, after: Option<u64>) -> impl Stream<Item = Logged> + Send + 'static {
        let run = self.clone();
        async_stream::stream! {
            let mut rx = run.changed.subscribe();
            let mut next = after.map_or(0, |a| a + 1);
            loop {
                let (batch, finished) = {
                    let log = run.log.lock();
                    let batch: Vec<Logged> = log.events.iter().filter(|e| e.id >= next).cloned().collect();
                    (batch, log.status.finished())
                };
                for event in batch {
                    next = event.id + 1;
                    yield event;
                }
                if finished {
                    // Events are pushed before the run finishes, and the
                    // batch was read under the same lock as the status.
                    break;
                }
                if rx.changed().await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Runs `work` as the run's task, abortable by [`Run::cancel`]; `finish`
/// always runs after it, told whether the work was cancelled.
pub(crate) fn spawn<W, F, Fut>(run: &Arc<Run>, work: W, finish: F)
where
    W: std::future::Future<Output = ()> + Send + 'static,
    F: FnOnce(bool) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (handle, registration) = AbortHandle::new_pair();
    run.set_abort(handle);
    tokio::spawn(async move {
        let cancelled = Abortable::new(work, registration).await.is_err();
        finish(cancelled).await;
    });
}

/// A run's events as SSE events, each with its id. With `cancel_on_drop`,
/// dropping the stream (the client went away) cancels the run.
pub(crate) fn sse(
    run: &Arc<Run>,
    after: Option<u64>,
    cancel_on_drop: bool,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let guard = CancelOnDrop::new(run, cancel_on_drop);
    run.events(after).map(move |e| {
        let _ = &guard;
        Ok(Event::default().id(e.id.to_string()).event(e.event).data(e.data))
    })
}

/// Cancels its run when dropped (a client gone away), if it has one.
pub(crate) struct CancelOnDrop(Option<Arc<Run>>);

impl CancelOnDrop {
    pub(crate) fn new(run: &Arc<Run>, cancel: bool) -> Self {
        CancelOnDrop(cancel.then(|| run.clone()))
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(run) = &self.0 {
            run.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(run: &Arc<Run>, after: Option<u64>) -> Vec<u64> {
        futures::executor::block_on(run.events(after).map(|e| e.id).collect())
    }

    #[test]
    fn a_finished_runs_log_is_read_from_any_event_on() {
        let run = Run::new(None, Uuid::nil(), Json::Null, "reject".into());
        for n in 0..4 {
            run.push("values", &json!(n));
        }
        run.finish(Status::Success, Json::Null);
        assert_eq!(ids(&run, None), [0, 1, 2, 3]);
        assert_eq!(ids(&run, Some(1)), [2, 3]);
        assert_eq!(ids(&run, Some(3)), Vec::<u64>::new());
        // Pushed after the end: never read.
        run.set_status(Status::Running);
        assert_eq!(run.status(), Status::Success);
    }

    #[test]
    fn a_runs_log_keeps_its_last_events() {
        let run = Run::new(None, Uuid::nil(), Json::Null, "reject".into());
        for n in 0..MAX_RUN_EVENTS + 3 {
            run.push("values", &json!(n));
        }
        run.finish(Status::Success, Json::Null);
        let kept = ids(&run, None);
        assert_eq!(kept.len(), MAX_RUN_EVENTS);
        assert_eq!(kept.first(), Some(&3));
        // A join from before the oldest kept starts there.
        assert_eq!(ids(&run, Some(0)).first(), Some(&3));
    }
}
