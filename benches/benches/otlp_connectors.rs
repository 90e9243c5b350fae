//! otlp-connectors' `spanmetrics` and `servicegraph`: the cost of `consume` per span.
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_connectors`.
//!
//! - `spanmetrics_consume`: one request of 1000 server spans of one service over 50 span
//!   names (50 series per metric, all known after the first iteration), consumed by a
//!   connector built from YAML with the default configuration (explicit buckets, cumulative)
//!   and exemplars on. The request is shared, not copied, between iterations (the connector
//!   only reads it); no flush runs. Throughput is in spans: time per iteration / 1000 is
//!   ns/span.
//! - `servicegraph_consume`: one request of 500 client spans (service `frontend`) and their
//!   500 server spans (service `cart`), every pair completed inside the request (so the
//!   store is empty again after each iteration) into one series.

#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_pipeline::component::{ConnectorContext, Consumer};
use otlp_pipeline::factory::ConnectorFactory;
use otlp_pipeline::{ConsumeError, Signal, Telemetry};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

const SPANS: usize = 1000;
const SERIES: usize = 50;

/// Accepts and forgets.
struct Null;

#[async_trait]
impl Consumer for Null {
    async fn consume(&self, _data: Telemetry) -> Result<(), ConsumeError> {
        Ok(())
    }
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(service.into())),
            }),
            ..KeyValue::default()
        }],
        ..Resource::default()
    })
}

fn resource_spans(service: &str, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: resource(service),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope {
                name: "bench".into(),
                ..InstrumentationScope::default()
            }),
            spans,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }
}

fn span(name: String, kind: SpanKind, i: usize, parent: Option<usize>) -> Span {
    let start = 1_700_000_000_000_000_000 + i as u64 * 1_000;
    Span {
        trace_id: (i as u128 + 1).to_be_bytes().to_vec(),
        span_id: ((i as u64 + 1) | (u64::from(parent.is_some()) << 63))
            .to_be_bytes()
            .to_vec(),
        parent_span_id: parent.map_or_else(Vec::new, |p| (p as u64 + 1).to_be_bytes().to_vec()),
        name,
        kind: kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + (i as u64 % 200 + 1) * 1_000_000,
        ..Span::default()
    }
}

fn connector(
    factory: &dyn ConnectorFactory,
    id: &str,
    yaml: &str,
) -> Box<dyn otlp_pipeline::Connector> {
    let next: Arc<dyn Consumer> = Arc::new(Null);
    let ctx = ConnectorContext::new(
        id.parse().expect("id"),
        Signal::Traces,
        Signal::Metrics,
        vec![("metrics".parse().expect("pipeline"), next.clone())],
        next,
    );
    let config: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).expect("yaml");
    factory.create(ctx, config).expect("connector")
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("otlp_connectors");
    group.throughput(Throughput::Elements(SPANS as u64));

    let spans = (0..SPANS)
        .map(|i| span(format!("op-{}", i % SERIES), SpanKind::Server, i, None))
        .collect();
    let request = Telemetry::new(ExportTraceServiceRequest {
        resource_spans: vec![resource_spans("checkout", spans)],
    });
    let spanmetrics = connector(
        &otlp_connectors::spanmetrics::factory(),
        "spanmetrics",
        "exemplars: {enabled: true}",
    );
    group.bench_function("spanmetrics_consume", |b| {
        b.iter(|| {
            runtime
                .block_on(spanmetrics.consume(black_box(request.clone())))
                .expect("consume");
        });
    });

    let pairs = SPANS / 2;
    let clients = (0..pairs)
        .map(|i| span("call".into(), SpanKind::Client, i, None))
        .collect();
    let servers = (0..pairs)
        .map(|i| span("handle".into(), SpanKind::Server, i, Some(i)))
        .collect();
    let request = Telemetry::new(ExportTraceServiceRequest {
        resource_spans: vec![
            resource_spans("frontend", clients),
            resource_spans("cart", servers),
        ],
    });
    let servicegraph = connector(
        &otlp_connectors::servicegraph::factory(),
        "servicegraph",
        "{}",
    );
    group.bench_function("servicegraph_consume", |b| {
        b.iter(|| {
            runtime
                .block_on(servicegraph.consume(black_box(request.clone())))
                .expect("consume");
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
