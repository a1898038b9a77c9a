//! Reading what the user wrote: the options and the function of `#[tool]`
//! and `#[chain_fn]`, and the steps of `chain!`. Every problem is recorded in
//! the [`Ctxt`], spanned at the user's tokens; nothing is generated here.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprClosure, FnArg, Ident, ItemFn, LitStr, Meta, Pat, ReturnType, Token, Type};

use crate::ctxt::Ctxt;

// ---------------------------------------------------------------------------
// Doc comments

/// A function's doc comment, split into its description and the
/// descriptions of its arguments (a Markdown list item per argument:
/// `` * `city` - the city `` or `- city: the city`).
#[derive(Debug, Default)]
pub(crate) struct Docs {
    /// The text before the argument list or the first `#` section.
    pub(crate) description: String,
    /// `(argument, description, span of its doc line)`, in order.
    pub(crate) args: Vec<(String, String, Span)>,
    /// Whether there was any doc comment.
    pub(crate) present: bool,
}

fn doc_lines(attrs: &[Attribute]) -> Vec<(String, Span)> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s), ..
            }) = &nv.value
            {
                for line in s.value().lines() {
                    lines.push((line.strip_prefix(' ').unwrap_or(line).to_owned(), attr.span()));
                }
            }
        }
    }
    lines
}

fn is_section_header(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('#')
        || matches!(
            t.to_ascii_lowercase().as_str(),
            "args:" | "arguments:" | "parameters:" | "params:"
        )
}

/// `` * `city` - the city `` -> `("city", "the city")`.
fn arg_item(line: &str) -> Option<(String, String)> {
    let t = line.trim_start();
    let rest = t.strip_prefix("* ").or_else(|| t.strip_prefix("- "))?.trim_start();
    let (name, after) = match rest.strip_prefix('`') {
        Some(r) => {
            let end = r.find('`')?;
            (&r[..end], &r[end + 1..])
        }
        None => {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        }
    };
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let after = after.trim_start();
    let desc = after
        .strip_prefix("--")
        .or_else(|| after.strip_prefix('-'))
        .or_else(|| after.strip_prefix(':'))
        .or_else(|| after.strip_prefix('—'))
        .unwrap_or(after);
    Some((name.to_owned(), desc.trim().to_owned()))
}

/// Reads the doc comment of a function.
pub(crate) fn parse_docs(attrs: &[Attribute]) -> Docs {
    let lines = doc_lines(attrs);
    let mut docs = Docs {
        present: lines.iter().any(|(l, _)| !l.trim().is_empty()),
        ..Docs::default()
    };
    let mut description: Vec<&str> = Vec::new();
    let mut in_description = true;
    let mut in_args = false;
    for (line, span) in &lines {
        if let Some((name, desc)) = arg_item(line) {
            in_description = false;
            in_args = true;
            docs.args.push((name, desc, *span));
            continue;
        }
        if is_section_header(line) {
            in_description = false;
            let lower = line.trim().trim_start_matches('#').trim().to_ascii_lowercase();
            in_args = [
                "arguments",
                "args",
                "parameters",
                "params",
                "arguments:",
                "args:",
                "parameters:",
                "params:",
            ]
            .contains(&lower.as_str());
            continue;
        }
        if in_description {
            description.push(line);
        } else if in_args && line.starts_with(char::is_whitespace) && !line.trim().is_empty() {
            // A continuation line of the previous argument's description.
            if let Some((_, desc, _)) = docs.args.last_mut() {
                if !desc.is_empty() {
                    desc.push(' ');
                }
                desc.push_str(line.trim());
            }
        } else if !line.trim().is_empty() {
            in_args = false;
        }
    }
    docs.description = description.join("\n").trim().to_owned();
    docs
}

// ---------------------------------------------------------------------------
// Options: #[tool(name = "...", description = "...", handle_errors)]

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

/// Which macro the options are for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Tool,
    ChainFn,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Tool => "#[tool]",
            Kind::ChainFn => "#[chain_fn]",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::Tool => {
                "`name = \"...\"`, `description = \"...\"`, `handle_errors` or `handle_errors = path::to::fn`"
            }
            Kind::ChainFn => "`name = \"...\"`",
        }
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
                format!("unknown `{}` option; expected {}", kind.attr(), kind.expected()),
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
                cx.error_spanned_by(&meta, format!("malformed `{key}` option; expected {}", kind.expected()));
            }
            _ => cx.error_spanned_by(
                &key,
                format!("unknown `{}` option `{key}`; expected {}", kind.attr(), kind.expected()),
            ),
        }
    }
    opts
}

// ---------------------------------------------------------------------------
// The function of #[tool] and #[chain_fn]

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
    pub(crate) ident: Ident,
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
    pub(crate) description: String,
    pub(crate) params: Vec<Param>,
    pub(crate) ret: Ret,
    pub(crate) handle_errors: Option<HandleErrors>,
}

/// A `#[chain_fn]` function, read.
pub(crate) struct ChainFnDef {
    pub(crate) item: ItemFn,
    pub(crate) name: String,
    pub(crate) input: Type,
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

fn is_named(ty: &Type, name: &str) -> bool {
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

fn param_kind(cx: &mut Ctxt, ty: &Type) -> ParamKind {
    match ty {
        Type::Reference(r) if is_named(&r.elem, "RunContext") => {
            if r.mutability.is_some() {
                cx.error_spanned_by(
                    ty,
                    "the run context is shared: take `&RunContext`, not `&mut RunContext`",
                );
            }
            ParamKind::ContextRef
        }
        Type::Reference(r) => {
            let hint = if is_named(&r.elem, "str") {
                " (`String`, not `&str`)"
            } else {
                ""
            };
            cx.error_spanned_by(
                ty,
                format!("a tool argument must be an owned type{hint}: it is deserialized from the call's JSON"),
            );
            ParamKind::Arg
        }
        Type::ImplTrait(_) => {
            cx.error_spanned_by(
                ty,
                "a tool argument needs a concrete type: its JSON schema is derived from it",
            );
            ParamKind::Arg
        }
        ty if is_arc_context(ty) => ParamKind::ContextArc,
        ty if is_named(ty, "StreamWriter") => ParamKind::Writer,
        ty if is_named(ty, "ToolCallId") => ParamKind::CallId,
        _ => ParamKind::Arg,
    }
}

fn parse_ret(cx: &mut Ctxt, output: &ReturnType) -> Ret {
    match output {
        ReturnType::Default => Ret::Unit,
        ReturnType::Type(_, ty) => match &**ty {
            Type::ImplTrait(_) => {
                cx.error_spanned_by(ty, "return a concrete type: the output must be cloned and serialized");
                Ret::Plain((**ty).clone())
            }
            t if is_named(t, "Result") => Ret::Result((**ty).clone()),
            t => Ret::Plain(t.clone()),
        },
    }
}

/// The checks both attributes make of the function's signature.
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

/// Reads a `#[tool]` function.
pub(crate) fn parse_tool(cx: &mut Ctxt, opts: Options, item: ItemFn) -> Option<ToolDef> {
    check_signature(cx, &item, Kind::Tool);
    let docs = parse_docs(&item.attrs);
    let description = match (&opts.description, docs.present) {
        (Some(d), _) => d.value(),
        (None, true) => docs.description.clone(),
        (None, false) => {
            cx.error_spanned_by(
                &item.sig.ident,
                "a tool needs a description, which the model reads to choose it: add a doc comment \
                 (`/// What the tool does.`) or `#[tool(description = \"...\")]`",
            );
            String::new()
        }
    };
    let mut params = Vec::new();
    for input in &item.sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        let ident = match &*pt.pat {
            Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => p.ident.clone(),
            other => {
                cx.error_spanned_by(
                    other,
                    "a tool argument must be a plain name (`city: String`): it names the JSON property",
                );
                continue;
            }
        };
        let kind = param_kind(cx, &pt.ty);
        let name = ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        let description = docs.args.iter().find(|(n, _, _)| n == name).map(|(_, d, _)| d.clone());
        params.push(Param {
            ident,
            ty: (*pt.ty).clone(),
            kind,
            description,
        });
    }
    for (name, _, span) in &docs.args {
        let known = params
            .iter()
            .any(|p| p.kind == ParamKind::Arg && p.ident.to_string().trim_start_matches("r#") == name);
        if !known {
            cx.error_at(
                *span,
                format!(
                    "the doc comment describes `{name}`, which is not an argument of `{}`",
                    item.sig.ident
                ),
            );
        }
    }
    let ret = parse_ret(cx, &item.sig.output);
    let name = opts
        .name
        .map(|n| n.value())
        .unwrap_or_else(|| item.sig.ident.to_string());
    Some(ToolDef {
        item,
        name,
        description,
        params,
        ret,
        handle_errors: opts.handle_errors,
    })
}

/// Reads a `#[chain_fn]` function.
pub(crate) fn parse_chain_fn(cx: &mut Ctxt, opts: Options, item: ItemFn) -> Option<ChainFnDef> {
    check_signature(cx, &item, Kind::ChainFn);
    let typed: Vec<&syn::PatType> = item
        .sig
        .inputs
        .iter()
        .filter_map(|i| match i {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let input = match typed.as_slice() {
        [one] => (*one.ty).clone(),
        _ => {
            let at = if typed.is_empty() {
                quote::ToTokens::to_token_stream(&item.sig.ident)
            } else {
                quote::ToTokens::to_token_stream(&item.sig.inputs)
            };
            cx.error_spanned_by(
                at,
                format!(
                    "a `#[chain_fn]` function takes exactly one argument, its input; `{}` takes {}",
                    item.sig.ident,
                    typed.len()
                ),
            );
            return None;
        }
    };
    if let Type::Reference(_) | Type::ImplTrait(_) = input {
        cx.error_spanned_by(
            &input,
            "the input of a `#[chain_fn]` function must be an owned, concrete type",
        );
    }
    let ret = parse_ret(cx, &item.sig.output);
    let name = opts
        .name
        .map(|n| n.value())
        .unwrap_or_else(|| item.sig.ident.to_string());
    Some(ChainFnDef { item, name, input, ret })
}

// ---------------------------------------------------------------------------
// chain!(a | b | c)

/// Where a step is in the user's code: its first and last tokens.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StepSpan {
    pub(crate) first: Span,
    pub(crate) last: Span,
}

/// One step of `chain!`.
pub(crate) enum Step {
    /// An expression: a runnable, or a function's name.
    Expr(Expr, StepSpan),
    /// A closure; `is_async` when its body is an `async` block.
    Closure(ExprClosure, bool, StepSpan),
    /// A map literal: a `Parallel`.
    Map(MapLit, StepSpan),
}

impl Step {
    pub(crate) fn span(&self) -> StepSpan {
        match self {
            Step::Expr(_, s) | Step::Closure(_, _, s) | Step::Map(_, s) => *s,
        }
    }
}

/// `{ "key": steps, ... }`.
pub(crate) struct MapLit {
    pub(crate) entries: Vec<(LitStr, Vec<Step>)>,
}

fn is_pipe(t: &TokenTree) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == '|')
}

/// Whether the `|` at `i` separates two steps: a lone `|`, not one of `||`
/// or `|=`.
fn is_separator(tokens: &[TokenTree], i: usize) -> bool {
    let TokenTree::Punct(p) = &tokens[i] else { return false };
    if p.as_char() != '|' {
        return false;
    }
    if p.spacing() == proc_macro2::Spacing::Joint {
        if let Some(TokenTree::Punct(next)) = tokens.get(i + 1) {
            if matches!(next.as_char(), '|' | '=') {
                return false;
            }
        }
    }
    true
}

/// The end (exclusive) of an expression starting at `i`: the next
/// separating `|`, skipping `||` and `|=`.
fn expr_end(tokens: &[TokenTree], mut i: usize) -> usize {
    while i < tokens.len() {
        if is_separator(tokens, i) {
            return i;
        }
        if is_pipe(&tokens[i]) {
            i += 2;
        } else {
            i += 1;
        }
    }
    tokens.len()
}

/// The end (exclusive) of a closure starting at `i`, and whether its body
/// is `async`; `None` when no closure starts there.
fn closure_end(tokens: &[TokenTree], i: usize) -> Option<(usize, bool)> {
    let mut j = i;
    if matches!(tokens.get(j), Some(TokenTree::Ident(id)) if id == "move") {
        j += 1;
    }
    let TokenTree::Punct(open) = tokens.get(j)? else {
        return None;
    };
    if open.as_char() != '|' {
        return None;
    }
    // Parameters: up to the closing `|` (`||` means none).
    let mut k = j + 1;
    let empty = open.spacing() == proc_macro2::Spacing::Joint && tokens.get(k).is_some_and(is_pipe);
    if !empty {
        while k < tokens.len() && !is_pipe(&tokens[k]) {
            k += 1;
        }
        if k == tokens.len() {
            return None;
        }
    }
    k += 1;
    // `-> Type { block }`: the body is the block.
    if matches!(tokens.get(k), Some(TokenTree::Punct(p)) if p.as_char() == '-') {
        while k < tokens.len() && !matches!(&tokens[k], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace) {
            k += 1;
        }
        return Some(((k + 1).min(tokens.len()), false));
    }
    let is_async = matches!(tokens.get(k), Some(TokenTree::Ident(id)) if id == "async");
    Some((expr_end(tokens, k), is_async))
}

fn span_of(tokens: &[TokenTree]) -> StepSpan {
    let first = tokens.first().map_or_else(Span::call_site, TokenTree::span);
    let last = tokens.last().map_or(first, TokenTree::span);
    StepSpan { first, last }
}

/// Splits `a | b | c` into steps.
pub(crate) fn parse_steps(cx: &mut Ctxt, input: TokenStream, whole: Span) -> Vec<Step> {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let mut steps = Vec::new();
    if tokens.is_empty() {
        cx.error_at(whole, "`chain!` needs at least one step: `chain!(a | b | c)`");
        return steps;
    }
    let mut i = 0;
    loop {
        let closure = if i < tokens.len() {
            closure_end(&tokens, i)
        } else {
            None
        };
        if closure.is_none() && (i >= tokens.len() || is_separator(&tokens, i)) {
            let at = tokens.get(i.min(tokens.len() - 1)).map_or(whole, TokenTree::span);
            cx.error_at(at, "expected a step: `chain!` steps are separated by single `|`");
            return steps;
        }
        let (end, step) = if let Some((end, is_async)) = closure {
            let part: TokenStream = tokens[i..end].iter().cloned().collect();
            let span = span_of(&tokens[i..end]);
            match syn::parse2::<ExprClosure>(part) {
                Ok(c) => (end, Some(Step::Closure(c, is_async, span))),
                Err(e) => {
                    cx.syn_error(e);
                    (end, None)
                }
            }
        } else if matches!(&tokens[i], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
            && (i + 1 == tokens.len() || is_separator(&tokens, i + 1))
        {
            let TokenTree::Group(g) = &tokens[i] else {
                unreachable!()
            };
            let span = span_of(&tokens[i..=i]);
            (i + 1, parse_map(cx, g.stream(), g.span()).map(|m| Step::Map(m, span)))
        } else {
            let end = expr_end(&tokens, i);
            let part: TokenStream = tokens[i..end].iter().cloned().collect();
            let span = span_of(&tokens[i..end]);
            match syn::parse2::<Expr>(part) {
                Ok(e) => (end, Some(Step::Expr(e, span))),
                Err(e) => {
                    cx.syn_error(e);
                    (end, None)
                }
            }
        };
        steps.extend(step);
        if end >= tokens.len() {
            return steps;
        }
        // tokens[end] is a separator.
        i = end + 1;
    }
}

/// The inside of `{ "key": steps, ... }`.
fn parse_map(cx: &mut Ctxt, input: TokenStream, brace: Span) -> Option<MapLit> {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let mut entries: Vec<(LitStr, Vec<Step>)> = Vec::new();
    let mut ok = true;
    // Entries are separated by top-level commas.
    for part in tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
        if part.is_empty() {
            continue;
        }
        let key = match &part[0] {
            TokenTree::Literal(l) => syn::parse2::<LitStr>(TokenTree::Literal(l.clone()).into()).ok(),
            _ => None,
        };
        let colon = matches!(part.get(1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
        let Some(key) = key.filter(|_| colon) else {
            cx.error_spanned_by(
                part.iter().cloned().collect::<TokenStream>(),
                "a map literal's entries are `\"key\": step`, separated by commas",
            );
            ok = false;
            continue;
        };
        if entries.iter().any(|(k, _)| k.value() == key.value()) {
            cx.error_spanned_by(&key, format!("the key \"{}\" appears twice in this map", key.value()));
            ok = false;
        }
        let value: TokenStream = part[2..].iter().cloned().collect();
        let steps = parse_steps(cx, value, key.span());
        if steps.is_empty() {
            ok = false;
        }
        entries.push((key, steps));
    }
    if entries.is_empty() {
        cx.error_at(brace, "an empty map literal: give it at least one `\"key\": step`");
        return None;
    }
    ok.then_some(MapLit { entries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn item(tokens: TokenStream) -> ItemFn {
        syn::parse2(tokens).expect("an fn item")
    }

    fn errors(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn docs_split_description_and_argument_list() {
        let f = item(quote! {
            /// Get the weather.
            /// Twice a day.
            ///
            /// # Arguments
            ///
            /// * `city` - the city
            ///   (its English name)
            /// * `days`: how many days
            fn f() {}
        });
        let d = parse_docs(&f.attrs);
        assert!(d.present);
        assert_eq!(d.description, "Get the weather.\nTwice a day.");
        let args: Vec<(&str, &str)> = d.args.iter().map(|(n, s, _)| (n.as_str(), s.as_str())).collect();
        assert_eq!(
            args,
            [("city", "the city (its English name)"), ("days", "how many days")]
        );
    }

    #[test]
    fn docs_accept_python_style_args_sections() {
        let f = item(quote! {
            /// Reverse a word.
            ///
            /// Args:
            ///   - word: the word
            fn f() {}
        });
        let d = parse_docs(&f.attrs);
        assert_eq!(d.description, "Reverse a word.");
        assert_eq!(d.args.len(), 1);
        assert_eq!(d.args[0].1, "the word");
    }

    #[test]
    fn tool_params_are_arguments_or_injected() {
        let mut cx = Ctxt::default();
        let f = item(quote! {
            /// Doc.
            async fn t(city: String, ctx: &runwright::RunContext, owned: Arc<RunContext>, w: StreamWriter, id: ToolCallId) -> Result<String, E> { Ok(city) }
        });
        let def = parse_tool(&mut cx, Options::default(), f).expect("parsed");
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

    #[test]
    fn every_tool_problem_is_reported_together() {
        let mut cx = Ctxt::default();
        let opts = parse_options(&mut cx, quote!(name = "x", bogus, name = "y"), Kind::Tool);
        let f = item(quote! {
            /// * `nope` - not an argument
            fn t<T>(s: &str, (a, b): (i32, i32)) {}
        });
        parse_tool(&mut cx, opts, f);
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
        parse_tool(
            &mut cx,
            Options::default(),
            item(quote!(
                fn t(a: i32) {}
            )),
        );
        assert!(errors(cx)[0].starts_with("a tool needs a description"));

        let mut cx = Ctxt::default();
        let opts = parse_options(&mut cx, quote!(description = "Adds."), Kind::Tool);
        let def = parse_tool(
            &mut cx,
            opts,
            item(quote!(
                fn t(a: i32) {}
            )),
        )
        .expect("parsed");
        assert!(errors(cx).is_empty());
        assert_eq!(def.description, "Adds.");
    }

    #[test]
    fn chain_fn_takes_one_input() {
        let mut cx = Ctxt::default();
        assert!(parse_chain_fn(
            &mut cx,
            Options::default(),
            item(quote!(
                async fn f(a: i32, b: i32) -> i32 {
                    a
                }
            ))
        )
        .is_none());
        assert!(errors(cx)[0].contains("exactly one argument"));
    }

    fn kinds(steps: &[Step]) -> Vec<&'static str> {
        steps
            .iter()
            .map(|s| match s {
                Step::Expr(..) => "expr",
                Step::Closure(_, false, _) => "closure",
                Step::Closure(_, true, _) => "async closure",
                Step::Map(..) => "map",
            })
            .collect()
    }

    #[test]
    fn steps_split_at_single_pipes_only() {
        let mut cx = Ctxt::default();
        let steps = parse_steps(
            &mut cx,
            quote!(prompt.clone() | model | |s: String| Ok(s.len()) | move |n| async move { Ok(n || false) } | { "a": x | y, "b": |v| Ok(v) } | last),
            Span::call_site(),
        );
        let errs = errors(cx);
        assert!(errs.is_empty(), "{errs:#?}");
        assert_eq!(
            kinds(&steps),
            ["expr", "expr", "closure", "async closure", "map", "expr"]
        );
        let Step::Map(m, _) = &steps[4] else { panic!("a map") };
        assert_eq!(m.entries[0].0.value(), "a");
        assert_eq!(kinds(&m.entries[0].1), ["expr", "expr"]);
        assert_eq!(kinds(&m.entries[1].1), ["closure"]);
    }

    #[test]
    fn bad_steps_are_reported() {
        let mut cx = Ctxt::default();
        parse_steps(&mut cx, quote!(a | | b), Span::call_site());
        assert!(errors(cx)[0].starts_with("expected a step"));

        let mut cx = Ctxt::default();
        parse_steps(&mut cx, quote!({ "a": x, "a": y, c }), Span::call_site());
        let errs = errors(cx);
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert!(errs[0].contains("appears twice"));
        assert!(errs[1].contains("`\"key\": step`"));
    }
}
