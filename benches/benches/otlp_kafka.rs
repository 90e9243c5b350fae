//! The `kafka` exporter → a Kafka broker → the `kafka` receiver, in one process: spans per
//! second and spans per CPU-second of this process (exporter, receiver and librdkafka's
//! threads; the broker's CPU is its own process's and not counted).
//!
//! Runs only when `OTLP_KAFKA_BOOTSTRAP` names a broker (`127.0.0.1:19092` for the dev
//! broker); otherwise it prints a notice and measures nothing:
//! `OTLP_KAFKA_BOOTSTRAP=127.0.0.1:19092 cargo bench -p otlp-benches --bench otlp_kafka`.
//!
//! - `exporter_to_receiver/<encoding>`: one request of 1000 spans (~150 bytes each) consumed
//!   by the exporter (its sending queue on, 10 consumers, `required_acks: 1`, no
//!   compression) until the receiver (group member, 4-partition topic, `otlp_proto` validated
//!   not decoded) handed all 1000 to its pipeline (a counter). Throughput is in spans.
//! - After the criterion groups, a fixed run of 1000 such requests prints wall spans/s and
//!   spans per CPU-second of the process (`/proc/self/stat` utime + stime), the figure the
//!   side-by-side with the Go collector will compare.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_exporters::kafka::{KafkaExporter, KafkaExporterConfig};
use otlp_pipeline::component::{
    Consumer, Exporter, ExporterContext, Host, NextConsumers, Receiver, ReceiverContext, SignalSet,
};
use otlp_pipeline::{ConsumeError, Resources, Signal, Telemetry};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value::Value};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_receivers::kafka::{KafkaReceiver, KafkaReceiverConfig};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

const SPANS: usize = 1000;
/// Requests of the fixed run whose CPU time is read.
const REQUESTS: u64 = 1000;

/// Counts the spans the receiver hands on.
#[derive(Default)]
struct Count(AtomicU64);

#[async_trait]
impl Consumer for Count {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.0.fetch_add(data.item_count() as u64, Ordering::SeqCst);
        Ok(())
    }
}

fn request(n: usize) -> ExportTraceServiceRequest {
    let kv = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
        ..Default::default()
    };
    let spans = (0..n as u64)
        .map(|i| Span {
            trace_id: [i.to_be_bytes(), (i * 7).to_be_bytes()].concat(),
            span_id: i.to_be_bytes().to_vec(),
            name: format!("GET /api/items/{}", i % 50),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_000_000_000 + i,
            end_time_unix_nano: 1_700_000_000_000_100_000 + i,
            attributes: vec![
                kv("http.request.method", "GET"),
                kv("http.route", "/api/items/{id}"),
            ],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "bench")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// CPU seconds this process used so far (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    // SAFETY: sysconf reads a constant of the system; no memory is touched.
    #[allow(unsafe_code)]
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / per_second.max(1.0)
}

struct Pair {
    exporter: KafkaExporter,
    receiver: KafkaReceiver,
    count: Arc<Count>,
}

async fn pair(bootstrap: &str, encoding: &str) -> Pair {
    let unique = format!(
        "otlp-bench-{encoding}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    admin
        .create_topics(
            &[NewTopic::new(&unique, 4, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    let exporter_config: KafkaExporterConfig = serde_yaml_ng::from_str(&format!(
        "brokers: [{bootstrap}]\ntraces: {{topic: {unique}, encoding: {encoding}}}\nproducer: {{max_message_bytes: 4000000}}"
    ))
    .unwrap();
    let receiver_config: KafkaReceiverConfig = serde_yaml_ng::from_str(&format!(
        "brokers: [{bootstrap}]\ngroup_id: {unique}\ninitial_offset: earliest\ntraces: {{topics: [{unique}], encoding: {encoding}}}\nmax_fetch_wait: 10ms\nmax_partition_fetch_size: 4194304\nmax_fetch_size: 16777216"
    ))
    .unwrap();
    let resources = Resources::collector();
    let exporter = KafkaExporter::new(
        ExporterContext::new("kafka".parse().unwrap(), SignalSet::from(Signal::Traces))
            .with_resources(resources.clone()),
        exporter_config,
    )
    .unwrap();
    let count = Arc::new(Count::default());
    let next = NextConsumers::new().with(Signal::Traces, count.clone());
    let receiver = KafkaReceiver::new(
        ReceiverContext::new("kafka".parse().unwrap(), next).with_resources(resources),
        receiver_config,
    )
    .unwrap();
    let host = Host::empty();
    exporter.start(&host).await.unwrap();
    receiver.start(&host).await.unwrap();
    // Until the receiver owns the partitions: one request through.
    let started = Instant::now();
    exporter.consume(Telemetry::new(request(1))).await.unwrap();
    while count.0.load(Ordering::SeqCst) < 1 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the receiver never joined"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Pair {
        exporter,
        receiver,
        count,
    }
}

/// Sends `requests` requests and waits until the receiver counted all their spans.
async fn run(pair: &Pair, payload: &Telemetry, requests: u64) -> Duration {
    let target = pair.count.0.load(Ordering::SeqCst) + requests * SPANS as u64;
    let started = Instant::now();
    for _ in 0..requests {
        loop {
            match pair.exporter.consume(payload.clone()).await {
                Ok(()) => break,
                Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_millis(1)).await,
                Err(e) => panic!("{e}"),
            }
        }
    }
    while pair.count.0.load(Ordering::SeqCst) < target {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    started.elapsed()
}

fn bench(c: &mut Criterion) {
    let Some(bootstrap) = std::env::var("OTLP_KAFKA_BOOTSTRAP")
        .ok()
        .filter(|b| !b.trim().is_empty())
    else {
        eprintln!("otlp_kafka: OTLP_KAFKA_BOOTSTRAP is unset; nothing measured");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("exporter_to_receiver");
    group.throughput(Throughput::Elements(SPANS as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    let mut summaries = Vec::new();
    for encoding in ["otlp_proto", "otlp_json"] {
        let pair = runtime.block_on(pair(&bootstrap, encoding));
        let payload = Telemetry::new(request(SPANS));
        group.bench_function(encoding, |b| {
            b.iter_custom(|iters| runtime.block_on(run(&pair, &payload, iters)));
        });
        let cpu_before = cpu_seconds();
        let wall = runtime.block_on(run(&pair, &payload, REQUESTS));
        let cpu = cpu_seconds() - cpu_before;
        let spans = REQUESTS as f64 * SPANS as f64;
        summaries.push(format!(
            "otlp_kafka {encoding}: {spans} spans in {wall:.2?}: {:.0} spans/s wall, {:.0} spans per CPU-second ({cpu:.2} CPU-s)",
            spans / wall.as_secs_f64(),
            spans / cpu.max(1e-9)
        ));
        runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            pair.receiver.shutdown(deadline).await.unwrap();
            pair.exporter.shutdown(deadline).await.unwrap();
        });
    }
    group.finish();
    for line in summaries {
        eprintln!("{line}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
