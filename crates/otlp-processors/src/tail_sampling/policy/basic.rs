//! The policies that read the trace's shape: `always_sample`, `latency`, `span_count`,
//! `status_code`, `trace_state`, and `probabilistic` (the trace id's hash).

use std::collections::HashSet;

use otlp_pipeline::config::ConfigError;
use otlp_proto::trace::v1::Span;
use tokio::time::Instant;

use super::{Decision, EvalError, Evaluator, TraceView};
use crate::tail_sampling::config::{
    LatencyConfig, ProbabilisticConfig, SpanCountConfig, StatusCodeConfig, TraceStateConfig,
};

/// The decision for a condition.
fn sampled_if(condition: bool) -> Decision {
    if condition {
        Decision::Sampled
    } else {
        Decision::NotSampled
    }
}

/// `always_sample`.
#[derive(Debug)]
pub(crate) struct AlwaysSample;

impl Evaluator for AlwaysSample {
    fn evaluate(&mut self, _: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        Ok(Decision::Sampled)
    }
}

/// `latency`: the span from the earliest start to the latest end, grown span by span in
/// arrival order; the trace is sampled as soon as it is within the thresholds.
#[derive(Debug)]
pub(crate) struct Latency {
    threshold_ms: i64,
    upper_threshold_ms: i64,
}

impl Latency {
    pub(crate) fn new(config: &LatencyConfig, at: &str) -> Result<Latency, ConfigError> {
        if config.threshold_ms < 0 {
            return Err(ConfigError::bad_value(
                format!("{at}::threshold_ms"),
                "must not be negative",
            ));
        }
        if config.upper_threshold_ms != 0 && config.upper_threshold_ms < config.threshold_ms {
            return Err(ConfigError::bad_value(
                format!("{at}::upper_threshold_ms"),
                "must be 0 (no upper bound) or at least threshold_ms",
            ));
        }
        Ok(Latency {
            threshold_ms: config.threshold_ms,
            upper_threshold_ms: config.upper_threshold_ms,
        })
    }
}

impl Evaluator for Latency {
    fn evaluate(&mut self, trace: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        let (mut min, mut max) = (0u64, 0u64);
        Ok(sampled_if(trace.any_span(|span| {
            if min == 0 || span.start_time_unix_nano < min {
                min = span.start_time_unix_nano;
            }
            if max == 0 || span.end_time_unix_nano > max {
                max = span.end_time_unix_nano;
            }
            let ms = ((i128::from(max) - i128::from(min)) / 1_000_000) as i64;
            if self.upper_threshold_ms == 0 {
                ms >= self.threshold_ms
            } else {
                self.threshold_ms < ms && ms <= self.upper_threshold_ms
            }
        })))
    }
}

/// `span_count`: `min_spans ≤ spans ≤ max_spans` (0: no upper bound).
#[derive(Debug)]
pub(crate) struct SpanCount {
    min: u64,
    max: u64,
}

impl SpanCount {
    pub(crate) fn new(config: &SpanCountConfig, at: &str) -> Result<SpanCount, ConfigError> {
        let min = u64::try_from(config.min_spans).map_err(|_| {
            ConfigError::bad_value(format!("{at}::min_spans"), "must not be negative")
        })?;
        let max = u64::try_from(config.max_spans).map_err(|_| {
            ConfigError::bad_value(format!("{at}::max_spans"), "must not be negative")
        })?;
        if max != 0 && max < min {
            return Err(ConfigError::bad_value(
                format!("{at}::max_spans"),
                "must be 0 (no upper bound) or at least min_spans",
            ));
        }
        Ok(SpanCount { min, max })
    }
}

impl Evaluator for SpanCount {
    fn evaluate(&mut self, trace: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        let n = trace.span_count;
        Ok(sampled_if(
            n >= self.min && (self.max == 0 || n <= self.max),
        ))
    }
}

/// `status_code`: some span has one of the codes (no status is `UNSET`).
#[derive(Debug)]
pub(crate) struct StatusCodes {
    codes: Vec<i32>,
}

impl StatusCodes {
    pub(crate) fn new(config: &StatusCodeConfig, at: &str) -> Result<StatusCodes, ConfigError> {
        if config.status_codes.is_empty() {
            return Err(ConfigError::bad_value(
                format!("{at}::status_codes"),
                "at least one status code is required",
            ));
        }
        let codes = config
            .status_codes
            .iter()
            .enumerate()
            .map(|(i, code)| match code.as_str() {
                "UNSET" => Ok(0),
                "OK" => Ok(1),
                "ERROR" => Ok(2),
                other => Err(ConfigError::bad_value(
                    format!("{at}::status_codes[{i}]"),
                    format!("unknown status code {other:?}; use OK, ERROR or UNSET"),
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok(StatusCodes { codes })
    }
}

impl Evaluator for StatusCodes {
    fn evaluate(&mut self, trace: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        Ok(sampled_if(trace.any_span(|span: &Span| {
            let code = span.status.as_ref().map_or(0, |s| s.code);
            self.codes.contains(&code)
        })))
    }
}

/// W3C tracestate: at most this many members.
const MAX_TRACE_STATE_MEMBERS: usize = 32;

/// The value of `key` in a W3C tracestate; `None` when absent or when the header is invalid.
fn trace_state_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let mut found = None;
    let mut members = 0;
    for member in header.split(',') {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        members += 1;
        let (k, v) = member.split_once('=')?;
        if k.is_empty() || v.is_empty() || members > MAX_TRACE_STATE_MEMBERS {
            return None;
        }
        if k == key && found.is_none() {
            found = Some(v);
        }
    }
    found
}

/// `trace_state`: some span's tracestate has `key` with one of the values.
#[derive(Debug)]
pub(crate) struct TraceState {
    key: String,
    values: HashSet<String>,
}

impl TraceState {
    pub(crate) fn new(config: &TraceStateConfig, at: &str) -> Result<TraceState, ConfigError> {
        super::require_key(&config.key, at)?;
        if config.values.is_empty() {
            return Err(ConfigError::bad_value(
                format!("{at}::values"),
                "at least one value is required",
            ));
        }
        // A member (`key=value`) is at most 256 characters.
        let values = config
            .values
            .iter()
            .filter(|v| !v.is_empty() && config.key.len() + v.len() < 256)
            .cloned()
            .collect();
        Ok(TraceState {
            key: config.key.clone(),
            values,
        })
    }
}

impl Evaluator for TraceState {
    fn evaluate(&mut self, trace: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        Ok(sampled_if(trace.any_span(|span| {
            trace_state_value(&span.trace_state, &self.key).is_some_and(|v| self.values.contains(v))
        })))
    }
}

/// contrib's salt when `hash_salt` is empty.
const DEFAULT_HASH_SALT: &str = "default-hash-seed";

/// 64-bit FNV-1a over the salt then the trace id.
fn fnv1a(salt: &[u8], id: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in salt.iter().chain(id) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// `probabilistic`: the salted FNV-1a hash of the trace id, at most the percentage's share of
/// the 64-bit range, samples (the same traces for the same salt on every collector).
#[derive(Debug)]
pub(crate) struct Probabilistic {
    salt: String,
    threshold: u64,
}

impl Probabilistic {
    pub(crate) fn new(
        config: &ProbabilisticConfig,
        at: &str,
    ) -> Result<Probabilistic, ConfigError> {
        let percent = config.sampling_percentage;
        if !(0.0..=100.0).contains(&percent) {
            return Err(ConfigError::bad_value(
                format!("{at}::sampling_percentage"),
                "must be between 0 and 100",
            ));
        }
        let salt = if config.hash_salt.is_empty() {
            DEFAULT_HASH_SALT.to_owned()
        } else {
            config.hash_salt.clone()
        };
        Ok(Probabilistic {
            salt,
            threshold: threshold(percent / 100.0),
        })
    }
}

/// `ratio` of `u64::MAX`, saturating (1.0 is `u64::MAX`).
fn threshold(ratio: f64) -> u64 {
    if ratio >= 1.0 {
        return u64::MAX;
    }
    // `as` saturates; f64 has 53 bits of mantissa, which is plenty for a percentage.
    (u64::MAX as f64 * ratio) as u64
}

impl Evaluator for Probabilistic {
    fn evaluate(&mut self, trace: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        Ok(sampled_if(
            fnv1a(self.salt.as_bytes(), trace.id) <= self.threshold,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // FNV-1a 64 of "" and "a" (the reference values of the FNV specification).
        assert_eq!(fnv1a(b"", b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a", b""), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"", b"a"), fnv1a(b"a", b""));
    }

    #[test]
    fn trace_state_members_are_parsed_as_w3c_lists() {
        assert_eq!(
            trace_state_value("a=1, key3=value1", "key3"),
            Some("value1")
        );
        assert_eq!(trace_state_value("key3=value1,bad", "key3"), None);
        assert_eq!(trace_state_value("", "key3"), None);
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(1.0), u64::MAX);
    }
}
