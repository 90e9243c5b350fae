//! librdkafka's log lines and client errors into `tracing`, tagged with the component.

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;

/// A [`ClientContext`] that logs through `tracing` (librdkafka's default goes to the `log`
/// crate, which the collector does not print). Broker connection errors are warnings: the
/// client reconnects by itself.
#[derive(Debug, Clone)]
pub struct TracingContext {
    component: String,
}

impl TracingContext {
    /// A context whose lines name `component` (the component id).
    pub fn new(component: impl Into<String>) -> TracingContext {
        TracingContext {
            component: component.into(),
        }
    }

    /// The component id.
    pub fn component(&self) -> &str {
        &self.component
    }
}

impl ClientContext for TracingContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let component = self.component.as_str();
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(component, facility, "librdkafka: {message}");
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(component, facility, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(component, facility, "librdkafka: {message}");
            }
            RDKafkaLogLevel::Debug => tracing::debug!(component, facility, "librdkafka: {message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(component = self.component.as_str(), %error, "Kafka client: {reason}");
    }
}
