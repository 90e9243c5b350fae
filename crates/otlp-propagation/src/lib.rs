//! Trace-context propagation: how a trace survives the hop between services (API gateway →
//! service → message queue → consumer).
//!
//! This crate reads the caller's span context and baggage from incoming headers, makes the
//! context of the next call, and writes it into outgoing headers, in the formats in use today:
//!
//! | format | headers | propagator | `OTEL_PROPAGATORS` |
//! |---|---|---|---|
//! | W3C Trace Context (Level 2 `random` flag included) | `traceparent`, `tracestate` | [`TraceContextPropagator`] | `tracecontext` |
//! | W3C Baggage | `baggage` | [`BaggagePropagator`] | `baggage` |
//! | Zipkin B3, single header | `b3` | [`B3Propagator::single`] | `b3` |
//! | Zipkin B3, multiple headers | `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-ParentSpanId`, `X-B3-Sampled`, `X-B3-Flags` | [`B3Propagator::multi`] | `b3multi` |
//! | Jaeger | `uber-trace-id`, `uberctx-{key}` | [`JaegerPropagator`] | `jaeger` |
//!
//! [`Propagators`] combines them from an `OTEL_PROPAGATORS` list: extract takes the first
//! valid span context (and merges baggage), inject writes every format.
//!
//! # Extract → child → inject
//!
//! ```
//! # #[cfg(feature = "http")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use otlp_propagation::{Propagators, TextMapPropagator};
//!
//! let propagators = Propagators::from_names("tracecontext,baggage")?;
//!
//! // 1. Extract the caller's context from the incoming request (any carrier: http::HeaderMap,
//! //    tonic MetadataMap, Kafka-style message headers, HashMap).
//! let mut incoming = http::HeaderMap::new();
//! incoming.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?);
//! incoming.insert("baggage", "user.id=alice".parse()?);
//! let parent = propagators.extract(&incoming);
//!
//! // 2. Make the context of this service's span: same trace, new span id (or a new root
//! //    when nothing valid came in).
//! let cx = parent.child();
//!
//! // 3. Inject it into the outgoing call.
//! let mut outgoing = http::HeaderMap::new();
//! propagators.inject(&cx, &mut outgoing);
//!
//! let sent = outgoing["traceparent"].to_str()?;
//! assert!(sent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
//! assert!(!sent.contains("00f067aa0ba902b7"));
//! assert_eq!(outgoing["baggage"], "user.id=alice");
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "http"))]
//! # fn main() {}
//! ```
//!
//! `examples/gateway.rs` is the same pattern in a running HTTP gateway.
//!
//! # Design
//!
//! - **Invalid input is absent input.** A malformed header never fails a request: a propagator
//!   ignores it and the next hop starts a new trace. The parsers behind the propagators
//!   ([`TraceParent::parse`], [`parse_tracestate`], [`B3Header::parse_single`],
//!   [`UberTraceId::parse`]) return typed errors for diagnostics; [`parse_baggage`] skips
//!   invalid members. No input makes this crate panic (property-tested on arbitrary bytes).
//! - **Allocation-light.** `traceparent` parses and formats on the stack
//!   ([`TraceParentHeader`]); an empty trace state or baggage does not allocate, and cloning a
//!   [`Context`] only bumps reference counts.
//! - **Object-safe traits.** [`TextMapPropagator`], [`Extractor`] and [`Injector`] work behind
//!   `dyn`, so the propagator list can come from configuration.
//! - **One model.** Ids, flags, trace state and span context are `otlp-model`'s types, the same
//!   ones the OTLP views and the pipeline use.
//!
//! # Dependencies
//!
//! Only `otlp-model` and `thiserror`, plus the `http` and `tonic` crates for their *types*
//! behind features. This crate must not depend on an async runtime or a network stack:
//! no `tokio`, no `hyper`, no tonic transport (`cargo xtask tidy` checks the default and
//! no-default builds). It sits below `otlp-transport`, which uses it.
//!
//! # Features
//!
//! - `http` (default): [`Extractor`] and [`Injector`] for `http::HeaderMap`.
//! - `tonic`: [`Extractor`] and [`Injector`] for `tonic::metadata::MetadataMap`. tonic without
//!   its transport still pulls in `tokio` (through `tokio-stream`, no runtime features), which
//!   is why this feature is off by default.
//!
//! Without features, `HashMap<String, String>` and message headers (`Vec<(String, Vec<u8>)>`)
//! are carriers.

#![forbid(unsafe_code)]

mod b3;
mod baggage;
mod carrier;
mod context;
mod jaeger;
mod percent;
mod propagator;
mod trace_context;

pub use b3::{
    B3_FLAGS_HEADER, B3_PARENT_SPAN_ID_HEADER, B3_SAMPLED_HEADER, B3_SINGLE_HEADER,
    B3_SPAN_ID_HEADER, B3_TRACE_ID_HEADER, B3Encoding, B3Error, B3Header, B3Propagator,
};
pub use baggage::{
    BAGGAGE_HEADER, BAGGAGE_MAX_LEN, BAGGAGE_MAX_MEMBERS, Baggage, BaggageEntry, BaggageError,
    BaggagePropagator, BaggageProperty, parse_baggage,
};
pub use carrier::{Extractor, Injector};
pub use context::{Context, SamplingState, child_of, new_root};
pub use jaeger::{
    JAEGER_BAGGAGE_PREFIX, JAEGER_HEADER, JaegerError, JaegerPropagator, UberTraceId,
};
pub use propagator::{
    DEFAULT_PROPAGATORS, OTEL_PROPAGATORS, PropagatorKind, Propagators, PropagatorsError,
    TextMapPropagator,
};
pub use trace_context::{
    KNOWN_TRACE_FLAGS, TRACEPARENT_HEADER, TRACEPARENT_LEN, TRACESTATE_HEADER,
    TRACESTATE_LONG_MEMBER, TRACESTATE_MAX_LEN, TRACESTATE_MAX_MEMBERS, TraceContextPropagator,
    TraceParent, TraceParentError, TraceParentHeader, TraceStateParseError, format_tracestate,
    parse_tracestate,
};

/// The `otlp-model` types this crate's API is built on, re-exported for convenience.
pub use otlp_model::{SpanContext, SpanId, TraceFlags, TraceId, TraceState, TraceStateError};
