//! Serve [runwright] runnables over HTTP with the LangServe
//! protocol, so LangServe's clients (Python's and JavaScript's
//! `RemoteRunnable`) work against a Rust server unchanged.
//!
//! Each runnable registered at a path gets LangServe 0.3's endpoints:
//!
//! | request | what |
//! |---|---|
//! | `POST <path>/invoke` | `{"input", "config", "kwargs"}` → `{"output", "metadata": {"run_id", "feedback_tokens"}}` |
//! | `POST <path>/batch` | `{"inputs", "config"}` (one config, or one per input) → `{"output": [...], "metadata": {"responses", "run_ids"}}` |
//! | `POST <path>/stream` | server-sent events: `metadata` (`{"run_id"}`) before the first chunk, a `data` event per chunk, `end` |
//! | `POST <path>/stream_log` | `data` events of `{"ops": [...]}` (JSON Patch), then `end` |
//! | `POST <path>/stream_events` | a `data` event per `astream_events` v2 event, then `end` |
//! | `GET <path>/input_schema`, `output_schema`, `config_schema` | JSON schemas |
//!
//! The `run_id` reported is the id of the request's root run, as in
//! LangServe. A stream that fails sends LangServe's `error` event (`{"status_code": 500,
//! "message": "Internal Server Error"}`, the error itself is not shown to the
//! client) and ends. Bad requests are answered `422` (malformed JSON, an
//! input that does not convert into the runnable's input type, a config key
//! the server does not take), `404` (no runnable at the path), `413` (a
//! body over [`Server::body_limit`]) or `401` (a missing or wrong
//! [`Server::bearer_token`]), each with a JSON body `{"detail": "..."}`
//! naming the problem.
//!
//! The root run of each request is named after its path (`/joke`), as
//! LangServe names it. Only the config keys a route allows are taken from
//! a client ([`Route::config_keys`], by default `configurable` alone, as
//! LangServe's `add_routes`); the others are dropped, and a non-empty
//! `configurable` on a route that does not allow it is refused.
//!
//! Streams own what they stream (`'static` streams from an `Arc` of the
//! runnable): a client that goes away drops its response, which drops the
//! run and cancels the work beneath it.
//!
//! ```no_run
//! use runwright::{ChatPromptTemplate, GenericFakeChatModel, StrOutputParser};
//! use runwright_server::Server;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let chain = ChatPromptTemplate::from_template("tell me a joke about {topic}")?
//!     | GenericFakeChatModel::new(["Why did the parrot talk? Because it could!"]).repeating()
//!     | StrOutputParser;
//! Server::new().runnable("/joke", chain).serve("127.0.0.1:8000").await?;
//! # Ok(()) }
//! ```
//!
//! [`Server::into_router`] gives the [`axum::Router`] instead, to nest in an
//! application or to call in tests.
//!
//! # The LangGraph Agent Server API
//!
//! [`Server::graph`] serves a compiled graph as an assistant, with the
//! endpoints and JSON shapes of LangGraph's Agent Server that the
//! `langgraph-sdk` clients (Python and JavaScript) call:
//!
//! | request | what |
//! |---|---|
//! | `POST /assistants/search`, `GET /assistants/{id}` | one assistant per graph; `{id}` is its [`assistant_id`] or the graph id |
//! | `POST /threads`, `GET`/`DELETE /threads/{id}`, `POST /threads/search` | threads, with their status (`idle`, `busy`, `interrupted`, `error`), values and interrupts |
//! | `GET`/`POST /threads/{id}/state`, `GET /threads/{id}/state/{checkpoint_id}` | the state from the graph's checkpointer; a `POST` updates it (`values`, `as_node`) |
//! | `GET`/`POST /threads/{id}/history` | the thread's checkpoints, newest first (`limit`, `before`, `metadata`) |
//! | `POST /threads/{id}/runs/stream`, `POST /runs/stream` | a run's server-sent events: `metadata` (`{"run_id", "attempt"}`), one event per stream-mode item (`mode` or `mode\|namespace`), then `end` (or `error`) |
//! | `POST /threads/{id}/runs/wait`, `POST /runs/wait` | the run's final values (`__interrupt__` when it stopped on one) |
//! | `POST /threads/{id}/runs`, `GET .../runs`, `GET .../runs/{run_id}` | background runs, and the runs of a thread |
//! | `GET .../runs/{run_id}/join`, `GET .../runs/{run_id}/stream`, `POST .../runs/{run_id}/cancel` | wait for a run, join its stream (after the `Last-Event-ID` given), cancel it |
//!
//! Every event has an `id`; a run keeps its last events (up to 10,000) so a
//! client that lost its connection rejoins with `Last-Event-ID` and gets
//! each later event once. A client leaving a stream (or a `wait`) cancels
//! the run unless it asked `on_disconnect: "continue"`; a run on a busy
//! thread is refused (`multitask_strategy: "reject"`, `409`), queued
//! (`enqueue`) or takes over (`interrupt`). Unknown assistants, threads and
//! runs are answered `404` naming them; requests that do not fit (an input
//! that is not the graph's state, an unknown stream mode) `422`.
//!
//! Threads' state lives in the graph's checkpointer; the list of threads,
//! their metadata and the runs live in the server's memory.

mod agent;
mod error;
mod protocol;
mod rooted;
mod route;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::{TcpListener, ToSocketAddrs};

pub use agent::assistant_id;
pub use route::{schema, Route};
/// CORS settings for [`Server::cors`] (tower-http's layer).
pub use tower_http::cors::CorsLayer;

use error::ApiError;

/// The default limit on a request body: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// An HTTP server of runnables: register each at a path, then
/// [`serve`](Server::serve) them or take the [`Router`].
#[must_use = "a server does nothing until served or turned into a router"]
pub struct Server {
    routes: Vec<(String, Route)>,
    graphs: Vec<(String, Arc<dyn agent::ServedGraph>)>,
    pages: Vec<(String, axum::body::Bytes)>,
    body_limit: usize,
    bearer_token: Option<Arc<str>>,
    cors: Option<CorsLayer>,
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field(
                "paths",
                &self.routes.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            )
            .field(
                "graphs",
                &self.graphs.iter().map(|(g, _)| g.as_str()).collect::<Vec<_>>(),
            )
            .field("body_limit", &self.body_limit)
            .field("bearer_token", &self.bearer_token.is_some())
            .field("cors", &self.cors.is_some())
            .finish()
    }
}

impl Server {
    /// A server with no runnables, a body limit of [`DEFAULT_BODY_LIMIT`],
    /// no token check and no CORS headers.
    pub fn new() -> Self {
        Server {
            routes: Vec::new(),
            graphs: Vec::new(),
            pages: Vec::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            bearer_token: None,
            cors: None,
        }
    }

    /// Serves `runnable` at `path` (`"/joke"`: `/joke/invoke`,
    /// `/joke/stream`, ...) with the default settings: its input is the
    /// request's `input` converted into `R::Input` (as `serde_json` does),
    /// and clients may send `configurable` alone. [`route`](Server::route)
    /// takes a [`Route`] with other settings.
    pub fn runnable<R>(self, path: impl Into<String>, runnable: R) -> Self
    where
        R: runwright::Runnable + 'static,
        R::Input: serde::de::DeserializeOwned,
    {
        self.route(path, Route::new(runnable))
    }

    /// Serves `html` at `path` (`GET`, `text/html`): a front end of the
    /// runnables and graphs served here, from the same origin, so its
    /// requests need no CORS. Pages are public: the
    /// [`bearer_token`](Server::bearer_token) guards the API, not them (a
    /// browser loading a page sends no token; the page's own requests can).
    /// The same path given twice serves the last.
    ///
    /// ```no_run
    /// # use runwright_server::Server;
    /// # async fn run(server: Server) -> std::io::Result<()> {
    /// server.page("/", "<!doctype html><title>chat</title>…").serve("127.0.0.1:8000").await
    /// # }
    /// ```
    pub fn page(mut self, path: impl Into<String>, html: impl Into<String>) -> Self {
        let path = format!("/{}", path.into().trim_start_matches('/'));
        self.pages.retain(|(p, _)| *p != path);
        self.pages.push((path, html.into().into()));
        self
    }

    /// Serves a [`Route`] at `path`. A path is normalized to start with `/`
    /// and not end with one; the same path given twice serves the last.
    pub fn route(mut self, path: impl Into<String>, route: Route) -> Self {
        let path = normalize_path(&path.into());
        self.routes.retain(|(p, _)| *p != path);
        self.routes.push((path, route));
        self
    }

    /// Serves `graph` with the LangGraph Agent Server API, as the assistant
    /// `graph_id` (its assistant id is [`assistant_id`]`(graph_id)`, the
    /// id LangGraph's server gives a graph of its config): `POST /threads`,
    /// `POST /threads/{thread_id}/runs/stream`, ... as the `langgraph-sdk`
    /// clients call them. Threads are kept in the graph's checkpointer, or
    /// in a new [`InMemorySaver`](runwright::graph::checkpoint::InMemorySaver)
    /// for a graph without one. The same graph id given twice serves the
    /// last.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use runwright::graph::{create_react_agent, GraphTool};
    /// use runwright::messages::AIMessage;
    /// use runwright::FakeToolCallingChatModel;
    /// use runwright_server::Server;
    ///
    /// # fn main() -> runwright::Result<()> {
    /// let model = FakeToolCallingChatModel::new([AIMessage::new("hello")]);
    /// let agent = create_react_agent(model, Vec::<Arc<dyn GraphTool>>::new())?;
    /// let server = Server::new().graph("agent", agent);
    /// # Ok(()) }
    /// ```
    pub fn graph<S>(mut self, graph_id: impl Into<String>, graph: runwright::graph::CompiledGraph<S>) -> Self
    where
        S: runwright::Data + serde::de::DeserializeOwned,
    {
        let graph_id = graph_id.into();
        self.graphs.retain(|(g, _)| *g != graph_id);
        self.graphs.push((graph_id, agent::served(graph)));
        self
    }

    /// Refuses request bodies over `bytes` with `413 Payload Too Large`.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Answers `401 Unauthorized` to every request without the header
    /// `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into().into());
        self
    }

    /// Adds CORS headers (and answers preflight requests) as `layer` says,
    /// for browsers on other origins:
    ///
    /// ```
    /// use runwright_server::{CorsLayer, Server};
    /// let server = Server::new().cors(CorsLayer::permissive());
    /// ```
    pub fn cors(mut self, layer: CorsLayer) -> Self {
        self.cors = Some(layer);
        self
    }

    /// The paths served, in the order registered.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|(p, _)| p.as_str())
    }

    /// The server as an [`axum::Router`]: to nest in an application, to serve
    /// with options of your own, or to call in tests.
    pub fn into_router(self) -> Router {
        let paths: Arc<[String]> = self.routes.iter().map(|(p, _)| p.clone()).collect();
        let mut router = Router::new();
        for (path, route) in self.routes {
            router = router.merge(route.into_router(&path));
        }
        if !self.graphs.is_empty() {
            router = router.merge(agent::router(self.graphs));
        }
        let mut router = router.fallback(move |req: Request| not_found(req, paths.clone()));
        router = router.layer(DefaultBodyLimit::max(self.body_limit));
        if let Some(token) = self.bearer_token {
            router = router.layer(middleware::from_fn_with_state(token, check_token));
        }
        // After the token's layer, which wraps only the routes before it.
        for (path, html) in self.pages {
            router = router.route(&path, get(move || std::future::ready(Html(html.clone()))));
        }
        if let Some(cors) = self.cors {
            // Outermost, so preflight requests are answered without a token
            // and refusals still carry the CORS headers a browser needs to
            // read them.
            router = router.layer(cors);
        }
        router
    }

    /// Binds `addr` and serves until the process ends (or the returned
    /// future is dropped).
    pub async fn serve(self, addr: impl ToSocketAddrs) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.serve_on(listener).await
    }

    /// Serves on a listener already bound (port 0 in tests:
    /// `listener.local_addr()` says which port it got).
    ///
    /// Connections are `TCP_NODELAY`: a token goes out as soon as it is
    /// written. With Nagle's algorithm, a small write that follows another
    /// not yet acknowledged waits for the client's delayed ACK (40 ms on
    /// Linux), which is what a stream of small events does.
    pub async fn serve_on(self, listener: TcpListener) -> std::io::Result<()> {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            // Only latency is at stake: a connection it fails on still works.
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, self.into_router()).await
    }
}

fn normalize_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

async fn not_found(req: Request, paths: Arc<[String]>) -> Response {
    let served = if paths.is_empty() {
        "no runnables are served".to_owned()
    } else {
        format!("runnables are served at {}", paths.join(", "))
    };
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "Not Found: no endpoint {} {} ({served})",
            req.method(),
            req.uri().path()
        ),
    )
    .into_response()
}

async fn check_token(State(token): State<Arc<str>>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(given) if same_bytes(given.as_bytes(), token.as_bytes()) => next.run(req).await,
        Some(_) => unauthorized("the bearer token is not the server's"),
        None => unauthorized("this server needs an `Authorization: Bearer <token>` header"),
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response
}

/// Compares in a time that depends on the lengths only, so a client cannot
/// find the token byte by byte from response times.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize_path("joke"), "/joke");
        assert_eq!(normalize_path("/joke/"), "/joke");
        assert_eq!(normalize_path("/a/b"), "/a/b");
        assert_eq!(normalize_path("/"), "");
    }

    #[test]
    fn token_comparison() {
        assert!(same_bytes(b"secret", b"secret"));
        assert!(!same_bytes(b"secret", b"secreT"));
        assert!(!same_bytes(b"secret", b"secret2"));
    }
}
