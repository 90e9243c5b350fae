//! The `kafka` exporter and receiver end to end, against a real broker (the shared one of
//! `interop_support/kafka.rs`: `OTLP_KAFKA_BOOTSTRAP`, else a broker started from the
//! `kafka-broker` peer; skipped when neither exists):
//!
//! 1. agent (otlp → kafka exporter) → broker → gateway (kafka receiver → otlp) → sink: every
//!    span arrives, with `otlp_proto` and with `otlp_json`;
//! 2. the Kafka tier: agent → a 4-partition topic → two gateways in one consumer group; one
//!    is killed with SIGKILL under load and every span the agent acknowledged still arrives
//!    (the union of both sinks) once the survivor took over its partitions;
//! 3. garbage bytes in the topic are counted and skipped; later messages still arrive;
//! 4. a sink that refuses retryably for a while: nothing lost, and the receiver retries with
//!    backoff (attempts counted), no hot loop; one that refuses a message for good: counted,
//!    skipped after one attempt, the messages after it delivered;
//! 5. interop with the Go collector (`otelcol-contrib-go`, peer): our exporter → Go's kafka
//!    receiver, and Go's kafka exporter → our receiver.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod kafka_e2e;
mod support;

use kafka_e2e::{
    PATIENCE, QUIET, agent_config, gateway_config, kafka_support, scrape, span_set, start, unique,
};

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::client::{OtlpExporter, Protocol};
use otlp_transport::server::{ExportHandler, Receiver, RequestContext, RunningReceiver};
use otlp_transport::{PartialSuccess, Refusal};
use prost::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use support::{
    Peer, Proc, RunningSink, Timer, client, free_addr, ids, temp_dir, traces, wait_until, write,
};

/// The broker, or `None` (the test is skipped).
fn broker() -> Option<String> {
    kafka_support::bootstrap()
}

async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(20))),
        )
        .await
        .unwrap();
    for result in results {
        result.unwrap_or_else(|(topic, code)| panic!("creating {topic}: {code}"));
    }
}

/// Produces `values` to `topic` directly (not through a collector).
async fn produce(bootstrap: &str, topic: &str, values: &[Vec<u8>]) {
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("message.timeout.ms", "20000")
        .create()
        .unwrap();
    for value in values {
        producer
            .send(
                FutureRecord::<[u8], [u8]>::to(topic).payload(&value[..]),
                Duration::from_secs(20),
            )
            .await
            .unwrap_or_else(|(e, _)| panic!("producing to {topic}: {e}"));
    }
}

/// Sends `requests` requests of `per_request` spans; returns the span ids acknowledged.
async fn send(client: &OtlpExporter, requests: usize, per_request: usize) -> Vec<u64> {
    let mut acknowledged = Vec::new();
    for _ in 0..requests {
        let batch = ids(per_request);
        client.export(&traces(&batch, 64)).await.unwrap();
        acknowledged.extend(batch);
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_to_gateway_through_kafka_every_span_arrives_in_both_encodings() {
    let Some(bootstrap) = broker() else { return };
    let _timer = Timer::start("kafka: agent → broker → gateway, proto and json");
    for encoding in ["otlp_proto", "otlp_json"] {
        let topic = unique(&format!("e2e-{encoding}"));
        let sink = RunningSink::start().await;
        let agent_in = free_addr();
        let exporter =
            format!("      encoding: {encoding}\n    producer:\n      required_acks: all");
        let (mut agent, _a) = start(
            "kafka-agent",
            &agent_config(agent_in, &bootstrap, &topic, "", &exporter, QUIET),
        )
        .await;
        let receiver = format!("      encoding: {encoding}");
        let (mut gateway, _g) = start(
            "kafka-gateway",
            &gateway_config(
                &bootstrap,
                &topic,
                &unique("group"),
                &receiver,
                sink.grpc,
                QUIET,
            ),
        )
        .await;
        let client = client(Protocol::Grpc, agent_in);
        let sent: BTreeSet<u64> = send(&client, 20, 25).await.into_iter().collect();
        sink.wait_for_with(
            &format!("{encoding}: all 500 spans"),
            PATIENCE,
            |r| sent.is_subset(&r.span_set()),
            || format!("{}\n{}", agent.tail(), gateway.tail()),
        )
        .await;
        // Exactly what was sent: nothing altered on the way, nothing invented.
        assert_eq!(span_set(&sink), sent, "{encoding}");
        sink.with(|r| {
            let span = &r.traces[0].resource_spans[0].scope_spans[0].spans[0];
            assert!(span.name.starts_with("e2e span "), "{encoding}: {span:?}");
            assert_eq!(span.attributes.len(), 2, "{encoding}");
        });
        agent.assert_running();
        gateway.assert_running();
        // Both stop cleanly: the producer flushes, the consumer commits and leaves its group.
        for process in [&mut agent, &mut gateway] {
            process.terminate();
            let status = process.wait_exit(Duration::from_secs(30)).await;
            assert!(status.success(), "{status}\n{}", process.tail());
        }
        sink.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_in_one_group_lose_nothing_when_one_is_killed() {
    let Some(bootstrap) = broker() else { return };
    let _timer = Timer::start("kafka: tier with a consumer group and kill -9");
    let topic = unique("e2e-tier");
    create_topic(&bootstrap, &topic, 4).await;
    let group = unique("tier-group");
    let agent_in = free_addr();
    let exporter = "    partition_traces_by_id: true\n    sending_queue:\n      enabled: false\n    producer:\n      required_acks: all";
    let (mut agent, _a) = start(
        "kafka-agent",
        &agent_config(agent_in, &bootstrap, &topic, "", exporter, QUIET),
    )
    .await;
    let receiver = "    session_timeout: 6s\n    heartbeat_interval: 1s\n    autocommit:\n      interval: 500ms";
    let sinks = [RunningSink::start().await, RunningSink::start().await];
    let (mut doomed, _d) = start(
        "kafka-gateway-a",
        &gateway_config(&bootstrap, &topic, &group, receiver, sinks[0].grpc, QUIET),
    )
    .await;
    let (mut survivor, _s) = start(
        "kafka-gateway-b",
        &gateway_config(&bootstrap, &topic, &group, receiver, sinks[1].grpc, QUIET),
    )
    .await;

    // Load until told to stop: requests of 10 spans, each span its own trace (so its own key).
    let acknowledged = Arc::new(Mutex::new(Vec::<u64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
        let client = client(Protocol::Grpc, agent_in);
        tokio::spawn(async move {
            let started = Instant::now();
            while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                let batch = ids(10);
                if client.export(&traces(&batch, 32)).await.is_ok() {
                    acknowledged.lock().unwrap().extend(batch);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    // Both gateways own partitions and deliver before one of them dies.
    let tails = || format!("{}\n{}\n{}", agent.tail(), doomed.tail(), survivor.tail());
    wait_until(
        PATIENCE,
        || {
            format!(
                "both gateways delivering: {} and {} spans\n{}",
                span_set(&sinks[0]).len(),
                span_set(&sinks[1]).len(),
                tails()
            )
        },
        || !span_set(&sinks[0]).is_empty() && !span_set(&sinks[1]).is_empty(),
    )
    .await;
    doomed.kill9();
    let survivor_before = span_set(&sinks[1]).len();
    // The load goes on across the rebalance.
    let more = acknowledged.lock().unwrap().len() + 1000;
    wait_until(
        PATIENCE,
        || "1000 more spans acknowledged".into(),
        || acknowledged.lock().unwrap().len() >= more,
    )
    .await;
    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();
    let acknowledged: BTreeSet<u64> = acknowledged.lock().unwrap().iter().copied().collect();
    let union = || -> BTreeSet<u64> {
        span_set(&sinks[0])
            .union(&span_set(&sinks[1]))
            .copied()
            .collect()
    };
    wait_until(
        Duration::from_secs(90),
        || {
            let missing = acknowledged.difference(&union()).count();
            format!(
                "{missing} of {} acknowledged spans not delivered\n{}",
                acknowledged.len(),
                survivor.tail()
            )
        },
        || acknowledged.is_subset(&union()),
    )
    .await;
    let delivered: usize = sinks.iter().map(|s| s.with(|r| r.spans.len())).sum();
    eprintln!(
        "[e2e] kafka tier: {} acknowledged, {} deliveries ({} duplicates), survivor {} → {}",
        acknowledged.len(),
        delivered,
        delivered - union().len(),
        survivor_before,
        span_set(&sinks[1]).len()
    );
    assert!(
        span_set(&sinks[1]).len() > survivor_before,
        "the survivor took over"
    );
    survivor.assert_running();
    agent.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_counted_and_skipped_and_later_messages_arrive() {
    let Some(bootstrap) = broker() else { return };
    let _timer = Timer::start("kafka: garbage in the topic");
    let topic = unique("e2e-garbage");
    let sink = RunningSink::start().await;
    let metrics = free_addr();
    let telemetry = format!("  telemetry:\n    metrics:\n      address: {metrics}\n");
    let before = ids(10);
    let after = ids(10);
    produce(
        &bootstrap,
        &topic,
        &[
            traces(&before, 0).encode_to_vec(),
            vec![0xff, 0xff, 0xff, 0xff, 0x0f],
            b"not protobuf at all".to_vec(),
            traces(&after, 0).encode_to_vec(),
        ],
    )
    .await;
    let (mut gateway, _g) = start(
        "kafka-gateway",
        &gateway_config(
            &bootstrap,
            &topic,
            &unique("group"),
            "",
            sink.grpc,
            &telemetry,
        ),
    )
    .await;
    let expected: BTreeSet<u64> = before.iter().chain(&after).copied().collect();
    sink.wait_for_with(
        "the spans around the garbage",
        PATIENCE,
        |r| expected.is_subset(&r.span_set()),
        || gateway.tail(),
    )
    .await;
    wait_until(
        PATIENCE,
        || format!("2 unmarshal failures counted\n{}", gateway.tail()),
        || {
            scrape(
                metrics,
                "otelcol_kafka_receiver_unmarshal_failed_spans_total",
            ) == 2.0
        },
    )
    .await;
    assert_eq!(
        scrape(metrics, "otelcol_receiver_accepted_spans_total"),
        20.0
    );
    assert!(
        gateway.stderr().contains("cannot be decoded"),
        "{}",
        gateway.tail()
    );
    gateway.assert_running();
}

/// A sink that refuses every request retryably until `open` is set, counting attempts.
#[derive(Clone, Default)]
struct RefusingSink {
    open: Arc<AtomicBool>,
    attempts: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
    spans: Arc<Mutex<Vec<u64>>>,
    /// A span id whose requests are refused permanently (0: none).
    poison: Arc<AtomicU64>,
    /// Attempts of requests holding the poison span.
    poisoned: Arc<AtomicU64>,
}

#[async_trait::async_trait]
impl ExportHandler for RefusingSink {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        _context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let poison = self.poison.load(Ordering::SeqCst);
        let poisoned = request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .any(|span| span.span_id.as_slice() == poison.to_be_bytes());
        if poison != 0 && poisoned {
            self.poisoned.fetch_add(1, Ordering::SeqCst);
            return Err(Refusal::rejected("this request is refused for good"));
        }
        if !self.open.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Refusal::retryable("busy"));
        }
        let mut spans = self.spans.lock().unwrap();
        for span in request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
        {
            spans.push(u64::from_be_bytes(
                span.span_id.as_slice().try_into().unwrap(),
            ));
        }
        Ok(None)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_refusals_are_retried_with_backoff_and_nothing_is_lost() {
    let Some(bootstrap) = broker() else { return };
    let _timer = Timer::start("kafka: a destination refusing retryably");
    let topic = unique("e2e-refusing");
    let sink = RefusingSink::default();
    let running: RunningReceiver = Receiver::new(sink.clone())
        .grpc(([127, 0, 0, 1], 0).into())
        .start()
        .await
        .unwrap();
    let sink_addr = running.grpc_local_addr().unwrap();
    let batches: Vec<Vec<u64>> = (0..5).map(|_| ids(10)).collect();
    let values: Vec<Vec<u8>> = batches
        .iter()
        .map(|b| traces(b, 0).encode_to_vec())
        .collect();
    produce(&bootstrap, &topic, &values).await;
    let (mut gateway, _g) = start(
        "kafka-gateway",
        &gateway_config(&bootstrap, &topic, &unique("group"), "", sink_addr, QUIET),
    )
    .await;
    // Refused for a while: the first message is retried, with growing pauses.
    wait_until(
        PATIENCE,
        || format!("a refusal\n{}", gateway.tail()),
        || sink.refused.load(Ordering::SeqCst) >= 1,
    )
    .await;
    let first_refusal = Instant::now();
    wait_until(
        PATIENCE,
        || format!("5 refusals\n{}", gateway.tail()),
        || sink.refused.load(Ordering::SeqCst) >= 5,
    )
    .await;
    let four_retries = first_refusal.elapsed();
    sink.open.store(true, Ordering::SeqCst);
    let expected: BTreeSet<u64> = batches.iter().flatten().copied().collect();
    wait_until(
        PATIENCE,
        || format!("all 50 spans after the refusals\n{}", gateway.tail()),
        || expected.is_subset(&sink.spans.lock().unwrap().iter().copied().collect()),
    )
    .await;
    // Backoff, not a hot loop: four retries wait 100 + 200 + 400 + 800 ms (±20 %).
    assert!(
        four_retries >= Duration::from_millis(1100),
        "4 retries within {four_retries:?}"
    );
    // Only the first message was attempted while refused (its partition waits): at most one
    // attempt more was in flight when the sink opened.
    let refused = sink.refused.load(Ordering::SeqCst);
    assert!((5..=6).contains(&refused), "{refused} refused attempts");
    let delivered = sink.spans.lock().unwrap().len();
    assert_eq!(
        delivered, 50,
        "each message delivered once after the refusals"
    );
    gateway.assert_running();
    running.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_is_counted_and_skipped_without_a_retry() {
    let Some(bootstrap) = broker() else { return };
    let _timer = Timer::start("kafka: a destination refusing one message for good");
    let topic = unique("e2e-permanent");
    let sink = RefusingSink::default();
    sink.open.store(true, Ordering::SeqCst);
    let running: RunningReceiver = Receiver::new(sink.clone())
        .grpc(([127, 0, 0, 1], 0).into())
        .start()
        .await
        .unwrap();
    let sink_addr = running.grpc_local_addr().unwrap();
    let (before, bad, after) = (ids(10), ids(10), ids(10));
    sink.poison.store(bad[0], Ordering::SeqCst);
    let values: Vec<Vec<u8>> = [&before, &bad, &after]
        .iter()
        .map(|b| traces(b, 0).encode_to_vec())
        .collect();
    produce(&bootstrap, &topic, &values).await;
    let metrics = free_addr();
    let telemetry = format!("  telemetry:\n    metrics:\n      address: {metrics}\n");
    let (mut gateway, _g) = start(
        "kafka-gateway",
        &gateway_config(
            &bootstrap,
            &topic,
            &unique("group"),
            "",
            sink_addr,
            &telemetry,
        ),
    )
    .await;
    let expected: BTreeSet<u64> = before.iter().chain(&after).copied().collect();
    wait_until(
        PATIENCE,
        || format!("the spans around the refused message\n{}", gateway.tail()),
        || expected.is_subset(&sink.spans.lock().unwrap().iter().copied().collect()),
    )
    .await;
    wait_until(
        PATIENCE,
        || format!("10 refused spans counted\n{}", gateway.tail()),
        || scrape(metrics, "otelcol_receiver_refused_spans_total") == 10.0,
    )
    .await;
    // Skipped, not retried: the message that follows it was delivered, and the refused one
    // was attempted once.
    assert_eq!(
        sink.poisoned.load(Ordering::SeqCst),
        1,
        "attempts of the refused message"
    );
    assert_eq!(sink.spans.lock().unwrap().len(), 20);
    assert_eq!(
        scrape(metrics, "otelcol_receiver_accepted_spans_total"),
        20.0
    );
    gateway.assert_running();
    running.shutdown(Duration::from_secs(2)).await;
}

// ---------------------------------------------------------------------------------------------
// The Go collector
// ---------------------------------------------------------------------------------------------

fn go_collector(binary: &Path, config: &str) -> (Proc, tempfile::TempDir) {
    let dir = temp_dir("kafka-go");
    let path = write(dir.path(), "config.yaml", config);
    let mut command = Command::new(binary);
    command
        .arg("--config")
        .arg(&path)
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    (Proc::spawn("otelcol-contrib-go", command), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_kafka_exporter_feeds_the_go_kafka_receiver() {
    let go = require_peer!(Peer::OtelcolContribGo);
    let Some(bootstrap) = broker() else { return };
    let _timer = Timer::start("kafka: ours → Go kafka receiver");
    let topic = unique("e2e-to-go");
    let sink = RunningSink::start().await;
    let go_config = format!(
        "receivers:
  kafka:
    brokers: [{bootstrap}]
    group_id: {group}
    initial_offset: earliest
    traces:
      topics: [{topic}]
exporters:
  otlp_grpc:
    endpoint: {sink}
    tls:
      insecure: true
service:
{QUIET}  pipelines:
    traces:
      receivers: [kafka]
      exporters: [otlp_grpc]
",
        group = unique("go-group"),
        sink = sink.grpc
    );
    let (mut go, _dir) = go_collector(&go, &go_config);
    go.wait_for_output(support::READY, Duration::from_secs(30))
        .await;
    let agent_in = free_addr();
    let exporter = "    partition_traces_by_id: true\n    producer:\n      max_message_bytes: 4000";
    let (mut agent, _a) = start(
        "kafka-agent",
        &agent_config(agent_in, &bootstrap, &topic, "", exporter, QUIET),
    )
    .await;
    // Large requests: split into many messages, one trace per message.
    let sent: BTreeSet<u64> = send(&client(Protocol::Grpc, agent_in), 10, 40)
        .await
        .into_iter()
        .collect();
    sink.wait_for_with(
        "Go received all 400 spans",
        PATIENCE,
        |r| sent.is_subset(&r.span_set()),
        || format!("{}\n{}", agent.tail(), go.tail()),
    )
    .await;
    assert_eq!(span_set(&sink), sent);
    go.terminate();
    agent.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_go_kafka_exporter_feeds_our_kafka_receiver() {
    let go = require_peer!(Peer::OtelcolContribGo);
    let Some(bootstrap) = broker() else { return };
    let _timer = Timer::start("kafka: Go kafka exporter → ours");
    let topic = unique("e2e-from-go");
    let sink = RunningSink::start().await;
    let go_in = free_addr();
    let go_config = format!(
        "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {go_in}
exporters:
  kafka:
    brokers: [{bootstrap}]
    traces:
      topic: {topic}
    partition_traces_by_id: true
service:
{QUIET}  pipelines:
    traces:
      receivers: [otlp]
      exporters: [kafka]
"
    );
    let (mut go, _dir) = go_collector(&go, &go_config);
    go.wait_for_output(support::READY, Duration::from_secs(30))
        .await;
    let (mut gateway, _g) = start(
        "kafka-gateway",
        &gateway_config(&bootstrap, &topic, &unique("group"), "", sink.grpc, QUIET),
    )
    .await;
    let sent: BTreeSet<u64> = send(&client(Protocol::Grpc, go_in), 10, 20)
        .await
        .into_iter()
        .collect();
    sink.wait_for_with(
        "all 200 spans from Go",
        PATIENCE,
        |r| sent.is_subset(&r.span_set()),
        || format!("{}\n{}", go.tail(), gateway.tail()),
    )
    .await;
    assert_eq!(span_set(&sink), sent);
    sink.with(|r| {
        let span = &r.traces[0].resource_spans[0].scope_spans[0].spans[0];
        assert!(span.name.starts_with("e2e span "), "{span:?}");
    });
    gateway.assert_running();
    go.terminate();
}
