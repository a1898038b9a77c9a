//! 10: custom events dispatched from inside runs, nested with tags and
//! metadata, and filtered.

use serde_json::json;

use runwright::{dispatch_custom_event, Lambda, RunConfig, RunnableExt};

use super::common::{events, Calls};
use crate::record::Records;

async fn foo(x: String) -> runwright::Result<String> {
    dispatch_custom_event("event1", json!({ "x": x }))?;
    dispatch_custom_event("event2", 5)?;
    Ok(x)
}

fn bar(x: String) -> runwright::Result<String> {
    dispatch_custom_event("event1", json!({ "x": x }))?;
    dispatch_custom_event("event2", 5)?;
    Ok(x)
}

async fn foo_cfg(x: String) -> runwright::Result<String> {
    dispatch_custom_event("progress", json!({ "step": 1, "x": x }))?;
    Ok(x.to_uppercase())
}

pub(crate) async fn run() -> Records {
    let calls = Calls::of(10);
    let mut out = Records::default();
    let hello = || "hello world".to_string();

    let case = "async_lambda.adispatch";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &Lambda::from_async(foo), hello()).await;

    let case = "sync_lambda.dispatch_with_config";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &Lambda::from_fn(bar), hello()).await;

    let case = "nested_with_tags_metadata";
    let call = calls.start(&mut out, case);
    let emitter = Lambda::from_async(foo_cfg).with_config(
        RunConfig::new()
            .run_name("emitter")
            .tag("inner")
            .metadata("inner_k", "v"),
    );
    let nested = (Lambda::from_fn(|x: String| Ok(x.trim().to_string())) | emitter)
        .with_config(RunConfig::new().tag("outer").metadata("outer_k", 1));
    events(&mut out, case, &call, &nested, " hi ".to_string()).await;

    for case in [
        "async_lambda.adispatch.include_types=event1",
        "async_lambda.adispatch.include_types=event2",
        "async_lambda.adispatch.include_names=event2",
    ] {
        let call = calls.start(&mut out, case);
        events(&mut out, case, &call, &Lambda::from_async(foo), hello()).await;
    }
    out
}
