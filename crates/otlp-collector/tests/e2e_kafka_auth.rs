//! SASL authentication of the `kafka` exporter and receiver end to end, against the real
//! broker's SASL_PLAINTEXT listener (`interop_support/kafka.rs`: `OTLP_KAFKA_SASL_BOOTSTRAP`,
//! else a broker started from the `kafka-broker` peer; skipped when neither exists), with the
//! launcher's test user for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512:
//!
//! 1. agent (otlp → kafka exporter, `auth::sasl` with one mechanism) → SASL listener →
//!    gateway (kafka receiver, another mechanism) → sink: every span arrives; each mechanism
//!    is used once by an exporter and once by a receiver (and the deprecated
//!    `auth::plain_text` once);
//! 2. an exporter with a wrong password (PLAIN, then SCRAM-SHA-512): the sender gets an error,
//!    nothing is counted as sent, the failure is counted, and the collector logs the broker's
//!    authentication error;
//! 3. a receiver with a wrong password (SCRAM-SHA-256): it logs the authentication error and
//!    delivers nothing, while the same group with the right password then reads every span.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod kafka_e2e;
mod support;

use kafka_e2e::{
    PATIENCE, QUIET, agent_config, gateway_config, kafka_support, scrape, span_set, start, unique,
};

use std::collections::BTreeSet;
use std::time::Duration;

use kafka_support::{SASL_MECHANISMS, SASL_PASSWORD, SASL_USERNAME};
use otlp_transport::client::Protocol;
use prost::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use support::{RunningSink, Timer, client, free_addr, ids, traces, wait_until};

/// The SASL listener, or `None` (the test is skipped).
fn sasl_broker() -> Option<String> {
    kafka_support::sasl_bootstrap()
}

/// An `auth:` block (indented as a component's key) for `mechanism`, then `extra` lines.
fn sasl_auth(mechanism: &str, password: &str, extra: &str) -> String {
    format!(
        "    auth:
      sasl:
        username: {SASL_USERNAME}
        password: {password}
        mechanism: {mechanism}
{extra}"
    )
}

/// Whether the output holds the broker's refusal of the credentials as librdkafka reports it.
fn logs_authentication_failure(output: &str) -> bool {
    output.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.contains("authentication") && (line.contains("failed") || line.contains("failure"))
    })
}

/// agent (exporter `exporter_auth`) → SASL listener → gateway (receiver `receiver_auth`) →
/// sink: every span the agent acknowledged arrives, unaltered, and nothing else.
async fn round_trip(label: &str, exporter_auth: &str, receiver_auth: &str) {
    let Some(bootstrap) = sasl_broker() else {
        return;
    };
    let topic = unique(&format!("auth-{label}"));
    let sink = RunningSink::start().await;
    let agent_in = free_addr();
    // Without a sending queue an acknowledgement means Kafka acknowledged.
    let exporter =
        "    sending_queue:\n      enabled: false\n    producer:\n      required_acks: all\n";
    let (mut agent, _a) = start(
        "kafka-sasl-agent",
        &agent_config(agent_in, &bootstrap, &topic, exporter_auth, exporter, QUIET),
    )
    .await;
    let (mut gateway, _g) = start(
        "kafka-sasl-gateway",
        &gateway_config(
            &bootstrap,
            &topic,
            &unique("group"),
            receiver_auth,
            sink.grpc,
            QUIET,
        ),
    )
    .await;
    let client = client(Protocol::Grpc, agent_in);
    let mut sent = BTreeSet::new();
    for _ in 0..10 {
        let batch = ids(20);
        client
            .export(&traces(&batch, 32))
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}\n{}", agent.tail()));
        sent.extend(batch);
    }
    sink.wait_for_with(
        &format!("{label}: all 200 spans"),
        PATIENCE,
        |r| sent.is_subset(&r.span_set()),
        || format!("{}\n{}", agent.tail(), gateway.tail()),
    )
    .await;
    assert_eq!(span_set(&sink), sent, "{label}");
    sink.with(|r| {
        let span = &r.traces[0].resource_spans[0].scope_spans[0].spans[0];
        assert!(span.name.starts_with("e2e span "), "{label}: {span:?}");
    });
    for process in [&mut agent, &mut gateway] {
        assert!(
            !logs_authentication_failure(&process.stderr()),
            "{label}\n{}",
            process.tail()
        );
        process.terminate();
        let status = process.wait_exit(Duration::from_secs(30)).await;
        assert!(status.success(), "{label}: {status}\n{}", process.tail());
    }
    sink.stop().await;
}

#[test]
fn the_credentials_are_the_launchers() {
    let script = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../xtask/peers/kafka/kafka-broker.sh"),
    )
    .unwrap();
    assert!(script.contains(&format!("sasl_user={SASL_USERNAME}\n")));
    assert!(script.contains(&format!("sasl_password={SASL_PASSWORD}\n")));
    assert!(script.contains(&format!(
        "sasl.enabled.mechanisms={}\n",
        SASL_MECHANISMS.join(",")
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_agent_to_scram_sha_256_gateway_every_span_arrives() {
    let _timer = Timer::start("kafka sasl: PLAIN → SCRAM-SHA-256");
    round_trip(
        "plain-to-scram-256",
        &sasl_auth("PLAIN", SASL_PASSWORD, ""),
        &sasl_auth("SCRAM-SHA-256", SASL_PASSWORD, ""),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_sha_512_agent_to_plain_gateway_every_span_arrives() {
    let _timer = Timer::start("kafka sasl: SCRAM-SHA-512 → PLAIN");
    round_trip(
        "scram-512-to-plain",
        &sasl_auth("SCRAM-SHA-512", SASL_PASSWORD, "        version: 1\n"),
        &sasl_auth("PLAIN", SASL_PASSWORD, "        version: 0\n"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_sha_256_agent_to_scram_sha_512_gateway_and_plain_text_every_span_arrives() {
    let _timer = Timer::start("kafka sasl: SCRAM-SHA-256 → SCRAM-SHA-512, plain_text");
    round_trip(
        "scram-256-to-scram-512",
        &sasl_auth("SCRAM-SHA-256", SASL_PASSWORD, ""),
        &sasl_auth("SCRAM-SHA-512", SASL_PASSWORD, ""),
    )
    .await;
    // The deprecated `auth::plain_text` is SASL PLAIN.
    let plain_text = format!(
        "    auth:\n      plain_text:\n        username: {SASL_USERNAME}\n        \
         password: {SASL_PASSWORD}\n"
    );
    round_trip(
        "plain-text-to-scram-512",
        &plain_text,
        &sasl_auth("SCRAM-SHA-512", SASL_PASSWORD, ""),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exporter_with_a_wrong_password_acknowledges_nothing_and_logs_why() {
    let Some(bootstrap) = sasl_broker() else {
        return;
    };
    let _timer = Timer::start("kafka sasl: the exporter's wrong password");
    for mechanism in ["PLAIN", "SCRAM-SHA-512"] {
        let topic = unique("auth-refused");
        let agent_in = free_addr();
        let metrics = free_addr();
        let telemetry = format!("  telemetry:\n    metrics:\n      address: {metrics}\n");
        // No queue and no retries: the sender waits for Kafka's answer, at most `timeout`.
        let exporter = "    timeout: 3s\n    sending_queue:\n      enabled: false\n    \
                        retry_on_failure:\n      enabled: false\n";
        let (mut agent, _a) = start(
            "kafka-sasl-refused-agent",
            &agent_config(
                agent_in,
                &bootstrap,
                &topic,
                &sasl_auth(mechanism, "not-the-password", ""),
                exporter,
                &telemetry,
            ),
        )
        .await;
        let client = client(Protocol::Grpc, agent_in);
        for _ in 0..2 {
            let outcome = client.export(&traces(&ids(10), 0)).await;
            assert!(
                outcome.is_err(),
                "{mechanism}: a wrong password was acknowledged: {outcome:?}\n{}",
                agent.tail()
            );
        }
        wait_until(
            PATIENCE,
            || format!("{mechanism}: 20 spans counted as failed\n{}", agent.tail()),
            || scrape(metrics, "otelcol_exporter_send_failed_spans_total") == 20.0,
        )
        .await;
        assert_eq!(
            scrape(metrics, "otelcol_exporter_sent_spans_total"),
            0.0,
            "{mechanism}"
        );
        wait_until(
            PATIENCE,
            || {
                format!(
                    "{mechanism}: an authentication error logged\n{}",
                    agent.tail()
                )
            },
            || logs_authentication_failure(&agent.stderr()),
        )
        .await;
        agent.assert_running();
        agent.terminate();
        agent.wait_exit(Duration::from_secs(30)).await;
    }
}

/// Produces `values` to `topic` through the SASL listener with the right credentials.
async fn produce(bootstrap: &str, topic: &str, values: &[Vec<u8>]) {
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("security.protocol", "sasl_plaintext")
        .set("sasl.mechanisms", "SCRAM-SHA-256")
        .set("sasl.username", SASL_USERNAME)
        .set("sasl.password", SASL_PASSWORD)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_with_a_wrong_password_reads_nothing_and_logs_why() {
    let Some(bootstrap) = sasl_broker() else {
        return;
    };
    let _timer = Timer::start("kafka sasl: the receiver's wrong password");
    let topic = unique("auth-refused-receiver");
    let group = unique("group");
    let batches: Vec<Vec<u64>> = (0..5).map(|_| ids(10)).collect();
    let values: Vec<Vec<u8>> = batches
        .iter()
        .map(|b| traces(b, 0).encode_to_vec())
        .collect();
    produce(&bootstrap, &topic, &values).await;

    let sink = RunningSink::start().await;
    let metrics = free_addr();
    let telemetry = format!("  telemetry:\n    metrics:\n      address: {metrics}\n");
    let (mut refused, _r) = start(
        "kafka-sasl-refused-gateway",
        &gateway_config(
            &bootstrap,
            &topic,
            &group,
            &sasl_auth("SCRAM-SHA-256", "not-the-password", ""),
            sink.grpc,
            &telemetry,
        ),
    )
    .await;
    wait_until(
        PATIENCE,
        || format!("an authentication error logged\n{}", refused.tail()),
        || logs_authentication_failure(&refused.stderr()),
    )
    .await;
    // Refused by the broker: nothing read, nothing delivered, and the collector keeps running.
    assert!(span_set(&sink).is_empty(), "{}", refused.tail());
    assert_eq!(
        scrape(metrics, "otelcol_receiver_accepted_spans_total"),
        0.0
    );
    refused.assert_running();
    refused.terminate();
    refused.wait_exit(Duration::from_secs(30)).await;

    // The same group with the right password: the messages were there all along.
    let (mut gateway, _g) = start(
        "kafka-sasl-gateway",
        &gateway_config(
            &bootstrap,
            &topic,
            &group,
            &sasl_auth("SCRAM-SHA-256", SASL_PASSWORD, ""),
            sink.grpc,
            QUIET,
        ),
    )
    .await;
    let expected: BTreeSet<u64> = batches.iter().flatten().copied().collect();
    sink.wait_for_with(
        "all 50 spans with the right password",
        PATIENCE,
        |r| expected.is_subset(&r.span_set()),
        || gateway.tail(),
    )
    .await;
    assert_eq!(span_set(&sink), expected);
    gateway.assert_running();
    gateway.terminate();
    sink.stop().await;
}
