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
        "invalid arguments: argument `city` (expected string): invalid type: integer `5`, expected a string"
    );
    let err = book_error(json!({"city": "Paris", "nights": -1})).await;
    assert!(err.message().contains("argument `nights` (expected integer)"), "{err}");
}

#[tokio::test]
async fn a_missing_argument_names_the_argument_and_the_expected_type() {
    let err = book_error(json!({"nights": 2})).await;
    assert_eq!(
        err.message(),
        "invalid arguments: missing argument `city` (expected string)"
    );
}

#[tokio::test]
async fn an_unknown_argument_is_an_error_naming_it_and_the_arguments_taken() {
    let err = book_error(json!({"city": "Paris", "nights": 2, "notes": "late"})).await;
    assert_eq!(
        err.message(),
        "invalid arguments: unknown argument `notes` (the tool takes `city` (string), \
         `nights` (integer), `note` (string or null))"
    );
}

#[tokio::test]
async fn non_object_json_is_an_error_naming_the_expected_arguments() {
    let err = book_error(json!([1, 2])).await;
    assert_eq!(
        err.message(),
        "the arguments must be a JSON object (`city` (string), `nights` (integer), `note` (string or null)), \
         got an array `[1,2]`"
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
        "invalid arguments: argument `city` (expected string): invalid type: integer `5`, \
         expected a string; missing argument `nights` (expected integer); unknown argument `extra` (the tool \
         takes `city` (string), `nights` (integer), `note` (string or null))"
    );
}

#[tokio::test]
async fn an_invalid_argument_error_names_the_tool_once() {
    let err = book_error(json!({"city": 5, "nights": 2})).await;
    let shown = err.to_string();
    assert_eq!(
        shown,
        "step `book`: invalid arguments: argument `city` (expected string): invalid type: integer `5`, \
         expected a string"
    );
    assert_eq!(shown.matches("book").count(), 1, "{shown}");
    let err = book_error(json!([1])).await;
    assert_eq!(err.to_string().matches("book").count(), 1, "{err}");
}

#[tokio::test]
async fn null_instead_of_arguments_says_null_once() {
    let err = book_error(json!(null)).await;
    assert_eq!(
        err.message(),
        "the arguments must be a JSON object (`city` (string), `nights` (integer), `note` (string or null)), \
         got null"
    );
}

/// Where to deliver.
#[runwright::tool_arg]
struct Address {
    street: String,
    zip: String,
    /// Where on the street, when it is not the door.
    spot: Option<Spot>,
}

/// A place near a building.
#[runwright::tool_arg]
struct Spot {
    floor: i32,
    note: String,
}

/// A line of an order.
#[runwright::tool_arg]
struct Item {
    name: String,
    quantity: u32,
    price: f64,
}

/// Delivers items.
///
/// * `address` - where
/// * `items` - what
#[tool]
fn deliver(address: Address, items: Vec<Item>) -> String {
    let spot = address
        .spot
        .map(|s| format!(", floor {} ({})", s.floor, s.note))
        .unwrap_or_default();
    let total: f64 = items.iter().map(|i| f64::from(i.quantity) * i.price).sum();
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    format!(
        "{} for {total} to {}, {}{spot}",
        names.join(" and "),
        address.street,
        address.zip
    )
}

fn delivery(address: Json, items: Json) -> Json {
    json!({"address": address, "items": items})
}

async fn deliver_error(args: Json) -> String {
    let err = deliver.invoke(args.into()).await.expect_err("invalid arguments");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.step(), Some("deliver"));
    err.message().to_owned()
}

#[tokio::test]
async fn a_mistyped_field_is_named_by_its_path_inside_the_argument() {
    let tea = json!([{"name": "tea", "quantity": 1, "price": 2.5}]);
    let err = deliver_error(delivery(json!({"street": "1 Main St", "zip": 5}), tea.clone())).await;
    assert_eq!(
        err,
        "invalid arguments: argument `address.zip` (expected string): invalid type: integer `5`, expected a string"
    );

    let address = json!({"street": "1 Main St", "zip": "75001", "spot": {"floor": "third", "note": "blue door"}});
    let err = deliver_error(delivery(address, tea)).await;
    assert_eq!(
        err,
        "invalid arguments: argument `address.spot.floor` (expected integer): invalid type: string \"third\", \
         expected i32"
    );
}

#[tokio::test]
async fn a_mistyped_field_in_an_array_is_named_with_its_index() {
    let address = json!({"street": "1 Main St", "zip": "75001"});
    let items = json!([
        {"name": "tea", "quantity": 1, "price": 2.5},
        {"name": "jam", "quantity": 1, "price": 4},
        {"name": ["bread"], "quantity": 1, "price": 3},
    ]);
    let err = deliver_error(delivery(address.clone(), items)).await;
    assert_eq!(
        err,
        "invalid arguments: argument `items[2].name` (expected string): invalid type: sequence, expected a string"
    );
    let err = deliver_error(delivery(
        address,
        json!([{"name": "tea", "quantity": 1, "price": 2.5}, 7]),
    ))
    .await;
    assert_eq!(
        err,
        "invalid arguments: argument `items[1]` (expected object): invalid type: integer `7`, expected struct Item"
    );
}

#[tokio::test]
async fn a_missing_field_is_named_inside_its_object() {
    let err = deliver_error(delivery(json!({"street": "1 Main St"}), json!([]))).await;
    assert_eq!(
        err,
        "invalid arguments: argument `address` (expected object): missing field `zip`"
    );
    let address = json!({"street": "1 Main St", "zip": "75001", "spot": {"floor": 3}});
    let err = deliver_error(delivery(address, json!([]))).await;
    assert_eq!(
        err,
        "invalid arguments: argument `address.spot` (expected object or null): missing field `note`"
    );
}

#[tokio::test]
async fn problems_in_several_arguments_are_each_named_by_path() {
    let err = deliver_error(delivery(
        json!({"street": null, "zip": "75001"}),
        json!([{"name": "tea", "quantity": -1, "price": 1}]),
    ))
    .await;
    assert_eq!(
        err,
        "invalid arguments: argument `address.street` (expected string): invalid type: null, expected a string; \
         argument `items[0].quantity` (expected integer): invalid value: integer `-1`, expected u32"
    );
}

/// Forecasts the temperature.
///
/// * `city` - where
/// * `celsius` - today's temperature
/// * `days` - how far ahead
#[tool]
fn forecast(city: String, celsius: f64, days: u8) -> String {
    format!("{city}: {celsius} in {days} days")
}

#[tokio::test]
async fn numeric_strings_are_read_as_numbers_where_the_schema_asks_for_one() {
    let out = forecast
        .invoke(json!({"city": "21", "celsius": "21.5", "days": " 3 "}).into())
        .await
        .unwrap();
    assert_eq!(out.into_value().as_deref(), Some("21: 21.5 in 3 days"));
    let out = forecast
        .invoke(json!({"city": "Oslo", "celsius": "-4", "days": "2.0"}).into())
        .await
        .unwrap();
    assert_eq!(out.into_value().as_deref(), Some("Oslo: -4 in 2 days"));

    // Inside struct arguments too.
    let address = json!({"street": "1 Main St", "zip": "75001", "spot": {"floor": "3", "note": "4"}});
    let items = json!([{"name": "tea", "quantity": "2", "price": "2.25"}]);
    let out = deliver.invoke(delivery(address, items).into()).await.unwrap();
    assert_eq!(
        out.into_value().as_deref(),
        Some("tea for 4.5 to 1 Main St, 75001, floor 3 (4)")
    );
}

#[tokio::test]
async fn strings_that_spell_no_fitting_number_stay_errors() {
    let err = forecast
        .invoke(json!({"city": "Oslo", "celsius": "warm", "days": "2.5"}).into())
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "invalid arguments: argument `celsius` (expected number): invalid type: string \"warm\", expected f64; \
         argument `days` (expected integer): invalid type: string \"2.5\", expected u8"
    );
    let err = forecast
        .invoke(json!({"city": "Oslo", "celsius": "NaN", "days": "300"}).into())
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "invalid arguments: argument `celsius` (expected number): invalid type: string \"NaN\", expected f64; \
         argument `days` (expected integer): invalid value: integer `300`, expected u8"
    );
}

#[tokio::test]
async fn events_show_the_arguments_as_given() {
    let events = events_of(forecast.stream_events(json!({"city": "Oslo", "celsius": "1.5", "days": 1}).into())).await;
    let start = one(&events, "forecast", EventPhase::Start);
    assert_eq!(
        data(start)["input"],
        json!({"city": "Oslo", "celsius": "1.5", "days": 1})
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
