//! What every [`Checkpointer`] must do, as one suite each saver's tests run.

use serde_json::json;

use super::*;

/// A checkpoint whose channel `x` is `x`.
pub(crate) fn checkpoint(id: &str, x: i64) -> Checkpoint {
    let mut channel_values = Map::new();
    channel_values.insert("x".into(), json!(x));
    Checkpoint {
        v: CHECKPOINT_VERSION,
        id: id.to_owned(),
        ts: now_rfc3339(),
        channel_values,
        channel_versions: [("x", x as u64)].into_iter().collect(),
        versions_seen: Versions::new(),
        updated_channels: vec!["x".into()],
    }
}

/// Runs the suite on `saver`, which must hold nothing of threads `t-*`.
pub(crate) async fn conformance(saver: &dyn Checkpointer) {
    let thread = CheckpointConfig::thread("t-1");
    assert!(
        saver.get_tuple(&thread).await.unwrap().is_none(),
        "an empty thread has no checkpoint"
    );

    // A chain of three checkpoints.
    let ids: Vec<String> = (0..3).map(|_| new_checkpoint_id()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids sort in the order they were made"
    );
    let mut parent = thread.clone();
    for (step, id) in ids.iter().enumerate() {
        let mut meta = CheckpointMetadata::new(CheckpointSource::Loop, step as i64 - 1);
        meta.extra.insert("who".into(), json!(format!("step{step}")));
        meta.extra.insert("even".into(), json!(step % 2 == 0));
        meta.extra.insert("score".into(), json!(step as f64 / 2.0));
        let cfg = saver.put(&parent, checkpoint(id, step as i64), meta).await.unwrap();
        assert_eq!(cfg, thread.at(id.clone()), "put names the new checkpoint");
        parent = cfg;
    }
    // A checkpoint put again (a retried save) stays as it was first stored.
    let mut again = checkpoint(&ids[1], 99);
    again.channel_values.insert("y".into(), json!("new"));
    let cfg = saver
        .put(
            &thread.at(ids[0].clone()),
            again,
            CheckpointMetadata::new(CheckpointSource::Update, 7),
        )
        .await
        .unwrap();
    assert_eq!(cfg, thread.at(ids[1].clone()));
    let kept = saver.get_tuple(&cfg).await.unwrap().expect("by id");
    assert_eq!(kept.checkpoint.channel_values["x"], json!(1));
    assert!(!kept.checkpoint.channel_values.contains_key("y"));
    assert_eq!(kept.metadata.step, 0);
    let latest = saver.get_tuple(&thread).await.unwrap().expect("latest");
    assert_eq!(latest.checkpoint.id, ids[2]);
    assert_eq!(latest.checkpoint.channel_values["x"], json!(2));
    assert_eq!(latest.metadata.step, 1);
    assert_eq!(latest.metadata.extra["who"], json!("step2"));
    assert_eq!(latest.parent_config, Some(thread.at(ids[1].clone())));
    let first = saver
        .get_tuple(&thread.at(ids[0].clone()))
        .await
        .unwrap()
        .expect("by id");
    assert_eq!(first.parent_config, None);
    assert_eq!(first.checkpoint, checkpoint(&ids[0], 0).with_ts(&first.checkpoint.ts));
    assert!(saver
        .get_tuple(&thread.at(new_checkpoint_id()))
        .await
        .unwrap()
        .is_none());

    // Writes: kept in order, once per task and index; special channels replaced.
    let at = thread.at(ids[2].clone());
    saver
        .put_writes(
            &at,
            "task-b",
            vec![("x".into(), json!(5)), ("branch:to:b".into(), json!(null))],
        )
        .await
        .unwrap();
    saver
        .put_writes(&at, "task-a", vec![("x".into(), json!(7))])
        .await
        .unwrap();
    saver
        .put_writes(&at, "task-a", vec![("x".into(), json!(7))])
        .await
        .unwrap();
    saver
        .put_writes(&at, "task-a", vec![("x".into(), json!(8))])
        .await
        .unwrap();
    saver
        .put_writes(&at, "task-c", vec![(INTERRUPT.into(), json!([1]))])
        .await
        .unwrap();
    saver
        .put_writes(&at, "task-c", vec![(INTERRUPT.into(), json!([2]))])
        .await
        .unwrap();
    saver
        .put_writes(
            &at,
            "task-d",
            vec![(INTERRUPT.into(), json!([3])), (INTERRUPT.into(), json!([4]))],
        )
        .await
        .unwrap();
    let writes: Vec<(String, String, serde_json::Value)> = saver
        .get_tuple(&thread)
        .await
        .unwrap()
        .unwrap()
        .pending_writes
        .into_iter()
        .map(|w| (w.task_id, w.channel, w.value))
        .collect();
    assert_eq!(
        writes,
        vec![
            ("task-b".into(), "x".into(), json!(5)),
            ("task-b".into(), "branch:to:b".into(), json!(null)),
            ("task-a".into(), "x".into(), json!(7)),
            ("task-c".into(), INTERRUPT.into(), json!([2])),
            ("task-d".into(), INTERRUPT.into(), json!([4])),
        ]
    );
    assert!(
        saver
            .get_tuple(&thread.at(ids[1].clone()))
            .await
            .unwrap()
            .unwrap()
            .pending_writes
            .is_empty(),
        "writes belong to one checkpoint"
    );
    assert!(
        saver.put_writes(&thread, "t", vec![]).await.is_err(),
        "put_writes needs a checkpoint id"
    );
    assert!(
        saver
            .put_writes(&thread.at(new_checkpoint_id()), "t", vec![("x".into(), json!(1))])
            .await
            .is_err(),
        "put_writes needs a checkpoint that exists"
    );

    // List: newest first; before, limit, metadata filter.
    let all = saver.list(&thread, &ListOptions::default()).await.unwrap();
    let listed: Vec<&str> = all.iter().map(|t| t.checkpoint.id.as_str()).collect();
    assert_eq!(listed, vec![&*ids[2], &*ids[1], &*ids[0]]);
    let before = ListOptions {
        before: Some(ids[2].clone()),
        limit: Some(1),
        ..Default::default()
    };
    let listed = saver.list(&thread, &before).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].checkpoint.id, ids[1]);
    let mut filter = ListOptions::default();
    filter.filter.insert("who".into(), json!("step0"));
    let listed = saver.list(&thread, &filter).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].checkpoint.id, ids[0]);
    // Values compare as JSON does: types too (`0` is not `0.0`), with the
    // limit counted after the filter (a limit of 1 where the newest does not
    // match shows a filter that lets everything through).
    let cases: &[(serde_json::Value, Option<usize>, &[usize])] = &[
        (json!({"step": 0}), Some(1), &[1]),
        (json!({"source": "loop", "step": -1}), Some(1), &[0]),
        (json!({"who": "step0"}), Some(1), &[0]),
        (json!({"even": false}), Some(1), &[1]),
        (json!({"step": 0.0}), None, &[]),
        (json!({"step": "0"}), None, &[]),
        (json!({"even": true}), None, &[2, 0]),
        (json!({"even": true}), Some(1), &[2]),
        (json!({"even": false, "who": "step1"}), None, &[1]),
        (json!({"score": 0.5}), None, &[1]),
        (json!({"score": 1.0, "even": true}), Some(1), &[2]),
        (json!({"score": 0.0}), Some(1), &[0]),
        (json!({"score": 0}), None, &[]),
        (json!({"missing": null}), None, &[]),
        (json!({"missing": "x"}), None, &[]),
        (json!({"parents": {}}), None, &[2, 1, 0]),
    ];
    for (filter, limit, want) in cases {
        let options = ListOptions {
            filter: filter.as_object().unwrap().clone(),
            limit: *limit,
            ..Default::default()
        };
        let listed: Vec<String> = saver
            .list(&thread, &options)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.checkpoint.id)
            .collect();
        let want: Vec<String> = want.iter().map(|&i| ids[i].clone()).collect();
        assert_eq!(listed, want, "filter {filter}, limit {limit:?}");
    }

    // Namespaces and threads are apart; deleting a thread takes all its namespaces.
    let sub = CheckpointConfig {
        checkpoint_ns: "inner:1".into(),
        ..thread.clone()
    };
    let sub_id = new_checkpoint_id();
    saver
        .put(
            &sub,
            checkpoint(&sub_id, 9),
            CheckpointMetadata::new(CheckpointSource::Loop, 0),
        )
        .await
        .unwrap();
    assert_eq!(saver.get_tuple(&sub).await.unwrap().unwrap().checkpoint.id, sub_id);
    assert_eq!(saver.get_tuple(&thread).await.unwrap().unwrap().checkpoint.id, ids[2]);
    let other = CheckpointConfig::thread("t-2");
    let other_id = new_checkpoint_id();
    saver
        .put(
            &other,
            checkpoint(&other_id, 1),
            CheckpointMetadata::new(CheckpointSource::Input, -1),
        )
        .await
        .unwrap();
    saver.delete_thread("t-1").await.unwrap();
    assert!(saver.get_tuple(&thread).await.unwrap().is_none());
    assert!(saver.get_tuple(&sub).await.unwrap().is_none());
    assert!(saver.list(&thread, &ListOptions::default()).await.unwrap().is_empty());
    assert_eq!(saver.get_tuple(&other).await.unwrap().unwrap().checkpoint.id, other_id);
    saver.delete_thread("t-2").await.unwrap();
}

impl Checkpoint {
    pub(crate) fn with_ts(mut self, ts: &str) -> Self {
        ts.clone_into(&mut self.ts);
        self
    }
}

#[tokio::test]
async fn in_memory_saver_keeps_checkpoints_as_every_saver_must() {
    conformance(&InMemorySaver::new()).await;
}

/// The state of [`restart_graph`].
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct Doc {
    #[serde(default)]
    text: String,
    #[serde(default)]
    log: Vec<String>,
    #[serde(default)]
    answer: Option<serde_json::Value>,
}
impl crate::value::Chunk for Doc {}

/// `write`, then `review` (which asks a person) and `count` in one step;
/// `count` counts its runs in `counted`.
fn restart_graph(
    saver: std::sync::Arc<dyn Checkpointer>,
    counted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> crate::graph::CompiledGraph<Doc> {
    use crate::graph::{interrupt, Reducer, StateGraph, END, START};
    StateGraph::<Doc>::new()
        .reducer("log", Reducer::Append)
        .add_sync_node("write", |s: Doc| {
            Ok(json!({"text": format!("{}!", s.text), "log": ["write"]}))
        })
        .add_node("review", |s: Doc| async move {
            let verdict: serde_json::Value = interrupt(json!({"check": s.text}))?;
            Ok(json!({"answer": verdict, "log": ["review"]}))
        })
        .add_sync_node("count", move |_: Doc| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(json!({"log": ["count"]}))
        })
        .add_edge(START, "write")
        .add_edge("write", "review")
        .add_edge("write", "count")
        .add_edge("review", END)
        .add_edge("count", END)
        .checkpointer(saver)
        .compile()
        .unwrap()
}

/// A graph interrupted on `before` resumes on `after`, a saver opened anew
/// on the same store (a process restarted): the state, the interrupt and
/// the writes of the task that finished in the interrupted step come back
/// from the store, so that task does not run again.
pub(crate) async fn resume_after_restart(
    before: std::sync::Arc<dyn Checkpointer>,
    after: impl std::future::Future<Output = std::sync::Arc<dyn Checkpointer>>,
) {
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let config = || crate::config::RunConfig::new().configurable("thread_id", "restart");
    let input = Doc {
        text: "draft".into(),
        ..Doc::default()
    };
    let stopped = crate::runnable::RunnableExt::invoke_with(&restart_graph(before, counted.clone()), input, config())
        .await
        .unwrap();
    assert_eq!(stopped.answer, None, "stopped at the interrupt");

    let graph = restart_graph(after.await, counted.clone());
    let state = graph.get_state(config()).await.unwrap();
    assert_eq!(state.next, ["review"]);
    assert_eq!(state.interrupts.len(), 1);
    assert_eq!(state.interrupts[0].value, json!({"check": "draft!"}));
    let done = graph
        .resume(crate::graph::Command::resume("ok"), config())
        .await
        .unwrap();
    assert_eq!(done.answer, Some(json!("ok")));
    assert_eq!(done.log, ["write", "count", "review"]);
    assert_eq!(
        counted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the task that finished before the interrupt did not run again"
    );
}

#[tokio::test]
async fn in_memory_saver_resumes_a_graph() {
    let saver: std::sync::Arc<dyn Checkpointer> = std::sync::Arc::new(InMemorySaver::new());
    resume_after_restart(saver.clone(), async { saver }).await;
}
