//! Graphs of steps over a shared state (LangGraph's `StateGraph`), run in
//! supersteps, with LangGraph's stream modes.
//!
//! A node is a function (or runnable) from the state to a partial update;
//! updates are folded into the state key by key with each key's
//! [`Reducer`]. Nodes triggered in the same step run concurrently (each
//! starts before any of them streams, then ends as it completes), and their
//! updates are applied after the step in LangGraph's task order: by node
//! name, then the [`SendTo`] tasks in the order they were sent. That order
//! also decides the order of the `updates`, and of the stream writer's items
//! of nodes that do not wait.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use serde_json::json;
//! use runwright::graph::{StateGraph, END, START};
//! use runwright::RunnableExt;
//!
//! #[derive(Clone, Serialize, Deserialize)]
//! struct State { x: i64 }
//! impl runwright::Chunk for State {}
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
//! let graph = StateGraph::<State>::new()
//!     .add_node("double", |s: State| async move { Ok(json!({"x": s.x * 2})) })
//!     .add_edge(START, "double")
//!     .add_edge("double", END)
//!     .compile()?;
//! assert_eq!(graph.invoke(State { x: 21 }).await?.x, 42);
//! # Ok(()) }
//! ```

// By concept: `builder` (StateGraph, its checks), `routing` (edges,
// conditional edges, the next step's tasks), `pregel` (CompiledGraph's
// superstep loop), `task` (a task as a node run, its `langgraph_*`
// metadata), `mode` (StreamMode and its local items), `outlet` (where
// stream-mode items go), `stream` (the stream that yields them), `reducer`,
// `prebuilt`.

mod builder;
pub mod checkpoint;
mod durable;
mod interrupt;
mod mode;
mod outlet;
mod prebuilt;
mod pregel;
mod reducer;
mod routing;
mod state;
mod stream;
mod task;

pub use builder::StateGraph;
pub use durable::Durability;
pub use interrupt::{interrupt, Command, Goto, GraphInterrupt, Interrupt, Resume};
pub use mode::StreamMode;
pub use prebuilt::{create_react_agent, AgentState, GraphTool, ToolNode};
pub use pregel::{CompiledGraph, DEFAULT_RECURSION_LIMIT};
pub use reducer::Reducer;
pub use routing::{Route, SendTo, Targets};
pub use state::{StateSnapshot, TaskSnapshot, TaskState};
pub use stream::{GraphStream, SubgraphStream};

/// The graph's entry: `add_edge(START, "first_node")`.
pub const START: &str = "__start__";
/// The graph's exit: `add_edge("last_node", END)`.
pub const END: &str = "__end__";
