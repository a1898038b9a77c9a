//! runwright-server against the LangGraph Agent Server's own Python client:
//! `langgraph-sdk` (pinned in scripts/langgraph-sdk/requirements.txt) drives
//! the ReAct agent of `cargo run --example serve` (scripts/langgraph-sdk/client.py):
//! a thread, a run streamed in `["updates", "messages-tuple", "custom"]` up
//! to the tool's interrupt, `Command(resume=True)`, the thread's state and
//! history, and a background run's stream dropped after two events and
//! rejoined with `Last-Event-ID`.
//!
//! The same with the JavaScript client, `@langchain/langgraph-sdk` on the
//! machine's Node (pinned in scripts/langgraph-sdk-js/package-lock.json,
//! scripts/langgraph-sdk-js/client.mjs): both clients print the same JSON,
//! checked alike.
//!
//! They need the clients: `bash scripts/langgraph-sdk/setup.sh` makes the
//! venv and prints `RUNWRIGHT_LANGGRAPH_SDK_PYTHON=...` to export,
//! `bash scripts/langgraph-sdk-js/setup.sh` installs the JS client and
//! prints `RUNWRIGHT_LANGGRAPH_SDK_NODE=...`. Without those variables the
//! tests say so and pass, unless `RUNWRIGHT_REQUIRE_LANGGRAPH_SDK` is set (as
//! `.ci/run` sets it), which makes that a failure.

use std::process::Command;

use serde_json::{json, Value as Json};

// The example's own code (included once, by the LangServe test), so the
// test serves exactly what the example serves.
use crate::langserve_client::example;

const PY_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/langgraph-sdk/client.py");
const JS_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/langgraph-sdk-js/client.mjs");

/// The interpreter a setup script named in `var`, or `None` (with a note)
/// when it is not set and not required.
fn interpreter(var: &str, setup: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(path) if !path.is_empty() => Some(path),
        _ if std::env::var_os("RUNWRIGHT_REQUIRE_LANGGRAPH_SDK").is_some() => {
            panic!("RUNWRIGHT_REQUIRE_LANGGRAPH_SDK is set but {var} is not ({setup} prints it)")
        }
        _ => {
            eprintln!(
                "skipping: the LangGraph SDK's {what} client is not set up; run \
                 `export \"$(bash {setup} | tail -n 1)\"` (it sets {var}) and test again"
            );
            None
        }
    }
}

/// Serves the example and runs `interpreter client URL`; returns what the
/// client printed.
async fn client_output(interpreter: String, client: &'static str) -> Json {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(example::server().unwrap().serve_on(listener));
    let out = tokio::task::spawn_blocking(move || Command::new(&interpreter).arg(client).arg(&url).output())
        .await
        .unwrap()
        .expect("the client's interpreter runs");
    server.abort();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{client} failed:\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

fn events(parts: &Json) -> Vec<&str> {
    parts
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["event"].as_str())
        .collect()
}

fn ids(parts: &Json) -> Vec<&str> {
    parts
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["id"].as_str().unwrap_or("<none>"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn langgraph_sdk_streams_interrupts_resumes_and_rejoins() {
    let setup = "scripts/langgraph-sdk/setup.sh";
    let Some(python) = interpreter("RUNWRIGHT_LANGGRAPH_SDK_PYTHON", setup, "Python") else {
        return;
    };
    check(&client_output(python, PY_CLIENT).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn langgraph_sdk_js_streams_interrupts_resumes_and_rejoins() {
    let setup = "scripts/langgraph-sdk-js/setup.sh";
    let Some(node) = interpreter("RUNWRIGHT_LANGGRAPH_SDK_NODE", setup, "JavaScript") else {
        return;
    };
    check(&client_output(node, JS_CLIENT).await);
}

/// What either client must have seen.
fn check(got: &Json) {
    // The assistant LangGraph's server would make for graph `agent`.
    let assistant_id = runwright_server::assistant_id("agent").to_string();
    assert_eq!(got["assistants"][0]["assistant_id"], assistant_id.as_str());
    assert_eq!(got["assistant"]["graph_id"], "agent");

    // The first run: metadata first, the model's tokens, the tool's custom
    // item, the interrupt in `updates`, end last.
    let first = &got["first"];
    let names = events(first);
    assert_eq!(names.first(), Some(&"metadata"), "{names:?}");
    assert_eq!(names.last(), Some(&"end"), "{names:?}");
    assert!(names.contains(&"messages"), "{names:?}");
    let message = first
        .as_array()
        .and_then(|a| a.iter().find(|p| p["event"] == "messages"))
        .unwrap();
    assert_eq!(message["data"][1]["langgraph_node"], "agent");
    let custom: Vec<&Json> = first
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["event"] == "custom")
        .map(|p| &p["data"])
        .collect();
    assert_eq!(custom, [&json!({"asking": "book a flight to Lisbon?"})]);
    let interrupt = first
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|p| p["event"] == "updates" && p["data"].get("__interrupt__").is_some())
        })
        .unwrap_or_else(|| panic!("no interrupt: {first}"));
    assert_eq!(
        interrupt["data"]["__interrupt__"][0]["value"]["question"],
        "book a flight to Lisbon?"
    );
    let expected: Vec<String> = (0..names.len()).map(|i| i.to_string()).collect();
    assert_eq!(ids(first), expected);

    assert_eq!(got["thread_interrupted"]["status"], "interrupted");
    assert_eq!(got["state_interrupted"]["next"], json!(["tools"]));

    // Resumed: the tool ran, the agent answered.
    let resumed = &got["resumed"];
    assert_eq!(events(resumed).last(), Some(&"end"));
    assert!(
        resumed
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["event"] == "updates"
                && p["data"]["tools"]["messages"][0]["content"] == "booked a flight to Lisbon"),
        "{resumed}"
    );
    assert_eq!(got["thread_done"]["status"], "idle");
    let messages = got["state_done"]["values"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[3]["content"], example::AGENT_ANSWER);
    assert_eq!(got["state_done"]["next"], json!([]));
    let history = got["history"].as_array().unwrap();
    assert!(history.len() >= 5, "{}", history.len());
    assert_eq!(history[0]["checkpoint"], got["state_done"]["checkpoint"]);
    assert_eq!(history.last().unwrap()["metadata"]["step"], -1);
    assert_eq!(got["found"].as_array().map(Vec::len), Some(1));

    // The background run: what was dropped and what the rejoin gave are the
    // whole stream, each event once.
    let whole = ids(&got["whole"]);
    let mut pieces = ids(&got["dropped"]);
    pieces.extend(ids(&got["rejoined"]));
    assert_eq!(pieces, whole);
    assert!(whole.len() > 3, "{whole:?}");
    assert_eq!(events(&got["whole"]).last(), Some(&"end"));
    assert_eq!(got["run_done"]["status"], "success");
    assert_eq!(got["run"]["assistant_id"], assistant_id.as_str());
    assert!(got["joined"]["__interrupt__"].is_array(), "{}", got["joined"]);

    assert_eq!(got["missing"]["status"], 404, "{}", got["missing"]);
}
