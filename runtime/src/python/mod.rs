//! Python's behaviour where LangChain's output depends on it, emulated once
//! for the whole crate: the text forms of values (`str()`, `repr()`,
//! `json.dumps()`) that prompts, messages, models and tools print, and
//! LangChain's lenient parsing of incomplete JSON (`parse_partial_json`,
//! `parse_json_markdown`), the oracle of the streaming JSON parser.
//!
//! This is the ground floor of the crate: it imports nothing of runwright.
//!
//! ```
//! use runwright::python::{json_dumps, py_str};
//! use runwright::python::partial_json::parse_partial_json;
//! use serde_json::json;
//!
//! assert_eq!(py_str(&json!({"k": [true, null]})), "{'k': [True, None]}");
//! assert_eq!(json_dumps(&json!({"a": 1}), true), r#"{"a": 1}"#);
//! assert_eq!(parse_partial_json(r#"{"name": "Fr"#), Some(json!({"name": "Fr"})));
//! ```

pub mod partial_json;
mod text;

pub use text::{json_dumps, py_repr, py_str};
