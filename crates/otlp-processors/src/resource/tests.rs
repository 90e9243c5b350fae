use otlp_model::prelude::*;
use otlp_model::semconv::resource::SERVICE_NAME;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::profiles::v1development::{Profile, ResourceProfiles, ScopeProfiles};

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

fn profiles_request() -> ExportProfilesServiceRequest {
    let profiles = |resource| ResourceProfiles {
        resource,
        scope_profiles: vec![ScopeProfiles {
            profiles: vec![Profile::default()],
            ..ScopeProfiles::default()
        }],
        ..ResourceProfiles::default()
    };
    ExportProfilesServiceRequest {
        resource_profiles: vec![
            profiles(Some(resource![
                SERVICE_NAME => "checkout",
                "host.ip" => "10.0.0.1",
                "region" => "us"
            ])),
            profiles(None),
        ],
        dictionary: None,
    }
}

#[test]
fn edits_the_resources_of_a_profiles_request() {
    let p = ResourceConfig::from_yaml(
        "attributes:\n  - {key: deployment.environment, value: production, action: upsert}\n  - {key: region, value: eu, action: insert}\n  - {key: zone, value: a, action: insert}\n  - {key: host.ip, action: delete}",
    )
    .and_then(|c| c.build())
    .unwrap_or_else(|e| panic!("{e}"));
    let mut req = profiles_request();
    p.process_profiles(&mut req);
    let attrs = |i: usize| {
        req.resource_profiles[i]
            .resource
            .as_ref()
            .map(|r| r.attributes.clone())
            .unwrap_or_default()
    };
    let first = attrs(0);
    assert_eq!(first.get_str("deployment.environment"), Some("production"));
    assert_eq!(
        first.get_str("region"),
        Some("us"),
        "insert keeps the existing value"
    );
    assert_eq!(first.get_str("zone"), Some("a"));
    assert!(!first.contains_key("host.ip"));
    assert_eq!(first.get_str(SERVICE_NAME), Some("checkout"));
    let second = attrs(1);
    assert_eq!(
        second.get_str("deployment.environment"),
        Some("production"),
        "a missing resource is created"
    );
    assert_eq!(second.get_str("region"), Some("eu"));
    assert_eq!(req.resource_profiles[0].scope_profiles[0].profiles.len(), 1);
}

#[tokio::test]
async fn the_factory_takes_a_profiles_pipeline() {
    use otlp_pipeline::factory::ProcessorFactory;
    use otlp_pipeline::testing::Probe;
    use otlp_pipeline::{Signal as PipelineSignal, Telemetry};

    use crate::data_processor::test_support::{build, yaml};

    let config = "attributes:\n  - {key: k8s.cluster.name, value: demo, action: upsert}";
    let factory = resource_factory();
    assert!(
        factory
            .supported_signals()
            .contains(PipelineSignal::Profiles)
    );
    factory
        .validate_for_signal(&yaml(config), PipelineSignal::Profiles)
        .unwrap_or_else(|e| panic!("{e}"));
    let probe = Probe::new();
    let resources = otlp_pipeline::Resources::collector();
    let processor = build(&factory, config, "profiles", probe.clone(), &resources);
    processor
        .consume(Telemetry::new(profiles_request()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let received = probe.received.lock().unwrap_or_else(|e| panic!("{e}"))[0].clone();
    let request = received.profiles().cloned().unwrap_or_default();
    for rp in &request.resource_profiles {
        let attrs = rp.resource.as_ref().map(|r| r.attributes.clone());
        assert_eq!(
            attrs.unwrap_or_default().get_str("k8s.cluster.name"),
            Some("demo")
        );
    }
    assert_eq!(request.resource_profiles.len(), 2);
}
