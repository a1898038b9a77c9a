//! JSON streaming parser benchmark (work in progress).
fn main() {}
