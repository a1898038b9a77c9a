//! d01_config_inheritance: see `differential/scenarios.py`, function `d01`.

use super::Calls;
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of("d01_config_inheritance");
    let mut out = Records::default();
    calls.start(&mut out, "bound_child_in_parent");
    calls.start(&mut out, "bound_child_in_parent.call_config");
    calls.start(&mut out, "stacked_with_config");
    calls.start(&mut out, "stacked_run_names");
    calls.start(&mut out, "sequence_child_with_config");
    calls.start(&mut out, "three_deep_bound_configs");
    calls.start(&mut out, "root_with_config_and_call_config");
    out
}
