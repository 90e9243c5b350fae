//! The detectors (`env`, `system`, `docker`, one file each) and the detection session that
//! runs them: all at once, each retried with backoff while it fails, the whole bounded by the
//! configured time, the results merged in the configured order (the first detector to give an
//! attribute wins, as in otelcol-contrib).

pub(crate) mod docker;
pub(crate) mod env;
pub(crate) mod http;
pub(crate) mod system;
mod system_facts;

use std::sync::Arc;
use std::time::Duration;

use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue, any_value};
use tokio::time::Instant;

use super::config::{ResourceDetectionConfig, RetryConfig, enabled_attributes};
use super::environment::Environment;
use docker::DockerDetector;
use env::EnvDetector;
use system::SystemDetector;

/// Detected attributes, in the order they were found; keys are unique.
pub(crate) type Attributes = Vec<KeyValue>;

/// One configured detector.
#[derive(Debug)]
pub(crate) enum Detector {
    Env(EnvDetector),
    System(SystemDetector),
    Docker(DockerDetector),
}

impl Detector {
    /// The detector's configuration name.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Detector::Env(_) => "env",
            Detector::System(_) => "system",
            Detector::Docker(_) => "docker",
        }
    }

    /// One attempt, within `limit`. An error is a failure (retried, then reported); a
    /// detector that finds nothing to say (no Docker daemon, no variable) returns no
    /// attribute.
    async fn detect(
        &self,
        environment: &Arc<Environment>,
        limit: Option<Duration>,
    ) -> Result<Attributes, String> {
        match self {
            Detector::Env(d) => Ok(d.detect(environment)),
            Detector::System(d) => {
                let (d, environment) = (d.clone(), environment.clone());
                let task = tokio::task::spawn_blocking(move || d.detect(&environment));
                let joined = match limit {
                    Some(limit) => tokio::time::timeout(limit, task)
                        .await
                        .map_err(|_| format!("timed out after {limit:?}"))?,
                    None => task.await,
                };
                joined.map_err(|e| format!("detector task failed: {e}"))?
            }
            Detector::Docker(d) => d.detect(environment, limit).await,
        }
    }
}

/// What a detection gave: the merged attributes of the detectors that succeeded, and one
/// message per detector that failed.
#[derive(Debug, Default)]
pub(crate) struct Detection {
    pub(crate) attributes: Attributes,
    pub(crate) failures: Vec<String>,
}

/// The configured detectors and how long they may take.
#[derive(Debug)]
pub(crate) struct Session {
    detectors: Vec<Arc<Detector>>,
    timeout: Duration,
    retry: RetryConfig,
}

impl Session {
    /// The session of a validated configuration.
    pub(crate) fn new(
        config: &ResourceDetectionConfig,
    ) -> Result<Session, otlp_pipeline::ConfigError> {
        let mut detectors = Vec::new();
        for name in config.detector_names() {
            let detector = match name {
                "env" => Detector::Env(EnvDetector),
                "system" => Detector::System(SystemDetector::new(
                    config.system.sources(),
                    enabled_attributes(
                        "system::resource_attributes",
                        &system::ATTRIBUTES,
                        &config.system.resource_attributes,
                    )?,
                )),
                "docker" => Detector::Docker(DockerDetector::new(
                    enabled_attributes(
                        "docker::resource_attributes",
                        &docker::ATTRIBUTES,
                        &config.docker.resource_attributes,
                    )?,
                    config.fail_on_missing_metadata,
                )),
                other => {
                    return Err(otlp_pipeline::ConfigError::bad_value(
                        "detectors",
                        format!("{other:?} is not a supported detector"),
                    ));
                }
            };
            detectors.push(Arc::new(detector));
        }
        Ok(Session {
            detectors,
            timeout: config.timeout,
            retry: config.retry.clone(),
        })
    }

    /// Runs every detector concurrently and merges their results in configuration order.
    pub(crate) async fn run(&self, environment: &Arc<Environment>) -> Detection {
        let budget = if self.retry.enabled && !self.retry.max_elapsed_time.is_zero() {
            self.retry.max_elapsed_time
        } else {
            self.timeout
        };
        // A budget too large for the clock is no budget.
        let deadline = (!budget.is_zero())
            .then(|| Instant::now().checked_add(budget))
            .flatten();
        let attempt_timeout = (!self.timeout.is_zero()).then_some(self.timeout);
        let tasks: Vec<_> = self
            .detectors
            .iter()
            .map(|detector| {
                let (detector, environment) = (detector.clone(), environment.clone());
                let retry = self.retry.clone();
                tokio::spawn(async move {
                    attempts(&detector, &environment, &retry, attempt_timeout, deadline).await
                })
            })
            .collect();
        let mut detection = Detection::default();
        for (detector, task) in self.detectors.iter().zip(tasks) {
            let result = task
                .await
                .unwrap_or_else(|e| Err(format!("detector task failed: {e}")));
            match result {
                Ok(found) => merge_first_wins(&mut detection.attributes, found),
                Err(message) => detection
                    .failures
                    .push(format!("{}: {message}", detector.name())),
            }
        }
        detection
    }
}

/// Attempts of one detector until one succeeds, retries are off, or the next wait would end
/// past the deadline. Each attempt gets `attempt_timeout`, cut to what is left before the
/// deadline.
async fn attempts(
    detector: &Detector,
    environment: &Arc<Environment>,
    retry: &RetryConfig,
    attempt_timeout: Option<Duration>,
    deadline: Option<Instant>,
) -> Result<Attributes, String> {
    let mut interval = retry.initial_interval;
    let mut attempt: u64 = 0;
    loop {
        attempt += 1;
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let limit = match (attempt_timeout, left) {
            (Some(a), Some(l)) => Some(a.min(l)),
            (a, l) => a.or(l),
        };
        let result = detector.detect(environment, limit).await;
        let error = match result {
            Ok(found) => return Ok(found),
            Err(error) => error,
        };
        tracing::warn!(detector = detector.name(), %error, attempt, "failed to detect resource");
        if !retry.enabled {
            return Err(error);
        }
        let wait = jittered(
            interval.min(retry.max_interval),
            retry.randomization_factor,
            attempt,
        );
        if deadline.is_some_and(|d| Instant::now().checked_add(wait).is_none_or(|end| end >= d)) {
            return Err(error);
        }
        tokio::time::sleep(wait).await;
        interval = scaled(interval, retry.multiplier).min(retry.max_interval);
    }
}

/// `wait` spread over `[wait(1-f), wait(1+f)]`, from the clock and the attempt number (no
/// random number generator needed for spreading retries).
fn jittered(wait: Duration, factor: f64, attempt: u64) -> Duration {
    if factor <= 0.0 {
        return wait;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mixed = (u64::from(nanos) ^ attempt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 1_000_001;
    let unit = mixed as f64 / 1_000_000.0; // [0, 1]
    scaled(wait, 1.0 - factor + 2.0 * factor * unit)
}

/// `duration × factor`, saturating instead of panicking on overflow (`factor` ≥ 0).
fn scaled(duration: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(duration.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// Adds to `into` the attributes of `from` whose keys it does not have yet.
pub(crate) fn merge_first_wins(into: &mut Attributes, from: Attributes) {
    for kv in from {
        if !into.iter().any(|existing| existing.key == kv.key) {
            into.push(kv);
        }
    }
}

/// A string attribute.
pub(crate) fn string(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..KeyValue::default()
    }
}

/// An integer attribute.
pub(crate) fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..KeyValue::default()
    }
}

/// A string-array attribute.
pub(crate) fn strings(key: &str, values: Vec<String>) -> KeyValue {
    let values = values
        .into_iter()
        .map(|v| AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        })
        .collect();
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue { values })),
        }),
        ..KeyValue::default()
    }
}
