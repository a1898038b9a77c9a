//! What a tool accepts: a JSON object of arguments (checked against the
//! schema, every problem named with the argument and the JSON type it
//! expects, the body never run), a bare string for a tool with one argument,
//! a model's tool call (answered with a `ToolMessage`); and how each shows in
//! events (README rules 9 and 10).

use std::cell::Cell;

use runwright::tools::{ToolCallId, ToolInput, ToolOutput};
use runwright::{tool, ErrorKind, EventPhase, Passthrough, RunnableExt, StreamWriter, ToolCall, ToolStatus};
use serde_json::{json, Value as Json};

use crate::common::*;

thread_local! {
    /// Bodies of `book` run so far on this thread. Per thread: each test runs
    /// on its own thread (and a sync tool body runs inline), so tests running
    /// side by side do not see each other's bookings.
    static BOOKINGS: Cell<usize> = const { Cell::new(0) };
}

/// Books a hotel.
///
/// * `city` - where
/// * `nights` - how many nights
/// * `note` - a note for the hotel
#[tool]
fn book(city: String, nights: u32, note: Option<String>) -> String {
    BOOKINGS.with(|b| b.set(b.get() + 1));
    format!(
        "{nights} nights in {city}{}",
        note.map(|n| format!(" ({n})")).unwrap_or_default()
    )
}

async fn book_error(args: Json) -> runwright::Error {
    let before = BOOKINGS.with(Cell::get);
    let err = book.invoke(args.into()).await.expect_err("invalid arguments");
    assert_eq!(
        BOOKINGS.with(Cell::get),
        before,
        "the tool body never runs on invalid input"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.step(), Some("book"));
    err
}

#[tokio::test]
async fn a_mistyped_argument_names_the_argument_and_the_expected_type() {
    let err = book_error(json!({"city": 5, "nights": 2})).await;
    assert_eq!(
        err.message(),
        "invalid arguments for tool `book`: argument `city` (expected string): invalid type: integer `5`, expected a string"
    );
    let err = book_error(json!({"city": "Paris", "nights": -1})).await;
    assert!(err.message().contains("argument `nights` (expected integer)"), "{err}");
}

#[tokio::test]
async fn a_missing_argument_names_the_argument_and_the_expected_type() {
    let err = book_error(json!({"nights": 2})).await;
    assert_eq!(
        err.message(),
        "invalid arguments for tool `book`: missing argument `city` (expected string)"
    );
}

#[tokio::test]
async fn an_unknown_argument_is_an_error_naming_it_and_the_arguments_taken() {
    let err = book_error(json!({"city": "Paris", "nights": 2, "notes": "late"})).await;
    assert_eq!(
        err.message(),
        "invalid arguments for tool `book`: unknown argument `notes` (the tool takes `city` (string), \
         `nights` (integer), `note` (string or null))"
    );
}

#[tokio::test]
async fn non_object_json_is_an_error_naming_the_expected_arguments() {
    let err = book_error(json!([1, 2])).await;
    assert_eq!(
        err.message(),
        "tool `book` expects a JSON object of arguments (`city` (string), `nights` (integer), `note` (string or \
         null)), got an array `[1,2]`"
    );
    let err = book_error(json!("Paris")).await;
    assert!(
        err.message()
            .contains("a bare string fits only a tool with one argument"),
        "{err}"
    );
}

#[tokio::test]
async fn all_problems_are_reported_together() {
    let err = book_error(json!({"city": 5, "extra": true})).await;
    assert_eq!(
        err.message(),
        "invalid arguments for tool `book`: argument `city` (expected string): invalid type: integer `5`, \
         expected a string; missing argument `nights` (expected integer); unknown argument `extra` (the tool \
         takes `city` (string), `nights` (integer), `note` (string or null))"
    );
}

#[tokio::test]
async fn optional_arguments_may_be_left_out() {
    let before = BOOKINGS.with(Cell::get);
    let out = book.invoke(json!({"city": "Paris", "nights": 2}).into()).await.unwrap();
    assert_eq!(out, ToolOutput::Value("2 nights in Paris".to_string()));
    // The counter `book_error` relies on sees a body that ran.
    assert_eq!(BOOKINGS.with(Cell::get), before + 1);
    let out = book
        .invoke(json!({"city": "Paris", "nights": 2, "note": "late"}).into())
        .await
        .unwrap();
    assert_eq!(out.into_value().as_deref(), Some("2 nights in Paris (late)"));
}

/// Reverses a word.
#[tool]
fn reverse(word: String) -> String {
    word.chars().rev().collect()
}

#[tokio::test]
async fn a_bare_string_is_the_only_argument() {
    let out = reverse.invoke("hello".into()).await.unwrap();
    assert_eq!(String::from(out), "olleh");
}

#[tokio::test]
async fn a_tool_call_is_answered_with_a_tool_message() {
    let call = ToolCall::new("reverse", json!({"word": "hello"})).with_id("call_1");
    let out = reverse.invoke(call.into()).await.unwrap();
    let msg = out.into_message().expect("a ToolMessage");
    assert_eq!(
        serde_json::to_value(&msg).unwrap(),
        json!({"type": "ToolMessage", "content": "olleh", "name": "reverse", "tool_call_id": "call_1", "status": "success"})
    );
}

/// Counts letters.
#[tool(name = "count")]
fn count_letters(word: String) -> Json {
    json!({"word": word.clone(), "letters": word.chars().count(), "note": "ü"})
}

#[tokio::test]
async fn a_non_string_output_becomes_json_text_in_the_message() {
    assert_eq!(count_letters.spec().name(), "count");
    let call = ToolCall::new("count", json!({"word": "héllo"})).with_id("c");
    let msg = count_letters.invoke(call.into()).await.unwrap().into_message().unwrap();
    assert_eq!(msg.text(), r#"{"word": "héllo", "letters": 5, "note": "ü"}"#);
    assert_eq!(msg.name.as_deref(), Some("count"));
}

#[derive(Debug)]
struct ValueError(String);
impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ValueError {}

/// Always fails.
#[tool]
fn failing(word: String) -> Result<String, ValueError> {
    Err(ValueError(format!("cannot handle {word}")))
}

/// Always fails, and says so.
#[tool(handle_errors)]
fn handled(word: String) -> Result<String, ValueError> {
    Err(ValueError(format!("cannot handle {word}")))
}

fn shout_error(e: &runwright::Error) -> String {
    format!("ERROR: {}", e.message().to_uppercase())
}

/// Always fails, and shouts about it.
#[tool(handle_errors = shout_error)]
fn shouting(word: String) -> Result<String, ValueError> {
    Err(ValueError(format!("cannot handle {word}")))
}

#[tokio::test]
async fn a_failing_tool_emits_on_tool_error_with_the_call_id_then_fails() {
    let call = ToolCall::new("failing", json!({"word": "hello"})).with_id("call_err");
    let out = drain(failing.stream_events(call.into())).await;
    assert_eq!(names(&out.events), ["on_tool_start:failing", "on_tool_error:failing"]);
    assert_eq!(
        data(&out.events[1]),
        json!({"error": {"type": "ValueError", "message": "cannot handle hello"}, "input": {"word": "hello"}, "tool_call_id": "call_err"})
    );
    let err = out.error.expect("the error follows the events");
    assert_eq!(err.type_name(), "ValueError");
    assert_eq!(err.message(), "cannot handle hello");
    assert_eq!(out.items_after_error, 0);
}

#[tokio::test]
async fn handled_errors_end_the_tool_with_the_error_text() {
    let events = events_of(handled.stream_events(json!({"word": "hello"}).into())).await;
    assert_eq!(names(&events), ["on_tool_start:handled", "on_tool_end:handled"]);
    assert_eq!(data(&events[1]), json!({"output": "cannot handle hello"}));

    let call = ToolCall::new("handled", json!({"word": "hello"})).with_id("c1");
    let msg = handled.invoke(call.into()).await.unwrap().into_message().unwrap();
    assert_eq!(msg.status, ToolStatus::Error);
    assert_eq!(msg.text(), "cannot handle hello");

    let out = shouting.invoke("hello".into()).await.unwrap();
    assert!(out.is_error());
    assert_eq!(String::from(out), "ERROR: CANNOT HANDLE HELLO");
}

#[tokio::test]
async fn handled_errors_cover_invalid_arguments() {
    let call = ToolCall::new("handled", json!({"wrod": "hello"})).with_id("c2");
    let msg = handled.invoke(call.into()).await.unwrap().into_message().unwrap();
    assert_eq!(msg.status, ToolStatus::Error);
    assert!(
        msg.text().contains("missing argument `word` (expected string)"),
        "{}",
        msg.text()
    );
}

#[tokio::test]
async fn a_nested_tool_given_a_string_starts_with_an_empty_object_and_ends_with_null() {
    let chain = Passthrough::<String>::new() | reverse;
    let events = events_of(chain.stream_events("hello".into())).await;
    let start = one(&events, "reverse", EventPhase::Start);
    let end = one(&events, "reverse", EventPhase::End);
    assert_eq!(data(start), json!({"input": {}}));
    assert_eq!(data(end), json!({"output": "olleh", "input": null}));
}

#[tokio::test]
async fn a_root_tool_shows_the_raw_input_first() {
    let call = json!({"name": "reverse", "args": {"word": "hello"}, "id": "call_123", "type": "tool_call"});
    let events = events_of(reverse.stream_events(ToolInput::from(call.clone()))).await;
    assert_eq!(data(&events[0]), json!({ "input": call }));
    assert_eq!(
        data(&events[1]),
        json!({"output": {"type": "ToolMessage", "content": "olleh", "name": "reverse", "tool_call_id": "call_123", "status": "success"}})
    );
}

/// Reports what it was given besides its argument.
#[tool]
async fn introspect(word: String, ctx: &runwright::RunContext, writer: StreamWriter, id: ToolCallId) -> Json {
    writer.write(json!({"progress": word.clone()}));
    json!({"word": word, "tool": ctx.name(), "id": id.0})
}

#[tokio::test]
async fn injected_parameters_are_not_arguments() {
    let spec = introspect.spec();
    assert_eq!(spec.args().iter().map(|a| a.name()).collect::<Vec<_>>(), ["word"]);
    let call = ToolCall::new("introspect", json!({"word": "hi"})).with_id("call_9");
    let events = events_of(introspect.stream_events(call.into())).await;
    let end = one(&events, "introspect", EventPhase::End);
    let content = data(end)["output"]["content"].as_str().unwrap().to_owned();
    let content: Json = serde_json::from_str(&content).unwrap();
    assert_eq!(content, json!({"word": "hi", "tool": "introspect", "id": "call_9"}));
}
