//! Self-telemetry: the collector's own counters and gauges, with the OpenTelemetry Collector's
//! metric names and labels, served in the Prometheus text format.
//!
//! # Names
//!
//! The exposition names are those a current otelcol (v0.100 and later, whose Prometheus
//! exporter adds unit and `_total` suffixes) serves on `:8888/metrics`, so existing dashboards
//! and alerts work unchanged:
//!
//! | name | type | labels |
//! |---|---|---|
//! | `otelcol_receiver_accepted_{spans,metric_points,log_records}_total` | counter | `receiver`, `transport` |
//! | `otelcol_receiver_refused_{spans,metric_points,log_records}_total` | counter | `receiver`, `transport` |
//! | `otelcol_receiver_refused_requests_total` (otlp-rs) | counter | `receiver`, `transport` |
//! | `otelcol_exporter_sent_{…}_total` | counter | `exporter` |
//! | `otelcol_exporter_send_failed_{…}_total` | counter | `exporter` |
//! | `otelcol_exporter_enqueue_failed_{…}_total` | counter | `exporter` |
//! | `otelcol_exporter_queue_size`, `otelcol_exporter_queue_capacity` | gauge | `exporter`, `data_type` |
//! | `otelcol_processor_batch_batch_send_size` | histogram | `processor` |
//! | `otelcol_processor_batch_{batch_size,timeout}_trigger_send_total` | counter | `processor` |
//! | `otelcol_processor_refused_{…}_total` (memory_limiter) | counter | `processor` |
//! | `otelcol_processor_filter_{spans,datapoints,logs}_filtered_total` | counter | `processor` |
//! | `otelcol_processor_probabilistic_sampler_count_{traces,logs}_sampled_total` | counter | `processor`, `sampled` |
//! | `otelcol_process_memory_rss_bytes` | gauge | |
//! | `otelcol_process_cpu_seconds_total` | counter | |
//! | `otelcol_process_uptime_seconds_total` | counter | |
//!
//! `{…}` is `spans`, `metric_points`, `log_records` (and `profiles`) by signal ([`item_unit`]).
//! Queue sizes count items (spans, points, records), not batches as otelcol's `requests`
//! sizer does. Metrics marked otlp-rs have no otelcol equivalent: they count what otlp-rs
//! refuses earlier than otelcol can (before decoding).
//!
//! # Sharing
//!
//! One [`Metrics`] registry per process (or per test): components find it in
//! [`Resources`](crate::Resources) ([`Metrics::from_resources`]), falling back to
//! [`Metrics::global`]. Counters are get-or-create by name and labels, so two instances of a
//! component (a `batch` processor in two pipelines, a pipeline rebuilt after a restart) add to
//! the same series. Values read from elsewhere (a queue's size) are registered as functions,
//! summed per series, and removed when their [`Registration`] is dropped.
//!
//! [`MetricsServer`] serves `GET /metrics` on `service.telemetry.metrics.address`; the same
//! small [`HttpServer`] serves the `health_check` extension.
//!
//! [`SelfSpans`] keeps the collector's own recent spans (receivers' export requests,
//! exporters' sends) for the `zpages` extension's `/debug/tracez`.

mod process;
mod prometheus;
mod registry;
mod server;
mod spans;

pub use process::{rss_bytes as process_rss, total_memory_bytes as process_total_memory};
pub use server::{Handler, HttpServer, SimpleResponse, check_endpoint, resolve_endpoint};

pub use registry::{Counter, Gauge, HistogramValue, Kind, Metrics, Registration};
pub use server::MetricsServer;
pub use spans::{
    BUCKETS, LATENCY_BOUNDS, MAX_ATTRIBUTES, MAX_NAME_LEN, MAX_NAMES, MAX_VALUE_LEN,
    SAMPLES_PER_BUCKET, SampleSet, SelfSpans, SpanGuard, SpanKind, SpanName, SpanRecord,
    SpanSubscription, SpanSummary, bucket_lower_bound, bucket_of,
};

use crate::Signal;

/// The otelcol item unit of a signal, as used in metric names: `spans`, `metric_points`,
/// `log_records`, `profiles`.
pub const fn item_unit(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "spans",
        Signal::Metrics => "metric_points",
        Signal::Logs => "log_records",
        Signal::Profiles => "profiles",
    }
}

/// The item word of a signal for help texts: `spans`, `metric points`, `log records`,
/// `profiles`.
pub const fn item_words(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "spans",
        Signal::Metrics => "metric points",
        Signal::Logs => "log records",
        Signal::Profiles => "profiles",
    }
}
