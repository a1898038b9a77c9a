//! `stream_log`: LangChain's `astream_log` patches (README rule 11), and the
//! state they build.

use futures::TryStreamExt;
use runwright::{EventFilter, LogOptions, RunLogPatch, RunnableExt};
use serde_json::{json, Value as Json};

use crate::common::*;

/// `source (a, b, c) | upper | upper`: three streaming steps, two of them
/// with the same name.
async fn patches(options: LogOptions) -> Vec<RunLogPatch> {
    let chain = letters("source", 3).pipe(upper()).pipe(upper());
    chain
        .stream_log("go".into(), options)
        .try_collect()
        .await
        .expect("stream_log succeeds")
}

/// `"op path"` for each op of each patch.
fn shape(patches: &[RunLogPatch]) -> Vec<Vec<String>> {
    patches
        .iter()
        .map(|p| {
            p.ops
                .iter()
                .map(|op| {
                    format!(
                        "{} {}",
                        op["op"].as_str().unwrap_or("?"),
                        op["path"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .collect()
}

fn per_chunk() -> Vec<Vec<String>> {
    vec![
        vec!["add /logs/source/streamed_output/-".to_string()],
        vec!["add /logs/upper/streamed_output/-".to_string()],
        vec!["add /logs/upper:2/streamed_output/-".to_string()],
        vec![
            "add /streamed_output/-".to_string(),
            "replace /final_output".to_string(),
        ],
    ]
}

#[tokio::test]
async fn patches_have_langchains_paths_and_order() {
    let patches = patches(LogOptions::default()).await;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let [source, upper, upper2, root] = <[Vec<String>; 4]>::try_from(per_chunk()).expect("four patches");
    let mut expected = vec![
        s(&["replace "]),
        s(&["add /logs/source"]),
        source.clone(),
        s(&["add /logs/upper"]),
        upper.clone(),
        s(&["add /logs/upper:2"]),
        upper2.clone(),
        root.clone(),
    ];
    for _ in 0..2 {
        expected.extend([source.clone(), upper.clone(), upper2.clone(), root.clone()]);
    }
    for key in ["source", "upper", "upper:2"] {
        expected.push(vec![
            format!("add /logs/{key}/final_output"),
            format!("add /logs/{key}/end_time"),
        ]);
    }
    assert_eq!(shape(&patches), expected);

    let mut n = Normalizer::default();
    assert_eq!(
        n.log(&patches[0].ops[0]),
        json!({"op": "replace", "path": "", "value": {
            "id": "run-0", "streamed_output": [], "final_output": null, "logs": {},
            "name": "RunnableSequence", "type": "chain",
        }})
    );
    let entry = n.log(&patches[1].ops[0]["value"]);
    assert_eq!(
        keys(&entry),
        [
            "id",
            "name",
            "type",
            "tags",
            "metadata",
            "start_time",
            "streamed_output",
            "streamed_output_str",
            "final_output",
            "end_time"
        ]
    );
    assert_eq!(entry["id"], "run-1");
    assert_eq!(entry["tags"], json!(["seq:step:1"]));
    assert_eq!(entry["start_time"], "<ts>");
    assert_eq!(entry["end_time"], Json::Null);
    // The root's final output is replaced with the fold so far.
    let finals: Vec<&Json> = patches
        .iter()
        .flat_map(|p| &p.ops)
        .filter(|op| op["path"] == "/final_output")
        .map(|op| &op["value"])
        .collect();
    assert_eq!(finals, [&json!("A"), &json!("AB"), &json!("ABC")]);
    let total: usize = patches.iter().map(|p| p.ops.len()).sum();
    assert_eq!(patches.last().map(|p| p.total_ops), Some(total));
}

fn applied(patches: &[RunLogPatch]) -> Json {
    let mut state = Json::Null;
    for p in patches {
        p.apply_to(&mut state).expect("every patch applies");
    }
    state
}

#[tokio::test]
async fn applying_every_patch_gives_the_state_that_diff_false_yields() {
    let final_state = applied(&patches(LogOptions::default()).await);
    assert_eq!(final_state["final_output"], "ABC");
    assert_eq!(final_state["streamed_output"], json!(["A", "B", "C"]));
    assert_eq!(keys(&final_state["logs"]), ["source", "upper", "upper:2"]);
    let source = &final_state["logs"]["source"];
    assert_eq!(source["streamed_output"], json!(["a", "b", "c"]));
    assert_eq!(source["final_output"], json!({"output": "abc"}));
    assert_eq!(final_state["logs"]["upper:2"]["final_output"], json!({"output": "ABC"}));
    for key in ["source", "upper", "upper:2"] {
        assert!(final_state["logs"][key]["end_time"].is_string(), "{key} ended");
    }

    let with_state = patches(LogOptions::default().with_state()).await;
    // Within one run, each state is the previous one with the patch applied.
    let mut state = Json::Null;
    for p in &with_state {
        p.apply_to(&mut state).expect("applies");
        assert_eq!(Some(&state), p.state.as_ref());
    }
    let last = with_state.last().and_then(|p| p.state.clone()).expect("a last state");
    // Two runs: ids and times differ until normalized.
    assert_eq!(
        Normalizer::default().log(&final_state).to_string(),
        Normalizer::default().log(&last).to_string()
    );
}

#[tokio::test]
async fn the_filter_selects_the_logged_runs_and_the_root_is_always_logged() {
    let filter = EventFilter::new().include_tags(["seq:step:1"]);
    let patches = patches(LogOptions::default().filter(filter)).await;
    let state = applied(&patches);
    assert_eq!(keys(&state["logs"]), ["source"]);
    assert_eq!(state["final_output"], "ABC");
    assert_eq!(state["streamed_output"], json!(["A", "B", "C"]));

    let filter = EventFilter::new().include_names(["upper"]);
    let state = applied(&self::patches(LogOptions::default().filter(filter)).await);
    assert_eq!(keys(&state["logs"]), ["upper", "upper:2"]);
}

#[tokio::test]
async fn without_the_streamed_output_list_only_the_final_output_moves() {
    let patches = patches(LogOptions::default().without_streamed_output_list()).await;
    let root: Vec<Vec<String>> = shape(&patches)
        .into_iter()
        .filter(|p| {
            p.iter()
                .any(|op| op.contains("/final_output") && !op.contains("/logs/"))
        })
        .collect();
    assert_eq!(root, vec![vec!["replace /final_output".to_string()]; 3]);
    let state = applied(&patches);
    assert_eq!(state["streamed_output"], json!([]));
    assert_eq!(state["final_output"], "ABC");
}
