use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_proto::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric,
};
use otlp_proto::profiles::v1development::{Profile, ResourceProfiles, ScopeProfiles};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::*;
use crate::merge_all;

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(service.into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "lib".into(),
        version: "1.0".into(),
        ..Default::default()
    })
}

fn traces(service: &str, spans: std::ops::Range<u8>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(service),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans: spans
                    .map(|i| Span {
                        trace_id: vec![1; 16],
                        span_id: vec![i + 1; 8],
                        name: format!("span-{i}"),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metrics() -> ExportMetricsServiceRequest {
    let number = |n: usize| {
        (0..n)
            .map(|_| NumberDataPoint::default())
            .collect::<Vec<_>>()
    };
    let data = vec![
        metric::Data::Gauge(Gauge {
            data_points: number(2),
        }),
        metric::Data::Sum(Sum {
            data_points: number(3),
            aggregation_temporality: 2,
            is_monotonic: true,
        }),
        metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint::default(); 4],
            aggregation_temporality: 1,
        }),
        metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint::default(); 1],
            aggregation_temporality: 1,
        }),
        metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint::default(); 5],
        }),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("meter"),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics: data
                    .into_iter()
                    .enumerate()
                    .map(|(i, data)| Metric {
                        name: format!("m{i}"),
                        unit: "1".into(),
                        data: Some(data),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("logger"),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records: (0..7)
                    .map(|i| LogRecord {
                        time_unix_nano: i,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn profiles() -> ExportProfilesServiceRequest {
    ExportProfilesServiceRequest {
        resource_profiles: vec![ResourceProfiles {
            resource: resource("profiler"),
            scope_profiles: vec![ScopeProfiles {
                scope: scope(),
                profiles: vec![Profile::default(); 3],
                ..Default::default()
            }],
            ..Default::default()
        }],
        dictionary: None,
    }
}

/// The count read from the bytes alone (as after a read back from disk) equals the decoded
/// request's.
fn counted_from_bytes<R: Batchable + PartialEq + std::fmt::Debug>(request: &R) -> usize {
    let encoded = Encoded::<R>::decode(request.encode_to_vec().as_slice()).unwrap();
    assert!(encoded.items.get().is_none(), "decoding forgets the count");
    assert_eq!(
        encoded.decode_request().unwrap(),
        *request,
        "the bytes are kept as they were"
    );
    encoded.item_count()
}

#[test]
fn items_are_counted_from_the_bytes_for_every_signal() {
    let (t, m, l, p) = (traces("a", 0..5), metrics(), logs(), profiles());
    assert_eq!((counted_from_bytes(&t), t.item_count()), (5, 5));
    assert_eq!((counted_from_bytes(&m), m.item_count()), (15, 15));
    assert_eq!((counted_from_bytes(&l), l.item_count()), (7, 7));
    assert_eq!((counted_from_bytes(&p), p.item_count()), (3, 3));
    assert_eq!(
        Encoded::<ExportTraceServiceRequest>::default().item_count(),
        0
    );
}

#[test]
fn encoding_round_trips_and_counts() {
    let request = traces("a", 0..4);
    let encoded = Encoded::new(&request);
    assert_eq!(encoded.item_count(), 4);
    assert_eq!(encoded.encoded_len(), request.encoded_len());
    assert_eq!(encoded.encode_to_vec(), request.encode_to_vec());
    assert_eq!(encoded.decode_request().unwrap(), request);
    let given = Encoded::<ExportTraceServiceRequest>::from_protobuf(request.encode_to_vec(), 4);
    assert_eq!(given, encoded);
}

#[test]
fn absorbing_concatenates_into_the_union() {
    let mut merged = Encoded::new(&traces("a", 0..3));
    merged.absorb(Encoded::new(&traces("b", 3..5))).unwrap();
    merged.absorb(Encoded::default()).unwrap();
    assert_eq!(merged.item_count(), 5);
    let decoded = merged.decode_request().unwrap();
    let mut expected = traces("a", 0..3);
    expected
        .resource_spans
        .extend(traces("b", 3..5).resource_spans);
    assert_eq!(decoded, expected);
    assert_eq!(
        merge_all(vec![Encoded::new(&logs()), Encoded::new(&logs())])[0].item_count(),
        14
    );
}

#[test]
fn merge_all_concatenates_into_one_exact_buffer() {
    let parts = [traces("a", 0..3), traces("b", 3..5), traces("a", 5..6)];
    let encoded: Vec<_> = parts.iter().map(Encoded::new).collect();
    let merged = merge_all(encoded.clone());
    assert_eq!(merged.len(), 1);
    let expected: Vec<u8> = encoded
        .iter()
        .flat_map(|e| e.as_protobuf().to_vec())
        .collect();
    assert_eq!(merged[0].as_protobuf(), &expected[..]);
    assert_eq!(merged[0].item_count(), 6);
    assert_eq!(
        merged[0].held_protobuf().as_deref(),
        Some(&expected[..]),
        "the exporter sends the held bytes"
    );
    // Items unknown (read back from disk) are counted from the merged bytes.
    let unknown: Vec<_> = encoded
        .iter()
        .map(|e| Encoded::<ExportTraceServiceRequest>::from_protobuf(e.as_protobuf().to_vec(), 0))
        .map(|e| Encoded::<ExportTraceServiceRequest> {
            items: OnceLock::new(),
            ..e
        })
        .collect();
    assert_eq!(merge_all(unknown)[0].item_count(), 6);
    assert!(
        ExportTraceServiceRequest::default()
            .held_protobuf()
            .is_none()
    );
}

#[test]
fn profiles_merge_decoded_and_refuse_different_dictionaries() {
    let mut merged = Encoded::new(&profiles());
    merged.absorb(Encoded::new(&profiles())).unwrap();
    assert_eq!(merged.item_count(), 6);
    let mut other = profiles();
    other.dictionary = Some(Default::default());
    other.dictionary.as_mut().unwrap().string_table = vec![String::new(), "x".into()];
    let refused = merged.absorb(Encoded::new(&other)).unwrap_err();
    assert_eq!(refused.item_count(), 3);
}

#[test]
fn splitting_over_the_caps_decodes_and_keeps_every_item() {
    let request = Encoded::new(&traces("a", 0..10));
    assert_eq!(
        request.clone().split(10, 0).len(),
        1,
        "within the caps: untouched"
    );
    let parts = request.split(4, 0);
    assert_eq!(
        parts
            .iter()
            .map(ExportRequest::item_count)
            .collect::<Vec<_>>(),
        vec![4, 4, 2]
    );
    let names: Vec<String> = parts
        .iter()
        .flat_map(|p| p.decode_request().unwrap().resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .map(|s| s.name)
        .collect();
    assert_eq!(
        names,
        (0..10).map(|i| format!("span-{i}")).collect::<Vec<_>>()
    );
}

#[test]
fn malformed_bytes_count_what_can_be_read() {
    let mut bytes = traces("a", 0..3).encode_to_vec();
    bytes.truncate(bytes.len() - 5);
    assert!(Encoded::<ExportTraceServiceRequest>::count_items(&bytes) < 3);
    assert_eq!(count_items(Signal::Traces, &[0xff, 0xff]), 0);
}
