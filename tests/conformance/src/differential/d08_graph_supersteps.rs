//! d08_graph_supersteps: see `differential/scenarios.py`, function `d08`.

use super::Calls;
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of("d08_graph_supersteps");
    let mut out = Records::default();
    calls.start(&mut out, "fan_out.updates");
    calls.start(&mut out, "fan_out.values");
    calls.start(&mut out, "fan_out.custom");
    calls.start(&mut out, "fan_out.updates+custom");
    calls.start(&mut out, "fan_out.astream_events");
    calls.start(&mut out, "named_router.astream_events");
    calls.start(&mut out, "named_router.updates");
    calls.start(&mut out, "lambda_router.astream_events");
    calls.start(&mut out, "values_field_order.values");
    calls.start(&mut out, "nostream.messages");
    calls.start(&mut out, "nostream.values");
    calls.start(&mut out, "graph_in_lambda.astream_events");
    out
}
