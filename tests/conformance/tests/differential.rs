//! The differential scenarios: runwright's records against real
//! LangChain's (`differential/reference/`, recorded by
//! `scripts/differential.sh`), case by case, after the same normalization.
//!
//! Allowed differences: the `lc_versions` metadata (version-specific), the
//! canonical form of the `per_run` cases (`differential/scenarios.py`,
//! `canonical_per_run`), and the deliberate differences listed in
//! [`DELIBERATE`], each with a check of what runwright gives instead (see
//! ARCHITECTURE.md, "Where runwright deliberately differs").

use std::process::Command;

use runwright_conformance::{case_names, parse_records, strip_versions};
use serde_json::{json, Map, Value};

/// A case whose LangChain records runwright deliberately does not reproduce.
struct Deliberate {
    file: &'static str,
    case: &'static str,
    /// Why, in a line (ARCHITECTURE.md has the long form).
    why: &'static str,
    /// Checks runwright's records (`got`, call record first) against
    /// LangChain's (`expected`).
    check: fn(expected: &[Value], got: &[Value]),
}

const DELIBERATE: &[Deliberate] = &[
    Deliberate {
        file: "d06_retry",
        case: "flaky.astream_events",
        why: "Retry retries a stream that fails before its first chunk (LangChain streams without retrying)",
        check: check_retried_stream_events,
    },
    Deliberate {
        file: "d06_retry",
        case: "flaky.astream",
        why: "Retry retries a stream that fails before its first chunk (LangChain streams without retrying)",
        check: check_retried_stream,
    },
    Deliberate {
        file: "d06_retry",
        case: "flaky_in_sequence.astream_events",
        why: "Retry retries a stream that fails before its first chunk (LangChain streams without retrying)",
        check: check_retried_stream_in_sequence,
    },
    Deliberate {
        file: "d08_graph_supersteps",
        case: "fan_out.astream_events",
        why: "what nodes write with the stream writer is also an on_custom_event named `custom`; \
              the ends of a step's concurrent tasks follow their completion (LangGraph's round-robin \
              order for nodes that finish at once is not reproduced)",
        check: writer_items_as_custom_events,
    },
    Deliberate {
        file: "d04_assign",
        case: "assign_after_stream.astream_events",
        why: "a chunk travels the whole pipeline before the assign's mapper starts",
        check: chunk_through_pipeline_before_mapper_start,
    },
    Deliberate {
        file: "d11_thread_state",
        case: "finished",
        why: CHECKPOINT_INTERNALS,
        check: same_but_checkpoint_internals,
    },
    Deliberate {
        file: "d11_thread_state",
        case: "interrupted",
        why: CHECKPOINT_INTERNALS,
        check: same_but_checkpoint_internals,
    },
    Deliberate {
        file: "d11_thread_state",
        case: "update_state.as_node",
        why: CHECKPOINT_INTERNALS,
        check: same_but_checkpoint_internals,
    },
    Deliberate {
        file: "d11_thread_state",
        case: "durability.exit_interrupted",
        why: CHECKPOINT_INTERNALS,
        check: same_but_checkpoint_internals,
    },
    Deliberate {
        file: "d13_tasks_checkpoints",
        case: "diamond.checkpoints",
        why: CHECKPOINT_INTERNALS,
        check: same_but_checkpoint_internals,
    },
    Deliberate {
        file: "d13_tasks_checkpoints",
        case: "failing.tasks",
        why: CHECKPOINT_INTERNALS,
        check: same_but_checkpoint_internals,
    },
    Deliberate {
        file: "d10_interrupts",
        case: "tool_approval",
        why: "checkpoint internals (see above); the Send the agent saves shows remaining_steps from runwright's default recursion limit, 25 (LangGraph's counts from 10,007)",
        check: agent_checkpoint_with_own_recursion_limit,
    },
    Deliberate {
        file: "d10_interrupts",
        case: "parallel",
        why: "one resume value for several pending interrupts fails with runwright's own error (naming Command::resume_by_id), not LangGraph's RuntimeError text",
        check: own_error_for_ambiguous_resume,
    },
    Deliberate {
        file: "d10_interrupts",
        case: "single.astream_events",
        why: "writer items are on_custom_events too; a Command input shows as runwright serializes it",
        check: thread_events_as_runwright_shows_them,
    },
    Deliberate {
        file: "d12_subgraphs",
        case: "node.subgraphs",
        why: SUBGRAPH_THREAD,
        check: same_but_internals,
    },
    Deliberate {
        file: "d12_subgraphs",
        case: "node.no_subgraphs",
        why: "without with_subgraphs, a subgraph's messages and custom items still stream (tokens never go silent), \
              LangGraph streams nothing from inside subgraphs",
        check: subgraph_tokens_without_subgraphs,
    },
    Deliberate {
        file: "d12_subgraphs",
        case: "in_function.subgraphs",
        why: SUBGRAPH_THREAD,
        check: same_but_internals,
    },
    Deliberate {
        file: "d12_subgraphs",
        case: "interrupt_in_subgraph",
        why: SUBGRAPH_THREAD,
        check: same_but_internals,
    },
    Deliberate {
        file: "d12_subgraphs",
        case: "interrupt_in_subgraph.in_function",
        why: "a graph a node function calls is that task's subgraph when it runs, but get_state cannot see it \
              in the function (LangGraph looks into the Python closure): the task's state is null",
        check: function_subgraph_not_in_state,
    },
    Deliberate {
        file: "d12_subgraphs",
        case: "root_model.messages",
        why: SUBGRAPH_THREAD,
        check: same_but_internals,
    },
    Deliberate {
        file: "d12_subgraphs",
        case: "three_levels",
        why: SUBGRAPH_THREAD,
        check: same_but_internals,
    },
];

/// Why d12's thread cases differ (ARCHITECTURE.md, "Where runwright
/// deliberately differs").
const SUBGRAPH_THREAD: &str = "checkpoint internals are runwright's own (see above)";

/// The labels (`task-N`, `ckpt-N`, `int-N`) of `records` numbered again in
/// order of first appearance: records left out (checkpoint internals, a
/// nested state) shift the numbering of what follows.
fn renumber(records: &[Value]) -> Vec<Value> {
    let text = serde_json::to_string(records).expect("JSON");
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    'scan: while !rest.is_empty() {
        for kind in ["task-", "ckpt-", "int-"] {
            if let Some(tail) = rest.strip_prefix(kind) {
                let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 {
                    let label = &rest[..kind.len() + digits];
                    let new = seen.entry(label.to_owned()).or_insert_with(|| {
                        let c = counts.entry(kind).or_insert(0);
                        *c += 1;
                        format!("{kind}{}", *c - 1)
                    });
                    out.push_str(new);
                    rest = &rest[label.len()..];
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().expect("a char");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    serde_json::from_str(&out).expect("JSON")
}

/// LangGraph's records but for checkpoint internals; the tokens'
/// metadata has the thread's `thread_id`, as LangGraph's.
fn same_but_internals(expected: &[Value], got: &[Value]) {
    let metadata = |records: &[Value]| -> Vec<Value> {
        records
            .iter()
            .filter(|r| r["kind"] == "chunk")
            .filter_map(|r| r["value"].as_array().and_then(|a| a.last()).cloned())
            .filter(|item| item.get(1).is_some_and(|m| m.get("langgraph_node").is_some()))
            .map(|item| item[1].clone())
            .collect()
    };
    let got_metadata = metadata(got);
    assert_eq!(got_metadata.len(), metadata(expected).len(), "the same tokens");
    assert!(
        got_metadata.iter().all(|m| m.get("thread_id") == Some(&json!("t1"))),
        "the thread's id in the tokens' metadata"
    );
    let norm = |records: &[Value]| renumber(&without_internals(records));
    assert_eq!(norm(got), norm(expected));
}

/// Without `subgraphs=True`, runwright still streams the subgraph's custom
/// item and tokens (without namespace, the tokens' metadata that of the
/// subgraph's task), before the subgraph node's update; otherwise
/// LangGraph's records.
fn subgraph_tokens_without_subgraphs(expected: &[Value], got: &[Value]) {
    let inner = |r: &Value| {
        let item = &r["value"];
        (item[0] == "custom" && item[1].get("child").is_some())
            || (item[0] == "messages"
                && item[1][1]["langgraph_checkpoint_ns"]
                    .as_str()
                    .is_some_and(|ns| ns.contains('|')))
    };
    let at: Vec<usize> = got
        .iter()
        .enumerate()
        .filter(|(_, r)| inner(r))
        .map(|(i, _)| i)
        .collect();
    let items: Vec<&Value> = at.iter().map(|&i| &got[i]["value"]).collect();
    assert_eq!(items.len(), 6, "the custom item and 5 tokens: {items:#?}");
    assert_eq!(items[0], &json!(["custom", {"child": "s_write"}]));
    let text: String = items[1..]
        .iter()
        .map(|i| i[1][0]["content"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(text, "sub says hi");
    assert!(items[1..].iter().all(|i| i[1][1]["langgraph_node"] == "s_write"
        && i[1][1]["checkpoint_ns"]
            .as_str()
            .is_some_and(|ns| ns.starts_with("child:"))));
    let update = got
        .iter()
        .position(|r| r["value"][1].get("child").is_some() && r["value"][0] == "updates")
        .expect("the subgraph node's update");
    assert!(at.iter().all(|&i| i < update), "streamed while the subgraph runs");
    let rest: Vec<Value> = got.iter().filter(|r| !inner(r)).cloned().collect();
    assert_eq!(rest, expected, "otherwise LangGraph's records");
}

/// The subgraph called from the node function runs as LangGraph's (its
/// items, checkpoints, interrupt and resume), but `get_state_with_subgraphs`
/// shows its task's state as null: LangGraph's records with that state
/// left out.
fn function_subgraph_not_in_state(expected: &[Value], got: &[Value]) {
    let mut expected = expected.to_vec();
    let state = expected
        .iter_mut()
        .find(|r| r["kind"] == "state")
        .expect("get_state(subgraphs=True)");
    let task = &mut state["value"]["tasks"][0];
    assert_eq!(task["name"], "child");
    assert_eq!(
        task["state"]["type"], "StateSnapshot",
        "LangGraph nests the subgraph's state"
    );
    task["state"] = Value::Null;
    let got_state = got.iter().find(|r| r["kind"] == "state").expect("a state");
    assert_eq!(got_state["value"]["tasks"][0]["state"], Value::Null);
    assert_eq!(renumber(got), renumber(&expected));
}

/// Why the checkpoint internals differ (ARCHITECTURE.md, "Where runwright
/// deliberately differs").
const CHECKPOINT_INTERNALS: &str = "checkpoint internals are runwright's own: channel versions count per \
     written channel, versions_seen and updated_channels are its bookkeeping, a waiting edge is saved as its \
     sources seen, and pending writes hold tasks' state writes, interrupts and errors only (no edge, __start__, \
     __resume__ or global resume writes)";

/// A checkpoint record without what [`CHECKPOINT_INTERNALS`] names: its
/// versions, `versions_seen`, `updated_channels`, trigger channels
/// (`branch:to:*`, `join:*`), and the pending writes of edges, resume
/// values, global writes and an input checkpoint's `__start__` task.
fn without_internals(records: &[Value]) -> Vec<Value> {
    const NULL_TASK_ID: &str = "00000000-0000-0000-0000-000000000000";
    let trigger = |c: &str| c.starts_with("branch:to:") || c.starts_with("join:");
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r["kind"] != "checkpoint" || r["value"].is_null() {
                return r;
            }
            let v = &mut r["value"];
            let input = v["metadata"]["source"] == "input";
            let c = v["checkpoint"].as_object_mut().expect("a checkpoint");
            for k in ["channel_versions", "versions_seen", "updated_channels"] {
                c.remove(k);
            }
            if let Some(values) = c.get_mut("channel_values").and_then(Value::as_object_mut) {
                values.retain(|k, _| !trigger(k));
            }
            if let Some(writes) = v["pending_writes"].as_array_mut() {
                writes.retain(|w| {
                    let channel = w[1].as_str().unwrap_or_default();
                    !input
                        && !trigger(channel)
                        && !matches!(channel, "__resume__" | "__no_writes__")
                        && w[0] != NULL_TASK_ID
                });
            }
            r
        })
        .collect()
}

/// runwright's channel versions are still LangGraph's strings (a 32-digit
/// counter, normalized), and without the internals the records are
/// LangGraph's.
fn same_but_checkpoint_internals(expected: &[Value], got: &[Value]) {
    let checkpoints: Vec<&Value> = got.iter().filter(|r| r["kind"] == "checkpoint").collect();
    assert!(!checkpoints.is_empty(), "the case shows checkpoints");
    for r in checkpoints {
        for (ch, v) in r["value"]["checkpoint"]["channel_versions"]
            .as_object()
            .expect("versions")
        {
            let v = v.as_str().unwrap_or_default();
            assert!(
                v.len() == 36 && v[..32].bytes().all(|b| b.is_ascii_digit()) && v.ends_with(".<r>"),
                "{ch}: {v}"
            );
        }
    }
    assert_eq!(without_internals(got), without_internals(expected));
}

/// Checkpoint internals aside, LangGraph's records but for the
/// `remaining_steps` the pending Send's state holds: runwright's counts
/// down from its default recursion limit (25) in the step after the
/// agent's, LangGraph's from 10,007.
fn agent_checkpoint_with_own_recursion_limit(expected: &[Value], got: &[Value]) {
    let steps = |records: &[Value]| -> Vec<Value> {
        records
            .iter()
            .filter(|r| r["kind"] == "checkpoint")
            .flat_map(|r| {
                r["value"]["checkpoint"]["channel_values"]["__pregel_tasks"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|send| send["arg"]["state"]["remaining_steps"].clone())
            .collect()
    };
    assert_eq!(steps(expected), [json!(10006)]);
    assert_eq!(steps(got), [json!(24)]);
    let with_steps = |records: &[Value], n: i64| -> Vec<Value> {
        let mut out = without_internals(records);
        for r in out.iter_mut().filter(|r| r["kind"] == "checkpoint") {
            for send in r["value"]["checkpoint"]["channel_values"]["__pregel_tasks"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                send["arg"]["state"]["remaining_steps"] = json!(n);
            }
        }
        out
    };
    assert_eq!(with_steps(got, 0), with_steps(expected, 0));
}

/// The same records, but for the error of the one resume value for two
/// pending interrupts: runwright's names the count and the API to use.
fn own_error_for_ambiguous_resume(expected: &[Value], got: &[Value]) {
    let at = expected
        .iter()
        .position(|r| r["kind"] == "error")
        .expect("LangGraph refuses");
    assert_eq!(expected[at]["value"]["type"], "RuntimeError");
    assert_eq!(got[at]["kind"], "error", "refused at the same point, before any item");
    let message = got[at]["value"]["message"].as_str().expect("a message");
    assert!(
        message == "2 interrupts are pending (int-0, int-1): resume them by id (Command::resume_by_id)"
            || message == "2 interrupts are pending (int-1, int-0): resume them by id (Command::resume_by_id)",
        "{message}"
    );
    let (mut e, mut g) = (expected.to_vec(), got.to_vec());
    e.remove(at);
    g.remove(at);
    assert_eq!(g, e, "otherwise LangGraph's records");
}

/// The writer's items show as `on_custom_event`s named `custom` too (see
/// d08's `fan_out.astream_events`); LangChain copies the configurable
/// `thread_id` into every run's metadata, runwright does not; the resumed
/// run's input is the `Command` as runwright serializes it
/// (`{"resume": "blue"}`, LangGraph's dataclass has every field). Without
/// those, LangGraph's records.
fn thread_events_as_runwright_shows_them(expected: &[Value], got: &[Value]) {
    let custom: Vec<&Value> = got
        .iter()
        .filter(|r| r["value"]["event"] == "on_custom_event")
        .map(|r| &r["value"]["data"])
        .collect();
    assert_eq!(
        custom,
        [
            &json!({"enter": "ask"}),
            &json!({"enter": "ask"}),
            &json!({"resumed_with": "blue"})
        ]
    );
    let mut got: Vec<Value> = got
        .iter()
        .filter(|r| r["value"]["event"] != "on_custom_event")
        .cloned()
        .collect();
    let mut expected = expected.to_vec();
    let command_start = |records: &mut [Value]| -> Value {
        let r = records
            .iter_mut()
            .find(|r| r["value"]["event"] == "on_chain_start" && r["value"]["data"]["input"].get("resume").is_some())
            .expect("the resumed run starts");
        std::mem::take(&mut r["value"]["data"]["input"])
    };
    assert_eq!(
        command_start(&mut expected),
        json!({"type": "Command", "graph": null, "update": null, "resume": "blue", "goto": []})
    );
    assert_eq!(command_start(&mut got), json!({"resume": "blue"}));
    assert_eq!(got, expected);
}

/// The records of a case after its call record, one line each: an event as
/// `run event name tags parents data`, anything else as `kind value`.
fn lines(records: &[Value]) -> Vec<String> {
    records[1..]
        .iter()
        .map(|r| {
            let v = &r["value"];
            if r["kind"] == "event" {
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                format!(
                    "{} {} {} {} {} {}",
                    s("run_id"),
                    s("event"),
                    s("name"),
                    v["tags"],
                    v["parent_ids"],
                    v["data"]
                )
            } else {
                format!("{} {}", r["kind"].as_str().unwrap_or_default(), v)
            }
        })
        .collect()
}

const ATTEMPT_1_FAILED: &str = r#"error {"type":"ValueError","message":"attempt 1 failed"}"#;

/// LangChain streams the retried runnable without retrying: its one run
/// fails on attempt 1. runwright's `Retry` is a run of its own (named after
/// the runnable, showing the input) with each attempt a child, tagged
/// `retry:attempt:N` from the second on, as LangChain's invoked retries
/// are; the failed attempt starts and never ends, the second gives 40.
fn check_retried_stream_events(expected: &[Value], got: &[Value]) {
    assert_eq!(
        lines(expected),
        [r#"run-0 on_chain_start flaky [] [] {"input":4}"#, ATTEMPT_1_FAILED]
    );
    assert_eq!(
        lines(got),
        [
            r#"run-0 on_chain_start flaky [] [] {"input":4}"#,
            r#"run-1 on_chain_start flaky [] ["run-0"] {}"#,
            r#"run-2 on_chain_start flaky ["retry:attempt:2"] ["run-0"] {}"#,
            r#"run-2 on_chain_stream flaky ["retry:attempt:2"] ["run-0"] {"chunk":40}"#,
            r#"run-0 on_chain_stream flaky [] [] {"chunk":40}"#,
            r#"run-2 on_chain_end flaky ["retry:attempt:2"] ["run-0"] {"output":40,"input":4}"#,
            r#"run-0 on_chain_end flaky [] [] {"output":40}"#,
        ]
    );
}

/// LangChain's stream fails on attempt 1; runwright's retried stream gives
/// the second attempt's output.
fn check_retried_stream(expected: &[Value], got: &[Value]) {
    assert_eq!(lines(expected), [ATTEMPT_1_FAILED]);
    assert_eq!(lines(got), ["chunk 40"]);
}

/// In a sequence LangChain streams the retried lambda as a transform (it
/// starts with the first input chunk) and fails on attempt 1. runwright's
/// `Retry` needs the whole input to run it again, so it starts with its
/// input once `plus_one` ended (as the steps that are not transforms do);
/// its attempts are children as above, and the sequence gives 50. Up to
/// `plus_one`'s chunk both are the same.
fn check_retried_stream_in_sequence(expected: &[Value], got: &[Value]) {
    let (exp, got) = (lines(expected), lines(got));
    assert_eq!(exp[..3], got[..3], "the same until plus_one's chunk");
    assert_eq!(
        exp[3..],
        [
            r#"run-2 on_chain_start flaky ["seq:step:2"] ["run-0"] {}"#,
            r#"run-1 on_chain_end plus_one ["seq:step:1"] ["run-0"] {"output":5,"input":4}"#,
            ATTEMPT_1_FAILED,
        ]
    );
    assert_eq!(
        got[3..],
        [
            r#"run-1 on_chain_end plus_one ["seq:step:1"] ["run-0"] {"output":5,"input":4}"#,
            r#"run-2 on_chain_start flaky ["seq:step:2"] ["run-0"] {"input":5}"#,
            r#"run-3 on_chain_start flaky [] ["run-0","run-2"] {}"#,
            r#"run-4 on_chain_start flaky ["retry:attempt:2"] ["run-0","run-2"] {}"#,
            r#"run-4 on_chain_stream flaky ["retry:attempt:2"] ["run-0","run-2"] {"chunk":50}"#,
            r#"run-2 on_chain_stream flaky ["seq:step:2"] ["run-0"] {"chunk":50}"#,
            r#"run-0 on_chain_stream RunnableSequence [] [] {"chunk":50}"#,
            r#"run-4 on_chain_end flaky ["retry:attempt:2"] ["run-0","run-2"] {"output":50,"input":5}"#,
            r#"run-2 on_chain_end flaky ["seq:step:2"] ["run-0"] {"output":50,"input":5}"#,
            r#"run-0 on_chain_end RunnableSequence [] [] {"output":50}"#,
        ]
    );
}

/// The stream writer's items show as `on_custom_event`s named `custom`, each
/// from the run that wrote it. Without them the records are LangChain's in
/// the per-run canonical form (the order between concurrent runs is the
/// scheduler's), every task of a step starts before any of them streams,
/// and the graph's own chunks come in task order.
fn writer_items_as_custom_events(expected: &[Value], got: &[Value]) {
    let is_custom = |r: &&Value| r["kind"] == "event" && r["value"]["event"] == "on_custom_event";
    let written: Vec<(Value, Value)> = got
        .iter()
        .filter(is_custom)
        .map(|r| (r["value"]["name"].clone(), r["value"]["data"].clone()))
        .collect();
    assert!(!written.is_empty(), "the writer's items show as custom events");
    for r in got.iter().filter(is_custom) {
        let ev = &r["value"];
        assert_eq!(ev["name"], "custom", "a writer item is named `custom`: {ev}");
        let node = ev["data"]["from"].as_str().expect("the item names its node");
        assert_eq!(
            ev["metadata"]["langgraph_node"], node,
            "it comes from the node that wrote it: {ev}"
        );
    }
    // Removing them shifts no run numbering: a custom event carries the id
    // of its run, seen before.
    let rest: Vec<Value> = got.iter().filter(|r| !is_custom(r)).cloned().collect();
    assert_eq!(
        canonical_per_run(&rest),
        canonical_per_run(expected),
        "without the custom events, LangChain's records run by run"
    );
    let events: Vec<&Value> = rest
        .iter()
        .filter(|r| r["kind"] == "event")
        .map(|r| &r["value"])
        .collect();
    let graph = events
        .iter()
        .find(|ev| ev["name"] == "LangGraph")
        .and_then(|ev| ev["run_id"].as_str())
        .expect("the graph's run");
    // A direct child of the graph: its step (from `graph:step:N`).
    let step_of = |ev: &Value| -> Option<u64> {
        if ev["parent_ids"].as_array().and_then(|p| p.last()) != Some(&Value::from(graph)) {
            return None;
        }
        str_list(&ev["tags"])
            .iter()
            .find_map(|t| t.strip_prefix("graph:step:").and_then(|n| n.parse().ok()))
    };
    let mut steps: Vec<u64> = events.iter().filter_map(|ev| step_of(ev)).collect();
    steps.dedup();
    assert!(steps.len() > 1, "several steps");
    for step in steps {
        let phases: Vec<(&str, &str)> = events
            .iter()
            .filter(|ev| step_of(ev) == Some(step))
            .map(|ev| {
                (
                    ev["event"].as_str().unwrap_or_default(),
                    ev["name"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let last_start = phases.iter().rposition(|(e, _)| *e == "on_chain_start");
        let first_stream = phases.iter().position(|(e, _)| *e == "on_chain_stream");
        assert!(
            last_start < first_stream,
            "step {step}: every task starts before any streams: {phases:?}"
        );
    }
    // The graph's chunks: one per task, in task (node name) order within
    // each step, as LangGraph's.
    let node_step = |name: &str| -> u64 {
        events
            .iter()
            .filter(|ev| ev["name"] == name)
            .find_map(|ev| step_of(ev))
            .unwrap_or_else(|| panic!("{name} is a node run of the graph"))
    };
    let graph_chunks = |evs: &[&Value]| -> Vec<(u64, String)> {
        evs.iter()
            .filter(|ev| ev["run_id"] == graph && ev["event"] == "on_chain_stream")
            .flat_map(|ev| ev["data"]["chunk"].as_object().into_iter().flat_map(|m| m.keys()))
            .map(|node| (node_step(node), node.clone()))
            .collect()
    };
    let chunks = graph_chunks(&events);
    let mut in_task_order = chunks.clone();
    in_task_order.sort();
    assert_eq!(chunks, in_task_order, "the graph's chunks come in task order");
    let expected_events: Vec<&Value> = expected
        .iter()
        .filter(|r| r["kind"] == "event")
        .map(|r| &r["value"])
        .collect();
    assert_eq!(
        chunks,
        graph_chunks(&expected_events),
        "LangGraph's chunks, in its order"
    );
}

/// runwright gives LangChain's records, except that the sequence's stream
/// event of the assign's first chunk comes just before the mapper's start
/// (pull-based streaming hands a chunk through the whole pipeline first)
/// instead of just after it (asyncio runs the mapper's task first).
fn chunk_through_pipeline_before_mapper_start(expected: &[Value], got: &[Value]) {
    let is_mapper_start =
        |r: &Value| r["value"]["event"] == "on_chain_start" && r["value"]["name"] == "RunnableParallel<size>";
    let at = got.iter().position(is_mapper_start).expect("the mapper starts");
    assert!(at > 0, "the mapper's start follows another record");
    let before = &got[at - 1]["value"];
    assert_eq!(
        (&before["event"], &before["name"]),
        (&json!("on_chain_stream"), &json!("RunnableSequence")),
        "the mapper starts right after the sequence streams the assign's first chunk"
    );
    let mut reordered = got.to_vec();
    reordered.swap(at - 1, at);
    assert_eq!(reordered, expected, "otherwise runwright gives LangChain's records");
    let end_of_upstream = got
        .iter()
        .position(|r| r["value"]["event"] == "on_chain_end" && r["value"]["name"] == "to_dict")
        .expect("the step upstream ends");
    assert!(at < end_of_upstream, "the mapper starts before the step upstream ends");
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// One step of a run's path from the root: its name and tags (an unknown
/// parent: its label and no tags).
type Step = (String, Vec<String>);

fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// Renames every `run-N` in the strings of `v` by `rename`.
fn relabel(v: Value, rename: &std::collections::HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => {
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(at) = rest.find("run-") {
                out.push_str(&rest[..at]);
                let digits = rest[at + 4..].bytes().take_while(u8::is_ascii_digit).count();
                let label = &rest[at..at + 4 + digits];
                out.push_str(rename.get(label).map_or(label, String::as_str));
                rest = &rest[at + 4 + digits..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, relabel(v, rename))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| relabel(v, rename)).collect()),
        other => other,
    }
}

/// Every `run-N` label in the strings of `v`, in order.
fn run_labels(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => {
            let mut out = Vec::new();
            let mut rest = s.as_str();
            while let Some(at) = rest.find("run-") {
                let digits = rest[at + 4..].bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 {
                    out.push(rest[at..at + 4 + digits].to_owned());
                }
                rest = &rest[at + 4 + digits..];
            }
            out
        }
        Value::Object(m) => m.values().flat_map(run_labels).collect(),
        Value::Array(a) => a.iter().flat_map(run_labels).collect(),
        _ => Vec::new(),
    }
}

/// `differential/scenarios.py`'s `canonical_per_run`, on runwright's records
/// of one case (call record first).
fn canonical_per_run(records: &[Value]) -> Vec<Value> {
    let (call, rest) = records.split_first().expect("a call record");
    let events: Vec<&Value> = rest
        .iter()
        .filter(|r| r["kind"] == "event")
        .map(|r| &r["value"])
        .collect();
    let mut runs: Vec<(String, Step, Vec<String>)> = Vec::new();
    for ev in &events {
        let id = ev["run_id"].as_str().unwrap_or_default();
        if !runs.iter().any(|(r, _, _)| r == id) {
            let step = (
                ev["name"].as_str().unwrap_or_default().to_owned(),
                str_list(&ev["tags"]),
            );
            runs.push((id.to_owned(), step, str_list(&ev["parent_ids"])));
        }
    }
    let path = |run: &str| -> Vec<Step> {
        let (_, step, parents) = runs.iter().find(|(r, _, _)| r == run).expect("a known run");
        let mut p: Vec<Step> = parents
            .iter()
            .map(|id| {
                runs.iter()
                    .find(|(r, _, _)| r == id)
                    .map_or_else(|| (id.clone(), Vec::new()), |(_, s, _)| s.clone())
            })
            .collect();
        p.push(step.clone());
        p
    };
    let mut order: Vec<&str> = runs.iter().map(|(r, _, _)| r.as_str()).collect();
    order.sort_by_key(|a| path(a));
    let rename: std::collections::HashMap<String, String> = order
        .iter()
        .enumerate()
        .map(|(i, r)| ((*r).to_owned(), format!("run-{i}")))
        .collect();
    let index = |run: &str| -> usize { order.iter().position(|r| *r == run).expect("a known run") };

    let mut branches_first = true;
    for (run, (name, _), _) in runs.iter().map(|(r, s, p)| (r, s, p)) {
        if !name.starts_with("RunnableParallel<") {
            continue;
        }
        let kids: Vec<&&Value> = events
            .iter()
            .filter(|ev| ev["parent_ids"].as_array().and_then(|p| p.last()) == Some(&Value::from(run.as_str())))
            .collect();
        let phase = |ev: &Value, suffix: &str| ev["event"].as_str().is_some_and(|e| e.ends_with(suffix));
        let last_start = kids.iter().rposition(|ev| phase(ev, "_start"));
        let first_stream = kids.iter().position(|ev| phase(ev, "_stream"));
        if let (Some(s), Some(f)) = (last_start, first_stream) {
            if s > f {
                branches_first = false;
            }
        }
    }

    let keys_of = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        k.sort();
        k
    };
    let rank = |r: &Value| -> (u8, usize, u8, Vec<String>) {
        match r["kind"].as_str() {
            Some("event") => {
                let ev = &r["value"];
                let name = ev["event"].as_str().unwrap_or_default();
                let phase = if name.ends_with("_start") {
                    0
                } else if name.ends_with("_end") {
                    2
                } else {
                    1
                };
                let keys = if phase == 1 {
                    keys_of(&ev["data"]["chunk"])
                } else {
                    Vec::new()
                };
                (0, index(ev["run_id"].as_str().unwrap_or_default()), phase, keys)
            }
            Some("chunk") => (1, 0, 0, keys_of(&r["value"])),
            _ => (2, 0, 0, Vec::new()),
        }
    };
    let mut sorted: Vec<&Value> = rest.iter().collect();
    sorted.sort_by_key(|r| rank(r));
    // Labels no event names (chunk ids of a case without events) are
    // numbered after those, in their order of first appearance once sorted.
    let mut rename = rename;
    for r in &sorted {
        for label in run_labels(&r["value"]) {
            let next = format!("run-{}", rename.len());
            rename.entry(label).or_insert(next);
        }
    }
    let case = call["case"].clone();
    let mut out = vec![call.clone()];
    out.extend(sorted.into_iter().map(
        |r| json!({"case": r["case"], "kind": r["kind"], "value": sort_keys(relabel(r["value"].clone(), &rename))}),
    ));
    out.push(json!({"case": case, "kind": "info", "value": {"branches_start_before_streaming": branches_first}}));
    out
}

/// Compares one reference file; every differing case is reported, not only
/// the first.
fn compare_file(stem: &str) {
    let text = runwright_conformance::DIFFERENTIAL_FILES
        .iter()
        .find(|(s, _)| *s == stem)
        .map(|(_, t)| *t)
        .expect("a differential reference file");
    let out = Command::new(env!("CARGO_BIN_EXE_runwright-conformance"))
        .arg(stem)
        .output()
        .expect("the conformance runner starts");
    assert!(
        out.status.success(),
        "runner failed on {stem}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected = parse_records(text);
    let mut got = parse_records(&String::from_utf8_lossy(&out.stdout));
    expected.iter_mut().for_each(strip_versions);
    got.iter_mut().for_each(strip_versions);
    assert_eq!(
        case_names(&got),
        case_names(&expected),
        "{stem}: case names and order differ"
    );

    let mut failures = Vec::new();
    for case in case_names(&expected) {
        let exp: Vec<Value> = expected
            .iter()
            .filter(|r| r["case"] == case.as_str())
            .cloned()
            .collect();
        let mut got_c: Vec<Value> = got.iter().filter(|r| r["case"] == case.as_str()).cloned().collect();
        if got_c.first() != exp.first() {
            failures.push(format!("{case}: call record differs"));
            continue;
        }
        if exp[0]["value"]["compare"] == "per_run" {
            got_c = canonical_per_run(&got_c);
        }
        if let Some(d) = DELIBERATE.iter().find(|d| d.file == stem && d.case == case) {
            eprintln!("{stem} {case}: deliberate difference ({})", d.why);
            (d.check)(&exp, &got_c);
            continue;
        }
        if let Some(i) = exp.iter().zip(&got_c).position(|(e, g)| e != g) {
            failures.push(format!(
                "{case}, record {i}: first difference\n  expected: {}\n       got: {}",
                exp[i], got_c[i]
            ));
        } else if exp.len() != got_c.len() {
            let extra = if exp.len() > got_c.len() {
                &exp[got_c.len()]
            } else {
                &got_c[exp.len()]
            };
            failures.push(format!(
                "{case}: {} records expected, {} produced; first extra: {extra}",
                exp.len(),
                got_c.len()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{stem}: {} case(s) differ from LangChain:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

macro_rules! differential {
    ($($name:ident => $stem:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            compare_file($stem);
        }
    )*};
}

differential! {
    config_inheritance_matches_langchain => "d01_config_inheritance",
    retrievers_match_langchain => "d02_retrievers",
    parallel_maps_match_langchain => "d03_parallel",
    assign_matches_langchain => "d04_assign",
    fallbacks_match_langchain => "d05_fallbacks",
    retry_matches_langchain => "d06_retry",
    json_diff_matches_langchain => "d07_json_diff",
    graph_supersteps_match_langgraph => "d08_graph_supersteps",
    nesting_errors_filters_match_langchain => "d09_nesting_errors_filters",
    interrupts_match_langgraph => "d10_interrupts",
    thread_state_matches_langgraph => "d11_thread_state",
    subgraphs_match_langgraph => "d12_subgraphs",
    tasks_and_checkpoints_match_langgraph => "d13_tasks_checkpoints",
}

#[test]
fn every_reference_file_is_compared() {
    let source = include_str!("differential.rs");
    for (stem, _) in runwright_conformance::DIFFERENTIAL_FILES {
        assert!(source.contains(&format!("=> \"{stem}\"")), "{stem} has no test");
    }
}

#[test]
fn canonical_form_is_that_of_the_recorder() {
    // The reference files hold per_run cases already in canonical form, so
    // putting one in canonical form again must change nothing.
    for (stem, text) in runwright_conformance::DIFFERENTIAL_FILES {
        let records = parse_records(text);
        for case in case_names(&records) {
            let recs: Vec<Value> = records.iter().filter(|r| r["case"] == case.as_str()).cloned().collect();
            if recs[0]["value"]["compare"] != "per_run" {
                continue;
            }
            // The recorder's info record is appended again by the canonical
            // form: compare without it.
            let without_info: Vec<Value> = recs[..recs.len() - 1].to_vec();
            let mut again = canonical_per_run(&without_info);
            again.pop();
            assert_eq!(again, without_info, "{stem} {case}: canonical form is stable");
        }
    }
}
