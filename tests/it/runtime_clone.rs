//! Chains are `Clone` when their steps are, so one can move into a closure
//! or a task without `.boxed()`; fake models cloned with them share their
//! list of answers.

use std::time::Duration;

use runwright::prompts::ChatPromptTemplate;
use runwright::{
    map, passthrough, Assign, BoxRunnable, FakeListChatModel, GenericFakeChatModel, Lambda, Parallel, RetryPolicy,
    RunConfig, RunnableExt, StrOutputParser,
};

#[tokio::test]
async fn a_cloned_chain_runs_as_the_original_does() {
    let prompt = ChatPromptTemplate::from_template("Tell me about {topic}").unwrap();
    let chain = prompt
        | GenericFakeChatModel::new(["first", "second"]).repeating()
        | StrOutputParser
        | Lambda::from_fn(|s: String| Ok(s.to_uppercase())).with_config(RunConfig::new().run_name("shout"));
    let moved = chain.clone();
    let handler = move |topic: &str| {
        let chain = moved.clone();
        let topic = topic.to_owned();
        async move { chain.invoke(map! { "topic": topic }).await }
    };
    // The clones share the model's list of answers, as one model would.
    assert_eq!(handler("x").await.unwrap(), "FIRST");
    assert_eq!(chain.invoke(map! { "topic": "y" }).await.unwrap(), "SECOND");
    assert_eq!(tokio::spawn(handler("z")).await.unwrap().unwrap(), "FIRST");
}

#[tokio::test]
async fn every_combinator_clones() {
    let inc = Lambda::from_fn(|n: i64| Ok(n + 1));
    let retried = inc
        .clone()
        .with_retry(RetryPolicy::new(2).backoff(Duration::ZERO, Duration::ZERO));
    let fallback = inc.clone().with_fallbacks([Lambda::from_fn(|n: i64| Ok(n)).boxed()]);
    let map = Parallel::new()
        .branch("inc", inc.clone())
        .branch("same", passthrough::<i64>());
    let assign = Assign::new().key("n", Lambda::from_fn(|m: runwright::Map| Ok(m.len())));
    let boxed: BoxRunnable<i64, i64> = (inc.clone() | retried.clone() | fallback.clone()).boxed();
    let chain = boxed.clone() | map | assign;
    let copy = chain.clone();
    let (a, b) = (chain.invoke(1).await.unwrap(), copy.invoke(1).await.unwrap());
    assert_eq!(a, b);
    assert_eq!(a["inc"], 5);
    assert_eq!(a["same"], 4);
    assert_eq!(a["n"], 2);

    let model = FakeListChatModel::new(["a", "b"]);
    let other = model.clone();
    let answers = [
        model.invoke("hi".into()).await.unwrap().text().into_owned(),
        other.invoke("hi".into()).await.unwrap().text().into_owned(),
        model.invoke("hi".into()).await.unwrap().text().into_owned(),
    ];
    assert_eq!(answers, ["a", "b", "a"]);
}
