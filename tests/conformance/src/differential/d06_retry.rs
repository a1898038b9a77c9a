//! d06_retry: see `differential/scenarios.py`, function `d06`.

use crate::scenarios::common::ValueError;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use runwright::{Error, ErrorKind, Lambda, RetryPolicy, Runnable, RunnableExt};

use super::calls_of;
use crate::record::Records;
use crate::scenarios::common::{chunks, events, output};

/// `flaky` (fails on its first attempt, then gives `x * 10`) with a retry
/// policy of three attempts, no jitter; a fresh attempt counter each time.
fn retrying() -> impl Runnable<Input = i64, Output = i64> {
    let attempts = Arc::new(AtomicU32::new(0));
    let flaky = Lambda::from_async(move |x: i64| {
        let n = attempts.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            if n < 2 {
                return Err(Error::from_source(
                    ErrorKind::Step,
                    ValueError(format!("attempt {n} failed")),
                ));
            }
            Ok(x * 10)
        }
    })
    .named("flaky");
    // LangChain's `wait_exponential_jitter=False` waits 1 s, then 2 s...;
    // the wait is no part of the records, so keep it short.
    flaky.with_retry(
        RetryPolicy::new(3)
            .backoff(Duration::from_millis(1), Duration::from_millis(10))
            .jitter(false),
    )
}

fn in_sequence() -> impl Runnable<Input = i64, Output = i64> {
    Lambda::from_async(|x: i64| async move { Ok(x + 1) }).named("plus_one") | retrying()
}

pub(crate) async fn run() -> Records {
    let calls = calls_of("d06_retry");
    let mut out = Records::default();

    let case = "flaky.ainvoke";
    calls.start(&mut out, case);
    output(&mut out, case, &retrying(), 4).await;

    let case = "flaky.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &retrying(), 4).await;

    let case = "flaky.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &retrying(), 4).await;

    let case = "flaky_in_sequence.ainvoke";
    calls.start(&mut out, case);
    output(&mut out, case, &in_sequence(), 4).await;

    let case = "flaky_in_sequence.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &in_sequence(), 4).await;
    out
}
