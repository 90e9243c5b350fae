//! OpenTelemetry consistent-probability sampling primitives (the Go collector's
//! `pkg/sampling`): 56-bit thresholds and randomness, their `th` / `rv` encodings, and the W3C
//! `tracestate` with its OpenTelemetry (`ot`) member.

use core::fmt::Write as _;

/// 2^56: one more than the largest randomness value.
pub(crate) const MAX_ADJUSTED_COUNT: u64 = 1 << 56;
/// Number of hex digits in a full threshold or randomness value.
pub(crate) const NUM_HEX_DIGITS: usize = 14;
/// The smallest probability a threshold can express, 2^-56.
pub(crate) const MIN_SAMPLING_PROBABILITY: f64 = 1.0 / MAX_ADJUSTED_COUNT as f64;

/// A rejection threshold: an item is sampled when its randomness is `>=` the threshold.
/// 0 samples everything, 2^56 nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Threshold(pub(crate) u64);

/// 56 bits of randomness, from the trace id, an explicit `rv`, or a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Randomness(pub(crate) u64);

impl Threshold {
    pub(crate) const ALWAYS: Self = Self(0);
    pub(crate) const NEVER: Self = Self(MAX_ADJUSTED_COUNT);

    pub(crate) fn should_sample(self, rnd: Randomness) -> bool {
        rnd.0 >= self.0
    }

    /// The sampling probability this threshold stands for.
    pub(crate) fn probability(self) -> f64 {
        (MAX_ADJUSTED_COUNT - self.0.min(MAX_ADJUSTED_COUNT)) as f64 / MAX_ADJUSTED_COUNT as f64
    }

    /// The `th` encoding: up to 14 hex digits with trailing zeros removed; `0` for always.
    pub(crate) fn tvalue(self) -> String {
        if self == Self::ALWAYS {
            return "0".to_owned();
        }
        let digits = Randomness(self.0).rvalue();
        digits.trim_end_matches('0').to_owned()
    }

    /// Parses a `th` value (1 to 14 hex digits, trailing zeros implied).
    pub(crate) fn from_tvalue(s: &str) -> Result<Self, String> {
        if s.len() > NUM_HEX_DIGITS {
            return Err("t-value exceeds 14 hex digits".into());
        }
        if s.is_empty() {
            return Err("t-value is empty".into());
        }
        let v = parse_hex(s).ok_or_else(|| format!("t-value {s:?}: invalid syntax"))?;
        Ok(Self(v << (4 * (NUM_HEX_DIGITS - s.len()))))
    }
}

impl Randomness {
    /// Sampled at every probability.
    pub(crate) const ALL_PROBABILITIES: Self = Self(MAX_ADJUSTED_COUNT - 1);

    /// W3C Trace Context level 2: the least-significant 56 bits of the trace id.
    pub(crate) fn from_trace_id(id: &[u8]) -> Self {
        let mut tail = [0_u8; 8];
        if id.len() >= 16 {
            tail.copy_from_slice(&id[8..16]);
        }
        Self(u64::from_be_bytes(tail) & (MAX_ADJUSTED_COUNT - 1))
    }

    /// The `rv` encoding: exactly 14 lower-case hex digits.
    pub(crate) fn rvalue(self) -> String {
        if self.0 >= MAX_ADJUSTED_COUNT {
            return String::new();
        }
        let mut s = String::with_capacity(NUM_HEX_DIGITS);
        let _ = write!(s, "{:014x}", self.0);
        s
    }

    /// Parses an `rv` value (exactly 14 hex digits).
    pub(crate) fn from_rvalue(s: &str) -> Result<Self, String> {
        if s.len() != NUM_HEX_DIGITS {
            return Err("r-value must have 14 hex digits".into());
        }
        parse_hex(s)
            .map(Self)
            .ok_or_else(|| format!("r-value {s:?}: invalid syntax"))
    }
}

fn parse_hex(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// The error of [`probability_to_threshold_with_precision`]: the probability is outside
/// `[2^-56, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProbabilityRangeError;

/// Go's `math.Frexp` exponent: `x = frac * 2^exp` with `frac` in `[0.5, 1)`; 0 for zero.
fn frexp_exp(x: f64) -> i32 {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let bits = x.abs().to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: normalise first.
        return frexp_exp(x * 2f64.powi(64)) - 64;
    }
    biased - 1022
}

/// `ProbabilityToThresholdWithPrecision` of the Go collector's `pkg/sampling`: the threshold for
/// `prob`, rounded to `precision` significant hex digits, where the precision is raised by one
/// for every leading `0` or `f` digit the threshold has (probabilities near 1 or near 0).
/// A precision of 0 means full precision (14 digits).
pub(crate) fn probability_to_threshold_with_precision(
    prob: f64,
    precision: u32,
) -> Result<Threshold, ProbabilityRangeError> {
    let mut precision = if precision == 0 {
        NUM_HEX_DIGITS as i32
    } else {
        precision as i32
    };
    if !(MIN_SAMPLING_PROBABILITY..=1.0).contains(&prob) {
        return Err(ProbabilityRangeError);
    }
    if prob == 1.0 {
        return Ok(Threshold::ALWAYS);
    }
    let exp_f = frexp_exp(prob);
    let exp_r = frexp_exp(1.0 - prob);
    precision = (NUM_HEX_DIGITS as i32).min((precision + exp_f / -4).max(precision + exp_r / -4));
    let scaled = (prob * MAX_ADJUSTED_COUNT as f64).round() as u64;
    let mut threshold = MAX_ADJUSTED_COUNT - scaled;
    let shift = 4 * (NUM_HEX_DIGITS as i32 - precision);
    if shift > 0 {
        let half = 1_u64 << (shift - 1);
        threshold += half;
        threshold >>= shift;
        threshold <<= shift;
    }
    Ok(Threshold(threshold))
}

/// The OpenTelemetry member (`ot=...`) of a tracestate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OtelTraceState {
    rvalue: Option<(String, Randomness)>,
    tvalue: Option<(String, Threshold)>,
    extra: Vec<(String, String)>,
}

impl OtelTraceState {
    fn parse(input: &str) -> Result<Self, String> {
        let mut otts = Self::default();
        if input.len() > 256 {
            return Err("invalid tracestate size".into());
        }
        if !valid_otel_value(input) {
            return Err("invalid syntax".into());
        }
        let mut errors = Vec::new();
        for member in input.split(';') {
            if member.is_empty() {
                continue;
            }
            let Some((key, value)) = member.split_once(':') else {
                continue;
            };
            match key {
                "rv" => match Randomness::from_rvalue(value) {
                    Ok(r) => otts.rvalue = Some((value.to_owned(), r)),
                    Err(e) => {
                        otts.rvalue = None;
                        errors.push(e);
                    }
                },
                "th" => match Threshold::from_tvalue(value) {
                    Ok(t) => otts.tvalue = Some((value.to_owned(), t)),
                    Err(e) => {
                        otts.tvalue = None;
                        errors.push(e);
                    }
                },
                _ => otts.extra.push((key.to_owned(), value.to_owned())),
            }
        }
        if errors.is_empty() {
            Ok(otts)
        } else {
            Err(errors.join("; "))
        }
    }

    pub(crate) fn randomness(&self) -> Option<Randomness> {
        self.rvalue.as_ref().map(|(_, r)| *r)
    }
    pub(crate) fn threshold(&self) -> Option<Threshold> {
        self.tvalue.as_ref().map(|(_, t)| *t)
    }
    pub(crate) fn set_randomness(&mut self, r: Randomness) {
        self.rvalue = Some((r.rvalue(), r));
    }
    pub(crate) fn clear_threshold(&mut self) {
        self.tvalue = None;
    }
    /// `UpdateTValueWithSampling`: refuses to raise the sampling probability.
    pub(crate) fn update_threshold(&mut self, t: Threshold) -> bool {
        if self.threshold().is_some_and(|existing| existing > t) {
            return false;
        }
        self.tvalue = Some((t.tvalue(), t));
        true
    }
    fn has_any(&self) -> bool {
        self.rvalue.is_some() || self.tvalue.is_some() || !self.extra.is_empty()
    }
    fn serialize(&self, out: &mut String) {
        let mut first = true;
        let mut sep = |out: &mut String| {
            if !first {
                out.push(';');
            }
            first = false;
        };
        if let Some((rv, _)) = &self.rvalue {
            sep(out);
            out.push_str("rv:");
            out.push_str(rv);
        }
        if let Some((tv, _)) = &self.tvalue {
            sep(out);
            out.push_str("th:");
            out.push_str(tv);
        }
        for (k, v) in &self.extra {
            sep(out);
            out.push_str(k);
            out.push(':');
            out.push_str(v);
        }
    }
}

/// `^[a-z][a-z0-9]*:[a-zA-Z0-9._-]*(;[a-z][a-z0-9]*:[a-zA-Z0-9._-]*)*$`
fn valid_otel_value(input: &str) -> bool {
    input.split(';').all(|member| {
        let Some((key, value)) = member.split_once(':') else {
            return false;
        };
        let mut kb = key.bytes();
        kb.next().is_some_and(|b| b.is_ascii_lowercase())
            && kb.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    })
}

/// A parsed W3C `tracestate`, with the OpenTelemetry member parsed further.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct W3cTraceState {
    pub(crate) otel: OtelTraceState,
    extra: Vec<(String, String)>,
}

impl W3cTraceState {
    /// Parses a tracestate as the Go collector's `NewW3CTraceState` does.
    pub(crate) fn parse(input: &str) -> Result<Self, String> {
        let mut w3c = Self::default();
        if input.is_empty() {
            return Ok(w3c);
        }
        if input.len() > 1024 {
            return Err("invalid tracestate size".into());
        }
        if !valid_w3c(input) {
            return Err("invalid syntax".into());
        }
        let mut errors = Vec::new();
        for (items, member) in input.split(',').enumerate() {
            if items + 1 >= 32 {
                return Err("invalid tracestate size".into());
            }
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let Some((key, value)) = member.split_once('=') else {
                continue;
            };
            if key.len() > 256 {
                errors.push("invalid tracestate size".to_owned());
                continue;
            }
            if let Some((tenant, system)) = key.split_once('@')
                && (tenant.len() > 241 || system.len() > 14)
            {
                errors.push("invalid tracestate size".to_owned());
                continue;
            }
            if key == "ot" {
                match OtelTraceState::parse(value) {
                    Ok(o) => w3c.otel = o,
                    Err(e) => errors.push(e),
                }
            } else {
                w3c.extra.push((key.to_owned(), value.to_owned()));
            }
        }
        if errors.is_empty() {
            Ok(w3c)
        } else {
            Err(errors.join("; "))
        }
    }

    /// The tracestate text: the `ot` member first (if it has anything), then the others.
    pub(crate) fn serialize(&self) -> String {
        let mut out = String::new();
        if self.otel.has_any() {
            out.push_str("ot=");
            self.otel.serialize(&mut out);
        }
        for (k, v) in &self.extra {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out
    }
}

fn valid_w3c(input: &str) -> bool {
    input.split(',').all(|member| {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            return true;
        }
        let Some(eq) = member.find('=') else {
            return false;
        };
        if eq < 1 {
            return false;
        }
        valid_w3c_key(&member[..eq]) && valid_w3c_value(&member[eq + 1..])
    })
}

fn key_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'*' | b'/')
}

fn valid_w3c_key(key: &str) -> bool {
    let b = key.as_bytes();
    match key.split_once('@') {
        Some((tenant, system)) => {
            let (t, s) = (tenant.as_bytes(), system.as_bytes());
            !t.is_empty()
                && !s.is_empty()
                && (t[0].is_ascii_lowercase() || t[0].is_ascii_digit())
                && s[0].is_ascii_lowercase()
                && t[1..].iter().all(|c| key_char(*c))
                && s[1..].iter().all(|c| key_char(*c))
        }
        None => !b.is_empty() && b[0].is_ascii_lowercase() && b[1..].iter().all(|c| key_char(*c)),
    }
}

fn nonblank(c: u8) -> bool {
    matches!(c, 0x21..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e)
}

fn valid_w3c_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && nonblank(b[b.len() - 1])
        && b[..b.len() - 1].iter().all(|c| *c == 0x20 || nonblank(*c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tvalues() {
        assert_eq!(Threshold::ALWAYS.tvalue(), "0");
        assert_eq!(Threshold(1 << 55).tvalue(), "8");
        assert_eq!(Threshold::from_tvalue("c"), Ok(Threshold(0xc << 52)));
        assert_eq!(
            Threshold::from_tvalue("80000000000000"),
            Ok(Threshold(1 << 55))
        );
        assert!(Threshold::from_tvalue("abababababababab").is_err());
        assert!(Threshold::from_tvalue("-1").is_err());
        assert!(Randomness::from_rvalue("abababababababab").is_err());
        assert_eq!(Randomness(0xaabbccddeeff).rvalue(), "00aabbccddeeff");
    }

    #[test]
    fn precision_rounding_matches_go_vectors() {
        // From the Go collector's probabilistic sampler tests (Test_tracesamplerprocessor_TraceState).
        let t =
            |p: f64, prec| probability_to_threshold_with_precision(p, prec).map(Threshold::tvalue);
        assert_eq!(t(0.5, 4), Ok("8".into()));
        assert_eq!(t(0.25, 4), Ok("c".into()));
        assert_eq!(t(0.01, 4), Ok("fd70a".into()));
        assert_eq!(t(0.01, 3), Ok("fd71".into()));
        assert_eq!(t(1.0, 4), Ok("0".into()));
        assert_eq!(
            t(f64::from(100.0_f32 / 16384.0) / 100.0, 4),
            Ok("fffc".into())
        );
        assert_eq!(
            t(f64::from(((1.0_f64 - 8e-7) * 100.0) as f32) / 100.0, 10),
            Ok("00000cccccccd".into())
        );
        assert_eq!(t(0.0, 4), Err(ProbabilityRangeError));
        assert_eq!(t(0.01, 0), Ok("fd70a3d70a3d71".into()));
        assert_eq!(t(f64::from(40.0_f32) / 100.0, 3), Ok("99a".into()));
        assert_eq!(t(f64::from(40.0_f32) / 100.0, 6), Ok("99999a".into()));
        assert_eq!(t(f64::from(40.0_f32) / 100.0 * 0.5, 6), Ok("cccccd".into()));
    }

    #[test]
    fn tracestate_round_trip() {
        let ts =
            W3cTraceState::parse("ot=th:8;rv:90000000000000;x:y, vendor=abc").unwrap_or_default();
        assert_eq!(ts.otel.threshold(), Some(Threshold(1 << 55)));
        assert_eq!(ts.serialize(), "ot=rv:90000000000000;th:8;x:y,vendor=abc");
        assert!(W3cTraceState::parse("ot=rv:abababababababab").is_err());
        assert!(W3cTraceState::parse("ot=th:-1").is_err());
        assert!(W3cTraceState::parse("Bad=1").is_err());
        assert_eq!(
            W3cTraceState::parse("").map(|t| t.serialize()),
            Ok(String::new())
        );
    }
}
