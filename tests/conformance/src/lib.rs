//! Runs the LangChain reference scenarios (`reference/`, copied from the
//! project's shared LangChain traces) on runwright and produces their
//! records in the reference format, so the two can be compared line by line.

/// The reference README's normalization (run ids and UUIDs numbered,
/// metadata sorted, times redacted), from `runwright-recorder`.
pub use runwright_recorder::normalize;
mod differential;
mod record;
mod scenarios;

pub use differential::FILES as DIFFERENTIAL_FILES;
pub use record::{case_names, parse_records, strip_versions, Record, Records};

/// The scenario numbers this runner implements.
pub const IMPLEMENTED: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

/// Scenarios that later work adds (12: the graph engine).
pub const PENDING: &[(u32, &str)] = &[];

/// Runs scenario `n` and returns its records, normalized.
pub async fn run_scenario(n: u32) -> Result<Vec<Record>, String> {
    if let Some((_, why)) = PENDING.iter().find(|(p, _)| *p == n) {
        return Err(why.to_string());
    }
    let mut records = scenarios::run(n).await?;
    record::normalize(&mut records);
    Ok(records)
}

/// Runs differential scenario file `name` (`d03` or `d03_parallel`) and
/// returns its records, normalized.
pub async fn run_differential(name: &str) -> Result<Vec<Record>, String> {
    let (stem, mut records) = differential::run_file(name).await?;
    if !differential::DURABLE.contains(&stem) {
        record::normalize(&mut records);
    }
    Ok(records)
}
