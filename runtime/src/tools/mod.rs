//! Tools: functions a model can call, as runnables.
//!
//! A tool is a [`Tool`]: a [`Runnable`] of run type
//! [`RunType::Tool`] that has a name, a description
//! and a JSON schema of its arguments (its [`ToolSpec`]). It takes a
//! [`ToolInput`] (a JSON object of arguments, a bare string for a tool with
//! one argument, or a model's [`ToolCall`](crate::ToolCall)), checks the
//! arguments against the schema, runs, and gives a [`ToolOutput`] (the
//! value, or a [`ToolMessage`] answering the call).
//!
//! Write one with the [`#[tool]`](crate::tool) attribute on a function; its
//! doc comment is the description, and its argument list describes the
//! arguments:
//!
//! ```
//! use runwright::{tool, RunnableExt};
//! use serde_json::json;
//!
//! /// Reverses a word.
//! ///
//! /// * `word` - the word to reverse
//! #[tool]
//! fn reverse(word: String) -> String {
//!     word.chars().rev().collect()
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
//! assert_eq!(reverse.spec().description(), "Reverses a word.");
//! assert_eq!(reverse.spec().parameters()["properties"]["word"]["description"], "the word to reverse");
//! let out = reverse.invoke(json!({"word": "hello"}).into()).await?;
//! assert_eq!(out.into_value().as_deref(), Some("olleh"));
//! # Ok(()) }
//! ```
//!
//! # Struct and enum arguments
//!
//! An argument can be any type that deserializes from JSON and has a JSON
//! schema ([`ToolArg`]). For a struct or an enum of your own, put
//! [`#[tool_arg]`](crate::tool_arg) on it: it derives serde's `Deserialize`
//! and schemars' `JsonSchema` through runwright, so `runwright` is the only
//! dependency you need. Its doc comments describe its fields to the model.
//!
//! ```
//! use runwright::{tool, tool_arg, RunnableExt};
//! use serde_json::json;
//!
//! /// A line of an order.
//! #[tool_arg]
//! struct Item {
//!     /// What to order.
//!     name: String,
//!     quantity: u32,
//! }
//!
//! /// How fast to ship.
//! #[tool_arg]
//! #[serde(rename_all = "lowercase")]
//! enum Speed {
//!     Standard,
//!     Express,
//! }
//!
//! /// Places an order.
//! ///
//! /// * `items` - what to order
//! /// * `speed` - how fast to ship
//! #[tool]
//! fn order(items: Vec<Item>, speed: Speed) -> String {
//!     let count: u32 = items.iter().map(|i| i.quantity).sum();
//!     format!("{count} items, {}", if matches!(speed, Speed::Express) { "express" } else { "standard" })
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
//! let args = json!({"items": [{"name": "tea", "quantity": 2}], "speed": "express"});
//! assert_eq!(order.invoke(args.into()).await?.into_value().as_deref(), Some("2 items, express"));
//!
//! // A problem inside an argument is named by its path.
//! let args = json!({"items": [{"name": "tea", "quantity": 2}, {"name": 7, "quantity": 1}], "speed": "express"});
//! let err = order.invoke(args.into()).await.unwrap_err();
//! assert_eq!(
//!     err.message(),
//!     "invalid arguments: argument `items[1].name` (expected string): invalid type: integer `7`, expected a string"
//! );
//! # Ok(()) }
//! ```
//!
//! # How arguments are read
//!
//! Every problem with the arguments is reported at once, before the tool's
//! body runs, as an [`ErrorKind::InvalidInput`] error whose step is the
//! tool; each names the argument or the field (`address.zip`,
//! `items[2].name`) and the JSON type the schema gives it ([`ToolArgs`] has
//! the rules). As in LangChain, whose tools validate with pydantic in its
//! default (lax) mode, a string that spells a number is read as that number
//! where the schema asks for one: `"21.5"` for an `f64`, `"3"` and `"3.0"`
//! for an integer (but not `"3.5"`). Small models quote numbers often
//! enough that refusing them would fail calls that LangChain accepts.
//! Nothing else is coerced: not booleans, not numbers into strings.
//!
//! A tool needs no config parameter to make the runnables it calls show up
//! in event streams: the run context is implicit, so everything a tool
//! invokes nests under the tool's run, also in tasks started with
//! [`spawn`](crate::spawn).

mod args;
mod input;
mod lax;
mod output;
mod spec;

use crate::context::intercept;
use crate::intercept::{replay_json, CallKind};
use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value as Json;

use crate::error::{Error, ErrorKind, Result};
use crate::messages::{ToolMessage, ToolStatus};
use crate::runnable::{impl_pipe_operator, RunType, Runnable};
use crate::value::{Map, Payload};

pub use args::ToolArgs;
pub use input::{ToolCallId, ToolInput};
pub use output::ToolOutput;
pub use schemars::{self, JsonSchema};
pub use spec::{AsToolSpec, ToolArg, ToolArgSpec, ToolSpec, ToolSpecBuilder};

/// A tool's function: what `#[tool]` implements for you. Implement it by
/// hand for a tool whose arguments are only known at run time.
///
/// ```
/// use std::sync::OnceLock;
/// use futures::future::BoxFuture;
/// use runwright::tools::{Tool, ToolArgs, ToolFn, ToolSpec};
/// use runwright::RunnableExt;
///
/// struct Add;
/// impl ToolFn for Add {
///     type Output = i64;
///     fn spec(&self) -> &ToolSpec {
///         static SPEC: OnceLock<ToolSpec> = OnceLock::new();
///         SPEC.get_or_init(|| ToolSpec::builder("add", "Adds two numbers.").arg::<i64>("a", None).arg::<i64>("b", None).build())
///     }
///     fn call<'a>(&'a self, mut args: ToolArgs<'a>) -> BoxFuture<'a, runwright::Result<i64>> {
///         let (a, b) = (args.take::<i64>("a"), args.take::<i64>("b"));
///         let checked = args.finish();
///         Box::pin(async move {
///             checked?;
///             Ok(a.unwrap_or_default() + b.unwrap_or_default())
///         })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let add = Tool::new(Add);
/// let out = add.invoke(serde_json::json!({"a": 1, "b": 2}).into()).await.unwrap();
/// assert_eq!(out.into_value(), Some(3));
/// # }
/// ```
pub trait ToolFn: Send + Sync + 'static {
    /// What the function returns.
    type Output: Clone + Serialize + Send + Sync + 'static;

    /// The tool's name, description and argument schema.
    fn spec(&self) -> &ToolSpec;

    /// Runs the function. It must [`take`](ToolArgs::take) its arguments
    /// and call [`finish`](ToolArgs::finish) before doing anything, and fail
    /// with `finish`'s error if there is one.
    fn call<'a>(&'a self, args: ToolArgs<'a>) -> BoxFuture<'a, Result<Self::Output>>;

    /// Makes the function's value again from its recorded JSON, for a
    /// replay ([`intercept`](crate::intercept)) of a tool called with plain
    /// arguments (a model's tool call replays as its message, whatever the
    /// value's type). `#[tool]` functions whose value type implements
    /// `Deserialize` give it; `None` (the default): it cannot be replayed.
    fn replay_output(&self, recorded: Json) -> Option<Result<Self::Output>> {
        let _ = recorded;
        None
    }
}

/// How a tool that handles its errors turns one into the text the model
/// (or the caller) gets instead.
pub type ToolErrorHandler = fn(&Error) -> String;

fn error_message(e: &Error) -> String {
    e.message().to_owned()
}

/// A tool: a function with a name, a description and a JSON schema of its
/// arguments, which a model can be told about ([`ToolSpec`]) and which runs
/// as a step of run type `tool`.
///
/// `#[tool]` makes one from a function (a constant named after it); by hand,
/// [`Tool::new`] wraps a [`ToolFn`]. Invoked with:
///
/// - a JSON object: the arguments, checked against the schema (see
///   [`ToolArgs`] for the rules); the output is the function's value;
/// - a bare string: the value of the tool's only argument (a tool with more
///   arguments rejects it); in events, its start shows `{}` and its end
///   `null`, as LangChain's do;
/// - a model's [`ToolCall`](crate::ToolCall): the tool runs on its `args`
///   and answers with a [`ToolMessage`] carrying the call's id, the tool's
///   name and `status: "success"`.
///
/// A failing tool emits `on_tool_error` (`{error, input, tool_call_id}`) and
/// fails. With [`handle_errors`](Tool::handle_errors) it instead ends
/// normally with the error's text (in a `ToolMessage` with
/// `status: "error"` for a tool call), so a model can read what went wrong;
/// this covers invalid arguments too.
#[must_use = "a runnable does nothing until invoked or streamed"]
pub struct Tool<F> {
    f: F,
    on_error: Option<ToolErrorHandler>,
    secrets: crate::intercept::Secrets,
}

/// Shows the tool's name and whether it handles its errors, not the
/// function.
impl<F: ToolFn> std::fmt::Debug for Tool<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.spec().name())
            .field("handles_errors", &self.on_error.is_some())
            .finish()
    }
}

impl<F: Clone> Clone for Tool<F> {
    fn clone(&self) -> Self {
        Tool {
            f: self.f.clone(),
            on_error: self.on_error,
            secrets: self.secrets,
        }
    }
}

impl<F: Copy> Copy for Tool<F> {}

impl<F> Tool<F> {
    /// The tool running `f`.
    pub const fn new(f: F) -> Self {
        Tool {
            f,
            on_error: None,
            secrets: crate::intercept::Secrets::NONE,
        }
    }

    /// Marks arguments secret: a recording (or any interceptor that keeps
    /// calls) never writes their values, in the call's input or anywhere
    /// else they show up, and matches calls without them.
    ///
    /// ```
    /// use runwright::tool;
    ///
    /// /// Looks up an account.
    /// ///
    /// /// * `user` - whose account
    /// /// * `token` - the account service's token
    /// #[tool]
    /// fn account(user: String, token: String) -> String {
    ///     format!("{user}: active")
    /// }
    ///
    /// let account_tool = account.secret_args(&["token"]);
    /// # let _ = account_tool;
    /// ```
    pub const fn secret_args(mut self, args: &'static [&'static str]) -> Self {
        self.secrets.input = args;
        self
    }

    /// Marks the tool's output secret: a recording keeps it as redacted,
    /// and its replay gives back that marker, not the output.
    pub const fn secret_output(mut self) -> Self {
        self.secrets.output = true;
        self
    }

    /// Turns errors (the function's and invalid arguments) into the
    /// error's message, given as the tool's output (LangChain's
    /// `handle_tool_error=True`).
    pub const fn handle_errors(self) -> Self {
        self.handle_errors_with(error_message)
    }

    /// Turns errors into the text `handler` makes of them.
    pub const fn handle_errors_with(mut self, handler: ToolErrorHandler) -> Self {
        self.on_error = Some(handler);
        self
    }

    /// The function.
    pub fn function(&self) -> &F {
        &self.f
    }
}

impl<F: ToolFn> Tool<F> {
    /// The tool's name, description and argument schema.
    pub fn spec(&self) -> &ToolSpec {
        self.f.spec()
    }

    /// The arguments an input stands for, or why it has none that fit.
    fn arguments(&self, input: ToolInput) -> (Result<Map>, Option<String>) {
        let spec = self.f.spec();
        match input {
            ToolInput::Call(call) => (Ok(call.args), call.id),
            ToolInput::Args(Json::Object(m)) => (Ok(m), None),
            ToolInput::Args(other) => {
                let got = match &other {
                    Json::Null => "null".to_owned(),
                    other => format!("{} `{other}`", json_kind(other)),
                };
                let msg = format!("the arguments must be a JSON object ({}), got {got}", spec.signature(),);
                (Err(self.input_error(msg)), None)
            }
            ToolInput::Text(text) => match spec.args() {
                [only] => {
                    let mut m = Map::new();
                    m.insert(only.name().to_owned(), Json::String(text));
                    (Ok(m), None)
                }
                _ => {
                    let msg = format!(
                        "a bare string fits only a tool with one argument; this one takes {}",
                        spec.signature()
                    );
                    (Err(self.input_error(msg)), None)
                }
            },
        }
    }

    /// An error of the tool's input. Its message does not name the tool:
    /// its step does, as `Display` shows (`step `book`: ...`).
    fn input_error(&self, message: String) -> Error {
        let name: Arc<str> = Arc::from(self.f.spec().name());
        Error::new(ErrorKind::InvalidInput, message).in_step(|| name)
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

impl<F: ToolFn> AsToolSpec for Tool<F> {
    fn tool_spec(&self) -> &ToolSpec {
        self.f.spec()
    }
}

impl<F: ToolFn> Runnable for Tool<F> {
    type Input = ToolInput;
    type Output = ToolOutput<F::Output>;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.f.spec().name())
    }

    fn run_type(&self) -> RunType {
        RunType::Tool
    }

    /// A tool's events show its arguments: `null` for a bare string (the
    /// start then shows `{}`), the call's `args` for a tool call.
    fn input_payload(&self, input: &ToolInput) -> Payload {
        match input {
            ToolInput::Text(_) => Payload::new(Json::Null),
            ToolInput::Args(a) => Payload::new(a.clone()),
            ToolInput::Call(c) => Payload::new(c.args.clone()),
        }
    }

    fn tool_call_id(&self, input: &ToolInput) -> Option<String> {
        input.tool_call_id().map(str::to_owned)
    }

    fn invoke_body<'a>(&'a self, input: ToolInput) -> BoxFuture<'a, Result<Self::Output>> {
        // The function is the tool's side effect: through the interceptor
        // installed above (a recording), if any, recorded or replayed.
        Box::pin(async move {
            let out = intercept::call_through(
                CallKind::Tool,
                self.secrets,
                input,
                tool_input_json,
                move |input| async move { self.run(input).await.map(Tagged) },
                |v| self.untag(v),
                |_| {
                    Err(Error::new(
                        ErrorKind::InvalidInput,
                        "a tool's recorded call has no chunks",
                    ))
                },
            )
            .await?;
            Ok(out.0)
        })
    }
}

/// What an interceptor sees of a tool call: its arguments, or its text.
fn tool_input_json(input: &ToolInput) -> Json {
    match input {
        ToolInput::Text(t) => Json::String(t.clone()),
        ToolInput::Args(a) => a.clone(),
        ToolInput::Call(c) => Json::Object(c.args.clone()),
    }
}

/// A tool's output as it is recorded: tagged, so that a replay knows a
/// model's tool call answer from a plain value or a handled error.
struct Tagged<T>(ToolOutput<T>);

impl<T: Serialize> Serialize for Tagged<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match &self.0 {
            ToolOutput::Value(v) => m.serialize_entry("value", v)?,
            ToolOutput::Error(e) => m.serialize_entry("handled_error", e)?,
            ToolOutput::Message(msg) => m.serialize_entry("message", msg)?,
        }
        m.end()
    }
}

impl<F: ToolFn> Tool<F> {
    /// A recorded output, made again.
    fn untag(&self, recorded: Json) -> Result<Tagged<F::Output>> {
        let name = self.f.spec().name();
        let bad = |why: String| Error::new(ErrorKind::InvalidInput, format!("tool `{name}`: {why}"));
        let Json::Object(mut m) = recorded else {
            return Err(bad("the recorded output is not a tagged object".into()));
        };
        if let Some(msg) = m.remove("message") {
            return replay_json(name, msg).map(|m| Tagged(ToolOutput::Message(m)));
        }
        if let Some(Json::String(text)) = m.remove("handled_error") {
            return Ok(Tagged(ToolOutput::Error(text)));
        }
        match m.remove("value") {
            Some(v) => match self.f.replay_output(v) {
                Some(out) => out.map(|v| Tagged(ToolOutput::Value(v))),
                None => Err(bad(
                    "its value type cannot be made from JSON, so a call with plain arguments cannot be replayed".into(),
                )),
            },
            None => Err(bad("the recorded output has no value, message or handled error".into())),
        }
    }

    /// Runs the function on `input` and makes its output.
    async fn run(&self, input: ToolInput) -> Result<ToolOutput<F::Output>> {
        let (args, call_id) = self.arguments(input);
        let result = match args {
            Ok(args) => {
                let args = ToolArgs::new(self.f.spec(), args)
                    .with_call(call_id.clone(), crate::context::RunContext::current());
                self.f.call(args).await
            }
            Err(e) => Err(e),
        };
        let name = self.f.spec().name();
        match (result, call_id) {
            (Ok(value), None) => Ok(ToolOutput::Value(value)),
            (Ok(value), Some(id)) => {
                let content = output::message_content(&value);
                Ok(ToolOutput::Message(ToolMessage::new(content, id).with_name(name)))
            }
            (Err(e), call_id) => {
                // An interrupt goes through to the graph, handled or not.
                let Some(handler) = self.on_error.filter(|_| e.kind() != ErrorKind::Interrupted) else {
                    return Err(e);
                };
                let text = handler(&e);
                Ok(match call_id {
                    None => ToolOutput::Error(text),
                    Some(id) => ToolOutput::Message(
                        ToolMessage::new(text, id)
                            .with_name(name)
                            .with_status(ToolStatus::Error),
                    ),
                })
            }
        }
    }
}

impl_pipe_operator!([F] Tool<F>);
