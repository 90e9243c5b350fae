//! The `resourcedetection` processor (alias `resource_detection`): detects attributes of the
//! host once, at start, and adds them to the resource of every request.
//!
//! Equivalent of otelcol-contrib's `resourcedetectionprocessor` with the `env`, `system` and
//! `docker` detectors (other contrib detector names are refused at validation):
//!
//! - detection runs at `start`, every detector at once, each retried with backoff while it
//!   fails, the whole bounded by `timeout` (or `retry.max_elapsed_time`); when several give
//!   the same attribute, the detector listed first wins;
//! - a failing detector is logged, the others' attributes are kept, and start fails with the
//!   failures, as contrib's start does; a detector with nothing to report (no Docker
//!   daemon, no `OTEL_RESOURCE_ATTRIBUTES`) is not a failure;
//! - with `refresh_interval`, detection runs again periodically, keeping the last good result
//!   when a refresh fails;
//! - every resource (traces, metrics, logs, profiles) gets the attributes: with `override:
//!   true` (the default) they replace existing ones, with `false` only missing keys are added.
//!
//! The detectors read the host through [`Environment`], so tests run them on fixtures.

mod component;
mod config;
mod detectors;
mod environment;

#[cfg(test)]
mod tests;

pub use component::{DetectionFailed, ResourceDetectionProcessor, resourcedetection_factory};
pub use config::{
    AttributeToggle, DockerConfig, EnvConfig, HostnameSource, ResourceDetectionConfig, RetryConfig,
    SUPPORTED_DETECTORS, SystemConfig,
};
pub use environment::Environment;

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::resource::v1::Resource;

/// Merges `detected` into `resource` (created when missing): with `override_existing` a
/// detected key replaces the resource's value, without it only keys the resource lacks are
/// added. Nothing detected leaves the resource untouched.
pub fn merge_resource(
    resource: &mut Option<Resource>,
    detected: &[KeyValue],
    override_existing: bool,
) {
    if detected.is_empty() {
        return;
    }
    let resource = resource.get_or_insert_with(Resource::default);
    let attributes = &mut resource.attributes;
    for kv in detected {
        match attributes
            .iter_mut()
            .find(|existing| existing.key == kv.key)
        {
            Some(existing) if override_existing => existing.value.clone_from(&kv.value),
            Some(_) => {}
            None => attributes.push(kv.clone()),
        }
    }
}

/// [`merge_resource`] on every resource of a traces request.
pub fn merge_traces(
    request: &mut ExportTraceServiceRequest,
    detected: &[KeyValue],
    override_existing: bool,
) {
    for rs in &mut request.resource_spans {
        merge_resource(&mut rs.resource, detected, override_existing);
    }
}

/// [`merge_resource`] on every resource of a metrics request.
pub fn merge_metrics(
    request: &mut ExportMetricsServiceRequest,
    detected: &[KeyValue],
    override_existing: bool,
) {
    for rm in &mut request.resource_metrics {
        merge_resource(&mut rm.resource, detected, override_existing);
    }
}

/// [`merge_resource`] on every resource of a logs request.
pub fn merge_logs(
    request: &mut ExportLogsServiceRequest,
    detected: &[KeyValue],
    override_existing: bool,
) {
    for rl in &mut request.resource_logs {
        merge_resource(&mut rl.resource, detected, override_existing);
    }
}

/// [`merge_resource`] on every resource of a profiles request.
pub fn merge_profiles(
    request: &mut ExportProfilesServiceRequest,
    detected: &[KeyValue],
    override_existing: bool,
) {
    for rp in &mut request.resource_profiles {
        merge_resource(&mut rp.resource, detected, override_existing);
    }
}
