//! Durable threads across processes: a run killed with SIGKILL in the
//! middle of a step resumes from its last checkpoint, with no state lost
//! and no finished task of the step run again (SQLite, and PostgreSQL when
//! `DATABASE_URL` is set); four processes sharing one PostgreSQL lose and
//! duplicate no step; the approval example across two processes.
//!
//! The child processes are this test binary again, run with
//! `RUNWRIGHT_DURABLE_ROLE` set (see [`child`]).

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use runwright::graph::checkpoint::{Checkpointer, SqliteSaver};
use runwright::graph::{Command, CompiledGraph, Durability, Reducer, StateGraph, END, START};
use runwright::{RunConfig, RunnableExt};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Work {
    #[serde(default)]
    n: i64,
    #[serde(default)]
    log: Vec<String>,
}
impl runwright::Chunk for Work {}

const ROLE: &str = "RUNWRIGHT_DURABLE_ROLE";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("runwright-durable-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Appends a line to `file` (what ran, seen from outside the graph).
fn note(file: &Path, line: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    writeln!(f, "{line}").unwrap();
    f.sync_all().unwrap();
}

/// `prep`, then `fast` and `slow` in one step; `slow` hangs when told to
/// (the process is then killed in the middle of that step).
fn crash_graph(saver: Arc<dyn Checkpointer>, dir: PathBuf, hang: bool) -> CompiledGraph<Work> {
    let (d1, d2, d3) = (dir.clone(), dir.clone(), dir);
    StateGraph::<Work>::new()
        .reducer("log", Reducer::Append)
        .add_node("prep", move |s: Work| {
            note(&d1.join("ran"), "prep");
            async move { Ok(json!({"n": s.n + 1, "log": ["prep"]})) }
        })
        .add_node("fast", move |_: Work| {
            note(&d2.join("ran"), "fast");
            async move { Ok(json!({"log": ["fast"]})) }
        })
        .add_node("slow", move |_: Work| {
            note(&d3.join("ran"), "slow");
            let dir = d3.clone();
            async move {
                if hang {
                    note(&dir.join("slow-started"), "started");
                    std::future::pending::<()>().await;
                }
                Ok(json!({"log": ["slow"]}))
            }
        })
        .add_edge(START, "prep")
        .add_edge("prep", "fast")
        .add_edge("prep", "slow")
        .add_edge("fast", END)
        .add_edge("slow", END)
        .checkpointer(saver)
        .durability(Durability::Sync)
        .compile()
        .unwrap()
}

async fn open_saver(backend: &str, target: &str) -> Arc<dyn Checkpointer> {
    match backend {
        "sqlite" => Arc::new(SqliteSaver::open(target).await.unwrap()),
        "postgres" => Arc::new(
            runwright::graph::checkpoint::PostgresSaver::connect(target)
                .await
                .unwrap(),
        ),
        other => panic!("unknown backend {other}"),
    }
}

/// What a child process does, by its role: `crash BACKEND TARGET DIR THREAD`
/// starts the crash graph and hangs in its second step;
/// `resume BACKEND TARGET DIR THREAD` goes on from the saved thread;
/// `steps BACKEND TARGET FIRST LAST` runs threads FIRST..LAST of 20 steps.
#[tokio::test]
async fn child() {
    let Ok(role) = std::env::var(ROLE) else { return };
    let args: Vec<String> = role.split(' ').map(str::to_owned).collect();
    let saver = open_saver(&args[1], &args[2]).await;
    match args[0].as_str() {
        "crash" | "resume" => {
            let dir = PathBuf::from(&args[3]);
            let thread = RunConfig::new().configurable("thread_id", args[4].clone());
            let graph = crash_graph(saver, dir.clone(), args[0] == "crash");
            let out = if args[0] == "crash" {
                graph.invoke_with(Work::default(), thread).await.unwrap()
            } else {
                graph.resume(Command::default(), thread).await.unwrap()
            };
            note(&dir.join("result"), &serde_json::to_string(&out).unwrap());
        }
        "steps" => {
            let (first, last): (usize, usize) = (args[3].parse().unwrap(), args[4].parse().unwrap());
            let graph = StateGraph::<Work>::new()
                .reducer("log", Reducer::Append)
                .add_sync_node("step", |s: Work| {
                    Ok(json!({"n": s.n + 1, "log": [format!("step{}", s.n + 1)]}))
                })
                .add_edge(START, "step")
                .add_conditional_edges("step", |s: &Work| if s.n < 20 { "step" } else { END })
                .checkpointer(saver)
                .durability(Durability::Sync)
                .compile()
                .unwrap();
            let prefix = args[5].clone();
            let runs = (first..last).map(|t| {
                let graph = graph.clone();
                let thread_id = format!("{prefix}-{t}");
                async move {
                    let config = RunConfig::new()
                        .configurable("thread_id", thread_id)
                        .recursion_limit(50);
                    graph.invoke_with(Work::default(), config).await.unwrap()
                }
            });
            for out in futures::future::join_all(runs).await {
                assert_eq!(out.n, 20);
            }
        }
        other => panic!("unknown role {other}"),
    }
}

/// The PostgreSQL the tests use; none (the test skips) without
/// `DATABASE_URL`, unless `RUNWRIGHT_REQUIRE_POSTGRES` makes that a failure.
fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("RUNWRIGHT_REQUIRE_POSTGRES").is_some() => {
            panic!("RUNWRIGHT_REQUIRE_POSTGRES is set but DATABASE_URL is not (scripts/postgres/setup.sh prints it)")
        }
        Err(_) => {
            eprintln!("skipping: set DATABASE_URL=postgres://... (scripts/postgres/setup.sh starts a local server)");
            None
        }
    }
}

fn spawn_child(role: &str) -> std::process::Child {
    Process::new(std::env::current_exe().unwrap())
        .args(["--exact", "graph_durability::child", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn wait_for(path: &Path, what: &str) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills a child in the middle of the fan-out step once `fast` has saved
/// its writes, restarts it, and checks the thread.
async fn crash_and_resume(backend: &str, target: &str, dir: PathBuf) {
    let thread_id = format!("crash-{}", std::process::id());
    let role = |what: &str| format!("{what} {backend} {target} {} {thread_id}", dir.display());
    let mut child = spawn_child(&role("crash"));
    wait_for(&dir.join("slow-started"), "the slow node to start");
    // Wait until `fast`'s writes are saved (its task finished in the step).
    let saver = open_saver(backend, target).await;
    let graph = crash_graph(saver, dir.clone(), false);
    let thread = RunConfig::new().configurable("thread_id", thread_id.clone());
    let start = Instant::now();
    loop {
        let state = graph.get_state(thread.clone()).await.unwrap();
        if state.tasks.iter().any(|t| t.name == "fast" && t.result.is_some()) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "fast's writes never saved: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SIGKILL: no destructor, no flush.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.join("result").exists(), "the child was killed before it finished");

    let state = graph.get_state(thread.clone()).await.unwrap();
    assert_eq!(state.values["n"], 1, "prep's step is saved: {state:?}");
    assert_eq!(state.next, ["slow"], "only the unfinished task is due");

    let mut again = spawn_child(&role("resume"));
    assert!(again.wait().unwrap().success());
    let result: Work = serde_json::from_str(std::fs::read_to_string(dir.join("result")).unwrap().trim()).unwrap();
    assert_eq!(result.n, 1);
    assert_eq!(result.log, ["prep", "fast", "slow"], "no state lost, each update once");
    let ran = std::fs::read_to_string(dir.join("ran")).unwrap();
    let ran: Vec<&str> = ran.lines().collect();
    assert_eq!(
        ran.iter().filter(|l| **l == "fast").count(),
        1,
        "fast did not run again: {ran:?}"
    );
    assert_eq!(
        ran.iter().filter(|l| **l == "prep").count(),
        1,
        "prep did not run again: {ran:?}"
    );
    assert_eq!(
        ran.iter().filter(|l| **l == "slow").count(),
        2,
        "slow ran again: {ran:?}"
    );
    let history = graph.get_state_history(thread).await.unwrap();
    let steps: Vec<i64> = history.iter().map(|s| s.metadata.as_ref().unwrap().step).collect();
    assert_eq!(steps, [2, 1, 0, -1], "every checkpoint is there once");
}

#[tokio::test]
async fn a_run_killed_mid_step_resumes_on_sqlite_without_rerunning_finished_tasks() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let dir = scratch("sqlite");
    let db = dir.join("threads.db");
    crash_and_resume("sqlite", db.to_str().unwrap(), dir.clone()).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_run_killed_mid_step_resumes_on_postgres_without_rerunning_finished_tasks() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let Some(url) = database_url() else { return };
    let dir = scratch("postgres");
    crash_and_resume("postgres", &url, dir.clone()).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn four_processes_on_one_postgres_lose_and_duplicate_no_step() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let Some(url) = database_url() else { return };
    let prefix = format!("contention-{}", std::process::id());
    let children: Vec<_> = (0..4)
        .map(|k| spawn_child(&format!("steps postgres {url} {} {} {prefix}", k * 25, (k + 1) * 25)))
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let saver: Arc<dyn Checkpointer> = open_saver("postgres", &url).await;
    for t in 0..100 {
        let config = runwright::graph::checkpoint::CheckpointConfig::thread(format!("{prefix}-{t}"));
        let history = saver.list(&config, &Default::default()).await.unwrap();
        let steps: Vec<i64> = history.iter().map(|h| h.metadata.step).collect();
        let expected: Vec<i64> = (-1..=20).rev().collect();
        assert_eq!(steps, expected, "thread {t}: one checkpoint per step, none lost");
        let last = &history[0].checkpoint.channel_values;
        assert_eq!(last["n"], 20);
        let log: Vec<String> = (1..=20).map(|i| format!("step{i}")).collect();
        assert_eq!(last["log"], json!(log), "thread {t}: each step's update once");
    }
    saver.delete_thread("unused").await.unwrap();
}

#[test]
fn the_approval_example_stops_in_one_process_and_finishes_in_another() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let dir = scratch("approval");
    let db = dir.join("approval.db");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let run = |what: &str| {
        let out = Process::new(&cargo)
            .args(["run", "-q", "--example", "approval", "--", what])
            .arg(&db)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let asked = run("ask");
    assert_eq!(asked.trim(), "waiting for approval: delete /tmp/old.log?");
    let done = run("yes");
    assert!(done.contains("ToolMessage: deleted /tmp/old.log"), "{done}");
    assert!(
        done.trim_end()
            .ends_with("AIMessage: Done: the tool said what happened."),
        "{done}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_time_travel_example_replays_and_forks_from_its_recording_alone() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Process::new(&cargo)
        .args(["run", "-q", "--example", "time_travel"])
        .env("RUNWRIGHT_RECORD", "none")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("-- replayed from step 1: It is sunny in Paris."),
        "{stdout}"
    );
    assert!(stdout.contains("-- forked to Rome: Rome is rainy today."), "{stdout}");
    assert!(
        stdout.contains("calls that really ran: 0 to the model, 0 to the tool"),
        "{stdout}"
    );
}
