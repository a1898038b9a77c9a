//! d02_retrievers: see `differential/scenarios.py`, function `d02`.

use super::Calls;
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of("d02_retrievers");
    let mut out = Records::default();
    calls.start(&mut out, "retriever.astream_events");
    calls.start(&mut out, "retriever_with_config.astream_events");
    calls.start(&mut out, "retriever_in_lambda.astream_events");
    calls.start(&mut out, "retriever.astream");
    calls.start(&mut out, "retriever_then_lambda.astream_events");
    out
}
