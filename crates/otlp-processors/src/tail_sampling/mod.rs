//! The `tail_sampling` processor: otelcol-contrib's tailsamplingprocessor. Spans are buffered
//! by trace id; `decision_wait` after a trace's first span its policies decide, and sampled
//! traces go to the next consumer (one request per decision tick, resources and scopes
//! kept), the others are dropped.
//!
//! | file | what |
//! |---|---|
//! | `config.rs` | the keys and their defaults ([`TailSamplingConfig`]) |
//! | `policy/` | the policies, one file per family, and their compilation and checks |
//! | `decision.rs` | the final decision from the policies' decisions (contrib's precedence) |
//! | `group.rs` | splitting a request by trace id, sharing its resources and scopes |
//! | `emit.rs` | rebuilding outgoing requests, one `ResourceSpans` per received resource |
//! | `hash.rs` | the fast hasher of the maps keyed by trace id |
//! | `store.rs` | the bounded buffer of pending traces |
//! | `cache.rs` | the remembered decisions that late spans follow |
//! | `engine.rs` | buffering, deciding, releasing, within the bounds |
//! | `metrics.rs` | the `otelcol_processor_tail_sampling_*` self-metrics |
//! | `component.rs` | the pipeline component, its ticker and its factory |
//!
//! # Differences from contrib
//!
//! - When `num_traces` is reached, contrib drops the oldest trace undecided; here it is
//!   decided early (evaluated with what arrived). Buffered spans are bounded too
//!   ([`engine::max_buffered_spans`]).
//! - On shutdown, contrib (recent versions) decides pending traces with partial data unless
//!   `drop_pending_traces_on_shutdown`; so do we, forwarding what is sampled by the shutdown
//!   deadline (what misses it is counted in `forward_failed_spans_total`).
//! - Not supported: `block_on_overflow`, `bytes_limiting`, `trace_flags`, the feature gates
//!   (`recordpolicy`, `disableinvertdecisions`, ...).

mod cache;
pub mod component;
pub mod config;
mod decision;
mod emit;
pub mod engine;
mod group;
mod hash;
mod metrics;
mod policy;
mod store;

#[cfg(test)]
mod tests;

pub use component::{TailSamplingProcessor, tail_sampling_factory};
pub use config::TailSamplingConfig;
