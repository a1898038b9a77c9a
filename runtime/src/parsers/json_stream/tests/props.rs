//! Property: any document, any split, gives what the oracle gives.

use super::*;

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
