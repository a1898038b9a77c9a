//! The differential scenarios (`differential/` beside `src/`): the same
//! cases `differential/scenarios.py` runs on real LangChain, built here from
//! runwright's public API. One module per reference file, cases in the
//! file's order, each replaying its `call` record.

mod d01_config_inheritance;
mod d02_retrievers;
mod d03_parallel;
mod d04_assign;
mod d05_fallbacks;
mod d06_retry;
mod d07_json_diff;
mod d08_graph_supersteps;
mod d09_nesting_errors_filters;

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
pub(crate) async fn run(name: &str) -> Result<Vec<Record>, String> {
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
        _ => d09_nesting_errors_filters::run().await,
    };
    Ok(records.all)
}
