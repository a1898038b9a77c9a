//! [`ToolArgs`]: a tool's incoming arguments, checked against its spec.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use super::input::ToolCallId;
use super::spec::ToolSpec;
use crate::context::RunContext;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Map;

/// The arguments a tool was called with, taken one by one by the tool's
/// function ([`take`](Self::take)), then checked as a whole
/// ([`finish`](Self::finish)).
///
/// Every problem is collected, and `finish` reports them all in one
/// [`ErrorKind::InvalidInput`] error, each naming the argument and the JSON
/// type it expects; the tool's body runs only if there is none. The rules:
///
/// - a missing argument is an error, unless its type accepts `null` (an
///   `Option`), which then gets `null`;
/// - a value that does not deserialize into the argument's type is an error;
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
///     err.message(),
///     "invalid arguments for tool `add`: argument `a` (expected integer): invalid type: \
///      string \"one\", expected i64; missing argument `b` (expected integer); \
///      unknown argument `c` (the tool takes `a` (integer), `b` (integer))"
/// );
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
            Some(v) => match serde_json::from_value::<T>(v) {
                Ok(t) => Some(t),
                Err(e) => {
                    let msg = format!("argument `{name}` (expected {}): {e}", self.expected(name));
                    self.errors.push(msg);
                    None
                }
            },
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
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "invalid arguments for tool `{}`: {}",
                self.spec.name(),
                self.errors.join("; ")
            ),
        ))
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
