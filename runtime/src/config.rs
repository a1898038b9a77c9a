//! [`RunConfig`]: what a caller or a `with_config` can set on a run.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::intercept::Interceptor;
use crate::value::{Map, Payload};

/// A stream writer installed with [`RunConfig::stream_writer`].
pub(crate) type WriterFn = Arc<dyn Fn(Payload) + Send + Sync>;

/// Settings for a run: its name, tags, metadata, configurable values and
/// limits. Set at call time (`invoke_with`, `stream_events_with`, ...) or bound
/// to a runnable with [`with_config`](crate::RunnableExt::with_config).
///
/// Tags and metadata are inherited by every run beneath; for the same metadata
/// key the caller's (or parent's) value wins over a child's bound value,
/// except for a child invoked from a body with no config passed: its bound
/// value wins there, as in LangChain.
///
/// ```
/// use runwright::RunConfig;
/// let cfg = RunConfig::new()
///     .run_name("joke")
///     .tag("demo")
///     .metadata("user", "ada")
///     .max_concurrency(4);
/// assert_eq!(cfg.tags, ["demo"]);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RunConfig {
    /// Renames the run (events, logs and errors show this name).
    pub run_name: Option<String>,
    /// Tags added to this run and inherited by every run beneath it.
    pub tags: Vec<String>,
    /// Metadata added to this run and inherited by every run beneath it.
    pub metadata: Map,
    /// Values any step beneath can read with
    /// [`RunContext::configurable`](crate::RunContext::configurable).
    pub configurable: Map,
    /// How many inputs `batch` runs at once (unbounded when `None`).
    pub max_concurrency: Option<usize>,
    /// How deep a graph or recursive runnable may go.
    pub recursion_limit: Option<usize>,
    pub(crate) stream_writer: Option<WriterFn>,
    pub(crate) interceptor: Option<Arc<dyn Interceptor>>,
}

impl std::fmt::Debug for RunConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunConfig")
            .field("run_name", &self.run_name)
            .field("tags", &self.tags)
            .field("metadata", &self.metadata)
            .field("configurable", &self.configurable)
            .field("max_concurrency", &self.max_concurrency)
            .field("recursion_limit", &self.recursion_limit)
            .field("stream_writer", &self.stream_writer.is_some())
            .field("interceptor", &self.interceptor.is_some())
            .finish()
    }
}

impl RunConfig {
    /// An empty config.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the run name.
    #[must_use]
    pub fn run_name(mut self, name: impl Into<String>) -> Self {
        self.run_name = Some(name.into());
        self
    }

    /// Adds a tag.
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Adds several tags.
    #[must_use]
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Sets a metadata key.
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Json>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets a configurable key.
    #[must_use]
    pub fn configurable(mut self, key: impl Into<String>, value: impl Into<Json>) -> Self {
        self.configurable.insert(key.into(), value.into());
        self
    }

    /// Limits how many inputs `batch` runs at once.
    #[must_use]
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = Some(n);
        self
    }

    /// Sets the recursion limit.
    #[must_use]
    pub fn recursion_limit(mut self, n: usize) -> Self {
        self.recursion_limit = Some(n);
        self
    }

    /// Installs a stream writer: whatever code beneath this run writes with
    /// [`stream_writer`](crate::stream_writer) is handed to `f`.
    #[must_use]
    pub fn stream_writer(mut self, f: impl Fn(Payload) + Send + Sync + 'static) -> Self {
        self.stream_writer = Some(Arc::new(f));
        self
    }

    /// Installs an interceptor: the chat models, LLMs, tools, retrievers and
    /// side-effect steps that run beneath this run go through it (see
    /// [`intercept`](crate::intercept)). What a recording session installs.
    #[must_use]
    pub fn intercept(mut self, interceptor: Arc<dyn Interceptor>) -> Self {
        self.interceptor = Some(interceptor);
        self
    }

    /// `self` bound again with `over` (`.with_config(self).with_config(over)`):
    /// each setting `over` has replaces `self`'s whole, as LangChain's
    /// `RunnableBinding.with_config` updates its bound config (tags and
    /// metadata are replaced, not united); what `over` leaves unset stays.
    #[must_use]
    pub(crate) fn rebound(&self, over: &RunConfig) -> RunConfig {
        let mut out = self.clone();
        if over.run_name.is_some() {
            out.run_name.clone_from(&over.run_name);
        }
        if !over.tags.is_empty() {
            out.tags.clone_from(&over.tags);
        }
        if !over.metadata.is_empty() {
            out.metadata.clone_from(&over.metadata);
        }
        if !over.configurable.is_empty() {
            out.configurable.clone_from(&over.configurable);
        }
        out.max_concurrency = over.max_concurrency.or(out.max_concurrency);
        out.recursion_limit = over.recursion_limit.or(out.recursion_limit);
        if over.stream_writer.is_some() {
            out.stream_writer.clone_from(&over.stream_writer);
        }
        if over.interceptor.is_some() {
            out.interceptor.clone_from(&over.interceptor);
        }
        out
    }

    /// `self` with `over` laid on top: `over`'s name and limits win when set,
    /// tags are united, and `over`'s metadata and configurable keys win.
    #[must_use]
    pub fn merged(&self, over: &RunConfig) -> RunConfig {
        let mut out = self.clone();
        if over.run_name.is_some() {
            out.run_name.clone_from(&over.run_name);
        }
        for t in &over.tags {
            if !out.tags.contains(t) {
                out.tags.push(t.clone());
            }
        }
        for (k, v) in &over.metadata {
            out.metadata.insert(k.clone(), v.clone());
        }
        for (k, v) in &over.configurable {
            out.configurable.insert(k.clone(), v.clone());
        }
        out.max_concurrency = over.max_concurrency.or(out.max_concurrency);
        out.recursion_limit = over.recursion_limit.or(out.recursion_limit);
        if over.stream_writer.is_some() {
            out.stream_writer.clone_from(&over.stream_writer);
        }
        if over.interceptor.is_some() {
            out.interceptor.clone_from(&over.interceptor);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebound_replaces_what_the_new_config_sets() {
        let first = RunConfig::new()
            .run_name("a")
            .tag("first")
            .metadata("x", 1)
            .metadata("f", 1);
        let second = RunConfig::new().tag("second").metadata("x", 2).metadata("s", 2);
        let m = first.rebound(&second);
        assert_eq!(m.run_name.as_deref(), Some("a"));
        assert_eq!(m.tags, ["second"]);
        assert_eq!(
            serde_json::Value::Object(m.metadata),
            serde_json::json!({"x": 2, "s": 2})
        );
        let renamed = first.rebound(&RunConfig::new().run_name("b"));
        assert_eq!(renamed.run_name.as_deref(), Some("b"));
        assert_eq!(renamed.tags, ["first"]);
    }

    #[test]
    fn merged_prefers_the_overlay() {
        let base = RunConfig::new().run_name("a").tag("x").metadata("k", 1);
        let over = RunConfig::new().tag("x").tag("y").metadata("k", 2);
        let m = base.merged(&over);
        assert_eq!(m.run_name.as_deref(), Some("a"));
        assert_eq!(m.tags, ["x", "y"]);
        assert_eq!(m.metadata["k"], 2);
    }
}
