//! cargo run --example tool_streaming
//!
//! LangChain's "how to stream events from a tool", without the config
//! plumbing: `special_summarization_tool` invokes a chain the obvious way,
//! and `stream_events` on the tool still shows the chain's model tokens
//! (`on_chat_model_stream`), nested under the tool's run. The run context is
//! implicit, so there is no config to forget; the second tool makes its
//! model call in a task started with `runwright::spawn`, which carries the
//! context along.

use futures::StreamExt;
use runwright::prompts::ChatPromptTemplate;
use runwright::{tool, AIMessageChunk, GenericFakeChatModel, Lambda, Map, RunnableExt, StrOutputParser};
use serde_json::json;

const LONG_TEXT: &str = "NARRATOR: (Black screen with text; The sound of buzzing bees can be heard) \
According to all known laws of aviation, there is no way a bee should be able to fly.";

fn reverse(x: String) -> runwright::Result<String> {
    Ok(x.chars().rev().collect())
}

async fn summarize(long_text: String) -> runwright::Result<String> {
    let prompt = ChatPromptTemplate::from_template(
        "You are an expert writer. Summarize the following text in 10 words or less:\n\n{long_text}",
    )?;
    let model = GenericFakeChatModel::new(["Bees defy aviation laws and fly anyway."]);
    let chain = prompt | model | StrOutputParser | Lambda::from_fn(reverse);
    let mut vars = Map::new();
    vars.insert("long_text".into(), long_text.into());
    chain.invoke(vars).await
}

/// A tool that summarizes input text using advanced techniques.
///
/// * `long_text` - the text to summarize
#[tool]
async fn special_summarization_tool(long_text: String) -> runwright::Result<String> {
    summarize(long_text).await
}

/// The same, with the chain run in a task of its own.
///
/// * `long_text` - the text to summarize
#[tool]
async fn spawning_summarization_tool(long_text: String) -> runwright::Result<String> {
    runwright::spawn(summarize(long_text)).await?
}

async fn show<R>(tool: &R) -> runwright::Result<()>
where
    R: runwright::Runnable<Input = runwright::tools::ToolInput>,
{
    let mut events = tool.stream_events(json!({ "long_text": LONG_TEXT }).into());
    let mut tool_run = None;
    while let Some(event) = events.next().await {
        let event = event?;
        match event.event() {
            "on_tool_start" => {
                tool_run = Some(event.run_id());
                println!("{} started (run {})", event.name(), event.run_id());
            }
            "on_chat_model_stream" => {
                let token = event
                    .data
                    .chunk
                    .as_ref()
                    .and_then(|c| c.downcast_ref::<AIMessageChunk>());
                let under_tool = tool_run.is_some_and(|t| event.parent_ids().first() == Some(&t));
                println!(
                    "  token {:<10} from {} (nested under the tool: {under_tool})",
                    format!("{:?}", token.map(|t| t.text().into_owned()).unwrap_or_default()),
                    event.name(),
                );
            }
            "on_tool_end" => println!("{} ended: {}", event.name(), event.to_json()["data"]["output"]),
            _ => {}
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> runwright::Result<()> {
    show(&special_summarization_tool).await?;
    println!();
    show(&spawning_summarization_tool).await
}
