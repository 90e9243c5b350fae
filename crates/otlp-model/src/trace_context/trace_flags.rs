//! [`TraceFlags`]: the W3C trace-flags byte, and its packing into the OTLP `Span.flags` field.

use core::fmt;

// OTLP `SPAN_FLAGS_TRACE_FLAGS_MASK` (0xFF): bits 0-7 of `Span.flags` hold the W3C trace flags.
/// OTLP `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK`: bit 8 says whether bit 9 is known.
const OTLP_HAS_IS_REMOTE: u32 = 0x0000_0100;
/// OTLP `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK`: bit 9 says whether the parent/link is remote.
const OTLP_IS_REMOTE: u32 = 0x0000_0200;

/// The W3C Trace Context `trace-flags` byte.
///
/// Only two bits are defined: [`TraceFlags::SAMPLED`] (Level 1) and [`TraceFlags::RANDOM`]
/// (Level 2: the trace id's right-most 7 bytes are random). Other bits are kept as given by
/// [`TraceFlags::from_u8`]; a propagator that must zero unknown bits for version `00` masks them
/// itself. The default is no flag set.
///
/// ```
/// use otlp_model::TraceFlags;
///
/// let flags = TraceFlags::default().with_sampled(true).with_random(true);
/// assert_eq!(flags.to_u8(), 0x03);
/// assert_eq!(flags.to_string(), "03");
///
/// // OTLP `Span.flags`: trace flags in bits 0-7, bit 8 = has-is-remote, bit 9 = is-remote.
/// assert_eq!(flags.to_otlp_span_flags(true), 0x303);
/// assert_eq!(TraceFlags::from_otlp_span_flags(0x303), (flags, Some(true)));
/// assert_eq!(TraceFlags::from_otlp_span_flags(0x01), (TraceFlags::SAMPLED, None));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceFlags(u8);

impl TraceFlags {
    /// The `sampled` flag (`0x01`): the caller may have recorded trace data.
    pub const SAMPLED: Self = Self(0x01);

    /// The `random` flag (`0x02`, W3C Trace Context Level 2): at least the right-most 7 bytes
    /// of the trace id were generated randomly.
    pub const RANDOM: Self = Self(0x02);

    /// Builds flags from the raw byte, keeping every bit.
    #[must_use]
    pub const fn from_u8(flags: u8) -> Self {
        Self(flags)
    }

    /// Returns the raw byte.
    #[must_use]
    pub const fn to_u8(self) -> u8 {
        self.0
    }

    /// Returns `true` if the [`SAMPLED`](Self::SAMPLED) bit is set.
    #[must_use]
    pub const fn is_sampled(self) -> bool {
        self.0 & Self::SAMPLED.0 != 0
    }

    /// Returns a copy with the [`SAMPLED`](Self::SAMPLED) bit set or cleared.
    #[must_use]
    pub const fn with_sampled(self, sampled: bool) -> Self {
        self.with_bit(Self::SAMPLED.0, sampled)
    }

    /// Returns `true` if the [`RANDOM`](Self::RANDOM) bit is set.
    #[must_use]
    pub const fn is_random(self) -> bool {
        self.0 & Self::RANDOM.0 != 0
    }

    /// Returns a copy with the [`RANDOM`](Self::RANDOM) bit set or cleared.
    #[must_use]
    pub const fn with_random(self, random: bool) -> Self {
        self.with_bit(Self::RANDOM.0, random)
    }

    /// Packs these flags into an OTLP `Span.flags` / `Span.Link.flags` value.
    ///
    /// Bits 0-7 carry the trace flags; bit 8 (`HAS_IS_REMOTE`) is always set, because the
    /// caller states `is_remote`; bit 9 (`IS_REMOTE`) is set when `is_remote` is `true`.
    #[must_use]
    pub const fn to_otlp_span_flags(self, is_remote: bool) -> u32 {
        let remote = if is_remote { OTLP_IS_REMOTE } else { 0 };
        self.0 as u32 | OTLP_HAS_IS_REMOTE | remote
    }

    /// Unpacks an OTLP `Span.flags` / `Span.Link.flags` value.
    ///
    /// Returns the trace flags from bits 0-7 and, if bit 8 (`HAS_IS_REMOTE`) is set, whether
    /// bit 9 (`IS_REMOTE`) says the parent or linked span is remote; `None` when the sender did
    /// not say. Bits 10-31 are reserved and ignored.
    #[must_use]
    pub const fn from_otlp_span_flags(flags: u32) -> (Self, Option<bool>) {
        // `SPAN_FLAGS_TRACE_FLAGS_MASK`: bits 0-7 are the least significant byte.
        let [trace_flags, ..] = flags.to_le_bytes();
        let trace_flags = Self(trace_flags);
        let is_remote = if flags & OTLP_HAS_IS_REMOTE != 0 {
            Some(flags & OTLP_IS_REMOTE != 0)
        } else {
            None
        };
        (trace_flags, is_remote)
    }

    const fn with_bit(self, bit: u8, on: bool) -> Self {
        if on {
            Self(self.0 | bit)
        } else {
            Self(self.0 & !bit)
        }
    }
}

impl From<u8> for TraceFlags {
    fn from(flags: u8) -> Self {
        Self(flags)
    }
}

impl From<TraceFlags> for u8 {
    fn from(flags: TraceFlags) -> Self {
        flags.0
    }
}

impl fmt::Display for TraceFlags {
    /// Two lower-case hex digits, as in the `traceparent` header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}", self.0)
    }
}

impl fmt::LowerHex for TraceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl fmt::Debug for TraceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceFlags({:02x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn constants_and_default() {
        assert_eq!(TraceFlags::SAMPLED.to_u8(), 0x01);
        assert_eq!(TraceFlags::RANDOM.to_u8(), 0x02);
        assert_eq!(TraceFlags::default().to_u8(), 0x00);
        assert!(!TraceFlags::default().is_sampled());
        assert!(!TraceFlags::default().is_random());
        assert!(TraceFlags::SAMPLED.is_sampled());
        assert!(!TraceFlags::SAMPLED.is_random());
        assert!(TraceFlags::RANDOM.is_random());
        assert!(!TraceFlags::RANDOM.is_sampled());
    }

    #[test]
    fn setters_touch_only_their_bit() {
        let all = TraceFlags::from_u8(0xFF);
        assert_eq!(all.with_sampled(false).to_u8(), 0xFE);
        assert_eq!(all.with_random(false).to_u8(), 0xFD);
        assert_eq!(all.with_sampled(true), all);
        let none = TraceFlags::default();
        assert_eq!(none.with_sampled(true), TraceFlags::SAMPLED);
        assert_eq!(none.with_random(true), TraceFlags::RANDOM);
        assert_eq!(none.with_sampled(true).with_random(true).to_u8(), 0x03);
        assert_eq!(TraceFlags::SAMPLED.with_sampled(false), none);
    }

    #[test]
    fn conversions_and_formatting() {
        assert_eq!(TraceFlags::from(0x81), TraceFlags::from_u8(0x81));
        assert_eq!(u8::from(TraceFlags::from_u8(0x81)), 0x81);
        assert_eq!(TraceFlags::SAMPLED.to_string(), "01");
        assert_eq!(TraceFlags::from_u8(0xAB).to_string(), "ab");
        assert_eq!(TraceFlags::default().to_string(), "00");
        assert_eq!(format!("{:x}", TraceFlags::from_u8(0xAB)), "ab");
        assert_eq!(format!("{:?}", TraceFlags::SAMPLED), "TraceFlags(01)");
    }

    #[test]
    fn otlp_span_flags() {
        let sampled = TraceFlags::SAMPLED;
        assert_eq!(sampled.to_otlp_span_flags(false), 0x101);
        assert_eq!(sampled.to_otlp_span_flags(true), 0x301);
        assert_eq!(TraceFlags::default().to_otlp_span_flags(false), 0x100);
        assert_eq!(
            TraceFlags::from_otlp_span_flags(0),
            (TraceFlags::default(), None)
        );
        assert_eq!(TraceFlags::from_otlp_span_flags(0x01), (sampled, None));
        assert_eq!(
            TraceFlags::from_otlp_span_flags(0x101),
            (sampled, Some(false))
        );
        assert_eq!(
            TraceFlags::from_otlp_span_flags(0x301),
            (sampled, Some(true))
        );
        // IS_REMOTE without HAS_IS_REMOTE means "unknown".
        assert_eq!(TraceFlags::from_otlp_span_flags(0x201), (sampled, None));
        // Reserved high bits are ignored.
        assert_eq!(
            TraceFlags::from_otlp_span_flags(0xFFFF_FC03),
            (TraceFlags::from_u8(0x03), None)
        );
    }

    proptest! {
        #[test]
        fn otlp_round_trip(raw in any::<u8>(), is_remote in any::<bool>()) {
            let flags = TraceFlags::from_u8(raw);
            let packed = flags.to_otlp_span_flags(is_remote);
            prop_assert_eq!(TraceFlags::from_otlp_span_flags(packed), (flags, Some(is_remote)));
        }
    }
}
