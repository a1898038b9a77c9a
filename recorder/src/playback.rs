//! Where a program that ships a cassette takes its model's answers from:
//! the cassette (the default), the live model, or the live model while
//! recording the cassette again.

use std::fmt;

use runwright::{Error, Result};

/// Where a program's model calls go, as its command line asks: replayed
/// from the cassette unless `--live` or `--record` is given.
///
/// Only the command line decides. Credentials or an endpoint in the
/// environment (`OPENAI_API_KEY`, `OPENAI_BASE_URL`) never make a program go
/// live by themselves: many shells export a key, and a program that is meant
/// to replay offline would then call a real endpoint (and fail, or spend).
/// They are read once the command line has asked for a live model.
///
/// ```
/// use runwright_recorder::Playback;
///
/// assert_eq!(Playback::from_args(Vec::<String>::new()).unwrap(), Playback::Replay);
/// assert_eq!(Playback::from_args(["--live"]).unwrap(), Playback::Live);
/// assert_eq!(Playback::from_args(["--record"]).unwrap(), Playback::Record);
/// assert!(Playback::from_args(["--lvie"]).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Playback {
    /// Answers come from the cassette: offline, no key needed.
    #[default]
    Replay,
    /// Calls go to the live model; nothing is recorded.
    Live,
    /// Calls go to the live model and the cassette is recorded again
    /// ([`RecordMode::All`](crate::RecordMode::All)).
    Record,
}

impl Playback {
    /// The playback that a program's arguments (without the program name)
    /// ask for: `--live`, `--record`, or neither for [`Replay`](Self::Replay).
    /// Any other argument, or both flags, is an error that lists the
    /// accepted ones.
    pub fn from_args<I>(args: I) -> Result<Playback>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut chosen = Playback::Replay;
        for arg in args {
            let next = match arg.as_ref() {
                "--live" => Playback::Live,
                "--record" => Playback::Record,
                other => {
                    return Err(Error::msg(format!(
                        "unknown argument {other:?}: expected nothing (replay the cassette), --live or --record"
                    )))
                }
            };
            if chosen != Playback::Replay && chosen != next {
                return Err(Error::msg("--live and --record exclude each other"));
            }
            chosen = next;
        }
        Ok(chosen)
    }

    /// Whether the live model is called ([`Live`](Self::Live) or
    /// [`Record`](Self::Record)).
    pub fn is_live(self) -> bool {
        self != Playback::Replay
    }
}

impl fmt::Display for Playback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Playback::Replay => "replay",
            Playback::Live => "live",
            Playback::Record => "record",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Playback;

    #[test]
    fn no_arguments_replay() {
        assert_eq!(Playback::from_args(Vec::<String>::new()).unwrap(), Playback::Replay);
        assert!(!Playback::Replay.is_live());
    }

    #[test]
    fn flags_choose_live_or_record() {
        assert_eq!(Playback::from_args(["--live"]).unwrap(), Playback::Live);
        assert_eq!(Playback::from_args(["--record"]).unwrap(), Playback::Record);
        assert_eq!(Playback::from_args(["--live", "--live"]).unwrap(), Playback::Live);
        assert!(Playback::Live.is_live() && Playback::Record.is_live());
    }

    #[test]
    fn conflicting_or_unknown_arguments_are_errors() {
        let both = Playback::from_args(["--live", "--record"]).unwrap_err();
        assert!(both.to_string().contains("exclude each other"), "{both}");
        let typo = Playback::from_args(["--lvie"]).unwrap_err();
        assert!(typo.to_string().contains("\"--lvie\""), "{typo}");
    }
}
