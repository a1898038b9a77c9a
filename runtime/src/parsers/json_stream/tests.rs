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
            i % 2 == 0
        ));
        doc = format!(r#"{{"items": [{}]}}"#, records.join(", "));
    }
    (doc, records.len())
}

// ---------------------------------------------------------------------------
// LangChain's figures

/// `03_json_parser_partial`: the fake model streams the JSON text split on
/// white space, and LangChain emits these 10 values.
#[test]
fn reference_trace_countries() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/conformance/reference/03_json_parser_partial.jsonl");
    let file = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let records: Vec<J> = file
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let expected: Vec<J> = records
        .iter()
        .filter(|r| r["case"] == "astream" && r["kind"] == "chunk")
        .map(|r| r["value"].clone())
        .collect();
    let text = records
        .iter()
        .find(|r| r["value"]["event"] == "on_chat_model_end")
        .and_then(|r| r["value"]["data"]["output"]["content"].as_str())
        .expect("the model's whole output")
        .to_string();
    assert_eq!(expected.len(), 10);
    let yields = check_against_oracle(&split_on_whitespace(&text));
    assert_eq!(yields.len(), expected.len());
    for (got, want) in yields.iter().zip(&expected) {
        assert_same(Some(got), Some(want), "reference chunk");
    }
}

/// `bench/README.md`: the 20 KB document fed one character at a time gives
/// exactly 6,767 values in LangChain.
#[test]
fn bench_document_20kb_one_char_yields_6767_values() {
    let (doc, records) = bench_document(20480);
    assert_eq!((doc.len(), records), (20_490, 223));
    assert!(doc.starts_with(r#"{"items": [{"id": 0, "name": "item-00000", "tags": ["alpha", "beta"], "value": 0, "active": true}, {"id": 1, "#));
    let (n, last, done) = count(&chars(&doc));
    assert_eq!(n, 6_767);
    let want: J = serde_json::from_str(&doc).unwrap();
    assert_eq!(last.map(|v| v.to_json()), Some(want.clone()));
    assert_eq!(done, want);
}

/// The other bench documents and chunk sizes, with the numbers of values
/// langchain-core 1.7.2 emits for them.
#[test]
fn bench_documents_yield_what_langchain_yields() {
    for (target, bytes, records, chunk, values) in [
        (10240, 10_315, 113, 1, 3_357),
        (10240, 10_315, 113, 16, 641),
        (20480, 20_490, 223, 16, 1_274),
        (40960, 41_043, 444, 16, 2_551),
        (40960, 41_043, 444, 1, 13_728),
    ] {
        let (doc, n) = bench_document(target);
        assert_eq!((doc.len(), n), (bytes, records));
        let cuts: Vec<usize> = (1..=doc.len() / chunk).map(|k| k * chunk).collect();
        let chunks = split_at(&doc, &cuts);
        let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
        let (n, _, done) = count(&chunks);
        assert_eq!(n, values, "{target} bytes in {chunk}-char chunks");
        assert_eq!(done, serde_json::from_str::<J>(&doc).unwrap());
    }
}

/// Streams recorded from langchain-core 1.7.2: random documents (with fences,
/// prose, escapes), each split three ways, through
/// `JsonOutputParser().transform(iter(chunks))`; the lists of emitted values
/// must match exactly.
#[test]
fn recorded_langchain_streams_match() {
    let file = include_str!("langchain_stream_cases.jsonl");
    let mut cases = 0;
    for line in file.lines() {
        let case: J = serde_json::from_str(line).expect("a JSON line");
        let chunks: Vec<&str> = case["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let (yields, done) = collect(&chunks).unwrap_or_else(|e| panic!("{e}: {chunks:?}"));
        let want = case["yields"].as_array().unwrap();
        assert_eq!(yields.len(), want.len(), "{chunks:?}");
        for (got, want) in yields.iter().zip(want) {
            assert_same(Some(got), Some(want), &format!("{chunks:?}"));
        }
        assert_eq!(done, case["doc"], "{chunks:?}");
        cases += 1;
    }
    assert!(cases >= 300, "only {cases} cases");
}

// ---------------------------------------------------------------------------
// Against the brute-force oracle

#[test]
fn tricky_documents_match_the_oracle_in_every_chunking() {
    let docs = [
        r#"{"countries": [{"name": "France", "population": 67391582}, {"name": "Spain"}]}"#,
        r#"[1, -0, 0.5, -1.5e-3, 1E+2, 10.00, 2e0, 123456789012, true, false, null, "x"]"#,
        r#"{"a": "tab\there \"quoted\" \\ back \/ \u00e9 \ud83d\ude00 \ud83d \u0041", "b": "\n\r\b\f"}"#,
        "{\"raw\": \"line one\nline two\ttab\u{c}\", \"nbsp\": \"a\u{a0} `b` \u{a0}`\"}",
        r#"{"s": "trailing   ", "t": "back``", "u": " ` "}"#,
        r#"{"a": 1, "b": {"c": [], "d": {}}, "a": {"x": [1, {"y": "z"}]}, "b": 2}"#,
        r#"{"a": true, "a": 1, "b": 0, "b": false, "c": 1.0, "c": 1}"#,
        r#"[[[[[]]]], [[{}]], {"": ""}]"#,
        r#"  "just a string with \u00e9 and \ud834\udd1e"  "#,
        "-12.5e+3",
        "0",
        "true",
        "null",
        "```json\n{\"fenced\": [1, 2, {\"x\": \"```\"}]}\n```\nThat's all.",
        "```\n[\"plain fence\"]\n```",
        "Sure! Here is the JSON you asked for:\n\n```json\n{\"a\": [true]}\n```",
        "the answer is\n```json\n{\"a\": 1}\n```",
        "`{\"inline\": \"code\"}`",
        "\u{a0}\n {\"unicode space\": 1} \u{3000}",
        r#"{"esc": "\\", "q": "\"", "u": "\u005c"}"#,
    ];
    for doc in docs {
        check_against_oracle(&chars(doc));
        check_against_oracle(&split_on_whitespace(doc));
        check_against_oracle(&[doc]);
        let bytes = doc.len();
        for width in [2, 3, 5, 7] {
            let cuts: Vec<usize> = (1..=bytes / width).map(|k| k * width).collect();
            let chunks = split_at(doc, &cuts);
            check_against_oracle(&chunks.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}

#[test]
fn random_documents_match_the_oracle() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..400 {
        let doc = random_document(&mut rng, 0);
        let text = wrap(&mut rng, &doc);
        let chunks = random_chunks(&mut rng, &text);
        let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
        check_against_oracle(&chunks);
        check_against_oracle(&chars(&text));
        let mut p = JsonStreamParser::new();
        for c in &chunks {
            p.push(c).unwrap();
        }
        let want = loads(&doc).unwrap_or_else(|_| panic!("generated an invalid document {doc:?}"));
        assert_eq!(p.finish().unwrap(), want, "{text:?}");
    }
}

// ---------------------------------------------------------------------------
// Property: any document, any split

fn arb_json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        (-1.0e6f64..1.0e6).prop_map(J::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(J::from),
        "[a-z é😀\"\\\\\n\t`/\u{a0}\u{1}]{0,8}".prop_map(J::String),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
            prop::collection::vec(("[a-d\"é]{0,3}", inner), 0..5).prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

/// `json.dumps` with its default separators and `ensure_ascii`.
fn python_dumps(v: &J, out: &mut String) {
    match v {
        J::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    ' '..='~' => out.push(c),
                    _ => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                }
            }
            out.push('"');
        }
        J::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_dumps(x, out);
            }
            out.push(']');
        }
        J::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_dumps(&J::String(k.clone()), out);
                out.push_str(": ");
                python_dumps(x, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn render(v: &J, style: u8) -> String {
    match style % 4 {
        0 => v.to_string(),
        1 => serde_json::to_string_pretty(v).unwrap(),
        2 => format!("```json\n{}\n```", serde_json::to_string_pretty(v).unwrap()),
        _ => {
            let mut s = String::new();
            python_dumps(v, &mut s);
            s
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any document, split anywhere: the last value emitted equals the
    /// document (by Python's `==`, as LangChain compares), `finish` returns it
    /// exactly, and after every piece the parser shows what the oracle shows.
    #[test]
    fn any_document_any_split(doc in arb_json(), style in any::<u8>(), cuts in prop::collection::vec(any::<usize>(), 0..24)) {
        let text = render(&doc, style);
        let cuts: Vec<usize> = cuts.iter().map(|c| c % (text.len() + 1)).collect();
        let chunks = split_at(&text, &cuts);
        let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
        let yields = check_against_oracle(&chunks);
        let mut p = JsonStreamParser::new();
        let mut last = None;
        for c in &chunks {
            if let Some(v) = p.push(c).unwrap() {
                last = Some(v.to_json());
            }
        }
        prop_assert_eq!(yields.last(), last.as_ref());
        match &last {
            Some(last) => prop_assert!(py_eq(last, &doc), "last {} vs {}", last, doc),
            None => prop_assert!(doc.is_null()),
        }
        let done = p.finish().unwrap();
        prop_assert_eq!(done.to_string(), doc.to_string());
        prop_assert_eq!(done, doc);
    }

    /// Splitting differently never changes the final value, and a value once
    /// handed out never changes afterwards.
    #[test]
    fn values_handed_out_stay_as_they_were(doc in arb_json(), cuts in prop::collection::vec(any::<usize>(), 0..40)) {
        let text = doc.to_string();
        let cuts: Vec<usize> = cuts.iter().map(|c| c % (text.len() + 1)).collect();
        let mut p = JsonStreamParser::new();
        let mut kept = Vec::new();
        for c in split_at(&text, &cuts) {
            if let Some(v) = p.push(&c).unwrap() {
                kept.push((v.to_string(), v));
            }
        }
        for (text, v) in &kept {
            prop_assert_eq!(text, &v.to_string());
            prop_assert_eq!(&PartialValue::from(v.to_json()), v);
        }
        prop_assert_eq!(p.finish_partial().unwrap().to_json(), doc);
    }
}

// ---------------------------------------------------------------------------
// Behaviour details

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
