//! d07_json_diff: see `differential/scenarios.py`, function `d07`.

use super::Calls;
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of("d07_json_diff");
    let mut out = Records::default();
    calls.start(&mut out, "chain.ainvoke");
    calls.start(&mut out, "parser_alone.ainvoke");
    calls.start(&mut out, "chain.astream");
    calls.start(&mut out, "chain.astream_events");
    out
}
