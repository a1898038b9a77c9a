//! d03_parallel: see `differential/scenarios.py`, function `d03`.

use crate::scenarios::common::ValueError;
use runwright::prompts::ChatPromptTemplate;
use runwright::tools::ToolInput;
use runwright::{
    tool, Error, ErrorKind, FakeListChatModel, Lambda, LanguageModelInput, Map, Parallel, RunnableExt, StrOutputParser,
};

use super::calls_of;
use crate::record::Records;
use crate::scenarios::common::{chunks, events};

async fn fail(x: LanguageModelInput) -> runwright::Result<String> {
    Err(Error::from_source(
        ErrorKind::Step,
        ValueError(format!("branch failed on {}", x.to_text())),
    ))
}

async fn length(x: LanguageModelInput) -> runwright::Result<usize> {
    Ok(x.to_text().chars().count())
}

fn two_models() -> Parallel<LanguageModelInput> {
    Parallel::new()
        .branch("a", FakeListChatModel::new(["ab"]))
        .branch("b", FakeListChatModel::new(["xyz"]))
}

/// Runs a sequence with a map inside.
#[tool]
async fn mapper_tool(text: String) -> runwright::Result<String> {
    let inner = Lambda::from_fn(|s: String| Ok(s.trim().to_owned()))
        | Parallel::new()
            .branch("upper", Lambda::from_fn(|s: String| Ok(s.to_uppercase())))
            .branch("size", Lambda::from_fn(|s: String| Ok(s.chars().count())));
    let out: Map = inner.invoke(text).await?;
    Ok(format!("{}:{}", out["upper"].as_str().unwrap_or_default(), out["size"]))
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d03_parallel");
    let mut out = Records::default();
    let go = || LanguageModelInput::Text("go".into());

    let case = "two_models.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &two_models(), go()).await;

    let case = "two_models.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &two_models(), go()).await;

    let case = "failing_branch.astream_events";
    let call = calls.start(&mut out, case);
    let failing = Parallel::new()
        .branch("ok", FakeListChatModel::new(["abc"]))
        .branch("bad", Lambda::from_async(fail));
    events(&mut out, case, &call, &failing, go()).await;

    let case = "map_in_sequence.astream_events";
    let call = calls.start(&mut out, case);
    let chain = ChatPromptTemplate::from_template("say {word}").expect("a valid template")
        | Parallel::new()
            .branch("said", FakeListChatModel::new(["hey"]) | StrOutputParser)
            .branch("size", Lambda::from_async(length));
    let mut vars = Map::new();
    vars.insert("word".into(), "hey".into());
    events(&mut out, case, &call, &chain, vars).await;

    let case = "map_in_sequence_in_tool.astream_events";
    let call = calls.start(&mut out, case);
    events(
        &mut out,
        case,
        &call,
        &mapper_tool,
        ToolInput::from(call["input"].clone()),
    )
    .await;
    out
}
