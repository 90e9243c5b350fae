use otlp_model::prelude::*;
use otlp_model::semconv::resource::SERVICE_NAME;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

use super::*;
use crate::common::ConfigError;

const YAML: &str = r#"
attributes:
  - key: deployment.environment
    value: production
    action: upsert
  - key: region
    value: eu
    action: insert
  - key: host.ip
    action: delete
  - key: service.name
    from_attribute: k8s.deployment.name
    action: update
  - key: user.id
    action: hash
"#;

#[test]
fn edits_resource_attributes_of_every_signal() {
    let p = ResourceConfig::from_yaml(YAML)
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut traces: ExportTraceServiceRequest = TracesBuilder::new()
        .resource(resource![
            SERVICE_NAME => "old",
            "host.ip" => "10.0.0.1",
            "region" => "us",
            "k8s.deployment.name" => "checkout",
            "user.id" => "foo"
        ])
        .span(SpanBuilder::new("s").attr("host.ip", "span-level stays"))
        .build();
    p.process_traces(&mut traces);
    let attrs = &traces.resource_spans[0]
        .resource
        .as_ref()
        .map(|r| r.attributes.clone())
        .unwrap_or_default();
    assert_eq!(attrs.get_str("deployment.environment"), Some("production"));
    assert_eq!(
        attrs.get_str("region"),
        Some("us"),
        "insert keeps the existing value"
    );
    assert!(!attrs.contains_key("host.ip"));
    assert_eq!(attrs.get_str(SERVICE_NAME), Some("checkout"));
    assert_eq!(
        attrs.get_str("user.id"),
        Some("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
    );
    assert_eq!(
        traces
            .spans()
            .next()
            .map(|s| s.attributes().get_str("host.ip")),
        Some(Some("span-level stays"))
    );

    let mut metrics = MetricsBuilder::new()
        .metric(GaugeBuilder::new("g").point(NumberPointBuilder::int(1)))
        .build();
    p.process_metrics(&mut metrics);
    let r = metrics.resource_metrics[0]
        .resource
        .as_ref()
        .map(|r| r.attributes.clone())
        .unwrap_or_default();
    assert_eq!(
        r.get_str("deployment.environment"),
        Some("production"),
        "a missing resource is created"
    );
    assert_eq!(r.get_str("region"), Some("eu"));

    let mut logs = LogsBuilder::new()
        .resource(resource![SERVICE_NAME => "svc"])
        .log_record(LogRecordBuilder::new().body("x"))
        .build();
    p.process_logs(&mut logs);
    let r = logs.resource_logs[0]
        .resource
        .as_ref()
        .map(|r| r.attributes.clone())
        .unwrap_or_default();
    assert_eq!(r.get_str("deployment.environment"), Some("production"));
}

#[test]
fn a_missing_resource_stays_missing_when_nothing_is_added() {
    let p = ResourceConfig::from_yaml("attributes: [{key: a, action: delete}]")
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut logs = LogsBuilder::new()
        .log_record(LogRecordBuilder::new())
        .build();
    p.process_logs(&mut logs);
    assert!(logs.resource_logs[0].resource.is_none());
}

#[test]
fn config_errors() {
    assert!(matches!(
        ResourceConfig::from_yaml("attributes: []").and_then(|c| c.build()),
        Err(ConfigError::MissingField { .. })
    ));
    assert!(matches!(
        ResourceConfig::from_yaml("").and_then(|c| c.build()),
        Err(ConfigError::MissingField { .. })
    ));
    match ResourceConfig::from_yaml("attributes: [{key: a, action: upsert}]")
        .and_then(|c| c.build())
    {
        Err(ConfigError::MissingField { field, .. }) => assert_eq!(field, "attributes[0].value"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ResourceConfig::from_yaml("actions: []"),
        Err(ConfigError::Parse { .. })
    ));
}
