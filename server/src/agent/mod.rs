//! The LangGraph Agent Server API for compiled graphs
//! ([`Server::graph`](crate::Server::graph)): assistants, threads (kept in
//! each graph's checkpointer) and runs, with the JSON shapes and SSE events
//! the official SDKs read.

mod graph;
mod runs;
mod shapes;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json as JsonBody, Router};
use futures::StreamExt;
use parking_lot::Mutex;
use runwright::graph::checkpoint::ListOptions;
use runwright::graph::Command;
use runwright::RunConfig;
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

use graph::Start;
pub(crate) use graph::{served, ServedGraph};
use runs::{Run, Status};
use shapes::now;

use crate::error::ApiError;
use crate::protocol::{kind, ConfigRules};

/// LangGraph's namespace for the ids of the assistants its server makes
/// for the graphs it is configured with (the URL namespace of RFC 4122):
/// the same graph name gives the same assistant id on both servers.
const NAMESPACE_GRAPH: Uuid = Uuid::NAMESPACE_URL;

/// The finished runs kept for `GET .../runs/{run_id}` and `join`; beyond
/// this, the oldest are forgotten.
const MAX_FINISHED_RUNS: usize = 1_000;

/// The assistant id of the graph registered as `graph_id`.
pub fn assistant_id(graph_id: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE_GRAPH, graph_id.as_bytes())
}

struct Assistant {
    id: Uuid,
    graph_id: String,
    graph: Arc<dyn ServedGraph>,
    created_at: String,
}

impl Assistant {
    fn to_json(&self) -> Json {
        json!({
            "assistant_id": self.id,
            "graph_id": self.graph_id,
            "name": self.graph_id,
            "description": null,
            "config": {},
            "context": {},
            "metadata": {"created_by": "system"},
            "version": 1,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        })
    }
}

struct Thread {
    id: String,
    created_at: String,
    /// Held by the run going on, so runs on a thread take turns (in the
    /// order they were made: tokio's lock is fair).
    turn: Arc<tokio::sync::Mutex<()>>,
    info: Mutex<ThreadInfo>,
}

struct ThreadInfo {
    updated_at: String,
    metadata: Map<String, Json>,
    status: &'static str,
    values: Json,
    interrupts: Json,
    /// The assistant whose graph keeps the thread's state (set by its
    /// first run).
    assistant: Option<usize>,
    /// The runs pending or running on it, in order.
    active: Vec<Arc<Run>>,
}

impl Thread {
    fn new(id: String, metadata: Map<String, Json>) -> Arc<Thread> {
        let created_at = now();
        Arc::new(Thread {
            id,
            turn: Arc::new(tokio::sync::Mutex::new(())),
            info: Mutex::new(ThreadInfo {
                updated_at: created_at.clone(),
                metadata,
                status: "idle",
                values: Json::Null,
                interrupts: json!({}),
                assistant: None,
                active: Vec::new(),
            }),
            created_at,
        })
    }

    fn to_json(&self) -> Json {
        let info = self.info.lock();
        json!({
            "thread_id": self.id,
            "created_at": self.created_at,
            "updated_at": info.updated_at,
            "metadata": info.metadata,
            "status": info.status,
            "values": info.values,
            "interrupts": info.interrupts,
            "config": {},
        })
    }

    fn config(&self) -> RunConfig {
        RunConfig::new().configurable("thread_id", self.id.clone())
    }
}

/// The server's registry: its assistants, threads and runs.
struct Hub {
    assistants: Vec<Assistant>,
    threads: Mutex<HashMap<String, Arc<Thread>>>,
    runs: Mutex<HashMap<Uuid, Arc<Run>>>,
    /// The finished runs, oldest first, to forget past [`MAX_FINISHED_RUNS`].
    finished: Mutex<std::collections::VecDeque<Uuid>>,
}

type Shared = State<Arc<Hub>>;

/// The Agent Server's routes for `graphs` (by graph id).
pub(crate) fn router(graphs: Vec<(String, Arc<dyn ServedGraph>)>) -> Router {
    let created_at = now();
    let hub = Arc::new(Hub {
        assistants: graphs
            .into_iter()
            .map(|(graph_id, graph)| Assistant {
                id: assistant_id(&graph_id),
                graph_id,
                graph,
                created_at: created_at.clone(),
            })
            .collect(),
        threads: Mutex::new(HashMap::new()),
        runs: Mutex::new(HashMap::new()),
        finished: Mutex::new(std::collections::VecDeque::new()),
    });
    Router::new()
        .route("/assistants/search", post(search_assistants))
        .route("/assistants/{assistant_id}", get(get_assistant))
        .route("/threads", post(create_thread))
        .route("/threads/search", post(search_threads))
        .route("/threads/{thread_id}", get(get_thread).delete(delete_thread))
        .route("/threads/{thread_id}/state", get(get_state).post(update_state))
        .route("/threads/{thread_id}/state/{checkpoint_id}", get(get_state_at))
        .route("/threads/{thread_id}/history", get(history_get).post(history_post))
        .route("/threads/{thread_id}/runs", post(create_run).get(list_runs))
        .route("/threads/{thread_id}/runs/stream", post(stream_run))
        .route("/threads/{thread_id}/runs/wait", post(wait_run))
        .route("/threads/{thread_id}/runs/{run_id}", get(get_run))
        .route("/threads/{thread_id}/runs/{run_id}/join", get(join_run))
        .route("/threads/{thread_id}/runs/{run_id}/stream", get(join_stream))
        .route("/threads/{thread_id}/runs/{run_id}/cancel", post(cancel_run))
        .route("/runs/stream", post(stateless_stream))
        .route("/runs/wait", post(stateless_wait))
        .with_state(hub)
}

impl Hub {
    fn assistant(&self, id: &str) -> Result<usize, ApiError> {
        let uuid = Uuid::parse_str(id).ok();
        self.assistants
            .iter()
            .position(|a| Some(a.id) == uuid || a.graph_id == id)
            .ok_or_else(|| {
                let known: Vec<String> = self
                    .assistants
                    .iter()
                    .map(|a| format!("{} ({})", a.graph_id, a.id))
                    .collect();
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("Assistant `{id}` not found (assistants: {})", known.join(", ")),
                )
            })
    }

    fn thread(&self, id: &str) -> Result<Arc<Thread>, ApiError> {
        self.threads
            .lock()
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("Thread `{id}` not found")))
    }

    fn run(&self, thread_id: &str, run_id: &str) -> Result<Arc<Run>, ApiError> {
        let not_found = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("Run `{run_id}` not found on thread `{thread_id}`"),
            )
        };
        let id = Uuid::parse_str(run_id).map_err(|_| not_found())?;
        let run = self.runs.lock().get(&id).cloned().ok_or_else(not_found)?;
        if run.thread_id.as_deref() != Some(thread_id) {
            return Err(not_found());
        }
        Ok(run)
    }

    /// The graph keeping `thread`'s state: its runs' assistant's, or the
    /// only one served.
    fn graph_of(&self, thread: &Thread) -> Result<Option<Arc<dyn ServedGraph>>, ApiError> {
        if let Some(i) = thread.info.lock().assistant {
            return Ok(Some(self.assistants[i].graph.clone()));
        }
        match self.assistants.as_slice() {
            [one] => Ok(Some(one.graph.clone())),
            _ => Ok(None),
        }
    }

    fn forget_finished(&self, run: Uuid) {
        let mut finished = self.finished.lock();
        finished.push_back(run);
        while finished.len() > MAX_FINISHED_RUNS {
            if let Some(old) = finished.pop_front() {
                self.runs.lock().remove(&old);
            }
        }
    }
}

fn body(bytes: &[u8]) -> Result<Map<String, Json>, ApiError> {
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Json>(bytes) {
        Ok(Json::Object(body)) => Ok(body),
        Ok(Json::Null) => Ok(Map::new()),
        Ok(other) => Err(ApiError::invalid(format!(
            "the request body must be a JSON object, not {}",
            kind(&other)
        ))),
        Err(e) => Err(ApiError::invalid(format!("Invalid JSON body: {e}"))),
    }
}

/// The query's `key=value` pairs (values this API takes need no decoding).
fn query(uri: &Uri) -> Map<String, Json> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let value = v.parse::<u64>().map(Json::from).unwrap_or_else(|_| Json::from(v));
            (k.to_owned(), value)
        })
        .collect()
}

/// Whether a query flag is set: `1` (as the SDK sends `wait`) or `true`.
fn truthy(query: &Map<String, Json>, key: &str) -> bool {
    match query.get(key) {
        Some(Json::Number(n)) => n.as_u64() == Some(1),
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn internal(error: &runwright::Error) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("Internal Server Error: {}", error.type_name()),
    )
}

// ---- assistants

async fn search_assistants(State(hub): Shared, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    let body = body(&bytes)?;
    let graph_id = shapes::string(&body, "graph_id")?;
    let name = shapes::string(&body, "name")?;
    let limit = shapes::count(&body, "limit")?.unwrap_or(10);
    let offset = shapes::count(&body, "offset")?.unwrap_or(0);
    let metadata = shapes::object(&body, "metadata")?;
    let found: Vec<Json> = hub
        .assistants
        .iter()
        .filter(|a| graph_id.is_none_or(|g| g == a.graph_id))
        .filter(|a| name.is_none_or(|n| n == a.graph_id))
        .map(Assistant::to_json)
        .filter(|a| metadata.iter().all(|(k, v)| a["metadata"].get(k) == Some(v)))
        .skip(offset)
        .take(limit)
        .collect();
    Ok(JsonBody(Json::Array(found)))
}

async fn get_assistant(State(hub): Shared, Path(id): Path<String>) -> Result<JsonBody<Json>, ApiError> {
    let i = hub.assistant(&id)?;
    Ok(JsonBody(hub.assistants[i].to_json()))
}

// ---- threads

async fn create_thread(State(hub): Shared, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    let body = body(&bytes)?;
    let metadata = shapes::object(&body, "metadata")?;
    let id = match shapes::string(&body, "thread_id")? {
        Some(id) => Uuid::parse_str(id)
            .map_err(|_| ApiError::invalid(format!("`thread_id` must be a UUID, not `{id}`")))?
            .to_string(),
        None => Uuid::new_v4().to_string(),
    };
    let if_exists = shapes::string(&body, "if_exists")?.unwrap_or("raise");
    if !["raise", "do_nothing"].contains(&if_exists) {
        return Err(ApiError::invalid(format!(
            "`if_exists` must be `raise` or `do_nothing`, not `{if_exists}`"
        )));
    }
    let mut threads = hub.threads.lock();
    if let Some(existing) = threads.get(&id) {
        if if_exists == "do_nothing" {
            return Ok(JsonBody(existing.to_json()));
        }
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Thread `{id}` already exists"),
        ));
    }
    let thread = Thread::new(id.clone(), metadata);
    threads.insert(id, thread.clone());
    Ok(JsonBody(thread.to_json()))
}

async fn get_thread(State(hub): Shared, Path(id): Path<String>) -> Result<JsonBody<Json>, ApiError> {
    Ok(JsonBody(hub.thread(&id)?.to_json()))
}

async fn search_threads(State(hub): Shared, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    let body = body(&bytes)?;
    let metadata = shapes::object(&body, "metadata")?;
    let values = shapes::object(&body, "values")?;
    let status = shapes::string(&body, "status")?;
    let limit = shapes::count(&body, "limit")?.unwrap_or(10);
    let offset = shapes::count(&body, "offset")?.unwrap_or(0);
    let mut threads: Vec<Json> = hub.threads.lock().values().map(|t| t.to_json()).collect();
    threads.retain(|t| {
        status.is_none_or(|s| t["status"] == s)
            && metadata.iter().all(|(k, v)| t["metadata"].get(k) == Some(v))
            && values.iter().all(|(k, v)| t["values"].get(k) == Some(v))
    });
    // Newest first, as the API sorts by default.
    threads.sort_by(|a, b| b["created_at"].as_str().cmp(&a["created_at"].as_str()));
    Ok(JsonBody(Json::Array(
        threads.into_iter().skip(offset).take(limit).collect(),
    )))
}

async fn delete_thread(State(hub): Shared, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let thread = hub.thread(&id)?;
    let active: Vec<Arc<Run>> = thread.info.lock().active.clone();
    for run in active {
        run.cancel();
    }
    if let Some(graph) = hub.graph_of(&thread)? {
        graph.delete_thread(id.clone()).await.map_err(|e| internal(&e))?;
    }
    hub.threads.lock().remove(&id);
    Ok(StatusCode::NO_CONTENT)
}

async fn state_json(hub: &Hub, thread: &Thread, config: RunConfig) -> Result<Json, ApiError> {
    match hub.graph_of(thread)? {
        Some(graph) => {
            let snapshot = graph.get_state(config).await.map_err(|e| internal(&e))?;
            Ok(shapes::thread_state(&snapshot))
        }
        None => Ok(json!({
            "values": {}, "next": [], "tasks": [], "metadata": null, "created_at": null,
            "checkpoint": {"thread_id": thread.id, "checkpoint_ns": "", "checkpoint_id": null, "checkpoint_map": null},
            "parent_checkpoint": null, "interrupts": [],
        })),
    }
}

async fn get_state(State(hub): Shared, Path(id): Path<String>) -> Result<JsonBody<Json>, ApiError> {
    let thread = hub.thread(&id)?;
    Ok(JsonBody(state_json(&hub, &thread, thread.config()).await?))
}

async fn get_state_at(
    State(hub): Shared,
    Path((id, checkpoint_id)): Path<(String, String)>,
) -> Result<JsonBody<Json>, ApiError> {
    let thread = hub.thread(&id)?;
    let config = thread.config().configurable("checkpoint_id", checkpoint_id);
    Ok(JsonBody(state_json(&hub, &thread, config).await?))
}

async fn update_state(State(hub): Shared, Path(id): Path<String>, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    let body = body(&bytes)?;
    let thread = hub.thread(&id)?;
    let values = body.get("values").cloned().unwrap_or(Json::Null);
    if !matches!(values, Json::Object(_) | Json::Null) {
        return Err(ApiError::invalid(format!(
            "`values` must be an object of state keys, not {}",
            kind(&values)
        )));
    }
    let as_node = shapes::string(&body, "as_node")?.map(str::to_owned);
    let mut config = thread.config();
    if let Some(at) = checkpoint_id(&body)? {
        config = config.configurable("checkpoint_id", at);
    }
    let Some(graph) = hub.graph_of(&thread)? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Thread `{id}` has had no run, so which graph's state it holds is not known"),
        ));
    };
    let busy = !thread.info.lock().active.is_empty();
    if busy {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Thread `{id}` is busy with a run"),
        ));
    }
    let done = graph
        .update_state(config, values, as_node)
        .await
        .map_err(|e| match e.kind() {
            // The client's own mistakes (an unknown `as_node`, values that
            // are not the state's): named; anything else stays on the server.
            runwright::ErrorKind::InvalidInput | runwright::ErrorKind::Usage => {
                ApiError::invalid(format!("the update does not apply: {}", e.message()))
            }
            _ => internal(&e),
        })?;
    let mut checkpoint = Map::new();
    checkpoint.insert("thread_id".into(), json!(id));
    for key in ["checkpoint_ns", "checkpoint_id"] {
        checkpoint.insert(key.into(), done.configurable.get(key).cloned().unwrap_or(json!("")));
    }
    refresh_thread(&graph, &thread, None).await;
    Ok(JsonBody(json!({ "checkpoint": checkpoint })))
}

/// The `checkpoint_id` or `checkpoint.checkpoint_id` of a request.
fn checkpoint_id(body: &Map<String, Json>) -> Result<Option<String>, ApiError> {
    if let Some(id) = shapes::string(body, "checkpoint_id")? {
        return Ok(Some(id.to_owned()));
    }
    let checkpoint = shapes::object(body, "checkpoint")?;
    Ok(shapes::string(&checkpoint, "checkpoint_id")?.map(str::to_owned))
}

async fn history(hub: &Hub, id: &str, body: Map<String, Json>) -> Result<JsonBody<Json>, ApiError> {
    let thread = hub.thread(id)?;
    let limit = shapes::count(&body, "limit")?.unwrap_or(10);
    let filter = shapes::object(&body, "metadata")?;
    let before = match body.get("before") {
        None | Some(Json::Null) => None,
        Some(Json::String(id)) => Some(id.clone()),
        Some(Json::Object(before)) => shapes::string(before, "checkpoint_id")?.map(str::to_owned),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "`before` must be a checkpoint, not {}",
                kind(other)
            )))
        }
    };
    let mut config = thread.config();
    if let Some(at) = checkpoint_id(&body)? {
        config = config.configurable("checkpoint_id", at);
    }
    let Some(graph) = hub.graph_of(&thread)? else {
        return Ok(JsonBody(json!([])));
    };
    let options = ListOptions {
        before,
        limit: Some(limit),
        filter: filter.into_iter().collect(),
    };
    let states = graph.history(config, options).await.map_err(|e| internal(&e))?;
    Ok(JsonBody(Json::Array(states.iter().map(shapes::thread_state).collect())))
}

async fn history_get(State(hub): Shared, Path(id): Path<String>, uri: Uri) -> Result<JsonBody<Json>, ApiError> {
    history(&hub, &id, query(&uri)).await
}

async fn history_post(State(hub): Shared, Path(id): Path<String>, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    let body = body(&bytes)?;
    history(&hub, &id, body).await
}

/// Reads the thread's state into its record: values, interrupts, status.
async fn refresh_thread(graph: &Arc<dyn ServedGraph>, thread: &Thread, failed: Option<bool>) {
    let snapshot = graph.get_state(thread.config()).await.ok();
    let mut info = thread.info.lock();
    info.updated_at = now();
    if let Some(s) = &snapshot {
        info.values = Json::Object(s.values.clone());
        info.interrupts = shapes::interrupts_by_task(s);
    }
    let interrupted = snapshot.as_ref().is_some_and(|s| !s.interrupts.is_empty());
    info.status = if !info.active.is_empty() {
        "busy"
    } else if failed == Some(true) {
        "error"
    } else if interrupted {
        "interrupted"
    } else {
        "idle"
    };
}

// ---- runs

/// How a run's creator wants it: its stream's settings and what a client
/// going away does.
struct Made {
    run: Arc<Run>,
    cancel_on_disconnect: bool,
}

/// Makes a run on `thread_id` (none: a stateless run on a thread of its
/// own, deleted when it ends) from the request `bytes`, and starts it.
fn start_run(hub: &Arc<Hub>, thread_id: Option<&str>, bytes: &[u8]) -> Result<Made, ApiError> {
    let mut body = body(bytes)?;
    let assistant = match body.get("assistant_id") {
        Some(Json::String(id)) => hub.assistant(id)?,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "`assistant_id` must be a string, not {}",
                kind(other)
            )))
        }
        None => {
            return Err(ApiError::invalid(
                "Field required: the request body has no `assistant_id`",
            ))
        }
    };
    let (thread, stateless) = match thread_id {
        Some(id) => match hub.thread(id) {
            Ok(thread) => (thread, false),
            Err(_) if shapes::string(&body, "if_not_exists")? == Some("create") => {
                let thread = Thread::new(id.to_owned(), Map::new());
                let thread = hub.threads.lock().entry(id.to_owned()).or_insert(thread).clone();
                (thread, false)
            }
            Err(e) => return Err(e),
        },
        None => (Thread::new(Uuid::new_v4().to_string(), Map::new()), true),
    };
    {
        let info = thread.info.lock();
        if let Some(other) = info.assistant {
            if other != assistant {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "Thread `{}` holds the state of graph `{}`, not `{}`",
                        thread.id, hub.assistants[other].graph_id, hub.assistants[assistant].graph_id
                    ),
                ));
            }
        }
    }
    let graph = hub.assistants[assistant].graph.clone();

    let start = match body.remove("command") {
        Some(command) if !command.is_null() => Start::Command(shapes::command(&command)?),
        _ => match body.remove("input") {
            Some(input) if !input.is_null() => Start::Input(input),
            _ if stateless => {
                return Err(ApiError::invalid(
                    "Field required: a stateless run needs an `input` (or a `command`)",
                ))
            }
            // Go on from the thread's checkpoint.
            _ => Start::Command(Command::default()),
        },
    };
    let modes = shapes::stream_modes(body.get("stream_mode"))?;
    let subgraphs = match body.get("stream_subgraphs") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "`stream_subgraphs` must be a boolean, not {}",
                kind(other)
            )))
        }
    };
    let rules = ConfigRules {
        keys: ["configurable", "tags", "metadata", "recursion_limit"]
            .map(String::from)
            .to_vec(),
        run_name: hub.assistants[assistant].graph_id.clone(),
    };
    let mut config = rules.config(body.get("config"))?;
    // The runtime context rides in `configurable`, where nodes read it.
    config.configurable.extend(shapes::object(&body, "context")?);
    config.configurable.insert("thread_id".into(), json!(thread.id));
    if let Some(at) = checkpoint_id(&body)? {
        config.configurable.insert("checkpoint_id".into(), json!(at));
    }
    let metadata = shapes::object(&body, "metadata")?;
    config.metadata.extend(metadata.clone());
    for key in ["interrupt_before", "interrupt_after"] {
        match body.get(key) {
            None | Some(Json::Null) => {}
            Some(Json::Array(a)) if a.is_empty() => {}
            Some(_) => {
                return Err(ApiError::invalid(format!(
                    "`{key}` is not taken at run time here: compile the graph with `StateGraph::{key}`"
                )))
            }
        }
    }
    let strategy = shapes::string(&body, "multitask_strategy")?
        .unwrap_or("reject")
        .to_owned();
    if !["reject", "enqueue", "interrupt"].contains(&strategy.as_str()) {
        return Err(ApiError::invalid(format!(
            "`multitask_strategy` must be `reject`, `enqueue` or `interrupt`, not `{strategy}`"
        )));
    }
    let default_disconnect = "cancel";
    let cancel_on_disconnect = match shapes::string(&body, "on_disconnect")?.unwrap_or(default_disconnect) {
        "cancel" => true,
        "continue" => false,
        other => {
            return Err(ApiError::invalid(format!(
                "`on_disconnect` must be `cancel` or `continue`, not `{other}`"
            )))
        }
    };

    let stream = graph.stream(start, modes, subgraphs, config)?;
    let run = Run::new(
        (!stateless).then(|| thread.id.clone()),
        hub.assistants[assistant].id,
        Json::Object(metadata),
        strategy.clone(),
    );
    {
        let mut info = thread.info.lock();
        if let Some(busy) = info.active.first() {
            match strategy.as_str() {
                "reject" => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        format!(
                            "Thread `{}` is busy with run `{}` (multitask_strategy `reject`)",
                            thread.id, busy.id
                        ),
                    ))
                }
                "interrupt" => info.active.iter().for_each(|r| r.cancel()),
                _ => {}
            }
        }
        info.assistant = Some(assistant);
        info.active.push(run.clone());
        info.status = "busy";
        info.updated_at = now();
        if !stateless {
            let graph_id = hub.assistants[assistant].graph_id.clone();
            info.metadata.entry("graph_id").or_insert(json!(graph_id));
            info.metadata
                .entry("assistant_id")
                .or_insert(json!(hub.assistants[assistant].id));
        }
    }
    hub.runs.lock().insert(run.id, run.clone());
    run.push("metadata", &json!({ "run_id": run.id, "attempt": 1 }));

    let failed = Arc::new(Mutex::new(false));
    let work = {
        let (run, thread, failed) = (run.clone(), thread.clone(), failed.clone());
        async move {
            let _turn = thread.turn.clone().lock_owned().await;
            run.set_status(Status::Running);
            let mut stream = stream;
            while let Some(item) = stream.next().await {
                match item {
                    Ok((ns, mode, payload)) => run.push(shapes::event_name(&ns, mode), &payload),
                    Err(e) => {
                        *failed.lock() = true;
                        // The error's message stays on the server, as the
                        // LangServe side keeps it.
                        run.push(
                            "error",
                            &json!({ "error": e.type_name(), "message": "Internal Server Error" }),
                        );
                        break;
                    }
                }
            }
        }
    };
    let finish = {
        let (hub, run, thread) = (hub.clone(), run.clone(), thread.clone());
        move |cancelled: bool| async move {
            let failed = *failed.lock();
            thread.info.lock().active.retain(|r| r.id != run.id);
            let snapshot = graph.get_state(thread.config()).await.ok();
            let mut output = snapshot
                .as_ref()
                .map(|s| Json::Object(s.values.clone()))
                .unwrap_or(Json::Null);
            let interrupted = snapshot.as_ref().is_some_and(|s| !s.interrupts.is_empty());
            if interrupted {
                if let (Some(out), Some(s)) = (output.as_object_mut(), &snapshot) {
                    out.insert("__interrupt__".into(), json!(s.interrupts));
                }
            }
            if failed {
                output = json!({ "__error__": { "error": "Error", "message": "Internal Server Error" } });
            }
            if stateless {
                let _ = graph.delete_thread(thread.id.clone()).await;
            } else {
                refresh_thread(&graph, &thread, Some(failed)).await;
            }
            let status = if cancelled {
                Status::Interrupted
            } else if failed {
                Status::Error
            } else {
                Status::Success
            };
            if !cancelled && !failed {
                run.push("end", &Json::Null);
            }
            run.finish(status, output);
            hub.forget_finished(run.id);
        }
    };
    runs::spawn(&run, work, finish);
    Ok(Made {
        run,
        cancel_on_disconnect,
    })
}

fn stream_response(made: Made, thread_id: Option<&str>) -> Response {
    let events = runs::sse(&made.run, None, made.cancel_on_disconnect);
    let mut response = Sse::new(events).keep_alive(KeepAlive::default()).into_response();
    if let Some(thread_id) = thread_id {
        let location = format!("/threads/{thread_id}/runs/{}/stream", made.run.id);
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value.clone());
            response.headers_mut().insert(header::CONTENT_LOCATION, value);
        }
    }
    response
}

async fn stream_run(State(hub): Shared, Path(id): Path<String>, bytes: Bytes) -> Result<Response, ApiError> {
    let made = start_run(&hub, Some(&id), &bytes)?;
    Ok(stream_response(made, Some(&id)))
}

async fn stateless_stream(State(hub): Shared, bytes: Bytes) -> Result<Response, ApiError> {
    let made = start_run(&hub, None, &bytes)?;
    Ok(stream_response(made, None))
}

/// Waits for the run and answers its output; a client that goes away
/// first cancels it (unless `on_disconnect` is `continue`).
async fn wait_for(made: Made) -> JsonBody<Json> {
    let guard = runs::CancelOnDrop::new(&made.run, made.cancel_on_disconnect);
    made.run.join().await;
    drop(guard);
    JsonBody(made.run.output())
}

async fn wait_run(State(hub): Shared, Path(id): Path<String>, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    let made = start_run(&hub, Some(&id), &bytes)?;
    Ok(wait_for(made).await)
}

async fn stateless_wait(State(hub): Shared, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    let made = start_run(&hub, None, &bytes)?;
    Ok(wait_for(made).await)
}

async fn create_run(State(hub): Shared, Path(id): Path<String>, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    // A background run goes on whatever its creator does.
    let made = start_run(&hub, Some(&id), &bytes)?;
    Ok(JsonBody(made.run.to_json()))
}

async fn list_runs(State(hub): Shared, Path(id): Path<String>) -> Result<JsonBody<Json>, ApiError> {
    hub.thread(&id)?;
    let mut runs: Vec<Json> = hub
        .runs
        .lock()
        .values()
        .filter(|r| r.thread_id.as_deref() == Some(id.as_str()))
        .map(|r| r.to_json())
        .collect();
    runs.sort_by(|a, b| b["created_at"].as_str().cmp(&a["created_at"].as_str()));
    Ok(JsonBody(Json::Array(runs)))
}

async fn get_run(
    State(hub): Shared,
    Path((thread_id, run_id)): Path<(String, String)>,
) -> Result<JsonBody<Json>, ApiError> {
    hub.thread(&thread_id)?;
    Ok(JsonBody(hub.run(&thread_id, &run_id)?.to_json()))
}

async fn join_run(
    State(hub): Shared,
    Path((thread_id, run_id)): Path<(String, String)>,
) -> Result<JsonBody<Json>, ApiError> {
    hub.thread(&thread_id)?;
    let run = hub.run(&thread_id, &run_id)?;
    run.join().await;
    Ok(JsonBody(run.output()))
}

async fn join_stream(
    State(hub): Shared,
    Path((thread_id, run_id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    hub.thread(&thread_id)?;
    let run = hub.run(&thread_id, &run_id)?;
    let after = match headers.get("last-event-id") {
        None => None,
        Some(v) => match v.to_str().ok().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                ApiError::invalid(format!(
                    "the Last-Event-ID header must be an event id this server sent (a number), not `{v}`"
                ))
            })?),
        },
    };
    let cancel = truthy(&query(&uri), "cancel_on_disconnect");
    Ok(Sse::new(runs::sse(&run, after, cancel))
        .keep_alive(KeepAlive::default())
        .into_response())
}

async fn cancel_run(
    State(hub): Shared,
    Path((thread_id, run_id)): Path<(String, String)>,
    uri: Uri,
) -> Result<StatusCode, ApiError> {
    hub.thread(&thread_id)?;
    let run = hub.run(&thread_id, &run_id)?;
    run.cancel();
    if truthy(&query(&uri), "wait") {
        run.join().await;
    }
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assistant_ids_are_uuid5_of_the_graph_id() {
        // uuid5(NAMESPACE_URL, "agent"), as Python's uuid module makes it.
        assert_eq!(
            assistant_id("agent").to_string(),
            "7c9fac6d-1b9a-54e5-89e7-6c8b5e3ae414"
        );
    }

    #[test]
    fn query_pairs() {
        let uri: Uri = "/x?limit=5&wait=true&a=1&b=0&c=False".parse().unwrap_or_default();
        let q = query(&uri);
        assert_eq!(q.get("limit"), Some(&json!(5)));
        assert_eq!(q.get("wait"), Some(&json!("true")));
        assert!(truthy(&q, "wait") && truthy(&q, "a"));
        assert!(!truthy(&q, "b") && !truthy(&q, "c") && !truthy(&q, "missing"));
    }
}
