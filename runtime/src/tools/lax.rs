//! Numbers written as strings, read as numbers: what LangChain's tools do
//! with `{"temp": "21.5"}` for a `float` argument.
//!
//! LangChain validates a tool's arguments with pydantic in lax mode, which
//! reads a numeric string as the number it spells (`"21.5"` for a float,
//! `" 3 "` and `"3.0"` for an int; `"3.5"` stays an error for an int).
//! Small models write numbers in quotes often enough that a tool failing on
//! them would fail where the same tool in LangChain works. So before an
//! argument is deserialized, each string in it where the schema asks for an
//! `integer` or a `number` (and not also a `string`) and that spells one is
//! replaced by that number. Nothing else is coerced (no booleans, no
//! numbers to strings), and strings that spell no finite number stay
//! strings, so their error is the usual one.

use serde_json::{Number, Value as Json};

use super::spec::{SchemaStep, ToolSpec};

/// Replaces the numeric strings in `value` where `schema` (a schema of
/// `spec`'s) asks for a number.
pub(crate) fn coerce_numeric_strings(spec: &ToolSpec, value: &mut Json, schema: &Json) {
    coerce(spec, value, schema, 0);
}

fn coerce(spec: &ToolSpec, value: &mut Json, schema: &Json, depth: u8) {
    // Values nest as deep as JSON lets them; a schema of references to
    // references could otherwise be followed without end.
    if depth > 64 {
        return;
    }
    let schema = spec.resolve(schema);
    let alternatives = schema.get("anyOf").or_else(|| schema.get("oneOf"));
    if let Some(Json::Array(alternatives)) = alternatives {
        // `Option<T>` is `T or null`: read as `T`. With more than one
        // non-null alternative the value's type picks one, not this.
        let mut others = alternatives.iter().filter(|a| !is_null(spec.resolve(a)));
        if let (Some(only), None) = (others.next(), others.next()) {
            coerce(spec, value, only, depth + 1);
        }
        return;
    }
    match value {
        Json::String(text) => {
            if let Some(n) = number_for(schema, text) {
                *value = Json::Number(n);
            }
        }
        Json::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if let Some(sub) = spec.child_schema(schema, SchemaStep::Key(key)) {
                    coerce(spec, field, sub, depth + 1);
                }
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                if let Some(sub) = spec.child_schema(schema, SchemaStep::Index(i)) {
                    coerce(spec, item, sub, depth + 1);
                }
            }
        }
        _ => {}
    }
}

fn is_null(schema: &Json) -> bool {
    schema.get("type").and_then(Json::as_str) == Some("null")
}

/// The number `text` spells, if `schema` wants a number and not a string.
fn number_for(schema: &Json, text: &str) -> Option<Number> {
    let types: Vec<&str> = match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => return None,
    };
    if types.contains(&"string") {
        None
    } else if types.contains(&"integer") {
        integer(text.trim())
    } else if types.contains(&"number") {
        number(text.trim())
    } else {
        None
    }
}

/// `"3"`, `"-3"`, `"+3"`, and `"3.0"` (a zero fraction), as pydantic reads
/// an int.
fn integer(text: &str) -> Option<Number> {
    let whole = match text.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => text,
    };
    if let Ok(i) = whole.parse::<i64>() {
        return Some(i.into());
    }
    whole.parse::<u64>().ok().map(Number::from)
}

/// Any finite decimal (`"21.5"`, `"1e3"`, `"-.5"`), as Python's `float()`
/// reads it; an integer stays an integer. `"inf"` and `"nan"` are not
/// numbers JSON can hold, so they stay strings.
fn number(text: &str) -> Option<Number> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(i.into());
    }
    if let Ok(u) = text.parse::<u64>() {
        return Some(u.into());
    }
    let f = text.parse::<f64>().ok().filter(|f| f.is_finite())?;
    Number::from_f64(f)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> ToolSpec {
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Reading {
            temp: f64,
            label: String,
            count: Option<u32>,
        }
        ToolSpec::builder("t", "T.")
            .arg::<f64>("temp", None)
            .arg::<i64>("days", None)
            .arg::<Option<f64>>("maybe", None)
            .arg::<String>("text", None)
            .arg::<Vec<Reading>>("readings", None)
            .arg::<std::collections::HashMap<String, u8>>("scores", None)
            .build()
    }

    fn coerced(arg: &str, value: Json) -> Json {
        let spec = spec();
        let mut value = value;
        let schema = spec.arg_schema(arg).expect("an argument of the spec").clone();
        coerce_numeric_strings(&spec, &mut value, &schema);
        value
    }

    #[test]
    fn numeric_strings_become_numbers_where_the_schema_asks_for_one() {
        assert_eq!(coerced("temp", json!("21.5")), json!(21.5));
        assert_eq!(coerced("temp", json!(" 1e3 ")), json!(1000.0));
        assert_eq!(coerced("temp", json!("21")), json!(21));
        assert_eq!(coerced("days", json!("3")), json!(3));
        assert_eq!(coerced("days", json!("+3")), json!(3));
        assert_eq!(coerced("days", json!("3.00")), json!(3));
        assert_eq!(coerced("days", json!("18446744073709551615")), json!(u64::MAX));
        assert_eq!(coerced("maybe", json!("2.5")), json!(2.5));
        assert_eq!(
            coerced("readings", json!([{"temp": "1.5", "label": "7", "count": "2"}])),
            json!([{"temp": 1.5, "label": "7", "count": 2}])
        );
        assert_eq!(coerced("scores", json!({"a": "4"})), json!({"a": 4}));
    }

    #[test]
    fn other_strings_and_values_stay_as_they_are() {
        assert_eq!(coerced("days", json!("3.5")), json!("3.5"));
        assert_eq!(coerced("days", json!("3.")), json!("3."));
        assert_eq!(coerced("days", json!("three")), json!("three"));
        assert_eq!(coerced("temp", json!("inf")), json!("inf"));
        assert_eq!(coerced("temp", json!("NaN")), json!("NaN"));
        assert_eq!(coerced("temp", json!("")), json!(""));
        assert_eq!(coerced("temp", json!(true)), json!(true));
        assert_eq!(coerced("maybe", json!(null)), json!(null));
        assert_eq!(coerced("text", json!("21.5")), json!("21.5"));
        assert_eq!(
            coerced("readings", json!([{"label": "7"}, "x", 3])),
            json!([{"label": "7"}, "x", 3])
        );
    }
}
