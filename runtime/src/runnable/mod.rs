//! The [`Runnable`] trait and its combinators.

mod assign;
pub(crate) mod backoff;
mod boxed;
mod chain_fn;
mod event_stream;
mod ext;
mod fallbacks;
mod generator;
mod lambda;
mod log_stream;
pub(crate) mod macro_support;
pub(crate) use macro_support::MapFeeds;
mod owned;
mod parallel;
mod passthrough;
mod retry;
pub(crate) mod run;
pub(crate) mod sequence;
mod side_effect;
mod tee;
mod with_config;

use std::borrow::Cow;
use std::pin::Pin;

use futures::future::BoxFuture;
use futures::{Stream, StreamExt, TryStreamExt};

use crate::config::RunConfig;
use crate::error::Result;
pub use crate::events::RunType;
use crate::value::{Chunk, Data, Map, Payload};

pub use assign::Assign;
pub use boxed::BoxRunnable;
pub use chain_fn::{ChainBody, ChainFn};
pub use event_stream::EventStream;
pub use ext::RunnableExt;
pub use fallbacks::WithFallbacks;
pub use generator::Generator;
pub use lambda::Lambda;
pub use log_stream::{LogOptions, LogStream, RunLogPatch};
pub use parallel::Parallel;
pub use passthrough::{passthrough, Passthrough};
pub use retry::{Retry, RetryPolicy};
pub use run::{RunStream, Source};
pub use sequence::{Feeds, Sequence, Steps};
pub use side_effect::SideEffect;
pub use with_config::WithConfig;

/// A stream of chunks, each a `Result`; the stream ends after an `Err`.
pub type ChunkStream<'a, T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'a>>;

/// A step of an LLM pipeline: a prompt, a model, a parser, a tool, a plain
/// function, or a composition of those.
///
/// Implementors write only the *body*: how the step computes its output
/// ([`invoke_body`](Self::invoke_body)), and optionally how it streams
/// ([`stream_body`](Self::stream_body)) or works on a streamed input
/// ([`transform_body`](Self::transform_body)). Callers use the methods of
/// [`RunnableExt`], which run the body inside the step's own run: a run
/// context, start/stream/end events, errors tagged with the step's name. No
/// body can forget an event, and no config is ever passed by hand.
///
/// ```
/// use std::borrow::Cow;
/// use futures::future::BoxFuture;
/// use runwright::{Runnable, RunnableExt, Result};
///
/// struct Shout;
/// impl Runnable for Shout {
///     type Input = String;
///     type Output = String;
///     fn name(&self) -> Cow<'_, str> { "Shout".into() }
///     fn invoke_body<'a>(&'a self, input: String) -> BoxFuture<'a, Result<String>> {
///         Box::pin(async move { Ok(input.to_uppercase()) })
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(Shout.invoke("hey".into()).await.unwrap(), "HEY");
/// # }
/// ```
pub trait Runnable: Send + Sync {
    /// What the step takes.
    type Input: Data;
    /// What the step gives (and streams, chunk by chunk).
    type Output: Data;

    /// The step's default name, as events show it.
    fn name(&self) -> Cow<'_, str>;

    /// The kind of step.
    fn run_type(&self) -> RunType {
        RunType::Chain
    }

    /// The config bound to this step (by `with_config`, or a model's own
    /// metadata). The caller's and the parent's settings win over it.
    fn config(&self) -> Option<&RunConfig> {
        None
    }

    /// Metadata this step puts on its own run over anything inherited (a
    /// model's `ls_provider`, `ls_model_type`, ... win over a graph's
    /// `ls_integration`, as in LangChain). Unlike [`config`](Self::config)'s
    /// metadata, the parent's values do not override it.
    fn own_metadata(&self) -> Option<&Map> {
        None
    }

    /// The `configurable` keys this step's run shows in its metadata when
    /// they are set and the metadata has none (a graph's `thread_id`, as
    /// LangGraph's runs show it). `model` and `checkpoint_ns` are shown for
    /// every run, as LangChain's.
    fn configurable_in_metadata(&self) -> &'static [&'static str] {
        &[]
    }

    /// How this step's input appears in its events. The default is the input
    /// itself; a chat model shows `{"messages": [[...]]}`, as LangChain does.
    /// Called only when someone listens.
    fn input_payload(&self, input: &Self::Input) -> Payload {
        Payload::new(input.clone())
    }

    /// How this step's final output appears in its end event. The default
    /// is the output itself. Called only when someone listens.
    fn output_payload(&self, output: &Self::Output) -> Payload {
        Payload::new(output.clone())
    }

    /// For a tool: the id of the model's tool call this input answers, if
    /// it is one. The run mechanism puts it in the tool's `on_tool_error`
    /// event (`data.tool_call_id`), which is built after the body has taken
    /// the input. The default is `None`. Asked only of tool runs, and only
    /// when someone listens.
    fn tool_call_id(&self, input: &Self::Input) -> Option<String> {
        let _ = input;
        None
    }

    /// Whether the step reports its streamed chunks itself (as a chat
    /// model's tokens, or a graph's updates) instead of the run mechanism
    /// emitting each output chunk as a stream event.
    fn emits_own_chunks(&self) -> bool {
        matches!(self.run_type(), RunType::ChatModel | RunType::Llm)
    }

    /// Whether streaming this step means: run it whole (its run starts and
    /// ends), then yield its output cut into the pieces
    /// [`split_after_run`](Self::split_after_run) gives, outside the run.
    /// LangChain's `FakeStreamingListLLM` streams this way, and so do the
    /// steps LangChain never streams: prompts, tools and retrievers (their
    /// runs end before their output moves on, with no stream event). Default:
    /// yes for those run types, no for the others.
    fn streams_after_run(&self) -> bool {
        matches!(self.run_type(), RunType::Prompt | RunType::Tool | RunType::Retriever)
    }

    /// The pieces a step that [`streams_after_run`](Self::streams_after_run)
    /// yields for its output. The default yields the output whole.
    fn split_after_run(&self, output: Self::Output) -> Vec<Self::Output> {
        vec![output]
    }

    /// Computes the output for one input.
    fn invoke_body<'a>(&'a self, input: Self::Input) -> BoxFuture<'a, Result<Self::Output>>;

    /// Streams the output for one input. The default yields the whole output
    /// as one chunk.
    fn stream_body<'a>(&'a self, input: Self::Input) -> ChunkStream<'a, Self::Output> {
        Box::pin(futures::stream::once(self.invoke_body(input)))
    }

    /// Whether the step works on a streamed input as it arrives. Such a step
    /// starts when the first input chunk is there (its start event then has
    /// no input), and [`transform_body`](Self::transform_body) is called.
    /// Other steps get their input collected first and then streamed.
    fn transforms_input(&self) -> bool {
        false
    }

    /// Streams the output for a streamed input. The default collects the
    /// input (folding its chunks) and then calls
    /// [`stream_body`](Self::stream_body).
    fn transform_body<'a>(&'a self, input: ChunkStream<'a, Self::Input>) -> ChunkStream<'a, Self::Output> {
        let collected = async move {
            let acc = collect(input).await?;
            Ok::<_, crate::error::Error>(match acc {
                Some(input) => self.stream_body(input),
                None => Box::pin(futures::stream::empty()) as ChunkStream<'a, Self::Output>,
            })
        };
        Box::pin(futures::stream::once(collected).try_flatten())
    }
}

/// Folds a chunk stream into one value (`None` when it was empty).
pub(crate) async fn collect<T: Chunk>(mut input: ChunkStream<'_, T>) -> Result<Option<T>> {
    let mut acc: Option<T> = None;
    while let Some(chunk) = input.next().await {
        let chunk = chunk?;
        match acc.as_mut() {
            Some(a) => a.concat(chunk),
            None => acc = Some(chunk),
        }
    }
    Ok(acc)
}

/// `a | b` for the crate's runnable types: the same as `a.pipe(b)`.
/// A runnable whose output is a [`Map`](crate::Map) (a map, an assign)
/// names `MapFeeds` as the joint's check: its message names the map's type
/// shortly.
macro_rules! impl_pipe_operator {
    ([$($g:tt)*] $t:ty) => {
        $crate::runnable::impl_pipe_operator!([$($g)*] $t, Feeds);
    };
    ([$($g:tt)*] $t:ty, map) => {
        $crate::runnable::impl_pipe_operator!([$($g)*] $t, MapFeeds);
    };
    ([$($g:tt)*] $t:ty, $feeds:ident) => {
        impl<Next, $($g)*> ::std::ops::BitOr<Next> for $t
        where
            $t: $crate::Runnable,
            Next: $crate::Runnable,
            <$t as $crate::Runnable>::Output: $crate::runnable::$feeds<Next::Input>,
        {
            type Output = $crate::runnable::Sequence<($crate::runnable::sequence::First<$t>, Next)>;
            fn bitor(self, next: Next) -> Self::Output {
                $crate::RunnableExt::pipe(self, next)
            }
        }
    };
}
pub(crate) use impl_pipe_operator;
