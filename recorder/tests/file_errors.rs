//! Every way a file or a replay can go wrong is an error that says where
//! and why.

mod common;

use common::scratch;
use runwright::{ErrorKind, GenericFakeChatModel, RunnableExt};
use runwright_recorder::{Cassette, RecordMode, Recorder, Trace};

/// A cassette with two interactions of three chunks each, 11 lines:
/// "hi there" (request on line 2) and "how are you" (line 7).
fn recorded_cassette(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    let path = dir.join("chat.jsonl");
    let r = Recorder::new(GenericFakeChatModel::new(["hello world", "fine thanks"]), &path)
        .unwrap()
        .with_mode(RecordMode::Once);
    futures::executor::block_on(async {
        r.invoke("hi there".into()).await.unwrap();
        r.invoke("how are you".into()).await.unwrap();
    });
    path
}

#[tokio::test]
async fn a_replay_miss_shows_the_request_and_a_diff_from_the_nearest() {
    let path = recorded_cassette("miss");
    let replay = Recorder::replay(&path).unwrap();
    let err = replay.invoke("how are they".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let msg = err.message();
    let expected_start = format!(
        "{}: no recorded answer for this request (this recorder replays only: it has no live model)\nrequest:\n",
        path.display()
    );
    assert!(msg.starts_with(&expected_start), "{msg}");
    assert!(msg.contains("\"content\": \"how are they\""), "{msg}");
    assert!(
        msg.contains("nearest recorded request: interaction 1, line 7; diff from it to this request:"),
        "{msg}"
    );
    assert!(
        msg.contains("-      \"content\": \"how are you\"\n+      \"content\": \"how are they\"\n"),
        "{msg}"
    );

    let live = Recorder::new(GenericFakeChatModel::new(["x"]), &path)
        .unwrap()
        .with_mode(RecordMode::None);
    let msg = live.invoke("bye".into()).await.unwrap_err().message().to_owned();
    // The mode was forced in code: the message says so, and what to change.
    assert!(
        msg.contains("(record mode none (set in code by with_mode(RecordMode::None), which RUNWRIGHT_RECORD does not override): replay only)"),
        "{msg}"
    );
    assert!(
        msg.ends_with("to record it, change the with_mode call to RecordMode::NewEpisodes, or make it with_default_mode so that RUNWRIGHT_RECORD=new_episodes can"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_repeated_request_plays_once_unless_repeats_are_allowed() {
    let path = recorded_cassette("repeats");
    let replay = Recorder::replay(&path).unwrap();
    assert_eq!(replay.invoke("hi there".into()).await.unwrap().text(), "hello world");
    let msg = replay.invoke("hi there".into()).await.unwrap_err().message().to_owned();
    assert!(
        msg.contains("interaction 0, line 2 has this request, but it was replayed already: each recorded answer plays once, unless the recorder allows repeats (Recorder::allow_repeats)"),
        "{msg}"
    );

    let replay = Recorder::replay(&path).unwrap().allow_repeats(true);
    for _ in 0..3 {
        assert_eq!(replay.invoke("hi there".into()).await.unwrap().text(), "hello world");
    }
    assert_eq!(replay.invoke("how are you".into()).await.unwrap().text(), "fine thanks");
    // Repeats never answer a request nobody recorded.
    assert!(replay.invoke("hi there!".into()).await.is_err());
}

#[tokio::test]
async fn two_recordings_of_one_request_play_in_order_then_the_last_repeats() {
    let dir = scratch("repeats-order");
    let path = dir.join("chat.jsonl");
    let r = Recorder::new(GenericFakeChatModel::new(["first", "second"]), &path)
        .unwrap()
        .with_mode(RecordMode::Once);
    r.invoke("same".into()).await.unwrap();
    r.invoke("same".into()).await.unwrap();
    let replay = Recorder::replay(&path).unwrap().allow_repeats(true);
    let mut got = Vec::new();
    for _ in 0..3 {
        let answer = replay.invoke("same".into()).await.unwrap();
        got.push(answer.text().to_string());
    }
    assert_eq!(got, ["first", "second", "second"]);
}

/// Two recorded requests equally close to the missed one by lines: the one
/// sharing more words with it is the nearest.
#[tokio::test]
async fn the_nearest_recorded_request_breaks_line_ties_by_shared_words() {
    let dir = scratch("nearest-tie");
    let path = dir.join("chat.jsonl");
    let r = Recorder::new(GenericFakeChatModel::new(["a", "b"]), &path)
        .unwrap()
        .with_mode(RecordMode::Once);
    r.invoke("the weather in Paris today".into()).await.unwrap();
    r.invoke("what is the weather like in Rome".into()).await.unwrap();
    let replay = Recorder::replay(&path).unwrap();
    // One line differs from each recorded request (the content line).
    let msg = replay
        .invoke("what is the weather like in Paris".into())
        .await
        .unwrap_err()
        .message()
        .to_owned();
    assert!(msg.contains("nearest recorded request: interaction 1,"), "{msg}");
    let msg = replay
        .invoke("the weather in Paris tomorrow".into())
        .await
        .unwrap_err()
        .message()
        .to_owned();
    assert!(msg.contains("nearest recorded request: interaction 0,"), "{msg}");
}

#[test]
fn corrupt_json_names_its_line() {
    let path = recorded_cassette("corrupt");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[4] = r#"{"interaction":0,"chunk":{"type":"AIMessageChunk","content":"#;
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = Cassette::read(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        err.message(),
        format!(
            "{}:5: invalid JSON: EOF while parsing a value at line 1 column 60",
            path.display()
        )
    );
    assert!(Recorder::replay(&path).is_err());
    assert!(Recorder::new(GenericFakeChatModel::new(["x"]), &path).is_err());

    let trace = "{\"format\":\"runwright-trace\",\"version\":1,\"runwright\":\"0.1.0\",\"name\":\"t\",\"root\":null,\"events\":1}\n{\"event\": oops}\n";
    assert_eq!(
        Trace::parse("t.jsonl", trace).unwrap_err().message(),
        "t.jsonl:2: invalid JSON: expected value at line 1 column 11"
    );
}

#[test]
fn a_truncated_file_is_an_error_never_a_partial_replay() {
    let path = recorded_cassette("truncated");
    let text = std::fs::read_to_string(&path).unwrap();
    // Cut in the middle of a line.
    let cut = &text[..text.len() - 10];
    std::fs::write(&path, cut).unwrap();
    let err = Cassette::read(&path).unwrap_err();
    assert_eq!(
        err.message(),
        format!(
            "{}:11: truncated: the last line has no end (the file was cut off while being written?)",
            path.display()
        )
    );
    // Cut after a whole line: the second interaction has no end.
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&path, lines[..9].join("\n") + "\n").unwrap();
    let err = Cassette::read(&path).unwrap_err();
    assert_eq!(
        err.message(),
        format!(
            "{}: truncated: the header announces 2 interactions, 1 are complete (the file ends at line 9)",
            path.display()
        )
    );

    let trace = "{\"format\":\"runwright-trace\",\"version\":1,\"runwright\":\"0.1.0\",\"name\":\"t\",\"root\":\"x\",\"events\":3}\n{\"event\":\"on_chain_start\"}\n";
    assert_eq!(
        Trace::parse("t.jsonl", trace).unwrap_err().message(),
        "t.jsonl: truncated: the header announces 3 events, the file ends after 1 (line 2)"
    );
}

#[test]
fn an_unknown_format_version_is_refused() {
    let path = recorded_cassette("version");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"version\":1", "\"version\":7", 1)).unwrap();
    let err = Recorder::replay(&path).expect_err("refused");
    assert_eq!(
        err.message(),
        format!(
            "{}:1: runwright cassette format version 7 is not supported (this runwright-recorder reads version 1)",
            path.display()
        )
    );
    let trace = "{\"format\":\"runwright-trace\",\"version\":2,\"runwright\":\"9.0.0\",\"name\":\"t\",\"root\":null,\"events\":0}\n";
    assert_eq!(
        Trace::parse("t.jsonl", trace).unwrap_err().message(),
        "t.jsonl:1: runwright trace format version 2 is not supported (this runwright-recorder reads version 1)"
    );
    assert_eq!(
        Trace::parse("c.jsonl", &text).unwrap_err().message(),
        "c.jsonl:1: not a runwright trace (the first line must be a header with \"format\": \"runwright-trace\")"
    );
}

#[test]
fn a_missing_cassette_says_how_to_record_it() {
    let dir = scratch("missing");
    let err = Recorder::replay(dir.join("nope.jsonl")).expect_err("refused");
    assert!(
        err.message().ends_with(
            "nope.jsonl: no such cassette (record it first: run with a live model and RUNWRIGHT_RECORD=once)"
        ),
        "{err}"
    );
    let none = Recorder::new(GenericFakeChatModel::new(["x"]), dir.join("nope.jsonl"))
        .unwrap()
        .with_mode(RecordMode::None);
    let err = futures::executor::block_on(none.invoke("q".into())).unwrap_err();
    assert!(err.message().contains("the cassette has no recorded requests"), "{err}");
}
