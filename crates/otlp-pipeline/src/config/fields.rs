//! Pieces of component configurations that components of every kind use: keys written with
//! nothing under them, component ids in values, positive durations.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::config::ConfigError;

/// For `Option<T>` fields whose key may be written with nothing under it (`grpc:`): a present
/// key reads as `Some` (its default when `null`), an absent key as `None` (with
/// `#[serde(default)]`).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(
        Option::<T>::deserialize(deserializer)?.unwrap_or_default(),
    ))
}

/// For fields whose key may be written with nothing under it and that have a default
/// (`protocols:`): `null` reads as the default.
pub fn null_as_empty<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A component id written in a configuration value (`storage: file_storage/queue`).
pub fn parse_id(path: &str, text: &str) -> Result<crate::ComponentId, ConfigError> {
    text.parse().map_err(|e| ConfigError::bad_value(path, e))
}

/// A duration that must be positive.
pub fn positive(path: &str, duration: Duration) -> Result<(), ConfigError> {
    if duration.is_zero() {
        Err(ConfigError::bad_value(path, "must be greater than zero"))
    } else {
        Ok(())
    }
}
