//! `EventFilter` with `stream_events_with`: LangChain's include/exclude
//! semantics, the root filtered like any run, and the root-input rule
//! (README rule 1) when the root's start is filtered out.

use runwright::{dispatch_custom_event, EventFilter, EventPhase, Lambda, RunConfig, RunnableExt, StreamEvent};
use serde_json::json;

use crate::common::*;

/// `source (2 chunks) | upper | EchoParser`
async fn run(filter: EventFilter) -> Vec<StreamEvent> {
    let chain = letters("source", 2).pipe(upper()).pipe(EchoParser);
    events_of(chain.stream_events_with("go".into(), RunConfig::new(), filter)).await
}

#[tokio::test]
async fn no_filter_keeps_every_event() {
    let all = run(EventFilter::new()).await;
    assert_eq!(all.len(), 4 * 2 + 4 * 2, "4 runs: a start, an end and 2 chunks each");
}

#[tokio::test]
async fn include_names_keeps_those_runs_and_the_first_gets_the_root_input() {
    let events = run(EventFilter::new().include_names(["upper"])).await;
    assert_eq!(
        names(&events),
        [
            "on_chain_start:upper",
            "on_chain_stream:upper",
            "on_chain_stream:upper",
            "on_chain_end:upper"
        ]
    );
    // Rule 1: the first emitted event carries the call's input, and the end
    // of that same run then has none.
    assert_eq!(data(&events[0]), json!({"input": "go"}));
    assert_eq!(data(&events[3]), json!({"output": "AB"}));
}

#[tokio::test]
async fn include_types_filters_the_root_too() {
    let events = run(EventFilter::new().include_types(["parser"])).await;
    assert_eq!(
        names(&events),
        [
            "on_parser_start:EchoParser",
            "on_parser_stream:EchoParser",
            "on_parser_stream:EchoParser",
            "on_parser_end:EchoParser",
        ]
    );
    assert_eq!(data(&events[0]), json!({"input": "go"}));
    assert_eq!(data(&events[3]), json!({"output": "AB"}));
}

#[tokio::test]
async fn include_names_and_types_are_united() {
    let events = run(EventFilter::new().include_types(["parser"]).include_names(["source"])).await;
    let mut kept: Vec<String> = events.iter().map(|e| e.name().to_string()).collect();
    kept.dedup();
    assert_eq!(
        kept,
        ["source", "EchoParser", "source", "EchoParser", "source", "EchoParser"]
    );
    assert_eq!(data(&events[0]), json!({"input": "go"}));
    // The parser is not the first run: its end keeps its input.
    assert_eq!(
        data(one(&events, "EchoParser", EventPhase::End)),
        json!({"output": "AB", "input": "AB"})
    );
    assert_eq!(data(one(&events, "source", EventPhase::End)), json!({"output": "ab"}));
}

#[tokio::test]
async fn excludes_apply_after_includes() {
    let events = run(EventFilter::new().include_types(["chain"]).exclude_names(["upper"])).await;
    let mut kept: Vec<String> = events.iter().map(|e| e.name().to_string()).collect();
    kept.sort();
    kept.dedup();
    assert_eq!(kept, ["RunnableSequence", "source"]);
}

#[tokio::test]
async fn excluding_the_root_by_name_keeps_its_children() {
    let events = run(EventFilter::new().exclude_names(["RunnableSequence"])).await;
    assert!(events.iter().all(|e| e.name() != "RunnableSequence"));
    assert_eq!(names(&events)[0], "on_chain_start:source");
    assert_eq!(
        names(&events).last().map(String::as_str),
        Some("on_parser_end:EchoParser")
    );
    assert_eq!(data(one(&events, "source", EventPhase::End)), json!({"output": "ab"}));
}

#[tokio::test]
async fn exclude_tags_removes_the_tagged_runs() {
    let events = run(EventFilter::new().exclude_tags(["seq:step:1"])).await;
    assert!(events.iter().all(|e| e.name() != "source"));
    assert_eq!(names(&events)[0], "on_chain_start:RunnableSequence");
    assert_eq!(events.len(), 16 - 4);
}

/// `reverse_word | (exclaim | again).with_config(tags=["keep"], run_name="sub")`
fn tagged_chain() -> impl runwright::Runnable<Input = String, Output = String> {
    let sub = (Lambda::from_fn(exclaim) | Lambda::from_fn(exclaim).named("again"))
        .with_config(RunConfig::new().tag("keep").run_name("sub"));
    Lambda::from_fn(reverse_word) | sub
}

#[tokio::test]
async fn include_tags_keeps_the_whole_tagged_subtree() {
    let chain = tagged_chain();
    let filter = EventFilter::new().include_tags(["keep"]);
    let events = events_of(chain.stream_events_with("ab".into(), RunConfig::new(), filter)).await;
    assert_eq!(
        tree(&events),
        [
            "on_chain_start:sub #1 parents=[0] tags=[\"seq:step:2\", \"keep\"]",
            "on_chain_start:exclaim #2 parents=[0, 1] tags=[\"seq:step:1\", \"keep\"]",
            "on_chain_stream:exclaim #2 parents=[0, 1] tags=[\"seq:step:1\", \"keep\"]",
            "on_chain_start:again #3 parents=[0, 1] tags=[\"seq:step:2\", \"keep\"]",
            "on_chain_end:exclaim #2 parents=[0, 1] tags=[\"seq:step:1\", \"keep\"]",
            "on_chain_stream:again #3 parents=[0, 1] tags=[\"seq:step:2\", \"keep\"]",
            "on_chain_stream:sub #1 parents=[0] tags=[\"seq:step:2\", \"keep\"]",
            "on_chain_end:again #3 parents=[0, 1] tags=[\"seq:step:2\", \"keep\"]",
            "on_chain_end:sub #1 parents=[0] tags=[\"seq:step:2\", \"keep\"]",
        ]
    );
    // The root was filtered out; the first kept event carries its input.
    assert_eq!(data(&events[0]), json!({"input": "ab"}));
}

#[tokio::test]
async fn a_local_step_tag_selects_that_step_alone() {
    let chain = tagged_chain();
    let filter = EventFilter::new().include_tags(["seq:step:2"]);
    let events = events_of(chain.stream_events_with("ab".into(), RunConfig::new(), filter)).await;
    let mut kept: Vec<String> = events.iter().map(|e| e.name().to_string()).collect();
    kept.dedup();
    // `again` is seq:step:2 of the inner sequence: it matches too; `exclaim`
    // (the inner seq:step:1) does not inherit its parent's local tag.
    assert_eq!(kept, ["sub", "again", "sub", "again", "sub"]);
}

async fn foo(x: String) -> runwright::Result<String> {
    dispatch_custom_event("event1", json!({ "x": x }))?;
    dispatch_custom_event("event2", 5)?;
    Ok(x)
}

#[tokio::test]
async fn custom_events_are_filtered_by_name_as_type_and_delivered_as_dispatched() {
    let step = Lambda::from_async(foo);
    let only = |f: EventFilter| step.stream_events_with("hello world".into(), RunConfig::new(), f);
    let events = events_of(only(EventFilter::new().include_types(["event1"]))).await;
    assert_eq!(names(&events), ["on_custom_event:event1"]);
    // Runwright never injects the root input into a custom payload.
    assert_eq!(data(&events[0]), json!({"x": "hello world"}));

    // LangChain raises TypeError here (it cannot inject into `5`); runwright
    // delivers the payload as is.
    let out = drain(only(EventFilter::new().include_types(["event2"]))).await;
    assert!(out.error.is_none());
    assert_eq!(names(&out.events), ["on_custom_event:event2"]);
    assert_eq!(data(&out.events[0]), json!(5));

    let events = events_of(only(EventFilter::new().include_names(["event2"]))).await;
    assert_eq!(names(&events), ["on_custom_event:event2"]);

    let events = events_of(only(EventFilter::new().include_types(["chain"]))).await;
    assert_eq!(
        names(&events),
        ["on_chain_start:foo", "on_chain_stream:foo", "on_chain_end:foo"]
    );
}
