/// Misspelled option.
#[runwright::tool(nmae = "x")]
fn misspelled(word: String) -> String {
    word
}

fn main() {}
