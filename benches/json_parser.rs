//! Workload 7 of the LangChain baseline (bench/README.md): streaming JSON
//! parsing of 10, 20 and 40 KB documents fed in 1- and 16-character chunks.
//!
//! Python drains `JsonOutputParser().transform(iter(chunks))`, which re-parses
//! the whole prefix after every chunk (O(n²)). The runwright counterpart is
//! [`JsonStreamParser`]: `push` every chunk (counting the values it yields,
//! which must be as many as LangChain's), then `finish_partial`. The chunks
//! are cut before the clock starts, as in Python; the final value is checked
//! against `serde_json` once, outside the timing.
//!
//! Bench ids: `json_parser/<size>_<n>char` (for example `20KB_1char`), with
//! the number of input chunks as the declared throughput.
//!
//! `cargo bench --bench json_parser -- --doubling [SECONDS]` skips criterion
//! and measures how the time per document grows with its size: passes over
//! the 10, 20 and 40 KB documents (1- and 16-char chunks) are interleaved
//! round-robin for SECONDS (default 4), so background load hits every size
//! alike, and the fastest and median pass of each are printed as one JSON
//! object with the time ratios per doubling.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, Criterion, Throughput};
use runwright::parsers::json_stream::JsonStreamParser;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Target size in KB, serialized bytes, and sha256 of each document
/// (bench/README.md, workload 7).
const DOCS: [(usize, usize, &str); 3] = [
    (
        10,
        10_315,
        "30f9c26065d4f8160334a2f3a5b2493874e895b1977a11770ba85a1d7aa80902",
    ),
    (
        20,
        20_490,
        "81cb5d49ee99e9e85dcacf32f6e357da2bd70757a71f5ae636052aaebc9ff392",
    ),
    (
        40,
        41_043,
        "77df2ed23e513a00c043c15d8796a9f4ed1c8b325efdd36db650a9d7e933f8ed",
    ),
];

/// Values LangChain yields for 20 KB in 1-character chunks.
const OUTPUTS_20KB_1CHAR: usize = 6_767;

/// The shortest `{"items": [rec_0, ...]}` (Python `json.dumps` defaults:
/// separators `", "` and `": "`) whose length is at least `target` bytes.
fn make_doc(target: usize) -> String {
    let mut records: Vec<String> = Vec::new();
    let mut len_records = 0;
    let mut i = 0usize;
    loop {
        let rec = format!(
            r#"{{"id": {i}, "name": "item-{i:05}", "tags": ["alpha", "beta"], "value": {}, "active": {}}}"#,
            3 * i,
            i & 1 == 0
        );
        len_records += rec.len();
        records.push(rec);
        // `{"items": [` + records joined by ", " + `]}`
        let len = 11 + len_records + 2 * (records.len() - 1) + 2;
        if len >= target {
            let doc = format!(r#"{{"items": [{}]}}"#, records.join(", "));
            assert_eq!(doc.len(), len);
            return doc;
        }
        i += 1;
    }
}

fn split(doc: &str, size: usize) -> Vec<&str> {
    // The documents are ASCII: byte offsets are character offsets.
    doc.as_bytes()
        .chunks(size)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect()
}

/// One pass: feeds every chunk, returns the number of values yielded.
fn pass(chunks: &[&str]) -> (usize, runwright::parsers::json_stream::PartialValue) {
    let mut parser = JsonStreamParser::new();
    let mut outputs = 0;
    for c in chunks {
        if parser.push(c).expect("valid JSON").is_some() {
            outputs += 1;
        }
    }
    (outputs, parser.finish_partial().expect("a complete document"))
}

fn json_parser(c: &mut Criterion) {
    let mut g = c.benchmark_group("json_parser");
    for (kb, bytes, sha) in DOCS {
        let doc = make_doc(kb * 1024);
        assert_eq!(doc.len(), bytes, "{kb} KB document length");
        assert_eq!(
            format!("{:x}", Sha256::digest(doc.as_bytes())),
            sha,
            "{kb} KB document sha256"
        );
        let expected: serde_json::Value = serde_json::from_str(&doc).expect("valid document");
        for size in [1usize, 16] {
            let chunks = split(&doc, size);
            let (outputs, last) = pass(&chunks);
            assert_eq!(last.to_json(), expected, "{kb} KB / {size}-char final value");
            if kb == 20 && size == 1 {
                assert_eq!(outputs, OUTPUTS_20KB_1CHAR, "values yielded for 20 KB / 1-char");
            }
            g.throughput(Throughput::Elements(chunks.len() as u64));
            g.bench_function(format!("{kb}KB_{size}char"), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let start = Instant::now();
                        let out = pass(black_box(&chunks));
                        total += start.elapsed();
                        black_box(out);
                    }
                    total
                })
            });
        }
    }
    g.finish();
}

/// The `--doubling` measurement (see the module docs).
fn doubling(seconds: f64) {
    let docs: Vec<(usize, String)> = DOCS.iter().map(|&(kb, ..)| (kb, make_doc(kb * 1024))).collect();
    let cases: Vec<(usize, usize, Vec<&str>)> = [1usize, 16]
        .iter()
        .flat_map(|&size| docs.iter().map(move |(kb, doc)| (size, *kb, split(doc, size))))
        .collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds || times[0].len() < 5 {
        for (i, (_, _, chunks)) in cases.iter().enumerate() {
            let t = Instant::now();
            black_box(pass(black_box(chunks)));
            times[i].push(t.elapsed().as_secs_f64());
        }
    }
    let mut out = BTreeMap::new();
    for size in [1usize, 16] {
        let stat = |kb: usize, f: &dyn Fn(&mut Vec<f64>) -> f64| {
            let i = cases.iter().position(|c| c.0 == size && c.1 == kb).expect("case");
            f(&mut times[i].clone())
        };
        let min = |v: &mut Vec<f64>| v.iter().copied().fold(f64::INFINITY, f64::min);
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let ratios = |f: &dyn Fn(&mut Vec<f64>) -> f64| {
            let (a, b, c) = (stat(10, f), stat(20, f), stat(40, f));
            json!({ "10KB->20KB": b / a, "20KB->40KB": c / b })
        };
        out.insert(
            format!("{size}char"),
            json!({
                "fastest_s": { "10KB": stat(10, &min), "20KB": stat(20, &min), "40KB": stat(40, &min) },
                "median_s": { "10KB": stat(10, &median), "20KB": stat(20, &median), "40KB": stat(40, &median) },
                "ratio_fastest": ratios(&min),
                "ratio_median": ratios(&median),
            }),
        );
    }
    out.insert("rounds".into(), json!(times[0].len()));
    println!("{}", serde_json::to_string(&out).expect("JSON"));
}

criterion_group!(benches, json_parser);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--doubling") {
        let seconds = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(4.0);
        doubling(seconds);
        return;
    }
    // What criterion_main! expands to.
    benches();
    Criterion::default().configure_from_args().final_summary();
}
