//! [`Recorder`]: a chat model that records its calls in a cassette, or
//! replays them from there. A thin layer over the session machinery a
//! whole-run [`Recording`](crate::Recording) uses too: the recorder puts each
//! call of its model through its own session (an interceptor of its own),
//! whose file is a cassette.

use std::path::Path;
use std::sync::Arc;

use runwright::context::intercept_stream;
use runwright::intercept::{replay_json, CallKind};
use runwright::models::{ChatModel, ChatRequest, ModelProfile};
use runwright::{AIMessageChunk, ChunkStream, Error, ErrorKind, Map, Result};
use serde_json::Value;

use crate::cassette::{request_json, Cassette, CassetteFile, RecordedModel};
use crate::files::format_error;
use crate::mode::{ModeSource, Pacing, RecordMode};
use crate::redact::Redactions;
use crate::session::{Session, Settings};

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

/// A chat model that records each call in a cassette file, or replays it
/// from there without calling the model (see the crate docs for the file).
///
/// It implements [`ChatModel`], so it goes wherever the model went: in a
/// chain, with `bind_tools`, inside a tool. Its runs have the model's name
/// and metadata, so a replayed run's events are the recorded run's events.
///
/// The record mode is [`RECORD_ENV`](crate::RECORD_ENV)'s when that is
/// set, else the one [`with_default_mode`](Self::with_default_mode) gives,
/// else `none` under CI and `once` elsewhere; [`with_mode`](Self::with_mode)
/// forces one over the variable. A request with no recorded answer says
/// which of these set the mode and what to change. Each recorded answer
/// plays once, in order; [`allow_repeats`](Self::allow_repeats) lets the
/// same request have the same answer again.
///
/// It records and replays as a whole-run [`Recording`](crate::Recording)
/// does, with the same machinery: the model's calls go through a session of
/// the recorder's own, which matches them on their request alone (wherever
/// the model is used), and whose file is a cassette. Under a `Recording`
/// the model's calls are kept in both files; a replay of the recording
/// answers them before the recorder is asked.
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
    session: Arc<Session>,
    /// The session's file, for [`cassette`](Self::cassette).
    file: Arc<CassetteFile>,
}

impl<M> std::fmt::Debug for Recorder<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("model", &self.profile.name())
            .field("path", &self.session.path())
            .field("mode", &self.session.settings().mode)
            .field("live", &self.model.is_some())
            .finish_non_exhaustive()
    }
}

impl<M: ChatModel> Recorder<M> {
    /// Wraps `model`, with the cassette at `path` (read now if it exists).
    /// The record mode is the environment's ([`RecordMode::from_env`]) until
    /// [`with_mode`](Self::with_mode) sets one.
    pub fn new(model: M, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let settings = Settings::from_env()?;
        let profile = model.profile().clone();
        let (cassette, existed) = if path.exists() {
            (Cassette::read(&path)?, true)
        } else {
            (Cassette::new(profile.name(), Map::new(), Map::new()), false)
        };
        let mut metadata = profile.metadata().clone();
        metadata.shift_remove("lc_versions");
        let live = RecordedModel {
            name: profile.name().to_owned(),
            metadata,
            params: model.invocation_params(),
        };
        let file = Arc::new(CassetteFile::new(cassette.header().clone(), Some(live)));
        let session = Session::new(path, file.clone(), cassette.entries(), existed, settings);
        Ok(Recorder {
            model: Some(model),
            profile,
            replay_params: Map::new(),
            session,
            file,
        })
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
        let settings = Settings {
            live: false,
            ..Settings::new(RecordMode::None, ModeSource::ReplayOnly)
        };
        let file = Arc::new(CassetteFile::new(header.clone(), None));
        let session = Session::new(path, file.clone(), cassette.entries(), true, settings);
        Ok(Recorder {
            model: None,
            profile,
            replay_params,
            session,
            file,
        })
    }
}

impl<M: ChatModel> Recorder<M> {
    /// Sets the record mode, whatever [`RECORD_ENV`](crate::RECORD_ENV) says: for code that
    /// must record (a `--record` flag) or must not. For a project default
    /// that the variable can change, use
    /// [`with_default_mode`](Self::with_default_mode). With
    /// [`RecordMode::All`] the recorded calls are forgotten at once (the
    /// file keeps them until the first new call is written).
    #[must_use]
    pub fn with_mode(mut self, mode: RecordMode) -> Self {
        self.session = self.session.with_mode(mode);
        self
    }

    /// Sets the record mode used while [`RECORD_ENV`](crate::RECORD_ENV) is unset (it takes
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
    pub fn with_default_mode(mut self, mode: RecordMode) -> Self {
        self.session = self.session.with_default_mode(mode);
        self
    }

    /// Sets the fields never written (the default: [`Redactions::default`]).
    /// Requests are compared after redaction.
    #[must_use]
    pub fn with_redactions(mut self, redactions: Redactions) -> Self {
        self.session = self.session.with(|s| s.redactions = redactions);
        self
    }

    /// Sets how fast replays stream ([`Pacing::Instant`] by default).
    #[must_use]
    pub fn with_pacing(mut self, pacing: Pacing) -> Self {
        self.session = self.session.with(|s| s.pacing = pacing);
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
        self.session = self.session.with(|s| s.repeats = allow);
        self
    }

    /// The record mode.
    pub fn mode(&self) -> RecordMode {
        self.session.settings().mode
    }

    /// The cassette's path.
    pub fn path(&self) -> &Path {
        self.session.path()
    }

    /// The cassette as it is now: what was read, and what was recorded since.
    pub fn cassette(&self) -> Cassette {
        let header = self
            .file
            .header(self.session.wrote(), &self.session.settings().redactions);
        let calls = self.session.calls();
        let calls: Vec<_> = calls.iter().collect();
        // Every finished call converts: one that did not was never written,
        // so never finished.
        Cassette::of_entries(header.clone(), &calls, "")
            .unwrap_or_else(|_| Cassette::new(&header.model, header.metadata, header.params))
    }

    /// Makes every cassette write fail after `bytes` bytes, as if the
    /// process died mid-write.
    #[cfg(test)]
    pub(crate) fn fail_writes_after(self, bytes: usize) -> Self {
        self.session.fail_writes_after(bytes);
        self
    }
}

fn decode_chunk(v: Value) -> Result<AIMessageChunk> {
    replay_json("chat model", v)
}

impl<M: ChatModel> ChatModel for Recorder<M> {
    fn profile(&self) -> &ModelProfile {
        &self.profile
    }

    fn stream_chat<'a>(&'a self, request: ChatRequest) -> ChunkStream<'a, AIMessageChunk> {
        let input = request_json(&request);
        let live = move || match &self.model {
            Some(model) => model.stream_chat(request),
            // The session never records without a live model.
            None => Box::pin(futures::stream::iter([Err(Error::new(
                ErrorKind::Usage,
                "a replay-only recorder cannot record",
            ))])) as ChunkStream<'a, AIMessageChunk>,
        };
        intercept_stream(
            &*self.session,
            CallKind::ChatModel,
            self.profile.name(),
            input,
            live,
            decode_chunk,
        )
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

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
}
