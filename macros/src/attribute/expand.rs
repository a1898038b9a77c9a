//! Writing the code of `#[tool]` and `#[chain_fn]`: a tool's `ToolFn` impl
//! and constant, a `#[chain_fn]` function's `ChainBody` impl and constant,
//! each around a hidden zero-sized type that keeps the user's function.
//! Runs only on a function [`check`](super::check) found nothing wrong with.
//!
//! Generated code names everything by absolute path through
//! `::runwright::__private` (never a bare `Result`, `Option` or `Box`), and
//! every identifier it introduces starts with `__rw_`. Trait-bound checks are
//! spanned at the user's tokens, so a type error underlines the argument or
//! the return type concerned, not the macro.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, Type, Visibility};

use super::options::HandleErrors;
use super::parse::{ChainFnDef, Param, ParamKind, Ret, ToolDef};

/// `r#type` -> `type`.
fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// The attributes of a function, sorted by where they go: `cfg`s on every
/// generated item, docs on the constant, the rest on the function itself.
struct Attrs<'a> {
    cfgs: Vec<&'a Attribute>,
    docs: Vec<&'a Attribute>,
    rest: Vec<Attribute>,
}

fn sort_attrs(attrs: &[Attribute]) -> Attrs<'_> {
    let mut out = Attrs {
        cfgs: Vec::new(),
        docs: Vec::new(),
        rest: Vec::new(),
    };
    for a in attrs {
        if a.path().is_ident("cfg") {
            out.cfgs.push(a);
        } else if a.path().is_ident("doc") {
            out.docs.push(a);
        } else {
            out.rest.push(a.clone());
        }
    }
    out
}

/// The user's function, kept whole inside the generated method (private,
/// without its docs): the body the tool or step runs.
fn inner_fn(item: &ItemFn, rest: Vec<Attribute>) -> ItemFn {
    let mut f = item.clone();
    f.attrs = rest;
    f.attrs
        .push(syn::parse_quote!(#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]));
    f.vis = Visibility::Inherited;
    f
}

/// The output type, and the expression turning the function's return value
/// (`call`) into a `Result`.
fn output(ret: &Ret, call: TokenStream) -> (TokenStream, TokenStream) {
    match ret {
        Ret::Unit => (quote!(()), quote!(::core::result::Result::Ok(#call))),
        Ret::Plain(ty) => (ty.to_token_stream(), quote!(::core::result::Result::Ok(#call))),
        Ret::Result(ty) => {
            // The value is bound to a name spanned at the return type, so an
            // error type that does not fit is reported there, once.
            let value = quote_spanned!(ty.span()=> __rw_returned);
            let convert = quote_spanned!(ty.span()=> ::runwright::__private::IntoRunResult::into_run_result(#value));
            (
                result_ok_type(ty),
                quote! {{
                    let #value: #ty = #call;
                    #convert
                }},
            )
        }
    }
}

/// The `T` of `Result<T, E>` (or of an alias `Result<T>`), written out: a
/// projection `<Result<T, E> as IntoRunResult>::Ok` would name `E` in the
/// public impl, and a private error type would then leak. A `Result` alias
/// without arguments falls back to the projection.
fn result_ok_type(ty: &Type) -> TokenStream {
    if let Type::Path(p) = ty {
        if let Some(syn::PathArguments::AngleBracketed(args)) = p.path.segments.last().map(|s| &s.arguments) {
            if let Some(syn::GenericArgument::Type(ok)) = args.args.first() {
                return ok.to_token_stream();
            }
        }
    }
    quote_spanned!(ty.span()=> <#ty as ::runwright::__private::IntoRunResult>::Ok)
}

/// The constant and its hidden type, shared by both attributes.
fn constant(item: &ItemFn, attrs: &Attrs<'_>, hidden: &Ident, ty: TokenStream, value: TokenStream) -> TokenStream {
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let cfgs = &attrs.cfgs;
    let docs = &attrs.docs;
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #hidden;

        #(#cfgs)*
        #(#docs)*
        #[allow(non_upper_case_globals)]
        #vis const #ident: #ty = #value;
    }
}

/// `#[tool]`.
pub(crate) fn expand_tool(def: &ToolDef) -> TokenStream {
    let item = &def.item;
    let attrs = sort_attrs(&item.attrs);
    let fn_ident = &item.sig.ident;
    let hidden = format_ident!("__rw_tool_{}", unraw(fn_ident));
    let inner = inner_fn(item, attrs.rest.clone());
    let name = &def.name;
    let description = &def.description;

    // Every parameter has its name here: another pattern is an error, and
    // nothing is expanded after an error.
    let params: Vec<(&Ident, &Param)> = def.params.iter().filter_map(|p| Some((p.ident.as_ref()?, p))).collect();
    let args: Vec<_> = params.iter().filter(|(_, p)| p.kind == ParamKind::Arg).collect();
    let spec_args = args.iter().map(|(ident, p)| {
        let ty = &p.ty;
        let arg_name = unraw(ident);
        let desc = match &p.description {
            Some(d) => quote!(::core::option::Option::Some(#d)),
            None => quote!(::core::option::Option::None),
        };
        quote_spanned!(ty.span()=> .arg::<#ty>(#arg_name, #desc))
    });
    let takes = args.iter().map(|(ident, p)| {
        let ty = &p.ty;
        let arg_name = unraw(ident);
        quote_spanned!(ty.span()=> let #ident = __rw_args.take::<#ty>(#arg_name);)
    });
    let arg_idents: Vec<&Ident> = args.iter().map(|(ident, _)| *ident).collect();
    let unwrap_args = if arg_idents.is_empty() {
        quote!()
    } else {
        quote! {
            let (#(::core::option::Option::Some(#arg_idents),)*) = (#(#arg_idents,)*) else {
                return ::core::result::Result::Err(::runwright::__private::unchecked_argument(#name));
            };
        }
    };
    let needs_ctx = def
        .params
        .iter()
        .any(|p| matches!(p.kind, ParamKind::ContextRef | ParamKind::ContextArc));
    let (get_ctx, check_ctx) = if needs_ctx {
        (
            quote!(let __rw_ctx = __rw_args.context();),
            quote!(let __rw_ctx = __rw_ctx?;),
        )
    } else {
        (quote!(), quote!())
    };
    let call_args = params.iter().map(|(ident, p)| match p.kind {
        ParamKind::Arg => ident.to_token_stream(),
        ParamKind::ContextRef => quote!(&*__rw_ctx),
        ParamKind::ContextArc => quote!(::core::clone::Clone::clone(&__rw_ctx)),
        ParamKind::Writer => quote!(::runwright::stream_writer()),
        ParamKind::CallId => quote!(::core::clone::Clone::clone(&__rw_call_id)),
    });
    let await_ = item.sig.asyncness.map(|_| quote!(.await));
    let (out_ty, result) = output(&def.ret, quote!(#fn_ident(#(#call_args),*) #await_));
    let out_check = match &def.ret {
        Ret::Unit => quote!(),
        Ret::Plain(ty) => quote_spanned!(ty.span()=> ::runwright::__private::assert_tool_output::<#ty>();),
        Ret::Result(ty) => {
            let ok = result_ok_type(ty);
            quote_spanned!(ty.span()=> ::runwright::__private::assert_tool_output::<#ok>();)
        }
    };
    let handle = match &def.handle_errors {
        None => quote!(),
        Some(HandleErrors::Message) => quote!(.handle_errors()),
        Some(HandleErrors::With(path)) => quote_spanned!(path.span()=> .handle_errors_with(#path)),
    };
    let cfgs = &attrs.cfgs;
    let impls = quote! {
        #(#cfgs)*
        impl ::runwright::__private::ToolFn for #hidden {
            type Output = #out_ty;

            fn spec(&self) -> &::runwright::__private::ToolSpec {
                static __RW_SPEC: ::runwright::__private::OnceLock<::runwright::__private::ToolSpec> =
                    ::runwright::__private::OnceLock::new();
                __RW_SPEC.get_or_init(|| {
                    #out_check
                    ::runwright::__private::ToolSpec::builder(#name, #description)
                        #(#spec_args)*
                        .build()
                })
            }

            fn call<'__rw_a>(
                &'__rw_a self,
                mut __rw_args: ::runwright::__private::ToolArgs<'__rw_a>,
            ) -> ::runwright::__private::BoxFuture<'__rw_a, ::core::result::Result<Self::Output, ::runwright::Error>> {
                #inner
                #(#takes)*
                let __rw_checked = __rw_args.finish();
                let __rw_call_id = __rw_args.tool_call_id();
                #get_ctx
                ::std::boxed::Box::pin(async move {
                    __rw_checked?;
                    #check_ctx
                    #unwrap_args
                    let _ = &__rw_call_id;
                    #result
                })
            }

            fn replay_output(
                &self,
                __rw_recorded: ::runwright::__private::Json,
            ) -> ::core::option::Option<::core::result::Result<Self::Output, ::runwright::Error>> {
                #[allow(unused_imports)]
                use ::runwright::__private::{ReplayFallback as _, ReplayViaSerde as _};
                (&::runwright::__private::ReplayProbe::<#out_ty>::new()).replay(__rw_recorded)
            }
        }
    };
    let konst = constant(
        item,
        &attrs,
        &hidden,
        quote!(::runwright::__private::Tool<#hidden>),
        quote!(::runwright::__private::Tool::new(#hidden) #handle),
    );
    quote! {
        #konst
        #impls
    }
}

/// `#[chain_fn]`.
pub(crate) fn expand_chain_fn(def: &ChainFnDef) -> TokenStream {
    let item = &def.item;
    let Some(input) = &def.input else {
        // Not one input: an error, and nothing is expanded after an error.
        return item.to_token_stream();
    };
    let attrs = sort_attrs(&item.attrs);
    let fn_ident = &item.sig.ident;
    let hidden = format_ident!("__rw_chain_{}", unraw(fn_ident));
    let inner = inner_fn(item, attrs.rest.clone());
    let name = &def.name;
    let await_ = item.sig.asyncness.map(|_| quote!(.await));
    let (out_ty, result) = output(&def.ret, quote!(#fn_ident(__rw_input) #await_));
    let in_check = quote_spanned!(input.span()=> ::runwright::__private::assert_chain_input::<#input>(););
    let out_check = match &def.ret {
        Ret::Unit => quote!(),
        Ret::Plain(ty) => quote_spanned!(ty.span()=> ::runwright::__private::assert_chain_output::<#ty>();),
        Ret::Result(ty) => {
            let ok = result_ok_type(ty);
            quote_spanned!(ty.span()=> ::runwright::__private::assert_chain_output::<#ok>();)
        }
    };
    let cfgs = &attrs.cfgs;
    let impls = quote! {
        #(#cfgs)*
        impl ::runwright::__private::ChainBody for #hidden {
            type Input = #input;
            type Output = #out_ty;

            fn name(&self) -> &'static str {
                #name
            }

            fn call(
                &self,
                __rw_input: Self::Input,
            ) -> ::runwright::__private::BoxFuture<'static, ::core::result::Result<Self::Output, ::runwright::Error>> {
                #inner
                #in_check
                #out_check
                ::std::boxed::Box::pin(async move { #result })
            }
        }
    };
    let konst = constant(
        item,
        &attrs,
        &hidden,
        quote!(::runwright::__private::ChainFn<#hidden>),
        quote!(::runwright::__private::ChainFn::new(#hidden)),
    );
    quote! {
        #konst
        #impls
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::check::check_tool;
    use crate::attribute::options::parse_options;
    use crate::attribute::parse::{parse_chain_fn, parse_tool};
    use crate::attribute::Kind;
    use crate::ctxt::Ctxt;

    fn tool(args: TokenStream, item: TokenStream) -> String {
        let mut cx = Ctxt::default();
        let opts = parse_options(&mut cx, args, Kind::Tool);
        let def = parse_tool(opts, syn::parse2(item).expect("fn"));
        check_tool(&mut cx, &def);
        cx.check().expect("no errors");
        expand_tool(&def).to_string()
    }

    #[test]
    fn tool_expands_to_a_constant_a_hidden_type_and_a_tool_fn() {
        let out = tool(
            quote!(name = "weather", handle_errors),
            quote! {
                /// Weather.
                /// * `city` - the city
                pub async fn get_weather(city: String, ctx: &RunContext) -> Result<String, E> { Ok(city) }
            },
        );
        assert!(out.contains("pub struct __rw_tool_get_weather ;"), "{out}");
        assert!(out.contains(
            "pub const get_weather : :: runwright :: __private :: Tool < __rw_tool_get_weather > = :: runwright :: __private :: Tool :: new (__rw_tool_get_weather) . handle_errors () ;"
        ), "{out}");
        assert!(
            out.contains("ToolSpec :: builder (\"weather\" , \"Weather.\")"),
            "{out}"
        );
        assert!(
            out.contains(". arg :: < String > (\"city\" , :: core :: option :: Option :: Some (\"the city\"))"),
            "{out}"
        );
        assert!(out.contains("get_weather (city , & * __rw_ctx) . await"), "{out}");
        assert!(out.contains("type Output = String ;"), "{out}");
        assert!(out.contains("IntoRunResult :: into_run_result"), "{out}");
    }

    #[test]
    fn generated_code_never_names_prelude_types_bare() {
        let out = tool(
            quote!(),
            quote! {
                /// Adds.
                fn add(a: i64, b: Option<i64>) -> i64 { a + b.unwrap_or(0) }
            },
        );
        // The user's own tokens (`Option<i64>`) aside, every Result / Option /
        // Box is reached by an absolute path.
        let generated = out.replace("Option < i64 >", "");
        for bare in [" Result ", " Option ", " Box "] {
            for (i, _) in generated.match_indices(bare) {
                let before = &generated[..i];
                assert!(
                    before.ends_with(":: result ::")
                        || before.ends_with(":: option ::")
                        || before.ends_with(":: boxed ::"),
                    "bare `{bare}` in {generated}"
                );
            }
        }
        assert!(out.contains("Result :: Ok (add (a , b))"), "{out}");
    }

    #[test]
    fn chain_fn_expands_to_a_chain_body() {
        let mut cx = Ctxt::default();
        let opts = parse_options(&mut cx, quote!(), Kind::ChainFn);
        let def = parse_chain_fn(
            opts,
            syn::parse2(quote!(
                async fn shout(s: String) -> String {
                    s
                }
            ))
            .expect("fn"),
        );
        let out = expand_chain_fn(&def).to_string();
        assert!(out.contains("type Input = String ;"), "{out}");
        assert!(out.contains("fn name (& self) -> & 'static str { \"shout\" }"), "{out}");
        assert!(
            out.contains("const shout : :: runwright :: __private :: ChainFn < __rw_chain_shout >"),
            "{out}"
        );
    }
}
