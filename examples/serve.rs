//! cargo run --example serve
//!
//! Serves the quickstart's chain (`prompt | model | parser`) over HTTP with
//! the LangServe protocol, so LangServe's own clients can call it:
//!
//! ```text
//! curl -s localhost:8000/city/invoke -H 'content-type: application/json' -d '{"input": {"city": "Paris"}}'
//! curl -sN localhost:8000/city/stream_events -H 'content-type: application/json' -d '{"input": {"city": "Paris"}}'
//! ```
//!
//! or, in Python (`scripts/langserve/setup.sh` makes a venv with the
//! client), `RemoteRunnable("http://127.0.0.1:8000/city/").invoke({"city": "Paris"})`.
//!
//! The model is replayed from the quickstart's cassette, offline, as often
//! as asked: it knows one question, about Paris, and fails any other (a run
//! error, which the server answers `500`). The address is the first argument (default
//! `127.0.0.1:8000`). tests/it/langserve_client.rs drives this server with
//! the Python `RemoteRunnable`.

use runwright::prompts::ChatPromptTemplate;
use runwright::{BoxRunnable, Map, RunnableExt, StrOutputParser};
use runwright_recorder::Recorder;
use runwright_server::{schema, Route, Server};

const CASSETTE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cassettes/quickstart.jsonl");

/// The quickstart's chain, its model replayed from the cassette (each
/// recorded answer as many times as it is asked for).
pub fn chain() -> runwright::Result<BoxRunnable<Map, String>> {
    let prompt = ChatPromptTemplate::from_template("Describe the city of {city} in a few words.")?;
    Ok((prompt | Recorder::replay(CASSETTE)?.allow_repeats(true) | StrOutputParser).boxed())
}

/// The server: the chain at `/city`, with the schemas LangChain gives it.
pub fn server() -> runwright::Result<Server> {
    let route = Route::new(chain()?)
        .input_schema(schema::prompt_input(["city"]))
        .output_schema(schema::string("StrOutputParserOutput"));
    Ok(Server::new().route("/city", route))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let addr = listener.local_addr()?;
    println!("-- serving the quickstart's chain (replayed offline) at http://{addr}/city/");
    println!("   POST /city/invoke, /city/batch, /city/stream, /city/stream_log, /city/stream_events");
    println!("   GET  /city/input_schema, /city/output_schema, /city/config_schema");
    server()?.serve_on(listener).await?;
    Ok(())
}
