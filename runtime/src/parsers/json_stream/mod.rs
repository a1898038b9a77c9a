//! Incremental JSON parsing with LangChain's partial semantics, in linear time.
//!
//! LangChain's streaming `JsonOutputParser` re-parses the whole accumulated
//! text after every chunk with `parse_partial_json` and emits the result when
//! it differs from the previous one, which costs O(n²) over a document.
//! [`JsonStreamParser`] is a resumable tokenizer that looks at each input byte
//! a bounded number of times and emits the *same sequence of values*: after
//! each chunk, its value is what
//! [`parse_json_markdown`](crate::python::partial_json::parse_json_markdown) would
//! return for the text so far, and it emits exactly when LangChain would
//! (`parsed is not None and parsed != prev_parsed`, with Python's equality:
//! `1 == 1.0`, key order ignored).
//!
//! What a partial document shows, as in LangChain:
//!
//! * open arrays and objects are shown closed: `[{"name":` is `[{}]`;
//! * a partial string is shown as far as it goes, without trailing white space
//!   or backticks (LangChain strips the whole text), and disappears while a
//!   `\u` escape is incomplete;
//! * a partial number is shown as its longest valid prefix (`1.5e-` is `1.5`,
//!   `-` is nothing);
//! * an incomplete key, a key without a value and an incomplete `true` /
//!   `false` / `null` are not shown, and neither is their key;
//! * a leading ```` ```json ```` (or ```` ``` ````) fence, backticks and white
//!   space are skipped, as is text before a fence; after the value, white
//!   space and backticks may follow, and anything after a closing
//!   ```` ``` ````.
//!
//! Because values are compared with Python's `==`, a number that only changes
//! type is not emitted again: `[1.0]` streamed a character at a time emits
//! `[]` and `[1]`, as in LangChain. [`finish`](JsonStreamParser::finish) returns the document as
//! written (`[1.0]`).
//!
//! # Differences from LangChain
//!
//! * Invalid JSON is an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
//!   error with its line and column, as soon as it is seen, and
//!   [`finish`](JsonStreamParser::finish) requires a complete document.
//!   LangChain silently stops emitting and returns whatever prefix parses.
//! * Raw control characters inside strings are accepted, as by Python's
//!   `json.loads(strict=False)`; nesting deeper than 1,024 levels is an error.
//! * The limits of [`partial_json`](crate::python::partial_json): no `NaN` or
//!   `Infinity`, integers beyond 64 bits become floats, lone surrogates become
//!   U+FFFD, no `"action_input"` workaround.
//! * Text before a fence is skipped unless it starts like a JSON value (a
//!   digit, `-`, a quote or a bracket), in which case it is read as JSON.
//!   When that text holds an unmatched `]` or `}`, LangChain shows nothing at
//!   all; this parser still reads the fenced value.
//!
//! # Cost
//!
//! Each input byte is looked at a bounded number of times, and string
//! contents are copied once, into storage that the values share. Values are
//! handed out as [`PartialValue`]s, which share everything already complete
//! with the parser and with earlier values: a value costs O(depth) to build
//! and to compare with the previous one, not a copy of the document. Three
//! things cost more, and only in unusual documents: a number that is still
//! being read is parsed again at each chunk that extends it (O(its length)), a
//! string that ends in an unpaired `\ud800`-style escape is copied when shown,
//! and once an object repeats a key, its versions are compared member by
//! member.

// One file per part (each says more in its own docs):
//
// * `parser.rs`: `JsonStreamParser`, its public entry points, the text
//   around the value (fences, prose) and the structure of the value;
// * `token.rs`: the string, number or literal being read;
// * `frame.rs`: the arrays and objects being read;
// * `value.rs`: `PartialValue` and its equalities;
// * `pvec.rs`: the persistent vector the values share their elements with;
// * `text.rs`: the storage the strings share, and the safety argument of the
//   parser (the one file with raw memory access).
//
// The small functions that other files call in the per-character loop are
// `#[inline]`: in files of their own they can land in other codegen units,
// where the optimizer would no longer inline them (the `json_parser`
// benchmark ran about 7% slower without the attribute).

mod frame;
mod parser;
mod pvec;
mod text;
mod token;
mod value;

pub use parser::JsonStreamParser;
pub use value::{Elements, Members, PartialValue};

/// Nesting deeper than this is rejected (Python's `json` gives up near 1,000 too).
const MAX_DEPTH: usize = 1024;

// The tests (`tests.rs`) see the parser's parts through `use super::*`.
#[cfg(test)]
use {crate::error::ErrorKind, crate::error::Result, crate::value::Chunk, pvec::PVec};

#[cfg(test)]
mod tests;
