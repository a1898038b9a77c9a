//! [`ToolArgs`]: a tool's incoming arguments, checked against its spec.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use serde_path_to_error::Segment;

use super::input::ToolCallId;
use super::lax;
use super::spec::{describe, SchemaStep, ToolSpec};
use crate::context::RunContext;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Map;

/// The arguments a tool was called with, taken one by one by the tool's
/// function ([`take`](Self::take)), then checked as a whole
/// ([`finish`](Self::finish)).
///
/// Every problem is collected, and `finish` reports them all in one
/// [`ErrorKind::InvalidInput`] error, each naming the argument (down to the
/// field: `address.zip`, `items[2].name`) and the JSON type it expects; the
/// error's [`step`](Error::step) is the tool. The tool's body runs only if
/// there is no problem. The rules:
///
/// - a missing argument is an error, unless its type accepts `null` (an
///   `Option`), which then gets `null`;
/// - a value that does not deserialize into the argument's type is an error;
/// - a string that spells a number where the schema asks for an `integer` or
///   a `number` is read as that number (`"21.5"` for an `f64`, `"3"` or
///   `"3.0"` for an `i64`; `"3.5"` stays an error for an `i64`), at any depth,
///   as LangChain's pydantic validation does in its default (lax) mode;
///   nothing else is coerced;
/// - an argument the tool does not take is an error (the schema says
///   `"additionalProperties": false`): a misspelled optional argument would
///   otherwise be dropped without a word.
///
/// ```
/// use runwright::tools::{ToolArgs, ToolSpec};
/// use serde_json::json;
///
/// let spec = ToolSpec::builder("add", "Adds.").arg::<i64>("a", None).arg::<i64>("b", None).build();
/// let mut args = ToolArgs::new(&spec, json!({"a": "one", "c": 3}).as_object().cloned().unwrap());
/// let a: Option<i64> = args.take("a");
/// let b: Option<i64> = args.take("b");
/// assert!(a.is_none() && b.is_none());
/// let err = args.finish().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "step `add`: invalid arguments: argument `a` (expected integer): invalid type: \
///      string \"one\", expected i64; missing argument `b` (expected integer); \
///      unknown argument `c` (the tool takes `a` (integer), `b` (integer))"
/// );
///
/// let mut args = ToolArgs::new(&spec, json!({"a": "1", "b": 2}).as_object().cloned().unwrap());
/// assert_eq!((args.take::<i64>("a"), args.take::<i64>("b")), (Some(1), Some(2)));
/// assert!(args.finish().is_ok());
/// ```
#[derive(Debug)]
pub struct ToolArgs<'a> {
    spec: &'a ToolSpec,
    args: Map,
    errors: Vec<String>,
    tool_call_id: Option<String>,
    context: Option<Arc<RunContext>>,
}

impl<'a> ToolArgs<'a> {
    /// The arguments `args` for the tool `spec` describes.
    pub fn new(spec: &'a ToolSpec, args: Map) -> Self {
        ToolArgs {
            spec,
            args,
            errors: Vec::new(),
            tool_call_id: None,
            context: None,
        }
    }

    pub(crate) fn with_call(mut self, tool_call_id: Option<String>, context: Option<Arc<RunContext>>) -> Self {
        self.tool_call_id = tool_call_id;
        self.context = context;
        self
    }

    fn expected(&self, name: &str) -> &str {
        self.spec.arg(name).map_or("a value", |a| a.expected())
    }

    /// Takes the argument `name` as a `T`; `None` when it is missing or does
    /// not fit (the problem is recorded for [`finish`](Self::finish)).
    pub fn take<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        match self.args.remove(name) {
            Some(mut v) => {
                if let Some(schema) = self.spec.arg_schema(name) {
                    lax::coerce_numeric_strings(self.spec, &mut v, schema);
                }
                match serde_path_to_error::deserialize::<_, T>(v) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        let msg = self.located(name, e.path(), e.inner());
                        self.errors.push(msg);
                        None
                    }
                }
            }
            None => match serde_json::from_value::<T>(Json::Null) {
                Ok(t) => Some(t),
                Err(_) => {
                    let msg = format!("missing argument `{name}` (expected {})", self.expected(name));
                    self.errors.push(msg);
                    None
                }
            },
        }
    }

    /// `` argument `address.zip` (expected string): invalid type: ... ``:
    /// a value that did not deserialize, named by its path inside the
    /// argument, with the JSON type the schema gives there.
    fn located(&self, name: &str, path: &serde_path_to_error::Path, error: &serde_json::Error) -> String {
        let mut at = name.to_owned();
        let mut schema = self.spec.arg_schema(name);
        for segment in path.iter() {
            let step = match segment {
                Segment::Seq { index } => {
                    at.push_str(&format!("[{index}]"));
                    Some(SchemaStep::Index(*index))
                }
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    at.push('.');
                    at.push_str(key);
                    Some(SchemaStep::Key(key))
                }
                Segment::Unknown => {
                    at.push_str(".?");
                    None
                }
            };
            schema = match (schema, step) {
                (Some(s), Some(step)) => self.spec.child_schema(s, step),
                _ => None,
            };
        }
        let expected = if path.iter().next().is_none() {
            Some(self.expected(name).to_owned())
        } else {
            schema.map(|s| describe(self.spec.resolve(s)))
        };
        match expected {
            Some(expected) => format!("argument `{at}` (expected {expected}): {error}"),
            None => format!("argument `{at}`: {error}"),
        }
    }

    /// Checks that every argument was taken and fitted; the error lists all
    /// problems, in argument order, then the unknown arguments.
    pub fn finish(&mut self) -> Result<()> {
        for name in self.args.keys() {
            self.errors.push(format!(
                "unknown argument `{name}` (the tool takes {})",
                self.spec.signature()
            ));
        }
        if self.errors.is_empty() {
            return Ok(());
        }
        // The message does not name the tool: the error's step does
        // (`step `add`: invalid arguments: ...`), as for any step's error.
        let message = format!("invalid arguments: {}", self.errors.join("; "));
        let tool: Arc<str> = Arc::from(self.spec.name());
        Err(Error::new(ErrorKind::InvalidInput, message).in_step(|| tool))
    }

    /// The id of the model's tool call the tool runs for.
    pub fn tool_call_id(&self) -> ToolCallId {
        ToolCallId(self.tool_call_id.clone())
    }

    /// The context of the tool's run (the tool run itself: runnables invoked
    /// in it nest under the tool).
    pub fn context(&self) -> Result<Arc<RunContext>> {
        self.context.clone().or_else(RunContext::current).ok_or_else(|| {
            Error::new(
                ErrorKind::Usage,
                format!("tool `{}` called outside a run", self.spec.name()),
            )
        })
    }
}
