//! How a retriever's run shows in events: its input as `{"query": ...}` and
//! the `ls_retriever_name` metadata LangChain derives from its name.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::Serialize;

use crate::value::Map;

/// A retriever run's input as events show it: `{"query": "..."}`, as
/// LangChain's retrievers report it. (The root run's start event carries
/// the call's input as given, a plain string, as for every root run.)
///
/// A consumer finds the query with
/// `event.data.input.downcast_ref::<RetrieverQuery>()`.
///
/// ```
/// let q = runwright::retrievers::RetrieverQuery { query: "kensho".into() };
/// assert_eq!(serde_json::to_value(&q).unwrap(), serde_json::json!({"query": "kensho"}));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetrieverQuery {
    /// The query the retriever was asked.
    pub query: String,
}

/// The value of `ls_retriever_name` for a retriever named `name`: the name
/// lower-cased, without a leading or else a trailing `Retriever`
/// (`InMemoryRetriever` gives `inmemory`), as LangChain's
/// `BaseRetriever._get_ls_params` derives it.
pub(crate) fn ls_retriever_name(name: &str) -> String {
    let base = name
        .strip_prefix("Retriever")
        .or_else(|| name.strip_suffix("Retriever"))
        .unwrap_or(name);
    base.to_lowercase()
}

fn metadata_for(name: &str) -> Map {
    let mut m = Map::new();
    m.insert("ls_retriever_name".into(), ls_retriever_name(name).into());
    m
}

/// The metadata of one retriever type's runs, built once.
/// [`impl_retriever_runnable!`](crate::impl_retriever_runnable) gives each
/// type one in a `static`, so a run pays a string comparison, not a merge
/// or a lock. Not a public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct RetrieverMetadata(OnceLock<(Box<str>, Map)>);

impl RetrieverMetadata {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        RetrieverMetadata(OnceLock::new())
    }

    /// The metadata for a retriever named `name`: the one built for the
    /// type's first name, or (for a type whose instances are named
    /// differently) one kept per name.
    pub fn get(&'static self, name: &str) -> &'static Map {
        let (first, meta) = self.0.get_or_init(|| (name.into(), metadata_for(name)));
        if **first == *name {
            return meta;
        }
        static OTHERS: Mutex<Option<HashMap<Box<str>, &'static Map>>> = Mutex::new(None);
        let mut others = OTHERS.lock().unwrap_or_else(PoisonError::into_inner);
        others
            .get_or_insert_with(HashMap::new)
            .entry(name.into())
            .or_insert_with(|| Box::leak(Box::new(metadata_for(name))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_retriever_name_drops_retriever_and_lowercases() {
        assert_eq!(ls_retriever_name("InMemoryRetriever"), "inmemory");
        assert_eq!(ls_retriever_name("RetrieverOfDocs"), "ofdocs");
        assert_eq!(ls_retriever_name("VectorStore"), "vectorstore");
        assert_eq!(ls_retriever_name("Retriever"), "");
    }

    #[test]
    fn metadata_is_kept_per_name() {
        static META: RetrieverMetadata = RetrieverMetadata::new();
        assert_eq!(META.get("FooRetriever")["ls_retriever_name"], "foo");
        assert_eq!(META.get("BarRetriever")["ls_retriever_name"], "bar");
        assert_eq!(META.get("FooRetriever")["ls_retriever_name"], "foo");
    }
}
