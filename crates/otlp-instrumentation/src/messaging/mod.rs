//! Message queues: a PRODUCER `send` span whose context travels in the message's headers, and
//! a CONSUMER `process` span on the other side that links to it (or continues it as its parent
//! when asked), with the messaging conventions' attributes and duration metrics — over any
//! header carrier (`Vec<(String, Vec<u8>)>` as Kafka has them, `HashMap<String, String>`,
//! `http::HeaderMap`, or your own `Injector`/`Extractor`).
//!
//! ```
//! use otlp_instrumentation::messaging::{Messaging, Parent};
//! use otlp_sdk::metrics::MeterProvider;
//! use otlp_sdk::trace::TracerProvider;
//!
//! let tracer = TracerProvider::builder().build().tracer("orders");
//! let meter = MeterProvider::builder().build().meter("orders");
//! let kafka = Messaging::new("kafka", tracer, &meter);
//!
//! // Producer: the headers go out with the message.
//! let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
//! let send = kafka.send("payments", &mut headers);
//! let sent_trace = send.span().span_context().trace_id();
//! send.end();
//!
//! // Consumer: the process span links to the send span, or continues its trace.
//! let process = kafka.process("payments", &headers, Parent::Creation);
//! assert_eq!(process.span().span_context().trace_id(), sent_trace);
//! process.end();
//! ```

use std::time::Instant;

use otlp_model::SpanContext;
use otlp_model::semconv::trace::{
    ERROR_TYPE, MESSAGING_DESTINATION_NAME, MESSAGING_OPERATION_NAME, MESSAGING_OPERATION_TYPE,
    MESSAGING_SYSTEM,
};
use otlp_propagation::{Extractor, Injector, Propagators, TextMapPropagator};
use otlp_sdk::context::{self, Context, ContextGuard};
use otlp_sdk::metrics::{Counter, Histogram, Meter};
use otlp_sdk::trace::{Link, Span, SpanKind, Status, Tracer};
use otlp_sdk::{KeyValue, global};

/// Boundaries the messaging conventions advise for their duration histograms, in seconds.
pub const DURATION_BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// How a `process` span relates to the context that came with the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// Link to the creation context; the parent is the current context (the conventions'
    /// default: a consumer's own trace, e.g. a poll loop, stays intact).
    Link,
    /// Continue the creation context's trace as the parent (and link to it too): one trace
    /// from producer to consumer.
    Creation,
}

/// Producer and consumer instrumentation for one messaging system (`kafka`, `rabbitmq`, ...).
#[derive(Clone, Debug)]
pub struct Messaging {
    system: &'static str,
    tracer: Tracer,
    operation_duration: Histogram<f64>,
    process_duration: Histogram<f64>,
    sent: Counter<u64>,
    consumed: Counter<u64>,
    propagators: std::sync::Arc<Propagators>,
}

impl Messaging {
    /// Instrumentation for `system` (the `messaging.system` value) with the global
    /// propagators.
    pub fn new(system: &'static str, tracer: Tracer, meter: &Meter) -> Self {
        Self {
            system,
            tracer,
            operation_duration: meter
                .f64_histogram("messaging.client.operation.duration")
                .with_unit("s")
                .with_description(
                    "Duration of messaging operation initiated by a producer or consumer client.",
                )
                .with_boundaries(DURATION_BOUNDARIES.to_vec())
                .build(),
            process_duration: meter
                .f64_histogram("messaging.process.duration")
                .with_unit("s")
                .with_description("Duration of processing operation.")
                .with_boundaries(DURATION_BOUNDARIES.to_vec())
                .build(),
            sent: meter
                .u64_counter("messaging.client.sent.messages")
                .with_unit("{message}")
                .with_description("Number of messages producer attempted to send to the broker.")
                .build(),
            consumed: meter
                .u64_counter("messaging.client.consumed.messages")
                .with_unit("{message}")
                .with_description("Number of messages that were delivered to the application.")
                .build(),
            propagators: global::propagators(),
        }
    }

    /// Uses `propagators` instead of the global ones.
    #[must_use]
    pub fn with_propagators(mut self, propagators: Propagators) -> Self {
        self.propagators = std::sync::Arc::new(propagators);
        self
    }

    fn attributes(&self, operation: &'static str, destination: &str) -> Vec<KeyValue> {
        vec![
            KeyValue::new(MESSAGING_SYSTEM, self.system),
            KeyValue::new(MESSAGING_OPERATION_NAME, operation),
            KeyValue::new(MESSAGING_DESTINATION_NAME, destination.to_owned()),
        ]
    }

    /// Starts a PRODUCER `send {destination}` span (child of the current context) and writes
    /// its context into `headers`. End it when the broker acknowledged the message.
    pub fn send(&self, destination: &str, headers: &mut dyn Injector) -> Operation {
        let metric = self.attributes("send", destination);
        let mut span_attributes = metric.clone();
        span_attributes.push(KeyValue::new(MESSAGING_OPERATION_TYPE, "send"));
        let span = self
            .tracer
            .span(format!("send {destination}"))
            .kind(SpanKind::Producer)
            .attributes(span_attributes)
            .start();
        let cx = context::current().with_span_context(span.span_context().clone());
        self.propagators.inject(&cx, headers);
        self.sent.add(1, &metric);
        Operation {
            span,
            cx,
            started: Instant::now(),
            duration: self.operation_duration.clone(),
            attributes: metric,
        }
    }

    /// Starts a CONSUMER `process {destination}` span for a message with `headers`, linked to
    /// (or, with [`Parent::Creation`], continuing) the context the producer put there. Attach
    /// it ([`Operation::attach`]) while handling the message.
    pub fn process(&self, destination: &str, headers: &dyn Extractor, parent: Parent) -> Operation {
        let creation = self.propagators.extract(headers);
        let metric = self.attributes("process", destination);
        let mut span_attributes = metric.clone();
        span_attributes.push(KeyValue::new(MESSAGING_OPERATION_TYPE, "process"));
        let mut builder = self
            .tracer
            .span(format!("process {destination}"))
            .kind(SpanKind::Consumer)
            .attributes(span_attributes);
        let creation_span: Option<SpanContext> = creation.span_context().cloned();
        if let Some(sc) = &creation_span {
            builder = builder.link(Link::new(sc.clone(), Vec::new()));
        }
        let (builder, base) = match (parent, creation_span) {
            (Parent::Creation, Some(sc)) => (builder.parent_span_context(sc), creation.clone()),
            _ => (builder, context::current()),
        };
        let span = builder.start();
        let cx = base.with_span_context(span.span_context().clone());
        self.consumed.add(1, &metric);
        Operation {
            span,
            cx,
            started: Instant::now(),
            duration: self.process_duration.clone(),
            attributes: metric,
        }
    }
}

/// A running `send` or `process` operation: its span, its context, and its duration metric.
#[derive(Debug)]
#[must_use = "the operation ends (and records its duration) when `end` or `fail` is called or it is dropped"]
pub struct Operation {
    span: Span,
    cx: Context,
    started: Instant,
    duration: Histogram<f64>,
    attributes: Vec<KeyValue>,
}

impl Operation {
    /// The operation's span.
    #[must_use]
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Mutable access to the span (attributes such as `messaging.message.id`).
    pub fn span_mut(&mut self) -> &mut Span {
        &mut self.span
    }

    /// Makes the operation's context current on this thread until the guard is dropped.
    pub fn attach(&self) -> ContextGuard {
        context::attach(self.cx.clone())
    }

    /// The operation's context (to carry into a task).
    #[must_use]
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// Ends it successfully.
    pub fn end(self) {
        drop(self);
    }

    /// Ends it as failed with `error_type` (the `error.type` value) and `message`.
    pub fn fail(mut self, error_type: &str, message: impl Into<String>) {
        self.attributes
            .push(KeyValue::new(ERROR_TYPE, error_type.to_owned()));
        self.span
            .set_attribute(KeyValue::new(ERROR_TYPE, error_type.to_owned()));
        self.span.set_status(Status::error(message.into()));
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        self.duration
            .record(self.started.elapsed().as_secs_f64(), &self.attributes);
        self.span.end();
    }
}
