use super::*;
use serde_json::json;

#[test]
fn smoke() {
    let mut p = JsonStreamParser::new();
    let mut out = vec![];
    for c in r#"{"a": [1, "xy", {"b": true}], "c": -1.5e3}"#.split_inclusive(|_| true) {
        if let Some(v) = p.push(c).unwrap() {
            out.push(v.to_string());
        }
    }
    println!("{out:#?}");
    assert_eq!(p.finish().unwrap(), json!({"a": [1, "xy", {"b": true}], "c": -1.5e3}));
}

#[test]
#[ignore]
fn xval_tmp() {
    use crate::parsers::partial_json::{parse_json_markdown, parse_partial_json};
    let text = std::fs::read_to_string("/tmp/xval/cases.jsonl").unwrap();
    let (mut n, mut skipped, mut bad) = (0, 0, 0);
    for line in text.lines() {
        let Ok(case) = serde_json::from_str::<serde_json::Value>(line) else { skipped += 1; continue };
        let t = case["text"].as_str().unwrap();
        for (kind, got) in [("md", parse_json_markdown(t.trim_matches(crate::parsers::partial_json::py_isspace))), ("pp", parse_partial_json(t))] {
            let exp = &case[kind];
            let want = if exp.get("raise").is_some() { None } else { Some(exp["v"].clone()) };
            // Python None (mismatch) is JSON null here; ours gives None for mismatch, Some(Null) for `null`.
            let got_n = got.clone().filter(|v| !v.is_null());
            let want_n = want.clone().filter(|v| !v.is_null());
            let same = got_n == want_n && got_n.as_ref().map(|v| v.to_string()) == want_n.as_ref().map(|v| v.to_string());
            n += 1;
            if !same {
                bad += 1;
                if bad < 25 { println!("{kind} {t:?}\n  want {want:?}\n  got  {got:?}"); }
            }
        }
    }
    println!("checked {n}, skipped {skipped}, mismatches {bad}");
    assert_eq!(bad, 0);
}

#[test]
#[ignore]
fn xval_stream_tmp() {
    let text = std::fs::read_to_string("/tmp/xval/stream.jsonl").unwrap();
    let (mut n, mut bad) = (0, 0);
    for line in text.lines() {
        let Ok(case) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let mut p = JsonStreamParser::new();
        let mut got = vec![];
        let mut err = None;
        for c in case["chunks"].as_array().unwrap() {
            match p.push(c.as_str().unwrap()) {
                Ok(Some(v)) => got.push(v.to_json()),
                Ok(None) => {}
                Err(e) => { err = Some(e); break; }
            }
        }
        let fin = if err.is_none() { Some(p.finish()) } else { None };
        let want: Vec<serde_json::Value> = case["yields"].as_array().unwrap().clone();
        let ok = err.is_none()
            && got == want
            && got.iter().map(|v| v.to_string()).collect::<Vec<_>>() == want.iter().map(|v| v.to_string()).collect::<Vec<_>>()
            && fin.as_ref().unwrap().as_ref().ok() == Some(&case["doc"]);
        n += 1;
        if !ok {
            bad += 1;
            if bad < 10 {
                println!("chunks {:?}\n  want {:?}\n  got  {:?}\n  err {:?} fin {:?}", case["chunks"], want, got, err, fin);
            }
        }
    }
    println!("checked {n}, mismatches {bad}");
    assert_eq!(bad, 0);
}
