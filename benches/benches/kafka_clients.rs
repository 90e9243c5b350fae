//! The Kafka client crate, chosen by measurement: `rdkafka` (librdkafka, bundled) against
//! `rskafka` (pure Rust), doing the same work on the same broker, produce and consume.
//!
//! Runs only when `OTLP_KAFKA_BOOTSTRAP` names a broker (`127.0.0.1:19092` for the dev
//! broker); otherwise it prints a notice and measures nothing:
//! `OTLP_KAFKA_BOOTSTRAP=127.0.0.1:19092 cargo bench -p otlp-benches --bench kafka_clients`.
//!
//! The payload is `otlp_benches::payloads::traces_request(42, 4, spans)` encoded as protobuf
//! (the kafka exporter's `otlp_proto` message value), for 1000 spans (~0.5 MB, under the
//! broker's 1 MiB default message limit) and 100 spans.
//!
//! - Fixed runs (the figures; printed to stderr as `kafka_clients ...` lines): for each payload,
//!   codec (none, zstd) and client, `MESSAGES` messages are produced to a fresh one-partition
//!   topic with 64 in flight, every ack awaited (rdkafka: `FutureProducer`, `acks=1`,
//!   `linger.ms=1`; rskafka: one `PartitionClient::produce` call per message, whose acks are
//!   always `-1`, the same as `1` on a one-replica topic); then read back from offset 0
//!   (rdkafka: `StreamConsumer` assigned partition 0 from the beginning; rskafka: a
//!   `fetch_records` loop), 4 MiB per fetch for both. Wall time gives messages/s and MB/s (of
//!   uncompressed payload), and the process's CPU time (`getrusage`, all threads: the client's
//!   own threads included, the broker's not) gives CPU per message. Each case runs `REPEATS`
//!   times, interleaved between the clients; the medians are printed.
//! - Criterion group `produce_one_acked/<client>`: one 100-span message produced and its ack
//!   awaited, one at a time (rdkafka with `linger.ms=0`): the client's round trip.
//!
//! Under `cargo test --benches` (criterion's test mode, no `--bench` argument) the fixed runs
//! use 20 messages, once, and every message read back is compared with the one produced.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use otlp_benches::payloads::traces_request;
use otlp_proto::Message as _;
use rdkafka::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer as _};
use rdkafka::{Offset, TopicPartitionList};
use rskafka::chrono::DateTime;
use rskafka::client::ClientBuilder;
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::record::Record;
use tokio::task::JoinHandle;

/// Messages per fixed run in bench mode.
const MESSAGES: usize = 2000;
/// Messages per fixed run in test mode.
const TEST_MESSAGES: usize = 20;
/// Repeats of each fixed run in bench mode (the medians are printed).
const REPEATS: usize = 5;
/// Produce requests awaited at once, for both clients.
const IN_FLIGHT: usize = 64;
/// Bytes per fetch (per partition) for both consumers.
const FETCH_BYTES: i32 = 4 * 1024 * 1024;
/// Spans per message of the fixed runs.
const SIZES: [usize; 2] = [1000, 100];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Client {
    Rdkafka,
    Rskafka,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Self::Rdkafka => "rdkafka",
            Self::Rskafka => "rskafka",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Codec {
    None,
    Zstd,
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Zstd => "zstd",
        }
    }
}

/// CPU time this process used so far (user + system, all threads).
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we own; nothing else is touched.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// The wall clock, as a record timestamp (librdkafka stamps its messages with it too).
fn now_millis() -> DateTime<rskafka::chrono::Utc> {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    DateTime::from_timestamp_millis(millis as i64).unwrap()
}

/// Wall and CPU time of one timed section, and when its first message arrived (consume).
#[derive(Clone, Copy)]
struct Cost {
    wall: Duration,
    cpu: Duration,
    first: Option<Duration>,
}

/// Times `work`, which returns the instant its first message arrived, if it reads messages.
async fn timed<F: std::future::Future<Output = Option<Instant>>>(work: F) -> Cost {
    let cpu = cpu_time();
    let started = Instant::now();
    let first = work.await;
    Cost {
        wall: started.elapsed(),
        cpu: cpu_time() - cpu,
        first: first.map(|at| at - started),
    }
}

/// The broker, its admin client, and fresh topics on it.
struct Broker {
    bootstrap: String,
    admin: AdminClient<DefaultClientContext>,
}

impl Broker {
    fn new(bootstrap: &str) -> Self {
        let admin = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .create()
            .unwrap();
        Self {
            bootstrap: bootstrap.to_owned(),
            admin,
        }
    }

    async fn fresh_topic(&self, label: &str) -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let topic = format!("kafka-clients-{label}-{}-{nanos}", std::process::id());
        let results = self
            .admin
            .create_topics(
                &[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
                &AdminOptions::new(),
            )
            .await
            .unwrap();
        for result in results {
            result.unwrap();
        }
        topic
    }

    async fn delete(&self, topic: &str) {
        for result in self
            .admin
            .delete_topics(&[topic], &AdminOptions::new())
            .await
            .unwrap()
        {
            result.unwrap();
        }
    }
}

enum Producer {
    Rdkafka {
        producer: FutureProducer,
        topic: String,
    },
    Rskafka {
        partition: Arc<PartitionClient>,
        compression: Compression,
    },
}

/// One message's ack, awaited later.
enum Pending {
    Rdkafka(DeliveryFuture),
    Rskafka(JoinHandle<Result<Vec<i64>, rskafka::client::error::Error>>),
}

impl Pending {
    async fn acked(self) {
        match self {
            Self::Rdkafka(delivery) => {
                delivery.await.unwrap().map_err(|(e, _)| e).unwrap();
            }
            Self::Rskafka(task) => {
                let offsets = task.await.unwrap().unwrap();
                assert_eq!(offsets.len(), 1);
            }
        }
    }
}

impl Producer {
    /// A connected producer: connection and the topic's metadata are set up outside the timing.
    async fn new(
        client: Client,
        broker: &Broker,
        topic: &str,
        codec: Codec,
        linger_ms: u32,
    ) -> Self {
        match client {
            Client::Rdkafka => {
                let producer: FutureProducer = rdkafka::ClientConfig::new()
                    .set("bootstrap.servers", &broker.bootstrap)
                    .set("acks", "1")
                    .set("compression.type", codec.name())
                    .set("linger.ms", linger_ms.to_string())
                    .create()
                    .unwrap();
                let metadata = producer
                    .client()
                    .fetch_metadata(Some(topic), Duration::from_secs(10))
                    .unwrap();
                assert_eq!(metadata.topics()[0].partitions().len(), 1);
                Self::Rdkafka {
                    producer,
                    topic: topic.to_owned(),
                }
            }
            Client::Rskafka => {
                let client = ClientBuilder::new(vec![broker.bootstrap.clone()])
                    .build()
                    .await
                    .unwrap();
                let partition = client
                    .partition_client(topic.to_owned(), 0, UnknownTopicHandling::Retry)
                    .await
                    .unwrap();
                let compression = match codec {
                    Codec::None => Compression::NoCompression,
                    Codec::Zstd => Compression::Zstd,
                };
                Self::Rskafka {
                    partition: Arc::new(partition),
                    compression,
                }
            }
        }
    }

    fn send(&self, payload: &Bytes) -> Pending {
        match self {
            Self::Rdkafka { producer, topic } => {
                let record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic)
                    .partition(0)
                    .payload(payload.as_ref());
                Pending::Rdkafka(producer.send_result(record).map_err(|(e, _)| e).unwrap())
            }
            Self::Rskafka {
                partition,
                compression,
            } => {
                let partition = Arc::clone(partition);
                let compression = *compression;
                let payload = payload.clone();
                Pending::Rskafka(tokio::spawn(async move {
                    let record = Record {
                        key: None,
                        value: Some(payload.to_vec()),
                        headers: BTreeMap::new(),
                        timestamp: now_millis(),
                    };
                    partition.produce(vec![record], compression).await
                }))
            }
        }
    }

    /// Produces `messages` copies of `payload` with at most `in_flight` unacknowledged, and
    /// waits for every ack.
    async fn produce(&self, payload: &Bytes, messages: usize, in_flight: usize) {
        let mut pending = VecDeque::with_capacity(in_flight);
        for _ in 0..messages {
            if pending.len() == in_flight
                && let Some(oldest) = pending.pop_front()
            {
                Pending::acked(oldest).await;
            }
            pending.push_back(self.send(payload));
        }
        for ack in pending {
            ack.acked().await;
        }
    }
}

/// Reads `messages` messages from offset 0 of partition 0 and checks each against `payload`
/// (its length; every byte when `every_byte`).
async fn consume(
    client: Client,
    broker: &Broker,
    topic: &str,
    payload: &Bytes,
    messages: usize,
    every_byte: bool,
) -> Cost {
    let check = |value: &[u8]| {
        assert_eq!(value.len(), payload.len());
        if every_byte {
            assert_eq!(value, payload.as_ref());
        }
    };
    match client {
        Client::Rdkafka => {
            let consumer: StreamConsumer = rdkafka::ClientConfig::new()
                .set("bootstrap.servers", &broker.bootstrap)
                .set("group.id", format!("{topic}-reader"))
                .set("enable.auto.commit", "false")
                .set("max.partition.fetch.bytes", FETCH_BYTES.to_string())
                .create()
                .unwrap();
            // Connected and the topic's metadata known before the timing, as rskafka's
            // partition client is once built (else the first message waits ~0.5 s for them).
            consumer
                .fetch_metadata(Some(topic), Duration::from_secs(10))
                .unwrap();
            let mut assignment = TopicPartitionList::new();
            assignment
                .add_partition_offset(topic, 0, Offset::Beginning)
                .unwrap();
            timed(async {
                consumer.assign(&assignment).unwrap();
                let mut first = None;
                for expected in 0..messages {
                    let message = consumer.recv().await.unwrap();
                    first.get_or_insert_with(Instant::now);
                    assert_eq!(message.offset(), expected as i64);
                    check(message.payload().unwrap_or_default());
                }
                first
            })
            .await
        }
        Client::Rskafka => {
            let client = ClientBuilder::new(vec![broker.bootstrap.clone()])
                .build()
                .await
                .unwrap();
            let partition = client
                .partition_client(topic.to_owned(), 0, UnknownTopicHandling::Retry)
                .await
                .unwrap();
            timed(async {
                let mut next = 0_i64;
                let mut first = None;
                while next < messages as i64 {
                    let (records, _high_watermark) = partition
                        .fetch_records(next, 1..FETCH_BYTES, 500)
                        .await
                        .unwrap();
                    if !records.is_empty() {
                        first.get_or_insert_with(Instant::now);
                    }
                    for record in records {
                        assert_eq!(record.offset, next);
                        check(record.record.value.as_deref().unwrap_or_default());
                        next += 1;
                    }
                }
                first
            })
            .await
        }
    }
}

/// One case's produce and consume costs.
struct Run {
    produce: Cost,
    consume: Cost,
}

async fn fixed_run(
    broker: &Broker,
    client: Client,
    codec: Codec,
    payload: &Bytes,
    messages: usize,
    every_byte: bool,
) -> Run {
    let topic = broker.fresh_topic(client.name()).await;
    let producer = Producer::new(client, broker, &topic, codec, 1).await;
    let produce = timed(async {
        producer.produce(payload, messages, IN_FLIGHT).await;
        None
    })
    .await;
    drop(producer);
    let consume = consume(client, broker, &topic, payload, messages, every_byte).await;
    broker.delete(&topic).await;
    Run { produce, consume }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// `messages/s` (its range), `MB/s` and `µs CPU/message`: the medians of `costs`.
fn figures(costs: &[Cost], messages: usize, payload_bytes: usize) -> String {
    let rate = median(
        costs
            .iter()
            .map(|c| messages as f64 / c.wall.as_secs_f64())
            .collect(),
    );
    let cpu = median(
        costs
            .iter()
            .map(|c| c.cpu.as_secs_f64() * 1e6 / messages as f64)
            .collect(),
    );
    let rates = costs.iter().map(|c| messages as f64 / c.wall.as_secs_f64());
    let low = rates.clone().fold(f64::INFINITY, f64::min);
    let high = rates.fold(0.0, f64::max);
    let megabytes = rate * payload_bytes as f64 / 1e6;
    let mut line = format!(
        "{rate:>6.0} msg/s ({low:.0}-{high:.0}) {megabytes:>6.1} MB/s {cpu:>6.1} µs CPU/msg"
    );
    let firsts: Vec<f64> = costs
        .iter()
        .filter_map(|c| Some(c.first?.as_secs_f64() * 1e3))
        .collect();
    if !firsts.is_empty() {
        let first = median(firsts);
        let steady = median(
            costs
                .iter()
                .filter_map(|c| {
                    let rest = c.wall.checked_sub(c.first?)?.as_secs_f64();
                    Some((messages - 1) as f64 / rest.max(1e-9))
                })
                .collect(),
        );
        line.push_str(&format!(
            ", first message after {first:.0} ms, {steady:.0} msg/s after it"
        ));
    }
    line
}

fn fixed_runs(runtime: &tokio::runtime::Runtime, broker: &Broker, bench_mode: bool) {
    let (messages, repeats) = if bench_mode {
        (MESSAGES, REPEATS)
    } else {
        (TEST_MESSAGES, 1)
    };
    let mut lines = Vec::new();
    for spans in SIZES {
        let payload = Bytes::from(traces_request(42, 4, spans).encode_to_vec());
        for codec in [Codec::None, Codec::Zstd] {
            let mut runs: Vec<(Client, Run)> = Vec::new();
            for _ in 0..repeats {
                for client in [Client::Rdkafka, Client::Rskafka] {
                    let run = runtime.block_on(fixed_run(
                        broker,
                        client,
                        codec,
                        &payload,
                        messages,
                        !bench_mode,
                    ));
                    runs.push((client, run));
                }
            }
            for client in [Client::Rdkafka, Client::Rskafka] {
                let mine = runs.iter().filter(|(c, _)| *c == client).map(|(_, r)| r);
                let produce: Vec<Cost> = mine.clone().map(|r| r.produce).collect();
                let consume: Vec<Cost> = mine.map(|r| r.consume).collect();
                let head = format!(
                    "kafka_clients {spans:>4} spans ({:>6} B) {:<4} {:<7}",
                    payload.len(),
                    codec.name(),
                    client.name()
                );
                lines.push(format!(
                    "{head} produce: {}",
                    figures(&produce, messages, payload.len())
                ));
                lines.push(format!(
                    "{head} consume: {}",
                    figures(&consume, messages, payload.len())
                ));
            }
        }
    }
    eprintln!(
        "kafka_clients: {messages} messages per run, {repeats} run(s) per case, medians; \
         {IN_FLIGHT} produce requests in flight"
    );
    for line in lines {
        eprintln!("{line}");
    }
}

fn bench(c: &mut Criterion) {
    let Some(bootstrap) = std::env::var("OTLP_KAFKA_BOOTSTRAP")
        .ok()
        .filter(|b| !b.trim().is_empty())
    else {
        eprintln!("kafka_clients: OTLP_KAFKA_BOOTSTRAP is unset; nothing measured");
        return;
    };
    // `cargo bench` passes `--bench`; `cargo test --benches` does not (criterion's test mode).
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let broker = Broker::new(&bootstrap);

    let payload = Bytes::from(traces_request(42, 4, 100).encode_to_vec());
    let mut group = c.benchmark_group("produce_one_acked");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for client in [Client::Rdkafka, Client::Rskafka] {
        let topic = runtime.block_on(broker.fresh_topic("one"));
        let producer = runtime.block_on(Producer::new(client, &broker, &topic, Codec::None, 0));
        group.bench_function(client.name(), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let started = Instant::now();
                    producer.produce(&payload, iters as usize, 1).await;
                    started.elapsed()
                })
            });
        });
        drop(producer);
        runtime.block_on(broker.delete(&topic));
    }
    group.finish();

    fixed_runs(&runtime, &broker, bench_mode);
}

criterion_group!(benches, bench);
criterion_main!(benches);
