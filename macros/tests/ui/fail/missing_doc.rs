#[runwright::tool]
fn undocumented(word: String) -> String {
    word
}

fn main() {}
