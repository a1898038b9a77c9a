//! `cargo run -q -p runwright-conformance -- NN`: prints the records of
//! reference scenario NN, produced by runwright, as JSON Lines on stdout.

use std::io::Write;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let Ok(n) = arg.parse::<u32>() else {
        eprintln!("usage: runwright-conformance NN   (a scenario number such as 01 or 13)");
        return ExitCode::from(2);
    };
    match runwright_conformance::run_scenario(n).await {
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
