//! The `probabilistic_sampler` processor: keeps a configured percentage of spans and log records.
//!
//! Equivalent of otelcol-contrib's `probabilisticsamplerprocessor`, decision for decision:
//!
//! - `hash_seed` mode: `FNV-1a-32(seed as 4 little-endian bytes ++ trace id)`, the low 14 bits
//!   compared with `uint32(float32(percentage) * float32(163.84))` (truncated): an item is kept
//!   when `hash & 0x3fff < scaled`. Any two instances with the same seed and percentage decide
//!   the same way for a trace id, and all spans of a trace share the decision. Kept spans get
//!   `ot=rv:…;th:…` in their tracestate as otelcol writes it.
//! - `proportional` and `equalizing` modes: OpenTelemetry consistent probability sampling with
//!   56-bit randomness from the trace id (or an explicit `rv` in the tracestate) and thresholds
//!   encoded as `th` with `sampling_precision` hex digits.
//! - `sampling.priority` on a span forces drop (0) or keep (> 0), as otelcol does; for logs the
//!   `sampling_priority` attribute gives a per-record percentage.
//! - `fail_closed` (default true) drops items whose randomness is missing (empty trace id) or
//!   whose sampling information is invalid or already present in `hash_seed` mode.

mod component;
mod config;

pub use component::probabilistic_sampler_factory;
pub(crate) mod sampling;
#[cfg(test)]
mod tests;

pub use config::{ProbabilisticSamplerConfig, SamplerMode};

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value::Value};
use otlp_proto::logs::v1::LogRecord;
use otlp_proto::trace::v1::Span;

use self::sampling::{
    MIN_SAMPLING_PROBABILITY, Randomness, Threshold, W3cTraceState,
    probability_to_threshold_with_precision,
};
use otlp_ottl::value::as_string;

const NUM_HASH_BUCKETS: u32 = 0x4000;
const BIT_MASK_HASH_BUCKETS: u32 = NUM_HASH_BUCKETS - 1;
/// otelcol's `percentageScaleFactor` (numHashBuckets / 100), used in float32 arithmetic.
const PERCENTAGE_SCALE_FACTOR: f32 = 163.84;

/// FNV-1a (32-bit) of the seed's 4 little-endian bytes followed by `bytes`: otelcol's
/// `computeHash`.
#[must_use]
pub fn compute_hash(bytes: &[u8], seed: u32) -> u32 {
    const OFFSET: u32 = 2_166_136_261;
    const PRIME: u32 = 16_777_619;
    let mut hash = OFFSET;
    for b in seed.to_le_bytes().iter().chain(bytes) {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

/// The `hash_seed` scaled acceptance rate: `uint32(pct * percentageScaleFactor)` in float32.
#[must_use]
pub fn hash_seed_scaled_rate(percentage: f32) -> u32 {
    let pct = percentage.min(100.0);
    // `as` truncates toward zero, like Go's conversion; NaN and negatives become 0.
    (pct * PERCENTAGE_SCALE_FACTOR) as u32
}

/// otelcol's `randomnessFromBytes`: a 56-bit randomness whose top 14 bits encode the hash so
/// that the OTel threshold test equals the legacy `hash < scaled` test.
pub(crate) fn randomness_from_bytes(bytes: &[u8], seed: u32) -> Randomness {
    let hashed32 = compute_hash(bytes, seed);
    let hashed = u64::from(hashed32 & BIT_MASK_HASH_BUCKETS);
    let rprime14 = u64::from(NUM_HASH_BUCKETS) - 1 - hashed;
    let unused18 = u64::from(hashed32 >> 14);
    let mixed28 = unused18 ^ (unused18 << 10);
    Randomness((rprime14 << 42) | (mixed28 << 14) | hashed)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Never,
    Hashing(Threshold),
    Equalizing(Threshold),
    Proportional { ratio: f64, precision: u32 },
}

impl Kind {
    fn new(cfg: &ProbabilisticSamplerConfig, is_logs: bool) -> Self {
        let pct = cfg.sampling_percentage.min(100.0);
        let mode = cfg.mode.unwrap_or(
            if cfg.hash_seed != 0 || (is_logs && cfg.attribute_source != "traceID") {
                SamplerMode::HashSeed
            } else {
                SamplerMode::Proportional
            },
        );
        if pct == 0.0 {
            return Self::Never;
        }
        let ratio = (f64::from(pct) / 100.0).max(MIN_SAMPLING_PROBABILITY);
        let precision = u32::try_from(cfg.sampling_precision).unwrap_or(4);
        match mode {
            SamplerMode::Equalizing => Self::Equalizing(
                probability_to_threshold_with_precision(ratio, precision)
                    .unwrap_or(Threshold::ALWAYS),
            ),
            SamplerMode::Proportional => Self::Proportional { ratio, precision },
            SamplerMode::HashSeed => {
                let scaled = hash_seed_scaled_rate(pct);
                if scaled == 0 {
                    return Self::Never;
                }
                let reject = u64::from(NUM_HASH_BUCKETS - scaled.min(NUM_HASH_BUCKETS));
                Self::Hashing(Threshold(reject << 42))
            }
        }
    }

    fn decide(self, arriving: Option<Threshold>) -> Threshold {
        match self {
            Self::Never => Threshold::NEVER,
            Self::Hashing(t) | Self::Equalizing(t) => t,
            Self::Proportional { ratio, precision } => {
                let incoming = arriving.map_or(1.0, Threshold::probability);
                // Below the smallest probability: unsampled.
                probability_to_threshold_with_precision(incoming * ratio, precision)
                    .unwrap_or(Threshold::NEVER)
            }
        }
    }
}

/// A built `probabilistic_sampler`; build it with [`ProbabilisticSamplerConfig::build`].
#[derive(Debug, Clone)]
pub struct ProbabilisticSampler {
    traces: Kind,
    logs: Kind,
    hash_seed: u32,
    fail_closed: bool,
    precision: u32,
    logs_trace_id: bool,
    from_attribute: String,
    sampling_priority: String,
}

/// `sampling.priority` on a span (OpenTracing semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    Defer,
    Must,
    Never,
}

fn span_priority(attrs: &[KeyValue]) -> Priority {
    let Some(kv) = attrs.iter().find(|kv| kv.key == "sampling.priority") else {
        return Priority::Defer;
    };
    let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::IntValue(i)) => *i as f64,
        Some(Value::DoubleValue(d)) => *d,
        Some(Value::StringValue(s)) => match crate::common::parse_go_float(s) {
            Some(f) => f,
            None => return Priority::Defer,
        },
        _ => return Priority::Defer,
    };
    if value == 0.0 {
        Priority::Never
    } else if value > 0.0 {
        Priority::Must
    } else {
        Priority::Defer
    }
}

/// A 16-byte trace id, or `None` when absent, malformed or all zero (W3C "invalid").
fn trace_id(bytes: &[u8]) -> Option<[u8; 16]> {
    let id: [u8; 16] = bytes.try_into().ok()?;
    (id != [0; 16]).then_some(id)
}

const THRESHOLD_ATTR: &str = "sampling.threshold";
const RANDOMNESS_ATTR: &str = "sampling.randomness";

/// The sampling information a log record carries in its attributes.
#[derive(Debug, Clone, Copy, Default)]
struct LogCarrier {
    threshold: Option<Threshold>,
    randomness: Option<Randomness>,
}

fn string_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attrs
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?
    {
        Value::StringValue(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn parse_log_carrier(attrs: &[KeyValue]) -> (LogCarrier, bool) {
    let mut carrier = LogCarrier::default();
    let mut error = false;
    if let Some(t) = string_attr(attrs, THRESHOLD_ATTR) {
        match Threshold::from_tvalue(t) {
            Ok(t) => carrier.threshold = Some(t),
            Err(_) => error = true,
        }
    }
    if let Some(r) = string_attr(attrs, RANDOMNESS_ATTR) {
        match Randomness::from_rvalue(r) {
            Ok(r) => carrier.randomness = Some(r),
            Err(_) => error = true,
        }
    }
    (carrier, error)
}

fn put_str(attrs: &mut Vec<KeyValue>, key: &str, value: String) {
    let value = Some(AnyValue {
        value: Some(Value::StringValue(value)),
    });
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = value,
        None => attrs.push(KeyValue {
            key: key.to_owned(),
            value,
            key_strindex: 0,
        }),
    }
}

impl ProbabilisticSampler {
    fn new(cfg: &ProbabilisticSamplerConfig) -> Self {
        Self {
            traces: Kind::new(cfg, false),
            logs: Kind::new(cfg, true),
            hash_seed: cfg.hash_seed,
            fail_closed: cfg.fail_closed,
            precision: u32::try_from(cfg.sampling_precision).unwrap_or(4),
            logs_trace_id: cfg.attribute_source == "traceID",
            from_attribute: cfg.from_attribute.clone(),
            sampling_priority: cfg.sampling_priority.clone(),
        }
    }

    /// Whether this span is kept. May rewrite its tracestate (as otelcol does for kept spans).
    fn sample_span(&self, span: &mut Span) -> bool {
        let tid = trace_id(&span.trace_id);
        let parsed = W3cTraceState::parse(&span.trace_state);
        let mut error = false;
        let (rnd, mut carrier) = match self.traces {
            Kind::Never => {
                error = parsed.is_err();
                (Some(Randomness::ALL_PROBABILITIES), parsed.ok())
            }
            Kind::Hashing(_) => {
                let rnd = tid.map(|id| randomness_from_bytes(&id, self.hash_seed));
                match parsed {
                    Err(_) => {
                        error = true;
                        (rnd, None)
                    }
                    Ok(ts) if ts.otel.randomness().is_some() || ts.otel.threshold().is_some() => {
                        // Sampling information in use: hash_seed mode leaves it alone.
                        error = true;
                        (rnd, None)
                    }
                    Ok(mut ts) => {
                        ts.otel
                            .set_randomness(rnd.unwrap_or(Randomness::ALL_PROBABILITIES));
                        (rnd, Some(ts))
                    }
                }
            }
            Kind::Equalizing(_) | Kind::Proportional { .. } => match parsed {
                Err(_) => {
                    error = true;
                    (None, None)
                }
                Ok(ts) => {
                    let rnd = ts
                        .otel
                        .randomness()
                        .or_else(|| tid.map(|id| Randomness::from_trace_id(&id)));
                    (rnd, Some(ts))
                }
            },
        };
        if !error {
            match rnd {
                None => error = true,
                Some(r) => {
                    if let Some(c) = carrier.as_mut()
                        && c.otel.threshold().is_some_and(|t| !t.should_sample(r))
                    {
                        // An arriving threshold the randomness does not pass is a lie.
                        c.otel.clear_threshold();
                        error = true;
                    }
                }
            }
        }
        let mut threshold = if error {
            if self.fail_closed {
                Threshold::NEVER
            } else {
                Threshold::ALWAYS
            }
        } else {
            self.traces
                .decide(carrier.as_ref().and_then(|c| c.otel.threshold()))
        };
        match span_priority(&span.attributes) {
            Priority::Never => threshold = Threshold::NEVER,
            Priority::Must => threshold = Threshold::ALWAYS,
            Priority::Defer => {}
        }
        let sampled = threshold.should_sample(rnd.unwrap_or(Randomness::ALL_PROBABILITIES));
        if sampled && let Some(mut ts) = carrier {
            ts.otel.update_threshold(threshold);
            span.trace_state = ts.serialize();
        }
        sampled
    }

    /// Whether this log record is kept. May add `sampling.randomness` / `sampling.threshold`
    /// attributes (as otelcol does).
    fn sample_log(&self, record: &mut LogRecord) -> bool {
        let tid = trace_id(&record.trace_id);
        let (parsed, parse_error) = parse_log_carrier(&record.attributes);
        let mut error = parse_error;
        let (rnd, mut carrier) = match self.logs {
            Kind::Never => (Some(Randomness::ALL_PROBABILITIES), Some(parsed)),
            Kind::Hashing(_) => {
                let mut rnd = None;
                if self.logs_trace_id {
                    rnd = tid.map(|id| randomness_from_bytes(&id, self.hash_seed));
                }
                if rnd.is_none()
                    && !self.from_attribute.is_empty()
                    && let Some(kv) = record
                        .attributes
                        .iter()
                        .find(|kv| kv.key == self.from_attribute)
                {
                    let bytes: std::borrow::Cow<'_, [u8]> =
                        match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                            Some(Value::BytesValue(b)) => std::borrow::Cow::Borrowed(b),
                            _ => std::borrow::Cow::Owned(as_string(kv.value.as_ref()).into_bytes()),
                        };
                    if !bytes.is_empty() {
                        rnd = Some(randomness_from_bytes(&bytes, self.hash_seed));
                    }
                }
                if parse_error {
                    (rnd, None)
                } else if parsed.randomness.is_some() || parsed.threshold.is_some() {
                    error = true;
                    (rnd, None)
                } else {
                    let mut carrier = parsed;
                    if let Some(r) = rnd {
                        carrier.randomness = Some(r);
                        put_str(&mut record.attributes, RANDOMNESS_ATTR, r.rvalue());
                    }
                    (rnd, Some(carrier))
                }
            }
            Kind::Equalizing(_) | Kind::Proportional { .. } => {
                if parse_error {
                    (None, None)
                } else {
                    let rnd = parsed
                        .randomness
                        .or_else(|| tid.map(|id| Randomness::from_trace_id(&id)));
                    (rnd, Some(parsed))
                }
            }
        };
        if !error {
            let mut bad = rnd.is_none();
            if let (Some(c), Some(r)) = (carrier.as_mut(), rnd)
                && let Some(t) = c.threshold
                && !t.should_sample(r)
            {
                c.threshold = None;
                record.attributes.retain(|kv| kv.key != THRESHOLD_ATTR);
                bad = true;
            }
            error = bad;
        }
        let mut threshold = if error {
            if self.fail_closed {
                Threshold::NEVER
            } else {
                Threshold::ALWAYS
            }
        } else {
            self.logs.decide(carrier.as_ref().and_then(|c| c.threshold))
        };
        if !self.sampling_priority.is_empty()
            && let Some(kv) = record
                .attributes
                .iter()
                .find(|kv| kv.key == self.sampling_priority)
        {
            let min_prob = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::DoubleValue(d)) => *d / 100.0,
                Some(Value::IntValue(i)) => *i as f64 / 100.0,
                _ => 0.0,
            };
            if min_prob != 0.0
                && let Ok(t) = probability_to_threshold_with_precision(min_prob, self.precision)
            {
                threshold = t;
            }
        }
        let sampled = threshold.should_sample(rnd.unwrap_or(Randomness::ALL_PROBABILITIES));
        if sampled
            && let Some(c) = carrier
            && c.threshold.is_none_or(|existing| threshold >= existing)
        {
            put_str(&mut record.attributes, THRESHOLD_ATTR, threshold.tvalue());
        }
        sampled
    }

    /// Samples spans in place; returns the number of spans dropped. Empty scope and resource
    /// containers are removed.
    pub fn process_traces(&self, request: &mut ExportTraceServiceRequest) -> usize {
        let mut dropped = 0;
        request.resource_spans.retain_mut(|rs| {
            rs.scope_spans.retain_mut(|ss| {
                ss.spans.retain_mut(|span| {
                    let keep = self.sample_span(span);
                    dropped += usize::from(!keep);
                    keep
                });
                !ss.spans.is_empty()
            });
            !rs.scope_spans.is_empty()
        });
        dropped
    }

    /// Samples log records in place; returns the number of records dropped. Empty scope and
    /// resource containers are removed.
    pub fn process_logs(&self, request: &mut ExportLogsServiceRequest) -> usize {
        let mut dropped = 0;
        request.resource_logs.retain_mut(|rl| {
            rl.scope_logs.retain_mut(|sl| {
                sl.log_records.retain_mut(|record| {
                    let keep = self.sample_log(record);
                    dropped += usize::from(!keep);
                    keep
                });
                !sl.log_records.is_empty()
            });
            !rl.scope_logs.is_empty()
        });
        dropped
    }

    /// `true` if a span with this trace id (and no tracestate or priority) is kept: the pure
    /// decision, for tests and tools.
    #[must_use]
    pub fn keeps_trace_id(&self, trace_id: [u8; 16]) -> bool {
        let mut span = Span {
            trace_id: trace_id.to_vec(),
            ..Span::default()
        };
        self.sample_span(&mut span)
    }
}
