//! Text-completion models (LangChain's `LLM`s): the [`Llm`] trait and fakes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;

use super::ModelProfile;
use crate::error::{Error, ErrorKind, Result};
use crate::runnable::ChunkStream;

/// A text-completion model: a prompt string in, text out. Implement it, then
/// make the model a step with
/// [`impl_llm_runnable!`](crate::impl_llm_runnable): it takes a
/// [`LanguageModelInput`](super::LanguageModelInput) (messages are written
/// out as `Human: ...` lines), runs as an `llm` run, and reports streamed
/// text as `on_llm_stream`.
///
/// ```
/// use futures::future::BoxFuture;
/// use runwright::models::{Llm, ModelProfile};
/// use runwright::RunnableExt;
///
/// struct Shout(ModelProfile);
/// impl Llm for Shout {
///     fn profile(&self) -> &ModelProfile { &self.0 }
///     fn complete<'a>(&'a self, prompt: String) -> BoxFuture<'a, runwright::Result<String>> {
///         Box::pin(async move { Ok(prompt.to_uppercase()) })
///     }
/// }
/// runwright::impl_llm_runnable!(Shout);
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let llm = Shout(ModelProfile::llm("ShoutLLM"));
/// assert_eq!(llm.invoke("hi".into()).await.unwrap(), "HI");
/// # }
/// ```
pub trait Llm: Send + Sync {
    /// The model's name and run metadata.
    fn profile(&self) -> &ModelProfile;

    /// Completes `prompt` whole.
    fn complete<'a>(&'a self, prompt: String) -> BoxFuture<'a, Result<String>>;

    /// Streams the completion, if the model can. `None` (the default): the
    /// model answers whole, and streaming yields that answer as one chunk.
    fn stream_complete<'a>(&'a self, prompt: String) -> Option<ChunkStream<'a, String>> {
        let _ = prompt;
        None
    }

    /// Whether streaming runs the model whole first and then yields its
    /// answer one character at a time outside the run (LangChain's
    /// `FakeStreamingListLLM`). Default: no.
    fn streams_after_run(&self) -> bool {
        false
    }
}

/// Implements [`Runnable`](crate::Runnable) for a type implementing [`Llm`].
#[macro_export]
macro_rules! impl_llm_runnable {
    ($t:ty) => {
        impl $crate::Runnable for $t {
            type Input = $crate::LanguageModelInput;
            type Output = ::std::string::String;

            fn name(&self) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed($crate::models::Llm::profile(self).name())
            }

            fn run_type(&self) -> $crate::RunType {
                $crate::RunType::Llm
            }

            fn own_metadata(&self) -> ::std::option::Option<&$crate::Map> {
                ::std::option::Option::Some($crate::models::Llm::profile(self).metadata())
            }

            fn input_payload(&self, input: &$crate::LanguageModelInput) -> $crate::Payload {
                $crate::models::__llm::input_payload(input)
            }

            fn output_payload(&self, output: &::std::string::String) -> $crate::Payload {
                $crate::models::__llm::output_payload(output)
            }

            fn invoke_body<'a>(
                &'a self,
                input: $crate::LanguageModelInput,
            ) -> $crate::__private::BoxFuture<'a, $crate::Result<::std::string::String>> {
                $crate::models::__llm::complete(self, input.to_text())
            }

            fn stream_body<'a>(
                &'a self,
                input: $crate::LanguageModelInput,
            ) -> $crate::ChunkStream<'a, ::std::string::String> {
                $crate::models::__llm::stream(self, input)
            }

            fn streams_after_run(&self) -> bool {
                $crate::models::Llm::streams_after_run(self)
            }

            fn split_after_run(&self, output: ::std::string::String) -> ::std::vec::Vec<::std::string::String> {
                $crate::models::__llm::split(self, output)
            }
        }
    };
}

/// What [`impl_llm_runnable!`] expands to call. Not a public API.
#[doc(hidden)]
pub mod __llm {
    use futures::StreamExt;
    use serde_json::json;

    use super::Llm;
    use crate::context::current;
    use futures::future::BoxFuture;

    use crate::context::intercept;
    use crate::events::{EventData, EventPhase};
    use crate::intercept::{replay_json, CallKind};
    use crate::models::LanguageModelInput;
    use crate::runnable::ChunkStream;
    use crate::value::Payload;

    pub fn input_payload(input: &LanguageModelInput) -> Payload {
        Payload::new(json!({ "prompts": [input.to_text()] }))
    }

    pub fn output_payload(output: &str) -> Payload {
        Payload::new(json!({
            "generations": [[{"text": output, "generation_info": null, "type": "Generation"}]],
            "llm_output": null,
        }))
    }

    fn prompt_json(prompt: &String) -> serde_json::Value {
        json!({ "prompt": prompt })
    }

    fn decode(v: serde_json::Value) -> crate::error::Result<String> {
        replay_json("llm", v)
    }

    /// The completion, through the interceptor installed above (a
    /// recording), if any.
    pub fn complete<L: Llm + ?Sized>(llm: &L, prompt: String) -> BoxFuture<'_, crate::error::Result<String>> {
        Box::pin(intercept::call_through(
            CallKind::Llm,
            crate::intercept::Secrets::NONE,
            prompt,
            prompt_json,
            move |prompt| llm.complete(prompt),
            decode,
            |chunks| Ok(chunks.concat()),
        ))
    }

    pub fn stream<'a, L: Llm + ?Sized>(llm: &'a L, input: LanguageModelInput) -> ChunkStream<'a, String> {
        let prompt = input.to_text();
        if llm.streams_after_run() {
            return Box::pin(futures::stream::once(complete(llm, prompt)));
        }
        let streamed = llm.stream_complete(prompt.clone());
        match streamed {
            None => Box::pin(futures::stream::once(complete(llm, prompt))),
            Some(tokens) => {
                let tokens = intercept::stream_through(CallKind::Llm, prompt, prompt_json, move |_| tokens, decode);
                let ctx = current().filter(|c| c.is_listening());
                Box::pin(tokens.map(move |t| {
                    let t = t?;
                    if let Some(ctx) = &ctx {
                        ctx.emit(EventPhase::Stream, EventData::with_chunk(Payload::new(t.clone())));
                    }
                    Ok(t)
                }))
            }
        }
    }

    pub fn split<L: Llm + ?Sized>(llm: &L, output: String) -> Vec<String> {
        if llm.streams_after_run() {
            output.chars().map(String::from).collect()
        } else {
            vec![output]
        }
    }
}

/// Clones share the position in the list, as one model used in two places.
#[derive(Debug, Clone)]
struct ListAnswers {
    profile: ModelProfile,
    responses: Arc<[String]>,
    next: Arc<AtomicUsize>,
}

impl ListAnswers {
    fn new(name: &str, responses: Vec<String>) -> Self {
        ListAnswers {
            profile: ModelProfile::llm(name),
            responses: responses.into(),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn answer(&self) -> Result<String> {
        if self.responses.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{} has no responses", self.profile.name()),
            ));
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.responses.len();
        Ok(self.responses[i].clone())
    }
}

macro_rules! list_llm {
    ($(#[$doc:meta])* $t:ident, $after_run:expr) => {
        $(#[$doc])*
        ///
        /// Clones share the position in the list, as one model used in two
        /// places would.
        #[derive(Clone, Debug)]
        #[must_use = "a runnable does nothing until invoked or streamed"]
        pub struct $t(ListAnswers);

        impl $t {
            /// Answers with these responses in turn, starting over after the last.
            pub fn new<I, S>(responses: I) -> Self
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                $t(ListAnswers::new(stringify!($t), responses.into_iter().map(Into::into).collect()))
            }
        }

        impl Llm for $t {
            fn profile(&self) -> &ModelProfile {
                &self.0.profile
            }

            fn complete<'a>(&'a self, _prompt: String) -> BoxFuture<'a, Result<String>> {
                Box::pin(std::future::ready(self.0.answer()))
            }

            fn streams_after_run(&self) -> bool {
                $after_run
            }
        }

        crate::impl_llm_runnable!($t);
        crate::runnable::impl_pipe_operator!([] $t);
    };
}

list_llm!(
    /// Cycles through its responses; streaming yields each response whole
    /// (LangChain's `FakeListLLM`, which has no streaming of its own).
    FakeListLLM,
    false
);

list_llm!(
    /// Cycles through its responses; streaming runs the model whole (its run
    /// starts and ends), then yields the response one character at a time
    /// (LangChain's `FakeStreamingListLLM`).
    FakeStreamingListLLM,
    true
);
