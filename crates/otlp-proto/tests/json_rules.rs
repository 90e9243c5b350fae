//! One test (at least) per rule of the OTLP/JSON mapping, each able to fail: the rules are
//! listed in the docs of `otlp_proto::json` and numbered here as in that list.

// A test crate: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use otlp_proto::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceRequest};
use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value};
use otlp_proto::json::{self, JsonError};
use otlp_proto::logs::v1::LogRecord;
use otlp_proto::metrics::v1::exponential_histogram_data_point::Buckets;
use otlp_proto::metrics::v1::summary_data_point::ValueAtQuantile;
use otlp_proto::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, Gauge, HistogramDataPoint, Metric, NumberDataPoint,
    Sum, exemplar, metric, number_data_point,
};
use otlp_proto::profiles::v1development as profiles;
use otlp_proto::trace::v1::{Span, Status, span};
use serde::Serialize;
use serde::de::DeserializeOwned;

const TRACE_HEX: &str = "5b8efff798038103d269b633813fc60c";
const SPAN_HEX: &str = "eee19b7ec3c1b174";

fn trace_bytes() -> Vec<u8> {
    vec![
        0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6,
        0x0c,
    ]
}

fn span_bytes() -> Vec<u8> {
    vec![0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]
}

#[track_caller]
fn de<T: DeserializeOwned>(text: &str) -> T {
    json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[track_caller]
fn de_err<T: DeserializeOwned + Debug>(text: &str) -> JsonError {
    match json::from_str::<T>(text) {
        Ok(value) => panic!("{text} decoded to {value:?}, expected an error"),
        Err(error) => error,
    }
}

/// The error message, for checks on what the error says.
#[track_caller]
fn de_err_message<T: DeserializeOwned + Debug>(text: &str) -> String {
    let error = de_err::<T>(text);
    assert!(
        matches!(error, JsonError::Data { .. }),
        "{text}: {error:?} is not a data error"
    );
    error.to_string()
}

#[track_caller]
fn ser<T: Serialize>(value: &T) -> String {
    json::to_string(value).unwrap()
}

fn any(value: Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

// -------------------------------------------------------------------------------------------
// 1. Every message has both impls; the empty message is `{}` both ways.
// -------------------------------------------------------------------------------------------

fn empty_message_round_trips<T>(name: &str)
where
    T: Serialize + DeserializeOwned + Default + PartialEq + Debug,
{
    assert_eq!(ser(&T::default()), "{}", "{name}");
    assert_eq!(de::<T>("{}"), T::default(), "{name}");
    assert_eq!(
        de::<T>(r#" { "notAField" : [1, {"x": null}] } "#),
        T::default(),
        "{name}"
    );
    de_err::<T>("[]");
    de_err::<T>("null");
}

macro_rules! every_message {
    ($($path:path),* $(,)?) => {{
        $( empty_message_round_trips::<$path>(stringify!($path)); )*
        [$(stringify!($path)),*].len()
    }};
}

#[test]
fn rule_1_every_message_serializes_and_deserializes() {
    use otlp_proto::collector::{logs, metrics, profiles as collector_profiles, trace};
    use otlp_proto::{common, logs as logs_model, metrics as metrics_model, resource};
    use otlp_proto::{profiles::v1development as p, trace as trace_model};
    let count = every_message![
        common::v1::AnyValue,
        common::v1::ArrayValue,
        common::v1::KeyValueList,
        common::v1::KeyValue,
        common::v1::InstrumentationScope,
        common::v1::EntityRef,
        resource::v1::Resource,
        trace_model::v1::TracesData,
        trace_model::v1::ResourceSpans,
        trace_model::v1::ScopeSpans,
        trace_model::v1::Span,
        trace_model::v1::span::Event,
        trace_model::v1::span::Link,
        trace_model::v1::Status,
        metrics_model::v1::MetricsData,
        metrics_model::v1::ResourceMetrics,
        metrics_model::v1::ScopeMetrics,
        metrics_model::v1::Metric,
        metrics_model::v1::Gauge,
        metrics_model::v1::Sum,
        metrics_model::v1::Histogram,
        metrics_model::v1::ExponentialHistogram,
        metrics_model::v1::Summary,
        metrics_model::v1::NumberDataPoint,
        metrics_model::v1::HistogramDataPoint,
        metrics_model::v1::ExponentialHistogramDataPoint,
        metrics_model::v1::exponential_histogram_data_point::Buckets,
        metrics_model::v1::SummaryDataPoint,
        metrics_model::v1::summary_data_point::ValueAtQuantile,
        metrics_model::v1::Exemplar,
        logs_model::v1::LogsData,
        logs_model::v1::ResourceLogs,
        logs_model::v1::ScopeLogs,
        logs_model::v1::LogRecord,
        p::ProfilesDictionary,
        p::ProfilesData,
        p::ResourceProfiles,
        p::ScopeProfiles,
        p::Profile,
        p::Link,
        p::ValueType,
        p::Sample,
        p::Mapping,
        p::Stack,
        p::Location,
        p::Line,
        p::Function,
        p::KeyValueAndUnit,
        trace::v1::ExportTraceServiceRequest,
        trace::v1::ExportTraceServiceResponse,
        trace::v1::ExportTracePartialSuccess,
        metrics::v1::ExportMetricsServiceRequest,
        metrics::v1::ExportMetricsServiceResponse,
        metrics::v1::ExportMetricsPartialSuccess,
        logs::v1::ExportLogsServiceRequest,
        logs::v1::ExportLogsServiceResponse,
        logs::v1::ExportLogsPartialSuccess,
        collector_profiles::v1development::ExportProfilesServiceRequest,
        collector_profiles::v1development::ExportProfilesServiceResponse,
        collector_profiles::v1development::ExportProfilesPartialSuccess,
    ];
    // Every message of proto/ (the generator's own test checks it emits one impl per message).
    assert_eq!(count, 60);
}

// -------------------------------------------------------------------------------------------
// 2. Keys: lowerCamelCase JSON names out; anything else in is unknown and skipped.
// -------------------------------------------------------------------------------------------

fn full_span() -> Span {
    Span {
        trace_id: trace_bytes(),
        span_id: span_bytes(),
        trace_state: "a=b".into(),
        parent_span_id: span_bytes(),
        flags: 1,
        name: "n".into(),
        kind: 2,
        start_time_unix_nano: 1,
        end_time_unix_nano: 2,
        attributes: vec![KeyValue {
            key: "k".into(),
            value: None,
            key_strindex: 0,
        }],
        dropped_attributes_count: 1,
        events: vec![span::Event::default()],
        dropped_events_count: 1,
        links: vec![span::Link::default()],
        dropped_links_count: 1,
        status: Some(Status::default()),
    }
}

#[test]
fn rule_2_keys_are_the_lower_camel_case_json_names() {
    let value: serde_json::Value = serde_json::from_str(&ser(&full_span())).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attributes",
            "droppedAttributesCount",
            "droppedEventsCount",
            "droppedLinksCount",
            "endTimeUnixNano",
            "events",
            "flags",
            "kind",
            "links",
            "name",
            "parentSpanId",
            "spanId",
            "startTimeUnixNano",
            "status",
            "traceId",
            "traceState",
        ]
    );
    // And they come back.
    assert_eq!(de::<Span>(&ser(&full_span())), full_span());
}

#[test]
fn rule_2_snake_case_and_other_spellings_are_unknown_fields() {
    let span: Span = de(&format!(
        r#"{{"trace_id":"{TRACE_HEX}","start_time_unix_nano":"5","TraceId":"{TRACE_HEX}",
            "traceid":"x","dropped_attributes_count":3,"name":"kept"}}"#
    ));
    assert_eq!(
        span,
        Span {
            name: "kept".into(),
            ..Span::default()
        }
    );
    let value: AnyValue = de(r#"{"string_value":"x","int_value":"1"}"#);
    assert_eq!(value, AnyValue::default());
}

#[test]
fn rule_2_unknown_fields_are_skipped_whatever_their_value() {
    for unknown in [
        "null",
        "true",
        "-1.5e300",
        r#""text with \" escapes \u00e9""#,
        "[]",
        "{}",
        r#"[1, "two", [3, [4, {"five": [6]}]], {"seven": {"eight": null}}]"#,
        r#"{"traceId": "not even hex", "spans": [{"name": 1}]}"#,
    ] {
        let text = format!(
            r#"{{"unknownBefore":{unknown},"resourceSpans":[{{"unknownDeep":{unknown},"scopeSpans":[{{"spans":[{{"name":"s","zzz":{unknown},"status":{{"code":2,"unknownInside":{unknown}}}}}]}}]}}],"unknownAfter":{unknown}}}"#
        );
        let request: ExportTraceServiceRequest = de(&text);
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.name, "s", "{unknown}");
        assert_eq!(span.status.as_ref().unwrap().code, 2, "{unknown}");
    }
}

#[test]
fn rule_2_escaped_keys_are_matched_after_unescaping() {
    // serde_json hands over a scratch string for keys with escapes; they still match.
    let span: Span = de(r#"{"n\u0061me":"x","\u0074raceId":"5b8efff798038103d269b633813fc60c"}"#);
    assert_eq!(span.name, "x");
    assert_eq!(span.trace_id, trace_bytes());
}

// -------------------------------------------------------------------------------------------
// 3. trace_id / span_id / parent_span_id are hex; other bytes are base64.
// -------------------------------------------------------------------------------------------

#[test]
fn rule_3_ids_are_written_as_lower_case_hex() {
    let span = Span {
        trace_id: trace_bytes(),
        span_id: span_bytes(),
        parent_span_id: span_bytes(),
        ..Span::default()
    };
    assert_eq!(
        ser(&span),
        format!(r#"{{"traceId":"{TRACE_HEX}","spanId":"{SPAN_HEX}","parentSpanId":"{SPAN_HEX}"}}"#)
    );
}

#[test]
fn rule_3_ids_are_hex_in_every_message_that_has_them() {
    let ids = format!(
        r#"{{"traceId":"{}","spanId":"{}"}}"#,
        TRACE_HEX.to_uppercase(),
        SPAN_HEX.to_uppercase()
    );
    let expected = format!(r#"{{"traceId":"{TRACE_HEX}","spanId":"{SPAN_HEX}"}}"#);

    let link: span::Link = de(&ids);
    assert_eq!(
        (link.trace_id.clone(), link.span_id.clone()),
        (trace_bytes(), span_bytes())
    );
    assert_eq!(ser(&link), expected);

    let record: LogRecord = de(&ids);
    assert_eq!(
        (record.trace_id.clone(), record.span_id.clone()),
        (trace_bytes(), span_bytes())
    );
    assert_eq!(ser(&record), expected);

    let exemplar: Exemplar = de(&ids);
    assert_eq!(
        (exemplar.trace_id.clone(), exemplar.span_id.clone()),
        (trace_bytes(), span_bytes())
    );
    // Exemplar declares span_id before trace_id.
    assert_eq!(
        ser(&exemplar),
        format!(r#"{{"spanId":"{SPAN_HEX}","traceId":"{TRACE_HEX}"}}"#)
    );

    let profile_link: profiles::Link = de(&ids);
    assert_eq!(
        (profile_link.trace_id.clone(), profile_link.span_id.clone()),
        (trace_bytes(), span_bytes())
    );
    assert_eq!(ser(&profile_link), expected);

    let span: Span = de(&format!(
        r#"{{"parentSpanId":"{}"}}"#,
        SPAN_HEX.to_uppercase()
    ));
    assert_eq!(span.parent_span_id, span_bytes());
}

#[test]
fn rule_3_ids_are_case_insensitive_on_input() {
    for trace in [
        TRACE_HEX.to_owned(),
        TRACE_HEX.to_uppercase(),
        "5B8eFfF798038103d269B633813Fc60C".to_owned(),
    ] {
        let span: Span = de(&format!(r#"{{"traceId":"{trace}"}}"#));
        assert_eq!(span.trace_id, trace_bytes(), "{trace}");
    }
}

#[test]
fn rule_3_empty_id_string_is_empty_bytes() {
    let span: Span = de(r#"{"traceId":"","spanId":"","parentSpanId":""}"#);
    assert_eq!(span, Span::default());
}

#[test]
fn rule_3_invalid_ids_are_errors() {
    let bad_trace_ids = [
        &TRACE_HEX[..31],                     // one digit short
        &TRACE_HEX[..30],                     // one byte short
        "5b8efff798038103d269b633813fc60c0",  // one digit long
        "5b8efff798038103d269b633813fc60c00", // one byte long
        "5b8efff798038103d269b633813fc60g",   // not hex
        "5b8efff798038103d269b633813fc6 c",   // a space
        "5b8efff798038103d269b633813fc6é",    // 32 bytes of UTF-8, not hex
        "0x8efff798038103d269b633813fc60c",   // a prefix
        "W47/95gDgQPSabYzgT/GDA==",           // base64, as protobuf's mapping would have it
        "eee19b7ec3c1b174",                   // a span id
    ];
    for id in bad_trace_ids {
        let message = de_err_message::<Span>(&format!(r#"{{"traceId":"{id}"}}"#));
        assert!(message.contains("trace id"), "{id}: {message}");
        de_err::<LogRecord>(&format!(r#"{{"traceId":"{id}"}}"#));
        de_err::<profiles::Link>(&format!(r#"{{"traceId":"{id}"}}"#));
    }
    for id in [
        "eee19b7ec3c1b17",
        "eee19b7ec3c1b1740",
        "eee19b7ec3c1b17z",
        TRACE_HEX,
        "7uGbfsPBsXQ=",
    ] {
        let message = de_err_message::<Span>(&format!(r#"{{"spanId":"{id}"}}"#));
        assert!(message.contains("span id"), "{id}: {message}");
        de_err::<Span>(&format!(r#"{{"parentSpanId":"{id}"}}"#));
        de_err::<Exemplar>(&format!(r#"{{"spanId":"{id}"}}"#));
        de_err::<span::Link>(&format!(r#"{{"spanId":"{id}"}}"#));
    }
    // Not a string at all.
    de_err::<Span>(r#"{"traceId":5}"#);
    de_err::<Span>(r#"{"spanId":[238,225]}"#);
}

#[test]
fn rule_3_other_bytes_are_standard_base64_with_padding_on_output() {
    let value = any(Value::BytesValue(vec![0xfb, 0xff, 0xbf, 0x00, 0x10]));
    assert_eq!(ser(&value), r#"{"bytesValue":"+/+/ABA="}"#);
    // profile_id is 16 bytes like a trace id, but OTLP only hex-encodes trace and span ids.
    let id: Vec<u8> = (0..16).collect();
    let profile = profiles::Profile {
        profile_id: id.clone(),
        original_payload: vec![1, 2],
        ..Default::default()
    };
    assert_eq!(
        ser(&profile),
        r#"{"profileId":"AAECAwQFBgcICQoLDA0ODw==","originalPayload":"AQI="}"#
    );
    // Long values (past the stack buffer) too.
    let long = vec![0xAB; 1000];
    let text = ser(&any(Value::BytesValue(long.clone())));
    assert_eq!(de::<AnyValue>(&text), any(Value::BytesValue(long)));
}

#[test]
fn rule_3_base64_input_accepts_both_alphabets_padded_or_not() {
    let bytes = vec![0xfb, 0xff, 0xbf, 0x00, 0x10];
    for text in ["+/+/ABA=", "+/+/ABA", "-_-_ABA=", "-_-_ABA"] {
        let value: AnyValue = de(&format!(r#"{{"bytesValue":"{text}"}}"#));
        assert_eq!(value, any(Value::BytesValue(bytes.clone())), "{text}");
    }
    assert_eq!(
        de::<AnyValue>(r#"{"bytesValue":""}"#),
        any(Value::BytesValue(Vec::new()))
    );
    // A 32-digit hex string is base64 in profileId: 24 bytes, not 16.
    let profile: profiles::Profile = de(&format!(r#"{{"profileId":"{TRACE_HEX}"}}"#));
    assert_eq!(profile.profile_id.len(), 24);
}

#[test]
fn rule_3_bad_base64_is_an_error() {
    for text in ["A", "AB=C", "@@@@", "AQI=AQI=", "+/-_", "AQ I=", "AQ==="] {
        let message = de_err_message::<AnyValue>(&format!(r#"{{"bytesValue":"{text}"}}"#));
        assert!(message.contains("base64"), "{text}: {message}");
        de_err::<profiles::Profile>(&format!(r#"{{"originalPayload":"{text}"}}"#));
    }
    de_err::<AnyValue>(r#"{"bytesValue":[1,2]}"#);
}

// -------------------------------------------------------------------------------------------
// 4. Enums: numbers out; numbers or names in; unknown numbers kept; unknown names rejected.
// -------------------------------------------------------------------------------------------

#[test]
fn rule_4_enums_are_written_as_numbers() {
    let span = Span {
        kind: span::SpanKind::Consumer as i32,
        ..Span::default()
    };
    assert_eq!(ser(&span), r#"{"kind":5}"#);
    let record = LogRecord {
        severity_number: 21,
        ..LogRecord::default()
    };
    assert_eq!(ser(&record), r#"{"severityNumber":21}"#);
}

#[test]
fn rule_4_enums_are_read_from_numbers_and_names() {
    assert_eq!(de::<Span>(r#"{"kind":3}"#).kind, 3);
    assert_eq!(de::<Span>(r#"{"kind":"SPAN_KIND_PRODUCER"}"#).kind, 4);
    assert_eq!(de::<Status>(r#"{"code":"STATUS_CODE_ERROR"}"#).code, 2);
    assert_eq!(
        de::<LogRecord>(r#"{"severityNumber":"SEVERITY_NUMBER_FATAL4"}"#).severity_number,
        24
    );
    assert_eq!(
        de::<Sum>(r#"{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA"}"#)
            .aggregation_temporality,
        1
    );
    // The zero value by name is the default, so it is not written back.
    let span: Span = de(r#"{"kind":"SPAN_KIND_UNSPECIFIED"}"#);
    assert_eq!(ser(&span), "{}");
}

#[test]
fn rule_4_unknown_enum_numbers_are_kept() {
    for (input, kept) in [
        ("42", 42),
        ("-1", -1),
        ("2147483647", i32::MAX),
        ("-2147483648", i32::MIN),
    ] {
        let span: Span = de(&format!(r#"{{"kind":{input}}}"#));
        assert_eq!(span.kind, kept);
        assert_eq!(ser(&span), format!(r#"{{"kind":{kept}}}"#));
    }
}

#[test]
fn rule_4_unknown_enum_names_and_bad_values_are_errors() {
    for bad in [
        r#""SPAN_KIND_SOMETHING""#,
        r#""span_kind_server""#, // names are case-sensitive
        r#""SERVER""#,
        r#""STATUS_CODE_OK""#, // another enum's name
        r#""2""#,              // a numeric string is not a name
        r#""""#,
        "2147483648",
        "-2147483649",
        "2.5",
        "true",
        "[]",
        "{}",
    ] {
        let message = de_err_message::<Span>(&format!(r#"{{"kind":{bad}}}"#));
        if bad.starts_with("\"S") {
            assert!(
                message.contains("opentelemetry.proto.trace.v1.Span.SpanKind"),
                "{message}"
            );
        }
    }
}

// -------------------------------------------------------------------------------------------
// 5. 64-bit integers: strings out; strings or numbers in. 32-bit integers: numbers out.
// -------------------------------------------------------------------------------------------

#[test]
fn rule_5_64_bit_integers_are_written_as_decimal_strings() {
    // fixed64
    let span = Span {
        start_time_unix_nano: u64::MAX,
        ..Span::default()
    };
    assert_eq!(
        ser(&span),
        r#"{"startTimeUnixNano":"18446744073709551615"}"#
    );
    // int64 (in a oneof, and in a partial success)
    assert_eq!(
        ser(&any(Value::IntValue(i64::MIN))),
        r#"{"intValue":"-9223372036854775808"}"#
    );
    let partial = ExportTracePartialSuccess {
        rejected_spans: 12,
        error_message: String::new(),
    };
    assert_eq!(ser(&partial), r#"{"rejectedSpans":"12"}"#);
    // sfixed64
    let point = NumberDataPoint {
        value: Some(number_data_point::Value::AsInt(-5)),
        ..Default::default()
    };
    assert_eq!(ser(&point), r#"{"asInt":"-5"}"#);
    // uint64, repeated uint64 and repeated fixed64
    let buckets = Buckets {
        offset: 0,
        bucket_counts: vec![0, 7, u64::MAX],
    };
    assert_eq!(
        ser(&buckets),
        r#"{"bucketCounts":["0","7","18446744073709551615"]}"#
    );
    let sample = profiles::Sample {
        values: vec![-1, 2],
        timestamps_unix_nano: vec![3],
        ..Default::default()
    };
    assert_eq!(
        ser(&sample),
        r#"{"values":["-1","2"],"timestampsUnixNano":["3"]}"#
    );
    let mapping = profiles::Mapping {
        memory_start: 4096,
        ..Default::default()
    };
    assert_eq!(ser(&mapping), r#"{"memoryStart":"4096"}"#);
}

#[test]
fn rule_5_64_bit_integers_are_read_from_strings_and_numbers() {
    for (input, expected) in [
        (r#""1718201725000000000""#, 1_718_201_725_000_000_000_u64),
        ("1718201725000000000", 1_718_201_725_000_000_000),
        (r#""18446744073709551615""#, u64::MAX),
        ("18446744073709551615", u64::MAX),
        ("0", 0),
        (r#""0""#, 0),
        ("1e3", 1000),
        ("1000.0", 1000),
        ("1.7182017251e18", 1_718_201_725_100_000_000),
        (r#""1e3""#, 1000),
    ] {
        let span: Span = de(&format!(r#"{{"startTimeUnixNano":{input}}}"#));
        assert_eq!(span.start_time_unix_nano, expected, "{input}");
    }
    for (input, expected) in [
        (r#""-9223372036854775808""#, i64::MIN),
        ("-9223372036854775808", i64::MIN),
        ("9223372036854775807", i64::MAX),
        (r#""-42""#, -42),
        ("-4.2e1", -42),
    ] {
        let value: AnyValue = de(&format!(r#"{{"intValue":{input}}}"#));
        assert_eq!(value, any(Value::IntValue(expected)), "{input}");
    }
    let buckets: Buckets = de(r#"{"bucketCounts":["1",2,3e0]}"#);
    assert_eq!(buckets.bucket_counts, [1, 2, 3]);
}

#[test]
fn rule_5_64_bit_out_of_range_and_malformed_values_are_errors() {
    for bad in [
        r#""18446744073709551616""#,
        "18446744073709551616",
        "1e20",
        r#""-1""#,
        "-1",
        "1.5",
        r#""1.5""#,
        r#""""#,
        r#"" 1""#,
        r#""1 ""#,
        r#""0x10""#,
        r#""abc""#,
        r#""NaN""#,
        r#""Infinity""#,
        "true",
        "[1]",
        "{}",
    ] {
        de_err_message::<Span>(&format!(r#"{{"startTimeUnixNano":{bad}}}"#));
    }
    for bad in [
        "9223372036854775808",
        r#""9223372036854775808""#,
        r#""-9223372036854775809""#,
        "-1e19",
    ] {
        de_err_message::<AnyValue>(&format!(r#"{{"intValue":{bad}}}"#));
        de_err_message::<ExportTracePartialSuccess>(&format!(r#"{{"rejectedSpans":{bad}}}"#));
    }
    de_err_message::<Buckets>(r#"{"bucketCounts":["1",-2]}"#);
}

#[test]
fn rule_5_32_bit_integers_are_numbers_out_and_numbers_or_strings_in() {
    let span = Span {
        flags: 257,
        dropped_attributes_count: u32::MAX,
        ..Span::default()
    };
    assert_eq!(
        ser(&span),
        r#"{"flags":257,"droppedAttributesCount":4294967295}"#
    );
    let point = ExponentialHistogramDataPoint {
        scale: -3,
        ..Default::default()
    };
    assert_eq!(ser(&point), r#"{"scale":-3}"#);
    assert_eq!(
        ser(&any(Value::StringValueStrindex(7))),
        r#"{"stringValueStrindex":7}"#
    );

    for input in ["257", r#""257""#, "257.0", "2.57e2", r#""2.57e2""#] {
        assert_eq!(
            de::<Span>(&format!(r#"{{"flags":{input}}}"#)).flags,
            257,
            "{input}"
        );
    }
    assert_eq!(
        de::<ExponentialHistogramDataPoint>(r#"{"scale":"-3"}"#).scale,
        -3
    );
    assert_eq!(
        de::<profiles::Stack>(r#"{"locationIndices":[1,"2",3.0]}"#).location_indices,
        [1, 2, 3]
    );
    for bad in [
        "4294967296",
        r#""4294967296""#,
        "-1",
        r#""-1""#,
        "1.5",
        r#""x""#,
        "true",
        "[]",
    ] {
        de_err_message::<Span>(&format!(r#"{{"flags":{bad}}}"#));
    }
    for bad in ["2147483648", "-2147483649", r#""2147483648""#] {
        de_err_message::<ExponentialHistogramDataPoint>(&format!(r#"{{"scale":{bad}}}"#));
    }
}

// -------------------------------------------------------------------------------------------
// 6. Doubles: numbers; NaN and infinities as strings; numeric strings accepted.
// -------------------------------------------------------------------------------------------

#[test]
fn rule_6_doubles_are_numbers_and_non_finite_values_are_strings() {
    let quantile = |value| {
        ser(&ValueAtQuantile {
            quantile: 0.5,
            value,
        })
    };
    assert_eq!(quantile(1.25), r#"{"quantile":0.5,"value":1.25}"#);
    assert_eq!(quantile(f64::NAN), r#"{"quantile":0.5,"value":"NaN"}"#);
    assert_eq!(
        quantile(f64::INFINITY),
        r#"{"quantile":0.5,"value":"Infinity"}"#
    );
    assert_eq!(
        quantile(f64::NEG_INFINITY),
        r#"{"quantile":0.5,"value":"-Infinity"}"#
    );
    let point = HistogramDataPoint {
        sum: Some(f64::NAN),
        explicit_bounds: vec![1.0, f64::INFINITY, -0.5],
        ..Default::default()
    };
    assert_eq!(
        ser(&point),
        r#"{"sum":"NaN","explicitBounds":[1.0,"Infinity",-0.5]}"#
    );
    assert_eq!(
        ser(&any(Value::DoubleValue(f64::NEG_INFINITY))),
        r#"{"doubleValue":"-Infinity"}"#
    );
}

#[test]
fn rule_6_doubles_are_read_from_numbers_names_and_numeric_strings() {
    for (input, expected) in [
        ("1.25", 1.25),
        ("3", 3.0),
        ("-7", -7.0),
        ("1e-3", 0.001),
        (r#""1.25""#, 1.25),
        (r#""-1e3""#, -1000.0),
        (r#""Infinity""#, f64::INFINITY),
        (r#""-Infinity""#, f64::NEG_INFINITY),
        ("18446744073709551615", 18_446_744_073_709_551_615.0),
    ] {
        let quantile: ValueAtQuantile = de(&format!(r#"{{"value":{input}}}"#));
        assert_eq!(quantile.value, expected, "{input}");
    }
    let quantile: ValueAtQuantile = de(r#"{"value":"NaN"}"#);
    assert!(quantile.value.is_nan());
    let point: HistogramDataPoint = de(r#"{"sum":"NaN","explicitBounds":[1,"2.5","-Infinity"]}"#);
    assert!(point.sum.unwrap().is_nan());
    assert_eq!(point.explicit_bounds, [1.0, 2.5, f64::NEG_INFINITY]);
}

#[test]
fn rule_6_doubles_round_trip_bit_exactly() {
    // serde_json's default float parser can be one ulp off; the crate enables its exact
    // (`float_roundtrip`) parser. These values were off by one ulp without it.
    for value in [
        -3.853_446_688_220_530_4e-115,
        0.1,
        1.0 / 3.0,
        2.225_073_858_507_201e-308,
        f64::from_bits(1),
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        123_456_789.123_456_78,
    ] {
        let quantile = ValueAtQuantile {
            quantile: value,
            value,
        };
        let back: ValueAtQuantile = de(&ser(&quantile));
        assert_eq!(back.value.to_bits(), value.to_bits(), "{value:e}");
        let any_value = any(Value::DoubleValue(value));
        let Some(Value::DoubleValue(back)) = de::<AnyValue>(&ser(&any_value)).value else {
            panic!()
        };
        assert_eq!(back.to_bits(), value.to_bits(), "{value:e}");
    }
    // A set oneof member keeps the sign of zero (an implicit field of -0.0 is a default).
    assert_eq!(
        ser(&any(Value::DoubleValue(-0.0))),
        r#"{"doubleValue":-0.0}"#
    );
    let Some(Value::DoubleValue(zero)) = de::<AnyValue>(r#"{"doubleValue":-0.0}"#).value else {
        panic!()
    };
    assert!(zero == 0.0 && zero.is_sign_negative());
}

#[test]
fn rule_6_bad_doubles_are_errors() {
    for bad in [
        r#""nan""#,
        r#""inf""#,
        r#""infinity""#,
        r#""+Infinity""#,
        r#""-NaN""#,
        r#""1e400""#,
        r#""abc""#,
        r#""""#,
        r#"" 1""#,
        r#""0x10""#,
        "1e400",
        "true",
        "[1.0]",
        "{}",
    ] {
        de_err::<ValueAtQuantile>(&format!(r#"{{"value":{bad}}}"#));
        de_err::<AnyValue>(&format!(r#"{{"doubleValue":{bad}}}"#));
    }
}

// -------------------------------------------------------------------------------------------
// 7. Defaults omitted; set oneof members and optional fields always written; `null` = absent.
// -------------------------------------------------------------------------------------------

#[test]
fn rule_7_default_values_are_omitted() {
    let span = Span {
        trace_id: Vec::new(),
        name: String::new(),
        kind: 0,
        flags: 0,
        start_time_unix_nano: 0,
        attributes: Vec::new(),
        status: None,
        ..Span::default()
    };
    assert_eq!(ser(&span), "{}");
    let sum = Sum {
        data_points: Vec::new(),
        aggregation_temporality: 0,
        is_monotonic: false,
    };
    assert_eq!(ser(&sum), "{}");
    let quantile = ValueAtQuantile {
        quantile: 0.0,
        value: -0.0,
    };
    assert_eq!(ser(&quantile), "{}");
    let point = HistogramDataPoint {
        sum: None,
        min: None,
        max: None,
        ..Default::default()
    };
    assert_eq!(ser(&point), "{}");
}

#[test]
fn rule_7_set_oneof_members_are_written_even_when_zero() {
    for (value, expected) in [
        (Value::StringValue(String::new()), r#"{"stringValue":""}"#),
        (Value::BoolValue(false), r#"{"boolValue":false}"#),
        (Value::IntValue(0), r#"{"intValue":"0"}"#),
        (Value::DoubleValue(0.0), r#"{"doubleValue":0.0}"#),
        (Value::BytesValue(Vec::new()), r#"{"bytesValue":""}"#),
        (
            Value::ArrayValue(ArrayValue::default()),
            r#"{"arrayValue":{}}"#,
        ),
        (
            Value::KvlistValue(KeyValueList::default()),
            r#"{"kvlistValue":{}}"#,
        ),
        (
            Value::StringValueStrindex(0),
            r#"{"stringValueStrindex":0}"#,
        ),
    ] {
        let value = any(value);
        assert_eq!(ser(&value), expected);
        assert_eq!(de::<AnyValue>(expected), value, "{expected}");
    }
    let point = NumberDataPoint {
        value: Some(number_data_point::Value::AsDouble(0.0)),
        ..Default::default()
    };
    assert_eq!(ser(&point), r#"{"asDouble":0.0}"#);
    let exemplar = Exemplar {
        value: Some(exemplar::Value::AsInt(0)),
        ..Default::default()
    };
    assert_eq!(ser(&exemplar), r#"{"asInt":"0"}"#);
    let metric = Metric {
        data: Some(metric::Data::Gauge(Gauge::default())),
        ..Default::default()
    };
    assert_eq!(ser(&metric), r#"{"gauge":{}}"#);
    assert_eq!(de::<Metric>(r#"{"gauge":{}}"#), metric);
}

#[test]
fn rule_7_set_optional_fields_are_written_even_when_zero() {
    let point = HistogramDataPoint {
        sum: Some(0.0),
        min: Some(0.0),
        max: None,
        ..Default::default()
    };
    assert_eq!(ser(&point), r#"{"sum":0.0,"min":0.0}"#);
    assert_eq!(de::<HistogramDataPoint>(r#"{"sum":0.0,"min":0}"#), point);
    let point = ExponentialHistogramDataPoint {
        max: Some(0.0),
        ..Default::default()
    };
    assert_eq!(ser(&point), r#"{"max":0.0}"#);
}

#[test]
fn rule_7_present_empty_sub_messages_are_written() {
    let span = Span {
        status: Some(Status::default()),
        ..Span::default()
    };
    assert_eq!(ser(&span), r#"{"status":{}}"#);
    assert_eq!(de::<Span>(r#"{"status":{}}"#), span);
    let span = Span {
        events: vec![span::Event::default(), span::Event::default()],
        ..Span::default()
    };
    assert_eq!(ser(&span), r#"{"events":[{},{}]}"#);
    let kv = KeyValue {
        key: String::new(),
        value: Some(AnyValue::default()),
        key_strindex: 0,
    };
    assert_eq!(ser(&kv), r#"{"value":{}}"#);
}

#[test]
fn rule_7_null_means_absent_for_every_kind_of_field() {
    let span: Span = de(
        r#"{"traceId":null,"spanId":null,"traceState":null,"parentSpanId":null,"flags":null,
            "name":null,"kind":null,"startTimeUnixNano":null,"endTimeUnixNano":null,
            "attributes":null,"droppedAttributesCount":null,"events":null,"droppedEventsCount":null,
            "links":null,"droppedLinksCount":null,"status":null}"#,
    );
    assert_eq!(span, Span::default());
    let point: HistogramDataPoint =
        de(r#"{"sum":null,"min":null,"max":null,"bucketCounts":null,"explicitBounds":null}"#);
    assert_eq!(point, HistogramDataPoint::default());
    let value: AnyValue = de(r#"{"stringValue":null,"intValue":null,"kvlistValue":null}"#);
    assert_eq!(value, AnyValue::default());
    let value: AnyValue = de(r#"{"stringValue":null,"boolValue":true}"#);
    assert_eq!(value, any(Value::BoolValue(true)));
    let quantile: ValueAtQuantile = de(r#"{"quantile":null,"value":null}"#);
    assert_eq!(quantile, ValueAtQuantile::default());
    let profile: profiles::Profile =
        de(r#"{"profileId":null,"sampleType":null,"attributeIndices":null}"#);
    assert_eq!(profile, profiles::Profile::default());
}

#[test]
fn rule_7_null_inside_an_array_is_an_error() {
    de_err::<Span>(r#"{"attributes":[null]}"#);
    de_err::<Buckets>(r#"{"bucketCounts":["1",null]}"#);
    de_err::<HistogramDataPoint>(r#"{"explicitBounds":[null]}"#);
    de_err::<profiles::ProfilesDictionary>(r#"{"stringTable":["",null]}"#);
}

// -------------------------------------------------------------------------------------------
// 8. Errors, never panics, on malformed input.
// -------------------------------------------------------------------------------------------

#[test]
fn rule_8_wrong_json_types_are_errors() {
    for (field, bad) in [
        ("name", "5"),
        ("name", "true"),
        ("name", "[]"),
        ("name", "{}"),
        ("status", "[]"),
        ("status", r#""ok""#),
        ("status", "1"),
        ("attributes", "{}"),
        ("attributes", r#""k=v""#),
        ("attributes", "[1]"),
        ("events", r#"[[]]"#),
        ("droppedAttributesCount", "{}"),
    ] {
        de_err_message::<Span>(&format!(r#"{{"{field}":{bad}}}"#));
    }
    de_err_message::<Sum>(r#"{"isMonotonic":"true"}"#);
    de_err_message::<Sum>(r#"{"isMonotonic":1}"#);
    de_err_message::<AnyValue>(r#"{"arrayValue":[]}"#);
    de_err_message::<ExportTraceServiceRequest>("[]");
    de_err_message::<ExportTraceServiceRequest>(r#""resourceSpans""#);
    de_err_message::<ExportTraceServiceRequest>("null");
}

#[test]
fn rule_8_trailing_characters_are_errors() {
    for bad in ["{} x", "{}{}", "{},", "{}]", "{} null", "{}\u{0}"] {
        let error = de_err::<ExportTraceServiceRequest>(bad);
        assert!(
            matches!(error, JsonError::Syntax { .. }),
            "{bad}: {error:?}"
        );
    }
    // Whitespace is fine.
    de::<ExportTraceServiceRequest>(" \n\t{}\r\n ");
}

#[test]
fn rule_8_malformed_and_truncated_json_are_errors() {
    for bad in [
        "",
        "{",
        r#"{"resourceSpans":["#,
        r#"{"resourceSpans":[{"#,
        r#"{"name":"abc"#,
    ] {
        let error = de_err::<ExportTraceServiceRequest>(bad);
        assert!(matches!(error, JsonError::Eof { .. }), "{bad}: {error:?}");
    }
    for bad in [
        "{,}",
        "{'a':1}",
        r#"{"a" 1}"#,
        r#"{"a":01}"#,
        r#"{"a":[1,]}"#,
        "nulx",
        r#"{"a":"\x"}"#,
    ] {
        let error = de_err::<ExportTraceServiceRequest>(bad);
        assert!(
            matches!(error, JsonError::Syntax { .. }),
            "{bad}: {error:?}"
        );
    }
    // Invalid UTF-8 inside a string.
    let error = json::from_slice::<Span>(b"{\"name\":\"\xff\xfe\"}").unwrap_err();
    assert!(matches!(error, JsonError::Syntax { .. }), "{error:?}");
}

#[test]
fn rule_8_errors_carry_the_position_and_serde_json_message() {
    let text = "{\n  \"resourceSpans\": [\n    {\"scopeSpans\": [{\"spans\": [{\"traceId\": \"zz\"}]}]}\n  ]\n}";
    let error = de_err::<ExportTraceServiceRequest>(text);
    let JsonError::Data {
        message,
        line,
        column,
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(*line, 3);
    assert!(*column > 30, "{column}");
    assert!(message.contains("trace id"), "{message}");
    let shown = error.to_string();
    assert!(shown.contains("line 3"), "{shown}");
}

#[test]
fn rule_8_repeated_keys_and_two_oneof_members_are_errors() {
    let message = de_err_message::<Span>(r#"{"name":"a","name":"b"}"#);
    assert!(message.contains("duplicate field `name`"), "{message}");
    de_err_message::<Span>(r#"{"name":null,"name":"b"}"#);
    de_err_message::<Span>(r#"{"attributes":[],"attributes":[]}"#);
    let message = de_err_message::<AnyValue>(r#"{"stringValue":"a","intValue":"1"}"#);
    assert!(message.contains("oneof `value`"), "{message}");
    de_err_message::<Metric>(r#"{"gauge":{},"sum":{}}"#);
    de_err_message::<NumberDataPoint>(r#"{"asDouble":1.0,"asInt":"1"}"#);
    // Repeated unknown keys are not checked: they are skipped.
    de::<Span>(r#"{"x":1,"x":2}"#);
}

fn nested_any_value(depth: usize) -> String {
    let mut text = String::new();
    for _ in 0..depth {
        text.push_str(r#"{"arrayValue":{"values":["#);
    }
    text.push_str(r#"{"intValue":"1"}"#);
    for _ in 0..depth {
        text.push_str("]}}");
    }
    text
}

#[test]
fn rule_8_deep_nesting_is_an_error_not_a_stack_overflow() {
    // Each level is three JSON containers; serde_json's limit is 128 containers.
    let shallow: AnyValue = de(&nested_any_value(40));
    assert!(matches!(shallow.value, Some(Value::ArrayValue(_))));
    for depth in [50, 1_000, 100_000] {
        let error = de_err::<AnyValue>(&nested_any_value(depth));
        assert!(
            error.to_string().contains("recursion limit"),
            "{depth}: {error}"
        );
    }
    let mut kvlist = String::new();
    for _ in 0..10_000 {
        kvlist.push_str(r#"{"kvlistValue":{"values":[{"key":"k","value":"#);
    }
    de_err::<AnyValue>(&kvlist);
    // Unknown values are skipped by serde_json without recursion (an explicit stack on the
    // heap), so even absurd nesting there is harmless, and accepted.
    let deep_unknown = format!(
        r#"{{"unknown":{}{},"name":"n"}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(de::<Span>(&deep_unknown).name, "n");
    de_err::<Span>(&format!(r#"{{"unknown":{}}}"#, "[".repeat(100_000)));
}

#[test]
fn rule_8_json_error_variants_are_documented_and_distinct() {
    let data = de_err::<Span>(r#"{"kind":"NOPE"}"#);
    let syntax = de_err::<Span>("{]");
    let eof = de_err::<Span>("{");
    assert!(matches!(data, JsonError::Data { line: 1, .. }));
    assert!(matches!(syntax, JsonError::Syntax { line: 1, .. }));
    assert!(matches!(eof, JsonError::Eof { .. }));
    assert_ne!(data.to_string(), syntax.to_string());
    let _: &dyn std::error::Error = &data;
}
