//! `forward`: otelcol's forward connector. Data exported to it by one pipeline is received,
//! unchanged, by every pipeline that lists it as a receiver, of the same signal. It joins
//! pipelines: several pipelines into one (fan-in, e.g. to share one set of processors), or one
//! into several with different processors. No configuration.
//!
//! It neither reads nor writes the data (`mutates_data` is `false`), so the bytes a receiver
//! validated travel on without a decode, and whatever the pipelines behind it answer (a
//! refusal, a retry delay) is what the sender gets.

#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::{
    ConfigError, Connector, ConnectorContext, ConnectorFactory, ConsumeError, Consumer, Refused,
    Signal, Telemetry,
};
use serde::{Deserialize, Serialize};

/// The pairs it connects: each signal to itself.
pub const PAIRS: &[(Signal, Signal)] = &[
    (Signal::Traces, Signal::Traces),
    (Signal::Metrics, Signal::Metrics),
    (Signal::Logs, Signal::Logs),
    (Signal::Profiles, Signal::Profiles),
];

/// `forward` takes no keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardConfig {}

impl ComponentConfig for ForwardConfig {}

/// One instance: the consumer of the pipelines it feeds.
struct Forward {
    next: Arc<dyn Consumer>,
}

#[async_trait]
impl Consumer for Forward {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.next.consume(data).await
    }

    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        self.next.consume_or_return(data).await
    }

    fn mutates_data(&self) -> bool {
        self.next.mutates_data()
    }
}

impl Connector for Forward {}

fn create(
    ctx: ConnectorContext,
    _config: ForwardConfig,
) -> Result<Box<dyn Connector>, ConfigError> {
    Ok(Box::new(Forward { next: ctx.next }))
}

/// The `forward` factory.
pub fn factory() -> impl ConnectorFactory {
    FnFactory::connector("forward", PAIRS, create)
}
