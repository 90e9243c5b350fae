//! Paths: resolving `span.attributes["k"]`, `resource.attributes`, `name`, `cache["x"]` for a
//! context, reading them from a [`View`] and writing them through a [`TargetMut`].
//!
//! A path may start with a context prefix (`resource`, `scope` / `instrumentation_scope`,
//! `span`, `spanevent`, `metric`, `datapoint`, `log`, `profile`) naming the context's own item or one of
//! its parents; without one it names the context's own item. `cache` is the per-item scratch
//! map. Only `attributes`, `body` and `cache` take keys (`["k"]` on maps, `[0]` on slices, to
//! any depth).

use std::borrow::Cow;

use otlp_proto::common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value};
use otlp_proto::logs::v1::LogRecord;
use otlp_proto::metrics::v1::{Metric, metric::Data, number_data_point};
use otlp_proto::trace::v1::{Span, Status};

use crate::ast::{Key, PathExpr};
use crate::profile;
use crate::target::{Context, Item, ItemMut, PointMut, PointRef, TargetMut, View};
use crate::val::{Val, hex_lower, parse_hex};
use crate::{EvalError, ParseError};

/// A field of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Attributes,
    DroppedAttributesCount,
    Name,
    Version,
    Kind,
    StatusCode,
    StatusMessage,
    TraceState,
    TraceId,
    TraceIdString,
    SpanId,
    SpanIdString,
    ParentSpanId,
    ParentSpanIdString,
    StartTime,
    EndTime,
    Time,
    ObservedTime,
    DroppedEventsCount,
    DroppedLinksCount,
    Flags,
    Body,
    SeverityNumber,
    SeverityText,
    EventName,
    Description,
    Unit,
    Type,
    AggregationTemporality,
    IsMonotonic,
    ValueInt,
    ValueDouble,
    Count,
    Sum,
    Duration,
    Period,
    ProfileId,
    ProfileIdString,
    AttributeIndices,
    OriginalPayloadFormat,
    OriginalPayload,
    Cache,
}

/// A resolved path.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    pub(crate) owner: Context,
    pub(crate) field: Field,
    pub(crate) keys: Vec<Key>,
}

fn field_of(owner: Context, rest: &[&str]) -> Option<Field> {
    use Context as C;
    use Field as F;
    Some(match (owner, rest) {
        (_, ["attributes"]) => F::Attributes,
        (
            C::Resource | C::Scope | C::Span | C::SpanEvent | C::Log | C::Profile,
            ["dropped_attributes_count"],
        ) => F::DroppedAttributesCount,
        (C::Scope | C::Span | C::SpanEvent | C::Metric, ["name"]) => F::Name,
        (C::Scope, ["version"]) => F::Version,
        (C::Span, ["kind"]) => F::Kind,
        (C::Span, ["status", "code"]) => F::StatusCode,
        (C::Span, ["status", "message"]) => F::StatusMessage,
        (C::Span, ["trace_state"]) => F::TraceState,
        (C::Span | C::Log, ["trace_id"]) => F::TraceId,
        (C::Span | C::Log, ["trace_id", "string"]) => F::TraceIdString,
        (C::Span | C::Log, ["span_id"]) => F::SpanId,
        (C::Span | C::Log, ["span_id", "string"]) => F::SpanIdString,
        (C::Span, ["parent_span_id"]) => F::ParentSpanId,
        (C::Span, ["parent_span_id", "string"]) => F::ParentSpanIdString,
        (C::Span | C::DataPoint, ["start_time_unix_nano"]) => F::StartTime,
        (C::Span, ["end_time_unix_nano"]) => F::EndTime,
        (C::SpanEvent | C::DataPoint | C::Log | C::Profile, ["time_unix_nano"]) => F::Time,
        (C::Log, ["observed_time_unix_nano"]) => F::ObservedTime,
        (C::Span, ["dropped_events_count"]) => F::DroppedEventsCount,
        (C::Span, ["dropped_links_count"]) => F::DroppedLinksCount,
        (C::Span | C::DataPoint | C::Log, ["flags"]) => F::Flags,
        (C::Log, ["body"]) => F::Body,
        (C::Log, ["severity_number"]) => F::SeverityNumber,
        (C::Log, ["severity_text"]) => F::SeverityText,
        (C::Log, ["event_name"]) => F::EventName,
        (C::Metric, ["description"]) => F::Description,
        (C::Metric, ["unit"]) => F::Unit,
        (C::Metric, ["type"]) => F::Type,
        (C::Metric, ["aggregation_temporality"]) => F::AggregationTemporality,
        (C::Metric, ["is_monotonic"]) => F::IsMonotonic,
        (C::DataPoint, ["value_int"]) => F::ValueInt,
        (C::DataPoint, ["value_double"]) => F::ValueDouble,
        (C::DataPoint, ["count"]) => F::Count,
        (C::DataPoint, ["sum"]) => F::Sum,
        (C::Profile, ["duration_unix_nano"]) => F::Duration,
        (C::Profile, ["period"]) => F::Period,
        (C::Profile, ["profile_id"]) => F::ProfileId,
        (C::Profile, ["profile_id", "string"]) => F::ProfileIdString,
        (C::Profile, ["attribute_indices"]) => F::AttributeIndices,
        (C::Profile, ["original_payload_format"]) => F::OriginalPayloadFormat,
        (C::Profile, ["original_payload"]) => F::OriginalPayload,
        _ => return None,
    })
}

/// The context a path's first segment names, if it is a context prefix.
pub(crate) fn prefix_context(path: &PathExpr) -> Option<Context> {
    path.segments
        .first()
        .and_then(|s| Context::from_name(s))
        // A lone prefix with keys is not a prefix: no path is named like a context.
        .filter(|_| path.segments.len() > 1)
}

/// Resolves `path` for `ctx`; `pos` is where it starts in the text.
pub(crate) fn resolve(ctx: Context, path: &PathExpr, pos: usize) -> Result<Path, ParseError> {
    let segs: Vec<&str> = path.segments.iter().map(String::as_str).collect();
    let err = |message: String| ParseError {
        position: pos,
        message,
    };
    let (owner, rest) = match prefix_context(path) {
        Some(prefix) => {
            if !ctx.can_reach(prefix) {
                return Err(err(format!(
                    "path `{path}` cannot be used in the {} context (its prefix `{}` is not this context or a parent of it)",
                    ctx.name(),
                    segs[0]
                )));
            }
            (prefix, &segs[1..])
        }
        None => (ctx, &segs[..]),
    };
    let field = if rest == ["cache"] && owner == ctx {
        Field::Cache
    } else {
        field_of(owner, rest).ok_or_else(|| {
            err(format!(
                "unknown path `{}` in the {} context",
                segs.join("."),
                ctx.name()
            ))
        })?
    };
    if !path.keys.is_empty() && !matches!(field, Field::Attributes | Field::Body | Field::Cache) {
        return Err(err(format!("path `{}` cannot be indexed", segs.join("."))));
    }
    Ok(Path {
        owner,
        field,
        keys: path.keys.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// Reading

fn u64_val<'a>(v: u64) -> Val<'a> {
    // OTTL exposes these as int64.
    Val::Int(v as i64)
}

pub(crate) fn id_string(bytes: &[u8]) -> Val<'_> {
    // OTTL renders an empty (all-zero) id as the empty string.
    if bytes.iter().all(|b| *b == 0) {
        Val::Str(Cow::Borrowed(""))
    } else {
        Val::Str(Cow::Owned(hex_lower(bytes)))
    }
}

fn str_val(s: &str) -> Val<'_> {
    Val::Str(Cow::Borrowed(s))
}

fn map_val(m: &[KeyValue]) -> Val<'_> {
    Val::Map(Cow::Borrowed(m))
}

pub(crate) fn metric_type(m: &Metric) -> i64 {
    match m.data {
        None => 0,
        Some(Data::Gauge(_)) => 1,
        Some(Data::Sum(_)) => 2,
        Some(Data::Histogram(_)) => 3,
        Some(Data::ExponentialHistogram(_)) => 4,
        Some(Data::Summary(_)) => 5,
    }
}

fn read_span(span: &Span, field: Field) -> Val<'_> {
    match field {
        Field::Name => str_val(&span.name),
        Field::Kind => Val::Int(i64::from(span.kind)),
        Field::StatusCode => Val::Int(span.status.as_ref().map_or(0, |s| i64::from(s.code))),
        Field::StatusMessage => str_val(span.status.as_ref().map_or("", |s| s.message.as_str())),
        Field::TraceState => str_val(&span.trace_state),
        Field::TraceId => Val::Bytes(Cow::Borrowed(&span.trace_id)),
        Field::TraceIdString => id_string(&span.trace_id),
        Field::SpanId => Val::Bytes(Cow::Borrowed(&span.span_id)),
        Field::SpanIdString => id_string(&span.span_id),
        Field::ParentSpanId => Val::Bytes(Cow::Borrowed(&span.parent_span_id)),
        Field::ParentSpanIdString => id_string(&span.parent_span_id),
        Field::StartTime => u64_val(span.start_time_unix_nano),
        Field::EndTime => u64_val(span.end_time_unix_nano),
        Field::DroppedAttributesCount => Val::Int(i64::from(span.dropped_attributes_count)),
        Field::DroppedEventsCount => Val::Int(i64::from(span.dropped_events_count)),
        Field::DroppedLinksCount => Val::Int(i64::from(span.dropped_links_count)),
        Field::Flags => Val::Int(i64::from(span.flags)),
        Field::Attributes => map_val(&span.attributes),
        _ => Val::Nil,
    }
}

fn read_metric(m: &Metric, field: Field) -> Val<'_> {
    match field {
        Field::Name => str_val(&m.name),
        Field::Description => str_val(&m.description),
        Field::Unit => str_val(&m.unit),
        Field::Type => Val::Int(metric_type(m)),
        Field::AggregationTemporality => Val::Int(match &m.data {
            Some(Data::Sum(s)) => i64::from(s.aggregation_temporality),
            Some(Data::Histogram(h)) => i64::from(h.aggregation_temporality),
            Some(Data::ExponentialHistogram(h)) => i64::from(h.aggregation_temporality),
            _ => 0,
        }),
        Field::IsMonotonic => Val::Bool(matches!(&m.data, Some(Data::Sum(s)) if s.is_monotonic)),
        _ => Val::Nil,
    }
}

fn read_point(p: PointRef<'_>, field: Field) -> Val<'_> {
    match (field, p) {
        (Field::Attributes, _) => map_val(p.attributes()),
        (Field::ValueInt, PointRef::Number(n)) => match n.value {
            Some(number_data_point::Value::AsInt(i)) => Val::Int(i),
            _ => Val::Int(0),
        },
        (Field::ValueDouble, PointRef::Number(n)) => match n.value {
            Some(number_data_point::Value::AsDouble(d)) => Val::Float(d),
            _ => Val::Float(0.0),
        },
        (Field::StartTime, PointRef::Number(n)) => u64_val(n.start_time_unix_nano),
        (Field::StartTime, PointRef::Histogram(n)) => u64_val(n.start_time_unix_nano),
        (Field::StartTime, PointRef::ExpHistogram(n)) => u64_val(n.start_time_unix_nano),
        (Field::StartTime, PointRef::Summary(n)) => u64_val(n.start_time_unix_nano),
        (Field::Time, PointRef::Number(n)) => u64_val(n.time_unix_nano),
        (Field::Time, PointRef::Histogram(n)) => u64_val(n.time_unix_nano),
        (Field::Time, PointRef::ExpHistogram(n)) => u64_val(n.time_unix_nano),
        (Field::Time, PointRef::Summary(n)) => u64_val(n.time_unix_nano),
        (Field::Flags, PointRef::Number(n)) => Val::Int(i64::from(n.flags)),
        (Field::Flags, PointRef::Histogram(n)) => Val::Int(i64::from(n.flags)),
        (Field::Flags, PointRef::ExpHistogram(n)) => Val::Int(i64::from(n.flags)),
        (Field::Flags, PointRef::Summary(n)) => Val::Int(i64::from(n.flags)),
        (Field::Count, PointRef::Histogram(n)) => u64_val(n.count),
        (Field::Count, PointRef::ExpHistogram(n)) => u64_val(n.count),
        (Field::Count, PointRef::Summary(n)) => u64_val(n.count),
        (Field::Sum, PointRef::Histogram(n)) => Val::Float(n.sum.unwrap_or(0.0)),
        (Field::Sum, PointRef::ExpHistogram(n)) => Val::Float(n.sum.unwrap_or(0.0)),
        (Field::Sum, PointRef::Summary(n)) => Val::Float(n.sum),
        _ => Val::Nil,
    }
}

fn read_log(l: &LogRecord, field: Field) -> Val<'_> {
    match field {
        Field::Body => Val::from_any(l.body.as_ref()),
        Field::SeverityNumber => Val::Int(i64::from(l.severity_number)),
        Field::SeverityText => str_val(&l.severity_text),
        Field::Attributes => map_val(&l.attributes),
        Field::Time => u64_val(l.time_unix_nano),
        Field::ObservedTime => u64_val(l.observed_time_unix_nano),
        Field::Flags => Val::Int(i64::from(l.flags)),
        Field::TraceId => Val::Bytes(Cow::Borrowed(&l.trace_id)),
        Field::TraceIdString => id_string(&l.trace_id),
        Field::SpanId => Val::Bytes(Cow::Borrowed(&l.span_id)),
        Field::SpanIdString => id_string(&l.span_id),
        Field::EventName => str_val(&l.event_name),
        Field::DroppedAttributesCount => Val::Int(i64::from(l.dropped_attributes_count)),
        _ => Val::Nil,
    }
}

impl Path {
    /// The path's value (nil where the item lacks it).
    pub(crate) fn read<'a>(&self, v: &View<'a>) -> Val<'a> {
        let t = &v.target;
        let dictionary = match t.item {
            Item::Profile(_, d) => d,
            _ => None,
        };
        let base = match (self.owner, self.field, t.item) {
            (_, Field::Cache, _) => map_val(v.cache),
            (Context::Resource, field, _) => match (field, t.resource) {
                (Field::Attributes, r) => {
                    profile::keyed_attributes(r.map_or(&[], |r| &r.attributes), dictionary)
                }
                (Field::DroppedAttributesCount, r) => {
                    Val::Int(r.map_or(0, |r| i64::from(r.dropped_attributes_count)))
                }
                _ => Val::Nil,
            },
            (Context::Scope, field, _) => {
                let s = t.scope;
                match field {
                    Field::Name => str_val(s.map_or("", |s| s.name.as_str())),
                    Field::Version => str_val(s.map_or("", |s| s.version.as_str())),
                    Field::Attributes => {
                        profile::keyed_attributes(s.map_or(&[], |s| &s.attributes), dictionary)
                    }
                    Field::DroppedAttributesCount => {
                        Val::Int(s.map_or(0, |s| i64::from(s.dropped_attributes_count)))
                    }
                    _ => Val::Nil,
                }
            }
            (Context::Span, field, Item::Span(s) | Item::SpanEvent(_, s)) => read_span(s, field),
            (Context::SpanEvent, field, Item::SpanEvent(e, _)) => match field {
                Field::Name => str_val(&e.name),
                Field::Attributes => map_val(&e.attributes),
                Field::Time => u64_val(e.time_unix_nano),
                Field::DroppedAttributesCount => Val::Int(i64::from(e.dropped_attributes_count)),
                _ => Val::Nil,
            },
            (Context::Metric, field, Item::Metric(m) | Item::DataPoint(_, m)) => {
                read_metric(m, field)
            }
            (Context::DataPoint, field, Item::DataPoint(p, _)) => read_point(p, field),
            (Context::Log, field, Item::Log(l)) => read_log(l, field),
            (Context::Profile, field, Item::Profile(p, d)) => profile::read(p, d, field),
            _ => Val::Nil,
        };
        self.keys.iter().fold(base, Val::index)
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

fn type_error(what: &str, type_name: &str) -> EvalError {
    EvalError(format!("cannot index {type_name} with {what}"))
}

/// The value under `key` in `cur`; with `create`, a missing map entry is added (and an unset
/// value becomes a map).
fn child<'m>(
    cur: &'m mut AnyValue,
    key: &Key,
    create: bool,
) -> Result<Option<&'m mut AnyValue>, EvalError> {
    if create && cur.value.is_none() {
        cur.value = Some(Value::KvlistValue(KeyValueList::default()));
    }
    let type_name = Val::from_any(Some(cur)).type_name();
    match (&mut cur.value, key) {
        (Some(Value::KvlistValue(l)), Key::Str(k)) => Ok(entry(&mut l.values, k, create)),
        (Some(Value::ArrayValue(a)), Key::Int(i)) => {
            let len = a.values.len();
            match usize::try_from(*i).ok().and_then(|i| a.values.get_mut(i)) {
                Some(v) => Ok(Some(v)),
                None => Err(EvalError(format!(
                    "index {i} out of bounds for a slice of length {len}"
                ))),
            }
        }
        (None, _) => Ok(None),
        (_, Key::Str(_)) => Err(type_error("a string key", type_name)),
        (_, Key::Int(_)) => Err(type_error("an integer", type_name)),
    }
}

fn entry<'m>(map: &'m mut Vec<KeyValue>, key: &str, create: bool) -> Option<&'m mut AnyValue> {
    let at = match map.iter().position(|kv| kv.key == key) {
        Some(at) => at,
        None if create => {
            map.push(KeyValue {
                key: key.to_owned(),
                value: Some(AnyValue::default()),
                key_strindex: 0,
            });
            map.len() - 1
        }
        None => return None,
    };
    let kv = &mut map[at];
    Some(kv.value.get_or_insert_with(AnyValue::default))
}

/// Where a path's keys start: a map (attributes, cache) or a value (a log body).
enum Root<'m> {
    Map(&'m mut Vec<KeyValue>),
    Value(&'m mut AnyValue),
}

fn span_mut<'t>(t: &'t mut TargetMut<'_>) -> Option<&'t mut Span> {
    match &mut t.item {
        ItemMut::Span(s) | ItemMut::SpanEvent(_, s) => Some(s),
        _ => None,
    }
}

fn metric_mut<'t>(t: &'t mut TargetMut<'_>) -> Option<&'t mut Metric> {
    match &mut t.item {
        ItemMut::Metric(m) | ItemMut::DataPoint(_, m) => Some(m),
        _ => None,
    }
}

fn log_mut<'t>(t: &'t mut TargetMut<'_>) -> Option<&'t mut LogRecord> {
    match &mut t.item {
        ItemMut::Log(l) => Some(l),
        _ => None,
    }
}

fn point_attributes<'t>(p: &'t mut PointMut<'_>) -> &'t mut Vec<KeyValue> {
    match p {
        PointMut::Number(p) => &mut p.attributes,
        PointMut::Histogram(p) => &mut p.attributes,
        PointMut::ExpHistogram(p) => &mut p.attributes,
        PointMut::Summary(p) => &mut p.attributes,
    }
}

impl Path {
    /// The container the path's keys index into; `create` makes a missing resource or scope
    /// (and a missing log body becomes a map on first write).
    fn root<'t>(&self, t: &'t mut TargetMut<'_>, create: bool) -> Option<Root<'t>> {
        Some(match (self.owner, self.field) {
            (_, Field::Cache) => Root::Map(t.cache),
            (Context::Resource, Field::Attributes) => {
                if !create && t.resource.is_none() {
                    return None;
                }
                Root::Map(&mut t.resource.get_or_insert_with(Default::default).attributes)
            }
            (Context::Scope, Field::Attributes) => {
                if !create && t.scope.is_none() {
                    return None;
                }
                Root::Map(&mut t.scope.get_or_insert_with(Default::default).attributes)
            }
            (Context::Span, Field::Attributes) => Root::Map(&mut span_mut(t)?.attributes),
            (Context::SpanEvent, Field::Attributes) => match &mut t.item {
                ItemMut::SpanEvent(e, _) => Root::Map(&mut e.attributes),
                _ => return None,
            },
            (Context::DataPoint, Field::Attributes) => match &mut t.item {
                ItemMut::DataPoint(p, _) => Root::Map(point_attributes(p)),
                _ => return None,
            },
            (Context::Log, Field::Attributes) => Root::Map(&mut log_mut(t)?.attributes),
            (Context::Log, Field::Body) => {
                let log = log_mut(t)?;
                if !create && log.body.is_none() {
                    return None;
                }
                Root::Value(log.body.get_or_insert_with(AnyValue::default))
            }
            _ => return None,
        })
    }

    /// The map the path names, for the map editors: `None` when it is unset (nothing to do),
    /// an error when it holds something that is not a map.
    pub(crate) fn map_mut<'t>(
        &self,
        t: &'t mut TargetMut<'_>,
    ) -> Result<Option<&'t mut Vec<KeyValue>>, EvalError> {
        let Some(root) = self.root(t, false) else {
            return Ok(None);
        };
        let mut cur = match (root, self.keys.split_first()) {
            (Root::Map(m), None) => return Ok(Some(m)),
            (Root::Map(m), Some((Key::Str(k), _))) => match entry(m, k, false) {
                Some(v) => v,
                None => return Ok(None),
            },
            (Root::Map(_), Some((Key::Int(_), _))) => {
                return Err(EvalError("cannot index a map with an integer".into()));
            }
            (Root::Value(v), _) => v,
        };
        let rest = match &self.root_kind() {
            RootKind::Map => self.keys.get(1..).unwrap_or_default(),
            RootKind::Value => &self.keys[..],
        };
        for key in rest {
            cur = match child(cur, key, false)? {
                Some(v) => v,
                None => return Ok(None),
            };
        }
        let type_name = Val::from_any(Some(cur)).type_name();
        match &mut cur.value {
            Some(Value::KvlistValue(l)) => Ok(Some(&mut l.values)),
            None => Ok(None),
            Some(_) => Err(EvalError(format!("expected a map but got {type_name}"))),
        }
    }

    fn root_kind(&self) -> RootKind {
        if self.field == Field::Body {
            RootKind::Value
        } else {
            RootKind::Map
        }
    }

    /// Writes `v` to the path. Fields of a fixed type ignore a value of another type, as OTTL
    /// does; `nil` is handled by the caller (`set` with `nil` does nothing).
    pub(crate) fn set(&self, t: &mut TargetMut<'_>, v: Val<'_>) -> Result<(), EvalError> {
        if !self.keys.is_empty() {
            return self.set_keyed(t, v);
        }
        match (self.owner, self.field) {
            (_, Field::Cache) | (_, Field::Attributes) => {
                if let Val::Map(m) = v
                    && let Some(Root::Map(target)) = self.root(t, true)
                {
                    *target = m.into_owned();
                }
                Ok(())
            }
            (Context::Log, Field::Body) => {
                if let Some(l) = log_mut(t) {
                    l.body = Some(v.into_any());
                }
                Ok(())
            }
            (Context::Resource, Field::DroppedAttributesCount) => {
                if let Val::Int(i) = v {
                    t.resource
                        .get_or_insert_with(Default::default)
                        .dropped_attributes_count = i as u32;
                }
                Ok(())
            }
            (Context::Scope, field) => {
                let s = t.scope.get_or_insert_with(Default::default);
                match (field, v) {
                    (Field::Name, Val::Str(x)) => s.name = x.into_owned(),
                    (Field::Version, Val::Str(x)) => s.version = x.into_owned(),
                    (Field::DroppedAttributesCount, Val::Int(i)) => {
                        s.dropped_attributes_count = i as u32;
                    }
                    _ => {}
                }
                Ok(())
            }
            (Context::Span, field) => match span_mut(t) {
                Some(span) => set_span(span, field, v),
                None => Ok(()),
            },
            (Context::SpanEvent, field) => {
                if let ItemMut::SpanEvent(e, _) = &mut t.item {
                    match (field, v) {
                        (Field::Name, Val::Str(x)) => e.name = x.into_owned(),
                        (Field::Time, Val::Int(i)) => e.time_unix_nano = i as u64,
                        (Field::DroppedAttributesCount, Val::Int(i)) => {
                            e.dropped_attributes_count = i as u32;
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            (Context::Metric, field) => {
                if let Some(m) = metric_mut(t) {
                    set_metric(m, field, v);
                }
                Ok(())
            }
            (Context::DataPoint, field) => {
                if let ItemMut::DataPoint(p, _) = &mut t.item {
                    set_point(p, field, v);
                }
                Ok(())
            }
            (Context::Log, field) => match log_mut(t) {
                Some(l) => set_log(l, field, v),
                None => Ok(()),
            },
            (Context::Profile, field) => match &mut t.item {
                ItemMut::Profile(p, _) => profile::set(p, field, v),
                _ => Ok(()),
            },
            (Context::Resource, _) => Ok(()),
        }
    }

    fn set_keyed(&self, t: &mut TargetMut<'_>, v: Val<'_>) -> Result<(), EvalError> {
        let kind = self.root_kind();
        let Some(root) = self.root(t, true) else {
            return Ok(());
        };
        let (mut cur, rest) = match (root, kind) {
            (Root::Map(m), _) => match self.keys.split_first() {
                Some((Key::Str(k), rest)) => match entry(m, k, true) {
                    Some(v) => (v, rest),
                    None => return Ok(()),
                },
                Some((Key::Int(_), _)) => {
                    return Err(EvalError("cannot index a map with an integer".into()));
                }
                None => return Ok(()),
            },
            (Root::Value(v), _) => (v, &self.keys[..]),
        };
        for key in rest {
            cur = match child(cur, key, true)? {
                Some(c) => c,
                None => return Ok(()),
            };
        }
        *cur = v.into_any();
        Ok(())
    }
}

enum RootKind {
    Map,
    Value,
}

pub(crate) fn set_id(
    target: &mut Vec<u8>,
    len: usize,
    v: Val<'_>,
    hex: bool,
) -> Result<(), EvalError> {
    let bytes = match (v, hex) {
        (Val::Bytes(b), false) => b.into_owned(),
        (Val::Str(s), true) => {
            if s.is_empty() {
                vec![0; len]
            } else {
                parse_hex(&s).ok_or_else(|| EvalError(format!("invalid id {s:?}: not hex")))?
            }
        }
        _ => return Ok(()),
    };
    if bytes.len() != len {
        return Err(EvalError(format!(
            "an id must be {len} bytes, got {}",
            bytes.len()
        )));
    }
    *target = bytes;
    Ok(())
}

fn set_span(span: &mut Span, field: Field, v: Val<'_>) -> Result<(), EvalError> {
    match (field, v) {
        (Field::Name, Val::Str(s)) => span.name = s.into_owned(),
        (Field::Kind, Val::Int(i)) => span.kind = i as i32,
        (Field::StatusCode, Val::Int(i)) => {
            span.status.get_or_insert_with(Status::default).code = i as i32;
        }
        (Field::StatusMessage, Val::Str(s)) => {
            span.status.get_or_insert_with(Status::default).message = s.into_owned();
        }
        (Field::TraceState, Val::Str(s)) => span.trace_state = s.into_owned(),
        (Field::TraceId, v) => return set_id(&mut span.trace_id, 16, v, false),
        (Field::TraceIdString, v) => return set_id(&mut span.trace_id, 16, v, true),
        (Field::SpanId, v) => return set_id(&mut span.span_id, 8, v, false),
        (Field::SpanIdString, v) => return set_id(&mut span.span_id, 8, v, true),
        (Field::ParentSpanId, v) => return set_id(&mut span.parent_span_id, 8, v, false),
        (Field::ParentSpanIdString, v) => return set_id(&mut span.parent_span_id, 8, v, true),
        (Field::StartTime, Val::Int(i)) => span.start_time_unix_nano = i as u64,
        (Field::EndTime, Val::Int(i)) => span.end_time_unix_nano = i as u64,
        (Field::DroppedAttributesCount, Val::Int(i)) => span.dropped_attributes_count = i as u32,
        (Field::DroppedEventsCount, Val::Int(i)) => span.dropped_events_count = i as u32,
        (Field::DroppedLinksCount, Val::Int(i)) => span.dropped_links_count = i as u32,
        (Field::Flags, Val::Int(i)) => span.flags = i as u32,
        _ => {}
    }
    Ok(())
}

fn set_metric(m: &mut Metric, field: Field, v: Val<'_>) {
    match (field, v) {
        (Field::Name, Val::Str(s)) => m.name = s.into_owned(),
        (Field::Description, Val::Str(s)) => m.description = s.into_owned(),
        (Field::Unit, Val::Str(s)) => m.unit = s.into_owned(),
        (Field::AggregationTemporality, Val::Int(i)) => match &mut m.data {
            Some(Data::Sum(s)) => s.aggregation_temporality = i as i32,
            Some(Data::Histogram(h)) => h.aggregation_temporality = i as i32,
            Some(Data::ExponentialHistogram(h)) => h.aggregation_temporality = i as i32,
            _ => {}
        },
        (Field::IsMonotonic, Val::Bool(b)) => {
            if let Some(Data::Sum(s)) = &mut m.data {
                s.is_monotonic = b;
            }
        }
        _ => {}
    }
}

fn set_point(p: &mut PointMut<'_>, field: Field, v: Val<'_>) {
    let Some(value) = (match v {
        Val::Int(i) => Some(Num::Int(i)),
        Val::Float(f) => Some(Num::Float(f)),
        _ => None,
    }) else {
        return;
    };
    match (field, p, value) {
        (Field::ValueInt, PointMut::Number(n), Num::Int(i)) => {
            n.value = Some(number_data_point::Value::AsInt(i));
        }
        (Field::ValueDouble, PointMut::Number(n), Num::Float(f)) => {
            n.value = Some(number_data_point::Value::AsDouble(f));
        }
        (Field::StartTime, p, Num::Int(i)) => match p {
            PointMut::Number(n) => n.start_time_unix_nano = i as u64,
            PointMut::Histogram(n) => n.start_time_unix_nano = i as u64,
            PointMut::ExpHistogram(n) => n.start_time_unix_nano = i as u64,
            PointMut::Summary(n) => n.start_time_unix_nano = i as u64,
        },
        (Field::Time, p, Num::Int(i)) => match p {
            PointMut::Number(n) => n.time_unix_nano = i as u64,
            PointMut::Histogram(n) => n.time_unix_nano = i as u64,
            PointMut::ExpHistogram(n) => n.time_unix_nano = i as u64,
            PointMut::Summary(n) => n.time_unix_nano = i as u64,
        },
        (Field::Flags, p, Num::Int(i)) => match p {
            PointMut::Number(n) => n.flags = i as u32,
            PointMut::Histogram(n) => n.flags = i as u32,
            PointMut::ExpHistogram(n) => n.flags = i as u32,
            PointMut::Summary(n) => n.flags = i as u32,
        },
        (Field::Count, p, Num::Int(i)) => match p {
            PointMut::Histogram(n) => n.count = i as u64,
            PointMut::ExpHistogram(n) => n.count = i as u64,
            PointMut::Summary(n) => n.count = i as u64,
            PointMut::Number(_) => {}
        },
        (Field::Sum, p, Num::Float(f)) => match p {
            PointMut::Histogram(n) => n.sum = Some(f),
            PointMut::ExpHistogram(n) => n.sum = Some(f),
            PointMut::Summary(n) => n.sum = f,
            PointMut::Number(_) => {}
        },
        _ => {}
    }
}

enum Num {
    Int(i64),
    Float(f64),
}

fn set_log(l: &mut LogRecord, field: Field, v: Val<'_>) -> Result<(), EvalError> {
    match (field, v) {
        (Field::SeverityNumber, Val::Int(i)) => l.severity_number = i as i32,
        (Field::SeverityText, Val::Str(s)) => l.severity_text = s.into_owned(),
        (Field::Time, Val::Int(i)) => l.time_unix_nano = i as u64,
        (Field::ObservedTime, Val::Int(i)) => l.observed_time_unix_nano = i as u64,
        (Field::Flags, Val::Int(i)) => l.flags = i as u32,
        (Field::TraceId, v) => return set_id(&mut l.trace_id, 16, v, false),
        (Field::TraceIdString, v) => return set_id(&mut l.trace_id, 16, v, true),
        (Field::SpanId, v) => return set_id(&mut l.span_id, 8, v, false),
        (Field::SpanIdString, v) => return set_id(&mut l.span_id, 8, v, true),
        (Field::EventName, Val::Str(s)) => l.event_name = s.into_owned(),
        (Field::DroppedAttributesCount, Val::Int(i)) => l.dropped_attributes_count = i as u32,
        _ => {}
    }
    Ok(())
}
