#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_model::attributes::IntoAnyValue;
use otlp_model::prelude::*;
use otlp_model::semconv::resource::SERVICE_NAME;
use otlp_pipeline::Telemetry;
use otlp_pipeline::factory::Factory;
use otlp_pipeline::testing::{Probe, traces as probe_traces};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue};
use otlp_proto::metrics::v1::metric::Data;

use super::*;
use crate::data_processor::test_support::build;

fn transform(yaml: &str) -> TransformProcessor {
    TransformConfig::from_yaml(yaml)
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

fn keys(attrs: &[KeyValue]) -> Vec<&str> {
    attrs.iter().map(|kv| kv.key.as_str()).collect()
}

fn traces() -> ExportTraceServiceRequest {
    TracesBuilder::new()
        .resource(resource![SERVICE_NAME => "checkout", "host.name" => "h1"])
        .scope("http", "1.2")
        .span(
            SpanBuilder::new("GET /health")
                .kind(SpanKind::Server)
                .attr("http.route", "/health")
                .attr("process.command_line", "run password=secret --fast")
                .attr("cloud.region", "eu")
                .event(EventBuilder::new("retry").attr("attempt", 1)),
        )
        .span(
            SpanBuilder::new("SELECT")
                .kind(SpanKind::Client)
                .attr("db.system", "postgresql"),
        )
        .build()
}

fn metrics() -> ExportMetricsServiceRequest {
    MetricsBuilder::new()
        .resource(resource![SERVICE_NAME => "api", "host.name" => "h1", "pod" => "p"])
        .metric(
            SumBuilder::new("http.requests")
                .monotonic(true)
                .temporality(AggregationTemporality::Cumulative)
                .point(NumberPointBuilder::int(5).attr("route", "/health"))
                .point(NumberPointBuilder::int(7).attr("route", "/cart")),
        )
        .metric(
            GaugeBuilder::new("queue.depth")
                .point(NumberPointBuilder::double(0.5).attr("route", "/health")),
        )
        .build()
}

fn logs() -> ExportLogsServiceRequest {
    LogsBuilder::new()
        .resource(resource![SERVICE_NAME => "api"])
        .scope("app", "")
        .log_record(
            LogRecordBuilder::new()
                .body("request failed")
                .attr("http.route", "/user/1/list/2")
                .attr("path", "/account/1234"),
        )
        .log_record(LogRecordBuilder::new().body("ok").attr("http.route", "/x"))
        .build()
}

#[test]
fn flat_trace_statements_from_the_contrib_readme() {
    let p = transform(
        r#"
trace_statements:
  - keep_keys(span.attributes, ["service.name", "cloud.region", "process.command_line"])
  - replace_pattern(span.attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***")
  - limit(span.attributes, 100, [])
  - truncate_all(span.attributes, 4)
  - set(resource.attributes["processed"], true)
  - set(spanevent.attributes["seen"], span.name)
"#,
    );
    let mut req = traces();
    p.process_traces(&mut req).unwrap();
    let rs = &req.resource_spans[0];
    let spans = &rs.scope_spans[0].spans;
    assert_eq!(
        keys(&spans[0].attributes),
        ["process.command_line", "cloud.region"]
    );
    assert_eq!(
        attr(&spans[0].attributes, "process.command_line"),
        Some(&"run ".into_any_value()),
        "the password was masked, then truncated to 4 bytes"
    );
    assert!(spans[1].attributes.is_empty());
    assert_eq!(
        attr(&rs.resource.as_ref().unwrap().attributes, "processed"),
        Some(&true.into_any_value())
    );
    assert_eq!(
        attr(&spans[0].events[0].attributes, "seen"),
        Some(&"GET /health".into_any_value())
    );
}

#[test]
fn groups_with_context_conditions_and_bare_paths() {
    let p = transform(
        r#"
trace_statements:
  - context: span
    conditions:
      - 'kind == SPAN_KIND_CLIENT'
      - 'attributes["http.route"] == "/nope"'
    statements:
      - 'set(attributes["client"], true)'
      - 'set(name, Concat(["db", attributes["db.system"]], ":"))'
  - context: resource
    statements:
      - 'delete_key(attributes, "host.name")'
  - statements:
      - 'set(span.attributes["route"], span.attributes["http.route"]) where span.kind == SPAN_KIND_SERVER'
"#,
    );
    let mut req = traces();
    p.process_traces(&mut req).unwrap();
    let rs = &req.resource_spans[0];
    let spans = &rs.scope_spans[0].spans;
    assert_eq!(spans[1].name, "db:postgresql");
    assert_eq!(
        attr(&spans[1].attributes, "client"),
        Some(&true.into_any_value())
    );
    assert_eq!(
        attr(&spans[0].attributes, "client"),
        None,
        "no condition held"
    );
    assert_eq!(spans[0].name, "GET /health");
    assert_eq!(
        attr(&spans[0].attributes, "route"),
        Some(&"/health".into_any_value())
    );
    assert_eq!(
        keys(&rs.resource.as_ref().unwrap().attributes),
        ["service.name"]
    );
}

#[test]
fn metric_and_datapoint_statements() {
    let p = transform(
        r#"
metric_statements:
  - keep_keys(resource.attributes, ["host.name"])
  - set(metric.description, "Sum") where metric.type == METRIC_DATA_TYPE_SUM
  - set(metric.unit, "1") where datapoint.attributes["route"] == "/cart"
  - set(datapoint.attributes["metric"], metric.name)
  - context: datapoint
    statements:
      - set(value_double, 1.5) where metric.name == "queue.depth"
"#,
    );
    let mut req = metrics();
    p.process_metrics(&mut req).unwrap();
    let rm = &req.resource_metrics[0];
    assert_eq!(
        keys(&rm.resource.as_ref().unwrap().attributes),
        ["host.name"]
    );
    let ms = &rm.scope_metrics[0].metrics;
    assert_eq!(ms[0].description, "Sum");
    assert_eq!(ms[1].description, "");
    assert_eq!(ms[0].unit, "1", "a datapoint statement writes its metric");
    assert_eq!(ms[1].unit, "");
    let Some(Data::Sum(sum)) = &ms[0].data else {
        panic!("the sum stays a sum")
    };
    assert_eq!(sum.data_points.len(), 2, "the points are put back");
    assert_eq!(
        attr(&sum.data_points[1].attributes, "metric"),
        Some(&"http.requests".into_any_value())
    );
    let Some(Data::Gauge(g)) = &ms[1].data else {
        panic!("gauge")
    };
    assert_eq!(
        g.data_points[0].value,
        Some(otlp_proto::metrics::v1::number_data_point::Value::AsDouble(
            1.5
        ))
    );
}

#[test]
fn log_statements_from_the_contrib_readme() {
    let p = transform(
        r#"
log_statements:
  - set(log.severity_text, "FAIL") where log.body == "request failed"
  - replace_all_matches(log.attributes, "/user/*/list/*", "/user/{userId}/list/{listId}")
  - replace_all_patterns(log.attributes, "value", "/account/\\d{4}", "/account/{accountId}")
  - set(log.body, log.attributes["http.route"])
"#,
    );
    let mut req = logs();
    p.process_logs(&mut req).unwrap();
    let records = &req.resource_logs[0].scope_logs[0].log_records;
    assert_eq!(records[0].severity_text, "FAIL");
    assert_eq!(records[1].severity_text, "");
    assert_eq!(
        attr(&records[0].attributes, "path"),
        Some(&"/account/{accountId}".into_any_value())
    );
    assert_eq!(
        records[0].body.as_ref(),
        Some(&"/user/{userId}/list/{listId}".into_any_value())
    );
    assert_eq!(records[1].body.as_ref(), Some(&"/x".into_any_value()));
}

#[test]
fn error_modes() {
    let failing = r#"set(span.attributes["n"], Len(span.attributes["missing"]))"#;
    let then = r#"set(span.attributes["after"], true)"#;
    // propagate (the default): the first failure stops the request.
    let p = transform(&format!(
        "trace_statements:\n  - '{failing}'\n  - '{then}'\n"
    ));
    let err = p.process_traces(&mut traces()).unwrap_err();
    assert_eq!(err.statement, failing);
    assert!(err.message.contains("Len"), "{}", err.message);
    // ignore: log, count, go on with the next statement.
    for mode in ["ignore", "silent"] {
        let p = transform(&format!(
            "error_mode: {mode}\ntrace_statements:\n  - '{failing}'\n  - '{then}'\n"
        ));
        let mut req = traces();
        p.process_traces(&mut req).unwrap();
        assert_eq!(p.ignored_errors(), 2, "{mode}: one failure per span");
        for span in &req.resource_spans[0].scope_spans[0].spans {
            assert_eq!(
                attr(&span.attributes, "after"),
                Some(&true.into_any_value())
            );
            assert_eq!(attr(&span.attributes, "n"), None);
        }
    }
    // A group's error_mode overrides the processor's.
    let p = transform(&format!(
        "error_mode: ignore\ntrace_statements:\n  - error_mode: propagate\n    statements: ['{failing}']\n"
    ));
    assert!(p.process_traces(&mut traces()).is_err());
    // Failing group conditions count as false under ignore.
    let p = transform(
        "error_mode: ignore\ntrace_statements:\n  - context: span\n    conditions: ['Len(attributes[\"x\"]) > 0', 'name == \"SELECT\"']\n    statements: ['set(attributes[\"hit\"], true)']\n",
    );
    let mut req = traces();
    p.process_traces(&mut req).unwrap();
    let spans = &req.resource_spans[0].scope_spans[0].spans;
    assert_eq!(attr(&spans[0].attributes, "hit"), None);
    assert_eq!(
        attr(&spans[1].attributes, "hit"),
        Some(&true.into_any_value())
    );
}

#[test]
fn config_errors_name_the_key_and_position() {
    let cases: [(&str, &str, Option<usize>); 8] = [
        (
            "trace_statements:\n  - 'set(span.nme, \"x\")'\n",
            "trace_statements[0]",
            Some(4),
        ),
        (
            "trace_statements:\n  - 'set(span.name, \"x\")'\n  - context: span\n    statements: ['set(name, \"a\")', 'set(name']\n",
            "trace_statements[1].statements[1]",
            Some(8),
        ),
        (
            "log_statements:\n  - context: log\n    conditions: ['body == ']\n    statements: ['set(body, \"a\")']\n",
            "log_statements[0].conditions[0]",
            Some(8),
        ),
        (
            "log_statements:\n  - 'set(span.name, \"x\")'\n",
            "log_statements[0]",
            Some(4),
        ),
        (
            "trace_statements:\n  - 'set(attributes[\"x\"], 1)'\n",
            "trace_statements[0]",
            Some(0),
        ),
        (
            "metric_statements:\n  - context: span\n    statements: ['set(name, \"a\")']\n",
            "metric_statements[0].context",
            None,
        ),
        (
            "log_statements:\n  - context: log\n    statements: []\n",
            "log_statements[0].statements",
            None,
        ),
        (
            "trace_statements:\n  - context: span\n    shared_cache: true\n    statements: ['set(name, \"a\")']\n",
            "trace_statements[0].shared_cache",
            None,
        ),
    ];
    for (yaml, want_field, want_position) in cases {
        match TransformConfig::from_yaml(yaml).and_then(|c| c.build()) {
            Err(ConfigError::Condition {
                field, position, ..
            }) => {
                assert_eq!(field, want_field, "{yaml}");
                assert_eq!(Some(position), want_position, "{yaml}");
            }
            Err(
                ConfigError::InvalidField { field, .. } | ConfigError::MissingField { field, .. },
            ) => {
                assert_eq!(field, want_field, "{yaml}");
                assert_eq!(want_position, None, "{yaml}");
            }
            other => panic!("{yaml}: {other:?}"),
        }
    }
    assert!(TransformConfig::from_yaml("statements: ['set(name, \"a\")']").is_err());
    assert!(TransformConfig::from_yaml("error_mode: loud").is_err());
    assert!(
        TransformConfig::from_yaml("trace_statements: [{context: span, statement: []}]").is_err()
    );
    assert_eq!(
        TransformConfig::from_yaml("").map(|c| c.error_mode),
        Ok(ErrorMode::Propagate)
    );
}

#[tokio::test]
async fn end_to_end_through_the_factory() {
    let probe = Probe::new();
    let resources = otlp_pipeline::Resources::collector();
    let config = r#"
trace_statements:
  - set(span.attributes["http.route"], "/masked") where span.attributes["http.route"] == "/health"
  - set(span.name, Concat([span.name, resource.attributes["service.name"]], "@"))
"#;
    let processor = build(
        &transform_factory(),
        config,
        "traces",
        probe.clone(),
        &resources,
    );
    let original = Telemetry::new(probe_traces(3));
    let shared = original.clone();
    processor.consume(original).await.unwrap();
    assert_eq!(probe.calls(), 1);
    {
        let received = probe.received.lock().unwrap();
        let spans = &received[0].traces().unwrap().resource_spans[0].scope_spans[0].spans;
        assert_eq!(spans[0].name, "span-0@checkout");
        assert_eq!(
            attr(&spans[0].attributes, "http.route"),
            Some(&"/masked".into_any_value())
        );
        assert_eq!(
            attr(&spans[1].attributes, "http.route"),
            Some(&"/cart".into_any_value())
        );
        let untouched = &shared.traces().unwrap().resource_spans[0].scope_spans[0].spans;
        assert_eq!(
            untouched[0].name, "span-0",
            "copy-on-write: the other holder keeps its data"
        );
    }

    // A statement error with the default error mode refuses the request, permanently.
    let failing = build(
        &transform_factory(),
        "trace_statements: ['set(span.attributes[\"x\"], ParseJSON(span.name))']",
        "traces",
        probe.clone(),
        &resources,
    );
    let err = failing
        .consume(Telemetry::new(probe_traces(1)))
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert_eq!(probe.calls(), 1, "the next stage is not called");

    // Other signals pass untouched (no statements for them).
    let logs_processor = build(
        &transform_factory(),
        config,
        "logs",
        probe.clone(),
        &resources,
    );
    logs_processor
        .consume(Telemetry::new(otlp_pipeline::testing::logs(2)))
        .await
        .unwrap();
    assert_eq!(probe.items(), 3 + 2);

    // Validation names the key.
    let bad =
        serde_yaml_ng::from_str("trace_statements: [{context: span, statements: ['frob(name)']}]")
            .unwrap();
    let error = transform_factory().validate(&bad).unwrap_err().to_string();
    assert!(
        error.contains("statements[0]") && error.contains("frob"),
        "{error}"
    );
}
