// The forms `#[tool]` and `#[chain_fn]` accept.
use std::sync::Arc;

use runwright::tools::ToolCallId;
use runwright::{chain_fn, tool, RunContext, RunnableExt, StreamWriter};

#[derive(Debug)]
struct MyError;
impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}
impl std::error::Error for MyError {}

/// Sync, infallible.
#[tool]
fn plain(a: i64, b: i64) -> i64 {
    a + b
}

/// Async, with the user's own error type.
#[tool]
pub async fn fallible(a: i64) -> Result<i64, MyError> {
    if a > 0 { Ok(a) } else { Err(MyError) }
}

/// No arguments, no output, every injected parameter.
#[tool]
async fn injected(ctx: &RunContext, owned: Arc<RunContext>, writer: StreamWriter, id: ToolCallId) {
    let _ = (ctx, owned, writer, id);
}

#[tool(name = "renamed", description = "Given by the attribute.", handle_errors)]
fn no_doc_comment(r#type: String) -> String {
    r#type
}

fn on_error(e: &runwright::Error) -> String {
    e.message().to_owned()
}

/// A custom error handler.
#[tool(handle_errors = on_error)]
fn custom_handler(x: String) -> runwright::Result<String> {
    Ok(x)
}

#[chain_fn(name = "sync_step")]
fn sync_chain(x: i64) -> runwright::Result<i64> {
    Ok(x * 2)
}

#[chain_fn]
pub async fn unit_chain(_x: String) {}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(async {
        assert_eq!(no_doc_comment.spec().name(), "renamed");
        assert_eq!(no_doc_comment.spec().args()[0].name(), "type");
        assert_eq!(plain.invoke(serde_json::json!({"a": 1, "b": 2}).into()).await.unwrap().into_value(), Some(3));
        assert!(fallible.invoke(serde_json::json!({"a": 0}).into()).await.is_err());
        assert!(injected.invoke(serde_json::json!({}).into()).await.is_ok());
        assert_eq!(custom_handler.spec().name(), "custom_handler");
        assert_eq!(sync_chain.invoke(2).await.unwrap(), 4);
        unit_chain.invoke(String::new()).await.unwrap();
    });
}
