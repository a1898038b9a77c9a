//! d09_nesting_errors_filters: see `differential/scenarios.py`, function `d09`.

use super::Calls;
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of("d09_nesting_errors_filters");
    let mut out = Records::default();
    calls.start(&mut out, "three_deep.astream_events");
    calls.start(&mut out, "three_deep.include_types=chat_model");
    calls.start(&mut out, "three_deep.include_names=middle");
    calls.start(&mut out, "three_deep.include_tags=seq:step:3");
    calls.start(&mut out, "three_deep.exclude_types=chain");
    calls.start(&mut out, "three_deep.call_tags+include_tags");
    calls.start(&mut out, "error_at_depth_1.astream_events");
    calls.start(&mut out, "error_at_depth_2.astream_events");
    calls.start(&mut out, "error_at_depth_3.astream_events");
    calls.start(&mut out, "tool_error_in_lambda.astream_events");
    calls.start(&mut out, "early_drop.astream_events");
    calls.start(&mut out, "early_drop.astream");
    calls.start(&mut out, "custom_in_tagged_child.include_tags=emitter");
    out
}
