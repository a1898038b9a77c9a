//! Which events a listener wants.

use super::StreamEvent;

/// Include and exclude rules for `stream_events` and `stream_log`, with
/// LangChain's semantics: with no include rule everything is included;
/// otherwise an event is kept when its name, its type or one of its tags is
/// included. Exclude rules then remove events. The root run's events are
/// filtered like any other; a custom event's type is its name.
///
/// ```
/// let f = runwright::EventFilter::new()
///     .include_types(["chat_model"])
///     .exclude_tags(["internal"]);
/// # let _ = f;
/// ```
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    include_names: Option<Vec<String>>,
    include_types: Option<Vec<String>>,
    include_tags: Option<Vec<String>>,
    exclude_names: Option<Vec<String>>,
    exclude_types: Option<Vec<String>>,
    exclude_tags: Option<Vec<String>>,
}

fn list<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Option<Vec<String>> {
    Some(items.into_iter().map(Into::into).collect())
}

impl EventFilter {
    /// A filter that keeps everything.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps events of runs with these names.
    #[must_use]
    pub fn include_names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.include_names = list(names);
        self
    }

    /// Keeps events of runs of these types (`chain`, `chat_model`, `llm`,
    /// `tool`, `retriever`, `prompt`, `parser`; a custom event's name).
    #[must_use]
    pub fn include_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.include_types = list(types);
        self
    }

    /// Keeps events of runs carrying one of these tags (tags are inherited,
    /// so this keeps whole subtrees).
    #[must_use]
    pub fn include_tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.include_tags = list(tags);
        self
    }

    /// Drops events of runs with these names.
    #[must_use]
    pub fn exclude_names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.exclude_names = list(names);
        self
    }

    /// Drops events of runs of these types.
    #[must_use]
    pub fn exclude_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.exclude_types = list(types);
        self
    }

    /// Drops events of runs carrying one of these tags.
    #[must_use]
    pub fn exclude_tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.exclude_tags = list(tags);
        self
    }

    /// Whether the filter keeps everything.
    pub fn is_empty(&self) -> bool {
        self.include_names.is_none()
            && self.include_types.is_none()
            && self.include_tags.is_none()
            && self.exclude_names.is_none()
            && self.exclude_types.is_none()
            && self.exclude_tags.is_none()
    }

    /// Whether a run with this name, type and tags is kept.
    pub fn includes_run<'a>(
        &self,
        name: &str,
        run_type: &str,
        mut tags: impl FnMut() -> Box<dyn Iterator<Item = std::borrow::Cow<'a, str>> + 'a>,
    ) -> bool {
        let has = |l: &Option<Vec<String>>, v: &str| l.as_ref().is_some_and(|l| l.iter().any(|x| x == v));
        let mut include = self.include_names.is_none() && self.include_types.is_none() && self.include_tags.is_none();
        include = include || has(&self.include_names, name) || has(&self.include_types, run_type);
        if !include {
            if let Some(inc) = &self.include_tags {
                include = tags().any(|t| inc.iter().any(|x| *x == *t));
            }
        }
        if !include {
            return false;
        }
        if has(&self.exclude_names, name) || has(&self.exclude_types, run_type) {
            return false;
        }
        if let Some(exc) = &self.exclude_tags {
            if tags().any(|t| exc.iter().any(|x| *x == *t)) {
                return false;
            }
        }
        true
    }

    pub(crate) fn includes(&self, event: &StreamEvent) -> bool {
        if self.is_empty() {
            return true;
        }
        self.includes_run(event.name(), event.filter_type(), || Box::new(event.tags().iter()))
    }
}
