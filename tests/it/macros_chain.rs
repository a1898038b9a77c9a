//! `chain!` and `#[chain_fn]` from a user's side: every kind of step (an
//! expression, a function's name, a closure, a map literal), the runs they
//! make, and functions made steps.

use futures::TryStreamExt;
use runwright::prompts::ChatPromptTemplate;
use runwright::{
    chain, chain_fn, passthrough, Document, EventPhase, GenericFakeChatModel, InMemoryRetriever, Lambda, Map,
    RunConfig, RunnableExt, StrOutputParser,
};
use serde_json::json;

use crate::common::*;

fn shout(s: String) -> runwright::Result<String> {
    Ok(s.to_uppercase())
}

async fn exclaim(s: String) -> runwright::Result<String> {
    Ok(format!("{s}!"))
}

#[chain_fn]
async fn reverse_and_double(word: String) -> runwright::Result<String> {
    let reversed = Lambda::from_fn(|w: String| Ok(w.chars().rev().collect::<String>()))
        .named("reverse_word")
        .invoke(word)
        .await?;
    Ok(reversed.repeat(2))
}

/// A sync step that cannot fail.
#[chain_fn(name = "count")]
fn count_chars(s: String) -> usize {
    s.chars().count()
}

#[tokio::test]
async fn functions_closures_and_runnables_chain() {
    let pipeline = chain!(shout | exclaim | |s| Ok(format!("<{s}>")) | move |s: String| async move { Ok(s.len()) });
    assert_eq!(pipeline.invoke("hey".into()).await.unwrap(), 6);
    assert_eq!(
        pipeline.step_names(),
        ["shout", "exclaim", "RunnableLambda", "RunnableLambda"]
    );
}

#[tokio::test]
async fn chain_fn_steps_are_named_after_the_function_and_nest_their_runs() {
    assert_eq!(runwright::Runnable::name(&count_chars), "count");
    let pipeline = chain!(reverse_and_double | count_chars);
    assert_eq!(pipeline.invoke("abc".into()).await.unwrap(), 6);

    let events = events_of(reverse_and_double.stream_events("1234".into())).await;
    assert_eq!(
        names(&events),
        [
            "on_chain_start:reverse_and_double",
            "on_chain_start:reverse_word",
            "on_chain_end:reverse_word",
            "on_chain_stream:reverse_and_double",
            "on_chain_end:reverse_and_double",
        ]
    );
    assert_eq!(events[1].parent_ids()[0], events[0].run_id());
    assert_eq!(chunks_of(&events, "reverse_and_double"), [json!("43214321")]);
}

fn docs() -> InMemoryRetriever {
    InMemoryRetriever::new([
        Document::new("harrison worked at kensho"),
        Document::new("bears like to eat honey"),
    ])
}

fn format_docs(docs: Vec<Document>) -> runwright::Result<String> {
    Ok(docs.into_iter().map(|d| d.page_content).collect::<Vec<_>>().join("\n"))
}

#[tokio::test]
async fn map_literals_run_their_branches_on_the_same_input() {
    let prompt = ChatPromptTemplate::from_template("Context: {context}\nQuestion: {question}").unwrap();
    let rag = chain!(
        {
            "context": docs().with_config(RunConfig::new().run_name("Docs")) | format_docs,
            "question": passthrough(),
        }
        | prompt
        | GenericFakeChatModel::new(["Harrison worked at Kensho."; 2])
        | StrOutputParser
    );
    let events = events_of(rag.stream_events("where did harrison work?".into())).await;
    let names = names(&events);
    assert!(names.contains(&"on_retriever_start:Docs".to_string()), "{names:#?}");
    let parallel = one(&events, "RunnableParallel<context,question>", EventPhase::Start);
    let docs_run = one(&events, "Docs", EventPhase::Start);
    assert_eq!(
        parallel.parent_ids()[..],
        [events[0].run_id()],
        "the map is the chain's first step"
    );
    assert_eq!(
        docs_run.parent_ids().len(),
        3,
        "chain -> map -> the branch's sequence -> retriever"
    );
    assert_eq!(
        docs_run.parent_ids()[1],
        parallel.run_id(),
        "the map's branch sequence runs under the map"
    );
    let prompt_end = one(&events, "ChatPromptTemplate", EventPhase::End);
    assert_eq!(
        data(prompt_end)["output"]["messages"][0]["content"],
        "Context: harrison worked at kensho\nQuestion: where did harrison work?"
    );
    let out: String = rag
        .stream("where did harrison work?".into())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(out, "Harrison worked at Kensho.");
}

#[tokio::test]
async fn closures_in_maps_take_the_maps_input() {
    let stats =
        chain!(count_chars | { "n": passthrough(), "double": |n| Ok(n * 2), "both": |n| Ok(n + 1) | |m| Ok(m * 10) });
    let out: Map = stats.invoke("four".into()).await.unwrap();
    assert_eq!(out["n"], 4);
    assert_eq!(out["double"], 8);
    assert_eq!(out["both"], 50);
}

#[tokio::test]
async fn a_map_can_start_a_chain() {
    let first = chain!({ "upper": shout, "same": passthrough() } | |m: Map| Ok(m["upper"].to_string()));
    assert_eq!(first.invoke("hi".into()).await.unwrap(), "\"HI\"");
}

#[tokio::test]
async fn typed_closures_take_what_the_step_before_converts_into() {
    // `String` converts into a prompt value, for a closure's typed parameter
    // as between any two steps.
    let chain = chain!(shout | |p: runwright::PromptValue| Ok(p.to_string()) | |s| Ok(format!("<{s}>")));
    assert_eq!(chain.invoke("hi".into()).await.unwrap(), "<HI>");

    // After a step, a map's branches (typed closures, generic steps) take
    // its output as is.
    let both = chain!(shout | { "answer": |q: String| Ok(q.len()), "asked": passthrough() });
    let out: Map = both.invoke("question".into()).await.unwrap();
    assert_eq!(out["answer"], 8);
    assert_eq!(out["asked"], "QUESTION");
}

#[tokio::test]
async fn a_prompt_chain_takes_a_map_literal_or_a_json_object() {
    let prompt = ChatPromptTemplate::from_template("Tell me a joke about {topic}").unwrap();
    let chain = prompt | GenericFakeChatModel::new(["Why did the crab..."]).repeating() | StrOutputParser;

    assert_eq!(
        chain.invoke(runwright::map! { "topic": "crabs" }).await.unwrap(),
        "Why did the crab..."
    );
    assert_eq!(
        chain.invoke_json(json!({"topic": "crabs"})).await.unwrap(),
        "Why did the crab..."
    );

    let err = chain.invoke_json(json!(["crabs"])).await.unwrap_err();
    assert_eq!(err.kind(), runwright::ErrorKind::InvalidInput);
    assert!(
        err.message()
            .starts_with("step `RunnableSequence` takes `Map<String, Value>`"),
        "{}",
        err.message()
    );
    assert!(err.message().contains("expected a map"), "{}", err.message());
}
