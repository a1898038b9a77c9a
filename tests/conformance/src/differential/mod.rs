//! The differential scenarios (`differential/` beside `src/`): the same
//! cases `differential/scenarios.py` runs on real LangChain, built here from
//! runwright's public API. One module per reference file, cases in the
//! file's order, each replaying its `call` records (a durable case, d10 on,
//! makes several calls on one thread: see `durable`).

mod d01_config_inheritance;
mod d02_retrievers;
mod d03_parallel;
mod d04_assign;
mod d05_fallbacks;
mod d06_retry;
mod d07_json_diff;
mod d08_graph_supersteps;
mod d09_nesting_errors_filters;
mod d10_interrupts;
mod d11_thread_state;
mod d12_subgraphs;
mod d13_tasks_checkpoints;
mod durable;

use crate::record::Record;
use crate::scenarios::common::Calls;

/// The reference files: `(stem, text)`.
pub const FILES: &[(&str, &str)] = &[
    (
        "d01_config_inheritance",
        include_str!("../../differential/reference/d01_config_inheritance.jsonl"),
    ),
    (
        "d02_retrievers",
        include_str!("../../differential/reference/d02_retrievers.jsonl"),
    ),
    (
        "d03_parallel",
        include_str!("../../differential/reference/d03_parallel.jsonl"),
    ),
    (
        "d04_assign",
        include_str!("../../differential/reference/d04_assign.jsonl"),
    ),
    (
        "d05_fallbacks",
        include_str!("../../differential/reference/d05_fallbacks.jsonl"),
    ),
    (
        "d06_retry",
        include_str!("../../differential/reference/d06_retry.jsonl"),
    ),
    (
        "d07_json_diff",
        include_str!("../../differential/reference/d07_json_diff.jsonl"),
    ),
    (
        "d08_graph_supersteps",
        include_str!("../../differential/reference/d08_graph_supersteps.jsonl"),
    ),
    (
        "d09_nesting_errors_filters",
        include_str!("../../differential/reference/d09_nesting_errors_filters.jsonl"),
    ),
    (
        "d10_interrupts",
        include_str!("../../differential/reference/d10_interrupts.jsonl"),
    ),
    (
        "d11_thread_state",
        include_str!("../../differential/reference/d11_thread_state.jsonl"),
    ),
    (
        "d12_subgraphs",
        include_str!("../../differential/reference/d12_subgraphs.jsonl"),
    ),
    (
        "d13_tasks_checkpoints",
        include_str!("../../differential/reference/d13_tasks_checkpoints.jsonl"),
    ),
];

/// The files whose cases normalize themselves as `scenarios.py`'s
/// `DurableNormalizer` does (checkpoint, task and interrupt ids): see
/// `durable`.
pub(crate) const DURABLE: &[&str] = &[
    "d10_interrupts",
    "d11_thread_state",
    "d12_subgraphs",
    "d13_tasks_checkpoints",
];

/// The call records of reference file `stem`, by case name.
pub(crate) fn calls_of(stem: &str) -> Calls {
    let text = FILES
        .iter()
        .find(|(s, _)| *s == stem)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no differential reference file {stem}"));
    Calls::in_text(text)
}

/// Runs the scenarios of reference file `stem` (or its `dNN` prefix).
/// Returns the stem of the file run and its records.
pub(crate) async fn run_file(name: &str) -> Result<(&'static str, Vec<Record>), String> {
    let stem = FILES
        .iter()
        .map(|(s, _)| *s)
        .find(|s| *s == name || s.split('_').next() == Some(name))
        .ok_or_else(|| format!("there is no differential scenario {name}"))?;
    let records = match stem {
        "d01_config_inheritance" => d01_config_inheritance::run().await,
        "d02_retrievers" => d02_retrievers::run().await,
        "d03_parallel" => d03_parallel::run().await,
        "d04_assign" => d04_assign::run().await,
        "d05_fallbacks" => d05_fallbacks::run().await,
        "d06_retry" => d06_retry::run().await,
        "d07_json_diff" => d07_json_diff::run().await,
        "d08_graph_supersteps" => d08_graph_supersteps::run().await,
        "d09_nesting_errors_filters" => d09_nesting_errors_filters::run().await,
        "d10_interrupts" => d10_interrupts::run().await,
        "d11_thread_state" => d11_thread_state::run().await,
        "d12_subgraphs" => d12_subgraphs::run().await,
        _ => d13_tasks_checkpoints::run().await,
    };
    Ok((stem, records.all))
}
