//! Configuration and decoding of the kafka receiver (against a broker:
//! `otlp-collector/tests/e2e_kafka.rs`).
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::any_value;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_transport::kafka::Encoding;

use otlp_pipeline::Signal;
use otlp_pipeline::config::{ConfigError, parse_config};
use otlp_pipeline::data::Payload;
use otlp_pipeline::factory::ComponentConfig;

use super::config::KafkaReceiverConfig;
use super::decode::{Message, telemetry};

fn parse(yaml: &str) -> Result<KafkaReceiverConfig, ConfigError> {
    let config: KafkaReceiverConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap())?;
    config.validate()?;
    Ok(config)
}

#[test]
fn defaults_are_otelcols() {
    let config = parse("{}").unwrap();
    assert_eq!(config.group_id, "otel-collector");
    assert_eq!(config.client_id, "otel-collector");
    assert_eq!(config.initial_offset, "latest");
    assert!(config.autocommit.enable);
    let topics: Vec<Vec<String>> = Signal::ALL
        .iter()
        .map(|s| config.signal_topics(*s).unwrap().topics)
        .collect();
    assert_eq!(
        topics,
        [
            ["otlp_spans"],
            ["otlp_metrics"],
            ["otlp_logs"],
            ["otlp_profiles"]
        ]
    );
    let rd = config.rdkafka().unwrap();
    for (key, value) in [
        ("group.id", "otel-collector"),
        ("auto.offset.reset", "latest"),
        ("enable.auto.offset.store", "false"),
        ("enable.auto.commit", "true"),
        ("auto.commit.interval.ms", "1000"),
        ("session.timeout.ms", "10000"),
        ("heartbeat.interval.ms", "3000"),
        ("partition.assignment.strategy", "cooperative-sticky"),
        ("fetch.wait.max.ms", "250"),
    ] {
        assert_eq!(rd.get(key), Some(value), "{key}");
    }
    assert!(rd.create_native_config().is_ok());
}

#[test]
fn an_otelcol_configuration_reads() {
    let config = parse(
        r#"
brokers: [kafka:9092]
group_id: gateways
initial_offset: earliest
autocommit: {enable: false}
session_timeout: 30s
heartbeat_interval: 5s
group_rebalance_strategy: range
traces: {topics: [spans-a, "^spans-.*"], encoding: otlp_json}
logs: {topic: logs, encoding: text_utf-8}
header_extraction: {extract_headers: true, headers: [tenant]}
message_marking: {after: true, on_error: false}
error_backoff: {enabled: true, initial_interval: 1s, max_interval: 10s}
auth: {sasl: {username: u, password: p, mechanism: PLAIN}}
"#,
    )
    .unwrap();
    let traces = config.signal_topics(Signal::Traces).unwrap();
    assert_eq!(traces.encoding, Encoding::OtlpJson);
    assert!(traces.matches("spans-a") && traces.matches("spans-b") && !traces.matches("logs"));
    let logs = config.signal_topics(Signal::Logs).unwrap();
    assert_eq!(
        (logs.topics.clone(), logs.encoding),
        (vec!["logs".to_owned()], Encoding::Text)
    );
    let rd = config.rdkafka().unwrap();
    assert_eq!(rd.get("enable.auto.commit"), Some("false"));
    assert_eq!(rd.get("partition.assignment.strategy"), Some("range"));
    assert_eq!(rd.get("security.protocol"), Some("sasl_plaintext"));
    assert_eq!(rd.get("auto.offset.reset"), Some("earliest"));
}

#[test]
fn errors_name_the_key() {
    for (yaml, key) in [
        ("initial_offset: newest", "initial_offset"),
        ("group_id: ''", "group_id"),
        ("traces: {encoding: zipkin_thrift}", "traces::encoding"),
        ("metrics: {encoding: text}", "metrics::encoding"),
        ("traces: {topic: a, topics: [b]}", "traces::topics"),
        ("traces: {topics: [\"^(\"]}", "traces::topics"),
        (
            "logs: {topics: [\"^a.*\"], exclude_topics: [b]}",
            "logs::exclude_topics",
        ),
        ("traces: {topics: [x]}\nlogs: {topics: [x]}", "logs::topics"),
        (
            "group_rebalance_strategy: sticky",
            "group_rebalance_strategy",
        ),
        (
            "group_rebalance_strategy: range\ngroup_rebalance_strategies: [range]",
            "group_rebalance_strategies",
        ),
        ("heartbeat_interval: 20s", "heartbeat_interval"),
        (
            "error_backoff: {enabled: true, multiplier: 0}",
            "error_backoff::multiplier",
        ),
        (
            "auth: {sasl: {username: u, password: p, mechanism: GSSAPI}}",
            "auth::sasl::mechanism",
        ),
        ("tls: {min_version: '1.0'}", "tls::min_version"),
        ("brokers: ['']", "brokers"),
        ("encoding: jaeger_json", "encoding"),
        ("nope: 1", "nope"),
    ] {
        let message = parse(yaml).unwrap_err().to_string();
        assert!(message.contains(key), "{yaml}: {message}");
    }
}

fn spans() -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![
                    Span {
                        trace_id: vec![1; 16],
                        span_id: vec![1; 8],
                        ..Default::default()
                    },
                    Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn message(value: Vec<u8>, headers: Vec<(&str, &str)>) -> Message {
    Message {
        topic: "otlp_spans".into(),
        partition: 3,
        offset: 42,
        value: Bytes::from(value),
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
            .collect(),
    }
}

#[test]
fn protobuf_is_validated_not_decoded_and_metadata_carries_the_message() {
    let bytes = Encoding::OtlpProto.encode(&spans()).unwrap();
    let data = telemetry(
        Signal::Traces,
        Encoding::OtlpProto,
        &message(bytes.clone(), vec![("tenant", "acme")]),
        &[],
    )
    .unwrap();
    assert_eq!(data.item_count(), 2);
    assert!(!data.is_decoded());
    assert_eq!(data.encoded().map(|b| b.to_vec()), Some(bytes));
    let metadata = &data.context().client().unwrap().metadata;
    assert_eq!(metadata.get("kafka.topic"), Some("otlp_spans"));
    assert_eq!(metadata.get("kafka.partition"), Some("3"));
    assert_eq!(metadata.get("kafka.offset"), Some("42"));
    assert_eq!(metadata.get("tenant"), Some("acme"));
}

#[test]
fn garbage_is_a_decode_error_for_every_encoding() {
    for encoding in [Encoding::OtlpProto, Encoding::OtlpJson] {
        let error = telemetry(
            Signal::Traces,
            encoding,
            &message(vec![0xff; 7], vec![]),
            &[],
        );
        assert!(error.is_err(), "{encoding:?}");
    }
    assert!(
        telemetry(
            Signal::Logs,
            Encoding::Text,
            &message(vec![0xff], vec![]),
            &[]
        )
        .is_err()
    );
}

#[test]
fn json_and_header_extraction() {
    let json = otlp_proto::json::to_vec(&spans()).unwrap();
    let data = telemetry(
        Signal::Traces,
        Encoding::OtlpJson,
        &message(json, vec![("tenant", "acme"), ("other", "x")]),
        &["tenant".to_owned(), "missing".to_owned()],
    )
    .unwrap();
    let Payload::Traces(request) = data.payload() else {
        panic!("not traces");
    };
    let attributes = &request.resource_spans[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes;
    assert_eq!(attributes.len(), 1);
    assert_eq!(attributes[0].key, "kafka.header.tenant");
    assert_eq!(
        attributes[0].value.as_ref().unwrap().value,
        Some(any_value::Value::StringValue("acme".into()))
    );
}

#[test]
fn raw_logs_become_one_record() {
    let data = telemetry(
        Signal::Logs,
        Encoding::Raw,
        &message(b"line".to_vec(), vec![]),
        &[],
    )
    .unwrap();
    assert_eq!(data.item_count(), 1);
}
