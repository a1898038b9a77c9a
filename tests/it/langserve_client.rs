//! runwright-server against LangServe's own Python client: `RemoteRunnable`
//! (pinned in scripts/langserve/requirements.txt) calls `invoke`, `ainvoke`,
//! `batch`, `stream`, `astream`, `astream_events` and `astream_log` on the
//! server of `cargo run --example serve` (the quickstart's chain, replayed
//! offline), and gets what the same chain gives in process.
//!
//! It needs the client's venv: `bash scripts/langserve/setup.sh` makes it and
//! prints `RUNWRIGHT_LANGSERVE_PYTHON=...` to export. Without that variable
//! the test says so and passes, unless `RUNWRIGHT_REQUIRE_LANGSERVE` is set
//! (as `.ci/run` sets it), which makes that a failure.

use std::collections::HashMap;
use std::process::Command;

use futures::TryStreamExt;
use runwright::{EventFilter, LogOptions, Map, RunConfig, RunnableExt};
use serde_json::{json, Value as Json};

// The example's own code, so the test serves exactly what the example
// serves; its `main` is not called here. (langgraph_sdk_client.rs uses it
// too: a file is a module once.)
#[allow(dead_code)]
#[path = "../../examples/serve.rs"]
pub(crate) mod example;

const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/langserve/client.py");

fn python() -> Option<String> {
    match std::env::var("RUNWRIGHT_LANGSERVE_PYTHON") {
        Ok(python) if !python.is_empty() => Some(python),
        _ if std::env::var_os("RUNWRIGHT_REQUIRE_LANGSERVE").is_some() => {
            panic!("RUNWRIGHT_REQUIRE_LANGSERVE is set but RUNWRIGHT_LANGSERVE_PYTHON is not (scripts/langserve/setup.sh prints it)")
        }
        _ => {
            eprintln!(
                "skipping: LangServe's Python client is not set up; run `export \"$(bash scripts/langserve/setup.sh | tail -n 1)\"` \
                 (it sets RUNWRIGHT_LANGSERVE_PYTHON) and test again"
            );
            None
        }
    }
}

/// The same for both sides: run ids (and the message ids made of them)
/// renumbered in order of appearance, and empty values (`null`, `false`,
/// `[]`, `{}`) left out, since Python's message models write every default
/// field that runwright's JSON omits.
fn normalized(value: &Json, ids: &mut HashMap<String, String>) -> Option<Json> {
    match value {
        Json::Null | Json::Bool(false) => None,
        Json::Array(a) if a.is_empty() => None,
        Json::Object(o) if o.is_empty() => None,
        Json::String(s) => {
            let (prefix, id) = s.split_at(if s.starts_with("lc_run--") { 8 } else { 0 });
            if uuid::Uuid::parse_str(id).is_ok() {
                let n = ids.len();
                let id = ids.entry(id.to_owned()).or_insert_with(|| format!("<id {n}>"));
                Some(Json::String(format!("{prefix}{id}")))
            } else {
                Some(value.clone())
            }
        }
        Json::Array(a) => Some(Json::Array(
            a.iter().map(|v| normalized(v, ids).unwrap_or(Json::Null)).collect(),
        )),
        Json::Object(o) => {
            let kept: serde_json::Map<_, _> = o
                .iter()
                .filter_map(|(k, v)| normalized(v, ids).map(|v| (k.clone(), v)))
                .collect();
            Some(Json::Object(kept))
        }
        _ => Some(value.clone()),
    }
}

fn normalize_events(events: &[Json]) -> Vec<Json> {
    let mut ids = HashMap::new();
    events
        .iter()
        .map(|e| normalized(e, &mut ids).unwrap_or(Json::Null))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_runnable_gets_what_the_chain_gives_in_process() {
    let Some(python) = python() else { return };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/city/", listener.local_addr().unwrap());
    let server = tokio::spawn(example::server().unwrap().serve_on(listener));

    let input = json!({"city": "Paris"});
    let out = {
        let input = input.to_string();
        tokio::task::spawn_blocking(move || Command::new(python).arg(CLIENT).arg(&url).arg(&input).output())
            .await
            .unwrap()
            .expect("the venv's python runs")
    };
    server.abort();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Python client failed:\n{stderr}");
    let remote: Json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));

    // The same chain in process, its root run named as the server names it.
    let chain = example::chain().unwrap();
    let map: Map = serde_json::from_value(input).unwrap();
    let config = || RunConfig::new().run_name("/city");
    let output = chain.invoke_with(map.clone(), config()).await.unwrap();
    let chunks: Vec<String> = chain.stream_with(map.clone(), config()).try_collect().await.unwrap();
    let events: Vec<Json> = chain
        .stream_events_with(map.clone(), config(), EventFilter::default())
        .map_ok(|e| e.to_json())
        .try_collect()
        .await
        .unwrap();
    assert!(chunks.len() > 1, "the answer streams in pieces: {chunks:?}");

    assert_eq!(remote["invoke"], json!(output));
    assert_eq!(remote["ainvoke"], json!(output));
    assert_eq!(remote["batch"], json!([output, output]));
    assert_eq!(remote["stream"], json!(chunks));
    assert_eq!(remote["astream"], json!(chunks));
    assert_eq!(remote["astream_log_final_output"], json!(output));
    assert_eq!(remote["astream_log_streamed_output"], json!(chunks));

    let remote_events = remote["astream_events"].as_array().unwrap();
    assert_eq!(remote_events.len(), events.len(), "{remote_events:#?}");
    for (i, (r, local)) in normalize_events(remote_events)
        .iter()
        .zip(normalize_events(&events))
        .enumerate()
    {
        assert_eq!(r, &local, "event {i} differs");
    }

    // stream_log's patches in process give the same final state.
    let mut state = Json::Null;
    let patches: Vec<_> = chain
        .stream_log(map, LogOptions::default().config(config()))
        .try_collect()
        .await
        .unwrap();
    for patch in &patches {
        patch.apply_to(&mut state).unwrap();
    }
    assert_eq!(state["final_output"], json!(output));
}
