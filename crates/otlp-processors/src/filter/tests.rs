use otlp_model::prelude::*;
use otlp_model::semconv::resource::SERVICE_NAME;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

use super::*;
use crate::common::ConfigError;

fn filter(yaml: &str) -> FilterProcessor {
    FilterConfig::from_yaml(yaml)
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn span_names(req: &ExportTraceServiceRequest) -> Vec<&str> {
    req.spans().map(|s| s.name()).collect()
}

fn traces() -> ExportTraceServiceRequest {
    TracesBuilder::new()
        .resource(resource![SERVICE_NAME => "checkout", "env" => "prod"])
        .scope("http", "1.2")
        .span(
            SpanBuilder::new("GET /health")
                .kind(SpanKind::Server)
                .attr("http.route", "/health")
                .attr("http.status_code", 200)
                .status_ok(),
        )
        .span(
            SpanBuilder::new("GET /cart")
                .kind(SpanKind::Server)
                .attr("http.route", "/cart")
                .attr("http.status_code", 503)
                .attr("ratio", 0.25)
                .event(EventBuilder::new("retry").attr("attempt", 1))
                .event(EventBuilder::new("exception").attr("attempt", 2))
                .status_error("boom"),
        )
        .scope("db", "")
        .span(
            SpanBuilder::new("SELECT")
                .kind(SpanKind::Client)
                .attr("db.system", "postgresql"),
        )
        .resource(resource![SERVICE_NAME => "payments"])
        .span(SpanBuilder::new("charge").kind(SpanKind::Internal))
        .build()
}

fn span_case(condition: &str) -> Vec<String> {
    let p = filter(&format!(
        "traces:\n  span:\n    - '{}'\n",
        condition.replace('\'', "''")
    ));
    let mut req = traces();
    let before = req.span_count();
    let dropped = p.process_traces(&mut req).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(before - dropped, req.span_count());
    span_names(&req).into_iter().map(str::to_owned).collect()
}

#[test]
fn span_conditions() {
    let all = ["GET /health", "GET /cart", "SELECT", "charge"];
    let keep = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            r#"attributes["http.route"] == "/health""#,
            keep(&["GET /cart", "SELECT", "charge"]),
        ),
        (r#"name != "charge""#, keep(&["charge"])),
        ("kind == SPAN_KIND_SERVER", keep(&["SELECT", "charge"])),
        ("kind == 3", keep(&["GET /health", "GET /cart", "charge"])),
        (
            "status.code == STATUS_CODE_ERROR",
            keep(&["GET /health", "SELECT", "charge"]),
        ),
        (
            r#"attributes["http.status_code"] >= 500"#,
            keep(&["GET /health", "SELECT", "charge"]),
        ),
        (
            r#"attributes["http.status_code"] < 300"#,
            keep(&["GET /cart", "SELECT", "charge"]),
        ),
        (
            r#"attributes["ratio"] <= 0.25"#,
            keep(&["GET /health", "SELECT", "charge"]),
        ),
        (
            r#"attributes["ratio"] > 0"#,
            keep(&["GET /health", "SELECT", "charge"]),
        ),
        (
            r#"resource.attributes["service.name"] == "payments""#,
            keep(&["GET /health", "GET /cart", "SELECT"]),
        ),
        (
            r#"instrumentation_scope.name == "db""#,
            keep(&["GET /health", "GET /cart", "charge"]),
        ),
        (r#"IsMatch(name, "^GET ")"#, keep(&["SELECT", "charge"])),
        (
            r#"IsMatch(attributes["http.status_code"], "^5")"#,
            keep(&["GET /health", "SELECT", "charge"]),
        ),
        (r#"attributes["missing"] == nil"#, keep(&[])),
        (
            r#"attributes["db.system"] != nil"#,
            keep(&["GET /health", "GET /cart", "charge"]),
        ),
        (
            r#"kind == SPAN_KIND_SERVER and not (attributes["http.route"] == "/cart")"#,
            keep(&["GET /cart", "SELECT", "charge"]),
        ),
        (
            r#"name == "SELECT" or name == "charge""#,
            keep(&["GET /health", "GET /cart"]),
        ),
        (
            r#"(name == "SELECT" or name == "charge") and resource.attributes["service.name"] == "payments""#,
            keep(&["GET /health", "GET /cart", "SELECT"]),
        ),
        ("not true", keep(&all)),
        ("true", keep(&[])),
        (
            r#"span.name == "charge""#,
            keep(&["GET /health", "GET /cart", "SELECT"]),
        ),
        // OTTL: values of different types are unequal, never an error.
        (r#"attributes["http.status_code"] == "503""#, keep(&all)),
        (r#"attributes["http.status_code"] != "503""#, keep(&[])),
        (r#"name > 5"#, keep(&all)),
        // Strings compare lexicographically.
        (r#"name < "SELECT""#, keep(&["SELECT", "charge"])),
    ];
    for (condition, want) in cases {
        assert_eq!(span_case(condition), want, "{condition}");
    }
}

#[test]
fn any_condition_drops_and_empty_containers_go() {
    let p = filter(
        r#"
error_mode: ignore
traces:
  span:
    - 'resource.attributes["service.name"] == "payments"'
    - 'instrumentation_scope.name == "db"'
"#,
    );
    let mut req = traces();
    assert_eq!(p.process_traces(&mut req), Ok(2));
    assert_eq!(req.resource_spans.len(), 1, "the payments resource is gone");
    assert_eq!(
        req.resource_spans[0].scope_spans.len(),
        1,
        "the db scope is gone"
    );
}

#[test]
fn span_event_conditions() {
    let p = filter(
        r#"
traces:
  spanevent:
    - 'name == "retry" and span.name == "GET /cart"'
    - 'attributes["attempt"] > 5'
"#,
    );
    let mut req = traces();
    assert_eq!(p.process_traces(&mut req), Ok(0));
    let events: Vec<&str> = req
        .spans()
        .flat_map(|s| s.span.events.iter().map(|e| e.name.as_str()))
        .collect();
    assert_eq!(events, ["exception"]);
}

fn logs() -> ExportLogsServiceRequest {
    LogsBuilder::new()
        .resource(resource![SERVICE_NAME => "api"])
        .scope("app", "")
        .log_record(
            LogRecordBuilder::new()
                .severity(SeverityNumber::Debug)
                .severity_text("DEBUG")
                .body("cache miss"),
        )
        .log_record(
            LogRecordBuilder::new()
                .severity(SeverityNumber::Info)
                .severity_text("INFO")
                .body("started")
                .attr("user", "alice"),
        )
        .log_record(
            LogRecordBuilder::new()
                .severity(SeverityNumber::Error)
                .severity_text("ERROR")
                .body("db timeout")
                .attr("code", 504),
        )
        .log_record(LogRecordBuilder::new().body(42))
        .build()
}

fn log_bodies(req: &ExportLogsServiceRequest) -> Vec<String> {
    req.log_records()
        .map(|r| otlp_ottl::value::as_string(r.body()))
        .collect()
}

#[test]
fn log_record_conditions() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("severity_number < SEVERITY_NUMBER_WARN", vec!["db timeout"]),
        (
            "severity_number >= SEVERITY_NUMBER_INFO2",
            vec!["cache miss", "started", "42"],
        ),
        (
            r#"severity_text == "DEBUG""#,
            vec!["started", "db timeout", "42"],
        ),
        (
            r#"body == "started""#,
            vec!["cache miss", "db timeout", "42"],
        ),
        (
            r#"IsMatch(body, "time")"#,
            vec!["cache miss", "started", "42"],
        ),
        ("body == 42", vec!["cache miss", "started", "db timeout"]),
        (
            r#"attributes["user"] == "alice" or attributes["code"] == 504"#,
            vec!["cache miss", "42"],
        ),
        (
            r#"resource.attributes["service.name"] == "api" and severity_number == SEVERITY_NUMBER_UNSPECIFIED"#,
            vec!["cache miss", "started", "db timeout"],
        ),
        (
            r#"log.severity_text == "ERROR""#,
            vec!["cache miss", "started", "42"],
        ),
    ];
    for (condition, want) in cases {
        let p = filter(&format!("logs:\n  log_record:\n    - '{condition}'\n"));
        let mut req = logs();
        let dropped = p.process_logs(&mut req).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(log_bodies(&req), want, "{condition}");
        assert_eq!(dropped, 4 - want.len());
    }
}

fn metrics() -> ExportMetricsServiceRequest {
    MetricsBuilder::new()
        .resource(resource![SERVICE_NAME => "api"])
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
        .metric(
            HistogramBuilder::new("latency").point(
                HistogramPointBuilder::new(vec![1.0], vec![3, 1])
                    .count(4)
                    .sum(2.0),
            ),
        )
        .build()
}

fn point_summary(req: &ExportMetricsServiceRequest) -> Vec<(String, usize)> {
    req.metrics()
        .map(|m| (m.name().to_owned(), m.data_point_count()))
        .collect()
}

#[test]
fn metric_and_datapoint_conditions() {
    let p = filter(
        r#"
metrics:
  metric:
    - 'type == METRIC_DATA_TYPE_HISTOGRAM'
  datapoint:
    - 'attributes["route"] == "/health"'
"#,
    );
    let mut req = metrics();
    assert_eq!(
        p.process_metrics(&mut req),
        Ok(3),
        "1 histogram point + 2 /health points"
    );
    assert_eq!(
        point_summary(&req),
        [("http.requests".to_owned(), 1)],
        "queue.depth lost all its points"
    );

    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, usize)>);
    let cases: Vec<Case<'_>> = vec![
        (
            "metric",
            r#"name == "queue.depth""#,
            vec![("http.requests", 2), ("latency", 1)],
        ),
        (
            "metric",
            "is_monotonic == true",
            vec![("queue.depth", 1), ("latency", 1)],
        ),
        (
            "metric",
            "aggregation_temporality == AGGREGATION_TEMPORALITY_CUMULATIVE",
            vec![("queue.depth", 1)],
        ),
        (
            "metric",
            r#"HasAttrOnDatapoint("route", "/cart")"#,
            vec![("queue.depth", 1), ("latency", 1)],
        ),
        (
            "metric",
            r#"HasAttrKeyOnDatapoint("route")"#,
            vec![("latency", 1)],
        ),
        (
            "datapoint",
            "value_int > 6",
            vec![("http.requests", 1), ("queue.depth", 1), ("latency", 1)],
        ),
        (
            "datapoint",
            "value_double == 0.5",
            vec![("http.requests", 2), ("latency", 1)],
        ),
        (
            "datapoint",
            r#"metric.name == "latency" and count == 4"#,
            vec![("http.requests", 2), ("queue.depth", 1)],
        ),
        (
            "datapoint",
            "metric.type == METRIC_DATA_TYPE_SUM",
            vec![("queue.depth", 1), ("latency", 1)],
        ),
    ];
    for (kind, condition, want) in cases {
        let p = filter(&format!("metrics:\n  {kind}:\n    - '{condition}'\n"));
        let mut req = metrics();
        p.process_metrics(&mut req)
            .unwrap_or_else(|e| panic!("{e}"));
        let want: Vec<(String, usize)> = want.into_iter().map(|(n, c)| (n.to_owned(), c)).collect();
        assert_eq!(point_summary(&req), want, "{kind}: {condition}");
    }
}

#[test]
fn parse_errors_name_condition_and_position() {
    let cases = [
        (r#"name == "x" and"#, 15),
        (r#"name == "unterminated"#, 8),
        (r#"attributes["a"]"#, 0),
        (r#"nme == "x""#, 0),
        (r#"kind == SPAN_KIND_SERVERR"#, 8),
        (r#"severity_number == SEVERITY_NUMBER_INFO"#, 0),
        (r#"Frobnicate(name) == true"#, 0),
        (r#"IsMatch(name, "(")"#, 14),
        (r#"IsMatch(name, attributes["p"])"#, 14),
        (r#"name = "x""#, 5),
        (r#"(name == "x""#, 12),
        (r#"name == "x" extra"#, 12),
        ("name == 1 + 2", 10),
        ("", 0),
    ];
    for (condition, position) in cases {
        let yaml = format!(
            "traces:\n  span:\n    - 'true'\n    - '{}'\n",
            condition.replace('\'', "''")
        );
        match FilterConfig::from_yaml(&yaml).and_then(|c| c.build()) {
            Err(ConfigError::Condition {
                field,
                condition: c,
                position: p,
                message,
                ..
            }) => {
                assert_eq!(field, "traces.span[1]");
                assert_eq!(c, condition);
                assert_eq!(p, position, "{condition}: {message}");
            }
            other => panic!("{condition}: {other:?}"),
        }
    }
    // Enums and paths are checked per context.
    assert!(
        FilterConfig::from_yaml("logs: {log_record: ['severity_number == SEVERITY_NUMBER_INFO']}")
            .and_then(|c| c.build())
            .is_ok()
    );
    assert!(
        FilterConfig::from_yaml("logs: {log_record: ['kind == SPAN_KIND_SERVER']}")
            .and_then(|c| c.build())
            .is_err()
    );
    assert!(
        FilterConfig::from_yaml("metrics: {datapoint: ['HasAttrKeyOnDatapoint(\"a\")']}")
            .and_then(|c| c.build())
            .is_err()
    );
}

#[test]
fn error_mode_controls_evaluation_errors() {
    // `Len` of an int is an evaluation error in OTTL.
    let cond = r#"Len(attributes["http.status_code"]) > 1"#;
    let propagate = filter(&format!(
        "traces:\n  span: ['{cond}', 'name == \"charge\"']\n"
    ));
    let mut req = traces();
    let err = propagate.process_traces(&mut req).err();
    assert_eq!(err.map(|e| e.condition), Some(cond.to_owned()));
    assert_eq!(
        req.span_count(),
        4,
        "items whose evaluation failed are kept"
    );

    let ignore = filter(&format!(
        "error_mode: ignore\ntraces:\n  span: ['{cond}', 'name == \"charge\"']\n"
    ));
    let mut req = traces();
    assert_eq!(
        ignore.process_traces(&mut req),
        Ok(1),
        "the failing condition is false, the next still runs"
    );
    let silent = filter(&format!(
        "error_mode: silent\ntraces:\n  span: ['{cond}']\n"
    ));
    assert_eq!(silent.process_traces(&mut traces()), Ok(0));
    assert!(FilterConfig::from_yaml("error_mode: loud").is_err());
}

#[test]
fn legacy_spans_include_exclude() {
    let p = filter(
        r#"
spans:
  include:
    match_type: strict
    services: [checkout]
  exclude:
    match_type: regexp
    span_names: ["^GET /h"]
    attributes:
      - key: http.status_code
        value: "^2"
"#,
    );
    let mut req = traces();
    assert_eq!(p.process_traces(&mut req), Ok(2));
    assert_eq!(span_names(&req), ["GET /cart", "SELECT"]);
    assert!(
        FilterConfig::from_yaml("spans: {include: {match_type: strict, log_bodies: [x]}}")
            .and_then(|c| c.build())
            .is_err()
    );
    assert!(
        FilterConfig::from_yaml(
            "traces: {span: ['true']}\nspans: {include: {match_type: strict, services: [x]}}"
        )
        .and_then(|c| c.build())
        .is_err()
    );
}

#[test]
fn legacy_logs_include_exclude() {
    let p = filter(
        r#"
logs:
  include:
    match_type: strict
    severity_number:
      min: INFO
      match_undefined: true
  exclude:
    match_type: regexp
    bodies: ["^start"]
    resource_attributes:
      - key: service.name
        value: "^api$"
"#,
    );
    let mut req = logs();
    assert_eq!(p.process_logs(&mut req), Ok(2));
    assert_eq!(log_bodies(&req), ["db timeout", "42"]);

    let attrs = filter(
        "logs:\n  exclude:\n    match_type: strict\n    record_attributes: [{key: code, value: 504}]\n    severity_texts: [ERROR]\n",
    );
    let mut req = logs();
    assert_eq!(attrs.process_logs(&mut req), Ok(1));
    assert!(
        FilterConfig::from_yaml(
            "logs: {include: {match_type: strict, severity_number: {min: LOUD}}}"
        )
        .and_then(|c| c.build())
        .is_err()
    );
}

#[test]
fn legacy_metrics_include_exclude() {
    let p = filter(
        "metrics:\n  exclude:\n    match_type: regexp\n    metric_names: ['^http\\.', '^queue']\n",
    );
    let mut req = metrics();
    assert_eq!(p.process_metrics(&mut req), Ok(3));
    assert_eq!(point_summary(&req), [("latency".to_owned(), 1)]);

    let p = filter(
        "metrics:\n  include:\n    match_type: strict\n    metric_names: [latency, queue.depth]\n",
    );
    let mut req = metrics();
    p.process_metrics(&mut req)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        point_summary(&req),
        [("queue.depth".to_owned(), 1), ("latency".to_owned(), 1)]
    );

    let p = filter(
        "metrics:\n  include:\n    match_type: strict\n    metric_names: [latency]\n    resource_attributes: [{key: service.name, value: other}]\n",
    );
    let mut req = metrics();
    assert_eq!(p.process_metrics(&mut req), Ok(4));
    assert!(req.resource_metrics.is_empty());
    assert!(
        FilterConfig::from_yaml("metrics: {include: {match_type: expr, expressions: ['x']}}")
            .and_then(|c| c.build())
            .is_err()
    );
}
