#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use otlp_proto::common::v1::AnyValue;
use otlp_proto::logs::v1::LogRecord;
use otlp_proto::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::Span;

use super::*;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn span(trace: u8, id: u64, padding: usize) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: id.to_be_bytes().to_vec(),
        name: "x".repeat(padding),
        ..Default::default()
    }
}

fn traces(groups: Vec<(&str, Vec<Span>)>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: groups
            .into_iter()
            .map(|(service, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", service)],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

fn planner(yaml: &str) -> Planner {
    let config: KafkaExporterConfig = serde_yaml_ng::from_str(yaml).unwrap();
    Planner::new(&config).unwrap()
}

fn plan(planner: &Planner, request: ExportTraceServiceRequest) -> Planned {
    let bytes = Bytes::from(request.encode_to_vec());
    let items = otlp_batch::ExportRequest::item_count(&request);
    planner
        .plan(Some(bytes), items, move || Ok(request), None)
        .unwrap()
}

fn span_ids(records: &[Record]) -> Vec<u64> {
    records
        .iter()
        .flat_map(|r| {
            let request = ExportTraceServiceRequest::decode(&r.value[..]).unwrap();
            request
                .resource_spans
                .into_iter()
                .flat_map(|rs| rs.scope_spans)
                .flat_map(|ss| ss.spans)
                .map(|s| u64::from_be_bytes(s.span_id.try_into().unwrap()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_fitting_protobuf_request_is_sent_as_it_arrived() {
    let planner = planner("{}");
    let request = traces(vec![("a", vec![span(1, 1, 10), span(2, 2, 10)])]);
    let bytes = Bytes::from(request.encode_to_vec());
    let planned = planner
        .plan::<ExportTraceServiceRequest>(
            Some(bytes.clone()),
            2,
            || panic!("decoded although the bytes fit"),
            None,
        )
        .unwrap();
    assert_eq!(planned.records.len(), 1);
    assert_eq!(planned.records[0].value, bytes);
    assert_eq!(planned.records[0].topic, "otlp_spans");
    assert_eq!(planned.records[0].key, None);
}

#[test]
fn a_large_request_is_split_under_max_message_bytes_and_nothing_is_lost() {
    let planner = planner("producer: {max_message_bytes: 2000}");
    let spans: Vec<Span> = (0..100).map(|i| span(1, i, 100)).collect();
    let request = traces(vec![
        ("a", spans[..60].to_vec()),
        ("b", spans[60..].to_vec()),
    ]);
    assert!(request.encoded_len() > 10_000);
    let planned = plan(&planner, request);
    assert!(planned.records.len() > 5, "{}", planned.records.len());
    assert!(planned.records.iter().all(|r| r.value.len() <= 2000));
    assert_eq!(planned.too_large, 0);
    assert_eq!(span_ids(&planned.records), (0..100).collect::<Vec<u64>>());
    assert_eq!(planned.records.iter().map(|r| r.items).sum::<usize>(), 100);
    // Every part keeps its resource.
    for record in &planned.records {
        let part = ExportTraceServiceRequest::decode(&record.value[..]).unwrap();
        assert!(part.resource_spans.iter().all(|rs| rs.resource.is_some()));
    }
}

#[test]
fn json_is_split_too() {
    let planner = planner("producer: {max_message_bytes: 3000}\ntraces: {encoding: otlp_json}");
    let request = traces(vec![("a", (0..50).map(|i| span(1, i, 50)).collect())]);
    let planned = plan(&planner, request);
    assert!(planned.records.len() > 1);
    let mut seen = Vec::new();
    for record in &planned.records {
        assert!(record.value.len() <= 3000, "{}", record.value.len());
        let part: ExportTraceServiceRequest = otlp_proto::json::from_slice(&record.value).unwrap();
        seen.extend(
            part.resource_spans[0].scope_spans[0]
                .spans
                .iter()
                .map(|s| s.span_id.clone()),
        );
    }
    assert_eq!(seen.len(), 50);
}

#[test]
fn a_single_item_too_large_is_reported_and_the_rest_is_sent() {
    let planner = planner("producer: {max_message_bytes: 2000}");
    let request = traces(vec![(
        "a",
        vec![span(1, 1, 10), span(1, 2, 5000), span(1, 3, 10)],
    )]);
    let planned = plan(&planner, request);
    assert_eq!(planned.too_large, 1);
    assert!(planned.largest > 5000);
    assert_eq!(span_ids(&planned.records), vec![1, 3]);
}

#[test]
fn partition_by_trace_id_makes_one_message_per_trace_keyed_by_hex() {
    let planner = planner("partition_traces_by_id: true");
    let request = traces(vec![
        (
            "a",
            vec![span(0xab, 1, 1), span(0xcd, 2, 1), span(0xab, 3, 1)],
        ),
        ("b", vec![span(0xcd, 4, 1)]),
    ]);
    let planned = plan(&planner, request);
    assert_eq!(planned.records.len(), 2);
    let keys: Vec<String> = planned
        .records
        .iter()
        .map(|r| String::from_utf8(r.key.clone().unwrap()).unwrap())
        .collect();
    assert_eq!(keys, ["ab".repeat(16), "cd".repeat(16)]);
    let first = ExportTraceServiceRequest::decode(&planned.records[0].value[..]).unwrap();
    assert_eq!(first.resource_spans.len(), 1);
    assert_eq!(span_ids(&planned.records[..1]), vec![1, 3]);
    let second = ExportTraceServiceRequest::decode(&planned.records[1].value[..]).unwrap();
    // Spans of one trace under two resources keep both resources.
    assert_eq!(second.resource_spans.len(), 2);
    assert_eq!(span_ids(&planned.records[1..]), vec![2, 4]);
}

#[test]
fn partition_metrics_by_resource_keys_equal_resources_equally() {
    let planner = planner("partition_metrics_by_resource_attributes: true");
    let gauge = |name: &str| Metric {
        name: name.into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                value: Some(number_data_point::Value::AsInt(1)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    let resource = |attributes: Vec<KeyValue>, metric: &str| ResourceMetrics {
        resource: Some(Resource {
            attributes,
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![gauge(metric)],
            ..Default::default()
        }],
        ..Default::default()
    };
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![
            resource(vec![kv("a", "1"), kv("b", "2")], "m1"),
            resource(vec![kv("b", "2"), kv("a", "1")], "m2"),
            resource(vec![kv("a", "3")], "m3"),
        ],
    };
    let planned = planner.plan(None, 3, move || Ok(request), None).unwrap();
    assert_eq!(planned.records.len(), 3);
    let keys: Vec<Vec<u8>> = planned
        .records
        .iter()
        .map(|r| r.key.clone().unwrap())
        .collect();
    assert_eq!(keys[0].len(), 16);
    assert_eq!(keys[0], keys[1], "attribute order does not change the key");
    assert_ne!(keys[0], keys[2]);
    assert!(planned.records.iter().all(|r| r.topic == "otlp_metrics"));
}

#[test]
fn logs_by_trace_id_leave_records_without_one_unkeyed() {
    let planner = planner("partition_logs_by_trace_id: true");
    let record = |trace: Vec<u8>| LogRecord {
        trace_id: trace,
        ..Default::default()
    };
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![record(vec![1; 16]), record(vec![]), record(vec![1; 16])],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let planned = planner.plan(None, 3, move || Ok(request), None).unwrap();
    let keyed: Vec<(Option<Vec<u8>>, usize)> = planned
        .records
        .iter()
        .map(|r| (r.key.clone(), r.items))
        .collect();
    assert_eq!(
        keyed,
        vec![(Some("01".repeat(16).into_bytes()), 2), (None, 1)]
    );
}

#[test]
fn topics_from_attribute_metadata_and_the_deprecated_key() {
    let planner = planner("topic_from_attribute: kafka.topic\ntopic: legacy");
    let mut request = traces(vec![("a", vec![span(1, 1, 1)])]);
    let planned = plan(&planner, request.clone());
    assert_eq!(planned.records[0].topic, "legacy");
    request.resource_spans[0]
        .resource
        .as_mut()
        .unwrap()
        .attributes
        .push(kv("kafka.topic", "from-attribute"));
    let planned = plan(&planner, request.clone());
    assert_eq!(planned.records[0].topic, "from-attribute");

    let planner = planner_with_metadata_topic();
    let metadata: Metadata = [("x-topic", "from-metadata")].into_iter().collect();
    let planned = planner
        .plan(None, 1, move || Ok(request), Some(&metadata))
        .unwrap();
    assert_eq!(planned.records[0].topic, "from-metadata");
}

fn planner_with_metadata_topic() -> Planner {
    planner(
        "topic_from_attribute: kafka.topic\nsending_queue: {enabled: false}\ntraces: {topic_from_metadata_key: x-topic}",
    )
}

#[test]
fn raw_logs_are_one_message_per_record() {
    let planner = planner("logs: {encoding: raw}\nproducer: {max_message_bytes: 1024}");
    let body = |text: &str| LogRecord {
        body: Some(AnyValue {
            value: Some(any_value::Value::BytesValue(text.as_bytes().to_vec())),
        }),
        ..Default::default()
    };
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![body("one"), body(&"x".repeat(2000)), body("two")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let planned = planner.plan(None, 3, move || Ok(request), None).unwrap();
    let values: BTreeSet<&[u8]> = planned.records.iter().map(|r| &r.value[..]).collect();
    assert_eq!(values, BTreeSet::from([&b"one"[..], &b"two"[..]]));
    assert_eq!(planned.too_large, 1);
    assert!(planned.records.iter().all(|r| r.topic == "otlp_logs"));
}

fn record(planner: &Planner, request: ExportTraceServiceRequest, key: Option<&[u8]>) -> Record {
    let items = otlp_batch::ExportRequest::item_count(&request);
    let encoding = planner.signal(Signal::Traces).encoding;
    Record {
        topic: "refusing".into(),
        key: key.map(<[u8]>::to_vec),
        value: Bytes::from(encoding.encode(&request).unwrap()),
        items,
    }
}

#[test]
fn a_message_refused_alone_is_split_into_halves_keeping_topic_key_and_order() {
    for yaml in ["{}", "traces: {encoding: otlp_json}"] {
        let planner = planner(yaml);
        let request = traces(vec![
            ("a", (0..30).map(|i| span(1, i, 200)).collect()),
            ("b", (30..40).map(|i| span(1, i, 200)).collect()),
        ]);
        let refused = record(&planner, request, Some(b"k"));
        let pieces = planner
            .resplit::<ExportTraceServiceRequest>(&refused)
            .unwrap()
            .unwrap();
        assert!(pieces.len() >= 2, "{yaml}: {}", pieces.len());
        for piece in &pieces {
            assert!(piece.value.len() <= refused.value.len() / 2, "{yaml}");
            assert_eq!(piece.topic, "refusing");
            assert_eq!(piece.key.as_deref(), Some(&b"k"[..]));
        }
        assert_eq!(pieces.iter().map(|p| p.items).sum::<usize>(), 40, "{yaml}");
        let mut ids = Vec::new();
        for piece in &pieces {
            let part: ExportTraceServiceRequest = planner
                .signal(Signal::Traces)
                .encoding
                .decode(&piece.value)
                .unwrap();
            assert!(part.resource_spans.iter().all(|rs| rs.resource.is_some()));
            ids.extend(
                part.resource_spans
                    .iter()
                    .flat_map(|rs| &rs.scope_spans)
                    .flat_map(|ss| &ss.spans)
                    .map(|s| u64::from_be_bytes(s.span_id.clone().try_into().unwrap())),
            );
        }
        assert_eq!(ids, (0..40).collect::<Vec<u64>>(), "{yaml}");
    }
}

#[test]
fn an_item_larger_than_half_is_its_own_message_not_dropped_and_one_item_cannot_split() {
    let planner = planner("{}");
    // One big span (more than half the message) between two small ones.
    let request = traces(vec![(
        "a",
        vec![span(1, 1, 10), span(1, 2, 5000), span(1, 3, 10)],
    )]);
    let refused = record(&planner, request, None);
    let pieces = planner
        .resplit::<ExportTraceServiceRequest>(&refused)
        .unwrap()
        .unwrap();
    assert_eq!(span_ids(&pieces), vec![1, 2, 3]);
    let big = pieces.iter().find(|p| p.value.len() > 5000).unwrap();
    assert_eq!(big.items, 1);
    assert!(big.value.len() > refused.value.len() / 2);
    // A single item cannot be split further.
    let single = record(&planner, traces(vec![("a", vec![span(1, 2, 5000)])]), None);
    assert_eq!(
        planner
            .resplit::<ExportTraceServiceRequest>(&single)
            .unwrap(),
        None
    );
}

#[test]
fn raw_log_messages_cannot_be_split() {
    let planner = planner("logs: {encoding: raw}");
    let refused = Record {
        topic: "refusing".into(),
        key: None,
        value: Bytes::from(vec![b'x'; 4000]),
        items: 1,
    };
    assert_eq!(
        planner
            .resplit::<ExportLogsServiceRequest>(&refused)
            .unwrap(),
        None
    );
}

#[test]
fn a_topic_that_refused_alone_is_planned_at_the_learned_size() {
    let planner = planner("{}");
    let request = traces(vec![("a", (0..100).map(|i| span(1, i, 100)).collect())]);
    let size = request.encoded_len();
    assert!(size > 10_000 && size < 1_000_000);
    // Fits max_message_bytes: sent as it arrived, in one message.
    assert_eq!(plan(&planner, request.clone()).records.len(), 1);
    assert_eq!(planner.limit("otlp_spans"), 1_000_000);
    // The topic refused a 6000-byte message alone: later requests are planned at 3000.
    let clone = planner.clone();
    assert!(clone.limits().message_refused("otlp_spans", 6000));
    assert_eq!(planner.limit("otlp_spans"), 3000);
    assert_eq!(planner.limit("other"), 1_000_000);
    let planned = plan(&planner, request);
    assert!(planned.records.len() > 3, "{}", planned.records.len());
    assert!(planned.records.iter().all(|r| r.value.len() <= 3000));
    assert_eq!(planned.too_large, 0);
    assert_eq!(span_ids(&planned.records), (0..100).collect::<Vec<u64>>());
    // A refused batch alone teaches no size.
    assert!(planner.limits().batch_refused("batches"));
    assert_eq!(planner.limit("batches"), 1_000_000);
}
