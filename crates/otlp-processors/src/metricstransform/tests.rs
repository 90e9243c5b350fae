//! Unit tests: configuration checks and each action and operation on small requests.

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data,
    number_data_point::Value,
};

use super::{MetricsTransform, MetricsTransformConfig};

fn attr(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..KeyValue::default()
    }
}

fn point(labels: &[(&str, &str)], t: u64, v: i64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: labels.iter().map(|(k, v)| attr(k, v)).collect(),
        start_time_unix_nano: 1,
        time_unix_nano: t,
        value: Some(Value::AsInt(v)),
        ..NumberDataPoint::default()
    }
}

fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        data: Some(Data::Gauge(Gauge {
            data_points: points,
        })),
        ..Metric::default()
    }
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    }
}

fn run(yaml: &str, metrics: Vec<Metric>) -> Vec<Metric> {
    let config: MetricsTransformConfig = serde_yaml_ng::from_str(yaml).unwrap();
    let transform = MetricsTransform::new(&config).unwrap();
    let mut req = request(metrics);
    transform.process(&mut req);
    req.resource_metrics
        .into_iter()
        .flat_map(|r| r.scope_metrics)
        .flat_map(|s| s.metrics)
        .collect()
}

fn values(m: &Metric) -> Vec<(Vec<(String, String)>, i64)> {
    let Some(Data::Gauge(g)) = &m.data else {
        panic!("gauge expected")
    };
    let mut out: Vec<_> = g
        .data_points
        .iter()
        .map(|p| {
            let mut labels: Vec<_> = p
                .attributes
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        super::points::str_of(kv.value.as_ref()).to_owned(),
                    )
                })
                .collect();
            labels.sort();
            let v = match p.value {
                Some(Value::AsInt(i)) => i,
                Some(Value::AsDouble(d)) => d as i64 * 1000,
                None => -1,
            };
            (labels, v)
        })
        .collect();
    out.sort();
    out
}

fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn validation_names_the_key_with_otelcols_message() {
    for (yaml, key, text) in [
        (
            "transforms: [{action: update}]",
            "include",
            "missing required field \"include\"",
        ),
        (
            "transforms: [{include: a, action: nope}]",
            "action",
            "\"action\" must be in",
        ),
        (
            "transforms: [{include: a, action: insert}]",
            "new_name",
            "while \"action\" is insert",
        ),
        (
            "transforms: [{include: a, action: group}]",
            "group_resource_labels",
            "group",
        ),
        (
            "transforms: [{include: '(', match_type: regexp, action: update}]",
            "include",
            "include",
        ),
        (
            "transforms: [{include: a, action: update, operations: [{action: add_label, new_label: x}]}]",
            "new_value",
            "operation 1: missing required field \"new_value\"",
        ),
        (
            "transforms: [{include: a, action: update, operations: [{action: aggregate_labels, aggregation_type: avg}]}]",
            "aggregation_type",
            "operation 1: \"aggregation_type\" must be in",
        ),
    ] {
        let config: MetricsTransformConfig = serde_yaml_ng::from_str(yaml).unwrap();
        let error = MetricsTransform::new(&config).err().unwrap().to_string();
        assert!(
            error.contains(key) && error.contains(text),
            "{yaml}: {error}"
        );
    }
    assert!(serde_yaml_ng::from_str::<MetricsTransformConfig>("transforms: [{bogus: 1}]").is_err());
}

#[test]
fn update_renames_with_regexp_groups() {
    let out = run(
        "transforms: [{include: '^system\\.cpu\\.(.*)$', match_type: regexp, action: update, new_name: 'system.processor.${1}.stat'}]",
        vec![
            gauge("system.cpu.time", vec![point(&[], 5, 1)]),
            gauge("other", vec![]),
        ],
    );
    assert_eq!(out[0].name, "system.processor.time.stat");
    assert_eq!(out[1].name, "other");
}

#[test]
fn insert_copies_only_matching_points_and_update_skips_partial_metrics() {
    let metric = gauge(
        "m",
        vec![point(&[("pod", "a")], 5, 1), point(&[("pod", "b")], 5, 2)],
    );
    let out = run(
        "transforms: [{include: m, action: insert, new_name: m2, experimental_match_labels: {pod: a}}]",
        vec![metric.clone()],
    );
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].name, "m2");
    assert_eq!(values(&out[1]), vec![(l(&[("pod", "a")]), 1)]);
    // update with a partial match: not renamed, add_label skipped, update_label applied.
    let out = run(
        "transforms: [{include: m, action: update, new_name: x, experimental_match_labels: {pod: a}, operations: [{action: add_label, new_label: k, new_value: v}, {action: update_label, label: pod, value_actions: [{value: a, new_value: A}]}]}]",
        vec![metric],
    );
    assert_eq!(out[0].name, "m");
    assert_eq!(
        values(&out[0]),
        vec![(l(&[("pod", "A")]), 1), (l(&[("pod", "b")]), 2)]
    );
}

#[test]
fn aggregate_labels_and_label_values() {
    let metric = gauge(
        "m",
        vec![
            point(&[("state", "user"), ("cpu", "0")], 5, 1),
            point(&[("state", "system"), ("cpu", "0")], 5, 2),
            point(&[("state", "user"), ("cpu", "1")], 5, 4),
            point(&[("state", "idle"), ("cpu", "1")], 5, 8),
        ],
    );
    let out = run(
        "transforms: [{include: m, action: update, operations: [{action: aggregate_labels, label_set: [state], aggregation_type: sum}]}]",
        vec![metric.clone()],
    );
    assert_eq!(
        values(&out[0]),
        vec![
            (l(&[("state", "idle")]), 8),
            (l(&[("state", "system")]), 2),
            (l(&[("state", "user")]), 5)
        ]
    );
    let out = run(
        "transforms: [{include: m, action: update, operations: [{action: aggregate_label_values, label: state, aggregated_values: [user, system], new_value: used, aggregation_type: max}]}]",
        vec![metric.clone()],
    );
    assert_eq!(
        values(&out[0]),
        vec![
            (l(&[("cpu", "0"), ("state", "used")]), 2),
            (l(&[("cpu", "1"), ("state", "idle")]), 8),
            (l(&[("cpu", "1"), ("state", "used")]), 4)
        ]
    );
    for (agg, expected) in [("count", 4), ("median", 3), ("mean", 3), ("min", 1)] {
        let out = run(
            &format!(
                "transforms: [{{include: m, action: update, operations: [{{action: aggregate_labels, label_set: [], aggregation_type: {agg}}}]}}]"
            ),
            vec![metric.clone()],
        );
        assert_eq!(values(&out[0]), vec![(vec![], expected)], "{agg}");
    }
}

#[test]
fn combine_turns_named_groups_into_labels() {
    let out = run(
        "transforms: [{include: '^Web Service \\(\\*\\)/Total (?P<http_method>.*) Requests$', match_type: regexp, action: combine, new_name: iis.requests, submatch_case: lower, aggregation_type: sum}]",
        vec![
            gauge("Web Service (*)/Total Get Requests", vec![point(&[], 5, 3)]),
            gauge(
                "Web Service (*)/Total Post Requests",
                vec![point(&[], 5, 4)],
            ),
            gauge("unrelated", vec![point(&[], 5, 9)]),
        ],
    );
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].name, "unrelated");
    assert_eq!(out[1].name, "iis.requests");
    assert_eq!(
        values(&out[1]),
        vec![
            (l(&[("http_method", "get")]), 3),
            (l(&[("http_method", "post")]), 4)
        ]
    );
}

#[test]
fn delete_toggle_scale_and_group() {
    let metric = gauge(
        "m",
        vec![
            point(&[("state", "idle")], 5, 1),
            point(&[("state", "busy")], 5, 3),
        ],
    );
    let out = run(
        "transforms: [{include: m, action: update, operations: [{action: delete_label_value, label: state, label_value: idle}, {action: experimental_scale_value, experimental_scale: 10}, {action: toggle_scalar_data_type}]}]",
        vec![metric.clone()],
    );
    assert_eq!(values(&out[0]), vec![(l(&[("state", "busy")]), 30_000)]);
    // Deleting every point removes the metric, its scope and its resource.
    let out = run(
        "transforms: [{include: m, action: update, operations: [{action: delete_label_value, label: state, label_value: idle}, {action: delete_label_value, label: state, label_value: busy}]}]",
        vec![metric.clone()],
    );
    assert!(out.is_empty());
    let config: MetricsTransformConfig = serde_yaml_ng::from_str(
        "transforms: [{include: m, action: group, group_resource_labels: {source: kubelet}}]",
    )
    .unwrap();
    let transform = MetricsTransform::new(&config).unwrap();
    let mut req = request(vec![metric, gauge("n", vec![point(&[], 5, 1)])]);
    transform.process(&mut req);
    assert_eq!(req.resource_metrics.len(), 2);
    assert_eq!(
        req.resource_metrics[0].scope_metrics[0].metrics[0].name,
        "n"
    );
    let grouped = &req.resource_metrics[1];
    assert_eq!(
        grouped.resource.as_ref().unwrap().attributes[0].key,
        "source"
    );
    assert_eq!(grouped.scope_metrics[0].metrics[0].name, "m");
}

#[test]
fn sums_keep_their_temporality_through_aggregation() {
    let metric = Metric {
        name: "s".into(),
        data: Some(Data::Sum(Sum {
            data_points: vec![point(&[("a", "1")], 5, 1), point(&[("a", "2")], 5, 2)],
            aggregation_temporality: 2,
            is_monotonic: true,
        })),
        ..Metric::default()
    };
    let out = run(
        "transforms: [{include: s, action: update, operations: [{action: aggregate_labels, label_set: [], aggregation_type: sum}]}]",
        vec![metric],
    );
    let Some(Data::Sum(sum)) = &out[0].data else {
        panic!()
    };
    assert_eq!((sum.aggregation_temporality, sum.is_monotonic), (2, true));
    assert_eq!(sum.data_points[0].value, Some(Value::AsInt(3)));
}

#[test]
fn registered_under_both_names() {
    let mut registry = otlp_pipeline::Registry::default();
    registry
        .register_processor(super::metricstransform_factory())
        .unwrap();
    assert!(registry.processor("metricstransform").is_some());
    assert!(registry.processor("metrics_transform").is_some());
}

#[test]
fn combine_and_aggregations_need_an_aggregation_type() {
    for yaml in [
        "transforms: [{include: a, action: combine, new_name: b}]",
        "transforms: [{include: a, action: combine, aggregation_type: sum}]",
        "transforms: [{include: a, action: update, operations: [{action: aggregate_labels, label_set: []}]}]",
        "transforms: [{include: a, action: update, operations: [{action: aggregate_label_values, label: x}]}]",
    ] {
        let config: MetricsTransformConfig = serde_yaml_ng::from_str(yaml).unwrap();
        assert!(MetricsTransform::new(&config).is_err(), "{yaml}");
    }
}
