//! d04_assign: see `differential/scenarios.py`, function `d04`.

use super::Calls;
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of("d04_assign");
    let mut out = Records::default();
    calls.start(&mut out, "assign_after_stream.astream_events");
    calls.start(&mut out, "assign_after_stream.astream");
    calls.start(&mut out, "assign_two_keys.astream_events");
    calls.start(&mut out, "assign_two_keys.ainvoke");
    out
}
