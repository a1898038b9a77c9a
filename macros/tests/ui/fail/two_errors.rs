// Both problems are reported at once, each at its own tokens.
#[runwright::tool(bogus)]
fn two<T>(word: T) -> String {
    let _ = word;
    String::new()
}

fn main() {}
