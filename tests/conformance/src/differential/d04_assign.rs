//! d04_assign: see `differential/scenarios.py`, function `d04`.

use runwright::{Assign, FakeListChatModel, Lambda, LanguageModelInput, Map, StrOutputParser};

use super::calls_of;
use crate::record::Records;
use crate::scenarios::common::{chunks, events, output};

async fn to_dict(x: String) -> runwright::Result<Map> {
    let mut m = Map::new();
    m.insert("text".into(), x.into());
    Ok(m)
}

fn text_of(d: &Map, key: &str) -> String {
    d.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

async fn size(d: Map) -> runwright::Result<usize> {
    Ok(text_of(&d, "text").chars().count())
}

async fn upper(d: Map) -> runwright::Result<String> {
    Ok(text_of(&d, "q").to_uppercase())
}

async fn count(d: Map) -> runwright::Result<usize> {
    Ok(text_of(&d, "q").chars().count())
}

fn after_stream() -> impl runwright::Runnable<Input = LanguageModelInput, Output = Map> {
    FakeListChatModel::new(["hi there"])
        | StrOutputParser
        | Lambda::from_async(to_dict)
        | Assign::new().key("size", Lambda::from_async(size))
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d04_assign");
    let mut out = Records::default();
    let go = || LanguageModelInput::Text("go".into());
    let q = || {
        let mut m = Map::new();
        m.insert("q".into(), "abc".into());
        m
    };

    let case = "assign_after_stream.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &after_stream(), go()).await;

    let case = "assign_after_stream.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &after_stream(), go()).await;

    let two = Assign::new()
        .key("upper", Lambda::from_async(upper))
        .key("n", Lambda::from_async(count));
    let case = "assign_two_keys.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &two, q()).await;

    let case = "assign_two_keys.ainvoke";
    calls.start(&mut out, case);
    output(&mut out, case, &two, q()).await;
    out
}
