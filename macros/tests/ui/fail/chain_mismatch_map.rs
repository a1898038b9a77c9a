fn shout(s: String) -> runwright::Result<String> {
    Ok(s.to_uppercase())
}

fn halve(n: i64) -> runwright::Result<i64> {
    Ok(n / 2)
}

fn main() {
    // Into a map literal: each branch takes what the step before gives.
    let _pipeline = runwright::chain!(shout | { "half": halve });
    let _pipeline = runwright::chain!(shout | { "half": |n: i64| Ok(n / 2) });
    let _pipeline = runwright::chain!(shout | { "half": halve | halve });
    // Out of a map literal: its output is a JSON object.
    let _pipeline = runwright::chain!({ "loud": shout } | shout);
    let _pipeline = runwright::chain!({ "loud": shout } | |n: i64| Ok(n / 2));
}
