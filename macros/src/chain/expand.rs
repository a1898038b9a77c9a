//! Writing `chain!`: the first step through `start`, each further step
//! appended through `pipe` (or `pipe_fn`/`pipe_async` for a closure, which
//! takes the previous output as is), a map literal as a `Parallel` built
//! branch by branch. Everything is reached through `::runwright::__private`
//! and every identifier introduced starts with `__rw_`. The calls are spanned
//! so that a step that is not a step, or two steps that do not fit,
//! underline the user's steps, not the macro.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};

use syn::{ExprClosure, Pat, Type};

use super::parse::{MapLit, Step, StepSpan};

/// What the input of a sequence or a step is known to be.
#[derive(Clone, Copy)]
enum Input<'a> {
    /// Whatever the steps say (the start of the whole chain).
    Free,
    /// What the map `__rw_map`-like binding named here takes: a branch of a
    /// map literal. With the span of the step before the map, when there is
    /// one: its output is the map's input, and each branch is checked
    /// against it.
    LikeMap(&'a Ident, Option<StepSpan>),
}

/// Whether a closure says its parameter's type (`|n: i64| ...`, not `|n|`
/// nor `|n: _|`): that type is then checked against what the step before
/// gives, as any step's input is. A closure without one takes it as is.
fn is_typed(c: &ExprClosure) -> bool {
    matches!(c.inputs.first(), Some(Pat::Type(t)) if !matches!(*t.ty, Type::Infer(_)))
}

fn map_ident() -> Ident {
    format_ident!("__rw_map")
}

/// `chain!(a | b | c)`.
pub(crate) fn expand_chain(steps: &[Step]) -> TokenStream {
    expand_sequence(steps, Input::Free)
}

fn expand_sequence(steps: &[Step], input: Input<'_>) -> TokenStream {
    let Some((first, rest)) = steps.split_first() else {
        return quote!(());
    };
    if rest.is_empty() {
        return expand_single(first, input);
    }
    let first = expand_single(first, input);
    let mut stmts = vec![quote!(let __rw_seq = ::runwright::__private::start(#first);)];
    for pair in steps.windows(2) {
        stmts.push(expand_joint(&pair[0], &pair[1]));
    }
    quote!({
        #(#stmts)*
        __rw_seq
    })
}

/// A step standing alone (first of a sequence, or the whole chain).
fn expand_single(step: &Step, input: Input<'_>) -> TokenStream {
    match (step, input) {
        (Step::Expr(e, s), _) => quote_spanned!(s.first=> ::runwright::__private::step(#e)),
        (Step::Closure(c, is_async, _), Input::LikeMap(m, prev)) if prev.is_none() || !is_typed(c) => {
            let f = if *is_async {
                quote!(closure_async_like)
            } else {
                quote!(closure_like)
            };
            quote!(::runwright::__private::#f(&#m, #c))
        }
        // A typed closure after a step takes its own type: the joint is
        // checked where the branch joins its map (`branch_fed`).
        (Step::Closure(c, is_async, _), _) => {
            let f = if *is_async {
                quote!(closure_async)
            } else {
                quote!(closure)
            };
            quote!(::runwright::__private::#f(#c))
        }
        (Step::Map(m, _), Input::Free) => expand_map(m, quote!(::runwright::__private::Parallel::new()), None),
        (Step::Map(m, _), Input::LikeMap(outer, prev)) => {
            expand_map(m, quote!(::runwright::__private::map_like(&#outer)), prev)
        }
    }
}

/// Parentheses spanned at `span`: with a callee spanned at the previous
/// step, a type error in the call covers both steps.
fn parens_at(span: Span, inner: TokenStream) -> Group {
    let mut g = Group::new(Delimiter::Parenthesis, inner);
    g.set_span(span);
    g
}

/// `expr` as an expression whose span runs from `from` to `to`
/// (`identity(expr)` with the path at `from` and the parentheses at `to`):
/// rustc blames a failed bound on this argument, and underlines both steps.
fn joint_span(from: Span, to: Span, expr: TokenStream) -> TokenStream {
    let identity = quote_spanned!(from=> ::core::convert::identity);
    let args = parens_at(to, expr);
    quote!(#identity #args)
}

/// `prev | next`: appends `next` to `__rw_seq`.
fn expand_joint(prev: &Step, next: &Step) -> TokenStream {
    let StepSpan { first: prev_first, .. } = prev.span();
    let StepSpan {
        first: next_first,
        last: next_last,
    } = next.span();
    // After a map literal the joint's message names the map's output
    // (`pipe_map`); a typed closure then becomes a step of its own.
    let after_map = matches!(prev, Step::Map(..));
    match next {
        Step::Closure(c, is_async, _) if after_map && is_typed(c) => {
            let f = if *is_async {
                quote!(closure_async)
            } else {
                quote!(closure)
            };
            let pipe = quote_spanned!(prev_first=> ::runwright::__private::pipe_map);
            let seq = joint_span(prev_first, next_last, quote!(__rw_seq));
            let closure = quote_spanned!(next_first=> ::runwright::__private::#f);
            let closure_args = parens_at(next_last, c.to_token_stream());
            let args = parens_at(next_last, quote!(#seq, #closure #closure_args));
            quote!(let __rw_seq = #pipe #args;)
        }
        Step::Expr(e, _) => {
            let pipe = if after_map {
                quote_spanned!(prev_first=> ::runwright::__private::pipe_map)
            } else {
                quote_spanned!(prev_first=> ::runwright::__private::pipe)
            };
            let seq = joint_span(prev_first, next_last, quote!(__rw_seq));
            let step = quote_spanned!(next_first=> ::runwright::__private::step);
            let step_args = parens_at(next_last, e.to_token_stream());
            let args = parens_at(next_last, quote!(#seq, #step #step_args));
            quote!(let __rw_seq = #pipe #args;)
        }
        Step::Closure(c, is_async, _) if is_typed(c) => {
            let f = if *is_async {
                quote!(pipe_async_typed)
            } else {
                quote!(pipe_fn_typed)
            };
            let pipe = quote_spanned!(prev_first=> ::runwright::__private::#f);
            let seq = joint_span(prev_first, next_last, quote!(__rw_seq));
            let args = parens_at(next_last, quote!(#seq, #c));
            quote!(let __rw_seq = #pipe #args;)
        }
        Step::Closure(c, is_async, _) => {
            let f = if *is_async { quote!(pipe_async) } else { quote!(pipe_fn) };
            quote!(let __rw_seq = ::runwright::__private::#f(__rw_seq, #c);)
        }
        Step::Map(m, _) => {
            let map = expand_map(
                m,
                quote!(::runwright::__private::map_after(&__rw_seq)),
                Some(prev.span()),
            );
            let pipe = quote_spanned!(prev_first=> ::runwright::__private::pipe);
            let seq = joint_span(prev_first, next_last, quote!(__rw_seq));
            let args = parens_at(next_last, quote!(#seq, __rw_next));
            quote! {
                let __rw_next = #map;
                let __rw_seq = #pipe #args;
            }
        }
    }
}

/// `{ "key": steps, ... }` on the empty map `base`. After a step (`prev`),
/// each branch is checked against that step's output, spanned from the step
/// to the branch; a map that starts a chain takes what its branches take.
fn expand_map(m: &MapLit, base: TokenStream, prev: Option<StepSpan>) -> TokenStream {
    let map = map_ident();
    let stmts = m.entries.iter().map(|(key, steps)| {
        let last = steps.last().map_or_else(|| key.span(), |s| s.span().last);
        match (steps.as_slice(), prev) {
            ([Step::Closure(c, is_async, _)], _) if prev.is_none() || !is_typed(c) => {
                let f = if *is_async {
                    quote!(branch_async)
                } else {
                    quote!(branch_fn)
                };
                quote!(let #map = ::runwright::__private::#f(#map, #key, #c);)
            }
            ([Step::Expr(e, s)], None) => {
                let branch = quote_spanned!(s.first=> ::runwright::__private::branch);
                let args = parens_at(s.last, quote!(#map, #key, ::runwright::__private::step(#e)));
                quote!(let #map = #branch #args;)
            }
            (steps, None) => {
                let value = expand_sequence(steps, Input::LikeMap(&map, None));
                quote! {
                    let __rw_branch = #value;
                    let #map = ::runwright::__private::branch(#map, #key, __rw_branch);
                }
            }
            (steps, Some(p)) => {
                let value = expand_sequence(steps, Input::LikeMap(&map, Some(p)));
                let branch = quote_spanned!(p.first=> ::runwright::__private::branch_fed);
                let fed = joint_span(p.first, last, quote!(__rw_branch));
                let args = parens_at(last, quote!(#map, #key, #fed));
                quote! {
                    let __rw_branch = #value;
                    let #map = #branch #args;
                }
            }
        }
    });
    quote!({
        let #map = #base;
        #(#stmts)*
        #map
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::parse::parse_steps;
    use crate::ctxt::Ctxt;

    #[test]
    fn chain_expands_to_checked_joints() {
        let mut cx = Ctxt::default();
        let steps = parse_steps(&mut cx, quote!(a | |s| Ok(s) | { "k": b }), Span::call_site());
        let out = expand_chain(&steps).to_string();
        assert!(
            out.contains("let __rw_seq = :: runwright :: __private :: start (:: runwright :: __private :: step (a)) ;"),
            "{out}"
        );
        assert!(out.contains("pipe_fn (__rw_seq , | s | Ok (s))"), "{out}");
        assert!(out.contains("map_after (& __rw_seq)"), "{out}");
        assert!(
            out.contains("let __rw_branch = :: runwright :: __private :: step (b) ;"),
            "{out}"
        );
        assert!(
            out.contains("branch_fed (__rw_map , \"k\" , :: core :: convert :: identity (__rw_branch))"),
            "{out}"
        );
        assert!(
            out.contains("pipe (:: core :: convert :: identity (__rw_seq) , __rw_next)"),
            "{out}"
        );
    }

    #[test]
    fn a_single_step_is_that_step() {
        let mut cx = Ctxt::default();
        let steps = parse_steps(&mut cx, quote!(model), Span::call_site());
        assert_eq!(
            expand_chain(&steps).to_string(),
            ":: runwright :: __private :: step (model)"
        );
    }
}
