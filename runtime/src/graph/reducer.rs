//! How a node's update is folded into the graph state, key by key.

use std::fmt;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::error::{Error, ErrorKind, Result};
use crate::messages::Message;

type CustomFn = Arc<dyn Fn(Json, Json) -> Result<Json> + Send + Sync>;

/// How updates to one state key are applied.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Reducer {
    /// The new value replaces the old one (the default for every key).
    #[default]
    Replace,
    /// LangGraph's `add_messages`: a message list. A new message whose id is
    /// already in the list replaces it; others are appended; messages
    /// without an id get one.
    AddMessages,
    /// Lists concatenate (Python's `operator.add` on lists).
    Append,
    /// `f(old, new)`.
    Custom(CustomFn),
}

impl Reducer {
    /// A reducer from a function of the old and the new value.
    pub fn custom(f: impl Fn(Json, Json) -> Result<Json> + Send + Sync + 'static) -> Self {
        Reducer::Custom(Arc::new(f))
    }

    /// Applies `new` to `old` (absent when the key was never set). Returns
    /// the new state value and the update as applied (for messages: with
    /// the ids they were given).
    pub(crate) fn apply(&self, key: &str, old: Option<Json>, new: Json) -> Result<(Json, Json)> {
        match self {
            Reducer::AddMessages => add_messages(key, old, new),
            other => other.apply_value(key, old, new.clone()).map(|v| (v, new)),
        }
    }

    pub(crate) fn apply_value(&self, key: &str, old: Option<Json>, new: Json) -> Result<Json> {
        match self {
            Reducer::Replace => Ok(new),
            Reducer::Append => match (old, new) {
                (None, new) => Ok(new),
                (Some(Json::Array(mut a)), Json::Array(b)) => {
                    a.extend(b);
                    Ok(Json::Array(a))
                }
                (Some(Json::Array(mut a)), other) => {
                    a.push(other);
                    Ok(Json::Array(a))
                }
                (Some(other), _) => Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("state key `{key}` has an append reducer but holds {other}, not a list"),
                )),
            },
            Reducer::AddMessages => add_messages(key, old, new).map(|(v, _)| v),
            Reducer::Custom(f) => f(old.unwrap_or(Json::Null), new),
        }
    }
}

impl fmt::Debug for Reducer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reducer::Replace => "Replace",
            Reducer::AddMessages => "AddMessages",
            Reducer::Append => "Append",
            Reducer::Custom(_) => "Custom",
        })
    }
}

fn messages_of(key: &str, v: Json) -> Result<Vec<Message>> {
    let list = match v {
        Json::Array(a) => a,
        Json::Null => Vec::new(),
        one => vec![one],
    };
    list.into_iter()
        .enumerate()
        .map(|(i, m)| {
            serde_json::from_value::<Message>(m).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("state key `{key}`: item {i} is not a message: {e}"),
                )
            })
        })
        .collect()
}

fn set_id(m: &mut Message, id: String) {
    match m {
        Message::System(x) => x.id = Some(id),
        Message::Human(x) => x.id = Some(id),
        Message::Ai(x) => x.id = Some(id),
        Message::AiChunk(x) => x.id = Some(id),
        Message::Tool(x) => x.id = Some(id),
    }
}

fn add_messages(key: &str, old: Option<Json>, new: Json) -> Result<(Json, Json)> {
    let mut list = messages_of(key, old.unwrap_or(Json::Null))?;
    let mut applied = Vec::new();
    for mut m in messages_of(key, new)? {
        if m.id().is_none() {
            set_id(&mut m, uuid::Uuid::new_v4().to_string());
        }
        match list.iter().position(|x| x.id() == m.id()) {
            Some(i) => list[i] = m.clone(),
            None => list.push(m.clone()),
        }
        applied.push(m);
    }
    Ok((serde_json::to_value(list)?, serde_json::to_value(applied)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn add_messages_replaces_by_id_and_appends_new_ones_with_ids() {
        let old = json!([{"type": "HumanMessage", "content": "hi", "id": "1"}]);
        let new = json!([
            {"type": "HumanMessage", "content": "hi again", "id": "1"},
            {"role": "assistant", "content": "hello"}
        ]);
        let (out, applied) = Reducer::AddMessages.apply("messages", Some(old), new).unwrap();
        assert_eq!(applied.as_array().unwrap().len(), 2);
        let out = out.as_array().unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["content"], "hi again");
        assert_eq!(out[1]["type"], "AIMessage");
        assert!(out[1]["id"].as_str().is_some_and(|id| !id.is_empty()));
    }

    #[test]
    fn append_concatenates_and_rejects_non_lists() {
        let (out, _) = Reducer::Append.apply("xs", Some(json!([1])), json!([2, 3])).unwrap();
        assert_eq!(out, json!([1, 2, 3]));
        let err = Reducer::Append.apply("xs", Some(json!(5)), json!([1])).unwrap_err();
        assert!(err.to_string().contains("`xs`"));
    }
}
