//! LangChain's lenient JSON parsing of incomplete text: `parse_partial_json`
//! and `parse_json_markdown` from `langchain_core.utils.json`.
//!
//! These functions reproduce the *results* of the Python functions, including
//! their quirks, so that runwright's JSON parsers yield what LangChain yields.
//! They re-scan the whole text and retry a full parse once per dropped
//! character, which is quadratic: use them on short strings (tool-call
//! arguments) or as a reference. For a growing stream, use
//! [`JsonStreamParser`](crate::parsers::json_stream::JsonStreamParser), which gives the
//! same values in linear time.
//!
//! Python's `json.loads(strict=False)` is the JSON dialect, with these
//! differences that come from [`serde_json::Value`]:
//!
//! * `NaN`, `Infinity` and `-Infinity` are rejected, and so are numbers too
//!   large for an `f64` (Python gives `inf`).
//! * Integers beyond the `i64`/`u64` range become floats (Python keeps exact integers).
//! * Lone UTF-16 surrogates in `\u` escapes become U+FFFD.
//!
//! `parse_json_markdown` skips LangChain's special handling of unescaped
//! characters inside an `"action_input"` string (a ReAct-agent workaround).

use serde_json::{Map, Number, Value};

/// Parses `s` as JSON, and if that fails, as the longest prefix of it that
/// can be completed by closing open strings, arrays and objects.
///
/// This is LangChain's `parse_partial_json`: partial strings and numbers are
/// kept, an incomplete key or literal is dropped together with its key, and an
/// unmatched closing bracket gives `None`.
///
/// ```
/// use runwright::python::partial_json::parse_partial_json;
/// use serde_json::json;
///
/// assert_eq!(parse_partial_json(r#"{"name": "Fr"#), Some(json!({"name": "Fr"})));
/// assert_eq!(parse_partial_json(r#"{"countries":"#), Some(json!({})));
/// assert_eq!(parse_partial_json(r#"[{"name":"#), Some(json!([{}])));
/// assert_eq!(parse_partial_json(r#"[1, tr"#), Some(json!([1])));
/// assert_eq!(parse_partial_json("[1}"), None);
/// ```
pub fn parse_partial_json(s: &str) -> Option<Value> {
    match partial(s) {
        Partial::Value(v) => Some(v),
        Partial::Mismatch | Partial::Failed => None,
    }
}

/// Parses the text an LLM produced as JSON the way LangChain's
/// `JsonOutputParser` does in streaming mode: `str.strip()`, then
/// `parse_json_markdown` with [`parse_partial_json`].
///
/// Surrounding whitespace and backticks are stripped; if that does not parse,
/// the text after the first ```` ``` ```` (and an optional `json` tag) is
/// tried. `None` means "nothing to show yet"; a JSON `null` is `Some(Null)`
/// here, although LangChain's parser does not emit it either.
///
/// ```
/// use runwright::python::partial_json::parse_json_markdown;
/// use serde_json::json;
///
/// assert_eq!(parse_json_markdown("```json\n{\"a\": [1, 2"), Some(json!({"a": [1, 2]})));
/// assert_eq!(parse_json_markdown("Here you go:\n```json\n{\"a\""), Some(json!({})));
/// assert_eq!(parse_json_markdown("```js"), None);
/// ```
pub fn parse_json_markdown(text: &str) -> Option<Value> {
    let text = text.trim_matches(py_isspace);
    match partial(strip_markdown(text)) {
        Partial::Value(v) => Some(v),
        Partial::Mismatch => None,
        Partial::Failed => {
            let body = match text.find("```") {
                Some(at) => {
                    let rest = &text[at + 3..];
                    rest.strip_prefix("json").unwrap_or(rest)
                }
                None => text,
            };
            match partial(strip_markdown(body)) {
                Partial::Value(v) => Some(v),
                Partial::Mismatch | Partial::Failed => None,
            }
        }
    }
}

/// Python's `str.isspace()`: Unicode white space plus the information
/// separators U+001C..U+001F.
pub(crate) fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The characters `_parse_json` strips from both ends: `" \n\r\t`"`.
pub(crate) fn is_markdown_strip(c: char) -> bool {
    matches!(c, ' ' | '\n' | '\r' | '\t' | '`')
}

fn strip_markdown(s: &str) -> &str {
    s.trim_matches(is_markdown_strip)
}

/// The three outcomes of Python's `parse_partial_json`: a value, `None`
/// (an unmatched closing bracket), or a raised `JSONDecodeError`.
enum Partial {
    Value(Value),
    Mismatch,
    Failed,
}

fn partial(s: &str) -> Partial {
    if let Ok(v) = loads(s) {
        return Partial::Value(v);
    }
    // `pieces` mirrors Python's list of new characters: a raw newline inside a
    // string becomes the two-character piece `\n`, removed as one.
    let mut text = String::with_capacity(s.len() + 8);
    let mut pieces: Vec<usize> = Vec::with_capacity(s.len() + 1);
    let mut closers: Vec<char> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in s.chars() {
        if in_string {
            if c == '"' && !escaped {
                in_string = false;
            } else if c == '\n' && !escaped {
                text.push_str("\\n");
                pieces.push(text.len());
                continue;
            } else if c == '\\' {
                escaped = !escaped;
            } else {
                escaped = false;
            }
        } else if c == '"' {
            in_string = true;
            escaped = false;
        } else if c == '{' {
            closers.push('}');
        } else if c == '[' {
            closers.push(']');
        } else if c == '}' || c == ']' {
            if closers.last() == Some(&c) {
                closers.pop();
            } else {
                return Partial::Mismatch;
            }
        }
        text.push(c);
        pieces.push(text.len());
    }
    if in_string {
        if escaped {
            pieces.pop();
            text.truncate(pieces.last().copied().unwrap_or(0));
        }
        text.push('"');
        pieces.push(text.len());
    }
    let closing: String = closers.iter().rev().collect();
    let mut attempt = String::with_capacity(text.len() + closing.len());
    while let Some(&end) = pieces.last() {
        attempt.clear();
        attempt.push_str(&text[..end]);
        attempt.push_str(&closing);
        if let Ok(v) = loads(&attempt) {
            return Partial::Value(v);
        }
        pieces.pop();
    }
    Partial::Failed
}

/// Python's `json.loads(s, strict=False)`, as far as `serde_json::Value` can
/// represent the result (see the module docs).
pub(crate) fn loads(s: &str) -> Result<Value, ()> {
    let mut p = Loads {
        b: s.as_bytes(),
        s,
        i: 0,
    };
    p.skip_ws();
    let v = p.value()?;
    p.skip_ws();
    if p.i == p.b.len() {
        Ok(v)
    } else {
        Err(())
    }
}

enum Open {
    Array(Vec<Value>),
    Object(Map<String, Value>, String),
}

struct Loads<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl Loads<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), ()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(())
        }
    }

    /// A key, the colon after it and the white space before its value.
    fn key(&mut self) -> Result<String, ()> {
        if self.peek() != Some(b'"') {
            return Err(());
        }
        let key = self.string()?;
        self.skip_ws();
        self.expect(b':')?;
        self.skip_ws();
        Ok(key)
    }

    /// One value, iteratively (deep nesting must not overflow the stack).
    fn value(&mut self) -> Result<Value, ()> {
        let mut stack: Vec<Open> = Vec::new();
        'next_value: loop {
            let mut done = match self.peek().ok_or(())? {
                b'"' => Value::String(self.string()?),
                b'{' => {
                    self.i += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        Value::Object(Map::new())
                    } else {
                        let key = self.key()?;
                        stack.push(Open::Object(Map::new(), key));
                        continue 'next_value;
                    }
                }
                b'[' => {
                    self.i += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        Value::Array(Vec::new())
                    } else {
                        stack.push(Open::Array(Vec::new()));
                        continue 'next_value;
                    }
                }
                b'n' => self.literal("null", Value::Null)?,
                b't' => self.literal("true", Value::Bool(true))?,
                b'f' => self.literal("false", Value::Bool(false))?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(()),
            };
            loop {
                match stack.last_mut() {
                    None => return Ok(done),
                    Some(Open::Array(items)) => {
                        items.push(done);
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.i += 1;
                                self.skip_ws();
                                continue 'next_value;
                            }
                            Some(b']') => {
                                self.i += 1;
                                let Some(Open::Array(items)) = stack.pop() else {
                                    unreachable!()
                                };
                                done = Value::Array(items);
                            }
                            _ => return Err(()),
                        }
                    }
                    Some(Open::Object(map, key)) => {
                        map.insert(std::mem::take(key), done);
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.i += 1;
                                self.skip_ws();
                                *key = self.key()?;
                                continue 'next_value;
                            }
                            Some(b'}') => {
                                self.i += 1;
                                let Some(Open::Object(map, _)) = stack.pop() else {
                                    unreachable!()
                                };
                                done = Value::Object(map);
                            }
                            _ => return Err(()),
                        }
                    }
                }
            }
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, ()> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(())
        }
    }

    /// Python's number pattern `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, longest match.
    fn number(&mut self) -> Result<Value, ()> {
        let start = self.i;
        let digits = |b: &[u8], mut i: usize| {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            i
        };
        let mut i = start;
        if self.b[i] == b'-' {
            i += 1;
        }
        match self.b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(self.b, i),
            _ => return Err(()),
        }
        let mut float = false;
        if self.b.get(i) == Some(&b'.') && self.b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i = digits(self.b, i + 1);
            float = true;
        }
        if matches!(self.b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(self.b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if self.b.get(j).is_some_and(u8::is_ascii_digit) {
                i = digits(self.b, j);
                float = true;
            }
        }
        self.i = i;
        number_value(&self.s[start..i], float).map(Value::Number).ok_or(())
    }

    /// A string starting at the opening quote; control characters are allowed
    /// (`strict=False`).
    fn string(&mut self) -> Result<String, ()> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let rest = &self.b[self.i..];
            let stop = rest.iter().position(|&c| c == b'"' || c == b'\\').ok_or(())?;
            out.push_str(&self.s[self.i..self.i + stop]);
            self.i += stop;
            if self.b[self.i] == b'"' {
                self.i += 1;
                return Ok(out);
            }
            let esc = *self.b.get(self.i + 1).ok_or(())?;
            self.i += 2;
            match esc {
                b'u' => {
                    let mut c = self.hex4()?;
                    if (0xd800..0xdc00).contains(&c) && self.b[self.i..].starts_with(b"\\u") {
                        let save = self.i;
                        self.i += 2;
                        let low = self.hex4()?;
                        if (0xdc00..0xe000).contains(&low) {
                            c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
                        } else {
                            self.i = save;
                        }
                    }
                    out.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                other => out.push(simple_escape(other).ok_or(())?),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ()> {
        // Python also wants a character after the four digits; a string
        // always has its closing quote there.
        if self.i + 4 >= self.b.len() {
            return Err(());
        }
        let mut v = 0;
        for k in 0..4 {
            v = v * 16 + (self.b[self.i + k] as char).to_digit(16).ok_or(())?;
        }
        self.i += 4;
        Ok(v)
    }
}

/// The character a one-letter escape (`\n`, `\"`, ...) stands for.
pub(crate) fn simple_escape(c: u8) -> Option<char> {
    Some(match c {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// The value of a complete number token as Python's `json` gives it: an
/// integer unless it has a fraction or an exponent. `None` if `serde_json`
/// cannot hold it (an infinite float).
pub(crate) fn number_value(text: &str, float: bool) -> Option<Number> {
    if !float {
        if let Ok(n) = text.parse::<i64>() {
            return Some(n.into());
        }
        if let Ok(n) = text.parse::<u64>() {
            return Some(n.into());
        }
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pp(s: &str) -> Option<Value> {
        parse_partial_json(s)
    }

    #[test]
    fn complete_json_parses_as_is() {
        assert_eq!(
            pp(r#" {"a": [1, 2.5, "x", true, null]} "#),
            Some(json!({"a": [1, 2.5, "x", true, null]}))
        );
        assert_eq!(pp("-0"), Some(json!(0)));
        assert_eq!(pp("1E2"), Some(json!(100.0)));
    }

    #[test]
    fn open_containers_and_strings_are_closed() {
        assert_eq!(pp(r#"{"a": [1, 2"#), Some(json!({"a": [1, 2]})));
        assert_eq!(pp(r#"{"a": "Fra"#), Some(json!({"a": "Fra"})));
        assert_eq!(pp(r#"["x", {"#), Some(json!(["x", {}])));
        assert_eq!(pp(r#""abc"#), Some(json!("abc")));
    }

    #[test]
    fn incomplete_keys_and_literals_are_dropped_with_their_key() {
        assert_eq!(pp(r#"{"countries":"#), Some(json!({})));
        assert_eq!(pp(r#"[{"name":"#), Some(json!([{}])));
        assert_eq!(pp(r#"{"a": 1, "na"#), Some(json!({"a": 1})));
        assert_eq!(pp(r#"{"a": 1, "b": tr"#), Some(json!({"a": 1})));
        assert_eq!(pp(r#"{"a": 1, "b": -"#), Some(json!({"a": 1})));
        assert_eq!(pp(r#"[1, nul"#), Some(json!([1])));
        assert_eq!(pp(r#"[1, "#), Some(json!([1])));
    }

    #[test]
    fn partial_numbers_keep_their_longest_valid_prefix() {
        assert_eq!(pp("[1."), Some(json!([1])));
        assert_eq!(pp("[1.5e-"), Some(json!([1.5])));
        assert_eq!(pp("[12e"), Some(json!([12])));
        assert_eq!(pp("[-0."), Some(json!([0])));
        assert_eq!(pp("-"), None);
        assert_eq!(pp("1."), Some(json!(1)));
    }

    #[test]
    fn escapes_at_the_end_of_a_partial_string() {
        // A dangling backslash is removed.
        assert_eq!(pp(r#"["ab\"#), Some(json!(["ab"])));
        // An incomplete \u escape makes the whole string unparseable.
        assert_eq!(pp(r#"["ab\u00"#), Some(json!([])));
        assert_eq!(pp(r#"{"k": "ab\u00"#), Some(json!({})));
        assert_eq!(pp(r#"["ab\u0041"#), Some(json!(["abA"])));
        assert_eq!(pp(r#"["\ud83d\ude00"#), Some(json!(["\u{1f600}"])));
        assert_eq!(pp(r#"["\ud83d"#), Some(json!(["\u{fffd}"])));
    }

    #[test]
    fn raw_newlines_in_strings_are_escaped_and_control_characters_allowed() {
        assert_eq!(pp("{\"a\": \"x\ny"), Some(json!({"a": "x\ny"})));
        assert_eq!(pp("[\"tab\there\"]"), Some(json!(["tab\there"])));
    }

    #[test]
    fn mismatched_closer_gives_none_and_garbage_is_cut() {
        assert_eq!(pp("[1}"), None);
        assert_eq!(pp("{]"), None);
        assert_eq!(pp("[1, 2] trailing"), Some(json!([1, 2])));
        assert_eq!(pp("hello"), None);
        assert_eq!(pp(""), None);
    }

    #[test]
    fn python_dialect_details() {
        assert_eq!(loads("[1,]"), Err(()));
        assert_eq!(loads("01"), Err(()));
        assert_eq!(loads("NaN"), Err(()));
        assert_eq!(
            loads(r#"{"a": 1, "a": 2, "b": 3}"#).unwrap().to_string(),
            r#"{"a":2,"b":3}"#
        );
        assert_eq!(loads("1e400"), Err(()));
        assert_eq!(loads("123456789012345678901"), Ok(json!(123456789012345678901.0)));
        assert_eq!(loads(r#""\x""#), Err(()));
        assert_eq!(loads(r#""\/""#), Ok(json!("/")));
    }

    #[test]
    fn markdown_fences_and_backticks() {
        let md = parse_json_markdown;
        assert_eq!(md("```json\n{\"a\": 1}\n```"), Some(json!({"a": 1})));
        assert_eq!(md("```\n[1, 2"), Some(json!([1, 2])));
        assert_eq!(md("`{\"a\": \"b`"), Some(json!({"a": "b"})));
        assert_eq!(md("  {\"a\": \"b  "), Some(json!({"a": "b"})));
        assert_eq!(md("```json"), None);
        assert_eq!(md("Sure:\n```json\n[true"), Some(json!([true])));
        assert_eq!(md("``json\n[1]"), None);
        assert_eq!(md("null"), Some(Value::Null));
    }
}
