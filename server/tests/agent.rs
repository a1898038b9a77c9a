//! The LangGraph Agent Server API through the router in process: each
//! endpoint's shapes, its refusals, and runs' lives (interrupt and resume,
//! background runs joined and rejoined after an event, cancellation,
//! multitask strategies, a client going away).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use runwright::graph::{create_react_agent, interrupt, GraphTool, StateGraph, END, START};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, FakeToolCallingChatModel};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Books a flight, once a person approves.
///
/// * `to` - where to
#[tool]
async fn book_flight(to: String) -> runwright::Result<String> {
    runwright::stream_writer().write(json!({"asking": format!("book a flight to {to}?")}));
    let approved: bool = interrupt(json!({"question": format!("book a flight to {to}?")}))?;
    Ok(if approved {
        format!("booked a flight to {to}")
    } else {
        format!("no flight to {to}: not approved")
    })
}

const ANSWER: &str = "Your flight to Lisbon is booked.";

/// A ReAct agent: the model calls the tool, then answers (over and over).
fn agent() -> runwright::graph::CompiledGraph<runwright::graph::AgentState> {
    let model = FakeToolCallingChatModel::new([
        AIMessage::new("Let me book it.").with_tool_calls(vec![
            ToolCall::new("book_flight", json!({"to": "Lisbon"})).with_id("call_1")
        ]),
        AIMessage::new(ANSWER),
    ])
    .repeating();
    let tools: Vec<Arc<dyn GraphTool>> = vec![Arc::new(book_flight)];
    create_react_agent(model, tools).expect("the agent compiles")
}

#[derive(Clone, Serialize, Deserialize)]
struct Count {
    n: i64,
}
impl runwright::Chunk for Count {}

/// A graph whose one node waits for a permit of `gate` before it counts.
fn gated(gate: Arc<Semaphore>) -> runwright::graph::CompiledGraph<Count> {
    StateGraph::<Count>::new()
        .add_node("wait", move |s: Count| {
            let gate = gate.clone();
            async move {
                let permit = gate.acquire().await.map_err(runwright::Error::msg)?;
                permit.forget();
                Ok(json!({"n": s.n + 1}))
            }
        })
        .add_edge(START, "wait")
        .add_edge("wait", END)
        .compile()
        .expect("the graph compiles")
}

struct Client {
    router: Router,
    gate: Arc<Semaphore>,
}

#[derive(Debug, Clone)]
struct Sse {
    id: Option<String>,
    event: String,
    data: Json,
}

fn parse_sse(text: &str) -> Vec<Sse> {
    text.split("\n\n")
        .filter_map(|block| {
            let (mut id, mut event, mut data) = (None, None, String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            let event = event?;
            let data = serde_json::from_str(&data).unwrap_or_else(|e| panic!("data of {event} not JSON ({e}): {data}"));
            Some(Sse { id, event, data })
        })
        .collect()
}

impl Client {
    fn new() -> Client {
        let gate = Arc::new(Semaphore::new(0));
        let router = runwright_server::Server::new()
            .graph("agent", agent())
            .graph("gate", gated(gate.clone()))
            .into_router();
        Client { router, gate }
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, headers, String::from_utf8(bytes.to_vec()).expect("utf-8"))
    }

    async fn call(&self, method: &str, uri: &str, body: Option<String>) -> (StatusCode, Json) {
        let mut request = Request::builder().method(method).uri(uri);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Body::from(body.unwrap_or_default())).expect("request");
        let (status, _, text) = self.send(request).await;
        let json = if text.is_empty() {
            Json::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, json)
    }

    async fn get(&self, uri: &str) -> (StatusCode, Json) {
        self.call("GET", uri, None).await
    }

    async fn post(&self, uri: &str, body: Json) -> (StatusCode, Json) {
        self.call("POST", uri, Some(body.to_string())).await
    }

    async fn stream(&self, uri: &str, body: Json) -> (StatusCode, axum::http::HeaderMap, Vec<Sse>) {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let (status, headers, text) = self.send(request).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        (status, headers, parse_sse(&text))
    }

    async fn join_stream(&self, uri: &str, last_event_id: Option<&str>) -> Vec<Sse> {
        let mut request = Request::get(uri);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let (status, _, text) = self.send(request.body(Body::empty()).expect("request")).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        parse_sse(&text)
    }

    async fn thread(&self) -> String {
        let (status, thread) = self.post("/threads", json!({})).await;
        assert_eq!(status, StatusCode::OK, "{thread}");
        thread["thread_id"].as_str().expect("a thread id").to_owned()
    }
}

fn user(text: &str) -> Json {
    json!({"messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn assistants_are_the_graphs_with_langgraphs_ids() {
    let c = Client::new();
    let (status, found) = c.post("/assistants/search", json!({"graph_id": "agent"})).await;
    assert_eq!(status, StatusCode::OK);
    let found = found.as_array().expect("a list");
    assert_eq!(found.len(), 1);
    let a = &found[0];
    // Python: str(uuid.uuid5(uuid.NAMESPACE_URL, "agent"))
    assert_eq!(a["assistant_id"], "7c9fac6d-1b9a-54e5-89e7-6c8b5e3ae414");
    assert_eq!(a["graph_id"], "agent");
    assert_eq!(a["metadata"], json!({"created_by": "system"}));
    for key in ["config", "created_at", "updated_at", "version", "name"] {
        assert!(a.get(key).is_some(), "no {key} in {a}");
    }
    let (_, all) = c.post("/assistants/search", json!({})).await;
    assert_eq!(all.as_array().map(Vec::len), Some(2));

    let (status, by_id) = c.get("/assistants/7c9fac6d-1b9a-54e5-89e7-6c8b5e3ae414").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&by_id, a);
    let (_, by_name) = c.get("/assistants/agent").await;
    assert_eq!(&by_name, a);

    let (status, missing) = c.get("/assistants/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        missing["detail"].as_str().is_some_and(|d| d.contains("`nope`")),
        "{missing}"
    );
}

#[tokio::test]
async fn threads_are_made_found_and_deleted() {
    let c = Client::new();
    let (status, t) = c.post("/threads", json!({"metadata": {"user": "ada"}})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["status"], "idle");
    assert_eq!(t["metadata"], json!({"user": "ada"}));
    let id = t["thread_id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    c.thread().await;

    let (status, got) = c.get(&format!("/threads/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, t);

    let (_, found) = c.post("/threads/search", json!({"metadata": {"user": "ada"}})).await;
    assert_eq!(found, json!([t]));
    let (_, all) = c.post("/threads/search", json!({"limit": 10})).await;
    assert_eq!(all.as_array().map(Vec::len), Some(2));

    let (status, again) = c.post("/threads", json!({"thread_id": id})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (status, same) = c
        .post("/threads", json!({"thread_id": id, "if_exists": "do_nothing"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same["thread_id"], id.as_str());

    let (status, _) = c.call("DELETE", &format!("/threads/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = c.get(&format!("/threads/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(gone["detail"].as_str().is_some_and(|d| d.contains(&id)), "{gone}");
    let (status, _) = c.call("DELETE", &format!("/threads/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_streamed_run_stops_at_the_interrupt_and_a_command_resumes_it() {
    let c = Client::new();
    let t = c.thread().await;
    let (_, headers, events) = c
        .stream(
            &format!("/threads/{t}/runs/stream"),
            json!({"assistant_id": "agent", "input": user("fly me to Lisbon"),
                   "stream_mode": ["updates", "messages-tuple", "custom"]}),
        )
        .await;
    // Every event has an id, in order from 0; metadata comes first, end last.
    let ids: Vec<String> = events.iter().map(|e| e.id.clone().expect("an id")).collect();
    let expected: Vec<String> = (0..events.len()).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected);
    assert_eq!(events[0].event, "metadata");
    let run_id = events[0].data["run_id"].as_str().expect("run id").to_owned();
    assert_eq!(events[0].data["attempt"], 1);
    assert_eq!(events.last().map(|e| e.event.as_str()), Some("end"));
    let location = headers.get(header::LOCATION).and_then(|v| v.to_str().ok());
    assert_eq!(location, Some(format!("/threads/{t}/runs/{run_id}/stream").as_str()));

    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert!(names.contains(&"messages"), "{names:?}");
    assert!(names.contains(&"custom"), "{names:?}");
    let message = events.iter().find(|e| e.event == "messages").expect("a messages event");
    assert!(
        message.data.as_array().is_some_and(|pair| pair.len() == 2),
        "{}",
        message.data
    );
    assert_eq!(message.data[1]["langgraph_node"], "agent");
    let custom = events.iter().find(|e| e.event == "custom").expect("custom");
    assert_eq!(custom.data, json!({"asking": "book a flight to Lisbon?"}));
    let interrupt = events
        .iter()
        .find(|e| e.event == "updates" && e.data.get("__interrupt__").is_some())
        .expect("the interrupt in updates");
    assert_eq!(
        interrupt.data["__interrupt__"][0]["value"],
        json!({"question": "book a flight to Lisbon?"})
    );

    let (_, thread) = c.get(&format!("/threads/{t}")).await;
    assert_eq!(thread["status"], "interrupted");
    assert_eq!(thread["metadata"]["graph_id"], "agent");
    let interrupts = thread["interrupts"].as_object().expect("by task");
    assert_eq!(interrupts.len(), 1);
    let (_, state) = c.get(&format!("/threads/{t}/state")).await;
    assert_eq!(state["next"], json!(["tools"]));
    assert_eq!(state["interrupts"][0]["value"]["question"], "book a flight to Lisbon?");
    assert_eq!(state["checkpoint"]["thread_id"], t.as_str());
    assert!(state["checkpoint"]["checkpoint_id"].is_string());
    assert!(state["parent_checkpoint"]["checkpoint_id"].is_string());
    assert_eq!(state["tasks"][0]["name"], "tools");

    let (_, _, resumed) = c
        .stream(
            &format!("/threads/{t}/runs/stream"),
            json!({"assistant_id": "agent", "command": {"resume": true}, "stream_mode": "values"}),
        )
        .await;
    let last_values = resumed.iter().rev().find(|e| e.event == "values").expect("values");
    let messages = last_values.data["messages"].as_array().expect("messages");
    assert_eq!(messages.last().map(|m| &m["content"]), Some(&json!(ANSWER)));
    assert!(messages.iter().any(|m| m["content"] == "booked a flight to Lisbon"));

    let (_, thread) = c.get(&format!("/threads/{t}")).await;
    assert_eq!(thread["status"], "idle");
    assert_eq!(thread["values"]["messages"].as_array().map(Vec::len), Some(4));

    let (status, history) = c.post(&format!("/threads/{t}/history"), json!({"limit": 3})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history.as_array().map(Vec::len), Some(3));
    assert_eq!(history[0]["values"]["messages"].as_array().map(Vec::len), Some(4));
    let (_, all) = c.get(&format!("/threads/{t}/history?limit=100")).await;
    let all = all.as_array().expect("a list");
    assert!(all.len() > 3);
    assert_eq!(all.last().map(|s| &s["metadata"]["step"]), Some(&json!(-1)));

    let checkpoint = all[1]["checkpoint"]["checkpoint_id"].as_str().expect("id");
    let (status, earlier) = c.get(&format!("/threads/{t}/state/{checkpoint}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(earlier["checkpoint"]["checkpoint_id"], checkpoint);
}

#[tokio::test]
async fn state_updates_as_a_node_and_wait_answers_the_values() {
    let c = Client::new();
    let t = c.thread().await;
    c.gate.add_permits(1);
    let (status, out) = c
        .post(
            &format!("/threads/{t}/runs/wait"),
            json!({"assistant_id": "gate", "input": {"n": 1}, "multitask_strategy": "reject"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out, json!({"n": 2}));

    let (status, done) = c
        .post(
            &format!("/threads/{t}/state"),
            json!({"values": {"n": 40}, "as_node": "wait"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["checkpoint"]["thread_id"], t.as_str());
    assert!(done["checkpoint"]["checkpoint_id"].is_string());
    let (_, state) = c.get(&format!("/threads/{t}/state")).await;
    assert_eq!(state["values"], json!({"n": 40}));
    assert_eq!(state["metadata"]["source"], "update");

    let (status, bad) = c.post(&format!("/threads/{t}/state"), json!({"values": [1]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (status, bad) = c
        .post(
            &format!("/threads/{t}/state"),
            json!({"values": {"n": 1}, "as_node": "nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(bad["detail"].as_str().is_some_and(|d| d.contains("nope")), "{bad}");
}

#[tokio::test]
async fn stateless_runs_stream_and_wait() {
    let c = Client::new();
    c.gate.add_permits(2);
    let (_, headers, events) = c
        .stream(
            "/runs/stream",
            json!({"assistant_id": "gate", "input": {"n": 1}, "stream_mode": ["values", "updates"]}),
        )
        .await;
    assert!(headers.get(header::LOCATION).is_none());
    let named: Vec<(&str, &Json)> = events.iter().map(|e| (e.event.as_str(), &e.data)).collect();
    assert_eq!(named[0].0, "metadata");
    assert_eq!(
        &named[1..],
        &[
            ("values", &json!({"n": 1})),
            ("updates", &json!({"wait": {"n": 2}})),
            ("values", &json!({"n": 2})),
            ("end", &Json::Null)
        ]
    );
    let (status, out) = c
        .post("/runs/wait", json!({"assistant_id": "gate", "input": {"n": 5}}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out, json!({"n": 6}));
    // Stateless runs leave no thread behind.
    let (_, all) = c.post("/threads/search", json!({})).await;
    assert_eq!(all, json!([]));
}

#[tokio::test]
async fn subgraph_streams_are_named_with_their_namespace() {
    let outer = StateGraph::<runwright::graph::AgentState>::new()
        .add_runnable_node("inner", agent())
        .add_edge(START, "inner")
        .add_edge("inner", END)
        .compile()
        .expect("compiles");
    let router = runwright_server::Server::new().graph("outer", outer).into_router();
    let c = Client {
        router,
        gate: Arc::new(Semaphore::new(0)),
    };
    let (_, _, events) = c
        .stream(
            "/runs/stream",
            json!({"assistant_id": "outer", "input": user("hi"), "stream_mode": ["updates"], "stream_subgraphs": true}),
        )
        .await;
    let nested: Vec<&str> = events
        .iter()
        .map(|e| e.event.as_str())
        .filter(|e| e.starts_with("updates|inner:"))
        .collect();
    assert!(!nested.is_empty(), "{events:?}");
}

#[tokio::test]
async fn a_background_run_is_joined_and_rejoined_after_an_event() {
    let c = Client::new();
    let t = c.thread().await;
    let (status, run) = c
        .post(
            &format!("/threads/{t}/runs"),
            json!({"assistant_id": "gate", "input": {"n": 1},
              "stream_mode": ["values", "updates"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let run_id = run["run_id"].as_str().expect("run id").to_owned();
    assert_eq!(run["thread_id"], t.as_str());
    assert_eq!(run["assistant_id"], runwright_server::assistant_id("gate").to_string());
    assert!(
        ["pending", "running"].contains(&run["status"].as_str().unwrap_or_default()),
        "{run}"
    );
    let (_, thread) = c.get(&format!("/threads/{t}")).await;
    assert_eq!(thread["status"], "busy");

    c.gate.add_permits(1);
    let (status, out) = c.get(&format!("/threads/{t}/runs/{run_id}/join")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out, json!({"n": 2}));
    let (_, run) = c.get(&format!("/threads/{t}/runs/{run_id}")).await;
    assert_eq!(run["status"], "success");
    let (_, runs) = c.get(&format!("/threads/{t}/runs")).await;
    assert_eq!(runs.as_array().map(Vec::len), Some(1));

    let stream = format!("/threads/{t}/runs/{run_id}/stream");
    let all = c.join_stream(&stream, None).await;
    let names: Vec<&str> = all.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["metadata", "values", "updates", "values", "end"]);
    // From each event on, the rest exactly once.
    for (k, event) in all.iter().enumerate() {
        let rest = c.join_stream(&stream, event.id.as_deref()).await;
        let rest_ids: Vec<_> = rest.iter().map(|e| e.id.clone()).collect();
        let expected: Vec<_> = all[k + 1..].iter().map(|e| e.id.clone()).collect();
        assert_eq!(rest_ids, expected, "after event {k}");
    }
    let bad = Request::get(&stream)
        .header("last-event-id", "x")
        .body(Body::empty())
        .expect("request");
    let (status, _, text) = c.send(bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
}

#[tokio::test]
async fn a_busy_thread_rejects_or_enqueues_runs() {
    let c = Client::new();
    let t = c.thread().await;
    let runs = format!("/threads/{t}/runs");
    let (_, first) = c.post(&runs, json!({"assistant_id": "gate", "input": {"n": 1}})).await;
    let (status, refused) = c
        .post(
            &runs,
            json!({"assistant_id": "gate", "input": {"n": 10}, "multitask_strategy": "reject"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["detail"].as_str().is_some_and(|d| d.contains("busy")),
        "{refused}"
    );
    let (status, second) = c
        .post(
            &runs,
            json!({"assistant_id": "gate", "input": {"n": 10}, "multitask_strategy": "enqueue"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["status"], "pending");

    c.gate.add_permits(2);
    let (_, out1) = c
        .get(&format!("{runs}/{}/join", first["run_id"].as_str().unwrap_or_default()))
        .await;
    let (_, out2) = c
        .get(&format!(
            "{runs}/{}/join",
            second["run_id"].as_str().unwrap_or_default()
        ))
        .await;
    assert_eq!(out1, json!({"n": 2}));
    assert_eq!(out2, json!({"n": 11}));
    let (_, thread) = c.get(&format!("/threads/{t}")).await;
    assert_eq!(thread["status"], "idle");
}

#[tokio::test]
async fn a_cancelled_run_stops_and_frees_its_thread() {
    let c = Client::new();
    let t = c.thread().await;
    let (_, run) = c
        .post(
            &format!("/threads/{t}/runs"),
            json!({"assistant_id": "gate", "input": {"n": 1}}),
        )
        .await;
    let run_id = run["run_id"].as_str().expect("id").to_owned();
    let (status, _) = c
        // As the SDK asks: `wait=1`.
        .post(
            &format!("/threads/{t}/runs/{run_id}/cancel?wait=1&action=interrupt"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, run) = c.get(&format!("/threads/{t}/runs/{run_id}")).await;
    assert_eq!(run["status"], "interrupted");
    let (_, thread) = c.get(&format!("/threads/{t}")).await;
    assert_eq!(thread["status"], "idle");
    // The node never got its permit: the state is still the input's.
    assert_eq!(c.gate.available_permits(), 0);
}

/// Reads the response's frames until the `metadata` event, then drops it.
async fn open_then_leave(c: &Client, uri: &str, body: Json) -> String {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = c.router.clone().oneshot(request).await.expect("infallible");
    let mut body = response.into_body();
    let mut text = String::new();
    while !text.contains("\n\n") {
        let frame = body.frame().await.expect("a frame").expect("no error");
        if let Some(data) = frame.data_ref() {
            text.push_str(&String::from_utf8_lossy(data));
        }
    }
    let events = parse_sse(&text);
    events[0].data["run_id"].as_str().expect("run id").to_owned()
}

#[tokio::test]
async fn a_client_going_away_cancels_its_stream_unless_told_to_continue() {
    let c = Client::new();
    let t = c.thread().await;
    let uri = format!("/threads/{t}/runs/stream");
    let run_id = open_then_leave(&c, &uri, json!({"assistant_id": "gate", "input": {"n": 1}})).await;
    // The node waits for a permit that never comes: only the client going
    // away ends the run.
    let (_, out) = c.get(&format!("/threads/{t}/runs/{run_id}/join")).await;
    assert_ne!(out, json!({"n": 2}), "the run stopped before its node counted");
    let (_, run) = c.get(&format!("/threads/{t}/runs/{run_id}")).await;
    assert_eq!(run["status"], "interrupted");
    let (_, thread) = c.get(&format!("/threads/{t}")).await;
    assert_ne!(thread["status"], "busy");

    let run_id = open_then_leave(
        &c,
        &uri,
        json!({"assistant_id": "gate", "input": {"n": 1}, "on_disconnect": "continue"}),
    )
    .await;
    c.gate.add_permits(1);
    let (_, out) = c.get(&format!("/threads/{t}/runs/{run_id}/join")).await;
    assert_eq!(out, json!({"n": 2}));
    let (_, run) = c.get(&format!("/threads/{t}/runs/{run_id}")).await;
    assert_eq!(run["status"], "success");
}

#[tokio::test]
async fn bad_requests_are_named() {
    let c = Client::new();
    let t = c.thread().await;
    let stream = format!("/threads/{t}/runs/stream");
    let cases = [
        (
            "POST",
            stream.clone(),
            "{not json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid JSON",
        ),
        (
            "POST",
            stream.clone(),
            "[1]",
            StatusCode::UNPROCESSABLE_ENTITY,
            "JSON object",
        ),
        (
            "POST",
            stream.clone(),
            r#"{"input": {}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "assistant_id",
        ),
        (
            "POST",
            stream.clone(),
            r#"{"assistant_id": "nope", "input": {}}"#,
            StatusCode::NOT_FOUND,
            "`nope`",
        ),
        (
            "POST",
            stream.clone(),
            r#"{"assistant_id": "agent", "input": {"messages": 5}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "`input`",
        ),
        (
            "POST",
            stream.clone(),
            r#"{"assistant_id": "agent", "input": {"messages": []}, "stream_mode": ["events"]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "`events`",
        ),
        (
            "POST",
            stream.clone(),
            r#"{"assistant_id": "agent", "command": {"resume": 1, "jump": 2}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "`jump`",
        ),
        (
            "POST",
            stream.clone(),
            r#"{"assistant_id": "agent", "input": {"messages": []}, "on_disconnect": "explode"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "on_disconnect",
        ),
        (
            "POST",
            "/threads/00000000-0000-0000-0000-000000000000/runs/stream".to_owned(),
            r#"{"assistant_id": "agent", "input": {"messages": []}}"#,
            StatusCode::NOT_FOUND,
            "00000000-0000-0000-0000-000000000000",
        ),
        (
            "GET",
            format!("/threads/{t}/runs/not-a-run"),
            "",
            StatusCode::NOT_FOUND,
            "`not-a-run`",
        ),
        (
            "GET",
            format!("/threads/{t}/runs/00000000-0000-0000-0000-000000000000/join"),
            "",
            StatusCode::NOT_FOUND,
            "00000000-0000-0000-0000-000000000000",
        ),
        (
            "POST",
            "/runs/wait".to_owned(),
            r#"{"assistant_id": "gate"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "input",
        ),
        (
            "POST",
            "/threads".to_owned(),
            r#"{"thread_id": "x"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "UUID",
        ),
        (
            "POST",
            "/threads/search".to_owned(),
            r#"{"limit": "ten"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit",
        ),
    ];
    for (method, uri, body, want, naming) in cases {
        let body = (!body.is_empty()).then(|| body.to_owned());
        let (status, answer) = c.call(method, &uri, body.clone()).await;
        assert_eq!(status, want, "{method} {uri} {body:?}: {answer}");
        let detail = answer["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(naming), "{method} {uri} {body:?}: {detail}");
    }
    // None of them left a run behind on the thread.
    let (_, thread) = c.get(&format!("/threads/{t}")).await;
    assert_eq!(thread["status"], "idle");
}
