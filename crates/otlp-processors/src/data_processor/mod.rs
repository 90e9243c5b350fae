//! Factories for the pure data processors of [`crate::common`]: `attributes`,
//! `resource`, `filter`, `probabilistic_sampler`.
//!
//! Each factory reads the processor's own serde configuration (otelcol-contrib's keys; see
//! `docs/configuration.md`, "Data processor reference"), compiles it once per pipeline (regexes, OTTL conditions),
//! checks the pipeline-dependent rules (`validate_for`), and wraps it in a [`Processor`] that
//! edits the request in place (copy-on-write: the fan-out gives it its own copy,
//! `mutates_data` is `true`) and passes it on. A request left with nothing (everything
//! filtered or sampled out) is acknowledged without calling the next stage, as otelcol's
//! `ErrSkipProcessingData` does. Drops are counted:
//! `otelcol_processor_filter_{spans,datapoints,logs,profiles}_filtered_total` and
//! `otelcol_processor_probabilistic_sampler_count_{traces,logs}_sampled_total{sampled}`.
//! A `filter` condition that fails to evaluate with `error_mode: propagate` refuses the
//! request permanently (400).

#[cfg(all(test, feature = "attributes", feature = "resource", feature = "filter"))]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

use crate::common::processor_signal;
use crate::common::{self as processors, ConfigError as ProcessorConfigError};
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Processor, ProcessorContext, SignalSet};
use otlp_pipeline::config::{ConfigError, parse_config};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::factory::{Factory, ProcessorFactory};
use otlp_pipeline::telemetry::{Counter, Metrics};

/// A processor's own configuration error in the pipeline's terms (the field path and the
/// message).
fn convert(error: ProcessorConfigError) -> ConfigError {
    match &error {
        ProcessorConfigError::InvalidField { field, .. }
        | ProcessorConfigError::MissingField { field, .. }
        | ProcessorConfigError::Condition { field, .. } => {
            ConfigError::bad_value(field.replace('.', "::"), &error)
        }
        _ => ConfigError::invalid(&error),
    }
}

/// What the four wrappers have in common.
pub(crate) trait DataProcessor: Send + Sync + 'static {
    /// Processes `data` in place; returns the items dropped.
    fn process(&self, data: &mut Telemetry) -> Result<u64, ConsumeError>;
    /// Pipeline-dependent rules.
    fn validate_for(&self, signal: processors::Signal) -> Result<(), ProcessorConfigError>;
    /// Registers the drop counters of this instance.
    fn counters(
        &self,
        _metrics: &Metrics,
        _ctx: &ProcessorContext,
    ) -> Vec<(Signal, Counter, Option<Counter>)> {
        Vec::new()
    }
}

/// The processor wrapping one compiled data processor.
struct DataProcessorNode {
    inner: Arc<dyn DataProcessor>,
    next: Arc<dyn Consumer>,
    dropped: Option<Counter>,
    kept: Option<Counter>,
}

#[async_trait]
impl Consumer for DataProcessorNode {
    async fn consume(&self, mut data: Telemetry) -> Result<(), ConsumeError> {
        let before = data.item_count() as u64;
        let dropped = self.inner.process(&mut data)?;
        if let Some(counter) = &self.dropped {
            counter.add(dropped);
        }
        if let Some(counter) = &self.kept {
            counter.add(before.saturating_sub(dropped));
        }
        if data.payload().is_empty() {
            return Ok(());
        }
        self.next.consume(data).await
    }

    fn mutates_data(&self) -> bool {
        true
    }
}

impl Processor for DataProcessorNode {}

/// A factory for one of the pure processors: `C` is its configuration, `build` compiles it.
pub(crate) struct DataFactory<C> {
    pub(crate) type_name: &'static str,
    pub(crate) signals: SignalSet,
    pub(crate) check: fn(&C) -> Result<(), ProcessorConfigError>,
    pub(crate) build: fn(&C) -> Result<Arc<dyn DataProcessor>, ProcessorConfigError>,
}

impl<C: DeserializeOwned + Send + Sync + 'static> DataFactory<C> {
    fn compile(&self, config: &Value) -> Result<Arc<dyn DataProcessor>, ConfigError> {
        let parsed: C = parse_config(config)?;
        (self.check)(&parsed).map_err(convert)?;
        (self.build)(&parsed).map_err(convert)
    }
}

impl<C: DeserializeOwned + Send + Sync + 'static> Factory for DataFactory<C> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn validate(&self, config: &Value) -> Result<(), ConfigError> {
        self.compile(config).map(|_| ())
    }
}

impl<C: DeserializeOwned + Send + Sync + 'static> ProcessorFactory for DataFactory<C> {
    fn supported_signals(&self) -> SignalSet {
        self.signals
    }

    fn validate_for_signal(&self, config: &Value, signal: Signal) -> Result<(), ConfigError> {
        let built = self.compile(config)?;
        match processor_signal(signal) {
            Some(s) => built.validate_for(s).map_err(convert),
            // Profiles have no signal-specific rules: a factory that lists them takes them.
            None if self.signals.contains(signal) => Ok(()),
            None => Err(ConfigError::invalid(format!(
                "{} does not support {signal}",
                self.type_name
            ))),
        }
    }

    fn create(
        &self,
        ctx: ProcessorContext,
        config: Value,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let inner = self.compile(&config)?;
        if let Some(signal) = processor_signal(ctx.signal()) {
            inner.validate_for(signal).map_err(convert)?;
        }
        let metrics = Metrics::from_resources(&ctx.resources);
        let mut counters = inner.counters(&metrics, &ctx).into_iter();
        let (dropped, kept) = match counters.next() {
            Some((_, dropped, kept)) => (Some(dropped), kept),
            None => (None, None),
        };
        Ok(Box::new(DataProcessorNode {
            inner,
            next: ctx.next,
            dropped,
            kept,
        }))
    }
}

/// Building a data processor from YAML in a pipeline, for the processors' tests.
#[cfg(test)]
pub(crate) mod test_support {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use otlp_pipeline::component::{Processor, Resources};
    use otlp_pipeline::factory::ProcessorFactory;
    use otlp_pipeline::testing::{Probe, processor_ctx};
    use serde_yaml_ng::Value;

    /// YAML text as a configuration value.
    pub(crate) fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    /// The processor `factory` makes from `config` in `pipeline`, passing on to `next`.
    pub(crate) fn build(
        factory: &impl ProcessorFactory,
        config: &str,
        pipeline: &str,
        next: Arc<Probe>,
        resources: &Resources,
    ) -> Box<dyn Processor> {
        factory
            .create(
                processor_ctx(
                    &format!("{}/x", factory.type_name()),
                    pipeline,
                    next,
                    resources.clone(),
                ),
                yaml(config),
            )
            .unwrap()
    }
}
