//! The token being read inside the JSON value (a string, a number or a
//! literal), how much of it is shown while incomplete, and the parser's
//! methods that read each kind of token.

use super::frame::{Frame, ObjectExpect};
use super::parser::{describe, fail, Fail, JsonStreamParser, Mode};
use super::text::Text;
use super::value::{Node, PartialValue};
use crate::python::partial_json::{is_markdown_strip, number_value, py_isspace, simple_escape};

pub(super) enum Token {
    None,
    Str(StrToken),
    Number(NumberToken),
    Literal(LiteralToken),
}

pub(super) struct StrToken {
    pub(super) key: bool,
    pub(super) escape: Escape,
    /// A decoded high surrogate waiting for its low half.
    pub(super) high: Option<u32>,
    pub(super) trim: Trim,
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Escape {
    None,
    Backslash,
    Unicode { digits: u8, code: u32 },
}

/// How many bytes at the end of the open string LangChain's stripping of the
/// whole text would remove: `str.strip()` (Python white space, `r1`), then
/// `strip(" \n\r\t`")` (`r2`). `run` is the length of the trailing run of
/// `" \n\r\t`"` characters.
#[derive(Clone, Copy, Default)]
pub(super) struct Trim {
    r1: usize,
    r2: usize,
    run: usize,
}

impl Trim {
    #[inline]
    fn total(self) -> usize {
        self.r1 + self.r2
    }

    fn step(&mut self, c: char) {
        let n = c.len_utf8();
        if py_isspace(c) {
            if self.r1 == 0 {
                self.r2 = self.run;
            }
            self.r1 += n;
            self.run = if is_markdown_strip(c) { self.run + n } else { 0 };
        } else if c == '`' {
            self.r1 = 0;
            self.run += n;
            self.r2 = self.run;
        } else {
            *self = Trim::default();
        }
    }

    /// Steps over `s`, looking only at its trailing run of strippable characters.
    #[inline]
    fn extend(&mut self, s: &str) {
        let strippable = |c: char| c == '`' || py_isspace(c);
        let keep = s.trim_end_matches(strippable).len();
        if keep > 0 {
            *self = Trim::default();
        }
        for c in s[keep..].chars() {
            self.step(c);
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum NumberState {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

pub(super) struct NumberToken {
    pub(super) state: NumberState,
    /// Length of the longest valid prefix, and whether it is a float.
    pub(super) valid: usize,
    pub(super) float: bool,
}

pub(super) struct LiteralToken {
    pub(super) word: &'static str,
    pub(super) matched: usize,
}

impl JsonStreamParser {
    /// The token being read, as shown while incomplete (`None` when hidden).
    pub(super) fn token_shown(&self) -> Option<PartialValue> {
        match &self.token {
            Token::Str(s) if !s.key => {
                if let Escape::Unicode { .. } = s.escape {
                    return None;
                }
                if s.high.is_some() {
                    let mut owned = self.text.content().to_owned();
                    owned.push(char::REPLACEMENT_CHARACTER);
                    return Some(PartialValue::string(Text::new(&owned)));
                }
                Some(PartialValue::string(
                    self.text.view(self.text.open_len() - s.trim.total()),
                ))
            }
            Token::Number(n) if n.valid > 0 => {
                number_value(&self.number[..n.valid], n.float).map(|n| PartialValue(Node::Number(n)))
            }
            _ => None,
        }
    }

    pub(super) fn string(&mut self, s: &str, mut i: usize) -> std::result::Result<usize, Fail> {
        let b = s.as_bytes();
        let Token::Str(tok) = &mut self.token else { return Ok(i) };
        if !tok.key {
            self.touched = true;
        }
        loop {
            if i >= b.len() {
                return Ok(i);
            }
            match tok.escape {
                Escape::Backslash => {
                    if b[i] == b'u' {
                        tok.escape = Escape::Unicode { digits: 0, code: 0 };
                    } else if let Some(c) = simple_escape(b[i]) {
                        if tok.high.take().is_some() {
                            self.text.push_char(char::REPLACEMENT_CHARACTER);
                        }
                        self.text.push_char(c);
                        tok.escape = Escape::None;
                    } else {
                        return fail(
                            i,
                            format!(
                                "invalid escape '\\{}' in a string",
                                s[i..].chars().next().unwrap_or(' ')
                            ),
                        );
                    }
                    i += 1;
                }
                Escape::Unicode { digits, code } => {
                    let Some(d) = char::from(b[i]).to_digit(16) else {
                        return fail(
                            i,
                            format!(
                                "invalid \\u escape: expected a hex digit, found {}",
                                describe(s[i..].chars().next())
                            ),
                        );
                    };
                    let code = code * 16 + d;
                    i += 1;
                    if digits < 3 {
                        tok.escape = Escape::Unicode {
                            digits: digits + 1,
                            code,
                        };
                        continue;
                    }
                    tok.escape = Escape::None;
                    if let Some(high) = tok.high.take() {
                        if (0xdc00..0xe000).contains(&code) {
                            let joined = 0x10000 + ((high - 0xd800) << 10) + (code - 0xdc00);
                            self.text
                                .push_char(char::from_u32(joined).unwrap_or(char::REPLACEMENT_CHARACTER));
                            continue;
                        }
                        self.text.push_char(char::REPLACEMENT_CHARACTER);
                    }
                    if (0xd800..0xdc00).contains(&code) {
                        tok.high = Some(code);
                    } else {
                        self.text
                            .push_char(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                }
                Escape::None => {
                    let end = memchr::memchr2(b'"', b'\\', &b[i..]).map_or(b.len(), |n| i + n);
                    if end > i {
                        if tok.high.take().is_some() {
                            self.text.push_char(char::REPLACEMENT_CHARACTER);
                        }
                        self.text.push(&s[i..end]);
                        tok.trim.extend(&s[i..end]);
                    }
                    i = end;
                    if i >= b.len() {
                        return Ok(i);
                    }
                    tok.trim = Trim::default();
                    if b[i] == b'\\' {
                        tok.escape = Escape::Backslash;
                        i += 1;
                        continue;
                    }
                    if tok.high.take().is_some() {
                        self.text.push_char(char::REPLACEMENT_CHARACTER);
                    }
                    let key = tok.key;
                    let text = self.text.view(self.text.open_len());
                    self.token = Token::None;
                    if key {
                        if let Some(Frame::Object(o)) = self.stack.last_mut() {
                            o.key_at = o.position(text.as_str());
                            o.key = Some(text);
                            o.expect = ObjectExpect::Colon;
                        }
                    } else {
                        self.value_done(PartialValue::string(text));
                    }
                    return Ok(i + 1);
                }
            }
        }
    }

    pub(super) fn number(&mut self, s: &str, mut i: usize) -> std::result::Result<usize, Fail> {
        let b = s.as_bytes();
        let Token::Number(tok) = &mut self.token else {
            return Ok(i);
        };
        let start = i;
        while i < b.len() {
            use NumberState::*;
            let c = b[i];
            let next = match (tok.state, c) {
                (Minus, b'0') => Zero,
                (Minus, b'1'..=b'9') | (Int, b'0'..=b'9') => Int,
                (Zero | Int, b'.') => Dot,
                (Dot | Frac, b'0'..=b'9') => Frac,
                (Zero | Int | Frac, b'e' | b'E') => Exp,
                (Exp, b'+' | b'-') => ExpSign,
                (Exp | ExpSign | ExpDigits, b'0'..=b'9') => ExpDigits,
                _ => break,
            };
            tok.state = next;
            i += 1;
            if matches!(next, Zero | Int | Frac | ExpDigits) {
                tok.valid = self.number.len() + (i - start);
                tok.float = matches!(next, Frac | ExpDigits);
                self.touched = true;
            }
        }
        self.number.push_str(&s[start..i]);
        if i < b.len() {
            self.end_number(i)?;
        }
        Ok(i)
    }

    pub(super) fn end_number(&mut self, at: usize) -> std::result::Result<(), Fail> {
        let Token::Number(tok) = &self.token else { return Ok(()) };
        if tok.valid != self.number.len() {
            return fail(at, format!("incomplete number '{}'", self.number));
        }
        let Some(n) = number_value(&self.number, tok.float) else {
            return fail(at, format!("number '{}' is out of range", self.number));
        };
        self.token = Token::None;
        self.value_done(PartialValue(Node::Number(n)));
        Ok(())
    }

    pub(super) fn literal(&mut self, s: &str, mut i: usize) -> std::result::Result<usize, Fail> {
        let b = s.as_bytes();
        let Token::Literal(tok) = &mut self.token else {
            return Ok(i);
        };
        while i < b.len() && tok.matched < tok.word.len() {
            if b[i] != tok.word.as_bytes()[tok.matched] {
                if self.stack.is_empty() && !self.fenced {
                    // Text that merely starts like `true`/`false`/`null`: as
                    // LangChain, look for a fence further on.
                    self.token = Token::None;
                    self.mode = Mode::Prose { backticks: 0 };
                    return Ok(i);
                }
                return fail(
                    i,
                    format!(
                        "invalid literal: expected `{}`, found {}",
                        tok.word,
                        describe(s[i..].chars().next())
                    ),
                );
            }
            tok.matched += 1;
            i += 1;
        }
        if tok.matched == tok.word.len() {
            let v = match tok.word {
                "true" => Node::Bool(true),
                "false" => Node::Bool(false),
                _ => Node::Null,
            };
            self.token = Token::None;
            self.touched = true;
            self.value_done(PartialValue(v));
        }
        Ok(i)
    }
}
