//! A compiled graph behind JSON: what the Agent Server's handlers need of
//! it, whatever its state type.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::StreamExt;
use runwright::graph::checkpoint::{Checkpointer, InMemorySaver, ListOptions};
use runwright::graph::{Command, CompiledGraph, StateSnapshot, StreamMode};
use runwright::value::Data;
use runwright::RunConfig;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::error::ApiError;

/// What a run starts from: an input, or a command to a thread waiting on
/// an interrupt.
pub(crate) enum Start {
    Input(Json),
    Command(Command),
}

/// A stream item: the namespace of the (sub)graph it comes from (empty: the
/// root graph), its mode, its payload.
pub(crate) type Item = (Vec<String>, StreamMode, Json);

/// A graph as the server runs it: each call gives a `'static` future or
/// stream that owns a clone of the graph.
pub(crate) trait ServedGraph: Send + Sync {
    fn stream(
        &self,
        start: Start,
        modes: Vec<StreamMode>,
        subgraphs: bool,
        config: RunConfig,
    ) -> Result<BoxStream<'static, runwright::Result<Item>>, ApiError>;
    fn get_state(&self, config: RunConfig) -> BoxFuture<'static, runwright::Result<StateSnapshot>>;
    fn history(
        &self,
        config: RunConfig,
        options: ListOptions,
    ) -> BoxFuture<'static, runwright::Result<Vec<StateSnapshot>>>;
    fn update_state(
        &self,
        config: RunConfig,
        values: Json,
        as_node: Option<String>,
    ) -> BoxFuture<'static, runwright::Result<RunConfig>>;
    fn delete_thread(&self, thread_id: String) -> BoxFuture<'static, runwright::Result<()>>;
}

/// The graph with a checkpointer: its own, or a new [`InMemorySaver`].
pub(crate) fn served<S>(graph: CompiledGraph<S>) -> Arc<dyn ServedGraph>
where
    S: Data + DeserializeOwned,
{
    let saver = match graph.checkpointer() {
        Some(saver) => saver.clone(),
        None => Arc::new(InMemorySaver::new()) as Arc<dyn Checkpointer>,
    };
    Arc::new(Graph {
        graph: graph.with_checkpointer(saver.clone()),
        saver,
    })
}

struct Graph<S> {
    graph: CompiledGraph<S>,
    saver: Arc<dyn Checkpointer>,
}

impl<S> ServedGraph for Graph<S>
where
    S: Data + DeserializeOwned,
{
    fn stream(
        &self,
        start: Start,
        modes: Vec<StreamMode>,
        subgraphs: bool,
        config: RunConfig,
    ) -> Result<BoxStream<'static, runwright::Result<Item>>, ApiError> {
        let start = match start {
            Start::Input(input) => Ok(serde_json::from_value::<S>(input)
                .map_err(|e| ApiError::invalid(format!("`input` does not fit the graph's state: {e}")))?),
            Start::Command(command) => Err(command),
        };
        let graph = self.graph.clone();
        Ok(Box::pin(async_stream::stream! {
            let stream = match start {
                Ok(input) => graph.stream_modes(input, &modes, config),
                Err(command) => graph.stream_command(command, &modes, config),
            };
            if subgraphs {
                let mut stream = stream.with_subgraphs();
                while let Some(item) = stream.next().await {
                    yield item;
                }
            } else {
                let mut stream = stream;
                while let Some(item) = stream.next().await {
                    yield item.map(|(mode, payload)| (Vec::new(), mode, payload));
                }
            }
        }))
    }

    fn get_state(&self, config: RunConfig) -> BoxFuture<'static, runwright::Result<StateSnapshot>> {
        let graph = self.graph.clone();
        Box::pin(async move { graph.get_state(config).await })
    }

    fn history(
        &self,
        config: RunConfig,
        options: ListOptions,
    ) -> BoxFuture<'static, runwright::Result<Vec<StateSnapshot>>> {
        let graph = self.graph.clone();
        Box::pin(async move { graph.get_state_history_with(config, options).await })
    }

    fn update_state(
        &self,
        config: RunConfig,
        values: Json,
        as_node: Option<String>,
    ) -> BoxFuture<'static, runwright::Result<RunConfig>> {
        let graph = self.graph.clone();
        Box::pin(async move { graph.update_state(config, values, as_node.as_deref()).await })
    }

    fn delete_thread(&self, thread_id: String) -> BoxFuture<'static, runwright::Result<()>> {
        let saver = self.saver.clone();
        Box::pin(async move { saver.delete_thread(&thread_id).await })
    }
}
