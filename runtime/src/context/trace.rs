//! A `tracing` span for every run (feature `tracing`).
//!
//! Each run's context holds its span, made when the context is made, with
//! the parent run's span as its parent (a root run takes the span current
//! where it was started), so the span tree is the run tree, runs nested
//! implicitly in bodies and spawned tasks included. A traced run's body is
//! wrapped in `InSpan`, which enters the span on every poll and on
//! drop, so events and spans the body produces nest under it; untraced
//! bodies are not wrapped, and their per-poll path has no span code. It carries the OpenTelemetry
//! GenAI semantic-convention attributes of model and tool calls; errors set
//! `error.type` and `otel.status_code = "ERROR"` and add an `exception`
//! event. `tracing-opentelemetry` maps all of this onto OpenTelemetry spans.
//!
//! Without a subscriber interested in target `runwright` at level INFO a
//! run pays one relaxed load (or one callsite check once a subscriber was
//! set somewhere) and a few tests of an empty span slot, and holds no span;
//! without the feature, nothing at all (every method below is then an empty
//! inline function).

#[cfg(feature = "tracing")]
pub(super) use on::{SpanGuard, SpanSlot};

#[cfg(feature = "tracing")]
mod on {
    use std::future::Future;
    use std::mem::ManuallyDrop;
    use std::ops::Deref;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use futures::future::BoxFuture;
    use futures::stream::BoxStream;
    use futures::Stream;

    use tracing::field::{display, Empty};
    use tracing::{Level, Span};

    use super::super::RunContext;
    use crate::error::Error;
    use crate::events::RunType;
    use crate::messages::{AIMessageChunk, UsageMetadata};
    use crate::value::Map;

    /// A run's span, if it has one. Boxed, so that a context nobody traces
    /// grows by one pointer, not a span; and dropped by a test of that
    /// pointer inlined into the context's drop, the span's own drop out of
    /// line.
    pub(in crate::context) struct SpanSlot(ManuallyDrop<Option<Box<Span>>>);

    impl SpanSlot {
        pub(in crate::context) const NONE: SpanSlot = SpanSlot(ManuallyDrop::new(None));
    }

    impl Deref for SpanSlot {
        type Target = Option<Box<Span>>;
        #[inline(always)]
        fn deref(&self) -> &Option<Box<Span>> {
            &self.0
        }
    }

    impl Drop for SpanSlot {
        #[inline(always)]
        fn drop(&mut self) {
            if self.0.is_some() {
                close(std::mem::take(&mut *self.0));
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn close(span: Option<Box<Span>>) {
        drop(span);
    }

    /// A run's span, entered while the guard lives (see `scope::enter_run`).
    /// Nobody tracing costs a test here and one at the exit; entering and
    /// leaving a span are out of line.
    pub(in crate::context) struct SpanGuard<'a>(Option<&'a Span>);

    impl<'a> SpanGuard<'a> {
        #[inline(always)]
        pub(in crate::context) fn enter(ctx: Option<&'a RunContext>) -> Self {
            let span = ctx.and_then(|c| c.span.as_deref());
            if let Some(span) = span {
                enter_span(span);
            }
            SpanGuard(span)
        }
    }

    impl Drop for SpanGuard<'_> {
        #[inline(always)]
        fn drop(&mut self) {
            if let Some(span) = self.0 {
                exit_span(span);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn enter_span(span: &Span) {
        if let Some(id) = span.id() {
            span.with_subscriber(|(_, d)| d.enter(&id));
        }
    }

    #[cold]
    #[inline(never)]
    fn exit_span(span: &Span) {
        if let Some(id) = span.id() {
            span.with_subscriber(|(_, d)| d.exit(&id));
        }
    }

    /// A traced run's body: its span entered on every poll and while the
    /// body is dropped. Only traced runs have one, so the per-poll path of
    /// everybody else carries no span code at all.
    struct InSpan<T> {
        span: Span,
        inner: Option<T>,
    }

    impl<T: Future + Unpin> Future for InSpan<T> {
        type Output = T::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
            let this = &mut *self;
            let _entered = this.span.enter();
            match this.inner.as_mut() {
                Some(inner) => Pin::new(inner).poll(cx),
                None => Poll::Pending,
            }
        }
    }

    impl<T: Stream + Unpin> Stream for InSpan<T> {
        type Item = T::Item;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T::Item>> {
            let this = &mut *self;
            let _entered = this.span.enter();
            match this.inner.as_mut() {
                Some(inner) => Pin::new(inner).poll_next(cx),
                None => Poll::Ready(None),
            }
        }
    }

    impl<T> Drop for InSpan<T> {
        fn drop(&mut self) {
            let _entered = self.span.enter();
            self.inner = None;
        }
    }

    /// The span of a new run beneath `parent`, or `None` when no subscriber
    /// wants it. The fields are filled in by [`RunContext::describe_span`].
    #[cold]
    #[inline(never)]
    pub(in crate::context) fn run_span(parent: Option<&Arc<RunContext>>) -> SpanSlot {
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
        SpanSlot(ManuallyDrop::new(seen.then(|| Box::new(span))))
    }

    /// The parent run's span; for a root run (or beneath a run started
    /// before any subscriber), the span current where it starts.
    fn parent_id(parent: Option<&Arc<RunContext>>) -> Option<tracing::Id> {
        match parent.and_then(|p| p.span.as_ref()) {
            Some(span) => span.id(),
            None => Span::current().id(),
        }
    }

    #[cold]
    #[inline(never)]
    fn traced_future<'a, T: 'a>(span: &Span, body: BoxFuture<'a, T>) -> BoxFuture<'a, T> {
        Box::pin(InSpan {
            span: span.clone(),
            inner: Some(body),
        })
    }

    #[cold]
    #[inline(never)]
    fn traced_stream<'a, T: 'a>(span: &Span, body: BoxStream<'a, T>) -> BoxStream<'a, T> {
        Box::pin(InSpan {
            span: span.clone(),
            inner: Some(body),
        })
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
            self.span.as_deref()
        }

        #[inline]
        pub(crate) fn is_traced(&self) -> bool {
            self.span.is_some()
        }

        /// A run's body future, made to enter the run's span whenever it is
        /// polled or dropped, if the run is traced; else the body itself.
        #[inline(always)]
        pub(crate) fn in_span<'a, T: 'a>(&self, body: BoxFuture<'a, T>) -> BoxFuture<'a, T> {
            match self.span.as_deref() {
                None => body,
                Some(span) => traced_future(span, body),
            }
        }

        /// [`RunContext::in_span`] for a body stream.
        #[inline(always)]
        pub(crate) fn in_span_stream<'a, T: 'a>(&self, body: BoxStream<'a, T>) -> BoxStream<'a, T> {
            match self.span.as_deref() {
                None => body,
                Some(span) => traced_stream(span, body),
            }
        }

        /// Fills in what is known when the run starts: its name, type and id,
        /// and for a model the GenAI operation, model and provider (from the
        /// `ls_model_name` and `ls_provider` metadata a model's runs carry).
        pub(in crate::context) fn describe_span(&self, own_metadata: Option<&Map>) {
            let Some(span) = &*self.span else { return };
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
            if let (Some(span), Some(id)) = (&*self.span, id) {
                span.record("gen_ai.tool.call.id", id);
            }
        }

        /// Records what a model's answer (whole, or one streamed chunk of
        /// it) says about the call: finish reason, model, response id, and
        /// `usage`, the token counts so far (a stream adds up its chunks').
        pub(crate) fn trace_model_answer(&self, answer: &AIMessageChunk, usage: Option<&UsageMetadata>) {
            let Some(span) = &*self.span else { return };
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
            let Some(span) = &*self.span else { return };
            span.record("error.type", error.type_name());
            span.record("otel.status_code", "ERROR");
            span.record("otel.status_description", display(error));
            tracing::event!(
                target: "runwright",
                parent: &**span,
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
    use futures::future::BoxFuture;
    use futures::stream::BoxStream;

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
        pub(crate) fn in_span<'a, T: 'a>(&self, body: BoxFuture<'a, T>) -> BoxFuture<'a, T> {
            body
        }

        #[inline(always)]
        pub(crate) fn in_span_stream<'a, T: 'a>(&self, body: BoxStream<'a, T>) -> BoxStream<'a, T> {
            body
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
