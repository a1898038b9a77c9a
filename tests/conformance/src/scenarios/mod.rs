//! One module per reference scenario file.

pub(crate) mod common;
mod json_chains;
mod s01_chat_model;
mod s02_prompt_model_parser;
mod s06_retrieval_chain;
mod s08_tools;
mod s09_lambdas;
mod s10_custom_events;
mod s11_stream_log;
pub(crate) mod s12_graph;
mod s13_errors;
mod s14_batch_config_names;

use crate::record::Record;

pub(crate) async fn run(n: u32) -> Result<Vec<Record>, String> {
    let records = match n {
        1 => s01_chat_model::run().await,
        2 => s02_prompt_model_parser::run().await,
        3 => json_chains::run_03().await,
        4 => json_chains::run_04().await,
        5 => json_chains::run_05().await,
        7 => json_chains::run_07().await,
        6 => s06_retrieval_chain::run().await,
        8 => s08_tools::run().await,
        9 => s09_lambdas::run().await,
        10 => s10_custom_events::run().await,
        11 => s11_stream_log::run().await,
        12 => s12_graph::run().await,
        13 => s13_errors::run().await,
        14 => s14_batch_config_names::run().await,
        _ => return Err(format!("there is no scenario {n:02}")),
    };
    Ok(records.all)
}
