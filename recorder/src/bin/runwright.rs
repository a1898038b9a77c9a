//! `runwright`: looks at trace files.
//!
//! ```text
//! runwright trace show FILE                 the run tree: names, kinds, durations, streamed text
//! runwright trace diff A B                  the first differences between two traces
//! runwright trace view FILE [-o OUT.html]   the run tree as one self-contained HTML page
//! ```
//!
//! Exit status: 0 when all went well (and, for `diff`, the traces hold the
//! same events), 1 when `diff` found differences, 2 on an error (a missing,
//! corrupt or truncated file, an output file that cannot be written).
//!
//! Built with the crate's `cli` feature.

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use futures::StreamExt;
use runwright_recorder::{view, Pacing, Trace};

#[derive(Parser)]
#[command(name = "runwright", version, about = "Looks at runwright trace files")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trace files (JSON Lines written by runwright-recorder).
    #[command(subcommand)]
    Trace(TraceCommand),
}

#[derive(Subcommand)]
enum TraceCommand {
    /// Prints the run tree: names, kinds, durations when recorded, streamed text.
    Show {
        /// The trace file.
        file: PathBuf,
    },
    /// Prints the trace's events as JSON Lines, as they came: waits between
    /// them as recorded when the trace is timed. For building a front end
    /// against a recorded run.
    Replay {
        /// The trace file.
        file: PathBuf,
        /// `recorded` (the default), `instant`, or a factor to scale the
        /// recorded waits by (`0.5`: twice as fast).
        #[arg(long, default_value = "recorded", value_parser = parse_pace)]
        pace: Pacing,
    },
    /// Prints the first differences between two traces (exit status 1 if any).
    Diff {
        /// The first trace file.
        a: PathBuf,
        /// The second trace file.
        b: PathBuf,
    },
    /// Writes the run tree as one self-contained HTML page (no network, opens
    /// from file://): kinds, names, time bars when recorded, inputs, outputs,
    /// streamed text, tool calls, errors; folding and a search box.
    View {
        /// The trace file.
        file: PathBuf,
        /// The page to write [default: FILE with the extension .html].
        #[arg(short, long, value_name = "OUT.html")]
        output: Option<PathBuf>,
    },
}

/// Where `trace view` writes: `-o`, else the trace's path with `.html`.
fn page_path(file: &Path, output: Option<PathBuf>) -> runwright::Result<PathBuf> {
    let out = output.unwrap_or_else(|| file.with_extension("html"));
    if out == file {
        return Err(runwright::Error::msg(format!(
            "{} is the trace itself: name another page with -o OUT.html",
            file.display()
        )));
    }
    Ok(out)
}

fn parse_pace(s: &str) -> Result<Pacing, String> {
    match s {
        "recorded" => Ok(Pacing::Recorded),
        "instant" => Ok(Pacing::Instant),
        factor => match factor.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(Pacing::Scaled(f)),
            _ => Err(format!(
                "{factor:?} is not a pace: recorded, instant, or a positive factor (0.5)"
            )),
        },
    }
}

fn replay(trace: &Trace, pace: Pacing) -> runwright::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| runwright::Error::new(runwright::ErrorKind::Usage, format!("no runtime: {e}")))?;
    runtime.block_on(async {
        let mut lines = trace.replay(pace);
        let mut out = std::io::stdout().lock();
        while let Some(line) = lines.next().await {
            // A closed pipe (`| head`) ends the replay.
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return Ok(ExitCode::SUCCESS);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

fn run(command: TraceCommand) -> runwright::Result<ExitCode> {
    match command {
        TraceCommand::Show { file } => Ok(print(&view::show(&Trace::read(&file)?))),
        TraceCommand::Replay { file, pace } => replay(&Trace::read(&file)?, pace),
        TraceCommand::Diff { a, b } => {
            let (ta, tb) = (Trace::read(&a)?, Trace::read(&b)?);
            let (na, nb) = (a.display().to_string(), b.display().to_string());
            match view::diff((&na, &ta), (&nb, &tb)) {
                None => Ok(print(&format!(
                    "{na} and {nb} hold the same {} events\n",
                    ta.events().len()
                ))),
                Some(d) => {
                    print(&d);
                    Ok(ExitCode::from(1))
                }
            }
        }
        TraceCommand::View { file, output } => {
            let trace = Trace::read(&file)?;
            let out = page_path(&file, output)?;
            std::fs::write(&out, view::html(&trace))
                .map_err(|e| runwright::Error::msg(format!("cannot write {}: {e}", out.display())))?;
            Ok(print(&format!("wrote {}\n", out.display())))
        }
    }
}

fn main() -> ExitCode {
    let Command::Trace(command) = Args::parse().command;
    match run(command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("runwright: {}", e.message());
            ExitCode::from(2)
        }
    }
}
