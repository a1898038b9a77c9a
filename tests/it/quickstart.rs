//! The README's main command, `cargo run --example quickstart`: it replays
//! its cassette offline, also when the environment holds an API key and an
//! endpoint (only `--live` and `--record` call a model).

use std::process::Command;

use runwright_recorder::{view, Recorder};

// The example's own code, so that the test runs exactly what the README's
// command runs; its `main` is not called here.
#[allow(dead_code)]
#[path = "../../examples/quickstart.rs"]
mod example;

#[tokio::test]
async fn the_quickstart_replays_its_cassette() {
    example::quickstart(Vec::<String>::new()).await.unwrap();
}

#[test]
fn a_key_in_the_environment_does_not_go_live() {
    // The test above, in a child process whose environment asks for a real
    // endpoint; nothing listens on port 9, so a call would fail.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "quickstart::the_quickstart_replays_its_cassette",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OPENAI_API_KEY", "sk-x")
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
    for shown in [
        "-- replaying examples/cassettes/quickstart.jsonl",
        "Paris is a city of elegance, history, and art.",
        "tool call get_weather({\"city\":\"Paris\"})",
        "input {\"city\":\"Paris\"}",
        "output \"It is sunny and 21 degrees in Paris.\"",
    ] {
        assert!(stdout.contains(shown), "{shown:?} not in the output:\n{stdout}");
    }
}

#[tokio::test]
async fn the_quickstarts_trace_as_html_is_self_contained() {
    // The trace the quickstart prints, replayed from its cassette.
    let cassette = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cassettes/quickstart.jsonl");
    let trace = example::weather_trace(Recorder::replay(cassette).unwrap())
        .await
        .unwrap();
    let page = view::html(&trace);
    assert!(page.contains("<span class=\"tool-name\">get_weather</span>"), "{page}");
    assert!(page.contains("It is sunny and 21 degrees in Paris."));
    assert_eq!(page.matches(" data-run=\"").count(), 3);
    for reference in ["http://", "https://"] {
        assert!(!page.contains(reference), "the page refers to {reference}");
    }
}
