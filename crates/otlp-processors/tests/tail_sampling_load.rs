//! `tail_sampling` under load: 10 000 interleaved traces sent in many requests through a
//! processor with a small `num_traces`. Memory stays bounded (the traces in memory never
//! exceed `num_traces`), and every span is either forwarded or counted as not sampled — none
//! lost, none duplicated. Runs on tokio's paused clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use otlp_pipeline::Telemetry;
use otlp_pipeline::component::{Host, Resources};
use otlp_pipeline::factory::ProcessorFactory;
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::testing::{Probe, processor_ctx};
use otlp_processors::tail_sampling::tail_sampling_factory;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

const TRACES: u32 = 10_000;
const SPANS_PER_TRACE: u32 = 5;
/// Traces open at once: spans of this many traces are interleaved.
const WINDOW: u32 = 500;
const SPANS_PER_REQUEST: usize = 100;
const NUM_TRACES: u64 = 200;

fn span(trace: u32, n: u32) -> Span {
    let route = if trace.is_multiple_of(7) {
        "/checkout"
    } else {
        "/browse"
    };
    Span {
        trace_id: [trace.to_be_bytes().to_vec(), vec![0xab; 12]].concat(),
        span_id: [trace.to_be_bytes(), n.to_be_bytes()].concat(),
        name: format!("span {n}"),
        start_time_unix_nano: 1_000_000_000,
        end_time_unix_nano: 1_000_000_000 + u64::from(n) * 1_000_000,
        attributes: vec![KeyValue {
            key: "http.route".to_owned(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(route.to_owned())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Every span once, interleaved: spans of `WINDOW` consecutive traces alternate.
fn all_spans() -> Vec<Span> {
    let mut spans = Vec::new();
    for window in (0..TRACES).step_by(WINDOW as usize) {
        for n in 0..SPANS_PER_TRACE {
            for trace in window..(window + WINDOW).min(TRACES) {
                spans.push(span(trace, n));
            }
        }
    }
    spans
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".to_owned(),
                    value: Some(AnyValue {
                        value: Some(Value::StringValue("load".to_owned())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "load".to_owned(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_interleaved_traces_stay_bounded_and_accounted() {
    let config = format!(
        r#"
decision_wait: 1s
num_traces: {NUM_TRACES}
policies:
  - {{name: checkout, type: string_attribute, string_attribute: {{key: http.route, values: [/checkout]}}}}
  - {{name: some, type: probabilistic, probabilistic: {{sampling_percentage: 20}}}}
"#
    );
    let probe = Probe::new();
    let resources = Resources::collector();
    let processor = tail_sampling_factory()
        .create(
            processor_ctx(
                "tail_sampling/load",
                "traces",
                probe.clone(),
                resources.clone(),
            ),
            serde_yaml_ng::from_str(&config).unwrap(),
        )
        .unwrap();
    processor.start(&Host::empty()).await.unwrap();
    let metrics = Metrics::from_resources(&resources);
    let labels = [("processor", "tail_sampling/load")];
    let gauge = |name: &str| {
        metrics
            .value(&format!("otelcol_processor_tail_sampling_{name}"), &labels)
            .unwrap()
    };

    let spans = all_spans();
    let sent = spans.len();
    let mut max_traces = 0.0f64;
    let mut requests = 0;
    let mut chunk = Vec::with_capacity(SPANS_PER_REQUEST);
    for span in spans {
        chunk.push(span);
        if chunk.len() == SPANS_PER_REQUEST {
            let batch = std::mem::replace(&mut chunk, Vec::with_capacity(SPANS_PER_REQUEST));
            processor
                .consume(Telemetry::new(request(batch)))
                .await
                .unwrap();
            requests += 1;
            max_traces = max_traces.max(gauge("sampling_traces_on_memory"));
            if requests % 20 == 0 {
                // Let the ticker decide what is due.
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    if !chunk.is_empty() {
        processor
            .consume(Telemetry::new(request(chunk)))
            .await
            .unwrap();
    }
    assert!(
        max_traces <= NUM_TRACES as f64,
        "{max_traces} traces in memory"
    );
    assert!(max_traces > 0.0);
    processor
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(gauge("sampling_traces_on_memory"), 0.0);

    let mut seen = HashSet::new();
    for telemetry in probe.received.lock().unwrap().iter() {
        let traces = telemetry.traces().unwrap();
        for rs in &traces.resource_spans {
            assert_eq!(
                rs.resource.as_ref().unwrap().attributes[0].key,
                "service.name"
            );
            for ss in &rs.scope_spans {
                assert_eq!(ss.scope.as_ref().unwrap().name, "load");
                for s in &ss.spans {
                    assert!(seen.insert(s.span_id.clone()), "span forwarded twice");
                }
            }
        }
    }
    let forwarded = seen.len();
    let spans_counted = |sampled: &str| {
        metrics
            .value(
                "otelcol_processor_tail_sampling_global_count_spans_sampled_total",
                &[("processor", "tail_sampling/load"), ("sampled", sampled)],
            )
            .unwrap() as usize
    };
    assert_eq!(forwarded, spans_counted("true"));
    assert_eq!(
        forwarded + spans_counted("false"),
        sent,
        "every span forwarded or not sampled"
    );
    assert!(forwarded > 0 && forwarded < sent, "{forwarded} of {sent}");
    let early = metrics.sum(
        "otelcol_processor_tail_sampling_sampling_trace_decided_early_total",
        &labels,
    );
    assert!(early > 0.0, "num_traces forced early decisions");
}
