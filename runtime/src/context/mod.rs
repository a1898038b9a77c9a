//! The run context: which run is executing right now, carried implicitly.
//!
//! Every runnable body runs inside its own run's context. Code called from a
//! body, sync or async, at any depth, can read it with
//! [`RunContext::current`], and every runnable invoked from there nests
//! under it without any config being passed by hand.
//!
//! The context lives in a thread-local slot that a wrapper future or stream
//! swaps in on every poll and on drop (the shape of tracing's `Instrumented`),
//! so it follows the work across `.await` points and threads. A task started
//! with plain `tokio::spawn` starts outside any run; use [`spawn`],
//! [`spawn_blocking`] or [`InCurrentRun::in_current_run`] to carry it along.

mod scope;
mod spawn;

use std::fmt;
use std::sync::{Arc, OnceLock};

use uuid::Uuid;

use crate::config::RunConfig;
use crate::events::sink::EventSink;
use crate::runnable::RunType;
use crate::value::{Map, Payload};

pub use scope::InCurrentRun;
pub(crate) use scope::{current, enter, Scoped};
pub use spawn::{spawn, spawn_blocking, RunTask};

pub(crate) type WriterFn = Arc<dyn Fn(Payload) + Send + Sync>;

/// Where [`stream_writer`] items go.
#[derive(Clone)]
pub(crate) enum Writer {
    /// A function installed with [`RunConfig::stream_writer`].
    Fn(WriterFn),
    /// A graph stream's queue: JSON items are moved in as they are, with no
    /// box and no event around them.
    Outlet(Arc<crate::graph::Outlet>),
}

/// Metadata a caller gives one run and the runs started directly beneath it,
/// built only when something reads it: a listener (events carry it) or
/// [`RunContext::metadata`]. A graph gives each node run its `langgraph_*`
/// keys this way, so a node run nobody watches never builds them.
pub(crate) trait LazyMetadata: Send + Sync {
    /// The keys the run adds, in place of a call-time config's metadata.
    fn metadata(&self) -> Map;
    /// The keys the runs started directly beneath it add (see
    /// [`CallOpts::children`]).
    fn child_metadata(&self) -> Map;
}

/// The local tag a parent gives one child: the first tag of the child's
/// events, not inherited by grandchildren.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StepTag {
    /// `seq:step:N`, 1-based.
    Seq(u32),
    /// `map:key:K`.
    Map(Arc<str>),
    /// `retry:attempt:N`.
    Retry(u32),
    /// `graph:step:N`.
    Graph(u32),
}

impl fmt::Display for StepTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepTag::Seq(n) => write!(f, "seq:step:{n}"),
            StepTag::Map(k) => write!(f, "map:key:{k}"),
            StepTag::Retry(n) => write!(f, "retry:attempt:{n}"),
            StepTag::Graph(n) => write!(f, "graph:step:{n}"),
        }
    }
}

/// How one run is started: the local tag its parent gives it, the call-time
/// config, and a new event sink when the call is a `stream_events`.
#[derive(Default)]
pub(crate) struct CallOpts {
    pub(crate) step: Option<StepTag>,
    /// Boxed: call options travel inside every step's future, and a
    /// call-time config is rare on the hot path.
    pub(crate) config: Option<Box<RunConfig>>,
    pub(crate) sink: Option<Arc<EventSink>>,
    /// What runs started directly beneath this one get: a local tag (unless
    /// their caller gives one) and extra metadata. A graph node's body is
    /// LangChain's untraced first step, so what it calls is `seq:step:1`.
    pub(crate) children: Option<ChildDefaults>,
    /// Where a graph run puts its stream-mode items (this run only).
    pub(crate) outlet: Option<Arc<crate::graph::Outlet>>,
    /// A structural step of its parent (a graph node's routing function):
    /// the parent's [`children`](Self::children) metadata does not apply.
    pub(crate) structural: bool,
    /// Metadata for this run, built on first read; it takes the place of
    /// the call-time config's metadata (which must then be empty).
    pub(crate) lazy_metadata: Option<Arc<dyn LazyMetadata>>,
    /// A stream writer for this run and the runs beneath, over the one the
    /// call-time config installs.
    pub(crate) writer: Option<Writer>,
}

/// See [`CallOpts::children`].
#[derive(Clone)]
pub(crate) struct ChildDefaults {
    pub(crate) step: Option<StepTag>,
    /// Their extra metadata ([`LazyMetadata::child_metadata`]).
    pub(crate) metadata: Option<Arc<dyn LazyMetadata>>,
}

impl CallOpts {
    pub(crate) fn step(step: StepTag) -> Self {
        CallOpts {
            step: Some(step),
            ..Default::default()
        }
    }

    pub(crate) fn config(config: RunConfig) -> Self {
        CallOpts {
            config: Some(Box::new(config)),
            ..Default::default()
        }
    }
}

/// One run's context: its id, its place in the run tree, its tags, metadata
/// and configurable values, and where its events go.
///
/// ```
/// use runwright::{Lambda, RunContext, RunnableExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let who = Lambda::from_fn(|_: ()| {
///     Ok(RunContext::current()
///         .map(|c| c.tags().iter().map(|t| t.to_string()).collect::<Vec<_>>())
///         .unwrap_or_default())
/// });
/// let tags = who
///     .invoke_with((), runwright::RunConfig::new().tag("outer"))
///     .await
///     .unwrap();
/// assert_eq!(tags, ["outer"]);
/// # }
/// ```
pub struct RunContext {
    parent: Option<Arc<RunContext>>,
    run_id: OnceLock<Uuid>,
    parent_ids: OnceLock<Arc<[Uuid]>>,
    /// What this run's events share, built on its first event.
    info: OnceLock<Arc<crate::events::RunInfo>>,
    pub(crate) run_type: RunType,
    pub(crate) name: Arc<str>,
    pub(crate) step: Option<StepTag>,
    pub(crate) tags: Arc<[Arc<str>]>,
    pub(crate) metadata: Metadata,
    configurable: Arc<Map>,
    pub(crate) sink: Option<Arc<EventSink>>,
    pub(crate) writer: Option<Writer>,
    recursion_limit: Option<usize>,
    children: Option<ChildDefaults>,
    pub(crate) outlet: Option<Arc<crate::graph::Outlet>>,
}

struct Empty {
    tags: Arc<[Arc<str>]>,
    map: Arc<Map>,
    name: Arc<str>,
}

fn empty() -> &'static Empty {
    static EMPTY: OnceLock<Empty> = OnceLock::new();
    EMPTY.get_or_init(|| Empty {
        tags: Arc::from(Vec::new()),
        map: Arc::new(Map::new()),
        name: Arc::from(""),
    })
}

fn merge_tags(inherited: &Arc<[Arc<str>]>, extra: &[&RunConfig]) -> Arc<[Arc<str>]> {
    if extra.iter().all(|c| c.tags.is_empty()) {
        return inherited.clone();
    }
    let mut all: Vec<Arc<str>> = inherited.to_vec();
    for cfg in extra {
        all.extend(cfg.tags.iter().map(|t| Arc::<str>::from(t.as_str())));
    }
    all.sort();
    all.dedup();
    all.into()
}

/// Layers maps from weakest to strongest: `layers`, then the parent's, then
/// `top`. Shares the parent's map when nothing else adds a key.
fn merge_maps(layers: &[Option<&Map>], parent: &Arc<Map>, top: Option<&Map>) -> Arc<Map> {
    if layers.iter().chain([&top]).all(|l| l.is_none_or(|m| m.is_empty())) {
        return parent.clone();
    }
    let mut out = Map::new();
    for m in layers.iter().flatten() {
        for (k, v) in m.iter() {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in parent.iter().chain(top.into_iter().flatten()) {
        out.insert(k.clone(), v.clone());
    }
    Arc::new(out)
}

/// A run's merged metadata. Made only of lazy layers ([`LazyMetadata`]) and
/// what it inherits, it is merged on first read; otherwise when the run
/// starts. It derefs to the shared map, so it reads as the `Arc<Map>` it
/// stands for.
pub(crate) enum Metadata {
    /// Merged when the run started (or shared with the parent).
    Ready(Arc<Map>),
    /// Merged on first read.
    Lazy { map: OnceLock<Arc<Map>>, pending: Pending },
}

/// What a lazily merged [`Metadata`] is made of.
pub(crate) struct Pending {
    parent: Option<Arc<RunContext>>,
    /// The run's own lazy layer.
    own: Option<Arc<dyn LazyMetadata>>,
    /// The parent's defaults for its children apply.
    defaults: bool,
}

impl Metadata {
    /// Whether the map is merged already (reading it costs nothing).
    fn is_merged(&self) -> bool {
        match self {
            Metadata::Ready(_) => true,
            Metadata::Lazy { map, .. } => map.get().is_some(),
        }
    }
}

impl Pending {
    fn build(&self) -> Arc<Map> {
        let parent_meta = self.parent.as_ref().map_or(&empty().map, |c| &*c.metadata);
        let extra = self
            .parent
            .as_ref()
            .filter(|_| self.defaults)
            .and_then(|c| c.children.as_ref())
            .and_then(|d| d.metadata.as_ref())
            .map(|l| l.child_metadata());
        let own = self.own.as_ref().map(|l| l.metadata());
        merge_maps(&[own.as_ref(), extra.as_ref()], parent_meta, None)
    }
}

impl std::ops::Deref for Metadata {
    type Target = Arc<Map>;

    fn deref(&self) -> &Arc<Map> {
        match self {
            Metadata::Ready(map) => map,
            Metadata::Lazy { map, pending } => map.get_or_init(|| pending.build()),
        }
    }
}

impl RunContext {
    /// The context of the run executing on this task right now, if any.
    pub fn current() -> Option<Arc<RunContext>> {
        current()
    }

    /// Makes the context of a new run beneath `parent`.
    ///
    /// `bound` is the runnable's own config (from `with_config`); `opts.config`
    /// is the call-time config. The parent's metadata wins over both for the
    /// same key, then call-time over bound.
    pub(crate) fn child(
        parent: Option<&Arc<RunContext>>,
        run_type: RunType,
        name: impl FnOnce() -> Arc<str>,
        bound: Option<&RunConfig>,
        own_metadata: Option<&Map>,
        opts: CallOpts,
    ) -> Arc<RunContext> {
        let e = empty();
        let defaults = parent.and_then(|p| p.children.as_ref()).filter(|_| !opts.structural);
        let step = opts.step.or_else(|| defaults.and_then(|d| d.step.clone()));
        let (p_tags, p_conf) = match parent {
            Some(p) => (&p.tags, &p.configurable),
            None => (&e.tags, &e.map),
        };
        let call = opts.config.as_deref();
        let cfgs: Vec<&RunConfig> = bound.into_iter().chain(call).collect();
        let sink = match opts.sink {
            Some(s) => Some(s),
            None => parent.and_then(|p| p.sink.clone()),
        };
        let name = call
            .and_then(|c| c.run_name.as_deref())
            .or_else(|| bound.and_then(|c| c.run_name.as_deref()))
            .map(Arc::from)
            .unwrap_or_else(|| {
                // Names are only shown in events and errors; skip building one
                // when nobody listens (errors ask the runnable again).
                if sink.is_some() {
                    name()
                } else {
                    e.name.clone()
                }
            });
        let own_metadata = own_metadata.filter(|m| !m.is_empty());
        let bound_meta = bound.map(|c| &c.metadata).filter(|m| !m.is_empty());
        let call_meta = call.map(|c| &c.metadata).filter(|m| !m.is_empty());
        let extra = defaults.and_then(|d| d.metadata.as_ref());
        let metadata = if bound_meta.is_none() && call_meta.is_none() && own_metadata.is_none() {
            match parent {
                // Nothing of its own: the parent's map, shared.
                Some(p) if opts.lazy_metadata.is_none() && extra.is_none() && p.metadata.is_merged() => {
                    Metadata::Ready((*p.metadata).clone())
                }
                None if opts.lazy_metadata.is_none() => Metadata::Ready(e.map.clone()),
                // Lazy layers over the parent's: merged when first read.
                _ => Metadata::Lazy {
                    map: OnceLock::new(),
                    pending: Pending {
                        parent: parent.cloned(),
                        own: opts.lazy_metadata,
                        defaults: defaults.is_some(),
                    },
                },
            }
        } else {
            let p_meta = parent.map_or(&e.map, |p| &*p.metadata);
            let lazy = opts.lazy_metadata.map(|l| l.metadata());
            let extra = extra.map(|l| l.child_metadata());
            Metadata::Ready(merge_maps(
                &[bound_meta, call_meta, lazy.as_ref(), extra.as_ref()],
                p_meta,
                own_metadata,
            ))
        };
        let (tags, configurable) = if cfgs.is_empty() {
            (p_tags.clone(), p_conf.clone())
        } else {
            let (b, c) = (bound, call);
            (
                merge_tags(p_tags, &cfgs),
                merge_maps(&[b.map(|x| &x.configurable), c.map(|x| &x.configurable)], p_conf, None),
            )
        };
        let writer = opts
            .writer
            .or_else(|| call.and_then(|c| c.stream_writer.clone()).map(Writer::Fn))
            .or_else(|| bound.and_then(|c| c.stream_writer.clone()).map(Writer::Fn))
            .or_else(|| parent.and_then(|p| p.writer.clone()));
        let recursion_limit = call
            .and_then(|c| c.recursion_limit)
            .or_else(|| bound.and_then(|c| c.recursion_limit))
            .or_else(|| parent.and_then(|p| p.recursion_limit));
        Arc::new(RunContext {
            parent: parent.cloned(),
            run_id: OnceLock::new(),
            parent_ids: OnceLock::new(),
            info: OnceLock::new(),
            run_type,
            name,
            step,
            tags,
            metadata,
            configurable,
            sink,
            writer,
            recursion_limit,
            children: opts.children,
            outlet: opts.outlet,
        })
    }

    /// This run's id.
    pub fn run_id(&self) -> Uuid {
        *self.run_id.get_or_init(Uuid::new_v4)
    }

    /// The ids of the runs above this one, root first, immediate parent last.
    pub fn parent_ids(&self) -> &Arc<[Uuid]> {
        self.parent_ids.get_or_init(|| match &self.parent {
            None => Arc::from(Vec::new()),
            Some(p) => {
                let mut ids = p.parent_ids().to_vec();
                ids.push(p.run_id());
                ids.into()
            }
        })
    }

    /// What this run's events share (built on the first call).
    pub(crate) fn info(&self) -> &Arc<crate::events::RunInfo> {
        self.info.get_or_init(|| Arc::new(crate::events::RunInfo::of(self)))
    }

    /// The run's name, as its events show it. Empty when the run was started
    /// with nobody listening to events.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kind of run.
    pub fn run_type(&self) -> RunType {
        self.run_type
    }

    /// The inherited tags (sorted, without the local `seq:step:N`-style tag).
    pub fn tags(&self) -> &[Arc<str>] {
        &self.tags
    }

    /// The merged metadata.
    pub fn metadata(&self) -> &Map {
        &self.metadata
    }

    /// The merged configurable values.
    pub fn configurable(&self) -> &Map {
        &self.configurable
    }

    /// The recursion limit in force, if one was set.
    pub fn recursion_limit(&self) -> Option<usize> {
        self.recursion_limit
    }

    /// Whether an event stream is listening to this run.
    pub fn is_listening(&self) -> bool {
        self.sink.is_some()
    }

    /// Whether a listener keeps custom events named `name` from this run.
    pub(crate) fn keeps_custom(&self, name: &str) -> bool {
        let tags = crate::events::EventTags::of(self);
        self.sink.as_ref().is_some_and(|s| s.accepts(name, name, &tags))
    }

    /// Whether a listener keeps this run's events (its filters let them
    /// through): a chat model streams its tokens when invoked only then.
    pub fn is_watched(&self) -> bool {
        let tags = crate::events::EventTags::of(self);
        self.sink
            .as_ref()
            .is_some_and(|s| s.accepts(&self.name, self.run_type.as_str(), &tags))
    }

    /// The parent run's context.
    pub fn parent(&self) -> Option<&Arc<RunContext>> {
        self.parent.as_ref()
    }
}

impl fmt::Debug for RunContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunContext")
            .field("run_id", &self.run_id())
            .field("name", &self.name)
            .field("run_type", &self.run_type)
            .field("tags", &self.tags)
            .finish_non_exhaustive()
    }
}

/// A handle for pushing items to whoever installed a stream writer above the
/// current run (a graph's `custom` stream mode, or a
/// [`RunConfig::stream_writer`]). Each item is also an `on_custom_event`
/// named `custom` of the run that wrote it, so `stream_events` shows it too.
/// Writing with nobody listening does nothing.
#[derive(Clone)]
pub struct StreamWriter {
    writer: Option<Writer>,
    /// The run that wrote, when a listener keeps its custom events. Decided
    /// once: filters do not change during a run, and a listener that has
    /// gone away drops what it is sent.
    watched: Option<Arc<RunContext>>,
    listening: bool,
}

impl StreamWriter {
    /// Pushes one item.
    pub fn write<T: serde::Serialize + Send + Sync + 'static>(&self, item: T) {
        match (&self.writer, &self.watched) {
            (None, None) => {}
            // The hot path: straight into a graph stream's queue.
            (Some(Writer::Outlet(o)), None) => o.push_custom(item),
            (writer, watched) => {
                let payload = Payload::new(item);
                if let Some(ctx) = watched {
                    ctx.emit_custom(custom_name().clone(), payload.clone());
                }
                match writer {
                    Some(Writer::Fn(w)) => w(payload),
                    Some(Writer::Outlet(o)) => o.push_custom_payload(payload),
                    None => {}
                }
            }
        }
    }

    /// Whether anyone receives the items.
    pub fn is_connected(&self) -> bool {
        self.writer.is_some() || self.listening
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// The name of the custom events the stream writer emits, shared.
fn custom_name() -> &'static Arc<str> {
    static NAME: OnceLock<Arc<str>> = OnceLock::new();
    NAME.get_or_init(|| Arc::from("custom"))
}

/// The stream writer of the current run (a no-op writer outside any run or
/// where none is installed).
pub fn stream_writer() -> StreamWriter {
    let ctx = current();
    // Build the custom events only for a listener that keeps them (a
    // graph's own stream-mode queue does not).
    let listening = ctx.as_ref().is_some_and(|c| c.is_listening());
    StreamWriter {
        writer: ctx.as_ref().and_then(|c| c.writer.clone()),
        watched: ctx.filter(|c| c.is_listening() && c.keeps_custom(custom_name())),
        listening,
    }
}
