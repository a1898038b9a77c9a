//! [`Recording`]: a whole run recorded in one file and replayed offline:
//! every chat model, LLM, tool, retriever and side-effect step beneath it.

use std::path::Path;
use std::sync::Arc;

use runwright::{Result, RunConfig};
use serde_json::{json, Value};

use crate::files::{check_header, format_error, parse_lines, read_text};
use crate::mode::RecordMode;
use crate::redact::Redactions;
use crate::session::{Entry, Format, Item, Session, Settings, Terms};

/// The `format` of a recording file's header.
pub const RECORDING_FORMAT: &str = "runwright-recording";

/// The recording format version this crate writes and reads.
pub const RECORDING_VERSION: u64 = 1;

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
    session: Arc<Session>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("path", &self.session.path())
            .field("mode", &self.session.settings().mode)
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
        let settings = Settings::from_env()?;
        let (calls, existed) = if path.exists() {
            (parse(&path.display().to_string(), &read_text(&path)?)?, true)
        } else {
            (Vec::new(), false)
        };
        Ok(Recording {
            session: Session::new(path, Arc::new(RecordingFile), calls, existed, settings),
        })
    }

    fn with(self, change: impl FnOnce(&mut Settings)) -> Recording {
        Recording {
            session: self.session.with(change),
        }
    }

    /// Sets the record mode, whatever `RUNWRIGHT_RECORD` says. With
    /// [`RecordMode::All`] the recorded calls are forgotten at once (the
    /// file keeps them until the first new call is written).
    #[must_use]
    pub fn with_mode(self, mode: RecordMode) -> Self {
        Recording {
            session: self.session.with_mode(mode),
        }
    }

    /// Sets the record mode used while `RUNWRIGHT_RECORD` is unset.
    #[must_use]
    pub fn with_default_mode(self, mode: RecordMode) -> Self {
        Recording {
            session: self.session.with_default_mode(mode),
        }
    }

    /// Sets what is never written (the default: [`Redactions::default`]).
    /// Inputs are matched after redaction.
    #[must_use]
    pub fn with_redactions(self, redactions: Redactions) -> Self {
        self.with(|s| s.redactions = redactions)
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
        self.with(|s| s.ignored.extend(fields))
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
        self.with(|s| s.key = Some(Arc::new(key)))
    }

    #[cfg(test)]
    fn fail_writes_after(self, bytes: usize) -> Self {
        self.session.fail_writes_after(bytes);
        self
    }

    /// The config that installs this recording on a run: pass it to
    /// `invoke_with`, `stream_events_with` (or bind it with `with_config`).
    pub fn config(&self) -> RunConfig {
        RunConfig::new().intercept(self.session.clone())
    }

    /// The record mode.
    pub fn mode(&self) -> RecordMode {
        self.session.settings().mode
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.session.path()
    }

    /// How many calls the recording holds (read, and recorded since).
    pub fn len(&self) -> usize {
        self.session.len()
    }

    /// Whether it holds no call.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A recording file, as its session writes it.
struct RecordingFile;

static RECORDING_TERMS: Terms = Terms {
    file: "recording",
    entry: "call",
    call: "call",
    answer: "call",
    by_place: true,
    repeats: None,
    // A recording is never replay-only: what it records is the run's own.
    replay_only: ("", ""),
};

impl Format for RecordingFile {
    fn terms(&self) -> &'static Terms {
        &RECORDING_TERMS
    }

    fn text(&self, _path: &Path, calls: &[&Entry], _settings: &Settings) -> Result<String> {
        Ok(to_jsonl(calls))
    }
}

/// The file's lines for these (finished) calls.
fn to_jsonl(done: &[&Entry]) -> String {
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
            if let (Value::Object(l), Value::Object(i)) = (&mut line, &item.value) {
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
fn parse(source: &str, text: &str) -> Result<Vec<Entry>> {
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
    let mut calls: Vec<Entry> = Vec::new();
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
            calls.push(Entry {
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
            call.items.push(Item::untimed(Value::Object(m)));
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

#[cfg(test)]
mod tests {
    use runwright::tools::ToolInput;
    use runwright::{tool, RunnableExt};
    use serde_json::json;

    use super::*;
    use std::path::PathBuf;

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
}
