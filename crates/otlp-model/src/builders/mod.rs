//! Builders that make realistic OTLP export requests in a few readable lines.
//!
//! Each signal has a request builder that nests its items under a resource and a scope, the way
//! OTLP does: [`TracesBuilder`], [`MetricsBuilder`], [`LogsBuilder`]. They share one shape:
//!
//! - `.resource(r)` starts a new resource group; `.scope(name, version)` (or
//!   `.scope_with(s)`) starts a new scope group inside the current resource;
//! - `.span(..)` / `.metric(..)` / `.log_record(..)` appends an item to the current scope;
//! - an item or scope added before any resource or scope lands in an implicit group whose
//!   `resource` / `scope` is absent (`None`), which OTLP allows;
//! - `.build()` returns the `Export*ServiceRequest`, in the order the calls were made. Nothing
//!   is merged or deduplicated: calling `.resource(r)` twice with the same `r` gives two groups.
//!
//! Item builders ([`SpanBuilder`], [`SumBuilder`], [`LogRecordBuilder`], ...) convert into their
//! proto type with `Into`, so request builders accept either a builder or a ready-made message.
//!
//! Conventions for every builder here:
//!
//! - keys are `impl Into<String>`, values `impl` [`IntoAnyValue`];
//! - timestamps are `impl` [`IntoUnixNanos`]: `u64` nanoseconds since the Unix epoch, or a
//!   [`SystemTime`];
//! - ids are `impl Into<TraceId>` / `impl Into<SpanId>` ([`TraceId`](crate::TraceId),
//!   `[u8; 16]`, `u128`, ...);
//! - builders never panic and never validate: they write what they are told, so tests can also
//!   build invalid data on purpose.
//!
//! The proto enums a builder call needs ([`SpanKind`], [`StatusCode`], [`SeverityNumber`],
//! [`AggregationTemporality`]) are re-exported here.
//!
//! ```
//! use otlp_model::builders::*;
//! use otlp_model::semconv::resource::SERVICE_NAME;
//! use otlp_model::views::{LogsView, MetricsView};
//! use otlp_model::resource;
//!
//! let metrics = MetricsBuilder::new()
//!     .resource(resource![SERVICE_NAME => "checkout"])
//!     .scope("my.meter", "1.0")
//!     .metric(
//!         SumBuilder::new("http.server.requests")
//!             .unit("{request}")
//!             .monotonic(true)
//!             .time(1_700_000_000_000_000_000)
//!             .point(NumberPointBuilder::int(41).attr("http.request.method", "GET"))
//!             .point(NumberPointBuilder::int(3).attr("http.request.method", "POST")),
//!     )
//!     .metric(GaugeBuilder::new("queue.depth").point(NumberPointBuilder::double(7.0)))
//!     .build();
//! assert_eq!(metrics.data_point_count(), 3);
//!
//! let logs = LogsBuilder::new()
//!     .resource(resource![SERVICE_NAME => "checkout"])
//!     .scope("my.logger", "")
//!     .log_record(LogRecordBuilder::new().severity(SeverityNumber::Warn).body("cart is slow"))
//!     .build();
//! assert_eq!(logs.log_record_count(), 1);
//! ```

mod logs;
mod metrics;
mod traces;

use std::time::{SystemTime, UNIX_EPOCH};

use otlp_proto::common::v1::{InstrumentationScope, KeyValue};
use otlp_proto::resource::v1::Resource;

pub use otlp_proto::logs::v1::SeverityNumber;
pub use otlp_proto::metrics::v1::AggregationTemporality;
pub use otlp_proto::trace::v1::span::SpanKind;
pub use otlp_proto::trace::v1::status::StatusCode;

pub use logs::{LogRecordBuilder, LogsBuilder};
pub use metrics::{
    ExponentialHistogramBuilder, ExponentialHistogramPointBuilder, GaugeBuilder, HistogramBuilder,
    HistogramPointBuilder, MetricsBuilder, NumberPointBuilder, SumBuilder, SummaryBuilder,
    SummaryPointBuilder,
};
pub use traces::{EventBuilder, LinkBuilder, SpanBuilder, TracesBuilder};

use crate::attributes::{IntoAnyValue, kv};

/// A timestamp in nanoseconds since the Unix epoch, as OTLP `*_time_unix_nano` fields hold it.
///
/// Implemented for `u64` (already nanoseconds) and [`SystemTime`]. A `SystemTime` before the
/// epoch becomes `0` (OTLP's "unset") and one after the year 2554 saturates at `u64::MAX`.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use otlp_model::builders::IntoUnixNanos;
///
/// assert_eq!(5_u64.into_unix_nanos(), 5);
/// assert_eq!((UNIX_EPOCH + Duration::from_millis(3)).into_unix_nanos(), 3_000_000);
/// assert_eq!((UNIX_EPOCH - Duration::from_secs(1)).into_unix_nanos(), 0);
/// ```
pub trait IntoUnixNanos {
    /// Nanoseconds since the Unix epoch.
    fn into_unix_nanos(self) -> u64;
}

impl IntoUnixNanos for u64 {
    fn into_unix_nanos(self) -> u64 {
        self
    }
}

impl IntoUnixNanos for SystemTime {
    fn into_unix_nanos(self) -> u64 {
        self.duration_since(UNIX_EPOCH).map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
    }
}

/// Builds a [`Resource`]; the [`resource!`](crate::resource) macro is the short form.
///
/// ```
/// use otlp_model::builders::ResourceBuilder;
/// use otlp_model::attributes::AttributesExt;
///
/// let resource = ResourceBuilder::new()
///     .attr("service.name", "checkout")
///     .attr("service.instance.id", "i-1")
///     .build();
/// assert_eq!(resource.attributes.get_str("service.name"), Some("checkout"));
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until it is built"]
pub struct ResourceBuilder {
    resource: Resource,
}

impl ResourceBuilder {
    /// An empty resource.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one attribute.
    pub fn attr(mut self, key: impl Into<String>, value: impl IntoAnyValue) -> Self {
        self.resource.attributes.push(kv(key, value));
        self
    }

    /// Appends attributes.
    pub fn attrs(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.resource.attributes.extend(attributes);
        self
    }

    /// Sets `dropped_attributes_count`.
    pub fn dropped_attributes_count(mut self, count: u32) -> Self {
        self.resource.dropped_attributes_count = count;
        self
    }

    /// The finished resource.
    #[must_use]
    pub fn build(self) -> Resource {
        self.resource
    }
}

impl From<ResourceBuilder> for Resource {
    fn from(builder: ResourceBuilder) -> Self {
        builder.build()
    }
}

/// Builds an [`InstrumentationScope`] with attributes; for a bare name and version the request
/// builders' `.scope(name, version)` is shorter.
///
/// ```
/// use otlp_model::builders::ScopeBuilder;
///
/// let scope = ScopeBuilder::new("my.lib").version("1.2.0").attr("team", "cart").build();
/// assert_eq!(scope.version, "1.2.0");
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until it is built"]
pub struct ScopeBuilder {
    scope: InstrumentationScope,
}

impl ScopeBuilder {
    /// A scope with this name and no version.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            scope: InstrumentationScope {
                name: name.into(),
                ..InstrumentationScope::default()
            },
        }
    }

    /// Sets the version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.scope.version = version.into();
        self
    }

    /// Appends one attribute.
    pub fn attr(mut self, key: impl Into<String>, value: impl IntoAnyValue) -> Self {
        self.scope.attributes.push(kv(key, value));
        self
    }

    /// Appends attributes.
    pub fn attrs(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.scope.attributes.extend(attributes);
        self
    }

    /// The finished scope.
    #[must_use]
    pub fn build(self) -> InstrumentationScope {
        self.scope
    }
}

impl From<ScopeBuilder> for InstrumentationScope {
    fn from(builder: ScopeBuilder) -> Self {
        builder.build()
    }
}

/// `InstrumentationScope { name, version }` with nothing else set.
fn scope(name: impl Into<String>, version: impl Into<String>) -> InstrumentationScope {
    InstrumentationScope {
        name: name.into(),
        version: version.into(),
        ..InstrumentationScope::default()
    }
}

/// The resource → scope → item nesting shared by the three request builders.
#[derive(Debug, Clone)]
struct Nested<T> {
    resources: Vec<ResourceGroup<T>>,
}

#[derive(Debug, Clone)]
struct ResourceGroup<T> {
    resource: Option<Resource>,
    schema_url: String,
    scopes: Vec<ScopeGroup<T>>,
}

#[derive(Debug, Clone)]
struct ScopeGroup<T> {
    scope: Option<InstrumentationScope>,
    schema_url: String,
    items: Vec<T>,
}

impl<T> Default for Nested<T> {
    fn default() -> Self {
        Self {
            resources: Vec::new(),
        }
    }
}

impl<T> ResourceGroup<T> {
    const fn new(resource: Option<Resource>) -> Self {
        Self {
            resource,
            schema_url: String::new(),
            scopes: Vec::new(),
        }
    }

    fn current_scope(&mut self) -> &mut ScopeGroup<T> {
        if self.scopes.is_empty() {
            self.scopes.push(ScopeGroup::new(None));
        }
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }
}

impl<T> ScopeGroup<T> {
    const fn new(scope: Option<InstrumentationScope>) -> Self {
        Self {
            scope,
            schema_url: String::new(),
            items: Vec::new(),
        }
    }
}

impl<T> Nested<T> {
    fn push_resource(&mut self, resource: Resource) {
        self.resources.push(ResourceGroup::new(Some(resource)));
    }

    fn current_resource(&mut self) -> &mut ResourceGroup<T> {
        if self.resources.is_empty() {
            self.resources.push(ResourceGroup::new(None));
        }
        let last = self.resources.len() - 1;
        &mut self.resources[last]
    }

    fn push_scope(&mut self, scope: InstrumentationScope) {
        self.current_resource()
            .scopes
            .push(ScopeGroup::new(Some(scope)));
    }

    fn set_resource_schema_url(&mut self, url: String) {
        self.current_resource().schema_url = url;
    }

    fn set_scope_schema_url(&mut self, url: String) {
        self.current_resource().current_scope().schema_url = url;
    }

    fn push_item(&mut self, item: T) {
        self.current_resource().current_scope().items.push(item);
    }

    fn extend_items(&mut self, items: impl IntoIterator<Item = T>) {
        self.current_resource().current_scope().items.extend(items);
    }
}

/// Generates the resource/scope methods every request builder shares, over its `nested` field.
macro_rules! nesting_methods {
    ($item:literal) => {
        /// Starts a new resource group; the following scopes and items go into it.
        pub fn resource(mut self, resource: impl Into<otlp_proto::resource::v1::Resource>) -> Self {
            self.nested.push_resource(resource.into());
            self
        }

        #[doc = concat!(
            "Starts a new scope group with this name and version in the current resource; the ",
            "following ", $item, " go into it."
        )]
        pub fn scope(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
            self.nested.push_scope(super::scope(name, version));
            self
        }

        /// Starts a new scope group from a full `InstrumentationScope` (or a [`ScopeBuilder`](super::ScopeBuilder)).
        pub fn scope_with(
            mut self,
            scope: impl Into<otlp_proto::common::v1::InstrumentationScope>,
        ) -> Self {
            self.nested.push_scope(scope.into());
            self
        }

        /// Sets the `schema_url` of the current resource group.
        pub fn resource_schema_url(mut self, url: impl Into<String>) -> Self {
            self.nested.set_resource_schema_url(url.into());
            self
        }

        /// Sets the `schema_url` of the current scope group.
        pub fn scope_schema_url(mut self, url: impl Into<String>) -> Self {
            self.nested.set_scope_schema_url(url.into());
            self
        }
    };
}
use nesting_methods;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::attributes::AttributesExt;

    #[test]
    fn system_time_conversion_edges() {
        assert_eq!(UNIX_EPOCH.into_unix_nanos(), 0);
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123);
        assert_eq!(t.into_unix_nanos(), 1_700_000_000_000_000_123);
        if let Some(far) = UNIX_EPOCH.checked_add(Duration::from_secs(u64::MAX / 1_000_000_000 + 1))
        {
            assert_eq!(far.into_unix_nanos(), u64::MAX);
        }
    }

    #[test]
    fn resource_and_scope_builders() {
        let resource: Resource = ResourceBuilder::new()
            .attr("a", 1)
            .attrs([kv("b", 2)])
            .dropped_attributes_count(3)
            .into();
        assert_eq!(resource.attributes.get_i64("b"), Some(2));
        assert_eq!(resource.dropped_attributes_count, 3);

        let scope: InstrumentationScope = ScopeBuilder::new("lib").attrs([kv("x", true)]).into();
        assert_eq!(scope.name, "lib");
        assert_eq!(scope.version, "");
        assert_eq!(scope.attributes.get_bool("x"), Some(true));
    }

    #[test]
    fn nested_creates_implicit_groups() {
        let mut nested = Nested::default();
        nested.push_item(1);
        nested.push_scope(scope("s", "1"));
        nested.push_item(2);
        nested.push_resource(Resource::default());
        nested.set_scope_schema_url("scope-url".into());
        nested.push_item(3);
        nested.set_resource_schema_url("res-url".into());

        assert_eq!(nested.resources.len(), 2);
        let first = &nested.resources[0];
        assert!(first.resource.is_none());
        assert_eq!(first.scopes.len(), 2);
        assert!(first.scopes[0].scope.is_none());
        assert_eq!(first.scopes[0].items, [1]);
        assert_eq!(first.scopes[1].items, [2]);
        let second = &nested.resources[1];
        assert_eq!(second.schema_url, "res-url");
        assert_eq!(second.scopes[0].schema_url, "scope-url");
        assert_eq!(second.scopes[0].items, [3]);
    }
}
