//! The arguments of `#[tool(...)]` and `#[chain_fn(...)]`: `name = "..."`
//! for both; `description = "..."`, `handle_errors` and
//! `handle_errors = path::to::fn` for a tool. An unknown, malformed or
//! repeated option is recorded in the [`Ctxt`], spanned at the option.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Meta, Token};

use super::Kind;
use crate::ctxt::Ctxt;

/// How a tool handles its errors.
#[derive(Debug)]
pub(crate) enum HandleErrors {
    /// `handle_errors`: the error's message becomes the output.
    Message,
    /// `handle_errors = path`: the function at `path` makes the text.
    With(syn::Path),
}

/// The options of `#[tool(...)]` or `#[chain_fn(...)]`.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pub(crate) name: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) handle_errors: Option<HandleErrors>,
}

/// The options `kind` takes, for messages.
fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Tool => "`name = \"...\"`, `description = \"...\"`, `handle_errors` or `handle_errors = path::to::fn`",
        Kind::ChainFn => "`name = \"...\"`",
    }
}

fn set_once<T>(cx: &mut Ctxt, slot: &mut Option<T>, value: T, key: &Ident, kind: Kind) {
    if slot.is_some() {
        cx.error_spanned_by(key, format!("`{key}` is given twice in `{}`", kind.attr()));
    } else {
        *slot = Some(value);
    }
}

fn lit_str(cx: &mut Ctxt, key: &Ident, value: &Expr) -> Option<LitStr> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s), ..
        }) => Some(s.clone()),
        other => {
            cx.error_spanned_by(other, format!("`{key}` takes a string literal: `{key} = \"...\"`"));
            None
        }
    }
}

/// Reads the attribute's arguments.
pub(crate) fn parse_options(cx: &mut Ctxt, args: TokenStream, kind: Kind) -> Options {
    let mut opts = Options::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(m) => m,
        Err(e) => {
            cx.syn_error(e);
            return opts;
        }
    };
    for meta in metas {
        let Some(key) = meta.path().get_ident().cloned() else {
            cx.error_spanned_by(
                meta.path(),
                format!("unknown `{}` option; expected {}", kind.attr(), expected(kind)),
            );
            continue;
        };
        match (key.to_string().as_str(), &meta, kind) {
            ("name", Meta::NameValue(nv), _) => {
                if let Some(s) = lit_str(cx, &key, &nv.value) {
                    if s.value().is_empty() {
                        cx.error_spanned_by(&s, "a name cannot be empty");
                    }
                    set_once(cx, &mut opts.name, s, &key, kind);
                }
            }
            ("description", Meta::NameValue(nv), Kind::Tool) => {
                if let Some(s) = lit_str(cx, &key, &nv.value) {
                    set_once(cx, &mut opts.description, s, &key, kind);
                }
            }
            ("handle_errors", Meta::Path(_), Kind::Tool) => {
                set_once(cx, &mut opts.handle_errors, HandleErrors::Message, &key, kind);
            }
            ("handle_errors", Meta::NameValue(nv), Kind::Tool) => match &nv.value {
                Expr::Path(p) => set_once(
                    cx,
                    &mut opts.handle_errors,
                    HandleErrors::With(p.path.clone()),
                    &key,
                    kind,
                ),
                other => cx.error_spanned_by(
                    other,
                    "`handle_errors` takes the path of a function `fn(&runwright::Error) -> String`",
                ),
            },
            ("name" | "description" | "handle_errors", _, Kind::Tool) | ("name", _, Kind::ChainFn) => {
                cx.error_spanned_by(&meta, format!("malformed `{key}` option; expected {}", expected(kind)));
            }
            _ => cx.error_spanned_by(
                &key,
                format!("unknown `{}` option `{key}`; expected {}", kind.attr(), expected(kind)),
            ),
        }
    }
    opts
}
