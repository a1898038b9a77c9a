fn count(s: String) -> runwright::Result<usize> {
    Ok(s.len())
}

fn shout(s: String) -> runwright::Result<String> {
    Ok(s.to_uppercase())
}

fn main() {
    let _pipeline = runwright::chain!(shout | count | shout);
}
