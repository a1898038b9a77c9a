//! The JSON of every kind of event, compared with the reference traces
//! recorded from LangChain (after the README's normalization), key order
//! included.

use futures::future::BoxFuture;
use futures::TryStreamExt;
use runwright::{
    dispatch_custom_event, ChatPromptTemplate, Document, EventPhase, FakeListChatModel, FakeListLLM,
    FakeStreamingListLLM, GenericFakeChatModel, InMemoryRetriever, Lambda, Map, PromptTemplate, RunConfig, RunnableExt,
    StrOutputParser,
};
use serde_json::{json, Value as Json};

use crate::common::*;

const LAMBDAS: &str = "09_lambda_async_and_chain_decorator.jsonl";
const CUSTOM: &str = "10_custom_events.jsonl";
const CHAT: &str = "01_chat_model.jsonl";
const CHAIN: &str = "02_prompt_model_parser.jsonl";
const TOOLS: &str = "08_tools_config_propagation.jsonl";

#[tokio::test]
async fn anonymous_lambdas_in_a_streamed_sequence_match_the_reference_trace() {
    let chain = Lambda::from_fn(|x: i64| Ok(x + 1)) | Lambda::from_fn(|x: i64| Ok(x * 2));
    let events = events_of(chain.stream_events(1)).await;
    assert_same_events(
        &normalized(&events),
        &reference_events(LAMBDAS, "anonymous_lambda_in_sequence.astream_events"),
    );
}

async fn reverse_and_double(word: String) -> runwright::Result<String> {
    let reverse = Lambda::from_fn(reverse_word);
    Ok(reverse.invoke(word).await?.repeat(2))
}

#[tokio::test]
async fn async_lambda_invoking_a_runnable_matches_the_reference_trace() {
    let events = events_of(Lambda::from_async(reverse_and_double).stream_events("1234".into())).await;
    assert_same_events(
        &normalized(&events),
        &reference_events(LAMBDAS, "lambda.astream_events"),
    );
}

fn sync_reverse_and_double(word: String) -> runwright::Result<String> {
    let reverse = Lambda::from_fn(reverse_word);
    Ok(reverse.invoke_blocking(word)?.repeat(2))
}

#[tokio::test]
async fn sync_lambda_invoking_a_runnable_matches_the_reference_trace() {
    let events = events_of(Lambda::from_fn(sync_reverse_and_double).stream_events("1234".into())).await;
    assert_same_events(
        &normalized(&events),
        &reference_events(LAMBDAS, "sync_lambda.astream_events"),
    );
}

async fn foo(x: String) -> runwright::Result<String> {
    dispatch_custom_event("event1", json!({ "x": x }))?;
    dispatch_custom_event("event2", 5)?;
    Ok(x)
}

#[tokio::test]
async fn custom_events_match_the_reference_trace() {
    let events = events_of(Lambda::from_async(foo).stream_events("hello world".into())).await;
    assert_same_events(
        &normalized(&events),
        &reference_events(CUSTOM, "async_lambda.adispatch"),
    );
}

async fn foo_cfg(x: String) -> runwright::Result<String> {
    dispatch_custom_event("progress", json!({"step": 1, "x": x}))?;
    Ok(x.to_uppercase())
}

#[tokio::test]
async fn nested_with_config_tags_metadata_and_custom_event_match_the_reference_trace() {
    let emitter = Lambda::from_async(foo_cfg).with_config(
        RunConfig::new()
            .run_name("emitter")
            .tag("inner")
            .metadata("inner_k", "v"),
    );
    let chain = (Lambda::from_fn(|x: String| Ok(x.trim().to_string())) | emitter)
        .with_config(RunConfig::new().tag("outer").metadata("outer_k", 1));
    let events = events_of(chain.stream_events(" hi ".into())).await;
    assert_same_events(
        &normalized(&events),
        &reference_events(CUSTOM, "nested_with_tags_metadata"),
    );
}

const JOKE: &str = "Why did the parrot talk? Because it could!";

fn vars(key: &str, value: &str) -> Map {
    let mut m = Map::new();
    m.insert(key.into(), json!(value));
    m
}

#[tokio::test]
async fn prompt_chat_model_parser_chain_matches_the_reference_trace() {
    let prompt = ChatPromptTemplate::from_template("tell me a joke about {topic}").expect("a valid template");
    let chain = prompt | GenericFakeChatModel::new([JOKE]) | StrOutputParser;
    let events = events_of(chain.stream_events(vars("topic", "parrot"))).await;
    assert_same_events(&normalized(&events), &reference_events(CHAIN, "astream_events"));
}

#[tokio::test]
async fn root_chat_model_matches_the_reference_trace() {
    let model = GenericFakeChatModel::new(["The sky is blue.\nClouds  are white."]);
    let events = events_of(model.stream_events("what color is the sky?".into())).await;
    assert_same_events(&normalized(&events), &reference_events(CHAT, "generic.astream_events"));
}

#[tokio::test]
async fn chat_model_with_run_name_tags_and_metadata_matches_the_reference_trace() {
    let model =
        FakeListChatModel::new(["ok"]).with_config(RunConfig::new().run_name("my_model").tag("t1").metadata("m", 1));
    let events = events_of(model.stream_events("hi".into())).await;
    assert_same_events(
        &normalized(&events),
        &reference_events(CHAT, "fake_list_chat.with_run_name_tags_metadata.astream_events"),
    );
}

/// LangChain's FakeStreamingListLLM streams *outside* its run (it is
/// `ainvoke`, then characters), so its trace has no `on_llm_stream`.
#[tokio::test]
async fn llm_streaming_after_its_run_matches_the_reference_trace() {
    let llm = FakeStreamingListLLM::new(["abc"]);
    let events = events_of(llm.stream_events("hi".into())).await;
    assert_same_events(
        &normalized(&events),
        &reference_events(CHAT, "fake_streaming_llm.astream_events"),
    );
    let chunks: Vec<String> = llm.stream("hi".into()).try_collect().await.expect("streams");
    assert_eq!(chunks, ["a", "b", "c"]);

    let events = events_of(FakeListLLM::new(["abc"]).stream_events("hi".into())).await;
    assert_same_events(
        &normalized(&events),
        &reference_events(CHAT, "fake_list_llm.astream_events"),
    );
}

#[tokio::test]
async fn string_prompt_llm_parser_chain_matches_the_reference_trace() {
    let prompt = PromptTemplate::from_template("say {word}").expect("a valid template");
    let chain = prompt | FakeStreamingListLLM::new(["abc"]) | StrOutputParser;
    let events = events_of(chain.stream_events(vars("word", "abc"))).await;
    assert_same_events(
        &normalized(&events),
        &reference_events(CHAT, "prompt_fake_streaming_llm_parser.astream_events"),
    );
}

fn structure(ev: &Json) -> (String, Vec<String>, Vec<String>) {
    (
        ev["event"].as_str().unwrap_or_default().to_string(),
        keys(ev),
        keys(&ev["data"]),
    )
}

/// The reference event of `kind` at position `nth` among those of its kind.
fn reference_event(file: &str, case: &str, kind: &str, nth: usize) -> Json {
    reference(file, case, "event")
        .into_iter()
        .filter(|e| e["event"] == kind)
        .nth(nth)
        .unwrap_or_else(|| panic!("no {kind} #{nth} in {case}"))
}

/// Every kind of event of the runtime's own runnables, checked one by one
/// against a reference event of that kind: the keys, their order, and the
/// keys of `data`.
#[tokio::test]
async fn every_event_kind_has_the_reference_keys_in_order() {
    let prompt = ChatPromptTemplate::from_template("tell me a joke about {topic}").expect("a valid template");
    let chain = prompt | GenericFakeChatModel::new([JOKE]) | StrOutputParser;
    let events = events_of(chain.stream_events(vars("topic", "parrot"))).await;
    let kinds = [
        ("on_chain_start", 0),
        ("on_prompt_start", 0),
        ("on_prompt_end", 0),
        ("on_chat_model_start", 0),
        ("on_chat_model_stream", 0),
        ("on_parser_start", 0),
        ("on_parser_stream", 0),
        ("on_chain_stream", 0),
        ("on_chat_model_end", 0),
        ("on_parser_end", 0),
        ("on_chain_end", 0),
    ];
    for (kind, nth) in kinds {
        let actual = events
            .iter()
            .filter(|e| e.event() == kind)
            .nth(nth)
            .unwrap_or_else(|| panic!("no {kind}"))
            .to_json();
        assert_eq!(
            structure(&actual),
            structure(&reference_event(CHAIN, "astream_events", kind, nth))
        );
    }
}

fn reverse_tool(input: Json) -> BoxFuture<'static, runwright::Result<Json>> {
    Box::pin(async move {
        let word = input.as_str().map(str::to_owned).unwrap_or_default();
        let out = Lambda::from_fn(reverse_word).invoke(word).await?;
        Ok(json!(out))
    })
}

#[tokio::test]
async fn tool_invoking_a_runnable_matches_the_reference_trace() {
    let tool = FakeTool::new("bad_tool", reverse_tool);
    let events = events_of(tool.stream_events(json!("hello"))).await;
    assert_same_events(&normalized(&events), &reference_events(TOOLS, "bad_tool.str_input"));
}

#[tokio::test]
async fn nested_tool_start_and_end_have_the_reference_keys() {
    let chain = runwright::Passthrough::new().pipe(FakeTool::new("bad_tool", reverse_tool));
    let events = events_of(chain.stream_events(json!("hello"))).await;
    let case = "nested.passthrough_then_tool.str_input";
    for kind in ["on_tool_start", "on_tool_end"] {
        let actual = events.iter().find(|e| e.event() == kind).expect("tool event").to_json();
        assert_eq!(structure(&actual), structure(&reference_event(TOOLS, case, kind, 0)));
    }
    assert!(
        !events.iter().any(|e| e.event() == "on_tool_stream"),
        "tools do not stream: {:?}",
        names(&events)
    );
}

fn failing_tool_body(input: Json) -> BoxFuture<'static, runwright::Result<Json>> {
    let word = input["word"].as_str().unwrap_or_default().to_string();
    Box::pin(async move { Err(runwright::Error::msg(format!("cannot handle {word}"))) })
}

/// Error types are free (the reference's are Python class names).
fn without_error_type(mut ev: Json) -> String {
    if let Some(t) = ev.pointer_mut("/data/error/type") {
        *t = json!("<type>");
    }
    ev.to_string()
}

#[tokio::test]
async fn tool_error_event_matches_the_reference_trace_then_the_error_ends_the_stream() {
    let tool = FakeTool::new("failing_tool", failing_tool_body);
    let out = drain(tool.stream_events(json!({"word": "hello"}))).await;
    let mut n = Normalizer::default();
    let actual: Vec<String> = out
        .events
        .iter()
        .map(|e| without_error_type(n.event(&e.to_json())))
        .collect();
    let expected: Vec<String> = reference(TOOLS, "failing_tool.dict_input", "event")
        .into_iter()
        .map(without_error_type)
        .collect();
    assert_same_events(&actual, &expected);
    let error = out.error.expect("the error is an item of the stream");
    let reference_error = &reference(TOOLS, "failing_tool.dict_input", "error")[0];
    assert_eq!(error.message(), reference_error["message"]);
    assert_eq!(error.step(), Some("failing_tool"));
    assert_eq!(out.items_after_error, 0);
}

#[tokio::test]
async fn retriever_start_and_end_have_the_layout_of_every_start_and_end() {
    let retriever = InMemoryRetriever::new([
        Document::new("harrison worked at kensho"),
        Document::new("bears like honey"),
    ]);
    let chain = Lambda::from_fn(|q: String| Ok(q)).pipe(retriever);
    let events = events_of(chain.stream_events("where did harrison work?".into())).await;
    assert_eq!(
        names(&events),
        [
            "on_chain_start:RunnableSequence",
            "on_chain_start:RunnableLambda",
            "on_chain_stream:RunnableLambda",
            "on_chain_end:RunnableLambda",
            "on_retriever_start:InMemoryRetriever",
            "on_retriever_end:InMemoryRetriever",
            "on_chain_stream:RunnableSequence",
            "on_chain_end:RunnableSequence",
        ]
    );
    // No retriever trace is public; LangChain builds every start and end
    // event with the same code, so they must have a chain's keys.
    let chain_start = reference_event(LAMBDAS, "sync_lambda.astream_events", "on_chain_start", 1);
    let chain_end = reference_event(LAMBDAS, "sync_lambda.astream_events", "on_chain_end", 0);
    let start = one(&events, "InMemoryRetriever", EventPhase::Start).to_json();
    let end = one(&events, "InMemoryRetriever", EventPhase::End).to_json();
    assert_eq!(
        (keys(&start), keys(&start["data"])),
        (keys(&chain_start), keys(&chain_start["data"]))
    );
    assert_eq!(
        (keys(&end), keys(&end["data"])),
        (keys(&chain_end), keys(&chain_end["data"]))
    );
    assert_eq!(start["data"]["input"], json!({"query": "where did harrison work?"}));
    assert_eq!(
        end["data"]["output"],
        json!([{"type": "Document", "page_content": "harrison worked at kensho", "metadata": {}}])
    );
}

/// A retriever that names itself, for the `ls_retriever_name` rule.
struct RetrieverOfNotes;

impl runwright::Retriever for RetrieverOfNotes {
    fn name(&self) -> &str {
        "RetrieverOfNotes"
    }

    async fn retrieve(&self, query: String) -> runwright::Result<Vec<Document>> {
        Ok(vec![Document::new(query)])
    }
}
runwright::impl_retriever_runnable!(RetrieverOfNotes);

#[tokio::test]
async fn retriever_runs_show_a_query_and_their_ls_name() {
    let kb = InMemoryRetriever::new([Document::new("harrison worked at kensho")]);

    // As the root: the start carries the call's input as given (rule 1).
    let named = kb
        .clone()
        .with_config(RunConfig::new().run_name("Docs").metadata("source", "mem"));
    let events = events_of(named.stream_events("kensho".into())).await;
    let start = one(&events, "Docs", EventPhase::Start).to_json();
    assert_eq!(start["data"]["input"], "kensho");
    // Derived from the retriever's own name, not the run name; it wins over
    // the config's metadata, which it keeps.
    assert_eq!(
        start["metadata"],
        json!({"ls_retriever_name": "inmemory", "source": "mem"})
    );

    // As a child: `{"query": ...}` at start and end, typed for Rust consumers.
    let chain = Lambda::from_fn(|q: String| Ok(q)) | kb | Lambda::from_fn(|d: Vec<Document>| Ok(d.len()));
    let events = events_of(chain.stream_events("kensho".into())).await;
    let start = one(&events, "InMemoryRetriever", EventPhase::Start);
    let query = start
        .data
        .input
        .as_ref()
        .and_then(|p| p.downcast_ref::<runwright::retrievers::RetrieverQuery>());
    assert_eq!(query.map(|q| q.query.as_str()), Some("kensho"));
    let end = one(&events, "InMemoryRetriever", EventPhase::End).to_json();
    assert_eq!(end["data"]["input"], json!({"query": "kensho"}));
    assert_eq!(end["metadata"], json!({"ls_retriever_name": "inmemory"}));

    // A leading `Retriever` goes instead of a trailing one.
    let events = events_of(RetrieverOfNotes.stream_events("x".into())).await;
    let start = one(&events, "RetrieverOfNotes", EventPhase::Start).to_json();
    assert_eq!(start["metadata"], json!({"ls_retriever_name": "ofnotes"}));
}
