//! 14 (held out): batch with max_concurrency, config inheritance through
//! with_config and call-time config, default names.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use runwright::prompts::ChatPromptTemplate;
use runwright::{Assign, FakeListChatModel, Lambda, Map, Parallel, Passthrough, RunConfig, RunnableExt};

use super::common::{config_of, events, to_json, Calls};
use crate::record::Records;

async fn to_dict(x: String) -> runwright::Result<Map> {
    let mut m = Map::new();
    m.insert("q".into(), x.into());
    Ok(m)
}

async fn upper(d: Map) -> runwright::Result<String> {
    Ok(d.get("q").and_then(Value::as_str).unwrap_or_default().to_uppercase())
}

async fn pick_upper(d: Map) -> runwright::Result<Value> {
    Ok(d.get("upper").cloned().unwrap_or(Value::Null))
}

async fn count_s(d: Map) -> runwright::Result<usize> {
    Ok(d.get("s").and_then(Value::as_str).map_or(0, |s| s.chars().count()))
}

async fn double_n(d: Map) -> runwright::Result<i64> {
    Ok(d.get("n").and_then(Value::as_i64).unwrap_or(0) * 2)
}

async fn identity(x: Map) -> runwright::Result<Map> {
    Ok(x)
}

fn inheritance_chain() -> impl runwright::Runnable<Input = String, Output = Value> {
    let to_dict_step = Lambda::from_async(to_dict).with_config(
        RunConfig::new()
            .run_name("to_dict_step")
            .tag("inner_tag")
            .metadata("inner_m", "i")
            .metadata("shared", "inner"),
    );
    let prompt_model =
        ChatPromptTemplate::from_template("{q}").expect("valid template") | FakeListChatModel::new(["ok"]);
    let par = Parallel::new()
        .branch("upper", Lambda::from_async(upper))
        .branch("prompt_model", prompt_model)
        .branch("passthrough", Passthrough::new());
    (to_dict_step | par | Lambda::from_async(pick_upper)).with_config(
        RunConfig::new()
            .run_name("outer_chain")
            .tag("outer_tag")
            .metadata("outer_m", "o")
            .metadata("shared", "outer"),
    )
}

pub(crate) async fn run() -> Records {
    let calls = Calls::of(14);
    let mut out = Records::default();

    for case in ["batch.max_concurrency=2", "abatch.max_concurrency=2"] {
        let call = calls.start(&mut out, case);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_seen = Arc::new(AtomicUsize::new(0));
        let (now, max) = (in_flight.clone(), max_seen.clone());
        let slow_add_one = Lambda::from_async(move |x: i64| {
            let (now, max) = (now.clone(), max.clone());
            async move {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(x + 1)
            }
        })
        .named("slow_add_one");
        let chain = slow_add_one | Lambda::from_fn(|x: i64| Ok(x * 2)).named("double");
        let inputs: Vec<i64> = call["input"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        let results = chain.batch(inputs, config_of(&call)).await;
        match results.into_iter().collect::<runwright::Result<Vec<i64>>>() {
            Ok(v) => out.push(case, "output", to_json(&v)),
            Err(e) => out.error(case, &e),
        }
        out.push(
            case,
            "info",
            json!({ "max_in_flight": max_seen.load(Ordering::SeqCst) }),
        );
    }

    for case in [
        "with_config_inheritance.astream_events",
        "with_config_plus_call_config.astream_events",
    ] {
        let call = calls.start(&mut out, case);
        events(&mut out, case, &call, &inheritance_chain(), "hi".to_string()).await;
    }

    let default_names = || {
        Assign::new().key("n", Lambda::from_async(count_s))
            | Parallel::new()
                .branch("a", Passthrough::new())
                .branch("b", Lambda::from_async(double_n))
            | Lambda::from_async(identity)
    };
    let case = "default_names.astream_events";
    let call = calls.start(&mut out, case);
    let mut input = Map::new();
    input.insert("s".into(), "abc".into());
    events(&mut out, case, &call, &default_names(), input).await;

    let case = "default_names.get_name";
    calls.start(&mut out, case);
    out.push(case, "output", to_json(&default_names().step_names()));

    out
}
