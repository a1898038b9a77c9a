//! [`RunType`]: the kind of step a run is.

/// What kind of step a run is; it decides its events' names
/// (`on_chain_start`, `on_chat_model_stream`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunType {
    /// A chain: sequences, maps, lambdas, graphs.
    Chain,
    /// A chat model.
    ChatModel,
    /// A text-completion model.
    Llm,
    /// A tool.
    Tool,
    /// A retriever.
    Retriever,
    /// A prompt template.
    Prompt,
    /// An output parser.
    Parser,
}

impl RunType {
    /// The type's name as event filters spell it (`chat_model`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RunType::Chain => "chain",
            RunType::ChatModel => "chat_model",
            RunType::Llm => "llm",
            RunType::Tool => "tool",
            RunType::Retriever => "retriever",
            RunType::Prompt => "prompt",
            RunType::Parser => "parser",
        }
    }
}
