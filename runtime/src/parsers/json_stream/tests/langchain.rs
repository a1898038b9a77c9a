//! LangChain's figures: the reference trace, the bench documents and recorded streams.

use super::*;

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
    let file = include_str!("../langchain_stream_cases.jsonl");
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
