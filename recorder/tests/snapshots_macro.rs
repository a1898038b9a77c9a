//! `assert_events_snapshot!`: event streams as insta snapshots, as run
//! trees by default and as event lines with `raw:`.

use runwright::prompts::ChatPromptTemplate;
use runwright::{GenericFakeChatModel, Lambda, Map, Runnable, RunnableExt, StrOutputParser};
use runwright_recorder::{assert_events_snapshot, view, Trace};
use similar::{ChangeTag, TextDiff};

/// The README's joke chain, the model answering `joke`.
fn joke_chain(joke: &str) -> impl Runnable<Input = Map, Output = String> {
    ChatPromptTemplate::from_template("tell me a joke about {topic}").unwrap()
        | GenericFakeChatModel::new([joke])
        | StrOutputParser
}

fn parrot() -> Map {
    let mut input = Map::new();
    input.insert("topic".into(), "parrot".into());
    input
}

const JOKE: &str = "Why did the parrot talk? Because it could!";

#[tokio::test]
async fn the_readme_joke_chain() {
    assert_events_snapshot!(joke_chain(JOKE).stream_events(parrot()));
}

/// The default snapshot is small, and a one-word change in the model's
/// answer is one short changed line of its diff; in the raw events it is
/// many long ones.
#[tokio::test]
async fn a_changed_word_is_one_short_changed_line() {
    let before = Trace::record("joke", joke_chain(JOKE).stream_events(parrot())).await;
    let after = Trace::record(
        "joke",
        joke_chain("Why did the parrot sing? Because it could!").stream_events(parrot()),
    )
    .await;
    let (tree_a, tree_b) = (view::tree(&before), view::tree(&after));
    assert!(tree_a.len() < 2048, "{} bytes:\n{tree_a}", tree_a.len());

    let changed = |a: &str, b: &str| -> Vec<String> {
        TextDiff::from_lines(a, b)
            .iter_all_changes()
            .filter(|c| c.tag() != ChangeTag::Equal)
            .map(|c| format!("{}{}", c.tag(), c.value()))
            .collect()
    };
    let lines = changed(&tree_a, &tree_b);
    assert_eq!(
        lines,
        [
            "-│    output \"Why did the parrot talk? Because it could!\" (15 chunks)\n",
            "+│    output \"Why did the parrot sing? Because it could!\" (15 chunks)\n",
        ]
    );
    assert!(lines.iter().all(|l| l.len() < 80), "{lines:?}");

    let raw = changed(&before.events_jsonl(), &after.events_jsonl());
    assert!(raw.len() > 8, "{raw:?}");
}

#[tokio::test]
async fn prompt_model_parser_events() {
    let chain = ChatPromptTemplate::from_template("tell me a joke about {topic}").unwrap()
        | GenericFakeChatModel::new(["Why not?"])
        | StrOutputParser;
    let mut input = Map::new();
    input.insert("topic".into(), "parrots".into());
    assert_events_snapshot!(raw: chain.stream_events(input));
}

#[tokio::test]
async fn a_named_snapshot_of_a_failing_stream() {
    let fail =
        Lambda::from_fn(|_: String| -> runwright::Result<String> { Err(runwright::Error::msg("no")) }).named("refuse");
    assert_events_snapshot!("failing_lambda", fail.stream_events("hi".into()));
}
