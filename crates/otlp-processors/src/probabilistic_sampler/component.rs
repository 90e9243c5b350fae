//! The `probabilistic_sampler` processor as a pipeline component: its factory and its place in the shared
//! data-processor adapter ([`crate::data_processor`]).

use std::sync::Arc;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{ProcessorContext, SignalSet};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::factory::ProcessorFactory;
use otlp_pipeline::telemetry::{Counter, Metrics};

use super::{ProbabilisticSampler, ProbabilisticSamplerConfig};
use crate::common::{self as processors, ConfigError as ProcessorConfigError};
use crate::data_processor::{DataFactory, DataProcessor};

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

/// The `probabilistic_sampler` factory (traces and logs).
pub fn probabilistic_sampler_factory() -> impl ProcessorFactory {
    DataFactory::<ProbabilisticSamplerConfig> {
        type_name: "probabilistic_sampler",
        signals: SignalSet::from([Signal::Traces, Signal::Logs]),
        check: ProbabilisticSamplerConfig::validate,
        build: |c| Ok(Arc::new(c.build()?)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use otlp_model::views::LogsView;
    use otlp_pipeline::Telemetry;
    use otlp_pipeline::testing::{Probe, logs, traces};

    use super::*;
    use crate::data_processor::test_support::build;

    #[tokio::test]
    async fn sampler_counts_sampled_and_not() {
        let probe = Probe::new();
        let resources = otlp_pipeline::Resources::collector();
        let processor = build(
            &probabilistic_sampler_factory(),
            "sampling_percentage: 0",
            "traces",
            probe.clone(),
            &resources,
        );
        processor.consume(Telemetry::new(traces(5))).await.unwrap();
        assert_eq!(probe.calls(), 0);
        let keep_all = build(
            &probabilistic_sampler_factory(),
            "sampling_percentage: 100\nfail_closed: false",
            "logs",
            probe.clone(),
            &resources,
        );
        keep_all.consume(Telemetry::new(logs(2))).await.unwrap();
        assert_eq!(
            probe.received.lock().unwrap()[0]
                .logs()
                .unwrap()
                .log_record_count(),
            2
        );
        let registry = Metrics::from_resources(&resources);
        let name = "otelcol_processor_probabilistic_sampler_count_traces_sampled_total";
        assert_eq!(
            registry.value(
                name,
                &[
                    ("processor", "probabilistic_sampler/x"),
                    ("sampled", "false")
                ]
            ),
            Some(5.0)
        );
        assert_eq!(
            registry.value(
                name,
                &[
                    ("processor", "probabilistic_sampler/x"),
                    ("sampled", "true")
                ]
            ),
            Some(0.0)
        );
        let name = "otelcol_processor_probabilistic_sampler_count_logs_sampled_total";
        assert_eq!(
            registry.value(
                name,
                &[
                    ("processor", "probabilistic_sampler/x"),
                    ("sampled", "true")
                ]
            ),
            Some(2.0)
        );
    }
}
