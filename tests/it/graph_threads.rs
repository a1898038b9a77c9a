//! Graphs on threads: checkpoints after each step, interrupts and resumes,
//! state history, updates and forks, durability modes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use runwright::graph::checkpoint::{CheckpointSource, Checkpointer, InMemorySaver};
use runwright::graph::{
    create_react_agent, interrupt, AgentState, Command, Durability, Reducer, StateGraph, StreamMode, END, START,
};
use runwright::messages::{AIMessage, ToolCall};
use runwright::{tool, ErrorKind, FakeToolCallingChatModel, RunConfig, RunnableExt};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Doc {
    #[serde(default)]
    text: String,
    #[serde(default)]
    log: Vec<String>,
    #[serde(default)]
    answer: Option<Value>,
}
impl runwright::Chunk for Doc {}

fn thread(id: &str) -> RunConfig {
    RunConfig::new().configurable("thread_id", id)
}

fn saver() -> Arc<InMemorySaver> {
    Arc::new(InMemorySaver::new())
}

/// `write` then `review`; `review` asks a person.
fn review_graph(saver: Arc<dyn Checkpointer>, runs: Arc<AtomicUsize>) -> runwright::graph::CompiledGraph<Doc> {
    StateGraph::<Doc>::new()
        .reducer("log", Reducer::Append)
        .add_sync_node("write", |s: Doc| {
            Ok(json!({"text": format!("{}!", s.text), "log": ["write"]}))
        })
        .add_node("review", move |s: Doc| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move {
                let verdict: Value = interrupt(json!({"check": s.text}))?;
                Ok(json!({"answer": verdict, "log": ["review"]}))
            }
        })
        .add_edge(START, "write")
        .add_edge("write", "review")
        .add_edge("review", END)
        .checkpointer(saver)
        .compile()
        .unwrap()
}

#[tokio::test]
async fn an_interrupt_stops_the_run_and_a_resume_runs_the_node_again_with_the_value() {
    let runs = Arc::new(AtomicUsize::new(0));
    let graph = review_graph(saver(), runs.clone());
    let items: Vec<(StreamMode, Value)> = graph
        .stream_modes(
            Doc {
                text: "draft".into(),
                ..Default::default()
            },
            &[StreamMode::Updates],
            thread("t1"),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].1, json!({"write": {"text": "draft!", "log": ["write"]}}));
    let asked = &items[1].1["__interrupt__"];
    assert_eq!(asked[0]["value"], json!({"check": "draft!"}), "{items:?}");
    let id = asked[0]["id"].as_str().unwrap().to_owned();

    let state = graph.get_state(thread("t1")).await.unwrap();
    assert_eq!(state.next, ["review"]);
    assert_eq!(state.values["text"], "draft!");
    assert_eq!(state.interrupts.len(), 1);
    assert_eq!(state.interrupts[0].id, id);
    assert_eq!(state.tasks[0].name, "review");
    assert_eq!(state.tasks[0].interrupts[0].value, json!({"check": "draft!"}));
    assert_eq!(state.metadata.as_ref().unwrap().step, 1);

    let done = graph.resume(Command::resume("ok"), thread("t1")).await.unwrap();
    assert_eq!(done.answer, Some(json!("ok")));
    assert_eq!(done.log, ["write", "review"], "write did not run again");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "the interrupted node ran again from its start"
    );
    let after = graph.get_state(thread("t1")).await.unwrap();
    assert!(after.next.is_empty() && after.interrupts.is_empty());

    // Another thread is apart.
    let other = graph.get_state(thread("t2")).await.unwrap();
    assert!(other.values.is_empty() && other.metadata.is_none());
}

#[tokio::test]
async fn invoke_stops_at_the_interrupt_and_returns_the_state_so_far() {
    let graph = review_graph(saver(), Arc::default());
    let state = graph
        .invoke_with(
            Doc {
                text: "a".into(),
                ..Default::default()
            },
            thread("t"),
        )
        .await
        .unwrap();
    assert_eq!(state.text, "a!");
    assert_eq!(state.answer, None);
    // Events: the graph's run ends without an error.
    let graph = review_graph(saver(), Arc::default());
    let events: Vec<_> = graph
        .stream_events_with(Doc::default(), thread("t"), runwright::EventFilter::new())
        .try_collect()
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!((last.event(), last.name()), ("on_chain_end", "LangGraph"));
}

#[tokio::test]
async fn two_interrupts_in_one_node_are_answered_in_order_one_run_each() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let graph = StateGraph::<Doc>::new()
        .add_node("ask", move |_: Doc| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                let name: String = interrupt("name?")?;
                let age: u32 = interrupt("age?")?;
                Ok(json!({"answer": {"name": name, "age": age}}))
            }
        })
        .add_edge(START, "ask")
        .add_edge("ask", END)
        .checkpointer(saver())
        .compile()
        .unwrap();
    graph.invoke_with(Doc::default(), thread("q")).await.unwrap();
    assert_eq!(graph.get_state(thread("q")).await.unwrap().interrupts[0].value, "name?");
    graph.resume(Command::resume("Ada"), thread("q")).await.unwrap();
    let second = graph.get_state(thread("q")).await.unwrap();
    assert_eq!(second.interrupts.len(), 1);
    assert_eq!(second.interrupts[0].value, "age?");
    let done = graph.resume(Command::resume(36), thread("q")).await.unwrap();
    assert_eq!(done.answer, Some(json!({"name": "Ada", "age": 36})));
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    // A resume value of the wrong type is a clear error.
    graph.invoke_with(Doc::default(), thread("q2")).await.unwrap();
    graph.resume(Command::resume("Ada"), thread("q2")).await.unwrap();
    let err = graph.resume(Command::resume("old"), thread("q2")).await.unwrap_err();
    assert!(err.message().contains("does not fit"), "{err}");
}

#[tokio::test]
async fn a_finished_task_of_an_interrupted_step_is_not_run_again() {
    let counted = Arc::new(AtomicUsize::new(0));
    let c = counted.clone();
    let graph = StateGraph::<Doc>::new()
        .reducer("log", Reducer::Append)
        .add_node("count", move |_: Doc| {
            c.fetch_add(1, Ordering::SeqCst);
            async move { Ok(json!({"log": ["count"]})) }
        })
        .add_node("ask", |_: Doc| async move {
            let v: Value = interrupt("go?")?;
            Ok(json!({"answer": v, "log": ["ask"]}))
        })
        .add_edge(START, "count")
        .add_edge(START, "ask")
        .add_edge("count", END)
        .add_edge("ask", END)
        .checkpointer(saver())
        .compile()
        .unwrap();
    graph.invoke_with(Doc::default(), thread("p")).await.unwrap();
    let state = graph.get_state(thread("p")).await.unwrap();
    assert_eq!(state.next, ["ask"], "the finished task is not due");
    assert_eq!(
        state.values["log"],
        json!(["count"]),
        "its update shows in the live state"
    );
    let recorded = graph.get_state(state.config.run_config()).await.unwrap();
    assert_eq!(
        recorded.next,
        ["count", "ask"],
        "by id: the step as saved, in node order"
    );
    assert_eq!(recorded.values["log"], json!([]));
    let count = state.tasks.iter().find(|t| t.name == "count").unwrap();
    assert_eq!(count.result, Some(json!({"log": ["count"]})), "its writes are saved");
    let done = graph.resume(Command::resume(true), thread("p")).await.unwrap();
    assert_eq!(done.log, ["ask", "count"], "both updates folded, in task order");
    assert_eq!(counted.load(Ordering::SeqCst), 1, "the finished task did not run again");
}

#[tokio::test]
async fn several_pending_interrupts_are_resumed_by_id() {
    let graph = StateGraph::<Doc>::new()
        .reducer("log", Reducer::Append)
        .add_node("a", |_: Doc| async move {
            let v: String = interrupt("a?")?;
            Ok(json!({"log": [v]}))
        })
        .add_node("b", |_: Doc| async move {
            let v: String = interrupt("b?")?;
            Ok(json!({"log": [v]}))
        })
        .add_edge(START, "a")
        .add_edge(START, "b")
        .checkpointer(saver())
        .compile()
        .unwrap();
    graph.invoke_with(Doc::default(), thread("m")).await.unwrap();
    let pending = graph.get_state(thread("m")).await.unwrap().interrupts;
    assert_eq!(pending.len(), 2);
    let err = graph.resume(Command::resume("x"), thread("m")).await.unwrap_err();
    assert!(err.message().contains("resume them by id"), "{err}");
    assert!(err.message().contains(&pending[0].id), "{err}");
    let answers = pending
        .iter()
        .map(|i| (i.id.clone(), json!(format!("re {}", i.value.as_str().unwrap()))));
    let done = graph.resume(Command::resume_by_id(answers), thread("m")).await.unwrap();
    assert_eq!(done.log, ["re a?", "re b?"]);
}

/// Deletes a file, once a person approves.
///
/// * `path` - the file
#[tool]
async fn delete_file(path: String) -> runwright::Result<String> {
    let approved: bool = interrupt(json!({"approve": "delete_file", "path": path}))?;
    Ok(if approved {
        format!("deleted {path}")
    } else {
        "not approved".into()
    })
}

#[tokio::test]
async fn a_tool_inside_the_prebuilt_agent_asks_for_approval() {
    let model = FakeToolCallingChatModel::new([
        AIMessage::new("").with_tool_calls(vec![
            ToolCall::new("delete_file", json!({"path": "/tmp/x"})).with_id("call_1")
        ]),
        AIMessage::new("Done."),
    ]);
    let agent = create_react_agent(model, vec![Arc::new(delete_file)])
        .unwrap()
        .with_checkpointer(saver());
    let config = thread("agent");
    agent
        .invoke_with(AgentState::user("delete /tmp/x"), config.clone())
        .await
        .unwrap();
    let state = agent.get_state(config.clone()).await.unwrap();
    assert_eq!(state.next, ["tools"]);
    assert_eq!(state.interrupts[0].value["path"], "/tmp/x");
    let done = agent.resume(Command::resume(true), config).await.unwrap();
    let texts: Vec<String> = done.messages.iter().map(|m| m.text().into_owned()).collect();
    assert_eq!(texts, ["delete /tmp/x", "", "deleted /tmp/x", "Done."]);
}

#[tokio::test]
async fn a_thread_goes_on_and_keeps_its_history() {
    let graph = StateGraph::<Doc>::new()
        .reducer("log", Reducer::Append)
        .add_sync_node("one", |s: Doc| Ok(json!({"log": [format!("one:{}", s.text)]})))
        .add_sync_node("two", |_: Doc| Ok(json!({"log": ["two"]})))
        .add_edge(START, "one")
        .add_edge("one", "two")
        .add_edge("two", END)
        .checkpointer(saver())
        .durability(Durability::Sync)
        .compile()
        .unwrap();
    graph
        .invoke_with(
            Doc {
                text: "a".into(),
                ..Default::default()
            },
            thread("h"),
        )
        .await
        .unwrap();
    let second = graph
        .invoke_with(
            Doc {
                text: "b".into(),
                log: vec!["in".into()],
                ..Default::default()
            },
            thread("h"),
        )
        .await
        .unwrap();
    assert_eq!(second.log, ["one:a", "two", "in", "one:b", "two"], "the state goes on");
    let history = graph.get_state_history(thread("h")).await.unwrap();
    let shape: Vec<(CheckpointSource, i64, Vec<String>)> = history
        .iter()
        .map(|s| {
            let m = s.metadata.as_ref().unwrap();
            (m.source, m.step, s.next.clone())
        })
        .collect();
    use CheckpointSource::{Input, Loop};
    let next = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        shape,
        vec![
            (Loop, 6, next(&[])),
            (Loop, 5, next(&["two"])),
            (Loop, 4, next(&["one"])),
            (Input, 3, next(&["__start__"])),
            (Loop, 2, next(&[])),
            (Loop, 1, next(&["two"])),
            (Loop, 0, next(&["one"])),
            (Input, -1, next(&["__start__"])),
        ]
    );
    // Each checkpoint's parent is the one before.
    for pair in history.windows(2) {
        assert_eq!(pair[0].parent_config.as_ref(), Some(&pair[1].config));
    }

    // Replay from the checkpoint before `two` ran the first time: `two` runs again.
    let before_two = &history[5];
    let replayed = graph
        .resume(Command::default(), before_two.config.run_config())
        .await
        .unwrap();
    assert_eq!(replayed.log, ["one:a", "two"]);
    assert_eq!(
        graph.get_state(thread("h")).await.unwrap().values["log"],
        json!(["one:a", "two"])
    );
}

#[tokio::test]
async fn update_state_as_a_node_decides_what_runs_next_and_forks_an_old_checkpoint() {
    let runs = Arc::new(AtomicUsize::new(0));
    let graph = review_graph(saver(), runs);
    graph
        .invoke_with(
            Doc {
                text: "v1".into(),
                ..Default::default()
            },
            thread("u"),
        )
        .await
        .unwrap();
    // As if `review` had answered: nothing is due after it.
    let cfg = graph
        .update_state(
            thread("u"),
            json!({"answer": "by hand", "log": ["manual"]}),
            Some("review"),
        )
        .await
        .unwrap();
    let state = graph.get_state(cfg).await.unwrap();
    assert!(state.next.is_empty());
    assert_eq!(state.values["answer"], "by hand");
    assert_eq!(state.values["log"], json!(["write", "manual"]), "the reducer applies");
    let m = state.metadata.unwrap();
    assert_eq!((m.source, m.step), (CheckpointSource::Update, 2));
    assert!(m.extra.get("writes").is_none(), "no `writes`, as LangGraph 1.x");

    // Fork: change the text at the checkpoint before `write`, then go on.
    let history = graph.get_state_history(thread("u")).await.unwrap();
    let before_write = history.iter().find(|s| s.next == ["write"]).unwrap();
    let fork = graph
        .update_state(before_write.config.run_config(), json!({"text": "v2"}), None)
        .await
        .unwrap();
    graph.resume(Command::default(), fork).await.unwrap();
    let asked = graph.get_state(thread("u")).await.unwrap();
    assert_eq!(asked.interrupts[0].value, json!({"check": "v2!"}));

    let err = graph
        .update_state(thread("u"), json!({}), Some("nope"))
        .await
        .unwrap_err();
    assert!(err.message().contains("`nope` is not a node"), "{err}");
}

#[tokio::test]
async fn durability_exit_saves_once_at_the_end_and_sync_after_every_step() {
    let build = |saver: Arc<InMemorySaver>, d: Durability| {
        StateGraph::<Doc>::new()
            .reducer("log", Reducer::Append)
            .add_sync_node("one", |_: Doc| Ok(json!({"log": ["one"]})))
            .add_sync_node("two", |_: Doc| Ok(json!({"log": ["two"]})))
            .add_edge(START, "one")
            .add_edge("one", "two")
            .checkpointer(saver)
            .durability(d)
            .compile()
            .unwrap()
    };
    for (d, expected) in [(Durability::Exit, 1), (Durability::Sync, 4), (Durability::Async, 4)] {
        let s = saver();
        let graph = build(s.clone(), d);
        graph.invoke_with(Doc::default(), thread("d")).await.unwrap();
        let history = graph.get_state_history(thread("d")).await.unwrap();
        assert_eq!(history.len(), expected, "{d:?}");
        assert_eq!(history[0].values["log"], json!(["one", "two"]), "{d:?}");
    }
    // A run config may choose.
    let s = saver();
    let graph = build(s, Durability::Sync);
    graph
        .invoke_with(Doc::default(), thread("d").configurable("durability", "exit"))
        .await
        .unwrap();
    assert_eq!(graph.get_state_history(thread("d")).await.unwrap().len(), 1);
    let err = graph
        .invoke_with(Doc::default(), thread("e").configurable("durability", "later"))
        .await
        .unwrap_err();
    assert!(err.message().contains("durability `later`"), "{err}");
}

#[tokio::test]
async fn misuse_gets_clear_errors() {
    let graph = review_graph(saver(), Arc::default());
    let err = graph.invoke(Doc::default()).await.unwrap_err();
    assert!(err.message().contains("needs a `thread_id`"), "{err}");
    let err = graph.resume(Command::resume(1), thread("never")).await.unwrap_err();
    assert!(err.message().contains("no checkpoint to go on from"), "{err}");

    let plain = StateGraph::<Doc>::new()
        .add_node("ask", |_: Doc| async move {
            let v: Value = interrupt("?")?;
            Ok(json!({"answer": v}))
        })
        .add_edge(START, "ask")
        .compile()
        .unwrap();
    let err = plain.invoke(Doc::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    assert!(err.message().contains("compiled with a checkpointer"), "{err}");
    let err = plain.get_state(thread("x")).await.unwrap_err();
    assert!(err.message().contains("no checkpointer"), "{err}");
    let err = plain.resume(Command::resume(1), thread("x")).await.unwrap_err();
    assert!(err.message().contains("checkpointer"), "{err}");

    let err = interrupt::<Value>("outside").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(err.message().contains("outside a graph node"), "{err}");
}

#[tokio::test]
async fn tasks_and_checkpoints_modes_show_each_task_and_each_checkpoint() {
    let graph = review_graph(saver(), Arc::default());
    let items: Vec<(StreamMode, Value)> = graph
        .stream_modes(
            Doc {
                text: "x".into(),
                ..Default::default()
            },
            &[StreamMode::Tasks, StreamMode::Checkpoints],
            thread("tc"),
        )
        .try_collect()
        .await
        .unwrap();
    let kinds: Vec<String> = items
        .iter()
        .map(|(m, p)| match m {
            StreamMode::Checkpoints => format!("checkpoint {} next={}", p["metadata"]["step"], p["next"]),
            _ if p.get("input").is_some() => format!("start {}", p["name"].as_str().unwrap()),
            _ => format!(
                "end {} interrupts={}",
                p["name"].as_str().unwrap(),
                p["interrupts"].as_array().unwrap().len()
            ),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "checkpoint -1 next=[\"__start__\"]",
            "checkpoint 0 next=[\"write\"]",
            "start write",
            "end write interrupts=0",
            "checkpoint 1 next=[\"review\"]",
            "start review",
            "end review interrupts=1",
        ]
    );
    let (_, cp) = &items[4];
    assert_eq!(cp["values"]["text"], "x!");
    assert_eq!(cp["parent_config"]["configurable"]["thread_id"], "tc");
    assert_eq!(cp["tasks"][0]["name"], "review");
    let state = graph.get_state(thread("tc")).await.unwrap();
    assert_eq!(cp["config"], state.config.to_json());
    assert_eq!(
        cp["tasks"][0]["id"],
        state.tasks[0].id.as_str(),
        "the task's id is the one the step runs with"
    );
    assert_eq!(items[5].1["id"], state.tasks[0].id.as_str());

    // `debug` wraps both.
    let graph = review_graph(saver(), Arc::default());
    let debug: Vec<Value> = graph
        .stream_modes(Doc::default(), &[StreamMode::Debug], thread("tc"))
        .map_ok(|(_, p)| p)
        .try_collect()
        .await
        .unwrap();
    let types: Vec<&str> = debug.iter().map(|d| d["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "checkpoint",
            "checkpoint",
            "task",
            "task_result",
            "checkpoint",
            "task",
            "task_result"
        ]
    );
    assert_eq!(debug[2]["step"], 1);
}

#[tokio::test]
async fn static_breakpoints_stop_before_and_after_a_node_and_a_command_goes_on() {
    let build = |before: bool| {
        let g = StateGraph::<Doc>::new()
            .reducer("log", Reducer::Append)
            .add_sync_node("one", |_: Doc| Ok(json!({"log": ["one"]})))
            .add_sync_node("two", |_: Doc| Ok(json!({"log": ["two"]})))
            .add_edge(START, "one")
            .add_edge("one", "two")
            .add_edge("two", END)
            .checkpointer(saver());
        let g = if before {
            g.interrupt_before(&["two"])
        } else {
            g.interrupt_after(&["one"])
        };
        g.compile().unwrap()
    };
    for before in [true, false] {
        let graph = build(before);
        let items: Vec<(StreamMode, Value)> = graph
            .stream_modes(Doc::default(), &[StreamMode::Updates], thread("b"))
            .try_collect()
            .await
            .unwrap();
        let updates: Vec<&Value> = items.iter().map(|(_, v)| v).collect();
        assert_eq!(
            updates,
            [&json!({"one": {"log": ["one"]}}), &json!({"__interrupt__": []})],
            "before: {before}"
        );
        let state = graph.get_state(thread("b")).await.unwrap();
        assert_eq!(state.next, ["two"]);
        assert!(state.interrupts.is_empty(), "a breakpoint asks nothing");
        let done = graph.resume(Command::default(), thread("b")).await.unwrap();
        assert_eq!(done.log, ["one", "two"], "before: {before}");
    }
    let unknown = StateGraph::<Doc>::new()
        .add_sync_node("one", |_: Doc| Ok(json!({})))
        .add_edge(START, "one")
        .interrupt_before(&["nope"])
        .compile()
        .unwrap_err();
    assert!(
        unknown.message().contains("breakpoint `nope` is not a node"),
        "{unknown}"
    );
}
