//! Factories for the pure data processors of [`crate::processors`]: `attributes`,
//! `resource`, `filter`, `probabilistic_sampler`.
//!
//! Each factory reads the processor's own serde configuration (otelcol-contrib's keys; see
//! `docs/configuration.md`, "Data processor reference"), compiles it once per pipeline (regexes, OTTL conditions),
//! checks the pipeline-dependent rules (`validate_for`), and wraps it in a [`Processor`] that
//! edits the request in place (copy-on-write: the fan-out gives it its own copy,
//! `mutates_data` is `true`) and passes it on. A request left with nothing (everything
//! filtered or sampled out) is acknowledged without calling the next stage, as otelcol's
//! `ErrSkipProcessingData` does. Drops are counted:
//! `otelcol_processor_filter_{spans,datapoints,logs}_filtered_total` and
//! `otelcol_processor_probabilistic_sampler_count_{traces,logs}_sampled_total{sampled}`.
//! A `filter` condition that fails to evaluate with `error_mode: propagate` refuses the
//! request permanently (400).

#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

use crate::Signal;
use crate::component::{Consumer, Processor, ProcessorContext, SignalSet};
use crate::components::common::processor_signal;
use crate::config::{ConfigError, parse_config};
use crate::data::Telemetry;
use crate::error::ConsumeError;
use crate::factory::{Factory, ProcessorFactory};
use crate::processors::attributes::{AttributesConfig, AttributesProcessor};
use crate::processors::filter::{FilterConfig, FilterProcessor};
use crate::processors::probabilistic_sampler::{ProbabilisticSampler, ProbabilisticSamplerConfig};
use crate::processors::resource::{ResourceConfig, ResourceProcessor};
use crate::processors::{self, ConfigError as ProcessorConfigError};
use crate::telemetry::{Counter, Metrics};

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
trait DataProcessor: Send + Sync + 'static {
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

impl DataProcessor for AttributesProcessor {
    fn process(&self, data: &mut Telemetry) -> Result<u64, ConsumeError> {
        if let Some(r) = data.traces_mut() {
            self.process_traces(r);
        } else if let Some(r) = data.metrics_mut() {
            self.process_metrics(r);
        } else if let Some(r) = data.logs_mut() {
            self.process_logs(r);
        }
        Ok(0)
    }

    fn validate_for(&self, signal: processors::Signal) -> Result<(), ProcessorConfigError> {
        AttributesProcessor::validate_for(self, signal)
    }
}

impl DataProcessor for ResourceProcessor {
    fn process(&self, data: &mut Telemetry) -> Result<u64, ConsumeError> {
        if let Some(r) = data.traces_mut() {
            self.process_traces(r);
        } else if let Some(r) = data.metrics_mut() {
            self.process_metrics(r);
        } else if let Some(r) = data.logs_mut() {
            self.process_logs(r);
        }
        Ok(0)
    }

    fn validate_for(&self, _signal: processors::Signal) -> Result<(), ProcessorConfigError> {
        Ok(())
    }
}

impl DataProcessor for FilterProcessor {
    fn process(&self, data: &mut Telemetry) -> Result<u64, ConsumeError> {
        let result = if let Some(r) = data.traces_mut() {
            self.process_traces(r)
        } else if let Some(r) = data.metrics_mut() {
            self.process_metrics(r)
        } else if let Some(r) = data.logs_mut() {
            self.process_logs(r)
        } else {
            Ok(0)
        };
        result
            .map(|n| n as u64)
            .map_err(|e| ConsumeError::permanent(e.to_string()))
    }

    fn validate_for(&self, signal: processors::Signal) -> Result<(), ProcessorConfigError> {
        FilterProcessor::validate_for(self, signal)
    }

    fn counters(
        &self,
        metrics: &Metrics,
        ctx: &ProcessorContext,
    ) -> Vec<(Signal, Counter, Option<Counter>)> {
        let unit = match ctx.signal() {
            Signal::Traces => "spans",
            Signal::Metrics => "datapoints",
            Signal::Logs => "logs",
            Signal::Profiles => return Vec::new(),
        };
        let counter = metrics.counter(
            &format!("otelcol_processor_filter_{unit}_filtered_total"),
            &format!("Number of {unit} dropped by the filter processor"),
            &[("processor", ctx.id.as_str())],
        );
        vec![(ctx.signal(), counter, None)]
    }
}

impl DataProcessor for ProbabilisticSampler {
    fn process(&self, data: &mut Telemetry) -> Result<u64, ConsumeError> {
        let dropped = if let Some(r) = data.traces_mut() {
            self.process_traces(r)
        } else if let Some(r) = data.logs_mut() {
            self.process_logs(r)
        } else {
            0
        };
        Ok(dropped as u64)
    }

    fn validate_for(&self, _signal: processors::Signal) -> Result<(), ProcessorConfigError> {
        Ok(())
    }

    fn counters(
        &self,
        metrics: &Metrics,
        ctx: &ProcessorContext,
    ) -> Vec<(Signal, Counter, Option<Counter>)> {
        let unit = match ctx.signal() {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
            _ => return Vec::new(),
        };
        let name = format!("otelcol_processor_probabilistic_sampler_count_{unit}_sampled_total");
        let help = format!("Count of {unit} that were sampled or not");
        let dropped = metrics.counter(
            &name,
            &help,
            &[("processor", ctx.id.as_str()), ("sampled", "false")],
        );
        let kept = metrics.counter(
            &name,
            &help,
            &[("processor", ctx.id.as_str()), ("sampled", "true")],
        );
        vec![(ctx.signal(), dropped, Some(kept))]
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
struct DataFactory<C> {
    type_name: &'static str,
    signals: SignalSet,
    check: fn(&C) -> Result<(), ProcessorConfigError>,
    build: fn(&C) -> Result<Arc<dyn DataProcessor>, ProcessorConfigError>,
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

/// The `attributes` factory.
pub fn attributes_factory() -> impl ProcessorFactory {
    DataFactory::<AttributesConfig> {
        type_name: "attributes",
        signals: SignalSet::TRACES_METRICS_LOGS,
        check: AttributesConfig::validate,
        build: |c| Ok(Arc::new(c.build()?)),
    }
}

/// The `resource` factory.
pub fn resource_factory() -> impl ProcessorFactory {
    DataFactory::<ResourceConfig> {
        type_name: "resource",
        signals: SignalSet::TRACES_METRICS_LOGS,
        check: ResourceConfig::validate,
        build: |c| Ok(Arc::new(c.build()?)),
    }
}

/// The `filter` factory.
pub fn filter_factory() -> impl ProcessorFactory {
    DataFactory::<FilterConfig> {
        type_name: "filter",
        signals: SignalSet::TRACES_METRICS_LOGS,
        check: FilterConfig::validate,
        build: |c| Ok(Arc::new(c.build()?)),
    }
}

/// The `probabilistic_sampler` factory (traces and logs).
pub fn probabilistic_sampler_factory() -> impl ProcessorFactory {
    DataFactory::<ProbabilisticSamplerConfig> {
        type_name: "probabilistic_sampler",
        signals: SignalSet::from([Signal::Traces, Signal::Logs]),
        check: ProbabilisticSamplerConfig::validate,
        build: |c| Ok(Arc::new(c.build()?)),
    }
}
