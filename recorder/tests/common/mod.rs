//! Helpers shared by the recorder's tests: scratch folders, a chat model
//! whose chunks arrive after a random number of yields, and the
//! tool-calling agent.
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::future::BoxFuture;
use futures::StreamExt;
use runwright::models::{ChatModel, ChatRequest, ModelProfile};
use runwright::tools::ToolInput;
use runwright::{tool, AIMessageChunk, ChunkStream, Message, Runnable, RunnableExt};

/// A fresh folder for one test (emptied first; each test has its own name).
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("recorder-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

static SEED: AtomicU64 = AtomicU64::new(0);

/// A random number below `n`, different on every run of the test.
pub fn random_below(n: u64) -> u64 {
    let k = SEED.fetch_add(1, Ordering::Relaxed);
    RandomState::new().hash_one(k) % n
}

/// A chat model that hands each chunk on after 0 to 3 yields, at random:
/// branches running it concurrently interleave differently on every run.
pub struct Jittery<M>(pub M);

impl<M: ChatModel> ChatModel for Jittery<M> {
    fn profile(&self) -> &ModelProfile {
        self.0.profile()
    }

    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        Box::pin(self.0.stream_chat(request).then(|c| async move {
            for _ in 0..random_below(4) {
                tokio::task::yield_now().await;
            }
            c
        }))
    }
}

/// Current weather of a city.
///
/// * `city` - the city
#[tool]
pub fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

/// The tool-calling scenario: asks the model, runs the tools it calls,
/// gives it their answers, until it answers without a tool call.
pub struct Agent<M> {
    pub model: M,
}

impl<M: ChatModel + 'static> Runnable for Agent<M> {
    type Input = String;
    type Output = String;

    fn name(&self) -> Cow<'_, str> {
        "agent".into()
    }

    fn invoke_body<'a>(&'a self, question: String) -> BoxFuture<'a, runwright::Result<String>> {
        Box::pin(async move {
            let mut messages = vec![Message::human(question)];
            for _ in 0..4 {
                let answer = self.model.invoke(messages.clone().into()).await?;
                let calls = answer.tool_calls.clone();
                let text = answer.text().into_owned();
                messages.push(answer.into());
                if calls.is_empty() {
                    return Ok(text);
                }
                for call in calls {
                    let out = get_weather.invoke(ToolInput::Call(call)).await?;
                    let reply = out
                        .into_message()
                        .ok_or_else(|| runwright::Error::msg("no tool message"))?;
                    messages.push(Message::Tool(reply));
                }
            }
            Err(runwright::Error::msg("the agent went round too often"))
        })
    }
}
