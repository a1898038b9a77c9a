/// Generic.
#[runwright::tool]
fn generic<T: serde::de::DeserializeOwned>(x: T) -> String {
    let _ = x;
    String::new()
}

fn main() {}
