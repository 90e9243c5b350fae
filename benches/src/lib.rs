//! Shared fixtures for the otlp-rs benchmarks: realistic OTLP payloads built once and reused.
//!
//! This crate is a tool, not a library layer: it may depend on every crate of the workspace and
//! on peers (such as `opentelemetry-proto`) to compare against them on the same payloads.

pub mod jaeger;
pub mod payloads;
pub mod zipkin;
