//! Reading LangServe's request bodies: the JSON object, its `input`, its
//! `config` (kept to the keys the route allows) and the event filters of
//! `stream_log` and `stream_events`.

use runwright::{EventFilter, RunConfig};
use serde_json::{Map, Value as Json};

use crate::error::ApiError;

/// The body as a JSON object.
pub(crate) fn body(bytes: &[u8]) -> Result<Map<String, Json>, ApiError> {
    match serde_json::from_slice::<Json>(bytes) {
        Ok(Json::Object(body)) => Ok(body),
        Ok(other) => Err(ApiError::invalid(format!(
            "the request body must be a JSON object (with the key `input`), not {}",
            kind(&other)
        ))),
        Err(e) => Err(ApiError::invalid(format!("Invalid JSON body: {e}"))),
    }
}

/// The required field `key` of the body.
pub(crate) fn field(body: &mut Map<String, Json>, key: &str) -> Result<Json, ApiError> {
    body.remove(key)
        .ok_or_else(|| ApiError::invalid(format!("Field required: the request body has no `{key}`")))
}

/// What a route takes from a client's config.
#[derive(Clone, Debug)]
pub(crate) struct ConfigRules {
    /// The keys taken (LangServe's `config_keys`).
    pub(crate) keys: Vec<String>,
    /// The root run's name: the route's path, as LangServe names it.
    pub(crate) run_name: String,
}

impl ConfigRules {
    /// The run config for a client's `config` (absent or `null`: none).
    pub(crate) fn config(&self, value: Option<&Json>) -> Result<RunConfig, ApiError> {
        let mut config = RunConfig::new().run_name(self.run_name.clone());
        let given = match value {
            None | Some(Json::Null) => return Ok(config),
            Some(Json::Object(given)) => given,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "Value for 'config' key must be a dict, not {}",
                    kind(other)
                )))
            }
        };
        let allowed = |key: &str| self.keys.iter().any(|k| k == key);
        let non_empty = |v: &Json| !matches!(v, Json::Null) && v.as_object().is_none_or(|m| !m.is_empty());
        if given.get("configurable").is_some_and(non_empty) && !allowed("configurable") {
            return Err(ApiError::invalid(
                "The config field `configurable` has been disallowed by the server. This can be modified \
                 server side by adding `configurable` to the list of `config_keys` argument in `add_routes`",
            ));
        }
        for (key, value) in given {
            if !allowed(key) || value.is_null() {
                continue;
            }
            match key.as_str() {
                "configurable" => config.configurable = object(key, value)?,
                "metadata" => config.metadata.extend(object(key, value)?),
                "tags" => config.tags.extend(strings(key, value)?),
                "max_concurrency" => config.max_concurrency = Some(count(key, value)?),
                "recursion_limit" => config.recursion_limit = Some(count(key, value)?),
                // Callbacks and run ids are the server's; the run name is
                // the path's (LangServe refuses it in `config_keys`).
                _ => {}
            }
        }
        Ok(config)
    }
}

/// The filter of `stream_log` and `stream_events` (`include_names`, ...).
pub(crate) fn filter(body: &Map<String, Json>) -> Result<EventFilter, ApiError> {
    let mut filter = EventFilter::new();
    let list = |key: &str| match body.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(value) => strings(key, value).map(Some),
    };
    if let Some(v) = list("include_names")? {
        filter = filter.include_names(v);
    }
    if let Some(v) = list("include_types")? {
        filter = filter.include_types(v);
    }
    if let Some(v) = list("include_tags")? {
        filter = filter.include_tags(v);
    }
    if let Some(v) = list("exclude_names")? {
        filter = filter.exclude_names(v);
    }
    if let Some(v) = list("exclude_types")? {
        filter = filter.exclude_types(v);
    }
    if let Some(v) = list("exclude_tags")? {
        filter = filter.exclude_tags(v);
    }
    Ok(filter)
}

fn object(key: &str, value: &Json) -> Result<Map<String, Json>, ApiError> {
    value
        .as_object()
        .cloned()
        .ok_or_else(|| ApiError::invalid(format!("config.{key} must be an object, not {}", kind(value))))
}

fn strings(key: &str, value: &Json) -> Result<Vec<String>, ApiError> {
    let wrong = || ApiError::invalid(format!("{key} must be a list of strings, not {value}"));
    value
        .as_array()
        .ok_or_else(wrong)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(wrong))
        .collect()
}

fn count(key: &str, value: &Json) -> Result<usize, ApiError> {
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ApiError::invalid(format!("config.{key} must be a whole number, not {value}")))
}

/// What a JSON value is, for messages.
pub(crate) fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(keys: &[&str]) -> ConfigRules {
        ConfigRules {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            run_name: "/joke".into(),
        }
    }

    #[test]
    fn only_allowed_keys_are_taken() {
        let given = json!({"configurable": {"user": "ada"}, "tags": ["x"], "metadata": {"a": 1}});
        let config = rules(&["configurable"]).config(Some(&given)).unwrap();
        assert_eq!(config.configurable["user"], "ada");
        assert!(config.tags.is_empty());
        assert!(config.metadata.is_empty());
        assert_eq!(config.run_name.as_deref(), Some("/joke"));

        let config = rules(&["configurable", "tags", "metadata"])
            .config(Some(&given))
            .unwrap();
        assert_eq!(config.tags, ["x"]);
        assert_eq!(config.metadata["a"], 1);
    }

    #[test]
    fn configurable_refused_when_not_allowed() {
        let r = rules(&["tags"]);
        // What a Python client always sends: an empty `configurable`.
        assert!(r.config(Some(&json!({"configurable": {}, "tags": []}))).is_ok());
        let err = r.config(Some(&json!({"configurable": {"user": "ada"}}))).unwrap_err();
        assert!(
            format!("{err:?}").contains("`configurable` has been disallowed"),
            "{err:?}"
        );
    }

    #[test]
    fn wrong_types_are_named() {
        let r = rules(&["configurable", "tags", "max_concurrency"]);
        let err = |v: Json| format!("{:?}", r.config(Some(&v)).unwrap_err());
        assert!(err(json!("x")).contains("'config' key must be a dict, not a string"));
        assert!(err(json!({"tags": "x"})).contains("tags must be a list of strings"));
        assert!(err(json!({"configurable": [1]})).contains("config.configurable must be an object"));
        assert!(err(json!({"max_concurrency": -1})).contains("config.max_concurrency must be a whole number"));
    }

    #[test]
    fn bodies_that_are_not_objects_are_named() {
        assert!(format!("{:?}", body(b"{").unwrap_err()).contains("Invalid JSON body"));
        assert!(format!("{:?}", body(b"[1]").unwrap_err()).contains("not a list"));
        let mut b = body(br#"{"inputs": 1}"#).unwrap();
        assert!(format!("{:?}", field(&mut b, "input").unwrap_err()).contains("has no `input`"));
    }

    #[test]
    fn filters_are_read() {
        let body = body(br#"{"include_types": ["chat_model"], "exclude_names": null}"#).unwrap();
        assert!(!filter(&body).unwrap().is_empty());
        let bad = super::body(br#"{"include_tags": "x"}"#).unwrap();
        assert!(filter(&bad).is_err());
    }
}
