//! Editors that belong to one context, as otelcol-contrib's `transform` processor adds them:
//! `set_semconv_span_name` (span) names a span from its semantic-convention attributes;
//! `convert_gauge_to_sum` and `convert_sum_to_gauge` (metric) change a metric's type.
//!
//! `set_semconv_span_name`'s rules are the semantic conventions' span names, in the order
//! contrib tries them for each span kind: server spans HTTP (`{method} {http.route}`), then RPC
//! (`{rpc.service}/{rpc.method}`), then messaging; consumer and producer spans messaging
//! (`{operation} {destination}`); client spans HTTP (`{method} {url.template}`), RPC, database
//! (`db.query.summary`, else `{operation} {target}`), messaging. Each falls back to fewer parts
//! (a method alone, the system name) and, when no convention applies, the name is left as it
//! is. The deprecated attribute names (`http.method`, `rpc.grpc.method`, `db.system`, ...) are
//! read when the current ones are absent; an HTTP method of `_OTHER` names the span `HTTP`.

use otlp_proto::common::v1::{AnyValue, KeyValue, any_value::Value};
use otlp_proto::metrics::v1::{AggregationTemporality, Gauge, Metric, Sum, metric::Data};
use otlp_proto::trace::v1::{Span, span::SpanKind};

/// The semantic-convention versions `set_semconv_span_name` accepts.
pub(crate) const SEMCONV_VERSIONS: &[&str] = &[
    "1.37.0", "1.38.0", "1.39.0", "1.40.0", "1.41.0", "1.42.0", "1.43.0",
];

fn get<'a>(span: &'a Span, key: &str) -> Option<&'a AnyValue> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .filter(|v| v.value.is_some())
}

fn text(span: &Span, key: &str) -> Option<String> {
    get(span, key).map(|v| crate::value::as_string(Some(v)))
}

/// The current attribute, else its deprecated name.
fn either(span: &Span, key: &str, old: &str) -> Option<String> {
    text(span, key).or_else(|| text(span, old))
}

fn flag(span: &Span, key: &str) -> bool {
    matches!(
        get(span, key).and_then(|v| v.value.as_ref()),
        Some(Value::BoolValue(true))
    )
}

fn address(span: &Span) -> Option<String> {
    let host = text(span, "server.address")?;
    Some(match text(span, "server.port") {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

fn http(span: &Span, subject: &str) -> Option<String> {
    let method = either(span, "http.request.method", "http.method")?;
    let method = if method == "_OTHER" {
        "HTTP".to_owned()
    } else {
        method
    };
    Some(match text(span, subject) {
        Some(s) => format!("{method} {s}"),
        None => method,
    })
}

fn rpc(span: &Span) -> Option<String> {
    let system = text(span, "rpc.system")?;
    let method = either(span, "rpc.method", "rpc.grpc.method");
    let service = either(span, "rpc.service", "rpc.grpc.service");
    Some(match (service, method) {
        (Some(s), Some(m)) => format!("{s}/{m}"),
        (None, Some(m)) => m,
        (Some(s), None) => format!("{s}/*"),
        (None, None) => system,
    })
}

fn db_target(span: &Span) -> Option<String> {
    let namespace = either(span, "db.namespace", "db.name");
    let qualified = |name: String| match &namespace {
        Some(ns) => format!("{ns}.{name}"),
        None => name,
    };
    if let Some(collection) = text(span, "db.collection.name") {
        return Some(qualified(collection));
    }
    if let Some(procedure) = text(span, "db.stored_procedure.name") {
        return Some(qualified(procedure));
    }
    namespace.clone().or_else(|| address(span))
}

fn db(span: &Span) -> Option<String> {
    let system = either(span, "db.system.name", "db.system")?;
    if let Some(summary) = text(span, "db.query.summary") {
        return Some(summary);
    }
    let operation = either(span, "db.operation.name", "db.operation");
    Some(match (operation, db_target(span)) {
        (Some(o), Some(t)) => format!("{o} {t}"),
        (Some(o), None) => o,
        (None, Some(t)) => t,
        (None, None) => system,
    })
}

fn messaging_destination(span: &Span) -> Option<String> {
    if flag(span, "messaging.destination.temporary") {
        return Some("(temporary)".into());
    }
    if flag(span, "messaging.destination.anonymous") {
        return Some("(anonymous)".into());
    }
    text(span, "messaging.destination.template")
        .or_else(|| either(span, "messaging.destination.name", "messaging.destination"))
        .or_else(|| address(span))
}

fn messaging(span: &Span) -> Option<String> {
    let system = text(span, "messaging.system")?;
    let operation = either(span, "messaging.operation.name", "messaging.operation");
    Some(match (operation, messaging_destination(span)) {
        (Some(o), Some(d)) => format!("{o} {d}"),
        (None, Some(d)) => d,
        (Some(o), None) => o,
        (None, None) => system,
    })
}

/// The span's name by the semantic conventions, if one applies.
pub(crate) fn semconv_span_name(span: &Span) -> Option<String> {
    let kind = SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified);
    match kind {
        SpanKind::Server => http(span, "http.route")
            .or_else(|| rpc(span))
            .or_else(|| messaging(span)),
        SpanKind::Client => http(span, "url.template")
            .or_else(|| rpc(span))
            .or_else(|| db(span))
            .or_else(|| messaging(span)),
        SpanKind::Consumer | SpanKind::Producer => messaging(span),
        SpanKind::Internal | SpanKind::Unspecified => None,
    }
}

/// `set_semconv_span_name(version, original_attribute?)`: renames the span; when the name
/// changes and `original` is given, the old name is kept in that attribute.
pub(crate) fn set_semconv_span_name(span: &mut Span, original: Option<&str>) {
    let Some(name) = semconv_span_name(span) else {
        return;
    };
    if name == span.name {
        return;
    }
    let old = std::mem::replace(&mut span.name, name);
    if let Some(key) = original {
        let value = Some(AnyValue {
            value: Some(Value::StringValue(old)),
        });
        match span.attributes.iter_mut().find(|kv| kv.key == key) {
            Some(kv) => kv.value = value,
            None => span.attributes.push(KeyValue {
                key: key.to_owned(),
                value,
                ..KeyValue::default()
            }),
        }
    }
}

/// `convert_gauge_to_sum(temporality, monotonic)`: a gauge becomes a sum with its points;
/// anything else is left alone.
pub(crate) fn gauge_to_sum(
    metric: &mut Metric,
    temporality: AggregationTemporality,
    monotonic: bool,
) {
    if let Some(Data::Gauge(gauge)) = &mut metric.data {
        let data_points = std::mem::take(&mut gauge.data_points);
        metric.data = Some(Data::Sum(Sum {
            data_points,
            aggregation_temporality: temporality as i32,
            is_monotonic: monotonic,
        }));
    }
}

/// `convert_sum_to_gauge()`: a sum becomes a gauge with its points; anything else is left
/// alone.
pub(crate) fn sum_to_gauge(metric: &mut Metric) {
    if let Some(Data::Sum(sum)) = &mut metric.data {
        let data_points = std::mem::take(&mut sum.data_points);
        metric.data = Some(Data::Gauge(Gauge { data_points }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(kind: SpanKind, name: &str, attrs: &[(&str, Value)]) -> Span {
        Span {
            name: name.into(),
            kind: kind as i32,
            attributes: attrs
                .iter()
                .map(|(k, v)| KeyValue {
                    key: (*k).into(),
                    value: Some(AnyValue {
                        value: Some(v.clone()),
                    }),
                    ..KeyValue::default()
                })
                .collect(),
            ..Span::default()
        }
    }

    fn s(v: &str) -> Value {
        Value::StringValue(v.into())
    }

    #[test]
    fn names_by_the_conventions() {
        let cases: Vec<(Span, &str)> = vec![
            (
                span(
                    SpanKind::Server,
                    "GET /users/42",
                    &[
                        ("http.request.method", s("GET")),
                        ("http.route", s("/users/{id}")),
                    ],
                ),
                "GET /users/{id}",
            ),
            (
                span(SpanKind::Server, "x", &[("http.method", s("POST"))]),
                "POST",
            ),
            (
                span(
                    SpanKind::Server,
                    "x",
                    &[
                        ("http.request.method", s("_OTHER")),
                        ("http.route", s("/a")),
                    ],
                ),
                "HTTP /a",
            ),
            (
                span(
                    SpanKind::Client,
                    "x",
                    &[
                        ("http.request.method", s("GET")),
                        ("url.template", s("/items/{id}")),
                        ("http.route", s("/ignored")),
                    ],
                ),
                "GET /items/{id}",
            ),
            (
                span(
                    SpanKind::Server,
                    "x",
                    &[
                        ("rpc.system", s("grpc")),
                        ("rpc.service", s("shop.Cart")),
                        ("rpc.method", s("Add")),
                    ],
                ),
                "shop.Cart/Add",
            ),
            (
                span(
                    SpanKind::Client,
                    "x",
                    &[
                        ("rpc.system", s("grpc")),
                        ("rpc.grpc.service", s("shop.Cart")),
                    ],
                ),
                "shop.Cart/*",
            ),
            (
                span(SpanKind::Client, "x", &[("rpc.system", s("grpc"))]),
                "grpc",
            ),
            (
                span(
                    SpanKind::Client,
                    "x",
                    &[
                        ("db.system.name", s("postgresql")),
                        ("db.operation.name", s("SELECT")),
                        ("db.namespace", s("shop")),
                        ("db.collection.name", s("orders")),
                    ],
                ),
                "SELECT shop.orders",
            ),
            (
                span(
                    SpanKind::Client,
                    "x",
                    &[
                        ("db.system", s("redis")),
                        ("server.address", s("cache")),
                        ("server.port", Value::IntValue(6379)),
                    ],
                ),
                "cache:6379",
            ),
            (
                span(
                    SpanKind::Client,
                    "x",
                    &[
                        ("db.system.name", s("mysql")),
                        ("db.query.summary", s("SELECT users")),
                    ],
                ),
                "SELECT users",
            ),
            (
                span(SpanKind::Client, "x", &[("db.system.name", s("mariadb"))]),
                "mariadb",
            ),
            (
                span(
                    SpanKind::Producer,
                    "x",
                    &[
                        ("messaging.system", s("kafka")),
                        ("messaging.operation.name", s("send")),
                        ("messaging.destination.name", s("orders")),
                    ],
                ),
                "send orders",
            ),
            (
                span(
                    SpanKind::Consumer,
                    "x",
                    &[
                        ("messaging.system", s("rabbitmq")),
                        ("messaging.operation", s("process")),
                        ("messaging.destination.temporary", Value::BoolValue(true)),
                        ("messaging.destination.name", s("q")),
                    ],
                ),
                "process (temporary)",
            ),
            (
                span(SpanKind::Consumer, "x", &[("messaging.system", s("sqs"))]),
                "sqs",
            ),
            (
                span(
                    SpanKind::Internal,
                    "kept",
                    &[("http.request.method", s("GET"))],
                ),
                "kept",
            ),
            (
                span(SpanKind::Server, "kept", &[("db.system.name", s("x"))]),
                "kept",
            ),
        ];
        for (mut span, expected) in cases {
            set_semconv_span_name(&mut span, None);
            assert_eq!(span.name, expected);
        }
    }

    #[test]
    fn the_original_name_is_kept_only_when_it_changes() {
        let mut renamed = span(
            SpanKind::Server,
            "GET /users/42",
            &[
                ("http.request.method", s("GET")),
                ("http.route", s("/users/{id}")),
            ],
        );
        set_semconv_span_name(&mut renamed, Some("original_span_name"));
        assert_eq!(renamed.name, "GET /users/{id}");
        assert_eq!(
            crate::value::as_string(renamed.attributes.last().and_then(|kv| kv.value.as_ref())),
            "GET /users/42"
        );
        let mut same = span(
            SpanKind::Server,
            "GET",
            &[("http.request.method", s("GET"))],
        );
        set_semconv_span_name(&mut same, Some("original_span_name"));
        assert_eq!(same.attributes.len(), 1);
    }

    #[test]
    fn gauges_and_sums_convert_with_their_points() {
        use otlp_proto::metrics::v1::NumberDataPoint;
        let mut metric = Metric {
            data: Some(Data::Gauge(Gauge {
                data_points: vec![NumberDataPoint::default(); 3],
            })),
            ..Metric::default()
        };
        gauge_to_sum(&mut metric, AggregationTemporality::Cumulative, true);
        match &metric.data {
            Some(Data::Sum(sum)) => {
                assert_eq!(sum.data_points.len(), 3);
                assert!(sum.is_monotonic);
                assert_eq!(
                    sum.aggregation_temporality,
                    AggregationTemporality::Cumulative as i32
                );
            }
            other => panic!("{other:?}"),
        }
        gauge_to_sum(&mut metric, AggregationTemporality::Delta, false);
        assert!(
            matches!(&metric.data, Some(Data::Sum(s)) if s.is_monotonic),
            "a sum is left alone"
        );
        sum_to_gauge(&mut metric);
        assert!(matches!(&metric.data, Some(Data::Gauge(g)) if g.data_points.len() == 3));
    }
}
