//! A Prometheus pull exporter: OTLP metrics in the Prometheus text exposition format 0.0.4,
//! served over HTTP.
//!
//! - [`encode_text`] turns [`ResourceMetrics`](otlp_proto::metrics::v1::ResourceMetrics) into
//!   the text a scrape returns, following the OpenTelemetry specification's "Prometheus and
//!   OpenMetrics Compatibility" (OTLP → Prometheus) and its Prometheus exporter
//!   (`metrics/sdk_exporters/prometheus.md`): name and label translation, unit and `_total`
//!   suffixes, scope labels, a `target_info` metric for the resource. [`TextOptions`] holds
//!   the exporter's `without_*` switches.
//! - [`PrometheusServer`] serves `GET /metrics` from a listener and threads of its own
//!   (`std::net`, no async runtime), calling a source of metrics on every scrape.
//!
//! The exporter's reader must collect with cumulative temporality: delta sums and
//! histograms are dropped, and so are exponential histograms, which the text format 0.0.4
//! cannot carry ([`EncodeStats`] counts what was left out).
//!
//! ```no_run
//! use std::sync::Arc;
//! # use otlp_sdk::metrics::prometheus::{PrometheusServer, TextOptions};
//!
//! let source = Arc::new(|| Vec::new()); // e.g. a manual reader's collect()
//! let server = PrometheusServer::bind(
//!     "127.0.0.1:9464".parse().unwrap(),
//!     source,
//!     TextOptions::default(),
//! )?;
//! // … scrape http://127.0.0.1:9464/metrics …
//! server.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```

mod server;

#[cfg(test)]
mod tests;

pub use server::{CONTENT_TYPE, MetricsSource, PrometheusServer};
// The translation lives in otlp-model, shared with the collector's Prometheus exporters.
pub use otlp_model::prometheus::{EncodeStats, TextOptions, encode_text, encode_text_with_stats};
