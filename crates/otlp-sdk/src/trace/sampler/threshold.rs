//! [`Threshold`] and [`Randomness`]: the two 56-bit numbers of consistent probability sampling.
//!
//! From the OpenTelemetry specification, `trace/tracestate-probability-sampling.md` and
//! `trace/tracestate-handling.md` (OTEP 235):
//!
//! - the rejection threshold is `(1 - probability) * 2^56`; a span is kept when `R >= T`;
//! - a `th` value is 1 to 14 lower-case hex digits, extended with trailing zeros to 14 digits
//!   and read as a 56-bit number; written with trailing zeros removed, `0` for probability 1;
//! - an `rv` value is exactly 14 lower-case hex digits; without one, the randomness is the least
//!   significant 56 bits (last 7 bytes) of the trace id;
//! - SDKs are recommended to encode thresholds with 4 hex digits of precision, plus one digit
//!   for each leading `f` (probabilities below `16^-k`), so that the precision applies to the
//!   significant digits for small probabilities.

use core::fmt;

use otlp_model::{TraceId, TraceState};

use super::ot_state;

/// `2^56`: the number of distinct 56-bit values (the specification's `MaxAdjustedCount`).
const MAX_ADJUSTED_COUNT: u64 = 1 << 56;
/// Mask of the low 56 bits.
const MASK_56: u64 = MAX_ADJUSTED_COUNT - 1;
/// Hex digits of a 56-bit value.
const HEX_DIGITS: u8 = 14;

/// A 56-bit rejection threshold `T`: a span is sampled when its [`Randomness`] `R >= T`.
///
/// `0` samples everything (`th:0`). [`Threshold::NEVER_SAMPLE`] (`2^56`, above every
/// randomness value) samples nothing; it is not a probability and has no `th` encoding.
///
/// ```
/// use otlp_sdk::trace::sampler::Threshold;
///
/// assert_eq!(Threshold::from_ratio(0.5).to_th().as_deref(), Some("8"));
/// assert_eq!(Threshold::from_ratio(0.1).to_th().as_deref(), Some("e666"));
/// assert_eq!(Threshold::from_th("c"), Some(Threshold::from_ratio(0.25)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(u64);

impl Threshold {
    /// Threshold 0: every span is sampled (`th:0`, probability 1).
    pub const ALWAYS_SAMPLE: Self = Self(0);

    /// Threshold `2^56`: no span is sampled (probability 0, not encodable as `th`).
    pub const NEVER_SAMPLE: Self = Self(MAX_ADJUSTED_COUNT);

    /// Significant hex digits [`from_ratio`](Self::from_ratio) keeps: 4, as the specification
    /// recommends for SDKs.
    pub const DEFAULT_PRECISION: u8 = 4;

    /// The threshold for sampling probability `ratio`, with
    /// [`DEFAULT_PRECISION`](Self::DEFAULT_PRECISION) significant hex digits.
    ///
    /// `ratio >= 1` gives [`ALWAYS_SAMPLE`](Self::ALWAYS_SAMPLE); `ratio <= 0`, NaN, and
    /// ratios too small to round to at least `2^-56` give [`NEVER_SAMPLE`](Self::NEVER_SAMPLE).
    #[must_use]
    pub fn from_ratio(ratio: f64) -> Self {
        Self::from_ratio_with_precision(ratio, Self::DEFAULT_PRECISION)
    }

    /// The threshold for sampling probability `ratio`, rounded to `precision` significant hex
    /// digits (clamped to 1..=14), not counting leading `f` digits.
    ///
    /// As in the specification's algorithm, one digit of precision is added for each power of
    /// 16 the probability is below 1 (`ratio < 16^-k`: `k` leading `f` digits), and the exact
    /// threshold `2^56 - round(ratio * 2^56)` is rounded half up at the last kept digit. The
    /// arithmetic is on integers, so precision is only limited by the 14 digits of a `th`.
    #[must_use]
    pub fn from_ratio_with_precision(ratio: f64, precision: u8) -> Self {
        if ratio.is_nan() || ratio <= 0.0 {
            return Self::NEVER_SAMPLE;
        }
        if ratio >= 1.0 {
            return Self::ALWAYS_SAMPLE;
        }
        // Multiplying by a power of two is exact; the cast saturates and `ratio < 1` keeps the
        // product below 2^56.
        let scaled = (ratio * MAX_ADJUSTED_COUNT as f64).round() as u64;
        if scaled == 0 {
            return Self::NEVER_SAMPLE;
        }
        if scaled >= MAX_ADJUSTED_COUNT {
            return Self::ALWAYS_SAMPLE;
        }
        let exact = MAX_ADJUSTED_COUNT - scaled;

        // One more digit for each leading `f`: the specification's `frexp` exponent adjustment.
        let mut leading_fs: u8 = 0;
        let mut p = ratio;
        while p < 1.0 / 16.0 && leading_fs < HEX_DIGITS {
            p *= 16.0;
            leading_fs += 1;
        }
        let digits = precision
            .clamp(1, HEX_DIGITS)
            .saturating_add(leading_fs)
            .min(HEX_DIGITS);
        let shift = 4 * u32::from(HEX_DIGITS - digits);
        if shift == 0 {
            return Self(exact);
        }
        let half = 1_u64 << (shift - 1);
        let rounded = ((exact + half) >> shift) << shift;
        // Rounding up cannot reach 2^56 (the probability is above half a unit of the last kept
        // digit), but stay in range regardless: the largest threshold at this precision.
        Self(rounded.min(MAX_ADJUSTED_COUNT - (1 << shift)))
    }

    /// Parses a `th` value: 1 to 14 lower-case hex digits, extended with trailing zeros to 14.
    /// Anything else is `None`.
    #[must_use]
    pub fn from_th(th: &str) -> Option<Self> {
        let len = th.len();
        if len == 0 || len > usize::from(HEX_DIGITS) {
            return None;
        }
        let value = parse_lower_hex(th)?;
        // `len <= 14`, so the shift is at most 52 bits and the result below 2^56.
        Some(Self(value << (4 * (usize::from(HEX_DIGITS) - len))))
    }

    /// The threshold of the `th` sub-key of the trace state's `ot` member, if there is a valid
    /// one.
    #[must_use]
    pub fn from_trace_state(state: &TraceState) -> Option<Self> {
        ot_state::sub_value(state, ot_state::THRESHOLD_KEY).and_then(Self::from_th)
    }

    /// Builds a threshold from its 56-bit value; `2^56` is
    /// [`NEVER_SAMPLE`](Self::NEVER_SAMPLE); larger values are `None`.
    #[must_use]
    pub const fn from_u64(value: u64) -> Option<Self> {
        if value <= MAX_ADJUSTED_COUNT {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The threshold as an integer in `0..=2^56`.
    #[must_use]
    pub const fn to_u64(self) -> u64 {
        self.0
    }

    /// The `th` encoding: 14 lower-case hex digits with trailing zeros removed, `"0"` for
    /// [`ALWAYS_SAMPLE`](Self::ALWAYS_SAMPLE); `None` for
    /// [`NEVER_SAMPLE`](Self::NEVER_SAMPLE).
    #[must_use]
    pub fn to_th(self) -> Option<String> {
        if self.0 >= MAX_ADJUSTED_COUNT {
            return None;
        }
        if self.0 == 0 {
            return Some("0".to_owned());
        }
        let digits = format!("{:014x}", self.0);
        Some(digits.trim_end_matches('0').to_owned())
    }

    /// Whether a span with randomness `randomness` is sampled: `R >= T`.
    #[must_use]
    pub const fn should_sample(self, randomness: Randomness) -> bool {
        randomness.0 >= self.0
    }

    /// The sampling probability `(2^56 - T) / 2^56`.
    #[must_use]
    pub fn probability(self) -> f64 {
        (MAX_ADJUSTED_COUNT - self.0) as f64 / MAX_ADJUSTED_COUNT as f64
    }
}

impl fmt::Display for Threshold {
    /// The `th` encoding, or `never` for [`Threshold::NEVER_SAMPLE`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_th() {
            Some(th) => f.write_str(&th),
            None => f.write_str("never"),
        }
    }
}

/// A 56-bit randomness value `R`: the `rv` sub-key of the `ot` trace state member, or the last
/// 7 bytes of the trace id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Randomness(u64);

impl Randomness {
    /// The least significant 56 bits (the right-most 7 bytes) of `trace_id`, which W3C Trace
    /// Context Level 2 makes random when the `random` flag is set.
    #[must_use]
    pub const fn from_trace_id(trace_id: TraceId) -> Self {
        Self(trace_id.to_u128() as u64 & MASK_56)
    }

    /// Parses an `rv` value: exactly 14 lower-case hex digits; anything else is `None`.
    #[must_use]
    pub fn from_rv(rv: &str) -> Option<Self> {
        if rv.len() != usize::from(HEX_DIGITS) {
            return None;
        }
        parse_lower_hex(rv).map(Self)
    }

    /// The explicit randomness of the `rv` sub-key of the trace state's `ot` member, if there
    /// is a valid one.
    #[must_use]
    pub fn from_trace_state(state: &TraceState) -> Option<Self> {
        ot_state::sub_value(state, ot_state::RANDOMNESS_KEY).and_then(Self::from_rv)
    }

    /// The randomness a sampler uses: the trace state's valid `rv` if there is one (it takes
    /// precedence), else the trace id's last 7 bytes.
    #[must_use]
    pub fn of(trace_id: TraceId, state: &TraceState) -> Self {
        Self::from_trace_state(state).unwrap_or_else(|| Self::from_trace_id(trace_id))
    }

    /// Builds a randomness value; values of 2^56 and above are `None`.
    #[must_use]
    pub const fn from_u64(value: u64) -> Option<Self> {
        if value <= MASK_56 {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The randomness as an integer below `2^56`.
    #[must_use]
    pub const fn to_u64(self) -> u64 {
        self.0
    }
}

/// Parses up to 16 lower-case hex digits (callers bound the length to 14).
fn parse_lower_hex(s: &str) -> Option<u64> {
    s.bytes().try_fold(0_u64, |acc, c| {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        Some((acc << 4) | u64::from(digit))
    })
}
