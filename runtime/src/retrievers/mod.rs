//! Retrievers: steps that find [`Document`]s for a query.

mod memory;
mod run_info;

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::value::{Chunk, Map};

pub use memory::InMemoryRetriever;
#[doc(hidden)]
pub use run_info::RetrieverMetadata;
pub use run_info::RetrieverQuery;

/// A piece of text with metadata, as retrievers return it.
///
/// Its JSON is LangChain's: `{"type": "Document", "page_content", "metadata", "id"?}`.
///
/// ```
/// let d = runwright::Document::new("harrison worked at kensho");
/// assert_eq!(
///     serde_json::to_value(&d).unwrap(),
///     serde_json::json!({"type": "Document", "page_content": "harrison worked at kensho", "metadata": {}})
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "Document")]
#[non_exhaustive]
pub struct Document {
    /// The text.
    pub page_content: String,
    /// Anything about the text (its source, a score, ...).
    #[serde(default)]
    pub metadata: Map,
    /// An optional id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Document {
    /// A document with no metadata.
    pub fn new(page_content: impl Into<String>) -> Self {
        Document {
            page_content: page_content.into(),
            ..Default::default()
        }
    }

    /// Adds a metadata entry.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

impl Chunk for Document {}

/// Finds documents for a query. Implement it, then make the retriever a
/// step with [`impl_retriever_runnable!`](crate::impl_retriever_runnable):
/// it runs as a `retriever` run (`on_retriever_start` / `on_retriever_end`).
///
/// ```
/// use runwright::{Document, Retriever, RunnableExt};
///
/// struct Fixed;
/// impl Retriever for Fixed {
///     fn name(&self) -> &str { "Fixed" }
///     async fn retrieve(&self, _query: String) -> runwright::Result<Vec<Document>> {
///         Ok(vec![Document::new("always this")])
///     }
/// }
/// runwright::impl_retriever_runnable!(Fixed);
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(Fixed.invoke("q".into()).await.unwrap().len(), 1);
/// # }
/// ```
pub trait Retriever: Send + Sync {
    /// The retriever's name, as events show it.
    fn name(&self) -> &str;

    /// The documents relevant to `query`.
    fn retrieve(&self, query: String) -> impl Future<Output = Result<Vec<Document>>> + Send;
}

/// The retriever's query, through the interceptor installed above (a
/// recording), if any. What [`impl_retriever_runnable!`] expands to call.
#[doc(hidden)]
pub async fn __retrieve<R: Retriever + ?Sized>(retriever: &R, query: String) -> Result<Vec<Document>> {
    crate::context::intercept::call_through(
        crate::intercept::CallKind::Retriever,
        crate::intercept::Secrets::NONE,
        query,
        |q| serde_json::json!({ "query": q }),
        move |q| retriever.retrieve(q),
        |v| crate::intercept::replay_json(Retriever::name(retriever), v),
        |chunks| Ok(chunks.into_iter().flatten().collect()),
    )
    .await
}

/// Implements [`Runnable`](crate::Runnable) for a type implementing
/// [`Retriever`]: input a query `String`, output `Vec<Document>`. Its runs
/// show their input as [`RetrieverQuery`] (`{"query": ...}`) and carry the
/// metadata `ls_retriever_name` (the name lower-cased, without `Retriever`),
/// as LangChain's retrievers do.
#[macro_export]
macro_rules! impl_retriever_runnable {
    ($t:ty) => {
        impl $crate::Runnable for $t {
            type Input = ::std::string::String;
            type Output = ::std::vec::Vec<$crate::Document>;

            fn name(&self) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed($crate::Retriever::name(self))
            }

            fn run_type(&self) -> $crate::RunType {
                $crate::RunType::Retriever
            }

            fn own_metadata(&self) -> ::std::option::Option<&$crate::Map> {
                static META: $crate::retrievers::RetrieverMetadata = $crate::retrievers::RetrieverMetadata::new();
                ::std::option::Option::Some(META.get($crate::Retriever::name(self)))
            }

            fn input_payload(&self, input: &::std::string::String) -> $crate::Payload {
                $crate::Payload::new($crate::retrievers::RetrieverQuery { query: input.clone() })
            }

            fn invoke_body<'a>(
                &'a self,
                input: ::std::string::String,
            ) -> $crate::__private::BoxFuture<'a, $crate::Result<::std::vec::Vec<$crate::Document>>> {
                ::std::boxed::Box::pin($crate::retrievers::__retrieve(self, input))
            }
        }
    };
}
