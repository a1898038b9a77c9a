//! `cargo run -q -p runwright-conformance -- NN`: prints the records of
//! reference scenario NN, produced by runwright, as JSON Lines on stdout.
//! `-- dNN` does the same for differential scenario file dNN.

use std::io::Write;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let result = if arg.starts_with('d') {
        runwright_conformance::run_differential(&arg).await
    } else if let Ok(n) = arg.parse::<u32>() {
        runwright_conformance::run_scenario(n).await
    } else {
        eprintln!("usage: runwright-conformance NN|dNN   (a scenario number such as 01 or 13, or a differential file such as d03)");
        return ExitCode::from(2);
    };
    match result {
        Ok(records) => {
            let mut out = std::io::stdout().lock();
            for r in records {
                let line = serde_json::to_string(&r).expect("records are JSON");
                if writeln!(out, "{line}").is_err() {
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("runwright-conformance: {why}");
            ExitCode::FAILURE
        }
    }
}
