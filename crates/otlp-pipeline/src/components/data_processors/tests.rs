#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_model::attributes::AttributesExt;
use otlp_model::views::{LogsView, TracesView};

use super::*;
use crate::component::Resources;
use crate::components::test_support::{Probe, logs, metrics, processor_ctx, traces};

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap()
}

fn build(
    factory: &impl ProcessorFactory,
    config: &str,
    pipeline: &str,
    next: Arc<Probe>,
    resources: &Resources,
) -> Box<dyn Processor> {
    factory
        .create(
            processor_ctx(
                &format!("{}/x", factory.type_name()),
                pipeline,
                next,
                resources.clone(),
            ),
            yaml(config),
        )
        .unwrap()
}

#[tokio::test]
async fn attributes_edit_a_copy_and_pass_it_on() {
    let probe = Probe::new();
    let resources = crate::components::resources();
    let processor = build(
        &attributes_factory(),
        "actions:\n  - {key: env, value: prod, action: insert}",
        "traces",
        probe.clone(),
        &resources,
    );
    assert!(processor.mutates_data());
    let original = Telemetry::new(traces(2));
    processor.consume(original.clone()).await.unwrap();
    let received = probe.received.lock().unwrap()[0].clone();
    assert!(
        received
            .traces()
            .unwrap()
            .spans()
            .all(|s| s.attributes().get_str("env") == Some("prod"))
    );
    assert!(
        original
            .traces()
            .unwrap()
            .spans()
            .all(|s| s.attributes().get_str("env").is_none()),
        "the sender's copy is untouched"
    );
}

#[tokio::test]
async fn resource_processor_upserts() {
    let probe = Probe::new();
    let resources = crate::components::resources();
    let processor = build(
        &resource_factory(),
        "attributes:\n  - {key: deployment.environment, value: staging, action: upsert}",
        "logs",
        probe.clone(),
        &resources,
    );
    processor.consume(Telemetry::new(logs(1))).await.unwrap();
    let received = probe.received.lock().unwrap()[0].clone();
    let resource = received.logs().unwrap().resource_logs[0]
        .resource
        .clone()
        .unwrap();
    assert_eq!(
        resource.attributes.get_str("deployment.environment"),
        Some("staging")
    );
}

#[tokio::test]
async fn filter_drops_counts_and_skips_empty_requests() {
    let probe = Probe::new();
    let resources = crate::components::resources();
    let config = "error_mode: ignore\ntraces:\n  span:\n    - 'attributes[\"http.route\"] == \"/health\"'\nmetrics:\n  datapoint:\n    - 'attributes[\"i\"] >= 0'";
    let traces_filter = build(
        &filter_factory(),
        config,
        "traces",
        probe.clone(),
        &resources,
    );
    traces_filter
        .consume(Telemetry::new(traces(3)))
        .await
        .unwrap();
    assert_eq!(probe.items(), 2);
    let metrics_filter = build(
        &filter_factory(),
        config,
        "metrics",
        probe.clone(),
        &resources,
    );
    metrics_filter
        .consume(Telemetry::new(metrics(4)))
        .await
        .unwrap();
    assert_eq!(
        probe.calls(),
        1,
        "an emptied request is acknowledged without calling the next stage"
    );
    let registry = Metrics::from_resources(&resources);
    assert_eq!(
        registry.value(
            "otelcol_processor_filter_spans_filtered_total",
            &[("processor", "filter/x")]
        ),
        Some(1.0)
    );
    assert_eq!(
        registry.value(
            "otelcol_processor_filter_datapoints_filtered_total",
            &[("processor", "filter/x")]
        ),
        Some(4.0)
    );
}

#[tokio::test]
async fn filter_evaluation_errors_propagate_as_permanent() {
    let probe = Probe::new();
    let resources = crate::components::resources();
    let config = "error_mode: propagate\nlogs:\n  log_record:\n    - 'Len(attributes[\"n\"]) > 1'";
    let processor = build(&filter_factory(), config, "logs", probe.clone(), &resources);
    let error = processor
        .consume(Telemetry::new(logs(1)))
        .await
        .unwrap_err();
    assert!(error.is_permanent(), "{error}");
    assert_eq!(probe.calls(), 0);
}

#[tokio::test]
async fn sampler_counts_sampled_and_not() {
    let probe = Probe::new();
    let resources = crate::components::resources();
    let processor = build(
        &probabilistic_sampler_factory(),
        "sampling_percentage: 0",
        "traces",
        probe.clone(),
        &resources,
    );
    processor.consume(Telemetry::new(traces(5))).await.unwrap();
    assert_eq!(probe.calls(), 0);
    let keep_all = build(
        &probabilistic_sampler_factory(),
        "sampling_percentage: 100\nfail_closed: false",
        "logs",
        probe.clone(),
        &resources,
    );
    keep_all.consume(Telemetry::new(logs(2))).await.unwrap();
    assert_eq!(
        probe.received.lock().unwrap()[0]
            .logs()
            .unwrap()
            .log_record_count(),
        2
    );
    let registry = Metrics::from_resources(&resources);
    let name = "otelcol_processor_probabilistic_sampler_count_traces_sampled_total";
    assert_eq!(
        registry.value(
            name,
            &[
                ("processor", "probabilistic_sampler/x"),
                ("sampled", "false")
            ]
        ),
        Some(5.0)
    );
    assert_eq!(
        registry.value(
            name,
            &[
                ("processor", "probabilistic_sampler/x"),
                ("sampled", "true")
            ]
        ),
        Some(0.0)
    );
    let name = "otelcol_processor_probabilistic_sampler_count_logs_sampled_total";
    assert_eq!(
        registry.value(
            name,
            &[
                ("processor", "probabilistic_sampler/x"),
                ("sampled", "true")
            ]
        ),
        Some(2.0)
    );
}

#[test]
fn configuration_errors_name_the_field() {
    let error = attributes_factory()
        .validate(&yaml(
            "actions:\n  - {key: a, action: convert, converted_type: date}",
        ))
        .unwrap_err();
    assert!(error.to_string().contains("converted_type"), "{error}");
    let error = filter_factory()
        .validate(&yaml("traces:\n  span:\n    - 'name ==='"))
        .unwrap_err();
    assert!(error.to_string().contains("traces::span[0]"), "{error}");
    let error = resource_factory().validate(&yaml("{}")).unwrap_err();
    assert!(error.to_string().contains("attributes"), "{error}");
    // A rule that depends on the pipeline: `log_bodies` matches logs only.
    let config = yaml(
        "include:\n  match_type: strict\n  log_bodies: [x]\nactions:\n  - {key: a, action: delete}",
    );
    assert!(attributes_factory().validate(&config).is_ok());
    assert!(
        attributes_factory()
            .validate_for_signal(&config, Signal::Logs)
            .is_ok()
    );
    assert!(
        attributes_factory()
            .validate_for_signal(&config, Signal::Traces)
            .is_err()
    );
}
