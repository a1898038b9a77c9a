//! `RUNWRIGHT_RECORD` against the mode set in code, and the miss message
//! naming where the mode came from. One test in its own binary: it sets the
//! process's environment.

mod common;

use common::scratch;
use runwright::{GenericFakeChatModel, RunnableExt};
use runwright_recorder::{Cassette, RecordMode, Recorder, Recording, RECORD_ENV};

fn recorder(path: &std::path::Path, answer: &str) -> Recorder<GenericFakeChatModel> {
    Recorder::new(GenericFakeChatModel::new([answer]), path).unwrap()
}

async fn miss(r: &Recorder<GenericFakeChatModel>, ask: &str) -> String {
    r.invoke(ask.into()).await.unwrap_err().message().to_owned()
}

#[tokio::test]
async fn the_variable_overrides_the_default_mode_set_in_code_but_not_a_forced_one() {
    let dir = scratch("record-env");
    let path = dir.join("chat.jsonl");
    std::env::remove_var(RECORD_ENV);
    recorder(&path, "hello")
        .with_mode(RecordMode::Once)
        .invoke("hi".into())
        .await
        .unwrap();

    // Unset: the code's default rules, and the message says how to record.
    let r = recorder(&path, "x").with_default_mode(RecordMode::None);
    assert_eq!(r.mode(), RecordMode::None);
    let msg = miss(&r, "bye").await;
    assert!(
        msg.contains("(record mode none (set in code by with_default_mode; RUNWRIGHT_RECORD is not set): replay only)"),
        "{msg}"
    );
    assert!(msg.ends_with("to record it, run with RUNWRIGHT_RECORD=new_episodes (add to the cassette) or RUNWRIGHT_RECORD=all (re-record it)"), "{msg}");

    // Set: it overrides the default, and the missing request is recorded.
    std::env::set_var(RECORD_ENV, "new_episodes");
    let r = recorder(&path, "goodbye").with_default_mode(RecordMode::None);
    assert_eq!(r.mode(), RecordMode::NewEpisodes);
    assert_eq!(r.invoke("bye".into()).await.unwrap().text(), "goodbye");
    assert_eq!(Cassette::read(&path).unwrap().interactions().len(), 2);

    // A mode forced in code stays, and the message says the variable does
    // not override it.
    let r = recorder(&path, "x").with_mode(RecordMode::None);
    assert_eq!(r.mode(), RecordMode::None);
    let msg = miss(&r, "again").await;
    assert!(
        msg.contains("set in code by with_mode(RecordMode::None), which RUNWRIGHT_RECORD does not override"),
        "{msg}"
    );

    // The variable's own mode is named as its.
    std::env::set_var(RECORD_ENV, "none");
    let r = recorder(&path, "x").with_default_mode(RecordMode::NewEpisodes);
    assert_eq!(r.mode(), RecordMode::None);
    let msg = miss(&r, "again").await;
    assert!(
        msg.contains("(record mode none (from RUNWRIGHT_RECORD=none): replay only)"),
        "{msg}"
    );

    // A whole-run recording reads the variable as a recorder does: `all`
    // re-records it, its old calls dropped.
    std::env::remove_var(RECORD_ENV);
    let file = dir.join("run.jsonl");
    let first = Recording::open(&file).unwrap().with_default_mode(RecordMode::Once);
    let model = GenericFakeChatModel::new(["hello"]);
    model.invoke_with("hi".into(), first.config()).await.unwrap();
    assert_eq!(first.len(), 1);
    std::env::set_var(RECORD_ENV, "all");
    let again = Recording::open(&file).unwrap().with_default_mode(RecordMode::None);
    assert_eq!(again.mode(), RecordMode::All);
    assert!(again.is_empty());
    let model = GenericFakeChatModel::new(["goodbye"]);
    model.invoke_with("bye".into(), again.config()).await.unwrap();
    assert_eq!(again.len(), 1);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("goodbye") && !text.contains("hello"), "{text}");
    std::env::remove_var(RECORD_ENV);
}
