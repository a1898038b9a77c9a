//! Tests of the prompt templates: formatting, escapes, errors,
//! placeholders, and their events against the LangChain reference traces.

use futures::TryStreamExt;
use serde_json::{json, Value as Json};

use super::*;
use crate::error::ErrorKind;
use crate::messages::Message;
use crate::runnable::{Lambda, RunnableExt};
use crate::value::Map;

#[test]
fn a_prompt_value_is_data() {
    fn is_value<T: crate::value::Data>() {}
    is_value::<PromptValue>();
}

fn vars(v: Json) -> Map {
    match v {
        Json::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn variables_are_substituted_and_double_braces_are_literal() {
    let p = PromptTemplate::from_template("{{literal}} {a} and {b}{a} }}{{").unwrap();
    assert_eq!(p.input_variables(), ["a", "b"]);
    assert_eq!(
        p.format(&vars(json!({"a": "x", "b": "y", "unused": 1}))).unwrap(),
        "{literal} x and yx }{"
    );
    assert_eq!(p.template(), "{{literal}} {a} and {b}{a} }}{{");
}

#[test]
fn values_print_as_python_str() {
    let p = PromptTemplate::from_template("{s}|{n}|{f}|{t}|{none}|{list}|{obj}").unwrap();
    let text = p
        .format(&vars(json!({
            "s": "it's", "n": 3, "f": 2.0, "t": true, "none": null,
            "list": [1, "a", false], "obj": {"k": "v", "q": "it's"}
        })))
        .unwrap();
    assert_eq!(text, r#"it's|3|2.0|True|None|[1, 'a', False]|{'k': 'v', 'q': "it's"}"#);
}

#[test]
fn documents_print_like_the_rag_template_expects() {
    let rag = "Answer the question based only on the following context:\n{context}\n\nQuestion: {question}\n";
    let p = ChatPromptTemplate::from_template(rag).unwrap();
    let docs = json!([
        {"type": "Document", "page_content": "harrison worked at kensho", "metadata": {}},
        {"type": "Document", "page_content": "harrison likes spicy food", "metadata": {}},
    ]);
    let messages = p
        .format_messages(&vars(json!({"context": docs, "question": "where did harrison work?"})))
        .unwrap();
    assert_eq!(
        messages,
        vec![Message::human(
            "Answer the question based only on the following context:\n\
             [Document(metadata={}, page_content='harrison worked at kensho'), \
             Document(metadata={}, page_content='harrison likes spicy food')]\n\n\
             Question: where did harrison work?\n"
        )]
    );
}

#[test]
fn malformed_templates_fail_at_construction_naming_the_position() {
    let cases = [
        ("say {word", "unclosed '{' at position 4"),
        ("say word}", "single '}' at position 8"),
        ("a {} b", "an empty variable name at position 2"),
        ("{a.b}", "attribute access or indexing"),
        ("{x!r}", "conversion or format spec"),
        ("{0}", "all digits"),
        ("{a{b}}", "'{' at position 2 inside the variable opened at position 0"),
    ];
    for (template, want) in cases {
        let err = PromptTemplate::from_template(template).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains(want), "{template}: {}", err.message());
        assert!(ChatPromptTemplate::from_template(template).is_err(), "{template}");
    }
}

#[test]
fn missing_variables_are_all_named_with_the_template() {
    let p = ChatPromptTemplate::from_messages([("system", "{b} {a}"), ("human", "{c}")]).unwrap();
    let err = p.format_prompt(&vars(json!({"c": 1, "x": 2}))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        err.message(),
        "Input to ChatPromptTemplate is missing variables {'a', 'b'}.  Expected: ['a', 'b', 'c'] Received: ['c', 'x']\n\
         Note: if you intended {a} to be part of the string and not a variable, please escape it with double curly \
         braces like: '{{a}}'."
    );
    let err = PromptTemplate::from_template("say {word}")
        .unwrap()
        .format(&Map::new())
        .unwrap_err();
    assert!(
        err.message()
            .starts_with("Input to PromptTemplate is missing variables {'word'}."),
        "{}",
        err.message()
    );
}

#[test]
fn non_object_input_is_the_single_variable_or_an_error() {
    let one = ChatPromptTemplate::from_template("about {topic}").unwrap();
    assert_eq!(
        one.format_prompt_json(json!("cats")).unwrap(),
        PromptValue::from(vec![Message::human("about cats")])
    );
    let two = PromptTemplate::from_template("{a}{b}").unwrap();
    let err = two.format_prompt_json(json!([1])).unwrap_err();
    assert_eq!(
        err.message(),
        "Expected mapping type as input to PromptTemplate. Received <class 'list'>."
    );
}

#[test]
fn roles_placeholders_and_fixed_messages() {
    let p = ChatPromptTemplate::from_messages([
        MessageTemplate::from(("system", "You are {name}.")),
        MessagesPlaceholder::new("history").with_n_messages(2).into(),
        ("placeholder", "{extra}").into(),
        Message::ai("fixed {not a var}").into(),
        ("user", "{q}").into(),
        ("assistant", "ok").into(),
    ])
    .unwrap();
    assert_eq!(p.input_variables(), ["history", "name", "q"]);
    assert_eq!(p.optional_variables(), ["extra"]);
    let history = json!([
        "dropped by n_messages",
        {"type": "HumanMessage", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]);
    let out = p
        .format_messages(&vars(json!({"name": "Bob", "history": history, "q": "why?"})))
        .unwrap();
    assert_eq!(
        out,
        vec![
            Message::system("You are Bob."),
            Message::human("hi"),
            Message::ai("hello"),
            Message::ai("fixed {not a var}"),
            Message::human("why?"),
            Message::ai("ok"),
        ]
    );
    let with_extra = p
        .format_messages(&vars(
            json!({"name": "B", "history": [], "q": "?", "extra": [["system", "x"]]}),
        ))
        .unwrap();
    assert_eq!(with_extra[1], Message::system("x"));

    let err = p
        .format_messages(&vars(json!({"name": "B", "history": "nope", "q": "?"})))
        .unwrap_err();
    assert_eq!(
        err.message(),
        "variable history should be a list of base messages, got nope of type <class 'str'>"
    );
    let err = p
        .format_messages(&vars(json!({"name": "B", "history": [{"type": "Robot"}], "q": "?"})))
        .unwrap_err();
    assert!(
        err.message().starts_with("variable history: item 0 is not a message"),
        "{}",
        err.message()
    );
}

#[test]
fn bad_roles_and_placeholders_are_rejected() {
    let err = ChatPromptTemplate::from_messages([("robot", "x")]).unwrap_err();
    assert!(
        err.message().starts_with("Unexpected message type: robot."),
        "{}",
        err.message()
    );
    let err = ChatPromptTemplate::from_messages([("placeholder", "history")]).unwrap_err();
    assert!(
        err.message().starts_with("Invalid placeholder template: history."),
        "{}",
        err.message()
    );
    let err = ChatPromptTemplate::from_messages([
        MessageTemplate::human("{h}"),
        MessagesPlaceholder::new("h").optional().into(),
    ])
    .unwrap_err();
    assert!(err.message().contains("overlapping"), "{}", err.message());
}

#[test]
fn prompt_values_serialize_as_the_traces_show() {
    let chat = PromptValue::from(vec![Message::human("tell me a joke about parrot")]);
    assert_eq!(
        serde_json::to_string(&chat).unwrap(),
        r#"{"type":"ChatPromptValue","messages":[{"type":"HumanMessage","content":"tell me a joke about parrot"}]}"#
    );
    let back: PromptValue = serde_json::from_str(&serde_json::to_string(&chat).unwrap()).unwrap();
    assert_eq!(back, chat);
    assert_eq!(String::from(PromptValue::from("say abc")), "say abc");
    assert_eq!(
        PromptValue::from(vec![Message::human("a"), Message::ai("b"), Message::tool("c", "id")]).to_string(),
        "Human: a\nAI: b\nTool: c"
    );
}

/// The `on_prompt_start` / `on_prompt_end` records of
/// 02_prompt_model_parser.jsonl `astream_events`.
const TRACE_PROMPT_START: &str = r#"{"event": "on_prompt_start", "data": {"input": {"topic": "parrot"}}, "name": "ChatPromptTemplate", "tags": ["seq:step:1"], "run_id": "run-1", "metadata": {}, "parent_ids": ["run-0"]}"#;
const TRACE_PROMPT_END: &str = r#"{"event": "on_prompt_end", "data": {"output": {"type": "ChatPromptValue", "messages": [{"type": "HumanMessage", "content": "tell me a joke about parrot"}]}, "input": {"topic": "parrot"}}, "run_id": "run-1", "name": "ChatPromptTemplate", "tags": ["seq:step:1"], "metadata": {}, "parent_ids": ["run-0"]}"#;

fn trace_field(line: &str, key: &str) -> Json {
    serde_json::from_str::<Json>(line).unwrap()[key].clone()
}

#[tokio::test]
async fn prompt_events_carry_the_traces_data() {
    let prompt = ChatPromptTemplate::from_template("tell me a joke about {topic}").unwrap();
    let input = vars(json!({"topic": "parrot"}));

    // As the first step of a chain, as in the trace.
    let chain = prompt.clone() | Lambda::from_fn(|p: PromptValue| Ok(p.to_string()));
    let events: Vec<_> = chain.stream_events(input.clone()).try_collect().await.unwrap();
    let prompt_events: Vec<Json> = events
        .iter()
        .map(|e| e.to_json())
        .filter(|e| e["name"] == "ChatPromptTemplate")
        .collect();
    assert_eq!(prompt_events.len(), 2);
    for (event, line) in prompt_events.iter().zip([TRACE_PROMPT_START, TRACE_PROMPT_END]) {
        assert_eq!(event["event"], trace_field(line, "event"));
        assert_eq!(event["data"], trace_field(line, "data"));
        assert_eq!(
            serde_json::to_string(&event["data"]).unwrap(),
            serde_json::to_string(&trace_field(line, "data")).unwrap()
        );
        assert_eq!(event["tags"], trace_field(line, "tags"));
    }

    // Alone, it is the root: its end carries no input (rule 1).
    let events: Vec<_> = prompt.stream_events(input).try_collect().await.unwrap();
    let names: Vec<_> = events.iter().map(|e| e.event()).collect();
    assert_eq!(names, ["on_prompt_start", "on_prompt_end"]);
    assert_eq!(events[0].to_json()["data"], trace_field(TRACE_PROMPT_START, "data"));
    assert_eq!(
        events[1].to_json()["data"],
        json!({"output": trace_field(TRACE_PROMPT_END, "data")["output"]})
    );
}

#[tokio::test]
async fn a_missing_variable_fails_the_run() {
    let prompt = PromptTemplate::from_template("say {word}").unwrap();
    let err = prompt.invoke(Map::new()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.step(), Some("PromptTemplate"));
}
