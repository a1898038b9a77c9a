//! Trajectories: what a run did, step by step (model turns with their tool
//! calls, tool runs with their arguments and results, graph nodes), and
//! how to compare one with the trajectory a test expects.
//!
//! The vocabulary is agentevals': a [`TrajectoryMatch`] compares in mode
//! [`MatchMode::Strict`] (the same steps in the same order),
//! [`Unordered`](MatchMode::Unordered) (the same tool calls, in any order),
//! [`Subset`](MatchMode::Subset) (no tool call the expected trajectory does
//! not have) or [`Superset`](MatchMode::Superset) (every expected tool call,
//! and maybe more); tool arguments are compared with an [`ArgsMode`]
//! (`exact`, `ignore`, `subset`, `superset`), per tool if need be
//! ([`ArgsMatch`]). A mismatch shows both trajectories side by side with
//! the first divergence marked.
//!
//! ```
//! use runwright::messages::{AIMessage, ToolCall};
//! use runwright::{FakeToolCallingChatModel, Lambda, RunnableExt};
//! use runwright_recorder::trajectory::{ArgsMode, MatchMode, Trajectory, TrajectoryMatch};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let model = FakeToolCallingChatModel::new([AIMessage::new("")
//!     .with_tool_calls(vec![ToolCall::new("get_weather", json!({"city": "Paris", "unit": "C"}))])]);
//! let run = Trajectory::record(model.stream_events("weather in Paris?".into())).await;
//!
//! let expected = Trajectory::new().model_calls([("get_weather", json!({"city": "Paris"}))]);
//! assert!(TrajectoryMatch::new(MatchMode::Strict).check(&run, &expected).is_err());
//! TrajectoryMatch::new(MatchMode::Strict)
//!     .args(ArgsMode::Superset)
//!     .check(&run, &expected)
//!     .unwrap();
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use futures::Stream;
use runwright::{Result, StreamEvent};
use serde_json::Value;

use crate::Trace;

/// A tool call a model asked for: the tool's name and its arguments.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Call {
    /// The tool's name.
    pub name: String,
    /// Its arguments (a JSON object, usually).
    pub args: Value,
}

impl Call {
    /// A call of `name` with `args`.
    pub fn new(name: impl Into<String>, args: Value) -> Call {
        Call {
            name: name.into(),
            args,
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.args)
    }
}

/// One step of a [`Trajectory`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Step {
    /// A chat model's turn: the tool calls it answered with (none for a
    /// final answer), and its text.
    Model {
        /// The tool calls, in the order the model gave them.
        calls: Vec<Call>,
        /// What it said (not compared by any mode: models rephrase).
        text: String,
    },
    /// A tool's run: its name, arguments and result.
    Tool {
        /// The call: the tool's name and the arguments it ran with.
        call: Call,
        /// Its result: the text of a tool message, else the output's JSON
        /// (not compared by any mode).
        result: Option<Value>,
    },
    /// A graph node's run.
    Node {
        /// The node's name.
        name: String,
    },
}

impl Step {
    fn kind(&self) -> &'static str {
        match self {
            Step::Model { .. } => "model",
            Step::Tool { .. } => "tool",
            Step::Node { .. } => "node",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Model { calls, text } if calls.is_empty() => {
                write!(f, "model {}", serde_json::to_string(text).unwrap_or_default())
            }
            Step::Model { calls, .. } => {
                let calls: Vec<String> = calls.iter().map(Call::to_string).collect();
                write!(f, "model -> {}", calls.join(", "))
            }
            Step::Tool { call, result } => {
                write!(f, "tool {call}")?;
                match result {
                    Some(r) => write!(f, " = {r}"),
                    None => Ok(()),
                }
            }
            Step::Node { name } => write!(f, "node {name}"),
        }
    }
}

/// What a run did, step by step, in the order the steps started (the
/// trace's canonical order, so concurrent tool runs come in a stable
/// order). Made from a run's events ([`Trajectory::record`],
/// [`Trajectory::of`]), or written by hand as the expected one
/// ([`Trajectory::new`] and the builder methods).
///
/// Its `Display` is one step per line: what [`assert_trajectory_snapshot!`]
/// keeps.
///
/// [`assert_trajectory_snapshot!`]: crate::assert_trajectory_snapshot
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trajectory {
    steps: Vec<Step>,
}

impl fmt::Display for Trajectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            writeln!(f, "{s}")?;
        }
        Ok(())
    }
}

fn calls_of(message: &Value) -> Vec<Call> {
    message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| Call::new(c["name"].as_str().unwrap_or_default(), c["args"].clone()))
        .collect()
}

/// A tool run's arguments: its input, or the `args` of the tool call it was
/// given.
fn tool_args(input: &Value) -> Value {
    match input {
        Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("tool_call") => {
            m.get("args").cloned().unwrap_or(Value::Null)
        }
        other => other.clone(),
    }
}

impl Trajectory {
    /// An empty trajectory, to build the expected one.
    pub fn new() -> Trajectory {
        Trajectory::default()
    }

    /// Adds a model turn that called these tools.
    #[must_use]
    pub fn model_calls<N: Into<String>>(mut self, calls: impl IntoIterator<Item = (N, Value)>) -> Self {
        self.steps.push(Step::Model {
            calls: calls.into_iter().map(|(n, a)| Call::new(n, a)).collect(),
            text: String::new(),
        });
        self
    }

    /// Adds a model turn that answered without calling a tool.
    #[must_use]
    pub fn model_answer(mut self, text: impl Into<String>) -> Self {
        self.steps.push(Step::Model {
            calls: Vec::new(),
            text: text.into(),
        });
        self
    }

    /// Adds a tool run with these arguments (its result is not compared).
    #[must_use]
    pub fn tool(mut self, name: impl Into<String>, args: Value) -> Self {
        self.steps.push(Step::Tool {
            call: Call::new(name, args),
            result: None,
        });
        self
    }

    /// Adds a graph node's run.
    #[must_use]
    pub fn node(mut self, name: impl Into<String>) -> Self {
        self.steps.push(Step::Node { name: name.into() });
        self
    }

    /// The steps.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Every tool call the model turns asked for, in order.
    pub fn tool_calls(&self) -> Vec<&Call> {
        self.steps
            .iter()
            .flat_map(|s| match s {
                Step::Model { calls, .. } => calls.iter().collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The trajectory of a run, from its event stream.
    pub async fn record<S>(stream: S) -> Trajectory
    where
        S: Stream<Item = Result<StreamEvent>>,
    {
        Self::of(&Trace::record("trajectory", stream).await)
    }

    /// The trajectory of a recorded run: each chat model's turn (from its
    /// end event's message), each tool's run, and each graph node's run
    /// (the runs tagged `graph:step:N`), in the order they started.
    pub fn of(trace: &Trace) -> Trajectory {
        struct Pending {
            step: Step,
            done: bool,
        }
        let mut order: Vec<String> = Vec::new();
        let mut runs: HashMap<String, Pending> = HashMap::new();
        for ev in trace.events() {
            let (Some(event), Some(id)) = (
                ev.get("event").and_then(Value::as_str),
                ev.get("run_id").and_then(Value::as_str),
            ) else {
                continue;
            };
            let name = ev["name"].as_str().unwrap_or_default();
            let data = &ev["data"];
            match event {
                "on_chat_model_start" | "on_llm_start" => {
                    order.push(id.into());
                    runs.insert(
                        id.into(),
                        Pending {
                            step: Step::Model {
                                calls: Vec::new(),
                                text: String::new(),
                            },
                            done: false,
                        },
                    );
                }
                "on_tool_start" => {
                    order.push(id.into());
                    let args = data.get("input").map(tool_args).unwrap_or(Value::Null);
                    runs.insert(
                        id.into(),
                        Pending {
                            step: Step::Tool {
                                call: Call::new(name, args),
                                result: None,
                            },
                            done: false,
                        },
                    );
                }
                "on_chain_start" => {
                    let node = ev["tags"]
                        .as_array()
                        .is_some_and(|t| t.iter().filter_map(Value::as_str).any(|t| t.starts_with("graph:step:")));
                    if node {
                        order.push(id.into());
                        runs.insert(
                            id.into(),
                            Pending {
                                step: Step::Node { name: name.into() },
                                done: true,
                            },
                        );
                    }
                }
                "on_chat_model_end" | "on_llm_end" => {
                    if let Some(p) = runs.get_mut(id) {
                        let out = data.get("output").cloned().unwrap_or(Value::Null);
                        // An LLM's output is a generation list; a chat
                        // model's a message.
                        let message = out.pointer("/generations/0/0/message").cloned().unwrap_or(out.clone());
                        let text = crate::view::chunk_text(&message)
                            .or_else(|| {
                                out.pointer("/generations/0/0/text")
                                    .and_then(Value::as_str)
                                    .map(Into::into)
                            })
                            .unwrap_or_default();
                        p.step = Step::Model {
                            calls: calls_of(&message),
                            text,
                        };
                        p.done = true;
                    }
                }
                "on_tool_end" => {
                    if let Some(Pending {
                        step: Step::Tool { call, result },
                        done,
                    }) = runs.get_mut(id)
                    {
                        if let Some(input) = data.get("input") {
                            if call.args.is_null() {
                                call.args = tool_args(input);
                            }
                        }
                        *result = data
                            .get("output")
                            .map(|o| crate::view::chunk_text(o).map(Value::String).unwrap_or(o.clone()));
                        *done = true;
                    }
                }
                _ => {}
            }
        }
        Trajectory {
            steps: order
                .into_iter()
                .filter_map(|id| runs.remove(&id))
                .map(|p| p.step)
                .collect(),
        }
    }
}

/// How two trajectories must agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchMode {
    /// The same steps in the same order: models and their tool calls, tool
    /// runs, graph nodes. Texts and tool results are not compared.
    Strict,
    /// The same tool calls, each matched once, in any order.
    Unordered,
    /// Every tool call the run made is one of the expected ones: it did
    /// nothing it should not have.
    Subset,
    /// Every expected tool call is one the run made: it did at least that.
    Superset,
}

/// How a tool call's arguments must agree with the expected call's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgsMode {
    /// Equal.
    Exact,
    /// Not compared: the tool's name is enough.
    Ignore,
    /// Every argument the run passed has the expected value (it may leave
    /// some out).
    Subset,
    /// Every expected argument was passed with the expected value (it may
    /// pass more).
    Superset,
}

type Matcher = Arc<dyn Fn(&Value, &Value) -> bool + Send + Sync>;

/// How one tool's arguments are compared, overriding the [`ArgsMode`].
#[derive(Clone)]
#[non_exhaustive]
pub enum ArgsMatch {
    /// One of the modes.
    Mode(ArgsMode),
    /// These fields must be equal (dotted paths into nested objects:
    /// `address.city`); the others are ignored.
    Keys(Vec<String>),
    /// A function of (the run's arguments, the expected ones).
    Custom(Matcher),
}

impl fmt::Debug for ArgsMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgsMatch::Mode(m) => f.debug_tuple("Mode").field(m).finish(),
            ArgsMatch::Keys(k) => f.debug_tuple("Keys").field(k).finish(),
            ArgsMatch::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl ArgsMatch {
    /// Compares with a function of (the run's arguments, the expected ones).
    pub fn custom(f: impl Fn(&Value, &Value) -> bool + Send + Sync + 'static) -> ArgsMatch {
        ArgsMatch::Custom(Arc::new(f))
    }

    fn matches(&self, actual: &Value, expected: &Value) -> bool {
        match self {
            ArgsMatch::Mode(ArgsMode::Exact) => actual == expected,
            ArgsMatch::Mode(ArgsMode::Ignore) => true,
            ArgsMatch::Mode(ArgsMode::Subset) => contains(expected, actual),
            ArgsMatch::Mode(ArgsMode::Superset) => contains(actual, expected),
            ArgsMatch::Keys(keys) => keys.iter().all(|k| at(actual, k) == at(expected, k)),
            ArgsMatch::Custom(f) => f(actual, expected),
        }
    }
}

/// Whether every top-level argument of `part` is in `whole` with the same
/// value (values equal for anything that is not an object).
fn contains(whole: &Value, part: &Value) -> bool {
    match (whole, part) {
        (Value::Object(w), Value::Object(p)) => p.iter().all(|(k, v)| w.get(k) == Some(v)),
        (w, p) => w == p,
    }
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, part| cur.get(part))
}

/// A comparison of a run's trajectory with the expected one.
///
/// ```
/// use runwright_recorder::trajectory::{ArgsMatch, ArgsMode, MatchMode, Trajectory, TrajectoryMatch};
/// use serde_json::json;
///
/// let run = Trajectory::new()
///     .model_calls([("search", json!({"q": "rust", "page": 2})), ("clock", json!({}))]);
/// let expected = Trajectory::new().model_calls([("search", json!({"q": "rust"}))]);
/// let check = TrajectoryMatch::new(MatchMode::Superset).tool_args("search", ArgsMatch::Keys(vec!["q".into()]));
/// check.check(&run, &expected).unwrap();
/// let err = TrajectoryMatch::new(MatchMode::Subset).args(ArgsMode::Ignore).check(&run, &expected).unwrap_err();
/// assert!(err.to_string().contains("clock({})"), "{err}");
/// ```
#[derive(Clone, Debug)]
pub struct TrajectoryMatch {
    mode: MatchMode,
    args: ArgsMode,
    overrides: HashMap<String, ArgsMatch>,
}

/// Why two trajectories do not match: its `Display` shows them side by side,
/// the first divergence marked.
#[derive(Clone, Debug, PartialEq)]
pub struct TrajectoryMismatch {
    /// What did not hold.
    pub reason: String,
    /// The run's side, one line each: its steps in strict mode, else its
    /// tool calls.
    pub actual: Vec<String>,
    /// The expected side, as `actual`.
    pub expected: Vec<String>,
    /// The line marked: where the two part in strict mode, else the line of
    /// the call missing or not expected.
    pub at: Option<usize>,
    /// Whether the sides are tool calls (every mode but strict), not steps.
    pub tool_calls: bool,
}

impl fmt::Display for TrajectoryMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "trajectories do not match: {}", self.reason)?;
        let width = self
            .actual
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
            .max("run".len());
        let (left, right) = if self.tool_calls {
            ("the run's tool calls", "expected")
        } else {
            ("the run", "expected")
        };
        let width = width.max(left.len());
        writeln!(f, "     {left:<width$} | {right}")?;
        for i in 0..self.actual.len().max(self.expected.len()) {
            let mark = if self.at == Some(i) { ">>" } else { "  " };
            let a = self.actual.get(i).map(String::as_str).unwrap_or("");
            let e = self.expected.get(i).map(String::as_str).unwrap_or("");
            let line = format!("{mark}{i:>2} {a:<width$} | {e}");
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

impl std::error::Error for TrajectoryMismatch {}

impl TrajectoryMatch {
    /// A comparison in `mode`, tool arguments compared exactly.
    pub fn new(mode: MatchMode) -> TrajectoryMatch {
        TrajectoryMatch {
            mode,
            args: ArgsMode::Exact,
            overrides: HashMap::new(),
        }
    }

    /// Compares tool arguments in this mode.
    #[must_use]
    pub fn args(mut self, mode: ArgsMode) -> Self {
        self.args = mode;
        self
    }

    /// Compares the arguments of calls of `tool` this way.
    #[must_use]
    pub fn tool_args(mut self, tool: impl Into<String>, how: ArgsMatch) -> Self {
        self.overrides.insert(tool.into(), how);
        self
    }

    fn call_matches(&self, actual: &Call, expected: &Call) -> bool {
        actual.name == expected.name
            && match self.overrides.get(&actual.name) {
                Some(how) => how.matches(&actual.args, &expected.args),
                None => ArgsMatch::Mode(self.args).matches(&actual.args, &expected.args),
            }
    }

    fn step_matches(&self, actual: &Step, expected: &Step) -> bool {
        match (actual, expected) {
            (Step::Model { calls: a, .. }, Step::Model { calls: e, .. }) => {
                a.len() == e.len() && a.iter().zip(e).all(|(a, e)| self.call_matches(a, e))
            }
            (Step::Tool { call: a, .. }, Step::Tool { call: e, .. }) => self.call_matches(a, e),
            (Step::Node { name: a }, Step::Node { name: e }) => a == e,
            _ => false,
        }
    }

    /// Each of `wanted` matched to a distinct one of `have` (the first that
    /// fits, in order); the index of the first that has none.
    fn unmatched(&self, have: &[&Call], wanted: &[&Call], have_is_actual: bool) -> Option<usize> {
        let mut used = vec![false; have.len()];
        for (j, w) in wanted.iter().enumerate() {
            let found = (0..have.len()).find(|&i| {
                !used[i]
                    && if have_is_actual {
                        self.call_matches(have[i], w)
                    } else {
                        self.call_matches(w, have[i])
                    }
            });
            match found {
                Some(i) => used[i] = true,
                None => return Some(j),
            }
        }
        None
    }

    /// Compares `actual` (the run's) with `expected`.
    pub fn check(&self, actual: &Trajectory, expected: &Trajectory) -> std::result::Result<(), TrajectoryMismatch> {
        let (a, e) = (actual.tool_calls(), expected.tool_calls());
        match self.mode {
            MatchMode::Strict => {
                let fail = |reason: String, at: usize| TrajectoryMismatch {
                    reason,
                    actual: actual.steps.iter().map(Step::to_string).collect(),
                    expected: expected.steps.iter().map(Step::to_string).collect(),
                    at: Some(at),
                    tool_calls: false,
                };
                let n = actual.steps.len().min(expected.steps.len());
                if let Some(i) = (0..n).find(|&i| !self.step_matches(&actual.steps[i], &expected.steps[i])) {
                    let (x, y) = (&actual.steps[i], &expected.steps[i]);
                    let why = if x.kind() != y.kind() {
                        format!("step {i} is a {} step, expected a {} step", x.kind(), y.kind())
                    } else {
                        format!("step {i} differs")
                    };
                    return Err(fail(why, i));
                }
                if actual.steps.len() != expected.steps.len() {
                    return Err(fail(
                        format!(
                            "the run has {} steps, {} expected",
                            actual.steps.len(),
                            expected.steps.len()
                        ),
                        n,
                    ));
                }
                Ok(())
            }
            MatchMode::Unordered | MatchMode::Subset | MatchMode::Superset => {
                // These modes compare tool calls: the mismatch shows those,
                // the offending one marked.
                let fail = |reason: String, at: usize| TrajectoryMismatch {
                    reason,
                    actual: a.iter().map(|c| c.to_string()).collect(),
                    expected: e.iter().map(|c| c.to_string()).collect(),
                    at: Some(at),
                    tool_calls: true,
                };
                if matches!(self.mode, MatchMode::Unordered | MatchMode::Superset) {
                    if let Some(i) = self.unmatched(&a, &e, true) {
                        return Err(fail(format!("expected tool call {} was not made", e[i]), i));
                    }
                }
                if matches!(self.mode, MatchMode::Unordered | MatchMode::Subset) {
                    if let Some(i) = self.unmatched(&e, &a, false) {
                        return Err(fail(format!("tool call {} was not expected", a[i]), i));
                    }
                }
                Ok(())
            }
        }
    }
}

/// Snapshots a run's trajectory (one step per line) with insta, as
/// [`assert_events_snapshot!`](crate::assert_events_snapshot) does its run
/// tree: `assert_trajectory_snapshot!(stream)` or
/// `assert_trajectory_snapshot!("name", stream)`, in an `async` test.
#[cfg(feature = "snapshot")]
#[macro_export]
macro_rules! assert_trajectory_snapshot {
    ($stream:expr $(,)?) => {{
        let __rw_trajectory = $crate::trajectory::Trajectory::record($stream).await;
        $crate::__private::insta::assert_snapshot!(
            $crate::__private::insta::internals::AutoName,
            __rw_trajectory.to_string(),
            ::std::stringify!($stream)
        );
    }};
    ($name:expr, $stream:expr $(,)?) => {{
        let __rw_trajectory = $crate::trajectory::Trajectory::record($stream).await;
        $crate::__private::insta::assert_snapshot!($name, __rw_trajectory.to_string(), ::std::stringify!($stream));
    }};
}
