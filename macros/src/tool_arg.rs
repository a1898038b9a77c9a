//! `#[tool_arg]`: a struct or an enum made a tool argument type, by serde's
//! `Deserialize` and schemars' `JsonSchema` derives reached through
//! runwright, so a crate that depends on runwright alone can use them.
//!
//! A derive cannot add other derives to its item, so this is an attribute:
//! it puts `#[derive(Deserialize, JsonSchema)]` and the two derives'
//! `crate = "..."` attributes (which point them at runwright's copies of
//! serde and schemars) above the item, and leaves the item as written, its
//! own `#[serde(...)]` and `#[schemars(...)]` attributes included.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Path, Token};

use crate::ctxt::{self, Ctxt};

/// The derives `#[tool_arg]` adds, by the name users write them.
const DERIVED: [&str; 2] = ["Deserialize", "JsonSchema"];

/// `#[tool_arg]` with its arguments `args` on `item`: the item with the
/// derives, or as written with every error.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(item.clone()) {
        Ok(input) => input,
        Err(e) => {
            let e = syn::Error::new(e.span(), "`#[tool_arg]` goes on a struct or an enum");
            return ctxt::with_item(item, &e);
        }
    };
    let mut cx = Ctxt::default();
    check(&mut cx, &args, &input);
    match cx.check() {
        Ok(()) => quote! {
            #[derive(::runwright::__private::serde::Deserialize, ::runwright::__private::schemars::JsonSchema)]
            #[serde(crate = "::runwright::__private::serde")]
            #[schemars(crate = "::runwright::__private::schemars")]
            #item
        },
        Err(e) => ctxt::with_item(item, &e),
    }
}

/// Records every problem: arguments given, a union, and a derive of its own
/// of what `#[tool_arg]` derives (two impls of one trait).
fn check(cx: &mut Ctxt, args: &TokenStream, input: &DeriveInput) {
    if !args.is_empty() {
        cx.error_spanned_by(
            args,
            "`#[tool_arg]` takes no arguments; put serde's and schemars' attributes \
             (`#[serde(rename_all = \"...\")]`, `#[schemars(...)]`) on the item and its fields",
        );
    }
    if let Data::Union(u) = &input.data {
        cx.error_spanned_by(
            u.union_token,
            "`#[tool_arg]` goes on a struct or an enum: serde cannot deserialize a union",
        );
    }
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let paths = match attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated) {
            Ok(paths) => paths,
            // rustc reports a malformed derive itself.
            Err(_) => continue,
        };
        for path in paths {
            let Some(last) = path.segments.last() else { continue };
            let name = last.ident.to_string();
            if DERIVED.contains(&name.as_str()) {
                cx.error_spanned_by(
                    &path,
                    format!(
                        "`#[tool_arg]` derives `{name}` itself (through runwright, so no `serde` or `schemars` \
                         dependency is needed): remove it from this `#[derive]`"
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        let input: DeriveInput = syn::parse2(item).expect("a struct, an enum or a union");
        let mut cx = Ctxt::default();
        check(&mut cx, &args, &input);
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn a_plain_struct_or_enum_passes() {
        let item = quote! {
            #[derive(Debug, Clone, serde::Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Address { street: String }
        };
        assert!(errors(quote!(), item).is_empty());
        assert!(errors(
            quote!(),
            quote!(
                enum Unit {
                    Celsius,
                    Fahrenheit,
                }
            )
        )
        .is_empty());
    }

    #[test]
    fn every_problem_is_reported() {
        let item = quote! {
            #[derive(Debug, serde::Deserialize)]
            #[derive(JsonSchema)]
            union U { a: u8 }
        };
        let errors = errors(quote!(rename = "x"), item);
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].starts_with("`#[tool_arg]` takes no arguments"));
        assert!(errors[1].contains("serde cannot deserialize a union"));
        assert!(errors[2].starts_with("`#[tool_arg]` derives `Deserialize` itself"));
        assert!(errors[3].starts_with("`#[tool_arg]` derives `JsonSchema` itself"));
    }

    #[test]
    fn the_derives_come_before_the_item_and_its_own_attributes() {
        let item = quote! {
            #[serde(rename_all = "camelCase")]
            struct Address { zip_code: String }
        };
        let out = expand(quote!(), item).to_string();
        let derive = out.find("derive").expect("a derive");
        assert!(derive < out.find("rename_all").expect("the item's attribute"), "{out}");
        assert!(out.contains("crate = \"::runwright::__private::serde\""), "{out}");
        assert!(out.contains("crate = \"::runwright::__private::schemars\""), "{out}");
    }

    #[test]
    fn a_function_is_refused_and_kept() {
        let out = expand(
            quote!(),
            quote!(
                fn f() {}
            ),
        )
        .to_string();
        assert!(out.contains("goes on a struct or an enum"), "{out}");
        assert!(out.contains("fn f"), "{out}");
    }
}
