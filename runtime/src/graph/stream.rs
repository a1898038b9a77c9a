//! [`GraphStream`]: the stream of a graph run's stream-mode items.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use serde::de::DeserializeOwned;
use serde_json::{json, Value as Json};

use super::interrupt::Command;
use super::mode::{StreamMode, NODE_MESSAGE, NS_ITEM};
use super::outlet::{Outlet, Queued};
use super::state::CommandRun;
use super::CompiledGraph;
use crate::config::RunConfig;
use crate::context::{current, CallOpts, Writer};
use crate::error::{Error, Result};
use crate::events::sink::EventSink;
use crate::events::{EventFilter, EventPhase, StreamEvent};
use crate::runnable::EventStream;
use crate::runnable::RunType;
use crate::value::{Data, Payload};

/// The stream [`CompiledGraph::stream_modes`] returns: `(mode, payload)`
/// items in the order they happened. Dropping it cancels the run.
#[must_use = "streams do nothing unless polled"]
pub struct GraphStream<'a> {
    events: EventStream<'a>,
    outlet: Arc<Outlet>,
    /// Items taken from the outlet, to yield before anything else.
    ready: VecDeque<Queued>,
    /// The run's error, yielded once the items before it are out.
    error: Option<Error>,
    finished: bool,
    messages: bool,
    streamed_ids: HashSet<String>,
}

impl std::fmt::Debug for GraphStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphStream")
            .field("ready", &self.ready.len())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<S> CompiledGraph<S>
where
    S: Data + DeserializeOwned,
{
    /// Runs the graph, streaming the items of `modes` (LangGraph's
    /// `graph.astream(input, stream_mode=[...])`).
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use serde::{Deserialize, Serialize};
    /// use serde_json::json;
    /// use runwright::graph::{StateGraph, StreamMode, END, START};
    ///
    /// #[derive(Clone, Serialize, Deserialize)]
    /// struct State { x: i64 }
    /// impl runwright::Chunk for State {}
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
    /// let graph = StateGraph::<State>::new()
    ///     .add_node("inc", |s: State| async move {
    ///         runwright::stream_writer().write(json!({"seen": s.x}));
    ///         Ok(json!({"x": s.x + 1}))
    ///     })
    ///     .add_edge(START, "inc")
    ///     .add_edge("inc", END)
    ///     .compile()?;
    /// let items: Vec<_> = graph
    ///     .stream_modes(State { x: 1 }, &[StreamMode::Updates, StreamMode::Custom], runwright::RunConfig::new())
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(items[0], (StreamMode::Custom, json!({"seen": 1})));
    /// assert_eq!(items[1], (StreamMode::Updates, json!({"inc": {"x": 2}})));
    /// # Ok(()) }
    /// ```
    pub fn stream_modes(&self, input: S, modes: &[StreamMode], config: RunConfig) -> GraphStream<'_> {
        GraphStream::new(modes, config, |sink, opts| {
            EventStream::with_sink(self, input, sink, opts)
        })
    }

    /// [`stream_modes`](Self::stream_modes) of a run going on with a thread
    /// ([`resume`](Self::resume)).
    pub fn stream_command(&self, command: Command, modes: &[StreamMode], config: RunConfig) -> GraphStream<'_> {
        let run = CommandRun(self.clone());
        GraphStream::new(modes, config, |sink, opts| {
            EventStream::with_sink_owned(run, command, sink, opts)
        })
    }

    /// [`stream_modes`](Self::stream_modes) with one mode, yielding its
    /// payloads alone.
    pub fn stream_mode(&self, input: S, mode: StreamMode) -> impl Stream<Item = Result<Json>> + Send + '_ {
        futures::StreamExt::map(self.stream_modes(input, &[mode], RunConfig::new()), |i| {
            i.map(|(_, p)| p)
        })
    }
}

impl<'a> GraphStream<'a> {
    /// A stream of the items of `modes` of the run `start` drives, on
    /// `config`.
    fn new(
        modes: &[StreamMode],
        config: RunConfig,
        start: impl FnOnce(Arc<EventSink>, CallOpts) -> EventStream<'a>,
    ) -> Self {
        let messages = modes.contains(&StreamMode::Messages);
        // The run's own queue sees chat-model events (for `messages`) and the
        // local mode items; everything still reaches enclosing listeners.
        let filter = if messages {
            EventFilter::new().include_types(["chat_model"])
        } else {
            EventFilter::new().include_types(Vec::<String>::new())
        };
        let outer = current().and_then(|c| c.sink().cloned());
        let sink = Arc::new(EventSink::new(filter, outer));
        let outlet = Arc::new(Outlet::new(modes, sink.clone()));
        let writer = modes
            .contains(&StreamMode::Custom)
            .then(|| Writer::Sink(outlet.clone()));
        let mut opts = CallOpts {
            config: Some(Box::new(config)),
            sink: Some(sink.clone()),
            writer,
            ..Default::default()
        };
        opts.extensions.insert(outlet.clone());
        GraphStream {
            events: start(sink, opts),
            outlet,
            ready: VecDeque::new(),
            error: None,
            finished: false,
            messages,
            streamed_ids: HashSet::new(),
        }
    }
}

/// A graph stream's item: the namespace of the (sub)graph it comes from
/// (none: the root graph), its mode, its payload.
type NsItem = (Option<Arc<str>>, StreamMode, Json);

impl<'a> GraphStream<'a> {
    /// Also streams the items of subgraphs (a compiled graph run as a node,
    /// or inside one), each with the namespace of the graph it comes from
    /// (LangGraph's `subgraphs=True`).
    ///
    /// Without it, as in LangGraph, a subgraph's `values`, `updates`,
    /// `tasks` and `checkpoints` are not streamed; but unlike LangGraph its
    /// `messages` and `custom` items always are (tokens never go silent
    /// inside subgraphs), without a namespace.
    pub fn with_subgraphs(self) -> SubgraphStream<'a> {
        self.outlet.want_subgraphs();
        SubgraphStream(self)
    }

    fn translate(&mut self, ev: StreamEvent) -> Option<NsItem> {
        if ev.phase == EventPhase::Custom && ev.run_id().is_nil() {
            let node_message = ev.name() == NODE_MESSAGE;
            if ev.name() == NS_ITEM {
                let item = ev.data.custom.map(Payload::into_json).unwrap_or(Json::Null);
                let Json::Array(mut parts) = item else { return None };
                let payload = parts.pop()?;
                let mode = StreamMode::from_name(parts.pop()?.as_str()?)?;
                let ns = Arc::from(parts.pop()?.as_str()?);
                return Some((Some(ns), mode, payload));
            }
            let mode = StreamMode::from_name(ev.name());
            let payload = ev.data.custom.map(Payload::into_json).unwrap_or(Json::Null);
            if node_message {
                let id = payload[0].get("id").and_then(Json::as_str).map(str::to_owned);
                if id.is_some_and(|id| !self.streamed_ids.insert(id)) {
                    return None;
                }
                return Some((None, StreamMode::Messages, payload));
            }
            // A marker (its items are in the outlet's queue) maps to none.
            return mode.map(|m| (None, m, payload));
        }
        if self.messages && ev.phase == EventPhase::Stream && ev.run_type == RunType::ChatModel {
            // LangGraph's opt-out: a model tagged `nostream` still runs (and
            // a message a node returns from it is still reported whole).
            if ev.tags().contains("nostream") {
                return None;
            }
            let chunk = ev.data.chunk.as_ref()?.to_json();
            if let Some(id) = chunk.get("id").and_then(Json::as_str) {
                self.streamed_ids.insert(id.to_owned());
            }
            let metadata = ev.metadata();
            // The model's graph: its task's namespace less the task itself.
            let ns = metadata
                .get("langgraph_checkpoint_ns")
                .and_then(Json::as_str)
                .and_then(|ns| ns.rsplit_once('|'))
                .map(|(graph, _)| Arc::from(graph));
            return Some((ns, StreamMode::Messages, json!([chunk, metadata])));
        }
        None
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<NsItem>>> {
        let this = self;
        loop {
            if let Some((ns, mode, item)) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok((ns, mode, item.into_json()))));
            }
            // Whatever the run put in the outlet's queue came before what
            // the sink gives now (without `messages`, only markers and the
            // run's error).
            if this.outlet.take(&mut this.ready) {
                continue;
            }
            if let Some(e) = this.error.take() {
                this.finished = true;
                return Poll::Ready(Some(Err(e)));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.events).poll_next(cx) {
                Poll::Pending => {
                    if this.outlet.take(&mut this.ready) {
                        continue;
                    }
                    return Poll::Pending;
                }
                Poll::Ready(None) => this.finished = true,
                Poll::Ready(Some(Err(e))) => this.error = Some(e),
                Poll::Ready(Some(Ok(ev))) => {
                    if let Some(item) = this.translate(ev) {
                        return Poll::Ready(Some(Ok(item)));
                    }
                }
            }
        }
    }
}

impl Stream for GraphStream<'_> {
    type Item = Result<(StreamMode, Json)>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_item(cx)
            .map(|i| i.map(|r| r.map(|(_, mode, payload)| (mode, payload))))
    }
}

/// A graph stream with its subgraphs' items
/// ([`GraphStream::with_subgraphs`]): `(namespace, mode, payload)`, the
/// namespace empty for the root graph, else the path of
/// `"<node>:<task id>"` parts down to the subgraph (LangGraph's
/// namespace tuples). Dropping it cancels the run.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct SubgraphStream<'a>(GraphStream<'a>);

impl Stream for SubgraphStream<'_> {
    type Item = Result<(Vec<String>, StreamMode, Json)>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_item(cx).map(|i| {
            i.map(|r| {
                r.map(|(ns, mode, payload)| {
                    let ns = ns.map_or_else(Vec::new, |ns| ns.split('|').map(str::to_owned).collect());
                    (ns, mode, payload)
                })
            })
        })
    }
}

impl Drop for GraphStream<'_> {
    fn drop(&mut self) {
        // Before the run is dropped: what it writes while it goes is lost.
        self.outlet.close();
    }
}
