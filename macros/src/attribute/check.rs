//! The checks of a `#[tool]` or `#[chain_fn]` function, a pass over what
//! [`parse`](super::parse) read (serde_derive's `internals/check.rs`): what
//! the signature may not be (generic, a method, variadic, `unsafe`), the
//! types of the arguments and of the output, a tool's description and the
//! arguments its doc comment names. Each problem is recorded in the
//! [`Ctxt`], spanned at the user's tokens, in the order of the signature;
//! a check never stops the others.

use syn::{FnArg, ItemFn, Type};

use super::parse::{is_named, ChainFnDef, ParamKind, Ret, ToolDef};
use super::Kind;
use crate::ctxt::Ctxt;

/// Records every problem with a `#[tool]` function.
pub(crate) fn check_tool(cx: &mut Ctxt, def: &ToolDef) {
    check_signature(cx, &def.item, Kind::Tool);
    check_described(cx, def);
    check_params(cx, def);
    check_doc_args(cx, def);
    check_ret(cx, &def.ret);
}

/// Records every problem with a `#[chain_fn]` function.
pub(crate) fn check_chain_fn(cx: &mut Ctxt, def: &ChainFnDef) {
    check_signature(cx, &def.item, Kind::ChainFn);
    let Some(input) = &def.input else {
        check_arity(cx, &def.item);
        return;
    };
    if let Type::Reference(_) | Type::ImplTrait(_) = input {
        cx.error_spanned_by(
            input,
            "the input of a `#[chain_fn]` function must be an owned, concrete type",
        );
    }
    check_ret(cx, &def.ret);
}

/// What neither attribute accepts: generics, a receiver, variadics, `unsafe`.
fn check_signature(cx: &mut Ctxt, item: &ItemFn, kind: Kind) {
    let sig = &item.sig;
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let why = match kind {
            Kind::Tool => "its JSON schema needs concrete argument types",
            Kind::ChainFn => "it becomes one runnable, with concrete input and output types",
        };
        cx.error_spanned_by(
            &sig.generics,
            format!("a `{}` function cannot be generic: {why}", kind.attr()),
        );
    }
    if let Some(FnArg::Receiver(r)) = sig.inputs.first() {
        cx.error_spanned_by(r, format!("`{}` goes on a free function, not a method", kind.attr()));
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, format!("a `{}` function cannot be variadic", kind.attr()));
    }
    if let Some(u) = &sig.unsafety {
        cx.error_spanned_by(u, format!("a `{}` function cannot be `unsafe`", kind.attr()));
    }
}

/// A tool needs a description: the model reads it to choose the tool.
fn check_described(cx: &mut Ctxt, def: &ToolDef) {
    if !def.described {
        cx.error_spanned_by(
            &def.item.sig.ident,
            "a tool needs a description, which the model reads to choose it: add a doc comment \
             (`/// What the tool does.`) or `#[tool(description = \"...\")]`",
        );
    }
}

/// Each argument is a plain name (the JSON property) of an owned, concrete
/// type (deserialized from JSON, with a schema); the run context is shared.
fn check_params(cx: &mut Ctxt, def: &ToolDef) {
    for p in &def.params {
        if p.ident.is_none() {
            cx.error_spanned_by(
                &p.pat,
                "a tool argument must be a plain name (`city: String`): it names the JSON property",
            );
            continue;
        }
        match (&p.kind, &p.ty) {
            (ParamKind::ContextRef, Type::Reference(r)) if r.mutability.is_some() => {
                cx.error_spanned_by(
                    &p.ty,
                    "the run context is shared: take `&RunContext`, not `&mut RunContext`",
                );
            }
            (ParamKind::Arg, Type::Reference(r)) => {
                let hint = if is_named(&r.elem, "str") {
                    " (`String`, not `&str`)"
                } else {
                    ""
                };
                cx.error_spanned_by(
                    &p.ty,
                    format!("a tool argument must be an owned type{hint}: it is deserialized from the call's JSON"),
                );
            }
            (ParamKind::Arg, Type::ImplTrait(_)) => {
                cx.error_spanned_by(
                    &p.ty,
                    "a tool argument needs a concrete type: its JSON schema is derived from it",
                );
            }
            _ => {}
        }
    }
}

/// The doc comment describes only arguments the tool takes: a misspelled
/// name would leave the argument undescribed.
fn check_doc_args(cx: &mut Ctxt, def: &ToolDef) {
    for (name, _, span) in &def.doc_args {
        let known = def.params.iter().any(|p| {
            p.kind == ParamKind::Arg
                && p.ident
                    .as_ref()
                    .is_some_and(|i| i.to_string().trim_start_matches("r#") == name)
        });
        if !known {
            cx.error_at(
                *span,
                format!(
                    "the doc comment describes `{name}`, which is not an argument of `{}`",
                    def.item.sig.ident
                ),
            );
        }
    }
}

/// A `#[chain_fn]` function takes exactly one argument, its input.
fn check_arity(cx: &mut Ctxt, item: &ItemFn) {
    let typed = item.sig.inputs.iter().filter(|i| matches!(i, FnArg::Typed(_))).count();
    let at = if typed == 0 {
        quote::ToTokens::to_token_stream(&item.sig.ident)
    } else {
        quote::ToTokens::to_token_stream(&item.sig.inputs)
    };
    cx.error_spanned_by(
        at,
        format!(
            "a `#[chain_fn]` function takes exactly one argument, its input; `{}` takes {typed}",
            item.sig.ident
        ),
    );
}

/// The output is cloned and serialized: it needs a concrete type.
fn check_ret(cx: &mut Ctxt, ret: &Ret) {
    if let Ret::Plain(ty @ Type::ImplTrait(_)) = ret {
        cx.error_spanned_by(ty, "return a concrete type: the output must be cloned and serialized");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::options::{parse_options, Options};
    use crate::attribute::parse::{parse_chain_fn, parse_tool};
    use crate::attribute::test_util::{errors, item};
    use quote::quote;

    #[test]
    fn every_tool_problem_is_reported_together() {
        let mut cx = Ctxt::default();
        let opts = parse_options(&mut cx, quote!(name = "x", bogus, name = "y"), Kind::Tool);
        let f = item(quote! {
            /// * `nope` - not an argument
            fn t<T>(s: &str, (a, b): (i32, i32)) {}
        });
        check_tool(&mut cx, &parse_tool(opts, f));
        let errs = errors(cx);
        assert_eq!(errs.len(), 6, "{errs:#?}");
        assert!(errs[0].starts_with("unknown `#[tool]` option `bogus`"), "{errs:#?}");
        assert!(errs[1].contains("`name` is given twice"), "{errs:#?}");
        assert!(errs.iter().any(|e| e.contains("cannot be generic")));
        assert!(errs.iter().any(|e| e.contains("owned type (`String`, not `&str`)")));
        assert!(errs.iter().any(|e| e.contains("plain name")));
        assert!(errs.iter().any(|e| e.contains("describes `nope`")));
    }

    #[test]
    fn a_tool_without_doc_comment_or_description_is_an_error() {
        let mut cx = Ctxt::default();
        check_tool(
            &mut cx,
            &parse_tool(
                Options::default(),
                item(quote!(
                    fn t(a: i32) {}
                )),
            ),
        );
        assert!(errors(cx)[0].starts_with("a tool needs a description"));

        let mut cx = Ctxt::default();
        let opts = parse_options(&mut cx, quote!(description = "Adds."), Kind::Tool);
        let def = parse_tool(
            opts,
            item(quote!(
                fn t(a: i32) {}
            )),
        );
        check_tool(&mut cx, &def);
        assert!(errors(cx).is_empty());
        assert_eq!(def.description, "Adds.");
    }

    #[test]
    fn chain_fn_takes_one_input() {
        let mut cx = Ctxt::default();
        let def = parse_chain_fn(
            Options::default(),
            item(quote!(
                async fn f(a: i32, b: i32) -> i32 {
                    a
                }
            )),
        );
        check_chain_fn(&mut cx, &def);
        assert!(def.input.is_none());
        assert!(errors(cx)[0].contains("exactly one argument"));
    }
}
