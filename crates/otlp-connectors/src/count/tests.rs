//! `count`, against the otelcol-contrib README: the default metrics, custom metrics with
//! conditions (ORed) and attributes (with defaults; items missing one are not counted), a
//! written section replacing its default, and the shape of what is emitted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use otlp_model::builders::{
    EventBuilder, GaugeBuilder, LogRecordBuilder, LogsBuilder, MetricsBuilder, NumberPointBuilder,
    SpanBuilder, TracesBuilder,
};
use otlp_pipeline::testing::{Probe, connector_ctx};
use otlp_pipeline::{ConnectorFactory, Consumer, Factory, Resources, Signal, Telemetry};
use otlp_proto::metrics::v1::{AggregationTemporality, metric::Data, number_data_point};
use serde_yaml_ng::Value;

fn build(config: &str, from: Signal) -> (Box<dyn otlp_pipeline::Connector>, Arc<Probe>) {
    let probe = Probe::new();
    let ctx = connector_ctx(
        "count",
        from,
        Signal::Metrics,
        vec![("metrics/out", probe.clone() as Arc<dyn Consumer>)],
        Resources::default(),
    );
    let value: Value = serde_yaml_ng::from_str(config).unwrap();
    let connector = super::factory()
        .create(ctx, value)
        .unwrap_or_else(|e| panic!("{e}"));
    (connector, probe)
}

/// Every emitted point: (resource service.name, metric, attributes, count).
/// (resource service.name, metric name, attributes, count).
type Point = (String, String, Vec<(String, String)>, i64);

fn points(probe: &Probe) -> Vec<Point> {
    let mut out = Vec::new();
    for t in probe.received.lock().unwrap().iter() {
        for rm in &t.metrics().unwrap().resource_metrics {
            let service = rm
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                .map(|kv| otlp_ottl::value::as_string(kv.value.as_ref()))
                .unwrap_or_default();
            for sm in &rm.scope_metrics {
                assert_eq!(sm.scope.as_ref().unwrap().name, super::SCOPE_NAME);
                for m in &sm.metrics {
                    let Some(Data::Sum(sum)) = &m.data else {
                        panic!("a sum: {m:?}")
                    };
                    assert!(sum.is_monotonic);
                    assert_eq!(
                        sum.aggregation_temporality,
                        AggregationTemporality::Delta as i32
                    );
                    for p in &sum.data_points {
                        assert!(p.time_unix_nano > 0, "stamped");
                        let Some(number_data_point::Value::AsInt(n)) = p.value else {
                            panic!("an integer")
                        };
                        let attrs = p
                            .attributes
                            .iter()
                            .map(|kv| {
                                (
                                    kv.key.clone(),
                                    otlp_ottl::value::as_string(kv.value.as_ref()),
                                )
                            })
                            .collect();
                        out.push((service.clone(), m.name.clone(), attrs, n));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

fn traces() -> Telemetry {
    let mut request = TracesBuilder::new()
        .resource(otlp_model::resource!["service.name" => "cart"])
        .span(
            SpanBuilder::new("a")
                .attr("env", "prod")
                .event(EventBuilder::new("e1"))
                .event(EventBuilder::new("prodevent")),
        )
        .span(SpanBuilder::new("b").attr("env", "dev"))
        .span(SpanBuilder::new("c"))
        .build();
    let more = TracesBuilder::new()
        .resource(otlp_model::resource!["service.name" => "search", "env" => "staging"])
        .span(SpanBuilder::new("d").event(EventBuilder::new("e2").attr("env", "prod")))
        .build();
    request.resource_spans.extend(more.resource_spans);
    Telemetry::new(request)
}

#[tokio::test]
async fn by_default_spans_and_span_events_are_counted_per_resource() {
    let (count, probe) = build("{}", Signal::Traces);
    count.consume(traces()).await.unwrap();
    let none = Vec::new;
    assert_eq!(
        points(&probe),
        [
            ("cart".into(), "trace.span.count".into(), none(), 3),
            ("cart".into(), "trace.span.event.count".into(), none(), 2),
            ("search".into(), "trace.span.count".into(), none(), 1),
            ("search".into(), "trace.span.event.count".into(), none(), 1),
        ]
    );
    let received = probe.received.lock().unwrap();
    let metric = &received[0].metrics().unwrap().resource_metrics[0].scope_metrics[0].metrics[0];
    assert_eq!(metric.description, "The number of spans observed.");
}

#[tokio::test]
async fn custom_metrics_with_ored_conditions_and_attributes() {
    let (count, probe) = build(
        r#"
spanevents:
  my.prod.event.count:
    description: The number of span events from my prod environment.
    conditions:
      - 'attributes["env"] == "prod"'
      - 'name == "prodevent"'
spans:
  span.by.env:
    attributes:
      - key: env
        default_value: unspecified_environment
  span.by.env.strict:
    attributes: [{key: env}]
"#,
        Signal::Traces,
    );
    count.consume(traces()).await.unwrap();
    let env = |v: &str| vec![("env".to_owned(), v.to_owned())];
    assert_eq!(
        points(&probe),
        [
            ("cart".into(), "my.prod.event.count".into(), vec![], 1),
            ("cart".into(), "span.by.env".into(), env("dev"), 1),
            ("cart".into(), "span.by.env".into(), env("prod"), 1),
            (
                "cart".into(),
                "span.by.env".into(),
                env("unspecified_environment"),
                1
            ),
            ("cart".into(), "span.by.env.strict".into(), env("dev"), 1),
            ("cart".into(), "span.by.env.strict".into(), env("prod"), 1),
            // span "d" has no env; its resource does: found there.
            ("search".into(), "my.prod.event.count".into(), vec![], 1),
            ("search".into(), "span.by.env".into(), env("staging"), 1),
            (
                "search".into(),
                "span.by.env.strict".into(),
                env("staging"),
                1
            ),
        ],
        "span c (no env anywhere) is not counted by the strict metric"
    );
}

#[tokio::test]
async fn a_written_section_replaces_its_default_even_when_empty() {
    let (count, probe) = build("{spans: {}}", Signal::Traces);
    count.consume(traces()).await.unwrap();
    let names: Vec<String> = points(&probe).into_iter().map(|p| p.1).collect();
    assert!(
        names.iter().all(|n| n == "trace.span.event.count"),
        "{names:?}"
    );
}

#[tokio::test]
async fn metrics_and_data_points_are_counted() {
    let (count, probe) = build(
        r#"
datapoints:
  prod.points:
    conditions: ['attributes["env"] == "prod"']
"#,
        Signal::Metrics,
    );
    let request = MetricsBuilder::new()
        .metric(
            GaugeBuilder::new("queue.depth")
                .point(NumberPointBuilder::int(1).attr("env", "prod"))
                .point(NumberPointBuilder::int(2).attr("env", "dev")),
        )
        .metric(GaugeBuilder::new("cpu").point(NumberPointBuilder::double(0.5).attr("env", "prod")))
        .build();
    count.consume(Telemetry::new(request)).await.unwrap();
    assert_eq!(
        points(&probe),
        [
            (String::new(), "metric.count".into(), vec![], 2),
            (String::new(), "prod.points".into(), vec![], 2),
        ]
    );
}

#[tokio::test]
async fn error_logs_counted_by_severity_and_nothing_emitted_for_no_match() {
    let (count, probe) = build(
        r#"
logs:
  my.error.log.count:
    description: Error+ logs.
    conditions: [severity_number >= SEVERITY_NUMBER_ERROR]
"#,
        Signal::Logs,
    );
    let record = |severity: i32| {
        let mut r = LogRecordBuilder::new().body("x").build();
        r.severity_number = severity;
        r
    };
    let request = LogsBuilder::new()
        .log_records([record(9), record(17), record(21)])
        .build();
    count.consume(Telemetry::new(request)).await.unwrap();
    assert_eq!(
        points(&probe),
        [(String::new(), "my.error.log.count".into(), vec![], 2)]
    );
    let quiet = LogsBuilder::new().log_records([record(9)]).build();
    count.consume(Telemetry::new(quiet)).await.unwrap();
    assert_eq!(probe.calls(), 1, "no count, no metrics request");
}

#[tokio::test]
async fn the_metrics_pipelines_answer_is_the_senders() {
    let probe = Probe::failing([otlp_pipeline::ConsumeError::retryable("full")]);
    let ctx = connector_ctx(
        "count",
        Signal::Traces,
        Signal::Metrics,
        vec![("metrics/out", probe.clone() as Arc<dyn Consumer>)],
        Resources::default(),
    );
    let count = super::factory().create(ctx, Value::Null).unwrap();
    let error = count
        .consume(traces())
        .await
        .expect_err("refused downstream");
    assert!(error.is_retryable());
}

#[test]
fn configuration_errors_name_the_key() {
    let factory = super::factory();
    let cases: BTreeMap<&str, &str> = BTreeMap::from([
        (
            "metrics: {m: {attributes: [{key: a}]}}",
            "metrics::m::attributes",
        ),
        (
            "spans: {m: {attributes: [{key: ''}]}}",
            "attribute key missing",
        ),
        (
            "logs: {m: {conditions: ['severity_number >=']}}",
            "logs::m::conditions[0]",
        ),
        ("spans: {m: {colour: red}}", "colour"),
        ("traces: {}", "traces"),
    ]);
    for (config, expected) in cases {
        let value: Value = serde_yaml_ng::from_str(config).unwrap();
        let error = factory.validate(&value).expect_err(config).to_string();
        let path = factory
            .validate(&value)
            .err()
            .map(|e| format!("{e:?}"))
            .unwrap_or_default();
        assert!(
            error.contains(expected) || path.contains(expected),
            "{config}: expected \"{expected}\" in \"{error}\" / {path}"
        );
    }
    assert!(factory.supports(Signal::Logs, Signal::Metrics));
    assert!(!factory.supports(Signal::Traces, Signal::Traces));
}

#[tokio::test]
async fn profiles_are_counted_with_attributes_read_through_the_dictionary() {
    use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
    use otlp_proto::common::v1::{AnyValue, any_value};
    use otlp_proto::profiles::v1development::{
        KeyValueAndUnit, Profile, ProfilesDictionary, ResourceProfiles, ScopeProfiles,
    };
    let text = |s: &str| AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    };
    let dictionary = ProfilesDictionary {
        string_table: vec![String::new(), "env".into()],
        attribute_table: vec![
            KeyValueAndUnit::default(),
            KeyValueAndUnit {
                key_strindex: 1,
                value: Some(text("prod")),
                unit_strindex: 0,
            },
            KeyValueAndUnit {
                key_strindex: 1,
                value: Some(text("dev")),
                unit_strindex: 0,
            },
        ],
        ..ProfilesDictionary::default()
    };
    let profile = |attribute: Option<i32>| Profile {
        attribute_indices: attribute.into_iter().collect(),
        ..Profile::default()
    };
    let request = ExportProfilesServiceRequest {
        resource_profiles: vec![ResourceProfiles {
            resource: Some(otlp_model::resource!["service.name" => "cart"]),
            scope_profiles: vec![ScopeProfiles {
                profiles: vec![
                    profile(Some(1)),
                    profile(Some(2)),
                    profile(Some(1)),
                    profile(None),
                ],
                ..ScopeProfiles::default()
            }],
            ..ResourceProfiles::default()
        }],
        dictionary: Some(dictionary),
    };
    let (count, probe) = build("{}", Signal::Profiles);
    count
        .consume(Telemetry::new(request.clone()))
        .await
        .unwrap();
    assert_eq!(
        points(&probe),
        [("cart".into(), "profile.count".into(), vec![], 4)]
    );

    let (count, probe) = build(
        "profiles: {profiles.by.env: {attributes: [{key: env}]}}",
        Signal::Profiles,
    );
    count.consume(Telemetry::new(request)).await.unwrap();
    let env = |v: &str| vec![("env".to_owned(), v.to_owned())];
    assert_eq!(
        points(&probe),
        [
            ("cart".into(), "profiles.by.env".into(), env("dev"), 1),
            ("cart".into(), "profiles.by.env".into(), env("prod"), 2),
        ],
        "the profile without env is not counted"
    );
}
