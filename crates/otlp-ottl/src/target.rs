//! What OTTL runs against: the contexts, the item of a context with its parents, read-only
//! ([`Target`], for conditions) or writable ([`TargetMut`], for statements), and the per-item
//! `cache` map.
//!
//! A profile's attributes are indexes into its request's dictionary (`attribute_table`, keys in
//! `string_table`), so the `profile` context carries the dictionary beside the profile.

use otlp_proto::common::v1::{InstrumentationScope, KeyValue};
use otlp_proto::logs::v1::LogRecord;
use otlp_proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, SummaryDataPoint,
};
use otlp_proto::profiles::v1development::{Profile, ProfilesDictionary};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{Span, span::Event};

/// The OTTL context a condition or statement is written for: which item it runs against, and
/// so which paths it may use (its own item's and its parents').
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// `resource`: a resource.
    Resource,
    /// `scope` (also `instrumentation_scope`): an instrumentation scope and its resource.
    Scope,
    /// `span`: a span, its resource and scope.
    Span,
    /// `spanevent`: a span event and the span it belongs to.
    SpanEvent,
    /// `metric`: a metric (not its points).
    Metric,
    /// `datapoint`: one data point and its metric.
    DataPoint,
    /// `log`: a log record.
    Log,
    /// `profile`: a profile (its attributes read through the request's dictionary).
    Profile,
}

impl Context {
    /// The context's name in OTTL, also its path prefix (`span.name`).
    pub fn name(self) -> &'static str {
        match self {
            Context::Resource => "resource",
            Context::Scope => "scope",
            Context::Span => "span",
            Context::SpanEvent => "spanevent",
            Context::Metric => "metric",
            Context::DataPoint => "datapoint",
            Context::Log => "log",
            Context::Profile => "profile",
        }
    }

    /// The context named `name` (`instrumentation_scope` is `scope`).
    pub fn from_name(name: &str) -> Option<Context> {
        Some(match name {
            "resource" => Context::Resource,
            "scope" | "instrumentation_scope" => Context::Scope,
            "span" => Context::Span,
            "spanevent" => Context::SpanEvent,
            "metric" => Context::Metric,
            "datapoint" => Context::DataPoint,
            "log" => Context::Log,
            "profile" => Context::Profile,
            _ => return None,
        })
    }

    /// The item's parent context, if any.
    pub fn parent(self) -> Option<Context> {
        match self {
            Context::Resource => None,
            Context::Scope => Some(Context::Resource),
            Context::Span | Context::Metric | Context::Log | Context::Profile => {
                Some(Context::Scope)
            }
            Context::SpanEvent => Some(Context::Span),
            Context::DataPoint => Some(Context::Metric),
        }
    }

    /// Whether paths of `other` can be used in this context: its own and its ancestors'.
    pub fn can_reach(self, other: Context) -> bool {
        let mut c = Some(self);
        while let Some(ctx) = c {
            if ctx == other {
                return true;
            }
            c = ctx.parent();
        }
        false
    }

    /// Depth in the data hierarchy (resource 0, scope 1, span/metric/log/profile 2,
    /// event/point 3).
    pub fn depth(self) -> usize {
        let mut n = 0;
        let mut c = self.parent();
        while let Some(ctx) = c {
            n += 1;
            c = ctx.parent();
        }
        n
    }
}

/// A data point of any metric type.
#[derive(Debug, Clone, Copy)]
pub enum PointRef<'a> {
    /// A gauge or sum point.
    Number(&'a NumberDataPoint),
    /// An explicit-bucket histogram point.
    Histogram(&'a HistogramDataPoint),
    /// An exponential histogram point.
    ExpHistogram(&'a ExponentialHistogramDataPoint),
    /// A summary point.
    Summary(&'a SummaryDataPoint),
}

/// The item a condition is evaluated against, with its parent span or metric.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// The resource itself (the `resource` context; the resource is [`Target::resource`]).
    Resource,
    /// The scope itself (the `scope` context; the scope is [`Target::scope`]).
    Scope,
    /// A span.
    Span(&'a Span),
    /// A span event and its span.
    SpanEvent(&'a Event, &'a Span),
    /// A metric.
    Metric(&'a Metric),
    /// A data point and its metric.
    DataPoint(PointRef<'a>, &'a Metric),
    /// A log record.
    Log(&'a LogRecord),
    /// A profile and its request's dictionary (`None` when the request has none: the profile
    /// then has no attributes).
    Profile(&'a Profile, Option<&'a ProfilesDictionary>),
}

/// An item plus its resource and scope, read-only.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The item itself.
    pub item: Item<'a>,
    /// Its resource (`resource.*` paths).
    pub resource: Option<&'a Resource>,
    /// Its instrumentation scope (`instrumentation_scope.*` / `scope.*` paths).
    pub scope: Option<&'a InstrumentationScope>,
}

/// A data point of any metric type, writable.
#[derive(Debug)]
pub enum PointMut<'a> {
    /// A gauge or sum point.
    Number(&'a mut NumberDataPoint),
    /// An explicit-bucket histogram point.
    Histogram(&'a mut HistogramDataPoint),
    /// An exponential histogram point.
    ExpHistogram(&'a mut ExponentialHistogramDataPoint),
    /// A summary point.
    Summary(&'a mut SummaryDataPoint),
}

/// The item a statement runs against, writable, with its parent span or metric.
///
/// A span event's span and a data point's metric are borrowed beside the event or point, so
/// the caller takes the events (points) out of their span (metric) while it runs statements
/// over them: `span.events` (the points of `metric`) are empty meanwhile, which no path reads.
#[derive(Debug)]
pub enum ItemMut<'a> {
    /// The resource itself ([`TargetMut::resource`]).
    Resource,
    /// The scope itself ([`TargetMut::scope`]).
    Scope,
    /// A span.
    Span(&'a mut Span),
    /// A span event and its span.
    SpanEvent(&'a mut Event, &'a mut Span),
    /// A metric.
    Metric(&'a mut Metric),
    /// A data point and its metric.
    DataPoint(PointMut<'a>, &'a mut Metric),
    /// A log record.
    Log(&'a mut LogRecord),
    /// A profile and its request's dictionary, read-only: the profile's own fields are
    /// writable, its attributes (dictionary indexes) are not.
    Profile(&'a mut Profile, Option<&'a ProfilesDictionary>),
}

/// An item plus its resource, scope and `cache`, writable. `resource` and `scope` are the
/// request's own optional fields, so that writing `resource.attributes["k"]` where the request
/// has no resource creates one.
#[derive(Debug)]
pub struct TargetMut<'a> {
    /// The item itself.
    pub item: ItemMut<'a>,
    /// Its resource.
    pub resource: &'a mut Option<Resource>,
    /// Its instrumentation scope.
    pub scope: &'a mut Option<InstrumentationScope>,
    /// The `cache` map: scratch space for the statements run against this item. The caller
    /// clears it between items.
    pub cache: &'a mut Vec<KeyValue>,
}

impl<'a> PointRef<'a> {
    /// Every data point of `metric`, in order (none without data).
    pub fn all(metric: &'a Metric) -> Vec<PointRef<'a>> {
        use otlp_proto::metrics::v1::metric::Data;
        match &metric.data {
            None => Vec::new(),
            Some(Data::Gauge(g)) => g.data_points.iter().map(PointRef::Number).collect(),
            Some(Data::Sum(s)) => s.data_points.iter().map(PointRef::Number).collect(),
            Some(Data::Histogram(h)) => h.data_points.iter().map(PointRef::Histogram).collect(),
            Some(Data::ExponentialHistogram(h)) => {
                h.data_points.iter().map(PointRef::ExpHistogram).collect()
            }
            Some(Data::Summary(s)) => s.data_points.iter().map(PointRef::Summary).collect(),
        }
    }

    /// The point's attributes.
    pub fn attributes(self) -> &'a [KeyValue] {
        match self {
            Self::Number(p) => &p.attributes,
            Self::Histogram(p) => &p.attributes,
            Self::ExpHistogram(p) => &p.attributes,
            Self::Summary(p) => &p.attributes,
        }
    }
}

impl PointMut<'_> {
    fn as_ref(&self) -> PointRef<'_> {
        match self {
            Self::Number(p) => PointRef::Number(p),
            Self::Histogram(p) => PointRef::Histogram(p),
            Self::ExpHistogram(p) => PointRef::ExpHistogram(p),
            Self::Summary(p) => PointRef::Summary(p),
        }
    }
}

/// What expressions read: a target and its cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) target: Target<'a>,
    pub(crate) cache: &'a [KeyValue],
}

impl TargetMut<'_> {
    /// The read-only view of this target.
    pub fn as_target(&self) -> Target<'_> {
        let item = match &self.item {
            ItemMut::Resource => Item::Resource,
            ItemMut::Scope => Item::Scope,
            ItemMut::Span(s) => Item::Span(s),
            ItemMut::SpanEvent(e, s) => Item::SpanEvent(e, s),
            ItemMut::Metric(m) => Item::Metric(m),
            ItemMut::DataPoint(p, m) => Item::DataPoint(p.as_ref(), m),
            ItemMut::Log(l) => Item::Log(l),
            ItemMut::Profile(p, d) => Item::Profile(p, *d),
        };
        Target {
            item,
            resource: self.resource.as_ref(),
            scope: self.scope.as_ref(),
        }
    }

    pub(crate) fn view(&self) -> View<'_> {
        View {
            target: self.as_target(),
            cache: self.cache,
        }
    }
}
