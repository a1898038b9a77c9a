//! 09: async and sync lambdas that invoke another runnable, `#[chain]`-style
//! named functions, a lambda returning a runnable, anonymous lambdas.

use std::sync::LazyLock;

use runwright::{Lambda, RunnableExt};

use super::common::{chunks, events, output, Calls};
use crate::record::Records;

fn reverse_word_fn(word: String) -> runwright::Result<String> {
    Ok(word.chars().rev().collect())
}

static REVERSE_WORD: LazyLock<Lambda<String, String>> =
    LazyLock::new(|| Lambda::from_fn(reverse_word_fn).named("reverse_word"));

async fn reverse_and_double(word: String) -> runwright::Result<String> {
    Ok(REVERSE_WORD.invoke(word).await?.repeat(2))
}

async fn reverse_and_double_chain(word: String) -> runwright::Result<String> {
    Ok(REVERSE_WORD.invoke(word).await?.repeat(2))
}

fn sync_reverse_and_double(word: String) -> runwright::Result<String> {
    // A sync function calling a runnable: it waits for it, and the call still
    // nests under this lambda's run.
    Ok(REVERSE_WORD.invoke_blocking(word)?.repeat(2))
}

pub(crate) async fn run() -> Records {
    let calls = Calls::of(9);
    let mut out = Records::default();
    let word = || "1234".to_string();

    let lambda = Lambda::from_async(reverse_and_double);
    let case = "lambda.ainvoke";
    calls.start(&mut out, case);
    output(&mut out, case, &lambda, word()).await;

    let case = "lambda.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &lambda, word()).await;

    let case = "chain_decorator.astream_events";
    let call = calls.start(&mut out, case);
    events(
        &mut out,
        case,
        &call,
        &Lambda::from_async(reverse_and_double_chain),
        word(),
    )
    .await;

    let case = "sync_lambda.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &Lambda::from_fn(sync_reverse_and_double), word()).await;

    let case = "lambda_returning_runnable.astream_events";
    let call = calls.start(&mut out, case);
    let pick = Lambda::returning(|_: &String| Ok(REVERSE_WORD.clone().boxed()));
    events(&mut out, case, &call, &pick, "abc".to_string()).await;

    let case = "anonymous_lambda_in_sequence.astream_events";
    let call = calls.start(&mut out, case);
    let seq = Lambda::from_fn(|x: i64| Ok(x + 1)) | Lambda::from_fn(|x: i64| Ok(x * 2));
    events(&mut out, case, &call, &seq, 1).await;

    let case = "async_lambda.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &lambda, word()).await;

    out
}
