//! Shared helpers of the runtime acceptance tests: event logs, the trace
//! normalizer of the reference README (runwright-recorder's), and small test
//! runnables.

use std::borrow::Cow;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::{Stream, StreamExt, TryStreamExt};
use runwright::{Chunk, ChunkStream, Error, EventPhase, EventStream, Generator, RunType, Runnable, StreamEvent};
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

// ---------------------------------------------------------------------------
// Collecting streams

/// Everything an event stream yielded: the events, the error item if any, and
/// how many items came after that error (must be none: the stream ends).
pub struct Outcome {
    pub events: Vec<StreamEvent>,
    pub error: Option<Error>,
    pub items_after_error: usize,
}

pub async fn drain(mut stream: EventStream<'_>) -> Outcome {
    let mut out = Outcome {
        events: Vec::new(),
        error: None,
        items_after_error: 0,
    };
    while let Some(item) = stream.next().await {
        match (item, out.error.is_some()) {
            (_, true) => out.items_after_error += 1,
            (Ok(ev), false) => out.events.push(ev),
            (Err(e), false) => out.error = Some(e),
        }
    }
    out
}

/// Collects an event stream that must succeed.
pub async fn events_of(stream: EventStream<'_>) -> Vec<StreamEvent> {
    let out = drain(stream).await;
    if let Some(e) = out.error {
        panic!("event stream failed: {e}");
    }
    out.events
}

// ---------------------------------------------------------------------------
// Ordered event logs

/// `"on_chain_start:name"` per event.
pub fn names(events: &[StreamEvent]) -> Vec<String> {
    events.iter().map(|e| format!("{}:{}", e.event(), e.name())).collect()
}

/// Run ids as small integers, in order of first appearance (parent ids
/// first, then the run id, as the README's normalization does).
#[derive(Default)]
pub struct RunIds(HashMap<String, usize>);

impl RunIds {
    pub fn id(&mut self, uuid: impl ToString) -> usize {
        let n = self.0.len();
        *self.0.entry(uuid.to_string()).or_insert(n)
    }
}

/// One line per event: `on_chain_start:name #run parents=[..] tags=[..]`.
pub fn tree(events: &[StreamEvent]) -> Vec<String> {
    let mut ids = RunIds::default();
    events
        .iter()
        .map(|e| {
            let parents: Vec<usize> = e.parent_ids().iter().map(|p| ids.id(p)).collect();
            let run = ids.id(e.run_id());
            format!(
                "{}:{} #{run} parents={parents:?} tags={:?}",
                e.event(),
                e.name(),
                e.tags().to_vec()
            )
        })
        .collect()
}

/// One line per started run: its name, tags and its parents' names, root
/// first, in start order.
pub fn lineage(events: &[StreamEvent]) -> Vec<String> {
    let mut name_of: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for e in events.iter().filter(|e| e.phase == EventPhase::Start) {
        name_of.insert(e.run_id().to_string(), e.name().to_string());
        let parents: Vec<String> = e
            .parent_ids()
            .iter()
            .map(|p| name_of.get(&p.to_string()).cloned().unwrap_or_else(|| "?".into()))
            .collect();
        out.push(format!("{} {:?} under {parents:?}", e.name(), e.tags().to_vec()));
    }
    out
}

/// A [`tree`] line without its run number.
pub fn without_run(line: &str) -> String {
    match (line.find(" #"), line.find(" parents=")) {
        (Some(a), Some(b)) => format!("{}{}", &line[..a], &line[b..]),
        _ => line.to_string(),
    }
}

/// The single event of `name` in `phase`.
pub fn one<'a>(events: &'a [StreamEvent], name: &str, phase: EventPhase) -> &'a StreamEvent {
    let found: Vec<_> = events.iter().filter(|e| e.name() == name && e.phase == phase).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {phase:?} event of {name}, got {}",
        found.len()
    );
    found[0]
}

/// An event's `data` as JSON.
pub fn data(ev: &StreamEvent) -> Json {
    ev.to_json()["data"].clone()
}

pub fn chunks_of(events: &[StreamEvent], name: &str) -> Vec<Json> {
    events
        .iter()
        .filter(|e| e.name() == name && e.phase == EventPhase::Stream)
        .map(|e| e.data.chunk.as_ref().expect("stream event without chunk").to_json())
        .collect()
}

// ---------------------------------------------------------------------------
// The README's normalization, and the reference traces

/// The recorded LangChain traces, kept in the repository beside the
/// conformance runner that replays them.
pub fn reference_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/reference")
}

/// The `value`s of the records of `kind` of one case of a reference file.
pub fn reference(file: &str, case: &str, kind: &str) -> Vec<Json> {
    let path = reference_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let found: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("reference line is JSON"))
        .filter(|r| r["case"] == case && r["kind"] == kind)
        .map(|r| r["value"].clone())
        .collect();
    assert!(!found.is_empty(), "no {kind} records for case {case} in {file}");
    found
}

/// The README's normalization (runwright-recorder's, the one
/// implementation), with `lc_versions` present but value-free
/// (`versions_free`, the recorder's too), since it is version-specific
/// (README, Normalization 4). One normalizer per case.
#[derive(Default)]
pub struct Normalizer(runwright_recorder::normalize::Labels);

impl Normalizer {
    fn record(&mut self, kind: &str, v: &Json) -> Json {
        let mut v = v.clone();
        runwright_recorder::normalize::normalize_record(&mut self.0, kind, &mut v);
        runwright_recorder::normalize::versions_free(&mut v);
        v
    }

    /// One `astream_events` event.
    pub fn event(&mut self, ev: &Json) -> Json {
        self.record("event", ev)
    }

    /// A `stream_log` patch's ops or state: exact-UUID `id` values are runs.
    pub fn log(&mut self, v: &Json) -> Json {
        self.record("log", v)
    }
}

/// Serializes and normalizes the events of one run (one case).
pub fn normalized(events: &[StreamEvent]) -> Vec<String> {
    let mut n = Normalizer::default();
    events
        .iter()
        .map(|e| n.event(&serde_json::to_value(e).expect("event serializes")).to_string())
        .collect()
}

/// The reference events of a case, as strings (key order matters), put
/// through the same normalizer (already normalized, except `lc_versions`).
pub fn reference_events(file: &str, case: &str) -> Vec<String> {
    let mut n = Normalizer::default();
    reference(file, case, "event")
        .iter()
        .map(|e| n.event(e).to_string())
        .collect()
}

/// Asserts two event lists are equal line by line, with a readable diff.
pub fn assert_same_events(actual: &[String], expected: &[String]) {
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(a, e, "event {i} differs\n  actual:   {a}\n  expected: {e}");
    }
    assert_eq!(
        actual.len(),
        expected.len(),
        "different event counts\nactual:\n{}\nexpected:\n{}",
        actual.join("\n"),
        expected.join("\n")
    );
}

/// The keys of a JSON object, in order.
pub fn keys(v: &Json) -> Vec<String> {
    v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// A counting stream source

/// What a [`CountingSource`] observed.
#[derive(Default)]
pub struct Probe {
    polls: AtomicUsize,
    produced: AtomicUsize,
    consumed: AtomicUsize,
    max_ahead: AtomicUsize,
    dropped: AtomicBool,
}

impl Probe {
    /// How often the source stream was polled.
    pub fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }
    /// How many chunks it produced.
    pub fn produced(&self) -> usize {
        self.produced.load(Ordering::SeqCst)
    }
    /// Whether its stream was dropped.
    pub fn dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }
    /// The consumer took one item.
    pub fn consume(&self) {
        self.consumed.fetch_add(1, Ordering::SeqCst);
    }
    /// The most chunks produced beyond what the consumer had taken.
    pub fn max_ahead(&self) -> usize {
        self.max_ahead.load(Ordering::SeqCst)
    }
}

/// A streaming source: yields `make(0)`, `make(1)`, ... (`limit` chunks, or
/// forever), records each poll, each chunk produced, and its drop.
pub struct CountingSource<T> {
    name: &'static str,
    pub probe: Arc<Probe>,
    limit: Option<usize>,
    make: fn(usize) -> T,
}

impl<T> CountingSource<T> {
    pub fn new(name: &'static str, limit: Option<usize>, make: fn(usize) -> T) -> Self {
        CountingSource {
            name,
            probe: Arc::new(Probe::default()),
            limit,
            make,
        }
    }
}

fn letter(i: usize) -> String {
    char::from(b'a' + (i % 26) as u8).to_string()
}

/// `a`, `b`, `c`, ... as chunks.
pub fn letters(name: &'static str, n: usize) -> CountingSource<String> {
    CountingSource::new(name, Some(n), letter)
}

/// An endless source of letters.
pub fn endless(name: &'static str) -> CountingSource<String> {
    CountingSource::new(name, None, letter)
}

struct SourceStream<T> {
    probe: Arc<Probe>,
    next: usize,
    limit: Option<usize>,
    make: fn(usize) -> T,
}

impl<T> Stream for SourceStream<T> {
    type Item = runwright::Result<T>;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let p = &self.probe;
        p.polls.fetch_add(1, Ordering::SeqCst);
        if self.limit.is_some_and(|l| self.next >= l) {
            return Poll::Ready(None);
        }
        let produced = p.produced.fetch_add(1, Ordering::SeqCst) + 1;
        let ahead = produced.saturating_sub(p.consumed.load(Ordering::SeqCst));
        p.max_ahead.fetch_max(ahead, Ordering::SeqCst);
        let i = self.next;
        self.next += 1;
        Poll::Ready(Some(Ok((self.make)(i))))
    }
}

impl<T> Drop for SourceStream<T> {
    fn drop(&mut self) {
        self.probe.dropped.store(true, Ordering::SeqCst);
    }
}

impl<T: runwright::Data> Runnable for CountingSource<T> {
    type Input = String;
    type Output = T;

    fn name(&self) -> Cow<'_, str> {
        self.name.into()
    }

    fn invoke_body<'a>(&'a self, input: String) -> BoxFuture<'a, runwright::Result<T>> {
        let s = self.stream_body(input);
        Box::pin(async move {
            let all: Vec<T> = s.try_collect().await?;
            let mut it = all.into_iter();
            let mut acc = it.next().ok_or_else(|| Error::msg("empty source"))?;
            for c in it {
                acc.concat(c);
            }
            Ok(acc)
        })
    }

    fn stream_body<'a>(&'a self, _input: String) -> ChunkStream<'a, T> {
        Box::pin(SourceStream {
            probe: self.probe.clone(),
            next: 0,
            limit: self.limit,
            make: self.make,
        })
    }
}

// ---------------------------------------------------------------------------
// Small transforms and functions

/// Upper-cases each chunk as it passes (a generator: streams through).
pub fn upper_case<'a>(input: ChunkStream<'a, String>) -> ChunkStream<'a, String> {
    Box::pin(input.map_ok(|s| s.to_uppercase()))
}

/// The upper-casing transform, named `upper`.
pub fn upper() -> Generator<String, String> {
    Generator::new(upper_case).named("upper")
}

pub fn exclaim(s: String) -> runwright::Result<String> {
    Ok(format!("{s}!"))
}

pub async fn bracket(s: String) -> runwright::Result<String> {
    tokio::task::yield_now().await;
    Ok(format!("[{s}]"))
}

/// A blocking fn: sleeps on its (blocking-pool) thread.
pub fn slow_len(s: String) -> runwright::Result<usize> {
    std::thread::sleep(std::time::Duration::from_millis(1));
    Ok(s.len())
}

pub fn reverse_word(s: String) -> runwright::Result<String> {
    Ok(s.chars().rev().collect())
}

// ---------------------------------------------------------------------------
// A value that counts its clones and serializations

#[derive(Default)]
pub struct Tally {
    clones: AtomicUsize,
    serializations: AtomicUsize,
}

impl Tally {
    pub fn clones(&self) -> usize {
        self.clones.load(Ordering::SeqCst)
    }
    pub fn serializations(&self) -> usize {
        self.serializations.load(Ordering::SeqCst)
    }
}

pub struct Counted {
    pub n: i64,
    tally: Arc<Tally>,
}

impl Counted {
    pub fn new(n: i64, tally: &Arc<Tally>) -> Self {
        Counted {
            n,
            tally: tally.clone(),
        }
    }
    pub fn map(self, f: impl FnOnce(i64) -> i64) -> Self {
        Counted {
            n: f(self.n),
            tally: self.tally,
        }
    }
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.tally.clones.fetch_add(1, Ordering::SeqCst);
        Counted {
            n: self.n,
            tally: self.tally.clone(),
        }
    }
}

impl Serialize for Counted {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.tally.serializations.fetch_add(1, Ordering::SeqCst);
        self.n.serialize(s)
    }
}

impl Chunk for Counted {
    fn concat(&mut self, next: Self) {
        self.n += next.n;
    }
}

// ---------------------------------------------------------------------------
// Test runnables of run kinds without a built-in runnable yet

/// A tool (run type tool) around a function of a JSON input.
pub struct FakeTool {
    name: &'static str,
    f: fn(Json) -> BoxFuture<'static, runwright::Result<Json>>,
}

impl FakeTool {
    pub fn new(name: &'static str, f: fn(Json) -> BoxFuture<'static, runwright::Result<Json>>) -> Self {
        FakeTool { name, f }
    }
}

impl Runnable for FakeTool {
    type Input = Json;
    type Output = Json;

    fn name(&self) -> Cow<'_, str> {
        self.name.into()
    }

    fn run_type(&self) -> RunType {
        RunType::Tool
    }

    fn invoke_body<'a>(&'a self, input: Json) -> BoxFuture<'a, runwright::Result<Json>> {
        (self.f)(input)
    }
}

/// A parser (run type parser) that passes text chunks on as they come.
pub struct EchoParser;

impl Runnable for EchoParser {
    type Input = String;
    type Output = String;

    fn name(&self) -> Cow<'_, str> {
        "EchoParser".into()
    }

    fn run_type(&self) -> RunType {
        RunType::Parser
    }

    fn invoke_body<'a>(&'a self, input: String) -> BoxFuture<'a, runwright::Result<String>> {
        Box::pin(std::future::ready(Ok(input)))
    }

    fn transforms_input(&self) -> bool {
        true
    }

    fn transform_body<'a>(&'a self, input: ChunkStream<'a, String>) -> ChunkStream<'a, String> {
        input
    }
}
