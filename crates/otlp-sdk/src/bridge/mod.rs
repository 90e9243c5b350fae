//! The `tracing` bridge (feature `tracing`): [`OtlpLayer`], a `tracing-subscriber` layer that
//! turns `tracing` spans into OTLP spans and `tracing` events into OTLP log records correlated
//! with them.
//!
//! The layer follows `tracing`'s own span tree: a span's parent is its `tracing` parent (the
//! explicit `parent:` or the contextual current span). Only a span with no `tracing` parent
//! takes the SDK's [current context](crate::context) as its parent, so a context extracted
//! from headers and [`attach`](crate::attach)ed becomes the parent of the first `tracing` span
//! (an explicit `parent: None` always starts a new trace). There is no second context to keep
//! in step: use [`OtlpSpanExt`] to get a span's [`SpanContext`](otlp_model::SpanContext) or
//! [`Context`](crate::Context) (for a propagator) or to give it a remote parent.
//!
//! # Spans
//!
//! - The name is the span's name, or its `otel.name` field.
//! - `otel.kind` (`client`, `server`, `producer`, `consumer`, `internal`, any case) sets the
//!   kind; it must be known when the SDK span starts (see below), later values are ignored.
//! - `otel.status_code` (`ok`, `error`, `unset`) and `otel.status_description` set the status.
//! - Other fields are attributes: integers (`u64` above `i64::MAX` as decimal text), floats,
//!   booleans, strings, bytes, errors (their message and sources) and `Debug` values
//!   (formatted). `message` is not an attribute. Fields recorded later are attributes too.
//! - `follows_from` adds a link; `code.file.path` and `code.line.number` give the callsite
//!   (see [`OtlpLayerBuilder::with_location`]).
//! - The span starts when the `tracing` span is created and ends when it closes.
//!
//! ## When the SDK span starts
//!
//! The sampler must see the parent, the kind and the attributes, and
//! [`OtlpSpanExt::set_parent`] must be able to replace the parent after
//! `let span = info_span!(..)`. So the layer first keeps a *pending* span (name, kind, parent,
//! attributes, links, and the start time: the moment the `tracing` span was created), and
//! starts the SDK span at the first of:
//!
//! - the span is entered (also by `Instrument`ed futures when first polled);
//! - [`OtlpSpanExt::set_parent`] (right after re-parenting), or
//!   [`OtlpSpanExt::span_context`] / [`OtlpSpanExt::context`];
//! - a child span is created, or it is the other side of a `follows_from`;
//! - an event is recorded in it (when the layer emits log records or span events);
//! - it would hold more than 128 attributes or links (the SDK then applies its limits);
//! - it closes (a span never entered is still exported, with its creation as start).
//!
//! Once started, the parent and the kind are fixed.
//!
//! # Events
//!
//! With a [`Logger`](crate::logs::Logger), every event becomes a log record: severity number
//! and text from the level (`TRACE` 1, `DEBUG` 5, `INFO` 9, `WARN` 13, `ERROR` 17), the
//! `message` field as body, other fields as attributes, `code.file.path`, `code.line.number`
//! and [`LOG_TARGET`] (the event's target), and the trace context of the event's span (the
//! SDK's current context when it has none). With
//! [`events_as_span_events`](OtlpLayerBuilder::events_as_span_events), events also become
//! events of their span, at most that many per span.
//!
//! Spans and events whose target is in [`IGNORED_TARGETS`] are ignored, so the SDK's export
//! machinery never feeds itself.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! use otlp_sdk::bridge::{OtlpLayer, OtlpSpanExt};
//! use otlp_sdk::export::InMemoryExporter;
//! use otlp_sdk::logs::LoggerProvider;
//! use otlp_sdk::trace::TracerProvider;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let spans = InMemoryExporter::new();
//! let logs = InMemoryExporter::new();
//! let tracer_provider = TracerProvider::builder().with_simple_exporter(spans.clone()).build();
//! let logger_provider = LoggerProvider::builder().with_simple_exporter(logs.clone()).build();
//! let layer = OtlpLayer::builder(tracer_provider.tracer("my-app"))
//!     .logger(logger_provider.logger("my-app"))
//!     .build();
//! let subscriber = tracing_subscriber::registry().with(layer);
//!
//! let trace_id = tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("checkout", otel.kind = "server", cart.items = 3);
//!     let _entered = span.enter();
//!     tracing::info!(user.id = 42, "cart checked out");
//!     span.span_context().map(|sc| sc.trace_id())
//! });
//!
//! let deadline = Instant::now() + Duration::from_secs(5);
//! tracer_provider.force_flush(deadline).unwrap();
//! logger_provider.force_flush(deadline).unwrap();
//! let span = &spans.spans()[0];
//! assert_eq!(span.name, "checkout");
//! assert_eq!(Some(span.trace_id.as_slice()), trace_id.as_ref().map(|t| t.as_bytes().as_slice()));
//! let record = &logs.log_records()[0];
//! assert_eq!(record.span_id, span.span_id);
//! ```

mod ext;
mod fields;
mod layer;
mod state;

pub use ext::OtlpSpanExt;
pub use layer::{IGNORED_TARGETS, LOG_TARGET, OtlpLayer, OtlpLayerBuilder, is_ignored_target};
