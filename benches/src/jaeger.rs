//! Jaeger Thrift binary bodies of the shape Jaeger clients send, for the Jaeger benchmark: a
//! batch of one process (service name and 3 tags) and `spans` spans in traces of ten (a
//! server span and nine children), each span with 6 tags of mixed types and a log on every
//! tenth. Written here with the binary protocol's rules (big-endian fields, `i32` lengths).

/// A Thrift binary writer.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn field(&mut self, ttype: u8, id: i16) {
        self.0.push(ttype);
        self.0.extend_from_slice(&id.to_be_bytes());
    }
    fn stop(&mut self) {
        self.0.push(0);
    }
    fn i64(&mut self, id: i16, v: i64) {
        self.field(10, id);
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, id: i16, v: i32) {
        self.field(8, id);
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn string(&mut self, id: i16, v: &str) {
        self.field(11, id);
        self.0.extend_from_slice(&(v.len() as i32).to_be_bytes());
        self.0.extend_from_slice(v.as_bytes());
    }
    fn list(&mut self, id: i16, n: usize) {
        self.field(15, id);
        self.0.push(12);
        self.0.extend_from_slice(&(n as i32).to_be_bytes());
    }
    fn tag_str(&mut self, key: &str, value: &str) {
        self.string(1, key);
        self.i32(2, 0);
        self.string(3, value);
        self.stop();
    }
    fn tag_long(&mut self, key: &str, value: i64) {
        self.string(1, key);
        self.i32(2, 3);
        self.i64(6, value);
        self.stop();
    }
    fn tag_bool(&mut self, key: &str, value: bool) {
        self.string(1, key);
        self.i32(2, 2);
        self.field(2, 5);
        self.0.push(u8::from(value));
        self.stop();
    }
}

fn batch(w: &mut Writer, spans: usize) {
    w.field(12, 1);
    w.string(1, "checkout");
    w.list(2, 3);
    w.tag_str("hostname", "web-7f9c");
    w.tag_str("ip", "10.0.3.17");
    w.tag_str("jaeger.version", "Go-2.30.0");
    w.stop();
    w.list(2, spans);
    for i in 0..spans {
        let trace = (i / 10) as i64 + 1;
        let root = (i / 10 * 10) as i64 + 1;
        w.i64(1, trace);
        w.i64(2, 0x5af7_183f);
        w.i64(3, i as i64 + 1);
        w.i64(4, if i % 10 == 0 { 0 } else { root });
        w.string(5, "GET /api/v1/items/{id}");
        w.i32(7, 1);
        w.i64(8, 1_700_000_000_000_000 + i as i64 * 137);
        w.i64(9, 1200 + (i % 977) as i64);
        w.list(10, 6);
        w.tag_str("span.kind", if i % 10 == 0 { "server" } else { "client" });
        w.tag_str("http.method", "GET");
        w.tag_long("http.status_code", if i % 50 == 7 { 503 } else { 200 });
        w.tag_str("component", "net/http");
        w.tag_bool("error", i % 50 == 7);
        w.tag_str("peer.service", "inventory");
        if i % 10 == 3 {
            w.list(11, 1);
            w.i64(1, 1_700_000_000_000_050 + i as i64 * 137);
            w.list(2, 2);
            w.tag_str("event", "retry");
            w.tag_long("attempt", 2);
            w.stop();
        }
        w.stop();
    }
    w.stop();
}

/// A bare `Batch` of `spans` spans (the body of `POST /api/traces`).
pub fn thrift_batch(spans: usize) -> Vec<u8> {
    // A bare struct: its fields (`process`, `spans`), then the stop.
    let mut w = Writer::default();
    batch(&mut w, spans);
    w.0
}

/// An agent datagram `emitBatch(batch)` in Thrift binary.
pub fn agent_binary_packet(spans: usize) -> Vec<u8> {
    let mut w = Writer::default();
    w.0.extend_from_slice(&[0x80, 0x01, 0x00, 0x04]);
    w.0.extend_from_slice(&9i32.to_be_bytes());
    w.0.extend_from_slice(b"emitBatch");
    w.0.extend_from_slice(&1i32.to_be_bytes());
    w.field(12, 1);
    batch(&mut w, spans);
    w.stop();
    w.0
}
