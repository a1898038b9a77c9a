//! 13 (held out): errors in a middle step, mid-stream in a generator, in a
//! model, in a parallel branch, and fallbacks.

use futures::TryStreamExt;

use runwright::prompts::ChatPromptTemplate;
use runwright::{
    ChunkStream, Error, FakeListChatModel, Generator, GenericFakeChatModel, Lambda, Map, Parallel, RunnableExt,
    StrOutputParser,
};

use super::common::{chunks, events, Calls};
use crate::record::Records;

fn step_one(x: i64) -> runwright::Result<i64> {
    Ok(x + 1)
}

fn fail_step(x: i64) -> runwright::Result<i64> {
    Err(Error::msg(format!("fail_step got {x}")))
}

fn step_three(x: i64) -> runwright::Result<i64> {
    Ok(x * 10)
}

fn fail_after_two(input: ChunkStream<'_, String>) -> ChunkStream<'_, String> {
    let mut seen = 0;
    Box::pin(input.and_then(move |chunk| {
        seen += 1;
        std::future::ready(if seen > 2 {
            Err(Error::msg("generator failed after 2 chunks"))
        } else {
            Ok(chunk.to_uppercase())
        })
    }))
}

pub(crate) async fn run() -> Records {
    let calls = Calls::of(13);
    let mut out = Records::default();

    let lambda_chain = || Lambda::from_fn(step_one) | Lambda::from_fn(fail_step) | Lambda::from_fn(step_three);
    let case = "lambda_chain.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &lambda_chain(), 1).await;
    let case = "lambda_chain.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &lambda_chain(), 1).await;

    let midstream =
        || GenericFakeChatModel::new(["one two three four"]) | StrOutputParser | Generator::new(fail_after_two);
    let case = "midstream_generator.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &midstream(), "go".into()).await;
    let case = "midstream_generator.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &midstream(), "go".into()).await;

    let model_error = || {
        ChatPromptTemplate::from_template("{q}").expect("valid template")
            | FakeListChatModel::new(["abcdef"]).error_on_chunk(3)
            | StrOutputParser
    };
    let q = || {
        let mut m = Map::new();
        m.insert("q".into(), "x".into());
        m
    };
    let case = "model_error.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &model_error(), q()).await;
    let case = "model_error.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &model_error(), q()).await;

    let case = "parallel_branch_error.astream_events";
    let call = calls.start(&mut out, case);
    let par = Parallel::new()
        .branch("ok", Lambda::from_fn(step_one))
        .branch("bad", Lambda::from_fn(fail_step));
    events(&mut out, case, &call, &par, 1).await;

    let case = "with_fallbacks.astream_events";
    let call = calls.start(&mut out, case);
    let fb = Lambda::from_fn(fail_step).with_fallbacks([Lambda::from_fn(step_three).boxed()]);
    events(&mut out, case, &call, &fb, 1).await;

    out
}
