//! A ReAct agent whose risky tool asks a person first, with `interrupt`.
//!
//! The first run stops at the question, saves the thread in a SQLite file
//! and exits; a second run of the program, given the answer, goes on from
//! the file: the tool runs (or not) and the agent answers.
//!
//! ```text
//! cargo run --example approval -- ask /tmp/approval.db   # asks, then exits
//! cargo run --example approval -- yes /tmp/approval.db   # approves; the agent finishes
//! ```
//!
//! The model is a scripted fake (no network): the first process's model
//! calls the tool, the second's gives the final answer.

use std::sync::Arc;

use serde_json::json;

use runwright::graph::checkpoint::SqliteSaver;
use runwright::graph::{create_react_agent, interrupt, AgentState, Command};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, FakeToolCallingChatModel, RunConfig, RunnableExt};

/// Deletes a file, once a person approves.
///
/// * `path` - the file to delete
#[tool]
async fn delete_file(path: String) -> runwright::Result<String> {
    let approved: bool = interrupt(json!({"question": format!("delete {path}?"), "path": path}))?;
    Ok(if approved {
        format!("deleted {path}")
    } else {
        format!("kept {path}: not approved")
    })
}

#[tokio::main]
async fn main() -> runwright::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(what), Some(db)) = (args.next(), args.next()) else {
        eprintln!("usage: approval (ask | yes | no) DB_FILE");
        std::process::exit(2);
    };
    let saver = Arc::new(SqliteSaver::open(&db).await?);
    let thread = RunConfig::new().configurable("thread_id", "approval-1");
    let model = match what.as_str() {
        "ask" => FakeToolCallingChatModel::new([AIMessage::new("").with_tool_calls(vec![ToolCall::new(
            "delete_file",
            json!({"path": "/tmp/old.log"}),
        )
        .with_id("call_1")])]),
        _ => FakeToolCallingChatModel::new([AIMessage::new("Done: the tool said what happened.")]),
    };
    let agent = create_react_agent(model, vec![Arc::new(delete_file)])?.with_checkpointer(saver.clone());
    match what.as_str() {
        "ask" => {
            agent
                .invoke_with(AgentState::user("clean up /tmp/old.log"), thread.clone())
                .await?;
            let state = agent.get_state(thread).await?;
            for asked in &state.interrupts {
                println!(
                    "waiting for approval: {}",
                    asked.value["question"].as_str().unwrap_or_default()
                );
            }
        }
        "yes" | "no" => {
            let pending = agent.get_state(thread.clone()).await?;
            if pending.interrupts.is_empty() {
                eprintln!("nothing waits for approval in {db}: run `approval ask {db}` first");
                std::process::exit(1);
            }
            let done = agent.resume(Command::resume(what == "yes"), thread).await?;
            for m in &done.messages {
                println!("{}: {}", m.type_name(), m.text());
            }
        }
        other => {
            eprintln!("unknown command `{other}`: ask, yes or no");
            std::process::exit(2);
        }
    }
    saver.close().await;
    Ok(())
}
