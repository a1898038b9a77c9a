//! `chain!(a | b | c)`: [`parse`] splits the tokens into steps (an
//! expression, a closure or a map literal, told apart by syntax) and records
//! every problem in the [`Ctxt`]; [`expand`] writes the pipeline. What else
//! can be wrong with a chain is its types, which rustc reports at the spans
//! `expand` gives: the step, or the two steps that do not fit.

mod expand;
mod parse;

use proc_macro2::{Span, TokenStream};

use crate::ctxt::Ctxt;

/// `chain!(...)`: the pipeline, or every error.
pub(crate) fn chain(input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let steps = parse::parse_steps(&mut cx, input, Span::call_site());
    match cx.check() {
        Ok(()) => expand::expand_chain(&steps),
        Err(e) => e.to_compile_error(),
    }
}
