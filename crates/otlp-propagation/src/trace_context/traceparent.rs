//! The W3C `traceparent` header: [`TraceParent`], its parser and its allocation-free encoder.

use core::fmt;
use core::str::FromStr;

use otlp_model::{IdError, SpanId, TraceFlags, TraceId};

/// Length of a version-`00` `traceparent` value: `00-{32 hex}-{16 hex}-{2 hex}`.
pub const TRACEPARENT_LEN: usize = 55;

/// The trace flags this crate understands and propagates: `sampled` (`0x01`) and the Level 2
/// `random` flag (`0x02`). Other bits are zeroed on extract and inject, as W3C asks for flags a
/// vendor does not know.
pub const KNOWN_TRACE_FLAGS: u8 = 0x03;

const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// Why a `traceparent` value was rejected. A propagator treats every one of these as "no
/// parent" (the request goes on and a new trace starts); the error exists for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceParentError {
    /// The version field is not two lower-case hex digits followed by `-`.
    #[error("invalid traceparent version field")]
    InvalidVersion,
    /// The version is `ff`, which W3C forbids.
    #[error("traceparent version ff is forbidden")]
    ForbiddenVersion,
    /// The value (after trimming optional whitespace) is shorter than 55 characters, or a
    /// version-`00` value is not exactly 55 characters long.
    #[error("traceparent has length {len}; version 00 requires exactly 55")]
    WrongLength {
        /// The length found, in bytes.
        len: usize,
    },
    /// A future-version value continues after the flags without a `-` delimiter.
    #[error("traceparent of a future version has data after the flags without a '-'")]
    TrailingData,
    /// A `-` delimiter is missing at the position W3C fixes for it.
    #[error("traceparent delimiter '-' missing at byte {index}")]
    MissingDelimiter {
        /// Byte index (2, 35 or 52) where `-` was expected.
        index: usize,
    },
    /// The trace-id field is not 32 lower-case hex digits.
    #[error("invalid traceparent trace-id: {0}")]
    InvalidTraceId(IdError),
    /// The parent-id field is not 16 lower-case hex digits.
    #[error("invalid traceparent parent-id: {0}")]
    InvalidParentId(IdError),
    /// The trace-flags field is not two lower-case hex digits.
    #[error("invalid traceparent trace-flags")]
    InvalidFlags,
    /// The trace-id is all zeros.
    #[error("traceparent trace-id is all zeros")]
    ZeroTraceId,
    /// The parent-id is all zeros.
    #[error("traceparent parent-id is all zeros")]
    ZeroParentId,
}

/// A parsed W3C `traceparent`: version, trace-id, parent-id (the caller's span id) and flags.
///
/// Parsing follows the W3C rules, including those for future versions (a version above `00`
/// is read by its version-`00` prefix, and may be followed by `-` and more fields). Formatting
/// always writes version `00`. Neither direction allocates.
///
/// ```
/// use otlp_propagation::TraceParent;
///
/// let tp: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?;
/// assert!(tp.trace_flags().is_sampled());
/// assert_eq!(tp.encode().as_str(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
///
/// // Invalid values are errors here, and "absent" to a propagator.
/// assert!("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01".parse::<TraceParent>().is_err());
/// assert!("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse::<TraceParent>().is_err());
/// # Ok::<(), otlp_propagation::TraceParentError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    version: u8,
    trace_id: TraceId,
    parent_id: SpanId,
    trace_flags: TraceFlags,
}

impl TraceParent {
    /// A version-`00` traceparent. The flags are kept as given; [`TraceParent::encode`] writes
    /// them unchanged, so mask them with [`KNOWN_TRACE_FLAGS`] first when that matters.
    #[must_use]
    pub const fn new(trace_id: TraceId, parent_id: SpanId, trace_flags: TraceFlags) -> Self {
        Self {
            version: 0,
            trace_id,
            parent_id,
            trace_flags,
        }
    }

    /// Parses a header value, trimming optional whitespace (space, tab) around it.
    ///
    /// # Errors
    ///
    /// A [`TraceParentError`] naming the first rule the value breaks. Never panics, whatever
    /// the input.
    pub fn parse(value: &str) -> Result<Self, TraceParentError> {
        let value = value.trim_matches([' ', '\t']);
        let b = value.as_bytes();
        let (Some(&v0), Some(&v1)) = (b.first(), b.get(1)) else {
            return Err(TraceParentError::WrongLength { len: b.len() });
        };
        let version = match (lower_hex(v0), lower_hex(v1)) {
            (Some(hi), Some(lo)) => (hi << 4) | lo,
            _ => return Err(TraceParentError::InvalidVersion),
        };
        if b.get(2) != Some(&b'-') {
            return Err(TraceParentError::InvalidVersion);
        }
        if version == 0xFF {
            return Err(TraceParentError::ForbiddenVersion);
        }
        if b.len() < TRACEPARENT_LEN || (version == 0 && b.len() != TRACEPARENT_LEN) {
            return Err(TraceParentError::WrongLength { len: b.len() });
        }
        if b.len() > TRACEPARENT_LEN && b.get(TRACEPARENT_LEN) != Some(&b'-') {
            return Err(TraceParentError::TrailingData);
        }
        for index in [35, 52] {
            if b.get(index) != Some(&b'-') {
                return Err(TraceParentError::MissingDelimiter { index });
            }
        }
        let trace_id = field(value, 3, 35)
            .and_then(TraceId::from_hex_lowercase_strict)
            .map_err(TraceParentError::InvalidTraceId)?;
        let parent_id = field(value, 36, 52)
            .and_then(SpanId::from_hex_lowercase_strict)
            .map_err(TraceParentError::InvalidParentId)?;
        let flags = match (
            b.get(53).copied().and_then(lower_hex),
            b.get(54).copied().and_then(lower_hex),
        ) {
            (Some(hi), Some(lo)) => (hi << 4) | lo,
            _ => return Err(TraceParentError::InvalidFlags),
        };
        if !trace_id.is_valid() {
            return Err(TraceParentError::ZeroTraceId);
        }
        if !parent_id.is_valid() {
            return Err(TraceParentError::ZeroParentId);
        }
        Ok(Self {
            version,
            trace_id,
            parent_id,
            trace_flags: TraceFlags::from_u8(flags),
        })
    }

    /// The version read from the header (`0` for values built with [`TraceParent::new`]).
    #[must_use]
    pub const fn version(&self) -> u8 {
        self.version
    }

    /// The trace id.
    #[must_use]
    pub const fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The parent id: the span id of the caller's span.
    #[must_use]
    pub const fn parent_id(&self) -> SpanId {
        self.parent_id
    }

    /// The trace flags, with every bit as received.
    #[must_use]
    pub const fn trace_flags(&self) -> TraceFlags {
        self.trace_flags
    }

    /// Formats as a version-`00` header value into a stack buffer.
    #[must_use]
    pub fn encode(&self) -> TraceParentHeader {
        let mut out = [0u8; TRACEPARENT_LEN];
        out[..3].copy_from_slice(b"00-");
        write_hex(&mut out[3..35], self.trace_id.as_bytes());
        out[35] = b'-';
        write_hex(&mut out[36..52], self.parent_id.as_bytes());
        out[52] = b'-';
        write_hex(&mut out[53..55], &[self.trace_flags.to_u8()]);
        TraceParentHeader(out)
    }
}

impl FromStr for TraceParent {
    type Err = TraceParentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for TraceParent {
    /// The version-`00` header value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode().as_str())
    }
}

/// A formatted version-`00` `traceparent` value held on the stack; see [`TraceParent::encode`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParentHeader([u8; TRACEPARENT_LEN]);

impl TraceParentHeader {
    /// The header value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII digits, letters and '-' are ever written, so this cannot fail; the empty
        // fallback only avoids a panic path.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl AsRef<str> for TraceParentHeader {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for TraceParentHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TraceParentHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

fn lower_hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// `value[start..end]`, or an id error when that is not on character boundaries (non-ASCII).
fn field(value: &str, start: usize, end: usize) -> Result<&str, IdError> {
    value
        .get(start..end)
        .ok_or(IdError::InvalidHexCharacter { index: 0 })
}

fn write_hex(out: &mut [u8], bytes: &[u8]) {
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&[
            LOWER_HEX[usize::from(byte >> 4)],
            LOWER_HEX[usize::from(byte & 0x0F)],
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_the_spec_example() {
        let tp = TraceParent::parse(VALID).unwrap();
        assert_eq!(tp.version(), 0);
        assert_eq!(
            tp.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(tp.parent_id().to_string(), "00f067aa0ba902b7");
        assert_eq!(tp.trace_flags(), TraceFlags::SAMPLED);
        assert_eq!(tp.encode().as_str(), VALID);
        assert_eq!(tp.to_string(), VALID);
        assert_eq!(format!("{:?}", tp.encode()), format!("{VALID:?}"));
        assert_eq!(tp.encode().as_ref(), VALID);
    }

    #[test]
    fn keeps_all_flag_bits() {
        let tp =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff").unwrap();
        assert_eq!(tp.trace_flags().to_u8(), 0xFF);
        assert!(tp.encode().as_str().ends_with("-ff"));
    }

    #[test]
    fn errors_name_the_rule() {
        use TraceParentError as E;
        let cases: &[(&str, E)] = &[
            ("", E::WrongLength { len: 0 }),
            ("0", E::WrongLength { len: 1 }),
            (
                "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                E::InvalidVersion,
            ),
            (
                "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                E::InvalidVersion,
            ),
            (
                "000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                E::InvalidVersion,
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                E::ForbiddenVersion,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
                E::WrongLength { len: 56 },
            ),
            (
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x",
                E::TrailingData,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
                E::MissingDelimiter { index: 35 },
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
                E::MissingDelimiter { index: 52 },
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473G-00f067aa0ba902b7-01",
                E::InvalidTraceId(IdError::InvalidHexCharacter { index: 31 }),
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902B7-01",
                E::InvalidParentId(IdError::UppercaseHexCharacter { index: 14 }),
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0F",
                E::InvalidFlags,
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                E::ZeroTraceId,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                E::ZeroParentId,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(TraceParent::parse(input), Err(*expected), "{input:?}");
            assert!(!expected.to_string().is_empty());
        }
        // Non-ASCII at an id position is an id error, not a panic.
        let s = format!(
            "00-{}é{}-00f067aa0ba902b7-01",
            "4".repeat(15),
            "4".repeat(15)
        );
        assert_eq!(s.len(), 55);
        assert!(matches!(TraceParent::parse(&s), Err(E::InvalidTraceId(_))));
    }

    proptest! {
        #[test]
        fn encode_parse_identity(trace in 1..=u128::MAX, span in 1..=u64::MAX, flags in any::<u8>()) {
            let tp = TraceParent::new(TraceId::from(trace), SpanId::from(span), TraceFlags::from_u8(flags));
            let header = tp.encode();
            prop_assert_eq!(TraceParent::parse(header.as_str()), Ok(tp));
            prop_assert_eq!(TraceParent::parse(header.as_str()).map(|t| t.encode()), Ok(header));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let s = String::from_utf8_lossy(&bytes);
            let _ = TraceParent::parse(&s);
        }

        #[test]
        fn parse_never_panics_near_valid(s in "[0-9a-fA-F\\- \té]{50,60}") {
            if let Ok(tp) = TraceParent::parse(&s) {
                prop_assert!(tp.trace_id().is_valid() && tp.parent_id().is_valid());
            }
        }
    }
}
