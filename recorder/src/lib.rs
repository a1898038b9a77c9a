//! runwright-recorder: trace files, cassettes, deterministic replay, insta
//! snapshots of event streams, and the `runwright` command line tool.
//!
//! # Trace files
//!
//! A [`Trace`] is the normalized event stream of one run, written as JSON
//! Lines: a header line, then one event per line.
//!
//! ```text
//! {"format":"runwright-trace","version":1,"runwright":"0.1.0","name":"joke","root":"RunnableSequence","events":3}
//! {"event":"on_chain_start","data":{"input":"hi"},"name":"RunnableSequence","tags":[],"run_id":"run-0","metadata":{},"parent_ids":[]}
//! {"event":"on_chain_stream","run_id":"run-0","name":"RunnableSequence","tags":[],"metadata":{},"data":{"chunk":"HI"},"parent_ids":[]}
//! {"event":"on_chain_end","data":{"output":"HI"},"run_id":"run-0","name":"RunnableSequence","tags":[],"metadata":{},"parent_ids":[]}
//! ```
//!
//! Each event is LangChain's `astream_events` v2 JSON, normalized as the
//! reference traces are ([`normalize`]): run ids become `run-0, run-1, ...`
//! in order of first appearance, other UUIDs `uuid-0, ...`, metadata keys
//! are sorted, times are redacted; `metadata.lc_versions` (which names the
//! runwright version, as the header does) becomes `"<versions>"`, so traces
//! and snapshots stay the same across releases. A stream that failed ends with one
//! `{"error": {"type", "message", "step"}}` line. A trace recorded with
//! [`Trace::record_timed`] also has `"at_ms"` (milliseconds since the first
//! event) on each event, so `runwright trace show` can print durations; such
//! a trace is of course no longer the same on every run.
//!
//! ## Canonical order
//!
//! A trace is the same file on every run of a deterministic program, also
//! when parallel branches interleave differently from run to run. The events
//! are put in a canonical order first:
//!
//! * Each run's own events, and the order of the events in one branch,
//!   are kept as they came.
//! * Concurrent siblings are sorted, and their events de-interleaved.
//!   Concurrent siblings are the branches of a map (runs tagged
//!   `map:key:K` under one parent), and siblings without a step tag (or with
//!   a `graph:step:N` tag) whose events overlapped in time. They are sorted
//!   by their tag (numbers compared as numbers), then name, then input.
//! * Over the stretch of the stream where a group of concurrent siblings
//!   ran (from the first event of any of them to the last), the events of
//!   each sibling's subtree come as one block, in sorted order. Stream
//!   events of the map itself and of its ancestors (a map's
//!   `{key: chunk}`, and the root forwarding it) belong to the block of the
//!   branch whose event came just before them: they are that branch's chunk
//!   passing up. Any other event of the stretch (a later step starting on
//!   the map's first chunk, a custom event) comes after the blocks, in the
//!   order it came.
//! * Groups are handled from the root down, so nested maps are sorted
//!   within their branch's block.
//! * A map's output is ordered by branch completion; in every event from the
//!   map's first branch event on, an object holding two or more of the map's
//!   keys gets those keys in sorted order (other keys keep their places).
//!
//! What the rule cannot make stable: a step whose *output* depends on the
//! order its inputs arrived (a parser folding a map's chunks as they come),
//! and concurrency expressed other than as a map that does not overlap in
//! one run but does in another. Sequences are never reordered: their order
//! is deterministic.
//!
//! # Cassettes
//!
//! A [`Recorder`] wraps a chat model and records each call in a
//! [`Cassette`] file, or replays it from there without the model (and
//! without the network). It is a [`ChatModel`](runwright::ChatModel) itself,
//! so it drops into any chain in place of the model. The record modes are
//! vcrpy's ([`RecordMode`]), chosen by `RUNWRIGHT_RECORD` ([`RECORD_ENV`])
//! over the code's default ([`Recorder::with_default_mode`]); secrets are
//! never written ([`Redactions`]); a request with no recorded answer is an
//! error that shows the request, its difference from the nearest recorded
//! one, where the record mode came from and how to record it. Each recorded
//! answer plays once unless [`Recorder::allow_repeats`] says otherwise.
//! A recorder is built on the machinery of a whole-run [`Recording`]
//! (matching, record modes, redaction, misses, atomic writes are one code);
//! it matches a call on its request alone, wherever the model is used.
//!
//! A program that ships its cassette (an example, a demo) replays it by
//! default and calls the live model only when its command line says so
//! ([`Playback`]): a key in the environment alone never makes it go live.
//!
//! ```text
//! {"format":"runwright-cassette","version":1,"runwright":"0.1.0","model":"ChatOpenAI","metadata":{...},"params":{"model":"gpt-4o-mini"},"interactions":1}
//! {"interaction":0,"request":{"messages":[{"type":"HumanMessage","content":"hi"}],"tools":[],"params":{"model":"gpt-4o-mini"}}}
//! {"interaction":0,"chunk":{"type":"AIMessageChunk","content":"Hello",...},"delay_ms":120}
//! {"interaction":0,"chunk":{"type":"AIMessageChunk","content":"!",...,"chunk_position":"last"},"delay_ms":8}
//! {"interaction":0,"end":{"chunks":2}}
//! ```
//!
//! # Files
//!
//! Trace files and cassettes are written atomically: to a temporary file in
//! the same folder, flushed to disk, then renamed over the old file. A crash
//! or a failed write leaves the old file as it was. Reading checks the
//! header's format and version and the announced count: a corrupt line, a
//! cut-off file or an unknown version is an error naming the file and line,
//! never a partial replay.
//!
//! # Snapshots
//!
//! [`assert_events_snapshot!`] snapshots an event stream with insta. By
//! default it keeps the run tree ([`view::tree`]): runs, inputs, outputs and
//! streamed text, each value once, so a changed word is one changed line;
//! `raw:` keeps the trace's event lines instead (without the header, which
//! names the runwright version). Review new and changed snapshots with
//! `cargo insta review`, after `cargo install cargo-insta` once. Under CI
//! (the `CI` variable set, as insta detects it) insta writes no snapshot
//! files: a new or changed snapshot fails the test, as long as
//! `INSTA_UPDATE` is left unset (or `no`).
//!
//! # Trajectories
//!
//! [`trajectory`] extracts what a run did (model turns and their tool calls,
//! tool runs, graph nodes) from its events or a trace file, and compares it
//! with the expected trajectory in agentevals' modes (`strict`,
//! `unordered`, `subset`, `superset`; tool arguments `exact`, `ignore`,
//! `subset`, `superset`, per tool if need be). A mismatch shows the two side
//! by side; [`assert_trajectory_snapshot!`] keeps one as a snapshot.
//!
//! # Reading traces
//!
//! [`view`] turns a trace into text: [`view::show`] is what `runwright
//! trace show FILE` prints (run ids, durations, clipped values),
//! [`view::tree`] what snapshots keep, [`view::diff`] what `runwright trace
//! diff A B` prints (the first divergence, the runs whose outputs or
//! streamed text differ, then the events). [`Trace::replay`] gives a trace
//! back as a live stream, paced as recorded (`runwright trace replay FILE`
//! prints it as JSON Lines), to build a front end against a recorded run.
//! The command itself: `cargo install runwright-recorder --features cli`,
//! then `runwright trace show FILE`.
//!
//! [`view::html`] is the run tree as one self-contained HTML page, what
//! `runwright trace view FILE [-o OUT.html]` writes (by default beside the
//! trace, as `FILE` with the extension `.html`): each run folds open and
//! shut, with its kind, name, input, output, streamed text, a model's tool
//! calls with their arguments, and errors marked; a timed trace gets a time
//! axis and a bar per run; a search box keeps the runs that match. The page
//! loads nothing (inline style and script, a content security policy that
//! forbids any fetch), so it opens from `file://`, offline, and can be
//! attached to a bug report or kept as a CI artifact.
//!
//! # Features
//!
//! * `snapshot` (default): `assert_events_snapshot!`, and the insta it uses.
//!   Without it the crate does not depend on insta.
//! * `cli`: the `runwright` command (`trace show`, `trace diff`, `trace
//!   view`), which prints or writes what [`view`] formats. It brings clap, so it is off by
//!   default: `cargo install runwright-recorder --features cli`, or in this
//!   workspace `cargo run -p runwright-recorder --features cli -- trace
//!   show FILE`.
// Without the `snapshot` feature, the docs' links to `assert_events_snapshot!`
// have nothing to point to; the default build still checks every link.
#![cfg_attr(not(feature = "snapshot"), allow(rustdoc::broken_intra_doc_links))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

mod canonical;
mod cassette;
mod files;
mod mode;
pub mod normalize;
mod playback;
mod recorder;
mod recording;
mod redact;
mod session;
#[cfg(feature = "snapshot")]
mod snapshot;
mod trace;
pub mod trajectory;
pub mod view;

pub use cassette::{
    normalize_request, Cassette, CassetteHeader, Interaction, RecordedChunk, RecordedError, CASSETTE_FORMAT,
    CASSETTE_VERSION,
};
pub use mode::{Pacing, RecordMode, RECORD_ENV};
pub use playback::Playback;
pub use recorder::{Offline, Recorder};
pub use recording::{Recording, RECORDING_FORMAT, RECORDING_VERSION};
pub use redact::Redactions;
pub use trace::{Trace, TraceHeader, TRACE_FORMAT, TRACE_VERSION};

/// Paths used by this crate's macros. Not a public API.
#[cfg(feature = "snapshot")]
#[doc(hidden)]
pub mod __private {
    pub use insta;
}
