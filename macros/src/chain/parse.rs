//! Reading `chain!(a | b | c)`: the tokens split at single `|` into steps
//! (a closure's body ends at the next separating `|`; `||` and `|=` belong to
//! an expression), each an expression, a closure or a map literal
//! `{ "key": steps, ... }`. Every problem is recorded in the [`Ctxt`],
//! spanned at the user's tokens; nothing is generated here.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::{Expr, ExprClosure, LitStr};

use crate::ctxt::Ctxt;

/// Where a step is in the user's code: its first and last tokens.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StepSpan {
    pub(crate) first: Span,
    pub(crate) last: Span,
}

/// One step of `chain!`.
pub(crate) enum Step {
    /// An expression: a runnable, or a function's name.
    Expr(Expr, StepSpan),
    /// A closure; `is_async` when its body is an `async` block.
    Closure(ExprClosure, bool, StepSpan),
    /// A map literal: a `Parallel`.
    Map(MapLit, StepSpan),
}

impl Step {
    pub(crate) fn span(&self) -> StepSpan {
        match self {
            Step::Expr(_, s) | Step::Closure(_, _, s) | Step::Map(_, s) => *s,
        }
    }
}

/// `{ "key": steps, ... }`.
pub(crate) struct MapLit {
    pub(crate) entries: Vec<(LitStr, Vec<Step>)>,
}

fn is_pipe(t: &TokenTree) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == '|')
}

/// Whether the `|` at `i` separates two steps: a lone `|`, not one of `||`
/// or `|=`.
fn is_separator(tokens: &[TokenTree], i: usize) -> bool {
    let TokenTree::Punct(p) = &tokens[i] else { return false };
    if p.as_char() != '|' {
        return false;
    }
    if p.spacing() == proc_macro2::Spacing::Joint {
        if let Some(TokenTree::Punct(next)) = tokens.get(i + 1) {
            if matches!(next.as_char(), '|' | '=') {
                return false;
            }
        }
    }
    true
}

/// The end (exclusive) of an expression starting at `i`: the next
/// separating `|`, skipping `||` and `|=`.
fn expr_end(tokens: &[TokenTree], mut i: usize) -> usize {
    while i < tokens.len() {
        if is_separator(tokens, i) {
            return i;
        }
        if is_pipe(&tokens[i]) {
            i += 2;
        } else {
            i += 1;
        }
    }
    tokens.len()
}

/// The end (exclusive) of a closure starting at `i`, and whether its body
/// is `async`; `None` when no closure starts there.
fn closure_end(tokens: &[TokenTree], i: usize) -> Option<(usize, bool)> {
    let mut j = i;
    if matches!(tokens.get(j), Some(TokenTree::Ident(id)) if id == "move") {
        j += 1;
    }
    let TokenTree::Punct(open) = tokens.get(j)? else {
        return None;
    };
    if open.as_char() != '|' {
        return None;
    }
    // Parameters: up to the closing `|` (`||` means none).
    let mut k = j + 1;
    let empty = open.spacing() == proc_macro2::Spacing::Joint && tokens.get(k).is_some_and(is_pipe);
    if !empty {
        while k < tokens.len() && !is_pipe(&tokens[k]) {
            k += 1;
        }
        if k == tokens.len() {
            return None;
        }
    }
    k += 1;
    // `-> Type { block }`: the body is the block.
    if matches!(tokens.get(k), Some(TokenTree::Punct(p)) if p.as_char() == '-') {
        while k < tokens.len() && !matches!(&tokens[k], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace) {
            k += 1;
        }
        return Some(((k + 1).min(tokens.len()), false));
    }
    let is_async = matches!(tokens.get(k), Some(TokenTree::Ident(id)) if id == "async");
    Some((expr_end(tokens, k), is_async))
}

fn span_of(tokens: &[TokenTree]) -> StepSpan {
    let first = tokens.first().map_or_else(Span::call_site, TokenTree::span);
    let last = tokens.last().map_or(first, TokenTree::span);
    StepSpan { first, last }
}

/// Splits `a | b | c` into steps.
pub(crate) fn parse_steps(cx: &mut Ctxt, input: TokenStream, whole: Span) -> Vec<Step> {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let mut steps = Vec::new();
    if tokens.is_empty() {
        cx.error_at(whole, "`chain!` needs at least one step: `chain!(a | b | c)`");
        return steps;
    }
    let mut i = 0;
    loop {
        let closure = if i < tokens.len() {
            closure_end(&tokens, i)
        } else {
            None
        };
        if closure.is_none() && (i >= tokens.len() || is_separator(&tokens, i)) {
            let at = tokens.get(i.min(tokens.len() - 1)).map_or(whole, TokenTree::span);
            cx.error_at(at, "expected a step: `chain!` steps are separated by single `|`");
            return steps;
        }
        let (end, step) = if let Some((end, is_async)) = closure {
            let part: TokenStream = tokens[i..end].iter().cloned().collect();
            let span = span_of(&tokens[i..end]);
            match syn::parse2::<ExprClosure>(part) {
                Ok(c) => (end, Some(Step::Closure(c, is_async, span))),
                Err(e) => {
                    cx.syn_error(e);
                    (end, None)
                }
            }
        } else if matches!(&tokens[i], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
            && (i + 1 == tokens.len() || is_separator(&tokens, i + 1))
        {
            let TokenTree::Group(g) = &tokens[i] else {
                unreachable!()
            };
            let span = span_of(&tokens[i..=i]);
            (i + 1, parse_map(cx, g.stream(), g.span()).map(|m| Step::Map(m, span)))
        } else {
            let end = expr_end(&tokens, i);
            let part: TokenStream = tokens[i..end].iter().cloned().collect();
            let span = span_of(&tokens[i..end]);
            match syn::parse2::<Expr>(part) {
                Ok(e) => (end, Some(Step::Expr(e, span))),
                Err(e) => {
                    cx.syn_error(e);
                    (end, None)
                }
            }
        };
        steps.extend(step);
        if end >= tokens.len() {
            return steps;
        }
        // tokens[end] is a separator.
        i = end + 1;
    }
}

/// The inside of `{ "key": steps, ... }`.
fn parse_map(cx: &mut Ctxt, input: TokenStream, brace: Span) -> Option<MapLit> {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let mut entries: Vec<(LitStr, Vec<Step>)> = Vec::new();
    let mut ok = true;
    // Entries are separated by top-level commas.
    for part in tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
        if part.is_empty() {
            continue;
        }
        let key = match &part[0] {
            TokenTree::Literal(l) => syn::parse2::<LitStr>(TokenTree::Literal(l.clone()).into()).ok(),
            _ => None,
        };
        let colon = matches!(part.get(1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
        let Some(key) = key.filter(|_| colon) else {
            cx.error_spanned_by(
                part.iter().cloned().collect::<TokenStream>(),
                "a map literal's entries are `\"key\": step`, separated by commas",
            );
            ok = false;
            continue;
        };
        if entries.iter().any(|(k, _)| k.value() == key.value()) {
            cx.error_spanned_by(&key, format!("the key \"{}\" appears twice in this map", key.value()));
            ok = false;
        }
        let value: TokenStream = part[2..].iter().cloned().collect();
        let steps = parse_steps(cx, value, key.span());
        if steps.is_empty() {
            ok = false;
        }
        entries.push((key, steps));
    }
    if entries.is_empty() {
        cx.error_at(brace, "an empty map literal: give it at least one `\"key\": step`");
        return None;
    }
    ok.then_some(MapLit { entries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn kinds(steps: &[Step]) -> Vec<&'static str> {
        steps
            .iter()
            .map(|s| match s {
                Step::Expr(..) => "expr",
                Step::Closure(_, false, _) => "closure",
                Step::Closure(_, true, _) => "async closure",
                Step::Map(..) => "map",
            })
            .collect()
    }

    #[test]
    fn steps_split_at_single_pipes_only() {
        let mut cx = Ctxt::default();
        let steps = parse_steps(
            &mut cx,
            quote!(prompt.clone() | model | |s: String| Ok(s.len()) | move |n| async move { Ok(n || false) } | { "a": x | y, "b": |v| Ok(v) } | last),
            Span::call_site(),
        );
        let errs = errors(cx);
        assert!(errs.is_empty(), "{errs:#?}");
        assert_eq!(
            kinds(&steps),
            ["expr", "expr", "closure", "async closure", "map", "expr"]
        );
        let Step::Map(m, _) = &steps[4] else { panic!("a map") };
        assert_eq!(m.entries[0].0.value(), "a");
        assert_eq!(kinds(&m.entries[0].1), ["expr", "expr"]);
        assert_eq!(kinds(&m.entries[1].1), ["closure"]);
    }

    #[test]
    fn bad_steps_are_reported() {
        let mut cx = Ctxt::default();
        parse_steps(&mut cx, quote!(a | | b), Span::call_site());
        assert!(errors(cx)[0].starts_with("expected a step"));

        let mut cx = Ctxt::default();
        parse_steps(&mut cx, quote!({ "a": x, "a": y, c }), Span::call_site());
        let errs = errors(cx);
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert!(errs[0].contains("appears twice"));
        assert!(errs[1].contains("`\"key\": step`"));
    }
}
