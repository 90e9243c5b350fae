//! The receiver's two ways of checking a protobuf request agree: decoding it (prost, then the
//! id check) and walking its bytes (`otlp_proto::wire::validate`, used when the pipeline only
//! forwards bytes). Same verdict, same item and resource counts, and through
//! `receive_request_charged` the same error message, on random requests of every signal
//! (with hostile ids, enums and strings) under random byte mutations, and at the recursion
//! limit's exact boundary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../otlp-proto/tests/support/mod.rs"]
mod support;

use bytes::Bytes;
use otlp_proto::Message as _;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_transport::Signal;
use otlp_transport::server::{
    DecodeMode, Limits, ReceivedRequest, decode_request, receive_request_charged,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree as _;

const LIMITS: Limits = Limits::uniform(64 << 20);

/// Compares the two paths on `body`; returns whether it was valid.
fn compare(signal: Signal, body: &[u8]) -> bool {
    let decoded = decode_request(
        signal,
        "application/x-protobuf",
        None,
        Bytes::copy_from_slice(body),
        &LIMITS,
    );
    let walked = otlp_proto::wire::validate(signal.wire_request(), body);
    match (&decoded, &walked) {
        (Ok(decoded), Ok(summary)) => {
            assert_eq!(decoded.request.item_count(), summary.items, "items");
            assert_eq!(
                decoded.request.is_empty(),
                summary.resources == 0,
                "emptiness"
            );
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(error)) => panic!("the walk refuses ({error}) what decoding accepts"),
        (Err(error), Ok(_)) => panic!("the walk accepts what decoding refuses ({error})"),
    }
    let received = receive_request_charged(
        signal,
        "application/x-protobuf",
        None,
        Bytes::copy_from_slice(body),
        &LIMITS,
        &mut |_| Ok(()),
        DecodeMode::Validate,
    );
    match (&decoded, received) {
        (Ok(_), Ok(ReceivedRequest::Validated(validated))) => {
            assert_eq!(&validated.protobuf[..], body);
        }
        (Ok(_), Ok(ReceivedRequest::Decoded(_))) => panic!("a valid body was decoded"),
        (Err(expected), Err(got)) => assert_eq!(expected.to_string(), got.to_string()),
        (Ok(_), Err(error)) => panic!("validate mode refuses ({error}) a valid body"),
        (Err(error), Ok(_)) => panic!("validate mode accepts an invalid body ({error})"),
    }
    decoded.is_ok()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Duplicate(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<Index>(), 1usize..8).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<Index>(), 1usize..24).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
    ]
}

fn mutate(mut body: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        if body.is_empty() {
            break;
        }
        match mutation {
            Mutation::Flip(at, bit) => {
                let i = at.index(body.len());
                body[i] ^= 1 << bit;
            }
            Mutation::Truncate(at) => body.truncate(at.index(body.len())),
            Mutation::Insert(at, bytes) => {
                let i = at.index(body.len() + 1);
                body.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete(at, n) => {
                let i = at.index(body.len());
                let end = (i + n).min(body.len());
                body.drain(i..end);
            }
            Mutation::Duplicate(at, n) => {
                let i = at.index(body.len());
                let end = (i + n).min(body.len());
                let copy = body[i..end].to_vec();
                body.splice(i..i, copy);
            }
        }
    }
    body
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn traces_agree(request in support::arb_export_trace_request(), mutations in prop::collection::vec(mutation(), 0..4)) {
        compare(Signal::Traces, &mutate(request.encode_to_vec(), &mutations));
    }

    #[test]
    fn metrics_agree(request in support::arb_export_metrics_request(), mutations in prop::collection::vec(mutation(), 0..4)) {
        compare(Signal::Metrics, &mutate(request.encode_to_vec(), &mutations));
    }

    #[test]
    fn logs_agree(request in support::arb_export_logs_request(), mutations in prop::collection::vec(mutation(), 0..4)) {
        compare(Signal::Logs, &mutate(request.encode_to_vec(), &mutations));
    }

    #[test]
    fn profiles_agree(request in support::arb_export_profiles_request(), mutations in prop::collection::vec(mutation(), 0..4)) {
        compare(Signal::Profiles, &mutate(request.encode_to_vec(), &mutations));
    }

    #[test]
    fn arbitrary_bytes_agree(signal in prop::sample::select(Signal::ALL.to_vec()), body in prop::collection::vec(any::<u8>(), 0..256)) {
        compare(signal, &body);
    }
}

#[test]
fn unmutated_requests_are_valid_when_their_ids_are() {
    // Most generated requests are valid (ids of a wrong length make some of them not): both
    // sides must see many valid ones, or the properties above would compare refusals only.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut valid = 0;
    for _ in 0..200 {
        let request = support::arb_export_trace_request()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        valid += usize::from(compare(Signal::Traces, &request.encode_to_vec()));
    }
    assert!(
        valid > 20,
        "only {valid} of 200 generated requests were valid"
    );
}

/// A logs request whose one record's body nests `levels` array (or key-value list) values.
fn nested_log_body(levels: usize, kvlist: bool) -> Vec<u8> {
    let mut value = AnyValue {
        value: Some(any_value::Value::IntValue(7)),
    };
    for _ in 0..levels {
        value = AnyValue {
            value: Some(if kvlist {
                any_value::Value::KvlistValue(KeyValueList {
                    values: vec![KeyValue {
                        key: "k".into(),
                        value: Some(value),
                        ..Default::default()
                    }],
                })
            } else {
                any_value::Value::ArrayValue(ArrayValue {
                    values: vec![value],
                })
            }),
        };
    }
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: Some(value),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[test]
fn the_recursion_limit_is_the_same() {
    for kvlist in [false, true] {
        let mut verdicts = Vec::new();
        for levels in 25..60 {
            verdicts.push(compare(Signal::Logs, &nested_log_body(levels, kvlist)));
        }
        // Both verdicts occur: the boundary is inside the range.
        assert!(
            verdicts.contains(&true) && verdicts.contains(&false),
            "{verdicts:?}"
        );
    }
}

#[test]
fn unknown_groups_at_the_recursion_limit_are_the_same() {
    for depth in 95..105 {
        // An unknown field 15 of the request holding `depth` nested groups.
        let mut body = Vec::new();
        for _ in 0..depth {
            body.push(15 << 3 | 3);
        }
        for _ in 0..depth {
            body.push(15 << 3 | 4);
        }
        compare(Signal::Traces, &body);
    }
}

/// Every single-byte change of a few valid requests of each signal: bit 7 flipped (turns
/// ASCII into invalid UTF-8, a length into another), bit 0 flipped (keys, wire types, ids),
/// and every truncation. Exhaustive over positions, so a missed check cannot hide behind
/// the odds of a random mutation landing on it.
#[test]
fn every_single_byte_change_agrees() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut bodies: Vec<(Signal, Vec<u8>)> = Vec::new();
    while bodies.len() < 12 {
        let signal = Signal::ALL[bodies.len() % 4];
        let body = match signal {
            Signal::Traces => support::arb_export_trace_request()
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .encode_to_vec(),
            Signal::Metrics => support::arb_export_metrics_request()
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .encode_to_vec(),
            Signal::Logs => support::arb_export_logs_request()
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .encode_to_vec(),
            Signal::Profiles => support::arb_export_profiles_request()
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .encode_to_vec(),
        };
        // Keep valid, non-trivial requests only.
        if body.len() > 64 && compare(signal, &body) {
            bodies.push((signal, body));
        }
    }
    let mut refused = 0usize;
    for (signal, body) in &bodies {
        for i in 0..body.len() {
            for bit in [7u8, 0] {
                let mut changed = body.clone();
                changed[i] ^= 1 << bit;
                refused += usize::from(!compare(*signal, &changed));
            }
            refused += usize::from(!compare(*signal, &body[..i]));
        }
    }
    assert!(refused > 0);
}
