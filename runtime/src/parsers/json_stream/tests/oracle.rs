//! Against the brute-force oracle (`parse_partial_json` on the whole text after every chunk).

use super::*;

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
