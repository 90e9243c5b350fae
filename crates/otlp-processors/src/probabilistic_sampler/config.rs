//! The `probabilistic_sampler` processor's configuration.

use serde::Deserialize;

use super::ProbabilisticSampler;
use super::sampling::MIN_SAMPLING_PROBABILITY;
use crate::common::{ConfigError, from_yaml};

pub(super) const NAME: &str = "probabilistic_sampler";

/// `mode`: how the sampling decision is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplerMode {
    /// FNV-1a hash of the seed and the trace id (or a log attribute), 14 bits of precision.
    HashSeed,
    /// OTel consistent sampling; lowers the arriving sampling probability to the configured one.
    Equalizing,
    /// OTel consistent sampling; multiplies the arriving probability by the configured one.
    Proportional,
}

/// Configuration of the `probabilistic_sampler` processor, with otelcol-contrib's keys and
/// defaults:
///
/// ```yaml
/// probabilistic_sampler:
///   sampling_percentage: 15.3
///   hash_seed: 22
///   mode: hash_seed          # default: hash_seed when hash_seed != 0 (or for logs with
///                            # attribute_source: record), else proportional
///   fail_closed: true        # default
///   sampling_precision: 4    # default; 1..14
///   attribute_source: traceID  # logs: traceID (default) or record
///   from_attribute: logID      # logs: attribute to hash when there is no trace id
///   sampling_priority: priority  # logs: attribute holding a per-record percentage
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbabilisticSamplerConfig {
    /// `sampling_percentage` (float32): 0 drops everything, >= 100 keeps everything.
    #[serde(default)]
    pub sampling_percentage: f32,
    /// `hash_seed` (uint32).
    #[serde(default)]
    pub hash_seed: u32,
    /// `mode`; unset picks as otelcol does (see the type docs).
    #[serde(default)]
    pub mode: Option<SamplerMode>,
    /// `fail_closed`: drop items whose sampling information is missing or invalid.
    #[serde(default = "default_true")]
    pub fail_closed: bool,
    /// `sampling_precision`: hex digits of the encoded threshold, 1..=14.
    #[serde(default = "default_precision")]
    pub sampling_precision: i64,
    /// `attribute_source` (logs): `traceID` or `record`.
    #[serde(default = "default_source")]
    pub attribute_source: String,
    /// `from_attribute` (logs): the record attribute hashed when there is no trace id, or always
    /// with `attribute_source: record`.
    #[serde(default)]
    pub from_attribute: String,
    /// `sampling_priority` (logs): a record attribute whose numeric value is a sampling
    /// percentage that replaces `sampling_percentage` for that record.
    #[serde(default)]
    pub sampling_priority: String,
}

fn default_true() -> bool {
    true
}
fn default_precision() -> i64 {
    4
}
fn default_source() -> String {
    "traceID".to_owned()
}

impl Default for ProbabilisticSamplerConfig {
    fn default() -> Self {
        Self {
            sampling_percentage: 0.0,
            hash_seed: 0,
            mode: None,
            fail_closed: true,
            sampling_precision: 4,
            attribute_source: default_source(),
            from_attribute: String::new(),
            sampling_priority: String::new(),
        }
    }
}

impl ProbabilisticSamplerConfig {
    /// Parses the YAML that sits under `processors: probabilistic_sampler[/name]:`.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] for malformed YAML, unknown keys, mistyped values or an unknown
    /// `mode`.
    pub fn from_yaml(yaml: &str) -> Result<Self, ConfigError> {
        from_yaml(NAME, yaml)
    }

    /// Checks the configuration as otelcol's `Config.Validate` does.
    ///
    /// # Errors
    /// The offending field and value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let pct = f64::from(self.sampling_percentage);
        let bad = |why: &str| {
            ConfigError::invalid(
                NAME,
                "sampling_percentage",
                self.sampling_percentage.to_string(),
                why.to_owned(),
            )
        };
        if !pct.is_finite() {
            return Err(bad("sampling rate is invalid"));
        }
        let ratio = pct / 100.0;
        if ratio < 0.0 {
            return Err(bad("sampling rate is negative"));
        }
        if ratio != 0.0 && ratio < MIN_SAMPLING_PROBABILITY {
            return Err(bad("sampling rate is too small"));
        }
        if !self.attribute_source.is_empty()
            && self.attribute_source != "traceID"
            && self.attribute_source != "record"
        {
            return Err(ConfigError::invalid(
                NAME,
                "attribute_source",
                &self.attribute_source,
                "expected traceID or record",
            ));
        }
        if self.sampling_precision == 0 {
            return Err(ConfigError::invalid(
                NAME,
                "sampling_precision",
                "0",
                "invalid sampling precision: 0",
            ));
        }
        if !(1..=14).contains(&self.sampling_precision) {
            return Err(ConfigError::invalid(
                NAME,
                "sampling_precision",
                self.sampling_precision.to_string(),
                "sampling precision must be 1..=14",
            ));
        }
        Ok(())
    }

    /// Validates and builds the sampler (one decision function per signal, since an unset `mode`
    /// can resolve differently for traces and logs).
    ///
    /// # Errors
    /// The offending field and value.
    pub fn build(&self) -> Result<ProbabilisticSampler, ConfigError> {
        self.validate()?;
        Ok(ProbabilisticSampler::new(self))
    }
}
