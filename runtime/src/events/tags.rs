//! The tags of events: the local tag a parent gives one child run
//! ([`StepTag`]) and the tags an event shows ([`EventTags`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

/// The local tag a parent gives one child: the first tag of the child's
/// events, not inherited by grandchildren.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StepTag {
    /// `seq:step:N`, 1-based.
    Seq(u32),
    /// `map:key:K`.
    Map(Arc<str>),
    /// `retry:attempt:N`.
    Retry(u32),
    /// `graph:step:N`.
    Graph(u32),
}

impl fmt::Display for StepTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepTag::Seq(n) => write!(f, "seq:step:{n}"),
            StepTag::Map(k) => write!(f, "map:key:{k}"),
            StepTag::Retry(n) => write!(f, "retry:attempt:{n}"),
            StepTag::Graph(n) => write!(f, "graph:step:{n}"),
        }
    }
}

/// The tags of one event: the local tag its parent gave the run
/// (`seq:step:2`, `map:key:context`, ...) first, then the inherited ones.
#[derive(Clone)]
pub struct EventTags {
    local: Option<StepTag>,
    inherited: Arc<[Arc<str>]>,
}

impl EventTags {
    /// The tags of a run given `local` by its parent, inheriting `inherited`.
    pub(crate) fn new(local: Option<StepTag>, inherited: Arc<[Arc<str>]>) -> Self {
        EventTags { local, inherited }
    }

    pub(crate) fn empty() -> Self {
        EventTags {
            local: None,
            inherited: Arc::from(Vec::new()),
        }
    }

    /// The tags in order.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, str>> + '_ {
        self.local
            .iter()
            .map(|t| Cow::Owned(t.to_string()))
            .chain(self.inherited.iter().map(|t| Cow::Borrowed(&**t)))
    }

    /// Whether `tag` is among them.
    pub fn contains(&self, tag: &str) -> bool {
        // A step tag always holds a `:`; any other tag is checked without
        // formatting one.
        self.inherited.iter().any(|t| &**t == tag)
            || (tag.contains(':') && self.local.as_ref().is_some_and(|l| l.to_string() == tag))
    }

    /// The tags as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(Cow::into_owned).collect()
    }

    /// How many tags there are.
    pub fn len(&self) -> usize {
        self.inherited.len() + usize::from(self.local.is_some())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for EventTags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for EventTags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        if let Some(l) = &self.local {
            seq.serialize_element(&l.to_string())?;
        }
        for t in self.inherited.iter() {
            seq.serialize_element(&**t)?;
        }
        seq.end()
    }
}
