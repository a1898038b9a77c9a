//! Prebuilt pieces: a node that runs a model's tool calls, and the ReAct
//! agent (a model that calls tools until it answers).

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::{CompiledGraph, Reducer, Route, SendTo, StateGraph, END, START};
use crate::context::{current, CallOpts, Scoped};
use crate::error::{Error, Result};
use crate::events::StepTag;
use crate::messages::{Message, ToolCall, ToolMessage, ToolStatus};
use crate::models::ChatModel;
use crate::runnable::run::invoke;
use crate::runnable::Lambda;
use crate::runnable::RunnableExt;
use crate::tools::{AsToolSpec, Tool, ToolFn, ToolInput, ToolOutput};
use crate::value::Chunk;

/// A tool as a graph runs it: by name, on a model's tool call, answering
/// with a [`ToolMessage`]. Every [`Tool`] is one.
pub trait GraphTool: AsToolSpec + Send + Sync {
    /// Runs the tool for `call` (as a run of its own beneath the current
    /// one) and returns its answer.
    fn answer<'a>(&'a self, call: ToolCall) -> BoxFuture<'a, Result<ToolMessage>>;
}

impl<F: ToolFn> GraphTool for Tool<F> {
    fn answer<'a>(&'a self, call: ToolCall) -> BoxFuture<'a, Result<ToolMessage>> {
        let id = call.id.clone().unwrap_or_default();
        let name = call.name.clone();
        Box::pin(async move {
            match self.invoke(ToolInput::Call(call)).await? {
                ToolOutput::Message(m) => Ok(m),
                ToolOutput::Value(v) => Ok(ToolMessage::new(serde_json::to_string(&v)?, id).with_name(name)),
                ToolOutput::Error(text) => Ok(ToolMessage::new(text, id)
                    .with_name(name)
                    .with_status(ToolStatus::Error)),
            }
        })
    }
}

/// Runs the tool calls of the last AI message in the state's `messages`,
/// concurrently, and answers with their `ToolMessage`s in call order (as
/// LangGraph's `ToolNode`). A failing tool, or a call naming no known tool,
/// gives an error `ToolMessage` the model can read, not a failed graph.
#[derive(Clone)]
#[must_use = "a node does nothing until it is added to a graph"]
pub struct ToolNode {
    tools: Vec<Arc<dyn GraphTool>>,
}

impl std::fmt::Debug for ToolNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolNode")
            .field(
                "tools",
                &self.tools.iter().map(|t| t.tool_spec().name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ToolNode {
    /// A node over these tools.
    pub fn new(tools: Vec<Arc<dyn GraphTool>>) -> Self {
        ToolNode { tools }
    }

    /// The tool calls of the last message of `messages`, if it is an AI one.
    fn pending_calls(messages: &Json) -> Result<Vec<ToolCall>> {
        let last = messages
            .as_array()
            .and_then(|m| m.last())
            .cloned()
            .unwrap_or(Json::Null);
        if last.is_null() {
            return Ok(Vec::new());
        }
        let message: Message = serde_json::from_value(last)?;
        Ok(message.tool_calls().to_vec())
    }

    /// The tool's message; an error becomes an error message the model can
    /// read, but an [`interrupt`](super::interrupt) goes through.
    async fn answer(&self, call: ToolCall) -> Result<ToolMessage> {
        let id = call.id.clone().unwrap_or_default();
        let name = call.name.clone();
        let Some(tool) = self.tools.iter().find(|t| t.tool_spec().name() == call.name) else {
            let known: Vec<&str> = self.tools.iter().map(|t| t.tool_spec().name()).collect();
            return Ok(ToolMessage::new(
                format!("Error: {name} is not a valid tool, try one of [{}].", known.join(", ")),
                id,
            )
            .with_name(name)
            .with_status(ToolStatus::Error));
        };
        match tool.answer(call).await {
            Ok(m) => Ok(m),
            Err(e) if e.kind() == crate::error::ErrorKind::Interrupted => Err(e),
            Err(e) => Ok(
                ToolMessage::new(format!("Error: {}\n Please fix your mistakes.", e.message()), id)
                    .with_name(name)
                    .with_status(ToolStatus::Error),
            ),
        }
    }

    /// Runs the calls `input` asks for and returns the update
    /// `{"messages": [...]}`: the one call of a `tool_call_with_context`
    /// (what the agent sends for each call), or the pending calls of the
    /// last AI message of a state's `messages`.
    pub async fn run(&self, input: &Json) -> Result<Json> {
        let calls = if input.get("__type").and_then(Json::as_str) == Some("tool_call_with_context") {
            vec![serde_json::from_value::<ToolCall>(input["tool_call"].clone())?]
        } else {
            Self::pending_calls(&input["messages"])?
        };
        let answers = futures::future::join_all(calls.into_iter().map(|c| self.answer(c))).await;
        let answers = answers.into_iter().collect::<Result<Vec<_>>>()?;
        Ok(json!({ "messages": answers }))
    }
}

/// The state of [`create_react_agent`]'s graph: the conversation.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AgentState {
    /// The messages so far (merged with LangGraph's `add_messages` rule).
    pub messages: Vec<Message>,
    /// How many steps remain before the recursion limit, as nodes see it
    /// (never part of the state the graph returns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_steps: Option<i64>,
}

impl Chunk for AgentState {}

impl AgentState {
    /// A conversation starting with one user message.
    pub fn user(text: impl Into<String>) -> Self {
        AgentState {
            messages: vec![Message::human(text.into())],
            remaining_steps: None,
        }
    }
}

/// A ReAct agent (LangGraph's `create_react_agent`): node `agent` asks the
/// model (with the tools bound); while its answer calls tools, each call is
/// sent to node `tools` as a task of its own, and the model is asked again.
///
/// Its runs are LangGraph's: `agent` runs `call_model` (the model behind a
/// `Prompt` step, in a `RunnableSequence`) and then `should_continue`, which
/// sends the tool calls; `tools` runs one tool per sent call.
///
/// ```
/// use runwright::graph::{create_react_agent, AgentState};
/// use runwright::messages::AIMessage;
/// use runwright::{FakeToolCallingChatModel, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let model = FakeToolCallingChatModel::new([AIMessage::new("No tools needed.")]);
/// let agent = create_react_agent(model, vec![])?;
/// let out = agent.invoke(AgentState::user("hi")).await?;
/// assert_eq!(out.messages.last().unwrap().text(), "No tools needed.");
/// # Ok(()) }
/// ```
pub fn create_react_agent<M>(model: M, tools: Vec<Arc<dyn GraphTool>>) -> Result<CompiledGraph<AgentState>>
where
    M: ChatModel + 'static,
{
    let specs: Vec<&dyn AsToolSpec> = tools.iter().map(|t| t.as_ref() as &dyn AsToolSpec).collect();
    let model = model.bind_tools(&specs);
    let prompt = Lambda::from_fn(|s: AgentState| Ok(s.messages)).named("Prompt");
    let ask = Arc::new(prompt | model);
    let call_model = Arc::new(
        Lambda::from_async(move |s: AgentState| {
            let ask = ask.clone();
            async move {
                // LangGraph's call_model invokes the model with its node's
                // config: the model's runs nest under the node, not under
                // call_model.
                let node = current().and_then(|c| c.parent().cloned());
                let answer = Scoped::new(node, ask.invoke(s)).await?;
                Ok(json!({ "messages": [answer] }))
            }
        })
        .named("call_model"),
    );
    let node = ToolNode::new(tools);
    StateGraph::<AgentState>::new()
        .reducer("messages", Reducer::AddMessages)
        .remaining_steps("remaining_steps")
        .add_node("agent", move |s: AgentState| {
            let call_model = call_model.clone();
            async move {
                let opts = CallOpts {
                    step: Some(StepTag::Seq(1)),
                    structural: true,
                    ..Default::default()
                };
                invoke(&*call_model, s, opts).await
            }
        })
        .add_json_node("tools", move |input: Json| {
            let node = node.clone();
            async move { node.run(&input).await }
        })
        .add_edge(START, "agent")
        .add_named_conditional_edges("agent", "should_continue", |s: &AgentState| -> Vec<Route> {
            let calls = s.messages.last().map(|m| m.tool_calls().to_vec()).unwrap_or_default();
            if calls.is_empty() {
                return vec![Route::Node(END.to_owned())];
            }
            let state = serde_json::to_value(s).unwrap_or(Json::Null);
            calls
                .into_iter()
                .map(|call| {
                    Route::Send(SendTo::new(
                        "tools",
                        json!({"__type": "tool_call_with_context", "tool_call": call, "state": state}),
                    ))
                })
                .collect()
        })
        .add_edge("tools", "agent")
        .compile()
        .map_err(|e| Error::new(e.kind(), format!("create_react_agent: {}", e.message())))
}
