//! The `attributes` processor as a pipeline component: its factory and its place in the shared
//! data-processor adapter ([`crate::data_processor`]).

use std::sync::Arc;

use otlp_pipeline::component::SignalSet;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::factory::ProcessorFactory;

use super::{AttributesConfig, AttributesProcessor};
use crate::common::{self as processors, ConfigError as ProcessorConfigError};
use crate::data_processor::{DataFactory, DataProcessor};

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

/// The `attributes` factory.
pub fn attributes_factory() -> impl ProcessorFactory {
    DataFactory::<AttributesConfig> {
        type_name: "attributes",
        signals: SignalSet::TRACES_METRICS_LOGS,
        check: AttributesConfig::validate,
        build: |c| Ok(Arc::new(c.build()?)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use otlp_model::attributes::AttributesExt;
    use otlp_model::views::TracesView;
    use otlp_pipeline::Telemetry;
    use otlp_pipeline::testing::{Probe, traces};

    use super::*;
    use crate::data_processor::test_support::build;

    #[tokio::test]
    async fn attributes_edit_a_copy_and_pass_it_on() {
        let probe = Probe::new();
        let resources = otlp_pipeline::Resources::collector();
        let processor = build(
            &attributes_factory(),
            "actions:\n  - {key: env, value: prod, action: insert}",
            "traces",
            probe.clone(),
            &resources,
        );
        assert!(processor.mutates_data());
        let original = Telemetry::new(traces(2));
        processor.consume(original.clone()).await.unwrap();
        let received = probe.received.lock().unwrap()[0].clone();
        assert!(
            received
                .traces()
                .unwrap()
                .spans()
                .all(|s| s.attributes().get_str("env") == Some("prod"))
        );
        assert!(
            original
                .traces()
                .unwrap()
                .spans()
                .all(|s| s.attributes().get_str("env").is_none()),
            "the sender's copy is untouched"
        );
    }
}
