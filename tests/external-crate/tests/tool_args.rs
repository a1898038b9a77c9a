//! Struct and enum tool arguments in a crate that depends on runwright
//! alone: they deserialize, describe themselves in the schema, and an
//! invalid field is named by its path.

use runwright::tools::ToolOutput;
use runwright::{ErrorKind, RunnableExt};
use runwright_external_crate::deliver;
use serde_json::{json, Value as Json};

fn order(to: Json, items: Json) -> Json {
    json!({"to": to, "items": items, "speed": "express"})
}

async fn invalid(args: Json) -> String {
    let err = deliver.invoke(args.into()).await.expect_err("invalid arguments");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.step(), Some("deliver"));
    err.to_string()
}

#[tokio::test]
async fn struct_and_enum_arguments_deserialize() {
    let args = order(
        json!({"street": "1 Main St", "zip": "75001"}),
        json!([{"name": "tea", "quantity": 2}, {"name": "jam", "quantity": "1"}]),
    );
    let out = deliver.invoke(args.into()).await.unwrap();
    assert_eq!(
        out,
        ToolOutput::Value("3 items to 1 Main St, 75001 (express)".to_owned())
    );
}

#[test]
fn the_schema_describes_the_fields_from_their_doc_comments() {
    let schema = deliver.spec().parameters();
    let to = &schema["properties"]["to"];
    assert_eq!(to["description"], "where to deliver");
    assert_eq!(
        to["properties"]["zip"]["description"],
        "Postal code, as written locally."
    );
    assert_eq!(to["required"], json!(["street", "zip"]));
    assert_eq!(
        schema["properties"]["items"]["items"]["properties"]["quantity"]["type"],
        "integer"
    );
    assert_eq!(schema["properties"]["speed"]["enum"], json!(["standard", "express"]));
}

#[tokio::test]
async fn a_mistyped_field_is_named_by_its_path() {
    let err = invalid(order(json!({"street": "1 Main St", "zip": 5}), json!([]))).await;
    assert_eq!(
        err,
        "step `deliver`: invalid arguments: argument `to.zip` (expected string): invalid type: integer `5`, \
         expected a string"
    );
}

#[tokio::test]
async fn a_field_in_an_array_is_named_with_its_index() {
    let items = json!([{"name": "tea", "quantity": 2}, {"name": "jam", "quantity": 1}, {"name": null, "quantity": 1}]);
    let err = invalid(order(json!({"street": "1 Main St", "zip": "75001"}), items)).await;
    assert_eq!(
        err,
        "step `deliver`: invalid arguments: argument `items[2].name` (expected string): invalid type: null, \
         expected a string"
    );
}

#[tokio::test]
async fn an_unknown_variant_and_a_missing_field_are_named_where_they_are() {
    let args = json!({"to": {"street": "1 Main St"}, "items": [], "speed": "warp"});
    let err = invalid(args).await;
    assert_eq!(
        err,
        "step `deliver`: invalid arguments: argument `to` (expected object): missing field `zip`; argument \
         `speed` (expected one of \"standard\", \"express\"): unknown variant `warp`, expected `standard` or \
         `express`"
    );
}
