//! [`Recording`]: a whole run recorded in one file and replayed offline:
//! every chat model, LLM, tool, retriever and side-effect step beneath it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use runwright::intercept::{Call, CallItem, CallOutcome, CallRecording, Intercept, Interceptor};
use runwright::{Error, ErrorKind, Result, RunConfig};
use serde_json::{json, Value};
use similar::TextDiff;
use uuid::Uuid;

use crate::cassette::RecordedError;
use crate::files::{check_header, format_error, parse_lines, read_text, write_atomic};
use crate::normalize::Labels;
use crate::recorder::{ModeSource, RecordMode};
use crate::redact::Redactions;

/// The `format` of a recording file's header.
pub const RECORDING_FORMAT: &str = "runwright-recording";

/// The recording format version this crate writes and reads.
pub const RECORDING_VERSION: u64 = 1;

/// One recorded call.
#[derive(Clone, Debug)]
struct RecordedCall {
    kind: String,
    path: Vec<String>,
    /// Normalized and redacted.
    input: Value,
    items: Vec<Value>,
    /// `None` while it runs (or when it was abandoned).
    outcome: Option<Value>,
    /// Runs started beneath it: a replay runs its body again (the calls
    /// beneath replayed), so their events are there.
    composite: bool,
    /// The file line of its first line, for messages.
    line: Option<usize>,
}

struct State {
    calls: Vec<RecordedCall>,
    played: Vec<bool>,
    existed: bool,
    /// Calls being recorded, by the run that makes them.
    in_flight: HashMap<Uuid, usize>,
    /// The secret values seen in each in-flight call's input.
    secrets: HashMap<usize, Vec<String>>,
    /// The calls whose output is secret (their runnable says so).
    secret_outputs: std::collections::HashSet<usize>,
    /// Tests: writes fail after this many bytes.
    #[cfg(test)]
    fault: Option<usize>,
}

/// What a call is matched on: its kind, place and (normalized) input, made
/// into one value by a [`Recording::match_on`] function.
type KeyFn = Arc<dyn Fn(&str, &[String], &Value) -> Value + Send + Sync>;

struct Inner {
    /// Itself, for the keepers of the calls it records.
    me: Weak<Inner>,
    path: PathBuf,
    mode: RecordMode,
    source: ModeSource,
    redactions: Redactions,
    /// Input fields left out of matching (dotted paths).
    ignored: Vec<String>,
    key: Option<KeyFn>,
    state: Mutex<State>,
}

/// A whole run recorded in one file, or replayed from it without calling
/// anything: every chat model, LLM, tool, retriever and
/// [`side_effect`](runwright::RunnableExt::side_effect) step invoked beneath
/// the run it is installed on ([`Recording::config`]), at any depth, with no
/// config passed by hand. One file per test or per program run, like a
/// pytest-recording cassette.
///
/// * **Matching.** A call matches a recorded one by its place in the run
///   tree (the names and step tags from the root down) and its input
///   (normalized as a cassette's requests are: secrets removed, UUIDs
///   numbered), in call order for the same place and input, so parallel
///   branches and concurrent tool calls replay alike whatever their
///   interleaving.
/// * **Record modes** are the [`Recorder`](crate::Recorder)'s: `RUNWRIGHT_RECORD`, over
///   [`with_default_mode`](Self::with_default_mode), else `none` under CI and
///   `once` elsewhere; [`with_mode`](Self::with_mode) forces one.
/// * **Replays.** A recorded call gives back its chunks, its custom events
///   and stream-writer items, and its output or error, without running. A
///   call that started runs of its own (a tool that calls a model) runs
///   again instead, with the calls beneath it replayed, so its events are
///   all there. A call with no recorded answer fails with an error naming
///   the runnable, its place and its input, with a diff from the nearest
///   recorded call.
/// * **Secrets** ([`Redactions`]) are removed from every input before it is
///   matched or written, and their values from every output.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use runwright::{tool, RunnableExt};
/// use runwright::tools::ToolInput;
/// use runwright_recorder::{RecordMode, Recording};
/// use serde_json::json;
///
/// static LOOKUPS: AtomicUsize = AtomicUsize::new(0);
///
/// /// Looks an order up.
/// #[tool]
/// fn order(id: u32) -> String {
///     LOOKUPS.fetch_add(1, Ordering::Relaxed);
///     format!("order {id}: shipped")
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("rw-doc-recording-{}", std::process::id()));
/// let path = dir.join("orders.jsonl");
/// let recording = Recording::open(&path)?.with_mode(RecordMode::All);
/// let answer = order.invoke_with(ToolInput::Args(json!({"id": 7})), recording.config()).await?;
/// assert_eq!(answer.value().map(String::as_str), Some("order 7: shipped"));
///
/// // Replayed: the tool's function does not run.
/// let replay = Recording::open(&path)?.with_mode(RecordMode::None);
/// let again = order.invoke_with(ToolInput::Args(json!({"id": 7})), replay.config()).await?;
/// assert_eq!(again.value().map(String::as_str), Some("order 7: shipped"));
/// assert_eq!(LOOKUPS.load(Ordering::Relaxed), 1);
/// let miss = order.invoke_with(ToolInput::Args(json!({"id": 8})), replay.config()).await;
/// assert!(miss.unwrap_err().message().contains("no recorded call for tool `order`"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Recording {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("path", &self.inner.path)
            .field("mode", &self.inner.mode)
            .finish_non_exhaustive()
    }
}

impl Recording {
    /// The recording at `path` (read now if it exists). The record mode is
    /// the environment's ([`RecordMode::from_env`]) until
    /// [`with_default_mode`](Self::with_default_mode) or
    /// [`with_mode`](Self::with_mode) sets one.
    pub fn open(path: impl AsRef<Path>) -> Result<Recording> {
        let path = path.as_ref().to_owned();
        let mode = RecordMode::from_env()?;
        let (calls, existed) = if path.exists() {
            (parse(&path.display().to_string(), &read_text(&path)?)?, true)
        } else {
            (Vec::new(), false)
        };
        let played = vec![false; calls.len()];
        Ok(Recording {
            inner: Arc::new_cyclic(|me| Inner {
                me: me.clone(),
                path,
                mode,
                source: ModeSource::of_env(),
                redactions: Redactions::default(),
                ignored: Vec::new(),
                key: None,
                state: Mutex::new(State {
                    calls,
                    played,
                    existed,
                    in_flight: HashMap::new(),
                    secrets: HashMap::new(),
                    secret_outputs: Default::default(),
                    #[cfg(test)]
                    fault: None,
                }),
            }),
        })
    }

    fn rebuilt(self, f: impl FnOnce(&mut Inner)) -> Recording {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => {
                let st = shared.state.lock();
                Inner {
                    me: Weak::new(),
                    path: shared.path.clone(),
                    mode: shared.mode,
                    source: shared.source,
                    redactions: shared.redactions.clone(),
                    ignored: shared.ignored.clone(),
                    key: shared.key.clone(),
                    state: Mutex::new(State {
                        calls: st.calls.clone(),
                        played: st.played.clone(),
                        existed: st.existed,
                        in_flight: HashMap::new(),
                        secrets: HashMap::new(),
                        secret_outputs: Default::default(),
                        #[cfg(test)]
                        fault: None,
                    }),
                }
            }
        };
        f(&mut inner);
        if inner.mode == RecordMode::All {
            let st = inner.state.get_mut();
            st.calls.clear();
            st.played.clear();
        }
        Recording {
            inner: Arc::new_cyclic(|me| Inner {
                me: me.clone(),
                ..inner
            }),
        }
    }

    /// Sets the record mode, whatever `RUNWRIGHT_RECORD` says. With
    /// [`RecordMode::All`] the recorded calls are forgotten at once (the
    /// file keeps them until the first new call is written).
    #[must_use]
    pub fn with_mode(self, mode: RecordMode) -> Self {
        self.rebuilt(|i| {
            i.mode = mode;
            i.source = ModeSource::Code;
        })
    }

    /// Sets the record mode used while `RUNWRIGHT_RECORD` is unset.
    #[must_use]
    pub fn with_default_mode(self, mode: RecordMode) -> Self {
        if self.inner.source == ModeSource::Env {
            return self;
        }
        self.rebuilt(|i| {
            i.mode = mode;
            i.source = ModeSource::CodeDefault;
        })
    }

    /// Sets what is never written (the default: [`Redactions::default`]).
    /// Inputs are matched after redaction.
    #[must_use]
    pub fn with_redactions(self, redactions: Redactions) -> Self {
        self.rebuilt(|i| i.redactions = redactions)
    }

    /// Leaves these input fields out of matching (dotted paths into the
    /// normalized input: `params.temperature`, `messages.content`; a field
    /// inside an array is left out of each element). They are still
    /// written.
    ///
    /// ```
    /// # let dir = std::env::temp_dir();
    /// let recording = runwright_recorder::Recording::open(dir.join("never-written.jsonl"))?
    ///     .ignoring(["params.temperature", "params.seed"]);
    /// # Ok::<(), runwright::Error>(())
    /// ```
    #[must_use]
    pub fn ignoring<S: Into<String>>(self, fields: impl IntoIterator<Item = S>) -> Self {
        let fields: Vec<String> = fields.into_iter().map(Into::into).collect();
        self.rebuilt(|i| i.ignored.extend(fields))
    }

    /// Matches calls on what `key` makes of a call's kind (`chat_model`,
    /// `tool`, ...), place in the run tree and normalized input, instead of
    /// all three as they are: two calls match when their keys are equal.
    ///
    /// ```
    /// # let dir = std::env::temp_dir();
    /// // Tools by name and arguments, wherever in the tree they run.
    /// let recording = runwright_recorder::Recording::open(dir.join("never-written.jsonl"))?
    ///     .match_on(|kind, path, input| serde_json::json!([kind, path.last(), input]));
    /// # Ok::<(), runwright::Error>(())
    /// ```
    #[must_use]
    pub fn match_on(self, key: impl Fn(&str, &[String], &Value) -> Value + Send + Sync + 'static) -> Self {
        self.rebuilt(|i| i.key = Some(Arc::new(key)))
    }

    #[cfg(test)]
    fn fail_writes_after(self, bytes: usize) -> Self {
        self.inner.state.lock().fault = Some(bytes);
        self
    }

    /// The config that installs this recording on a run: pass it to
    /// `invoke_with`, `stream_events_with` (or bind it with `with_config`).
    pub fn config(&self) -> RunConfig {
        RunConfig::new().intercept(self.inner.clone())
    }

    /// The record mode.
    pub fn mode(&self) -> RecordMode {
        self.inner.mode
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many calls the recording holds (read, and recorded since).
    pub fn len(&self) -> usize {
        let st = self.inner.state.lock();
        st.calls.iter().filter(|c| c.outcome.is_some()).count()
    }

    /// Whether it holds no call.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The file's lines for the calls that finished.
fn to_jsonl(calls: &[RecordedCall]) -> String {
    let done: Vec<&RecordedCall> = calls.iter().filter(|c| c.outcome.is_some()).collect();
    let mut out = json!({
        "format": RECORDING_FORMAT,
        "version": RECORDING_VERSION,
        "runwright": env!("CARGO_PKG_VERSION"),
        "calls": done.len(),
    })
    .to_string();
    out.push('\n');
    for (n, c) in done.iter().enumerate() {
        let mut head = json!({"call": n, "kind": c.kind, "path": c.path, "input": c.input});
        if c.composite {
            head["composite"] = json!(true);
        }
        out.push_str(&head.to_string());
        out.push('\n');
        for item in &c.items {
            let mut line = json!({"call": n});
            if let (Value::Object(l), Value::Object(i)) = (&mut line, item) {
                l.extend(i.clone());
            }
            out.push_str(&line.to_string());
            out.push('\n');
        }
        if let Some(Value::Object(o)) = &c.outcome {
            let mut line = serde_json::Map::new();
            line.insert("call".into(), json!(n));
            line.extend(o.clone());
            out.push_str(&Value::Object(line).to_string());
            out.push('\n');
        }
    }
    out
}

/// Reads a recording file's calls; `source` names it in errors.
fn parse(source: &str, text: &str) -> Result<Vec<RecordedCall>> {
    let lines = parse_lines(source, text)?;
    let Some((_, header)) = lines.first() else {
        return Err(format_error(source, None, "empty file (no header line)"));
    };
    check_header(
        source,
        header,
        RECORDING_FORMAT,
        RECORDING_VERSION,
        "runwright recording",
    )?;
    let announced = header
        .get("calls")
        .and_then(Value::as_u64)
        .ok_or_else(|| format_error(source, Some(1), "invalid header: no \"calls\" count"))?;
    let mut calls: Vec<RecordedCall> = Vec::new();
    for (line, v) in lines.into_iter().skip(1) {
        let bad = |why: &str| format_error(source, Some(line), why);
        let Some(n) = v.get("call").and_then(Value::as_u64) else {
            return Err(bad("not a call line (no \"call\" number)"));
        };
        let n = n as usize;
        if let Some(kind) = v.get("kind").and_then(Value::as_str) {
            if n != calls.len() {
                return Err(bad(&format!(
                    "call {n} starts out of order (expected call {})",
                    calls.len()
                )));
            }
            let path = v
                .get("path")
                .and_then(Value::as_array)
                .map(|p| p.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .ok_or_else(|| bad("a call line needs a \"path\" array"))?;
            calls.push(RecordedCall {
                kind: kind.to_owned(),
                path,
                input: v.get("input").cloned().unwrap_or(Value::Null),
                items: Vec::new(),
                outcome: None,
                composite: v.get("composite").and_then(Value::as_bool).unwrap_or(false),
                line: Some(line),
            });
            continue;
        }
        let reading = calls.len();
        let Some(call) = calls.get_mut(n).filter(|_| n + 1 == reading) else {
            return Err(bad(&format!("a line of call {n}, which is not the call being read")));
        };
        if call.outcome.is_some() {
            return Err(bad(&format!("a line of call {n} after its end")));
        }
        let Value::Object(mut m) = v else {
            unreachable!("checked above: it has a call number")
        };
        m.remove("call");
        if m.contains_key("output") || m.contains_key("error") {
            call.outcome = Some(Value::Object(m));
        } else if m.contains_key("chunk") || m.contains_key("custom") || m.contains_key("write") {
            call.items.push(Value::Object(m));
        } else {
            return Err(bad("not a chunk, custom, write, output or error line"));
        }
    }
    if let Some(open) = calls.iter().position(|c| c.outcome.is_none()) {
        return Err(format_error(
            source,
            None,
            format!("truncated: call {open} has no output or error line"),
        ));
    }
    if calls.len() as u64 != announced {
        return Err(format_error(
            source,
            None,
            format!("the header announces {announced} calls, the file has {}", calls.len()),
        ));
    }
    Ok(calls)
}

fn item_json(item: &CallItem) -> Value {
    match item {
        CallItem::Chunk(c) => json!({"chunk": c}),
        CallItem::Custom { name, data } => json!({"custom": {"name": name, "data": data}}),
        CallItem::Write(v) => json!({"write": v}),
        _ => json!({"unknown": null}),
    }
}

fn item_of(v: &Value) -> Option<CallItem> {
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

fn outcome_of(v: &Value) -> CallOutcome {
    match v.get("error") {
        Some(e) => {
            let recorded = RecordedError {
                kind: e["kind"].as_str().unwrap_or("step").to_owned(),
                message: e["message"].as_str().unwrap_or_default().to_owned(),
            };
            CallOutcome::Error(recorded.to_error())
        }
        None => CallOutcome::Output(v.get("output").cloned().unwrap_or(Value::Null)),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

impl Inner {
    /// The call's input as it is matched and written.
    fn normalized(&self, input: &Value, secret: &[&str]) -> (Value, Vec<String>) {
        let mut v = input.clone();
        let mut marked = Vec::new();
        crate::redact::remove_paths(&mut v, secret, &mut marked);
        let secrets = self.redactions.redact(&mut v, &marked);
        Labels::default().apply("request", &mut v);
        (v, secrets)
    }

    fn write(&self, st: &State) -> Result<()> {
        let text = to_jsonl(&st.calls);
        #[cfg(test)]
        if let Some(n) = st.fault {
            return write_atomic(
                &self.path,
                text.as_bytes(),
                Some(&move |f| crate::recorder::failing(f, n)),
            );
        }
        write_atomic(&self.path, text.as_bytes(), None)
    }

    /// What a call is matched on, when `ignoring` or `match_on` changed it
    /// (else the kind, place and input are compared as they are).
    fn key(&self, kind: &str, path: &[String], input: &Value) -> Value {
        let mut input = input.clone();
        for field in &self.ignored {
            remove_field(&mut input, &field.split('.').collect::<Vec<_>>());
        }
        match &self.key {
            Some(key) => key(kind, path, &input),
            None => json!([kind, path, input]),
        }
    }

    fn miss(&self, st: &State, call: &Call<'_>, kind: &str, input: &Value) -> Error {
        let source = self.source.describe(self.mode);
        let why = match self.mode {
            RecordMode::Once => {
                format!("record mode once ({source}): the recording exists, so new calls are not recorded")
            }
            mode => format!("record mode {mode} ({source}): replay only"),
        };
        let place = call.path.join(" > ");
        let mut msg = format!(
            "{}: no recorded call for {kind} `{}` at {place} ({why})\ninput:\n{}\n",
            self.path.display(),
            call.name(),
            pretty(input)
        );
        let this = pretty(&json!({"path": call.path, "input": input}));
        let nearest = st
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.outcome.is_some())
            .map(|(i, c)| {
                let text = pretty(&json!({"path": c.path, "input": c.input}));
                let ratio = TextDiff::from_lines(&text, &this).ratio();
                (i, text, ratio, c.kind == kind)
            })
            .max_by(|a, b| a.3.cmp(&b.3).then(a.2.total_cmp(&b.2)).then(b.0.cmp(&a.0)));
        match nearest {
            Some((i, text, ..)) if text == this => msg.push_str(&format!(
                "call {i}{} has this place and input, but it was replayed already: each recorded call plays once\n",
                line_of(st, i)
            )),
            Some((i, text, ..)) => {
                let diff = TextDiff::from_lines(&text, &this)
                    .unified_diff()
                    .context_radius(2)
                    .header("recorded", "this call")
                    .to_string();
                msg.push_str(&format!(
                    "nearest recorded call: call {i}{}; diff from it to this call:\n{diff}",
                    line_of(st, i)
                ));
            }
            None => msg.push_str("the recording has no calls\n"),
        }
        msg.push_str(&crate::recorder::record_advice(self.source, "recording"));
        Error::new(ErrorKind::InvalidInput, msg)
    }
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

fn line_of(st: &State, i: usize) -> String {
    st.calls[i].line.map(|l| format!(", line {l}")).unwrap_or_default()
}

impl Interceptor for Inner {
    fn intercept(&self, call: &Call<'_>) -> Intercept {
        let kind = call.kind.as_str();
        let (input, secrets) = self.normalized(call.input, call.secrets.input);
        let mut st = self.state.lock();
        if self.mode != RecordMode::All {
            let st = &mut *st;
            let plain = self.ignored.is_empty() && self.key.is_none();
            let wanted = (!plain).then(|| self.key(kind, call.path, &input));
            let same = |c: &RecordedCall| match &wanted {
                None => c.kind == kind && c.path == call.path && c.input == input,
                Some(w) => self.key(&c.kind, &c.path, &c.input) == *w,
            };
            let found =
                (0..st.calls.len()).find(|&i| !st.played[i] && st.calls[i].outcome.is_some() && same(&st.calls[i]));
            if let Some(i) = found {
                st.played[i] = true;
                let c = &st.calls[i];
                if c.composite {
                    return Intercept::Live;
                }
                let items = c.items.iter().filter_map(item_of).collect();
                let outcome = c
                    .outcome
                    .as_ref()
                    .map(outcome_of)
                    .unwrap_or(CallOutcome::Output(Value::Null));
                return Intercept::Replay { items, outcome };
            }
        }
        let may_record = match self.mode {
            RecordMode::None => false,
            RecordMode::Once => !st.existed,
            _ => true,
        };
        if !may_record {
            return Intercept::Fail(self.miss(&st, call, kind, &input));
        }
        let index = st.calls.len();
        st.calls.push(RecordedCall {
            kind: kind.to_owned(),
            path: call.path.to_vec(),
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
            Some(inner) => Intercept::Record(Box::new(Keeper {
                inner,
                index,
                run_id: call.run_id,
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
        let mut st = self.state.lock();
        if let Some(&i) = st.in_flight.get(&run_id) {
            let mut v = item_json(&item);
            let secrets = st.secrets.get(&i).cloned().unwrap_or_default();
            self.redactions.redact(&mut v, &secrets);
            st.calls[i].items.push(v);
        }
    }
}

/// Keeps one call being recorded.
struct Keeper {
    inner: Arc<Inner>,
    index: usize,
    run_id: Uuid,
    ended: bool,
}

impl CallRecording for Keeper {
    fn item(&mut self, item: CallItem) {
        self.inner.item(self.run_id, item);
    }

    fn end(mut self: Box<Self>, outcome: CallOutcome) -> Result<()> {
        self.ended = true;
        let inner = self.inner.clone();
        let mut st = inner.state.lock();
        st.in_flight.remove(&self.run_id);
        let secrets = st.secrets.remove(&self.index).unwrap_or_default();
        let secret_output = st.secret_outputs.remove(&self.index);
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
        inner.redactions.redact(&mut line, &secrets);
        st.calls[self.index].outcome = Some(line);
        let written = inner.write(&st);
        if written.is_err() {
            // The file is as it was: so is the recording.
            st.calls[self.index].outcome = None;
        }
        written
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        if !self.ended {
            // Abandoned (its stream dropped early): nothing is kept.
            let mut st = self.inner.state.lock();
            st.in_flight.remove(&self.run_id);
            st.secrets.remove(&self.index);
        }
    }
}

#[cfg(test)]
mod tests {
    use runwright::tools::ToolInput;
    use runwright::{tool, RunnableExt};
    use serde_json::json;

    use super::*;

    /// Echoes.
    #[tool]
    fn echo(text: String, seed: Option<u64>) -> String {
        let _ = seed;
        text
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rw-recording-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    async fn call(r: &Recording, args: Value) -> Result<String> {
        let out = echo.invoke_with(ToolInput::Args(args), r.config()).await?;
        Ok(out.value().cloned().unwrap_or_default())
    }

    #[tokio::test]
    async fn a_write_cut_off_midway_leaves_the_file_as_it_was() {
        let dir = scratch("cut");
        let path = dir.join("r.jsonl");
        let r = Recording::open(&path).unwrap().with_mode(RecordMode::All);
        call(&r, json!({"text": "one"})).await.unwrap();
        let before = std::fs::read(&path).unwrap();

        let r = Recording::open(&path)
            .unwrap()
            .with_mode(RecordMode::NewEpisodes)
            .fail_writes_after(40);
        let err = call(&r, json!({"text": "two"})).await.unwrap_err();
        assert!(err.message().contains("simulated failure mid-write"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "the old recording is untouched");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["r.jsonl"], "no temporary file is left behind");
        assert_eq!(r.len(), 1, "memory matches the file");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn ignored_fields_and_custom_keys_decide_what_matches() {
        let dir = scratch("match");
        let path = dir.join("r.jsonl");
        let r = Recording::open(&path).unwrap().with_mode(RecordMode::All);
        call(&r, json!({"text": "hi", "seed": 1})).await.unwrap();

        let strict = Recording::open(&path).unwrap().with_mode(RecordMode::None);
        assert!(call(&strict, json!({"text": "hi", "seed": 2})).await.is_err());
        let lax = Recording::open(&path)
            .unwrap()
            .with_mode(RecordMode::None)
            .ignoring(["seed"]);
        assert_eq!(call(&lax, json!({"text": "hi", "seed": 2})).await.unwrap(), "hi");
        assert!(call(&lax, json!({"text": "ho", "seed": 1})).await.is_err());

        // By name alone: any arguments get the recorded answer.
        let by_name = Recording::open(&path)
            .unwrap()
            .with_mode(RecordMode::None)
            .match_on(|kind, path, _| json!([kind, path.last()]));
        assert_eq!(call(&by_name, json!({"text": "anything"})).await.unwrap(), "hi");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn fields_are_removed_through_arrays() {
        let mut v = json!({"messages": [{"id": 1, "content": "a"}, {"id": 2, "content": "b"}], "id": 3});
        remove_field(&mut v, &["messages", "id"]);
        assert_eq!(v, json!({"messages": [{"content": "a"}, {"content": "b"}], "id": 3}));
    }
}
