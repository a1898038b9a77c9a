// `#[tool_arg]` types as tool arguments: a struct with serde attributes, an
// enum, a generic struct, a type that contains itself; `Debug`, `Clone` and
// `PartialEq` derived beside it, above and below. The local `serde` and
// `schemars` modules prove that the derives reach serde and schemars
// through runwright, not through whatever those names mean here.
#![allow(dead_code)]

use runwright::{tool, tool_arg, RunnableExt};

mod serde {}
mod schemars {}

/// Where to deliver.
#[derive(Debug, Clone)]
#[tool_arg]
#[serde(rename_all = "camelCase")]
struct Address {
    /// Street and number.
    street_name: String,
    #[serde(default)]
    floor: i32,
}

#[tool_arg]
#[derive(Debug, PartialEq)]
enum Speed {
    Standard,
    Express { by: String },
}

#[tool_arg]
struct Tagged<T> {
    tag: String,
    value: T,
}

#[tool_arg]
struct Node {
    name: String,
    children: Vec<Node>,
}

/// Delivers.
///
/// * `to` - where
/// * `speed` - how fast
/// * `weight` - in kg
/// * `tree` - the parcel's parts
#[tool]
fn deliver(to: Address, speed: Speed, weight: Tagged<f64>, tree: Node) -> String {
    format!(
        "{} floor {} {:?} {}{} {} {}",
        to.street_name,
        to.floor,
        speed,
        weight.value,
        weight.tag,
        tree.name,
        tree.children.len()
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(async {
        let args = serde_json::json!({
            "to": {"streetName": "Main St"},
            "speed": {"Express": {"by": "noon"}},
            "weight": {"tag": "kg", "value": "2.5"},
            "tree": {"name": "box", "children": [{"name": "lid", "children": []}]},
        });
        let out = deliver.invoke(args.into()).await.expect("runs");
        assert_eq!(
            out.into_value().as_deref(),
            Some("Main St floor 0 Express { by: \"noon\" } 2.5kg box 1")
        );
        let schema = deliver.spec().parameters();
        assert_eq!(schema["properties"]["to"]["properties"]["streetName"]["description"], "Street and number.");
        assert!(schema["$defs"]["Node"].is_object(), "{schema}");
    });
}
