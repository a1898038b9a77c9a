//! Trace files: the same file on every run, also with parallel branches
//! that interleave differently each time; written and read back whole.

mod common;

use std::collections::HashSet;

use common::{scratch, Jittery};
use runwright::prompts::ChatPromptTemplate;
use runwright::{GenericFakeChatModel, Lambda, Map, Parallel, RunnableExt, StrOutputParser};
use runwright_recorder::Trace;

fn branch(answer: &str) -> impl runwright::Runnable<Input = Map, Output = String> {
    ChatPromptTemplate::from_template("tell me about {topic}").expect("template")
        | Jittery(GenericFakeChatModel::new([answer]))
        | StrOutputParser
}

fn combine(m: Map) -> runwright::Result<String> {
    let text = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
    Ok(format!("{} / {}", text("left"), text("right")))
}

fn parallel_chain() -> impl runwright::Runnable<Input = Map, Output = String> {
    Parallel::new()
        .branch("right", branch("right says this and that"))
        .branch("left", branch("left says something else entirely"))
        | Lambda::from_fn(combine)
}

fn input() -> Map {
    let mut m = Map::new();
    m.insert("topic".into(), "parrots".into());
    m
}

#[tokio::test]
async fn parallel_branches_give_the_same_trace_file_200_times() {
    let dir = scratch("parallel-200");
    let mut files = Vec::new();
    let mut raw_orders = HashSet::new();
    for i in 0..200 {
        let chain = parallel_chain();
        let events: Vec<_> = futures::StreamExt::collect(chain.stream_events(input())).await;
        raw_orders.insert(
            events
                .iter()
                .map(|e| {
                    let e = e.as_ref().expect("the chain runs");
                    format!("{}:{}:{:?}", e.event(), e.name(), e.tags())
                })
                .collect::<Vec<_>>(),
        );
        let trace = Trace::from_events("parallel map", events);
        let path = dir.join(format!("run-{i}.jsonl"));
        trace.write(&path).unwrap();
        files.push(std::fs::read(&path).unwrap());
    }
    // The branches did interleave differently: the canonical order had work to do.
    assert!(
        raw_orders.len() > 1,
        "the branches interleaved the same way in all 200 runs; the test proves nothing"
    );
    let first = &files[0];
    for (i, f) in files.iter().enumerate() {
        assert!(
            f == first,
            "run {i} wrote another file:\n{}\nthan run 0:\n{}",
            String::from_utf8_lossy(f),
            String::from_utf8_lossy(first)
        );
    }
    let trace = Trace::read(dir.join("run-0.jsonl")).unwrap();
    // Two branches (a sequence of prompt, model and parser each), plus the
    // map, combine and the root sequence.
    let runs: HashSet<&str> = trace.events().iter().filter_map(|e| e["run_id"].as_str()).collect();
    assert_eq!(runs.len(), 11);
    let end = trace.events().last().unwrap();
    assert_eq!(end["event"], "on_chain_end");
    assert_eq!(
        end["data"]["output"],
        "left says something else entirely / right says this and that"
    );
}

#[tokio::test]
async fn a_map_output_lists_its_branches_in_sorted_order() {
    let trace = Trace::record("map", parallel_chain().stream_events(input())).await;
    let map_end = trace
        .events()
        .iter()
        .find(|e| e["event"] == "on_chain_end" && e["name"] == "RunnableParallel<right,left>")
        .expect("the map's end");
    let keys: Vec<&String> = map_end["data"]["output"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["left", "right"]);
    // Left's block (prompt, model, parser) comes whole before right's.
    let branch_of = |e: &serde_json::Value| {
        e["tags"]
            .as_array()
            .and_then(|t| {
                t.iter()
                    .find_map(|t| t.as_str().and_then(|t| t.strip_prefix("map:key:")))
            })
            .map(str::to_owned)
    };
    let tagged: Vec<String> = trace.events().iter().filter_map(branch_of).collect();
    let switches = tagged.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(tagged.first().map(String::as_str), Some("left"));
    assert_eq!(switches, 1, "{tagged:?}");
}

#[tokio::test]
async fn a_trace_file_reads_back_as_written_with_ids_numbered_and_errors_kept() {
    let dir = scratch("roundtrip");
    let fail = Lambda::from_fn(|s: String| -> runwright::Result<String> {
        runwright::dispatch_custom_event("progress", serde_json::json!({"got": s}))?;
        Err(runwright::Error::msg("no thanks"))
    })
    .named("refuse");
    let trace = Trace::record("refusal", fail.stream_events("hi".into())).await;
    let path = dir.join("refusal.jsonl");
    trace.write(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            r#"{{"format":"runwright-trace","version":1,"runwright":"{}","name":"refusal","root":"refuse","events":3}}"#,
            env!("CARGO_PKG_VERSION")
        )
    );
    assert!(lines[1].contains(r#""run_id":"run-0""#), "{}", lines[1]);
    assert_eq!(
        lines[3],
        r#"{"error":{"type":"Error","message":"no thanks","step":"refuse"}}"#
    );
    let back = Trace::read(&path).unwrap();
    assert_eq!(back, trace);
    assert_eq!(back.error().unwrap()["message"], "no thanks");
}

#[tokio::test]
async fn a_timed_trace_keeps_event_times() {
    let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase()));
    let trace = Trace::record_timed("timed", shout.stream_events("hi".into())).await;
    assert!(trace.header().timed);
    assert!(trace.events().iter().all(|e| e["at_ms"].is_f64()));
    let back = Trace::parse("timed.jsonl", &trace.to_jsonl()).unwrap();
    assert!(back.header().timed);
}
