//! The LLM primitives end to end: the "how to stream runnables" guide's
//! chains, and bad input (a missing prompt variable, a model failing
//! mid-stream), each a clear error after the events produced so far.

use futures::{StreamExt, TryStreamExt};
use runwright::prompts::ChatPromptTemplate;
use runwright::{
    Document, EventPhase, FakeListChatModel, GenericFakeChatModel, InMemoryRetriever, Map, Parallel, Passthrough,
    RunType, RunnableExt, StrOutputParser, StreamEvent,
};

const JOKE: &str = "Why did the parrot talk? Because it could!";

fn vars(pairs: &[(&str, &str)]) -> Map {
    pairs.iter().map(|(k, v)| (k.to_string(), (*v).into())).collect()
}

fn names(events: &[StreamEvent]) -> Vec<String> {
    events.iter().map(|e| format!("{}:{}", e.event(), e.name())).collect()
}

#[tokio::test]
async fn parrot_joke_streams_token_by_token() {
    let chain = ChatPromptTemplate::from_template("tell me a joke about {topic}").unwrap()
        | GenericFakeChatModel::new([JOKE])
        | StrOutputParser;
    let tokens: Vec<String> = chain.stream(vars(&[("topic", "parrot")])).try_collect().await.unwrap();
    assert_eq!(tokens.len(), 15);
    assert_eq!(&tokens[..4], ["Why", " ", "did", " "]);
    assert_eq!(tokens.concat(), JOKE);
}

#[tokio::test]
async fn retrieval_chain_streams_after_the_retriever() {
    let retriever = InMemoryRetriever::new([
        Document::new("harrison worked at kensho"),
        Document::new("bears like to eat honey"),
    ]);
    let chain = Parallel::new()
        .branch("context", retriever)
        .branch("question", Passthrough::new())
        | ChatPromptTemplate::from_template("Context: {context}\nQuestion: {question}").unwrap()
        | GenericFakeChatModel::new(["Harrison worked at Kensho."])
        | StrOutputParser;
    let events: Vec<StreamEvent> = chain
        .stream_events("where did harrison work?".into())
        .try_collect()
        .await
        .unwrap();
    let names = names(&events);
    let retriever_end = names
        .iter()
        .position(|n| n == "on_retriever_end:InMemoryRetriever")
        .unwrap();
    let first_token = names
        .iter()
        .position(|n| n == "on_chat_model_stream:GenericFakeChatModel")
        .unwrap();
    assert!(retriever_end < first_token, "{names:?}");
    // The prompt saw only the matching document, printed as LangChain prints it.
    let prompt_end = events.iter().find(|e| e.event() == "on_prompt_end").unwrap();
    let text = prompt_end.data.output.as_ref().unwrap().to_json()["messages"][0]["content"].clone();
    assert_eq!(
        text,
        "Context: [Document(metadata={}, page_content='harrison worked at kensho')]\nQuestion: where did harrison work?"
    );
    let chunks: Vec<&StreamEvent> = events
        .iter()
        .filter(|e| e.phase == EventPhase::Stream && e.parent_ids().is_empty())
        .collect();
    assert_eq!(chunks.len(), 7, "the answer streams token by token");
}

#[tokio::test]
async fn missing_prompt_variable_is_an_error_naming_it_after_the_events_so_far() {
    let chain = ChatPromptTemplate::from_template("tell me a joke about {topic} in {style}").unwrap()
        | GenericFakeChatModel::new([JOKE])
        | StrOutputParser;
    let items: Vec<_> = chain.stream_events(vars(&[("topic", "parrot")])).collect().await;
    let (errors, events): (Vec<_>, Vec<_>) = items.into_iter().partition(|i| i.is_err());
    assert_eq!(errors.len(), 1, "exactly one error");
    let events: Vec<StreamEvent> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        names(&events),
        ["on_chain_start:RunnableSequence", "on_prompt_start:ChatPromptTemplate"]
    );
    let e = errors.into_iter().next().unwrap().unwrap_err();
    assert_eq!(e.kind(), runwright::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("style"), "{e}");
    assert!(e.to_string().contains("missing variables {'style'}"), "{e}");
    assert_eq!(e.step(), Some("ChatPromptTemplate"));
}

#[tokio::test]
async fn model_failing_at_chunk_k_yields_the_chunks_before_then_one_error() {
    let chain = FakeListChatModel::new(["abcdef"]).error_on_chunk(3) | StrOutputParser;
    let items: Vec<_> = chain.stream_events("x".into()).collect().await;
    let last = items.last().unwrap();
    assert!(last.is_err());
    assert_eq!(items.iter().filter(|i| i.is_err()).count(), 1);
    let tokens: Vec<String> = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .filter(|e| e.phase == EventPhase::Stream && e.run_type == RunType::ChatModel)
        .map(|e| {
            e.data.chunk.as_ref().unwrap().to_json()["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(tokens, ["a", "b", "c"]);
    let err = last.as_ref().unwrap_err();
    assert_eq!(err.step(), Some("FakeListChatModel"));

    let plain: Vec<_> = chain.stream("x".into()).collect().await;
    assert_eq!(plain.len(), 4);
    assert_eq!(
        plain[..3]
            .iter()
            .map(|r| r.as_ref().unwrap().as_str())
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert!(plain[3].is_err());
}

#[tokio::test]
async fn invoked_model_under_a_listener_still_streams_its_tokens() {
    // A lambda that *invokes* the model: with stream_events listening, the
    // model's tokens still show, and its end output is a whole message.
    let model = std::sync::Arc::new(GenericFakeChatModel::new(["hello there"]));
    let m = model.clone();
    let ask = runwright::Lambda::from_async(move |q: String| {
        let m = m.clone();
        async move { Ok(m.invoke(q.into()).await?.text().into_owned()) }
    });
    let events: Vec<StreamEvent> = ask.stream_events("hi".into()).try_collect().await.unwrap();
    let n_tokens = events.iter().filter(|e| e.event() == "on_chat_model_stream").count();
    assert_eq!(n_tokens, 3);
    let end = events.iter().find(|e| e.event() == "on_chat_model_end").unwrap();
    assert_eq!(end.data.output.as_ref().unwrap().to_json()["type"], "AIMessage");
    let model_run = end.run_id();
    assert_eq!(end.parent_ids().len(), 1, "the model nests under the lambda");
    let token = events.iter().find(|e| e.event() == "on_chat_model_stream").unwrap();
    assert_eq!(token.run_id(), model_run);
}

const JSON_TEXT: &str = r#"{"countries": [{"name": "France", "population": 67391582}, {"name": "Spain", "population": 47351567}, {"name": "Japan", "population": 125584838}]}"#;

fn country_names(doc: runwright::parsers::json_stream::PartialValue) -> runwright::Result<Vec<String>> {
    Ok(doc
        .get("countries")
        .map(|cs| {
            cs.elements()
                .filter_map(|c| c.get("name")?.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

#[tokio::test]
async fn countries_json_streams_growing_partial_values() {
    let chain = GenericFakeChatModel::new([JSON_TEXT]) | runwright::JsonOutputParser;
    let values: Vec<serde_json::Value> = chain
        .stream("countries?".into())
        .map_ok(|v| v.to_json())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(values.len(), 10);
    assert_eq!(values[0], serde_json::json!({}));
    assert_eq!(values[2], serde_json::json!({"countries": [{"name": "France"}]}));
    assert_eq!(values[9], serde_json::from_str::<serde_json::Value>(JSON_TEXT).unwrap());
}

#[tokio::test]
async fn plain_function_collapses_the_stream_but_events_still_show_the_chunks() {
    let chain = GenericFakeChatModel::new([JSON_TEXT, JSON_TEXT])
        | runwright::JsonOutputParser
        | runwright::Lambda::from_fn(country_names);
    let chunks: Vec<Vec<String>> = chain.stream("countries?".into()).try_collect().await.unwrap();
    assert_eq!(chunks, [vec!["France", "Spain", "Japan"]]);
    let events: Vec<StreamEvent> = chain.stream_events("countries?".into()).try_collect().await.unwrap();
    let count = |name: &str| events.iter().filter(|e| e.event() == name).count();
    assert_eq!(count("on_chat_model_stream"), 25);
    assert_eq!(count("on_parser_stream"), 10);
    let root_chunks = events
        .iter()
        .filter(|e| e.phase == EventPhase::Stream && e.parent_ids().is_empty())
        .count();
    assert_eq!(root_chunks, 1);
}

#[tokio::test]
async fn generator_step_streams_each_country_once() {
    use runwright::parsers::json_stream::PartialValue;
    fn names(docs: runwright::ChunkStream<'_, PartialValue>) -> runwright::ChunkStream<'_, String> {
        let mut seen = std::collections::HashSet::new();
        Box::pin(
            docs.map_ok(move |doc| {
                let fresh: Vec<_> = country_names(doc)
                    .unwrap()
                    .into_iter()
                    .filter(|n| seen.insert(n.clone()))
                    .collect();
                futures::stream::iter(fresh.into_iter().map(Ok))
            })
            .try_flatten(),
        )
    }
    let chain = GenericFakeChatModel::new([JSON_TEXT]) | runwright::JsonOutputParser | runwright::Generator::new(names);
    let out: Vec<String> = chain.stream("countries?".into()).try_collect().await.unwrap();
    assert_eq!(out, ["France", "Spain", "Japan"]);
}

#[tokio::test]
async fn json_parser_fed_invalid_json_at_the_end_fails_clearly_after_its_values() {
    let chain = GenericFakeChatModel::new([r#"{"a": 1, "b": [tru"#]) | runwright::JsonOutputParser;
    let items: Vec<_> = chain.stream_events("x".into()).collect().await;
    assert_eq!(items.iter().filter(|i| i.is_err()).count(), 1);
    assert!(items.last().unwrap().is_err());
    let values: Vec<serde_json::Value> = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .filter(|e| e.event() == "on_parser_stream")
        .map(|e| e.data.chunk.as_ref().unwrap().to_json())
        .collect();
    assert_eq!(values.last().unwrap(), &serde_json::json!({"a": 1, "b": []}));
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.kind(), runwright::ErrorKind::InvalidInput);
    assert_eq!(err.step(), Some("JsonOutputParser"));
    assert!(err.message().contains("line 1"), "the error says where: {err}");
}

#[tokio::test]
async fn json_diff_parser_invoked_gives_the_value_and_streamed_gives_patches() {
    let chain = GenericFakeChatModel::new([JSON_TEXT, JSON_TEXT]) | runwright::JsonOutputParser.diff();
    let whole = serde_json::from_str::<serde_json::Value>(JSON_TEXT).unwrap();
    assert_eq!(chain.invoke("countries?".into()).await.unwrap(), whole);
    let patches: Vec<serde_json::Value> = chain.stream("countries?".into()).try_collect().await.unwrap();
    assert_eq!(patches.len(), 10);
    assert_eq!(
        patches[0],
        serde_json::json!([{"op": "replace", "path": "", "value": {}}])
    );
    // The patches, applied in turn, build the value.
    let mut doc = serde_json::Value::Null;
    for ops in patches {
        let ops: json_patch::Patch = serde_json::from_value(ops).unwrap();
        json_patch::patch(&mut doc, &ops).unwrap();
    }
    assert_eq!(doc, whole);
}
