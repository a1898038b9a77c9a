//! `assert_events_snapshot!`: event streams as insta snapshots.

use runwright::prompts::ChatPromptTemplate;
use runwright::{GenericFakeChatModel, Lambda, Map, RunnableExt, StrOutputParser};
use runwright_recorder::assert_events_snapshot;

#[tokio::test]
async fn prompt_model_parser_events() {
    let chain = ChatPromptTemplate::from_template("tell me a joke about {topic}").unwrap()
        | GenericFakeChatModel::new(["Why not?"])
        | StrOutputParser;
    let mut input = Map::new();
    input.insert("topic".into(), "parrots".into());
    assert_events_snapshot!(chain.stream_events(input));
}

#[tokio::test]
async fn a_named_snapshot_of_a_failing_stream() {
    let fail =
        Lambda::from_fn(|_: String| -> runwright::Result<String> { Err(runwright::Error::msg("no")) }).named("refuse");
    assert_events_snapshot!("failing_lambda", fail.stream_events("hi".into()));
}
