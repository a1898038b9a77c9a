//! d02_retrievers: see `differential/scenarios.py`, function `d02`.

use std::sync::LazyLock;

use runwright::{Document, InMemoryRetriever, Lambda, RunConfig, RunnableExt};

use super::calls_of;
use crate::record::Records;
use crate::scenarios::common::{chunks, events};

static RETRIEVER: LazyLock<InMemoryRetriever> = LazyLock::new(|| {
    InMemoryRetriever::new([
        Document::new("harrison worked at kensho"),
        Document::new("harrison likes spicy food"),
    ])
});

async fn lookup(q: String) -> runwright::Result<usize> {
    Ok(RETRIEVER.invoke(q).await?.len())
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d02_retrievers");
    let mut out = Records::default();

    let case = "retriever.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &*RETRIEVER, "where did harrison work?".into()).await;

    let case = "retriever_with_config.astream_events";
    let call = calls.start(&mut out, case);
    let named = RETRIEVER
        .clone()
        .with_config(RunConfig::new().run_name("Docs").tags(["kb"]).metadata("source", "mem"));
    events(&mut out, case, &call, &named, "spicy".into()).await;

    let case = "retriever_in_lambda.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &Lambda::from_async(lookup), "harrison".into()).await;

    let case = "retriever.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &*RETRIEVER, "food".into()).await;

    let case = "retriever_then_lambda.astream_events";
    let call = calls.start(&mut out, case);
    let chain = RETRIEVER.clone()
        | Lambda::from_fn(|docs: Vec<Document>| Ok(docs.into_iter().map(|d| d.page_content).collect::<Vec<_>>()));
    events(&mut out, case, &call, &chain, "kensho".into()).await;
    out
}
