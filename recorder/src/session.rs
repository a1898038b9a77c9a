//! The record-and-replay machinery behind both the per-model
//! [`Recorder`](crate::Recorder) and the whole-run
//! [`Recording`](crate::Recording): one file's calls, matched, replayed,
//! recorded and written, as an [`Interceptor`]. A `Recording` is installed
//! in the run context; a `Recorder` puts its model's calls through its own
//! session ([`runwright::context::intercept_stream`]). What differs between
//! them is the file ([`Format`]) and a few words of their messages
//! ([`Terms`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use runwright::intercept::{Call, CallItem, CallOutcome, CallRecording, Intercept, Interceptor};
use runwright::{Error, ErrorKind, Result};
use serde_json::{json, Value};
use similar::TextDiff;
use uuid::Uuid;

use crate::cassette::RecordedError;
use crate::files::write_atomic;
use crate::mode::{record_advice, ModeSource, Pacing, RecordMode};
use crate::normalize::Labels;
use crate::redact::Redactions;

/// One recorded call.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Its [`CallKind`](runwright::intercept::CallKind), as a string.
    pub(crate) kind: String,
    /// Its place in the run tree; empty in a file that does not match on
    /// places ([`Terms::by_place`]).
    pub(crate) path: Vec<String>,
    /// Its input, normalized and redacted.
    pub(crate) input: Value,
    /// What it produced, in order.
    pub(crate) items: Vec<Item>,
    /// `{"output": ...}` or `{"error": {"kind", "type", "message"}}`;
    /// `None` while it runs (or once it was abandoned).
    pub(crate) outcome: Option<Value>,
    /// Runs started beneath it: a replay runs its body again (the calls
    /// beneath replayed), so their events are there.
    pub(crate) composite: bool,
    /// The file line of its first line, for messages.
    pub(crate) line: Option<usize>,
}

/// Something a recorded call produced: `{"chunk": ...}`, `{"custom":
/// {"name", "data"}}` or `{"write": ...}`, and the time since the item
/// before (or since the call started).
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub(crate) value: Value,
    pub(crate) delay_ms: u64,
}

impl Item {
    /// The item of a JSON line's fields (a file that keeps no times).
    pub(crate) fn untimed(value: Value) -> Item {
        Item { value, delay_ms: 0 }
    }

    fn to_call_item(&self) -> Option<CallItem> {
        let v = &self.value;
        if let Some(c) = v.get("chunk") {
            return Some(CallItem::Chunk(c.clone()));
        }
        if let Some(c) = v.get("custom") {
            return Some(CallItem::Custom {
                name: c["name"].as_str().unwrap_or_default().to_owned(),
                data: c["data"].clone(),
            });
        }
        v.get("write").map(|w| CallItem::Write(w.clone()))
    }
}

fn item_json(item: &CallItem) -> Option<Value> {
    match item {
        CallItem::Chunk(c) => Some(json!({"chunk": c})),
        CallItem::Custom { name, data } => Some(json!({"custom": {"name": name, "data": data}})),
        CallItem::Write(v) => Some(json!({"write": v})),
        _ => None,
    }
}

/// The error of a recorded `{"error": {"kind", "message"}}` outcome.
pub(crate) fn recorded_error(outcome: &Value) -> Option<RecordedError> {
    let e = outcome.get("error")?;
    Some(RecordedError {
        kind: e["kind"].as_str().unwrap_or("step").to_owned(),
        message: e["message"].as_str().unwrap_or_default().to_owned(),
    })
}

fn outcome_of(v: &Value) -> CallOutcome {
    match recorded_error(v) {
        Some(e) => CallOutcome::Error(e.to_error()),
        None => CallOutcome::Output(v.get("output").cloned().unwrap_or(Value::Null)),
    }
}

/// A file of recorded calls: how it is written.
pub(crate) trait Format: Send + Sync + 'static {
    /// The words its messages use.
    fn terms(&self) -> &'static Terms;

    /// The whole file for these calls (all finished). Each call must be one
    /// line, then one line per item, then one for its end, after a header
    /// line: misses name a call's line by that count.
    /// `path` names the file in errors.
    fn text(&self, path: &Path, calls: &[&Entry], settings: &Settings) -> Result<String>;
}

/// The words a file's messages use for it and its calls.
#[derive(Debug)]
pub(crate) struct Terms {
    /// The file: `cassette`, `recording`.
    pub(crate) file: &'static str,
    /// One of its calls, numbered: `interaction`, `call`.
    pub(crate) entry: &'static str,
    /// What a call is, for its caller: `request`, `call`.
    pub(crate) call: &'static str,
    /// What a recorded call gives back: `answer`, `call`.
    pub(crate) answer: &'static str,
    /// Whether calls are matched on their place in the run tree, and a miss
    /// names the runnable and its place. A whole-run recording's calls are
    /// of many runnables at many places; a model's recorder's are one
    /// model's, wherever it is used.
    pub(crate) by_place: bool,
    /// How its owner lets an answer play again, if it can.
    pub(crate) repeats: Option<&'static str>,
    /// Why a miss is a miss without a live model, and how to record it then.
    pub(crate) replay_only: (&'static str, &'static str),
}

/// What a call is matched on: its kind, place and (normalized) input, made
/// into one value by a `match_on` function.
pub(crate) type KeyFn = Arc<dyn Fn(&str, &[String], &Value) -> Value + Send + Sync>;

/// How a session records and replays.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) mode: RecordMode,
    pub(crate) source: ModeSource,
    pub(crate) redactions: Redactions,
    /// Input fields left out of matching (dotted paths).
    pub(crate) ignored: Vec<String>,
    pub(crate) key: Option<KeyFn>,
    /// Whether a recorded call may play again for the same call once every
    /// recording of it has played.
    pub(crate) repeats: bool,
    pub(crate) pacing: Pacing,
    /// Whether there is anything live to record: a replay-only recorder has
    /// not.
    pub(crate) live: bool,
}

impl Settings {
    /// The environment's record mode ([`RecordMode::from_env`]), the default
    /// redactions, nothing else.
    pub(crate) fn from_env() -> Result<Settings> {
        Ok(Settings::new(RecordMode::from_env()?, ModeSource::of_env()))
    }

    /// Record mode `mode`, which `source` chose; the default redactions.
    pub(crate) fn new(mode: RecordMode, source: ModeSource) -> Settings {
        Settings {
            mode,
            source,
            redactions: Redactions::default(),
            ignored: Vec::new(),
            key: None,
            repeats: false,
            pacing: Pacing::Instant,
            live: true,
        }
    }
}

struct State {
    calls: Vec<Entry>,
    /// Per call: replayed (or recorded) in this session already.
    played: Vec<bool>,
    /// Whether the file existed when the session was opened.
    existed: bool,
    /// Calls being recorded, by the run that makes them.
    in_flight: HashMap<Uuid, usize>,
    /// The secret values seen in each call being recorded's input.
    secrets: HashMap<usize, Vec<String>>,
    /// The calls being recorded whose output is secret.
    secret_outputs: HashSet<usize>,
    /// Whether a call was written in this session.
    wrote: bool,
    /// Tests: writes fail after this many bytes.
    #[cfg(test)]
    fault: Option<usize>,
}

/// One file's calls, recorded and replayed.
pub(crate) struct Session {
    /// Itself, for the keepers of the calls it records.
    me: Weak<Session>,
    path: PathBuf,
    settings: Settings,
    format: Arc<dyn Format>,
    state: Mutex<State>,
}

impl Session {
    /// A session on the file at `path`, which held `calls` (`existed`: the
    /// file was there).
    pub(crate) fn new(
        path: PathBuf,
        format: Arc<dyn Format>,
        calls: Vec<Entry>,
        existed: bool,
        settings: Settings,
    ) -> Arc<Session> {
        let played = vec![false; calls.len()];
        Session::build(
            path,
            format,
            settings,
            State {
                calls,
                played,
                existed,
                in_flight: HashMap::new(),
                secrets: HashMap::new(),
                secret_outputs: HashSet::new(),
                wrote: false,
                #[cfg(test)]
                fault: None,
            },
        )
    }

    fn build(path: PathBuf, format: Arc<dyn Format>, settings: Settings, mut state: State) -> Arc<Session> {
        if settings.mode == RecordMode::All {
            // Re-recorded: the file keeps the old calls until the first new
            // one is written.
            state.calls.clear();
            state.played.clear();
        }
        Arc::new_cyclic(|me| Session {
            me: me.clone(),
            path,
            settings,
            format,
            state: Mutex::new(state),
        })
    }

    /// The session with `change` made to its settings (a copy of it when
    /// it is shared; the calls being recorded stay with the original).
    pub(crate) fn with(self: Arc<Self>, change: impl FnOnce(&mut Settings)) -> Arc<Session> {
        let (path, format, mut settings, state) = match Arc::try_unwrap(self) {
            Ok(s) => (s.path, s.format, s.settings, s.state.into_inner()),
            Err(shared) => {
                let st = shared.state.lock();
                let state = State {
                    calls: st.calls.clone(),
                    played: st.played.clone(),
                    existed: st.existed,
                    in_flight: HashMap::new(),
                    secrets: HashMap::new(),
                    secret_outputs: HashSet::new(),
                    wrote: st.wrote,
                    #[cfg(test)]
                    fault: st.fault,
                };
                drop(st);
                (
                    shared.path.clone(),
                    shared.format.clone(),
                    shared.settings.clone(),
                    state,
                )
            }
        };
        change(&mut settings);
        Session::build(path, format, settings, state)
    }

    /// Sets the record mode, whatever `RUNWRIGHT_RECORD` says.
    pub(crate) fn with_mode(self: Arc<Self>, mode: RecordMode) -> Arc<Session> {
        self.with(|s| {
            s.mode = mode;
            s.source = ModeSource::Code;
        })
    }

    /// Sets the record mode used while `RUNWRIGHT_RECORD` is unset.
    pub(crate) fn with_default_mode(self: Arc<Self>, mode: RecordMode) -> Arc<Session> {
        if self.settings.source == ModeSource::Env {
            return self;
        }
        self.with(|s| {
            s.mode = mode;
            s.source = ModeSource::CodeDefault;
        })
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The finished calls: what was read, and what was recorded since.
    pub(crate) fn calls(&self) -> Vec<Entry> {
        let st = self.state.lock();
        st.calls.iter().filter(|c| c.outcome.is_some()).cloned().collect()
    }

    /// How many calls have finished.
    pub(crate) fn len(&self) -> usize {
        let st = self.state.lock();
        st.calls.iter().filter(|c| c.outcome.is_some()).count()
    }

    /// Whether a call was written to the file in this session.
    pub(crate) fn wrote(&self) -> bool {
        self.state.lock().wrote
    }

    /// Makes every write fail after `bytes` bytes, as if the process died
    /// mid-write.
    #[cfg(test)]
    pub(crate) fn fail_writes_after(&self, bytes: usize) {
        self.state.lock().fault = Some(bytes);
    }

    /// Writes the finished calls, and numbers their lines.
    fn write(&self, st: &mut State) -> Result<()> {
        let done: Vec<&Entry> = st.calls.iter().filter(|c| c.outcome.is_some()).collect();
        let text = self.format.text(&self.path, &done, &self.settings)?;
        #[cfg(test)]
        if let Some(n) = st.fault {
            return write_atomic(&self.path, text.as_bytes(), Some(&move |f| crate::files::failing(f, n)));
        }
        write_atomic(&self.path, text.as_bytes(), None)?;
        let mut line = 2;
        for c in st.calls.iter_mut().filter(|c| c.outcome.is_some()) {
            c.line = Some(line);
            line += c.items.len() + 2;
        }
        st.wrote = true;
        Ok(())
    }

    /// What a call is matched on, when `ignoring` or `match_on` changed it
    /// (else the kind, place and input are compared as they are).
    fn key(&self, kind: &str, path: &[String], input: &Value) -> Value {
        let mut input = input.clone();
        for field in &self.settings.ignored {
            remove_field(&mut input, &field.split('.').collect::<Vec<_>>());
        }
        match &self.settings.key {
            Some(key) => key(kind, path, &input),
            None => json!([kind, path, input]),
        }
    }

    /// The recorded call that answers this one, if any: the first not yet
    /// played, else (with repeats allowed) the last.
    fn find(&self, st: &State, kind: &str, path: &[String], input: &Value) -> Option<usize> {
        let plain = self.settings.ignored.is_empty() && self.settings.key.is_none();
        let wanted = (!plain).then(|| self.key(kind, path, input));
        let same = |i: &usize| {
            let c = &st.calls[*i];
            c.outcome.is_some()
                && match &wanted {
                    None => c.kind == kind && c.path == path && c.input == *input,
                    Some(w) => self.key(&c.kind, &c.path, &c.input) == *w,
                }
        };
        let n = st.calls.len();
        (0..n)
            .filter(same)
            .find(|&i| !st.played[i])
            .or_else(|| self.settings.repeats.then(|| (0..n).rfind(same)).flatten())
    }

    /// The error for a call with no recorded answer: the call, and its diff
    /// from the nearest recorded one.
    fn miss(&self, st: &State, call: &Call<'_>, kind: &str, input: &Value) -> Error {
        let t = self.format.terms();
        let s = &self.settings;
        let source = s.source.describe(s.mode);
        let why = match s.mode {
            _ if !s.live => t.replay_only.0.to_owned(),
            RecordMode::Once => format!(
                "record mode once ({source}): the {} exists, so new {}s are not recorded",
                t.file, t.call
            ),
            mode => format!("record mode {mode} ({source}): replay only"),
        };
        let (what, label, compared) = if t.by_place {
            let place = call.path.join(" > ");
            (
                format!("{kind} `{}` at {place}", call.name()),
                "input",
                "place and input",
            )
        } else {
            (format!("this {}", t.call), t.call, t.call)
        };
        let mut msg = format!(
            "{}: no recorded {} for {what} ({why})\n{label}:\n{}\n",
            self.path.display(),
            t.answer,
            pretty(input)
        );
        let shown = |path: &[String], input: &Value| match t.by_place {
            true => pretty(&json!({"path": path, "input": input})),
            false => pretty(input),
        };
        let this = shown(call.path, input);
        // The same kind first; then the most similar by lines; on a tie,
        // the one sharing the most words; then the first.
        let words = word_set(&this);
        let nearest = st
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.outcome.is_some())
            .map(|(i, c)| {
                let text = shown(&c.path, &c.input);
                let ratio = TextDiff::from_lines(&text, &this).ratio();
                let overlap = overlap(&word_set(&text), &words);
                (i, text, c.kind == kind, ratio, overlap)
            })
            .max_by(|a, b| {
                a.2.cmp(&b.2)
                    .then(a.3.total_cmp(&b.3))
                    .then(a.4.total_cmp(&b.4))
                    .then(b.0.cmp(&a.0))
            });
        let line = |i: usize| st.calls[i].line.map(|l| format!(", line {l}")).unwrap_or_default();
        match nearest {
            Some((i, text, ..)) if text == this => msg.push_str(&format!(
                "{} {i}{} has this {compared}, but it was replayed already: each recorded {} plays once{}\n",
                t.entry,
                line(i),
                t.answer,
                t.repeats.map(|r| format!(", unless {r}")).unwrap_or_default(),
            )),
            Some((i, text, ..)) => {
                let diff = TextDiff::from_lines(&text, &this)
                    .unified_diff()
                    .context_radius(2)
                    .header("recorded", &format!("this {}", t.call))
                    .to_string();
                msg.push_str(&format!(
                    "nearest recorded {}: {} {i}{}; diff from it to this {}:\n{diff}",
                    t.call,
                    t.entry,
                    line(i),
                    t.call
                ));
            }
            None => msg.push_str(&format!("the {} has no recorded {}s\n", t.file, t.call)),
        }
        msg.push_str(&match s.live {
            true => record_advice(s.source, t.file),
            false => t.replay_only.1.to_owned(),
        });
        Error::new(ErrorKind::InvalidInput, msg)
    }

    /// Adds an item to call `index` being recorded.
    fn add_item(&self, index: usize, item: &CallItem, delay_ms: u64) {
        let Some(mut value) = item_json(item) else {
            return;
        };
        let mut st = self.state.lock();
        let secrets = st.secrets.get(&index).cloned().unwrap_or_default();
        self.settings.redactions.redact(&mut value, &secrets);
        if let Some(c) = st.calls.get_mut(index) {
            c.items.push(Item { value, delay_ms });
        }
    }

    /// Forgets that call `index`, made by `run_id`, is being recorded.
    fn settle(st: &mut State, index: usize, run_id: Uuid) -> (Vec<String>, bool) {
        if st.in_flight.get(&run_id) == Some(&index) {
            st.in_flight.remove(&run_id);
        }
        let secrets = st.secrets.remove(&index).unwrap_or_default();
        (secrets, st.secret_outputs.remove(&index))
    }
}

/// A call's input as it is matched and written: the fields its runnable
/// marks secret (`marked`, dotted paths) and those of `redactions` removed,
/// UUIDs numbered; and the secret values removed, to be scrubbed from what
/// it produces.
pub(crate) fn normalize(input: &Value, marked: &[&str], redactions: &Redactions) -> (Value, Vec<String>) {
    let mut v = input.clone();
    let mut found = Vec::new();
    crate::redact::remove_paths(&mut v, marked, &mut found);
    let secrets = redactions.redact(&mut v, &found);
    Labels::default().apply("request", &mut v);
    (v, secrets)
}

impl Interceptor for Session {
    fn intercept(&self, call: &Call<'_>) -> Intercept {
        let kind = call.kind.as_str();
        let (input, secrets) = normalize(call.input, call.secrets.input, &self.settings.redactions);
        let path: &[String] = if self.format.terms().by_place { call.path } else { &[] };
        let mut st = self.state.lock();
        if self.settings.mode != RecordMode::All {
            if let Some(i) = self.find(&st, kind, path, &input) {
                st.played[i] = true;
                let c = &st.calls[i];
                if c.composite {
                    return Intercept::Live;
                }
                let pacing = self.settings.pacing;
                let mut items = Vec::with_capacity(c.items.len());
                for item in &c.items {
                    if let Some(d) = pacing.delay(item.delay_ms) {
                        items.push(CallItem::Pause(d));
                    }
                    items.extend(item.to_call_item());
                }
                let outcome = c
                    .outcome
                    .as_ref()
                    .map(outcome_of)
                    .unwrap_or(CallOutcome::Output(Value::Null));
                return Intercept::Replay { items, outcome };
            }
        }
        let may_record = self.settings.live
            && match self.settings.mode {
                RecordMode::None => false,
                RecordMode::Once => !st.existed,
                _ => true,
            };
        if !may_record {
            return Intercept::Fail(self.miss(&st, call, kind, &input));
        }
        let index = st.calls.len();
        st.calls.push(Entry {
            kind: kind.to_owned(),
            path: path.to_vec(),
            input,
            items: Vec::new(),
            outcome: None,
            composite: false,
            line: None,
        });
        st.played.push(true);
        st.in_flight.insert(call.run_id, index);
        st.secrets.insert(index, secrets);
        if call.secrets.output {
            st.secret_outputs.insert(index);
        }
        drop(st);
        match self.me.upgrade() {
            Some(session) => Intercept::Record(Box::new(Keeper {
                session,
                index,
                run_id: call.run_id,
                last: tokio::time::Instant::now(),
                ended: false,
            })),
            None => Intercept::Live,
        }
    }

    fn run_started(&self, parent_ids: &[Uuid]) {
        let mut st = self.state.lock();
        if st.in_flight.is_empty() {
            return;
        }
        let open: Vec<usize> = parent_ids
            .iter()
            .filter_map(|id| st.in_flight.get(id).copied())
            .collect();
        for i in open {
            st.calls[i].composite = true;
        }
    }

    fn item(&self, run_id: Uuid, item: CallItem) {
        let index = self.state.lock().in_flight.get(&run_id).copied();
        if let Some(i) = index {
            self.add_item(i, &item, 0);
        }
    }
}

/// Keeps one call being recorded.
struct Keeper {
    session: Arc<Session>,
    index: usize,
    run_id: Uuid,
    /// When the last item came (or the call started), for the items' delays.
    last: tokio::time::Instant,
    ended: bool,
}

impl CallRecording for Keeper {
    fn item(&mut self, item: CallItem) {
        let now = tokio::time::Instant::now();
        let delay_ms = u64::try_from(now.duration_since(self.last).as_millis()).unwrap_or(u64::MAX);
        self.last = now;
        self.session.add_item(self.index, &item, delay_ms);
    }

    fn end(mut self: Box<Self>, outcome: CallOutcome) -> Result<()> {
        self.ended = true;
        let session = self.session.clone();
        let mut st = session.state.lock();
        let (secrets, secret_output) = Session::settle(&mut st, self.index, self.run_id);
        let mut line = match &outcome {
            CallOutcome::Output(v) if secret_output => {
                let mut v = v.clone();
                crate::redact::redact_output(&mut v);
                json!({"output": v})
            }
            CallOutcome::Output(v) => json!({"output": v}),
            CallOutcome::Error(e) => {
                let r = RecordedError::of(e);
                json!({"error": {"kind": r.kind, "type": e.type_name(), "message": r.message}})
            }
            _ => json!({"output": null}),
        };
        session.settings.redactions.redact(&mut line, &secrets);
        st.calls[self.index].outcome = Some(line);
        let written = session.write(&mut st);
        if written.is_err() {
            // The file is as it was: so is the session.
            st.calls[self.index].outcome = None;
        }
        written
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        if !self.ended {
            // Abandoned (its stream dropped early): nothing is kept.
            let mut st = self.session.state.lock();
            Session::settle(&mut st, self.index, self.run_id);
        }
    }
}

pub(crate) fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The words of a text (runs of letters and digits), for telling apart
/// calls equally close by lines.
fn word_set(text: &str) -> HashSet<&str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// How much two word sets share: |A ∩ B| / |A ∪ B|.
fn overlap(a: &HashSet<&str>, b: &HashSet<&str>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// Removes the field at `path` (object keys; arrays are gone through).
fn remove_field(v: &mut Value, path: &[&str]) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| remove_field(i, path)),
        Value::Object(m) => match path {
            [] => {}
            [last] => {
                m.shift_remove(*last);
            }
            [first, rest @ ..] => {
                if let Some(inner) = m.get_mut(*first) {
                    remove_field(inner, rest);
                }
            }
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_removed_through_arrays() {
        let mut v = json!({"messages": [{"id": 1, "content": "a"}, {"id": 2, "content": "b"}], "id": 3});
        remove_field(&mut v, &["messages", "id"]);
        assert_eq!(v, json!({"messages": [{"content": "a"}, {"content": "b"}], "id": 3}));
    }
}
