//! Configuration parsing and validation of the kafka exporter (the messages' rules are in
//! `messages_tests.rs`; against a broker: `otlp-collector/tests/e2e_kafka.rs`).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use otlp_pipeline::component::{ExporterContext, SignalSet};
use otlp_pipeline::config::{ConfigError, parse_config};
use otlp_pipeline::factory::ComponentConfig;
use otlp_pipeline::testing::id;

use super::*;

fn parse(yaml: &str) -> Result<KafkaExporterConfig, ConfigError> {
    let config: KafkaExporterConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap())?;
    config.validate()?;
    Ok(config)
}

fn error(yaml: &str) -> String {
    parse(yaml).unwrap_err().to_string()
}

#[test]
fn defaults_are_otelcols() {
    let config = parse("{}").unwrap();
    assert_eq!(config.brokers, ["localhost:9092"]);
    assert_eq!(config.client_id, "otel-collector");
    assert_eq!(config.timeout, Duration::from_secs(5));
    assert_eq!(config.producer.max_message_bytes, 1_000_000);
    assert_eq!(config.producer.required_acks, 1);
    assert_eq!(config.producer.compression, "none");
    assert!(config.producer.allow_auto_topic_creation);
    assert!(config.sending_queue.enabled);
    assert_eq!(config.sending_queue.queue_size, 1000);
    let topics: Vec<String> = Signal::ALL
        .iter()
        .map(|s| config.signal_plan(*s).unwrap().topic)
        .collect();
    assert_eq!(
        topics,
        ["otlp_spans", "otlp_metrics", "otlp_logs", "otlp_profiles"]
    );
    let rd = config.rdkafka().unwrap();
    assert_eq!(rd.get("acks"), Some("1"));
    assert_eq!(rd.get("enable.idempotence"), None);
    assert_eq!(rd.get("partitioner"), Some("fnv1a_random"));
    assert_eq!(rd.get("message.timeout.ms"), Some("5000"));
    assert_eq!(rd.get("linger.ms"), Some("10"));
}

#[test]
fn an_otelcol_configuration_reads() {
    let config = parse(
        r#"
brokers: [kafka-1:9092, kafka-2:9092]
protocol_version: 2.1.0
client_id: agent
resolve_canonical_bootstrap_servers_only: true
traces: {topic: spans, encoding: otlp_json}
logs: {topic: logs, encoding: raw}
topic_from_attribute: kafka.topic
partition_traces_by_id: true
partition_metrics_by_resource_attributes: true
partition_logs_by_resource_attributes: true
timeout: 10s
record_headers: {team: core}
metadata: {full: false, retry: {max: 15, backoff: 100ms}, refresh_interval: 1m}
auth:
  sasl: {username: u, password: p, mechanism: SCRAM-SHA-256}
tls:
producer:
  max_message_bytes: 2000000
  required_acks: all
  compression: zstd
  compression_params: {level: 3}
  flush_max_messages: 500
  allow_auto_topic_creation: false
  linger: 5ms
retry_on_failure: {initial_interval: 1s}
sending_queue: {num_consumers: 2, queue_size: 10}
"#,
    )
    .unwrap();
    let rd = config.rdkafka().unwrap();
    for (key, value) in [
        ("bootstrap.servers", "kafka-1:9092,kafka-2:9092"),
        ("client.id", "agent"),
        (
            "client.dns.lookup",
            "resolve_canonical_bootstrap_servers_only",
        ),
        ("acks", "-1"),
        ("enable.idempotence", "true"),
        ("compression.codec", "zstd"),
        ("compression.level", "3"),
        ("batch.num.messages", "500"),
        ("allow.auto.create.topics", "false"),
        ("linger.ms", "5"),
        ("message.timeout.ms", "10000"),
        ("security.protocol", "sasl_ssl"),
        ("sasl.mechanisms", "SCRAM-SHA-256"),
        ("retry.backoff.ms", "100"),
        ("topic.metadata.refresh.interval.ms", "60000"),
    ] {
        assert_eq!(rd.get(key), Some(value), "{key}");
    }
    assert!(rd.create_native_config().is_ok());
    let traces = config.signal_plan(Signal::Traces).unwrap();
    assert_eq!(
        (traces.topic.as_str(), traces.encoding),
        ("spans", otlp_transport::kafka::Encoding::OtlpJson)
    );
}

#[test]
fn required_acks_takes_numbers_and_all() {
    for (yaml, acks) in [("0", 0), ("1", 1), ("-1", -1), ("all", -1)] {
        let config = parse(&format!("producer: {{required_acks: {yaml}}}")).unwrap();
        assert_eq!(config.producer.required_acks, acks);
    }
    assert!(error("producer: {required_acks: 2}").contains("required_acks"));
}

#[test]
fn errors_name_the_key() {
    for (yaml, key) in [
        ("brokers: []", "brokers"),
        ("traces: {encoding: jaeger_proto}", "traces::encoding"),
        ("metrics: {encoding: raw}", "metrics::encoding"),
        ("encoding: zipkin_proto", "encoding"),
        ("producer: {compression: brotli}", "producer::compression"),
        (
            "producer: {compression: gzip, compression_params: {level: 12}}",
            "producer::compression_params::level",
        ),
        (
            "producer: {max_message_bytes: 10}",
            "producer::max_message_bytes",
        ),
        ("timeout: 0s", "timeout"),
        (
            "auth: {sasl: {username: u, password: p, mechanism: OAUTHBEARER}}",
            "auth::sasl::mechanism",
        ),
        ("auth: {kerberos: {service_name: kafka}}", "auth::kerberos"),
        (
            "tls: {server_name_override: kafka}",
            "tls::server_name_override",
        ),
        (
            "record_partitioner: {round_robin: {}}",
            "record_partitioner::round_robin",
        ),
        (
            "record_partitioner: {sticky_key: {hasher: crc}}",
            "record_partitioner::sticky_key::hasher",
        ),
        (
            "partition_logs_by_resource_attributes: true\npartition_logs_by_trace_id: true",
            "partition_logs_by_trace_id",
        ),
        ("include_metadata_keys: [tenant]", "include_metadata_keys"),
        (
            "sending_queue: {storage: file_storage}",
            "sending_queue::storage",
        ),
        (
            "sending_queue: {num_consumers: 0}",
            "sending_queue::num_consumers",
        ),
        (
            "retry_on_failure: {multiplier: 0.5}",
            "retry_on_failure::multiplier",
        ),
        ("unknown_key: 1", "unknown_key"),
    ] {
        let message = error(yaml);
        assert!(message.contains(key), "{yaml}: {message}");
    }
    assert!(parse("include_metadata_keys: [tenant]\nsending_queue: {enabled: false}").is_ok());
    assert!(parse("record_partitioner: {sticky_key: {hasher: murmur2}}").is_ok());
}

#[test]
fn the_exporter_builds_without_connecting_and_registers() {
    let ctx = ExporterContext::new(id("kafka"), SignalSet::TRACES_METRICS_LOGS)
        .with_resources(otlp_pipeline::Resources::collector());
    // A closed port: building must not touch the network.
    let config = parse("brokers: [127.0.0.1:1]").unwrap();
    let exporter = KafkaExporter::new(ctx.clone(), config).unwrap();
    assert!(format!("{exporter:?}").contains("127.0.0.1:1"));
    // A small message limit is a valid librdkafka configuration too.
    let small = parse("producer: {max_message_bytes: 2000, compression: lz4}").unwrap();
    KafkaExporter::new(ctx, small).unwrap();
    let mut registry = otlp_pipeline::Registry::default();
    crate::register(&mut registry).unwrap();
    assert!(registry.exporter("kafka").is_some());
}

#[tokio::test]
async fn consume_before_start_is_a_retryable_refusal() {
    let ctx = ExporterContext::new(id("kafka"), SignalSet::TRACES_METRICS_LOGS)
        .with_resources(otlp_pipeline::Resources::collector());
    let exporter = KafkaExporter::new(ctx, parse("{}").unwrap()).unwrap();
    let data = Telemetry::new(ExportTraceServiceRequest::default());
    let error = exporter.consume(data).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
}

#[tokio::test]
async fn starts_and_stops_with_no_broker_up() {
    let ctx = ExporterContext::new(id("kafka"), SignalSet::TRACES_METRICS_LOGS)
        .with_resources(otlp_pipeline::Resources::collector());
    // librdkafka checks the whole configuration (message and batch sizes together) only when
    // the producer is created, at start. The broker is a closed loopback port.
    let config = parse("brokers: [127.0.0.1:1]\nproducer: {max_message_bytes: 2000}").unwrap();
    let exporter = KafkaExporter::new(ctx, config).unwrap();
    exporter.start(&Host::empty()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    exporter.shutdown(deadline).await.unwrap();
}

#[test]
fn sending_queue_is_the_otlp_exporters_batch_included_storage_refused() {
    let settings = |yaml: &str| super::queue_settings(&parse(yaml).unwrap()).unwrap();
    let plain = settings("{}").unwrap();
    assert_eq!(
        plain.config.batch.send_batch_size, 1,
        "no batching by default"
    );
    assert_eq!(plain.config.queue.capacity_items, 1000 * 8192);
    let batched = settings("sending_queue: {batch: {min_size: 50, flush_timeout: 1s}}").unwrap();
    assert_eq!(batched.config.batch.send_batch_size, 50);
    assert_eq!(batched.config.batch.timeout, Duration::from_secs(1));
    let bare = settings("sending_queue:\n  batch:").unwrap();
    assert_eq!(bare.config.batch.send_batch_size, 8192);
    let bytes = settings("sending_queue: {sizer: bytes, queue_size: 1048576}").unwrap();
    assert_eq!(bytes.config.queue.capacity_bytes, 1_048_576);
    assert!(settings("sending_queue: {enabled: false}").is_none());
    assert!(error("sending_queue: {storage: file_storage}").contains("sending_queue::storage"));
    assert!(
        error("sending_queue: {batch: {sizer: bytes}}").contains("sending_queue::batch::sizer")
    );
}
