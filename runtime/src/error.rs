//! The one error type of runwright.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// What went wrong, broadly. Match on it to decide what to do; read the
/// [`Error`]'s message and [`source`](std::error::Error::source) for details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A step's own body failed (a lambda returned an error, a model failed, ...).
    Step,
    /// The input did not fit what the step expects (a missing prompt variable,
    /// invalid JSON, a tool argument of the wrong type, ...).
    InvalidInput,
    /// Work was cancelled before it finished.
    Cancelled,
    /// A time limit ran out.
    Timeout,
    /// A graph or a recursive runnable went deeper than its recursion limit.
    RecursionLimit,
    /// Something is used outside the place it needs (for example
    /// [`dispatch_custom_event`](crate::dispatch_custom_event) outside a run).
    Usage,
    /// A spawned task panicked or could not be joined.
    Task,
    /// A provider refused the credentials (HTTP 401 or 403).
    Authentication,
    /// A provider asked to slow down (HTTP 429), also after the retries
    /// allowed ran out.
    RateLimited,
    /// A provider answered with an error of its own: an HTTP 5xx or other
    /// 4xx status, or an error object in the middle of a stream.
    Provider,
    /// The connection to a provider failed, or dropped before the answer was
    /// complete.
    Connection,
    /// A provider's answer broke its protocol (a malformed event, JSON that
    /// does not parse).
    Protocol,
    /// A graph node (or a tool or model beneath it) called
    /// [`interrupt`](crate::graph::interrupt): the run stops there, its
    /// state saved, to be resumed with a [`Command`](crate::graph::Command).
    /// Not a failure: retries, fallbacks and tool error handlers let it
    /// through, and the graph ends its run without an error.
    Interrupted,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Step => "step failed",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Timeout => "timed out",
            ErrorKind::RecursionLimit => "recursion limit reached",
            ErrorKind::Usage => "usage error",
            ErrorKind::Task => "task failed",
            ErrorKind::Authentication => "authentication failed",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Provider => "provider error",
            ErrorKind::Connection => "connection failed",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Interrupted => "interrupted",
        }
    }
}

struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    step: Option<Arc<str>>,
    /// The short name of the source's type (`ValueError` for a user's
    /// `ValueError`), shown as the error's `type` in events, as LangChain
    /// shows an exception's class name.
    type_name: Option<&'static str>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// `my_crate::errors::ValueError<T>` -> `ValueError`.
fn short_type_name(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// The error of every fallible runwright operation.
///
/// It is cheap to clone (events and retries hand the same error around), has a
/// [`kind`](Error::kind), a human message, the name of the step it came from
/// when known, and an optional source error.
///
/// ```
/// use runwright::{Error, ErrorKind};
/// let e = Error::new(ErrorKind::InvalidInput, "missing variable `topic`");
/// assert_eq!(e.kind(), ErrorKind::InvalidInput);
/// assert_eq!(e.message(), "missing variable `topic`");
/// ```
#[derive(Clone)]
pub struct Error(Arc<Inner>);

/// `Result` with runwright's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error(Arc::new(Inner {
            kind,
            message: message.into(),
            step: None,
            type_name: None,
            source: None,
        }))
    }

    /// A [`ErrorKind::Step`] error with a message: what a failing step body returns.
    pub fn msg(message: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Step, message.to_string())
    }

    /// Wraps another error; its `Display` becomes the message, its type's
    /// name the error's [`type_name`](Error::type_name), and it stays
    /// reachable through [`source`](std::error::Error::source).
    pub fn from_source<E: std::error::Error + Send + Sync + 'static>(kind: ErrorKind, source: E) -> Self {
        let type_name = match (&source as &dyn std::any::Any).downcast_ref::<Error>() {
            Some(inner) => inner.0.type_name,
            None => Some(short_type_name(std::any::type_name::<E>())),
        };
        Error(Arc::new(Inner {
            kind,
            message: source.to_string().into(),
            step: None,
            type_name,
            source: Some(Box::new(source)),
        }))
    }

    /// An error with a message of its own that keeps `source` reachable
    /// through [`source`](std::error::Error::source): for a message that
    /// names what was being done (which checkpoint of which thread) as well
    /// as what failed.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn with_source<E: std::error::Error + Send + Sync + 'static>(
        kind: ErrorKind,
        message: impl Into<Cow<'static, str>>,
        source: E,
    ) -> Self {
        Error(Arc::new(Inner {
            kind,
            message: message.into(),
            step: None,
            type_name: Some(short_type_name(std::any::type_name::<E>())),
            source: Some(Box::new(source)),
        }))
    }

    /// The error's type as events show it (`{"type": ..., "message": ...}`):
    /// the name of the source error's type for an error made with
    /// [`from_source`](Error::from_source) (`ValueError` for a
    /// `my_crate::ValueError`), `Error` otherwise.
    ///
    /// ```
    /// use runwright::{Error, ErrorKind};
    /// #[derive(Debug)]
    /// struct ValueError;
    /// impl std::fmt::Display for ValueError {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("bad value") }
    /// }
    /// impl std::error::Error for ValueError {}
    ///
    /// assert_eq!(Error::from_source(ErrorKind::Step, ValueError).type_name(), "ValueError");
    /// assert_eq!(Error::msg("boom").type_name(), "Error");
    /// ```
    pub fn type_name(&self) -> &'static str {
        self.0.type_name.unwrap_or("Error")
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message alone, without the step name.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The name of the innermost step the error came out of, if known.
    pub fn step(&self) -> Option<&str> {
        self.0.step.as_deref()
    }

    /// Records the step the error came from, unless one is recorded already
    /// (the innermost step is the useful one).
    pub(crate) fn in_step(self, step: impl FnOnce() -> Arc<str>) -> Self {
        if self.0.step.is_some() {
            return self;
        }
        let step = Some(step());
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.step = step;
                Error(Arc::new(inner))
            }
            Err(shared) => Error(Arc::new(Inner {
                kind: shared.kind,
                message: shared.message.clone(),
                step,
                type_name: shared.type_name,
                source: Some(Box::new(Error(shared))),
            })),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.step {
            Some(step) => write!(f, "step `{step}`: {}", self.0.message),
            None => f.write_str(&self.0.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind.as_str());
        d.field("message", &self.0.message);
        if let Some(step) = &self.0.step {
            d.field("step", step);
        }
        if let Some(source) = &self.0.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::from_source(ErrorKind::InvalidInput, e)
    }
}

impl serde::Serialize for Error {
    /// LangChain's encoding of an exception: `{"type", "message"}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", self.type_name())?;
        m.serialize_entry("message", &self.0.message)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_is_recorded_once_innermost_first() {
        let e = Error::msg("boom").in_step(|| "inner".into());
        let e = e.in_step(|| "outer".into());
        assert_eq!(e.step(), Some("inner"));
        assert_eq!(e.to_string(), "step `inner`: boom");
        assert_eq!(e.message(), "boom");
    }

    #[test]
    fn shared_error_keeps_message_when_step_added() {
        let e = Error::msg("boom");
        let keep = e.clone();
        let e = e.in_step(|| "s".into());
        assert_eq!(e.message(), "boom");
        assert_eq!(keep.step(), None);
        assert!(std::error::Error::source(&e).is_some());
    }
}
