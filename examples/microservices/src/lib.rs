//! Runnable integrations of `otlp-sdk` and `otlp-instrumentation`, built as a user would
//! build them:
//!
//! - [`sidecar`]: a tracing reverse proxy. Every request is forwarded unchanged (bodies
//!   streamed) to an upstream base URL inside a SERVER span that continues the caller's trace,
//!   and the upstream call is a CLIENT span whose context travels in `traceparent`; RED
//!   metrics on both sides; 502 when the upstream is down.
//! - [`services`]: a small microservices demo — `gateway` → `users` → `orders` over HTTP,
//!   `orders` → `payments` through a message queue ([`queue`]) — every service with its own
//!   providers and `service.name` ([`telemetry`]), HTTP instrumented by the tower layers, the
//!   queue by `otlp_instrumentation::messaging`, and `tracing` events and spans turned into
//!   OTLP log records and spans by the SDK's bridge.
//!
//! The binaries `demo` and `sidecar` are thin wrappers over these modules.
//!
//! # What it must not depend on
//!
//! The collector side (`otlp-pipeline` and up): it is an application, and it exports to a
//! collector only over OTLP.

#![forbid(unsafe_code)]

pub mod http;
pub mod queue;
pub mod services;
pub mod sidecar;
pub mod telemetry;

/// The error type of the demo's fallible operations.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
