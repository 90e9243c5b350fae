//! Every decoder under a small limit: never panics, never returns more than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp_transport::{Compression, compression};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let codec = Compression::ALL[usize::from(selector) % Compression::ALL.len()];
    let limit = 64 * 1024;
    if let Ok(out) = compression::decompress(codec, body, limit) {
        assert!(out.len() <= limit);
    }
});
