//! otlp-connectors' `spanmetrics`, `servicegraph`, `count` and `routing`: the cost of
//! `consume` per span.
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
//! - `count_consume`: the 1000-span request of `spanmetrics_consume` through `count` with a
//!   metric counting spans by `span.name` (50 points), the metrics request built and handed
//!   on each time.
//! - `routing_split`: 1000 spans under 10 resources (10 services), routed by `service.name`
//!   to three pipelines (two services each) and the default pipeline (the other four): the
//!   request is taken apart and four requests are built. Each iteration gets its own copy of
//!   the request, made outside the timing.
//! - `routing_whole`: 1000 spans of one service routed to one pipeline: the request goes on
//!   as it came (no split, no copy).

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
    connector_to(factory, id, yaml, Signal::Metrics, &["metrics"])
}

fn connector_to(
    factory: &dyn ConnectorFactory,
    id: &str,
    yaml: &str,
    to: Signal,
    pipelines: &[&str],
) -> Box<dyn otlp_pipeline::Connector> {
    let next: Arc<dyn Consumer> = Arc::new(Null);
    let ctx = ConnectorContext::new(
        id.parse().expect("id"),
        Signal::Traces,
        to,
        pipelines
            .iter()
            .map(|p| (p.parse().expect("pipeline"), next.clone()))
            .collect(),
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

    let spans = (0..SPANS)
        .map(|i| span(format!("op-{}", i % SERIES), SpanKind::Server, i, None))
        .collect();
    let one_service = Telemetry::new(ExportTraceServiceRequest {
        resource_spans: vec![resource_spans("checkout", spans)],
    });
    let count = connector(
        &otlp_connectors::count::factory(),
        "count",
        "spans: {spans.by.name: {attributes: [{key: span.name, default_value: none}]}}",
    );
    group.bench_function("count_consume", |b| {
        b.iter(|| {
            runtime
                .block_on(count.consume(black_box(one_service.clone())))
                .expect("consume");
        });
    });

    const ROUTES: &str = r#"
default_pipelines: [traces/other]
table:
  - condition: attributes["service.name"] == "s0" or attributes["service.name"] == "s1"
    pipelines: [traces/a]
  - condition: attributes["service.name"] == "s2" or attributes["service.name"] == "s3"
    pipelines: [traces/b]
  - condition: attributes["service.name"] == "s4" or attributes["service.name"] == "s5"
    pipelines: [traces/c]
"#;
    let pipelines = ["traces/a", "traces/b", "traces/c", "traces/other"];
    let routing = connector_to(
        &otlp_connectors::routing::factory(),
        "routing",
        ROUTES,
        Signal::Traces,
        &pipelines,
    );
    let services = 10;
    let per_service = SPANS / services;
    let mixed = Telemetry::new(ExportTraceServiceRequest {
        resource_spans: (0..services)
            .map(|s| {
                let spans = (0..per_service)
                    .map(|i| {
                        span(
                            format!("op-{i}"),
                            SpanKind::Server,
                            s * per_service + i,
                            None,
                        )
                    })
                    .collect();
                resource_spans(&format!("s{s}"), spans)
            })
            .collect(),
    });
    group.bench_function("routing_split", |b| {
        b.iter_batched(
            || mixed.deep_clone(),
            |data| runtime.block_on(routing.consume(data)).expect("consume"),
            criterion::BatchSize::SmallInput,
        );
    });
    let single = Telemetry::new(ExportTraceServiceRequest {
        resource_spans: vec![resource_spans(
            "s0",
            (0..SPANS)
                .map(|i| span(format!("op-{i}"), SpanKind::Server, i, None))
                .collect(),
        )],
    });
    group.bench_function("routing_whole", |b| {
        b.iter(|| {
            runtime
                .block_on(routing.consume(black_box(single.clone())))
                .expect("consume");
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
