//! The procedural macros of [runwright](https://docs.rs/runwright):
//! `#[tool]`, `#[tool_arg]`, `#[chain_fn]` and `chain!`. Use them through `runwright`
//! (`runwright::tool`, ...), which documents them; the generated code
//! refers to `::runwright` paths.
//!
//! The code is laid out by macro, each in serde_derive's shape (parse, then
//! expand, every error collected in one `Ctxt`):
//!
//! - `attribute/`: `#[tool]` and `#[chain_fn]`: `options.rs` (the
//!   attribute's arguments), `parse.rs` and `docs.rs` (the function and its
//!   doc comment), `check.rs` (the checks of the signature, a pass over what
//!   was parsed), `expand.rs` (the generated constant and impl);
//! - `tool_arg.rs`: `#[tool_arg]` (serde's and schemars' derives, reached
//!   through runwright);
//! - `chain/`: `chain!`: `parse.rs` (the tokens split into steps),
//!   `expand.rs` (the pipeline);
//! - `ctxt.rs`: the errors collected, and the item emitted with them.
//!
//! Set `RUNWRIGHT_MACROS_DEBUG=1` while building to print each expansion to
//! stderr.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attribute;
mod chain;
mod ctxt;
mod tool_arg;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;

use attribute::Kind;

/// Makes a function a tool. See `runwright::tool`.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    let out = attribute::expand(args.into(), item.into(), Kind::Tool);
    debug_print("#[tool]", &out, true);
    out.into()
}

/// Makes a struct or an enum a tool argument type. See `runwright::tool_arg`.
#[proc_macro_attribute]
pub fn tool_arg(args: TokenStream, item: TokenStream) -> TokenStream {
    let out = tool_arg::expand(args.into(), item.into());
    debug_print("#[tool_arg]", &out, true);
    out.into()
}

/// Makes a function taking one input a step. See `runwright::chain_fn`.
#[proc_macro_attribute]
pub fn chain_fn(args: TokenStream, item: TokenStream) -> TokenStream {
    let out = attribute::expand(args.into(), item.into(), Kind::ChainFn);
    debug_print("#[chain_fn]", &out, true);
    out.into()
}

/// Builds a pipeline of steps. See `runwright::chain`.
#[proc_macro]
pub fn chain(input: TokenStream) -> TokenStream {
    let out = chain::chain(input.into());
    debug_print("chain!", &out, false);
    out.into()
}

/// `RUNWRIGHT_MACROS_DEBUG=1`: prints the expansion, formatted when it parses.
fn debug_print(what: &str, out: &TokenStream2, items: bool) {
    if std::env::var_os("RUNWRIGHT_MACROS_DEBUG").is_none_or(|v| v != "1") {
        return;
    }
    let file = if items {
        syn::parse2::<syn::File>(out.clone())
    } else {
        syn::parse2::<syn::File>(quote::quote!(fn __rw_expansion() { let _ = #out; }))
    };
    let text = match file {
        Ok(f) => prettyplease::unparse(&f),
        Err(_) => out.to_string(),
    };
    eprintln!("// runwright-macros: expansion of {what}\n{text}");
}
