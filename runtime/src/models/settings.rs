//! The settings both HTTP providers have (model, sampling, tools), their
//! run metadata, the builder methods they share, and message content as
//! both send it.

use serde_json::{json, Value as Json};

use super::structured::ToolChoice;
use super::ModelProfile;
use crate::messages::Content;
use crate::value::Map;

/// What a provider sends besides the conversation.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) model: String,
    pub(crate) temperature: Option<f64>,
    pub(crate) max_tokens: Option<u32>,
    pub(crate) stop: Vec<String>,
    /// Plain JSON tools bound with `with_tools`, in OpenAI's format.
    pub(crate) tools: Vec<Json>,
    pub(crate) tool_choice: Option<ToolChoice>,
    /// More request fields, sent as they are.
    pub(crate) extra: Map,
}

impl Settings {
    pub(crate) fn new(model: impl Into<String>) -> Self {
        Settings {
            model: model.into(),
            ..Default::default()
        }
    }

    /// The run metadata LangChain gives a chat model's runs: `ls_provider`,
    /// `ls_model_name`, `ls_model_type`, and the sampling settings set.
    pub(crate) fn profile(&self, class: &str) -> ModelProfile {
        let mut p = ModelProfile::chat(class).with_metadata("ls_model_name", self.model.clone());
        if let Some(t) = self.temperature {
            p = p.with_metadata("ls_temperature", t);
        }
        if let Some(n) = self.max_tokens {
            p = p.with_metadata("ls_max_tokens", n);
        }
        if !self.stop.is_empty() {
            p = p.with_metadata("ls_stop", self.stop.clone());
        }
        p
    }

    /// The invocation parameters (what a recorder matches calls on): the
    /// model and everything that changes the answer. Never a key.
    pub(crate) fn params(&self, kind: &str) -> Map {
        let mut m = Map::new();
        m.insert("_type".into(), kind.into());
        m.insert("model".into(), self.model.clone().into());
        if let Some(t) = self.temperature {
            m.insert("temperature".into(), t.into());
        }
        if let Some(n) = self.max_tokens {
            m.insert("max_tokens".into(), n.into());
        }
        if !self.stop.is_empty() {
            m.insert("stop".into(), self.stop.clone().into());
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

/// The builder methods both providers have. `$ty` has fields `settings`,
/// `transport` and `profile`, and a `CLASS` constant; it is `#[must_use]`,
/// which covers the methods returning it.
macro_rules! provider_builder {
    ($ty:ident, $key_var:literal, $url_var:literal) => {
        impl $ty {
            #[doc = concat!("Sets the API key, instead of the one in `", $key_var, "`.")]
            pub fn api_key(mut self, key: impl Into<$crate::models::ApiKey>) -> Self {
                self.transport.api_key = Some(key.into());
                self
            }

            #[doc = concat!("Sets the base URL, instead of the one in `", $url_var, "`.")]
            pub fn base_url(mut self, url: impl Into<String>) -> Self {
                self.transport.base_url = url.into();
                self
            }

            /// Sets the sampling temperature.
            pub fn temperature(mut self, temperature: f64) -> Self {
                self.settings.temperature = Some(temperature);
                self.refreshed()
            }

            /// Sets the most tokens the answer may have.
            pub fn max_tokens(mut self, max_tokens: u32) -> Self {
                self.settings.max_tokens = Some(max_tokens);
                self.refreshed()
            }

            /// Sets the sequences at which the model stops.
            pub fn stop<I, S>(mut self, stop: I) -> Self
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                self.settings.stop = stop.into_iter().map(Into::into).collect();
                self.refreshed()
            }

            /// Adds a field to every request body as it is (`seed`, `top_p`,
            /// a server's own options).
            pub fn param(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
                self.settings.extra.insert(key.into(), value.into());
                self
            }

            /// Sets how long connecting may take (default 10 s).
            pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
                self.transport.connect_timeout = timeout;
                self.transport.settings_changed();
                self
            }

            /// Sets how long the answer's first byte may take after the
            /// request is sent (default 120 s: reading a long prompt takes a
            /// while). A request that gets no response head in time is
            /// retried.
            pub fn first_byte_timeout(mut self, timeout: std::time::Duration) -> Self {
                self.transport.first_byte_timeout = timeout;
                self
            }

            /// Sets how long a stream may stay silent between two pieces
            /// (default 60 s). Keep-alive comments count as pieces.
            pub fn idle_timeout(mut self, timeout: std::time::Duration) -> Self {
                self.transport.idle_timeout = timeout;
                self
            }

            /// Sets how many times a request is retried (default 2): after
            /// a failed connection, a first-byte timeout, or HTTP 408, 409,
            /// 429 or 5xx. A stream that has begun is never retried.
            pub fn max_retries(mut self, retries: u32) -> Self {
                self.transport.max_retries = retries;
                self
            }

            /// Sets the backoff between retries: `initial` before the first,
            /// doubling, with up to a quarter of jitter, never more than
            /// `max` (defaults 0.5 s and 8 s). A `Retry-After` (or
            /// `retry-after-ms`) from the server replaces the backoff; one
            /// longer than `max` ends the retries with the error.
            pub fn retry_backoff(mut self, initial: std::time::Duration, max: std::time::Duration) -> Self {
                self.transport.backoff.initial = initial;
                self.transport.backoff.max = max;
                self
            }

            /// Sends every request through `client`: your proxies,
            /// certificate authorities, connection pool and default headers
            /// (see [`http_client_builder`](crate::models::http_client_builder)
            /// for one set up as the default is). Its own timeouts apply, so
            /// [`connect_timeout`](Self::connect_timeout) no longer does; the
            /// first-byte and idle timeouts and the retries still do.
            ///
            /// ```no_run
            #[doc = concat!("use runwright::models::{http_client_builder, reqwest, ", stringify!($ty), "};")]
            ///
            /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
            /// let mut defaults = reqwest::header::HeaderMap::new();
            /// defaults.insert("x-team", "search".parse()?);
            /// let client = http_client_builder()?.default_headers(defaults).build()?;
            #[doc = concat!("let model = ", stringify!($ty), "::new(\"some-model\").http_client(client);")]
            /// # let _ = model; Ok(()) }
            /// ```
            pub fn http_client(mut self, client: $crate::models::reqwest::Client) -> Self {
                self.transport.use_client(client);
                self
            }

            /// Adds a header to every request (Azure's `api-key`,
            /// OpenRouter's `HTTP-Referer` and `X-Title`, a gateway's
            /// own). It replaces any earlier value of that name, the
            /// provider's own headers included. Its value shows in no
            /// `Debug` output.
            ///
            /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage),
            /// naming the header, for a name or value HTTP does not allow.
            ///
            /// ```
            #[doc = concat!("use runwright::models::", stringify!($ty), ";")]
            ///
            /// # fn main() -> runwright::Result<()> {
            #[doc = concat!("let model = ", stringify!($ty), "::new(\"some-model\")")]
            ///     .header("HTTP-Referer", "https://example.com")?
            ///     .header("X-Title", "Example")?;
            /// # let _ = model;
            #[doc = concat!("let bad = ", stringify!($ty), "::new(\"some-model\").header(\"X-Title\", \"line\\nbreak\");")]
            /// assert!(bad.unwrap_err().to_string().contains("X-Title"));
            /// # Ok(()) }
            /// ```
            pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> $crate::Result<Self> {
                self.transport.add_header(name.as_ref(), value.as_ref())?;
                Ok(self)
            }

            /// Adds headers to every request, as [`header`](Self::header)
            /// does for one (names and values of a `HeaderMap` are valid
            /// already).
            pub fn headers(mut self, headers: $crate::models::reqwest::header::HeaderMap) -> Self {
                self.transport.add_headers(headers);
                self
            }

            /// Binds tools given as plain JSON: OpenAI's `{"type":
            /// "function", "function": {...}}`, a bare `{"name",
            /// "description", "parameters"}`, Anthropic's `{"name",
            /// "description", "input_schema"}`, or a JSON schema with a
            /// `title`. For typed tools (`#[tool]`), use
            /// [`ChatModel::bind_tools`](crate::ChatModel::bind_tools).
            ///
            /// Fails with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
            /// for JSON that is none of those.
            pub fn with_tools(mut self, tools: impl IntoIterator<Item = serde_json::Value>) -> $crate::Result<Self> {
                self.settings.tools = tools
                    .into_iter()
                    .map($crate::models::structured::openai_tool)
                    .collect::<$crate::Result<_>>()?;
                Ok(self)
            }

            /// Sets which tool the model must call.
            pub fn tool_choice(mut self, choice: $crate::models::ToolChoice) -> Self {
                self.settings.tool_choice = Some(choice);
                self
            }

            /// The model's name.
            pub fn model(&self) -> &str {
                &self.settings.model
            }

            fn refreshed(mut self) -> Self {
                self.profile = self.settings.profile(Self::CLASS);
                self
            }
        }
    };
}

pub(crate) use provider_builder;

/// Content as a string, or as content parts (strings become text parts;
/// the `index` that merged chunks carry is dropped).
pub(crate) fn content_json(content: &Content) -> Json {
    match content {
        Content::Text(s) => s.clone().into(),
        Content::Blocks(blocks) => blocks
            .iter()
            .map(|b| match b {
                Json::String(s) => json!({"type": "text", "text": s}),
                Json::Object(o) => Json::Object(
                    o.iter()
                        .filter(|(k, _)| *k != "index")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                other => other.clone(),
            })
            .collect::<Vec<_>>()
            .into(),
    }
}
