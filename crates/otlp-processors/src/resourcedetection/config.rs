//! `processors: resourcedetection:` configuration: otelcol-contrib's keys and defaults, and
//! the checks serde cannot make (detector names, attribute names, the retry budget).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use otlp_pipeline::Signal;
use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::factory::ComponentConfig;

use super::detectors::{docker, system};

/// The detectors this collector implements, in the order the README lists them.
pub const SUPPORTED_DETECTORS: [&str; 3] = ["env", "system", "docker"];

/// Detector names otelcol-contrib knows but this collector does not implement: refused with
/// a message saying so, rather than as unknown.
const CONTRIB_ONLY_DETECTORS: &[&str] = &[
    "gcp",
    "ec2",
    "ecs",
    "elastic_beanstalk",
    "eks",
    "lambda",
    "azure",
    "aks",
    "azurecontainerapps",
    "heroku",
    "openshift",
    "dynatrace",
    "consul",
    "k8s_api",
    "k8snode",
    "kubeadm",
    "hetzner",
    "akamai",
    "scaleway",
    "vultr",
    "oraclecloud",
    "digitalocean",
    "nova",
    "upcloud",
    "alibaba_ecs",
    "tencent_cvm",
    "ibmcloud_vpc",
    "ibmcloud_classic",
];

/// `processors: resourcedetection:` (or `resource_detection:`) — otelcol-contrib's keys.
///
/// ```yaml
/// resourcedetection:
///   detectors: [env, system]
///   override: false
///   timeout: 2s
///   system:
///     hostname_sources: [os]
///     resource_attributes:
///       host.id: {enabled: true}
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceDetectionConfig {
    /// The detectors to run, in priority order: when two detect the same attribute, the one
    /// listed first wins. Default `[env]`.
    pub detectors: Vec<String>,
    /// Whether detected attributes replace attributes the resource already has. Default
    /// `true`.
    #[serde(rename = "override")]
    pub override_existing: bool,
    /// The bound of one detection attempt, and of the whole detection when
    /// `retry.max_elapsed_time` is 0. Default 5s.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// When above 0, detection runs again at this interval; the last good result is kept when
    /// a refresh fails. Default 0 (once, at start).
    #[serde(with = "duration")]
    pub refresh_interval: Duration,
    /// When `true`, a Docker daemon that cannot be contacted fails the `docker` detector
    /// instead of being skipped. Default `false`.
    pub fail_on_missing_metadata: bool,
    /// Retries of a failing detector, with exponential backoff.
    pub retry: RetryConfig,
    /// The `env` detector (no keys).
    pub env: EnvConfig,
    /// The `system` detector.
    pub system: SystemConfig,
    /// The `docker` detector.
    pub docker: DockerConfig,
}

impl Default for ResourceDetectionConfig {
    fn default() -> Self {
        ResourceDetectionConfig {
            detectors: vec!["env".to_owned()],
            override_existing: true,
            timeout: Duration::from_secs(5),
            refresh_interval: Duration::ZERO,
            fail_on_missing_metadata: false,
            retry: RetryConfig::default(),
            env: EnvConfig::default(),
            system: SystemConfig::default(),
            docker: DockerConfig::default(),
        }
    }
}

/// `retry:` — the backoff between attempts of a failing detector (otelcol's
/// `configretry.BackOffConfig`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// `false`: one attempt per detector. Default `true`.
    pub enabled: bool,
    /// The wait before the first retry. Default 1s.
    #[serde(with = "duration")]
    pub initial_interval: Duration,
    /// Jitter: each wait is drawn in `[w(1-f), w(1+f)]`. Default 0.5.
    pub randomization_factor: f64,
    /// Each wait is the previous one times this, up to `max_interval`. Default 2.
    pub multiplier: f64,
    /// The longest wait. Default 30s.
    #[serde(with = "duration")]
    pub max_interval: Duration,
    /// The whole detection's budget; 0 means `timeout` bounds it. Default 0.
    #[serde(with = "duration")]
    pub max_elapsed_time: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            enabled: true,
            initial_interval: Duration::from_secs(1),
            randomization_factor: 0.5,
            multiplier: 2.0,
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::ZERO,
        }
    }
}

/// `env:` — the `env` detector has no settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {}

/// Where the `system` detector takes `host.name` from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostnameSource {
    /// The fully qualified name: the hosts file's canonical name for the host, then `lookup`.
    Dns,
    /// The kernel's host name.
    Os,
    /// The canonical name of the host name (from the hosts file).
    Cname,
    /// A name for the host's addresses (system resolver, then the hosts file).
    Lookup,
}

impl HostnameSource {
    /// The configuration spelling.
    pub fn name(self) -> &'static str {
        match self {
            HostnameSource::Dns => "dns",
            HostnameSource::Os => "os",
            HostnameSource::Cname => "cname",
            HostnameSource::Lookup => "lookup",
        }
    }
}

/// `resource_attributes: <name>: {enabled: …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeToggle {
    /// Whether the detector emits the attribute.
    pub enabled: bool,
}

/// `system:` — the `system` detector.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SystemConfig {
    /// Tried in order until one gives a name; empty means `[dns, os]`.
    pub hostname_sources: Vec<HostnameSource>,
    /// Turns attributes on or off; only `host.name` and `os.type` are on by default.
    pub resource_attributes: BTreeMap<String, AttributeToggle>,
}

impl SystemConfig {
    /// The hostname sources in effect (contrib's default when none is configured).
    pub(crate) fn sources(&self) -> Vec<HostnameSource> {
        if self.hostname_sources.is_empty() {
            vec![HostnameSource::Dns, HostnameSource::Os]
        } else {
            self.hostname_sources.clone()
        }
    }
}

/// `docker:` — the `docker` detector.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DockerConfig {
    /// Turns attributes on or off; `host.name` and `os.type`, both on by default.
    pub resource_attributes: BTreeMap<String, AttributeToggle>,
}

/// The attributes a detector emits: its defaults (`known`, name and enabled) with the
/// configured toggles applied. An unknown name is refused, listing the known ones.
pub(crate) fn enabled_attributes(
    field: &str,
    known: &[(&'static str, bool)],
    toggles: &BTreeMap<String, AttributeToggle>,
) -> Result<BTreeSet<&'static str>, ConfigError> {
    if let Some(unknown) = toggles
        .keys()
        .find(|name| !known.iter().any(|(k, _)| k == name))
    {
        let names: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
        return Err(ConfigError::bad_value(
            format!("{field}::{unknown}"),
            format!(
                "unknown resource attribute; this detector supports: {}",
                names.join(", ")
            ),
        ));
    }
    Ok(known
        .iter()
        .filter(|(name, default)| toggles.get(*name).map_or(*default, |t| t.enabled))
        .map(|(name, _)| *name)
        .collect())
}

impl ResourceDetectionConfig {
    /// The detector names, trimmed (as contrib trims them).
    pub(crate) fn detector_names(&self) -> impl Iterator<Item = &str> {
        self.detectors.iter().map(|d| d.trim())
    }

    fn check_detectors(&self) -> Result<(), ConfigError> {
        if self.detectors.is_empty() {
            return Err(ConfigError::bad_value(
                "detectors",
                format!(
                    "at least one detector is required; supported: {}",
                    SUPPORTED_DETECTORS.join(", ")
                ),
            ));
        }
        for (i, name) in self.detector_names().enumerate() {
            if SUPPORTED_DETECTORS.contains(&name) {
                continue;
            }
            let why = if CONTRIB_ONLY_DETECTORS.contains(&name) {
                "is an otelcol-contrib detector this collector does not implement"
            } else {
                "is not a known detector"
            };
            return Err(ConfigError::bad_value(
                format!("detectors[{i}]"),
                format!(
                    "{name:?} {why}; supported: {}",
                    SUPPORTED_DETECTORS.join(", ")
                ),
            ));
        }
        Ok(())
    }

    fn check_retry(&self) -> Result<(), ConfigError> {
        let retry = &self.retry;
        if !retry.enabled {
            return Ok(());
        }
        if self.timeout.is_zero() && retry.max_elapsed_time.is_zero() {
            return Err(ConfigError::bad_value(
                "retry",
                "with retry enabled, `timeout` or `retry::max_elapsed_time` must be above 0, \
                 or a failing detector would block start forever",
            ));
        }
        if !(retry.multiplier.is_finite() && retry.multiplier >= 1.0) {
            return Err(ConfigError::bad_value(
                "retry::multiplier",
                "must be a number of at least 1",
            ));
        }
        if !(retry.randomization_factor.is_finite()
            && (0.0..=1.0).contains(&retry.randomization_factor))
        {
            return Err(ConfigError::bad_value(
                "retry::randomization_factor",
                "must be between 0 and 1",
            ));
        }
        if retry.initial_interval.is_zero() {
            return Err(ConfigError::bad_value(
                "retry::initial_interval",
                "must be above 0",
            ));
        }
        Ok(())
    }
}

impl ComponentConfig for ResourceDetectionConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.check_detectors()?;
        self.check_retry()?;
        enabled_attributes(
            "system::resource_attributes",
            &system::ATTRIBUTES,
            &self.system.resource_attributes,
        )?;
        enabled_attributes(
            "docker::resource_attributes",
            &docker::ATTRIBUTES,
            &self.docker.resource_attributes,
        )?;
        Ok(())
    }

    fn validate_for_signal(&self, _signal: Signal) -> Result<(), ConfigError> {
        Ok(())
    }
}
