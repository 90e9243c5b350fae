//! Differential tests: `otlp-proto` against the ecosystem's `opentelemetry-proto` crate.
//!
//! Both crates are prost code generated from OTLP v1.10.0 (ours from `proto/`, theirs from the
//! upstream repository), so for every message the two must agree byte for byte. For random
//! messages of every request, response and data type of the four signals, and of the main nested
//! types, each property checks:
//!
//! 1. our `encoded_len()` is the length of our encoding, and theirs agrees after decoding it;
//! 2. `opentelemetry-proto` decodes our bytes, and re-encodes them to exactly our bytes;
//! 3. its decoded message prints (`Debug`) exactly like ours: every value landed in the field of
//!    the same name, enums and oneof variants included;
//! 4. decoding their bytes with our crate gives back the original message.
//!
//! Both crates use the same prost runtime, so what this proves is that the two *schemas* agree
//! on everything that reaches the wire: field numbers, wire types, declaration order (prost
//! writes fields in declaration order, so order matters for byte identity), packing, oneofs.
//! `schema_matches_upstream.rs` compares the schemas themselves.
//!
//! Further properties: unknown fields of every wire type, at the top level and inside nested
//! messages at random positions, decode to the same known content in both crates; arbitrary and
//! mutated bytes are accepted or rejected identically, with the same result or the same error;
//! both crates stop at the same nesting depth.

mod support;

use std::fmt::Debug;

use opentelemetry_proto::tonic as up;
use opentelemetry_proto::tonic::collector::logs::v1 as up_logs_collector;
use opentelemetry_proto::tonic::collector::metrics::v1 as up_metrics_collector;
use opentelemetry_proto::tonic::collector::profiles::v1development as up_profiles_collector;
use opentelemetry_proto::tonic::collector::trace::v1 as up_trace_collector;
use otlp_proto::collector::logs::v1 as logs_collector;
use otlp_proto::collector::metrics::v1 as metrics_collector;
use otlp_proto::collector::profiles::v1development as profiles_collector;
use otlp_proto::collector::trace::v1 as trace_collector;
use otlp_proto::common::v1 as common;
use otlp_proto::logs::v1 as logs;
use otlp_proto::metrics::v1 as metrics;
use otlp_proto::profiles::v1development as profiles;
use otlp_proto::trace::v1 as trace;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use prost::Message;
use support::wire::{self, put_len_field};
use support::*;

// ---------------------------------------------------------------------------------------------
// The checks.
// ---------------------------------------------------------------------------------------------

/// Fails with the first offset where two encodings differ, and the bytes around it.
fn assert_bytes_eq(what: &str, actual: &[u8], expected: &[u8]) -> Result<(), TestCaseError> {
    if actual == expected {
        return Ok(());
    }
    let at = actual
        .iter()
        .zip(expected)
        .take_while(|(a, b)| a == b)
        .count();
    let window = |b: &[u8]| {
        let end = (at + 16).min(b.len());
        format!("{:02x?}", &b[at.saturating_sub(4)..end])
    };
    Err(TestCaseError::fail(format!(
        "{what}: encodings differ at byte {at} (lengths {} vs {}); around it: {} vs {}",
        actual.len(),
        expected.len(),
        window(actual),
        window(expected),
    )))
}

/// Our message → our bytes → theirs → their bytes → ours, with the checks of the module docs.
fn check_round_trip<O, T>(ours: &O) -> Result<(), TestCaseError>
where
    O: Message + Default + PartialEq + Debug,
    T: Message + Default + Debug,
{
    let our_bytes = ours.encode_to_vec();
    prop_assert_eq!(
        our_bytes.len(),
        ours.encoded_len(),
        "our encoded_len() is wrong"
    );

    let theirs = T::decode(our_bytes.as_slice()).map_err(|e| {
        TestCaseError::fail(format!("opentelemetry-proto rejects our encoding: {e}"))
    })?;
    prop_assert_eq!(
        theirs.encoded_len(),
        ours.encoded_len(),
        "encoded_len() differs"
    );
    let their_bytes = theirs.encode_to_vec();
    assert_bytes_eq("their re-encoding vs ours", &their_bytes, &our_bytes)?;
    // Compare with what *we* decode from the same bytes, not with `ours`: a `-0.0` in a plain
    // (implicit-presence) double is not written at all, so it comes back as `0.0` from either
    // crate (see `negative_zero_is_dropped_alike_from_implicit_presence_doubles`).
    let ours_decoded = O::decode(our_bytes.as_slice())
        .map_err(|e| TestCaseError::fail(format!("we reject our own encoding: {e}")))?;
    prop_assert_eq!(
        format!("{theirs:?}"),
        format!("{ours_decoded:?}"),
        "decoded values differ"
    );

    let back = O::decode(their_bytes.as_slice())
        .map_err(|e| TestCaseError::fail(format!("we reject their encoding: {e}")))?;
    assert_same_message(&back, ours)
}

/// Bytes that carry unknown fields decode, in both crates, to exactly `expected`.
fn check_skips_unknown<O, T>(bytes: &[u8], expected: &O) -> Result<(), TestCaseError>
where
    O: Message + Default + PartialEq + Debug,
    T: Message + Default + Debug,
{
    let expected_bytes = expected.encode_to_vec();
    let ours = O::decode(bytes)
        .map_err(|e| TestCaseError::fail(format!("we reject unknown fields: {e}")))?;
    assert_same_message(&ours, expected)?;
    let theirs = T::decode(bytes).map_err(|e| {
        TestCaseError::fail(format!("opentelemetry-proto rejects unknown fields: {e}"))
    })?;
    assert_bytes_eq(
        "theirs after skipping",
        &theirs.encode_to_vec(),
        &expected_bytes,
    )?;
    prop_assert_eq!(format!("{theirs:?}"), format!("{ours:?}"));
    Ok(())
}

/// Both crates accept or reject `bytes` alike: the same message, or the same error.
fn check_same_verdict<O, T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    O: Message + Default + Debug,
    T: Message + Default + Debug,
{
    match (O::decode(bytes), T::decode(bytes)) {
        (Ok(ours), Ok(theirs)) => {
            assert_bytes_eq(
                "accepted garbage",
                &ours.encode_to_vec(),
                &theirs.encode_to_vec(),
            )?;
            prop_assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
        }
        (Err(ours), Err(theirs)) => prop_assert_eq!(ours.to_string(), theirs.to_string()),
        (ours, theirs) => prop_assert!(
            false,
            "verdicts differ: ours {:?}, theirs {:?}",
            ours.map(|_| "Ok"),
            theirs.map(|_| "Ok")
        ),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Round trips: every request, response and data type, and the main nested types.
// ---------------------------------------------------------------------------------------------

macro_rules! round_trips {
    ($($name:ident: $ours:ty => $theirs:ty = $strategy:expr;)*) => {
        proptest! {
            #![proptest_config(support::config())]
            $(
                #[test]
                fn $name(message in $strategy) {
                    check_round_trip::<$ours, $theirs>(&message)?;
                }
            )*
        }
    };
}

round_trips! {
    // The four Export requests and responses (with their partial successes).
    trace_request: trace_collector::ExportTraceServiceRequest
        => up_trace_collector::ExportTraceServiceRequest = arb_export_trace_request();
    trace_response: trace_collector::ExportTraceServiceResponse
        => up_trace_collector::ExportTraceServiceResponse = arb_export_trace_response();
    metrics_request: metrics_collector::ExportMetricsServiceRequest
        => up_metrics_collector::ExportMetricsServiceRequest = arb_export_metrics_request();
    metrics_response: metrics_collector::ExportMetricsServiceResponse
        => up_metrics_collector::ExportMetricsServiceResponse = arb_export_metrics_response();
    logs_request: logs_collector::ExportLogsServiceRequest
        => up_logs_collector::ExportLogsServiceRequest = arb_export_logs_request();
    logs_response: logs_collector::ExportLogsServiceResponse
        => up_logs_collector::ExportLogsServiceResponse = arb_export_logs_response();
    profiles_request: profiles_collector::ExportProfilesServiceRequest
        => up_profiles_collector::ExportProfilesServiceRequest
        = arb_export_profiles_request();
    profiles_response: profiles_collector::ExportProfilesServiceResponse
        => up_profiles_collector::ExportProfilesServiceResponse
        = arb_export_profiles_response();

    // The `*Data` messages (what file exporters and Kafka carry).
    traces_data: trace::TracesData => up::trace::v1::TracesData = arb_traces_data();
    metrics_data: metrics::MetricsData => up::metrics::v1::MetricsData = arb_metrics_data();
    logs_data: logs::LogsData => up::logs::v1::LogsData = arb_logs_data();
    profiles_data: profiles::ProfilesData
        => up::profiles::v1development::ProfilesData = arb_profiles_data();

    // Nested types on their own, so that a failure names the smallest culprit.
    any_value: common::AnyValue => up::common::v1::AnyValue = arb_any_value();
    entity_ref: common::EntityRef => up::common::v1::EntityRef = arb_entity_ref();
    instrumentation_scope: common::InstrumentationScope
        => up::common::v1::InstrumentationScope = arb_instrumentation_scope();
    resource: otlp_proto::resource::v1::Resource
        => up::resource::v1::Resource = arb_resource();
    span: trace::Span => up::trace::v1::Span = arb_span();
    metric: metrics::Metric => up::metrics::v1::Metric = arb_metric();
    exponential_histogram_data_point: metrics::ExponentialHistogramDataPoint
        => up::metrics::v1::ExponentialHistogramDataPoint
        = arb_exponential_histogram_data_point();
    histogram_data_point: metrics::HistogramDataPoint
        => up::metrics::v1::HistogramDataPoint = arb_histogram_data_point();
    summary_data_point: metrics::SummaryDataPoint
        => up::metrics::v1::SummaryDataPoint = arb_summary_data_point();
    exemplar: metrics::Exemplar => up::metrics::v1::Exemplar = arb_exemplar();
    log_record: logs::LogRecord => up::logs::v1::LogRecord = arb_log_record();
    profiles_dictionary: profiles::ProfilesDictionary
        => up::profiles::v1development::ProfilesDictionary = arb_profiles_dictionary();
    profile: profiles::Profile => up::profiles::v1development::Profile = arb_profile();
}

// ---------------------------------------------------------------------------------------------
// Unknown fields.
// ---------------------------------------------------------------------------------------------

/// A message of type `M` as bytes carrying unknown fields, and the message they must decode to.
struct Nest<M> {
    expected: M,
    bytes: Vec<u8>,
}

/// `message`, with `unknown` spliced in at one of its field boundaries.
fn leaf<M: Message>(message: M, unknown: &(Vec<u8>, Index)) -> Nest<M> {
    let bytes = wire::splice_at_boundary(message.encode_to_vec(), &unknown.0, unknown.1);
    Nest {
        expected: message,
        bytes,
    }
}

/// `parent` with `child` appended as field `number` (and, in `expected`, attached by `attach`),
/// then `unknown` spliced in at one of the parent's field boundaries. `parent` must not already
/// hold a singular child there, or the two would merge.
fn parent<P: Message, C>(
    mut parent: P,
    number: u32,
    child: Nest<C>,
    attach: impl FnOnce(&mut P, C),
    unknown: &(Vec<u8>, Index),
) -> Nest<P> {
    let mut bytes = parent.encode_to_vec();
    put_len_field(&mut bytes, number, &child.bytes);
    attach(&mut parent, child.expected);
    Nest {
        expected: parent,
        bytes: wire::splice_at_boundary(bytes, &unknown.0, unknown.1),
    }
}

/// Unknown fields for `n` nesting levels, each with the boundary where they go.
fn arb_unknowns(n: usize) -> impl Strategy<Value = Vec<(Vec<u8>, Index)>> {
    vec((wire::arb_unknown_fields(), any::<Index>()), n)
}

proptest! {
    #![proptest_config(support::config())]

    /// Request > ResourceSpans > ScopeSpans > Span > {Event, Status}.
    #[test]
    fn trace_unknown_fields_are_skipped_alike(
        request in arb_export_trace_request(),
        resource_spans in arb_resource_spans(),
        scope_spans in arb_scope_spans(),
        span in arb_span(),
        event in arb_span_event(),
        status in arb_status(),
        u in arb_unknowns(6),
    ) {
        let status = leaf(status, &u[0]);
        let event = leaf(event, &u[1]);
        let span = trace::Span { status: None, ..span };
        let span = parent(span, 11, event, |s, e| s.events.push(e), &u[2]);
        let mut span_bytes = span.bytes;
        put_len_field(&mut span_bytes, 15, &status.bytes);
        let span = Nest {
            expected: trace::Span { status: Some(status.expected), ..span.expected },
            bytes: span_bytes,
        };
        let scope_spans = parent(scope_spans, 2, span, |p, c| p.spans.push(c), &u[3]);
        let resource_spans =
            parent(resource_spans, 2, scope_spans, |p, c| p.scope_spans.push(c), &u[4]);
        let request = parent(request, 1, resource_spans, |p, c| p.resource_spans.push(c), &u[5]);
        check_skips_unknown::<_, up_trace_collector::ExportTraceServiceRequest>(
            &request.bytes,
            &request.expected,
        )?;
    }

    /// Request > ResourceMetrics > ScopeMetrics > Metric > Histogram (oneof) > point > Exemplar.
    #[test]
    fn metrics_unknown_fields_are_skipped_alike(
        request in arb_export_metrics_request(),
        resource_metrics in arb_resource_metrics(),
        scope_metrics in arb_scope_metrics(),
        metric in arb_metric(),
        histogram in arb_histogram(),
        point in arb_histogram_data_point(),
        exemplar in arb_exemplar(),
        u in arb_unknowns(7),
    ) {
        let exemplar = leaf(exemplar, &u[0]);
        let point = parent(point, 8, exemplar, |p, c| p.exemplars.push(c), &u[1]);
        let histogram = parent(histogram, 1, point, |p, c| p.data_points.push(c), &u[2]);
        let metric = parent(
            metrics::Metric { data: None, ..metric },
            9,
            histogram,
            |p, c| p.data = Some(metrics::metric::Data::Histogram(c)),
            &u[3],
        );
        let scope_metrics = parent(scope_metrics, 2, metric, |p, c| p.metrics.push(c), &u[4]);
        let resource_metrics =
            parent(resource_metrics, 2, scope_metrics, |p, c| p.scope_metrics.push(c), &u[5]);
        let request =
            parent(request, 1, resource_metrics, |p, c| p.resource_metrics.push(c), &u[6]);
        check_skips_unknown::<_, up_metrics_collector::ExportMetricsServiceRequest>(
            &request.bytes,
            &request.expected,
        )?;
    }

    /// Request > ResourceLogs > ScopeLogs > LogRecord > body AnyValue > KeyValueList > KeyValue
    /// > AnyValue.
    #[test]
    fn logs_unknown_fields_are_skipped_alike(
        request in arb_export_logs_request(),
        resource_logs in arb_resource_logs(),
        scope_logs in arb_scope_logs(),
        record in arb_log_record(),
        list in arb_key_value_list(),
        key_value in arb_key_value(),
        value in arb_scalar_any_value(),
        u in arb_unknowns(8),
    ) {
        use common::any_value::Value;
        let value = leaf(value, &u[0]);
        let key_value = parent(
            common::KeyValue { value: None, ..key_value },
            2,
            value,
            |p, c| p.value = Some(c),
            &u[1],
        );
        let list = parent(list, 1, key_value, |p, c| p.values.push(c), &u[2]);
        let body = parent(
            common::AnyValue { value: None },
            6,
            list,
            |p, c| p.value = Some(Value::KvlistValue(c)),
            &u[3],
        );
        let record = parent(
            logs::LogRecord { body: None, ..record },
            5,
            body,
            |p, c| p.body = Some(c),
            &u[4],
        );
        let scope_logs = parent(scope_logs, 2, record, |p, c| p.log_records.push(c), &u[5]);
        let resource_logs =
            parent(resource_logs, 2, scope_logs, |p, c| p.scope_logs.push(c), &u[6]);
        let request = parent(request, 1, resource_logs, |p, c| p.resource_logs.push(c), &u[7]);
        check_skips_unknown::<_, up_logs_collector::ExportLogsServiceRequest>(
            &request.bytes,
            &request.expected,
        )?;
    }

    /// Request > {ProfilesDictionary > Location > Line, ResourceProfiles > ScopeProfiles >
    /// Profile > Sample}.
    #[test]
    fn profiles_unknown_fields_are_skipped_alike(
        request in arb_export_profiles_request(),
        dictionary in arb_profiles_dictionary(),
        location in arb_location(),
        line in arb_line(),
        resource_profiles in arb_resource_profiles(),
        scope_profiles in arb_scope_profiles(),
        profile in arb_profile(),
        sample in arb_sample(),
        u in arb_unknowns(9),
    ) {
        let line = leaf(line, &u[0]);
        let location = parent(location, 3, line, |p, c| p.lines.push(c), &u[1]);
        let dictionary = parent(dictionary, 2, location, |p, c| p.location_table.push(c), &u[2]);
        let sample = leaf(sample, &u[3]);
        let profile = parent(profile, 2, sample, |p, c| p.samples.push(c), &u[4]);
        let scope_profiles = parent(scope_profiles, 2, profile, |p, c| p.profiles.push(c), &u[5]);
        let resource_profiles =
            parent(resource_profiles, 2, scope_profiles, |p, c| p.scope_profiles.push(c), &u[6]);
        let request = parent(
            profiles_collector::ExportProfilesServiceRequest { dictionary: None, ..request },
            1,
            resource_profiles,
            |p, c| p.resource_profiles.push(c),
            &u[7],
        );
        let request = parent(request.expected, 2, dictionary, |p, c| p.dictionary = Some(c), &u[8]);
        check_skips_unknown::<_, up_profiles_collector::ExportProfilesServiceRequest>(
            &request.bytes,
            &request.expected,
        )?;
    }

    /// Response > PartialSuccess, for the four signals.
    #[test]
    fn response_unknown_fields_are_skipped_alike(
        trace in arb_export_trace_partial_success(),
        metrics in arb_export_metrics_partial_success(),
        logs in arb_export_logs_partial_success(),
        profiles in arb_export_profiles_partial_success(),
        u in arb_unknowns(8),
    ) {
        let r = parent(
            trace_collector::ExportTraceServiceResponse::default(),
            1,
            leaf(trace, &u[0]),
            |p, c| p.partial_success = Some(c),
            &u[1],
        );
        check_skips_unknown::<_, up_trace_collector::ExportTraceServiceResponse>(
            &r.bytes,
            &r.expected,
        )?;
        let r = parent(
            metrics_collector::ExportMetricsServiceResponse::default(),
            1,
            leaf(metrics, &u[2]),
            |p, c| p.partial_success = Some(c),
            &u[3],
        );
        check_skips_unknown::<_, up_metrics_collector::ExportMetricsServiceResponse>(
            &r.bytes,
            &r.expected,
        )?;
        let r = parent(
            logs_collector::ExportLogsServiceResponse::default(),
            1,
            leaf(logs, &u[4]),
            |p, c| p.partial_success = Some(c),
            &u[5],
        );
        check_skips_unknown::<_, up_logs_collector::ExportLogsServiceResponse>(
            &r.bytes,
            &r.expected,
        )?;
        let r = parent(
            profiles_collector::ExportProfilesServiceResponse::default(),
            1,
            leaf(profiles, &u[6]),
            |p, c| p.partial_success = Some(c),
            &u[7],
        );
        check_skips_unknown::<_, up_profiles_collector::ExportProfilesServiceResponse>(
            &r.bytes,
            &r.expected,
        )?;
    }
}

/// A fixed case, readable without proptest: one unknown field of each wire type (varint,
/// fixed64, length-delimited, fixed32, and the largest field number) before and after the known
/// fields of a request, of a span and of an attribute value.
#[test]
fn unknown_fields_of_every_wire_type_are_skipped_alike() -> Result<(), TestCaseError> {
    use common::any_value::Value;
    let unknown = wire::one_unknown_field_of_each_type();
    let value = common::AnyValue {
        value: Some(Value::StringValue("/cart".into())),
    };
    let attribute = common::KeyValue {
        key: "http.route".into(),
        value: Some(value.clone()),
        key_strindex: 0,
    };
    let span = trace::Span {
        trace_id: vec![0x5b; 16],
        span_id: vec![0x8a; 8],
        name: "GET /cart".into(),
        kind: trace::span::SpanKind::Server as i32,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_250_000_000,
        flags: 0x301,
        attributes: vec![attribute.clone()],
        ..Default::default()
    };
    let expected = trace_collector::ExportTraceServiceRequest {
        resource_spans: vec![trace::ResourceSpans {
            scope_spans: vec![trace::ScopeSpans {
                spans: vec![span.clone()],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };

    // From the inside out: the attribute value, the attribute, the span, its two parents and
    // the request, each with the unknown fields before and after its known fields.
    let any_value = [unknown.as_slice(), &value.encode_to_vec(), &unknown].concat();
    let mut key_value = unknown.clone();
    put_len_field(&mut key_value, 1, b"http.route");
    put_len_field(&mut key_value, 2, &any_value);
    key_value.extend(&unknown);
    let mut span_bytes = unknown.clone();
    span_bytes.extend(
        trace::Span {
            attributes: vec![],
            ..span
        }
        .encode_to_vec(),
    );
    put_len_field(&mut span_bytes, 9, &key_value);
    span_bytes.extend(&unknown);
    let scope_spans = [
        unknown.clone(),
        wire::len_field(2, &span_bytes),
        unknown.clone(),
    ]
    .concat();
    let resource_spans = [
        unknown.clone(),
        wire::len_field(2, &scope_spans),
        unknown.clone(),
    ]
    .concat();
    let request = [
        unknown.clone(),
        wire::len_field(1, &resource_spans),
        unknown,
    ]
    .concat();

    check_skips_unknown::<_, up_trace_collector::ExportTraceServiceRequest>(&request, &expected)
}

/// Deprecated groups (wire types 3 and 4) are unknown fields too: both crates treat them alike.
#[test]
fn unknown_groups_are_judged_alike() -> Result<(), TestCaseError> {
    let mut group = Vec::new();
    wire::put_key(&mut group, 200, wire::START_GROUP);
    wire::put_key(&mut group, 1, wire::VARINT);
    wire::put_varint(&mut group, 7);
    wire::put_key(&mut group, 200, wire::END_GROUP);
    let mut unmatched = Vec::new();
    wire::put_key(&mut unmatched, 200, wire::START_GROUP);
    wire::put_key(&mut unmatched, 201, wire::END_GROUP);
    for bytes in [group, unmatched] {
        check_same_verdict::<
            trace_collector::ExportTraceServiceRequest,
            up_trace_collector::ExportTraceServiceRequest,
        >(&bytes)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Garbage: both crates accept and reject the same bytes, the same way.
// ---------------------------------------------------------------------------------------------

macro_rules! same_verdicts {
    ($bytes:expr; $($ours:ty => $theirs:ty),* $(,)?) => {
        $( check_same_verdict::<$ours, $theirs>($bytes)?; )*
    };
}

fn same_verdict_for_every_type(bytes: &[u8]) -> Result<(), TestCaseError> {
    same_verdicts!(bytes;
        trace_collector::ExportTraceServiceRequest
            => up_trace_collector::ExportTraceServiceRequest,
        trace_collector::ExportTraceServiceResponse
            => up_trace_collector::ExportTraceServiceResponse,
        metrics_collector::ExportMetricsServiceRequest
            => up_metrics_collector::ExportMetricsServiceRequest,
        metrics_collector::ExportMetricsServiceResponse
            => up_metrics_collector::ExportMetricsServiceResponse,
        logs_collector::ExportLogsServiceRequest
            => up_logs_collector::ExportLogsServiceRequest,
        logs_collector::ExportLogsServiceResponse
            => up_logs_collector::ExportLogsServiceResponse,
        profiles_collector::ExportProfilesServiceRequest
            => up_profiles_collector::ExportProfilesServiceRequest,
        profiles_collector::ExportProfilesServiceResponse
            => up_profiles_collector::ExportProfilesServiceResponse,
        common::AnyValue => up::common::v1::AnyValue,
        trace::Span => up::trace::v1::Span,
        metrics::Metric => up::metrics::v1::Metric,
        logs::LogRecord => up::logs::v1::LogRecord,
        profiles::ProfilesDictionary => up::profiles::v1development::ProfilesDictionary,
        profiles::Profile => up::profiles::v1development::Profile,
    );
    Ok(())
}

proptest! {
    #![proptest_config(support::config())]

    #[test]
    fn random_bytes_are_judged_alike(bytes in vec(any::<u8>(), 0..256)) {
        same_verdict_for_every_type(&bytes)?;
    }

    #[test]
    fn mutated_trace_requests_are_judged_alike(
        m in arb_export_trace_request(),
        edits in wire::arb_edits(),
    ) {
        same_verdict_for_every_type(&wire::apply_edits(m.encode_to_vec(), &edits))?;
    }

    #[test]
    fn mutated_metrics_requests_are_judged_alike(
        m in arb_export_metrics_request(),
        edits in wire::arb_edits(),
    ) {
        same_verdict_for_every_type(&wire::apply_edits(m.encode_to_vec(), &edits))?;
    }

    #[test]
    fn mutated_logs_requests_are_judged_alike(
        m in arb_export_logs_request(),
        edits in wire::arb_edits(),
    ) {
        same_verdict_for_every_type(&wire::apply_edits(m.encode_to_vec(), &edits))?;
    }

    #[test]
    fn mutated_profiles_requests_are_judged_alike(
        m in arb_export_profiles_request(),
        edits in wire::arb_edits(),
    ) {
        same_verdict_for_every_type(&wire::apply_edits(m.encode_to_vec(), &edits))?;
    }
}

/// Both crates accept the same nesting depths and reject the deeper ones with the same error.
#[test]
fn nesting_limit_is_the_same() -> Result<(), TestCaseError> {
    for kvlist in [true, false] {
        for depth in 0..=60 {
            let bytes = wire::nested_any_value(depth, kvlist);
            check_same_verdict::<common::AnyValue, up::common::v1::AnyValue>(&bytes)?;
        }
    }
    Ok(())
}

/// prost (hence both crates) writes a plain `double` only when it is `!= 0.0`, which `-0.0` is
/// not: the sign of a negative zero is lost in implicit-presence fields (`SummaryDataPoint.sum`,
/// `ExponentialHistogramDataPoint.zero_threshold`, `ValueAtQuantile.*`), and kept in `optional`
/// and oneof fields (`HistogramDataPoint.sum`, `AnyValue.double_value`,
/// `NumberDataPoint.as_double`).
/// Both crates must agree on this, and they do; note it for anyone comparing doubles bit for bit.
#[test]
fn negative_zero_is_dropped_alike_from_implicit_presence_doubles() {
    let summary = metrics::SummaryDataPoint {
        sum: -0.0,
        ..Default::default()
    };
    assert!(summary.encode_to_vec().is_empty());
    let theirs = up::metrics::v1::SummaryDataPoint {
        sum: -0.0,
        ..Default::default()
    };
    assert!(theirs.encode_to_vec().is_empty());

    let histogram = metrics::HistogramDataPoint {
        sum: Some(-0.0),
        ..Default::default()
    };
    let back = metrics::HistogramDataPoint::decode(histogram.encode_to_vec().as_slice())
        .expect("valid encoding");
    assert!(back.sum.is_some_and(|s| s == 0.0 && s.is_sign_negative()));

    let value = common::AnyValue {
        value: Some(common::any_value::Value::DoubleValue(-0.0)),
    };
    let theirs =
        up::common::v1::AnyValue::decode(value.encode_to_vec().as_slice()).expect("valid encoding");
    assert!(matches!(
        theirs.value,
        Some(up::common::v1::any_value::Value::DoubleValue(v)) if v.is_sign_negative()
    ));
}
