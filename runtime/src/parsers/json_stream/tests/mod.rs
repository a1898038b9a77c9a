//! The streaming JSON parser's tests: helpers here, the cases by kind in
//! the submodules.

use super::*;
use crate::python::partial_json::{loads, parse_json_markdown};
use proptest::prelude::*;
use serde_json::{json, Value as J};

// ---------------------------------------------------------------------------
// Helpers

/// Python's `==` on decoded JSON, written independently of the parser's own.
fn py_eq(a: &J, b: &J) -> bool {
    fn num(v: &J) -> Option<(Option<i128>, f64)> {
        match v {
            J::Bool(b) => Some((Some(i128::from(*b)), f64::from(u8::from(*b)))),
            J::Number(n) => {
                let int = n.as_i64().map(i128::from).or(n.as_u64().map(i128::from));
                Some((int, n.as_f64()?))
            }
            _ => None,
        }
    }
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        (J::Array(x), J::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| py_eq(v, w)),
        _ => match (num(a), num(b)) {
            (Some((Some(i), _)), Some((Some(j), _))) => i == j,
            (Some((_, f)), Some((_, g))) => f == g,
            _ => a == b,
        },
    }
}

/// Equal values with the same key order and number types.
fn assert_same(got: Option<&J>, want: Option<&J>, context: &str) {
    let text = |v: Option<&J>| v.map(|v| v.to_string());
    assert_eq!(text(got), text(want), "{context}");
    assert_eq!(got, want, "{context}");
}

/// What LangChain's streaming parser shows for the accumulated text (`None`
/// is never emitted, nor is a top-level `null`).
fn oracle(text: &str) -> Option<J> {
    parse_json_markdown(text).filter(|v| !v.is_null())
}

/// Feeds `chunks`; after every one, checks that the parser shows exactly what
/// LangChain's re-parse of the accumulated text gives, and that it yields
/// exactly when LangChain would. Returns the yields.
fn check_against_oracle(chunks: &[&str]) -> Vec<J> {
    let mut p = JsonStreamParser::new();
    let mut text = String::new();
    let mut prev: Option<J> = None;
    let mut yields = Vec::new();
    for chunk in chunks {
        text.push_str(chunk);
        let got = p.push(chunk).unwrap_or_else(|e| panic!("{e} after {text:?}"));
        let want = oracle(&text);
        let shown = p.peek().filter(|v| !v.is_null()).map(|v| v.to_json());
        assert_same(shown.as_ref(), want.as_ref(), &format!("shown after {text:?}"));
        let should_yield = want
            .as_ref()
            .is_some_and(|w| prev.as_ref().is_none_or(|p| !py_eq(w, p)));
        assert_eq!(
            got.is_some(),
            should_yield,
            "yield after {text:?} (previous {prev:?}, now {want:?})"
        );
        if let Some(v) = got {
            assert_same(Some(&v.to_json()), want.as_ref(), &format!("yielded after {text:?}"));
            prev = want;
            yields.push(v.to_json());
        }
    }
    yields
}

fn chars(s: &str) -> Vec<&str> {
    s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]).collect()
}

/// Python's `re.split(r"(\s)", s)`: how the reference fake model streams.
fn split_on_whitespace(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            out.push(&s[start..i]);
            out.push(&s[i..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// Cuts `s` at the given byte positions, moved back to character boundaries.
fn split_at(s: &str, cuts: &[usize]) -> Vec<String> {
    let mut cuts: Vec<usize> = cuts
        .iter()
        .map(|&c| {
            let mut c = c.min(s.len());
            while !s.is_char_boundary(c) {
                c -= 1;
            }
            c
        })
        .collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for c in cuts.into_iter().chain([s.len()]) {
        out.push(s[start..c].to_string());
        start = c;
    }
    out
}

fn collect(chunks: &[&str]) -> Result<(Vec<J>, J)> {
    let mut p = JsonStreamParser::new();
    let mut yields = Vec::new();
    for c in chunks {
        if let Some(v) = p.push(c)? {
            yields.push(v.to_json());
        }
    }
    Ok((yields, p.finish()?))
}

/// Number of values emitted, the last one, and the document.
fn count(chunks: &[&str]) -> (usize, Option<PartialValue>, J) {
    let mut p = JsonStreamParser::new();
    let (mut n, mut last) = (0, None);
    for c in chunks {
        if let Some(v) = p.push(c).unwrap() {
            n += 1;
            last = Some(v);
        }
    }
    (n, last, p.finish().unwrap())
}

fn err_message(chunks: &[&str]) -> String {
    let mut p = JsonStreamParser::new();
    for c in chunks {
        if let Err(e) = p.push(c) {
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            // The parser stays failed.
            assert_eq!(p.push("x").unwrap_err().message(), e.message());
            return e.message().to_string();
        }
    }
    let e = p.finish().expect_err("expected an error");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    e.message().to_string()
}

/// A tiny deterministic generator, so the oracle tests need no seed file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A random valid document in LangChain's dialect, with odd but legal
/// spellings: escapes, surrogate pairs, raw control characters, exponents,
/// repeated keys, white space everywhere.
fn random_document(rng: &mut Rng, depth: usize) -> String {
    let ws = |rng: &mut Rng| rng.pick(&["", "", "", " ", "\n  ", "\t", " \r\n "]).to_string();
    match rng.below(if depth < 4 { 10 } else { 6 }) {
        0..=2 => {
            let parts = [
                "a",
                "bc",
                " ",
                "  ",
                "\\\"",
                "\\\\",
                "\\/",
                "\\n",
                "\\u00e9",
                "\\ud83d\\ude00",
                "\\u0041",
                "`",
                "\t",
                "\u{a0}",
                "\u{e9}",
                "\u{1f600}",
                "\u{c}",
                "\r",
                "\n",
                "{",
                "]",
                ":",
                ",",
                "x y",
                "\\b",
            ];
            let n = rng.below(6);
            format!("\"{}\"", (0..n).map(|_| rng.pick(&parts)).collect::<String>())
        }
        3 | 4 => rng
            .pick(&[
                "0", "-0", "7", "-12", "3.25", "0.5e-3", "1E+2", "-7e1", "1.0", "10.00", "2e0", "-0.0", "123456",
            ])
            .into(),
        5 => rng.pick(&["true", "false", "null"]).into(),
        6 | 7 => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n)
                .map(|_| format!("{}{}{}", ws(rng), random_document(rng, depth + 1), ws(rng)))
                .collect();
            format!("[{}{}]", items.join(","), ws(rng))
        }
        _ => {
            let n = rng.below(4);
            let keys = ["\"a\"", "\"b\"", "\"key\"", "\"a b\"", "\"\\u0061\"", "\"k`\""];
            let members: Vec<String> = (0..n)
                .map(|_| {
                    format!(
                        "{}{}{}:{}{}",
                        ws(rng),
                        rng.pick(&keys),
                        ws(rng),
                        ws(rng),
                        random_document(rng, depth + 1)
                    )
                })
                .collect();
            format!("{{{}{}}}", members.join(","), ws(rng))
        }
    }
}

fn wrap(rng: &mut Rng, doc: &str) -> String {
    match rng.below(7) {
        0 => format!(" \n{doc}"),
        1 => format!("```json\n{doc}\n```"),
        2 => format!("```\n{doc}```"),
        3 => format!("Here it is:\n```json\n{doc}\n```\nDone."),
        4 => format!("`{doc}`"),
        _ => doc.to_string(),
    }
}

fn random_chunks(rng: &mut Rng, text: &str) -> Vec<String> {
    let n = rng.below(text.len().max(1));
    let cuts: Vec<usize> = (0..n).map(|_| rng.below(text.len() + 1)).collect();
    split_at(text, &cuts)
}

/// The bench documents of `bench/README.md` section 7.
fn bench_document(target: usize) -> (String, usize) {
    let mut doc = String::from(r#"{"items": []}"#);
    let mut records: Vec<String> = Vec::new();
    while doc.len() < target {
        let i = records.len();
        records.push(format!(
            r#"{{"id": {i}, "name": "item-{i:05}", "tags": ["alpha", "beta"], "value": {}, "active": {}}}"#,
            3 * i,
            i.is_multiple_of(2)
        ));
        doc = format!(r#"{{"items": [{}]}}"#, records.join(", "));
    }
    (doc, records.len())
}

mod behaviour;
mod langchain;
mod oracle;
mod props;
