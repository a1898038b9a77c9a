//! The run context travels implicitly: a runnable invoked anywhere inside
//! another one nests under it (README rule 6, and "propagation never
//! breaks"), except in a task started with plain `tokio::spawn`.

use std::sync::{Arc, Mutex};

use runwright::{InCurrentRun, Lambda, RunContext, RunnableExt};

use crate::common::*;

/// What a run saw of its own context: how many parents, whether anyone
/// listens to its events.
type Seen = Arc<Mutex<Vec<(usize, bool)>>>;

/// A step that records its context and reverses its input.
fn recorder(seen: &Seen) -> Lambda<String, String> {
    let seen = seen.clone();
    Lambda::from_fn(move |s: String| {
        let ctx = RunContext::current().expect("a step runs inside its run");
        seen.lock()
            .expect("lock")
            .push((ctx.parent_ids().len(), ctx.is_listening()));
        reverse_word(s)
    })
    .named("inner")
}

fn seen() -> Seen {
    Arc::new(Mutex::new(Vec::new()))
}

/// An invoked runnable has a start and an end, no stream event (as
/// `reverse_word` in the reference trace `lambda.astream_events`).
const NESTED: [&str; 5] = [
    "on_chain_start:outer #0 parents=[] tags=[]",
    "on_chain_start:inner #1 parents=[0] tags=[]",
    "on_chain_end:inner #1 parents=[0] tags=[]",
    "on_chain_stream:outer #0 parents=[] tags=[]",
    "on_chain_end:outer #0 parents=[] tags=[]",
];

#[tokio::test]
async fn runnable_invoked_inside_an_async_lambda_nests_under_it() {
    let s = seen();
    let inner = recorder(&s);
    let outer = Lambda::from_async(move |x: String| {
        let inner = inner.clone();
        async move { inner.invoke(x).await }
    })
    .named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    assert_eq!(tree(&events), NESTED);
    assert_eq!(*s.lock().expect("lock"), [(1, true)]);
    assert_eq!(chunks_of(&events, "outer"), [serde_json::json!("cba")]);
}

#[tokio::test]
async fn runnable_invoked_inside_a_sync_lambda_nests_under_it() {
    let s = seen();
    let inner = recorder(&s);
    let outer = Lambda::from_fn(move |x: String| inner.invoke_blocking(x)).named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    assert_eq!(tree(&events), NESTED);
    assert_eq!(*s.lock().expect("lock"), [(1, true)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runnable_invoked_inside_a_blocking_lambda_nests_under_it() {
    let s = seen();
    let inner = recorder(&s);
    let outer = Lambda::blocking(move |x: String| inner.invoke_blocking(x)).named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    assert_eq!(tree(&events), NESTED);
    assert_eq!(*s.lock().expect("lock"), [(1, true)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runnable_invoked_inside_runwright_spawn_nests_under_the_spawner() {
    let s = seen();
    let inner = recorder(&s);
    let outer = Lambda::from_async(move |x: String| {
        let inner = inner.clone();
        async move { runwright::spawn(async move { inner.invoke(x).await }).await? }
    })
    .named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    assert_eq!(tree(&events), NESTED);
    assert_eq!(*s.lock().expect("lock"), [(1, true)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runnable_invoked_inside_runwright_spawn_blocking_nests_under_the_spawner() {
    let s = seen();
    let inner = recorder(&s);
    let outer = Lambda::from_async(move |x: String| {
        let inner = inner.clone();
        async move { runwright::spawn_blocking(move || inner.invoke_blocking(x)).await? }
    })
    .named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    assert_eq!(tree(&events), NESTED);
    assert_eq!(*s.lock().expect("lock"), [(1, true)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_spawn_of_a_future_in_current_run_nests_under_the_spawner() {
    let s = seen();
    let inner = recorder(&s);
    let outer = Lambda::from_async(move |x: String| {
        let inner = inner.clone();
        async move {
            let task = tokio::spawn(async move { inner.invoke(x).await }.in_current_run());
            task.await.map_err(|e| runwright::Error::msg(e.to_string()))?
        }
    })
    .named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    assert_eq!(tree(&events), NESTED);
    assert_eq!(*s.lock().expect("lock"), [(1, true)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runnables_three_levels_deep_list_every_ancestor() {
    let s = seen();
    let leaf = recorder(&s);
    // outer (async) -> middle (sync) -> lower (async, in a spawned task) -> inner
    let lower = Lambda::from_async(move |x: String| {
        let leaf = leaf.clone();
        async move { runwright::spawn(async move { leaf.invoke(x).await }).await? }
    })
    .named("lower");
    let middle = Lambda::from_fn(move |x: String| lower.invoke_blocking(x)).named("middle");
    let outer = Lambda::from_async(move |x: String| {
        let middle = middle.clone();
        async move { middle.invoke(x).await }
    })
    .named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    let starts: Vec<String> = tree(&events)
        .into_iter()
        .filter(|l| l.starts_with("on_chain_start"))
        .collect();
    assert_eq!(
        starts,
        [
            "on_chain_start:outer #0 parents=[] tags=[]",
            "on_chain_start:middle #1 parents=[0] tags=[]",
            "on_chain_start:lower #2 parents=[0, 1] tags=[]",
            "on_chain_start:inner #3 parents=[0, 1, 2] tags=[]",
        ]
    );
    assert_eq!(*s.lock().expect("lock"), [(3, true)]);
    let ends: Vec<String> = names(&events).into_iter().filter(|l| l.contains("_end")).collect();
    assert_eq!(
        ends,
        [
            "on_chain_end:inner",
            "on_chain_end:lower",
            "on_chain_end:middle",
            "on_chain_end:outer"
        ]
    );
}

/// Plain `tokio::spawn` does not carry the run context: the runnable it
/// runs is a root of its own (no parents), nobody listens to it, and its
/// events never reach the stream. `runwright::spawn` exists for this.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tokio_spawn_loses_the_run_context() {
    let s = seen();
    let inner = recorder(&s);
    let custom_event = Arc::new(Mutex::new(None));
    let custom = custom_event.clone();
    let outer = Lambda::from_async(move |x: String| {
        let inner = inner.clone();
        let custom = custom.clone();
        async move {
            let task = tokio::spawn(async move {
                let r = runwright::dispatch_custom_event("lost", 1);
                *custom.lock().expect("lock") = Some(r.map_err(|e| e.kind()));
                inner.invoke(x).await
            });
            task.await.map_err(|e| runwright::Error::msg(e.to_string()))?
        }
    })
    .named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    assert_eq!(
        tree(&events),
        [
            "on_chain_start:outer #0 parents=[] tags=[]",
            "on_chain_stream:outer #0 parents=[] tags=[]",
            "on_chain_end:outer #0 parents=[] tags=[]",
        ]
    );
    assert_eq!(*s.lock().expect("lock"), [(0, false)], "a root nobody listens to");
    assert_eq!(
        *custom_event.lock().expect("lock"),
        Some(Err(runwright::ErrorKind::Usage)),
        "no run is current in the task"
    );
    assert_eq!(chunks_of(&events, "outer"), [serde_json::json!("cba")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_events_from_a_spawned_task_reach_the_stream_with_the_spawners_run() {
    let outer = Lambda::from_async(|x: String| async move {
        runwright::spawn(async move {
            runwright::dispatch_custom_event("progress", serde_json::json!({"x": x}))?;
            Ok::<_, runwright::Error>(x)
        })
        .await?
    })
    .named("outer");
    let events = events_of(outer.stream_events("abc".into())).await;
    assert_eq!(
        tree(&events),
        [
            "on_chain_start:outer #0 parents=[] tags=[]",
            "on_custom_event:progress #0 parents=[] tags=[]",
            "on_chain_stream:outer #0 parents=[] tags=[]",
            "on_chain_end:outer #0 parents=[] tags=[]",
        ]
    );
}
