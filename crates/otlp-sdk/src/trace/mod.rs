//! Traces (feature `trace`): [`TracerProvider`] → [`Tracer`] → [`SpanBuilder`] → [`Span`],
//! samplers, span limits, and the simple and batch span processors.

mod data;
mod encode;
mod limits;
mod link;
mod processor;
mod provider;
pub mod sampler;
mod span;
mod tracer;

pub use data::{Event, SpanData, SpanKind, Status};
pub use encode::span_to_proto;
pub use limits::SpanLimits;
pub use link::Link;
pub use processor::{BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanProcessor};
pub use provider::{TracerProvider, TracerProviderBuilder};
pub use sampler::{
    AlwaysOff, AlwaysOn, ParentBased, Sampler, SamplingDecision, SamplingResult, TraceIdRatioBased,
    sampler_from_env,
};
pub use span::Span;
pub use tracer::{SpanBuilder, Tracer};
