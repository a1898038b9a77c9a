//! A function's doc comment: the description a tool gets, and the
//! descriptions of its arguments (a Markdown list, under an optional
//! `# Arguments` or Python-style `Args:` header).

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Meta};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::test_util::item;
    use quote::quote;

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
}
