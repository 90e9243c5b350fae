//! TLS of the `kafka` exporter and receiver end to end, against the real broker's TLS
//! listeners (`interop_support/kafka.rs`: `OTLP_KAFKA_SSL_BOOTSTRAP`,
//! `OTLP_KAFKA_SASL_SSL_BOOTSTRAP`, `OTLP_KAFKA_MTLS_BOOTSTRAP` and `OTLP_KAFKA_TLS_DIR`, else a
//! broker started from the `kafka-broker` peer; skipped when neither exists), whose certificate
//! for `127.0.0.1` the launcher's throwaway test CA signed:
//!
//! 1. agent (otlp → kafka exporter, `tls::ca_file`) → SSL listener; gateway (kafka receiver,
//!    `tls` with the CA and a client certificate, `cert_file` / `key_file`) ← MTLS listener,
//!    which requires one → sink: every span arrives;
//! 2. a receiver without a client certificate on the MTLS listener: it logs the TLS error and
//!    delivers nothing, while the same group with the certificate then reads every span;
//! 3. an exporter trusting another CA (one the test makes with `openssl`): the sender gets an
//!    error, nothing is counted as sent, the failure is counted, and the collector logs the
//!    certificate verification error; with `insecure_skip_verify: true` and the same wrong CA
//!    every export is acknowledged (and read back), and the collector warns;
//! 4. SASL over TLS (SASL_SSL listener): agent (`auth::sasl` SCRAM-SHA-512 with `tls`) →
//!    gateway (`auth::sasl` PLAIN with the deprecated `auth::tls`) → sink: every span arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod kafka_e2e;
mod support;

use kafka_e2e::{
    PATIENCE, QUIET, agent_config, gateway_config, kafka_support, scrape, span_set, start, unique,
};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kafka_support::{SASL_PASSWORD, SASL_USERNAME, TLS_CA, TLS_CLIENT_CERT, TLS_CLIENT_KEY};
use kafka_support::{TlsBroker, tls_broker};
use otlp_transport::client::Protocol;
use rdkafka::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use support::{RunningSink, Timer, client, free_addr, ids, temp_dir, traces, wait_until};

/// Without a sending queue an acknowledgement means Kafka acknowledged.
const ACKED: &str =
    "    sending_queue:\n      enabled: false\n    producer:\n      required_acks: all\n";
/// No queue and no retries: the sender waits for Kafka's answer, at most `timeout`.
const NO_RETRIES: &str = "    timeout: 3s\n    sending_queue:\n      enabled: false\n    \
                          retry_on_failure:\n      enabled: false\n";

/// A `tls:` block (indented as a component's key, or under `auth:` with `indent` 6) trusting
/// `ca`, with a client certificate when `client` is given, then `extra` lines (indented by
/// the caller).
fn tls_block(indent: usize, ca: &Path, client: Option<&TlsBroker>, extra: &str) -> String {
    let pad = " ".repeat(indent);
    let mut block = format!("{pad}tls:\n{pad}  ca_file: {}\n", ca.display());
    if let Some(broker) = client {
        block.push_str(&format!(
            "{pad}  cert_file: {}\n{pad}  key_file: {}\n",
            broker.client_cert().display(),
            broker.client_key().display()
        ));
    }
    block.push_str(extra);
    block
}

/// An `auth: sasl:` block for `mechanism` with the launcher's user, then `extra` lines.
fn sasl_auth(mechanism: &str, extra: &str) -> String {
    format!(
        "    auth:
      sasl:
        username: {SASL_USERNAME}
        password: {SASL_PASSWORD}
        mechanism: {mechanism}
{extra}"
    )
}

/// Whether the output holds a failed verification of the broker's certificate as librdkafka
/// (OpenSSL) reports it.
fn logs_certificate_failure(output: &str) -> bool {
    output
        .lines()
        .any(|line| line.contains("certificate verify failed"))
}

/// Whether the output holds a TLS failure of any kind as librdkafka reports it (a handshake
/// failure, or the broker's TLS alert after it refused the handshake).
fn logs_tls_failure(output: &str) -> bool {
    output.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        (line.contains("ssl") || line.contains("tls"))
            && (line.contains("handshake")
                || line.contains("alert")
                || line.contains("certificate"))
    })
}

/// A CA certificate that signed nothing of the broker's: `openssl` makes a self-signed one.
fn other_ca(dir: &Path) -> PathBuf {
    let ca = dir.join("other-ca.pem");
    let output = Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "1"])
        .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        .args(["-subj", "/CN=not the Kafka test CA"])
        .arg("-keyout")
        .arg(dir.join("other-ca-key.pem"))
        .arg("-out")
        .arg(&ca)
        .output()
        .expect("running openssl (the kafka-broker launcher needs it too)");
    assert!(
        output.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    ca
}

/// The values of every message of `topic` (one partition), read from the start through the
/// SSL listener until `count` arrived or [`PATIENCE`] passed.
fn read_topic(broker: &TlsBroker, topic: &str, count: usize) -> Vec<Vec<u8>> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &broker.ssl)
        .set("security.protocol", "ssl")
        .set("ssl.ca.location", broker.ca().to_string_lossy())
        .set("group.id", unique("tls-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + PATIENCE;
    let mut values = Vec::new();
    while values.len() < count && Instant::now() < deadline {
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            let message = message.unwrap();
            values.push(message.payload().unwrap_or_default().to_vec());
        }
    }
    values
}

/// agent (exporter `exporter_security` on `exporter_bootstrap`) → Kafka → gateway (receiver
/// `receiver_security` on `receiver_bootstrap`) → sink: every span the agent acknowledged
/// arrives, unaltered, and nothing else; neither logs a TLS failure.
async fn round_trip(
    label: &str,
    (exporter_bootstrap, exporter_security): (&str, &str),
    (receiver_bootstrap, receiver_security): (&str, &str),
) {
    let topic = unique(&format!("tls-{label}"));
    let sink = RunningSink::start().await;
    let agent_in = free_addr();
    let (mut agent, _a) = start(
        "kafka-tls-agent",
        &agent_config(
            agent_in,
            exporter_bootstrap,
            &topic,
            exporter_security,
            ACKED,
            QUIET,
        ),
    )
    .await;
    let (mut gateway, _g) = start(
        "kafka-tls-gateway",
        &gateway_config(
            receiver_bootstrap,
            &topic,
            &unique("group"),
            receiver_security,
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
            !logs_tls_failure(&process.stderr()),
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
fn the_tls_files_are_the_launchers() {
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../xtask/peers/kafka/kafka-broker.sh"),
    )
    .unwrap();
    for file in [TLS_CA, TLS_CLIENT_CERT, TLS_CLIENT_KEY] {
        assert!(script.contains(&format!("#   tls/{file} ")), "{file}");
    }
    assert!(script.contains("listener.name.mtls.ssl.client.auth=required\n"));
    assert!(script.contains("subjectAltName = IP:127.0.0.1, DNS:localhost\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_agent_to_mutual_tls_gateway_every_span_arrives() {
    let Some(broker) = tls_broker() else {
        return;
    };
    let _timer = Timer::start("kafka tls: TLS agent → mutual TLS gateway");
    round_trip(
        "tls-to-mtls",
        (&broker.ssl, &tls_block(4, &broker.ca(), None, "")),
        (&broker.mtls, &tls_block(4, &broker.ca(), Some(&broker), "")),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_over_tls_agent_to_gateway_every_span_arrives() {
    let Some(broker) = tls_broker() else {
        return;
    };
    let _timer = Timer::start("kafka tls: SASL_SSL SCRAM-SHA-512 → PLAIN (auth::tls)");
    let exporter = format!(
        "{}{}",
        sasl_auth("SCRAM-SHA-512", ""),
        tls_block(4, &broker.ca(), None, "")
    );
    // The deprecated `auth::tls`, used when the top-level `tls` is absent.
    let receiver = sasl_auth("PLAIN", &tls_block(6, &broker.ca(), None, ""));
    round_trip(
        "sasl-ssl",
        (&broker.sasl_ssl, &exporter),
        (&broker.sasl_ssl, &receiver),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_without_a_client_certificate_reads_nothing_from_the_mutual_tls_listener() {
    let Some(broker) = tls_broker() else {
        return;
    };
    let _timer = Timer::start("kafka tls: the receiver without a client certificate");
    let topic = unique("tls-no-client-cert");
    let group = unique("group");
    // Produced through the SSL listener by an agent with the right CA.
    let agent_in = free_addr();
    let (mut agent, _a) = start(
        "kafka-tls-agent",
        &agent_config(
            agent_in,
            &broker.ssl,
            &topic,
            &tls_block(4, &broker.ca(), None, ""),
            ACKED,
            QUIET,
        ),
    )
    .await;
    let client = client(Protocol::Grpc, agent_in);
    let mut expected = BTreeSet::new();
    for _ in 0..5 {
        let batch = ids(10);
        client
            .export(&traces(&batch, 0))
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", agent.tail()));
        expected.extend(batch);
    }
    agent.terminate();
    agent.wait_exit(Duration::from_secs(30)).await;

    let sink = RunningSink::start().await;
    let metrics = free_addr();
    let telemetry = format!("  telemetry:\n    metrics:\n      address: {metrics}\n");
    let (mut refused, _r) = start(
        "kafka-tls-refused-gateway",
        &gateway_config(
            &broker.mtls,
            &topic,
            &group,
            &tls_block(4, &broker.ca(), None, ""),
            sink.grpc,
            &telemetry,
        ),
    )
    .await;
    wait_until(
        PATIENCE,
        || format!("a TLS error logged\n{}", refused.tail()),
        || logs_tls_failure(&refused.stderr()),
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

    // The same group with the client certificate: the messages were there all along.
    let (mut gateway, _g) = start(
        "kafka-tls-gateway",
        &gateway_config(
            &broker.mtls,
            &topic,
            &group,
            &tls_block(4, &broker.ca(), Some(&broker), ""),
            sink.grpc,
            QUIET,
        ),
    )
    .await;
    sink.wait_for_with(
        "all 50 spans with the client certificate",
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exporter_trusting_another_ca_acknowledges_nothing_unless_told_to_skip_verification() {
    let Some(broker) = tls_broker() else {
        return;
    };
    let _timer = Timer::start("kafka tls: the exporter's wrong CA");
    let dir = temp_dir("kafka-tls-other-ca");
    let wrong_ca = other_ca(dir.path());

    // Verified against the wrong CA: refused.
    let topic = unique("tls-wrong-ca");
    let agent_in = free_addr();
    let metrics = free_addr();
    let telemetry = format!("  telemetry:\n    metrics:\n      address: {metrics}\n");
    let (mut agent, _a) = start(
        "kafka-tls-wrong-ca-agent",
        &agent_config(
            agent_in,
            &broker.ssl,
            &topic,
            &tls_block(4, &wrong_ca, None, ""),
            NO_RETRIES,
            &telemetry,
        ),
    )
    .await;
    let client_of_agent = client(Protocol::Grpc, agent_in);
    for _ in 0..2 {
        let outcome = client_of_agent.export(&traces(&ids(10), 0)).await;
        assert!(
            outcome.is_err(),
            "a broker the CA did not sign was trusted: {outcome:?}\n{}",
            agent.tail()
        );
    }
    wait_until(
        PATIENCE,
        || format!("20 spans counted as failed\n{}", agent.tail()),
        || scrape(metrics, "otelcol_exporter_send_failed_spans_total") == 20.0,
    )
    .await;
    assert_eq!(scrape(metrics, "otelcol_exporter_sent_spans_total"), 0.0);
    wait_until(
        PATIENCE,
        || format!("a certificate error logged\n{}", agent.tail()),
        || logs_certificate_failure(&agent.stderr()),
    )
    .await;
    agent.assert_running();
    agent.terminate();
    agent.wait_exit(Duration::from_secs(30)).await;

    // The same wrong CA with `insecure_skip_verify`: acknowledged, with a warning.
    let topic = unique("tls-skip-verify");
    let agent_in = free_addr();
    let metrics = free_addr();
    let telemetry = format!("  telemetry:\n    metrics:\n      address: {metrics}\n");
    let (mut agent, _a) = start(
        "kafka-tls-skip-verify-agent",
        &agent_config(
            agent_in,
            &broker.ssl,
            &topic,
            &tls_block(4, &wrong_ca, None, "      insecure_skip_verify: true\n"),
            &format!("{NO_RETRIES}    producer:\n      required_acks: all\n"),
            &telemetry,
        ),
    )
    .await;
    let client_of_agent = client(Protocol::Grpc, agent_in);
    for _ in 0..2 {
        client_of_agent
            .export(&traces(&ids(10), 0))
            .await
            .unwrap_or_else(|e| panic!("insecure_skip_verify: {e}\n{}", agent.tail()));
    }
    wait_until(
        PATIENCE,
        || format!("20 spans counted as sent\n{}", agent.tail()),
        || scrape(metrics, "otelcol_exporter_sent_spans_total") == 20.0,
    )
    .await;
    assert_eq!(
        scrape(metrics, "otelcol_exporter_send_failed_spans_total"),
        0.0
    );
    let stderr = agent.stderr();
    assert!(
        stderr
            .lines()
            .any(|line| line.contains("WARN") && line.contains("insecure_skip_verify")),
        "no warning about insecure_skip_verify\n{}",
        agent.tail()
    );
    assert!(!logs_certificate_failure(&stderr), "{}", agent.tail());
    agent.assert_running();
    agent.terminate();
    agent.wait_exit(Duration::from_secs(30)).await;
    // The two messages are in the topic.
    assert_eq!(read_topic(&broker, &topic, 2).len(), 2);
}
