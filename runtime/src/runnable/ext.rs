//! [`RunnableExt`]: what users call on any runnable.

use std::future::Future;
use std::sync::Arc;

use futures::{Stream, StreamExt, TryStreamExt};

use super::run::{self, RunStream, Source};
use super::sequence::{First, Sequence};
use super::{owned, EventStream, LogOptions, LogStream, RunLogPatch};
use super::{BoxRunnable, Retry, RetryPolicy, Runnable, SideEffect, WithConfig, WithFallbacks};
use crate::config::RunConfig;
use crate::context::{block_on, BlockingStream, CallOpts};
use crate::error::{Error, ErrorKind, Result};
use crate::events::{EventFilter, StreamEvent};

/// The calls every [`Runnable`] gets: invoke, batch, stream, transform,
/// stream_events, stream_log, and the builders (`pipe`, `with_config`,
/// `boxed`, `with_fallbacks`, `with_retry`).
///
/// Each call runs the step as a run of its own, nested under whatever run is
/// current on the calling task.
pub trait RunnableExt: Runnable {
    /// Runs the step on one input.
    ///
    /// ```
    /// use runwright::{GenericFakeChatModel, Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let add_one = Lambda::from_fn(|n: i64| Ok(n + 1));
    /// assert_eq!(add_one.invoke(41).await?, 42);
    ///
    /// // A chat model takes a string (or messages, or a prompt value).
    /// let model = GenericFakeChatModel::new(["hello there"]);
    /// assert_eq!(model.invoke("hi".into()).await?.text(), "hello there");
    /// # Ok(()) }
    /// ```
    fn invoke(&self, input: Self::Input) -> impl Future<Output = Result<Self::Output>> + Send + '_ {
        run::invoke(self, input, CallOpts::implicit())
    }

    /// Runs the step on a JSON input: `input` is first converted into the
    /// step's input type (as `serde_json::from_value` does), so a prompt
    /// chain, which takes a [`Map`](crate::Map), accepts a `json!({...})`
    /// object or a request's body. An input that does not convert (a string
    /// where an object is taken, a missing field) fails with
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), naming the
    /// step and the type it takes, before the step's run starts.
    ///
    /// For a literal, [`map!`](crate::map) makes the `Map` itself, with no
    /// conversion to fail.
    ///
    /// ```
    /// use runwright::{ChatPromptTemplate, ErrorKind, GenericFakeChatModel, RunnableExt, StrOutputParser};
    /// use serde_json::json;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let prompt = ChatPromptTemplate::from_template("Tell me a joke about {topic}")?;
    /// let chain = prompt | GenericFakeChatModel::new(["Why did the crab..."]) | StrOutputParser;
    /// assert_eq!(chain.invoke_json(json!({"topic": "crabs"})).await?, "Why did the crab...");
    ///
    /// let err = chain.invoke_json(json!("crabs")).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// assert_eq!(
    ///     err.message(),
    ///     "step `RunnableSequence` takes `Map<String, Value>`, and this JSON input does not convert into it: \
    ///      invalid type: string \"crabs\", expected a map"
    /// );
    /// # Ok(()) }
    /// ```
    fn invoke_json(&self, input: serde_json::Value) -> impl Future<Output = Result<Self::Output>> + Send + '_
    where
        Self::Input: serde::de::DeserializeOwned,
    {
        let input = serde_json::from_value::<Self::Input>(input).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "step `{}` takes `{}`, and this JSON input does not convert into it: {e}",
                    self.name(),
                    short_type_name::<Self::Input>()
                ),
            )
        });
        async move { run::invoke(self, input?, CallOpts::implicit()).await }
    }

    /// Runs the step on one input with a call-time config.
    /// The config's name, tags and metadata apply to this run and are
    /// inherited by the runs beneath it.
    ///
    /// ```
    /// use runwright::{Lambda, RunConfig, RunContext, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let greet = Lambda::from_fn(|name: String| {
    ///     let run = RunContext::current().expect("a body runs inside its run");
    ///     Ok(format!("{} {name}", run.metadata()["greeting"].as_str().unwrap_or("hello")))
    /// });
    /// let config = RunConfig::new().metadata("greeting", "bonjour");
    /// assert_eq!(greet.invoke_with("Ada".into(), config).await?, "bonjour Ada");
    /// # Ok(()) }
    /// ```
    fn invoke_with(
        &self,
        input: Self::Input,
        config: RunConfig,
    ) -> impl Future<Output = Result<Self::Output>> + Send + '_ {
        run::invoke(self, input, CallOpts::config(config))
    }

    /// Runs the step on one input from sync code, waiting for the output:
    /// how a sync body (a [`Lambda::from_fn`](crate::Lambda::from_fn), a
    /// sync `#[tool]` or `#[chain_fn]`, or any function they call) runs
    /// another step. The run nests under the calling run, as an awaited
    /// `invoke` would, and its events reach the same listeners.
    ///
    /// It works at any depth (a sync body calling a step whose sync body
    /// calls another), on multi-thread and current-thread tokio runtimes,
    /// under a `stream_events` however slow its reader, and outside any
    /// runtime. It blocks the calling thread: in async code, use
    /// [`invoke`](Self::invoke)`.await`. A body that calls nothing pays
    /// nothing for it. How it waits on each runtime, and its limits: [the
    /// crate docs](crate#sync-code-that-calls-runnables), and
    /// [`block_on`](crate::block_on), which it is made of.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use runwright::{Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let reverse = Lambda::from_fn(|s: String| Ok(s.chars().rev().collect::<String>())).named("reverse");
    /// let twice = Lambda::from_fn(move |s: String| Ok(reverse.invoke_blocking(s)?.repeat(2))).named("twice");
    /// assert_eq!(twice.invoke("ab".into()).await.unwrap(), "baba");
    ///
    /// // The inner run nests under the outer one.
    /// let events: Vec<_> = twice.stream_events("ab".into()).try_collect().await.unwrap();
    /// let reverse_start = events.iter().find(|e| e.name() == "reverse").unwrap();
    /// assert_eq!(reverse_start.parent_ids(), [events[0].run_id()]);
    /// # }
    /// ```
    fn invoke_blocking(&self, input: Self::Input) -> Result<Self::Output> {
        block_on(self.invoke(input)).and_then(|out| out)
    }

    /// Streams the step's output from sync code: an iterator whose `next`
    /// waits for the next chunk. The sync counterpart of
    /// [`stream`](Self::stream), as [`invoke_blocking`](Self::invoke_blocking)
    /// is of `invoke`: the run nests under the calling run, and works
    /// wherever `invoke_blocking` does. The step runs only as far as the
    /// chunks read; dropping the iterator cancels the rest.
    ///
    /// ```
    /// use runwright::{GenericFakeChatModel, Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let model = GenericFakeChatModel::new(["hello there"]);
    /// let step = Lambda::from_fn(move |question: String| {
    ///     let mut tokens = Vec::new();
    ///     for chunk in model.stream_blocking(question.into()) {
    ///         tokens.push(chunk?.text().into_owned());
    ///     }
    ///     Ok(tokens)
    /// });
    /// assert_eq!(step.invoke("hi".into()).await.unwrap(), ["hello", " ", "there"]);
    /// # }
    /// ```
    fn stream_blocking(&self, input: Self::Input) -> BlockingStream<RunStream<'_, Self>> {
        BlockingStream::new(self.stream(input))
    }

    /// Runs the step on many inputs, at most `config.max_concurrency` at a
    /// time (all at once when unset); results come in input order, each
    /// input a root run of its own.
    ///
    /// ```
    /// use runwright::{Lambda, RunConfig, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let half = Lambda::from_fn(|n: i64| {
    ///     if n % 2 == 0 { Ok(n / 2) } else { Err(runwright::Error::msg(format!("{n} is odd"))) }
    /// });
    /// let results = half.batch(vec![4, 7, 10], RunConfig::new().max_concurrency(2)).await;
    /// // One result per input, in input order; a failure fails only its own input.
    /// assert_eq!(results[0].as_ref().unwrap(), &2);
    /// assert_eq!(results[1].as_ref().unwrap_err().message(), "7 is odd");
    /// assert_eq!(results[2].as_ref().unwrap(), &5);
    /// # }
    /// ```
    fn batch(
        &self,
        inputs: Vec<Self::Input>,
        config: RunConfig,
    ) -> impl Future<Output = Vec<Result<Self::Output>>> + Send + '_ {
        let limit = config.max_concurrency.unwrap_or(usize::MAX).max(1);
        futures::stream::iter(inputs)
            .map(move |input| run::invoke(self, input, CallOpts::config(config.clone())))
            .buffered(limit)
            .collect()
    }

    /// Streams the step's output for one input, chunk by chunk.
    /// Nothing runs until the stream is polled; dropping it cancels the run.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use runwright::{GenericFakeChatModel, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let model = GenericFakeChatModel::new(["hello there"]);
    /// let chunks: Vec<_> = model.stream("hi".into()).try_collect().await?;
    /// let tokens: Vec<_> = chunks.iter().map(|c| c.text().into_owned()).collect();
    /// assert_eq!(tokens, ["hello", " ", "there"]);
    /// # Ok(()) }
    /// ```
    fn stream(&self, input: Self::Input) -> RunStream<'_, Self> {
        RunStream::new(self, Source::Value(input), CallOpts::implicit())
    }

    /// [`stream`](Self::stream) with a call-time config.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use runwright::{Lambda, RunConfig, RunContext, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let whoami = Lambda::from_fn(|_: String| Ok(RunContext::current().unwrap().name().to_owned()));
    /// let out: Vec<String> = whoami.stream_with("".into(), RunConfig::new().run_name("me")).try_collect().await?;
    /// assert_eq!(out, ["me"]);
    /// # Ok(()) }
    /// ```
    fn stream_with(&self, input: Self::Input, config: RunConfig) -> RunStream<'_, Self> {
        RunStream::new(self, Source::Value(input), CallOpts::config(config))
    }

    /// Streams the step's output for a streamed input.
    /// A step that can work on pieces (a parser, a model, a
    /// [`Generator`](crate::runnable::Generator)) starts before the input
    /// ends; any other step first adds the pieces up into one input.
    ///
    /// ```
    /// use futures::{stream, TryStreamExt};
    /// use runwright::{Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase()));
    /// // Strings add up by concatenation: the lambda sees "hello".
    /// let pieces = stream::iter(["hel", "lo"].map(|s| Ok(s.to_owned())));
    /// let out: Vec<String> = shout.transform(pieces).try_collect().await?;
    /// assert_eq!(out, ["HELLO"]);
    /// # Ok(()) }
    /// ```
    fn transform<'a, S>(&'a self, input: S) -> RunStream<'a, Self>
    where
        S: Stream<Item = Result<Self::Input>> + Send + 'a,
    {
        RunStream::new(
            self,
            Source::Stream(Box::pin(input.into_stream())),
            CallOpts::implicit(),
        )
    }

    /// Streams the events of the whole run tree (LangChain's
    /// `astream_events` v2): each run's start, its streamed chunks and its
    /// end, in order, for the root and every run beneath it.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use runwright::{GenericFakeChatModel, Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let chain = Lambda::from_fn(|q: String| Ok(format!("Q: {q}"))).named("prompt")
    ///     | GenericFakeChatModel::new(["hi there"]);
    /// let events: Vec<_> = chain.stream_events("hello".into()).try_collect().await?;
    /// let tokens: Vec<String> = events
    ///     .iter()
    ///     .filter(|e| e.event() == "on_chat_model_stream")
    ///     .map(|e| e.to_json()["data"]["chunk"]["content"].as_str().unwrap().to_owned())
    ///     .collect();
    /// assert_eq!(tokens, ["hi", " ", "there"]);
    /// assert_eq!(events[0].event(), "on_chain_start");
    /// assert_eq!(events.last().unwrap().event(), "on_chain_end");
    /// # Ok(()) }
    /// ```
    fn stream_events(&self, input: Self::Input) -> EventStream<'_> {
        EventStream::new(self, input, None, EventFilter::default())
    }

    /// [`stream_events`](Self::stream_events) with a call-time config and a
    /// filter.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use runwright::{EventFilter, GenericFakeChatModel, Lambda, RunConfig, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let chain = Lambda::from_fn(|q: String| Ok(format!("Q: {q}"))) | GenericFakeChatModel::new(["hi"]);
    /// // Only the model's events; every event carries the call's tags.
    /// let filter = EventFilter::new().include_types(["chat_model"]);
    /// let config = RunConfig::new().tag("web");
    /// let events: Vec<_> = chain.stream_events_with("hello".into(), config, filter).try_collect().await?;
    /// let kinds: Vec<_> = events.iter().map(|e| e.event()).collect();
    /// assert_eq!(kinds, ["on_chat_model_start", "on_chat_model_stream", "on_chat_model_end"]);
    /// assert!(events.iter().all(|e| e.tags().contains("web")));
    /// # Ok(()) }
    /// ```
    fn stream_events_with(&self, input: Self::Input, config: RunConfig, filter: EventFilter) -> EventStream<'_> {
        EventStream::new(self, input, Some(config), filter)
    }

    /// Streams the run as JSON Patch operations on a run state (LangChain's
    /// `astream_log`).
    ///
    /// Applied in order, the patches build the run's state (LangChain's
    /// `RunLog`): `streamed_output`, `final_output` and a `logs` entry per
    /// run beneath the root.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use runwright::{Lambda, LogOptions, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let chain = Lambda::from_fn(|n: i64| Ok(n + 1)).named("inc") | Lambda::from_fn(|n: i64| Ok(n * 2));
    /// let patches: Vec<_> = chain.stream_log(20, LogOptions::default()).try_collect().await?;
    /// let mut state = serde_json::Value::Null;
    /// for patch in &patches {
    ///     patch.apply_to(&mut state).unwrap();
    /// }
    /// assert_eq!(state["final_output"], 42);
    /// assert_eq!(state["logs"]["inc"]["final_output"]["output"], 21);
    /// # Ok(()) }
    /// ```
    fn stream_log(&self, input: Self::Input, options: LogOptions) -> LogStream<'_> {
        LogStream::new(self, input, options)
    }

    /// [`stream`](Self::stream) from a shared step, as a `'static` stream:
    /// one that can be returned from a web handler or moved into a spawned
    /// task, outliving the scope that made it. The stream holds the `Arc`.
    ///
    /// It is the borrowed stream in all else: the run nests under the run
    /// current at this call (not where the stream is polled), nothing runs
    /// until it is polled, and dropping it cancels the work beneath. A
    /// [`BoxRunnable`] has the same method, without the `Arc`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use futures::StreamExt;
    /// use runwright::{GenericFakeChatModel, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let model = Arc::new(GenericFakeChatModel::new(["hello there"]));
    /// let mut chunks = model.stream_owned("hi".into());
    /// let text = tokio::spawn(async move {
    ///     let mut text = String::new();
    ///     while let Some(chunk) = chunks.next().await {
    ///         text += &chunk.unwrap().text();
    ///     }
    ///     text
    /// });
    /// assert_eq!(text.await.unwrap(), "hello there");
    /// # }
    /// ```
    fn stream_owned(
        self: Arc<Self>,
        input: Self::Input,
    ) -> impl Stream<Item = Result<Self::Output>> + Send + Unpin + 'static
    where
        Self: 'static,
    {
        owned::stream(self, input)
    }

    /// [`stream_events`](Self::stream_events) from a shared step, as a
    /// `'static` stream, for web handlers and spawned tasks; otherwise as
    /// [`stream_owned`](Self::stream_owned) is to `stream`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use futures::{Stream, StreamExt};
    /// use runwright::{Lambda, RunnableExt, StreamEvent};
    ///
    /// // What a web handler does: build (or look up) the chain, return
    /// // only the events.
    /// fn events_for(question: String) -> impl Stream<Item = runwright::Result<StreamEvent>> + Send + 'static {
    ///     let chain = Arc::new(Lambda::from_fn(|q: String| Ok(q.to_uppercase())).named("shout"));
    ///     chain.stream_events_owned(question)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let mut events = events_for("hi".into());
    /// let names = tokio::spawn(async move {
    ///     let mut names = Vec::new();
    ///     while let Some(event) = events.next().await {
    ///         names.push(event.unwrap().event());
    ///     }
    ///     names
    /// });
    /// assert_eq!(names.await.unwrap(), ["on_chain_start", "on_chain_stream", "on_chain_end"]);
    /// # }
    /// ```
    fn stream_events_owned(
        self: Arc<Self>,
        input: Self::Input,
    ) -> impl Stream<Item = Result<StreamEvent>> + Send + Unpin + 'static
    where
        Self: 'static,
    {
        owned::events(self, input, None, EventFilter::default())
    }

    /// [`stream_events_with`](Self::stream_events_with) as a `'static`
    /// stream: [`stream_events_owned`](Self::stream_events_owned) with a
    /// call-time config and a filter.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use futures::TryStreamExt;
    /// use runwright::{EventFilter, Lambda, RunConfig, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let step = Arc::new(Lambda::from_fn(|q: String| Ok(q.to_uppercase())));
    /// let events = step.stream_events_owned_with(
    ///     "hi".into(),
    ///     RunConfig::new().run_name("shout"),
    ///     EventFilter::new().include_names(["shout"]),
    /// );
    /// let events: Vec<_> = tokio::spawn(events.try_collect()).await.unwrap().unwrap();
    /// assert!(events.iter().all(|e| e.name() == "shout"));
    /// assert_eq!(events.len(), 3);
    /// # }
    /// ```
    fn stream_events_owned_with(
        self: Arc<Self>,
        input: Self::Input,
        config: RunConfig,
        filter: EventFilter,
    ) -> impl Stream<Item = Result<StreamEvent>> + Send + Unpin + 'static
    where
        Self: 'static,
    {
        owned::events(self, input, Some(config), filter)
    }

    /// [`stream_log`](Self::stream_log) from a shared step, as a `'static`
    /// stream; otherwise as [`stream_owned`](Self::stream_owned) is to
    /// `stream`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use futures::TryStreamExt;
    /// use runwright::{Lambda, LogOptions, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let step = Arc::new(Lambda::from_fn(|n: i64| Ok(n * 2)));
    /// let patches = step.stream_log_owned(21, LogOptions::default());
    /// let patches: Vec<_> = tokio::spawn(patches.try_collect()).await.unwrap().unwrap();
    /// let mut state = serde_json::Value::Null;
    /// for patch in &patches {
    ///     patch.apply_to(&mut state).unwrap();
    /// }
    /// assert_eq!(state["final_output"], 42);
    /// # }
    /// ```
    fn stream_log_owned(
        self: Arc<Self>,
        input: Self::Input,
        options: LogOptions,
    ) -> impl Stream<Item = Result<RunLogPatch>> + Send + Unpin + 'static
    where
        Self: 'static,
    {
        owned::log(self, input, options)
    }

    /// Binds a config to this step: its run name, tags and metadata apply to
    /// its own run (and are inherited beneath it).
    ///
    /// Calling it again on the result replaces each setting the new config
    /// has (its tags replace the bound tags, its metadata the bound
    /// metadata), as LangChain's does. Invoked from a body with no config
    /// passed, the step's bound metadata wins over the inherited values and
    /// its tags come after the inherited ones; run as a step of a sequence,
    /// map or other combinator, the parent's values win.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use runwright::{Lambda, RunConfig, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let step = Lambda::from_fn(|s: String| Ok(s.to_uppercase()))
    ///     .with_config(RunConfig::new().run_name("shout").tag("loud").metadata("version", 2));
    /// assert_eq!(step.invoke("hi".into()).await?, "HI");
    ///
    /// let events: Vec<_> = step.stream_events("hi".into()).try_collect().await?;
    /// assert_eq!(events[0].name(), "shout");
    /// assert!(events[0].tags().contains("loud"));
    /// assert_eq!(events[0].metadata()["version"], 2);
    /// # Ok(()) }
    /// ```
    fn with_config(self, config: RunConfig) -> WithConfig<Self>
    where
        Self: Sized,
    {
        WithConfig::new(self, config)
    }

    /// Marks this step as a side effect: under a recording (an
    /// [`intercept`](crate::intercept)or installed above), its calls are
    /// recorded, and replayed without running it, like a tool's. For code
    /// that reaches the outside world in a plain lambda; its output must be
    /// `Deserialize` to be replayed.
    ///
    /// ```
    /// use runwright::{Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let fetch = Lambda::from_fn(|id: u32| Ok(format!("order {id}"))).side_effect();
    /// assert_eq!(fetch.invoke(7).await?, "order 7"); // with no recording, just runs
    /// # Ok(()) }
    /// ```
    fn side_effect(self) -> SideEffect<Self>
    where
        Self: Sized,
    {
        SideEffect::new(self)
    }

    /// Keeps this step and everything beneath it out of any recording: its
    /// models, tools and side effects always run live, also when a
    /// recording above replays the rest.
    ///
    /// ```
    /// use runwright::{Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let now = Lambda::from_fn(|_: ()| Ok(1_700_000_000_u64)).side_effect().never_intercepted();
    /// assert_eq!(now.invoke(()).await?, 1_700_000_000);
    /// # Ok(()) }
    /// ```
    fn never_intercepted(self) -> WithConfig<Self>
    where
        Self: Sized,
    {
        WithConfig::new(self, RunConfig::new().intercept(super::side_effect::always_live()))
    }

    /// Feeds this step's output into `next`: a [`Sequence`].
    /// The crate's runnable types also take `a | b`, LangChain's spelling.
    ///
    /// ```
    /// use runwright::{GenericFakeChatModel, Lambda, RunnableExt, StrOutputParser};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let prompt = Lambda::from_fn(|topic: String| Ok(format!("Tell me about {topic}")));
    /// let chain = prompt.pipe(GenericFakeChatModel::new(["Rust is fast"])).pipe(StrOutputParser);
    /// assert_eq!(chain.invoke("rust".into()).await?, "Rust is fast");
    ///
    /// // The same with `|`.
    /// let inc = Lambda::from_fn(|n: i64| Ok(n + 1));
    /// let double = Lambda::from_fn(|n: i64| Ok(n * 2));
    /// assert_eq!((inc | double).invoke(20).await?, 42);
    /// # Ok(()) }
    /// ```
    fn pipe<B>(self, next: B) -> Sequence<(First<Self>, B)>
    where
        Self: Sized,
        B: Runnable,
        Self::Output: super::Feeds<B::Input>,
    {
        Sequence::new(First(self)).pipe(next)
    }

    /// Erases the step's type.
    /// Useful to keep steps of different types in one collection, to name a
    /// chain's type in a struct field or a function's signature, or to share
    /// a step (a [`BoxRunnable`] is a cheap-to-clone `Arc`).
    ///
    /// ```
    /// use runwright::{BoxRunnable, Lambda, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let steps: Vec<BoxRunnable<i64, i64>> = vec![
    ///     Lambda::from_fn(|n: i64| Ok(n + 1)).boxed(),
    ///     (Lambda::from_fn(|n: i64| Ok(n * 2)) | Lambda::from_fn(|n: i64| Ok(n - 1))).boxed(),
    /// ];
    /// let mut outs = Vec::new();
    /// for step in &steps {
    ///     outs.push(step.invoke(10).await?);
    /// }
    /// assert_eq!(outs, [11, 19]);
    /// # Ok(()) }
    /// ```
    fn boxed(self) -> BoxRunnable<Self::Input, Self::Output>
    where
        Self: Sized + 'static,
    {
        BoxRunnable::new(self)
    }

    /// Tries `fallbacks` in order when this step fails.
    /// The first one to succeed gives the output; when all fail, the error
    /// is this step's.
    ///
    /// ```
    /// use runwright::{GenericFakeChatModel, Lambda, LanguageModelInput, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let down = Lambda::from_fn(|_: LanguageModelInput| -> runwright::Result<runwright::AIMessageChunk> {
    ///     Err(runwright::Error::msg("provider down"))
    /// });
    /// let model = down.with_fallbacks([GenericFakeChatModel::new(["from the backup"]).boxed()]);
    /// assert_eq!(model.invoke("hi".into()).await?.text(), "from the backup");
    /// # Ok(()) }
    /// ```
    fn with_fallbacks<I>(self, fallbacks: I) -> WithFallbacks<Self::Input, Self::Output>
    where
        Self: Sized + 'static,
        I: IntoIterator<Item = BoxRunnable<Self::Input, Self::Output>>,
    {
        WithFallbacks::new(self.boxed(), fallbacks.into_iter().collect())
    }

    /// Retries this step on failure, as `policy` says.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use runwright::{Lambda, RetryPolicy, RunnableExt};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let calls = AtomicU32::new(0);
    /// let flaky = Lambda::from_fn(move |s: String| {
    ///     // Fails twice, then works.
    ///     if calls.fetch_add(1, Ordering::SeqCst) < 2 {
    ///         return Err(runwright::Error::new(runwright::ErrorKind::Connection, "reset"));
    ///     }
    ///     Ok(s)
    /// });
    /// let policy = RetryPolicy::new(3)
    ///     .backoff(Duration::from_millis(1), Duration::from_millis(5))
    ///     .retry_if(|e| e.kind() == runwright::ErrorKind::Connection);
    /// assert_eq!(flaky.with_retry(policy).invoke("ok".into()).await?, "ok");
    /// # Ok(()) }
    /// ```
    fn with_retry(self, policy: RetryPolicy) -> Retry<Self>
    where
        Self: Sized,
    {
        Retry::new(self, policy)
    }
}

impl<R: Runnable + ?Sized> RunnableExt for R {}

/// `T`'s name without module paths: `Map<String, Value>`, not
/// `serde_json::map::Map<alloc::string::String, serde_json::value::Value>`.
fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out.push_str(segment.rsplit("::").next().unwrap_or(&segment));
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(segment.rsplit("::").next().unwrap_or(&segment));
    out
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(short_type_name::<crate::value::Map>(), "Map<String, Value>");
        assert_eq!(short_type_name::<Option<Vec<u8>>>(), "Option<Vec<u8>>");
        assert_eq!(short_type_name::<(i64, String)>(), "(i64, String)");
    }
}
