//! Record modes (when a recorder or a recording calls the live thing and
//! records, and when it replays), where the mode came from, and the pace of
//! replays.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use runwright::{Error, ErrorKind, Result};

/// The environment variable that chooses the record mode: `none`, `once`,
/// `new_episodes` or `all`. It overrides the code's default
/// ([`Recorder::with_default_mode`](crate::Recorder::with_default_mode)), not a mode the code forces
/// ([`Recorder::with_mode`](crate::Recorder::with_mode)).
pub const RECORD_ENV: &str = "RUNWRIGHT_RECORD";

/// When a [`Recorder`](crate::Recorder) calls the live model and records, and when it
/// replays (and the same for a [`Recording`](crate::Recording)'s calls): vcrpy's record modes.
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

/// Where a [`Recorder`](crate::Recorder)'s or a
/// [`Recording`](crate::Recording)'s record mode came from: what a miss
/// says, so the reader knows what to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModeSource {
    /// [`RECORD_ENV`].
    Env,
    /// [`Recorder::with_mode`](crate::Recorder::with_mode), which the variable does not override.
    Code,
    /// [`Recorder::with_default_mode`](crate::Recorder::with_default_mode), the variable being unset.
    CodeDefault,
    /// The default under CI (the `CI` variable set).
    Ci,
    /// The default elsewhere.
    Default,
    /// [`Recorder::replay`](crate::Recorder::replay): no live model.
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
    pub(crate) fn delay(self, ms: u64) -> Option<Duration> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
