#[derive(serde::Deserialize)]
struct NoSchema {
    field: String,
}

/// Takes a type without a JSON schema.
#[runwright::tool]
fn takes(arg: NoSchema) -> String {
    arg.field
}

fn main() {}
