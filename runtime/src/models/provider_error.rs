//! [`ProviderError`]: the source of every provider failure (the status,
//! the provider's own type, code and message, `Retry-After`, the attempts
//! made), and how a status or a provider's error type maps to an
//! [`ErrorKind`].

use std::fmt;
use std::time::Duration;

use serde_json::Value as Json;

use crate::error::{Error, ErrorKind};

/// An error and its sources, joined with `: `.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The start of a body, as text, for an error message.
pub(super) fn snippet(body: &[u8]) -> String {
    const MAX: usize = 500;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The error kind of an HTTP status.
pub(crate) fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Authentication,
        429 => ErrorKind::RateLimited,
        408 => ErrorKind::Timeout,
        400 | 404 | 413 | 415 | 422 => ErrorKind::InvalidInput,
        _ => ErrorKind::Provider,
    }
}

/// The error kind of a provider's error `type` (when it gives no status).
fn kind_for_type(error_type: &str) -> ErrorKind {
    match error_type {
        "rate_limit_error" | "rate_limit_exceeded" | "tokens" | "requests" => ErrorKind::RateLimited,
        "invalid_request_error" | "not_found_error" | "request_too_large" => ErrorKind::InvalidInput,
        "authentication_error" | "permission_error" => ErrorKind::Authentication,
        _ => ErrorKind::Provider,
    }
}

/// What went wrong talking to a provider: the source of every error the
/// providers return, reachable with
/// [`Error::source`](std::error::Error::source) and a downcast.
///
/// It carries the HTTP status (when there was one), the provider's own
/// error type, code and message, the `Retry-After` the provider asked for,
/// and how many attempts were made. Never the API key.
///
/// ```no_run
/// # async fn demo(model: runwright::models::ChatOpenAI) {
/// use runwright::{models::ProviderError, ErrorKind, RunnableExt};
/// if let Err(e) = model.invoke("hi".into()).await {
///     if e.kind() == ErrorKind::RateLimited {
///         let cause = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<ProviderError>());
///         println!("{:?}", cause.and_then(ProviderError::retry_after));
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ProviderError {
    provider: &'static str,
    endpoint: String,
    kind: ErrorKind,
    status: Option<u16>,
    error_type: Option<String>,
    code: Option<String>,
    message: String,
    pub(super) retry_after: Option<Duration>,
    attempts: u32,
}

impl ProviderError {
    pub(crate) fn new(provider: &'static str, endpoint: &str, kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            provider,
            endpoint: endpoint.to_owned(),
            kind,
            status: None,
            error_type: None,
            code: None,
            message: message.into(),
            retry_after: None,
            attempts: 1,
        }
    }

    /// An HTTP error status with its body (JSON `{"error": ...}` or text).
    pub(super) fn from_http(provider: &'static str, endpoint: &str, status: u16, body: &[u8]) -> Self {
        let json: Option<Json> = serde_json::from_slice(body).ok();
        let mut e = match json
            .as_ref()
            .and_then(|j| j.get("error").or(Some(j)).filter(|e| has_message(e)))
        {
            Some(error) => Self::from_error_object(provider, endpoint, Some(status), error),
            None => ProviderError::new(provider, endpoint, kind_for_status(status), snippet(body)),
        };
        e.status = Some(status);
        e.kind = kind_for_status(status);
        e
    }

    /// An error object (`{"message", "type", "code"}`, or a bare string), in
    /// an error body or in the middle of a stream.
    pub(crate) fn from_error_object(provider: &'static str, endpoint: &str, status: Option<u16>, error: &Json) -> Self {
        let message = match error {
            Json::String(s) => s.clone(),
            _ => match error.get("message").and_then(Json::as_str) {
                Some(m) => m.to_owned(),
                None => snippet(error.to_string().as_bytes()),
            },
        };
        let error_type = error.get("type").and_then(Json::as_str).map(str::to_owned);
        let code = match error.get("code") {
            Some(Json::String(c)) => Some(c.clone()),
            Some(Json::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let numeric_code = code
            .as_deref()
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| (400..600).contains(c));
        let kind = match (status, numeric_code, error_type.as_deref()) {
            (Some(s), _, _) | (None, Some(s), _) => kind_for_status(s),
            (None, None, Some(t)) => kind_for_type(t),
            (None, None, None) => ErrorKind::Provider,
        };
        let mut e = ProviderError::new(provider, endpoint, kind, message);
        e.status = status;
        e.error_type = error_type;
        e.code = code;
        e
    }

    /// A request that got no response.
    pub(super) fn from_transport(
        provider: &'static str,
        endpoint: &str,
        e: &reqwest::Error,
        connect_timeout: Duration,
    ) -> Self {
        let cause = chain(&ErrorWithoutUrl(e));
        let (kind, message) = if e.is_timeout() && e.is_connect() {
            (
                ErrorKind::Timeout,
                format!("could not connect to {endpoint} within {:?}: {cause}", connect_timeout),
            )
        } else if e.is_connect() {
            (
                ErrorKind::Connection,
                format!("could not connect to {endpoint}: {cause}"),
            )
        } else if e.is_timeout() {
            (ErrorKind::Timeout, format!("request to {endpoint} timed out: {cause}"))
        } else {
            (ErrorKind::Connection, format!("request to {endpoint} failed: {cause}"))
        };
        ProviderError::new(provider, endpoint, kind, message)
    }

    pub(super) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// Whether trying again may help: no answer at all, or HTTP 408, 409,
    /// 429 or 5xx.
    pub(super) fn retryable(&self) -> bool {
        match self.status {
            Some(s) => matches!(s, 408 | 409 | 429) || s >= 500,
            None => matches!(self.kind, ErrorKind::Connection | ErrorKind::Timeout),
        }
    }

    /// This error as runwright's [`Error`], of the matching kind.
    pub(crate) fn into_error(self) -> Error {
        Error::from_source(self.kind, self)
    }

    /// The provider (`openai`, `anthropic`).
    pub fn provider(&self) -> &str {
        self.provider
    }

    /// The HTTP status, when the provider answered with an error status
    /// (or put one in an error object mid-stream).
    pub fn status(&self) -> Option<u16> {
        self.status.or_else(|| {
            self.code
                .as_deref()
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (400..600).contains(c))
        })
    }

    /// The provider's error type (`rate_limit_error`, `server_error`, ...).
    pub fn error_type(&self) -> Option<&str> {
        self.error_type.as_deref()
    }

    /// The provider's error code, if it gave one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The provider's message (or what went wrong on the way).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How long the provider asked to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// How many requests were made (1 plus the retries).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The URL the request went to, without credentials or query (`None`
    /// for an error read from inside a stream).
    pub fn endpoint(&self) -> Option<&str> {
        Some(self.endpoint.as_str()).filter(|e| !e.is_empty())
    }
}

fn has_message(error: &Json) -> bool {
    error.is_string() || error.get("message").is_some()
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.provider)?;
        if let Some(status) = self.status {
            write!(f, "HTTP {status}: ")?;
        }
        f.write_str(&self.message)?;
        match (&self.error_type, &self.code) {
            (Some(t), Some(c)) if self.status.map(|s| s.to_string()).as_ref() != Some(c) => write!(f, " ({t}, {c})")?,
            (Some(t), _) => write!(f, " ({t})")?,
            (None, Some(c)) => write!(f, " ({c})")?,
            (None, None) => {}
        }
        if self.attempts > 1 {
            write!(f, " (gave up after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for ProviderError {}

/// A provider error of `kind` as runwright's [`Error`].
pub(crate) fn provider_error(provider: &'static str, kind: ErrorKind, message: impl Into<String>) -> Error {
    ProviderError::new(provider, "", kind, message).into_error()
}

/// A reqwest error shown without its URL (the endpoint, cleaned, is in the
/// message already).
pub(super) struct ErrorWithoutUrl<'a>(pub(super) &'a reqwest::Error);

impl fmt::Debug for ErrorWithoutUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ErrorWithoutUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        match self.0.url() {
            Some(url) => f.write_str(&text.replace(&format!(" for url ({url})"), "")),
            None => f.write_str(&text),
        }
    }
}

impl std::error::Error for ErrorWithoutUrl<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(kind_for_status(401), ErrorKind::Authentication);
        assert_eq!(kind_for_status(403), ErrorKind::Authentication);
        assert_eq!(kind_for_status(429), ErrorKind::RateLimited);
        assert_eq!(kind_for_status(400), ErrorKind::InvalidInput);
        assert_eq!(kind_for_status(500), ErrorKind::Provider);
        assert_eq!(kind_for_status(529), ErrorKind::Provider);
        assert_eq!(kind_for_status(408), ErrorKind::Timeout);
    }

    #[test]
    fn error_bodies_of_both_providers_give_their_message() {
        let openai = br#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
        let e = ProviderError::from_http("openai", "http://x/v1/chat/completions", 429, openai);
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.message(), "Rate limit reached");
        assert_eq!(e.code(), Some("rate_limit_exceeded"));
        assert_eq!(
            e.to_string(),
            "openai: HTTP 429: Rate limit reached (requests, rate_limit_exceeded)"
        );

        let anthropic = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let e = ProviderError::from_http("anthropic", "http://x/v1/messages", 529, anthropic);
        assert_eq!(
            (e.kind, e.error_type()),
            (ErrorKind::Provider, Some("overloaded_error"))
        );
        assert!(e.retryable());

        let llama = br#"{"error":{"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}}"#;
        let e = ProviderError::from_http("openai", "http://x", 400, llama);
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(!e.retryable());
        assert_eq!(
            e.to_string(),
            "openai: HTTP 400: the request exceeds the available context size (exceed_context_size_error)"
        );

        let html = b"<html>502 Bad Gateway</html>";
        let e = ProviderError::from_http("openai", "http://x", 502, html);
        assert_eq!(e.message(), "<html>502 Bad Gateway</html>");
        assert!(e.retryable());
    }

    #[test]
    fn error_objects_mid_stream_take_their_kind_from_code_or_type() {
        let e = ProviderError::from_error_object(
            "openai",
            "",
            None,
            &serde_json::json!({"code": 500, "message": "boom", "type": "server_error"}),
        );
        assert_eq!((e.kind, e.status()), (ErrorKind::Provider, Some(500)));
        let e = ProviderError::from_error_object(
            "anthropic",
            "",
            None,
            &serde_json::json!({"type": "rate_limit_error", "message": "slow down"}),
        );
        assert_eq!(e.kind, ErrorKind::RateLimited);
    }
}
