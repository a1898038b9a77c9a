//! A `tracing` span for every run (feature `tracing`).
//!
//! Each run's context holds its span, made when the context is made, with
//! the parent run's span as its parent (a root run takes the span current
//! where it was started), so the span tree is the run tree, runs nested
//! implicitly in bodies and spawned tasks included. The span is entered
//! whenever the run's context is (on every poll of its body), so events and
//! spans the body produces nest under it. It carries the OpenTelemetry
//! GenAI semantic-convention attributes of model and tool calls; errors set
//! `error.type` and `otel.status_code = "ERROR"` and add an `exception`
//! event. `tracing-opentelemetry` maps all of this onto OpenTelemetry spans.
//!
//! Without a subscriber interested in target `runwright` at level INFO a
//! run pays one callsite check and holds no span; without the feature,
//! nothing at all (every method below is then an empty inline function).

#[cfg(feature = "tracing")]
mod on {
    use std::sync::Arc;

    use tracing::field::{display, Empty};
    use tracing::{Level, Span};

    use super::super::RunContext;
    use crate::error::Error;
    use crate::events::RunType;
    use crate::messages::{AIMessageChunk, UsageMetadata};
    use crate::value::Map;

    /// The span of a new run beneath `parent`, or `None` when no subscriber
    /// wants it. The fields are filled in by [`RunContext::describe_span`].
    pub(in crate::context) fn run_span(parent: Option<&Arc<RunContext>>) -> Option<Span> {
        let span = tracing::span!(
            target: "runwright",
            parent: parent_id(parent),
            Level::INFO,
            "run",
            otel.name = Empty,
            "runwright.run.type" = Empty,
            runwright.run.id = Empty,
            gen_ai.operation.name = Empty,
            gen_ai.provider.name = Empty,
            gen_ai.system = Empty,
            gen_ai.request.model = Empty,
            gen_ai.response.model = Empty,
            gen_ai.response.id = Empty,
            gen_ai.response.finish_reasons = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            gen_ai.tool.name = Empty,
            gen_ai.tool.call.id = Empty,
            "error.type" = Empty,
            otel.status_code = Empty,
            otel.status_description = Empty,
        );
        // A callsite's interest is cached for the whole process: once a
        // subscriber set for one thread (`set_default`) has said "always",
        // threads without one get spans that go to `NoSubscriber`. Those
        // are not worth a name and an id.
        let seen = span
            .with_subscriber(|(_, d)| !d.is::<tracing::subscriber::NoSubscriber>())
            .unwrap_or(false);
        seen.then_some(span)
    }

    /// The parent run's span; for a root run (or beneath a run started
    /// before any subscriber), the span current where it starts.
    fn parent_id(parent: Option<&Arc<RunContext>>) -> Option<tracing::Id> {
        match parent.and_then(|p| p.span.as_ref()) {
            Some(span) => span.id(),
            None => Span::current().id(),
        }
    }

    fn saturating_i64(n: u64) -> i64 {
        i64::try_from(n).unwrap_or(i64::MAX)
    }

    fn text<'a>(map: Option<&'a Map>, key: &str) -> Option<&'a str> {
        map.and_then(|m| m.get(key)).and_then(|v| v.as_str())
    }

    impl RunContext {
        /// The `tracing` span of this run, when a subscriber wanted one
        /// (feature `tracing`). Record your own fields on it, or use it as
        /// the parent of spans made elsewhere.
        pub fn tracing_span(&self) -> Option<&Span> {
            self.span.as_ref()
        }

        #[inline]
        pub(crate) fn is_traced(&self) -> bool {
            self.span.is_some()
        }

        /// Fills in what is known when the run starts: its name, type and id,
        /// and for a model the GenAI operation, model and provider (from the
        /// `ls_model_name` and `ls_provider` metadata a model's runs carry).
        pub(in crate::context) fn describe_span(&self, own_metadata: Option<&Map>) {
            let Some(span) = &self.span else { return };
            span.record("otel.name", &*self.name);
            span.record("runwright.run.type", self.run_type.as_str());
            span.record("runwright.run.id", display(self.run_id()));
            let operation = match self.run_type {
                RunType::ChatModel => "chat",
                RunType::Llm => "text_completion",
                RunType::Tool => {
                    span.record("gen_ai.tool.name", &*self.name);
                    "execute_tool"
                }
                _ => return,
            };
            span.record("gen_ai.operation.name", operation);
            if let Some(model) = text(own_metadata, "ls_model_name") {
                span.record("gen_ai.request.model", model);
            }
            if let Some(provider) = text(own_metadata, "ls_provider") {
                span.record("gen_ai.provider.name", provider);
                span.record("gen_ai.system", provider);
            }
        }

        /// Records the id of the model's tool call a tool run answers.
        pub(crate) fn trace_tool_call(&self, id: Option<&str>) {
            if let (Some(span), Some(id)) = (&self.span, id) {
                span.record("gen_ai.tool.call.id", id);
            }
        }

        /// Records what a model's answer (whole, or one streamed chunk of
        /// it) says about the call: finish reason, model, response id, and
        /// `usage`, the token counts so far (a stream adds up its chunks').
        pub(crate) fn trace_model_answer(&self, answer: &AIMessageChunk, usage: Option<&UsageMetadata>) {
            let Some(span) = &self.span else { return };
            let meta = Some(&*answer.response_metadata);
            // One choice per call: the string[] attribute holds one reason,
            // which a tracing field can only carry as a string.
            if let Some(reason) = text(meta, "finish_reason").or_else(|| text(meta, "stop_reason")) {
                span.record("gen_ai.response.finish_reasons", reason);
            }
            if let Some(model) = text(meta, "model_name").or_else(|| text(meta, "model")) {
                span.record("gen_ai.response.model", model);
            }
            // The provider's id of the answer (not the `lc_run--` id a run gives).
            if let Some(id) = &answer.id {
                span.record("gen_ai.response.id", id.as_str());
            }
            if let Some(usage) = usage {
                // As i64: OpenTelemetry has no unsigned integers, and
                // tracing-opentelemetry turns a u64 into a string.
                span.record("gen_ai.usage.input_tokens", saturating_i64(usage.input_tokens));
                span.record("gen_ai.usage.output_tokens", saturating_i64(usage.output_tokens));
            }
        }

        /// Marks the run's span failed with `error`.
        pub(crate) fn trace_error(&self, error: &Error) {
            let Some(span) = &self.span else { return };
            span.record("error.type", error.type_name());
            span.record("otel.status_code", "ERROR");
            span.record("otel.status_description", display(error));
            tracing::event!(
                target: "runwright",
                parent: span,
                Level::INFO,
                "exception.type" = error.type_name(),
                exception.message = %error,
                "exception"
            );
        }
    }
}

#[cfg(feature = "tracing")]
pub(super) use on::run_span;

#[cfg(not(feature = "tracing"))]
mod off {
    use super::super::RunContext;
    use crate::error::Error;
    use crate::messages::{AIMessageChunk, UsageMetadata};
    use crate::value::Map;

    impl RunContext {
        #[inline(always)]
        pub(crate) fn is_traced(&self) -> bool {
            false
        }

        #[inline(always)]
        pub(in crate::context) fn describe_span(&self, _: Option<&Map>) {}

        #[inline(always)]
        pub(crate) fn trace_tool_call(&self, _: Option<&str>) {}

        #[inline(always)]
        pub(crate) fn trace_model_answer(&self, _: &AIMessageChunk, _: Option<&UsageMetadata>) {}

        #[inline(always)]
        pub(crate) fn trace_error(&self, _: &Error) {}
    }
}
