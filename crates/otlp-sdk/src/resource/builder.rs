//! [`ResourceBuilder`]: detectors plus explicitly set attributes.

use std::borrow::Cow;
use std::fmt;

use otlp_model::semconv::resource::SERVICE_NAME;

use super::{Resource, ResourceDetector, dedup, non_empty, upsert};
use crate::env::{Env, ProcessEnv};
use crate::value::{Key, KeyValue, Value};

/// Builds a [`Resource`] from detectors and attributes.
///
/// [`build`](Self::build) runs the detectors in the order they were added, merging each
/// result over the previous ones (a later detector wins), then merges the attributes set
/// with [`with_attribute`](Self::with_attribute) and friends on top: explicitly set
/// attributes win over detected ones.
#[derive(Default)]
pub struct ResourceBuilder {
    detectors: Vec<Box<dyn ResourceDetector>>,
    attributes: Vec<KeyValue>,
    schema_url: Option<Cow<'static, str>>,
}

impl ResourceBuilder {
    /// A builder with no detectors and no attributes.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a detector, run after those already added.
    #[must_use]
    pub fn with_detector(mut self, detector: impl ResourceDetector + 'static) -> Self {
        self.detectors.push(Box::new(detector));
        self
    }

    /// Adds several detectors, run in order after those already added.
    #[must_use]
    pub fn with_detectors(
        mut self,
        detectors: impl IntoIterator<Item = Box<dyn ResourceDetector>>,
    ) -> Self {
        self.detectors.extend(detectors);
        self
    }

    /// Adds the detection of [`Resource::default`] (SDK attributes, default `service.name`,
    /// process, host, OS, container, Kubernetes, `service.instance.id`, and
    /// `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME` last) over the process environment.
    #[must_use]
    pub fn with_default_detectors(self) -> Self {
        self.with_default_detectors_from(ProcessEnv)
    }

    /// [`with_default_detectors`](Self::with_default_detectors), reading variables from `env`.
    #[must_use]
    pub fn with_default_detectors_from(self, env: impl Env + 'static) -> Self {
        self.with_detector(DefaultDetectors { env: Box::new(env) })
    }

    /// Sets an attribute; it wins over detected values and earlier values for the same key.
    #[must_use]
    pub fn with_attribute(mut self, attribute: impl Into<KeyValue>) -> Self {
        upsert(&mut self.attributes, attribute.into());
        self
    }

    /// Sets several attributes, as [`with_attribute`](Self::with_attribute) does.
    #[must_use]
    pub fn with_attributes(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        for kv in attributes {
            upsert(&mut self.attributes, kv);
        }
        self
    }

    /// Sets `service.name`, which then wins over `OTEL_SERVICE_NAME` and any detector.
    #[must_use]
    pub fn with_service_name(self, name: impl Into<Cow<'static, str>>) -> Self {
        self.with_attribute(KeyValue::new(
            Key::from_static(SERVICE_NAME),
            Value::String(name.into()),
        ))
    }

    /// Sets the schema URL of the explicitly set attributes (an empty URL counts as none). It
    /// is merged with the detected resources' schema URL by the rules of [`Resource::merge`].
    #[must_use]
    pub fn with_schema_url(mut self, schema_url: impl Into<Cow<'static, str>>) -> Self {
        self.schema_url = non_empty(schema_url.into());
        self
    }

    /// Runs the detectors and builds the resource.
    #[must_use]
    pub fn build(self) -> Resource {
        let detected = self
            .detectors
            .iter()
            .fold(Resource::empty(), |acc, detector| {
                acc.merge(&detector.detect())
            });
        let explicit = Resource::from_parts(dedup(self.attributes), self.schema_url);
        detected.merge(&explicit)
    }
}

impl fmt::Debug for ResourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceBuilder")
            .field("detectors", &self.detectors)
            .field("attributes", &self.attributes)
            .field("schema_url", &self.schema_url)
            .finish()
    }
}

/// The detection of [`Resource::detect_with_env`], as one detector.
struct DefaultDetectors {
    env: Box<dyn Env>,
}

impl ResourceDetector for DefaultDetectors {
    fn detect(&self) -> Resource {
        Resource::detect_with_env(&*self.env)
    }
}

impl fmt::Debug for DefaultDetectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DefaultDetectors")
    }
}
