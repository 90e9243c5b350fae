//! Connectors in the configuration and the graph, as otelcol has them: an exporter of one
//! pipeline and a receiver of another (possibly of another signal); one instance per id and
//! pair of signals; validation of one-sided use, unsupported pairs, loops and ambiguous ids;
//! errors and backpressure back through the connector; lifecycle order across levels.

#![allow(clippy::expect_used)] // test helpers outside #[test] functions

mod core_support;

use std::sync::Arc;
use std::time::Duration;

use core_support::{Probe, probe_registry, traces};
use otlp_pipeline::{
    ComponentKind, Config, Pipelines, Resources, Signal, config, config::ConfigErrorKind,
};
use tokio::time::Instant;

fn build(yaml: &str) -> (Pipelines, Arc<Probe>) {
    let config = Config::from_yaml("connectors.yaml", yaml).expect("loads");
    let validated = config::validate(&config, &probe_registry()).unwrap_or_else(|e| panic!("{e}"));
    let probe = Arc::new(Probe::default());
    let resources = Resources::new().with(probe.clone());
    let pipelines = Pipelines::build_with(&validated, resources).unwrap_or_else(|e| panic!("{e}"));
    (pipelines, probe)
}

fn errors(yaml: &str) -> Vec<String> {
    let config = Config::from_yaml("connectors.yaml", yaml).expect("loads");
    match config::validate(&config, &probe_registry()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

fn kinds(yaml: &str) -> Vec<ConfigErrorKind> {
    let config = Config::from_yaml("connectors.yaml", yaml).expect("loads");
    match config::validate(&config, &probe_registry()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0.iter().map(|e| e.kind().clone()).collect(),
    }
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

#[tokio::test]
async fn a_connector_joins_two_pipelines_of_one_signal() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
processors: {probe/in: {}, probe/out: {}}
connectors: {probe/fwd: {}}
exporters: {probe/a: {}, probe/b: {}}
service:
  pipelines:
    traces/in: {receivers: [probe], processors: [probe/in], exporters: [probe/fwd, probe/a]}
    traces/out: {receivers: [probe/fwd], processors: [probe/out], exporters: [probe/b]}
",
    );
    assert_eq!(probe.creates("probe/fwd"), 1);
    pipelines.start().await.expect("starts");
    probe
        .next_of("probe")
        .consume(traces(4))
        .await
        .expect("accepted");
    assert_eq!(probe.delivered_to("probe/a").len(), 1);
    let out = probe.delivered_to("probe/b");
    assert_eq!(
        out.len(),
        1,
        "through the connector into the second pipeline"
    );
    assert_eq!(out[0].item_count(), 4);
    let processed = probe.processed.lock().expect("lock").clone();
    assert!(
        processed
            .iter()
            .any(|(p, pipeline, _)| p == "probe/out" && pipeline == "traces/out"),
        "the second pipeline's processor saw the data: {processed:?}"
    );
    pipelines.shutdown(soon()).await.expect("stops");
}

#[tokio::test]
async fn one_instance_per_pair_of_signals() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
connectors: {probe/c: {}}
exporters: {probe/t: {}, probe/m: {}}
service:
  pipelines:
    traces/in: {receivers: [probe], exporters: [probe/c]}
    traces/copy: {receivers: [probe/c], exporters: [probe/t]}
    metrics/derived: {receivers: [probe/c], exporters: [probe/m]}
",
    );
    assert_eq!(
        probe.creates("probe/c"),
        2,
        "traces → traces and traces → metrics are two instances"
    );
    pipelines.start().await.expect("starts");
    probe
        .next_of("probe")
        .consume(traces(3))
        .await
        .expect("accepted");
    let copy = probe.delivered_to("probe/t");
    assert_eq!(copy.len(), 1);
    assert_eq!(copy[0].item_count(), 3);
    let derived = probe.delivered_to("probe/m");
    assert_eq!(derived.len(), 1);
    assert_eq!(derived[0].signal(), Signal::Metrics, "derived metrics");
    pipelines.shutdown(soon()).await.expect("stops");
}

#[tokio::test]
async fn chains_start_downstream_first_and_stop_upstream_first() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
processors: {probe/p0: {}, probe/p1: {}, probe/p2: {}}
connectors: {probe/c1: {}, probe/c2: {}}
exporters: {probe/x: {}}
service:
  pipelines:
    traces/a: {receivers: [probe], processors: [probe/p0], exporters: [probe/c1]}
    traces/b: {receivers: [probe/c1], processors: [probe/p1], exporters: [probe/c2]}
    traces/c: {receivers: [probe/c2], processors: [probe/p2], exporters: [probe/x]}
",
    );
    pipelines.start().await.expect("starts");
    probe
        .next_of("probe")
        .consume(traces(2))
        .await
        .expect("accepted");
    assert_eq!(
        probe.delivered_to("probe/x").len(),
        1,
        "three pipelines deep"
    );
    pipelines.shutdown(soon()).await.expect("stops");
    let events = probe.events();
    let at = |name: &str| {
        events
            .iter()
            .position(|e| e == name)
            .unwrap_or_else(|| panic!("no \"{name}\" in {events:?}"))
    };
    let starts = [
        "start exporter probe/x",
        "start processor probe/p2 (traces/c)",
        "start connector probe/c2 (traces → traces)",
        "start processor probe/p1 (traces/b)",
        "start connector probe/c1 (traces → traces)",
        "start processor probe/p0 (traces/a)",
        "start receiver probe",
    ];
    let positions: Vec<usize> = starts.iter().map(|e| at(e)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "start order: {events:?}"
    );
    let stops = [
        "shutdown receiver probe",
        "shutdown processor probe/p0 (traces/a)",
        "shutdown connector probe/c1 (traces → traces)",
        "shutdown processor probe/p1 (traces/b)",
        "shutdown connector probe/c2 (traces → traces)",
        "shutdown processor probe/p2 (traces/c)",
        "shutdown exporter probe/x",
    ];
    let positions: Vec<usize> = stops.iter().map(|e| at(e)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "shutdown order: {events:?}"
    );
}

#[tokio::test]
async fn downstream_errors_come_back_through_the_connector() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
connectors: {probe/fwd: {}}
exporters: {probe/down: {fail: retryable, retry_after: 3s}}
service:
  pipelines:
    logs/in: {receivers: [probe], exporters: [probe/fwd]}
    logs/out: {receivers: [probe/fwd], exporters: [probe/down]}
",
    );
    pipelines.start().await.expect("starts");
    let logs = otlp_pipeline::Telemetry::new(
        otlp_proto::collector::logs::v1::ExportLogsServiceRequest::default(),
    );
    let error = probe
        .next_of("probe")
        .consume(logs)
        .await
        .expect_err("the exporter behind the connector refuses");
    assert!(error.is_retryable(), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(
        error.component().map(ToString::to_string).as_deref(),
        Some("probe/down"),
        "the refusing exporter is named: {error}"
    );
    pipelines.shutdown(soon()).await.expect("stops");
}

#[test]
fn a_connector_used_on_one_side_only_is_refused() {
    let only_exporter = "
receivers: {probe: {}}
connectors: {probe/c: {}}
exporters: {probe: {}}
service:
  pipelines:
    traces: {receivers: [probe], exporters: [probe/c, probe]}
";
    let found = errors(only_exporter);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("connector \"probe/c\" is used as an exporter in pipeline \"traces\" but as a receiver in no pipeline"),
        "{found:?}"
    );
    let only_receiver = "
receivers: {probe: {}}
connectors: {probe/c: {}}
exporters: {probe: {}}
service:
  pipelines:
    traces: {receivers: [probe, probe/c], exporters: [probe]}
";
    let found = errors(only_receiver);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("used as a receiver"), "{found:?}");
}

#[test]
fn a_pair_of_signals_the_connector_does_not_connect_is_refused() {
    // The probe connects traces → metrics, never logs → traces.
    let found = kinds(
        "
receivers: {probe: {}}
connectors: {probe/c: {}}
exporters: {probe: {}}
service:
  pipelines:
    logs: {receivers: [probe], exporters: [probe/c]}
    traces: {receivers: [probe/c], exporters: [probe]}
",
    );
    assert_eq!(found.len(), 2, "both sides lack a counterpart: {found:?}");
    assert!(
        found
            .iter()
            .all(|k| matches!(k, ConfigErrorKind::ConnectorUnsupported { .. })),
        "{found:?}"
    );
    let text = errors(
        "
receivers: {probe: {}}
connectors: {probe/c: {}}
exporters: {probe: {}}
service:
  pipelines:
    logs: {receivers: [probe], exporters: [probe/c]}
    traces: {receivers: [probe/c], exporters: [probe]}
",
    );
    assert!(
        text[0].contains("traces → metrics"),
        "the message lists what it connects: {text:?}"
    );
}

#[test]
fn loops_through_connectors_are_refused() {
    let found = errors(
        "
receivers: {probe: {}}
connectors: {probe/ab: {}, probe/ba: {}}
exporters: {probe: {}}
service:
  pipelines:
    traces/a: {receivers: [probe, probe/ba], exporters: [probe/ab]}
    traces/b: {receivers: [probe/ab], exporters: [probe/ba, probe]}
",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(
            "cycle through connectors: traces/a → probe/ab → traces/b → probe/ba → traces/a"
        ),
        "{found:?}"
    );
    // A pipeline feeding itself.
    let found = errors(
        "
receivers: {probe: {}}
connectors: {probe/self: {}}
exporters: {probe: {}}
service:
  pipelines:
    traces: {receivers: [probe, probe/self], exporters: [probe/self, probe]}
",
    );
    assert!(
        found.iter().any(|e| e.contains("cycle through connectors")),
        "{found:?}"
    );
}

#[test]
fn an_id_both_connector_and_exporter_is_ambiguous() {
    let found = kinds(
        "
receivers: {probe: {}}
connectors: {probe: {}}
exporters: {probe: {}}
service:
  pipelines:
    traces: {receivers: [probe], exporters: [probe]}
",
    );
    assert!(
        found.iter().any(|k| matches!(
            k,
            ConfigErrorKind::Ambiguous {
                other: ComponentKind::Exporter,
                ..
            }
        )),
        "{found:?}"
    );
}

#[test]
fn unknown_connector_types_and_unused_connectors() {
    let found = errors(
        "
receivers: {probe: {}}
connectors: {spanmetricz: {}}
exporters: {probe: {}}
service:
  pipelines:
    traces: {receivers: [probe], exporters: [probe]}
",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("connector"), "{found:?}");
    let config = Config::from_yaml(
        "connectors.yaml",
        "
receivers: {probe: {}}
connectors: {probe/idle: {}}
exporters: {probe: {}}
service:
  pipelines:
    traces: {receivers: [probe], exporters: [probe]}
",
    )
    .expect("loads");
    let validated = config::validate(&config, &probe_registry()).expect("valid");
    assert!(
        validated.warnings().iter().any(|w| w
            .message
            .contains("connector \"probe/idle\" is defined but not used")),
        "{:?}",
        validated.warnings()
    );
}

#[test]
fn a_connector_may_be_the_only_receiver_or_exporter() {
    // A pipeline whose only receiver is a connector has a receiver; and one whose only
    // exporter is a connector has an exporter.
    assert!(
        errors(
            "
receivers: {probe: {}}
connectors: {probe/c: {}}
exporters: {probe: {}}
service:
  pipelines:
    traces/in: {receivers: [probe], exporters: [probe/c]}
    traces/out: {receivers: [probe/c], exporters: [probe]}
"
        )
        .is_empty()
    );
}
