//! `batch`: at most `max_concurrency` inputs in flight, outputs in input
//! order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use runwright::{Lambda, RunConfig, RunnableExt};

#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    max: AtomicUsize,
}

/// An async step that counts how many of its calls overlap. Smaller inputs
/// take longer (more yields), so calls finish out of input order.
fn tracked(flight: &Arc<InFlight>) -> Lambda<u64, u64> {
    let flight = flight.clone();
    Lambda::from_async(move |x: u64| {
        let flight = flight.clone();
        async move {
            let n = flight.now.fetch_add(1, Ordering::SeqCst) + 1;
            flight.max.fetch_max(n, Ordering::SeqCst);
            for _ in 0..(12 - x) {
                tokio::task::yield_now().await;
            }
            flight.now.fetch_sub(1, Ordering::SeqCst);
            Ok(x * 10)
        }
    })
}

#[tokio::test]
async fn batch_with_max_concurrency_two_never_has_more_than_two_in_flight() {
    let flight = Arc::new(InFlight::default());
    let step = tracked(&flight);
    let inputs: Vec<u64> = (1..=10).collect();
    let outputs = step.batch(inputs.clone(), RunConfig::new().max_concurrency(2)).await;
    let outputs: Vec<u64> = outputs.into_iter().map(|r| r.expect("no error")).collect();
    assert_eq!(
        outputs,
        inputs.iter().map(|x| x * 10).collect::<Vec<_>>(),
        "in input order"
    );
    assert_eq!(flight.max.load(Ordering::SeqCst), 2);
    assert_eq!(flight.now.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn batch_without_a_limit_runs_every_input_at_once() {
    let flight = Arc::new(InFlight::default());
    let step = tracked(&flight);
    let inputs: Vec<u64> = (1..=10).collect();
    let outputs = step.batch(inputs.clone(), RunConfig::new()).await;
    assert_eq!(outputs.len(), 10);
    assert_eq!(flight.max.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn batch_returns_each_inputs_error_in_its_place() {
    let step = Lambda::from_fn(|x: u64| {
        if x % 2 == 1 {
            Ok(x)
        } else {
            Err(runwright::Error::msg(format!("{x} is even")))
        }
    });
    let outputs = step.batch(vec![1, 2, 3, 4], RunConfig::new().max_concurrency(2)).await;
    let outputs: Vec<Result<u64, String>> = outputs
        .into_iter()
        .map(|r| r.map_err(|e| e.message().to_string()))
        .collect();
    assert_eq!(
        outputs,
        [Ok(1), Err("2 is even".into()), Ok(3), Err("4 is even".into())]
    );
}
