// What `#[tool_arg]` refuses: arguments, a union, a function, and a derive
// of what it derives itself. Written below the attribute, the derive is
// named by `#[tool_arg]`; above it, rustc expands the derive first and says
// the two impls conflict.
#![allow(dead_code)]

#[runwright::tool_arg(rename_all = "camelCase")]
#[derive(Debug, serde::Deserialize)]
struct Address {
    street: String,
}

#[derive(runwright::tools::JsonSchema)]
#[runwright::tool_arg]
struct Derived {
    street: String,
}

#[runwright::tool_arg]
union Either {
    a: u32,
    b: f32,
}

#[runwright::tool_arg]
fn not_a_type() {}

fn main() {}
