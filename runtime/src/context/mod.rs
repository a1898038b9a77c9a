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

mod blocking;
mod emit;
mod extensions;
pub(crate) mod intercept;
mod scope;
mod spawn;
mod trace;
mod writer;

use std::fmt;
use std::sync::{Arc, OnceLock};

use uuid::Uuid;

use crate::config::RunConfig;
use crate::events::sink::EventSink;
use crate::events::{EventTags, RunInfo, RunType, StepTag};
use crate::value::Map;

pub use blocking::{block_on, BlockingStream};
pub use emit::dispatch_custom_event;
pub(crate) use extensions::Extensions;
pub use intercept::intercept_stream;
pub use scope::InCurrentRun;
pub(crate) use scope::{current, enter, enter_run, InRun, Scoped};
pub use spawn::{spawn, spawn_blocking, RunTask};
pub use writer::{stream_writer, StreamWriter};
pub(crate) use writer::{ItemSink, Writer};

/// Metadata a caller gives one run and the runs started directly beneath it,
/// built only when something reads it: a listener (events carry it) or
/// [`RunContext::metadata`]. A graph gives each node run its `langgraph_*`
/// keys this way, so a node run nobody watches never builds them.
pub(crate) trait LazyMetadata: Send + Sync {
    /// The keys the run adds, in place of a call-time config's metadata.
    /// They win over the parent's: a graph task inside another graph's
    /// task names its own node, step and namespace (as LangGraph's
    /// `merge_configs` gives it).
    fn metadata(&self) -> Map;
    /// The keys the runs started directly beneath it add (see
    /// [`CallOpts::children`]).
    fn child_metadata(&self) -> Map;
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
    /// What features above the context give this run alone (a graph run's
    /// stream outlet): see [`RunContext::extension`].
    pub(crate) extensions: Extensions,
    /// A structural step of its parent (a graph node's routing function):
    /// the parent's [`children`](Self::children) metadata does not apply.
    pub(crate) structural: bool,
    /// Metadata for this run, built on first read; it takes the place of
    /// the call-time config's metadata (which must then be empty).
    pub(crate) lazy_metadata: Option<Arc<dyn LazyMetadata>>,
    /// A stream writer for this run and the runs beneath, over the one the
    /// call-time config installs.
    pub(crate) writer: Option<Writer>,
    /// The caller passed no config: user code invoked the runnable from a
    /// body, so it inherits through the context alone (LangChain's
    /// `ensure_config` from its context variable). Then the runnable's bound
    /// metadata wins over the inherited values, and its bound tags come
    /// after the inherited ones. Combinators pass their children's config
    /// explicitly, as LangChain's do: there the parent's values win.
    pub(crate) implicit: bool,
    /// The `configurable` keys the run copies into its metadata
    /// ([`Runnable::configurable_in_metadata`](crate::runnable::Runnable::configurable_in_metadata)).
    pub(crate) propagate: &'static [&'static str],
}

/// See [`CallOpts::children`].
#[derive(Clone)]
pub(crate) struct ChildDefaults {
    pub(crate) step: Option<StepTag>,
    /// Their extra metadata ([`LazyMetadata::child_metadata`]).
    pub(crate) metadata: Option<Arc<dyn LazyMetadata>>,
}

impl CallOpts {
    #[inline]
    pub(crate) fn step(step: StepTag) -> Self {
        CallOpts {
            step: Some(step),
            ..Default::default()
        }
    }

    /// A call from user code with no config (see [`CallOpts::implicit`]).
    #[inline]
    pub(crate) fn implicit() -> Self {
        CallOpts {
            implicit: true,
            ..Default::default()
        }
    }

    #[inline]
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
    info: OnceLock<Arc<RunInfo>>,
    run_type: RunType,
    name: Arc<str>,
    step: Option<StepTag>,
    tags: Arc<[Arc<str>]>,
    metadata: Metadata,
    configurable: Arc<Map>,
    sink: Option<Arc<EventSink>>,
    writer: Option<Writer>,
    recursion_limit: Option<usize>,
    children: Option<ChildDefaults>,
    extensions: Extensions,
    /// The interceptor installed above (or on) this run, if any.
    intercept: Option<Arc<intercept::Installed>>,
    /// The run's `tracing` span, when a subscriber wants it (`context/trace.rs`).
    #[cfg(feature = "tracing")]
    span: trace::SpanSlot,
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

/// Tags of a run whose caller passed no config (see [`CallOpts::implicit`]):
/// the inherited tags, then the bound ones, sorted. A bound tag that is
/// inherited too moves to the end, as LangChain's `add_tags` moves it.
fn append_tags(inherited: &Arc<[Arc<str>]>, bound: &[String]) -> Arc<[Arc<str>]> {
    if bound.is_empty() {
        return inherited.clone();
    }
    let mut own: Vec<&str> = bound.iter().map(String::as_str).collect();
    own.sort_unstable();
    own.dedup();
    let mut all: Vec<Arc<str>> = inherited
        .iter()
        .filter(|t| own.binary_search(&&***t).is_err())
        .cloned()
        .collect();
    all.extend(own.into_iter().map(Arc::from));
    all.into()
}

/// Layers maps from weakest to strongest: `layers`, then the parent's, then
/// `tops`. Shares the parent's map when nothing else adds a key.
/// What of `configurable` a run shows in its metadata: `model` and
/// `checkpoint_ns` when they are strings (LangChain's `ensure_config`), and
/// the `propagate` keys when they are set (LangGraph's).
fn configurable_metadata(configurable: &Map, propagate: &[&str]) -> Option<Map> {
    if configurable.is_empty() {
        return None;
    }
    let mut out = Map::new();
    for key in ["model", "checkpoint_ns"] {
        if let Some(v @ serde_json::Value::String(_)) = configurable.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    for key in propagate {
        match configurable.get(*key) {
            None | Some(serde_json::Value::Null | serde_json::Value::Bool(false)) => {}
            Some(serde_json::Value::String(s)) if s.is_empty() => {}
            Some(v) => {
                out.insert((*key).to_owned(), v.clone());
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

fn merge_maps(layers: &[Option<&Map>], parent: &Arc<Map>, tops: &[Option<&Map>]) -> Arc<Map> {
    if layers.iter().chain(tops).all(|l| l.is_none_or(|m| m.is_empty())) {
        return parent.clone();
    }
    let mut out = Map::new();
    for m in layers.iter().flatten() {
        for (k, v) in m.iter() {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in parent.iter().chain(tops.iter().flatten().flat_map(|m| m.iter())) {
        out.insert(k.clone(), v.clone());
    }
    Arc::new(out)
}

/// A run's merged metadata. Made only of lazy layers ([`LazyMetadata`]) and
/// what it inherits, it is merged on first read; otherwise when the run
/// starts. It derefs to the shared map, so it reads as the `Arc<Map>` it
/// stands for.
enum Metadata {
    /// Merged when the run started (or shared with the parent).
    Ready(Arc<Map>),
    /// Merged on first read.
    Lazy { map: OnceLock<Arc<Map>>, pending: Pending },
}

/// What a lazily merged [`Metadata`] is made of.
struct Pending {
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
        merge_maps(&[extra.as_ref()], parent_meta, &[own.as_ref()])
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
    /// same key, then call-time over bound; but when the caller passed no
    /// config at all ([`CallOpts::implicit`]), bound wins over the parent's.
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
        let implicit = opts.implicit && parent.is_some() && call.is_none();
        let cfgs: Vec<&RunConfig> = bound.into_iter().chain(call).collect();
        let sink = match opts.sink {
            Some(s) => Some(s),
            None => parent.and_then(|p| p.sink.clone()),
        };
        let intercept = call
            .and_then(|c| c.interceptor.clone())
            .or_else(|| bound.and_then(|c| c.interceptor.clone()))
            .map(|i| Arc::new(intercept::Installed(i)))
            .or_else(|| parent.and_then(|p| p.intercept.clone()));
        // One relaxed load while no subscriber was ever set, global or
        // scoped: the common case of the feature on and nobody tracing.
        #[cfg(feature = "tracing")]
        let span = if tracing::dispatcher::has_been_set() {
            trace::run_span(parent)
        } else {
            trace::SpanSlot::NONE
        };
        #[cfg(feature = "tracing")]
        let traced = span.is_some();
        #[cfg(not(feature = "tracing"))]
        let traced = false;
        let name = call
            .and_then(|c| c.run_name.as_deref())
            .or_else(|| bound.and_then(|c| c.run_name.as_deref()))
            .map(Arc::from)
            .unwrap_or_else(|| {
                // Names are only shown in events, spans and errors; skip
                // building one when nobody listens (errors ask the runnable
                // again).
                if sink.is_some() || traced || intercept.is_some() {
                    name()
                } else {
                    e.name.clone()
                }
            });
        let own_metadata = own_metadata.filter(|m| !m.is_empty());
        let bound_meta = bound.map(|c| &c.metadata).filter(|m| !m.is_empty());
        let call_meta = call.map(|c| &c.metadata).filter(|m| !m.is_empty());
        let extra = defaults.and_then(|d| d.metadata.as_ref());
        let (tags, configurable) = if cfgs.is_empty() {
            (p_tags.clone(), p_conf.clone())
        } else {
            let (b, c) = (bound, call);
            (
                match bound {
                    Some(b) if implicit => append_tags(p_tags, &b.tags),
                    _ => merge_tags(p_tags, &cfgs),
                },
                merge_maps(&[b.map(|x| &x.configurable), c.map(|x| &x.configurable)], p_conf, &[]),
            )
        };
        // LangChain copies a few `configurable` values into the run's
        // metadata when it has none of that key (`model`, `checkpoint_ns`;
        // a graph run also LangGraph's `thread_id`, ...): lowest layer.
        let conf_meta = if cfgs.is_empty() {
            None
        } else {
            configurable_metadata(&configurable, opts.propagate)
        };
        let conf_meta = conf_meta.as_ref();
        let metadata = if conf_meta.is_none() && bound_meta.is_none() && call_meta.is_none() && own_metadata.is_none() {
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
            Metadata::Ready(if implicit {
                merge_maps(
                    &[conf_meta, extra.as_ref()],
                    p_meta,
                    &[lazy.as_ref(), bound_meta, own_metadata],
                )
            } else {
                merge_maps(
                    &[conf_meta, bound_meta, call_meta, extra.as_ref()],
                    p_meta,
                    &[lazy.as_ref(), own_metadata],
                )
            })
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
        let ctx = Arc::new(RunContext {
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
            extensions: opts.extensions,
            intercept,
            #[cfg(feature = "tracing")]
            span,
        });
        if let Some(i) = &ctx.intercept {
            i.0.run_started(ctx.parent_ids());
        }
        if traced {
            ctx.describe_span(own_metadata);
        }
        ctx
    }

    /// The interceptor installed above this run, if any.
    #[inline]
    pub(crate) fn interceptor(&self) -> Option<&Arc<dyn crate::intercept::Interceptor>> {
        self.intercept.as_ref().map(|i| &i.0)
    }

    /// Where this run is in the run tree, for an interceptor: the names of
    /// the runs from the root down to this one, each with its step tag.
    pub(crate) fn path(&self) -> Vec<String> {
        let mut path = match &self.parent {
            Some(p) => p.path(),
            None => Vec::new(),
        };
        path.push(match &self.step {
            Some(step) => format!("{} [{}]", self.name, step),
            None => self.name.to_string(),
        });
        path
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
    pub(crate) fn info(&self) -> &Arc<RunInfo> {
        self.info.get_or_init(|| {
            Arc::new(RunInfo {
                name: self.name.clone(),
                run_id: self.run_id(),
                parent_ids: self.parent_ids().clone(),
                tags: self.event_tags(),
                // Custom events emitted in the run show the inherited tags.
                custom_tags: EventTags::new(None, self.tags.clone()),
                metadata: (*self.metadata).clone(),
            })
        })
    }

    /// The tags of this run's events: the local tag its parent gave it,
    /// then the inherited ones.
    pub(crate) fn event_tags(&self) -> EventTags {
        EventTags::new(self.step.clone(), self.tags.clone())
    }

    /// Where this run's events go, when someone listens.
    #[inline]
    pub(crate) fn sink(&self) -> Option<&Arc<EventSink>> {
        self.sink.as_ref()
    }

    /// The value of type `T` a feature gave this run when it started (see
    /// [`CallOpts::extensions`]); runs beneath do not inherit it.
    pub(crate) fn extension<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.extensions.get::<T>()
    }

    /// The run's name, as its events show it. Empty when the run was started
    /// with nobody listening to events.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The run's name, shared (an error names its step with it).
    pub(crate) fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The kind of run.
    pub fn run_type(&self) -> RunType {
        self.run_type
    }

    /// The inherited tags, in LangChain's order, without the local
    /// `seq:step:N`-style tag.
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
        let tags = self.event_tags();
        self.sink.as_ref().is_some_and(|s| s.accepts(name, name, &tags))
    }

    /// Whether a listener keeps this run's events (its filters let them
    /// through): a chat model streams its tokens when invoked only then.
    pub fn is_watched(&self) -> bool {
        let tags = self.event_tags();
        self.sink
            .as_ref()
            .is_some_and(|s| s.accepts(&self.name, self.run_type.as_str(), &tags))
    }

    /// The parent run's context.
    pub fn parent(&self) -> Option<&Arc<RunContext>> {
        self.parent.as_ref()
    }

    /// Whether an event stream listens to this run and it is that stream's
    /// root run (no parent, or a parent reporting to another listener):
    /// LangChain's `astream_events` shows the root's chunks whatever the
    /// runnable, even where it shows no chunks for the same runnable nested.
    pub(crate) fn roots_its_stream(&self) -> bool {
        let Some(sink) = &self.sink else { return false };
        self.parent
            .as_ref()
            .and_then(|p| p.sink.as_ref())
            .is_none_or(|s| !Arc::ptr_eq(s, sink))
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
