//! d03_parallel: see `differential/scenarios.py`, function `d03`.

use super::Calls;
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of("d03_parallel");
    let mut out = Records::default();
    calls.start(&mut out, "two_models.astream_events");
    calls.start(&mut out, "two_models.astream");
    calls.start(&mut out, "failing_branch.astream_events");
    calls.start(&mut out, "map_in_sequence.astream_events");
    calls.start(&mut out, "map_in_sequence_in_tool.astream_events");
    out
}
