//! d06_retry: see `differential/scenarios.py`, function `d06`.

use super::Calls;
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of("d06_retry");
    let mut out = Records::default();
    calls.start(&mut out, "flaky.ainvoke");
    calls.start(&mut out, "flaky.astream_events");
    calls.start(&mut out, "flaky.astream");
    calls.start(&mut out, "flaky_in_sequence.ainvoke");
    calls.start(&mut out, "flaky_in_sequence.astream_events");
    out
}
