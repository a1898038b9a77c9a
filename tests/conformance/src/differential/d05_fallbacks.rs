//! d05_fallbacks: see `differential/scenarios.py`, function `d05`.

use super::Calls;
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of("d05_fallbacks");
    let mut out = Records::default();
    calls.start(&mut out, "primary_ok.astream_events");
    calls.start(&mut out, "primary_fails.astream_events");
    calls.start(&mut out, "primary_fails.astream");
    calls.start(&mut out, "primary_fails.ainvoke");
    out
}
