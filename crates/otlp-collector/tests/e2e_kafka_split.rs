//! The `kafka` exporter against a topic that accepts less than it sends, on a real broker (the
//! shared one of `interop_support/kafka.rs`: `OTLP_KAFKA_BOOTSTRAP`, else a broker started from
//! the `kafka-broker` peer; skipped when neither exists).
//!
//! The topic is created with `max.message.bytes: 60000`; the agent (otlp → kafka exporter)
//! keeps the default `producer::max_message_bytes` (1 000 000), so Kafka refuses its messages
//! (and batches) as too large. Requests of ~1 MB (2000 spans each) must still all arrive:
//! read back from the topic directly, every span id exactly once, no message over 60 000
//! bytes, and the collector counts every span as sent. One span that alone is larger than the
//! topic accepts is counted as failed, not retried forever, and nothing else is lost with it.
//! Both with the sending queue (the default) and without it (with `required_acks: all`, the
//! idempotent producer).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod kafka_e2e;
mod support;

use kafka_e2e::{PATIENCE, kafka_support, scrape};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::client::Protocol;
use prost::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message as _;
use rdkafka::{Offset, TopicPartitionList};
use support::{Proc, Timer, client, free_addr, ids, start_collector, temp_dir, traces, wait_until};

/// The topic's `max.message.bytes`.
const TOPIC_LIMIT: usize = 60_000;
/// The warning the exporter logs once per topic that refused.
const ADVICE: &str = "set producer::max_message_bytes to the topic's max.message.bytes";

async fn create_small_topic(bootstrap: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let limit = TOPIC_LIMIT.to_string();
    let new_topic =
        NewTopic::new(topic, 1, TopicReplication::Fixed(1)).set("max.message.bytes", &limit);
    let results = admin
        .create_topics(
            &[new_topic],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(20))),
        )
        .await
        .unwrap();
    for result in results {
        result.unwrap_or_else(|(topic, code)| panic!("creating {topic}: {code}"));
    }
}

/// An agent: OTLP/gRPC in on `otlp`, the kafka exporter out, its metrics on `metrics`.
fn agent_config(
    otlp: SocketAddr,
    metrics: SocketAddr,
    bootstrap: &str,
    topic: &str,
    exporter_extra: &str,
) -> String {
    format!(
        "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {otlp}
exporters:
  kafka:
    brokers: [{bootstrap}]
    traces:
      topic: {topic}
{exporter_extra}
service:
  telemetry:
    metrics:
      address: {metrics}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [kafka]
"
    )
}

/// Every message of partition 0 of `topic`, from the first to the high watermark.
fn read_topic(bootstrap: &str, topic: &str) -> Vec<Vec<u8>> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", kafka_support::unique_name("split-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let (low, high) = consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(20))
        .unwrap();
    let mut partitions = TopicPartitionList::new();
    partitions
        .add_partition_offset(topic, 0, Offset::Offset(low))
        .unwrap();
    consumer.assign(&partitions).unwrap();
    let mut values = Vec::new();
    let mut next = low;
    let deadline = Instant::now() + PATIENCE;
    while next < high {
        assert!(
            Instant::now() < deadline,
            "read {} of {} messages of {topic}",
            next - low,
            high - low
        );
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                next = message.offset() + 1;
                values.push(message.payload().unwrap_or_default().to_vec());
            }
            Some(Err(error)) => panic!("reading {topic}: {error}"),
            None => {}
        }
    }
    values
}

/// Span id → how many times it is in `values`.
fn span_counts(values: &[Vec<u8>]) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for value in values {
        let request = ExportTraceServiceRequest::decode(&value[..]).unwrap();
        for span in request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
        {
            let id = u64::from_be_bytes(span.span_id.as_slice().try_into().unwrap());
            *counts.entry(id).or_default() += 1;
        }
    }
    counts
}

async fn start(config: &str) -> (Proc, tempfile::TempDir) {
    let dir = temp_dir("kafka-split-agent");
    let path = support::write(dir.path(), "collector.yaml", config);
    let proc = start_collector("kafka-split-agent", &path, &[]).await;
    (proc, dir)
}

/// Requests of 2000 spans (~1 MB each) and one lone span larger than the topic accepts, to an
/// agent whose exporter has `exporter_extra`: every other span lands once, in messages that
/// fit, and is counted as sent.
async fn every_span_lands_once_in_messages_that_fit(case: &str, exporter_extra: &str) {
    let Some(bootstrap) = kafka_support::bootstrap() else {
        return;
    };
    let topic = kafka_support::unique_name(&format!("e2e-split-{case}"));
    create_small_topic(&bootstrap, &topic).await;
    let (otlp, metrics) = (free_addr(), free_addr());
    let (mut agent, _dir) = start(&agent_config(
        otlp,
        metrics,
        &bootstrap,
        &topic,
        exporter_extra,
    ))
    .await;
    let client = client(Protocol::Grpc, otlp);

    let mut sent = Vec::new();
    for round in 0..5 {
        let batch = ids(2000);
        let request = traces(&batch, 370);
        let size = request.encoded_len();
        assert!(
            (800_000..1_000_000).contains(&size),
            "a request of {size} bytes"
        );
        client
            .export(&request)
            .await
            .unwrap_or_else(|e| panic!("{case}: request {round}: {e}\n{}", agent.tail()));
        sent.extend(batch);
        if round == 2 {
            // One span larger than the topic accepts, alone in its request.
            let lone = ids(1);
            let request = traces(&lone, 2 * TOPIC_LIMIT);
            client
                .export(&request)
                .await
                .unwrap_or_else(|e| panic!("{case}: the lone span: {e}\n{}", agent.tail()));
        }
    }

    let expected = sent.len() as f64;
    wait_until(
        PATIENCE,
        || {
            format!(
                "{case}: {} of {expected} spans counted as sent, {} failed\n{}",
                scrape(metrics, "otelcol_exporter_sent_spans_total"),
                scrape(metrics, "otelcol_exporter_send_failed_spans_total"),
                agent.tail()
            )
        },
        || {
            scrape(metrics, "otelcol_exporter_sent_spans_total") == expected
                && scrape(metrics, "otelcol_exporter_send_failed_spans_total") == 1.0
        },
    )
    .await;

    let values = read_topic(&bootstrap, &topic);
    let largest = values.iter().map(Vec::len).max().unwrap_or(0);
    assert!(
        largest <= TOPIC_LIMIT,
        "{case}: a message of {largest} bytes"
    );
    let counts = span_counts(&values);
    let duplicated: Vec<(&u64, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicated.is_empty(),
        "{case}: {} spans more than once, e.g. {:?}",
        duplicated.len(),
        &duplicated[..duplicated.len().min(5)]
    );
    let landed: Vec<u64> = counts.keys().copied().collect();
    assert_eq!(landed.len(), sent.len(), "{case}: spans in the topic");
    assert_eq!(
        landed, sent,
        "{case}: exactly the spans sent, the lone one not"
    );
    eprintln!(
        "[e2e] kafka split, {case}: {} spans in {} messages, the largest {largest} bytes",
        sent.len(),
        values.len()
    );

    // The advice is logged once for the topic, and the agent stops cleanly (both producers
    // flushed).
    let logged = agent.stderr().matches(ADVICE).count();
    assert_eq!(
        logged,
        1,
        "{case}: the advice logged {logged} times\n{}",
        agent.tail()
    );
    agent.assert_running();
    agent.terminate();
    let status = agent.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{case}: {status}\n{}", agent.tail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_sending_queue_every_span_lands_once_in_messages_that_fit() {
    let _timer = Timer::start("kafka: a topic smaller than max_message_bytes, sending queue");
    every_span_lands_once_in_messages_that_fit("queue", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_queue_and_acks_all_every_span_lands_once_in_messages_that_fit() {
    let _timer = Timer::start("kafka: a topic smaller than max_message_bytes, no queue, acks all");
    every_span_lands_once_in_messages_that_fit(
        "no-queue",
        "    sending_queue:\n      enabled: false\n    producer:\n      required_acks: all",
    )
    .await;
}
