use runwright::{GenericFakeChatModel, Lambda};

fn count(s: String) -> runwright::Result<usize> {
    Ok(s.len())
}

fn main() {
    let model = GenericFakeChatModel::new(["hi"]);
    let _pipeline = runwright::chain!(count | model);
    let halve = Lambda::from_fn(|n: i64| Ok(n / 2));
    let _pipeline = runwright::chain!(|s: String| Ok(s) | halve);
}
