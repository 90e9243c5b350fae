//! Differential tests of our OTLP/JSON against the serde support of the `opentelemetry-proto`
//! crate (feature `with-serde`), the OTLP/JSON implementation of opentelemetry-rust.
//!
//! Both crates hold prost code for OTLP v1.10.0 with the same field numbers, so messages are
//! compared through their protobuf encoding: byte-identical encodings are the same message.
//!
//! * For the canonical fixtures of traces, metrics and logs, opentelemetry-proto reads the JSON
//!   we emit to the same message, and the JSON it emits for that message reads back with ours to
//!   the same message.
//! * The same two directions on random messages are properties in `json_proptest.rs`
//!   (`differential_*`).
//! * Where opentelemetry-proto's serde deviates from the OTLP specification, a test below
//!   asserts what it does, with the spec's rule in a comment, so that the deviation is on record
//!   (and the test fails if a new version changes it). Nothing is worked around silently: the
//!   two places that adapt a message to opentelemetry-proto say so and why.

// A test crate: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use opentelemetry_proto::tonic as up;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceRequest};
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value::Value};
use otlp_proto::json;
use otlp_proto::metrics::v1::{Gauge, NumberDataPoint, number_data_point};
use otlp_proto::trace::v1::Span;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/json")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// Converts between the crates through the protobuf encoding.
fn convert<From: Message, To: Message + Default>(message: &From) -> To {
    To::decode(message.encode_to_vec().as_slice()).unwrap()
}

/// The fixture round trip in both directions for one signal.
fn fixture_both_ways<Ours, Up>(signal: &str)
where
    Ours: Message + Default + PartialEq + Debug + Serialize + DeserializeOwned,
    Up: Message + Default + Serialize + DeserializeOwned,
{
    let text = fixture(&format!("{signal}.canonical.json"));
    let ours: Ours = json::from_str(&text).unwrap();

    // Our JSON → opentelemetry-proto.
    let ours_json = json::to_vec(&ours).unwrap();
    let theirs: Up = serde_json::from_slice(&ours_json)
        .unwrap_or_else(|e| panic!("opentelemetry-proto refused our {signal} JSON: {e}"));
    assert_eq!(
        theirs.encode_to_vec(),
        ours.encode_to_vec(),
        "{signal}: our JSON → opentelemetry-proto"
    );

    // opentelemetry-proto's JSON → ours.
    let theirs_json = serde_json::to_vec(&convert::<Ours, Up>(&ours)).unwrap();
    let back: Ours = json::from_slice(&theirs_json)
        .unwrap_or_else(|e| panic!("we refused opentelemetry-proto's {signal} JSON: {e}"));
    assert_eq!(
        back.encode_to_vec(),
        ours.encode_to_vec(),
        "{signal}: opentelemetry-proto JSON → ours"
    );

    // Not a deviation, but a difference: it writes default values out (`"traceState":""`,
    // `"droppedAttributesCount":0`, `"attributes":[]`, `"status":null`), which the proto3 JSON
    // mapping allows a writer and requires a reader to accept; we omit them.
    assert!(theirs_json.len() > ours_json.len(), "{signal}");
}

#[test]
fn traces_fixture_agrees_both_ways() {
    fixture_both_ways::<
        ExportTraceServiceRequest,
        up::collector::trace::v1::ExportTraceServiceRequest,
    >("traces");
}

#[test]
fn metrics_fixture_agrees_both_ways() {
    // The fixture's NaN sits in a `ValueAtQuantile`, the one place where opentelemetry-proto
    // reads and writes the special double names (see `deviation_non_finite_doubles`).
    fixture_both_ways::<
        ExportMetricsServiceRequest,
        up::collector::metrics::v1::ExportMetricsServiceRequest,
    >("metrics");
}

#[test]
fn logs_fixture_agrees_both_ways() {
    fixture_both_ways::<ExportLogsServiceRequest, up::collector::logs::v1::ExportLogsServiceRequest>(
        "logs",
    );
}

#[test]
fn alternative_fixtures_are_refused_by_opentelemetry_proto() {
    // Every alternative fixture uses enum names, which opentelemetry-proto does not read
    // (`deviation_enum_names`), among other spellings it refuses.
    let trace = serde_json::from_str::<up::collector::trace::v1::ExportTraceServiceRequest>(
        &fixture("traces.alternative.json"),
    );
    assert!(trace.is_err());
    let logs = serde_json::from_str::<up::collector::logs::v1::ExportLogsServiceRequest>(&fixture(
        "logs.alternative.json",
    ));
    assert!(logs.is_err());
    let metrics = serde_json::from_str::<up::collector::metrics::v1::ExportMetricsServiceRequest>(
        &fixture("metrics.alternative.json"),
    );
    assert!(metrics.is_err());
}

// -------------------------------------------------------------------------------------------
// Deviations of opentelemetry-proto 0.33.1 from the OTLP/JSON specification.
// -------------------------------------------------------------------------------------------

/// Spec (proto3 JSON mapping, which OTLP/JSON follows): a parser accepts an enum value's name
/// as well as its number. opentelemetry-proto reads numbers only.
#[test]
fn deviation_enum_names() {
    let text = r#"{"kind":"SPAN_KIND_SERVER"}"#;
    assert!(serde_json::from_str::<up::trace::v1::Span>(text).is_err());
    assert_eq!(json::from_str::<Span>(text).unwrap().kind, 2);
    let text = r#"{"severityNumber":"SEVERITY_NUMBER_WARN"}"#;
    assert!(serde_json::from_str::<up::logs::v1::LogRecord>(text).is_err());
}

/// Spec: integers are accepted as numbers or strings, exponent notation included.
/// opentelemetry-proto refuses 32-bit integers as strings and 64-bit ones in exponent form.
#[test]
fn deviation_integer_spellings() {
    let text = r#"{"flags":"257"}"#;
    assert!(serde_json::from_str::<up::trace::v1::Span>(text).is_err());
    assert_eq!(json::from_str::<Span>(text).unwrap().flags, 257);
    let text = r#"{"startTimeUnixNano":1e18}"#;
    assert!(serde_json::from_str::<up::trace::v1::Span>(text).is_err());
    assert_eq!(
        json::from_str::<Span>(text).unwrap().start_time_unix_nano,
        1_000_000_000_000_000_000
    );
}

/// Spec: NaN and ±Infinity are written as "NaN", "Infinity", "-Infinity" in every double
/// field. opentelemetry-proto does so only in `ValueAtQuantile`; everywhere else it writes
/// `null` (the value is lost: reading it back gives an absent value) and on input it drops a
/// "NaN" `asDouble` without an error.
#[test]
fn deviation_non_finite_doubles() {
    let point = up::metrics::v1::NumberDataPoint {
        value: Some(up::metrics::v1::number_data_point::Value::AsDouble(
            f64::NAN,
        )),
        ..Default::default()
    };
    let written = serde_json::to_string(&point).unwrap();
    assert!(written.contains(r#""asDouble":null"#), "{written}");
    let value = up::common::v1::AnyValue {
        value: Some(up::common::v1::any_value::Value::DoubleValue(f64::INFINITY)),
    };
    assert_eq!(
        serde_json::to_string(&value).unwrap(),
        r#"{"doubleValue":null}"#
    );
    let histogram = up::metrics::v1::HistogramDataPoint {
        sum: Some(f64::NEG_INFINITY),
        ..Default::default()
    };
    assert!(
        serde_json::to_string(&histogram)
            .unwrap()
            .contains(r#""sum":null"#)
    );

    let read =
        serde_json::from_str::<up::metrics::v1::NumberDataPoint>(r#"{"asDouble":"NaN"}"#).unwrap();
    assert_eq!(read.value, None, "the value is silently dropped");

    // Ours, for comparison.
    let ours = NumberDataPoint {
        value: Some(number_data_point::Value::AsDouble(f64::NAN)),
        ..Default::default()
    };
    assert_eq!(json::to_string(&ours).unwrap(), r#"{"asDouble":"NaN"}"#);
    let read: NumberDataPoint = json::from_str(r#"{"asDouble":"NaN"}"#).unwrap();
    assert!(matches!(read.value, Some(number_data_point::Value::AsDouble(v)) if v.is_nan()));
}

/// Spec: fields with default values may be omitted, and are by the canonical encoding (empty
/// repeated fields and empty strings included). opentelemetry-proto requires some of them:
/// `ArrayValue.values`, `KeyValueList.values`, `KeyValue.key`, every `EntityRef` field and the
/// top-level `*Data` lists. Refused at the top of a document; inside a data point (a struct
/// with a flattened oneof) the same problem silently loses the attributes.
#[test]
fn deviation_required_fields() {
    // What we write for an empty array value and for a key-value with an empty key.
    let empty_array = json::to_string(&AnyValue {
        value: Some(Value::ArrayValue(Default::default())),
    })
    .unwrap();
    assert_eq!(empty_array, r#"{"arrayValue":{}}"#);
    assert!(serde_json::from_str::<up::common::v1::AnyValue>(&empty_array).is_err());
    let no_key = json::to_string(&KeyValue {
        key: String::new(),
        value: None,
        key_strindex: 3,
    })
    .unwrap();
    assert_eq!(no_key, r#"{"keyStrindex":3}"#);
    assert!(serde_json::from_str::<up::common::v1::KeyValue>(&no_key).is_err());
    assert!(
        serde_json::from_str::<up::common::v1::EntityRef>(r#"{"type":"service","idKeys":["a"]}"#)
            .is_err()
    );
    assert!(serde_json::from_str::<up::trace::v1::TracesData>("{}").is_err());

    // Inside a data point: accepted, attribute lost.
    let point = NumberDataPoint {
        attributes: vec![KeyValue {
            key: String::new(),
            value: None,
            key_strindex: 0,
        }],
        value: Some(number_data_point::Value::AsInt(5)),
        ..Default::default()
    };
    let text = json::to_string(&Gauge {
        data_points: vec![point.clone()],
    })
    .unwrap();
    assert_eq!(text, r#"{"dataPoints":[{"attributes":[{}],"asInt":"5"}]}"#);
    let theirs: Result<up::metrics::v1::Gauge, _> = serde_json::from_str(&text);
    let lost = match theirs {
        Ok(gauge) => {
            gauge.encode_to_vec()
                != Gauge {
                    data_points: vec![point],
                }
                .encode_to_vec()
        }
        Err(_) => true,
    };
    assert!(
        lost,
        "opentelemetry-proto now reads a key-value without `key`: update this test"
    );
}

/// Spec (proto3 JSON): `null` is accepted for every field and means its default.
/// opentelemetry-proto accepts it only for message fields.
#[test]
fn deviation_null_for_scalar_fields() {
    for text in [
        r#"{"name":null}"#,
        r#"{"startTimeUnixNano":null}"#,
        r#"{"attributes":null}"#,
    ] {
        assert!(
            serde_json::from_str::<up::trace::v1::Span>(text).is_err(),
            "{text}"
        );
        assert_eq!(json::from_str::<Span>(text).unwrap(), Span::default());
    }
}

/// Spec: a trace id is 16 bytes (32 hex digits), a span id 8 bytes (16 hex digits).
/// opentelemetry-proto takes any even number of hex digits, and a `0x` prefix.
#[test]
fn deviation_id_lengths() {
    let short = serde_json::from_str::<up::trace::v1::Span>(r#"{"traceId":"abcd"}"#).unwrap();
    assert_eq!(short.trace_id, [0xab, 0xcd]);
    let prefixed = serde_json::from_str::<up::trace::v1::Span>(
        r#"{"traceId":"0x5b8efff798038103d269b633813fc60c"}"#,
    )
    .unwrap();
    assert_eq!(prefixed.trace_id.len(), 16);
    assert!(json::from_str::<Span>(r#"{"traceId":"abcd"}"#).is_err());
    assert!(json::from_str::<Span>(r#"{"traceId":"0x5b8efff798038103d269b633813fc60c"}"#).is_err());
}

/// Spec (proto3 JSON): bytes are read from standard or URL-safe base64, with or without
/// padding. opentelemetry-proto reads standard padded base64 only.
#[test]
fn deviation_url_safe_base64() {
    assert!(
        serde_json::from_str::<up::common::v1::AnyValue>(r#"{"bytesValue":"-_-_ABA="}"#).is_err()
    );
    assert!(
        serde_json::from_str::<up::common::v1::AnyValue>(r#"{"bytesValue":"+/+/ABA"}"#).is_err()
    );
    assert!(json::from_str::<AnyValue>(r#"{"bytesValue":"-_-_ABA"}"#).is_ok());
}

/// proto3 JSON parsers refuse two members of one oneof; opentelemetry-proto keeps the last
/// one without a word (and, for `AnyValue`, skips `stringValueStrindex` altogether).
#[test]
fn deviation_oneof_members() {
    let text = r#"{"stringValue":"a","intValue":"1"}"#;
    let theirs = serde_json::from_str::<up::common::v1::AnyValue>(text).unwrap();
    assert_eq!(
        theirs.value,
        Some(up::common::v1::any_value::Value::IntValue(1))
    );
    assert!(json::from_str::<AnyValue>(text).is_err());

    let text = r#"{"stringValueStrindex":5}"#;
    let theirs = serde_json::from_str::<up::common::v1::AnyValue>(text).unwrap();
    assert_eq!(theirs.value, None, "stringValueStrindex is dropped");
    assert_eq!(
        json::from_str::<AnyValue>(text).unwrap().value,
        Some(Value::StringValueStrindex(5))
    );
}

/// Spec: 64-bit integers are written as decimal strings, in every message. opentelemetry-proto
/// writes (and only reads) plain numbers for the `rejected_*` counts of the partial-success
/// messages and for most 64-bit fields of profiles; it hex-encodes `Profile.profile_id`, which
/// the spec leaves base64 (only trace and span ids are hex), and writes `original_payload` as
/// an array of numbers instead of base64. So it refuses our profiles fixture, and we refuse
/// its profiles JSON: there is no profiles differential beyond these assertions.
#[test]
fn deviation_profiles_and_partial_success() {
    let partial = up::collector::trace::v1::ExportTracePartialSuccess {
        rejected_spans: 5,
        error_message: String::new(),
    };
    assert_eq!(
        serde_json::to_string(&partial).unwrap(),
        r#"{"rejectedSpans":5,"errorMessage":""}"#
    );
    let ours = ExportTracePartialSuccess {
        rejected_spans: 5,
        error_message: String::new(),
    };
    assert_eq!(json::to_string(&ours).unwrap(), r#"{"rejectedSpans":"5"}"#);
    assert!(
        serde_json::from_str::<up::collector::trace::v1::ExportTracePartialSuccess>(
            r#"{"rejectedSpans":"5"}"#
        )
        .is_err()
    );

    let text = fixture("profiles.canonical.json");
    let ours: ExportProfilesServiceRequest = json::from_str(&text).unwrap();
    let refused = serde_json::from_str::<
        up::collector::profiles::v1development::ExportProfilesServiceRequest,
    >(&text);
    assert!(refused.is_err());

    let theirs: up::collector::profiles::v1development::ExportProfilesServiceRequest =
        convert(&ours);
    let theirs_json = serde_json::to_string(&theirs).unwrap();
    let profile_id_hex: String = ours.resource_profiles[0].scope_profiles[0].profiles[0]
        .profile_id
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(theirs_json.contains(&format!(r#""profileId":"{profile_id_hex}""#)));
    assert!(theirs_json.contains(r#""originalPayload":[31,139,"#));
    assert!(theirs_json.contains(r#""durationNano":10000000000"#));
    assert!(json::from_str::<ExportProfilesServiceRequest>(&theirs_json).is_err());

    // Even with both fields empty, it writes `"originalPayload":[]` (an array where OTLP/JSON
    // has a base64 string), so no profiles JSON of opentelemetry-proto is readable by a reader
    // that follows the spec.
    let mut trimmed = ours.clone();
    for profile in &mut trimmed.resource_profiles[0].scope_profiles[0].profiles {
        profile.profile_id.clear();
        profile.original_payload.clear();
    }
    let theirs: up::collector::profiles::v1development::ExportProfilesServiceRequest =
        convert(&trimmed);
    let theirs_json = serde_json::to_string(&theirs).unwrap();
    assert!(
        theirs_json.contains(r#""originalPayload":[]"#),
        "{theirs_json}"
    );
    let error = json::from_str::<ExportProfilesServiceRequest>(&theirs_json).unwrap_err();
    assert!(error.to_string().contains("base64"), "{error}");
}
