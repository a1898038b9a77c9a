//! `Debug` of the steps that hold closures or type-erased runnables: it
//! shows their names and shape, never the closure.

use runwright::{BoxRunnable, Lambda, Parallel, Passthrough, RetryPolicy, RunnableExt};

fn add_one(x: i64) -> runwright::Result<i64> {
    Ok(x + 1)
}

#[test]
fn steps_holding_closures_show_their_names() {
    let lambda = Lambda::from_fn(add_one);
    assert_eq!(format!("{lambda:?}"), r#"Lambda { name: "add_one", body: Sync }"#);

    let boxed: BoxRunnable<i64, i64> = Lambda::from_fn(add_one).boxed();
    assert_eq!(format!("{boxed:?}"), r#"BoxRunnable("add_one")"#);

    let chain = Lambda::from_fn(add_one).pipe(Lambda::from_fn(add_one).named("again"));
    assert_eq!(format!("{chain:?}"), r#"Sequence { steps: ["add_one", "again"] }"#);

    let map = Parallel::new()
        .branch("one", Lambda::from_fn(add_one))
        .branch("same", Passthrough::new());
    assert_eq!(format!("{map:?}"), r#"Parallel { branches: ["one", "same"] }"#);
}

#[test]
fn retry_policy_shows_whether_it_has_a_predicate() {
    let every = RetryPolicy::new(2).jitter(false);
    assert!(
        format!("{every:?}").ends_with("jitter: false, retry_if: None }"),
        "{every:?}"
    );
    let some = every.retry_if(|_| true);
    assert!(format!("{some:?}").ends_with("retry_if: Some(<fn>) }"), "{some:?}");
}
