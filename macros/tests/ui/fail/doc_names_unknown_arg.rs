/// Reverses a word.
///
/// * `wrod` - the word
#[runwright::tool]
fn reverse(word: String) -> String {
    word.chars().rev().collect()
}

fn main() {}
