//! The `filter` processor as a pipeline component: its factory and its place in the shared
//! data-processor adapter ([`crate::data_processor`]).

use std::sync::Arc;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{ProcessorContext, SignalSet};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::factory::ProcessorFactory;
use otlp_pipeline::telemetry::{Counter, Metrics};

use super::{FilterConfig, FilterProcessor};
use crate::common::{self as processors, ConfigError as ProcessorConfigError};
use crate::data_processor::{DataFactory, DataProcessor};

impl DataProcessor for FilterProcessor {
    fn process(&self, data: &mut Telemetry) -> Result<u64, ConsumeError> {
        let result = if let Some(r) = data.traces_mut() {
            self.process_traces(r)
        } else if let Some(r) = data.metrics_mut() {
            self.process_metrics(r)
        } else if let Some(r) = data.logs_mut() {
            self.process_logs(r)
        } else if let Some(r) = data.profiles_mut() {
            self.process_profiles(r)
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
            Signal::Profiles => "profiles",
        };
        let counter = metrics.counter(
            &format!("otelcol_processor_filter_{unit}_filtered_total"),
            &format!("Number of {unit} dropped by the filter processor"),
            &[("processor", ctx.id.as_str())],
        );
        vec![(ctx.signal(), counter, None)]
    }
}

/// The `filter` factory.
pub fn filter_factory() -> impl ProcessorFactory {
    DataFactory::<FilterConfig> {
        type_name: "filter",
        signals: SignalSet::ALL,
        check: FilterConfig::validate,
        build: |c| Ok(Arc::new(c.build()?)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use otlp_pipeline::Telemetry;
    use otlp_pipeline::testing::{Probe, logs, metrics, traces};

    use super::*;
    use crate::data_processor::test_support::build;

    #[tokio::test]
    async fn filter_drops_counts_and_skips_empty_requests() {
        let probe = Probe::new();
        let resources = otlp_pipeline::Resources::collector();
        let config = "error_mode: ignore\ntraces:\n  span:\n    - 'attributes[\"http.route\"] == \"/health\"'\nmetrics:\n  datapoint:\n    - 'attributes[\"i\"] >= 0'";
        let traces_filter = build(
            &filter_factory(),
            config,
            "traces",
            probe.clone(),
            &resources,
        );
        traces_filter
            .consume(Telemetry::new(traces(3)))
            .await
            .unwrap();
        assert_eq!(probe.items(), 2);
        let metrics_filter = build(
            &filter_factory(),
            config,
            "metrics",
            probe.clone(),
            &resources,
        );
        metrics_filter
            .consume(Telemetry::new(metrics(4)))
            .await
            .unwrap();
        assert_eq!(
            probe.calls(),
            1,
            "an emptied request is acknowledged without calling the next stage"
        );
        let registry = Metrics::from_resources(&resources);
        assert_eq!(
            registry.value(
                "otelcol_processor_filter_spans_filtered_total",
                &[("processor", "filter/x")]
            ),
            Some(1.0)
        );
        assert_eq!(
            registry.value(
                "otelcol_processor_filter_datapoints_filtered_total",
                &[("processor", "filter/x")]
            ),
            Some(4.0)
        );
    }

    #[tokio::test]
    async fn filter_evaluation_errors_propagate_as_permanent() {
        let probe = Probe::new();
        let resources = otlp_pipeline::Resources::collector();
        let config =
            "error_mode: propagate\nlogs:\n  log_record:\n    - 'Len(attributes[\"n\"]) > 1'";
        let processor = build(&filter_factory(), config, "logs", probe.clone(), &resources);
        let error = processor
            .consume(Telemetry::new(logs(1)))
            .await
            .unwrap_err();
        assert!(error.is_permanent(), "{error}");
        assert_eq!(probe.calls(), 0);
    }
}
