use otlp_model::prelude::*;
use otlp_model::semconv::resource::SERVICE_NAME;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::metrics::v1::metric::Data;

use super::*;
use crate::common::{ConfigError, Signal};

fn build(yaml: &str) -> AttributesProcessor {
    AttributesConfig::from_yaml(yaml)
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn build_err(yaml: &str) -> ConfigError {
    match AttributesConfig::from_yaml(yaml).and_then(|c| c.build()) {
        Ok(_) => panic!("expected an error for {yaml}"),
        Err(e) => e,
    }
}

fn span_request(service: &str, spans: Vec<SpanBuilder>) -> ExportTraceServiceRequest {
    TracesBuilder::new()
        .resource(resource![SERVICE_NAME => service, "host.name" => "web-1"])
        .scope("lib.a", "1.0")
        .spans(spans)
        .build()
}

fn first_attrs(req: &ExportTraceServiceRequest) -> &[KeyValue] {
    &req.resource_spans[0].scope_spans[0].spans[0].attributes
}

#[test]
fn insert_update_upsert_follow_otelcol() {
    let p = build(
        r#"
actions:
  - key: new
    value: 1
    action: insert
  - key: existing
    value: replaced
    action: insert
  - key: absent
    value: x
    action: update
  - key: existing2
    value: 2.5
    action: update
  - key: up1
    value: true
    action: upsert
  - key: existing3
    from_attribute: existing
    action: upsert
  - key: copy_missing
    from_attribute: nope
    action: insert
"#,
    );
    let mut req = span_request(
        "svc",
        vec![
            SpanBuilder::new("s")
                .attr("existing", "orig")
                .attr("existing2", "x")
                .attr("existing3", 0),
        ],
    );
    p.process_traces(&mut req);
    let attrs = first_attrs(&req);
    assert_eq!(attrs.get_i64("new"), Some(1));
    assert_eq!(
        attrs.get_str("existing"),
        Some("orig"),
        "insert never overwrites"
    );
    assert!(!attrs.contains_key("absent"), "update never creates");
    assert_eq!(attrs.get_f64("existing2"), Some(2.5));
    assert_eq!(attrs.get_bool("up1"), Some(true));
    assert_eq!(attrs.get_str("existing3"), Some("orig"));
    assert!(!attrs.contains_key("copy_missing"));
}

#[test]
fn delete_by_key_and_pattern() {
    let p = build(
        r#"
actions:
  - key: password
    action: delete
  - pattern: ^secret\.
    action: DELETE
"#,
    );
    let mut req = span_request(
        "svc",
        vec![
            SpanBuilder::new("s")
                .attr("password", "x")
                .attr("secret.a", 1)
                .attr("secret.b", 2)
                .attr("not.secret.c", 3),
        ],
    );
    p.process_traces(&mut req);
    let keys: Vec<&str> = first_attrs(&req).iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["not.secret.c"]);
}

#[test]
fn hash_is_sha256_hex_of_the_value_bytes() {
    let p = build(
        r#"
actions:
  - key: email
    action: hash
  - pattern: ^h\.
    action: hash
"#,
    );
    let mut req = span_request(
        "svc",
        vec![
            SpanBuilder::new("s")
                .attr("email", "foo")
                .attr("h.int", 123)
                .attr("h.bool", true)
                .attr("h.double", 1.5)
                .attr("h.empty", "")
                .attr("h.list", vec![1, 2]),
        ],
    );
    p.process_traces(&mut req);
    let a = first_attrs(&req);
    // Reference digests: Python hashlib.sha256 over the same bytes otelcol hashes (UTF-8 string,
    // int64 and float64 little-endian, one byte for a bool).
    assert_eq!(
        a.get_str("email"),
        Some("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
    );
    assert_eq!(
        a.get_str("h.int"),
        Some("4f319987a786107dc63b2b70115b3734cb9880b099b70c463c5e1b05521ab764")
    );
    assert_eq!(
        a.get_str("h.bool"),
        Some("4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a")
    );
    assert_eq!(
        a.get_str("h.double"),
        Some("e163f8cb0f7067a7fc78ca859a77f849aea3214f38fb75b884e4a16be725c905")
    );
    assert_eq!(
        a.get_str("h.empty"),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(
        a.get_str("h.list"),
        Some(""),
        "non-scalar values become empty"
    );
}

#[test]
fn extract_writes_named_groups() {
    // The otelcol README example.
    let p = build(
        r#"
actions:
  - key: http.url
    pattern: ^(?P<http_protocol>.*):\/\/(?P<http_domain>.*)\/(?P<http_path>.*)(?P<never>x)?$
    action: extract
"#,
    );
    let mut req = span_request(
        "svc",
        vec![
            SpanBuilder::new("s")
                .attr("http.url", "https://example.com/cart")
                .attr("http_domain", "old"),
        ],
    );
    p.process_traces(&mut req);
    let a = first_attrs(&req);
    assert_eq!(a.get_str("http_protocol"), Some("https"));
    assert_eq!(
        a.get_str("http_domain"),
        Some("example.com"),
        "extract overwrites"
    );
    assert_eq!(a.get_str("http_path"), Some("cart"));
    assert_eq!(
        a.get_str("never"),
        Some(""),
        "a group that did not take part is set empty"
    );
    assert_eq!(a.get_str("http.url"), Some("https://example.com/cart"));

    // Non-string source values and non-matching text are left alone.
    let mut req = span_request("svc", vec![SpanBuilder::new("s").attr("http.url", 42)]);
    p.process_traces(&mut req);
    assert_eq!(first_attrs(&req).len(), 1);
}

#[test]
fn extract_needs_named_groups() {
    let e = build_err("actions: [{key: k, action: extract, pattern: '^(a)(?P<b>b)$'}]");
    match e {
        ConfigError::InvalidField { field, value, .. } => {
            assert_eq!(field, "actions[0].pattern");
            assert_eq!(value, "^(a)(?P<b>b)$");
        }
        other => panic!("{other}"),
    }
    assert!(matches!(
        build_err("actions: [{key: k, action: extract, pattern: '^ab$'}]"),
        ConfigError::InvalidField { .. }
    ));
    assert!(matches!(
        build_err("actions: [{key: k, action: extract, pattern: '(?P<x>'}]"),
        ConfigError::InvalidField { .. }
    ));
}

#[test]
fn convert_between_types() {
    let p = build(
        r#"
actions:
  - {key: s2i, action: convert, converted_type: int}
  - {key: bad2i, action: convert, converted_type: int}
  - {key: d2i, action: convert, converted_type: int}
  - {key: b2i, action: convert, converted_type: int}
  - {key: i2d, action: convert, converted_type: double}
  - {key: s2d, action: convert, converted_type: double}
  - {key: i2s, action: convert, converted_type: string}
  - {key: d2s, action: convert, converted_type: string}
  - {key: b2s, action: convert, converted_type: string}
"#,
    );
    let mut req = span_request(
        "svc",
        vec![
            SpanBuilder::new("s")
                .attr("s2i", "123")
                .attr("bad2i", "12a")
                .attr("d2i", -2.7)
                .attr("b2i", true)
                .attr("i2d", 3)
                .attr("s2d", "2.5e3")
                .attr("i2s", 42)
                .attr("d2s", 0.5)
                .attr("b2s", false),
        ],
    );
    p.process_traces(&mut req);
    let a = first_attrs(&req);
    assert_eq!(a.get_i64("s2i"), Some(123));
    assert_eq!(
        a.get_str("bad2i"),
        Some("12a"),
        "unconvertible values stay as they are"
    );
    assert_eq!(a.get_i64("d2i"), Some(-2), "doubles truncate toward zero");
    assert_eq!(a.get_i64("b2i"), Some(1));
    assert_eq!(a.get_f64("i2d"), Some(3.0));
    assert_eq!(a.get_f64("s2d"), Some(2500.0));
    assert_eq!(a.get_str("i2s"), Some("42"));
    assert_eq!(a.get_str("d2s"), Some("0.5"));
    assert_eq!(a.get_str("b2s"), Some("false"));
}

#[test]
fn config_errors_name_field_and_value() {
    match build_err("actions: [{key: k, action: frobnicate, value: 1}]") {
        ConfigError::InvalidField { field, value, .. } => {
            assert_eq!(field, "actions[0].action");
            assert_eq!(value, "frobnicate");
        }
        other => panic!("{other}"),
    }
    match build_err("actions: [{key: k, action: convert, converted_type: float}]") {
        ConfigError::InvalidField { field, value, .. } => {
            assert_eq!(field, "actions[0].converted_type");
            assert_eq!(value, "float");
        }
        other => panic!("{other}"),
    }
    assert!(matches!(
        build_err("actions: []"),
        ConfigError::MissingField { .. }
    ));
    assert!(matches!(
        build_err("actions: [{key: k, action: insert}]"),
        ConfigError::MissingField { .. }
    ));
    assert!(matches!(
        build_err("actions: [{key: k, action: insert, value: 1, from_attribute: b}]"),
        ConfigError::InvalidField { .. }
    ));
    assert!(matches!(
        build_err("actions: [{action: delete}]"),
        ConfigError::MissingField { .. }
    ));
    assert!(matches!(
        build_err("actions: [{key: k, action: upsert, from_context: metadata.x}]"),
        ConfigError::InvalidField { .. }
    ));
    assert!(matches!(
        build_err("actions: [{key: k, action: delete}]\nbogus: 1"),
        ConfigError::Parse { .. }
    ));
    assert!(matches!(
        build_err("actions: [{key: k, action: delete}]\ninclude: {services: [a]}"),
        ConfigError::MissingField { .. }
    ));
    match build_err(
        "actions: [{key: k, action: delete}]\ninclude: {match_type: regexp, span_names: ['(']}",
    ) {
        ConfigError::InvalidField { field, value, .. } => {
            assert_eq!(field, "include.span_names[0]");
            assert_eq!(value, "(");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn include_strict_services_and_exclude_regexp_span_names() {
    let p = build(
        r#"
include:
  match_type: strict
  services: ["checkout", "cart"]
exclude:
  match_type: regexp
  span_names: ["^health"]
actions:
  - {key: touched, value: yes, action: insert}
"#,
    );
    let mut req = TracesBuilder::new()
        .resource(resource![SERVICE_NAME => "checkout"])
        .span(SpanBuilder::new("GET /cart"))
        .span(SpanBuilder::new("healthcheck"))
        .resource(resource![SERVICE_NAME => "payments"])
        .span(SpanBuilder::new("GET /pay"))
        .build();
    p.process_traces(&mut req);
    let touched: Vec<(&str, bool)> = req
        .spans()
        .map(|s| (s.name(), s.attributes().contains_key("touched")))
        .collect();
    assert_eq!(
        touched,
        [
            ("GET /cart", true),
            ("healthcheck", false),
            ("GET /pay", false)
        ]
    );
    assert!(p.validate_for(Signal::Traces).is_ok());
    assert!(
        matches!(
            p.validate_for(Signal::Logs),
            Err(ConfigError::Signal { .. })
        ),
        "services are refused for logs"
    );
}

#[test]
fn include_attributes_and_resources_values() {
    let p = build(
        r#"
include:
  match_type: strict
  attributes:
    - {key: http.status_code, value: 500}
    - {key: retry}
  resources:
    - {key: host.name, value: web-1}
actions:
  - {key: flagged, value: true, action: upsert}
"#,
    );
    let mut req = span_request(
        "svc",
        vec![
            SpanBuilder::new("match")
                .attr("http.status_code", 500)
                .attr("retry", false),
            SpanBuilder::new("wrong-type")
                .attr("http.status_code", "500")
                .attr("retry", 1),
            SpanBuilder::new("missing-key").attr("http.status_code", 500),
        ],
    );
    p.process_traces(&mut req);
    let flagged: Vec<bool> = req
        .spans()
        .map(|s| s.attributes().contains_key("flagged"))
        .collect();
    assert_eq!(flagged, [true, false, false]);

    let regexp = build(
        r#"
include:
  match_type: regexp
  attributes: [{key: http.status_code, value: "^5"}]
  resources: [{key: host.name, value: "^web-"}]
actions: [{key: flagged, value: 1, action: insert}]
"#,
    );
    let mut req = span_request(
        "svc",
        vec![
            SpanBuilder::new("int-matches-as-text").attr("http.status_code", 503),
            SpanBuilder::new("no").attr("http.status_code", 404),
        ],
    );
    regexp.process_traces(&mut req);
    let flagged: Vec<bool> = req
        .spans()
        .map(|s| s.attributes().contains_key("flagged"))
        .collect();
    assert_eq!(flagged, [true, false]);
}

#[test]
fn logs_match_severity_texts_and_bodies() {
    let p = build(
        r#"
include:
  match_type: regexp
  log_severity_texts: ["^ERR"]
  log_bodies: ["timeout"]
actions:
  - {key: alert, value: true, action: insert}
"#,
    );
    assert!(p.validate_for(Signal::Logs).is_ok());
    assert!(matches!(
        p.validate_for(Signal::Traces),
        Err(ConfigError::Signal { .. })
    ));
    let mut req: ExportLogsServiceRequest = LogsBuilder::new()
        .resource(resource![SERVICE_NAME => "svc"])
        .log_record(
            LogRecordBuilder::new()
                .severity_text("ERROR")
                .body("db timeout"),
        )
        .log_record(LogRecordBuilder::new().severity_text("ERROR").body("ok"))
        .log_record(
            LogRecordBuilder::new()
                .severity_text("INFO")
                .body("timeout"),
        )
        .build();
    p.process_logs(&mut req);
    let alert: Vec<bool> = req
        .log_records()
        .map(|l| l.attributes().contains_key("alert"))
        .collect();
    assert_eq!(alert, [true, false, false]);

    let sev = build(
        r#"
include:
  match_type: strict
  log_severity_number: {min: WARN, match_undefined: true}
actions: [{key: alert, value: true, action: insert}]
"#,
    );
    let mut req: ExportLogsServiceRequest = LogsBuilder::new()
        .log_record(LogRecordBuilder::new().severity(SeverityNumber::Info))
        .log_record(LogRecordBuilder::new().severity(SeverityNumber::Error))
        .log_record(LogRecordBuilder::new())
        .build();
    sev.process_logs(&mut req);
    let alert: Vec<bool> = req
        .log_records()
        .map(|l| l.attributes().contains_key("alert"))
        .collect();
    assert_eq!(alert, [false, true, true]);
}

#[test]
fn metrics_data_points_with_metric_names() {
    let p = build(
        r#"
exclude:
  match_type: regexp
  metric_names: ["^internal\\."]
actions:
  - {key: env, value: prod, action: upsert}
"#,
    );
    let mut req = MetricsBuilder::new()
        .metric(
            SumBuilder::new("http.requests")
                .point(NumberPointBuilder::int(1))
                .point(NumberPointBuilder::int(2)),
        )
        .metric(
            HistogramBuilder::new("http.duration")
                .point(HistogramPointBuilder::new(vec![1.0], vec![1, 0])),
        )
        .metric(GaugeBuilder::new("internal.queue").point(NumberPointBuilder::int(3)))
        .build();
    p.process_metrics(&mut req);
    let envs: Vec<(String, bool)> = req
        .data_points()
        .map(|p| {
            (
                p.metric_name().to_owned(),
                p.point.attributes().contains_key("env"),
            )
        })
        .collect();
    assert_eq!(
        envs,
        [
            ("http.requests".to_owned(), true),
            ("http.requests".to_owned(), true),
            ("http.duration".to_owned(), true),
            ("internal.queue".to_owned(), false),
        ]
    );
    let metric = &req.resource_metrics[0].scope_metrics[0].metrics[0];
    assert!(matches!(metric.data, Some(Data::Sum(_))));
}
