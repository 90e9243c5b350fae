//! Shared proptest strategies for `otlp-proto`'s integration tests.
//!
//! Every OTLP message type has an `arb_*` strategy here, and the four signals have strategies for
//! their Export request and response messages. Include the module from a test crate with
//! `mod support;` and use whatever it needs; the rest is dead code there, hence the `allow`.
//!
//! # What the values look like
//!
//! Values are realistic but random: attribute keys are mostly semantic-convention-like, times are
//! mostly plausible nanosecond timestamps, enums are mostly known values. Then, because protobuf
//! validates none of it, a share of every field is hostile: trace and span ids of length 0, 8,
//! 16 or any odd length, enum integers outside the enum (negative ones too, which take ten bytes
//! on the wire), `u64::MAX` counters, arbitrary Unicode strings, negative dictionary indices.
//! Collections stay small (0..3 or 0..4 elements) and `AnyValue` nests at most
//! [`ANY_VALUE_DEPTH`] levels of arrays and key-value lists, so a property's 256 cases of a whole
//! Export request take well under a second, even in a debug build.
//!
//! # Doubles, NaN and equality
//!
//! [`arb_f64`] produces every kind of double, NaN included (quiet, signaling, negative, with a
//! payload), as well as `-0.0`, infinities and subnormals: those are exactly the values where two
//! codecs could disagree. A message holding a NaN is not equal to itself under `PartialEq`, so
//! compare such messages with [`same_encoding`] (bit-exact) or with [`assert_same_message`],
//! which uses both `PartialEq` (when the expected value is equal to itself) and the encoding.
//! [`arb_finite_f64`] is there for strategies that must avoid NaN and infinities.
//!
//! One trap: prost writes a plain (implicit-presence) `double` only when it is `!= 0.0`, so a
//! `-0.0` there is not written and decodes as `0.0`, in both crates. `PartialEq` and the encoding
//! cannot see the difference, but `Debug` output and `f64::to_bits` can.
//!
//! # Wire helpers
//!
//! [`wire`] writes raw protobuf (keys, varints, length-delimited fields, unknown fields) and walks
//! the top-level fields of an encoding, for tests that build or cut bytes by hand.

#![allow(dead_code)]
// `pub` marks this module's interface for the test crates that include it.
#![allow(unreachable_pub)]
// Test support: a panic on impossible input is a test failure with a message.
#![allow(clippy::expect_used)]

use std::fmt::Debug;

use otlp_proto::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use otlp_proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use otlp_proto::collector::profiles::v1development::{
    ExportProfilesPartialSuccess, ExportProfilesServiceRequest, ExportProfilesServiceResponse,
};
use otlp_proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use otlp_proto::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use otlp_proto::logs::v1::{LogRecord, LogsData, ResourceLogs, ScopeLogs};
use otlp_proto::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, MetricsData, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use otlp_proto::profiles::v1development as profiles;
use otlp_proto::profiles::v1development::{
    Function, KeyValueAndUnit, Line, Location, Mapping, Profile, ProfilesData, ProfilesDictionary,
    ResourceProfiles, Sample, ScopeProfiles, Stack, ValueType,
};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, TracesData, span};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use prost::Message;

/// How many levels of arrays and key-value lists [`arb_any_value`] nests at most.
pub const ANY_VALUE_DEPTH: u32 = 3;

// ---------------------------------------------------------------------------------------------
// Comparing messages.
// ---------------------------------------------------------------------------------------------

/// Whether two messages (possibly of different crates) encode to the same bytes.
pub fn same_encoding<A: Message, B: Message>(a: &A, b: &B) -> bool {
    a.encode_to_vec() == b.encode_to_vec()
}

/// Asserts that `actual` is the message `expected`: equal bytes always, and equal under
/// `PartialEq` whenever `expected` is equal to itself (it is not when it holds a NaN).
pub fn assert_same_message<M: Message + PartialEq + Debug>(
    actual: &M,
    expected: &M,
) -> Result<(), TestCaseError> {
    // A message is unequal to itself exactly when it holds a NaN somewhere.
    #[allow(clippy::eq_op)]
    let comparable = expected == expected;
    if comparable {
        prop_assert_eq!(actual, expected);
    }
    prop_assert_eq!(actual.encode_to_vec(), expected.encode_to_vec());
    Ok(())
}

/// The proptest configuration the protobuf tests use: proptest's default of 256 cases, which the
/// `PROPTEST_CASES` environment variable overrides (for a longer soak in CI, for instance).
pub fn config() -> ProptestConfig {
    ProptestConfig::default()
}

// ---------------------------------------------------------------------------------------------
// Scalars.
// ---------------------------------------------------------------------------------------------

/// A string: often empty, mostly short identifiers, sometimes arbitrary Unicode.
pub fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(String::new()),
        5 => "[a-z][a-z0-9_.-]{0,15}",
        3 => ".{0,12}",
    ]
}

/// An attribute key: mostly semantic-convention keys, sometimes random or empty.
pub fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&[
            "service.name",
            "service.version",
            "host.name",
            "http.request.method",
            "http.response.status_code",
            "url.full",
            "db.system.name",
            "exception.message",
            "k8s.pod.uid",
            "telemetry.sdk.language",
        ][..])
        .prop_map(str::to_owned),
        3 => "[a-z]{1,8}(\\.[a-z_]{1,8}){0,3}",
        2 => arb_string(),
    ]
}

/// Arbitrary bytes, `0..max` of them.
pub fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

/// An id field (`trace_id`, `span_id`, `profile_id`): protobuf does not check its length, so
/// besides the usual 16 and 8 bytes it is sometimes empty and sometimes of any length, odd ones
/// included.
pub fn arb_id() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => Just(Vec::new()),
        4 => vec(any::<u8>(), 16),
        3 => vec(any::<u8>(), 8),
        2 => vec(any::<u8>(), 1..34),
    ]
}

/// Doubles that two codecs could plausibly treat differently.
pub static SPECIAL_F64: [f64; 12] = [
    0.0,
    -0.0,
    f64::NAN,
    -f64::NAN,
    f64::from_bits(0x7ff0_0000_0000_0001), // signaling NaN
    f64::from_bits(0xfff8_0000_dead_beef), // negative quiet NaN with a payload
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MIN_POSITIVE,
    f64::from_bits(1), // the smallest subnormal
    f64::MAX,
    f64::MIN,
];

/// A double: any `f64` at all, NaN and infinities included, plus the special values two codecs
/// might treat differently and some ordinary measurements.
pub fn arb_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1.0e6..1.0e6_f64,
        3 => any::<f64>(),
        1 => prop::sample::select(&SPECIAL_F64[..]),
    ]
}

/// A double that is neither NaN nor infinite (`-0.0` and subnormals still occur).
pub fn arb_finite_f64() -> impl Strategy<Value = f64> {
    arb_f64().prop_filter("finite", |v| v.is_finite())
}

/// A timestamp in nanoseconds since the epoch: zero, a plausible time, or any `u64`.
pub fn arb_time() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0_u64),
        6 => 1_500_000_000_000_000_000_u64..1_900_000_000_000_000_000,
        2 => any::<u64>(),
    ]
}

/// A count (`dropped_*_count` and the like): zero, small, or any `u32`.
pub fn arb_count() -> impl Strategy<Value = u32> {
    prop_oneof![4 => Just(0_u32), 4 => 1_u32..16, 2 => any::<u32>()]
}

/// A 64-bit count: zero, small, or any `u64`.
pub fn arb_count64() -> impl Strategy<Value = u64> {
    prop_oneof![3 => Just(0_u64), 5 => 1_u64..10_000, 2 => any::<u64>()]
}

/// A signed 64-bit value: zero, small, or any `i64`.
pub fn arb_i64() -> impl Strategy<Value = i64> {
    prop_oneof![2 => Just(0_i64), 5 => -1000_i64..1000, 3 => any::<i64>()]
}

/// An enum field: mostly a value of `known`, sometimes any `i32`, which proto3 requires decoders
/// to keep (negative ones are ten bytes on the wire).
pub fn arb_enum(known: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = i32> {
    prop_oneof![
        8 => known,
        1 => any::<i32>(),
        1 => prop::sample::select(&[-1, i32::MIN, i32::MAX, 1 << 20][..]),
    ]
}

/// A `flags` field: zero, trace flags with the `is_remote` bits of `SpanFlags`, or any `u32`.
pub fn arb_flags() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => Just(0_u32),
        4 => prop::sample::select(&[0x01_u32, 0x100, 0x101, 0x300, 0x301][..]),
        2 => any::<u32>(),
    ]
}

/// An index into a profiles dictionary table or string table (`*_index`, `*_strindex`): mostly
/// small, sometimes any `i32`, negative ones included.
pub fn arb_index() -> impl Strategy<Value = i32> {
    prop_oneof![3 => Just(0_i32), 6 => 1_i32..16, 1 => any::<i32>()]
}

/// A list of dictionary indices (`attribute_indices`, `location_indices`).
pub fn arb_indices() -> impl Strategy<Value = Vec<i32>> {
    vec(arb_index(), 0..4)
}

// ---------------------------------------------------------------------------------------------
// opentelemetry.proto.common.v1 and resource.v1
// ---------------------------------------------------------------------------------------------

/// An `AnyValue` without nesting, or with its value unset.
pub fn arb_scalar_any_value() -> impl Strategy<Value = AnyValue> {
    use any_value::Value;
    prop_oneof![
        1 => Just(None),
        4 => arb_string().prop_map(|v| Some(Value::StringValue(v))),
        1 => any::<bool>().prop_map(|v| Some(Value::BoolValue(v))),
        2 => arb_i64().prop_map(|v| Some(Value::IntValue(v))),
        2 => arb_f64().prop_map(|v| Some(Value::DoubleValue(v))),
        1 => arb_bytes(16).prop_map(|v| Some(Value::BytesValue(v))),
        1 => arb_index().prop_map(|v| Some(Value::StringValueStrindex(v))),
    ]
    .prop_map(|value| AnyValue { value })
}

/// An `AnyValue` of any kind, arrays and key-value lists nested at most [`ANY_VALUE_DEPTH`]
/// levels deep.
pub fn arb_any_value() -> BoxedStrategy<AnyValue> {
    arb_any_value_with_depth(ANY_VALUE_DEPTH)
}

/// An `AnyValue` of any kind, arrays and key-value lists nested at most `depth` levels deep.
pub fn arb_any_value_with_depth(depth: u32) -> BoxedStrategy<AnyValue> {
    use any_value::Value;
    arb_scalar_any_value()
        .prop_recursive(depth, 24, 3, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..3)
                    .prop_map(|values| Some(Value::ArrayValue(ArrayValue { values }))),
                vec(key_value_of(inner), 0..3)
                    .prop_map(|values| Some(Value::KvlistValue(KeyValueList { values }))),
            ]
            .prop_map(|value| AnyValue { value })
        })
        .boxed()
}

/// An `ArrayValue`.
pub fn arb_array_value() -> impl Strategy<Value = ArrayValue> {
    vec(arb_any_value_with_depth(ANY_VALUE_DEPTH - 1), 0..4)
        .prop_map(|values| ArrayValue { values })
}

/// A `KeyValueList`.
pub fn arb_key_value_list() -> impl Strategy<Value = KeyValueList> {
    vec(
        key_value_of(arb_any_value_with_depth(ANY_VALUE_DEPTH - 1)),
        0..4,
    )
    .prop_map(|values| KeyValueList { values })
}

fn key_value_of(value: BoxedStrategy<AnyValue>) -> impl Strategy<Value = KeyValue> {
    (
        arb_key(),
        option::weighted(0.9, value),
        prop_oneof![4 => Just(0), 1 => arb_index()],
    )
        .prop_map(|(key, value, key_strindex)| KeyValue {
            key,
            value,
            key_strindex,
        })
}

/// A `KeyValue` (an attribute), its value sometimes unset.
pub fn arb_key_value() -> impl Strategy<Value = KeyValue> {
    key_value_of(arb_any_value())
}

/// A list of attributes.
pub fn arb_attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    vec(arb_key_value(), 0..4)
}

/// An `InstrumentationScope`.
pub fn arb_instrumentation_scope() -> impl Strategy<Value = InstrumentationScope> {
    (arb_string(), arb_string(), arb_attributes(), arb_count()).prop_map(
        |(name, version, attributes, dropped_attributes_count)| InstrumentationScope {
            name,
            version,
            attributes,
            dropped_attributes_count,
        },
    )
}

/// An `EntityRef`.
pub fn arb_entity_ref() -> impl Strategy<Value = EntityRef> {
    (
        arb_string(),
        arb_string(),
        vec(arb_key(), 0..3),
        vec(arb_key(), 0..3),
    )
        .prop_map(
            |(schema_url, r#type, id_keys, description_keys)| EntityRef {
                schema_url,
                r#type,
                id_keys,
                description_keys,
            },
        )
}

/// A `Resource`.
pub fn arb_resource() -> impl Strategy<Value = Resource> {
    (arb_attributes(), arb_count(), vec(arb_entity_ref(), 0..3)).prop_map(
        |(attributes, dropped_attributes_count, entity_refs)| Resource {
            attributes,
            dropped_attributes_count,
            entity_refs,
        },
    )
}

fn arb_schema_url() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        2 => Just("https://opentelemetry.io/schemas/1.37.0".to_owned()),
        1 => arb_string(),
    ]
}

// ---------------------------------------------------------------------------------------------
// opentelemetry.proto.trace.v1
// ---------------------------------------------------------------------------------------------

/// A span `Status`.
pub fn arb_status() -> impl Strategy<Value = Status> {
    (arb_string(), arb_enum(0..=2)).prop_map(|(message, code)| Status { message, code })
}

/// A span `Event`.
pub fn arb_span_event() -> impl Strategy<Value = span::Event> {
    (arb_time(), arb_string(), arb_attributes(), arb_count()).prop_map(
        |(time_unix_nano, name, attributes, dropped_attributes_count)| span::Event {
            time_unix_nano,
            name,
            attributes,
            dropped_attributes_count,
        },
    )
}

/// A span `Link`.
pub fn arb_span_link() -> impl Strategy<Value = span::Link> {
    (
        arb_id(),
        arb_id(),
        arb_string(),
        arb_attributes(),
        arb_count(),
        arb_flags(),
    )
        .prop_map(
            |(trace_id, span_id, trace_state, attributes, dropped_attributes_count, flags)| {
                span::Link {
                    trace_id,
                    span_id,
                    trace_state,
                    attributes,
                    dropped_attributes_count,
                    flags,
                }
            },
        )
}

/// A `Span` with events, links and a status.
pub fn arb_span() -> impl Strategy<Value = Span> {
    let ids = (
        arb_id(),
        arb_id(),
        arb_string(),
        arb_id(),
        arb_flags(),
        arb_string(),
        arb_enum(0..=5),
    );
    let times = (arb_time(), arb_time());
    let children = (
        arb_attributes(),
        arb_count(),
        vec(arb_span_event(), 0..3),
        arb_count(),
        vec(arb_span_link(), 0..3),
        arb_count(),
        option::of(arb_status()),
    );
    (ids, times, children).prop_map(
        |(
            (trace_id, span_id, trace_state, parent_span_id, flags, name, kind),
            (start_time_unix_nano, end_time_unix_nano),
            (
                attributes,
                dropped_attributes_count,
                events,
                dropped_events_count,
                links,
                dropped_links_count,
                status,
            ),
        )| Span {
            trace_id,
            span_id,
            trace_state,
            parent_span_id,
            flags,
            name,
            kind,
            start_time_unix_nano,
            end_time_unix_nano,
            attributes,
            dropped_attributes_count,
            events,
            dropped_events_count,
            links,
            dropped_links_count,
            status,
        },
    )
}

/// A `ScopeSpans`.
pub fn arb_scope_spans() -> impl Strategy<Value = ScopeSpans> {
    (
        option::of(arb_instrumentation_scope()),
        vec(arb_span(), 0..3),
        arb_schema_url(),
    )
        .prop_map(|(scope, spans, schema_url)| ScopeSpans {
            scope,
            spans,
            schema_url,
        })
}

/// A `ResourceSpans`.
pub fn arb_resource_spans() -> impl Strategy<Value = ResourceSpans> {
    (
        option::of(arb_resource()),
        vec(arb_scope_spans(), 0..3),
        arb_schema_url(),
    )
        .prop_map(|(resource, scope_spans, schema_url)| ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        })
}

/// A `TracesData`.
pub fn arb_traces_data() -> impl Strategy<Value = TracesData> {
    vec(arb_resource_spans(), 0..3).prop_map(|resource_spans| TracesData { resource_spans })
}

/// An `ExportTraceServiceRequest`.
pub fn arb_export_trace_request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    vec(arb_resource_spans(), 0..3)
        .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
}

/// An `ExportTracePartialSuccess`.
pub fn arb_export_trace_partial_success() -> impl Strategy<Value = ExportTracePartialSuccess> {
    (arb_i64(), arb_string()).prop_map(|(rejected_spans, error_message)| {
        ExportTracePartialSuccess {
            rejected_spans,
            error_message,
        }
    })
}

/// An `ExportTraceServiceResponse`, with or without a partial success.
pub fn arb_export_trace_response() -> impl Strategy<Value = ExportTraceServiceResponse> {
    option::of(arb_export_trace_partial_success())
        .prop_map(|partial_success| ExportTraceServiceResponse { partial_success })
}

// ---------------------------------------------------------------------------------------------
// opentelemetry.proto.metrics.v1
// ---------------------------------------------------------------------------------------------

fn arb_exemplar_value() -> impl Strategy<Value = Option<exemplar::Value>> {
    prop_oneof![
        1 => Just(None),
        3 => arb_f64().prop_map(|v| Some(exemplar::Value::AsDouble(v))),
        3 => arb_i64().prop_map(|v| Some(exemplar::Value::AsInt(v))),
    ]
}

/// An `Exemplar`.
pub fn arb_exemplar() -> impl Strategy<Value = Exemplar> {
    (
        arb_attributes(),
        arb_time(),
        arb_id(),
        arb_id(),
        arb_exemplar_value(),
    )
        .prop_map(
            |(filtered_attributes, time_unix_nano, span_id, trace_id, value)| Exemplar {
                filtered_attributes,
                time_unix_nano,
                span_id,
                trace_id,
                value,
            },
        )
}

fn arb_exemplars() -> impl Strategy<Value = Vec<Exemplar>> {
    vec(arb_exemplar(), 0..3)
}

fn arb_point_flags() -> impl Strategy<Value = u32> {
    prop_oneof![6 => Just(0_u32), 3 => Just(1_u32), 1 => any::<u32>()]
}

/// A `NumberDataPoint` (of a gauge or a sum).
pub fn arb_number_data_point() -> impl Strategy<Value = NumberDataPoint> {
    let value = prop_oneof![
        1 => Just(None),
        3 => arb_f64().prop_map(|v| Some(number_data_point::Value::AsDouble(v))),
        3 => arb_i64().prop_map(|v| Some(number_data_point::Value::AsInt(v))),
    ];
    (
        arb_attributes(),
        arb_time(),
        arb_time(),
        arb_exemplars(),
        arb_point_flags(),
        value,
    )
        .prop_map(
            |(attributes, start_time_unix_nano, time_unix_nano, exemplars, flags, value)| {
                NumberDataPoint {
                    attributes,
                    start_time_unix_nano,
                    time_unix_nano,
                    exemplars,
                    flags,
                    value,
                }
            },
        )
}

/// A `HistogramDataPoint` (explicit bounds).
pub fn arb_histogram_data_point() -> impl Strategy<Value = HistogramDataPoint> {
    let head = (
        arb_attributes(),
        arb_time(),
        arb_time(),
        arb_count64(),
        option::of(arb_f64()),
    );
    let buckets = (vec(arb_count64(), 0..5), vec(arb_f64(), 0..4));
    let tail = (
        arb_exemplars(),
        arb_point_flags(),
        option::of(arb_f64()),
        option::of(arb_f64()),
    );
    (head, buckets, tail).prop_map(
        |(
            (attributes, start_time_unix_nano, time_unix_nano, count, sum),
            (bucket_counts, explicit_bounds),
            (exemplars, flags, min, max),
        )| HistogramDataPoint {
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            count,
            sum,
            bucket_counts,
            explicit_bounds,
            exemplars,
            flags,
            min,
            max,
        },
    )
}

/// The `Buckets` of an exponential histogram point.
pub fn arb_buckets() -> impl Strategy<Value = Buckets> {
    (
        prop_oneof![3 => -64_i32..64, 1 => any::<i32>()],
        vec(arb_count64(), 0..5),
    )
        .prop_map(|(offset, bucket_counts)| Buckets {
            offset,
            bucket_counts,
        })
}

/// An `ExponentialHistogramDataPoint`.
pub fn arb_exponential_histogram_data_point() -> impl Strategy<Value = ExponentialHistogramDataPoint>
{
    let head = (
        arb_attributes(),
        arb_time(),
        arb_time(),
        arb_count64(),
        option::of(arb_f64()),
    );
    let shape = (
        prop_oneof![3 => -10_i32..=20, 1 => any::<i32>()],
        arb_count64(),
        option::of(arb_buckets()),
        option::of(arb_buckets()),
    );
    let tail = (
        arb_point_flags(),
        arb_exemplars(),
        option::of(arb_f64()),
        option::of(arb_f64()),
        arb_f64(),
    );
    (head, shape, tail).prop_map(
        |(
            (attributes, start_time_unix_nano, time_unix_nano, count, sum),
            (scale, zero_count, positive, negative),
            (flags, exemplars, min, max, zero_threshold),
        )| ExponentialHistogramDataPoint {
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            count,
            sum,
            scale,
            zero_count,
            positive,
            negative,
            flags,
            exemplars,
            min,
            max,
            zero_threshold,
        },
    )
}

/// A summary's `ValueAtQuantile`.
pub fn arb_value_at_quantile() -> impl Strategy<Value = ValueAtQuantile> {
    (prop_oneof![3 => 0.0..=1.0_f64, 1 => arb_f64()], arb_f64())
        .prop_map(|(quantile, value)| ValueAtQuantile { quantile, value })
}

/// A `SummaryDataPoint`.
pub fn arb_summary_data_point() -> impl Strategy<Value = SummaryDataPoint> {
    (
        arb_attributes(),
        arb_time(),
        arb_time(),
        arb_count64(),
        arb_f64(),
        vec(arb_value_at_quantile(), 0..4),
        arb_point_flags(),
    )
        .prop_map(
            |(
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                quantile_values,
                flags,
            )| {
                SummaryDataPoint {
                    attributes,
                    start_time_unix_nano,
                    time_unix_nano,
                    count,
                    sum,
                    quantile_values,
                    flags,
                }
            },
        )
}

/// A `Gauge`.
pub fn arb_gauge() -> impl Strategy<Value = Gauge> {
    vec(arb_number_data_point(), 0..3).prop_map(|data_points| Gauge { data_points })
}

/// A `Sum`.
pub fn arb_sum() -> impl Strategy<Value = Sum> {
    (
        vec(arb_number_data_point(), 0..3),
        arb_enum(0..=2),
        any::<bool>(),
    )
        .prop_map(|(data_points, aggregation_temporality, is_monotonic)| Sum {
            data_points,
            aggregation_temporality,
            is_monotonic,
        })
}

/// A `Histogram`.
pub fn arb_histogram() -> impl Strategy<Value = Histogram> {
    (vec(arb_histogram_data_point(), 0..3), arb_enum(0..=2)).prop_map(
        |(data_points, aggregation_temporality)| Histogram {
            data_points,
            aggregation_temporality,
        },
    )
}

/// An `ExponentialHistogram`.
pub fn arb_exponential_histogram() -> impl Strategy<Value = ExponentialHistogram> {
    (
        vec(arb_exponential_histogram_data_point(), 0..3),
        arb_enum(0..=2),
    )
        .prop_map(
            |(data_points, aggregation_temporality)| ExponentialHistogram {
                data_points,
                aggregation_temporality,
            },
        )
}

/// A `Summary`.
pub fn arb_summary() -> impl Strategy<Value = Summary> {
    vec(arb_summary_data_point(), 0..3).prop_map(|data_points| Summary { data_points })
}

/// The data of a `Metric`: one of the five kinds, or unset.
pub fn arb_metric_data() -> impl Strategy<Value = Option<metric::Data>> {
    prop_oneof![
        1 => Just(None),
        2 => arb_gauge().prop_map(|v| Some(metric::Data::Gauge(v))),
        2 => arb_sum().prop_map(|v| Some(metric::Data::Sum(v))),
        2 => arb_histogram().prop_map(|v| Some(metric::Data::Histogram(v))),
        2 => arb_exponential_histogram().prop_map(|v| Some(metric::Data::ExponentialHistogram(v))),
        2 => arb_summary().prop_map(|v| Some(metric::Data::Summary(v))),
    ]
}

/// A `Metric` of any kind.
pub fn arb_metric() -> impl Strategy<Value = Metric> {
    (
        arb_key(),
        arb_string(),
        arb_string(),
        arb_attributes(),
        arb_metric_data(),
    )
        .prop_map(|(name, description, unit, metadata, data)| Metric {
            name,
            description,
            unit,
            metadata,
            data,
        })
}

/// A `ScopeMetrics`.
pub fn arb_scope_metrics() -> impl Strategy<Value = ScopeMetrics> {
    (
        option::of(arb_instrumentation_scope()),
        vec(arb_metric(), 0..3),
        arb_schema_url(),
    )
        .prop_map(|(scope, metrics, schema_url)| ScopeMetrics {
            scope,
            metrics,
            schema_url,
        })
}

/// A `ResourceMetrics`.
pub fn arb_resource_metrics() -> impl Strategy<Value = ResourceMetrics> {
    (
        option::of(arb_resource()),
        vec(arb_scope_metrics(), 0..3),
        arb_schema_url(),
    )
        .prop_map(|(resource, scope_metrics, schema_url)| ResourceMetrics {
            resource,
            scope_metrics,
            schema_url,
        })
}

/// A `MetricsData`.
pub fn arb_metrics_data() -> impl Strategy<Value = MetricsData> {
    vec(arb_resource_metrics(), 0..3).prop_map(|resource_metrics| MetricsData { resource_metrics })
}

/// An `ExportMetricsServiceRequest`.
pub fn arb_export_metrics_request() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    vec(arb_resource_metrics(), 0..3)
        .prop_map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
}

/// An `ExportMetricsPartialSuccess`.
pub fn arb_export_metrics_partial_success() -> impl Strategy<Value = ExportMetricsPartialSuccess> {
    (arb_i64(), arb_string()).prop_map(|(rejected_data_points, error_message)| {
        ExportMetricsPartialSuccess {
            rejected_data_points,
            error_message,
        }
    })
}

/// An `ExportMetricsServiceResponse`, with or without a partial success.
pub fn arb_export_metrics_response() -> impl Strategy<Value = ExportMetricsServiceResponse> {
    option::of(arb_export_metrics_partial_success())
        .prop_map(|partial_success| ExportMetricsServiceResponse { partial_success })
}

// ---------------------------------------------------------------------------------------------
// opentelemetry.proto.logs.v1
// ---------------------------------------------------------------------------------------------

/// A `LogRecord`; its body is any `AnyValue`.
pub fn arb_log_record() -> impl Strategy<Value = LogRecord> {
    let head = (
        arb_time(),
        arb_time(),
        arb_enum(0..=24),
        arb_string(),
        option::of(arb_any_value()),
    );
    let tail = (
        arb_attributes(),
        arb_count(),
        arb_flags(),
        arb_id(),
        arb_id(),
        arb_string(),
    );
    (head, tail).prop_map(
        |(
            (time_unix_nano, observed_time_unix_nano, severity_number, severity_text, body),
            (attributes, dropped_attributes_count, flags, trace_id, span_id, event_name),
        )| LogRecord {
            time_unix_nano,
            observed_time_unix_nano,
            severity_number,
            severity_text,
            body,
            attributes,
            dropped_attributes_count,
            flags,
            trace_id,
            span_id,
            event_name,
        },
    )
}

/// A `ScopeLogs`.
pub fn arb_scope_logs() -> impl Strategy<Value = ScopeLogs> {
    (
        option::of(arb_instrumentation_scope()),
        vec(arb_log_record(), 0..3),
        arb_schema_url(),
    )
        .prop_map(|(scope, log_records, schema_url)| ScopeLogs {
            scope,
            log_records,
            schema_url,
        })
}

/// A `ResourceLogs`.
pub fn arb_resource_logs() -> impl Strategy<Value = ResourceLogs> {
    (
        option::of(arb_resource()),
        vec(arb_scope_logs(), 0..3),
        arb_schema_url(),
    )
        .prop_map(|(resource, scope_logs, schema_url)| ResourceLogs {
            resource,
            scope_logs,
            schema_url,
        })
}

/// A `LogsData`.
pub fn arb_logs_data() -> impl Strategy<Value = LogsData> {
    vec(arb_resource_logs(), 0..3).prop_map(|resource_logs| LogsData { resource_logs })
}

/// An `ExportLogsServiceRequest`.
pub fn arb_export_logs_request() -> impl Strategy<Value = ExportLogsServiceRequest> {
    vec(arb_resource_logs(), 0..3)
        .prop_map(|resource_logs| ExportLogsServiceRequest { resource_logs })
}

/// An `ExportLogsPartialSuccess`.
pub fn arb_export_logs_partial_success() -> impl Strategy<Value = ExportLogsPartialSuccess> {
    (arb_i64(), arb_string()).prop_map(|(rejected_log_records, error_message)| {
        ExportLogsPartialSuccess {
            rejected_log_records,
            error_message,
        }
    })
}

/// An `ExportLogsServiceResponse`, with or without a partial success.
pub fn arb_export_logs_response() -> impl Strategy<Value = ExportLogsServiceResponse> {
    option::of(arb_export_logs_partial_success())
        .prop_map(|partial_success| ExportLogsServiceResponse { partial_success })
}

// ---------------------------------------------------------------------------------------------
// opentelemetry.proto.profiles.v1development
// ---------------------------------------------------------------------------------------------

/// A profiles `ValueType`.
pub fn arb_value_type() -> impl Strategy<Value = ValueType> {
    (arb_index(), arb_index()).prop_map(|(type_strindex, unit_strindex)| ValueType {
        type_strindex,
        unit_strindex,
    })
}

/// A profiles `Mapping`.
pub fn arb_mapping() -> impl Strategy<Value = Mapping> {
    (
        arb_count64(),
        any::<u64>(),
        arb_count64(),
        arb_index(),
        arb_indices(),
    )
        .prop_map(
            |(memory_start, memory_limit, file_offset, filename_strindex, attribute_indices)| {
                Mapping {
                    memory_start,
                    memory_limit,
                    file_offset,
                    filename_strindex,
                    attribute_indices,
                }
            },
        )
}

/// A profiles `Line`.
pub fn arb_line() -> impl Strategy<Value = Line> {
    (arb_index(), arb_i64(), arb_i64()).prop_map(|(function_index, line, column)| Line {
        function_index,
        line,
        column,
    })
}

/// A profiles `Location`.
pub fn arb_location() -> impl Strategy<Value = Location> {
    (
        arb_index(),
        any::<u64>(),
        vec(arb_line(), 0..3),
        arb_indices(),
    )
        .prop_map(
            |(mapping_index, address, lines, attribute_indices)| Location {
                mapping_index,
                address,
                lines,
                attribute_indices,
            },
        )
}

/// A profiles `Function`.
pub fn arb_function() -> impl Strategy<Value = Function> {
    (arb_index(), arb_index(), arb_index(), arb_i64()).prop_map(
        |(name_strindex, system_name_strindex, filename_strindex, start_line)| Function {
            name_strindex,
            system_name_strindex,
            filename_strindex,
            start_line,
        },
    )
}

/// A profiles `Link` (to a span).
pub fn arb_profile_link() -> impl Strategy<Value = profiles::Link> {
    (arb_id(), arb_id()).prop_map(|(trace_id, span_id)| profiles::Link { trace_id, span_id })
}

/// A profiles `Stack`.
pub fn arb_stack() -> impl Strategy<Value = Stack> {
    arb_indices().prop_map(|location_indices| Stack { location_indices })
}

/// A profiles `KeyValueAndUnit` (an entry of the attribute table).
pub fn arb_key_value_and_unit() -> impl Strategy<Value = KeyValueAndUnit> {
    (
        arb_index(),
        option::weighted(0.9, arb_any_value()),
        arb_index(),
    )
        .prop_map(|(key_strindex, value, unit_strindex)| KeyValueAndUnit {
            key_strindex,
            value,
            unit_strindex,
        })
}

/// A `ProfilesDictionary`; its string table, when not empty, starts with "" as the format asks.
pub fn arb_profiles_dictionary() -> impl Strategy<Value = ProfilesDictionary> {
    let string_table = prop_oneof![
        1 => Just(Vec::new()),
        4 => vec(arb_string(), 0..5).prop_map(|mut strings| {
            strings.insert(0, String::new());
            strings
        }),
        1 => vec(arb_string(), 1..4),
    ];
    (
        vec(arb_mapping(), 0..3),
        vec(arb_location(), 0..3),
        vec(arb_function(), 0..3),
        vec(arb_profile_link(), 0..3),
        string_table,
        vec(arb_key_value_and_unit(), 0..3),
        vec(arb_stack(), 0..3),
    )
        .prop_map(
            |(
                mapping_table,
                location_table,
                function_table,
                link_table,
                string_table,
                attribute_table,
                stack_table,
            )| ProfilesDictionary {
                mapping_table,
                location_table,
                function_table,
                link_table,
                string_table,
                attribute_table,
                stack_table,
            },
        )
}

/// A profiles `Sample`.
pub fn arb_sample() -> impl Strategy<Value = Sample> {
    (
        arb_index(),
        arb_indices(),
        arb_index(),
        vec(arb_i64(), 0..4),
        vec(arb_time(), 0..3),
    )
        .prop_map(
            |(stack_index, attribute_indices, link_index, values, timestamps_unix_nano)| Sample {
                stack_index,
                attribute_indices,
                link_index,
                values,
                timestamps_unix_nano,
            },
        )
}

/// A `Profile`.
pub fn arb_profile() -> impl Strategy<Value = Profile> {
    let head = (
        option::of(arb_value_type()),
        vec(arb_sample(), 0..3),
        arb_time(),
        arb_count64(),
        option::of(arb_value_type()),
        arb_i64(),
    );
    let tail = (
        arb_id(),
        arb_count(),
        arb_string(),
        arb_bytes(24),
        arb_indices(),
    );
    (head, tail).prop_map(
        |(
            (sample_type, samples, time_unix_nano, duration_nano, period_type, period),
            (
                profile_id,
                dropped_attributes_count,
                original_payload_format,
                original_payload,
                attribute_indices,
            ),
        )| Profile {
            sample_type,
            samples,
            time_unix_nano,
            duration_nano,
            period_type,
            period,
            profile_id,
            dropped_attributes_count,
            original_payload_format,
            original_payload,
            attribute_indices,
        },
    )
}

/// A `ScopeProfiles`.
pub fn arb_scope_profiles() -> impl Strategy<Value = ScopeProfiles> {
    (
        option::of(arb_instrumentation_scope()),
        vec(arb_profile(), 0..3),
        arb_schema_url(),
    )
        .prop_map(|(scope, profiles, schema_url)| ScopeProfiles {
            scope,
            profiles,
            schema_url,
        })
}

/// A `ResourceProfiles`.
pub fn arb_resource_profiles() -> impl Strategy<Value = ResourceProfiles> {
    (
        option::of(arb_resource()),
        vec(arb_scope_profiles(), 0..3),
        arb_schema_url(),
    )
        .prop_map(|(resource, scope_profiles, schema_url)| ResourceProfiles {
            resource,
            scope_profiles,
            schema_url,
        })
}

/// A `ProfilesData`.
pub fn arb_profiles_data() -> impl Strategy<Value = ProfilesData> {
    (
        vec(arb_resource_profiles(), 0..3),
        option::of(arb_profiles_dictionary()),
    )
        .prop_map(|(resource_profiles, dictionary)| ProfilesData {
            resource_profiles,
            dictionary,
        })
}

/// An `ExportProfilesServiceRequest`, with or without a dictionary.
pub fn arb_export_profiles_request() -> impl Strategy<Value = ExportProfilesServiceRequest> {
    (
        vec(arb_resource_profiles(), 0..3),
        option::weighted(0.8, arb_profiles_dictionary()),
    )
        .prop_map(
            |(resource_profiles, dictionary)| ExportProfilesServiceRequest {
                resource_profiles,
                dictionary,
            },
        )
}

/// An `ExportProfilesPartialSuccess`.
pub fn arb_export_profiles_partial_success() -> impl Strategy<Value = ExportProfilesPartialSuccess>
{
    (arb_i64(), arb_string()).prop_map(|(rejected_profiles, error_message)| {
        ExportProfilesPartialSuccess {
            rejected_profiles,
            error_message,
        }
    })
}

/// An `ExportProfilesServiceResponse`, with or without a partial success.
pub fn arb_export_profiles_response() -> impl Strategy<Value = ExportProfilesServiceResponse> {
    option::of(arb_export_profiles_partial_success())
        .prop_map(|partial_success| ExportProfilesServiceResponse { partial_success })
}

// ---------------------------------------------------------------------------------------------
// Raw protobuf.
// ---------------------------------------------------------------------------------------------

/// Writing and walking raw protobuf wire format.
pub mod wire {
    use proptest::prelude::*;

    /// Wire type of a varint field.
    pub const VARINT: u8 = 0;
    /// Wire type of a fixed 64-bit field.
    pub const FIXED64: u8 = 1;
    /// Wire type of a length-delimited field.
    pub const LEN: u8 = 2;
    /// Wire type of the (deprecated) start of a group.
    pub const START_GROUP: u8 = 3;
    /// Wire type of the (deprecated) end of a group.
    pub const END_GROUP: u8 = 4;
    /// Wire type of a fixed 32-bit field.
    pub const FIXED32: u8 = 5;

    /// The largest field number protobuf allows.
    pub const MAX_FIELD_NUMBER: u32 = (1 << 29) - 1;

    /// Appends `value` as a base-128 varint.
    pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    /// Appends the key of field `number` with `wire_type`.
    pub fn put_key(out: &mut Vec<u8>, number: u32, wire_type: u8) {
        put_varint(out, (u64::from(number) << 3) | u64::from(wire_type));
    }

    /// Appends a length-delimited field.
    pub fn put_len_field(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
        put_key(out, number, LEN);
        put_varint(out, payload.len() as u64);
        out.extend_from_slice(payload);
    }

    /// A length-delimited field as bytes.
    pub fn len_field(number: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.len() + 6);
        put_len_field(&mut out, number, payload);
        out
    }

    /// One unknown field of every wire type a proto3 encoder writes: varint, fixed64,
    /// length-delimited and fixed32, with field numbers no OTLP message uses.
    pub fn one_unknown_field_of_each_type() -> Vec<u8> {
        let mut out = Vec::new();
        put_key(&mut out, 100, VARINT);
        put_varint(&mut out, u64::MAX);
        put_key(&mut out, 101, FIXED64);
        out.extend_from_slice(&0x0123_4567_89ab_cdef_u64.to_le_bytes());
        put_len_field(&mut out, 102, b"\x0a\x03abc unknown payload");
        put_key(&mut out, 103, FIXED32);
        out.extend_from_slice(&0xdead_beef_u32.to_le_bytes());
        put_key(&mut out, MAX_FIELD_NUMBER, VARINT);
        put_varint(&mut out, 1);
        out
    }

    /// A field number no OTLP message uses (they all stop at 16), up to the protobuf maximum.
    pub fn arb_unknown_field_number() -> impl Strategy<Value = u32> {
        prop_oneof![3 => 17_u32..64, 2 => 64_u32..20_000, 1 => 20_000..=MAX_FIELD_NUMBER]
    }

    /// One unknown field, of a random wire type (varint, fixed64, length-delimited or fixed32).
    pub fn arb_unknown_field() -> impl Strategy<Value = Vec<u8>> {
        let value = prop_oneof![
            any::<u64>().prop_map(|v| (VARINT, {
                let mut b = Vec::new();
                put_varint(&mut b, v);
                b
            })),
            any::<u64>().prop_map(|v| (FIXED64, v.to_le_bytes().to_vec())),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(|payload| {
                let mut b = Vec::new();
                put_varint(&mut b, payload.len() as u64);
                b.extend_from_slice(&payload);
                (LEN, b)
            }),
            any::<u32>().prop_map(|v| (FIXED32, v.to_le_bytes().to_vec())),
        ];
        (arb_unknown_field_number(), value).prop_map(|(number, (wire_type, body))| {
            let mut out = Vec::new();
            put_key(&mut out, number, wire_type);
            out.extend_from_slice(&body);
            out
        })
    }

    /// One to three unknown fields, concatenated.
    pub fn arb_unknown_fields() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(arb_unknown_field(), 1..4).prop_map(|fields| fields.concat())
    }

    /// An edit of an encoding, for mutation testing: overwrite, insert or remove one byte at an
    /// index (taken modulo the length).
    #[derive(Clone, Copy, Debug)]
    pub enum Edit {
        /// Replace the byte at the index.
        Set(prop::sample::Index, u8),
        /// Insert a byte before the index.
        Insert(prop::sample::Index, u8),
        /// Remove the byte at the index.
        Remove(prop::sample::Index),
    }

    /// One to four random edits.
    pub fn arb_edits() -> impl Strategy<Value = Vec<Edit>> {
        let edit = prop_oneof![
            3 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
            1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
            1 => any::<prop::sample::Index>().prop_map(Edit::Remove),
        ];
        proptest::collection::vec(edit, 1..5)
    }

    /// Applies `edits` to `bytes` in order.
    pub fn apply_edits(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
        for edit in edits {
            match *edit {
                Edit::Set(i, b) if !bytes.is_empty() => {
                    let i = i.index(bytes.len());
                    bytes[i] = b;
                }
                Edit::Insert(i, b) => {
                    let i = i.index(bytes.len() + 1);
                    bytes.insert(i, b);
                }
                Edit::Remove(i) if !bytes.is_empty() => {
                    let i = i.index(bytes.len());
                    bytes.remove(i);
                }
                _ => {}
            }
        }
        bytes
    }

    /// Inserts `fields` (whole encoded fields) into the encoding `bytes` at one of its top-level
    /// field boundaries, chosen by `at`: the result decodes like `bytes` plus those fields.
    pub fn splice_at_boundary(
        mut bytes: Vec<u8>,
        fields: &[u8],
        at: prop::sample::Index,
    ) -> Vec<u8> {
        let boundaries = field_boundaries(&bytes);
        let pos = boundaries[at.index(boundaries.len())];
        bytes.splice(pos..pos, fields.iter().copied());
        bytes
    }

    fn varint_len(value: usize) -> usize {
        let mut out = Vec::new();
        put_varint(&mut out, value as u64);
        out.len()
    }

    /// The encoding of an `AnyValue` nesting `depth` key-value lists (`kvlist: true`: each level is
    /// `AnyValue.kvlist_value -> KeyValueList.values -> KeyValue.value`, three messages) or arrays
    /// (`kvlist: false`: `AnyValue.array_value -> ArrayValue.values`, two messages), with an
    /// empty `AnyValue` at the bottom. Built in linear time, so depths of millions are cheap.
    pub fn nested_any_value(depth: usize, kvlist: bool) -> Vec<u8> {
        // Lengths of the innermost levels first: sizes[k] is the length of the AnyValue that
        // holds k levels. Then write from the outside in.
        let mut sizes = vec![0_usize];
        let mut inner_sizes = Vec::with_capacity(depth);
        for k in 1..=depth {
            let below = sizes[k - 1];
            if kvlist {
                let kv = 3 + 1 + varint_len(below) + below; // key "k", then value
                let list = 1 + varint_len(kv) + kv;
                inner_sizes.push((kv, list));
                sizes.push(1 + varint_len(list) + list);
            } else {
                let array = 1 + varint_len(below) + below;
                inner_sizes.push((array, 0));
                sizes.push(1 + varint_len(array) + array);
            }
        }
        let mut out = Vec::with_capacity(sizes[depth]);
        for k in (1..=depth).rev() {
            let (first, second) = inner_sizes[k - 1];
            if kvlist {
                put_key(&mut out, 6, LEN); // AnyValue.kvlist_value
                put_varint(&mut out, second as u64);
                put_key(&mut out, 1, LEN); // KeyValueList.values
                put_varint(&mut out, first as u64);
                put_len_field(&mut out, 1, b"k"); // KeyValue.key
                put_key(&mut out, 2, LEN); // KeyValue.value
                put_varint(&mut out, sizes[k - 1] as u64);
            } else {
                put_key(&mut out, 5, LEN); // AnyValue.array_value
                put_varint(&mut out, first as u64);
                put_key(&mut out, 1, LEN); // ArrayValue.values
                put_varint(&mut out, sizes[k - 1] as u64);
            }
        }
        debug_assert_eq!(out.len(), sizes[depth]);
        out
    }

    /// Reads a varint at `*pos`, advancing it; `None` when the varint is cut or too long.
    pub fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
        let mut value = 0_u64;
        for shift in (0..70).step_by(7) {
            let byte = *bytes.get(*pos)?;
            *pos += 1;
            if shift == 63 && byte > 1 {
                return None;
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }

    /// The offsets where the top-level fields of a valid encoding start, plus its length: the
    /// only places where cutting the encoding leaves a valid message. Groups are not supported
    /// (proto3 never writes them). Panics on an invalid encoding, which is a test bug.
    pub fn field_boundaries(bytes: &[u8]) -> Vec<usize> {
        let mut boundaries = vec![0];
        let mut pos = 0;
        while pos < bytes.len() {
            let key = read_varint(bytes, &mut pos).expect("valid key");
            let skip = match (key & 7) as u8 {
                VARINT => {
                    read_varint(bytes, &mut pos).expect("valid varint");
                    0
                }
                FIXED64 => 8,
                LEN => read_varint(bytes, &mut pos).expect("valid length") as usize,
                FIXED32 => 4,
                other => panic!("unexpected wire type {other}"),
            };
            pos += skip;
            assert!(pos <= bytes.len(), "field runs past the end");
            boundaries.push(pos);
        }
        boundaries
    }
}
