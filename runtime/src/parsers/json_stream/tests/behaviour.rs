//! Behaviour details: what partial values show, errors, storage sharing.

use super::*;

#[test]
fn incomplete_keys_and_literals_are_hidden_with_their_key() {
    let mut p = JsonStreamParser::new();
    assert_eq!(
        p.push(r#"{"countries":"#).unwrap().map(|v| v.to_json()),
        Some(json!({}))
    );
    assert_eq!(
        p.push(r#" [{"name":"#).unwrap().map(|v| v.to_json()),
        Some(json!({"countries": [{}]}))
    );
    assert_eq!(p.push(r#" tr"#).unwrap(), None);
    assert_eq!(
        p.push(r#"ue, "n": -"#).unwrap().map(|v| v.to_json()),
        Some(json!({"countries": [{"name": true}]}))
    );
    assert_eq!(
        p.push("1").unwrap().map(|v| v.to_json()),
        Some(json!({"countries": [{"name": true, "n": -1}]}))
    );
}

#[test]
fn numbers_show_their_longest_valid_prefix_and_equal_numbers_are_not_re_emitted() {
    let mut p = JsonStreamParser::new();
    let mut step = |s: &str| p.push(s).unwrap().map(|v| v.to_string());
    assert_eq!(step("[1").as_deref(), Some("[1]"));
    assert_eq!(step(".").as_deref(), None);
    // 1.0 == 1 in Python: LangChain does not emit it.
    assert_eq!(step("0").as_deref(), None);
    assert_eq!(step("5").as_deref(), Some("[1.05]"));
    assert_eq!(step("e").as_deref(), None);
    assert_eq!(step("-").as_deref(), None);
    assert_eq!(step("1").as_deref(), Some("[0.105]"));
    assert_eq!(step("]").as_deref(), None);
    assert_eq!(p.peek().map(|v| v.to_string()).as_deref(), Some("[0.105]"));
}

#[test]
fn a_number_that_only_changes_type_is_not_emitted_again() {
    assert_eq!(
        collect(&chars("[1.0]")).unwrap(),
        (vec![json!([]), json!([1])], json!([1.0]))
    );
}

#[test]
fn partial_strings_drop_trailing_space_and_vanish_during_unicode_escapes() {
    let mut p = JsonStreamParser::new();
    let mut step = |s: &str| p.push(s).unwrap().map(|v| v.to_string());
    assert_eq!(step(r#"["ab"#).as_deref(), Some(r#"["ab"]"#));
    assert_eq!(step(" ` ").as_deref(), None);
    assert_eq!(step("c").as_deref(), Some(r#"["ab ` c"]"#));
    assert_eq!(step(r"\u00").as_deref(), Some("[]"));
    assert_eq!(step("e9").as_deref(), Some(r#"["ab ` cé"]"#));
    assert_eq!(step(r"\").as_deref(), None);
    assert_eq!(step(r#"""#).as_deref(), Some(r#"["ab ` cé\""]"#));
    assert_eq!(step(r#"  "#).as_deref(), None);
    assert_eq!(step(r#"""#).as_deref(), Some(r#"["ab ` cé\"  "]"#));
}

#[test]
fn surrogate_pairs_join_and_lone_halves_become_replacement_characters() {
    let (yields, done) = collect(&chars(r#"["\ud83d\ude00", "\ud83d", "\udc00x"]"#)).unwrap();
    assert_eq!(done, json!(["\u{1f600}", "\u{fffd}", "\u{fffd}x"]));
    assert!(yields.contains(&json!(["\u{fffd}"])));
}

#[test]
fn repeated_keys_keep_their_first_place_and_last_value() {
    let doc = r#"{"a": 1, "b": 2, "a": {"c": [3]}}"#;
    let mut p = JsonStreamParser::new();
    let mut last = None;
    for c in chars(doc) {
        if let Some(v) = p.push(c).unwrap() {
            last = Some(v);
        }
    }
    let last = last.unwrap();
    assert_eq!(serde_json::to_string(&last).unwrap(), r#"{"a":{"c":[3]},"b":2}"#);
    assert_eq!(
        last.get("a")
            .and_then(|a| a.get("c"))
            .and_then(|c| c.get_index(0))
            .and_then(|n| n.as_number()),
        Some(&3.into())
    );
    assert_eq!(p.finish().unwrap().to_string(), r#"{"a":{"c":[3]},"b":2}"#);
    // A repeated key whose new value equals the old one changes nothing.
    let (yields, _) = collect(&chars(r#"{"a": {}, "a": {}}"#)).unwrap();
    assert_eq!(yields, [json!({}), json!({"a": {}})]);
}

#[test]
fn a_top_level_null_is_never_emitted() {
    let (yields, done) = collect(&["nu", "ll "]).unwrap();
    assert!(yields.is_empty());
    assert_eq!(done, J::Null);
}

#[test]
fn fences_and_surrounding_text() {
    let (yields, done) = collect(&split_on_whitespace("```json\n{\"a\": [1, 2]}\n```\nHope this helps!")).unwrap();
    assert_eq!(yields, [json!({}), json!({"a": [1]}), json!({"a": [1, 2]})]);
    assert_eq!(done, json!({"a": [1, 2]}));
    assert_eq!(collect(&["  \n`", "``", "\n[", "1]\n``", "`"]).unwrap().1, json!([1]));
    assert_eq!(collect(&["Sure:\n``", "`json\n", "[1]"]).unwrap().1, json!([1]));
    assert_eq!(collect(&["`[1]`\n"]).unwrap().1, json!([1]));
}

#[test]
fn errors_say_what_and_where() {
    assert_eq!(
        err_message(&["{\"a\": 1,\n", "  \"b\" 2}"]),
        "invalid JSON at line 2, column 7: expected ':' after an object key, found '2'"
    );
    assert_eq!(
        err_message(&["[1 2]"]),
        "invalid JSON at line 1, column 4: expected ',' or ']' after an array element, found '2'"
    );
    assert_eq!(
        err_message(&["[1,]"]),
        "invalid JSON at line 1, column 4: expected a JSON value, found ']'"
    );
    assert_eq!(
        err_message(&["{\"é\": \"\\x\"}"]),
        "invalid JSON at line 1, column 9: invalid escape '\\x' in a string"
    );
    assert_eq!(
        err_message(&["[tru", "e, fals", "y]"]),
        "invalid JSON at line 1, column 12: invalid literal: expected `false`, found 'y'"
    );
    assert_eq!(
        err_message(&["[01]"]),
        "invalid JSON at line 1, column 3: expected ',' or ']' after an array element, found '1'"
    );
    assert_eq!(
        err_message(&["[1.]"]),
        "invalid JSON at line 1, column 4: incomplete number '1.'"
    );
    assert_eq!(
        err_message(&["{\"a\": [1]}", " extra"]),
        "invalid JSON at line 1, column 12: unexpected 'e' after the JSON value"
    );
    assert_eq!(
        err_message(&["```json\n", "{\"a\": [1"]),
        "invalid JSON at line 2, column 9: unexpected end of JSON: unclosed array"
    );
    assert_eq!(
        err_message(&["{\"a\": \"x"]),
        "invalid JSON at line 1, column 9: unexpected end of JSON: unterminated string"
    );
    assert_eq!(
        err_message(&["{\"a"]),
        "invalid JSON at line 1, column 4: unexpected end of JSON: unterminated object key"
    );
    assert_eq!(
        err_message(&["-"]),
        "invalid JSON at line 1, column 2: unexpected end of JSON: incomplete number"
    );
    assert_eq!(
        err_message(&["   "]),
        "invalid JSON at line 1, column 4: no JSON value in the text"
    );
    assert_eq!(
        err_message(&["Hello"]),
        "invalid JSON at line 1, column 6: the text is not JSON and has no ``` fence"
    );
    assert_eq!(
        err_message(&["```python\n"]),
        "invalid JSON at line 1, column 4: expected a JSON value after the ``` fence, found 'p'"
    );
    assert_eq!(
        err_message(&["[1e999]"]),
        "invalid JSON at line 1, column 7: number '1e999' is out of range"
    );
    assert!(err_message(&["[".repeat(MAX_DEPTH + 1).as_str()]).contains("nesting deeper than 1024 levels"));
}

#[test]
fn top_level_numbers_end_with_the_text() {
    assert_eq!(
        collect(&["12", "3"]).unwrap(),
        (vec![json!(12), json!(123)], json!(123))
    );
    assert_eq!(collect(&["-0"]).unwrap().1, json!(0));
}

#[test]
fn long_strings_share_storage_across_block_growth() {
    let long: String = (0..5000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let doc = format!(r#"{{"k": "{long}", "k2": ["{long}", "é"]}}"#);
    let mut p = JsonStreamParser::new();
    let mut kept = Vec::new();
    for c in chars(&doc) {
        if let Some(v) = p.push(c).unwrap() {
            kept.push((v.to_string(), v));
        }
    }
    for (text, v) in &kept {
        assert_eq!(text, &v.to_string());
    }
    // `{`, `""`, 5000 letters, `[`, `""`, 5000 letters, `""`, `é`.
    assert_eq!(kept.len(), 2 + 5000 + 2 + 5000 + 2);
    assert_eq!(p.finish().unwrap(), serde_json::from_str::<J>(&doc).unwrap());
}

#[test]
fn partial_values_are_cheap_to_clone_and_usable_as_chunks() {
    fn assert_value<T: crate::value::Data>() {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_value::<PartialValue>();
    assert_send_sync::<JsonStreamParser>();
    let v = PartialValue::from(json!({"a": [1, "x", null], "b": {"c": false}}));
    assert_eq!(v.len(), 2);
    assert!(v.is_object() && !v.is_empty());
    assert_eq!(v.members().map(|(k, _)| k).collect::<Vec<_>>(), ["a", "b"]);
    let a = v.get("a").unwrap();
    assert!(a.is_array());
    assert_eq!(
        a.elements().map(|e| e.to_string()).collect::<Vec<_>>(),
        ["1", "\"x\"", "null"]
    );
    assert_eq!(a.get_index(1).and_then(PartialValue::as_str), Some("x"));
    assert!(a.get_index(2).unwrap().is_null());
    assert_eq!(
        v.get("b").and_then(|b| b.get("c")).and_then(PartialValue::as_bool),
        Some(false)
    );
    assert_eq!(format!("{v:?}"), r#"{"a":[1,"x",null],"b":{"c":false}}"#);
    let mut c = v.clone();
    c.concat(PartialValue::from(json!([2])));
    assert_eq!(serde_json::Value::from(c), json!([2]));
    // JSON equality: number types matter, key order does not.
    assert_ne!(PartialValue::from(json!(1)), PartialValue::from(json!(1.0)));
    assert_eq!(
        PartialValue::from(json!({"x": 1, "y": 2})),
        PartialValue::from(json!({"y": 2, "x": 1}))
    );
    assert_eq!(PartialValue::NULL.to_json(), J::Null);
}

#[test]
fn persistent_vectors_keep_every_version() {
    let mut v: PVec<usize> = PVec::new();
    let mut model: Vec<usize> = Vec::new();
    let mut versions: Vec<(PVec<usize>, Vec<usize>)> = Vec::new();
    let mut rng = Rng(42);
    for i in 0..40_000 {
        v.push(i);
        model.push(i);
        if rng.below(7) == 0 {
            let at = rng.below(model.len());
            v.set(at, i * 10);
            model[at] = i * 10;
        }
        if i % 997 == 0 || i < 40 {
            versions.push((v.clone(), model.clone()));
        }
    }
    versions.push((v, model));
    for (v, model) in &versions {
        assert_eq!(v.len(), model.len());
        assert!(v.iter().eq(model.iter()));
        assert!((0..model.len()).step_by(13).all(|i| v.get(i) == model.get(i)));
        assert_eq!(v.get(model.len()), None);
    }
}

#[test]
fn large_objects_with_repeated_keys_match_the_oracle() {
    let mut members: Vec<String> = (0..70).map(|i| format!("\"k{i}\": {i}")).collect();
    members.push(r#""k3": "three""#.into());
    members.push(r#""k65": {"deep": [1, 2]}"#.into());
    members.push(r#""k3": [3]"#.into());
    let doc = format!("{{{}}}", members.join(", "));
    let yields = check_against_oracle(&chars(&doc));
    let want = loads(&doc).unwrap();
    assert_eq!(yields.last(), Some(&want));
    assert_eq!(want["k3"], json!([3]));
    assert_eq!(want.as_object().unwrap().keys().nth(3).map(String::as_str), Some("k3"));
}

#[test]
fn values_from_different_parsers_compare_by_content() {
    let last = |doc: &str| {
        let mut p = JsonStreamParser::new();
        let mut last = None;
        for c in chars(doc) {
            if let Some(v) = p.push(c).unwrap() {
                last = Some(v);
            }
        }
        (p.peek().unwrap(), last.unwrap())
    };
    let (a, _) = last(r#"[[1, 2], [3"#);
    let (b, _) = last(r#"[[1, 9], [3"#);
    assert_ne!(a, b);
    let (c, _) = last(r#"{"k": [1, 2], "x": {"y""#);
    let (d, _) = last(r#"{"k": [1, 2], "x": {"y""#);
    assert_eq!(c, d);
}
