//! [`assert_events_snapshot!`](crate::assert_events_snapshot): insta
//! snapshots of event streams.

/// Snapshots an event stream with insta: the stream (anything yielding
/// `runwright::Result<StreamEvent>`, such as `stream_events`) is collected
/// into a [`Trace`](crate::Trace), and its event lines (normalized, in
/// canonical order, without the header) are compared with the stored
/// snapshot. Use it in an `async` test; it awaits the stream.
///
/// `assert_events_snapshot!(stream)` names the snapshot after the test
/// function, as insta's own macros do; `assert_events_snapshot!("name",
/// stream)` names it. Snapshots live in `snapshots/` beside the test file;
/// review new and changed ones with `cargo insta review`. Under CI (the
/// `CI` variable set) insta writes no snapshot file: a missing or changed
/// snapshot fails the test, unless `INSTA_UPDATE` says otherwise.
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
/// }
/// ```
#[macro_export]
macro_rules! assert_events_snapshot {
    ($stream:expr $(,)?) => {{
        let __rw_trace = $crate::Trace::record("snapshot", $stream).await;
        $crate::__private::insta::assert_snapshot!(
            $crate::__private::insta::internals::AutoName,
            __rw_trace.events_jsonl(),
            ::std::stringify!($stream)
        );
    }};
    ($name:expr, $stream:expr $(,)?) => {{
        let __rw_trace = $crate::Trace::record("snapshot", $stream).await;
        $crate::__private::insta::assert_snapshot!($name, __rw_trace.events_jsonl(), ::std::stringify!($stream));
    }};
}
