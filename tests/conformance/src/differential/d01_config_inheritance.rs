//! d01_config_inheritance: see `differential/scenarios.py`, function `d01`.
//!
//! Children with their own `with_config` invoked inside a parent's body
//! without any config passed (runwright's normal style), stacked
//! `with_config` calls, a sequence's configured step under call-time config,
//! a root with both a bound and a call-time config, and the `configurable`
//! values a run's metadata shows.

use std::sync::LazyLock;

use runwright::{FakeListChatModel, Lambda, RunConfig, RunnableExt, WithConfig};

use super::calls_of;
use crate::record::Records;
use crate::scenarios::common::events;

type Step = WithConfig<Lambda<String, String>>;

async fn child(x: String) -> runwright::Result<String> {
    Ok(x + "!")
}

static CHILD: LazyLock<Step> = LazyLock::new(|| {
    Lambda::from_async(child).with_config(
        RunConfig::new()
            .tags(["zchild", "achild"])
            .metadata("k", "child")
            .metadata("c", 2),
    )
});

async fn parent(x: String) -> runwright::Result<String> {
    CHILD.invoke(x).await
}

async fn shout(x: String) -> runwright::Result<String> {
    Ok(x.to_uppercase())
}

async fn step_a(x: String) -> runwright::Result<String> {
    Ok(x + "a")
}

async fn step_b(x: String) -> runwright::Result<String> {
    Ok(x + "b")
}

static MODEL: LazyLock<WithConfig<FakeListChatModel>> = LazyLock::new(|| {
    FakeListChatModel::new(["ok go"]).with_config(RunConfig::new().tag("model_tag").metadata("level", "model"))
});

async fn inner(x: String) -> runwright::Result<String> {
    Ok(MODEL.invoke(x.into()).await?.text().into_owned())
}

static INNER: LazyLock<Step> = LazyLock::new(|| {
    Lambda::from_async(inner).with_config(RunConfig::new().tag("inner_tag").metadata("level", "inner"))
});

async fn middle(x: String) -> runwright::Result<String> {
    INNER.invoke(x).await
}

static MIDDLE: LazyLock<Step> = LazyLock::new(|| {
    Lambda::from_async(middle).with_config(
        RunConfig::new()
            .tag("middle_tag")
            .metadata("level", "middle")
            .metadata("mid", true),
    )
});

async fn outer(x: String) -> runwright::Result<String> {
    MIDDLE.invoke(x).await
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d01_config_inheritance");
    let mut out = Records::default();

    let parent_r = || {
        Lambda::from_async(parent).with_config(RunConfig::new().tag("outer").metadata("k", "outer").metadata("o", 1))
    };
    for case in ["bound_child_in_parent", "bound_child_in_parent.call_config"] {
        let call = calls.start(&mut out, case);
        events(&mut out, case, &call, &parent_r(), "hi".into()).await;
    }

    let case = "stacked_with_config";
    let call = calls.start(&mut out, case);
    let stacked = Lambda::from_async(shout)
        .with_config(RunConfig::new().tag("first").metadata("x", 1).metadata("f", 1))
        .with_config(RunConfig::new().tag("second").metadata("x", 2).metadata("s", 2));
    events(&mut out, case, &call, &stacked, "hi".into()).await;

    let case = "stacked_run_names";
    let call = calls.start(&mut out, case);
    let stacked_names = Lambda::from_async(shout)
        .with_config(RunConfig::new().run_name("inner_name"))
        .with_config(RunConfig::new().run_name("outer_name"));
    events(&mut out, case, &call, &stacked_names, "hi".into()).await;

    let case = "sequence_child_with_config";
    let call = calls.start(&mut out, case);
    let seq = (Lambda::from_async(step_a)
        | Lambda::from_async(step_b)
            .with_config(RunConfig::new().tag("inner").metadata("m", "inner").metadata("i", 1)))
    .with_config(RunConfig::new().tag("outer").metadata("m", "outer"));
    events(&mut out, case, &call, &seq, "x".into()).await;

    let case = "three_deep_bound_configs";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &Lambda::from_async(outer), "q".into()).await;

    let case = "root_with_config_and_call_config";
    let call = calls.start(&mut out, case);
    let bound = Lambda::from_async(shout).with_config(
        RunConfig::new()
            .run_name("bound")
            .tags(["b2", "b1"])
            .metadata("who", "bound")
            .metadata("b", 1),
    );
    events(&mut out, case, &call, &bound, "hi".into()).await;

    for case in ["configurable_in_metadata", "configurable_in_metadata.metadata_wins"] {
        let call = calls.start(&mut out, case);
        let seq = Lambda::from_async(step_a) | Lambda::from_async(shout);
        events(&mut out, case, &call, &seq, "x".into()).await;
    }

    out
}
