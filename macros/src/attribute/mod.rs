//! `#[tool]` and `#[chain_fn]`: a function in, a constant out. Both go
//! through the same passes, serde_derive's:
//!
//! 1. [`options`] reads the attribute's arguments (`name = "..."`, ...);
//! 2. [`parse`] reads the function into a [`ToolDef`](parse::ToolDef) or a
//!    [`ChainFnDef`](parse::ChainFnDef): its parameters, what it returns,
//!    its doc comment ([`docs`]);
//! 3. [`check`] goes over what was read and records every problem with the
//!    signature (generics, receivers, argument and return types, a missing
//!    description, ...);
//! 4. [`expand`](mod@expand) writes the code, when no pass found anything wrong.
//!
//! Every problem is collected in one [`Ctxt`], spanned at the user's tokens.
//! On errors the item is emitted as written, with one `compile_error!` per
//! error.

mod check;
mod docs;
mod expand;
mod options;
mod parse;

use proc_macro2::TokenStream;
use syn::ItemFn;

use crate::ctxt::{self, Ctxt};

/// Which attribute.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Tool,
    ChainFn,
}

impl Kind {
    /// How the user writes it, for messages.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Kind::Tool => "#[tool]",
            Kind::ChainFn => "#[chain_fn]",
        }
    }
}

/// The attribute `kind` with its arguments `args` on `item`: the generated
/// items, or `item` as written with every error.
pub(crate) fn expand(args: TokenStream, item: TokenStream, kind: Kind) -> TokenStream {
    let func = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let e = syn::Error::new(e.span(), format!("`{}` goes on a function: {e}", kind.attr()));
            return ctxt::with_item(item, &e);
        }
    };
    let mut cx = Ctxt::default();
    let opts = options::parse_options(&mut cx, args, kind);
    let out = match kind {
        Kind::Tool => {
            let def = parse::parse_tool(opts, func);
            check::check_tool(&mut cx, &def);
            cx.check().map(|()| expand::expand_tool(&def))
        }
        Kind::ChainFn => {
            let def = parse::parse_chain_fn(opts, func);
            check::check_chain_fn(&mut cx, &def);
            cx.check().map(|()| expand::expand_chain_fn(&def))
        }
    };
    out.unwrap_or_else(|e| ctxt::with_item(item, &e))
}

#[cfg(test)]
mod test_util {
    use proc_macro2::TokenStream;
    use syn::ItemFn;

    use crate::ctxt::Ctxt;

    pub(super) fn item(tokens: TokenStream) -> ItemFn {
        syn::parse2(tokens).expect("an fn item")
    }

    pub(super) fn errors(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }
}
