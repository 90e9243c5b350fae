//! Percent-encoding for header values (W3C Baggage values, Jaeger `uberctx-*` values and
//! URL-encoded `uber-trace-id`).
//!
//! Hand-written to keep the crate free of dependencies: it is a few lines, and both directions
//! are total functions (decoding never fails; a `%` that does not start a valid escape is kept
//! as it is, as browsers and most tracers do).

use std::borrow::Cow;

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `value` to `out`, percent-encoding (upper-case hex) every byte for which `keep`
/// returns `false`, and `%` itself. `keep` must only accept ASCII bytes.
pub(crate) fn encode_into(out: &mut String, value: &str, keep: fn(u8) -> bool) {
    out.reserve(encoded_len(value, keep));
    for &byte in value.as_bytes() {
        if byte != b'%' && byte.is_ascii() && keep(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(UPPER_HEX[usize::from(byte >> 4)]));
            out.push(char::from(UPPER_HEX[usize::from(byte & 0x0F)]));
        }
    }
}

/// The length [`encode_into`] would append, without building it.
pub(crate) fn encoded_len(value: &str, keep: fn(u8) -> bool) -> usize {
    value
        .bytes()
        .map(|b| {
            if b != b'%' && b.is_ascii() && keep(b) {
                1
            } else {
                3
            }
        })
        .sum()
}

/// Percent-encodes `value`, keeping the bytes for which `keep` is true.
pub(crate) fn encode(value: &str, keep: fn(u8) -> bool) -> String {
    let mut out = String::new();
    encode_into(&mut out, value, keep);
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (either case). A `%` not followed by two hex digits is kept
/// literally; when `plus_is_space` is set, `+` decodes to a space (form encoding, as the Jaeger
/// clients write baggage). Invalid UTF-8 after decoding is replaced with U+FFFD, as the W3C
/// Baggage specification asks. Borrows when there is nothing to decode.
pub(crate) fn decode(value: &str, plus_is_space: bool) -> Cow<'_, str> {
    let bytes = value.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b == b'%' || (plus_is_space && b == b'+'))
    {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_is_space => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keep_alnum(b: u8) -> bool {
        b.is_ascii_alphanumeric()
    }

    #[test]
    fn encodes_percent_and_unkept_bytes() {
        assert_eq!(encode("a b%c", keep_alnum), "a%20b%25c");
        assert_eq!(encode("é", keep_alnum), "%C3%A9");
        assert_eq!(encode("", keep_alnum), "");
        assert_eq!(
            encoded_len("a b%cé", keep_alnum),
            encode("a b%cé", keep_alnum).len()
        );
        let mut out = String::from(">");
        encode_into(&mut out, "x,é y", keep_alnum);
        assert_eq!(out, ">x%2C%C3%A9%20y");
    }

    #[test]
    fn decodes_escapes_leniently() {
        assert_eq!(decode("a%20b", false), "a b");
        assert_eq!(decode("a%2cb%2C", false), "a,b,");
        assert_eq!(decode("100%", false), "100%");
        assert_eq!(decode("%zz%4", false), "%zz%4");
        assert_eq!(decode("a+b", false), "a+b");
        assert_eq!(decode("a+b", true), "a b");
        assert_eq!(decode("%C3%A9", false), "é");
        assert_eq!(decode("%FF", false), "\u{FFFD}");
        assert!(matches!(decode("plain", true), Cow::Borrowed("plain")));
    }

    proptest! {
        #[test]
        fn round_trip(s in any::<String>()) {
            let encoded = encode(&s, keep_alnum);
            prop_assert_eq!(encoded.len(), encoded_len(&s, keep_alnum));
            let mut via_into = String::new();
            encode_into(&mut via_into, &s, keep_alnum);
            prop_assert_eq!(&via_into, &encoded);
            prop_assert_eq!(decode(&encoded, false), s.as_str());
        }

        #[test]
        fn decode_never_panics(s in any::<String>(), plus in any::<bool>()) {
            let _ = decode(&s, plus);
        }
    }
}
