//! OTLP metrics → Prometheus: the pure translation shared by the SDK's pull exporter and the
//! collector's `prometheus` / `prometheusremotewrite` exporters (feature `prometheus`).
//!
//! The rules are the OpenTelemetry specification's "Prometheus and OpenMetrics
//! Compatibility" (OTLP → Prometheus):
//!
//! - [`names`]: metric and label names (the legacy character set), UCUM unit suffixes,
//!   `_total`, `_ratio`, `_info`;
//! - [`values`]: sample values, label values and HELP text as the text format writes them,
//!   attribute values as label values;
//! - [`translator`]: the same translation as the Go collector's exporters build it
//!   (`otlptranslator`), for the collector's `prometheus` and `prometheusremotewrite`;
//! - [`encode_text`] / [`encode_text_with_stats`]: a stateless encoder of
//!   [`ResourceMetrics`](otlp_proto::metrics::v1::ResourceMetrics) into the text exposition
//!   format 0.0.4 (cumulative data only), with [`TextOptions`] for the exporter's
//!   `without_*` switches and [`EncodeStats`] counting what was left out.
//!
//! Nothing here does I/O or keeps state between calls; accumulation (delta to cumulative,
//! expiry) belongs to the exporter that serves a scrape.

pub mod names;
mod text;
pub mod translator;
pub mod values;

pub use text::{EncodeStats, TextOptions, encode_text, encode_text_with_stats};
