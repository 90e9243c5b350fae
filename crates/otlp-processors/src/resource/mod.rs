//! The `resource` processor: edits the attributes of each resource.
//!
//! Equivalent of otelcol-contrib's `resourceprocessor`: the same actions as the
//! [`attributes`](super::attributes) processor, applied to `Resource.attributes` of every
//! `ResourceSpans`, `ResourceMetrics`, `ResourceLogs` and `ResourceProfiles`. A missing resource
//! is treated as an
//! empty one (and created only if an action adds an attribute).

mod component;
mod config;

pub use component::resource_factory;
#[cfg(test)]
mod tests;

pub use config::ResourceConfig;

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::resource::v1::Resource;

use crate::common::actions::Actions;

/// A compiled `resource` processor; build it with [`ResourceConfig::build`].
#[derive(Debug, Clone)]
pub struct ResourceProcessor {
    actions: Actions,
}

impl ResourceProcessor {
    fn apply(&self, resource: &mut Option<Resource>) {
        match resource {
            Some(r) => self.actions.apply(&mut r.attributes),
            None => {
                let mut attributes = Vec::new();
                self.actions.apply(&mut attributes);
                if !attributes.is_empty() {
                    *resource = Some(Resource {
                        attributes,
                        ..Resource::default()
                    });
                }
            }
        }
    }

    /// Applies the actions to every resource of a traces request.
    pub fn process_traces(&self, request: &mut ExportTraceServiceRequest) {
        for rs in &mut request.resource_spans {
            self.apply(&mut rs.resource);
        }
    }

    /// Applies the actions to every resource of a metrics request.
    pub fn process_metrics(&self, request: &mut ExportMetricsServiceRequest) {
        for rm in &mut request.resource_metrics {
            self.apply(&mut rm.resource);
        }
    }

    /// Applies the actions to every resource of a logs request.
    pub fn process_logs(&self, request: &mut ExportLogsServiceRequest) {
        for rl in &mut request.resource_logs {
            self.apply(&mut rl.resource);
        }
    }

    /// Applies the actions to every resource of a profiles request.
    pub fn process_profiles(&self, request: &mut ExportProfilesServiceRequest) {
        for rp in &mut request.resource_profiles {
            self.apply(&mut rp.resource);
        }
    }
}
