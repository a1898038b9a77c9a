// The user's own `Result`, `Option`, `Box`, `Ok` and `Some` do not disturb
// the generated code, which names everything by absolute path.
#![allow(dead_code, non_snake_case)]

use runwright::RunnableExt;

struct Result;
enum Option {
    Nothing,
}
struct Box;
struct Arc;
struct OnceLock;
fn Ok() {}
fn Some() {}
mod runwright_private_clash {}
mod std {}
mod core {}

/// Reverses a word.
///
/// * `word` - the word
#[runwright::tool]
fn reverse(word: String) -> ::std::result::Result<String, runwright::Error> {
    ::std::result::Result::Ok(word.chars().rev().collect())
}

/// Takes an optional argument.
#[runwright::tool]
async fn optional(maybe: ::std::option::Option<u8>) -> u8 {
    maybe.unwrap_or(7)
}

#[runwright::chain_fn]
async fn shout(s: String) -> String {
    s.to_uppercase()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(async {
        let pipeline = runwright::chain!(shout | |s| ::std::result::Result::Ok(s + "!") | reverse);
        let out = pipeline.invoke("abc".into()).await.expect("runs");
        assert_eq!(::std::string::String::from(out), "!CBA");
        let out = optional.invoke(serde_json::json!({}).into()).await.expect("runs");
        assert_eq!(out.into_value(), ::std::option::Option::Some(7));
    });
}
