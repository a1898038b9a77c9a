//! Text-completion models (LangChain's `LLM`s): fakes for tests.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;
use serde_json::json;

use super::{LanguageModelInput, ModelProfile};
use crate::config::RunConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::runnable::{impl_pipe_operator, RunType, Runnable};
use crate::value::Payload;

struct ListLlm {
    profile: ModelProfile,
    responses: Vec<String>,
    next: AtomicUsize,
}

impl ListLlm {
    fn new(name: &str, responses: Vec<String>) -> Self {
        ListLlm {
            profile: ModelProfile::llm(name),
            responses,
            next: AtomicUsize::new(0),
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

    fn input_payload(input: &LanguageModelInput) -> Payload {
        Payload::new(json!({ "prompts": [input.to_text()] }))
    }

    fn output_payload(output: &str) -> Payload {
        Payload::new(json!({
            "generations": [[{"text": output, "generation_info": null, "type": "Generation"}]],
            "llm_output": null,
        }))
    }
}

macro_rules! list_llm {
    ($(#[$doc:meta])* $t:ident, $name:literal, $after_run:expr) => {
        $(#[$doc])*
        pub struct $t(ListLlm);

        impl $t {
            /// Answers with these responses in turn, starting over after the last.
            pub fn new<I, S>(responses: I) -> Self
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                $t(ListLlm::new($name, responses.into_iter().map(Into::into).collect()))
            }
        }

        impl Runnable for $t {
            type Input = LanguageModelInput;
            type Output = String;

            fn name(&self) -> Cow<'_, str> {
                Cow::Borrowed(self.0.profile.name())
            }

            fn run_type(&self) -> RunType {
                RunType::Llm
            }

            fn config(&self) -> Option<&RunConfig> {
                Some(self.0.profile.config())
            }

            fn input_payload(&self, input: &LanguageModelInput) -> Payload {
                ListLlm::input_payload(input)
            }

            fn output_payload(&self, output: &String, _streamed: bool) -> Payload {
                ListLlm::output_payload(output)
            }

            fn invoke_body<'a>(&'a self, _input: LanguageModelInput) -> BoxFuture<'a, Result<String>> {
                Box::pin(std::future::ready(self.0.answer()))
            }

            fn streams_after_run(&self) -> bool {
                $after_run
            }

            fn split_after_run(&self, output: String) -> Vec<String> {
                if $after_run {
                    output.chars().map(String::from).collect()
                } else {
                    vec![output]
                }
            }
        }

        impl_pipe_operator!([] $t);
    };
}

list_llm!(
    /// Cycles through its responses; streaming yields each response whole
    /// (LangChain's `FakeListLLM`, which has no streaming of its own).
    FakeListLLM,
    "FakeListLLM",
    false
);

list_llm!(
    /// Cycles through its responses; streaming runs the model whole (its run
    /// starts and ends), then yields the response one character at a time
    /// (LangChain's `FakeStreamingListLLM`).
    FakeStreamingListLLM,
    "FakeStreamingListLLM",
    true
);
