//! otlp-processors' `tail_sampling`: spans per second through the processor at 10 000
//! concurrent traces.
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_tail_sampling`.
//!
//! - `ingest_and_decide`: 10 000 traces of 10 spans each, interleaved (every request of 500
//!   spans holds spans of 500 different traces), consumed by a processor built from YAML with
//!   a `string_attribute` + `latency` + `probabilistic` policy set and `num_traces: 20000`
//!   (no early decision), then shut down, which decides every trace and forwards the sampled
//!   ones as one request to a counting consumer. The requests are cloned before the clock
//!   starts. Throughput is in spans: criterion's time per iteration / 100 000 is ns/span.

#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use otlp_pipeline::component::{Consumer, ProcessorContext, Resources};
use otlp_pipeline::factory::ProcessorFactory;
use otlp_pipeline::{ConsumeError, Telemetry};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

const TRACES: u32 = 10_000;
const SPANS_PER_TRACE: u32 = 10;
const SPANS_PER_REQUEST: usize = 500;

const CONFIG: &str = r#"
decision_wait: 30s
num_traces: 20000
policies:
  - {name: checkout, type: string_attribute, string_attribute: {key: http.route, values: [/checkout, /pay]}}
  - {name: slow, type: latency, latency: {threshold_ms: 500}}
  - {name: some, type: probabilistic, probabilistic: {sampling_percentage: 10}}
"#;

/// Counts the spans it is given.
#[derive(Default)]
struct Sink(AtomicU64);

#[async_trait::async_trait]
impl Consumer for Sink {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.0
            .fetch_add(data.item_count() as u64, Ordering::Relaxed);
        Ok(())
    }
}

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

fn span(trace: u32, n: u32) -> Span {
    let route = match trace % 50 {
        0 => "/checkout",
        _ => "/browse",
    };
    Span {
        trace_id: [trace.to_be_bytes().to_vec(), vec![0x5a; 12]].concat(),
        span_id: [trace.to_be_bytes(), n.to_be_bytes()].concat(),
        name: "GET".to_owned(),
        start_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(n) * 1_000_000,
        end_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(n + 1 + trace % 100) * 1_000_000,
        attributes: vec![string("http.route", route), string("http.method", "GET")],
        ..Default::default()
    }
}

/// The interleaved requests: span `n` of every trace, then span `n + 1`, in requests of 500.
fn requests() -> Vec<ExportTraceServiceRequest> {
    let spans: Vec<Span> = (0..SPANS_PER_TRACE)
        .flat_map(|n| (0..TRACES).map(move |t| span(t, n)))
        .collect();
    spans
        .chunks(SPANS_PER_REQUEST)
        .map(|chunk| ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![string("service.name", "bench")],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "bench".to_owned(),
                        ..Default::default()
                    }),
                    spans: chunk.to_vec(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let config: serde_yaml_ng::Value = serde_yaml_ng::from_str(CONFIG).expect("config");
    let factory = otlp_processors::tail_sampling::tail_sampling_factory();
    let requests = requests();
    let total = u64::from(TRACES * SPANS_PER_TRACE);

    let mut group = c.benchmark_group("tail_sampling");
    group.throughput(Throughput::Elements(total));
    group.sample_size(10);
    group.bench_function("ingest_and_decide/10000_traces", |b| {
        b.iter_batched(
            || requests.clone(),
            |requests| {
                runtime.block_on(async {
                    let sink = Arc::new(Sink::default());
                    let ctx = ProcessorContext::new(
                        "tail_sampling".parse().expect("id"),
                        "traces".parse().expect("pipeline"),
                        sink.clone(),
                    )
                    .with_resources(Resources::collector());
                    let processor = factory.create(ctx, config.clone()).expect("processor");
                    for request in requests {
                        processor
                            .consume(Telemetry::new(request))
                            .await
                            .expect("consume");
                    }
                    processor
                        .shutdown(tokio::time::Instant::now() + Duration::from_secs(60))
                        .await
                        .expect("shutdown");
                    black_box(sink.0.load(Ordering::Relaxed))
                })
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
