//! 02: prompt | chat model | StrOutputParser, streamed, with events, invoked.

use runwright::prompts::ChatPromptTemplate;
use runwright::{GenericFakeChatModel, Map, RunnableExt, StrOutputParser};

use super::common::{chunks, events, output, to_json, Calls};
use crate::record::Records;

pub(crate) const JOKE_TEXT: &str = "Why did the parrot talk? Because it could!";

pub(crate) fn joke_chain() -> impl runwright::Runnable<Input = Map, Output = String> {
    let prompt = ChatPromptTemplate::from_template("tell me a joke about {topic}").expect("valid template");
    prompt | GenericFakeChatModel::new([JOKE_TEXT]) | StrOutputParser
}

pub(crate) fn parrot() -> Map {
    let mut m = Map::new();
    m.insert("topic".into(), "parrot".into());
    m
}

pub(crate) async fn run() -> Records {
    let calls = Calls::of(2);
    let mut out = Records::default();

    let case = "astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &joke_chain(), parrot()).await;

    // LangChain's sync `stream`: the same stream, read from blocking code
    // on another thread.
    let case = "stream_sync";
    calls.start(&mut out, case);
    let items = tokio::task::spawn_blocking(|| {
        let chain = joke_chain();
        chain
            .stream_blocking(parrot())
            .map(|r| r.map(|c| to_json(&c)))
            .collect::<Vec<_>>()
    })
    .await
    .expect("the blocking stream runs");
    for item in items {
        match item {
            Ok(v) => out.push(case, "chunk", v),
            Err(e) => out.error(case, &e),
        }
    }

    let case = "astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &joke_chain(), parrot()).await;

    let case = "ainvoke";
    calls.start(&mut out, case);
    output(&mut out, case, &joke_chain(), parrot()).await;

    out
}
