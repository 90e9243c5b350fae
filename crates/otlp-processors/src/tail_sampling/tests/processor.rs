//! The processor end to end: YAML → factory → consume → a capturing next consumer, on tokio's
//! paused clock (`start_paused`), so `decision_wait` passes instantly.

use std::sync::Arc;
use std::time::Duration;

use otlp_pipeline::component::{Host, Processor, Resources};
use otlp_pipeline::factory::ProcessorFactory;
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::testing::{Probe, processor_ctx};
use otlp_pipeline::{ConsumeError, Telemetry};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

use super::{i, request, s, span, span_ids, with_attrs};
use crate::tail_sampling::tail_sampling_factory;

const CONFIG: &str = r#"
decision_wait: 10s
num_traces: 100
policies:
  - {name: errors, type: numeric_attribute, numeric_attribute: {key: http.status_code, min_value: 500}}
  - {name: no-health, type: drop, drop: {drop_sub_policy: [{name: h, type: string_attribute, string_attribute: {key: url.path, values: [/health]}}]}}
"#;

fn build(config: &str, next: Arc<Probe>, resources: &Resources) -> Box<dyn Processor> {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(config).unwrap();
    tail_sampling_factory()
        .create(
            processor_ctx("tail_sampling/x", "traces", next, resources.clone()),
            value,
        )
        .unwrap()
}

/// Trace `t` of `n` spans with `status` as `http.status_code` (and route `/health` if asked).
fn trace(t: u8, n: u8, status: i64, health: bool) -> Telemetry {
    let mut attrs = vec![i("http.status_code", status)];
    if health {
        attrs.push(s("url.path", "/health"));
    }
    let spans = (0..n)
        .map(|k| with_attrs(span(t, k, 0, 1), attrs.clone()))
        .collect();
    Telemetry::new(request(vec![s("service.name", "checkout")], spans))
}

fn received(probe: &Probe) -> Vec<ExportTraceServiceRequest> {
    probe
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|t| t.traces().unwrap().clone())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn sampled_traces_are_forwarded_once_per_tick_after_decision_wait() {
    let probe = Probe::new();
    let resources = Resources::collector();
    let processor = build(CONFIG, probe.clone(), &resources);
    processor.start(&Host::empty()).await.unwrap();

    processor.consume(trace(1, 2, 503, false)).await.unwrap();
    processor.consume(trace(2, 1, 200, false)).await.unwrap();
    processor.consume(trace(3, 1, 500, true)).await.unwrap();
    processor.consume(trace(4, 1, 500, false)).await.unwrap();
    // Acknowledged once buffered: nothing has gone on yet.
    assert_eq!(probe.calls(), 0);
    tokio::time::sleep(Duration::from_millis(9_500)).await;
    assert_eq!(probe.calls(), 0, "decision_wait has not passed");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = received(&probe);
    assert_eq!(got.len(), 1, "one request for the tick's decided traces");
    assert_eq!(span_ids(&got[0]), vec![(1, 0), (1, 1), (4, 0)]);
    let resource = got[0].resource_spans[0].resource.as_ref().unwrap();
    assert_eq!(
        resource.attributes[0].key, "service.name",
        "resources are kept"
    );
    assert_eq!(
        got[0].resource_spans[0].scope_spans[0]
            .scope
            .as_ref()
            .unwrap()
            .name,
        "test"
    );

    // A late span of a sampled trace goes on at once; one of a dropped trace never does.
    processor.consume(trace(1, 1, 200, false)).await.unwrap();
    processor.consume(trace(3, 1, 500, false)).await.unwrap();
    assert_eq!(probe.calls(), 2);
    assert_eq!(span_ids(&received(&probe)[1]), vec![(1, 0)]);

    processor
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    let metrics = Metrics::from_resources(&resources);
    let labels = |sampled, decision| {
        vec![
            ("processor", "tail_sampling/x"),
            ("sampled", sampled),
            ("decision", decision),
        ]
    };
    let global = "otelcol_processor_tail_sampling_global_count_traces_sampled_total";
    assert_eq!(metrics.value(global, &labels("true", "sampled")), Some(2.0));
    assert_eq!(
        metrics.value(global, &labels("false", "not_sampled")),
        Some(1.0)
    );
    assert_eq!(
        metrics.value(global, &labels("false", "dropped")),
        Some(1.0)
    );
    let late = "otelcol_processor_tail_sampling_sampling_late_span_age";
    assert!(
        metrics
            .render()
            .contains(&format!("{late}_count{{processor=\"tail_sampling/x\"}} 2")),
        "{}",
        metrics.render()
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_decides_and_flushes_what_is_buffered() {
    let probe = Probe::new();
    let resources = Resources::collector();
    let processor = build(CONFIG, probe.clone(), &resources);
    processor.start(&Host::empty()).await.unwrap();
    processor.consume(trace(1, 3, 500, false)).await.unwrap();
    processor.consume(trace(2, 1, 200, false)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(probe.calls(), 0);
    processor
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    let got = received(&probe);
    assert_eq!(got.len(), 1);
    assert_eq!(span_ids(&got[0]), vec![(1, 0), (1, 1), (1, 2)]);
    // The ticker is stopped: time passing sends nothing more.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(probe.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn shutdown_can_drop_instead_of_deciding() {
    let probe = Probe::new();
    let resources = Resources::collector();
    let config = format!("drop_pending_traces_on_shutdown: true\n{CONFIG}");
    let processor = build(&config, probe.clone(), &resources);
    processor.start(&Host::empty()).await.unwrap();
    processor.consume(trace(1, 3, 500, false)).await.unwrap();
    processor
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(probe.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_refusing_next_consumer_is_counted_not_returned() {
    let probe = Probe::failing([ConsumeError::permanent("no")]);
    let resources = Resources::collector();
    let processor = build(CONFIG, probe.clone(), &resources);
    processor.start(&Host::empty()).await.unwrap();
    processor.consume(trace(1, 2, 500, false)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(probe.calls(), 1);
    let metrics = Metrics::from_resources(&resources);
    assert_eq!(
        metrics.value(
            "otelcol_processor_tail_sampling_forward_failed_spans_total",
            &[("processor", "tail_sampling/x")]
        ),
        Some(2.0)
    );
    processor
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn other_signals_are_refused_and_the_factory_registers() {
    let probe = Probe::new();
    let processor = build(CONFIG, probe.clone(), &Resources::collector());
    let logs = Telemetry::new(otlp_pipeline::testing::logs(1));
    assert!(processor.consume(logs).await.unwrap_err().is_permanent());
    let mut registry = otlp_pipeline::Registry::default();
    crate::register(&mut registry).unwrap();
    assert!(registry.processor("tail_sampling").is_some());
}
