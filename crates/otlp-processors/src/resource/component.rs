//! The `resource` processor as a pipeline component: its factory and its place in the shared
//! data-processor adapter ([`crate::data_processor`]).

use std::sync::Arc;

use otlp_pipeline::component::SignalSet;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::factory::ProcessorFactory;

use super::{ResourceConfig, ResourceProcessor};
use crate::common::{self as processors, ConfigError as ProcessorConfigError};
use crate::data_processor::{DataFactory, DataProcessor};

impl DataProcessor for ResourceProcessor {
    fn process(&self, data: &mut Telemetry) -> Result<u64, ConsumeError> {
        if let Some(r) = data.traces_mut() {
            self.process_traces(r);
        } else if let Some(r) = data.metrics_mut() {
            self.process_metrics(r);
        } else if let Some(r) = data.logs_mut() {
            self.process_logs(r);
        } else if let Some(r) = data.profiles_mut() {
            self.process_profiles(r);
        }
        Ok(0)
    }

    fn validate_for(&self, _signal: processors::Signal) -> Result<(), ProcessorConfigError> {
        Ok(())
    }
}

/// The `resource` factory.
pub fn resource_factory() -> impl ProcessorFactory {
    DataFactory::<ResourceConfig> {
        type_name: "resource",
        signals: SignalSet::ALL,
        check: ResourceConfig::validate,
        build: |c| Ok(Arc::new(c.build()?)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use otlp_model::attributes::AttributesExt;

    use otlp_pipeline::Telemetry;
    use otlp_pipeline::testing::{Probe, logs};

    use super::*;
    use crate::data_processor::test_support::build;

    #[tokio::test]
    async fn resource_processor_upserts() {
        let probe = Probe::new();
        let resources = otlp_pipeline::Resources::collector();
        let processor = build(
            &resource_factory(),
            "attributes:\n  - {key: deployment.environment, value: staging, action: upsert}",
            "logs",
            probe.clone(),
            &resources,
        );
        processor.consume(Telemetry::new(logs(1))).await.unwrap();
        let received = probe.received.lock().unwrap()[0].clone();
        let resource = received.logs().unwrap().resource_logs[0]
            .resource
            .clone()
            .unwrap();
        assert_eq!(
            resource.attributes.get_str("deployment.environment"),
            Some("staging")
        );
    }
}
