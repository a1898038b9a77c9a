//! One served runnable: its endpoints and their handlers.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use axum::routing::{get, post};
use axum::{Json as JsonBody, Router};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt};
use runwright::{EventFilter, LogOptions, RunConfig, Runnable, RunnableExt};
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

use crate::error::ApiError;
use crate::protocol::{self, ConfigRules};
use crate::rooted::Rooted;

/// Where the id of a request's root run lands once the run has started.
type RunId = Arc<OnceLock<Uuid>>;

/// A runnable to serve, with its settings: which config keys clients may
/// send, and the schemas its `*_schema` endpoints answer.
///
/// ```
/// use runwright::{ChatPromptTemplate, GenericFakeChatModel, StrOutputParser};
/// use runwright_server::{schema, Route, Server};
///
/// # fn main() -> runwright::Result<()> {
/// let chain = ChatPromptTemplate::from_template("tell me a joke about {topic}")?
///     | GenericFakeChatModel::new(["a joke"]).repeating()
///     | StrOutputParser;
/// let route = Route::new(chain)
///     .config_keys(["configurable", "tags"])
///     .input_schema(schema::prompt_input(["topic"]))
///     .output_schema(schema::string("StrOutputParserOutput"));
/// let server = Server::new().route("/joke", route);
/// # Ok(()) }
/// ```
#[must_use = "a route does nothing until given to a Server"]
pub struct Route {
    served: Arc<dyn Served>,
    config_keys: Vec<String>,
    input_schema: Option<Json>,
    output_schema: Option<Json>,
    config_schema: Option<Json>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("runnable", &self.served.name())
            .field("config_keys", &self.config_keys)
            .finish_non_exhaustive()
    }
}

impl Route {
    /// Serves `runnable`. Its input is the request's `input` converted into
    /// `R::Input` as `serde_json` converts it; its output and chunks are
    /// sent as their JSON.
    pub fn new<R>(runnable: R) -> Self
    where
        R: Runnable + 'static,
        R::Input: serde::de::DeserializeOwned,
    {
        Route {
            served: Arc::new(Typed(Arc::new(runnable))),
            config_keys: vec!["configurable".to_owned()],
            input_schema: None,
            output_schema: None,
            config_schema: None,
        }
    }

    /// The config keys taken from clients (LangServe's `config_keys`; by
    /// default `configurable` alone). Known keys: `configurable`, `tags`,
    /// `metadata`, `max_concurrency`, `recursion_limit`; others are never
    /// taken, and `run_name` is always the route's path.
    pub fn config_keys<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.config_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// The JSON schema `GET <path>/input_schema` answers. When it is an
    /// object schema (`"type": "object"`), requests are also checked
    /// against it before the run starts: an input that is not an object,
    /// or lacks a `required` key, is answered `422`.
    pub fn input_schema(mut self, schema: Json) -> Self {
        self.input_schema = Some(schema);
        self
    }

    /// The JSON schema `GET <path>/output_schema` answers.
    pub fn output_schema(mut self, schema: Json) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// The JSON schema `GET <path>/config_schema` answers.
    pub fn config_schema(mut self, schema: Json) -> Self {
        self.config_schema = Some(schema);
        self
    }

    pub(crate) fn into_router(self, path: &str) -> Router {
        let name = self.served.name();
        let state = Arc::new(RouteState {
            rules: ConfigRules {
                keys: self.config_keys,
                run_name: if path.is_empty() {
                    "/".to_owned()
                } else {
                    path.to_owned()
                },
            },
            input_schema: self
                .input_schema
                .unwrap_or_else(|| json!({ "title": format!("{name}Input") })),
            output_schema: self
                .output_schema
                .unwrap_or_else(|| json!({ "title": format!("{name}Output") })),
            config_schema: self
                .config_schema
                .unwrap_or_else(|| json!({ "properties": {}, "title": format!("{name}Config"), "type": "object" })),
            served: self.served,
        });
        Router::new()
            .route(&format!("{path}/invoke"), post(invoke))
            .route(&format!("{path}/batch"), post(batch))
            .route(&format!("{path}/stream"), post(stream))
            .route(&format!("{path}/stream_log"), post(stream_log))
            .route(&format!("{path}/stream_events"), post(stream_events))
            .route(
                &format!("{path}/input_schema"),
                get(|s: State<Arc<RouteState>>| schema_of(s, |s| &s.input_schema)),
            )
            .route(
                &format!("{path}/output_schema"),
                get(|s: State<Arc<RouteState>>| schema_of(s, |s| &s.output_schema)),
            )
            .route(
                &format!("{path}/config_schema"),
                get(|s: State<Arc<RouteState>>| schema_of(s, |s| &s.config_schema)),
            )
            .with_state(state)
    }
}

/// JSON schemas in the shapes LangChain gives them, for
/// [`Route::input_schema`] and [`Route::output_schema`].
pub mod schema {
    use serde_json::{json, Map, Value as Json};

    /// A prompt's input: an object of string variables, all required
    /// (LangChain's `PromptInput`).
    ///
    /// ```
    /// let schema = runwright_server::schema::prompt_input(["topic"]);
    /// assert_eq!(schema["properties"]["topic"], serde_json::json!({"title": "Topic", "type": "string"}));
    /// assert_eq!(schema["required"], serde_json::json!(["topic"]));
    /// ```
    pub fn prompt_input<I: IntoIterator<Item = S>, S: AsRef<str>>(variables: I) -> Json {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for v in variables {
            let v = v.as_ref();
            properties.insert(v.to_owned(), json!({ "title": title(v), "type": "string" }));
            required.push(Json::from(v));
        }
        json!({ "properties": properties, "required": required, "title": "PromptInput", "type": "object" })
    }

    /// A string, titled `title` (`StrOutputParserOutput`).
    pub fn string(title: &str) -> Json {
        json!({ "title": title, "type": "string" })
    }

    /// Pydantic's field title: words split at `_`, each capitalized.
    fn title(name: &str) -> String {
        name.split('_')
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut chars = w.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

struct RouteState {
    served: Arc<dyn Served>,
    rules: ConfigRules,
    input_schema: Json,
    output_schema: Json,
    config_schema: Json,
}

impl RouteState {
    /// The checks an object input schema allows before a run starts.
    fn check_input(&self, input: &Json, at: &str) -> Result<(), ApiError> {
        let schema = &self.input_schema;
        if schema.get("type").and_then(Json::as_str) != Some("object") {
            return Ok(());
        }
        let Some(object) = input.as_object() else {
            return Err(ApiError::invalid(format!(
                "{at} must be an object, not {}",
                protocol::kind(input)
            )));
        };
        let missing: Vec<&str> = schema
            .get("required")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .filter(|key| !object.contains_key(*key))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(format!(
                "{at} lacks the required key(s) {}",
                missing.join(", ")
            )))
        }
    }
}

/// A runnable behind JSON: what the handlers need of it, whatever its types.
/// Each call converts the input first (a `422` when it does not convert),
/// then gives a `'static` future or stream that owns the runnable's `Arc`.
trait Served: Send + Sync {
    fn name(&self) -> String;
    /// The run, and the slot of its root run's id.
    fn invoke(
        &self,
        input: Json,
        config: RunConfig,
    ) -> Result<(BoxFuture<'static, runwright::Result<Json>>, RunId), ApiError>;
    /// The chunks, and the slot of the root run's id.
    fn stream(
        &self,
        input: Json,
        config: RunConfig,
    ) -> Result<(BoxStream<'static, runwright::Result<Json>>, RunId), ApiError>;
    fn stream_log(
        &self,
        input: Json,
        options: LogOptions,
    ) -> Result<BoxStream<'static, runwright::Result<Json>>, ApiError>;
    fn stream_events(
        &self,
        input: Json,
        config: RunConfig,
        filter: EventFilter,
    ) -> Result<BoxStream<'static, runwright::Result<Json>>, ApiError>;
}

struct Typed<R>(Arc<R>);

impl<R> Typed<R>
where
    R: Runnable + 'static,
    R::Input: serde::de::DeserializeOwned,
{
    fn input(&self, input: Json) -> Result<R::Input, ApiError> {
        serde_json::from_value(input).map_err(|e| {
            ApiError::invalid(format!(
                "the input does not fit runnable `{}` (it takes `{}`): {e}",
                self.0.name(),
                std::any::type_name::<R::Input>()
            ))
        })
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> runwright::Result<Json> {
    Ok(serde_json::to_value(value)?)
}

impl<R> Served for Typed<R>
where
    R: Runnable + 'static,
    R::Input: serde::de::DeserializeOwned,
{
    fn name(&self) -> String {
        self.0.name().into_owned()
    }

    fn invoke(
        &self,
        input: Json,
        config: RunConfig,
    ) -> Result<(BoxFuture<'static, runwright::Result<Json>>, RunId), ApiError> {
        let input = self.input(input)?;
        let (runnable, run_id) = Rooted::new(self.0.clone());
        Ok((
            async move { to_json(&runnable.invoke_with(input, config).await?) }.boxed(),
            run_id,
        ))
    }

    fn stream(
        &self,
        input: Json,
        config: RunConfig,
    ) -> Result<(BoxStream<'static, runwright::Result<Json>>, RunId), ApiError> {
        let input = self.input(input)?;
        let (runnable, run_id) = Rooted::new(self.0.clone());
        // runwright's owned streams take no config; this is the same
        // generator, owning the runnable the borrowed stream borrows, so
        // that dropping it drops the run.
        let chunks = async_stream::stream! {
            let mut chunks = runnable.stream_with(input, config);
            while let Some(chunk) = chunks.next().await {
                yield chunk.and_then(|c| to_json(&c));
            }
        };
        Ok((chunks.boxed(), run_id))
    }

    fn stream_log(
        &self,
        input: Json,
        options: LogOptions,
    ) -> Result<BoxStream<'static, runwright::Result<Json>>, ApiError> {
        let input = self.input(input)?;
        let patches = self.0.clone().stream_log_owned(input, options);
        Ok(patches.map(|p| p.map(|p| json!({ "ops": p.ops }))).boxed())
    }

    fn stream_events(
        &self,
        input: Json,
        config: RunConfig,
        filter: EventFilter,
    ) -> Result<BoxStream<'static, runwright::Result<Json>>, ApiError> {
        let input = self.input(input)?;
        let events = self.0.clone().stream_events_owned_with(input, config, filter);
        Ok(events
            .map(|e| {
                e.map(|e| {
                    let mut json = e.to_json();
                    // LangServe keeps metadata keys starting with `__` on the
                    // server.
                    if let Some(Json::Object(metadata)) = json.get_mut("metadata") {
                        metadata.retain(|k, _| !k.starts_with("__"));
                    }
                    json
                })
            })
            .boxed())
    }
}

/// LangServe's `InvokeResponseMetadata` with no feedback tokens.
fn response_metadata(run_id: Uuid) -> Json {
    json!({ "run_id": run_id.to_string(), "feedback_tokens": [] })
}

/// The root run's id, once it has started (a fresh one if it never did).
fn id_of(run_id: &RunId) -> Uuid {
    run_id.get().copied().unwrap_or_else(Uuid::new_v4)
}

/// The request's input and config, checked.
fn call(state: &RouteState, bytes: &[u8]) -> Result<(Map<String, Json>, Json, RunConfig), ApiError> {
    let mut body = protocol::body(bytes)?;
    let input = protocol::field(&mut body, "input")?;
    state.check_input(&input, "input")?;
    let config = state.rules.config(body.get("config"))?;
    Ok((body, input, config))
}

async fn invoke(State(state): State<Arc<RouteState>>, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    let (_, input, config) = call(&state, &bytes)?;
    let (run, run_id) = state.served.invoke(input, config)?;
    let output = run.await.map_err(|e| ApiError::from_run(&e))?;
    Ok(JsonBody(
        json!({ "output": output, "metadata": response_metadata(id_of(&run_id)) }),
    ))
}

async fn batch(State(state): State<Arc<RouteState>>, bytes: Bytes) -> Result<JsonBody<Json>, ApiError> {
    let mut body = protocol::body(&bytes)?;
    let inputs = match protocol::field(&mut body, "inputs")? {
        Json::Array(inputs) => inputs,
        other => {
            return Err(ApiError::invalid(format!(
                "inputs must be a list, not {}",
                protocol::kind(&other)
            )));
        }
    };
    let configs = match body.get("config") {
        Some(Json::Array(configs)) => {
            if configs.len() != inputs.len() {
                return Err(ApiError::invalid(format!(
                    "Number of configs ({}) must match number of inputs ({})",
                    configs.len(),
                    inputs.len()
                )));
            }
            configs
                .iter()
                .map(|c| state.rules.config(Some(c)))
                .collect::<Result<Vec<_>, _>>()?
        }
        None | Some(Json::Null) | Some(Json::Object(_)) => {
            let config = state.rules.config(body.get("config"))?;
            vec![config; inputs.len()]
        }
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Value for 'config' key must be a dict or list if provided, not {}",
                protocol::kind(other)
            )));
        }
    };
    let limit = configs
        .first()
        .and_then(|c| c.max_concurrency)
        .unwrap_or(usize::MAX)
        .max(1);
    let mut runs = Vec::with_capacity(inputs.len());
    let mut run_ids = Vec::with_capacity(inputs.len());
    for (i, (input, config)) in inputs.into_iter().zip(configs).enumerate() {
        let at = format!("inputs[{i}]");
        state.check_input(&input, &at)?;
        let (run, run_id) = state.served.invoke(input, config).map_err(|e| e.prefixed(&at))?;
        runs.push(run);
        run_ids.push(run_id);
    }
    let outputs: Vec<runwright::Result<Json>> = futures::stream::iter(runs).buffered(limit).collect().await;
    let outputs = outputs
        .into_iter()
        .collect::<runwright::Result<Vec<Json>>>()
        .map_err(|e| ApiError::from_run(&e))?;
    let run_ids: Vec<Uuid> = run_ids.iter().map(id_of).collect();
    Ok(JsonBody(json!({
        "output": outputs,
        "metadata": {
            "responses": run_ids.iter().map(|id| response_metadata(*id)).collect::<Vec<_>>(),
            "run_ids": run_ids.iter().map(Uuid::to_string).collect::<Vec<_>>(),
        },
    })))
}

type SseBody = Sse<KeepAliveStream<BoxStream<'static, Result<Event, Infallible>>>>;

/// How many events a stream sends between two turns it gives the runtime.
const FAIR_EVERY: usize = 16;

async fn stream(State(state): State<Arc<RouteState>>, bytes: Bytes) -> Result<SseBody, ApiError> {
    let (_, input, config) = call(&state, &bytes)?;
    let (chunks, run_id) = state.served.stream(input, config)?;
    Ok(sse(Some(run_id), chunks))
}

async fn stream_log(State(state): State<Arc<RouteState>>, bytes: Bytes) -> Result<SseBody, ApiError> {
    let (body, input, config) = call(&state, &bytes)?;
    let options = LogOptions::default().filter(protocol::filter(&body)?).config(config);
    Ok(sse(None, state.served.stream_log(input, options)?))
}

async fn stream_events(State(state): State<Arc<RouteState>>, bytes: Bytes) -> Result<SseBody, ApiError> {
    let (body, input, config) = call(&state, &bytes)?;
    let filter = protocol::filter(&body)?;
    Ok(sse(None, state.served.stream_events(input, config, filter)?))
}

/// LangServe's event stream: a `data` event per item, then `end`; or, at
/// the first failure, its `error` event and nothing more. With `run_id`, a
/// `metadata` event with the root run's id comes before the first `data`
/// (once the run has started, as LangServe sends it). Dropping the stream
/// (the client went away) drops `items`, and so the run.
fn sse(run_id: Option<RunId>, items: impl Stream<Item = runwright::Result<Json>> + Send + 'static) -> SseBody {
    let events = async_stream::stream! {
        let mut items = std::pin::pin!(items);
        let mut run_id = run_id;
        let mut sent = 0usize;
        while let Some(item) = items.next().await {
            // serde_json escapes control characters inside strings, so the
            // text has no line breaks for SSE to split.
            match item.and_then(|json| Ok(serde_json::to_string(&json)?)) {
                Ok(data) => {
                    if let Some(id) = run_id.take() {
                        // Python's `json.dumps` spacing, as LangServe writes it.
                        let metadata = format!("{{\"run_id\": \"{}\"}}", id_of(&id));
                        yield Ok(Event::default().event("metadata").data(metadata));
                    }
                    yield Ok(Event::default().event("data").data(data));
                    // Back to the runtime after the first event and every
                    // 16th: a stream whose items come at once (a cached or
                    // fake model) does not keep a worker from the requests
                    // waiting for their first token. Measured by
                    // bench/compare --server-only (bench/README.md, workload 10).
                    sent += 1;
                    if sent % FAIR_EVERY == 1 {
                        tokio::task::yield_now().await;
                    }
                }
                Err(_) => {
                    yield Ok(Event::default()
                        .event("error")
                        .data(r#"{"status_code": 500, "message": "Internal Server Error"}"#));
                    return;
                }
            }
        }
        yield Ok(Event::default().event("end"));
    };
    Sse::new(events.boxed()).keep_alive(KeepAlive::default())
}

async fn schema_of(State(state): State<Arc<RouteState>>, pick: fn(&RouteState) -> &Json) -> JsonBody<Json> {
    JsonBody(pick(&state).clone())
}
