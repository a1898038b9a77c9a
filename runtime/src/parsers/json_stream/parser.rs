//! [`JsonStreamParser`]: the state of a document being read, the public
//! entry points, the text around the JSON value (white space, prose,
//! ```` ``` ```` fences), and the structure of the value (arrays, objects and
//! where each token starts). The tokens themselves are read in `token.rs`.

use std::fmt;

use super::frame::{new_frame_id, ArrayExpect, ArrayFrame, Frame, ObjectExpect, ObjectFrame};
use super::pvec::PVec;
use super::text::TextWriter;
use super::token::{Escape, LiteralToken, NumberState, NumberToken, StrToken, Token, Trim};
use super::value::{values_eq, EqMode, PartialValue};
use super::MAX_DEPTH;
use crate::error::{Error, ErrorKind, Result};
use crate::python::partial_json::{is_markdown_strip, py_isspace};

/// A streaming JSON parser that yields what LangChain's `JsonOutputParser`
/// yields in streaming mode, in linear time (see the [module docs](super)).
///
/// Feed it the text as it arrives with [`push`](Self::push); each call returns
/// the new partial value when it changed. [`finish`](Self::finish) checks that
/// the document is complete and returns it.
///
/// ```
/// use runwright::parsers::json_stream::JsonStreamParser;
/// use serde_json::json;
///
/// let mut p = JsonStreamParser::new();
/// let mut seen = Vec::new();
/// for chunk in ["```json\n{\"countries\":", " [{\"name\":", " \"Fra", "nce\"", "}]}\n```"] {
///     if let Some(v) = p.push(chunk)? {
///         seen.push(v.to_json());
///     }
/// }
/// assert_eq!(seen, [json!({}), json!({"countries": [{}]}), json!({"countries": [{"name": "Fra"}]}),
///                   json!({"countries": [{"name": "France"}]})]);
/// assert_eq!(p.finish()?, json!({"countries": [{"name": "France"}]}));
/// # Ok::<(), runwright::Error>(())
/// ```
pub struct JsonStreamParser {
    pub(super) mode: Mode,
    pub(super) stack: Vec<Frame>,
    pub(super) token: Token,
    root: Option<PartialValue>,
    pub(super) text: TextWriter,
    pub(super) number: String,
    /// Something visible may have changed since the last comparison.
    pub(super) touched: bool,
    /// A ``` fence was seen before the value.
    pub(super) fenced: bool,
    last: Option<PartialValue>,
    /// Newlines so far, and characters since the last one.
    line: usize,
    column: usize,
    error: Option<Error>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Mode {
    /// Skipping leading white space (`str.strip()`).
    Start,
    /// Skipping leading `" \n\r\t`"`; `backticks` in a row, and the number of
    /// characters since the first ```` ``` ```` if there was one.
    Lead {
        backticks: u8,
        after_fence: Option<usize>,
    },
    /// Text that is not JSON: looking for a ```` ``` ```` fence.
    Prose {
        backticks: u8,
    },
    /// After a fence: matched this many letters of `json`.
    Tag(u8),
    /// After a fence and its tag: skipping `" \n\r\t`"`.
    BodyLead,
    Body,
    /// After the value: white space and backticks.
    After {
        backticks: u8,
    },
    /// After a closing fence: the rest is ignored.
    Closed,
}

/// A syntax error: where in the chunk, and what.
pub(super) struct Fail {
    at: usize,
    message: String,
}

pub(super) fn fail<T>(at: usize, message: impl Into<String>) -> std::result::Result<T, Fail> {
    Err(Fail {
        at,
        message: message.into(),
    })
}

pub(super) fn describe(c: Option<char>) -> String {
    match c {
        Some(c) if c.is_control() || c.is_whitespace() => format!("{c:?}"),
        Some(c) => format!("'{c}'"),
        None => "end of input".into(),
    }
}

fn starts_value(c: char) -> bool {
    matches!(c, '{' | '[' | '"' | '-' | '0'..='9' | 't' | 'f' | 'n')
}

impl Default for JsonStreamParser {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for JsonStreamParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonStreamParser")
            .field("mode", &self.mode)
            .field("depth", &self.stack.len())
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl JsonStreamParser {
    /// A parser at the start of a document.
    pub fn new() -> Self {
        JsonStreamParser {
            mode: Mode::Start,
            stack: Vec::new(),
            token: Token::None,
            root: None,
            text: TextWriter::with_capacity(256),
            number: String::new(),
            touched: false,
            fenced: false,
            last: None,
            line: 0,
            column: 0,
            error: None,
        }
    }

    /// Feeds the next piece of text. Returns the value shown after it when it
    /// differs (by Python's `==`) from the last one returned; `None` when it
    /// does not, or when nothing is shown yet.
    ///
    /// An error (kind [`ErrorKind::InvalidInput`], with line and column) means
    /// the text cannot be the start of a JSON document; every later call
    /// returns it again.
    pub fn push(&mut self, chunk: &str) -> Result<Option<PartialValue>> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if let Err(f) = self.feed(chunk) {
            let (line, column) = self.advanced(&chunk[..f.at]);
            let e = Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "invalid JSON at line {}, column {}: {}",
                    line + 1,
                    column + 1,
                    f.message
                ),
            );
            self.error = Some(e.clone());
            return Err(e);
        }
        (self.line, self.column) = self.advanced(chunk);
        if !std::mem::take(&mut self.touched) {
            return Ok(None);
        }
        match self.peek() {
            Some(v) if !v.is_null() => {
                if self
                    .last
                    .as_ref()
                    .is_some_and(|last| values_eq(last, &v, EqMode::Python))
                {
                    return Ok(None);
                }
                self.last = Some(v.clone());
                Ok(Some(v))
            }
            _ => Ok(None),
        }
    }

    /// The value shown for the text so far, whether or not it was returned
    /// by [`push`](Self::push): what `parse_json_markdown` gives for it.
    /// `None` while nothing is shown. Costs O(depth).
    pub fn peek(&self) -> Option<PartialValue> {
        if let Some(root) = &self.root {
            return Some(root.clone());
        }
        if self.mode != Mode::Body {
            return None;
        }
        let mut shown = self.token_shown();
        for frame in self.stack.iter().rev() {
            shown = Some(frame.snapshot(shown));
        }
        shown
    }

    /// The last value [`push`](Self::push) returned.
    pub fn last(&self) -> Option<&PartialValue> {
        self.last.as_ref()
    }

    /// Ends the document and returns it. The text must hold one complete JSON
    /// value (see the [module docs](super) for what may surround it);
    /// otherwise the error (kind [`ErrorKind::InvalidInput`]) says what is
    /// missing and where the text ends.
    pub fn finish(self) -> Result<serde_json::Value> {
        self.finish_partial().map(|v| v.to_json())
    }

    /// [`finish`](Self::finish), returning the document as a [`PartialValue`],
    /// which shares its parts with the values returned before (no copy).
    pub fn finish_partial(mut self) -> Result<PartialValue> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.mode == Mode::Body && self.stack.is_empty() {
            if let Token::Number(n) = &self.token {
                if matches!(
                    n.state,
                    NumberState::Zero | NumberState::Int | NumberState::Frac | NumberState::ExpDigits
                ) {
                    if let Err(f) = self.end_number(0) {
                        return Err(self.end_error(&f.message));
                    }
                }
            }
        }
        if let Some(root) = self.root.take() {
            return Ok(root);
        }
        let what = match self.mode {
            Mode::Start | Mode::Lead { .. } => "no JSON value in the text".to_string(),
            Mode::Prose { .. } => "the text is not JSON and has no ``` fence".to_string(),
            Mode::Tag(_) | Mode::BodyLead => "no JSON value after the ``` fence".to_string(),
            _ => {
                let inner = match &self.token {
                    Token::Str(s) if s.key => "unterminated object key",
                    Token::Str(_) => "unterminated string",
                    Token::Number(n) if n.valid != self.number.len() => "incomplete number",
                    Token::Literal(_) => "incomplete literal",
                    Token::None | Token::Number(_) => match self.stack.last() {
                        Some(Frame::Array(_)) => "unclosed array",
                        Some(Frame::Object(_)) => "unclosed object",
                        None => "no JSON value",
                    },
                };
                format!("unexpected end of JSON: {inner}")
            }
        };
        Err(self.end_error(&what))
    }

    fn end_error(&self, what: &str) -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "invalid JSON at line {}, column {}: {what}",
                self.line + 1,
                self.column + 1
            ),
        )
    }

    /// (line, column) after `s`, both 0-based.
    fn advanced(&self, s: &str) -> (usize, usize) {
        let (mut line, mut column) = (self.line, self.column);
        for b in s.bytes() {
            if b == b'\n' {
                line += 1;
                column = 0;
            } else if b & 0xc0 != 0x80 {
                column += 1;
            }
        }
        (line, column)
    }

    fn feed(&mut self, s: &str) -> std::result::Result<(), Fail> {
        let mut i = 0;
        while i < s.len() {
            i = match self.mode {
                Mode::Body => self.body(s, i)?,
                Mode::Closed => s.len(),
                _ => self.outside(s, i)?,
            };
        }
        Ok(())
    }

    /// One character around the JSON value (fences, white space, prose).
    fn outside(&mut self, s: &str, i: usize) -> std::result::Result<usize, Fail> {
        let Some(c) = s[i..].chars().next() else {
            return Ok(s.len());
        };
        let next = i + c.len_utf8();
        match self.mode {
            Mode::Start => {
                if py_isspace(c) {
                    return Ok(next);
                }
                self.mode = Mode::Lead {
                    backticks: 0,
                    after_fence: None,
                };
                Ok(i)
            }
            Mode::Lead { backticks, after_fence } => {
                if is_markdown_strip(c) {
                    let backticks = if c == '`' { backticks.saturating_add(1) } else { 0 };
                    let after_fence = match after_fence {
                        Some(n) => Some(n + 1),
                        None if backticks == 3 => Some(0),
                        None => None,
                    };
                    self.fenced |= after_fence.is_some();
                    self.mode = Mode::Lead { backticks, after_fence };
                    return Ok(next);
                }
                if starts_value(c) {
                    self.mode = Mode::Body;
                    return Ok(i);
                }
                match after_fence {
                    Some(0) if c == 'j' => self.mode = Mode::Tag(1),
                    Some(_) => {
                        return fail(
                            i,
                            format!("expected a JSON value after the ``` fence, found {}", describe(Some(c))),
                        )
                    }
                    None => self.mode = Mode::Prose { backticks: 0 },
                }
                Ok(next)
            }
            Mode::Prose { backticks } => {
                self.mode = match c {
                    '`' if backticks == 2 => {
                        self.fenced = true;
                        Mode::Tag(0)
                    }
                    '`' => Mode::Prose {
                        backticks: backticks + 1,
                    },
                    _ => Mode::Prose { backticks: 0 },
                };
                Ok(next)
            }
            Mode::Tag(n) => {
                if n < 4 && c == ['j', 's', 'o', 'n'][usize::from(n)] {
                    self.mode = if n == 3 { Mode::BodyLead } else { Mode::Tag(n + 1) };
                    return Ok(next);
                }
                if n == 0 {
                    self.mode = Mode::BodyLead;
                    return Ok(i);
                }
                fail(
                    i,
                    format!(
                        "expected `json` or a new line after the ``` fence, found {}",
                        describe(Some(c))
                    ),
                )
            }
            Mode::BodyLead => {
                if is_markdown_strip(c) {
                    return Ok(next);
                }
                if starts_value(c) {
                    self.mode = Mode::Body;
                    return Ok(i);
                }
                fail(i, format!("expected a JSON value, found {}", describe(Some(c))))
            }
            Mode::After { backticks } => {
                if c == '`' {
                    self.mode = if backticks == 2 {
                        Mode::Closed
                    } else {
                        Mode::After {
                            backticks: backticks + 1,
                        }
                    };
                    return Ok(next);
                }
                if py_isspace(c) {
                    self.mode = Mode::After { backticks: 0 };
                    return Ok(next);
                }
                fail(i, format!("unexpected {} after the JSON value", describe(Some(c))))
            }
            Mode::Body | Mode::Closed => Ok(i),
        }
    }

    /// Reads the JSON value, from byte `i`, until the chunk or the value ends.
    fn body(&mut self, s: &str, mut i: usize) -> std::result::Result<usize, Fail> {
        let b = s.as_bytes();
        while i < b.len() {
            if self.mode != Mode::Body {
                return Ok(i);
            }
            i = match &self.token {
                Token::Str(_) => self.string(s, i)?,
                Token::Number(_) => self.number(s, i)?,
                Token::Literal(_) => self.literal(s, i)?,
                Token::None => self.structure(s, i)?,
            };
        }
        Ok(i)
    }

    fn structure(&mut self, s: &str, i: usize) -> std::result::Result<usize, Fail> {
        let c = s.as_bytes()[i];
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            return Ok(i + 1);
        }
        let found = || describe(s[i..].chars().next());
        match self.stack.last_mut() {
            None => self.value_start(s, i),
            Some(Frame::Array(a)) => match (a.expect, c) {
                (ArrayExpect::ItemOrEnd | ArrayExpect::CommaOrEnd, b']') => self.close(i),
                (ArrayExpect::CommaOrEnd, b',') => {
                    a.expect = ArrayExpect::Item;
                    Ok(i + 1)
                }
                (ArrayExpect::CommaOrEnd, _) => fail(
                    i,
                    format!("expected ',' or ']' after an array element, found {}", found()),
                ),
                _ => self.value_start(s, i),
            },
            Some(Frame::Object(o)) => match (o.expect, c) {
                (ObjectExpect::KeyOrEnd | ObjectExpect::CommaOrEnd, b'}') => self.close(i),
                (ObjectExpect::KeyOrEnd | ObjectExpect::Key, b'"') => {
                    self.text.begin();
                    self.token = Token::Str(StrToken {
                        key: true,
                        escape: Escape::None,
                        high: None,
                        trim: Trim::default(),
                    });
                    Ok(i + 1)
                }
                (ObjectExpect::KeyOrEnd | ObjectExpect::Key, _) => {
                    fail(i, format!("expected a string key in an object, found {}", found()))
                }
                (ObjectExpect::Colon, b':') => {
                    o.expect = ObjectExpect::Value;
                    Ok(i + 1)
                }
                (ObjectExpect::Colon, _) => fail(i, format!("expected ':' after an object key, found {}", found())),
                (ObjectExpect::CommaOrEnd, b',') => {
                    o.expect = ObjectExpect::Key;
                    Ok(i + 1)
                }
                (ObjectExpect::CommaOrEnd, _) => fail(
                    i,
                    format!("expected ',' or '}}' after an object member, found {}", found()),
                ),
                (ObjectExpect::Value, _) => self.value_start(s, i),
            },
        }
    }

    fn value_start(&mut self, s: &str, i: usize) -> std::result::Result<usize, Fail> {
        let c = s.as_bytes()[i];
        if matches!(c, b'{' | b'[') && self.stack.len() >= MAX_DEPTH {
            return fail(i, format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        self.touched = true;
        match c {
            b'"' => {
                self.text.begin();
                self.token = Token::Str(StrToken {
                    key: false,
                    escape: Escape::None,
                    high: None,
                    trim: Trim::default(),
                });
            }
            b'[' => {
                self.stack.push(Frame::Array(ArrayFrame {
                    id: new_frame_id(),
                    items: PVec::new(),
                    expect: ArrayExpect::ItemOrEnd,
                }));
            }
            b'{' => {
                self.stack.push(Frame::Object(ObjectFrame {
                    id: new_frame_id(),
                    entries: PVec::new(),
                    index: None,
                    rewritten: false,
                    key: None,
                    key_at: None,
                    expect: ObjectExpect::KeyOrEnd,
                }));
            }
            b'-' | b'0'..=b'9' => {
                self.number.clear();
                self.number.push(char::from(c));
                let (state, valid) = match c {
                    b'-' => (NumberState::Minus, 0),
                    b'0' => (NumberState::Zero, 1),
                    _ => (NumberState::Int, 1),
                };
                self.token = Token::Number(NumberToken {
                    state,
                    valid,
                    float: false,
                });
            }
            b't' => {
                self.token = Token::Literal(LiteralToken {
                    word: "true",
                    matched: 1,
                })
            }
            b'f' => {
                self.token = Token::Literal(LiteralToken {
                    word: "false",
                    matched: 1,
                })
            }
            b'n' => {
                self.token = Token::Literal(LiteralToken {
                    word: "null",
                    matched: 1,
                })
            }
            _ => {
                return fail(
                    i,
                    format!("expected a JSON value, found {}", describe(s[i..].chars().next())),
                )
            }
        }
        Ok(i + 1)
    }

    /// A complete value goes to its parent (or becomes the document).
    pub(super) fn value_done(&mut self, v: PartialValue) {
        match self.stack.last_mut() {
            None => {
                self.root = Some(v);
                self.mode = Mode::After { backticks: 0 };
            }
            Some(Frame::Array(a)) => {
                a.items.push(v);
                a.expect = ArrayExpect::CommaOrEnd;
            }
            Some(Frame::Object(o)) => {
                if let Some(key) = o.key.take() {
                    let at = o.key_at.take();
                    o.insert(key, at, v);
                }
                o.expect = ObjectExpect::CommaOrEnd;
            }
        }
    }

    fn close(&mut self, i: usize) -> std::result::Result<usize, Fail> {
        if let Some(frame) = self.stack.pop() {
            self.value_done(frame.into_value());
        }
        Ok(i + 1)
    }
}
