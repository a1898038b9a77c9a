//! 06 (held out): a retrieval chain, a map of a retriever and a passthrough
//! feeding a prompt, a model and a parser.

use runwright::prompts::ChatPromptTemplate;
use runwright::{
    Document, GenericFakeChatModel, InMemoryRetriever, Parallel, Passthrough, RunConfig, RunnableExt, StrOutputParser,
};

use super::common::{chunks, events, Calls};
use crate::record::Records;

const RAG_TEMPLATE: &str =
    "Answer the question based only on the following context:\n{context}\n\nQuestion: {question}\n";
const RAG_ANSWER: &str = "Harrison worked at Kensho.";

fn chain() -> impl runwright::Runnable<Input = String, Output = String> {
    let docs = InMemoryRetriever::new([
        Document::new("harrison worked at kensho"),
        Document::new("harrison likes spicy food"),
    ])
    .with_config(RunConfig::new().run_name("Docs"));
    Parallel::new()
        .branch("context", docs)
        .branch("question", Passthrough::new())
        | ChatPromptTemplate::from_template(RAG_TEMPLATE).expect("valid template")
        | GenericFakeChatModel::new([RAG_ANSWER])
        | StrOutputParser
}

pub(crate) async fn run() -> Records {
    let calls = Calls::of(6);
    let mut out = Records::default();
    let question = || "where did harrison work?".to_string();

    let case = "astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &chain(), question()).await;

    let case = "astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &chain(), question()).await;
    out
}
