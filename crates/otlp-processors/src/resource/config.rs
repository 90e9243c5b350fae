//! The `resource` processor's configuration.

use serde::Deserialize;

use super::ResourceProcessor;
use crate::common::actions::{ActionConfig, Actions};
use crate::common::{ConfigError, from_yaml};

/// Configuration of the `resource` processor, with otelcol-contrib's keys:
///
/// ```yaml
/// resource:
///   attributes:
///     - key: deployment.environment
///       value: production
///       action: upsert
///     - key: host.ip
///       action: delete
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceConfig {
    /// `attributes`: actions applied in order to each resource's attributes (required).
    #[serde(default)]
    pub attributes: Vec<ActionConfig>,
}

pub(super) const NAME: &str = "resource";

impl ResourceConfig {
    /// Parses the YAML that sits under `processors: resource[/name]:`.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] for malformed YAML, unknown keys or mistyped values.
    pub fn from_yaml(yaml: &str) -> Result<Self, ConfigError> {
        from_yaml(NAME, yaml)
    }

    /// Checks the configuration without keeping the compiled processor.
    ///
    /// # Errors
    /// The first problem found, naming the field and its value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.build().map(drop)
    }

    /// Compiles the actions.
    ///
    /// # Errors
    /// The first problem found, naming the field and its value.
    pub fn build(&self) -> Result<ResourceProcessor, ConfigError> {
        if self.attributes.is_empty() {
            return Err(ConfigError::missing(
                NAME,
                "attributes",
                "the resource processor needs at least one action",
            ));
        }
        Ok(ResourceProcessor {
            actions: Actions::compile(NAME, "attributes", &self.attributes)?,
        })
    }
}
