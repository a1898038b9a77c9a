//! Each LangServe endpoint's request and response shapes, and each bad
//! request's answer, through the router in process; the cancellation of a
//! run whose client went away, through a real socket.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use runwright::prompts::ChatPromptTemplate;
use runwright::{GenericFakeChatModel, Lambda, RunContext, StrOutputParser};
use runwright_server::{schema, CorsLayer, Route, Server};
use serde_json::{json, Value as Json};
use tower::ServiceExt;

const JOKE: &str = "Why did the parrot talk? Because it could!";

fn joke_route() -> Route {
    let chain = ChatPromptTemplate::from_template("tell me a joke about {topic}").unwrap()
        | GenericFakeChatModel::new([JOKE]).repeating()
        | StrOutputParser;
    Route::new(chain).input_schema(schema::prompt_input(["topic"]))
}

fn server() -> Server {
    Server::new()
        .route("/joke", joke_route())
        .runnable("/inc", Lambda::from_fn(|n: i64| Ok(n + 1)).named("inc"))
        .runnable(
            "/fail",
            Lambda::from_fn(|_: String| -> runwright::Result<String> { Err(runwright::Error::msg("a secret")) }),
        )
        // A step deep in a run refusing its own input is the server's
        // failure, not the client's: its message stays on the server.
        .runnable(
            "/refuse",
            Lambda::from_fn(|_: String| -> runwright::Result<String> {
                Err(runwright::Error::new(runwright::ErrorKind::InvalidInput, "a secret"))
            }),
        )
        .runnable("/whoami", whoami())
        .runnable("/run_id", run_id())
}

/// Answers the id of its own run.
fn run_id() -> Lambda<String, String> {
    Lambda::from_fn(|_: String| {
        let run = RunContext::current().ok_or_else(|| runwright::Error::msg("no run"))?;
        Ok(run.run_id().to_string())
    })
}

/// Answers the `user` of the run's `configurable`.
fn whoami() -> Lambda<String, String> {
    Lambda::from_fn(|_: String| {
        let run = RunContext::current().ok_or_else(|| runwright::Error::msg("no run"))?;
        Ok(run
            .configurable()
            .get("user")
            .and_then(Json::as_str)
            .unwrap_or("nobody")
            .to_owned())
    })
}

async fn send(router: Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn post(router: Router, uri: &str, body: impl Into<String>) -> (StatusCode, String) {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.into()))
        .unwrap();
    let (status, _, body) = send(router, request).await;
    (status, body)
}

async fn post_json(uri: &str, body: Json) -> (StatusCode, Json) {
    let (status, text) = post(server().into_router(), uri, body.to_string()).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

async fn get(uri: &str) -> (StatusCode, Json) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let (status, _, text) = send(server().into_router(), request).await;
    (status, serde_json::from_str(&text).unwrap())
}

/// The events of an SSE body: (event name, data), comments skipped.
fn sse_events(text: &str) -> Vec<(String, Option<String>)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .filter_map(|block| {
            let mut event = None;
            let mut data: Option<String> = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    event = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(match data {
                        Some(d) => format!("{d}\n{v}"),
                        None => v.to_owned(),
                    });
                }
            }
            event.map(|e| (e, data))
        })
        .collect()
}

async fn stream(uri: &str, body: Json) -> Vec<(String, Option<String>)> {
    let (status, text) = post(server().into_router(), uri, body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    sse_events(&text)
}

fn data(events: &[(String, Option<String>)]) -> Vec<Json> {
    events
        .iter()
        .filter(|(e, _)| e == "data")
        .map(|(_, d)| serde_json::from_str(d.as_deref().unwrap()).unwrap())
        .collect()
}

fn is_uuid(value: &Json) -> bool {
    value.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
}

#[tokio::test]
async fn invoke_answers_the_output_and_the_run_id() {
    let (status, body) = post_json(
        "/joke/invoke",
        json!({"input": {"topic": "parrots"}, "config": {}, "kwargs": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<_> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["output", "metadata"]);
    assert_eq!(body["output"], JOKE);
    assert!(is_uuid(&body["metadata"]["run_id"]), "{body}");
    assert_eq!(body["metadata"]["feedback_tokens"], json!([]));
}

#[tokio::test]
async fn batch_answers_each_output_in_order_with_its_run_id() {
    let (status, body) = post_json("/inc/batch", json!({"inputs": [1, 41, 9], "config": {}, "kwargs": {}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["output"], json!([2, 42, 10]));
    let responses = body["metadata"]["responses"].as_array().unwrap();
    let run_ids = body["metadata"]["run_ids"].as_array().unwrap();
    assert_eq!(responses.len(), 3);
    for (response, id) in responses.iter().zip(run_ids) {
        assert!(is_uuid(id));
        assert_eq!(&response["run_id"], id);
        assert_eq!(response["feedback_tokens"], json!([]));
    }

    // A config per input.
    let (status, body) = post_json(
        "/whoami/batch",
        json!({"inputs": ["", ""], "config": [{"configurable": {"user": "ada"}}, {}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["output"], json!(["ada", "nobody"]));

    let (status, body) = post_json("/inc/batch", json!({"inputs": [1, 2], "config": [{}]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"], "Number of configs (1) must match number of inputs (2)");

    let (status, body) = post_json("/inc/batch", json!({"inputs": [1, "two"]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("inputs[1]: the input does not fit runnable `inc`"),
        "{body}"
    );
}

#[tokio::test]
async fn stream_sends_metadata_then_each_chunk_then_end() {
    let events = stream("/joke/stream", json!({"input": {"topic": "parrots"}})).await;
    let (first, metadata) = &events[0];
    assert_eq!(first, "metadata");
    let metadata: Json = serde_json::from_str(metadata.as_deref().unwrap()).unwrap();
    assert!(is_uuid(&metadata["run_id"]), "{metadata}");
    assert_eq!(events.last().unwrap(), &("end".to_owned(), None));
    let chunks = data(&events);
    assert!(chunks.len() > 1, "the joke streams in pieces: {chunks:?}");
    assert_eq!(chunks.iter().map(|c| c.as_str().unwrap()).collect::<String>(), JOKE);
    assert_eq!(events.len(), chunks.len() + 2);
}

#[tokio::test]
async fn stream_log_sends_patches_that_build_the_run_state() {
    let events = stream(
        "/joke/stream_log",
        json!({"input": {"topic": "parrots"}, "include_types": ["llm"]}),
    )
    .await;
    assert_eq!(events.last().unwrap(), &("end".to_owned(), None));
    assert!(events.iter().all(|(e, _)| e == "data" || e == "end"), "{events:?}");
    let mut state = Json::Null;
    for patch in data(&events) {
        let keys: Vec<_> = patch.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["ops"]);
        let ops: json_patch::Patch = serde_json::from_value(patch["ops"].clone()).unwrap();
        json_patch::patch(&mut state, &ops).unwrap();
    }
    assert_eq!(state["final_output"], JOKE);
    assert_eq!(
        state["streamed_output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect::<String>(),
        JOKE
    );
    // The filter kept the model's log (a chat model's run type in logs is
    // `llm`, as in LangChain) and nothing else.
    let logs: Vec<_> = state["logs"].as_object().unwrap().keys().collect();
    assert_eq!(logs, ["GenericFakeChatModel"], "{state}");
}

#[tokio::test]
async fn stream_events_sends_the_v2_events_of_the_run_named_after_its_path() {
    let body = json!({"input": {"topic": "parrots"}, "config": {"metadata": {"__internal": 1, "user": "ada"}}});
    let router = Server::new()
        .route("/joke", joke_route().config_keys(["metadata"]))
        .into_router();
    let (status, text) = post(router, "/joke/stream_events", body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let events = sse_events(&text);
    assert_eq!(events.last().unwrap(), &("end".to_owned(), None));
    let events = data(&events);
    assert_eq!(events[0]["event"], "on_chain_start");
    assert_eq!(events[0]["name"], "/joke");
    assert_eq!(events[0]["data"]["input"], json!({"topic": "parrots"}));
    assert_eq!(events.last().unwrap()["event"], "on_chain_end");
    assert_eq!(events.last().unwrap()["data"]["output"], JOKE);
    let tokens: String = events
        .iter()
        .filter(|e| e["event"] == "on_chat_model_stream")
        .map(|e| e["data"]["chunk"]["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tokens, JOKE);
    for event in &events {
        let metadata = event["metadata"].as_object().unwrap();
        assert_eq!(metadata["user"], "ada");
        assert!(
            !metadata.keys().any(|k| k.starts_with("__")),
            "keys starting with __ stay on the server: {metadata:?}"
        );
        assert!(is_uuid(&event["run_id"]));
    }

    // The filter applies.
    let events = data(
        &stream(
            "/joke/stream_events",
            json!({"input": {"topic": "x"}, "include_types": ["chat_model"]}),
        )
        .await,
    );
    let kinds: Vec<_> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"on_chat_model_start"));
    assert_eq!(kinds.last(), Some(&"on_chat_model_end"));
    assert!(kinds.iter().all(|k| k.starts_with("on_chat_model")), "{kinds:?}");
}

#[tokio::test]
async fn schemas_are_served() {
    assert_eq!(
        get("/joke/input_schema").await,
        (
            StatusCode::OK,
            json!({
                "properties": {"topic": {"title": "Topic", "type": "string"}},
                "required": ["topic"],
                "title": "PromptInput",
                "type": "object",
            })
        )
    );
    assert_eq!(
        get("/inc/output_schema").await,
        (StatusCode::OK, json!({"title": "incOutput"}))
    );
    assert_eq!(
        get("/inc/input_schema").await,
        (StatusCode::OK, json!({"title": "incInput"}))
    );
    assert_eq!(
        get("/inc/config_schema").await,
        (
            StatusCode::OK,
            json!({"properties": {}, "title": "incConfig", "type": "object"})
        )
    );
}

#[tokio::test]
async fn configurable_reaches_the_run_unless_the_route_refuses_it() {
    let body = json!({"input": "", "config": {"configurable": {"user": "ada"}, "tags": ["ignored"]}});
    let (status, answer) = post_json("/whoami/invoke", body.clone()).await;
    assert_eq!((status, &answer["output"]), (StatusCode::OK, &json!("ada")));

    let router = Server::new()
        .route("/whoami", Route::new(whoami()).config_keys(["tags"]))
        .into_router();
    let (status, text) = post(router, "/whoami/invoke", body.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text.contains("`configurable` has been disallowed by the server"),
        "{text}"
    );
}

#[tokio::test]
async fn malformed_json_is_refused_naming_the_problem() {
    let (status, text) = post(server().into_router(), "/joke/invoke", "{\"input\": ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body: Json = serde_json::from_str(&text).unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Invalid JSON body: EOF while parsing"),
        "{body}"
    );

    for uri in ["/joke/stream", "/joke/stream_log", "/joke/stream_events", "/joke/batch"] {
        let (status, text) = post(server().into_router(), uri, "nope").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {text}");
        assert!(text.contains("Invalid JSON body"), "{uri}: {text}");
    }

    let (status, body) = post_json("/joke/invoke", json!(["not", "an", "object"])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["detail"],
        "the request body must be a JSON object (with the key `input`), not a list"
    );

    let (status, body) = post_json("/joke/stream", json!({"inputs": {"topic": "x"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"], "Field required: the request body has no `input`");

    let (status, body) = post_json("/joke/invoke", json!({"input": {"topic": "x"}, "config": "all"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"], "Value for 'config' key must be a dict, not a string");

    let (status, body) = post_json(
        "/joke/stream_events",
        json!({"input": {"topic": "x"}, "include_names": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"], "include_names must be a list of strings, not \"x\"");
}

#[tokio::test]
async fn input_of_the_wrong_type_is_refused_naming_the_runnable_and_its_type() {
    for uri in ["/inc/invoke", "/inc/stream", "/inc/stream_log", "/inc/stream_events"] {
        let (status, body) = post_json(uri, json!({"input": "forty-one"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert_eq!(
            body["detail"],
            "the input does not fit runnable `inc` (it takes `i64`): invalid type: string \"forty-one\", expected i64",
            "{uri}"
        );
    }

    // An object schema's checks: the prompt's variable is required.
    let (status, body) = post_json("/joke/stream", json!({"input": {"subject": "parrots"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"], "input lacks the required key(s) topic");
    let (status, body) = post_json("/joke/invoke", json!({"input": "parrots"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"], "input must be an object, not a string");
}

#[tokio::test]
async fn an_unknown_path_is_refused_naming_the_paths_served() {
    let (status, body) = post_json("/jokes/invoke", json!({"input": {}})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["detail"],
        "Not Found: no endpoint POST /jokes/invoke (runnables are served at /joke, /inc, /fail, /refuse, /whoami, /run_id)"
    );
    let (status, _) = get("/joke/playground").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_failed_run_hides_its_message() {
    for uri in ["/fail/invoke", "/refuse/invoke", "/fail/batch"] {
        let body = if uri.ends_with("batch") {
            json!({"inputs": ["x"]})
        } else {
            json!({"input": "x"})
        };
        let (status, body) = post_json(uri, body).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert_eq!(body, json!({"detail": "Internal Server Error"}), "{uri}");
    }

    // A stream ends with LangServe's error event, and no `end`; a run that
    // failed before its first chunk sent no `metadata` either.
    let events = stream("/fail/stream", json!({"input": "x"})).await;
    let names: Vec<_> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names, ["error"]);
    let error: Json = serde_json::from_str(events[0].1.as_deref().unwrap()).unwrap();
    assert_eq!(error, json!({"status_code": 500, "message": "Internal Server Error"}));

    let events = stream("/fail/stream_events", json!({"input": "x"})).await;
    assert_eq!(events.last().unwrap().0, "error");
    assert!(!events
        .iter()
        .any(|(_, d)| d.as_deref().is_some_and(|d| d.contains("a secret"))));
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let big = json!({"input": {"topic": "x".repeat(2000)}}).to_string();
    let router = Server::new()
        .route("/joke", joke_route())
        .body_limit(1000)
        .into_router();
    let (status, _) = post(router, "/joke/invoke", big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let router = Server::new()
        .route("/joke", joke_route())
        .body_limit(4000)
        .into_router();
    let (status, _) = post(router, "/joke/invoke", big).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_bearer_token_is_checked() {
    let router = || server().bearer_token("s3cret").into_router();
    let request = |auth: Option<&str>| {
        let mut r = Request::post("/inc/invoke").header(header::CONTENT_TYPE, "application/json");
        if let Some(auth) = auth {
            r = r.header(header::AUTHORIZATION, auth);
        }
        r.body(Body::from(json!({"input": 1}).to_string())).unwrap()
    };
    let (status, headers, text) = send(router(), request(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    assert!(
        text.contains("needs an `Authorization: Bearer <token>` header"),
        "{text}"
    );
    let (status, _, text) = send(router(), request(Some("Bearer wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(text.contains("not the server's"), "{text}");
    let (status, _, text) = send(router(), request(Some("Bearer s3cret"))).await;
    assert_eq!(status, StatusCode::OK, "{text}");
}

#[tokio::test]
async fn a_page_is_served_as_html_without_the_token_the_api_needs() {
    let router = || {
        server()
            .page("/", "<p>first</p>")
            .page("chat", "<p>chat</p>")
            .page("/", "<p>home</p>")
            .bearer_token("s3cret")
            .into_router()
    };
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let (status, headers, text) = send(router(), get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert_eq!(text, "<p>home</p>", "the same path twice serves the last");
    let (status, _, text) = send(router(), get("/chat")).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "<p>chat</p>"));
    // The API behind the same server still asks for the token.
    let invoke = Request::post("/inc/invoke")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"input": 1}).to_string()))
        .unwrap();
    assert_eq!(send(router(), invoke).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cors_answers_preflight_requests() {
    let router = server()
        .bearer_token("s3cret")
        .cors(CorsLayer::permissive())
        .into_router();
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri("/joke/stream")
        .header(header::ORIGIN, "http://example.test")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(router, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");

    // Without the layer, no CORS headers.
    let request = Request::post("/inc/invoke")
        .header(header::ORIGIN, "http://example.test")
        .body(Body::from(json!({"input": 1}).to_string()))
        .unwrap();
    let (_, headers, _) = send(server().into_router(), request).await;
    assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
}

#[tokio::test]
async fn the_run_id_reported_is_the_root_runs() {
    let (status, body) = post_json("/run_id/invoke", json!({"input": ""})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(is_uuid(&body["output"]));
    assert_eq!(body["metadata"]["run_id"], body["output"]);

    let (_, body) = post_json("/run_id/batch", json!({"inputs": ["", ""]})).await;
    let outputs = body["output"].as_array().unwrap();
    assert_ne!(outputs[0], outputs[1]);
    assert_eq!(&body["metadata"]["run_ids"], &body["output"]);
    for (response, output) in body["metadata"]["responses"].as_array().unwrap().iter().zip(outputs) {
        assert_eq!(&response["run_id"], output);
    }

    let events = stream("/run_id/stream", json!({"input": ""})).await;
    let metadata: Json = serde_json::from_str(events[0].1.as_deref().unwrap()).unwrap();
    assert_eq!(events[0].0, "metadata");
    assert_eq!(data(&events), [metadata["run_id"].clone()]);
}
