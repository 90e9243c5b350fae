//! Our decoders never panic, whatever the bytes, and fail fast and small on hostile input.
//!
//! A receiver decodes bytes from the network, so every message type of the four signals must
//! turn any input into `Ok` or `Err`, never a panic, an abort or an allocation the input did not
//! pay for. The properties:
//!
//! - random bytes, protobuf-shaped random fields (valid keys and lengths, nested up to four
//!   levels, wrong wire types and invalid UTF-8 included) and valid encodings with a few bytes
//!   changed, inserted or removed, decoded as every message type (requests, responses, the
//!   `*Data` messages and the nested types) with `decode` and `decode_length_delimited`: no
//!   panic, and whatever is accepted re-encodes to bytes that decode to the same message;
//! - every prefix of a valid encoding decodes successfully exactly when the cut falls between
//!   two top-level fields; a cut anywhere inside a field (in particular inside a length-delimited
//!   one) is an error;
//! - a length prefix claiming 2^31 bytes (or 2^32, 2^63, 2^64 - 1) is rejected at once, without
//!   allocating for it: a counting allocator measures what the decoding thread allocates;
//! - nesting beyond prost's recursion limit (100 messages) is an error, not a stack overflow,
//!   even 100 000 levels deep on a thread with a 256 KiB stack.

// A counting global allocator needs `unsafe impl GlobalAlloc`; it only forwards to `System`.
#![allow(unsafe_code)]

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use otlp_proto::collector::logs::v1 as logs_collector;
use otlp_proto::collector::metrics::v1 as metrics_collector;
use otlp_proto::collector::profiles::v1development as profiles_collector;
use otlp_proto::collector::trace::v1 as trace_collector;
use otlp_proto::common::v1 as common;
use otlp_proto::logs::v1 as logs;
use otlp_proto::metrics::v1 as metrics;
use otlp_proto::profiles::v1development as profiles;
use otlp_proto::resource::v1 as resource;
use otlp_proto::trace::v1 as trace;
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message;
use support::wire::{self, LEN, put_key, put_varint};
use support::*;

// ---------------------------------------------------------------------------------------------
// Counting what the current thread allocates.
// ---------------------------------------------------------------------------------------------

struct CountingAllocator;

thread_local! {
    /// Bytes this thread has asked the allocator for (reallocations count their new size).
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    // `try_with`: the thread-local may be gone while a thread shuts down. It is a `const`
    // `Cell` without a destructor, so reading it never allocates.
    let _ = ALLOCATED.try_with(|a| a.set(a.get().saturating_add(bytes)));
}

// SAFETY: every method forwards to `System` with the same arguments; counting has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f`, returning its result, the bytes the current thread allocated meanwhile, and the time
/// it took.
fn measure<R>(f: impl FnOnce() -> R) -> (R, usize, Duration) {
    let before = ALLOCATED.with(Cell::get);
    let start = Instant::now();
    let result = f();
    let elapsed = start.elapsed();
    (result, ALLOCATED.with(Cell::get) - before, elapsed)
}

// ---------------------------------------------------------------------------------------------
// Decoding as every type.
// ---------------------------------------------------------------------------------------------

/// Decodes `bytes` as `M`, both as a whole and length-delimited. Whatever is accepted must
/// re-encode to bytes that decode to the same message (compared by encoding, NaN-safe).
fn decode_as<M: Message + Default + Debug>(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(message) = M::decode(bytes) {
        let encoded = message.encode_to_vec();
        prop_assert_eq!(encoded.len(), message.encoded_len());
        let again = M::decode(encoded.as_slice()).map_err(|e| {
            TestCaseError::fail(format!("re-encoding of accepted input fails: {e}"))
        })?;
        prop_assert_eq!(
            again.encode_to_vec(),
            encoded,
            "decoding is not idempotent: {:?}",
            message
        );
    }
    let _ = M::decode_length_delimited(bytes);
    Ok(())
}

macro_rules! decode_as_each {
    ($bytes:expr; $($ty:ty),* $(,)?) => {
        $( decode_as::<$ty>($bytes)?; )*
    };
}

/// Decodes `bytes` as every OTLP message type.
fn decode_as_every_type(bytes: &[u8]) -> Result<(), TestCaseError> {
    decode_as_each!(bytes;
        // Requests and responses.
        trace_collector::ExportTraceServiceRequest,
        trace_collector::ExportTraceServiceResponse,
        trace_collector::ExportTracePartialSuccess,
        metrics_collector::ExportMetricsServiceRequest,
        metrics_collector::ExportMetricsServiceResponse,
        metrics_collector::ExportMetricsPartialSuccess,
        logs_collector::ExportLogsServiceRequest,
        logs_collector::ExportLogsServiceResponse,
        logs_collector::ExportLogsPartialSuccess,
        profiles_collector::ExportProfilesServiceRequest,
        profiles_collector::ExportProfilesServiceResponse,
        profiles_collector::ExportProfilesPartialSuccess,
        // Common and resource.
        common::AnyValue,
        common::ArrayValue,
        common::KeyValueList,
        common::KeyValue,
        common::InstrumentationScope,
        common::EntityRef,
        resource::Resource,
        // Trace.
        trace::TracesData,
        trace::ResourceSpans,
        trace::ScopeSpans,
        trace::Span,
        trace::span::Event,
        trace::span::Link,
        trace::Status,
        // Metrics.
        metrics::MetricsData,
        metrics::ResourceMetrics,
        metrics::ScopeMetrics,
        metrics::Metric,
        metrics::Gauge,
        metrics::Sum,
        metrics::Histogram,
        metrics::ExponentialHistogram,
        metrics::Summary,
        metrics::NumberDataPoint,
        metrics::HistogramDataPoint,
        metrics::ExponentialHistogramDataPoint,
        metrics::exponential_histogram_data_point::Buckets,
        metrics::SummaryDataPoint,
        metrics::summary_data_point::ValueAtQuantile,
        metrics::Exemplar,
        // Logs.
        logs::LogsData,
        logs::ResourceLogs,
        logs::ScopeLogs,
        logs::LogRecord,
        // Profiles.
        profiles::ProfilesData,
        profiles::ProfilesDictionary,
        profiles::ResourceProfiles,
        profiles::ScopeProfiles,
        profiles::Profile,
        profiles::Sample,
        profiles::ValueType,
        profiles::Mapping,
        profiles::Location,
        profiles::Line,
        profiles::Function,
        profiles::Link,
        profiles::Stack,
        profiles::KeyValueAndUnit,
    );
    Ok(())
}

/// Protobuf-shaped garbage: fields with valid keys (numbers 1..20, so mostly known ones, with
/// any wire type) and consistent lengths, length-delimited payloads nesting further fields up to
/// four levels deep, plus raw junk bytes here and there.
fn arb_protobuf_shaped() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        (1_u32..20, any::<u64>()).prop_map(|(n, v)| {
            let mut b = Vec::new();
            put_key(&mut b, n, wire::VARINT);
            put_varint(&mut b, v);
            b
        }),
        (1_u32..20, any::<u64>()).prop_map(|(n, v)| {
            let mut b = Vec::new();
            put_key(&mut b, n, wire::FIXED64);
            b.extend(v.to_le_bytes());
            b
        }),
        (1_u32..20, any::<u32>()).prop_map(|(n, v)| {
            let mut b = Vec::new();
            put_key(&mut b, n, wire::FIXED32);
            b.extend(v.to_le_bytes());
            b
        }),
        (
            1_u32..20,
            prop_oneof![arb_string().prop_map(String::into_bytes), arb_bytes(12)]
        )
            .prop_map(|(n, payload)| wire::len_field(n, &payload)),
        arb_bytes(4),
    ];
    let nested = field.prop_recursive(4, 64, 4, |inner| {
        (1_u32..20, vec(inner, 0..4)).prop_map(|(n, fields)| wire::len_field(n, &fields.concat()))
    });
    vec(nested, 0..6).prop_map(|fields| fields.concat())
}

proptest! {
    #![proptest_config(support::config())]

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        decode_as_every_type(&bytes)?;
    }

    #[test]
    fn protobuf_shaped_garbage_never_panics(bytes in arb_protobuf_shaped()) {
        decode_as_every_type(&bytes)?;
    }

    #[test]
    fn mutated_trace_requests_never_panic(
        m in arb_export_trace_request(),
        edits in wire::arb_edits(),
    ) {
        decode_as_every_type(&wire::apply_edits(m.encode_to_vec(), &edits))?;
    }

    #[test]
    fn mutated_metrics_requests_never_panic(
        m in arb_export_metrics_request(),
        edits in wire::arb_edits(),
    ) {
        decode_as_every_type(&wire::apply_edits(m.encode_to_vec(), &edits))?;
    }

    #[test]
    fn mutated_logs_requests_never_panic(
        m in arb_export_logs_request(),
        edits in wire::arb_edits(),
    ) {
        decode_as_every_type(&wire::apply_edits(m.encode_to_vec(), &edits))?;
    }

    #[test]
    fn mutated_profiles_requests_never_panic(
        m in arb_export_profiles_request(),
        edits in wire::arb_edits(),
    ) {
        decode_as_every_type(&wire::apply_edits(m.encode_to_vec(), &edits))?;
    }

    #[test]
    fn mutated_responses_never_panic(
        t in arb_export_trace_response(),
        m in arb_export_metrics_response(),
        l in arb_export_logs_response(),
        p in arb_export_profiles_response(),
        edits in wire::arb_edits(),
    ) {
        for bytes in [t.encode_to_vec(), m.encode_to_vec(), l.encode_to_vec(), p.encode_to_vec()] {
            decode_as_every_type(&wire::apply_edits(bytes, &edits))?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Truncation.
// ---------------------------------------------------------------------------------------------

/// Every prefix of `message`'s encoding decodes successfully exactly when it ends between two
/// top-level fields.
fn check_truncations<M: Message + Default>(message: &M) -> Result<(), TestCaseError> {
    let bytes = message.encode_to_vec();
    let boundaries = wire::field_boundaries(&bytes);
    for cut in 0..=bytes.len() {
        let accepted = M::decode(&bytes[..cut]).is_ok();
        let at_boundary = boundaries.binary_search(&cut).is_ok();
        prop_assert_eq!(
            accepted,
            at_boundary,
            "cut at {} of {} (field boundaries {:?})",
            cut,
            bytes.len(),
            boundaries
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(support::config())]

    #[test]
    fn truncated_trace_requests_fail_unless_cut_between_fields(
        m in arb_export_trace_request(),
    ) {
        check_truncations(&m)?;
    }

    #[test]
    fn truncated_metrics_requests_fail_unless_cut_between_fields(
        m in arb_export_metrics_request(),
    ) {
        check_truncations(&m)?;
    }

    #[test]
    fn truncated_logs_requests_fail_unless_cut_between_fields(
        m in arb_export_logs_request(),
    ) {
        check_truncations(&m)?;
    }

    #[test]
    fn truncated_profiles_requests_fail_unless_cut_between_fields(
        m in arb_export_profiles_request(),
    ) {
        check_truncations(&m)?;
    }

    #[test]
    fn truncated_responses_fail_unless_cut_between_fields(
        t in arb_export_trace_response(),
        m in arb_export_metrics_response(),
        l in arb_export_logs_response(),
        p in arb_export_profiles_response(),
    ) {
        check_truncations(&t)?;
        check_truncations(&m)?;
        check_truncations(&l)?;
        check_truncations(&p)?;
    }

    /// Nested types have many scalar fields, hence many boundaries.
    #[test]
    fn truncated_nested_messages_fail_unless_cut_between_fields(
        span in arb_span(),
        point in arb_exponential_histogram_data_point(),
        record in arb_log_record(),
        profile in arb_profile(),
    ) {
        check_truncations(&span)?;
        check_truncations(&point)?;
        check_truncations(&record)?;
        check_truncations(&profile)?;
    }
}

/// A request whose only top-level field is one `ResourceSpans`: every cut but the empty one
/// falls inside that length-delimited field, so every non-empty proper prefix is an error;
/// among them the cut in the middle of the span's name.
#[test]
fn a_cut_inside_a_length_delimited_field_is_an_error() {
    let request = trace_collector::ExportTraceServiceRequest {
        resource_spans: vec![trace::ResourceSpans {
            scope_spans: vec![trace::ScopeSpans {
                spans: vec![trace::Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: "checkout".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let bytes = request.encode_to_vec();
    assert_eq!(wire::field_boundaries(&bytes), [0, bytes.len()]);
    assert!(trace_collector::ExportTraceServiceRequest::decode(&[][..]).is_ok());
    for cut in 1..bytes.len() {
        let result = trace_collector::ExportTraceServiceRequest::decode(&bytes[..cut]);
        assert!(
            result.is_err(),
            "a cut at {cut} of {} was accepted",
            bytes.len()
        );
    }
    let name_at = bytes
        .windows(8)
        .position(|w| w == b"checkout")
        .expect("name is in the bytes");
    let error = trace_collector::ExportTraceServiceRequest::decode(&bytes[..name_at + 4])
        .expect_err("cut in the middle of the name");
    assert!(error.to_string().contains("buffer underflow"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Huge length prefixes.
// ---------------------------------------------------------------------------------------------

/// Lengths no input of ours will ever carry.
const HUGE_LENGTHS: [u64; 5] = [1 << 31, (1 << 32) + 5, 1 << 62, 1 << 63, u64::MAX];

/// At most this much may be allocated while rejecting a bogus length.
const SMALL_ALLOCATION: usize = 4096;

/// `prefix` (complete fields), then field `number` as length-delimited with a bogus `length`
/// and a few real bytes after it.
fn with_bogus_length(prefix: &[u8], number: u32, length: u64) -> Vec<u8> {
    let mut bytes = prefix.to_vec();
    put_key(&mut bytes, number, LEN);
    put_varint(&mut bytes, length);
    bytes.extend_from_slice(b"\x0a\x02hi\x10\x01");
    bytes
}

fn assert_rejected_small_and_fast<M: Message + Default>(what: &str, bytes: &[u8]) {
    let (result, allocated, elapsed) = measure(|| M::decode(bytes));
    let error = match result {
        Ok(_) => panic!("{what}: a bogus length was accepted"),
        Err(e) => e,
    };
    assert!(
        allocated <= SMALL_ALLOCATION,
        "{what}: {allocated} bytes allocated to reject {} input bytes ({error})",
        bytes.len()
    );
    assert!(
        elapsed < Duration::from_millis(100),
        "{what}: took {elapsed:?}"
    );
}

/// The counter sees allocations (so the bound below is not met vacuously).
#[test]
fn the_allocation_counter_counts() {
    let (_, allocated, _) = measure(|| std::hint::black_box(vec![0_u8; 1 << 20]));
    assert!(allocated >= 1 << 20, "{allocated}");
    let string = wire::len_field(5, &[b'x'; 10_000]);
    let (span, allocated, _) = measure(|| trace::Span::decode(string.as_slice()));
    assert_eq!(span.map(|s| s.name.len()).ok(), Some(10_000));
    assert!(allocated >= 10_000, "{allocated}");
}

#[test]
fn huge_length_prefixes_fail_fast_without_allocating() {
    let span = trace::Span {
        name: "ok".into(),
        ..Default::default()
    }
    .encode_to_vec();
    for length in HUGE_LENGTHS {
        let case = |what: &str| format!("{what}, length {length}");

        // Top level: a request's only field.
        let bytes = with_bogus_length(&[], 1, length);
        assert_rejected_small_and_fast::<trace_collector::ExportTraceServiceRequest>(
            &case("trace request"),
            &bytes,
        );
        assert_rejected_small_and_fast::<metrics_collector::ExportMetricsServiceRequest>(
            &case("metrics request"),
            &bytes,
        );
        assert_rejected_small_and_fast::<logs_collector::ExportLogsServiceRequest>(
            &case("logs request"),
            &bytes,
        );
        assert_rejected_small_and_fast::<profiles_collector::ExportProfilesServiceRequest>(
            &case("profiles request"),
            &bytes,
        );
        assert_rejected_small_and_fast::<trace_collector::ExportTraceServiceResponse>(
            &case("trace response"),
            &bytes,
        );

        // Nested: request > ResourceSpans > ScopeSpans > Span > name (string).
        let inner = with_bogus_length(&span, 5, length);
        let nested = wire::len_field(1, &wire::len_field(2, &wire::len_field(2, &inner)));
        assert_rejected_small_and_fast::<trace_collector::ExportTraceServiceRequest>(
            &case("span name"),
            &nested,
        );

        // Bytes fields, repeated strings, packed repeated scalars of every width.
        assert_rejected_small_and_fast::<trace::Span>(
            &case("trace_id (bytes)"),
            &with_bogus_length(&span, 1, length),
        );
        assert_rejected_small_and_fast::<profiles::ProfilesDictionary>(
            &case("string_table"),
            &with_bogus_length(&[], 5, length),
        );
        assert_rejected_small_and_fast::<metrics::HistogramDataPoint>(
            &case("bucket_counts (packed fixed64)"),
            &with_bogus_length(&[], 6, length),
        );
        assert_rejected_small_and_fast::<metrics::HistogramDataPoint>(
            &case("explicit_bounds (packed double)"),
            &with_bogus_length(&[], 7, length),
        );
        assert_rejected_small_and_fast::<metrics::exponential_histogram_data_point::Buckets>(
            &case("bucket_counts (packed uint64)"),
            &with_bogus_length(&[], 2, length),
        );
        assert_rejected_small_and_fast::<profiles::Profile>(
            &case("attribute_indices (packed int32)"),
            &with_bogus_length(&[], 11, length),
        );
        assert_rejected_small_and_fast::<profiles::Sample>(
            &case("timestamps (packed fixed64)"),
            &with_bogus_length(&[], 5, length),
        );
        assert_rejected_small_and_fast::<common::AnyValue>(
            &case("bytes_value (oneof)"),
            &with_bogus_length(&[], 7, length),
        );

        // An unknown field: skipping it must not trust the length either.
        assert_rejected_small_and_fast::<trace::Span>(
            &case("unknown field"),
            &with_bogus_length(&span, 1000, length),
        );
    }
}

/// The length itself malformed: a varint of more than ten bytes, or cut short.
#[test]
fn malformed_length_varints_are_errors() {
    let mut too_long = vec![0x0a];
    too_long.extend([0xff; 10]);
    too_long.push(0x01);
    let cut_short = [0x0a, 0xff, 0xff];
    for bytes in [&too_long[..], &cut_short[..]] {
        assert_rejected_small_and_fast::<trace_collector::ExportTraceServiceRequest>(
            "varint", bytes,
        );
    }
}

/// Invalid UTF-8 in a string and a wire type that does not match the field are errors.
#[test]
fn invalid_strings_and_wire_types_are_errors() {
    let bad_utf8 = wire::len_field(5, b"check\xffout");
    let error = trace::Span::decode(bad_utf8.as_slice()).expect_err("invalid UTF-8");
    assert!(error.to_string().contains("UTF-8"), "{error}");

    let mut varint_name = Vec::new();
    put_key(&mut varint_name, 5, wire::VARINT);
    put_varint(&mut varint_name, 1);
    let error = trace::Span::decode(varint_name.as_slice()).expect_err("wrong wire type");
    assert!(error.to_string().contains("wire type"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Deep nesting.
// ---------------------------------------------------------------------------------------------

fn assert_recursion_limit(what: &str, result: Result<impl Debug, prost::DecodeError>) {
    match result {
        Ok(_) => panic!("{what}: accepted"),
        Err(e) => assert!(e.to_string().contains("recursion limit"), "{what}: {e}"),
    }
}

/// 200 levels of key-value lists inside an `AnyValue`, alone and as a log body: the recursion
/// limit stops the decoder with an error.
#[test]
fn deep_key_value_lists_hit_the_recursion_limit() {
    let deep = wire::nested_any_value(200, true);
    assert_recursion_limit("AnyValue", common::AnyValue::decode(deep.as_slice()));

    let record = wire::len_field(5, &deep); // LogRecord.body
    let request = wire::len_field(1, &wire::len_field(2, &wire::len_field(2, &record)));
    assert_recursion_limit(
        "logs request",
        logs_collector::ExportLogsServiceRequest::decode(request.as_slice()),
    );
}

/// The exact depths accepted, which bound what a sender may nest: prost's limit is 100 nested
/// messages. A key-value list level is three messages (AnyValue > KeyValueList > KeyValue), an
/// array level two (AnyValue > ArrayValue). A change here means prost changed its limit, or
/// some crate in the build enabled prost's `no-recursion-limit` feature (features unify).
#[test]
fn the_nesting_limit_is_prosts() {
    let accepted = |depth, kvlist| {
        common::AnyValue::decode(wire::nested_any_value(depth, kvlist).as_slice()).is_ok()
    };
    assert!(
        accepted(33, true) && !accepted(34, true),
        "kvlist levels accepted changed"
    );
    assert!(
        accepted(50, false) && !accepted(51, false),
        "array levels accepted changed"
    );

    // In a logs request the body starts four messages down (ResourceLogs > ScopeLogs >
    // LogRecord > AnyValue).
    let in_request = |depth| {
        let record = wire::len_field(5, &wire::nested_any_value(depth, true));
        let request = wire::len_field(1, &wire::len_field(2, &wire::len_field(2, &record)));
        logs_collector::ExportLogsServiceRequest::decode(request.as_slice()).is_ok()
    };
    assert!(
        in_request(32) && !in_request(33),
        "kvlist levels accepted in a log body changed"
    );
}

/// 100 000 levels (1.5 MB of key-value lists, 0.8 MB of arrays) on a thread with a 256 KiB
/// stack: still a clean error.
/// Without the recursion limit this would overflow the stack and abort the test binary.
#[test]
fn very_deep_nesting_does_not_overflow_a_small_stack() {
    let kvlists = wire::nested_any_value(100_000, true);
    let arrays = wire::nested_any_value(100_000, false);
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            assert_recursion_limit("kvlists", common::AnyValue::decode(kvlists.as_slice()));
            assert_recursion_limit("arrays", common::AnyValue::decode(arrays.as_slice()));
            assert_recursion_limit(
                "as a log record",
                logs::LogRecord::decode(
                    wire::len_field(5, &wire::nested_any_value(100_000, true)).as_slice(),
                ),
            );
        })
        .expect("spawn a thread");
    handle.join().expect("no panic on the small stack");
}
