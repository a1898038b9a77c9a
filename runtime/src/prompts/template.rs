//! f-string templates: parsing once at construction, checking the
//! variables, formatting.

use serde_json::Value as Json;

use crate::error::{Error, ErrorKind, Result};
use crate::python::{py_repr, py_str};
use crate::value::Map;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(String),
    Var(String),
}

/// A parsed f-string template: `{name}` is a variable, `{{` and `}}` are
/// literal braces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FString {
    source: String,
    segments: Vec<Segment>,
}

fn template_error(source: &str, what: String) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("invalid f-string template {}: {what}", py_repr(&Json::from(source))),
    )
}

impl FString {
    /// Parses a template. Positions in errors count characters from 0.
    pub(crate) fn parse(source: &str) -> Result<Self> {
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().enumerate().peekable();
        while let Some((pos, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (inner, c) in chars.by_ref() {
                        match c {
                            '}' => {
                                closed = true;
                                break;
                            }
                            '{' => {
                                return Err(template_error(
                                    source,
                                    format!("'{{' at position {inner} inside the variable opened at position {pos}"),
                                ))
                            }
                            c => name.push(c),
                        }
                    }
                    if !closed {
                        return Err(template_error(source, format!("unclosed '{{' at position {pos}")));
                    }
                    check_name(source, &name, pos)?;
                    if !text.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut text)));
                    }
                    segments.push(Segment::Var(name));
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => {
                    return Err(template_error(
                        source,
                        format!("single '}}' at position {pos} (write '}}}}' for a literal brace)"),
                    ))
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            segments.push(Segment::Text(text));
        }
        Ok(FString {
            source: source.to_owned(),
            segments,
        })
    }

    /// The template text as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The variables, in order of appearance (repeats included).
    pub(crate) fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(v) => Some(v.as_str()),
            Segment::Text(_) => None,
        })
    }

    /// The text with each variable replaced by its value, formatted as
    /// Python's `str()` would (see [`py_str`]). Check the variables first: a
    /// missing one formats as `None`.
    pub(crate) fn format(&self, variables: &Map) -> String {
        let mut out = String::with_capacity(self.source.len());
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Var(v) => match variables.get(v) {
                    Some(Json::String(s)) => out.push_str(s),
                    Some(value) => out.push_str(&py_str(value)),
                    None => out.push_str("None"),
                },
            }
        }
        out
    }
}

fn check_name(source: &str, name: &str, pos: usize) -> Result<()> {
    let problem = if name.is_empty() {
        "an empty variable name".to_owned()
    } else if name.contains(['.', '[', ']']) {
        format!(
            "the variable name {} uses attribute access or indexing, which templates do not allow",
            py_repr(&Json::from(name))
        )
    } else if name.contains(['!', ':']) {
        format!(
            "the variable name {} has a conversion or format spec, which is not supported",
            py_repr(&Json::from(name))
        )
    } else if name.chars().all(|c| c.is_ascii_digit()) {
        format!("the variable name {name} is all digits (a positional argument in Python)")
    } else {
        return Ok(());
    };
    Err(template_error(source, format!("{problem} at position {pos}")))
}

/// The sorted, deduplicated variables of some templates (LangChain sorts
/// `input_variables`).
pub(crate) fn sorted_variables<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = names.into_iter().map(str::to_owned).collect();
    names.sort();
    names.dedup();
    names
}

/// LangChain's `_validate_input`: every input variable must be given; the
/// error names the missing ones, what was expected and what was received.
pub(crate) fn check_variables(class: &str, input_variables: &[String], variables: &Map) -> Result<()> {
    let missing: Vec<&String> = input_variables.iter().filter(|v| !variables.contains_key(*v)).collect();
    let Some(example) = missing.first() else {
        return Ok(());
    };
    let repr_list = |items: &mut dyn Iterator<Item = &String>| {
        items
            .map(|s| py_repr(&Json::from(s.as_str())))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let message = format!(
        "Input to {class} is missing variables {{{}}}.  Expected: [{}] Received: [{}]\n\
         Note: if you intended {{{example}}} to be part of the string and not a variable, please escape it \
         with double curly braces like: '{{{{{example}}}}}'.",
        repr_list(&mut missing.iter().copied()),
        repr_list(&mut input_variables.iter()),
        repr_list(&mut variables.keys()),
    );
    Err(Error::new(ErrorKind::InvalidInput, message))
}

/// LangChain's handling of a non-mapping input: with exactly one input
/// variable the value is that variable, otherwise it is an error.
pub(crate) fn variables_from_json(class: &str, input_variables: &[String], input: Json) -> Result<Map> {
    match input {
        Json::Object(map) => Ok(map),
        other if input_variables.len() == 1 => {
            let mut map = Map::new();
            map.insert(input_variables[0].clone(), other);
            Ok(map)
        }
        other => Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "Expected mapping type as input to {class}. Received <class '{}'>.",
                python_type(&other)
            ),
        )),
    }
}

/// The Python type name of the object a JSON value stands for.
pub(crate) fn python_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "NoneType",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "int",
        Json::String(_) => "str",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}
