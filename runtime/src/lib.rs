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
//!
//! # Streams that outlive their scope
//!
//! [`stream`](RunnableExt::stream), [`stream_events`](RunnableExt::stream_events)
//! and [`stream_log`](RunnableExt::stream_log) borrow the runnable. A web
//! handler that returns a stream, or a task spawned to forward one, needs a
//! `'static` stream instead: [`stream_owned`](RunnableExt::stream_owned),
//! [`stream_events_owned`](RunnableExt::stream_events_owned) and
//! [`stream_log_owned`](RunnableExt::stream_log_owned) take the runnable in
//! an `Arc` (a [`BoxRunnable`] has them too) and return `Send + 'static`
//! streams that hold it. They are the borrowed streams in all else: the run
//! nests under the run current where the stream is made, and dropping the
//! stream (a client that hangs up) cancels the work beneath.
//!
//! ```
//! use std::sync::Arc;
//! use futures::{Stream, StreamExt};
//! use runwright::{Lambda, RunnableExt, StreamEvent};
//!
//! // A handler: build the chain, return only its events.
//! fn handle(question: String) -> impl Stream<Item = runwright::Result<StreamEvent>> + Send + 'static {
//!     let chain = Lambda::from_fn(|s: String| Ok(s.to_uppercase())) | Lambda::from_fn(|s: String| Ok(format!("{s}!")));
//!     Arc::new(chain).stream_events_owned(question)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let mut events = handle("hey".into());
//! let served = tokio::spawn(async move {
//!     let mut count = 0;
//!     while let Some(event) = events.next().await {
//!         event.unwrap(); // send it to the client here
//!         count += 1;
//!     }
//!     count
//! });
//! assert!(served.await.unwrap() > 0);
//! # }
//! ```
//!
//! # Sync code that calls runnables
//!
//! A sync body (a [`Lambda::from_fn`], a sync [`tool`] or [`chain_fn`], or
//! any function they call) runs another step with
//! [`invoke_blocking`](RunnableExt::invoke_blocking), or streams it with
//! [`stream_blocking`](RunnableExt::stream_blocking) (an iterator of
//! chunks); [`block_on`] waits the same way for any other future (a
//! `batch`, an `invoke_with`). This is the one way to do it: it works at any
//! depth, on multi-thread and current-thread tokio runtimes, under a
//! `stream_events` however slowly its events are read, and outside any
//! runtime, and the runs it starts nest under the calling run as awaited
//! ones do. `futures::executor::block_on` panics when nested, and tokio's
//! `Handle::block_on` panics on a runtime's thread.
//!
//! ```
//! use runwright::{Lambda, RunnableExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
//! let reverse = Lambda::from_fn(|s: String| Ok(s.chars().rev().collect::<String>())).named("reverse");
//! let shout = Lambda::from_fn(move |s: String| {
//!     let mut out = String::new();
//!     for chunk in reverse.stream_blocking(s) {
//!         out.push_str(&chunk?.to_uppercase());
//!     }
//!     Ok(out)
//! })
//! .named("shout");
//! let twice = Lambda::from_fn(move |s: String| Ok(shout.invoke_blocking(s)?.repeat(2)));
//! assert_eq!(twice.invoke("abc".into()).await?, "CBACBA");
//! # Ok(()) }
//! ```
//!
//! How a call waits:
//!
//! - On a **multi-thread** runtime, the thread hands its worker's other
//!   tasks to another thread (`tokio::task::block_in_place`) and drives the
//!   work itself with the runtime's handle: timers, I/O and spawned tasks
//!   stay on your runtime. Nested calls do the same on the same thread.
//! - On a **current-thread** runtime, the runtime's one thread is the one
//!   waiting, so nothing of that runtime can run. The work is polled on that
//!   thread by a small loop that parks it between wake-ups, inside a helper
//!   runtime (one worker thread, `runwright-blocking`, started on first use):
//!   its worker drives the timers and I/O the work registers and runs the
//!   tasks it spawns. Outside any runtime, calls wait the same way.
//!
//! Limits:
//!
//! - A call holds its thread until the work is done. A body that calls
//!   nothing pays nothing for this (no thread hop, no allocation), but a
//!   body that waits long belongs in [`Lambda::blocking`], which runs it on
//!   tokio's blocking pool (where it may use these calls too).
//! - On a current-thread runtime, the work must not wait for that runtime:
//!   for a task spawned on it before the call, a channel such a task feeds,
//!   or I/O bound to it (a connection pooled by an HTTP client that was used
//!   on it). Those wait until the body returns, a deadlock if the work waits
//!   for them. What the work starts itself (timers, tasks, connections)
//!   runs on the helper runtime. A thread of a current-thread runtime that
//!   entered a multi-thread runtime's handle is refused by tokio (its
//!   `block_in_place` panics there).
//! - Events: the reader of a `stream_events` drives the run, so it cannot
//!   read while a body waits beneath it. Events of the work beneath a
//!   waiting call are therefore queued without the usual bound (256) until
//!   the call returns; a long stream read with `stream_blocking` keeps its
//!   events in memory. Read it from async code to keep memory bounded.
//! - Cancellation: dropping the event stream, or the task that drives the
//!   run, takes effect when the waiting body returns, since the thread that
//!   would drop it is the waiting one. When the event stream is dropped from
//!   elsewhere (the body runs in a spawned task), the waiting call ends at
//!   once with [`ErrorKind::Cancelled`] and drops the work beneath it.
//!
//! # Tracing and OpenTelemetry
//!
//! With the cargo feature **`tracing`** (off by default), every run is a
//! [`tracing`](https://docs.rs/tracing) span: target `runwright`, level
//! INFO, span name `run`, with `otel.name` set to the run's name. Its parent
//! is the parent run's span (a root run's, the span current where it
//! starts), so any subscriber sees the run tree, runs nested in lambdas,
//! tools and [`spawn`]ed tasks included, for a plain `invoke` as for a
//! `stream_events`. The span is entered while the run's body is polled, so
//! what the body logs or traces nests under its run. Fields:
//!
//! - every run: `runwright.run.type` (`chain`, `chat_model`, `tool`, ...) and
//!   `runwright.run.id` (the id its events carry);
//! - chat and text-completion models, with OpenTelemetry's GenAI semantic
//!   conventions: `gen_ai.operation.name` (`chat`, `text_completion`),
//!   `gen_ai.request.model` and `gen_ai.provider.name` / `gen_ai.system` (the
//!   model's `ls_model_name` and `ls_provider` metadata),
//!   `gen_ai.response.model`, `gen_ai.response.id`,
//!   `gen_ai.response.finish_reasons` (the one reason, as a string),
//!   `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`;
//! - tools: `gen_ai.operation.name = "execute_tool"`, `gen_ai.tool.name`,
//!   `gen_ai.tool.call.id` (when the input is a model's tool call);
//! - a failed run: `error.type`, `otel.status_code = "ERROR"`,
//!   `otel.status_description`, and an `exception` event with
//!   `exception.type` and `exception.message`.
//!
//! `RunContext::tracing_span` gives a run's span to record more. To export
//! to OpenTelemetry, install `tracing-opentelemetry`'s layer; the
//! repository's `examples/otel_export.rs` sends the spans over OTLP.
//!
//! Cost: without the feature, nothing is compiled in. With it and no
//! subscriber interested in `runwright` at INFO, starting a run checks the
//! span's callsite (a cached atomic load) and the run holds no span; names
//! and ids are built only for runs that are traced or listened to.
//!
//! # Types that will grow
//!
//! The structs that mirror LangChain's types ([`AIMessage`],
//! [`AIMessageChunk`], [`HumanMessage`], [`SystemMessage`], [`ToolMessage`],
//! [`ToolCall`], [`ToolCallChunk`], [`InvalidToolCall`], [`UsageMetadata`],
//! [`Document`]) are `#[non_exhaustive]`: LangChain adds fields to them, and
//! so will runwright without a breaking release. Their fields stay public to
//! read and to set, but outside this crate they are built with their
//! constructors and `with_*` methods, not with struct literals:
//!
//! ```
//! use runwright::{AIMessage, ToolCall, UsageMetadata};
//! let m = AIMessage::new("")
//!     .with_id("run-1")
//!     .with_tool_calls(vec![ToolCall::new("search", serde_json::json!({"q": "rust"})).with_id("call_1")])
//!     .with_usage(UsageMetadata::new(12, 3));
//! assert_eq!(m.usage_metadata.unwrap().total_tokens, 15);
//! ```
//!
//! Enums that will gain variants ([`ErrorKind`], [`Message`],
//! [`PromptValue`], [`ChunkPosition`], [`ToolStatus`], [`RunType`],
//! [`EventPhase`], [`StreamMode`](graph::StreamMode), ...) are
//! `#[non_exhaustive]` too: a `match` on them needs a `_` arm.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod config;
pub mod context;
pub mod error;
pub mod events;
pub mod graph;
pub mod intercept;
pub mod messages;
pub mod models;
pub mod parsers;
pub mod prompts;
pub mod python;
pub mod retrievers;
pub mod runnable;
pub mod tools;
pub mod value;

pub use config::RunConfig;
pub use context::dispatch_custom_event;
pub use context::{
    block_on, spawn, spawn_blocking, stream_writer, BlockingStream, InCurrentRun, RunContext, RunTask, StreamWriter,
};
pub use error::{Error, ErrorKind, Result};
pub use events::{EventData, EventFilter, EventPhase, EventTags, StreamEvent};
pub use messages::{
    AIMessage, AIMessageChunk, ChunkPosition, Content, HumanMessage, InvalidToolCall, Message, SystemMessage, ToolCall,
    ToolCallChunk, ToolMessage, ToolStatus, UsageMetadata,
};
#[cfg(feature = "anthropic")]
#[cfg_attr(docsrs, doc(cfg(feature = "anthropic")))]
pub use models::ChatAnthropic;
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub use models::ChatOpenAI;
pub use models::{
    ChatModel, FakeListChatModel, FakeListLLM, FakeStreamingListLLM, FakeToolCallingChatModel, GenericFakeChatModel,
    LanguageModelInput,
};
pub use parsers::{JsonOutputParser, ModelOutput, StrOutputParser};
pub use prompts::{ChatPromptTemplate, MessageTemplate, MessagesPlaceholder, PromptTemplate, PromptValue};
pub use retrievers::{Document, InMemoryRetriever, Retriever};
pub use runnable::{
    passthrough, Assign, BoxRunnable, ChainFn, ChunkStream, EventStream, Feeds, Generator, Lambda, LogOptions,
    LogStream, Parallel, Passthrough, Retry, RetryPolicy, RunLogPatch, RunStream, RunType, Runnable, RunnableExt,
    Sequence, SideEffect, Steps, WithConfig, WithFallbacks,
};
pub use value::{Chunk, Data, Map, Payload};

/// Makes a function a tool: a [`tools::Tool`] constant named after it, with
/// the doc comment as description and a JSON schema of the arguments.
///
/// ```
/// use runwright::{tool, RunnableExt};
///
/// /// Current weather of a city.
/// ///
/// /// * `city` - the city
/// #[tool]
/// async fn get_weather(city: String) -> runwright::Result<String> {
///     Ok(format!("sunny in {city}"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// assert_eq!(get_weather.spec().parameters()["required"][0], "city");
/// let out = get_weather.invoke("Paris".into()).await?;
/// assert_eq!(out.into_value().as_deref(), Some("sunny in Paris"));
/// # Ok(()) }
/// ```
///
/// Syntax: `#[tool]`, `#[tool(name = "...", description = "...",
/// handle_errors)]` (`handle_errors = path::to::fn` for a
/// [`ToolErrorHandler`](tools::ToolErrorHandler)). The function may be sync
/// or async, returns `T` or `Result<T, E>` (`E: std::error::Error`), and may
/// take, besides its arguments, the run context (`&RunContext` or
/// `Arc<RunContext>`), the [`StreamWriter`] and the
/// [`ToolCallId`](tools::ToolCallId); those are not part of the schema.
/// A doc comment (or a `description`) is required: the model chooses tools
/// by their descriptions. See the [`tools`] module.
pub use runwright_macros::tool;

/// Makes a struct or an enum a type a [`tool`]'s argument (or a field of
/// one) can have: derives serde's `Deserialize` and schemars' `JsonSchema`
/// for it, through runwright, so a crate that depends on `runwright` alone
/// can use it. Doc comments become the schema's descriptions, and
/// `#[serde(...)]` and `#[schemars(...)]` attributes on the item and its
/// fields work as with the derives themselves (`rename_all`, `default`,
/// ...).
///
/// It is an attribute, not a derive, because a derive cannot add other
/// derives; it adds `#[derive(Deserialize, JsonSchema)]` with both derives
/// pointed at the copies of serde and schemars runwright depends on, and
/// leaves the item as written. Derive `Serialize`, `Debug`, ... as usual
/// next to it, but not `Deserialize` or `JsonSchema` (a compile error says
/// so). The two traits are also what `with_structured_output` asks of a
/// model's structured answer, so it serves there too.
///
/// Errors inside such an argument name the field's path, and a numeric
/// string where a field is a number reads as that number (see
/// [`ToolArgs`](tools::ToolArgs)):
///
/// ```
/// use runwright::{tool, tool_arg, RunnableExt};
/// use serde_json::json;
///
/// /// Where to send a parcel.
/// #[tool_arg]
/// struct Address {
///     /// Street and number.
///     street: String,
///     /// Postal code, as written locally.
///     zip: String,
/// }
///
/// /// Ships a parcel.
/// ///
/// /// * `to` - the address
/// /// * `kg` - the parcel's weight
/// #[tool]
/// fn ship(to: Address, kg: f64) -> String {
///     format!("{kg} kg to {}, {}", to.street, to.zip)
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let schema = ship.spec().parameters();
/// assert_eq!(schema["properties"]["to"]["properties"]["zip"]["description"], "Postal code, as written locally.");
///
/// let out = ship.invoke(json!({"to": {"street": "1 Main St", "zip": "75001"}, "kg": "2.5"}).into()).await?;
/// assert_eq!(out.into_value().as_deref(), Some("2.5 kg to 1 Main St, 75001"));
///
/// let err = ship.invoke(json!({"to": {"street": "1 Main St", "zip": 75001}, "kg": 2}).into()).await.unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "step `ship`: invalid arguments: argument `to.zip` (expected string): \
///      invalid type: integer `75001`, expected a string"
/// );
/// # Ok(()) }
/// ```
pub use runwright_macros::tool_arg;

/// Makes an `async fn` (or a sync one) taking one input a step named after
/// it: a [`ChainFn`] constant (LangChain's `@chain`). Runnables it invokes
/// nest under its run.
///
/// It is `chain_fn`, not `chain`, because `chain!` (the pipeline macro)
/// already has that name, and Rust gives an attribute and a function-like
/// macro one namespace.
///
/// ```
/// use runwright::{chain_fn, RunnableExt};
///
/// #[chain_fn]
/// async fn shout(text: String) -> runwright::Result<String> {
///     Ok(text.to_uppercase())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(shout.invoke("hey".into()).await.unwrap(), "HEY");
/// # }
/// ```
pub use runwright_macros::chain_fn;

/// Builds a pipeline: `chain!(a | b | c)` is `a | b | c` as one
/// [`Sequence`], with more kinds of steps and better type errors.
///
/// A step is an expression giving a runnable, the name of a function
/// `fn(I) -> Result<O>` (sync or async), a closure (its body ends at the
/// next `|`; `async` bodies make async steps), or a map literal
/// `{ "key": step, ... }` (a [`Parallel`] whose branches all take the same
/// input). Each step's output must convert into the next step's input
/// ([`Feeds`]); a mismatch is a compile error at those two steps, whatever
/// their form. A closure whose parameter has no type (`|s| ...`) takes the
/// previous step's output as is; one with a type (`|n: usize| ...`) takes
/// that type, which the previous output must convert into, as for any step.
///
/// ```
/// use runwright::{chain, passthrough, Lambda, RunnableExt};
///
/// fn shout(s: String) -> runwright::Result<String> { Ok(s.to_uppercase()) }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let exclaim = Lambda::from_fn(|s: String| Ok(format!("{s}!")));
/// let pipeline = chain!(shout | exclaim | |s| Ok(s.len()) | { "n": passthrough(), "double": |n: usize| Ok(n * 2) });
/// let out = pipeline.invoke("hey".into()).await?;
/// assert_eq!(out["n"], 4);
/// assert_eq!(out["double"], 8);
/// # Ok(()) }
/// ```
pub use runwright_macros::chain;

/// A [`Map`] (a JSON object, what a prompt takes) from a literal, in
/// `serde_json::json!`'s syntax without the outer braces: keys are strings,
/// values are literals, nested `{...}`/`[...]` or any `Serialize`
/// expression.
///
/// ```
/// use runwright::{map, ChatPromptTemplate, GenericFakeChatModel, RunnableExt, StrOutputParser};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let prompt = ChatPromptTemplate::from_messages([("human", "Tell me a joke about {topic}")])?;
/// let chain = prompt | GenericFakeChatModel::new(["Why did the crab..."]) | StrOutputParser;
/// assert_eq!(chain.invoke(map! { "topic": "crabs" }).await?, "Why did the crab...");
///
/// let n = 3;
/// let vars = map! { "topic": "x", "count": n + 1, "tags": ["a", "b"] };
/// assert_eq!(vars["count"], 4);
/// # Ok(()) }
/// ```
///
/// A JSON value known only at run time (a request's body) goes in with
/// [`RunnableExt::invoke_json`], which says which step refused it and why.
#[macro_export]
macro_rules! map {
    () => {
        $crate::Map::new()
    };
    ($($entries:tt)+) => {
        $crate::__private::json_object($crate::__private::json!({ $($entries)+ }))
    };
}

/// Paths used by runwright's macros. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::runnable::macro_support::*;
    pub use crate::runnable::{ChainBody, ChainFn, Parallel};
    pub use crate::tools::{Tool, ToolArgs, ToolFn, ToolSpec};
    // `#[tool_arg]`'s derives, and the `crate = "..."` paths they are given.
    pub use futures::future::BoxFuture;
    pub use serde_json::json;
    /// JSON, for `#[tool]`'s `replay_output`. An alias, not a re-export:
    /// rustc would print `serde_json::Value` by a re-export's path.
    pub type Json = serde_json::Value;
    pub use schemars;
    pub use serde;
    pub use std::sync::{Arc, OnceLock};

    /// The object `map!`'s `json!({...})` makes. A braced `json!` literal
    /// is always an object; anything else would be a bug in `map!`.
    pub fn json_object(value: serde_json::Value) -> crate::Map {
        match value {
            serde_json::Value::Object(m) => m,
            other => unreachable!("`json!({{...}})` gave a non-object: {other}"),
        }
    }

    /// Asserts at a tool argument's type that it can be one.
    pub fn assert_tool_arg<T: crate::tools::ToolArg>() {}

    /// Asserts at a function's return type that it is a usable output.
    pub fn assert_tool_output<T: Clone + serde::Serialize + Send + Sync + 'static>() {}

    /// Asserts at a function's return type that it is a usable output.
    pub fn assert_chain_output<T: crate::Data>() {}

    /// Asserts at a function's input type that it is a usable input.
    pub fn assert_chain_input<T: crate::Data>() {}

    /// A tool's value type, probed for `Deserialize` by `#[tool]`: a call
    /// `(&ReplayProbe::<T>::new()).replay(v)` with both traits in scope
    /// finds [`ReplayViaSerde`] when `T` implements it, else
    /// [`ReplayFallback`] (the impl with an unmet bound is passed over).
    pub struct ReplayProbe<T>(std::marker::PhantomData<T>);

    impl<T> std::fmt::Debug for ReplayProbe<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("ReplayProbe")
        }
    }

    impl<T> ReplayProbe<T> {
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            ReplayProbe(std::marker::PhantomData)
        }
    }

    /// A value type that can be made again from JSON.
    pub trait ReplayViaSerde<T> {
        fn replay(&self, recorded: serde_json::Value) -> Option<crate::Result<T>>;
    }

    impl<T: serde::de::DeserializeOwned> ReplayViaSerde<T> for ReplayProbe<T> {
        fn replay(&self, recorded: serde_json::Value) -> Option<crate::Result<T>> {
            Some(crate::intercept::replay_json("tool", recorded))
        }
    }

    /// Any other value type: it cannot.
    pub trait ReplayFallback<T> {
        fn replay(&self, recorded: serde_json::Value) -> Option<crate::Result<T>>;
    }

    impl<T> ReplayFallback<T> for &ReplayProbe<T> {
        fn replay(&self, _recorded: serde_json::Value) -> Option<crate::Result<T>> {
            None
        }
    }
}
