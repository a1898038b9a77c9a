//! [`Recorder`]: a chat model that records its calls in a cassette, or
//! replays them from there.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use futures::StreamExt;
use parking_lot::Mutex;
use runwright::models::{ChatModel, ChatRequest, ModelProfile};
use runwright::{AIMessageChunk, ChunkStream, Error, ErrorKind, Map, Result};
use serde_json::Value;
use similar::TextDiff;

use crate::cassette::{normalize_request_secrets, Cassette, Interaction, RecordedChunk, RecordedError};
use crate::files::{format_error, write_atomic};
use crate::redact::Redactions;

/// The environment variable that chooses the record mode: `none`, `once`,
/// `new_episodes` or `all`. It overrides the code's default
/// ([`Recorder::with_default_mode`]), not a mode the code forces
/// ([`Recorder::with_mode`]).
pub const RECORD_ENV: &str = "RUNWRIGHT_RECORD";

/// When a [`Recorder`] calls the live model and records, and when it
/// replays: vcrpy's record modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordMode {
    /// Replay only; a request with no recorded answer is an error. The
    /// default when the `CI` variable is set.
    None,
    /// Record every call when the cassette file does not exist yet; once it
    /// exists, replay only. The default elsewhere.
    Once,
    /// Replay the calls that were recorded, record the others and add them
    /// to the cassette.
    NewEpisodes,
    /// Record every call, replay none: the cassette is re-recorded (its old
    /// calls are dropped when the first new one is written).
    All,
}

impl RecordMode {
    /// The mode the environment asks for: [`RECORD_ENV`] when it is set,
    /// else [`None`](Self::None) under CI (`CI` set to anything but ``,
    /// `0` or `false`), else [`Once`](Self::Once).
    pub fn from_env() -> Result<RecordMode> {
        let record = std::env::var(RECORD_ENV).ok();
        let ci = std::env::var("CI").ok();
        Self::resolve(record.as_deref(), ci.as_deref())
    }

    /// [`from_env`](Self::from_env) with the variables' values given.
    ///
    /// ```
    /// use runwright_recorder::RecordMode;
    /// assert_eq!(RecordMode::resolve(None, None).unwrap(), RecordMode::Once);
    /// assert_eq!(RecordMode::resolve(None, Some("true")).unwrap(), RecordMode::None);
    /// assert_eq!(RecordMode::resolve(Some("all"), Some("true")).unwrap(), RecordMode::All);
    /// assert!(RecordMode::resolve(Some("sometimes"), None).is_err());
    /// ```
    pub fn resolve(record: Option<&str>, ci: Option<&str>) -> Result<RecordMode> {
        match record.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => r
                .parse()
                .map_err(|e: Error| Error::new(ErrorKind::InvalidInput, format!("{RECORD_ENV}={r}: {}", e.message()))),
            None if ci.is_some_and(|c| !matches!(c.trim(), "" | "0" | "false")) => Ok(RecordMode::None),
            None => Ok(RecordMode::Once),
        }
    }

    /// The mode's name: `none`, `once`, `new_episodes` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordMode::None => "none",
            RecordMode::Once => "once",
            RecordMode::NewEpisodes => "new_episodes",
            RecordMode::All => "all",
        }
    }
}

impl FromStr for RecordMode {
    type Err = Error;

    /// `none`, `once`, `new_episodes` (or `new-episodes`) or `all`, in any case.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "none" => Ok(RecordMode::None),
            "once" => Ok(RecordMode::Once),
            "new_episodes" => Ok(RecordMode::NewEpisodes),
            "all" => Ok(RecordMode::All),
            _ => Err(Error::new(
                ErrorKind::InvalidInput,
                format!("unknown record mode {s:?}: expected none, once, new_episodes or all"),
            )),
        }
    }
}

impl fmt::Display for RecordMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a [`Recorder`]'s record mode came from: what a request with no
/// recorded answer says, so the reader knows what to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModeSource {
    /// [`RECORD_ENV`].
    Env,
    /// [`Recorder::with_mode`], which the variable does not override.
    Code,
    /// [`Recorder::with_default_mode`], the variable being unset.
    CodeDefault,
    /// The default under CI (the `CI` variable set).
    Ci,
    /// The default elsewhere.
    Default,
    /// [`Recorder::replay`]: no live model.
    ReplayOnly,
}

impl ModeSource {
    pub(crate) fn of_env() -> ModeSource {
        let set = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if set(RECORD_ENV).is_some() {
            ModeSource::Env
        } else if set("CI").is_some_and(|c| !matches!(c.trim(), "0" | "false")) {
            ModeSource::Ci
        } else {
            ModeSource::Default
        }
    }

    pub(crate) fn describe(self, mode: RecordMode) -> String {
        match self {
            ModeSource::Env => format!("from {RECORD_ENV}={mode}"),
            ModeSource::Code => {
                format!("set in code by with_mode(RecordMode::{mode:?}), which {RECORD_ENV} does not override")
            }
            ModeSource::CodeDefault => format!("set in code by with_default_mode; {RECORD_ENV} is not set"),
            ModeSource::Ci => format!("the default under CI, as the CI variable is set and {RECORD_ENV} is not"),
            ModeSource::Default => format!("the default, as {RECORD_ENV} is not set"),
            ModeSource::ReplayOnly => "Recorder::replay has no live model".into(),
        }
    }
}

/// How to record what was missed, given where the mode came from.
pub(crate) fn record_advice(source: ModeSource, file: &str) -> String {
    match source {
        ModeSource::Code => format!(
            "to record it, change the with_mode call to RecordMode::NewEpisodes, or make it \
             with_default_mode so that {RECORD_ENV}=new_episodes can"
        ),
        _ => format!(
            "to record it, run with {RECORD_ENV}=new_episodes (add to the {file}) or {RECORD_ENV}=all (re-record it)"
        ),
    }
}

/// How fast a replay streams its chunks. Paced replays sleep on tokio's
/// timer, so they need a tokio runtime.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum Pacing {
    /// As fast as the consumer takes them (tests).
    #[default]
    Instant,
    /// With the delays recorded between chunks (demos).
    Recorded,
    /// With the recorded delays multiplied by a factor (`0.5`: twice as fast).
    Scaled(f64),
}

impl Pacing {
    fn delay(self, ms: u64) -> Option<Duration> {
        self.delay_ms(ms as f64)
    }

    /// The wait for `ms` recorded milliseconds, if any.
    pub(crate) fn delay_ms(self, ms: f64) -> Option<Duration> {
        let factor = match self {
            Pacing::Instant => return None,
            Pacing::Recorded => 1.0,
            Pacing::Scaled(f) if f.is_finite() && f > 0.0 => f,
            Pacing::Scaled(_) => return None,
        };
        // A file's times can be anything: a wait too long to represent is none.
        if ms > 0.0 {
            Duration::try_from_secs_f64(ms * factor / 1000.0).ok()
        } else {
            None
        }
    }
}

/// The words of a text (runs of letters and digits), for telling apart
/// requests equally close by lines.
fn word_set(text: &str) -> std::collections::HashSet<&str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// How much two word sets share: |A ∩ B| / |A ∪ B|.
fn overlap(a: &std::collections::HashSet<&str>, b: &std::collections::HashSet<&str>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// The model of a replay-only [`Recorder`]: there is none (no value of this
/// type exists).
#[derive(Debug)]
pub enum Offline {}

impl ChatModel for Offline {
    fn profile(&self) -> &ModelProfile {
        match *self {}
    }

    fn stream_chat<'a>(&'a self, _request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        match *self {}
    }
}

struct State {
    cassette: Cassette,
    /// Per interaction: replayed (or recorded) in this session already.
    played: Vec<bool>,
    /// Whether the cassette file existed when the recorder was made.
    existed: bool,
    /// Tests: writes fail after this many bytes.
    fault: Option<usize>,
}

/// A chat model that records each call in a cassette file, or replays it
/// from there without calling the model (see the crate docs for the file).
///
/// It implements [`ChatModel`], so it goes wherever the model went: in a
/// chain, with `bind_tools`, inside a tool. Its runs have the model's name
/// and metadata, so a replayed run's events are the recorded run's events.
///
/// The record mode is [`RECORD_ENV`]'s when that is set, else the one
/// [`with_default_mode`](Self::with_default_mode) gives, else `none` under
/// CI and `once` elsewhere; [`with_mode`](Self::with_mode) forces one over
/// the variable. A request with no recorded answer says which of these set
/// the mode and what to change. Each recorded answer plays once, in order;
/// [`allow_repeats`](Self::allow_repeats) lets the same request have the
/// same answer again.
///
/// ```
/// use runwright::{GenericFakeChatModel, RunnableExt};
/// use runwright_recorder::{RecordMode, Recorder};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("rw-doc-{}", std::process::id()));
/// let path = dir.join("hello.jsonl");
/// // Recording: the live model answers, the cassette keeps the answer.
/// let live = Recorder::new(GenericFakeChatModel::new(["hello there"]), &path)?
///     .with_default_mode(RecordMode::Once);
/// assert_eq!(live.invoke("hi".into()).await?.text(), "hello there");
///
/// // Replaying: no model at all.
/// let replay = Recorder::replay(&path)?;
/// assert_eq!(replay.invoke("hi".into()).await?.text(), "hello there");
///
/// // A request nobody recorded is an error that shows the difference.
/// let err = replay.invoke("bye".into()).await.unwrap_err();
/// assert!(err.message().contains("no recorded answer"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
pub struct Recorder<M = Offline> {
    model: Option<M>,
    profile: ModelProfile,
    /// A replay-only recorder's invocation parameters (the cassette's).
    replay_params: Map,
    path: PathBuf,
    mode: RecordMode,
    mode_source: ModeSource,
    /// Whether a recorded answer may play again for the same request.
    repeats: bool,
    redactions: Redactions,
    pacing: Pacing,
    state: Mutex<State>,
}

impl<M> std::fmt::Debug for Recorder<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("model", &self.profile.name())
            .field("path", &self.path)
            .field("mode", &self.mode)
            .field("live", &self.model.is_some())
            .finish_non_exhaustive()
    }
}

fn load(path: &Path, model: &str) -> Result<(Cassette, bool)> {
    if path.exists() {
        Ok((Cassette::read(path)?, true))
    } else {
        Ok((Cassette::new(model, Map::new(), Map::new()), false))
    }
}

fn profile_metadata(profile: &ModelProfile) -> Map {
    let mut m = profile.metadata().clone();
    m.shift_remove("lc_versions");
    m
}

impl<M: ChatModel> Recorder<M> {
    /// Wraps `model`, with the cassette at `path` (read now if it exists).
    /// The record mode is the environment's ([`RecordMode::from_env`]) until
    /// [`with_mode`](Self::with_mode) sets one.
    pub fn new(model: M, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let mode = RecordMode::from_env()?;
        let profile = model.profile().clone();
        let (cassette, existed) = load(&path, profile.name())?;
        let played = vec![false; cassette.interactions().len()];
        let recorder = Recorder {
            model: Some(model),
            profile,
            replay_params: Map::new(),
            path,
            mode,
            mode_source: ModeSource::of_env(),
            repeats: false,
            redactions: Redactions::default(),
            pacing: Pacing::Instant,
            state: Mutex::new(State {
                cassette,
                played,
                existed,
                fault: None,
            }),
        };
        Ok(recorder.set_mode(mode))
    }

    /// The live model, if there is one.
    pub fn inner(&self) -> Option<&M> {
        self.model.as_ref()
    }
}

impl Recorder<Offline> {
    /// Replays the cassette at `path` with no model behind it: every
    /// request must have a recorded answer. The runs get the recorded
    /// model's name and metadata, and the recorded invocation parameters.
    pub fn replay(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        if !path.exists() {
            return Err(format_error(
                &path.display().to_string(),
                None,
                "no such cassette (record it first: run with a live model and RUNWRIGHT_RECORD=once)",
            ));
        }
        let cassette = Cassette::read(&path)?;
        let header = cassette.header();
        let mut profile = ModelProfile::chat(&header.model);
        for (k, v) in &header.metadata {
            profile = profile.with_metadata(k, v.clone());
        }
        let replay_params = header.params.clone();
        let played = vec![false; cassette.interactions().len()];
        Ok(Recorder {
            model: None,
            profile,
            replay_params,
            path,
            mode: RecordMode::None,
            mode_source: ModeSource::ReplayOnly,
            repeats: false,
            redactions: Redactions::default(),
            pacing: Pacing::Instant,
            state: Mutex::new(State {
                cassette,
                played,
                existed: true,
                fault: None,
            }),
        })
    }
}

impl<M: ChatModel> Recorder<M> {
    /// Sets the record mode, whatever [`RECORD_ENV`] says: for code that
    /// must record (a `--record` flag) or must not. For a project default
    /// that the variable can change, use
    /// [`with_default_mode`](Self::with_default_mode). With
    /// [`RecordMode::All`] the recorded calls are forgotten at once (the
    /// file keeps them until the first new call is written).
    #[must_use]
    pub fn with_mode(self, mode: RecordMode) -> Self {
        let mut r = self.set_mode(mode);
        r.mode_source = ModeSource::Code;
        r
    }

    /// Sets the record mode used while [`RECORD_ENV`] is unset (it takes
    /// the place of the CI and local defaults); `RUNWRIGHT_RECORD=new_episodes`
    /// still records what is missing. What tests should use.
    ///
    /// ```
    /// use runwright::GenericFakeChatModel;
    /// use runwright_recorder::{RecordMode, Recorder};
    /// # let dir = std::env::temp_dir().join(format!("rw-doc-default-mode-{}", std::process::id()));
    /// let model = Recorder::new(GenericFakeChatModel::new(["hi"]), dir.join("c.jsonl"))?
    ///     .with_default_mode(RecordMode::None);
    /// if std::env::var_os("RUNWRIGHT_RECORD").is_none() {
    ///     assert_eq!(model.mode(), RecordMode::None);
    /// }
    /// # Ok::<(), runwright::Error>(())
    /// ```
    #[must_use]
    pub fn with_default_mode(self, mode: RecordMode) -> Self {
        if self.mode_source == ModeSource::Env {
            return self;
        }
        let mut r = self.set_mode(mode);
        r.mode_source = ModeSource::CodeDefault;
        r
    }

    fn set_mode(mut self, mode: RecordMode) -> Self {
        self.mode = mode;
        if mode == RecordMode::All {
            let st = self.state.get_mut();
            st.cassette.truncate(0);
            st.played.clear();
        }
        self
    }

    /// Sets the fields never written (the default: [`Redactions::default`]).
    /// Requests are compared after redaction.
    #[must_use]
    pub fn with_redactions(mut self, redactions: Redactions) -> Self {
        self.redactions = redactions;
        self
    }

    /// Sets how fast replays stream ([`Pacing::Instant`] by default).
    #[must_use]
    pub fn with_pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// Lets a recorded answer play again when the same request comes again
    /// and every recording of it has played: for code that asks the same
    /// thing several times (a retry, a loop) where one recording will do.
    /// Off by default: each recorded answer plays once, in order, so two
    /// identical requests with different recorded answers replay as they
    /// were recorded.
    #[must_use]
    pub fn allow_repeats(mut self, allow: bool) -> Self {
        self.repeats = allow;
        self
    }

    /// The record mode.
    pub fn mode(&self) -> RecordMode {
        self.mode
    }

    /// The cassette's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cassette as it is now: what was read, and what was recorded since.
    pub fn cassette(&self) -> Cassette {
        self.state.lock().cassette.clone()
    }

    /// Makes every cassette write fail after `bytes` bytes, as if the
    /// process died mid-write.
    #[cfg(test)]
    pub(crate) fn fail_writes_after(self, bytes: usize) -> Self {
        self.state.lock().fault = Some(bytes);
        self
    }

    fn decide(&self, key: &Value) -> Result<Option<Interaction>> {
        let mut st = self.state.lock();
        if self.mode != RecordMode::All {
            let st = &mut *st;
            let same = |i: &usize| st.cassette.interactions()[*i].request == *key;
            let found = (0..st.played.len()).filter(same).find(|&i| !st.played[i]);
            // With repeats allowed, the last recording of it plays again.
            let found = found.or_else(|| self.repeats.then(|| (0..st.played.len()).rfind(same)).flatten());
            if let Some(i) = found {
                st.played[i] = true;
                return Ok(Some(st.cassette.interactions()[i].clone()));
            }
        }
        let may_record = match self.mode {
            RecordMode::None => false,
            RecordMode::Once => !st.existed,
            RecordMode::NewEpisodes | RecordMode::All => true,
        };
        if may_record && self.model.is_some() {
            return Ok(None);
        }
        Err(self.miss(&st, key))
    }

    /// The error for a request with no answer: the request, and its diff
    /// from the nearest recorded one.
    fn miss(&self, st: &State, key: &Value) -> Error {
        let source = self.mode_source.describe(self.mode);
        let why = if self.model.is_none() {
            "this recorder replays only: it has no live model".to_string()
        } else {
            match self.mode {
                RecordMode::Once => {
                    format!("record mode once ({source}): the cassette exists, so new requests are not recorded")
                }
                _ => format!("record mode {} ({source}): replay only", self.mode),
            }
        };
        let request = pretty(key);
        let mut msg = format!(
            "{}: no recorded answer for this request ({why})\nrequest:\n{request}\n",
            self.path.display()
        );
        let interactions = st.cassette.interactions();
        // The most similar by lines; on a tie, the one sharing the most
        // words with the request; then the first.
        let words = word_set(&request);
        let nearest = interactions
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let text = pretty(&it.request);
                let ratio = TextDiff::from_lines(&text, &request).ratio();
                let overlap = overlap(&word_set(&text), &words);
                (i, text, ratio, overlap)
            })
            .max_by(|a, b| a.2.total_cmp(&b.2).then(a.3.total_cmp(&b.3)).then(b.0.cmp(&a.0)));
        let line = |i: usize| {
            st.cassette
                .line_of(i)
                .map(|l| format!(", line {l}"))
                .unwrap_or_default()
        };
        match nearest {
            Some((i, text, ..)) if text == request => msg.push_str(&format!(
                "interaction {i}{} has this request, but it was replayed already: each recorded answer plays \
                 once, unless the recorder allows repeats (Recorder::allow_repeats)\n",
                line(i)
            )),
            Some((i, text, ..)) => {
                let diff = TextDiff::from_lines(&text, &request);
                let diff = diff
                    .unified_diff()
                    .context_radius(2)
                    .header("recorded", "request")
                    .to_string();
                msg.push_str(&format!(
                    "nearest recorded request: interaction {i}{}; diff from it to this request:\n{diff}",
                    line(i)
                ));
            }
            None => msg.push_str("the cassette has no recorded requests\n"),
        }
        msg.push_str(&if self.model.is_some() {
            record_advice(self.mode_source, "cassette")
        } else {
            format!("to record it, wrap the live model in Recorder::new and run with {RECORD_ENV}=new_episodes")
        });
        Error::new(ErrorKind::InvalidInput, msg)
    }

    fn replay_stream(&self, it: Interaction) -> ChunkStream<'static, AIMessageChunk> {
        let pacing = self.pacing;
        Box::pin(async_stream::stream! {
            for c in it.chunks {
                if let Some(d) = pacing.delay(c.delay_ms) {
                    tokio::time::sleep(d).await;
                }
                yield Ok(c.chunk);
            }
            if let Some(e) = it.error {
                yield Err(e.to_error());
            }
        })
    }

    fn record_stream<'a>(
        &'a self,
        model: &'a M,
        request: ChatRequest,
        key: Value,
        secrets: Vec<String>,
    ) -> ChunkStream<'a, AIMessageChunk> {
        Box::pin(async_stream::stream! {
            let mut inner = model.stream_chat(request);
            let mut chunks = Vec::new();
            let mut last = tokio::time::Instant::now();
            let mut failure = None;
            let mut redaction_failure = None;
            while let Some(item) = inner.next().await {
                match item {
                    Ok(chunk) => {
                        let now = tokio::time::Instant::now();
                        let delay_ms = u64::try_from(now.duration_since(last).as_millis()).unwrap_or(u64::MAX);
                        last = now;
                        match self.redact_chunk(&chunk, &secrets) {
                            Ok(c) => chunks.push(RecordedChunk { chunk: c, delay_ms }),
                            Err(e) => redaction_failure = Some(e),
                        }
                        yield Ok(chunk);
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            drop(inner);
            let interaction = Interaction { request: key, chunks, error: failure.as_ref().map(RecordedError::of) };
            let saved = match redaction_failure {
                Some(e) => Err(e),
                None => self.finish(interaction),
            };
            if let Err(e) = saved {
                yield Err(e);
                return;
            }
            if let Some(e) = failure {
                yield Err(e);
            }
        })
    }

    fn redact_chunk(&self, chunk: &AIMessageChunk, secrets: &[String]) -> Result<AIMessageChunk> {
        let mut v = serde_json::to_value(chunk)?;
        self.redactions.redact(&mut v, secrets);
        serde_json::from_value(v).map_err(|e| {
            Error::new(
                ErrorKind::Step,
                format!("{}: cannot record a chunk after redaction: {e}", self.path.display()),
            )
        })
    }

    /// Adds a finished call to the cassette and writes the file. A failed
    /// write leaves the file and the in-memory cassette as they were.
    fn finish(&self, it: Interaction) -> Result<()> {
        let mut params = Value::Object(self.invocation_params());
        self.redactions.apply(&mut params);
        let mut st = self.state.lock();
        {
            let h = st.cassette.header_mut();
            h.model = self.profile.name().to_owned();
            h.metadata = profile_metadata(&self.profile);
            h.params = match params {
                Value::Object(m) => m,
                _ => Map::new(),
            };
        }
        st.cassette.push(it);
        st.played.push(true);
        let text = st.cassette.to_jsonl();
        let written = match st.fault {
            Some(n) => write_atomic(&self.path, text.as_bytes(), Some(&move |f| failing(f, n))),
            None => write_atomic(&self.path, text.as_bytes(), None),
        };
        if written.is_err() {
            let n = st.cassette.interactions().len() - 1;
            st.cassette.truncate(n);
            st.played.pop();
        }
        written
    }
}

impl<M: ChatModel> ChatModel for Recorder<M> {
    fn profile(&self) -> &ModelProfile {
        &self.profile
    }

    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        let (key, secrets) = normalize_request_secrets(&request, &self.redactions);
        match (self.decide(&key), &self.model) {
            (Ok(Some(it)), _) => self.replay_stream(it),
            (Ok(None), Some(model)) => self.record_stream(model, request, key, secrets),
            (Ok(None), None) => Box::pin(futures::stream::iter([Err(Error::new(
                ErrorKind::Usage,
                "a replay-only recorder cannot record",
            ))])),
            (Err(e), _) => Box::pin(futures::stream::iter([Err(e)])),
        }
    }

    fn bound_tools(&self) -> &[Value] {
        match &self.model {
            Some(m) => m.bound_tools(),
            None => &[],
        }
    }

    fn invocation_params(&self) -> Map {
        match &self.model {
            Some(m) => m.invocation_params(),
            None => self.replay_params.clone(),
        }
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A writer that fails after `left` bytes, as a process killed mid-write.
struct Failing {
    file: File,
    left: usize,
}

pub(crate) fn failing(file: File, after: usize) -> Box<dyn Write> {
    Box::new(Failing { file, left: after })
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("simulated failure mid-write"));
        }
        let n = buf.len().min(self.left);
        let n = self.file.write(&buf[..n])?;
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runwright::{GenericFakeChatModel, RunnableExt};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("runwright-recorder-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn a_write_that_fails_midway_leaves_the_previous_cassette_intact() {
        let dir = scratch("kill");
        let path = dir.join("kept.jsonl");
        let first = Recorder::new(GenericFakeChatModel::new(["hello there"]), &path)
            .unwrap()
            .with_mode(RecordMode::Once);
        first.invoke("hi".into()).await.unwrap();
        let before = std::fs::read(&path).unwrap();

        // Adding an episode: the write dies after 100 bytes, as a killed
        // process would.
        let second = Recorder::new(GenericFakeChatModel::new(["never kept"]), &path)
            .unwrap()
            .with_mode(RecordMode::NewEpisodes)
            .fail_writes_after(100);
        let err = second.invoke("something new".into()).await.unwrap_err();
        assert!(err.message().contains("simulated failure mid-write"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "the old cassette is untouched");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["kept.jsonl"], "no temporary file is left behind");
        assert_eq!(second.cassette().interactions().len(), 1, "memory matches the file");

        // The old cassette still replays.
        let replay = Recorder::replay(&path).unwrap();
        assert_eq!(replay.invoke("hi".into()).await.unwrap().text(), "hello there");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn pacing_scales_recorded_delays() {
        assert_eq!(Pacing::Instant.delay(100), None);
        assert_eq!(Pacing::Recorded.delay(100), Some(Duration::from_millis(100)));
        assert_eq!(Pacing::Scaled(2.0).delay(100), Some(Duration::from_millis(200)));
        assert_eq!(Pacing::Scaled(f64::NAN).delay(100), None);
        assert_eq!(Pacing::Recorded.delay(0), None);
    }

    #[test]
    fn record_modes_parse_from_their_names() {
        for m in [
            RecordMode::None,
            RecordMode::Once,
            RecordMode::NewEpisodes,
            RecordMode::All,
        ] {
            assert_eq!(m.as_str().parse::<RecordMode>().unwrap(), m);
        }
        assert_eq!("New-Episodes".parse::<RecordMode>().unwrap(), RecordMode::NewEpisodes);
        let e = RecordMode::resolve(Some("sometimes"), None).unwrap_err();
        assert_eq!(
            e.message(),
            "RUNWRIGHT_RECORD=sometimes: unknown record mode \"sometimes\": expected none, once, new_episodes or all"
        );
        assert_eq!(RecordMode::resolve(Some(""), Some("1")).unwrap(), RecordMode::None);
        assert_eq!(RecordMode::resolve(None, Some("false")).unwrap(), RecordMode::Once);
    }
}
