fn shout(s: String) -> runwright::Result<String> {
    Ok(s.to_uppercase())
}

fn main() {
    // A closure whose parameter's type is not what the step before gives.
    let _pipeline = runwright::chain!(shout | |n: i64| Ok(n + 1));
    let _pipeline = runwright::chain!(shout | move |n: i64| async move { Ok(n + 1) });
}
