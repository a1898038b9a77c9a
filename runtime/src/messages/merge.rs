//! LangChain's `merge_dicts`, `merge_lists` and `merge_content`: how the
//! loose JSON parts of message chunks (`additional_kwargs`,
//! `response_metadata`, content blocks, tool-call chunks) add up.
//!
//! Where Python raises a `TypeError` (the same key with values of different
//! types), the later value wins here: folding a stream cannot fail.

use serde_json::Value as Json;

use super::Content;
use crate::value::Map;

/// Keys whose equal string values are kept once instead of concatenated.
const SAME_STRING_KEYS: [&str; 4] = ["id", "output_version", "model_provider", "ls_provider"];
/// Integer keys where the later value wins instead of the sum.
const LAST_INT_KEYS: [&str; 3] = ["index", "created", "timestamp"];

/// `merge_dicts(left, right)`: a new key is added, `null` never overwrites
/// (and is overwritten), strings concatenate, objects recurse, arrays merge
/// with [`merge_lists`], equal values stay, other integers add up.
pub(crate) fn merge_dicts(left: &mut Map, right: Map) {
    for (key, right_v) in right {
        match left.get_mut(&key) {
            None => {
                left.insert(key, right_v);
            }
            Some(left_v) if left_v.is_null() => *left_v = right_v,
            Some(_) if right_v.is_null() => {}
            Some(left_v) => merge_value(&key, left_v, right_v),
        }
    }
}

fn merge_value(key: &str, left: &mut Json, right: Json) {
    match (left, right) {
        (Json::String(a), Json::String(b)) => {
            let keep = (key == "index" && a.starts_with("lc_")) || (SAME_STRING_KEYS.contains(&key) && *a == b);
            if !keep {
                a.push_str(&b);
            }
        }
        (Json::Object(a), Json::Object(b)) => merge_dicts(a, b),
        (Json::Array(a), Json::Array(b)) => merge_lists(a, b),
        (a, b) if *a == b => {}
        (Json::Number(a), Json::Number(b)) if is_int(a) && is_int(&b) => {
            if LAST_INT_KEYS.contains(&key) {
                *a = b;
            } else {
                let sum = match (a.as_i64(), b.as_i64()) {
                    (Some(x), Some(y)) => x.checked_add(y).map(serde_json::Number::from),
                    _ => a
                        .as_u64()
                        .zip(b.as_u64())
                        .and_then(|(x, y)| x.checked_add(y))
                        .map(Into::into),
                };
                if let Some(sum) = sum {
                    *a = sum;
                }
            }
        }
        (slot, b) => *slot = b,
    }
}

fn is_int(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64()
}

/// The `index` by which list elements merge: an integer, or a string that
/// starts with `lc_`.
fn merge_index(e: &Map) -> Option<&Json> {
    let index = e.get("index")?;
    match index {
        Json::Number(n) if is_int(n) => Some(index),
        Json::String(s) if s.starts_with("lc_") => Some(index),
        _ => None,
    }
}

fn id_is_blank(id: Option<&Json>) -> bool {
    match id {
        None | Some(Json::Null) => true,
        Some(Json::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// `merge_lists(left, right)`: an object of `right` with an `index` merges
/// (with [`merge_dicts`], its `type` dropped) into the first element of
/// `left` with the same index and no conflicting `id`; anything else is
/// appended.
pub(crate) fn merge_lists(left: &mut Vec<Json>, right: Vec<Json>) {
    for e in right {
        let Json::Object(mut e) = e else {
            left.push(e);
            continue;
        };
        let Some(index) = merge_index(&e).cloned() else {
            left.push(Json::Object(e));
            continue;
        };
        let e_id = e.get("id");
        let target = left.iter().position(|l| {
            l.as_object().and_then(|o| o.get("index")) == Some(&index) && {
                let l_id = l.get("id");
                id_is_blank(l_id) || id_is_blank(e_id) || l_id == e_id
            }
        });
        let Some(target) = target else {
            left.push(Json::Object(e));
            continue;
        };
        let left_type = left[target]
            .get("type")
            .and_then(Json::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let non_standard = e.get("type").and_then(Json::as_str) == Some("non_standard") && e.contains_key("value");
        let new_e = match left_type {
            Some(left_type) if non_standard => {
                let value: Map = match e.remove("value") {
                    Some(Json::Object(v)) => v.into_iter().filter(|(k, _)| k != "type").collect(),
                    _ => Map::new(),
                };
                let mut new_e = Map::new();
                if left_type != "non_standard" {
                    new_e.insert("extras".into(), Json::Object(value));
                } else {
                    new_e.insert("value".into(), Json::Object(value));
                    if let Some(index) = e.remove("index") {
                        new_e.insert("index".into(), index);
                    }
                }
                new_e
            }
            _ => {
                e.remove("type");
                e
            }
        };
        if let Some(Json::Object(target)) = left.get_mut(target) {
            merge_dicts(target, new_e);
        }
    }
}

/// `merge_content(left, right)`: texts concatenate; a text before blocks
/// becomes the first block; blocks merge with [`merge_lists`]; a text after
/// blocks extends a trailing text block or becomes a new block.
pub(crate) fn merge_content(left: &mut Content, right: Content) {
    match (left, right) {
        (Content::Text(a), Content::Text(b)) => a.push_str(&b),
        (left @ Content::Text(_), Content::Blocks(b)) => {
            let first = match std::mem::take(left) {
                Content::Text(a) => Json::String(a),
                Content::Blocks(_) => Json::String(String::new()),
            };
            *left = Content::Blocks(std::iter::once(first).chain(b).collect());
        }
        (Content::Blocks(a), Content::Blocks(b)) => merge_lists(a, b),
        (Content::Blocks(a), Content::Text(b)) => match a.last_mut() {
            Some(Json::String(last)) => last.push_str(&b),
            _ if b.is_empty() => {}
            Some(_) => a.push(Json::String(b)),
            // LangChain drops a text that follows an empty block list.
            None => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Json) -> Map {
        match v {
            Json::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn dicts_merge_like_langchain() {
        let mut a = map(json!({
            "s": "ab", "id": "x", "n": 1, "same": 2, "index": 0, "none": null,
            "nested": {"t": "a", "list": [{"index": 0, "text": "he"}]}, "f": 1.5
        }));
        merge_dicts(
            &mut a,
            map(json!({
                "s": "cd", "id": "x", "n": 2, "same": 2, "index": 3, "none": "set", "new": true,
                "nested": {"t": "b", "list": [{"index": 0, "text": "llo", "type": "text"}, {"index": 1, "text": "!"}]},
                "f": 2.5
            })),
        );
        assert_eq!(
            Json::Object(a),
            json!({
                "s": "abcd", "id": "x", "n": 3, "same": 2, "index": 3, "none": "set",
                "nested": {"t": "ab", "list": [{"index": 0, "text": "hello"}, {"index": 1, "text": "!"}]},
                "f": 2.5, "new": true
            })
        );
    }

    #[test]
    fn list_elements_with_conflicting_ids_do_not_merge() {
        let mut a = vec![json!({"index": 0, "id": "a", "args": "{"})];
        merge_lists(
            &mut a,
            vec![
                json!({"index": 0, "id": "b", "args": "}"}),
                json!({"index": 0, "id": null, "args": "x"}),
            ],
        );
        assert_eq!(
            a,
            vec![
                json!({"index": 0, "id": "a", "args": "{x"}),
                json!({"index": 0, "id": "b", "args": "}"})
            ]
        );
    }

    #[test]
    fn non_standard_blocks_merge_into_extras() {
        let mut a = vec![json!({"type": "text", "text": "a", "index": 0})];
        merge_lists(
            &mut a,
            vec![json!({"type": "non_standard", "index": 0, "value": {"type": "x", "k": 1}})],
        );
        assert_eq!(
            a,
            vec![json!({"type": "text", "text": "a", "index": 0, "extras": {"k": 1}})]
        );
    }

    #[test]
    fn content_merges_like_merge_content() {
        let mut c = Content::Text("a".into());
        merge_content(&mut c, Content::Text("b".into()));
        assert_eq!(c, Content::Text("ab".into()));
        merge_content(
            &mut c,
            Content::Blocks(vec![json!({"type": "text", "text": "c", "index": 0})]),
        );
        assert_eq!(
            c,
            Content::Blocks(vec![json!("ab"), json!({"type": "text", "text": "c", "index": 0})])
        );
        merge_content(
            &mut c,
            Content::Blocks(vec![json!({"type": "text", "text": "d", "index": 0})]),
        );
        merge_content(&mut c, Content::Text("e".into()));
        assert_eq!(
            c,
            Content::Blocks(vec![
                json!("ab"),
                json!({"type": "text", "text": "cd", "index": 0}),
                json!("e")
            ])
        );
        merge_content(&mut c, Content::Text("f".into()));
        assert_eq!(c.text(), "abcdef");
    }
}
