//! The `attributes` processor: edits span, log record and metric data point attributes.
//!
//! Equivalent of otelcol-contrib's `attributesprocessor`. Actions run in order on the
//! attributes of every span (not its events or links), every log record, and every data point
//! of every metric type. `include` / `exclude` select which items are edited; see
//! [`AttributesConfig`] and the processors README for the keys.

mod component;
mod config;

pub use component::attributes_factory;
#[cfg(test)]
mod tests;

pub use config::AttributesConfig;

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::metrics::v1::{Metric, metric::Data};

use crate::common::actions::Actions;
use crate::common::matching::MatchConfig;
use crate::common::{ConfigError, Signal};

/// A compiled `attributes` processor; build it with [`AttributesConfig::build`].
#[derive(Debug, Clone)]
pub struct AttributesProcessor {
    actions: Actions,
    matcher: MatchConfig,
}

impl AttributesProcessor {
    /// Checks the rules that depend on the pipeline's signal (for example `include.log_bodies`
    /// is refused for spans, `include.services` for logs), as otelcol does when it creates the
    /// processor for a pipeline.
    ///
    /// # Errors
    /// [`ConfigError::Signal`] with otelcol's reason.
    pub fn validate_for(&self, signal: Signal) -> Result<(), ConfigError> {
        match self.matcher.problem_for(signal) {
            Some(reason) => Err(ConfigError::Signal {
                processor: config::NAME,
                signal,
                reason: reason.to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// Applies the actions to the attributes of every selected span.
    pub fn process_traces(&self, request: &mut ExportTraceServiceRequest) {
        if self.actions.is_empty() {
            return;
        }
        for rs in &mut request.resource_spans {
            let resource = rs.resource.as_ref();
            for ss in &mut rs.scope_spans {
                let scope = ss.scope.as_ref();
                for span in &mut ss.spans {
                    if !self.matcher.is_empty() && self.matcher.skip_span(span, resource, scope) {
                        continue;
                    }
                    self.actions.apply(&mut span.attributes);
                }
            }
        }
    }

    /// Applies the actions to the attributes of every selected log record.
    pub fn process_logs(&self, request: &mut ExportLogsServiceRequest) {
        if self.actions.is_empty() {
            return;
        }
        for rl in &mut request.resource_logs {
            let resource = rl.resource.as_ref();
            for sl in &mut rl.scope_logs {
                let scope = sl.scope.as_ref();
                for record in &mut sl.log_records {
                    if !self.matcher.is_empty() && self.matcher.skip_log(record, resource, scope) {
                        continue;
                    }
                    self.actions.apply(&mut record.attributes);
                }
            }
        }
    }

    /// Applies the actions to the attributes of every data point of every selected metric.
    pub fn process_metrics(&self, request: &mut ExportMetricsServiceRequest) {
        if self.actions.is_empty() {
            return;
        }
        for rm in &mut request.resource_metrics {
            for sm in &mut rm.scope_metrics {
                for metric in &mut sm.metrics {
                    if !self.matcher.is_empty() && self.matcher.skip_metric(&metric.name) {
                        continue;
                    }
                    for_each_point_attributes(metric, |attrs| self.actions.apply(attrs));
                }
            }
        }
    }
}

/// Calls `f` with the attribute list of every data point of `metric`.
pub(crate) fn for_each_point_attributes(
    metric: &mut Metric,
    mut f: impl FnMut(&mut Vec<KeyValue>),
) {
    match metric.data.as_mut() {
        Some(Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::Sum(s)) => s.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::Histogram(h)) => h.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::ExponentialHistogram(h)) => {
            h.data_points.iter_mut().for_each(|p| f(&mut p.attributes))
        }
        Some(Data::Summary(s)) => s.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        None => {}
    }
}
