//! The Agent Server's JSON shapes: a thread's state, a checkpoint, the
//! time stamps; and reading requests' fields.

use std::time::SystemTime;

use runwright::graph::checkpoint::CheckpointConfig;
use runwright::graph::{Command, Goto, StateSnapshot, StreamMode, TaskState};
use serde_json::{json, Map, Value as Json};

use crate::error::ApiError;
use crate::protocol::kind;

/// Now, as the server's time stamps show it (RFC 3339, UTC, microseconds,
/// `+00:00` as Python's `isoformat` writes UTC).
pub(crate) fn now() -> String {
    let mut ts = humantime::format_rfc3339_micros(SystemTime::now()).to_string();
    if ts.ends_with('Z') {
        ts.pop();
        ts.push_str("+00:00");
    }
    ts
}

/// A checkpoint as the API names one: `{thread_id, checkpoint_ns,
/// checkpoint_id, checkpoint_map}`.
pub(crate) fn checkpoint(config: &CheckpointConfig) -> Json {
    let mut c = config.to_json()["configurable"].clone();
    if let Some(c) = c.as_object_mut() {
        c.entry("checkpoint_map").or_insert(Json::Null);
    }
    c
}

/// A thread's state at one checkpoint (the API's `ThreadState`).
pub(crate) fn thread_state(s: &StateSnapshot) -> Json {
    let tasks: Vec<Json> = s
        .tasks
        .iter()
        .map(|t| {
            let state = match &t.state {
                Some(TaskState::Config(c)) => c.to_json(),
                Some(TaskState::Snapshot(s)) => thread_state(s),
                None => Json::Null,
            };
            json!({
                "id": t.id,
                "name": t.name,
                "path": t.path,
                "error": t.error,
                "interrupts": t.interrupts,
                "checkpoint": null,
                "state": state,
                "result": t.result,
            })
        })
        .collect();
    json!({
        "values": s.values,
        "next": s.next,
        "tasks": tasks,
        "metadata": s.metadata,
        "created_at": s.created_at,
        "checkpoint": checkpoint(&s.config),
        "parent_checkpoint": s.parent_config.as_ref().map(checkpoint),
        "interrupts": s.interrupts,
    })
}

/// A thread's interrupts by task id (the `interrupts` of a `Thread`).
pub(crate) fn interrupts_by_task(s: &StateSnapshot) -> Json {
    let by_task: Map<String, Json> = s
        .tasks
        .iter()
        .filter(|t| !t.interrupts.is_empty())
        .map(|t| (t.id.clone(), json!(t.interrupts)))
        .collect();
    Json::Object(by_task)
}

/// The request's `stream_mode`: a name or a list of names (default
/// `values`). `messages-tuple` is the graph's `messages` mode.
pub(crate) fn stream_modes(value: Option<&Json>) -> Result<Vec<StreamMode>, ApiError> {
    let names: Vec<&Json> = match value {
        None | Some(Json::Null) => return Ok(vec![StreamMode::Values]),
        Some(Json::Array(names)) => names.iter().collect(),
        Some(one) => vec![one],
    };
    let mut modes = Vec::new();
    for name in names {
        let mode = match name.as_str() {
            Some("values") => StreamMode::Values,
            Some("updates") => StreamMode::Updates,
            Some("messages-tuple") => StreamMode::Messages,
            Some("custom") => StreamMode::Custom,
            Some("debug") => StreamMode::Debug,
            Some("tasks") => StreamMode::Tasks,
            Some("checkpoints") => StreamMode::Checkpoints,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "`stream_mode`: unknown or unsupported mode `{other}` (values, updates, \
                     messages-tuple, custom, debug, tasks, checkpoints)"
                )))
            }
            None => {
                return Err(ApiError::invalid(format!(
                    "`stream_mode` must be a string or a list of strings, not {}",
                    kind(name)
                )))
            }
        };
        if !modes.contains(&mode) {
            modes.push(mode);
        }
    }
    Ok(modes)
}

/// The SSE event name of a mode's item: the mode (`messages` for
/// `messages-tuple`), with `|` and the namespace for a subgraph's.
pub(crate) fn event_name(ns: &[String], mode: StreamMode) -> String {
    let mut name = mode.as_str().to_owned();
    if !ns.is_empty() {
        name.push('|');
        name.push_str(&ns.join("|"));
    }
    name
}

/// The request's `command`: `{resume, update, goto}`.
pub(crate) fn command(value: &Json) -> Result<Command, ApiError> {
    let Some(object) = value.as_object() else {
        return Err(ApiError::invalid(format!(
            "`command` must be an object (`resume`, `update`, `goto`), not {}",
            kind(value)
        )));
    };
    if let Some(key) = object
        .keys()
        .find(|k| !["resume", "update", "goto"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid(format!(
            "`command` has the unknown key `{key}` (resume, update, goto)"
        )));
    }
    let mut command = match object.get("resume") {
        Some(resume) if !resume.is_null() => Command::resume(resume.clone()),
        _ => Command::default(),
    };
    match object.get("update") {
        None | Some(Json::Null) => {}
        Some(update @ Json::Object(_)) => command = command.with_update(update.clone()),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "`command.update` must be an object of state keys, not {}",
                kind(other)
            )))
        }
    }
    match object.get("goto") {
        None | Some(Json::Null) => {}
        Some(Json::String(node)) => command = command.with_goto(Goto::from(node.as_str())),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "`command.goto` must be a node's name, not {}",
                kind(other)
            )))
        }
    }
    Ok(command)
}

/// An optional field that must be an object.
pub(crate) fn object(body: &Map<String, Json>, key: &str) -> Result<Map<String, Json>, ApiError> {
    match body.get(key) {
        None | Some(Json::Null) => Ok(Map::new()),
        Some(Json::Object(o)) => Ok(o.clone()),
        Some(other) => Err(ApiError::invalid(format!(
            "`{key}` must be an object, not {}",
            kind(other)
        ))),
    }
}

/// An optional field that must be a string.
pub(crate) fn string<'a>(body: &'a Map<String, Json>, key: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::invalid(format!(
            "`{key}` must be a string, not {}",
            kind(other)
        ))),
    }
}

/// An optional field that must be a count.
pub(crate) fn count(body: &Map<String, Json>, key: &str) -> Result<Option<usize>, ApiError> {
    match body.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("`{key}` must be a count, not {n}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamps_are_rfc3339() {
        let t = now();
        assert_eq!(t.len(), "2026-12-07T22:15:33.123456+00:00".len(), "{t}");
        assert_eq!(&t[4..5], "-");
        assert_eq!(&t[10..11], "T");
        assert!(t.ends_with("+00:00"));
    }

    #[test]
    fn stream_modes_take_a_name_or_a_list() {
        assert_eq!(stream_modes(None).ok(), Some(vec![StreamMode::Values]));
        assert_eq!(
            stream_modes(Some(&json!(["updates", "messages-tuple", "custom"]))).ok(),
            Some(vec![StreamMode::Updates, StreamMode::Messages, StreamMode::Custom])
        );
        assert_eq!(stream_modes(Some(&json!("debug"))).ok(), Some(vec![StreamMode::Debug]));
        assert!(stream_modes(Some(&json!(["events"]))).is_err());
        assert!(stream_modes(Some(&json!([1]))).is_err());
    }

    #[test]
    fn subgraph_events_name_their_namespace() {
        assert_eq!(event_name(&[], StreamMode::Messages), "messages");
        assert_eq!(
            event_name(&["child:1".to_owned()], StreamMode::Updates),
            "updates|child:1"
        );
    }
}
