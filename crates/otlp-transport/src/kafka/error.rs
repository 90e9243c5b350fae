//! The configuration error of the Kafka settings: which key, and what is wrong with it.

/// A Kafka setting that cannot be used. `key` is the configuration path in otelcol's `::`
/// notation (`auth::sasl::mechanism`, `traces::encoding`), so that a component can report it
/// as its own configuration error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct KafkaConfigError {
    /// The offending key.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl KafkaConfigError {
    /// An error about `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> KafkaConfigError {
        KafkaConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}
