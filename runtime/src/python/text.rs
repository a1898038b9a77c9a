//! Python's text forms of JSON values: `str()`, `repr()` and `json.dumps()`.
//!
//! LangChain formats a prompt variable with Python's `str()`, and a few
//! places (tool-call arguments, tool outputs) with `json.dumps`. A port that
//! must produce the same prompt text byte for byte needs the same rules:
//! `True`/`None`, single-quoted strings with Python's escapes, `1e+16` floats,
//! `', '` and `': '` separators. Each JSON value stands for the Python object
//! `json.loads` would give, with two LangChain objects recognised by their
//! encoded form: a `{"type": "Document", ...}` object prints as LangChain's
//! `Document`, and a message object (`{"type": "HumanMessage", ...}`) as the
//! message class.
//!
//! ```
//! use runwright::python::{json_dumps, py_str};
//! use serde_json::json;
//!
//! assert_eq!(py_str(&json!("as is")), "as is");
//! assert_eq!(py_str(&json!({"k": [true, null, 1.5, "it's"]})), r#"{'k': [True, None, 1.5, "it's"]}"#);
//! assert_eq!(json_dumps(&json!({"place": "bedroom"}), true), r#"{"place": "bedroom"}"#);
//! ```

use std::fmt::Write as _;

use serde_json::Value as Json;

/// Python's `str()` of the object the JSON value stands for: a string as is,
/// a `Document` as its `page_content='...' metadata={...}` form, anything
/// else as [`py_repr`].
pub fn py_str(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Object(o) if is_document(o) => {
            let content = o.get("page_content").and_then(Json::as_str).unwrap_or_default();
            match o.get("metadata") {
                Some(Json::Object(m)) if !m.is_empty() => {
                    format!(
                        "page_content='{content}' metadata={}",
                        py_repr(&Json::Object(m.clone()))
                    )
                }
                _ => format!("page_content='{content}'"),
            }
        }
        Json::Object(o) => match message_fields(o) {
            // pydantic's `__str__`: the repr's fields, space-separated.
            Some((_, fields)) => fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            None => py_repr(value),
        },
        _ => py_repr(value),
    }
}

/// Python's `repr()` of the object the JSON value stands for.
pub fn py_repr(value: &Json) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

/// Python's `json.dumps(value, ensure_ascii=ensure_ascii)` with the default
/// separators `', '` and `': '`, keys in their order.
pub fn json_dumps(value: &Json, ensure_ascii: bool) -> String {
    let mut out = String::new();
    write_json(&mut out, value, ensure_ascii);
    out
}

fn write_repr(out: &mut String, value: &Json) {
    match value {
        Json::Null => out.push_str("None"),
        Json::Bool(true) => out.push_str("True"),
        Json::Bool(false) => out.push_str("False"),
        Json::Number(n) => write_number(out, n),
        Json::String(s) => write_str_repr(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Json::Object(o) if is_document(o) => {
            out.push_str("Document(");
            if let Some(id) = o.get("id").filter(|id| !id.is_null()) {
                out.push_str("id=");
                write_repr(out, id);
                out.push_str(", ");
            }
            out.push_str("metadata=");
            match o.get("metadata") {
                Some(m) if !m.is_null() => write_repr(out, m),
                _ => out.push_str("{}"),
            }
            out.push_str(", page_content=");
            write_repr(out, o.get("page_content").unwrap_or(&Json::Null));
            out.push(')');
        }
        Json::Object(o) => match message_fields(o) {
            Some((class, fields)) => {
                out.push_str(class);
                out.push('(');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{k}={v}");
                }
                out.push(')');
            }
            None => {
                out.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_str_repr(out, k);
                    out.push_str(": ");
                    write_repr(out, v);
                }
                out.push('}');
            }
        },
    }
}

fn is_document(o: &serde_json::Map<String, Json>) -> bool {
    o.get("type").and_then(Json::as_str) == Some("Document") && o.get("page_content").is_some_and(Json::is_string)
}

/// The fields pydantic's repr shows for an encoded LangChain message: those
/// that differ from their defaults, in field order (`additional_kwargs` and
/// `response_metadata` have default factories, so they always show).
fn message_fields(o: &serde_json::Map<String, Json>) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    const CLASSES: [&str; 5] = [
        "SystemMessage",
        "HumanMessage",
        "AIMessage",
        "AIMessageChunk",
        "ToolMessage",
    ];
    let class = CLASSES
        .iter()
        .find(|c| o.get("type").and_then(Json::as_str) == Some(**c))?;
    let o_content = o.get("content")?;
    let empty = Json::Object(Default::default());
    let mut fields = vec![
        ("content", py_repr(o_content)),
        (
            "additional_kwargs",
            py_repr(o.get("additional_kwargs").unwrap_or(&empty)),
        ),
        (
            "response_metadata",
            py_repr(o.get("response_metadata").unwrap_or(&empty)),
        ),
    ];
    let optional = |fields: &mut Vec<(&'static str, String)>, key: &'static str, shown: fn(&Json) -> bool| {
        if let Some(v) = o.get(key).filter(|v| shown(v)) {
            fields.push((key, py_repr(v)));
        }
    };
    let not_null: fn(&Json) -> bool = |v| !v.is_null();
    let non_empty: fn(&Json) -> bool = |v| v.as_array().is_some_and(|a| !a.is_empty());
    optional(&mut fields, "name", not_null);
    optional(&mut fields, "id", not_null);
    match *class {
        "AIMessage" | "AIMessageChunk" => {
            optional(&mut fields, "tool_calls", non_empty);
            optional(&mut fields, "invalid_tool_calls", non_empty);
            optional(&mut fields, "usage_metadata", not_null);
            optional(&mut fields, "tool_call_chunks", non_empty);
            optional(&mut fields, "chunk_position", not_null);
        }
        "ToolMessage" => {
            fields.push(("tool_call_id", py_repr(o.get("tool_call_id").unwrap_or(&Json::Null))));
            optional(&mut fields, "artifact", not_null);
            optional(&mut fields, "status", |v| v.as_str() != Some("success"));
        }
        _ => {}
    }
    Some((class, fields))
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else {
        out.push_str(&float_repr(n.as_f64().unwrap_or(f64::NAN)));
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in `-4..16` (always with a `.0` or
/// more), otherwise as `1.5e+16` / `1e-05`.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, e.g. `-1.2345e3`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

/// Python's `repr(str)`: single quotes unless the text has a `'` and no `"`.
fn write_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !is_printable(c) => {
                let code = c as u32;
                let _ = if code < 0x100 {
                    write!(out, "\\x{code:02x}")
                } else if code < 0x10000 {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable()` for one character, without Unicode's
/// unassigned code points (which Python escapes and this keeps): control and
/// format characters, separators other than the space, and private-use
/// characters are not printable.
fn is_printable(c: char) -> bool {
    let code = c as u32;
    !matches!(
        code,
        0x00..=0x1f
            | 0x7f..=0xa0
            | 0xad
            | 0x600..=0x605
            | 0x61c
            | 0x6dd
            | 0x70f
            | 0x1680
            | 0x180e
            | 0x2000..=0x200f
            | 0x2028..=0x202f
            | 0x205f..=0x2064
            | 0x2066..=0x206f
            | 0x3000
            | 0xd800..=0xf8ff
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0x110bd
            | 0x1d173..=0x1d17a
            | 0xe0001
            | 0xe0020..=0xe007f
            | 0xf0000..
    )
}

fn write_json(out: &mut String, value: &Json, ensure_ascii: bool) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => write_number(out, n),
        Json::String(s) => write_json_str(out, s, ensure_ascii),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(out, item, ensure_ascii);
            }
            out.push(']');
        }
        Json::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_str(out, k, ensure_ascii);
                out.push_str(": ");
                write_json(out, v, ensure_ascii);
            }
            out.push('}');
        }
    }
}

fn write_json_str(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && (c as u32) > 0x7e) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (1.5, "1.5"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (123456.789, "123456.789"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.25e-7, "1.25e-07"),
            (1e100, "1e+100"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn strings_repr_with_pythons_quotes_and_escapes() {
        assert_eq!(py_repr(&json!("plain")), "'plain'");
        assert_eq!(py_repr(&json!("it's")), "\"it's\"");
        assert_eq!(py_repr(&json!("both ' and \"")), "'both \\' and \"'");
        assert_eq!(py_repr(&json!("a\nb\t\\ \u{1} é")), "'a\\nb\\t\\\\ \\x01 é'");
        assert_eq!(py_repr(&json!("\u{a0}\u{2028}")), "'\\xa0\\u2028'");
    }

    #[test]
    fn containers_and_constants_print_like_python() {
        let v = json!({"a": [1, 2.5, true, false, null], "b": {"c": "d"}, "e": []});
        assert_eq!(
            py_str(&v),
            "{'a': [1, 2.5, True, False, None], 'b': {'c': 'd'}, 'e': []}"
        );
        assert_eq!(py_str(&json!([])), "[]");
        assert_eq!(py_str(&json!(null)), "None");
        assert_eq!(py_str(&json!(-7)), "-7");
    }

    #[test]
    fn documents_print_like_langchain() {
        let docs = json!([
            {"type": "Document", "page_content": "harrison worked at kensho", "metadata": {}},
            {"type": "Document", "page_content": "it's", "metadata": {"source": 1}, "id": "d2"},
        ]);
        assert_eq!(
            py_str(&docs),
            "[Document(metadata={}, page_content='harrison worked at kensho'), \
             Document(id='d2', metadata={'source': 1}, page_content=\"it's\")]"
        );
        assert_eq!(py_str(&docs[0]), "page_content='harrison worked at kensho'");
        assert_eq!(py_str(&docs[1]), "page_content='it's' metadata={'source': 1}");
    }

    #[test]
    fn messages_print_like_pydantic() {
        let m = json!({"type": "HumanMessage", "content": "hi", "id": "1"});
        assert_eq!(
            py_repr(&m),
            "HumanMessage(content='hi', additional_kwargs={}, response_metadata={}, id='1')"
        );
        assert_eq!(
            py_str(&m),
            "content='hi' additional_kwargs={} response_metadata={} id='1'"
        );
        let t = json!({"type": "ToolMessage", "content": "x", "tool_call_id": "c", "status": "success"});
        assert_eq!(
            py_repr(&t),
            "ToolMessage(content='x', additional_kwargs={}, response_metadata={}, tool_call_id='c')"
        );
    }

    #[test]
    fn json_dumps_uses_pythons_separators_and_escapes() {
        let v = json!({"place": "bedroom", "n": [1, 2.0], "u": "é\u{1F600}\n"});
        assert_eq!(
            json_dumps(&v, true),
            r#"{"place": "bedroom", "n": [1, 2.0], "u": "\u00e9\ud83d\ude00\n"}"#
        );
        assert_eq!(
            json_dumps(&v, false),
            "{\"place\": \"bedroom\", \"n\": [1, 2.0], \"u\": \"é\u{1F600}\\n\"}"
        );
        assert_eq!(json_dumps(&json!({}), true), "{}");
    }
}
