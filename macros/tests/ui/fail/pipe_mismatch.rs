use runwright::{GenericFakeChatModel, Lambda, Parallel, StrOutputParser};

fn main() {
    let shout = Lambda::from_fn(|s: String| Ok(s.to_uppercase()));
    let halve = Lambda::from_fn(|n: i64| Ok(n / 2));
    // Two runnables.
    let _pipeline = shout.clone() | halve.clone();
    // A sequence, then a runnable.
    let _pipeline = shout.clone() | shout.clone() | halve.clone();
    // Into a map, and out of one.
    let _pipeline = shout.clone() | Parallel::new().branch("half", halve.clone());
    let _pipeline = Parallel::new().branch("loud", shout.clone()) | shout.clone();
    // A model's message is not a string.
    let _pipeline = GenericFakeChatModel::new(["hi"]) | shout.clone();
    let _pipeline = StrOutputParser | halve;
}
