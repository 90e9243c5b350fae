//! `memory_limiter` configuration (otelcol's keys).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::factory::ComponentConfig;
use otlp_pipeline::memory::Limits;

const MIB: u64 = 1024 * 1024;

/// `processors: memory_limiter:` — otelcol's keys.
///
/// ```yaml
/// memory_limiter:
///   check_interval: 1s
///   limit_mib: 4000
///   spike_limit_mib: 800
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryLimiterConfig {
    /// How often memory in use is sampled (required, > 0).
    #[serde(with = "duration")]
    pub check_interval: Duration,
    /// The hard limit in MiB. Either this or `limit_percentage` is required; this one wins
    /// when both are set (as in otelcol).
    pub limit_mib: u64,
    /// Headroom below the hard limit, in MiB: data is refused above `limit − spike` (the soft
    /// limit). Default 20% of the limit.
    pub spike_limit_mib: u64,
    /// The hard limit as a percentage of the memory available (the cgroup limit, else
    /// `MemTotal`).
    pub limit_percentage: u32,
    /// The spike limit as a percentage of the memory available. Default 20% of the limit.
    pub spike_limit_percentage: u32,
    /// Go garbage-collector tuning: accepted for compatibility, ignored (Rust frees memory as
    /// it goes; there is no collector to run).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub min_gc_interval_when_soft_limited: Option<Duration>,
    /// Go garbage-collector tuning: accepted for compatibility, ignored.
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub min_gc_interval_when_hard_limited: Option<Duration>,
}

impl MemoryLimiterConfig {
    /// The soft and hard limits in bytes; percentages are of `total` (bytes available).
    pub(crate) fn limits_with_total(&self, total: Option<u64>) -> Result<Limits, ConfigError> {
        let (hard, spike) = if self.limit_mib > 0 {
            let spike = if self.spike_limit_mib > 0 {
                self.spike_limit_mib * MIB
            } else {
                self.limit_mib * MIB / 5
            };
            (self.limit_mib * MIB, spike)
        } else {
            let total = total.ok_or_else(|| {
                ConfigError::bad_value(
                    "limit_percentage",
                    "the total memory is unknown (no cgroup limit, no /proc/meminfo): use limit_mib",
                )
            })?;
            let hard = total / 100 * u64::from(self.limit_percentage);
            let spike = if self.spike_limit_percentage > 0 {
                total / 100 * u64::from(self.spike_limit_percentage)
            } else {
                hard / 5
            };
            (hard, spike)
        };
        Ok(Limits {
            soft: hard.saturating_sub(spike),
            hard,
        })
    }

    pub(crate) fn limits(&self) -> Result<Limits, ConfigError> {
        let total = if self.limit_mib == 0 {
            otlp_pipeline::telemetry::process_total_memory()
        } else {
            None
        };
        self.limits_with_total(total)
    }
}

impl ComponentConfig for MemoryLimiterConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.check_interval.is_zero() {
            return Err(ConfigError::bad_value(
                "check_interval",
                "must be greater than zero",
            ));
        }
        if self.limit_mib == 0 && self.limit_percentage == 0 {
            return Err(ConfigError::bad_value(
                "limit_mib",
                "limit_mib or limit_percentage must be greater than zero",
            ));
        }
        if self.limit_mib > 0 {
            if self.spike_limit_mib >= self.limit_mib {
                return Err(ConfigError::bad_value(
                    "spike_limit_mib",
                    "must be smaller than limit_mib",
                ));
            }
        } else {
            if self.limit_percentage > 100 || self.spike_limit_percentage > 100 {
                return Err(ConfigError::bad_value(
                    "limit_percentage",
                    "limit_percentage and spike_limit_percentage must be at most 100",
                ));
            }
            if self.spike_limit_percentage >= self.limit_percentage
                && self.spike_limit_percentage > 0
            {
                return Err(ConfigError::bad_value(
                    "spike_limit_percentage",
                    "must be smaller than limit_percentage",
                ));
            }
        }
        Ok(())
    }
}
