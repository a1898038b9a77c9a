//! How JSON values add up when a stream is folded: Python's `+` on what
//! `json.loads` gives, except that two message chunks in JSON form merge as
//! the typed [`AIMessageChunk`]s do (in a map's values, a chat model's chunks
//! are JSON, and LangChain adds them as messages).

use super::AIMessageChunk;
use crate::value::Chunk;

/// JSON values add up as Python's `+` does on them in LangChain's stream
/// folding: strings and arrays concatenate, numbers add, and anything else
/// (two objects included, as plain dicts do not add) is replaced by the later
/// value. [`Map`](crate::value::Map) is the key-wise merging object.
impl Chunk for serde_json::Value {
    fn concat(&mut self, next: Self) {
        use serde_json::Value as J;
        match (self, next) {
            (J::Object(a), J::Object(b)) if is_message_chunk(a) && is_message_chunk(&b) => {
                add_message_chunks(a, b);
            }
            (J::String(a), J::String(b)) => a.push_str(&b),
            (J::Array(a), J::Array(b)) => a.extend(b),
            (J::Number(a), J::Number(b)) => {
                let sum = match (a.as_i64(), b.as_i64()) {
                    (Some(x), Some(y)) => x.checked_add(y).map(serde_json::Number::from),
                    _ => None,
                };
                let sum =
                    sum.or_else(|| serde_json::Number::from_f64(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)));
                if let Some(sum) = sum {
                    *a = sum;
                }
            }
            (slot, other) => *slot = other,
        }
    }
}

fn is_message_chunk(m: &serde_json::Map<String, serde_json::Value>) -> bool {
    m.get("type").and_then(serde_json::Value::as_str) == Some("AIMessageChunk")
}

/// Two message chunks in JSON form add up as the typed chunks do (in a map's
/// values, a chat model's chunks are JSON, and LangChain adds them as
/// messages).
fn add_message_chunks(
    a: &mut serde_json::Map<String, serde_json::Value>,
    b: serde_json::Map<String, serde_json::Value>,
) {
    let parsed = serde_json::from_value::<AIMessageChunk>(serde_json::Value::Object(std::mem::take(a))).and_then(|x| {
        Ok((
            x,
            serde_json::from_value::<AIMessageChunk>(serde_json::Value::Object(b.clone()))?,
        ))
    });
    match parsed {
        Ok((mut x, y)) => {
            x.concat(y);
            if let Ok(serde_json::Value::Object(sum)) = serde_json::to_value(&x) {
                *a = sum;
                return;
            }
            *a = b;
        }
        Err(_) => *a = b,
    }
}

/// Objects of the [`Map`](crate::value::Map) type merge key by key, as LangChain's `AddableDict`:
/// a new key is added, a `null` never overwrites, and two values under the
/// same key are added with [`serde_json::Value`]'s rule.
impl Chunk for serde_json::Map<String, serde_json::Value> {
    fn concat(&mut self, next: Self) {
        for (k, v) in next {
            match self.get_mut(&k) {
                Some(old) if old.is_null() => *old = v,
                Some(old) => {
                    if !v.is_null() {
                        old.concat(v)
                    }
                }
                None => {
                    self.insert(k, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::value::Chunk;
    use serde_json::json;

    #[test]
    fn maps_merge_key_wise_like_addable_dict() {
        let mut a = json!({"a": "x", "n": 1, "keep": true}).as_object().unwrap().clone();
        a.concat(
            json!({"a": "y", "n": 2, "b": [1], "keep": null})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(json!(a), json!({"a": "xy", "n": 3, "keep": true, "b": [1]}));
    }

    #[test]
    fn plain_json_objects_do_not_add_so_the_later_wins() {
        let mut a = json!({"countries": []});
        a.concat(json!({"countries": [{"name": "France"}]}));
        assert_eq!(a, json!({"countries": [{"name": "France"}]}));
    }
}
