//! Trace context, attributes, builders, views and semantic-convention keys over the OTLP types.
//!
//! `otlp-model` is the vocabulary layer of otlp-rs. The pipeline moves the protobuf request
//! types of `otlp-proto` (`ExportTraceServiceRequest`, ...) as they are; this crate adds what
//! makes those types pleasant to create, read and check, without converting them into a second
//! model:
//!
//! - trace context: [`TraceId`], [`SpanId`], [`TraceFlags`], [`TraceState`], [`SpanContext`]
//!   (the W3C data model, with no header syntax);
//! - [`attributes`](mod@attributes): [`IntoAnyValue`] conversions, [`kv`], lookups ([`AttributesExt`]),
//!   typed reads and a `Display` form ([`AnyValueExt`]), in-place `upsert` / `remove`;
//! - [`builders`]: request builders for traces, metrics and logs, and the
//!   [`resource!`] / [`attributes!`] macros;
//! - [`views`]: zero-copy iterators over spans, metrics, data points, log records and profiles,
//!   each with its resource and scope, and allocation-free counts;
//! - [`semconv`]: semantic-convention attribute keys as constants;
//! - [`time`]: OTLP timestamps as RFC 3339 and Go time text;
//! - `prometheus` (feature `prometheus`): OTLP → Prometheus names, units, label values and
//!   the text format 0.0.4 encoder, shared by the SDK and the collector's exporters;
//! - `zipkin` (feature `zipkin`): the Zipkin v2 span model, its v1/v2 JSON and v2 protobuf
//!   codecs and the translations to and from OTLP, shared by the collector's `zipkin`
//!   receiver and exporter;
//! - [`prelude`]: the traits, builders and macros above in one `use`.
//!
//! The protobuf crate is re-exported as [`proto`], so a user of this crate needs no second
//! dependency to name the message types.
//!
//! # What it must not depend on
//!
//! Only `otlp-proto` (plus `thiserror` and `rand`). Never an async runtime, a network stack
//! (tokio, tonic, hyper) or any crate above it in the workspace (`otlp-propagation` and up):
//! `cargo xtask tidy` enforces this. The cargo feature `prometheus` (off by default) adds
//! `tracing` for the encoder's warnings; `zipkin` (off by default) adds `serde`, `serde_json`,
//! `prost` and `base64` for the Zipkin codecs.
//!
//! # Example
//!
//! Build a traces request, walk it with the view, count its spans:
//!
//! ```
//! use otlp_model::prelude::*;
//! use otlp_model::semconv::resource::{SERVICE_NAME, SERVICE_VERSION};
//! use otlp_model::semconv::trace::{DB_SYSTEM_NAME, HTTP_REQUEST_METHOD, HTTP_ROUTE};
//!
//! let trace_id = TraceId::random();
//! let root = SpanId::random();
//! let start = 1_700_000_000_000_000_000_u64;
//!
//! let request = TracesBuilder::new()
//!     .resource(resource![SERVICE_NAME => "checkout", SERVICE_VERSION => "1.4.2"])
//!     .scope("checkout.http", "1.0")
//!     .span(
//!         SpanBuilder::new("GET /cart")
//!             .kind(SpanKind::Server)
//!             .trace_id(trace_id)
//!             .span_id(root)
//!             .start(start)
//!             .end(start + 12_000_000)
//!             .attr(HTTP_REQUEST_METHOD, "GET")
//!             .attr(HTTP_ROUTE, "/cart")
//!             .status_ok(),
//!     )
//!     .scope("checkout.db", "1.0")
//!     .span(
//!         SpanBuilder::new("SELECT carts")
//!             .kind(SpanKind::Client)
//!             .trace_id(trace_id)
//!             .parent(root)
//!             .start(start + 1_000_000)
//!             .end(start + 9_000_000)
//!             .attr(DB_SYSTEM_NAME, "postgresql")
//!             .event(EventBuilder::new("retry").time(start + 4_000_000)),
//!     )
//!     .build();
//!
//! assert_eq!(request.span_count(), 2);
//! for span in request.spans() {
//!     assert_eq!(span.service_name(), Some("checkout"));
//!     assert_eq!(span.trace_id(), Some(trace_id));
//!     println!("{} {:?} {}", span.name(), span.duration_nanos(), span.attributes().display());
//! }
//!
//! let db_span = request.spans().find(|s| s.parent_span_id() == Some(root));
//! assert_eq!(db_span.and_then(|s| s.scope()).map(|s| s.name.as_str()), Some("checkout.db"));
//! assert_eq!(db_span.and_then(|s| s.attributes().get_str(DB_SYSTEM_NAME)), Some("postgresql"));
//! ```

mod trace_context;

pub use trace_context::*;

pub mod attributes;
pub mod builders;
#[cfg(feature = "prometheus")]
pub mod prometheus;
pub mod semconv;
pub mod time;
pub mod views;
#[cfg(feature = "zipkin")]
pub mod zipkin;

pub use attributes::{AnyValueExt, AttributesExt, IntoAnyValue, kv};

/// The protobuf message types this crate works on (`otlp-proto`, re-exported).
pub use otlp_proto as proto;

/// Builds a `Vec<KeyValue>` from `key => value` pairs.
///
/// Keys are `impl Into<String>`, values `impl` [`IntoAnyValue`].
///
/// ```
/// use otlp_model::{attributes, AttributesExt};
///
/// let attrs = attributes!["http.request.method" => "GET", "http.response.status_code" => 200];
/// assert_eq!(attrs.get_i64("http.response.status_code"), Some(200));
/// assert!(attributes![].is_empty());
/// ```
#[macro_export]
macro_rules! attributes {
    () => {
        ::std::vec::Vec::<$crate::proto::common::v1::KeyValue>::new()
    };
    ($($key:expr => $value:expr),+ $(,)?) => {
        ::std::vec![$($crate::attributes::kv($key, $value)),+]
    };
}

/// Builds a `Resource` from `key => value` attribute pairs.
///
/// ```
/// use otlp_model::resource;
/// use otlp_model::semconv::resource::{SERVICE_NAME, HOST_NAME};
/// use otlp_model::AttributesExt;
///
/// let resource = resource![SERVICE_NAME => "checkout", HOST_NAME => "web-1"];
/// assert_eq!(resource.attributes.get_str("host.name"), Some("web-1"));
/// assert!(resource![].attributes.is_empty());
/// ```
#[macro_export]
macro_rules! resource {
    ($($key:expr => $value:expr),* $(,)?) => {
        $crate::proto::resource::v1::Resource {
            attributes: $crate::attributes![$($key => $value),*],
            ..::core::default::Default::default()
        }
    };
}

/// Runs the README's example as a doctest, so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The traits, builders, enums and macros most code needs: `use otlp_model::prelude::*;`.
///
/// Semantic-convention keys are not included (there are many); import them from [`semconv`].
pub mod prelude {
    pub use crate::attributes::{AnyValueExt, AttributesExt, IntoAnyValue, kv};
    pub use crate::builders::{
        AggregationTemporality, EventBuilder, ExponentialHistogramBuilder,
        ExponentialHistogramPointBuilder, GaugeBuilder, HistogramBuilder, HistogramPointBuilder,
        IntoUnixNanos, LinkBuilder, LogRecordBuilder, LogsBuilder, MetricsBuilder,
        NumberPointBuilder, ResourceBuilder, ScopeBuilder, SeverityNumber, SpanBuilder, SpanKind,
        StatusCode, SumBuilder, SummaryBuilder, SummaryPointBuilder, TracesBuilder,
    };
    pub use crate::views::{LogsView, MetricsView, ProfilesView, TracesView};
    pub use crate::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    pub use crate::{attributes, resource};
}
