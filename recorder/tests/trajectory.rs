//! Trajectories: extracted from a graph agent's events, compared in every
//! mode, failures shown side by side (kept as snapshots).

use std::sync::Arc;

use runwright::graph::{create_react_agent, AgentState};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, FakeToolCallingChatModel, RunnableExt};
use runwright_recorder::assert_trajectory_snapshot;
use runwright_recorder::trajectory::{ArgsMatch, ArgsMode, MatchMode, Step, Trajectory, TrajectoryMatch};
use runwright_recorder::Trace;
use serde_json::json;

/// The weather in a city.
#[tool]
async fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

/// The time in a city.
#[tool]
async fn get_time(city: String, zone: Option<String>) -> String {
    format!("noon in {city} ({})", zone.unwrap_or_default())
}

/// A model that calls both tools at once, then answers.
fn model() -> FakeToolCallingChatModel {
    FakeToolCallingChatModel::new([
        AIMessage::new("").with_tool_calls(vec![
            ToolCall::new("get_weather", json!({"city": "Paris"})).with_id("call_1"),
            ToolCall::new("get_time", json!({"city": "Paris", "zone": "CET"})).with_id("call_2"),
        ]),
        AIMessage::new("Sunny, and it is noon."),
    ])
}

async fn run() -> Trajectory {
    let agent = create_react_agent(model(), vec![Arc::new(get_weather), Arc::new(get_time)]).unwrap();
    Trajectory::record(agent.stream_events(AgentState::user("weather and time in Paris?"))).await
}

/// What the run did, as a test writes it. Each tool call runs in a
/// `tools` task of its own, concurrently; concurrent runs come in the
/// trace's canonical order (by input, here).
fn expected() -> Trajectory {
    Trajectory::new()
        .node("agent")
        .model_calls([
            ("get_weather", json!({"city": "Paris"})),
            ("get_time", json!({"city": "Paris", "zone": "CET"})),
        ])
        .node("tools")
        .tool("get_time", json!({"city": "Paris", "zone": "CET"}))
        .node("tools")
        .tool("get_weather", json!({"city": "Paris"}))
        .node("agent")
        .model_answer("Sunny, and it is noon.")
}

fn strict() -> TrajectoryMatch {
    TrajectoryMatch::new(MatchMode::Strict)
}

#[tokio::test]
async fn a_graph_agents_trajectory_has_its_nodes_model_turns_and_tool_runs() {
    let t = run().await;
    assert_eq!(
        t.to_string(),
        "node agent\n\
         model -> get_weather({\"city\":\"Paris\"}), get_time({\"city\":\"Paris\",\"zone\":\"CET\"})\n\
         node tools\n\
         tool get_time({\"city\":\"Paris\",\"zone\":\"CET\"}) = \"noon in Paris (CET)\"\n\
         node tools\n\
         tool get_weather({\"city\":\"Paris\"}) = \"sunny in Paris\"\n\
         node agent\n\
         model \"Sunny, and it is noon.\"\n"
    );
    assert!(
        matches!(&t.steps()[7], Step::Model { calls, text } if calls.is_empty() && text == "Sunny, and it is noon.")
    );
    // The same from a trace file's events.
    let agent = create_react_agent(model(), vec![Arc::new(get_weather), Arc::new(get_time)]).unwrap();
    let trace = Trace::record(
        "agent",
        agent.stream_events(AgentState::user("weather and time in Paris?")),
    )
    .await;
    let again = Trace::parse("agent.jsonl", &trace.to_jsonl()).unwrap();
    assert_eq!(Trajectory::of(&again), t);
}

#[tokio::test]
async fn strict_wants_the_same_steps_in_order_texts_aside() {
    let t = run().await;
    strict().check(&t, &expected()).unwrap();
    // The final text is not compared.
    let mut other = Trajectory::new();
    for s in &expected().steps()[..7] {
        other = push(other, s);
    }
    strict().check(&t, &other.model_answer("something else")).unwrap();

    // Tool runs in another order.
    let swapped = Trajectory::new()
        .node("agent")
        .model_calls([
            ("get_weather", json!({"city": "Paris"})),
            ("get_time", json!({"city": "Paris", "zone": "CET"})),
        ])
        .node("tools")
        .tool("get_weather", json!({"city": "Paris"}))
        .node("tools")
        .tool("get_time", json!({"city": "Paris", "zone": "CET"}))
        .node("agent")
        .model_answer("");
    let err = strict().check(&t, &swapped).unwrap_err();
    assert_eq!(err.at, Some(3));
    insta::assert_snapshot!("strict_failure", err.to_string());

    // A missing step is a divergence at the end of the shorter one.
    let short = Trajectory::new().node("agent");
    let err = strict()
        .check(&Trajectory::new().node("agent").node("tools"), &short)
        .unwrap_err();
    assert_eq!(err.at, Some(1));
    assert!(err.reason.contains("the run has 2 steps, 1 expected"), "{err}");
    // A step of another kind.
    let err = strict()
        .check(&t, &Trajectory::new().tool("get_weather", json!({})))
        .unwrap_err();
    assert!(
        err.reason.contains("step 0 is a node step, expected a tool step"),
        "{err}"
    );
}

fn push(t: Trajectory, s: &Step) -> Trajectory {
    match s {
        Step::Model { calls, text } if calls.is_empty() => t.model_answer(text.clone()),
        Step::Model { calls, .. } => t.model_calls(calls.iter().map(|c| (c.name.clone(), c.args.clone()))),
        Step::Tool { call, .. } => t.tool(call.name.clone(), call.args.clone()),
        Step::Node { name } => t.node(name.clone()),
        _ => t,
    }
}

#[tokio::test]
async fn unordered_wants_the_same_tool_calls_in_any_order() {
    let t = run().await;
    let reversed = Trajectory::new().model_calls([
        ("get_time", json!({"city": "Paris", "zone": "CET"})),
        ("get_weather", json!({"city": "Paris"})),
    ]);
    let unordered = TrajectoryMatch::new(MatchMode::Unordered);
    unordered.check(&t, &reversed).unwrap();
    // Split over two model turns: still the same calls.
    let split = Trajectory::new()
        .model_calls([("get_time", json!({"city": "Paris", "zone": "CET"}))])
        .model_calls([("get_weather", json!({"city": "Paris"}))]);
    unordered.check(&t, &split).unwrap();
    // One fewer or one more is not the same.
    let fewer = Trajectory::new().model_calls([("get_weather", json!({"city": "Paris"}))]);
    let err = unordered.check(&t, &fewer).unwrap_err();
    insta::assert_snapshot!("unordered_failure", err.to_string());
    let more = reversed.clone().model_calls([("get_weather", json!({"city": "Rome"}))]);
    let err = unordered.check(&t, &more).unwrap_err();
    assert_eq!(
        err.reason,
        "expected tool call get_weather({\"city\":\"Rome\"}) was not made"
    );
    // A call matches one expected call only.
    let twice = Trajectory::new().model_calls([
        ("get_weather", json!({"city": "Paris"})),
        ("get_weather", json!({"city": "Paris"})),
    ]);
    assert!(unordered.clone().args(ArgsMode::Ignore).check(&t, &twice).is_err());
}

#[tokio::test]
async fn subset_and_superset_bound_what_the_run_did() {
    let t = run().await;
    let weather = Trajectory::new().model_calls([("get_weather", json!({"city": "Paris"}))]);
    let all = Trajectory::new().model_calls([
        ("get_weather", json!({"city": "Paris"})),
        ("get_time", json!({"city": "Paris", "zone": "CET"})),
        ("get_weather", json!({"city": "Rome"})),
    ]);
    // Superset: the run made at least the expected calls.
    TrajectoryMatch::new(MatchMode::Superset).check(&t, &weather).unwrap();
    let err = TrajectoryMatch::new(MatchMode::Superset).check(&t, &all).unwrap_err();
    insta::assert_snapshot!("superset_failure", err.to_string());
    // Subset: the run made nothing unexpected.
    TrajectoryMatch::new(MatchMode::Subset).check(&t, &all).unwrap();
    let err = TrajectoryMatch::new(MatchMode::Subset).check(&t, &weather).unwrap_err();
    assert_eq!(
        err.reason,
        "tool call get_time({\"city\":\"Paris\",\"zone\":\"CET\"}) was not expected"
    );
    insta::assert_snapshot!("subset_failure", err.to_string());
}

#[tokio::test]
async fn tool_arguments_compare_in_each_mode_and_per_tool() {
    let t = run().await;
    let calls =
        |time_args| Trajectory::new().model_calls([("get_weather", json!({"city": "Paris"})), ("get_time", time_args)]);
    let check = |args: ArgsMode, expected: &Trajectory| {
        TrajectoryMatch::new(MatchMode::Unordered)
            .args(args)
            .check(&t, expected)
    };
    let fewer = calls(json!({"city": "Paris"}));
    let more = calls(json!({"city": "Paris", "zone": "CET", "format": "24h"}));
    let other = calls(json!({"city": "Rome"}));

    check(ArgsMode::Exact, &calls(json!({"city": "Paris", "zone": "CET"}))).unwrap();
    assert!(check(ArgsMode::Exact, &fewer).is_err());
    // Superset: the run passed every expected argument (and maybe more).
    check(ArgsMode::Superset, &fewer).unwrap();
    assert!(check(ArgsMode::Superset, &more).is_err());
    // Subset: every argument the run passed is expected.
    check(ArgsMode::Subset, &more).unwrap();
    assert!(check(ArgsMode::Subset, &fewer).is_err());
    // Ignore: names only.
    check(ArgsMode::Ignore, &other).unwrap();
    assert!(check(
        ArgsMode::Ignore,
        &Trajectory::new().model_calls([("get_weather", json!({}))])
    )
    .is_err());

    // Per tool: a mode, keys, a function.
    let m = TrajectoryMatch::new(MatchMode::Unordered);
    m.clone()
        .tool_args("get_time", ArgsMatch::Mode(ArgsMode::Ignore))
        .check(&t, &other)
        .unwrap();
    // The other tools keep the mode: exact.
    assert!(m
        .clone()
        .tool_args("get_time", ArgsMatch::Mode(ArgsMode::Ignore))
        .check(
            &t,
            &Trajectory::new().model_calls([("get_weather", json!({"city": "Rome"})), ("get_time", json!({}))])
        )
        .is_err());
    m.clone()
        .tool_args("get_time", ArgsMatch::Keys(vec!["city".into()]))
        .check(&t, &fewer)
        .unwrap();
    assert!(m
        .clone()
        .tool_args("get_time", ArgsMatch::Keys(vec!["zone".into()]))
        .check(&t, &fewer)
        .is_err());
    m.clone()
        .tool_args(
            "get_time",
            ArgsMatch::custom(|run, want| {
                run["city"].as_str().map(str::to_lowercase) == want["city"].as_str().map(str::to_lowercase)
            }),
        )
        .check(&t, &calls(json!({"city": "PARIS"})))
        .unwrap();
}

#[tokio::test]
async fn a_trajectory_snapshot() {
    let agent = create_react_agent(model(), vec![Arc::new(get_weather), Arc::new(get_time)]).unwrap();
    assert_trajectory_snapshot!(agent.stream_events(AgentState::user("weather and time in Paris?")));
}
