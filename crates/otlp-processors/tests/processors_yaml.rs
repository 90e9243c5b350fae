//! The four processors configured from one otelcol-contrib style `processors:` section, exactly
//! as users write it, and applied in a pipeline order to requests built with otlp-model.

use otlp_model::prelude::*;
use otlp_model::semconv::resource::SERVICE_NAME;
use otlp_processors::attributes::AttributesConfig;
use otlp_processors::filter::FilterConfig;
use otlp_processors::probabilistic_sampler::ProbabilisticSamplerConfig;
use otlp_processors::resource::ResourceConfig;
use otlp_processors::{ConfigError, Signal};

const COLLECTOR_YAML: &str = r#"
processors:
  resource:
    attributes:
      - key: deployment.environment
        value: production
        action: upsert
      - key: host.ip
        action: delete
  attributes/redact:
    include:
      match_type: regexp
      services: ["^check"]
    actions:
      - key: user.email
        action: hash
      - key: db.statement
        action: delete
      - key: http.url
        pattern: ^(?P<http_protocol>.*):\/\/(?P<http_domain>[^/]*)(?P<http_path>.*)$
        action: extract
      - key: http.status_code
        action: convert
        converted_type: int
  filter/noise:
    error_mode: ignore
    traces:
      span:
        - 'attributes["http.route"] == "/health"'
        - 'kind == SPAN_KIND_INTERNAL and IsMatch(name, "^cache\\.")'
      spanevent:
        - 'name == "debug"'
    logs:
      log_record:
        - 'severity_number < SEVERITY_NUMBER_INFO'
  probabilistic_sampler:
    sampling_percentage: 100
    hash_seed: 22
"#;

fn section(name: &str) -> String {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(COLLECTOR_YAML).unwrap_or_default();
    let sub = &doc["processors"][name];
    serde_yaml_ng::to_string(sub).unwrap_or_default()
}

#[test]
fn processors_a_traces_pipeline_from_collector_yaml() -> Result<(), ConfigError> {
    let resource = ResourceConfig::from_yaml(&section("resource"))?.build()?;
    let attributes = AttributesConfig::from_yaml(&section("attributes/redact"))?.build()?;
    attributes.validate_for(Signal::Traces)?;
    let filter = FilterConfig::from_yaml(&section("filter/noise"))?.build()?;
    let sampler =
        ProbabilisticSamplerConfig::from_yaml(&section("probabilistic_sampler"))?.build()?;

    let mut req = TracesBuilder::new()
        .resource(resource![SERVICE_NAME => "checkout", "host.ip" => "10.1.2.3"])
        .scope("http", "1.0")
        .span(
            SpanBuilder::new("GET /health")
                .kind(SpanKind::Server)
                .attr("http.route", "/health"),
        )
        .span(
            SpanBuilder::new("GET /cart")
                .kind(SpanKind::Server)
                .attr("user.email", "a@example.com")
                .attr("db.statement", "SELECT 1")
                .attr("http.url", "https://shop.example.com/cart?id=1")
                .attr("http.status_code", "200")
                .event(EventBuilder::new("debug"))
                .event(EventBuilder::new("retry")),
        )
        .span(SpanBuilder::new("cache.get").kind(SpanKind::Internal))
        .resource(resource![SERVICE_NAME => "payments"])
        .span(SpanBuilder::new("charge").attr("user.email", "b@example.com"))
        .build();

    resource.process_traces(&mut req);
    attributes.process_traces(&mut req);
    let filtered = filter
        .process_traces(&mut req)
        .map_err(|e| ConfigError::Parse {
            processor: "filter",
            message: e.to_string(),
        })?;
    let sampled_out = sampler.process_traces(&mut req);

    assert_eq!(filtered, 2);
    assert_eq!(sampled_out, 0);
    let names: Vec<&str> = req.spans().map(|s| s.name()).collect();
    assert_eq!(names, ["GET /cart", "charge"]);

    let cart = req
        .spans()
        .next()
        .map(|s| s.span.clone())
        .unwrap_or_default();
    assert_eq!(
        cart.attributes.get_str("user.email").map(str::len),
        Some(64),
        "hashed to hex SHA-256"
    );
    assert!(!cart.attributes.contains_key("db.statement"));
    assert_eq!(cart.attributes.get_str("http_protocol"), Some("https"));
    assert_eq!(
        cart.attributes.get_str("http_domain"),
        Some("shop.example.com")
    );
    assert_eq!(cart.attributes.get_str("http_path"), Some("/cart?id=1"));
    assert_eq!(cart.attributes.get_i64("http.status_code"), Some(200));
    assert_eq!(cart.events.len(), 1);
    assert!(
        cart.trace_state.starts_with("ot=rv:"),
        "hash_seed writes rv/th: {}",
        cart.trace_state
    );
    assert!(cart.trace_state.ends_with(";th:0"));

    let charge = req
        .spans()
        .nth(1)
        .map(|s| s.span.clone())
        .unwrap_or_default();
    assert_eq!(
        charge.attributes.get_str("user.email"),
        Some("b@example.com"),
        "include.services keeps payments untouched"
    );
    for rs in &req.resource_spans {
        let attrs = &rs
            .resource
            .as_ref()
            .map(|r| r.attributes.clone())
            .unwrap_or_default();
        assert_eq!(attrs.get_str("deployment.environment"), Some("production"));
        assert!(!attrs.contains_key("host.ip"));
    }
    Ok(())
}

#[test]
fn processors_a_logs_pipeline_from_collector_yaml() -> Result<(), ConfigError> {
    let filter = FilterConfig::from_yaml(&section("filter/noise"))?.build()?;
    let resource = ResourceConfig::from_yaml(&section("resource"))?.build()?;
    let mut req = LogsBuilder::new()
        .resource(resource![SERVICE_NAME => "api"])
        .log_record(
            LogRecordBuilder::new()
                .severity(SeverityNumber::Debug)
                .body("noise"),
        )
        .log_record(
            LogRecordBuilder::new()
                .severity(SeverityNumber::Warn)
                .body("keep"),
        )
        .build();
    resource.process_logs(&mut req);
    assert_eq!(filter.process_logs(&mut req), Ok(1));
    assert_eq!(req.log_record_count(), 1);
    Ok(())
}

#[test]
fn processors_signal_specific_rules_are_reported() -> Result<(), ConfigError> {
    let attributes = AttributesConfig::from_yaml(&section("attributes/redact"))?.build()?;
    assert!(matches!(
        attributes.validate_for(Signal::Logs),
        Err(ConfigError::Signal {
            signal: Signal::Logs,
            ..
        })
    ));
    Ok(())
}

#[test]
fn processors_errors_render_for_humans() {
    let err = FilterConfig::from_yaml("traces:\n  span:\n    - 'name == '\n")
        .and_then(|c| c.build())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        err,
        "filter: `traces.span[0]`: condition \"name == \": unexpected end of text, expected a value (string, number, true, false, nil, enum, list, path or function) at position 8"
    );
    let err =
        AttributesConfig::from_yaml("actions: [{key: k, action: convert, converted_type: float}]")
            .and_then(|c| c.build())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
    assert_eq!(
        err,
        "attributes: `actions[0].converted_type`: invalid value \"float\": expected int, double or string"
    );
}
