/// Fails with a string.
#[runwright::tool]
fn stringly(word: String) -> Result<String, String> {
    Err(word)
}

fn main() {}
