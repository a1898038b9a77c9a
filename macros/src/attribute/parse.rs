//! Reading the function under `#[tool]` or `#[chain_fn]`: its parameters
//! (a tool's arguments, and the parameters the runtime injects), what it
//! returns, its name and description. Reading records nothing: whatever is
//! wrong with the signature is kept as written, for [`check`](super::check)
//! to report.

use proc_macro2::Span;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

use super::docs::parse_docs;
use super::options::{HandleErrors, Options};

/// What a tool parameter is.
#[derive(Debug, PartialEq)]
pub(crate) enum ParamKind {
    /// An argument the model gives, part of the schema.
    Arg,
    /// `&RunContext`: the tool's run context.
    ContextRef,
    /// `Arc<RunContext>`: the tool's run context, owned.
    ContextArc,
    /// `StreamWriter`: the current stream writer.
    Writer,
    /// `ToolCallId`: the id of the model's tool call.
    CallId,
}

/// One parameter of a tool function.
#[derive(Debug)]
pub(crate) struct Param {
    /// The pattern, as written.
    pub(crate) pat: Pat,
    /// The name, when the pattern is a plain name (`city`); it names the
    /// JSON property. Any other pattern is an error.
    pub(crate) ident: Option<Ident>,
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
    pub(crate) description: Option<String>,
}

/// What a function returns.
#[derive(Debug)]
pub(crate) enum Ret {
    /// Nothing: `()`.
    Unit,
    /// A value that cannot fail.
    Plain(Type),
    /// A `Result<T, E>`.
    Result(Type),
}

/// A `#[tool]` function, read.
pub(crate) struct ToolDef {
    pub(crate) item: ItemFn,
    pub(crate) name: String,
    /// The `description` option, else the doc comment's description.
    pub(crate) description: String,
    /// Whether there was either: a tool without a description is an error.
    pub(crate) described: bool,
    /// The arguments the doc comment describes: `(argument, description,
    /// span of its doc line)`, in order.
    pub(crate) doc_args: Vec<(String, String, Span)>,
    pub(crate) params: Vec<Param>,
    pub(crate) ret: Ret,
    pub(crate) handle_errors: Option<HandleErrors>,
}

/// A `#[chain_fn]` function, read.
pub(crate) struct ChainFnDef {
    pub(crate) item: ItemFn,
    pub(crate) name: String,
    /// The type of its one argument, the input; `None` when it takes none or
    /// several, which is an error.
    pub(crate) input: Option<Type>,
    pub(crate) ret: Ret,
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// Whether `ty` is a path ending in `name` (`Result`, `std::result::Result`).
pub(crate) fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name)
}

/// `Arc<RunContext>` (any path to either).
fn is_arc_context(ty: &Type) -> bool {
    let Some(seg) = last_segment(ty) else { return false };
    if seg.ident != "Arc" {
        return false;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => {
            matches!(a.args.first(), Some(syn::GenericArgument::Type(t)) if is_named(t, "RunContext"))
        }
        _ => false,
    }
}

/// Injected parameters are recognised by their type's name; everything else
/// is an argument (a borrowed or `impl Trait` one is an error).
fn param_kind(ty: &Type) -> ParamKind {
    match ty {
        Type::Reference(r) if is_named(&r.elem, "RunContext") => ParamKind::ContextRef,
        ty if is_arc_context(ty) => ParamKind::ContextArc,
        ty if is_named(ty, "StreamWriter") => ParamKind::Writer,
        ty if is_named(ty, "ToolCallId") => ParamKind::CallId,
        _ => ParamKind::Arg,
    }
}

fn parse_ret(output: &ReturnType) -> Ret {
    match output {
        ReturnType::Default => Ret::Unit,
        ReturnType::Type(_, ty) if is_named(ty, "Result") => Ret::Result((**ty).clone()),
        ReturnType::Type(_, ty) => Ret::Plain((**ty).clone()),
    }
}

/// The `name` option, else the function's name.
fn name(opts_name: Option<syn::LitStr>, item: &ItemFn) -> String {
    opts_name
        .map(|n| n.value())
        .unwrap_or_else(|| item.sig.ident.to_string())
}

/// Reads a `#[tool]` function.
pub(crate) fn parse_tool(opts: Options, item: ItemFn) -> ToolDef {
    let docs = parse_docs(&item.attrs);
    let described = opts.description.is_some() || docs.present;
    let description = match &opts.description {
        Some(d) => d.value(),
        None => docs.description.clone(),
    };
    let mut params = Vec::new();
    for input in &item.sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        let ident = match &*pt.pat {
            Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => Some(p.ident.clone()),
            _ => None,
        };
        let description = ident.as_ref().and_then(|ident| {
            let name = ident.to_string();
            let name = name.strip_prefix("r#").unwrap_or(&name);
            docs.args.iter().find(|(n, _, _)| n == name).map(|(_, d, _)| d.clone())
        });
        params.push(Param {
            pat: (*pt.pat).clone(),
            ident,
            ty: (*pt.ty).clone(),
            kind: param_kind(&pt.ty),
            description,
        });
    }
    let ret = parse_ret(&item.sig.output);
    ToolDef {
        name: name(opts.name, &item),
        item,
        description,
        described,
        doc_args: docs.args,
        params,
        ret,
        handle_errors: opts.handle_errors,
    }
}

/// Reads a `#[chain_fn]` function.
pub(crate) fn parse_chain_fn(opts: Options, item: ItemFn) -> ChainFnDef {
    let mut typed = item.sig.inputs.iter().filter_map(|i| match i {
        FnArg::Typed(t) => Some(t),
        FnArg::Receiver(_) => None,
    });
    let input = match (typed.next(), typed.next()) {
        (Some(one), None) => Some((*one.ty).clone()),
        _ => None,
    };
    let ret = parse_ret(&item.sig.output);
    ChainFnDef {
        name: name(opts.name, &item),
        item,
        input,
        ret,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::check::check_tool;
    use crate::attribute::test_util::{errors, item};
    use crate::ctxt::Ctxt;
    use quote::quote;

    #[test]
    fn tool_params_are_arguments_or_injected() {
        let mut cx = Ctxt::default();
        let f = item(quote! {
            /// Doc.
            async fn t(city: String, ctx: &runwright::RunContext, owned: Arc<RunContext>, w: StreamWriter, id: ToolCallId) -> Result<String, E> { Ok(city) }
        });
        let def = parse_tool(Options::default(), f);
        check_tool(&mut cx, &def);
        assert!(errors(cx).is_empty());
        let kinds: Vec<&ParamKind> = def.params.iter().map(|p| &p.kind).collect();
        assert_eq!(
            kinds,
            [
                &ParamKind::Arg,
                &ParamKind::ContextRef,
                &ParamKind::ContextArc,
                &ParamKind::Writer,
                &ParamKind::CallId
            ]
        );
        assert!(matches!(def.ret, Ret::Result(_)));
        assert_eq!(def.name, "t");
        assert_eq!(def.description, "Doc.");
    }
}
