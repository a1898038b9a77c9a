//! [`InMemoryRetriever`]: keyword lookup over documents held in memory.

use super::{Document, Retriever};
use crate::error::Result;

/// Returns, in stored order, every document that shares a word with the
/// query (words compared lower-cased, with `?.,!` stripped). For tests and
/// examples.
///
/// ```
/// use runwright::{Document, InMemoryRetriever, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let r = InMemoryRetriever::new([
///     Document::new("harrison worked at kensho"),
///     Document::new("bears like honey"),
/// ]);
/// let found = r.invoke("where did harrison work?".into()).await.unwrap();
/// assert_eq!(found, [Document::new("harrison worked at kensho")]);
/// # }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct InMemoryRetriever {
    docs: Vec<Document>,
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c| matches!(c, '?' | '.' | ',' | '!')).to_lowercase())
        .filter(|w| !w.is_empty())
}

impl InMemoryRetriever {
    /// A retriever over `docs`.
    pub fn new(docs: impl IntoIterator<Item = Document>) -> Self {
        InMemoryRetriever {
            docs: docs.into_iter().collect(),
        }
    }
}

impl Retriever for InMemoryRetriever {
    fn name(&self) -> &str {
        "InMemoryRetriever"
    }

    async fn retrieve(&self, query: String) -> Result<Vec<Document>> {
        let wanted: std::collections::HashSet<String> = words(&query).collect();
        Ok(self
            .docs
            .iter()
            .filter(|d| words(&d.page_content).any(|w| wanted.contains(&w)))
            .cloned()
            .collect())
    }
}

crate::impl_retriever_runnable!(InMemoryRetriever);
crate::runnable::impl_pipe_operator!([] InMemoryRetriever);
