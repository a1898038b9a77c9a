//! [`assert_events_snapshot!`](crate::assert_events_snapshot): insta
//! snapshots of event streams.

/// Snapshots an event stream with insta. Use it in an `async` test; it
/// awaits the stream (anything yielding `runwright::Result<StreamEvent>`,
/// such as `stream_events`), collected into a [`Trace`](crate::Trace).
///
/// By default the snapshot is the run tree ([`view::tree`](crate::view::tree)):
/// runs with their kinds, step tags, inputs and outputs, streamed text,
/// tool calls, custom events and errors, each value shown once, where it
/// first appears. It is short, and a changed word in a model's answer is one
/// changed line of the diff. `raw:` before the stream snapshots the event
/// lines themselves instead (normalized, in canonical order, without the
/// header): every event, with its metadata, tags and order, for when those
/// are what the test is about.
///
/// `assert_events_snapshot!(stream)` names the snapshot after the test
/// function, as insta's own macros do; `assert_events_snapshot!("name",
/// stream)` names it; `assert_events_snapshot!(raw: stream)` and
/// `assert_events_snapshot!("name", raw: stream)` keep the events.
///
/// Snapshots live in `snapshots/` beside the test file. A new or changed
/// snapshot fails the test and leaves a `.snap.new` file beside it; review
/// those with insta's command, which is installed once with `cargo install
/// cargo-insta`: `cargo insta review` (or `cargo insta accept`). Under CI
/// (the `CI` variable set) insta writes no snapshot file: a missing or
/// changed snapshot fails the test, unless `INSTA_UPDATE` says otherwise.
///
/// ```no_run
/// use runwright::{Lambda, RunnableExt};
/// use runwright_recorder::assert_events_snapshot;
///
/// #[tokio::test]
/// async fn shout_events() {
///     let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase())).named("shout");
///     assert_events_snapshot!(shout.stream_events("hi".into()));
///     assert_events_snapshot!("shout_twice", shout.stream_events("hi hi".into()));
///     assert_events_snapshot!("shout_events_raw", raw: shout.stream_events("hi".into()));
/// }
/// ```
#[macro_export]
macro_rules! assert_events_snapshot {
    (raw: $stream:expr $(,)?) => {{
        let __rw_trace = $crate::Trace::record("snapshot", $stream).await;
        $crate::__private::insta::assert_snapshot!(
            $crate::__private::insta::internals::AutoName,
            __rw_trace.events_jsonl(),
            ::std::stringify!($stream)
        );
    }};
    ($name:expr, raw: $stream:expr $(,)?) => {{
        let __rw_trace = $crate::Trace::record("snapshot", $stream).await;
        $crate::__private::insta::assert_snapshot!($name, __rw_trace.events_jsonl(), ::std::stringify!($stream));
    }};
    ($stream:expr $(,)?) => {{
        let __rw_trace = $crate::Trace::record("snapshot", $stream).await;
        $crate::__private::insta::assert_snapshot!(
            $crate::__private::insta::internals::AutoName,
            $crate::view::tree(&__rw_trace),
            ::std::stringify!($stream)
        );
    }};
    ($name:expr, $stream:expr $(,)?) => {{
        let __rw_trace = $crate::Trace::record("snapshot", $stream).await;
        $crate::__private::insta::assert_snapshot!($name, $crate::view::tree(&__rw_trace), ::std::stringify!($stream));
    }};
}
