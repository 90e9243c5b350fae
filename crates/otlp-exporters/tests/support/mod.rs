//! What the exporters' peer tests share: the peer lookup, a guard that stops a server by its
//! PID, free ports, attributes, the clock, URL encoding.
#![allow(dead_code, unreachable_pub)]

#[path = "../../../otlp-transport/tests/interop_support/peers.rs"]
mod peers;
pub use peers::{Peer, require};

use std::process::Child;
use std::time::{SystemTime, UNIX_EPOCH};

use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};

/// Kills a server (by its PID, through the child handle) when the test ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A string attribute.
pub fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

/// Now, in nanoseconds since the epoch.
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A loopback port nobody listens on (now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// `text` percent-encoded for a query string.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
