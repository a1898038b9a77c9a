//! cargo run --example serve
//!
//! Serves the quickstart's chain (`prompt | model | parser`) over HTTP with
//! the LangServe protocol, and a ReAct agent (graph `agent`) with the
//! LangGraph Agent Server API, so LangServe's and LangGraph's own clients
//! can call them:
//!
//! ```text
//! curl -s localhost:8000/city/invoke -H 'content-type: application/json' -d '{"input": {"city": "Paris"}}'
//! curl -sN localhost:8000/city/stream_events -H 'content-type: application/json' -d '{"input": {"city": "Paris"}}'
//! ```
//!
//! or, in Python (`scripts/langserve/setup.sh` makes a venv with the
//! client), `RemoteRunnable("http://127.0.0.1:8000/city/").invoke({"city": "Paris"})`.
//!
//! The agent (a scripted fake model: it calls `book_flight`, whose tool asks
//! a person with `interrupt`, then answers) with `langgraph-sdk`
//! (`scripts/langgraph-sdk/setup.sh` makes its venv):
//!
//! ```text
//! client = get_client(url="http://127.0.0.1:8000")
//! thread = await client.threads.create()
//! async for part in client.runs.stream(thread["thread_id"], "agent",
//!         input={"messages": [{"role": "user", "content": "fly me to Lisbon"}]},
//!         stream_mode=["updates", "messages-tuple", "custom"]): ...
//! await client.runs.wait(thread["thread_id"], "agent", command={"resume": True})
//! ```
//!
//! The model is replayed from the quickstart's cassette, offline, as often
//! as asked: it knows one question, about Paris, and fails any other (a run
//! error, which the server answers `500`). The address is the first argument (default
//! `127.0.0.1:8000`). tests/it/langserve_client.rs drives this server with
//! the Python `RemoteRunnable`, tests/it/langgraph_sdk_client.rs with the
//! Python `langgraph-sdk`.
//!
//! At `/`, a page (examples/serve_page.html) chats with the agent in the
//! browser: it streams the agent's tokens into the page, asks for the
//! approval the tool's interrupt wants, and resumes the run with the answer.
//! tests/it/browser_page.rs drives it in headless Chromium.

use std::sync::Arc;

use runwright::graph::{create_react_agent, interrupt, AgentState, CompiledGraph, GraphTool};
use runwright::messages::{AIMessage, ToolCall};
use runwright::prompts::ChatPromptTemplate;
use runwright::{tool, BoxRunnable, FakeToolCallingChatModel, Map, RunnableExt, StrOutputParser};
use runwright_recorder::Recorder;
use runwright_server::{schema, Route, Server};
use serde_json::json;

const CASSETTE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cassettes/quickstart.jsonl");

/// The quickstart's chain, its model replayed from the cassette (each
/// recorded answer as many times as it is asked for).
pub fn chain() -> runwright::Result<BoxRunnable<Map, String>> {
    let prompt = ChatPromptTemplate::from_template("Describe the city of {city} in a few words.")?;
    Ok((prompt | Recorder::replay(CASSETTE)?.allow_repeats(true) | StrOutputParser).boxed())
}

/// Books a flight, once a person approves.
///
/// * `to` - where to
#[tool]
async fn book_flight(to: String) -> runwright::Result<String> {
    let question = format!("book a flight to {to}?");
    runwright::stream_writer().write(json!({ "asking": question }));
    let approved: bool = interrupt(json!({ "question": question }))?;
    Ok(if approved {
        format!("booked a flight to {to}")
    } else {
        format!("no flight to {to}: not approved")
    })
}

/// The answer the agent gives once the tool has run.
pub const AGENT_ANSWER: &str = "Your flight to Lisbon is booked.";

/// A ReAct agent whose tool asks a person first: its scripted model calls
/// `book_flight`, then answers, and starts over on the next run that asks.
pub fn agent() -> runwright::Result<CompiledGraph<AgentState>> {
    let model = FakeToolCallingChatModel::new([
        AIMessage::new("Let me book that.").with_tool_calls(vec![ToolCall::new(
            "book_flight",
            json!({"to": "Lisbon"}),
        )
        .with_id("call_1")]),
        AIMessage::new(AGENT_ANSWER),
    ])
    .repeating();
    let tools: Vec<Arc<dyn GraphTool>> = vec![Arc::new(book_flight)];
    create_react_agent(model, tools)
}

/// The server: the chain at `/city`, with the schemas LangChain gives it,
/// and the agent as the assistant of graph `agent` (its threads in memory).
pub fn server() -> runwright::Result<Server> {
    let route = Route::new(chain()?)
        .input_schema(schema::prompt_input(["city"]))
        .output_schema(schema::string("StrOutputParserOutput"));
    Ok(Server::new()
        .route("/city", route)
        .graph("agent", agent()?)
        .page("/", include_str!("serve_page.html")))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let addr = listener.local_addr()?;
    println!("-- serving the quickstart's chain (replayed offline) at http://{addr}/city/");
    println!("   POST /city/invoke, /city/batch, /city/stream, /city/stream_log, /city/stream_events");
    println!("   GET  /city/input_schema, /city/output_schema, /city/config_schema");
    println!("-- and a ReAct agent as LangGraph's assistant `agent` (Agent Server API) at http://{addr}");
    println!("   POST /threads, /threads/{{id}}/runs/stream, /runs/wait, ...");
    println!("-- and a page chatting with the agent in the browser: http://{addr}/");
    server()?.serve_on(listener).await?;
    Ok(())
}
