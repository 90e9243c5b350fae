//! `processors: tail_sampling:`: otelcol-contrib's keys and defaults, deserialized with serde.
//! The checks serde cannot make (ranges, nesting, regexes, OTTL) are in
//! [`super::policy::build`], which compiles the policies and names the offending key.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use otlp_ottl::ErrorMode;
use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::factory::ComponentConfig;

/// `decision_wait`'s default: 30 s.
pub const DEFAULT_DECISION_WAIT: Duration = Duration::from_secs(30);
/// `num_traces`' default.
pub const DEFAULT_NUM_TRACES: u64 = 50_000;

/// The processor's configuration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TailSamplingConfig {
    /// How long after a trace's first span its decision is made.
    #[serde(with = "duration")]
    pub decision_wait: Duration,
    /// The most traces waiting for a decision; a new one beyond it decides the oldest early.
    pub num_traces: u64,
    /// Sizes the trace map up front (capped at `num_traces`).
    pub expected_new_traces_per_sec: u64,
    /// The caches remembering decisions after a trace left memory.
    pub decision_cache: DecisionCacheConfig,
    /// Stop evaluating at the first policy that samples.
    pub sample_on_first_match: bool,
    /// On shutdown, drop the pending traces instead of deciding them with what arrived.
    pub drop_pending_traces_on_shutdown: bool,
    /// The policies, evaluated in order for every trace.
    pub policies: Vec<PolicyConfig>,
}

impl Default for TailSamplingConfig {
    fn default() -> Self {
        TailSamplingConfig {
            decision_wait: DEFAULT_DECISION_WAIT,
            num_traces: DEFAULT_NUM_TRACES,
            expected_new_traces_per_sec: 0,
            decision_cache: DecisionCacheConfig::default(),
            sample_on_first_match: false,
            drop_pending_traces_on_shutdown: false,
            policies: Vec::new(),
        }
    }
}

impl ComponentConfig for TailSamplingConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.decision_wait.is_zero() {
            return Err(ConfigError::bad_value(
                "decision_wait",
                "must be greater than zero",
            ));
        }
        if self.num_traces == 0 {
            return Err(ConfigError::bad_value(
                "num_traces",
                "must be greater than zero",
            ));
        }
        super::policy::build_all(&self.policies).map(|_| ())
    }
}

/// `decision_cache:`: LRU caches of trace ids, by decision (0: that cache is off).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionCacheConfig {
    /// Trace ids kept after a "sample" decision.
    pub sampled_cache_size: u64,
    /// Trace ids kept after a "not sample" (or drop) decision.
    pub non_sampled_cache_size: u64,
}

/// One policy: `{name, type, <type>: {...}}`. Only the section named by `type` is read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// The policy's name (the `policy` label of its metrics); unique among its siblings.
    pub name: String,
    /// The policy type (`always_sample`, `latency`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// `latency:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyConfig>,
    /// `numeric_attribute:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numeric_attribute: Option<NumericAttributeConfig>,
    /// `probabilistic:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probabilistic: Option<ProbabilisticConfig>,
    /// `status_code:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<StatusCodeConfig>,
    /// `string_attribute:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_attribute: Option<StringAttributeConfig>,
    /// `rate_limiting:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limiting: Option<RateLimitingConfig>,
    /// `span_count:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_count: Option<SpanCountConfig>,
    /// `trace_state:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_state: Option<TraceStateConfig>,
    /// `boolean_attribute:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boolean_attribute: Option<BooleanAttributeConfig>,
    /// `ottl_condition:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ottl_condition: Option<OttlConditionConfig>,
    /// `and:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub and: Option<AndConfig>,
    /// `composite:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composite: Option<CompositeConfig>,
    /// `drop:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop: Option<DropConfig>,
}

/// `latency: {threshold_ms, upper_threshold_ms}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyConfig {
    /// Sample traces at least this long (ms), or longer than it when an upper bound is set.
    pub threshold_ms: i64,
    /// Sample only up to this duration (ms, inclusive); 0: no upper bound.
    pub upper_threshold_ms: i64,
}

/// `numeric_attribute: {key, min_value, max_value, invert_match}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NumericAttributeConfig {
    /// The attribute (span or resource).
    pub key: String,
    /// The smallest matching value (inclusive); unset: no lower bound.
    pub min_value: Option<i64>,
    /// The largest matching value (inclusive); unset: no upper bound.
    pub max_value: Option<i64>,
    /// Sample traces where no span or resource matches (deprecated in contrib).
    pub invert_match: bool,
}

/// `probabilistic: {hash_salt, sampling_percentage}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbabilisticConfig {
    /// Salt of the trace id hash; empty: contrib's default salt.
    pub hash_salt: String,
    /// Percentage of traces sampled (0 to 100).
    pub sampling_percentage: f64,
}

/// `status_code: {status_codes}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusCodeConfig {
    /// `OK`, `ERROR` and/or `UNSET`.
    pub status_codes: Vec<String>,
}

/// `string_attribute: {key, values, enabled_regex_matching, cache_max_size, invert_match}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StringAttributeConfig {
    /// The attribute (span or resource).
    pub key: String,
    /// Exact values, or regular expressions with `enabled_regex_matching`.
    pub values: Vec<String>,
    /// Match `values` as (unanchored) regular expressions.
    pub enabled_regex_matching: bool,
    /// Entries of the memo of regex results (0: 128).
    pub cache_max_size: u64,
    /// Sample traces where no span or resource matches (deprecated in contrib).
    pub invert_match: bool,
}

/// `rate_limiting: {spans_per_second}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitingConfig {
    /// Sustained rate of sampled spans; bursts up to twice this.
    pub spans_per_second: i64,
}

/// `span_count: {min_spans, max_spans}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpanCountConfig {
    /// Fewest spans (inclusive).
    pub min_spans: i64,
    /// Most spans (inclusive); 0: no upper bound.
    pub max_spans: i64,
}

/// `trace_state: {key, values}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceStateConfig {
    /// The W3C tracestate member key.
    pub key: String,
    /// Its values that sample.
    pub values: Vec<String>,
}

/// `boolean_attribute: {key, value, invert_match}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BooleanAttributeConfig {
    /// The attribute (span or resource).
    pub key: String,
    /// The value that samples.
    pub value: bool,
    /// Sample traces where no span or resource matches (deprecated in contrib).
    pub invert_match: bool,
}

/// `ottl_condition: {error_mode, span, spanevent}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OttlConditionConfig {
    /// What an evaluation error does: `propagate` fails the policy for this trace (counted
    /// in `sampling_policy_evaluation_error`), `ignore` (logged) and `silent` count the
    /// condition as false.
    pub error_mode: ErrorMode,
    /// Conditions on spans (any true samples).
    pub span: Vec<String>,
    /// Conditions on span events (any true samples).
    pub spanevent: Vec<String>,
}

/// `and: {and_sub_policy}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AndConfig {
    /// Every one must sample.
    pub and_sub_policy: Vec<PolicyConfig>,
}

/// `drop: {drop_sub_policy}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DropConfig {
    /// When every one samples, the trace is dropped whatever the other policies say.
    pub drop_sub_policy: Vec<PolicyConfig>,
}

/// `composite: {max_total_spans_per_second, policy_order, composite_sub_policy,
/// rate_allocation}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompositeConfig {
    /// The most spans per second the composite samples.
    pub max_total_spans_per_second: i64,
    /// Names of the sub-policies (checked to exist; evaluation follows
    /// `composite_sub_policy`'s order, as contrib does).
    pub policy_order: Vec<String>,
    /// The sub-policies.
    pub composite_sub_policy: Vec<PolicyConfig>,
    /// Each sub-policy's share of `max_total_spans_per_second`.
    pub rate_allocation: Vec<RateAllocationConfig>,
}

/// `rate_allocation: [{policy, percent}]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateAllocationConfig {
    /// The sub-policy's name.
    pub policy: String,
    /// Its share in percent (0: an equal share of the total).
    pub percent: i64,
}
