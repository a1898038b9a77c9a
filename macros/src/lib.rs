//! The procedural macros of [runwright](https://docs.rs/runwright):
//! `#[tool]`, `#[chain_fn]` and `chain!`. Use them through `runwright`
//! (`runwright::tool`, ...), which documents them; the generated code
//! refers to `::runwright` paths.
//!
//! Set `RUNWRIGHT_MACROS_DEBUG=1` while building to print each expansion to
//! stderr.

#![warn(missing_docs)]

mod ctxt;
mod expand;
mod parse;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;

use ctxt::Ctxt;
use parse::Kind;

/// Makes a function a tool. See `runwright::tool`.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute(args.into(), item.into(), Kind::Tool).into()
}

/// Makes a function taking one input a step. See `runwright::chain_fn`.
#[proc_macro_attribute]
pub fn chain_fn(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute(args.into(), item.into(), Kind::ChainFn).into()
}

/// Builds a pipeline of steps. See `runwright::chain`.
#[proc_macro]
pub fn chain(input: TokenStream) -> TokenStream {
    let input = TokenStream2::from(input);
    let mut cx = Ctxt::default();
    let steps = parse::parse_steps(&mut cx, input, proc_macro2::Span::call_site());
    let out = match cx.check() {
        Ok(()) => expand::expand_chain(&steps),
        Err(e) => e.to_compile_error(),
    };
    debug_print("chain!", &out, false);
    out.into()
}

fn attribute(args: TokenStream2, item: TokenStream2, kind: Kind) -> TokenStream2 {
    let parsed = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let what = match kind {
                Kind::Tool => "#[tool]",
                Kind::ChainFn => "#[chain_fn]",
            };
            let e = syn::Error::new(e.span(), format!("`{what}` goes on a function: {e}"));
            return ctxt::with_item(item, &e);
        }
    };
    let mut cx = Ctxt::default();
    let opts = parse::parse_options(&mut cx, args, kind);
    let out = match kind {
        Kind::Tool => parse::parse_tool(&mut cx, opts, parsed).map(|d| expand::expand_tool(&d)),
        Kind::ChainFn => parse::parse_chain_fn(&mut cx, opts, parsed).map(|d| expand::expand_chain_fn(&d)),
    };
    let out = match (cx.check(), out) {
        (Ok(()), Some(out)) => out,
        (Err(e), _) => ctxt::with_item(item, &e),
        (Ok(()), None) => item,
    };
    debug_print(if kind == Kind::Tool { "#[tool]" } else { "#[chain_fn]" }, &out, true);
    out
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
