//! Thrift decoding and the translation on hand-made packets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::thrift::Protocol;
use super::{model, translate};

/// A compact-protocol writer, enough for the tests' packets.
struct Compact {
    out: Vec<u8>,
    last: Vec<i16>,
}

impl Compact {
    fn new() -> Compact {
        Compact {
            out: Vec::new(),
            last: vec![0],
        }
    }
    fn varint(&mut self, mut n: u64) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.out.push(b);
                return;
            }
            self.out.push(b | 0x80);
        }
    }
    fn zigzag(&mut self, n: i64) {
        self.varint(((n << 1) ^ (n >> 63)) as u64);
    }
    fn field(&mut self, id: i16, nibble: u8) {
        let last = self.last.last_mut().unwrap();
        let delta = id - *last;
        if (1..=15).contains(&delta) {
            self.out.push(((delta as u8) << 4) | nibble);
        } else {
            self.out.push(nibble);
            let id = i64::from(id);
            self.zigzag(id);
        }
        *self.last.last_mut().unwrap() = id;
    }
    fn begin(&mut self) {
        self.last.push(0);
    }
    fn end(&mut self) {
        self.out.push(0);
        self.last.pop();
    }
    fn i64(&mut self, id: i16, v: i64) {
        self.field(id, 6);
        self.zigzag(v);
    }
    fn i32(&mut self, id: i16, v: i32) {
        self.field(id, 5);
        self.zigzag(i64::from(v));
    }
    fn str(&mut self, id: i16, v: &str) {
        self.field(id, 8);
        self.varint(v.len() as u64);
        self.out.extend_from_slice(v.as_bytes());
    }
    fn bool(&mut self, id: i16, v: bool) {
        self.field(id, if v { 1 } else { 2 });
    }
    fn list(&mut self, id: i16, n: usize) {
        self.field(id, 9);
        self.out.push(((n as u8) << 4) | 12);
    }
    fn tag_str(&mut self, key: &str, value: &str) {
        self.begin();
        self.str(1, key);
        self.i32(2, 0);
        self.str(3, value);
        self.end();
    }
    fn tag_bool(&mut self, key: &str, value: bool) {
        self.begin();
        self.str(1, key);
        self.i32(2, 2);
        self.bool(5, value);
        self.end();
    }
}

fn packet() -> Vec<u8> {
    let mut w = Compact::new();
    w.out.extend_from_slice(&[0x82, 0x81, 0x01, 0x09]);
    w.out.extend_from_slice(b"emitBatch");
    w.begin(); // args
    w.field(1, 12);
    w.begin(); // batch
    w.field(1, 12);
    w.begin(); // process
    w.str(1, "checkout");
    w.list(2, 2);
    w.tag_str("hostname", "web-1");
    w.tag_str("jaeger.version", "Python-4.8.0");
    w.end();
    w.list(2, 1);
    w.begin(); // span
    w.i64(1, 0x22);
    w.i64(2, 0x11);
    w.i64(3, 0x33);
    w.i64(4, 0);
    w.str(5, "GET /cart");
    w.list(6, 1);
    w.begin();
    w.i32(1, 0);
    w.i64(2, 0x22);
    w.i64(3, 0x11);
    w.i64(4, 0x44);
    w.end();
    w.i32(7, 1);
    w.i64(8, 1_700_000_000_000_000);
    w.i64(9, 1500);
    w.list(10, 3);
    w.tag_str("span.kind", "server");
    w.tag_bool("error", true);
    w.tag_str("http.response.status_code", "500");
    w.list(11, 1);
    w.begin(); // log
    w.i64(1, 1_700_000_000_000_100);
    w.list(2, 2);
    w.tag_str("event", "retry");
    w.tag_str("attempt", "2");
    w.end();
    w.end(); // span
    w.end(); // batch
    w.end(); // args
    w.out
}

#[test]
fn a_compact_emit_batch_translates_as_otelcol() {
    let batch = model::decode_emit_batch(&packet(), Protocol::Compact)
        .unwrap()
        .unwrap();
    let request = translate::from_thrift(&batch);
    let rs = &request.resource_spans[0];
    let resource = &rs.resource.as_ref().unwrap().attributes;
    let keys: Vec<&str> = resource.iter().map(|a| a.key.as_str()).collect();
    assert!(keys.contains(&"service.name"), "{keys:?}");
    assert!(keys.contains(&"host.name"), "{keys:?}");
    assert!(keys.contains(&"opencensus.exporterversion"), "{keys:?}");
    assert!(!keys.contains(&"hostname"), "{keys:?}");
    let span = &rs.scope_spans[0].spans[0];
    assert_eq!(span.trace_id[7], 0x11);
    assert_eq!(span.trace_id[15], 0x22);
    assert_eq!(span.parent_span_id, 0x44u64.to_be_bytes());
    assert_eq!(span.kind, 2);
    assert_eq!(span.flags, 1);
    assert_eq!(span.status.as_ref().unwrap().code, 2);
    assert_eq!(
        span.end_time_unix_nano - span.start_time_unix_nano,
        1_500_000
    );
    assert_eq!(span.events[0].name, "retry");
    assert!(span.attributes.iter().any(|a| a.key == "http.status_code"));
    assert!(span.links.is_empty());
}

#[test]
fn cut_short_and_lying_packets_are_errors() {
    let good = packet();
    for n in 0..good.len() {
        assert!(
            model::decode_emit_batch(&good[..n], Protocol::Compact).is_err(),
            "a packet cut at {n} decoded"
        );
    }
    // Bytes after the message are ignored, as Thrift ignores them.
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0x19, 0xfc, 0xff, 0xff, 0xff, 0x0f]);
    assert!(model::decode_emit_batch(&trailing, Protocol::Compact).is_ok());
    assert!(
        model::decode_emit_batch(b"\x82\x81\x01\x0femitZipkinBatch\x00", Protocol::Compact)
            .is_err()
    );
    assert!(
        model::decode_batch(b"\x00").is_err(),
        "a Batch without its required fields"
    );
    assert!(model::decode_emit_batch(&good, Protocol::Binary).is_err());
}
