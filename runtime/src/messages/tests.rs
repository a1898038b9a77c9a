//! Tests of the message types: their JSON against lines of the LangChain
//! reference traces, and chunk merging.

use proptest::prelude::*;
use serde_json::{json, Value as Json};

use super::*;
use crate::python::json_dumps;

/// Messages exactly as the reference traces print them (01, 02, 08, 12).
const TRACE_MESSAGES: &[&str] = &[
    r#"{"type": "AIMessageChunk", "content": "The", "id": "lc_run--run-0", "tool_calls": [], "invalid_tool_calls": [], "tool_call_chunks": []}"#,
    r#"{"type": "AIMessageChunk", "content": "white.", "id": "lc_run--run-0", "tool_calls": [], "invalid_tool_calls": [], "tool_call_chunks": [], "chunk_position": "last"}"#,
    r#"{"type": "HumanMessage", "content": "hi"}"#,
    r#"{"type": "HumanMessage", "content": "what items are in the bedroom?", "id": "uuid-0"}"#,
    r#"{"type": "AIMessage", "content": "Bees defy aviation laws and fly anyway.", "id": "lc_run--run-3", "tool_calls": [], "invalid_tool_calls": []}"#,
    r#"{"type": "AIMessage", "content": "", "id": "lc_run--run-0-0", "tool_calls": [{"name": "get_items", "args": {"place": "bedroom"}, "id": "call_1", "type": "tool_call"}], "invalid_tool_calls": []}"#,
    r#"{"type": "ToolMessage", "content": "olleh", "name": "bad_tool", "tool_call_id": "call_123", "status": "success"}"#,
    r#"{"type": "ToolMessage", "content": "books, pencils, pictures", "name": "get_items", "id": "uuid-1", "tool_call_id": "call_1", "status": "success"}"#,
    r#"{"type": "AIMessageChunk", "content": "", "id": "lc_run--run-5", "tool_calls": [{"name": "get_items", "args": {"place": "bedroom"}, "id": "call_1", "type": "tool_call"}], "invalid_tool_calls": [], "tool_call_chunks": [{"name": "get_items", "args": "{\"place\": \"bedroom\"}", "id": "call_1", "index": 0, "type": "tool_call_chunk"}], "chunk_position": "last"}"#,
];

/// Compact JSON with the keys in their written order.
fn compact(line: &str) -> String {
    let v: Json = serde_json::from_str(line).unwrap();
    serde_json::to_string(&v).unwrap()
}

#[test]
fn trace_messages_round_trip_byte_for_byte() {
    for line in TRACE_MESSAGES {
        let message: Message = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&message).unwrap(), compact(line), "{line}");
    }
}

#[test]
fn each_type_reads_and_writes_its_own_trace_json() {
    fn check<T: serde::Serialize + serde::de::DeserializeOwned>(line: &str) {
        let typed: T = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&typed).unwrap(), compact(line));
    }
    check::<AIMessageChunk>(TRACE_MESSAGES[1]);
    check::<HumanMessage>(TRACE_MESSAGES[3]);
    check::<AIMessage>(TRACE_MESSAGES[5]);
    check::<ToolMessage>(TRACE_MESSAGES[7]);
    check::<AIMessageChunk>(TRACE_MESSAGES[8]);
}

#[test]
fn constructors_write_the_trace_json() {
    let cases: Vec<(Message, &str)> = vec![
        (
            AIMessageChunk::new("The").with_id("lc_run--run-0").into(),
            TRACE_MESSAGES[0],
        ),
        (
            AIMessageChunk::new("white.")
                .with_id("lc_run--run-0")
                .with_chunk_position(ChunkPosition::Last)
                .into(),
            TRACE_MESSAGES[1],
        ),
        (Message::human("hi"), TRACE_MESSAGES[2]),
        (
            HumanMessage::new("what items are in the bedroom?")
                .with_id("uuid-0")
                .into(),
            TRACE_MESSAGES[3],
        ),
        (
            AIMessage::new("")
                .with_id("lc_run--run-0-0")
                .with_tool_calls(vec![
                    ToolCall::new("get_items", json!({"place": "bedroom"})).with_id("call_1")
                ])
                .into(),
            TRACE_MESSAGES[5],
        ),
        (
            ToolMessage::new("olleh", "call_123").with_name("bad_tool").into(),
            TRACE_MESSAGES[6],
        ),
        (
            // The fake tool-calling model streams `json.dumps(args)` as one piece.
            AIMessageChunk::new("")
                .with_id("lc_run--run-5")
                .with_tool_call_chunks(vec![ToolCallChunk::new(
                    Some("get_items"),
                    Some(&json_dumps(&json!({"place": "bedroom"}), true)),
                    Some("call_1"),
                    Some(0),
                )])
                .with_chunk_position(ChunkPosition::Last)
                .into(),
            TRACE_MESSAGES[8],
        ),
    ];
    for (message, line) in cases {
        assert_eq!(serde_json::to_string(&message).unwrap(), compact(line));
    }
}

#[test]
fn optional_fields_appear_only_when_set() {
    let mut m = AIMessageChunk::new("x")
        .with_usage(UsageMetadata::new(3, 4))
        .with_name("bot");
    m.additional_kwargs.insert("k".into(), json!(1));
    m.response_metadata.insert("model_name".into(), json!("fake"));
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        compact(
            r#"{"type": "AIMessageChunk", "content": "x", "name": "bot", "additional_kwargs": {"k": 1},
                "response_metadata": {"model_name": "fake"}, "tool_calls": [], "invalid_tool_calls": [],
                "usage_metadata": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}, "tool_call_chunks": []}"#
        )
    );
    let t = ToolMessage::new("x", "c")
        .with_status(ToolStatus::Error)
        .with_artifact(json!([1]));
    assert_eq!(
        serde_json::to_value(&t).unwrap(),
        json!({"type": "ToolMessage", "content": "x", "tool_call_id": "c", "status": "error", "artifact": [1]})
    );
}

/// The `on_chat_model_stream` chunks of 01_chat_model `generic.astream_events`.
fn generic_stream() -> Vec<AIMessageChunk> {
    let tokens = [
        "The", " ", "sky", " ", "is", " ", "blue.", "\n", "Clouds", " ", "", " ", "are", " ", "white.",
    ];
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let c = AIMessageChunk::new(*t).with_id("lc_run--run-0");
            if i == tokens.len() - 1 {
                c.with_chunk_position(ChunkPosition::Last)
            } else {
                c
            }
        })
        .collect()
}

#[test]
fn streamed_chunks_add_up_to_the_traces_end_output() {
    let mut chunks = generic_stream().into_iter();
    let mut acc = chunks.next().unwrap();
    for c in chunks {
        acc.concat(c);
    }
    let end = r#"{"type": "AIMessageChunk", "content": "The sky is blue.\nClouds  are white.", "id": "lc_run--run-0", "tool_calls": [], "invalid_tool_calls": [], "tool_call_chunks": [], "chunk_position": "last"}"#;
    assert_eq!(serde_json::to_string(&acc).unwrap(), compact(end));
    // The invoke path ends with the plain message.
    let message = AIMessage::from(acc);
    assert_eq!(
        serde_json::to_value(&message).unwrap(),
        json!({"type": "AIMessage", "content": "The sky is blue.\nClouds  are white.", "id": "lc_run--run-0",
               "tool_calls": [], "invalid_tool_calls": []})
    );
}

#[test]
fn tool_call_pieces_merge_by_index() {
    let mut m = AIMessageChunk::new("").with_tool_call_chunks(vec![
        ToolCallChunk::new(Some("get_"), Some("{\"a\": "), Some("call_1"), Some(0)),
        ToolCallChunk::new(Some("other"), Some(""), Some("call_2"), Some(1)),
    ]);
    assert_eq!(m.tool_calls.len(), 2);
    assert_eq!(
        m.tool_calls[0].args,
        Map::new(),
        "a dangling key parses to an empty object"
    );
    m.concat(AIMessageChunk::new("").with_tool_call_chunks(vec![
        ToolCallChunk::new(Some("items"), Some("1}"), None, Some(0)),
        ToolCallChunk::new(None, Some("[1, 2]"), Some("call_2"), Some(1)),
    ]));
    assert_eq!(
        m.tool_call_chunks,
        vec![
            // LangChain concatenates names too, when several pieces carry one.
            ToolCallChunk::new(Some("get_items"), Some("{\"a\": 1}"), Some("call_1"), Some(0)),
            ToolCallChunk::new(Some("other"), Some("[1, 2]"), Some("call_2"), Some(1)),
        ]
    );
    assert_eq!(
        m.tool_calls,
        vec![ToolCall::new("get_items", json!({"a": 1})).with_id("call_1")]
    );
    assert_eq!(
        m.invalid_tool_calls,
        vec![InvalidToolCall {
            name: Some("other".into()),
            args: Some("[1, 2]".into()),
            id: Some("call_2".into()),
            error: None,
        }]
    );
    assert_eq!(
        serde_json::to_value(&m.invalid_tool_calls[0]).unwrap(),
        json!({"name": "other", "args": "[1, 2]", "id": "call_2", "error": null, "type": "invalid_tool_call"})
    );
}

#[test]
fn pieces_with_the_same_index_but_other_ids_stay_apart() {
    let mut m = AIMessageChunk::new("").with_tool_call_chunks(vec![ToolCallChunk::new(
        Some("a"),
        Some("{}"),
        Some("x"),
        Some(0),
    )]);
    m.concat(AIMessageChunk::new("").with_tool_call_chunks(vec![ToolCallChunk::new(
        Some("b"),
        Some("{}"),
        Some("y"),
        Some(0),
    )]));
    let names: Vec<_> = m.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn whole_tool_calls_become_unindexed_pieces() {
    let m = AIMessageChunk::from(
        AIMessage::new("").with_tool_calls(vec![ToolCall::new("t", json!({"q": "é"})).with_id("c1")]),
    );
    assert_eq!(
        m.tool_call_chunks,
        vec![ToolCallChunk::new(
            Some("t"),
            Some(r#"{"q": "\u00e9"}"#),
            Some("c1"),
            None
        )]
    );
    // Unindexed pieces append rather than merge.
    let mut twice = m.clone();
    twice.concat(m);
    assert_eq!(twice.tool_calls.len(), 2);
}

#[test]
fn the_merged_id_prefers_provider_ids_then_run_ids() {
    let merged = |a: Option<&str>, b: Option<&str>| {
        let mut x = AIMessageChunk::new("");
        x.id = a.map(str::to_owned);
        let mut y = AIMessageChunk::new("");
        y.id = b.map(str::to_owned);
        x.concat(y);
        x.id
    };
    assert_eq!(
        merged(Some("lc_run--1"), Some("chatcmpl-9")).as_deref(),
        Some("chatcmpl-9")
    );
    assert_eq!(
        merged(Some("chatcmpl-9"), Some("lc_run--1")).as_deref(),
        Some("chatcmpl-9")
    );
    assert_eq!(
        merged(Some("run-1"), Some("lc_run--1")).as_deref(),
        Some("run-1"),
        "`run-` is a provider id in 1.x"
    );
    assert_eq!(merged(Some("lc_abc"), Some("lc_run--1")).as_deref(), Some("lc_run--1"));
    assert_eq!(
        merged(Some("lc_run--1"), Some("lc_run--2")).as_deref(),
        Some("lc_run--1")
    );
    assert_eq!(merged(None, Some("lc_run--2")).as_deref(), Some("lc_run--2"));
    assert_eq!(merged(Some(""), None), None);
}

#[test]
fn usage_and_metadata_add_up() {
    let mut details = Map::new();
    details.insert("cache_read".into(), json!(2));
    let mut a = AIMessageChunk::new("a").with_usage(UsageMetadata {
        input_token_details: Some(details),
        ..UsageMetadata::new(5, 1)
    });
    a.response_metadata.insert("model_name".into(), json!("m"));
    a.response_metadata.insert("model_provider".into(), json!("p"));
    let mut b_details = Map::new();
    b_details.insert("cache_read".into(), json!(3));
    b_details.insert("audio".into(), json!(1));
    let mut b = AIMessageChunk::new("b").with_usage(UsageMetadata {
        input_token_details: Some(b_details),
        ..UsageMetadata::new(0, 2)
    });
    b.response_metadata.insert("model_provider".into(), json!("p"));
    b.response_metadata.insert("finish_reason".into(), json!("stop"));
    a.concat(b);
    a.concat(AIMessageChunk::new("c"));
    assert_eq!(
        serde_json::to_value(a.usage_metadata.as_ref().unwrap()).unwrap(),
        json!({"input_tokens": 5, "output_tokens": 3, "total_tokens": 8,
               "input_token_details": {"cache_read": 5, "audio": 1}})
    );
    assert_eq!(
        Json::Object(a.response_metadata.into_map()),
        json!({"model_name": "m", "model_provider": "p", "finish_reason": "stop"})
    );
    assert_eq!(a.content, Content::Text("abc".into()));
    let mut none = AIMessageChunk::new("");
    none.concat(AIMessageChunk::new(""));
    assert_eq!(none.usage_metadata, None);
}

#[test]
fn messages_read_from_every_input_form() {
    let read = |v: Json| Message::from_json(v).unwrap();
    assert_eq!(
        read(json!({"type": "HumanMessage", "content": "hi"})),
        Message::human("hi")
    );
    assert_eq!(read(json!({"type": "human", "content": "hi"})), Message::human("hi"));
    assert_eq!(read(json!({"role": "user", "content": "hi"})), Message::human("hi"));
    assert_eq!(read(json!({"role": "assistant", "content": "yo"})), Message::ai("yo"));
    assert_eq!(read(json!(["system", "be terse"])), Message::system("be terse"));
    assert_eq!(read(json!("hi")), Message::human("hi"));
    assert_eq!(
        read(json!({"type": "tool", "content": "r", "tool_call_id": 7})),
        Message::tool("r", "7")
    );
    assert_eq!(
        read(json!({"type": "AIMessage", "content": "x", "id": 12})),
        AIMessage::new("x").with_id("12").into()
    );

    let err = Message::from_json(json!({"type": "Robot", "content": "x"})).unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput);
    assert!(
        err.message().contains("unknown message type `Robot`"),
        "{}",
        err.message()
    );
    let err = Message::from_json(json!({"type": "ToolMessage", "content": "x"})).unwrap_err();
    assert!(err.message().contains("tool_call_id"), "{}", err.message());
    assert!(serde_json::from_value::<HumanMessage>(json!({"type": "AIMessage", "content": "x"})).is_err());
    // A type-less object reads as the type asked for.
    let h: HumanMessage = serde_json::from_value(json!({"content": "x"})).unwrap();
    assert_eq!(h, HumanMessage::new("x"));
}

#[test]
fn chunk_json_reads_as_a_message_and_back() {
    let m: AIMessage = serde_json::from_str(TRACE_MESSAGES[8]).unwrap();
    assert_eq!(
        m.tool_calls,
        vec![ToolCall::new("get_items", json!({"place": "bedroom"})).with_id("call_1")]
    );
    let chunk: AIMessageChunk = serde_json::from_str(TRACE_MESSAGES[5]).unwrap();
    assert_eq!(chunk.tool_call_chunks.len(), 1);
    assert_eq!(
        chunk.tool_call_chunks[0].args.as_deref(),
        Some(r#"{"place": "bedroom"}"#)
    );
}

#[test]
fn block_content_text_and_merge() {
    let mut a = AIMessageChunk::new(vec![json!({"type": "text", "text": "Hel", "index": 0})]);
    a.concat(AIMessageChunk::new(vec![
        json!({"type": "text", "text": "lo", "index": 0}),
    ]));
    a.concat(AIMessageChunk::new(vec![
        json!({"type": "tool_use", "id": "t", "index": 1}),
    ]));
    assert_eq!(a.text(), "Hello");
    assert_eq!(
        serde_json::to_value(&a.content).unwrap(),
        json!([{"type": "text", "text": "Hello", "index": 0}, {"type": "tool_use", "id": "t", "index": 1}])
    );
}

#[test]
fn message_enum_merges_ai_chunks_and_otherwise_keeps_the_later() {
    let mut m = Message::from(AIMessageChunk::new("a"));
    m.concat(AIMessageChunk::new("b").into());
    assert_eq!(m.text(), "ab");
    m.concat(Message::human("h"));
    assert_eq!(m, Message::human("h"));
}

/// Splits `s` at the given raw positions, moved to char boundaries.
fn split_at_boundaries(s: &str, raw: &[usize]) -> Vec<String> {
    let mut cuts: Vec<usize> = raw
        .iter()
        .map(|r| {
            let mut i = r % (s.len() + 1);
            while !s.is_char_boundary(i) {
                i -= 1;
            }
            i
        })
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([s.len()]) {
        pieces.push(s[start..cut].to_owned());
        start = cut;
    }
    pieces
}

fn json_leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        any::<i64>().prop_map(Json::from),
        any::<bool>().prop_map(Json::from),
        Just(Json::Null),
        "[ -~é日\u{1F600}\"\\\\\n]{0,8}".prop_map(Json::from),
        (-1e6f64..1e6).prop_map(Json::from),
    ]
}

fn json_args() -> impl Strategy<Value = Map> {
    let value = json_leaf().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Json::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..3).prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("[a-zé]{1,5}", value, 0..4).prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn tool_call_args_split_anywhere_merge_to_the_same_calls(
        args0 in json_args(),
        args1 in json_args(),
        cuts0 in prop::collection::vec(0usize..1000, 0..6),
        cuts1 in prop::collection::vec(0usize..1000, 0..6),
        interleave in prop::collection::vec(any::<bool>(), 0..16),
        python_style in any::<bool>(),
    ) {
        let text = |args: &Map| {
            let v = Json::Object(args.clone());
            if python_style { json_dumps(&v, false) } else { serde_json::to_string(&v).unwrap() }
        };
        let (text0, text1) = (text(&args0), text(&args1));
        let whole = AIMessageChunk::new("").with_tool_call_chunks(vec![
            ToolCallChunk::new(Some("first"), Some(&text0), Some("call_0"), Some(0)),
            ToolCallChunk::new(Some("second"), Some(&text1), Some("call_1"), Some(1)),
        ]);
        prop_assert_eq!(&whole.tool_calls[0].args, &args0);
        prop_assert_eq!(&whole.tool_calls[1].args, &args1);

        // Each call's pieces in order, the two calls' pieces interleaved;
        // name and id only on a call's first piece, as providers stream them.
        let pieces = |name: &str, id: &str, index: i64, pieces: Vec<String>| -> Vec<AIMessageChunk> {
            pieces.into_iter().enumerate().map(|(i, p)| {
                let first = i == 0;
                AIMessageChunk::new("").with_tool_call_chunks(vec![ToolCallChunk::new(
                    first.then_some(name), Some(&p), first.then_some(id), Some(index),
                )])
            }).collect()
        };
        let mut a = pieces("first", "call_0", 0, split_at_boundaries(&text0, &cuts0)).into_iter().peekable();
        let mut b = pieces("second", "call_1", 1, split_at_boundaries(&text1, &cuts1)).into_iter().peekable();
        // Call 0 opens first so that the merged list keeps its order.
        let mut acc = a.next().unwrap();
        let mut choose = interleave.into_iter();
        while a.peek().is_some() || b.peek().is_some() {
            let take_a = match (a.peek().is_some(), b.peek().is_some()) {
                (true, true) => choose.next().unwrap_or(true),
                (has_a, _) => has_a,
            };
            let next = if take_a { a.next() } else { b.next() };
            if let Some(next) = next {
                acc.concat(next);
            }
        }
        prop_assert_eq!(&acc.tool_calls, &whole.tool_calls);
        prop_assert!(acc.invalid_tool_calls.is_empty());
        prop_assert_eq!(&acc.tool_call_chunks, &whole.tool_call_chunks);
    }
}

#[test]
fn every_message_type_is_data() {
    fn is_value<T: crate::value::Data>() {}
    is_value::<Message>();
    is_value::<SystemMessage>();
    is_value::<HumanMessage>();
    is_value::<AIMessage>();
    is_value::<AIMessageChunk>();
    is_value::<ToolMessage>();
    is_value::<ToolCall>();
    is_value::<ToolCallChunk>();
    is_value::<InvalidToolCall>();
    is_value::<UsageMetadata>();
    is_value::<Content>();
}

/// A chunk of the kinds a stream carries: text, blocks, ids of each rank,
/// metadata, usage, tool-call pieces, the last-chunk mark.
fn any_chunk() -> impl Strategy<Value = AIMessageChunk> {
    let content = prop_oneof![
        4 => "[a-z ]{0,4}".prop_map(Content::Text),
        1 => prop::collection::vec(prop_oneof![
            "[a-z]{0,3}".prop_map(Json::from),
            "[a-z]{0,3}".prop_map(|t| serde_json::json!({"type": "text", "text": t, "index": 0})),
        ], 0..3).prop_map(Content::Blocks),
    ];
    let id = prop_oneof![
        Just(None),
        Just(Some(String::new())),
        Just(Some("lc_run--1".to_owned())),
        Just(Some("lc_other".to_owned())),
        Just(Some("chatcmpl-9".to_owned())),
    ];
    (content, id, any::<u8>()).prop_map(|(content, id, extras)| {
        let mut c = AIMessageChunk::new(content);
        c.id = id;
        if extras & 1 != 0 {
            c.response_metadata.insert("finish_reason".into(), json!("stop"));
        }
        if extras & 2 != 0 {
            c.additional_kwargs.insert("k".into(), json!([1]));
        }
        if extras & 4 != 0 {
            c.usage_metadata = Some(Box::new(UsageMetadata::new(1, 2)));
        }
        if extras & 8 != 0 {
            c = c.with_tool_call_chunks(vec![ToolCallChunk::new(Some("f"), Some("{\"a\": 1"), None, Some(0))]);
        }
        if extras & 16 != 0 {
            c.chunk_position = Some(ChunkPosition::Last);
        }
        c.whole = extras & 32 != 0;
        c
    })
}

proptest! {
    /// Folding borrowed chunks (what a run does with the chunks it hands on)
    /// gives exactly what folding owned ones does.
    #[test]
    fn concat_ref_adds_up_like_concat(chunks in prop::collection::vec(any_chunk(), 1..8)) {
        let mut owned = chunks[0].clone();
        let mut borrowed = chunks[0].clone();
        for c in &chunks[1..] {
            owned.concat(c.clone());
            borrowed.concat_ref(c);
        }
        prop_assert_eq!(&borrowed, &owned);
        prop_assert_eq!(serde_json::to_value(&borrowed).unwrap(), serde_json::to_value(&owned).unwrap());
    }
}
