//! Interop with opentelemetry-rust's propagators, header by header: inject with theirs and
//! extract with ours, and the other way round.
//!
//! Peers (dev-dependencies):
//! - `opentelemetry_sdk` 0.33: `TraceContextPropagator`, `BaggagePropagator`;
//! - `opentelemetry-zipkin` 0.33: the B3 `Propagator` (single and multi header);
//! - `opentelemetry-jaeger-propagator` 0.32, with its own `opentelemetry` 0.32 (there is no
//!   0.33 release of it).
//!
//! Known differences, asserted below rather than hidden:
//! - opentelemetry-rust keeps only the `sampled` trace flag, so the W3C Level 2 `random` flag
//!   does not survive its `TraceContextPropagator`;
//! - its B3 propagator stores "deferred" as trace flag `0x02` and "debug" as `0x04`, bits W3C
//!   assigns differently (`0x02` is `random`);
//! - its Jaeger propagator reads `uberctx-*` headers into the trace state, not into baggage;
//! - its baggage extractor cuts a value at a bare `=` (which W3C allows), so ours escapes `=`.

// Test helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The peers mark their Zipkin and Jaeger propagators deprecated (in favour of W3C); they are
// exactly what B3 and Jaeger interop is tested against.
#![allow(deprecated)]

use std::collections::HashMap;

use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::TextMapPropagator as OtelPropagator;
use opentelemetry::trace::{self as otel, TraceContextExt};
use opentelemetry_sdk::propagation::{
    BaggagePropagator as OtelBaggage, TraceContextPropagator as OtelTraceContext,
};
use otlp_propagation::{
    B3Propagator, BaggagePropagator, BaggageProperty, Context, JaegerPropagator, SamplingState,
    SpanContext, SpanId, TextMapPropagator, TraceContextPropagator, TraceFlags, TraceId,
    TraceState,
};

type Headers = HashMap<String, String>;

const TRACE: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
const SPAN: u64 = 0x00f0_67aa_0ba9_02b7;
const STATE: &[(&str, &str)] = &[("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")];

fn otel_context(flags: u8, state: &[(&str, &str)]) -> opentelemetry::Context {
    let state = otel::TraceState::from_key_value(state.iter().copied()).unwrap();
    let sc = otel::SpanContext::new(
        otel::TraceId::from(TRACE),
        otel::SpanId::from(SPAN),
        otel::TraceFlags::new(flags),
        true,
        state,
    );
    opentelemetry::Context::new().with_remote_span_context(sc)
}

fn our_context(flags: u8, state: &[(&str, &str)]) -> Context {
    Context::from_span_context(SpanContext::new(
        TraceId::from(TRACE),
        SpanId::from(SPAN),
        TraceFlags::from_u8(flags),
        false,
        TraceState::from_members(state.iter().copied()).unwrap(),
    ))
}

fn their_span_context(cx: &opentelemetry::Context) -> otel::SpanContext {
    cx.span().span_context().clone()
}

fn assert_same(ours: &SpanContext, theirs: &otel::SpanContext) {
    assert_eq!(ours.trace_id().to_bytes(), theirs.trace_id().to_bytes());
    assert_eq!(ours.span_id().to_bytes(), theirs.span_id().to_bytes());
    assert_eq!(ours.is_sampled(), theirs.is_sampled());
}

// ---- W3C Trace Context -------------------------------------------------------------------

#[test]
fn tracecontext_theirs_to_ours() {
    for flags in [0x00, 0x01] {
        for state in [&[][..], STATE] {
            let mut headers = Headers::new();
            OtelTraceContext::new().inject_context(&otel_context(flags, state), &mut headers);
            let cx = TraceContextPropagator::new().extract(&headers);
            let sc = cx.span_context().expect("valid context");
            assert_same(sc, &their_span_context(&otel_context(flags, state)));
            assert!(sc.is_remote());
            let ours: Vec<(&str, &str)> = sc.trace_state().iter().collect();
            assert_eq!(ours, state, "flags {flags:02x}");
        }
    }
}

#[test]
fn tracecontext_ours_to_theirs() {
    for flags in [0x00, 0x01, 0x03] {
        for state in [&[][..], STATE] {
            let cx = our_context(flags, state).child();
            let mut headers = Headers::new();
            TraceContextPropagator::new().inject(&cx, &mut headers);
            let theirs = their_span_context(&OtelTraceContext::new().extract(&headers));
            let ours = cx.span_context().unwrap();
            assert!(theirs.is_valid() && theirs.is_remote());
            assert_same(ours, &theirs);
            assert_eq!(
                theirs.trace_state().header(),
                ours.trace_state().to_string()
            );
            // They keep `sampled` only: the Level 2 `random` flag is dropped on their side.
            assert_eq!(theirs.trace_flags().to_u8(), flags & 0x01);
        }
    }
}

#[test]
fn tracecontext_round_trip_through_both() {
    // ours → theirs → ours keeps ids, sampling and trace state.
    let cx = our_context(0x01, STATE);
    let mut first = Headers::new();
    TraceContextPropagator::new().inject(&cx, &mut first);
    let theirs = OtelTraceContext::new().extract(&first);
    let mut second = Headers::new();
    OtelTraceContext::new().inject_context(&theirs, &mut second);
    assert_eq!(first, second);
    let back = TraceContextPropagator::new().extract(&second);
    assert_eq!(
        back.span_context().unwrap().trace_state(),
        cx.span_context().unwrap().trace_state()
    );
}

// ---- W3C Baggage ---------------------------------------------------------------------------

#[test]
fn baggage_theirs_to_ours() {
    let cx = opentelemetry::Context::new().with_baggage(vec![
        KeyValueMetadata::new("user.id", "alice smith", ""),
        KeyValueMetadata::new("tenant", "acme,corp;x=y", "internal;ttl=60"),
        KeyValueMetadata::new("city", "Zürich", ""),
        KeyValueMetadata::new("ratio", "50%", ""),
    ]);
    let mut headers = Headers::new();
    OtelBaggage::new().inject_context(&cx, &mut headers);
    let ours = BaggagePropagator::new().extract(&headers);
    let baggage = ours.baggage();
    assert_eq!(baggage.len(), 4);
    assert_eq!(baggage.get("user.id"), Some("alice smith"));
    assert_eq!(baggage.get("tenant"), Some("acme,corp;x=y"));
    assert_eq!(baggage.get("city"), Some("Zürich"));
    // They do not escape '%'; a '%' that starts no escape is kept as it is.
    assert_eq!(baggage.get("ratio"), Some("50%"));
    let props: Vec<(&str, Option<&str>)> = baggage
        .entry("tenant")
        .unwrap()
        .properties()
        .iter()
        .map(|p| (p.key(), p.value()))
        .collect();
    assert_eq!(props, [("internal", None), ("ttl", Some("60"))]);
}

#[test]
fn baggage_ours_to_theirs() {
    let mut cx = Context::new();
    let baggage = cx.baggage_mut();
    baggage.insert("user.id", "alice smith").unwrap();
    baggage
        .insert_with_properties(
            "tenant",
            "acme,corp;x=y",
            vec![
                BaggageProperty::new("internal").unwrap(),
                BaggageProperty::with_value("ttl", "60").unwrap(),
            ],
        )
        .unwrap();
    baggage.insert("city", "Zürich").unwrap();
    baggage.insert("ratio", "50%").unwrap();
    let mut headers = Headers::new();
    BaggagePropagator::new().inject(&cx, &mut headers);
    let theirs = OtelBaggage::new().extract(&headers);
    let b = theirs.baggage();
    assert_eq!(b.len(), 4);
    assert_eq!(b.get("user.id").map(|v| v.as_str()), Some("alice smith"));
    assert_eq!(b.get("city").map(|v| v.as_str()), Some("Zürich"));
    assert_eq!(b.get("ratio").map(|v| v.as_str()), Some("50%"));
    let (value, metadata) = b.get_with_metadata("tenant").unwrap();
    assert_eq!(value.as_str(), "acme,corp;x=y");
    assert_eq!(metadata.as_str(), "internal;ttl=60");
}

// ---- B3 (opentelemetry-zipkin) ---------------------------------------------------------------

const ZIPKIN_DEFERRED: u8 = 0x02;
const ZIPKIN_DEBUG: u8 = 0x04;

fn zipkin(single: bool) -> opentelemetry_zipkin::Propagator {
    opentelemetry_zipkin::Propagator::with_encoding(if single {
        opentelemetry_zipkin::B3Encoding::SingleHeader
    } else {
        opentelemetry_zipkin::B3Encoding::MultipleHeader
    })
}

fn ours_b3(single: bool) -> B3Propagator {
    if single {
        B3Propagator::single()
    } else {
        B3Propagator::multi()
    }
}

#[test]
fn b3_theirs_to_ours() {
    for single in [true, false] {
        for (their_flags, expected) in [
            (0x00, Some(SamplingState::Deny)),
            (0x01, Some(SamplingState::Accept)),
            (ZIPKIN_DEBUG | 0x01, Some(SamplingState::Debug)),
            (ZIPKIN_DEFERRED, None),
        ] {
            let mut headers = Headers::new();
            zipkin(single).inject_context(&otel_context(their_flags, &[]), &mut headers);
            let cx = ours_b3(single).extract(&headers);
            let sc = cx.span_context().unwrap_or_else(|| panic!("{headers:?}"));
            assert_eq!(sc.trace_id().to_u128(), TRACE);
            assert_eq!(sc.span_id().to_u64(), SPAN);
            assert_eq!(cx.sampling(), expected, "{headers:?}");
        }
    }
}

#[test]
fn b3_ours_to_theirs() {
    for single in [true, false] {
        for (sampling, their_flags) in [
            (Some(SamplingState::Deny), 0x00),
            (Some(SamplingState::Accept), 0x01),
            (None, ZIPKIN_DEFERRED),
        ] {
            let cx = our_context(0x01, &[]).with_sampling(sampling).child();
            let mut headers = Headers::new();
            ours_b3(single).inject(&cx, &mut headers);
            let theirs = their_span_context(&zipkin(single).extract(&headers));
            assert!(theirs.is_valid(), "{headers:?}");
            assert_same(cx.span_context().unwrap(), &theirs);
            assert_eq!(theirs.trace_flags().to_u8(), their_flags, "{headers:?}");
        }
        // Debug: they read `d` (single) or `X-B3-Flags: 1` (multi, debug implies sampled).
        let cx = our_context(0x01, &[]).with_sampling(Some(SamplingState::Debug));
        let mut headers = Headers::new();
        ours_b3(single).inject(&cx, &mut headers);
        let theirs = their_span_context(&zipkin(single).extract(&headers));
        assert_ne!(
            theirs.trace_flags().to_u8() & ZIPKIN_DEBUG,
            0,
            "{headers:?}"
        );
    }
}

#[test]
fn b3_64_bit_trace_ids() {
    let short = 0xa3ce_929d_0e0e_4736_u128;
    let cx = Context::from_span_context(SpanContext::new(
        TraceId::from(short),
        SpanId::from(SPAN),
        TraceFlags::SAMPLED,
        false,
        TraceState::new(),
    ));
    let mut headers = Headers::new();
    B3Propagator::single().inject(&cx, &mut headers);
    assert!(headers["b3"].starts_with("a3ce929d0e0e4736-"));
    let theirs = their_span_context(&zipkin(true).extract(&headers));
    assert_eq!(theirs.trace_id(), otel::TraceId::from(short));
}

// ---- Jaeger (opentelemetry-jaeger-propagator 0.32) -----------------------------------------------

mod jaeger {
    use super::*;
    use opentelemetry_0_32 as otel32;
    use opentelemetry_0_32::propagation::TextMapPropagator as _;
    use opentelemetry_0_32::trace::TraceContextExt as _;

    const THEIR_DEBUG: u8 = 0x04;

    fn their_context(flags: u8) -> otel32::Context {
        let sc = otel32::trace::SpanContext::new(
            otel32::trace::TraceId::from(TRACE),
            otel32::trace::SpanId::from(SPAN),
            otel32::trace::TraceFlags::new(flags),
            true,
            otel32::trace::TraceState::default(),
        );
        otel32::Context::new().with_remote_span_context(sc)
    }

    #[test]
    fn theirs_to_ours() {
        for (flags, expected) in [
            (0x00, SamplingState::Deny),
            (0x01, SamplingState::Accept),
            (0x01 | THEIR_DEBUG, SamplingState::Debug),
        ] {
            let mut headers = Headers::new();
            opentelemetry_jaeger_propagator::Propagator::new()
                .inject_context(&their_context(flags), &mut headers);
            let cx = JaegerPropagator::new().extract(&headers);
            let sc = cx.span_context().unwrap_or_else(|| panic!("{headers:?}"));
            assert_eq!(sc.trace_id().to_u128(), TRACE);
            assert_eq!(sc.span_id().to_u64(), SPAN);
            assert_eq!(cx.sampling(), Some(expected), "{headers:?}");
        }
    }

    #[test]
    fn ours_to_theirs() {
        for (sampling, sampled, debug) in [
            (SamplingState::Deny, false, false),
            (SamplingState::Accept, true, false),
            (SamplingState::Debug, true, true),
        ] {
            let mut cx = our_context(0x01, &[]).with_sampling(Some(sampling)).child();
            cx.baggage_mut().insert("user", "alice smith").unwrap();
            let mut headers = Headers::new();
            JaegerPropagator::new().inject(&cx, &mut headers);
            let theirs = opentelemetry_jaeger_propagator::Propagator::new().extract(&headers);
            let span = theirs.span();
            let sc = span.span_context();
            assert!(sc.is_valid(), "{headers:?}");
            assert_eq!(
                sc.trace_id().to_bytes(),
                cx.span_context().unwrap().trace_id().to_bytes()
            );
            assert_eq!(
                sc.span_id().to_bytes(),
                cx.span_context().unwrap().span_id().to_bytes()
            );
            assert_eq!(sc.is_sampled(), sampled);
            assert_eq!(sc.trace_flags().to_u8() & THEIR_DEBUG != 0, debug);
            // Their propagator files `uberctx-*` under the trace state.
            assert_eq!(sc.trace_state().get("uberctx-user"), Some("alice%20smith"));
        }
    }
}
