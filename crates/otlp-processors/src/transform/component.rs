//! The `transform` processor as a pipeline component: its factory and its place in the shared
//! data-processor adapter ([`crate::data_processor`]).

use std::sync::Arc;

use otlp_pipeline::component::SignalSet;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::factory::ProcessorFactory;

use super::{TransformConfig, TransformProcessor};
use crate::common::{self as processors, ConfigError as ProcessorConfigError};
use crate::data_processor::{DataFactory, DataProcessor};

impl DataProcessor for TransformProcessor {
    /// Edits the request in place (copy-on-write: only when there are statements for its
    /// signal); never drops items. A statement error with `error_mode: propagate` refuses the
    /// request permanently.
    fn process(&self, data: &mut Telemetry) -> Result<u64, ConsumeError> {
        let signal = processors::processor_signal(data.signal());
        if !signal.is_some_and(|s| self.has_statements(s)) {
            return Ok(0);
        }
        let result = if let Some(r) = data.traces_mut() {
            self.process_traces(r)
        } else if let Some(r) = data.metrics_mut() {
            self.process_metrics(r)
        } else if let Some(r) = data.logs_mut() {
            self.process_logs(r)
        } else {
            Ok(())
        };
        result
            .map(|()| 0)
            .map_err(|e| ConsumeError::permanent(e.to_string()))
    }

    fn validate_for(&self, signal: processors::Signal) -> Result<(), ProcessorConfigError> {
        TransformProcessor::validate_for(self, signal)
    }
}

/// The `transform` factory.
pub fn transform_factory() -> impl ProcessorFactory {
    DataFactory::<TransformConfig> {
        type_name: "transform",
        signals: SignalSet::TRACES_METRICS_LOGS,
        check: TransformConfig::validate,
        build: |c| Ok(Arc::new(c.build()?)),
    }
}
