//! Property tests of the OTLP/JSON mapping, on the shared strategies of `tests/support/`.
//!
//! 1. Round trip: for random Export requests and responses of the four signals,
//!    `from_slice(to_vec(m)) == m`. The shared strategies are deliberately hostile, so two
//!    kinds of value are first brought into the domain where a round trip is exact
//!    ([`sanitize`]): NaN (it decodes to the canonical NaN, not to the same bits, and is unequal
//!    to itself anyway) becomes an ordinary number, and trace/span ids of a length other than
//!    16/8 bytes (which OTLP/JSON cannot carry: the decoder rejects them) are resized.
//! 2. Hostile messages as they are: encoding never fails, and decoding the output either gives
//!    the same message (ids valid, no NaN) or fails with a data error that names an id.
//! 3. `from_slice` never panics: on arbitrary bytes, on random edits of valid JSON (random
//!    messages and the fixtures), and on valid JSON cut short.

// A test crate: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Debug;

use opentelemetry_proto::tonic as up;
use otlp_proto::collector::logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse};
use otlp_proto::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use otlp_proto::collector::profiles::v1development::{
    ExportProfilesServiceRequest, ExportProfilesServiceResponse,
};
use otlp_proto::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::json::{self, JsonError};
use otlp_proto::metrics::v1::{Exemplar, NumberDataPoint, exemplar, metric, number_data_point};
use otlp_proto::resource::v1::Resource;
use proptest::prelude::*;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

// -------------------------------------------------------------------------------------------
// Sanitizing: NaN (and, for opentelemetry-proto, infinities) → a number, ids → a valid length.
// -------------------------------------------------------------------------------------------

/// What to replace: NaN always; with `upstream` set, also what opentelemetry-proto's serde cannot
/// carry (deviations asserted in `json_differential.rs`): infinities, which it writes as `null`;
/// `AnyValue.string_value_strindex`, which its `AnyValue` deserializer skips; and empty
/// `arrayValue`/`kvlistValue` values, which it requires to have a `values` key (OTLP/JSON omits
/// an empty repeated field) and otherwise refuses or, inside an attribute, silently drops; and
/// the other fields it requires although OTLP/JSON omits them when empty (`KeyValue.key` and
/// every field of `EntityRef`), whose absence makes it refuse the document or, inside a data
/// point, silently drop data.
#[derive(Clone, Copy)]
struct Clean {
    upstream: bool,
}

impl Clean {
    fn double(self, value: &mut f64) {
        if value.is_nan() || (self.upstream && value.is_infinite()) {
            *value = 0.5;
        }
    }

    fn id(self, bytes: &mut Vec<u8>, len: usize) {
        if !bytes.is_empty() {
            bytes.resize(len, 0xA5);
        }
    }

    fn any_value(self, value: &mut AnyValue) {
        let empty_list = match &value.value {
            Some(any_value::Value::ArrayValue(array)) => array.values.is_empty(),
            Some(any_value::Value::KvlistValue(list)) => list.values.is_empty(),
            _ => false,
        };
        if self.upstream && empty_list {
            value.value = Some(any_value::Value::StringValue("was empty".into()));
        }
        match &mut value.value {
            Some(any_value::Value::DoubleValue(d)) => self.double(d),
            Some(any_value::Value::ArrayValue(array)) => {
                array.values.iter_mut().for_each(|v| self.any_value(v));
            }
            Some(any_value::Value::KvlistValue(list)) => self.attributes(&mut list.values),
            Some(any_value::Value::StringValueStrindex(index)) if self.upstream => {
                value.value = Some(any_value::Value::IntValue(i64::from(*index)));
            }
            _ => {}
        }
    }

    fn attributes(self, attributes: &mut [KeyValue]) {
        for kv in attributes {
            if self.upstream && kv.key.is_empty() {
                kv.key = "empty".into();
            }
            if let Some(value) = &mut kv.value {
                self.any_value(value);
            }
        }
    }

    fn resource(self, resource: &mut Option<Resource>) {
        if let Some(resource) = resource {
            self.attributes(&mut resource.attributes);
            for entity in resource.entity_refs.iter_mut().filter(|_| self.upstream) {
                for text in [&mut entity.schema_url, &mut entity.r#type] {
                    if text.is_empty() {
                        *text = "empty".into();
                    }
                }
                for keys in [&mut entity.id_keys, &mut entity.description_keys] {
                    if keys.is_empty() {
                        keys.push("empty".into());
                    }
                }
            }
        }
    }

    fn scope(self, scope: &mut Option<InstrumentationScope>) {
        if let Some(scope) = scope {
            self.attributes(&mut scope.attributes);
        }
    }

    fn exemplars(self, exemplars: &mut [Exemplar]) {
        for exemplar in exemplars {
            self.attributes(&mut exemplar.filtered_attributes);
            self.id(&mut exemplar.trace_id, 16);
            self.id(&mut exemplar.span_id, 8);
            if let Some(exemplar::Value::AsDouble(d)) = &mut exemplar.value {
                self.double(d);
            }
        }
    }

    fn number_points(self, points: &mut [NumberDataPoint]) {
        for point in points {
            self.attributes(&mut point.attributes);
            self.exemplars(&mut point.exemplars);
            if let Some(number_data_point::Value::AsDouble(d)) = &mut point.value {
                self.double(d);
            }
        }
    }
}

/// Brings a message into the domain where the JSON round trip is exact.
trait Sanitize {
    fn clean(&mut self, clean: Clean);

    /// NaN replaced, invalid ids resized.
    fn sanitize(&mut self) {
        self.clean(Clean { upstream: false });
    }
}

impl Sanitize for ExportTraceServiceRequest {
    fn clean(&mut self, c: Clean) {
        for resource_spans in &mut self.resource_spans {
            c.resource(&mut resource_spans.resource);
            for scope_spans in &mut resource_spans.scope_spans {
                c.scope(&mut scope_spans.scope);
                for span in &mut scope_spans.spans {
                    c.id(&mut span.trace_id, 16);
                    c.id(&mut span.span_id, 8);
                    c.id(&mut span.parent_span_id, 8);
                    c.attributes(&mut span.attributes);
                    for event in &mut span.events {
                        c.attributes(&mut event.attributes);
                    }
                    for link in &mut span.links {
                        c.id(&mut link.trace_id, 16);
                        c.id(&mut link.span_id, 8);
                        c.attributes(&mut link.attributes);
                    }
                }
            }
        }
    }
}

impl Sanitize for ExportMetricsServiceRequest {
    fn clean(&mut self, c: Clean) {
        for resource_metrics in &mut self.resource_metrics {
            c.resource(&mut resource_metrics.resource);
            for scope_metrics in &mut resource_metrics.scope_metrics {
                c.scope(&mut scope_metrics.scope);
                for metric in &mut scope_metrics.metrics {
                    c.attributes(&mut metric.metadata);
                    match &mut metric.data {
                        Some(metric::Data::Gauge(gauge)) => c.number_points(&mut gauge.data_points),
                        Some(metric::Data::Sum(sum)) => c.number_points(&mut sum.data_points),
                        Some(metric::Data::Histogram(histogram)) => {
                            for point in &mut histogram.data_points {
                                c.attributes(&mut point.attributes);
                                c.exemplars(&mut point.exemplars);
                                point.explicit_bounds.iter_mut().for_each(|d| c.double(d));
                                for value in [&mut point.sum, &mut point.min, &mut point.max] {
                                    value.iter_mut().for_each(|d| c.double(d));
                                }
                            }
                        }
                        Some(metric::Data::ExponentialHistogram(histogram)) => {
                            for point in &mut histogram.data_points {
                                c.attributes(&mut point.attributes);
                                c.exemplars(&mut point.exemplars);
                                c.double(&mut point.zero_threshold);
                                for value in [&mut point.sum, &mut point.min, &mut point.max] {
                                    value.iter_mut().for_each(|d| c.double(d));
                                }
                            }
                        }
                        Some(metric::Data::Summary(summary)) => {
                            for point in &mut summary.data_points {
                                c.attributes(&mut point.attributes);
                                c.double(&mut point.sum);
                                for quantile in &mut point.quantile_values {
                                    c.double(&mut quantile.quantile);
                                    c.double(&mut quantile.value);
                                }
                            }
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

impl Sanitize for ExportLogsServiceRequest {
    fn clean(&mut self, c: Clean) {
        for resource_logs in &mut self.resource_logs {
            c.resource(&mut resource_logs.resource);
            for scope_logs in &mut resource_logs.scope_logs {
                c.scope(&mut scope_logs.scope);
                for record in &mut scope_logs.log_records {
                    c.id(&mut record.trace_id, 16);
                    c.id(&mut record.span_id, 8);
                    c.attributes(&mut record.attributes);
                    if let Some(body) = &mut record.body {
                        c.any_value(body);
                    }
                }
            }
        }
    }
}

impl Sanitize for ExportProfilesServiceRequest {
    fn clean(&mut self, c: Clean) {
        for resource_profiles in &mut self.resource_profiles {
            c.resource(&mut resource_profiles.resource);
            for scope_profiles in &mut resource_profiles.scope_profiles {
                c.scope(&mut scope_profiles.scope);
            }
        }
        if let Some(dictionary) = &mut self.dictionary {
            for link in &mut dictionary.link_table {
                c.id(&mut link.trace_id, 16);
                c.id(&mut link.span_id, 8);
            }
            for attribute in &mut dictionary.attribute_table {
                if let Some(value) = &mut attribute.value {
                    c.any_value(value);
                }
            }
        }
    }
}

/// Responses hold no ids and no doubles.
macro_rules! nothing_to_sanitize {
    ($($t:ty),*) => {
        $(impl Sanitize for $t {
            fn clean(&mut self, _: Clean) {}
        })*
    };
}
nothing_to_sanitize!(
    ExportTraceServiceResponse,
    ExportMetricsServiceResponse,
    ExportLogsServiceResponse,
    ExportProfilesServiceResponse
);

// -------------------------------------------------------------------------------------------
// Properties.
// -------------------------------------------------------------------------------------------

fn round_trip<M>(mut message: M) -> Result<(), TestCaseError>
where
    M: Message + Default + PartialEq + Debug + Serialize + DeserializeOwned + Sanitize,
{
    message.sanitize();
    let bytes = json::to_vec(&message).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let decoded: M = json::from_slice(&bytes)
        .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&bytes))))?;
    prop_assert_eq!(&decoded, &message);
    // Encoding is a function of the message: the same bytes again.
    prop_assert_eq!(json::to_vec(&decoded).unwrap(), bytes);
    Ok(())
}

/// Unsanitized: encoding always works; decoding gives the message back or refuses an id.
fn hostile<M>(message: M) -> Result<(), TestCaseError>
where
    M: Message + Default + PartialEq + Debug + Serialize + DeserializeOwned,
{
    let bytes = json::to_vec(&message).map_err(|e| TestCaseError::fail(e.to_string()))?;
    match json::from_slice::<M>(&bytes) {
        Ok(decoded) => {
            // Equal unless a NaN lost its payload (then the re-encoding is still identical).
            if decoded != message {
                prop_assert_eq!(json::to_vec(&decoded).unwrap(), bytes);
            }
        }
        Err(JsonError::Data {
            message: reason, ..
        }) => {
            prop_assert!(
                reason.contains("trace id") || reason.contains("span id"),
                "unexpected error: {}",
                reason
            );
        }
        Err(other) => prop_assert!(false, "unexpected error: {}", other),
    }
    Ok(())
}

/// Differential, opentelemetry-proto → us: the JSON its serde derive writes for a random message
/// decodes with ours to the same message (after [`Clean`] with `upstream` set).
fn upstream_json_reads_back<M, Up>(mut message: M) -> Result<(), TestCaseError>
where
    M: Message + Default + PartialEq + Debug + DeserializeOwned + Sanitize,
    Up: Message + Default + Serialize,
{
    message.clean(Clean { upstream: true });
    let upstream = Up::decode(message.encode_to_vec().as_slice()).unwrap();
    let text = serde_json::to_vec(&upstream).unwrap();
    let decoded: M = json::from_slice(&text)
        .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&text))))?;
    prop_assert_eq!(decoded, message);
    Ok(())
}

/// Differential, us → opentelemetry-proto (after [`Clean`] with `upstream` set): it reads our
/// JSON to the same message.
fn upstream_reads_our_json<M, Up>(mut message: M) -> Result<(), TestCaseError>
where
    M: Message + Default + Serialize + Sanitize,
    Up: Message + DeserializeOwned,
{
    message.clean(Clean { upstream: true });
    let text = json::to_vec(&message).unwrap();
    let upstream = serde_json::from_slice::<Up>(&text).map_err(|e| {
        TestCaseError::fail(format!(
            "opentelemetry-proto refused our JSON: {e}\n{}",
            String::from_utf8_lossy(&text)
        ))
    })?;
    prop_assert_eq!(
        upstream.encode_to_vec(),
        message.encode_to_vec(),
        "{}",
        String::from_utf8_lossy(&text)
    );
    Ok(())
}

/// Random edits of a JSON text: flips, deletions, insertions of JSON-ish tokens, a cut.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, &'static str),
    Truncate(usize),
}

fn arb_edits() -> impl Strategy<Value = Vec<Edit>> {
    let token = prop::sample::select(
        &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\\",
            "null",
            "0",
            "-1",
            "1e400",
            "\"NaN\"",
            "\"traceId\":",
            "\"intValue\":",
            "\"kind\":\"X\"",
            "{\"a\":",
            "\u{0}",
            "\u{1F600}",
            "18446744073709551616",
            "\"zz\"",
        ][..],
    );
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Flip(at, byte)),
            (any::<usize>(), 1_usize..8).prop_map(|(at, len)| Edit::Delete(at, len)),
            (any::<usize>(), token).prop_map(|(at, text)| Edit::Insert(at, text)),
            any::<usize>().prop_map(Edit::Truncate),
        ],
        1..6,
    )
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        if bytes.is_empty() {
            break;
        }
        match *edit {
            Edit::Flip(at, byte) => {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            Edit::Delete(at, len) => {
                let at = at % bytes.len();
                let end = (at + len).min(bytes.len());
                bytes.drain(at..end);
            }
            Edit::Insert(at, text) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, text.bytes());
            }
            Edit::Truncate(at) => bytes.truncate(at % bytes.len()),
        }
    }
    bytes
}

/// Decodes `bytes` as every request type; all that matters is that it returns.
fn decode_everything(bytes: &[u8]) {
    let _ = json::from_slice::<ExportTraceServiceRequest>(bytes);
    let _ = json::from_slice::<ExportMetricsServiceRequest>(bytes);
    let _ = json::from_slice::<ExportLogsServiceRequest>(bytes);
    let _ = json::from_slice::<ExportProfilesServiceRequest>(bytes);
    let _ = json::from_slice::<AnyValue>(bytes);
}

fn fixtures() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(support::config())]

    #[test]
    fn trace_request_round_trips(message in support::arb_export_trace_request()) {
        round_trip(message)?;
    }

    #[test]
    fn metrics_request_round_trips(message in support::arb_export_metrics_request()) {
        round_trip(message)?;
    }

    #[test]
    fn logs_request_round_trips(message in support::arb_export_logs_request()) {
        round_trip(message)?;
    }

    #[test]
    fn profiles_request_round_trips(message in support::arb_export_profiles_request()) {
        round_trip(message)?;
    }

    #[test]
    fn responses_round_trip(
        trace in support::arb_export_trace_response(),
        metrics in support::arb_export_metrics_response(),
        logs in support::arb_export_logs_response(),
        profiles in support::arb_export_profiles_response(),
    ) {
        round_trip(trace)?;
        round_trip(metrics)?;
        round_trip(logs)?;
        round_trip(profiles)?;
    }

    #[test]
    fn hostile_messages_encode_and_decode_or_refuse_an_id(
        trace in support::arb_export_trace_request(),
        metrics in support::arb_export_metrics_request(),
        logs in support::arb_export_logs_request(),
        profiles in support::arb_export_profiles_request(),
    ) {
        hostile(trace)?;
        hostile(metrics)?;
        hostile(logs)?;
        hostile(profiles)?;
    }

    #[test]
    fn differential_upstream_json_decodes_with_ours(
        trace in support::arb_export_trace_request(),
        metrics in support::arb_export_metrics_request(),
        logs in support::arb_export_logs_request(),
    ) {
        upstream_json_reads_back::<_, up::collector::trace::v1::ExportTraceServiceRequest>(trace)?;
        upstream_json_reads_back::<_, up::collector::metrics::v1::ExportMetricsServiceRequest>(metrics)?;
        upstream_json_reads_back::<_, up::collector::logs::v1::ExportLogsServiceRequest>(logs)?;
    }

    #[test]
    fn differential_our_json_decodes_with_upstream(
        trace in support::arb_export_trace_request(),
        metrics in support::arb_export_metrics_request(),
        logs in support::arb_export_logs_request(),
    ) {
        upstream_reads_our_json::<_, up::collector::trace::v1::ExportTraceServiceRequest>(trace)?;
        upstream_reads_our_json::<_, up::collector::metrics::v1::ExportMetricsServiceRequest>(metrics)?;
        upstream_reads_our_json::<_, up::collector::logs::v1::ExportLogsServiceRequest>(logs)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&bytes);
    }

    #[test]
    fn arbitrary_json_ish_text_never_panics(text in r#"[\[\]{}":,0-9a-zA-Z\\ .eE+-]{0,200}"#) {
        decode_everything(text.as_bytes());
    }

    #[test]
    fn mutated_messages_never_panic(
        message in support::arb_export_metrics_request(),
        edits in arb_edits(),
    ) {
        let bytes = json::to_vec(&message).unwrap();
        decode_everything(&apply(bytes, &edits));
    }

    #[test]
    fn mutated_fixtures_never_panic(which in any::<prop::sample::Index>(), edits in arb_edits()) {
        let fixtures = fixtures();
        let bytes = fixtures[which.index(fixtures.len())].clone();
        decode_everything(&apply(bytes, &edits));
    }

    #[test]
    fn truncated_json_is_an_error(message in support::arb_export_logs_request(), cut in any::<prop::sample::Index>()) {
        let mut message = message;
        message.sanitize();
        let bytes = json::to_vec(&message).unwrap();
        let cut = cut.index(bytes.len());
        // A proper prefix of one JSON object never parses as a whole document.
        prop_assert!(json::from_slice::<ExportLogsServiceRequest>(&bytes[..cut]).is_err());
    }
}
