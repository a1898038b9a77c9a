//! [`Redactions`]: the fields a cassette never contains.

use std::collections::BTreeSet;

use serde_json::Value;

/// The fields a recorder never writes: API keys, auth headers, cookies, and
/// whatever the user adds. A field is matched by its key at any depth of a
/// request's parameters and of the recorded chunks, case-insensitively and
/// with `-` and `_` the same (`X-Api-Key` matches `x_api_key`); headers given
/// as `[name, value]` pairs are matched by name. A matched field is removed
/// with its value. Then every other occurrence of a removed value (say, the
/// key repeated in a custom header) is replaced with `"<redacted>"`, so a
/// secret does not leak under a name nobody listed.
///
/// Redaction happens before requests are compared, so a replayed request
/// matches a recorded one whatever its secrets are. The same goes for any
/// parameter that changes from call to call (a request id, a timestamp):
/// list it here and requests match without it.
///
/// ```
/// use runwright_recorder::Redactions;
/// use serde_json::json;
///
/// let r = Redactions::default().field("session_id");
/// let mut params = json!({
///     "model": "gpt-4o-mini",
///     "api_key": "sk-123",
///     "headers": {"Authorization": "Bearer sk-123", "X-Trace": "sk-123", "session-id": "s1"},
/// });
/// r.apply(&mut params);
/// assert_eq!(params, json!({"model": "gpt-4o-mini", "headers": {"X-Trace": "<redacted>"}}));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redactions {
    fields: BTreeSet<String>,
}

/// The fields redacted by default.
const DEFAULT_FIELDS: &[&str] = &[
    "authorization",
    "proxy_authorization",
    "api_key",
    "apikey",
    "x_api_key",
    "api_token",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "secret_key",
    "private_key",
    "password",
    "cookie",
    "set_cookie",
    "openai_api_key",
    "anthropic_api_key",
    "azure_openai_api_key",
    "x_goog_api_key",
    "ocp_apim_subscription_key",
    "token",
    "secret",
    "session_token",
    "bearer_token",
    "x_auth_token",
];

const REDACTED: &str = "<redacted>";

fn canonical(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

impl Default for Redactions {
    /// `authorization`, `proxy-authorization`, `api_key`, `x-api-key`,
    /// `token`, `secret`, `access_token`, `refresh_token`, `client_secret`,
    /// `password`, `cookie`, `set-cookie`, the providers' `*_api_key`
    /// names, and a few more of that kind.
    fn default() -> Self {
        Redactions {
            fields: DEFAULT_FIELDS.iter().map(|f| f.to_string()).collect(),
        }
    }
}

impl Redactions {
    /// No redaction at all. Only for cassettes that provably hold no secret.
    pub fn none() -> Self {
        Redactions {
            fields: BTreeSet::new(),
        }
    }

    /// Adds a field to redact.
    #[must_use]
    pub fn field(mut self, name: &str) -> Self {
        self.fields.insert(canonical(name));
        self
    }

    /// Adds fields to redact.
    #[must_use]
    pub fn fields<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, names: I) -> Self {
        self.fields.extend(names.into_iter().map(|n| canonical(n.as_ref())));
        self
    }

    /// Whether a key names a redacted field.
    pub fn is_secret(&self, key: &str) -> bool {
        self.fields.contains(&canonical(key))
    }

    /// Removes the redacted fields from `value`, at any depth, then replaces
    /// any other occurrence of their values with `"<redacted>"`.
    pub fn apply(&self, value: &mut Value) {
        self.redact(value, &[]);
    }

    /// [`apply`](Self::apply), also hiding the `known` secret values (found
    /// earlier, in the request); returns all the secret values seen.
    pub(crate) fn redact(&self, value: &mut Value, known: &[String]) -> Vec<String> {
        let mut secrets = known.to_vec();
        self.remove(value, &mut secrets);
        // Short values ("1", "true") would blank out unrelated text.
        secrets.retain(|s| s.len() >= 6);
        if !secrets.is_empty() {
            scrub(value, &secrets);
        }
        secrets
    }

    fn remove(&self, v: &mut Value, secrets: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                let keys: Vec<String> = m.keys().filter(|k| self.is_secret(k)).cloned().collect();
                for k in keys {
                    if let Some(old) = m.shift_remove(&k) {
                        collect_strings(&old, secrets);
                    }
                }
                m.values_mut().for_each(|x| self.remove(x, secrets));
            }
            Value::Array(a) => {
                a.retain(|x| {
                    let pair = x.as_array().filter(|p| p.len() == 2);
                    match pair.and_then(|p| p[0].as_str()) {
                        Some(name) if self.is_secret(name) => {
                            collect_strings(&x[1], secrets);
                            false
                        }
                        _ => true,
                    }
                });
                a.iter_mut().for_each(|x| self.remove(x, secrets));
            }
            _ => {}
        }
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            // "Bearer sk-..." also hides the bare token elsewhere.
            if let Some((_, token)) = s.split_once(' ') {
                out.push(token.to_owned());
            }
            out.push(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Removes the fields at `paths` (dotted, into objects) from `v`, adding
/// their string values to `secrets` (a tool's secret arguments).
pub(crate) fn remove_paths(v: &mut Value, paths: &[&str], secrets: &mut Vec<String>) {
    for path in paths {
        let mut parts: Vec<&str> = path.split('.').collect();
        let Some(last) = parts.pop() else { continue };
        let parent = parts.iter().try_fold(&mut *v, |at, p| at.get_mut(*p));
        if let Some(Value::Object(m)) = parent {
            if let Some(old) = m.shift_remove(last) {
                collect_strings(&old, secrets);
            }
        }
    }
}

/// Replaces every string of a secret output with the marker, but for the
/// fields that only say what the output is (`type`, `name`, `id`,
/// `tool_call_id`, `status`), so its replay still has its shape.
pub(crate) fn redact_output(v: &mut Value) {
    match v {
        Value::String(s) => REDACTED.clone_into(s),
        Value::Array(a) => a.iter_mut().for_each(redact_output),
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if !matches!(k.as_str(), "type" | "name" | "id" | "tool_call_id" | "status") {
                    redact_output(x);
                }
            }
        }
        _ => {}
    }
}

fn scrub(v: &mut Value, secrets: &[String]) {
    match v {
        Value::String(s) if secrets.iter().any(|secret| s.contains(secret.as_str())) => {
            *s = REDACTED.to_owned();
        }
        Value::Array(a) => a.iter_mut().for_each(|x| scrub(x, secrets)),
        Value::Object(m) => m.values_mut().for_each(|x| scrub(x, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_pairs_and_nested_keys_are_removed() {
        let mut v =
            json!({"headers": [["X-API-KEY", "k-123456"], ["Accept", "json"]], "deep": {"Password": "hunter22"}});
        Redactions::default().apply(&mut v);
        assert_eq!(v, json!({"headers": [["Accept", "json"]], "deep": {}}));
    }

    #[test]
    fn none_redacts_nothing() {
        let mut v = json!({"api_key": "x"});
        Redactions::none().apply(&mut v);
        assert_eq!(v, json!({"api_key": "x"}));
    }
}
