//! The shared fixtures of the benchmark workloads (bench/README.md):
//! the fake streaming chat model, the prompt, the input, Chain(N).

#![allow(dead_code)]

use runwright::messages::{AIMessageChunk, ChunkPosition};
use runwright::models::{ChatModel, ChatRequest, ModelProfile};
use runwright::prompts::{ChatPromptTemplate, MessageTemplate};
use runwright::{ChunkStream, Map, Runnable, StrOutputParser};

/// Yields `n_chunks` chunks `"a"`, built lazily, the last marked last.
pub struct FakeStreamingChatModel {
    profile: ModelProfile,
    n_chunks: usize,
}

impl FakeStreamingChatModel {
    pub fn new(n_chunks: usize) -> Self {
        FakeStreamingChatModel {
            profile: ModelProfile::chat("FakeStreamingChatModel"),
            n_chunks,
        }
    }
}

impl ChatModel for FakeStreamingChatModel {
    fn profile(&self) -> &ModelProfile {
        &self.profile
    }

    fn stream_chat<'a>(&'a self, _request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        let n = self.n_chunks;
        Box::pin(futures::stream::iter((0..n).map(move |i| {
            let mut c = AIMessageChunk::new("a");
            if i + 1 == n {
                c.chunk_position = Some(ChunkPosition::Last);
            }
            Ok(c)
        })))
    }
}

pub fn prompt() -> ChatPromptTemplate {
    ChatPromptTemplate::from_messages([
        MessageTemplate::system("You are a helpful assistant."),
        MessageTemplate::human("{question}"),
    ])
    .expect("valid prompt")
}

pub fn input() -> Map {
    let mut m = Map::new();
    m.insert("question".into(), "What is the capital of France?".into());
    m
}

/// `prompt | FakeStreamingChatModel(n) | StrOutputParser`.
pub fn chain(n: usize) -> impl Runnable<Input = Map, Output = String> {
    prompt() | FakeStreamingChatModel::new(n) | StrOutputParser
}

/// A current-thread tokio runtime, like Python's single event loop.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
