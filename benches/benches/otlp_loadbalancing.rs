//! otlp-exporters' `loadbalancing`: what routing costs per span on top of the `otlp`
//! exporter, without a network.
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_loadbalancing`.
//!
//! The request is `payloads::traces_request(7, 5, 1000)`: 1000 spans of 250 traces (four
//! spans each) under five resources, as an SDK batch would carry them. Each iteration gets
//! its own copy, made before the clock starts. Throughput is in spans.
//!
//! - `otlp_encode`: the baseline, what the `otlp` exporter does with a request when it
//!   accepts it into its queue: encode it once (`Telemetry::to_encoded`).
//! - `route_split`: the `loadbalancing` exporter (static resolver, three backends, `traceID`)
//!   assigning every span its backend on the ring and moving the spans into three requests,
//!   handed to backends that keep them without encoding: the routing cost alone.
//! - `route_split_encode`: the same with backends that encode what they get, as the `otlp`
//!   exporter behind each backend does: `route_split_encode − otlp_encode` is the
//!   loadbalancer's overhead per request.
//! - `route_whole`: 1000 spans of one trace: one backend, the request passed on as it came
//!   (no split, no copy) — the cost of the assignment pass alone.
//!
//! On the 2-core development machine: `otlp_encode` 617 µs, `route_split` 59 µs (59 ns per
//! span), `route_split_encode` 689 µs (routing adds 12 % to the encoding the backends' otlp
//! exporters do anyway), `route_whole` 16 µs.

#![allow(clippy::expect_used, missing_docs)]

use std::any::Any;
use std::hint::black_box;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use otlp_benches::payloads;
use otlp_exporters::loadbalancing::{
    BackendFactory, LoadBalancingConfig, LoadBalancingExporter, SystemLookup,
};
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host, Resources};
use otlp_pipeline::config::parse_config;
use otlp_pipeline::{ConsumeError, Signal, Telemetry};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

const SPANS: usize = 1000;

/// What the backends took, dropped outside the measurement (freeing 1000 spans costs about
/// as much as routing them, and is not the loadbalancer's work).
type Kept = Arc<Mutex<Vec<Box<dyn Any + Send>>>>;

/// A backend that takes what it is given, encoding it first when `encode` (as the `otlp`
/// exporter's queue does).
struct Null {
    encode: bool,
    kept: Kept,
}

#[async_trait]
impl Consumer for Null {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let mut kept = self.kept.lock().expect("kept");
        if self.encode {
            kept.push(Box::new(data.to_encoded::<ExportTraceServiceRequest>()));
        }
        kept.push(Box::new(data));
        Ok(())
    }
}

#[async_trait]
impl Exporter for Null {}

fn exporter(runtime: &tokio::runtime::Runtime, encode: bool, kept: &Kept) -> LoadBalancingExporter {
    let yaml = "resolver: {static: {hostnames: [gw-1:4317, gw-2:4317, gw-3:4317]}}";
    let config: LoadBalancingConfig =
        parse_config(&serde_yaml_ng::from_str(yaml).expect("yaml")).expect("config");
    let kept = Arc::clone(kept);
    let factory: BackendFactory = Arc::new(move |_ctx, _config| {
        let backend: Arc<dyn Exporter> = Arc::new(Null {
            encode,
            kept: Arc::clone(&kept),
        });
        Ok(backend)
    });
    let ctx = ExporterContext::new("loadbalancing".parse().expect("id"), Signal::Traces)
        .with_resources(Resources::collector());
    let exporter = LoadBalancingExporter::with_parts(ctx, config, factory, Arc::new(SystemLookup))
        .expect("exporter");
    runtime
        .block_on(exporter.start(&Host::empty()))
        .expect("start");
    exporter
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let request = payloads::traces_request(7, 5, SPANS);
    let mut one_trace = request.clone();
    let first = one_trace.resource_spans[0].scope_spans[0].spans[0]
        .trace_id
        .clone();
    for rs in &mut one_trace.resource_spans {
        for ss in &mut rs.scope_spans {
            for span in &mut ss.spans {
                span.trace_id = first.clone();
            }
        }
    }
    let mut group = c.benchmark_group("loadbalancing");
    group.throughput(Throughput::Elements(SPANS as u64));

    // The input and the output are dropped by criterion outside the measurement.
    group.bench_function("otlp_encode", |b| {
        b.iter_batched(
            || Telemetry::new(request.clone()),
            |data| {
                let encoded = data.to_encoded::<ExportTraceServiceRequest>();
                (data, black_box(encoded))
            },
            BatchSize::SmallInput,
        )
    });

    let kept: Kept = Arc::default();
    // Each batch's setup drops what the previous batch's backends kept.
    let fresh = |request: &ExportTraceServiceRequest| {
        kept.lock().expect("kept").clear();
        Telemetry::new(request.clone())
    };
    let route = exporter(&runtime, false, &kept);
    group.bench_function("route_split", |b| {
        b.iter_batched(
            || fresh(&request),
            |data| runtime.block_on(route.consume(data)).expect("accepted"),
            BatchSize::SmallInput,
        )
    });

    let encode = exporter(&runtime, true, &kept);
    group.bench_function("route_split_encode", |b| {
        b.iter_batched(
            || fresh(&request),
            |data| runtime.block_on(encode.consume(data)).expect("accepted"),
            BatchSize::SmallInput,
        )
    });

    group.bench_function("route_whole", |b| {
        b.iter_batched(
            || fresh(&one_trace),
            |data| runtime.block_on(route.consume(data)).expect("accepted"),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
