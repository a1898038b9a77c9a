//! Workload 6 of the LangChain baseline (bench/README.md): many concurrent
//! `stream_events` sessions of Chain(100), 308 events each.
//!
//! Not a criterion bench: it measures one process's wall time and memory,
//! like the Python baseline's `--concurrency-child`. Run it with
//! `cargo bench --bench concurrency` (or through `bench/compare`); it prints
//! one JSON object on stdout.
//!
//! How it runs:
//!
//! * The parent process starts a fresh child process (this same binary) for
//!   each measurement, so that each peak RSS (`VmHWM` from
//!   `/proc/self/status`) covers only the binary and that one workload.
//! * In the child: a **current-thread** tokio runtime (Python's single event
//!   loop), one `Arc<Chain(100)>`, one warm-up session, then `baseline_rss_mb`
//!   (`VmHWM`), then the sessions. Each session is a **tokio task**
//!   (`tokio::spawn`, as `asyncio.gather` wraps each coroutine in a Task)
//!   that drains `chain.stream_events(input)` and counts its events; the
//!   round's wall time runs from before the first spawn until the last
//!   task is joined.
//! * Each session yields to the scheduler (`tokio::task::yield_now`) after
//!   every event it receives. The fake model never waits, and a runwright
//!   event stream is driven inside the consumer's poll, so without the
//!   yield each task would run its whole session in a single poll: the
//!   sessions would run one after another and never be in memory together.
//!   With it, all sessions are in flight at once (`max_in_flight` reports
//!   it), as they are in Python (where thread hops interleave them) and as
//!   they would be with a real model waiting on the network.
//! * The main figure is the best of 3 rounds (Python runs its 1,000-session
//!   round once because each takes ~45 s; ours take well under a second,
//!   where a single round would be mostly noise). `at_100_sessions` is the
//!   same with 100 sessions, best of 3, in its own process.
//! * `variants` repeats the main measurement without the yield
//!   (`no_yield`: sessions run back to back) and on a 2-worker multi-thread
//!   runtime (`multi_thread`), each in its own process, for reference.
//!
//! Options (all optional; unknown arguments such as cargo's `--bench` are
//! ignored): `--sessions N` (1000), `--small N` (100), `--chunks N` (100),
//! `--rounds N` (3), `--also N,M,...` (more session counts to measure, each
//! in its own process, reported under `at_<N>_sessions`), `--no-variants`.

mod fixtures;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use runwright::RunnableExt;
use serde_json::{json, Value};

use fixtures::{chain, input};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Flavor {
    fn as_str(self) -> &'static str {
        match self {
            Flavor::CurrentThread => "current_thread",
            Flavor::MultiThread => "multi_thread",
        }
    }

    fn parse(s: &str) -> Flavor {
        match s {
            "current_thread" => Flavor::CurrentThread,
            "multi_thread" => Flavor::MultiThread,
            other => panic!("unknown runtime flavor {other:?}"),
        }
    }
}

/// One measurement, run in a child process.
#[derive(Clone, Copy, Debug)]
struct ChildSpec {
    sessions: usize,
    chunks: usize,
    rounds: usize,
    yield_each_event: bool,
    flavor: Flavor,
}

/// A value of `/proc/self/status` (in kB) as MiB, like Python's
/// `ru_maxrss / 1024`.
fn proc_status_mb(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix(key) {
            let kb: f64 = rest
                .trim_start_matches(':')
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .expect("a number of kB");
            return kb / 1024.0;
        }
    }
    panic!("{key} not found in /proc/self/status");
}

fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn run_child(spec: ChildSpec) -> Value {
    let rt = match spec.flavor {
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    }
    .expect("tokio runtime");
    let chain = Arc::new(chain(spec.chunks));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));

    let session = {
        let chain = chain.clone();
        let in_flight = in_flight.clone();
        let max_in_flight = max_in_flight.clone();
        move || {
            let chain = chain.clone();
            let in_flight = in_flight.clone();
            let max_in_flight = max_in_flight.clone();
            async move {
                let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                max_in_flight.fetch_max(now, Ordering::Relaxed);
                let mut events = chain.stream_events(input());
                let mut n = 0usize;
                while let Some(ev) = events.next().await {
                    ev.expect("event");
                    n += 1;
                    if spec.yield_each_event {
                        tokio::task::yield_now().await;
                    }
                }
                in_flight.fetch_sub(1, Ordering::Relaxed);
                n
            }
        }
    };

    let expected = 3 * spec.chunks + 8;
    let (baseline, walls) = rt.block_on(async {
        assert_eq!(tokio::spawn(session()).await.expect("warm-up session"), expected);
        max_in_flight.store(0, Ordering::Relaxed);
        let baseline = proc_status_mb("VmHWM");
        let mut walls = Vec::with_capacity(spec.rounds);
        for _ in 0..spec.rounds {
            let start = Instant::now();
            let handles: Vec<_> = (0..spec.sessions).map(|_| tokio::spawn(session())).collect();
            let mut total = 0;
            for h in handles {
                let n = h.await.expect("session task");
                assert_eq!(n, expected, "events in one session");
                total += n;
            }
            walls.push(start.elapsed().as_secs_f64());
            assert_eq!(total, expected * spec.sessions);
        }
        (baseline, walls)
    });
    let best = walls.iter().copied().fold(f64::INFINITY, f64::min);
    let total = expected * spec.sessions;
    json!({
        "sessions": spec.sessions,
        "chunks_per_session": spec.chunks,
        "events_per_session": expected,
        "events_total": total,
        "wall_s": round_to(best, 6),
        "events_per_s": round_to(total as f64 / best, 1),
        "baseline_rss_mb": round_to(baseline, 2),
        "peak_rss_mb": round_to(proc_status_mb("VmHWM"), 2),
        "max_in_flight": max_in_flight.load(Ordering::Relaxed),
        "rounds": spec.rounds,
        "runtime": spec.flavor.as_str(),
        "yield_each_event": spec.yield_each_event,
        "_all_wall_s": walls.iter().map(|w| round_to(*w, 6)).collect::<Vec<_>>(),
    })
}

/// Runs one measurement in a fresh process of this binary.
fn spawn_child(spec: ChildSpec) -> Value {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .arg("--child")
        .args([
            spec.sessions.to_string(),
            spec.chunks.to_string(),
            spec.rounds.to_string(),
            (spec.yield_each_event as u8).to_string(),
            spec.flavor.as_str().to_string(),
        ])
        .output()
        .expect("start the child process");
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        panic!("child {spec:?} failed: {}", out.status);
    }
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let last = stdout.lines().last().expect("child printed nothing");
    serde_json::from_str(last).expect("child JSON")
}

fn small_summary(v: &Value) -> Value {
    let keys = [
        "sessions",
        "wall_s",
        "events_per_s",
        "peak_rss_mb",
        "max_in_flight",
        "_all_wall_s",
    ];
    Value::Object(keys.iter().map(|k| (k.to_string(), v[*k].clone())).collect())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let p = &args[i + 1..];
        let spec = ChildSpec {
            sessions: p[0].parse().expect("sessions"),
            chunks: p[1].parse().expect("chunks"),
            rounds: p[2].parse().expect("rounds"),
            yield_each_event: p[3] == "1",
            flavor: Flavor::parse(&p[4]),
        };
        println!("{}", run_child(spec));
        return;
    }

    let mut sessions = 1000;
    let mut small = 100;
    let mut chunks = 100;
    let mut rounds = 3;
    let mut also: Vec<usize> = Vec::new();
    let mut variants = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |what: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{what} needs a number"))
        };
        match a.as_str() {
            "--sessions" => sessions = num("--sessions"),
            "--small" => small = num("--small"),
            "--chunks" => chunks = num("--chunks"),
            "--rounds" => rounds = num("--rounds"),
            "--also" => {
                let list = it.next().expect("--also needs a list");
                also = list
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().expect("a number"))
                    .collect();
            }
            "--no-variants" => variants = false,
            _ => {} // cargo bench passes --bench; criterion-style filters do not apply
        }
    }

    let spec = ChildSpec {
        sessions,
        chunks,
        rounds,
        yield_each_event: true,
        flavor: Flavor::CurrentThread,
    };
    let mut res = spawn_child(spec);
    let obj = res.as_object_mut().expect("an object");
    obj.insert(
        "sessions_as".into(),
        "tokio::spawn tasks on a current-thread runtime, each yielding after every event".into(),
    );
    let s = spawn_child(ChildSpec {
        sessions: small,
        ..spec
    });
    obj.insert(format!("at_{small}_sessions"), small_summary(&s));
    for n in also {
        let s = spawn_child(ChildSpec { sessions: n, ..spec });
        obj.insert(format!("at_{n}_sessions"), small_summary(&s));
    }
    if variants {
        let no_yield = spawn_child(ChildSpec {
            yield_each_event: false,
            ..spec
        });
        let multi = spawn_child(ChildSpec {
            flavor: Flavor::MultiThread,
            ..spec
        });
        obj.insert(
            "variants".into(),
            json!({ "no_yield": small_summary(&no_yield), "multi_thread": small_summary(&multi) }),
        );
    }
    println!("{res}");
}
