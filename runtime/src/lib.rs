//! runwright: LLM pipelines that stream.
//!
//! Every step of an LLM application (a prompt, a chat model, an output
//! parser, a retriever, a tool, a plain function) is a [`Runnable`]: it can
//! be invoked, batched and streamed, and the whole run tree can be watched
//! live as an event stream whose JSON is LangChain's `astream_events` v2.
//!
//! The run context travels implicitly: a runnable invoked anywhere inside
//! another one (in a lambda, a tool, a spawned task) nests under it, and its
//! events reach the same listeners, without any config passed by hand.
//!
//! ```
//! use futures::TryStreamExt;
//! use runwright::{Lambda, RunnableExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
//! fn shout(s: String) -> runwright::Result<String> { Ok(s.to_uppercase()) }
//! let chain = Lambda::from_fn(shout) | Lambda::from_fn(|s: String| Ok(format!("{s}!")));
//! assert_eq!(chain.invoke("hey".into()).await?, "HEY!");
//!
//! let events: Vec<_> = chain.stream_events("hey".into()).try_collect().await?;
//! let names: Vec<_> = events.iter().map(|e| e.event()).collect();
//! assert_eq!(names[0], "on_chain_start");
//! assert_eq!(*names.last().unwrap(), "on_chain_end");
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod context;
pub mod error;
pub mod events;
pub mod messages;
pub mod models;
pub mod parsers;
pub mod prompts;
pub mod retrievers;
pub mod runnable;
pub mod value;

pub use config::RunConfig;
pub use context::{spawn, spawn_blocking, stream_writer, InCurrentRun, RunContext, RunTask, StreamWriter};
pub use error::{Error, ErrorKind, Result};
pub use events::{
    dispatch_custom_event, EventData, EventFilter, EventPhase, EventStream, EventTags, LogOptions, LogStream,
    RunLogPatch, StreamEvent,
};
pub use runnable::{
    Assign, BoxRunnable, ChunkStream, Generator, Lambda, Parallel, Passthrough, Retry, RetryPolicy, RunStream,
    RunType, Runnable, RunnableExt, Sequence, Steps, WithConfig, WithFallbacks,
};
pub use messages::{
    AIMessage, AIMessageChunk, ChunkPosition, Content, HumanMessage, InvalidToolCall, Message, SystemMessage, ToolCall,
    ToolCallChunk, ToolMessage, ToolStatus, UsageMetadata,
};
pub use prompts::{ChatPromptTemplate, MessageTemplate, MessagesPlaceholder, PromptTemplate, PromptValue};
pub use models::{
    ChatModel, FakeListChatModel, FakeListLLM, FakeStreamingListLLM, FakeToolCallingChatModel, GenericFakeChatModel,
    LanguageModelInput,
};
pub use parsers::{ModelOutput, StrOutputParser};
pub use retrievers::{Document, InMemoryRetriever, Retriever};
pub use value::{Chunk, Map, Payload, Value};

/// Paths used by runwright's macros. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use futures::future::BoxFuture;
}
