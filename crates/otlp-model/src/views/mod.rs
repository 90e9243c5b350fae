//! Read-only, zero-copy views over the OTLP request types.
//!
//! One extension trait per signal flattens the resource → scope → item nesting and counts items
//! with plain loops, allocating nothing and copying nothing:
//!
//! | Trait | Iterators | Counts |
//! |---|---|---|
//! | [`TracesView`] | [`spans`](TracesView::spans) → [`SpanRef`] | [`span_count`](TracesView::span_count) |
//! | [`MetricsView`] | [`metrics`](MetricsView::metrics) → [`MetricRef`], [`data_points`](MetricsView::data_points) → [`DataPointRef`] | [`metric_count`](MetricsView::metric_count), [`data_point_count`](MetricsView::data_point_count) |
//! | [`LogsView`] | [`log_records`](LogsView::log_records) → [`LogRecordRef`] | [`log_record_count`](LogsView::log_record_count) |
//! | [`ProfilesView`] | [`profiles`](ProfilesView::profiles) → [`ProfileRef`] | [`profile_count`](ProfilesView::profile_count), [`sample_count`](ProfilesView::sample_count) |
//!
//! Each trait is implemented for the export request, the `*Data` message, a single
//! `Resource*` message, and slices and `Vec`s of `Resource*` messages, so the same code works on
//! a whole request or on one part of it.
//!
//! Each item reference carries the `Resource*` and `Scope*` messages it was found in (not just
//! the `Resource` and `InstrumentationScope`), so schema URLs stay reachable; `resource()` and
//! `scope()` return the inner messages, `None` when the sender left them out.
//!
//! The counts follow the Go Collector's `pdata` (`SpanCount`, `DataPointCount`,
//! `LogRecordCount`, `SampleCount`), which is what `otelcol_*` self-telemetry reports:
//!
//! - a metric whose `data` is unset counts zero data points;
//! - every `NumberDataPoint` of a gauge or sum, every histogram, exponential-histogram and
//!   summary data point counts one, whatever its bucket or quantile count;
//! - for profiles, [`ProfilesView::sample_count`] is the item count (what `otelcol` counts
//!   for profiles) and [`ProfilesView::profile_count`] the number of `Profile` messages, which
//!   is what `ExportProfilesPartialSuccess.rejected_profiles` refers to.
//!
//! ```
//! use otlp_model::builders::{SpanBuilder, TracesBuilder};
//! use otlp_model::views::TracesView;
//! use otlp_model::resource;
//!
//! let request = TracesBuilder::new()
//!     .resource(resource!["service.name" => "cart"])
//!     .scope("lib", "1")
//!     .span(SpanBuilder::new("a"))
//!     .span(SpanBuilder::new("b"))
//!     .build();
//! assert_eq!(request.span_count(), 2);
//! // The same view works on one `ResourceSpans`:
//! assert_eq!(request.resource_spans[0].span_count(), 2);
//! let names: Vec<&str> = request.spans().map(|s| s.name()).collect();
//! assert_eq!(names, ["a", "b"]);
//! assert!(request.spans().all(|s| s.service_name() == Some("cart")));
//! ```

mod flatten;
mod logs;
mod metrics;
mod profiles;
mod traces;

pub use logs::{LogRecordRef, LogRecords, LogsView};
pub use metrics::{DataPoint, DataPointRef, DataPoints, MetricRef, Metrics, MetricsView};
pub use profiles::{ProfileRef, Profiles, ProfilesView};
pub use traces::{SpanRef, Spans, TracesView};

use otlp_proto::resource::v1::Resource;

use crate::attributes::AttributesExt;
use crate::semconv::resource::SERVICE_NAME;
use crate::{SpanId, TraceId};

/// `service.name` of an optional resource, if it is a string.
fn service_name(resource: Option<&Resource>) -> Option<&str> {
    resource.and_then(|r| r.attributes.get_str(SERVICE_NAME))
}

/// A trace id from OTLP bytes; `None` unless exactly 16 bytes.
fn trace_id(bytes: &[u8]) -> Option<TraceId> {
    TraceId::try_from(bytes).ok()
}

/// A span id from OTLP bytes; `None` unless exactly 8 bytes.
fn span_id(bytes: &[u8]) -> Option<SpanId> {
    SpanId::try_from(bytes).ok()
}

/// Implements a view trait for the request, the data message, one resource message, and
/// slices and vectors of resource messages.
macro_rules! impl_view {
    ($trait:ident, $method:ident, $resource:ty, $field:ident, [$($container:ty),*]) => {
        $(
            impl $trait for $container {
                fn $method(&self) -> &[$resource] {
                    &self.$field
                }
            }
        )*
        impl $trait for [$resource] {
            fn $method(&self) -> &[$resource] {
                self
            }
        }
        impl $trait for Vec<$resource> {
            fn $method(&self) -> &[$resource] {
                self
            }
        }
        impl $trait for $resource {
            fn $method(&self) -> &[$resource] {
                ::core::slice::from_ref(self)
            }
        }
    };
}
use impl_view;
