//! OTLP/JSON fixtures for the four Export requests (`tests/fixtures/json/`).
//!
//! Each signal has two hand-written files:
//!
//! * `<signal>.canonical.json`: exactly what we emit. It is stored pretty-printed
//!   (serde_json's `PrettyFormatter`: two-space indent, `"key": value`, one trailing newline) so
//!   that it stays readable, and compared **byte for byte** in both layouts:
//!   `serde_json::to_string_pretty(&message)` must equal the file, and [`json::to_string`]
//!   (compact, what the crate writes) must equal the file with the whitespace outside strings
//!   removed ([`minify`]). Key order, number formatting and escaping are all checked.
//! * `<signal>.alternative.json`: the same data in the other spellings the mapping accepts:
//!   upper- and mixed-case hex ids, 64-bit integers as JSON numbers (and `1e10`-style floats),
//!   32-bit integers and doubles as strings, enums by name, URL-safe unpadded base64, `null`
//!   for absent fields, default values written out, and unknown fields (snake_case names too)
//!   at several depths, with values of every JSON shape.
//!
//! Both must decode to the same message (compared through the protobuf encoding, which is
//! NaN-safe), and that message must re-encode to the canonical file.

// A test crate: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::any_value::Value;
use otlp_proto::json;
use otlp_proto::logs::v1::SeverityNumber;
use otlp_proto::metrics::v1::{AggregationTemporality, metric, number_data_point};
use otlp_proto::trace::v1::span::SpanKind;
use otlp_proto::trace::v1::status::StatusCode;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/json")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Removes the whitespace outside JSON strings: the compact layout of the same document.
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Decodes both fixtures of `signal`, checks they agree and that the canonical one is what
/// we emit; returns the message for content checks.
fn check<M>(signal: &str) -> M
where
    M: Message + Default + Serialize + DeserializeOwned + Debug,
{
    let canonical_text = fixture(&format!("{signal}.canonical.json"));
    let alternative_text = fixture(&format!("{signal}.alternative.json"));

    let canonical: M =
        json::from_str(&canonical_text).unwrap_or_else(|e| panic!("{signal}.canonical.json: {e}"));
    let alternative: M = json::from_slice(alternative_text.as_bytes())
        .unwrap_or_else(|e| panic!("{signal}.alternative.json: {e}"));
    assert_eq!(
        canonical.encode_to_vec(),
        alternative.encode_to_vec(),
        "{signal}: the canonical and the alternative fixture decode to different messages\ncanonical: {canonical:#?}\nalternative: {alternative:#?}"
    );

    let compact = json::to_string(&canonical).unwrap();
    assert_eq!(
        compact,
        minify(&canonical_text),
        "{signal}: compact output differs"
    );
    assert_eq!(json::to_vec(&alternative).unwrap(), compact.as_bytes());
    let pretty = serde_json::to_string_pretty(&canonical).unwrap() + "\n";
    assert_eq!(pretty, canonical_text, "{signal}: pretty output differs");

    // The two fixtures really are different spellings.
    assert_ne!(minify(&alternative_text), compact);
    canonical
}

#[test]
fn minify_keeps_strings_intact() {
    assert_eq!(
        minify("{ \"a b\" : [ 1 , \"\\\" x\" ] }\n"),
        r#"{"a b":[1,"\" x"]}"#
    );
}

#[test]
fn traces_fixture() {
    let request: ExportTraceServiceRequest = check("traces");
    let scope_spans = &request.resource_spans[0].scope_spans[0];
    let root = &scope_spans.spans[0];
    assert_eq!(root.trace_id, hex("5b8efff798038103d269b633813fc60c"));
    assert_eq!(root.span_id, hex("eee19b7ec3c1b174"));
    assert!(root.parent_span_id.is_empty());
    assert_eq!(root.kind, SpanKind::Server as i32);
    assert_eq!(root.flags, 257);
    assert_eq!(root.start_time_unix_nano, 1_718_201_725_000_000_000);
    assert_eq!(root.end_time_unix_nano, 1_718_201_725_123_456_789);
    assert_eq!(root.events[1].time_unix_nano, 1_718_201_725_100_000_000);
    assert_eq!(
        root.links[0].trace_id,
        hex("0af7651916cd43dd8448eb211c80319c")
    );
    assert_eq!(root.links[0].flags, 769);
    assert_eq!(root.status.as_ref().unwrap().code, StatusCode::Ok as i32);
    let value = |key: &str| {
        root.attributes
            .iter()
            .find(|kv| kv.key == key)
            .unwrap()
            .value
            .clone()
            .unwrap()
            .value
    };
    assert_eq!(
        value("http.response.status_code"),
        Some(Value::IntValue(200))
    );
    assert_eq!(value("app.cart.retries"), Some(Value::IntValue(0)));
    assert_eq!(value("user_agent.synthetic"), Some(Value::BoolValue(false)));
    assert_eq!(
        value("app.request.digest"),
        Some(Value::BytesValue(vec![0xfb, 0xff, 0xbf, 0x00, 0x10]))
    );
    assert_eq!(value("app.note"), None);

    let child = &scope_spans.spans[1];
    assert_eq!(child.parent_span_id, root.span_id);
    assert_eq!(child.kind, SpanKind::Client as i32);
    assert_eq!(
        child.status.as_ref().unwrap().code,
        StatusCode::Error as i32
    );
    // A present but empty status is kept as present.
    assert_eq!(scope_spans.spans[2].status, Some(Default::default()));
}

#[test]
fn metrics_fixture() {
    let request: ExportMetricsServiceRequest = check("metrics");
    let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
    let kinds: Vec<&str> = metrics
        .iter()
        .map(|m| match m.data.as_ref().unwrap() {
            metric::Data::Gauge(_) => "gauge",
            metric::Data::Sum(_) => "sum",
            metric::Data::Histogram(_) => "histogram",
            metric::Data::ExponentialHistogram(_) => "exponentialHistogram",
            metric::Data::Summary(_) => "summary",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "gauge",
            "sum",
            "histogram",
            "exponentialHistogram",
            "summary"
        ]
    );

    let Some(metric::Data::Gauge(gauge)) = &metrics[0].data else {
        unreachable!()
    };
    assert_eq!(
        gauge.data_points[1].value,
        Some(number_data_point::Value::AsInt(0))
    );
    let exemplar = &gauge.data_points[0].exemplars[0];
    assert_eq!(exemplar.trace_id, hex("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_eq!(exemplar.span_id, hex("00f067aa0ba902b7"));

    let Some(metric::Data::Sum(sum)) = &metrics[1].data else {
        unreachable!()
    };
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    assert!(sum.is_monotonic);
    assert_eq!(
        sum.data_points[0].value,
        Some(number_data_point::Value::AsInt(1423))
    );
    assert_eq!(sum.data_points[1].flags, 1);

    let Some(metric::Data::Histogram(histogram)) = &metrics[2].data else {
        unreachable!()
    };
    assert_eq!(
        histogram.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    let point = &histogram.data_points[0];
    assert_eq!(point.bucket_counts, [0, 3, 2, 1, 1]);
    assert_eq!(point.explicit_bounds, [0.005, 0.05, 0.25, 1.0]);
    assert_eq!(
        (point.sum, point.min, point.max),
        (Some(1.352), Some(0.012), Some(0.731))
    );
    // An optional field set to zero is present; an unset one is absent.
    assert_eq!(
        (histogram.data_points[1].sum, histogram.data_points[1].min),
        (Some(0.0), None)
    );

    let Some(metric::Data::ExponentialHistogram(exponential)) = &metrics[3].data else {
        unreachable!()
    };
    let point = &exponential.data_points[0];
    assert_eq!(
        (point.scale, point.zero_count, point.zero_threshold),
        (3, 1, 0.001)
    );
    assert_eq!(point.negative.as_ref().unwrap().offset, -2);
    assert_eq!(point.positive.as_ref().unwrap().bucket_counts, [2, 0, 4, 5]);
    assert_eq!(
        exponential.data_points[1].positive,
        Some(Default::default())
    );

    let Some(metric::Data::Summary(summary)) = &metrics[4].data else {
        unreachable!()
    };
    let quantiles = &summary.data_points[0].quantile_values;
    assert_eq!((quantiles[0].quantile, quantiles[0].value), (0.0, 1.25));
    assert!(quantiles[3].value.is_nan());
}

#[test]
fn logs_fixture() {
    let request: ExportLogsServiceRequest = check("logs");
    let records = &request.resource_logs[0].scope_logs[0].log_records;
    assert_eq!(records[0].severity_number, SeverityNumber::Error as i32);
    assert_eq!(records[0].trace_id, hex("5b8efff798038103d269b633813fc60c"));
    assert_eq!(records[0].span_id, hex("eee19b7ec3c1b174"));
    assert_eq!(records[1].event_name, "browser.page_view");
    assert!(records[1].trace_id.is_empty());
    assert_eq!(records[1].time_unix_nano, 0);
    let Some(Value::BytesValue(body)) = records[2].body.clone().unwrap().value else {
        unreachable!()
    };
    assert_eq!(body, hex("1f8b0800000000000003e3e2fa3f"));
}

#[test]
fn profiles_fixture() {
    let request: ExportProfilesServiceRequest = check("profiles");
    let profile = &request.resource_profiles[0].scope_profiles[0].profiles[0];
    // `profile_id` is an ordinary bytes field: base64, not hex.
    assert_eq!(profile.profile_id, hex("a3fbff7e19c04d2e9b3f0c6d5e4f7a81"));
    assert_eq!(profile.duration_nano, 10_000_000_000);
    assert_eq!(profile.samples[0].values, [10_000_000, 20_000_000]);
    assert_eq!(
        profile.samples[0].timestamps_unix_nano[1],
        1_718_201_725_030_000_000
    );
    let dictionary = request.dictionary.as_ref().unwrap();
    assert_eq!(
        dictionary.link_table[1].trace_id,
        hex("0af7651916cd43dd8448eb211c80319c")
    );
    assert_eq!(dictionary.link_table[1].span_id, hex("b7ad6b7169203331"));
    assert_eq!(dictionary.mapping_table[0], Default::default());
    assert_eq!(dictionary.location_table[1].lines[0].column, 7);
    assert_eq!(dictionary.stack_table[1].location_indices, [1, 2]);
}
