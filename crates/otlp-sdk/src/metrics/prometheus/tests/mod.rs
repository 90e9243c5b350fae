//! Tests of the Prometheus exporter: the text encoding rules with hand-written OTLP input
//! and exact expected text, a property test of the output grammar, and the HTTP server over
//! real loopback TCP.

use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
};
use otlp_proto::resource::v1::Resource;

use super::TextOptions;

mod prop;
mod server;
mod text;

const CUMULATIVE: AggregationTemporality = AggregationTemporality::Cumulative;
const DELTA: AggregationTemporality = AggregationTemporality::Delta;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
    pairs.iter().map(|(k, v)| kv(k, v)).collect()
}

fn int(value: i64, attributes: &[(&str, &str)]) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs(attributes),
        value: Some(number_data_point::Value::AsInt(value)),
        time_unix_nano: 1_700_000_000_000_000_000,
        ..Default::default()
    }
}

fn double(value: f64, attributes: &[(&str, &str)]) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs(attributes),
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn metric(name: &str, unit: &str, description: &str, data: Data) -> Metric {
    Metric {
        name: name.to_owned(),
        unit: unit.to_owned(),
        description: description.to_owned(),
        data: Some(data),
        ..Default::default()
    }
}

fn gauge(name: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    metric(
        name,
        unit,
        "",
        Data::Gauge(Gauge {
            data_points: points,
        }),
    )
}

fn sum(
    name: &str,
    unit: &str,
    monotonic: bool,
    temporality: AggregationTemporality,
    points: Vec<NumberDataPoint>,
) -> Metric {
    let data = Data::Sum(Sum {
        data_points: points,
        aggregation_temporality: temporality as i32,
        is_monotonic: monotonic,
    });
    metric(name, unit, "", data)
}

fn counter(name: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    sum(name, unit, true, CUMULATIVE, points)
}

fn histogram_point(
    bounds: &[f64],
    counts: &[u64],
    sum: Option<f64>,
    attributes: &[(&str, &str)],
) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes: attrs(attributes),
        count: counts.iter().sum(),
        sum,
        bucket_counts: counts.to_vec(),
        explicit_bounds: bounds.to_vec(),
        ..Default::default()
    }
}

fn histogram(
    name: &str,
    unit: &str,
    temporality: AggregationTemporality,
    points: Vec<HistogramDataPoint>,
) -> Metric {
    let data = Data::Histogram(Histogram {
        data_points: points,
        aggregation_temporality: temporality as i32,
    });
    metric(name, unit, "", data)
}

fn scope(name: &str, version: &str, metrics: Vec<Metric>) -> ScopeMetrics {
    ScopeMetrics {
        scope: Some(InstrumentationScope {
            name: name.to_owned(),
            version: version.to_owned(),
            ..Default::default()
        }),
        metrics,
        ..Default::default()
    }
}

fn resource(attributes: &[(&str, &str)], scopes: Vec<ScopeMetrics>) -> ResourceMetrics {
    ResourceMetrics {
        resource: Some(Resource {
            attributes: attrs(attributes),
            ..Default::default()
        }),
        scope_metrics: scopes,
        ..Default::default()
    }
}

/// One resource without attributes, one scope.
fn single(metrics: Vec<Metric>) -> Vec<ResourceMetrics> {
    vec![resource(&[], vec![scope("lib", "", metrics)])]
}

/// No scope labels and no target_info: the rules for names, types and values alone.
fn bare() -> TextOptions {
    TextOptions {
        without_scope_info: true,
        without_target_info: true,
        ..Default::default()
    }
}
