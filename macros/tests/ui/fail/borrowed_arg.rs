/// Borrows its argument.
#[runwright::tool]
fn borrowed(word: &str) -> String {
    word.to_owned()
}

fn main() {}
