//! [`OtlpLayer`]: the `tracing-subscriber` layer.

use std::borrow::Cow;
use std::time::SystemTime;

use otlp_model::SpanContext;
use otlp_model::semconv::trace::{CODE_FILE_PATH, CODE_LINE_NUMBER};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::bridge::fields::{EventFields, SpanFields};
use crate::bridge::state::{self, Pending, SpanState};
use crate::context;
use crate::logs::{LogRecord, Logger, SeverityNumber};
use crate::trace::{SpanKind, Tracer};
use crate::value::{Key, KeyValue, Value};

/// Targets (and their submodules) the layer ignores: the SDK's own diagnostics and the
/// export stack's, so that an application installing the layer globally cannot make the
/// exporter export its own activity, recursively.
pub const IGNORED_TARGETS: &[&str] = &[
    "otlp_sdk",
    "otlp_batch",
    "otlp_transport",
    "hyper",
    "h2",
    "tower",
    "rustls",
];

/// The attribute carrying an event's `tracing` target on log records. Not a semantic
/// convention (there is none for a logger's name as an attribute).
pub const LOG_TARGET: &str = "log.target";

/// Whether `target` is one of [`IGNORED_TARGETS`] or inside one (`hyper::proto`, but not
/// `hyperion`).
#[must_use]
pub fn is_ignored_target(target: &str) -> bool {
    IGNORED_TARGETS.iter().any(|ignored| {
        target
            .strip_prefix(ignored)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// A `tracing-subscriber` [`Layer`]: `tracing` spans become OTLP spans of a [`Tracer`], and
/// events become log records of a [`Logger`] (and, when asked, span events).
///
/// See the [module documentation](crate::bridge) for the mapping and the rule for when the
/// SDK span starts.
#[derive(Clone, Debug)]
pub struct OtlpLayer {
    pub(crate) tracer: Tracer,
    logger: Option<Logger>,
    span_events: Option<usize>,
    location: bool,
}

impl OtlpLayer {
    /// A layer exporting spans through `tracer` and, when `logger` is given, events as log
    /// records; events are not added to spans as span events.
    #[must_use]
    pub fn new(tracer: Tracer, logger: Option<Logger>) -> Self {
        Self {
            tracer,
            logger,
            span_events: None,
            location: true,
        }
    }

    /// A builder, to set more than the tracer and the logger.
    pub fn builder(tracer: Tracer) -> OtlpLayerBuilder {
        OtlpLayerBuilder {
            layer: Self::new(tracer, None),
        }
    }

    /// The tracer spans start with.
    #[must_use]
    pub fn tracer(&self) -> &Tracer {
        &self.tracer
    }

    fn parent_of<S>(&self, attrs: &Attributes<'_>, span: &SpanRef<'_, S>) -> Option<SpanContext>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if attrs.is_root() {
            // `parent: None`: a new trace, whatever the SDK context says.
            return None;
        }
        // The nearest ancestor the layer keeps a span for (ignored targets have none).
        for ancestor in span.scope().skip(1) {
            if ancestor.extensions().get::<SpanState>().is_some() {
                if let Some(sc) = state::ensure_started(&ancestor, &self.tracer) {
                    return Some(sc);
                }
                break;
            }
        }
        // No `tracing` parent: the SDK's current context (an attached remote context).
        context::with_current(|cx| cx.span_context().cloned()).filter(SpanContext::is_valid)
    }

    fn location_attributes(&self, metadata: &'static Metadata<'static>, into: &mut Vec<KeyValue>) {
        if !self.location {
            return;
        }
        if let Some(file) = metadata.file() {
            into.push(KeyValue {
                key: Key::from_static(CODE_FILE_PATH),
                value: Value::String(Cow::Borrowed(file)),
            });
        }
        if let Some(line) = metadata.line() {
            into.push(KeyValue::new(CODE_LINE_NUMBER, i64::from(line)));
        }
    }
}

/// Builds an [`OtlpLayer`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct OtlpLayerBuilder {
    layer: OtlpLayer,
}

impl OtlpLayerBuilder {
    /// The tracer spans start with (replaces the one given to [`OtlpLayer::builder`]).
    pub fn tracer(mut self, tracer: Tracer) -> Self {
        self.layer.tracer = tracer;
        self
    }

    /// Emits events as log records through `logger` (default: events are not exported as log
    /// records).
    pub fn logger(mut self, logger: Logger) -> Self {
        self.layer.logger = Some(logger);
        self
    }

    /// Also adds events to the span they happen in as span events, at most `max_per_span` per
    /// span (the rest are not added; the SDK's `max_events_per_span` applies as well).
    pub fn events_as_span_events(mut self, max_per_span: usize) -> Self {
        self.layer.span_events = Some(max_per_span);
        self
    }

    /// Whether spans and log records carry `code.file.path` and `code.line.number` from the
    /// callsite (default `true`).
    pub fn with_location(mut self, location: bool) -> Self {
        self.layer.location = location;
        self
    }

    /// The layer.
    #[must_use]
    pub fn build(self) -> OtlpLayer {
        self.layer
    }
}

fn severity(level: Level) -> (SeverityNumber, &'static str) {
    match level {
        Level::TRACE => (SeverityNumber::Trace, "TRACE"),
        Level::DEBUG => (SeverityNumber::Debug, "DEBUG"),
        Level::INFO => (SeverityNumber::Info, "INFO"),
        Level::WARN => (SeverityNumber::Warn, "WARN"),
        Level::ERROR => (SeverityNumber::Error, "ERROR"),
    }
}

impl<S> Layer<S> for OtlpLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let metadata = attrs.metadata();
        if is_ignored_target(metadata.target()) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let parent = self.parent_of(attrs, &span);
        let mut fields = SpanFields::with_capacity(metadata.fields().len() + 2);
        attrs.record(&mut fields);
        self.location_attributes(metadata, &mut fields.attributes);
        let pending = Pending {
            name: fields
                .name
                .map_or(Cow::Borrowed(metadata.name()), Cow::Owned),
            kind: fields.kind.unwrap_or(SpanKind::Internal),
            parent,
            attributes: fields.attributes,
            links: Vec::new(),
            start_time: SystemTime::now(),
        };
        span.extensions_mut()
            .insert(SpanState::new(pending, fields.status));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        values.record(&mut fields);
        let overflow = state::with_state(&span, |s| s.record(fields)).unwrap_or_default();
        for kv in overflow {
            state::apply_overflow(&span, &self.tracer, state::Overflow::Attribute(kv));
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        let (Some(span), Some(follows)) = (ctx.span(id), ctx.span(follows)) else {
            return;
        };
        let Some(sc) = state::ensure_started(&follows, &self.tracer) else {
            return;
        };
        if let Some(overflow) = state::with_state(&span, |s| s.add_link(sc)) {
            state::apply_overflow(&span, &self.tracer, overflow);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let _ = state::ensure_started(&span, &self.tracer);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            state::close(&span, &self.tracer);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let logger = self.logger.as_ref().filter(|l| l.enabled());
        if (logger.is_none() && self.span_events.is_none()) || is_ignored_target(metadata.target())
        {
            return;
        }
        // The nearest span the layer keeps (the explicit parent or the current span).
        let span = ctx.event_scope(event).and_then(|scope| {
            scope
                .into_iter()
                .find(|s| s.extensions().get::<SpanState>().is_some())
        });
        let span_context = span
            .as_ref()
            .and_then(|s| state::ensure_started(s, &self.tracer));

        let mut fields = EventFields {
            message: None,
            attributes: Vec::with_capacity(metadata.fields().len() + 3),
        };
        event.record(&mut fields);
        let (number, text) = severity(*metadata.level());

        if let (Some(max), Some(span)) = (self.span_events, &span) {
            let room = state::with_state(span, |s| s.span_events < max) == Some(true);
            if room {
                // Moved when no log record needs them, copied otherwise.
                let (message, mut attributes) = if logger.is_some() {
                    (fields.message.clone(), fields.attributes.clone())
                } else {
                    (
                        fields.message.take(),
                        std::mem::take(&mut fields.attributes),
                    )
                };
                let name = message.map_or(Cow::Borrowed("event"), Cow::Owned);
                attributes.push(KeyValue::new("level", text));
                let _ = state::with_state(span, |s| {
                    if let Some(started) = s.started() {
                        started.add_event(name, attributes);
                        s.span_events += 1;
                    }
                });
            }
        }

        let Some(logger) = logger else { return };
        let mut record = LogRecord::new()
            .with_severity(number, text)
            .with_time(SystemTime::now());
        record.body = fields.message.map(Value::from);
        record.attributes = fields.attributes;
        self.location_attributes(metadata, &mut record.attributes);
        record.attributes.push(KeyValue {
            key: Key::from_static(LOG_TARGET),
            value: Value::String(Cow::Borrowed(metadata.target())),
        });
        if let Some(sc) = span_context {
            record = record.with_trace_context(sc.trace_id(), sc.span_id(), sc.trace_flags());
        }
        // Without a span, `emit` takes the SDK's current context.
        logger.emit(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_targets_match_whole_path_segments() {
        assert!(is_ignored_target("otlp_sdk"));
        assert!(is_ignored_target("otlp_sdk::export::worker"));
        assert!(is_ignored_target("hyper::proto::h1"));
        assert!(is_ignored_target("h2"));
        assert!(!is_ignored_target("hyperion"));
        assert!(!is_ignored_target("h2o::server"));
        assert!(!is_ignored_target("my_app::hyper"));
    }
}
