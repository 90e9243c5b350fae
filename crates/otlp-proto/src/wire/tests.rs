#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn key(number: u32, wire_type: u8) -> Vec<u8> {
    varint(u64::from(number << 3 | u32::from(wire_type)))
}

fn varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn len_field(number: u32, body: &[u8]) -> Vec<u8> {
    let mut out = key(number, 2);
    out.extend(varint(body.len() as u64));
    out.extend_from_slice(body);
    out
}

#[test]
fn empty_buffer_is_an_empty_request() {
    assert_eq!(validate(Request::Traces, &[]), Ok(Summary::default()));
}

#[test]
fn ten_byte_varints_hold_one_bit_in_the_last_byte() {
    let mut max = vec![0xff; 9];
    max.push(0x01);
    assert_eq!(Cursor { buf: &max, pos: 0 }.varint(), Ok(u64::MAX));
    let mut over = vec![0xff; 9];
    over.push(0x02);
    assert_eq!(
        Cursor { buf: &over, pos: 0 }.varint(),
        Err(WireError::Varint)
    );
    let eleven = [0x80; 11];
    assert_eq!(
        Cursor {
            buf: &eleven,
            pos: 0
        }
        .varint(),
        Err(WireError::Varint)
    );
    assert_eq!(
        Cursor {
            buf: &[0x80],
            pos: 0
        }
        .varint(),
        Err(WireError::Varint)
    );
}

#[test]
fn keys_are_checked() {
    // Field number 0, wire types 6 and 7, a key above 32 bits.
    assert_eq!(validate(Request::Logs, &[0x02, 0x00]), Err(WireError::Key));
    assert_eq!(validate(Request::Logs, &key(9, 6)), Err(WireError::Key));
    assert_eq!(validate(Request::Logs, &key(9, 7)), Err(WireError::Key));
    assert_eq!(
        validate(Request::Logs, &varint(1 << 33)),
        Err(WireError::Key)
    );
}

#[test]
fn unknown_fields_and_groups_are_skipped() {
    let mut buf = key(9, 0);
    buf.extend(varint(300));
    buf.extend(key(10, 3));
    buf.extend(key(1, 5));
    buf.extend([0; 4]);
    buf.extend(key(10, 4));
    assert_eq!(validate(Request::Traces, &buf).map(|s| s.resources), Ok(0));
    // An end group without a start, or closing another number.
    assert_eq!(validate(Request::Traces, &key(9, 4)), Err(WireError::Group));
    let mut crossed = key(10, 3);
    crossed.extend(key(11, 4));
    assert_eq!(validate(Request::Traces, &crossed), Err(WireError::Group));
}

#[test]
fn a_known_field_with_another_wire_type_is_refused() {
    // resource_spans (1) as a varint.
    let mut buf = key(1, 0);
    buf.push(1);
    assert_eq!(
        validate(Request::Traces, &buf),
        Err(WireError::WireType {
            field: 1,
            wire_type: 0
        })
    );
}

#[test]
fn spans_ids_and_strings_are_checked_and_counted() {
    let span = |trace_id: &[u8], name: &[u8]| {
        let mut span = len_field(1, trace_id);
        span.extend(len_field(5, name));
        span
    };
    let request = |spans: &[Vec<u8>]| {
        let mut scope = Vec::new();
        for s in spans {
            scope.extend(len_field(2, s));
        }
        len_field(1, &len_field(2, &scope))
    };
    let good = request(&[span(&[1; 16], b"a"), span(&[], b"b"), span(&[2; 16], b"c")]);
    assert_eq!(
        validate(Request::Traces, &good),
        Ok(Summary {
            items: 3,
            resources: 1
        })
    );
    assert_eq!(
        validate(Request::Traces, &request(&[span(&[1; 15], b"a")])),
        Err(WireError::IdLength {
            field: 1,
            length: 15,
            expected: 16
        })
    );
    assert_eq!(
        validate(Request::Traces, &request(&[span(&[1; 16], &[0xff])])),
        Err(WireError::Utf8 { field: 5 })
    );
    // Past the ASCII fast path: valid multi-byte UTF-8 passes, a cut sequence does not.
    assert!(
        validate(
            Request::Traces,
            &request(&[span(&[1; 16], "héllo ✓".as_bytes())])
        )
        .is_ok()
    );
    assert_eq!(
        validate(
            Request::Traces,
            &request(&[span(&[1; 16], &"ascii é".as_bytes()[..7])])
        ),
        Err(WireError::Utf8 { field: 5 })
    );
    let mut truncated = good.clone();
    truncated.pop();
    assert_eq!(
        validate(Request::Traces, &truncated),
        Err(WireError::Truncated)
    );
}

#[test]
fn packed_and_unpacked_numbers_are_both_accepted() {
    // HistogramDataPoint.bucket_counts (6, repeated fixed64) and explicit_bounds (7, double).
    let mut point = len_field(6, &[0; 16]);
    point.extend(key(6, 1));
    point.extend([0; 8]);
    let histogram = len_field(1, &point);
    let metric = len_field(9, &histogram);
    let request = len_field(1, &len_field(2, &len_field(2, &metric)));
    assert_eq!(validate(Request::Metrics, &request).map(|s| s.items), Ok(1));
    let bad = len_field(6, &[0; 12]);
    let request = len_field(
        1,
        &len_field(2, &len_field(2, &len_field(9, &len_field(1, &bad)))),
    );
    assert_eq!(
        validate(Request::Metrics, &request),
        Err(WireError::Packed { field: 6 })
    );
}

#[test]
fn a_oneof_keeps_the_items_of_its_last_member() {
    let points = |n: usize| {
        let mut data = Vec::new();
        for _ in 0..n {
            data.extend(len_field(1, &[]));
        }
        data
    };
    // Metric.gauge (5) with 2 points, then Metric.sum (7) with 1: decoding keeps the sum.
    let mut metric = len_field(5, &points(2));
    metric.extend(len_field(7, &points(1)));
    let request = len_field(1, &len_field(2, &len_field(2, &metric)));
    assert_eq!(validate(Request::Metrics, &request).map(|s| s.items), Ok(1));
    // The same member twice is merged.
    let mut metric = len_field(5, &points(2));
    metric.extend(len_field(5, &points(3)));
    let request = len_field(1, &len_field(2, &len_field(2, &metric)));
    assert_eq!(validate(Request::Metrics, &request).map(|s| s.items), Ok(5));
}
