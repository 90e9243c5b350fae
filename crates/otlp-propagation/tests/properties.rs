//! Property tests across the whole crate: any carrier content extracts without panicking, and
//! every format carries a span context (and baggage) through inject → extract unchanged.

// Test helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use otlp_propagation::{
    B3Encoding, B3Propagator, Baggage, BaggagePropagator, Context, JaegerPropagator,
    PropagatorKind, Propagators, SamplingState, SpanContext, SpanId, TextMapPropagator,
    TraceContextPropagator, TraceFlags, TraceId, TraceState,
};
use proptest::prelude::*;

/// Every field name any propagator reads, in assorted cases.
const NAMES: &[&str] = &[
    "traceparent",
    "TraceParent",
    "tracestate",
    "TRACESTATE",
    "baggage",
    "Baggage",
    "b3",
    "B3",
    "x-b3-traceid",
    "X-B3-TraceId",
    "x-b3-spanid",
    "X-B3-SpanId",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "X-B3-Sampled",
    "x-b3-flags",
    "uber-trace-id",
    "Uber-Trace-Id",
    "uberctx-user",
    "UberCtx-Tenant",
    "uberctx-",
    "other",
];

fn all() -> Propagators {
    Propagators::from_names("tracecontext,baggage,b3,b3multi,jaeger").unwrap()
}

fn header_strategy() -> impl Strategy<Value = (String, Vec<u8>)> {
    let value = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80),
        "[0-9a-fA-F:%=,; \t-]{0,70}".prop_map(String::into_bytes),
        Just(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_vec()),
    ];
    (proptest::sample::select(NAMES), value).prop_map(|(n, v)| (n.to_owned(), v))
}

fn sampling_strategy() -> impl Strategy<Value = Option<SamplingState>> {
    prop_oneof![
        Just(None),
        Just(Some(SamplingState::Deny)),
        Just(Some(SamplingState::Accept)),
        Just(Some(SamplingState::Debug)),
    ]
}

fn context_strategy() -> impl Strategy<Value = Context> {
    (
        1..=u128::MAX,
        1..=u64::MAX,
        0u8..4,
        proptest::collection::btree_map("[a-z][a-z0-9_-]{0,8}", "[!-+\\--<>-~]{1,12}", 0..5),
        sampling_strategy(),
    )
        .prop_map(|(trace, span, flags, state, sampling)| {
            let state = TraceState::from_members(state.iter()).unwrap();
            let sc = SpanContext::new(
                TraceId::from(trace),
                SpanId::from(span),
                TraceFlags::from_u8(flags),
                false,
                state,
            );
            Context::from_span_context(sc).with_sampling(sampling)
        })
}

fn baggage_strategy() -> impl Strategy<Value = Baggage> {
    proptest::collection::btree_map("[a-z][a-z0-9._-]{0,10}", any::<String>(), 0..6).prop_map(|m| {
        let mut b = Baggage::new();
        for (k, v) in &m {
            b.insert(k, v).unwrap();
        }
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn extract_never_panics_on_arbitrary_headers(headers in proptest::collection::vec(header_strategy(), 0..12)) {
        let cx = all().extract(&headers);
        if let Some(sc) = cx.span_context() {
            prop_assert!(sc.is_valid() && sc.is_remote());
            prop_assert_eq!(sc.is_sampled(), cx.is_sampled());
        }
        // Whatever was extracted can be injected and read back.
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        all().inject(&cx.child(), &mut out);
        let again = all().extract(&out);
        prop_assert_eq!(again.span_context().is_some(), true);
        let map: HashMap<String, String> = headers
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), String::from_utf8(v.clone()).ok()?)))
            .collect();
        let _ = all().extract(&map);
    }

    #[test]
    fn tracecontext_carries_everything(cx in context_strategy()) {
        let mut out = HashMap::new();
        TraceContextPropagator::new().inject(&cx, &mut out);
        let back = TraceContextPropagator::new().extract(&out);
        let (sent, got) = (cx.span_context().unwrap(), back.span_context().unwrap());
        prop_assert_eq!(got.trace_id(), sent.trace_id());
        prop_assert_eq!(got.span_id(), sent.span_id());
        prop_assert_eq!(got.trace_flags(), sent.trace_flags());
        prop_assert_eq!(got.trace_state(), sent.trace_state());
    }

    #[test]
    fn b3_and_jaeger_carry_ids_and_sampling(cx in context_strategy()) {
        let sent = cx.span_context().unwrap();
        for encoding in [B3Encoding::Single, B3Encoding::Multi] {
            let mut out = HashMap::new();
            B3Propagator::new(encoding).inject(&cx, &mut out);
            let back = B3Propagator::new(encoding).extract(&out);
            let got = back.span_context().unwrap();
            prop_assert_eq!((got.trace_id(), got.span_id()), (sent.trace_id(), sent.span_id()));
            prop_assert_eq!(back.sampling(), cx.sampling());
        }
        let mut out = HashMap::new();
        JaegerPropagator::new().inject(&cx, &mut out);
        let back = JaegerPropagator::new().extract(&out);
        let got = back.span_context().unwrap();
        prop_assert_eq!((got.trace_id(), got.span_id()), (sent.trace_id(), sent.span_id()));
        // Jaeger has no "deferred": it becomes deny.
        prop_assert_eq!(back.sampling(), Some(cx.sampling().unwrap_or(SamplingState::Deny)));
    }

    #[test]
    fn baggage_formats_carry_values(baggage in baggage_strategy()) {
        let cx = Context::new().with_baggage(baggage.clone());
        let mut out = HashMap::new();
        BaggagePropagator::new().inject(&cx, &mut out);
        let back = BaggagePropagator::new().extract(&out);
        prop_assert_eq!(back.baggage(), &baggage);
        let mut out = HashMap::new();
        JaegerPropagator::new().inject(&cx, &mut out);
        let back = JaegerPropagator::new().extract(&out);
        for entry in baggage.iter() {
            prop_assert_eq!(back.baggage().get(entry.key()), Some(entry.value()));
        }
    }

    #[test]
    fn every_kind_round_trips_through_its_own_headers(cx in context_strategy()) {
        for kind in PropagatorKind::ALL {
            let propagator = kind.build();
            let mut out = HashMap::new();
            propagator.inject(&cx, &mut out);
            if kind == PropagatorKind::Baggage {
                prop_assert!(out.is_empty());
                continue;
            }
            let back = propagator.extract(&out);
            prop_assert_eq!(
                back.span_context().map(SpanContext::trace_id),
                cx.span_context().map(SpanContext::trace_id),
                "{}", kind
            );
        }
    }
}
