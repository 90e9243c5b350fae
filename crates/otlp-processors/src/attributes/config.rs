//! The `attributes` processor's configuration.

use serde::Deserialize;

use super::AttributesProcessor;
use crate::common::actions::{ActionConfig, Actions};
use crate::common::matching::{MatchConfig, MatchProperties};
use crate::common::{ConfigError, from_yaml};

/// Configuration of the `attributes` processor, with otelcol-contrib's keys:
///
/// ```yaml
/// attributes/example:
///   include:
///     match_type: regexp
///     services: ["auth.*"]
///   actions:
///     - key: db.statement
///       action: delete
///     - key: user.email
///       action: hash
///     - key: http.url
///       pattern: ^(?P<http_protocol>.*):\/\/(?P<http_domain>.*)\/(?P<http_path>.*)$
///       action: extract
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributesConfig {
    /// `actions`: applied in order to each selected item's attributes (required, non-empty).
    #[serde(default)]
    pub actions: Vec<ActionConfig>,
    /// `include`: only items matching these properties are processed.
    #[serde(default)]
    pub include: Option<MatchProperties>,
    /// `exclude`: items matching these properties are not processed (checked after `include`).
    #[serde(default)]
    pub exclude: Option<MatchProperties>,
}

pub(super) const NAME: &str = "attributes";

impl AttributesConfig {
    /// Parses the YAML that sits under `processors: attributes[/name]:` in an otelcol file.
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

    /// Compiles the actions and match properties (regular expressions compiled once).
    ///
    /// # Errors
    /// The first problem found, naming the field and its value.
    pub fn build(&self) -> Result<AttributesProcessor, ConfigError> {
        if self.actions.is_empty() {
            return Err(ConfigError::missing(
                NAME,
                "actions",
                "the attributes processor needs at least one action",
            ));
        }
        Ok(AttributesProcessor {
            actions: Actions::compile(NAME, "actions", &self.actions)?,
            matcher: MatchConfig::compile(NAME, self.include.as_ref(), self.exclude.as_ref())?,
        })
    }
}
