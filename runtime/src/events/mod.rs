//! Events: what `stream_events` yields, in LangChain's `astream_events` v2
//! shape when serialized.

mod filter;
mod run_type;
pub(crate) mod sink;
mod tags;

use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::error::Error;
use crate::value::{Map, Payload};

pub use filter::EventFilter;
pub use run_type::RunType;
pub use tags::EventTags;
pub(crate) use tags::StepTag;

/// Where in its run an event comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventPhase {
    /// The run started (`on_*_start`).
    Start,
    /// The run produced a chunk (`on_*_stream`).
    Stream,
    /// The run finished (`on_*_end`).
    End,
    /// A tool failed (`on_tool_error`; other runs have no error event).
    Error,
    /// A custom event dispatched from inside the run (`on_custom_event`).
    Custom,
}

/// The `data` of an event. Which fields are set depends on the phase:
/// start has `input` (absent when the run's input was streamed to it), stream
/// has `chunk`, end has `output` and `input`, a tool error has `error`,
/// `input` and `tool_call_id`, and a custom event carries its payload as is.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct EventData {
    /// The run's input.
    pub input: Option<Payload>,
    /// The run's output (end events; `null` when the run produced nothing).
    pub output: Option<Payload>,
    /// One streamed chunk.
    pub chunk: Option<Payload>,
    /// The error a tool failed with.
    pub error: Option<Error>,
    /// The id of the tool call a tool ran for.
    pub tool_call_id: Option<String>,
    /// A custom event's payload.
    pub custom: Option<Payload>,
}

impl EventData {
    /// Data with an input.
    pub fn with_input(input: Option<Payload>) -> Self {
        EventData {
            input,
            ..Default::default()
        }
    }

    /// Data with a chunk.
    pub fn with_chunk(chunk: Payload) -> Self {
        EventData {
            chunk: Some(chunk),
            ..Default::default()
        }
    }
}

/// What all the events of one run share: built once, on the run's first
/// event, and pointed to by each of them, so that an event costs one
/// reference count, not one per field, and stays small as it moves.
#[derive(Debug)]
pub(crate) struct RunInfo {
    pub(crate) name: Arc<str>,
    pub(crate) run_id: Uuid,
    pub(crate) parent_ids: Arc<[Uuid]>,
    /// The tags of the run's own events: its local step tag, then the
    /// inherited ones.
    pub(crate) tags: EventTags,
    /// The tags of custom events emitted in the run: the inherited ones.
    pub(crate) custom_tags: EventTags,
    pub(crate) metadata: Arc<Map>,
}

impl RunInfo {
    /// The info of items that belong to no run (a graph's stream-mode
    /// items): no name, no ids, no tags, no metadata.
    pub(crate) fn none() -> Arc<RunInfo> {
        static NONE: std::sync::OnceLock<Arc<RunInfo>> = std::sync::OnceLock::new();
        NONE.get_or_init(|| {
            Arc::new(RunInfo {
                name: Arc::from(""),
                run_id: Uuid::nil(),
                parent_ids: Arc::from(Vec::new()),
                tags: EventTags::empty(),
                custom_tags: EventTags::empty(),
                metadata: Arc::new(Map::new()),
            })
        })
        .clone()
    }
}

/// One event of a run tree, as `stream_events` yields it.
///
/// In Rust, read the typed payloads (`event.data.chunk` downcasts to the
/// step's output type) and the run's identity through the accessors
/// ([`name`](Self::name), [`run_id`](Self::run_id),
/// [`parent_ids`](Self::parent_ids), [`tags`](Self::tags),
/// [`metadata`](Self::metadata)); as JSON ([`Serialize`] or
/// [`to_json`](Self::to_json)) it has exactly LangChain's v2 shape.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StreamEvent {
    /// Start, stream, end, error or custom.
    pub phase: EventPhase,
    /// The kind of run that produced it.
    pub run_type: RunType,
    /// The run's identity, shared by all its events.
    run: Arc<RunInfo>,
    /// A custom event's own name.
    custom_name: Option<Arc<str>>,
    /// The payloads.
    pub data: EventData,
}

impl StreamEvent {
    pub(crate) fn new(phase: EventPhase, run_type: RunType, run: Arc<RunInfo>, data: EventData) -> Self {
        StreamEvent {
            phase,
            run_type,
            run,
            custom_name: None,
            data,
        }
    }

    /// A custom event named `name`, of the run `run` (of type `run_type`).
    pub(crate) fn custom(name: Arc<str>, run_type: RunType, run: Arc<RunInfo>, payload: Option<Payload>) -> Self {
        StreamEvent {
            phase: EventPhase::Custom,
            run_type,
            run,
            custom_name: Some(name),
            data: EventData {
                custom: payload,
                ..Default::default()
            },
        }
    }

    /// The run's name (a custom event's own name).
    pub fn name(&self) -> &str {
        self.custom_name.as_deref().unwrap_or(&self.run.name)
    }

    /// The run's id.
    pub fn run_id(&self) -> Uuid {
        self.run.run_id
    }

    /// The ids of the runs above, root first.
    pub fn parent_ids(&self) -> &[Uuid] {
        &self.run.parent_ids
    }

    /// The run's tags (a custom event has no local step tag).
    pub fn tags(&self) -> &EventTags {
        if self.phase == EventPhase::Custom {
            &self.run.custom_tags
        } else {
            &self.run.tags
        }
    }

    /// The run's metadata.
    pub fn metadata(&self) -> &Map {
        &self.run.metadata
    }

    /// The event's LangChain name: `on_chain_start`, `on_chat_model_stream`,
    /// `on_tool_error`, `on_custom_event`, ...
    pub fn event(&self) -> &'static str {
        use EventPhase as P;
        use RunType as T;
        match (self.phase, self.run_type) {
            (P::Custom, _) => "on_custom_event",
            (P::Start, T::Chain) => "on_chain_start",
            (P::Stream, T::Chain) => "on_chain_stream",
            (P::End, T::Chain) => "on_chain_end",
            (P::Error, T::Chain) => "on_chain_error",
            (P::Start, T::ChatModel) => "on_chat_model_start",
            (P::Stream, T::ChatModel) => "on_chat_model_stream",
            (P::End, T::ChatModel) => "on_chat_model_end",
            (P::Error, T::ChatModel) => "on_chat_model_error",
            (P::Start, T::Llm) => "on_llm_start",
            (P::Stream, T::Llm) => "on_llm_stream",
            (P::End, T::Llm) => "on_llm_end",
            (P::Error, T::Llm) => "on_llm_error",
            (P::Start, T::Tool) => "on_tool_start",
            (P::Stream, T::Tool) => "on_tool_stream",
            (P::End, T::Tool) => "on_tool_end",
            (P::Error, T::Tool) => "on_tool_error",
            (P::Start, T::Retriever) => "on_retriever_start",
            (P::Stream, T::Retriever) => "on_retriever_stream",
            (P::End, T::Retriever) => "on_retriever_end",
            (P::Error, T::Retriever) => "on_retriever_error",
            (P::Start, T::Prompt) => "on_prompt_start",
            (P::Stream, T::Prompt) => "on_prompt_stream",
            (P::End, T::Prompt) => "on_prompt_end",
            (P::Error, T::Prompt) => "on_prompt_error",
            (P::Start, T::Parser) => "on_parser_start",
            (P::Stream, T::Parser) => "on_parser_stream",
            (P::End, T::Parser) => "on_parser_end",
            (P::Error, T::Parser) => "on_parser_error",
        }
    }

    /// The type a filter matches: the run type, or a custom event's name.
    pub(crate) fn filter_type(&self) -> &str {
        match self.phase {
            EventPhase::Custom => self.name(),
            _ => self.run_type.as_str(),
        }
    }

    /// The event as LangChain v2 JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

struct DataJson<'a>(&'a StreamEvent);

impl Serialize for DataJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ev = self.0;
        let d = &ev.data;
        if let (EventPhase::Custom, Some(p)) = (ev.phase, &d.custom) {
            return p.serialize(s);
        }
        let mut m = s.serialize_map(None)?;
        match ev.phase {
            EventPhase::Start => match &d.input {
                // LangChain starts a tool with `inputs or {}`: a tool given
                // a bare string has no inputs (its end shows `null`).
                Some(i) if ev.run_type == RunType::Tool && i.to_json().is_null() => {
                    m.serialize_entry("input", &serde_json::Map::new())?;
                }
                Some(i) => m.serialize_entry("input", i)?,
                None => {}
            },
            EventPhase::Stream => {
                if let Some(c) = &d.chunk {
                    m.serialize_entry("chunk", c)?;
                }
            }
            EventPhase::End => {
                m.serialize_entry("output", &d.output)?;
                if let Some(i) = &d.input {
                    m.serialize_entry("input", i)?;
                }
            }
            EventPhase::Error => {
                m.serialize_entry("error", &d.error)?;
                m.serialize_entry("input", &d.input)?;
                m.serialize_entry("tool_call_id", &d.tool_call_id)?;
            }
            EventPhase::Custom => {}
        }
        m.end()
    }
}

impl Serialize for StreamEvent {
    /// Keys in the order LangChain writes them for each kind of event.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("event", self.event())?;
        let data = DataJson(self);
        let data_first = match self.phase {
            EventPhase::Start | EventPhase::End | EventPhase::Error => true,
            // A model's tokens come through LangChain's callback (data
            // first), except the root's, which come from its output stream
            // like any root chunk (data after metadata).
            EventPhase::Stream => {
                matches!(self.run_type, RunType::ChatModel | RunType::Llm) && !self.parent_ids().is_empty()
            }
            EventPhase::Custom => false,
        };
        if self.phase == EventPhase::Start {
            m.serialize_entry("data", &data)?;
            m.serialize_entry("name", self.name())?;
            m.serialize_entry("tags", self.tags())?;
            m.serialize_entry("run_id", &self.run.run_id)?;
        } else {
            if data_first {
                m.serialize_entry("data", &data)?;
            }
            m.serialize_entry("run_id", &self.run.run_id)?;
            m.serialize_entry("name", self.name())?;
            m.serialize_entry("tags", self.tags())?;
        }
        m.serialize_entry("metadata", self.metadata())?;
        if !data_first {
            m.serialize_entry("data", &data)?;
        }
        m.serialize_entry("parent_ids", self.parent_ids())?;
        m.end()
    }
}
