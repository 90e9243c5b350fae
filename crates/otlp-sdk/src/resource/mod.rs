//! The resource: the entity (service, process, host, container, pod) that produces telemetry.
//!
//! A [`Resource`] is an immutable set of attributes with unique keys and an optional schema
//! URL, shared by every span and log record of a provider (cloning it is a reference-count
//! increment). Resources are built from:
//!
//! - [`Resource::new`] and [`Resource::builder`], with attributes the application sets;
//! - [`ResourceDetector`]s, which look at the environment: [`SdkDetector`] (`telemetry.sdk.*`),
//!   [`EnvDetector`] (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`), [`ProcessDetector`],
//!   [`HostDetector`], [`OsDetector`], [`ContainerDetector`], [`K8sDetector`] and
//!   [`ServiceInstanceDetector`]; an application can implement its own;
//! - [`Resource::merge`], the specification's *Merge*: the updating resource's values win.
//!
//! [`Resource::default`] is the resource the SDK uses when the application gives none: the
//! specification's SDK-provided attributes (`telemetry.sdk.*` and `service.name =
//! "unknown_service:<executable name>"`), what the built-in detectors find, and
//! `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME` last, so the environment wins.
//!
//! Detection reads a few small files (under `/proc`, `/etc`, `/var/run/secrets`), never fails
//! and never panics: what cannot be read is left out.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use otlp_model::semconv::resource::SERVICE_NAME;
use otlp_proto::resource::v1::Resource as ProtoResource;

use crate::env::{Env, ProcessEnv};
use crate::value::{Key, KeyValue, Value};

mod builder;
mod container;
mod env;
mod host;
mod k8s;
mod os;
mod process;
mod sdk;
mod service;

pub use builder::ResourceBuilder;
pub use container::ContainerDetector;
pub use env::EnvDetector;
pub use host::HostDetector;
pub use k8s::K8sDetector;
pub use os::OsDetector;
pub use process::ProcessDetector;
pub use sdk::SdkDetector;
pub use service::ServiceInstanceDetector;

#[cfg(test)]
mod tests;

/// Finds attributes describing where the application runs.
///
/// Detection is synchronous and expected to be quick (it runs while the SDK starts). A
/// detector that finds nothing returns [`Resource::empty`]; it must not panic.
///
/// Implement it for an application-specific source (a cloud metadata file, a config value) and
/// add it with [`ResourceBuilder::with_detector`].
pub trait ResourceDetector: Send + Sync + fmt::Debug {
    /// The attributes this detector finds (possibly none).
    fn detect(&self) -> Resource;
}

impl<D: ResourceDetector + ?Sized> ResourceDetector for Box<D> {
    fn detect(&self) -> Resource {
        (**self).detect()
    }
}

impl<D: ResourceDetector + ?Sized> ResourceDetector for Arc<D> {
    fn detect(&self) -> Resource {
        (**self).detect()
    }
}

impl<D: ResourceDetector + ?Sized> ResourceDetector for &D {
    fn detect(&self) -> Resource {
        (**self).detect()
    }
}

/// An immutable set of attributes describing the entity that produces telemetry, with an
/// optional schema URL. Cheap to clone.
#[derive(Clone)]
pub struct Resource {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Unique keys, in first-insertion order.
    attributes: Vec<KeyValue>,
    schema_url: Option<Cow<'static, str>>,
}

impl Resource {
    /// The resource with no attributes and no schema URL.
    #[must_use]
    pub fn empty() -> Self {
        static EMPTY: OnceLock<Resource> = OnceLock::new();
        EMPTY
            .get_or_init(|| Self::from_parts(Vec::new(), None))
            .clone()
    }

    /// A resource with these attributes and no schema URL. When a key repeats, the last value
    /// wins.
    pub fn new(attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        Self::from_parts(dedup(attributes), None)
    }

    /// A resource with these attributes and a schema URL (an empty URL counts as none).
    pub fn new_with_schema_url(
        attributes: impl IntoIterator<Item = KeyValue>,
        schema_url: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::from_parts(dedup(attributes), non_empty(schema_url.into()))
    }

    /// A builder that runs detectors and adds attributes; see [`ResourceBuilder`].
    #[must_use]
    pub fn builder() -> ResourceBuilder {
        ResourceBuilder::new()
    }

    /// The specification's default resource, with `OTEL_*` variables read from the process
    /// environment. Same as [`Resource::default`].
    #[must_use]
    pub fn from_env() -> Self {
        Self::detect_with_env(&ProcessEnv)
    }

    /// The specification's default resource, with `OTEL_*` and Kubernetes variables read from
    /// `env` (a map in tests), merged in this order, later ones winning:
    ///
    /// 1. `service.name = "unknown_service:<executable name>"` (or `"unknown_service"`);
    /// 2. [`SdkDetector`] (`telemetry.sdk.*`);
    /// 3. [`ProcessDetector`], [`HostDetector`], [`OsDetector`], [`ContainerDetector`] (their
    ///    files are read once per process and the result kept);
    /// 4. [`K8sDetector`] over `env`, [`ServiceInstanceDetector`];
    /// 5. [`EnvDetector`] over `env`: `OTEL_RESOURCE_ATTRIBUTES`, then `OTEL_SERVICE_NAME`.
    #[must_use]
    pub fn detect_with_env(env: &dyn Env) -> Self {
        static SYSTEM: OnceLock<Resource> = OnceLock::new();
        let system = SYSTEM.get_or_init(|| {
            Resource::builder()
                .with_detector(ProcessDetector::new())
                .with_detector(HostDetector::new())
                .with_detector(OsDetector::new())
                .with_detector(ContainerDetector::new())
                .build()
        });
        Self::new([KeyValue::new(SERVICE_NAME, default_service_name())])
            .merge(&SdkDetector.detect())
            .merge(system)
            .merge(&K8sDetector::new().detect_with_env(env))
            .merge(&ServiceInstanceDetector::new().detect())
            .merge(&env::detect(env))
    }

    /// The value of `key`, if the resource has it.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.inner
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    /// The attributes, each key once, in the order they were first added.
    pub fn iter(&self) -> std::slice::Iter<'_, KeyValue> {
        self.inner.attributes.iter()
    }

    /// The number of attributes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.attributes.len()
    }

    /// Whether the resource has no attributes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.attributes.is_empty()
    }

    /// The schema URL, if any.
    #[must_use]
    pub fn schema_url(&self) -> Option<&str> {
        self.inner.schema_url.as_deref()
    }

    /// The specification's *Merge*: a new resource with the attributes of both, where a key
    /// present on both takes the value of `updating` (even an empty string).
    ///
    /// The schema URL is `self`'s when `updating` has none, `updating`'s when `self` has none
    /// or both agree. Two different non-empty schema URLs are a merging error, which the
    /// specification leaves to the implementation: the attributes are still merged as above,
    /// the result has no schema URL (its attributes follow two conventions, so no single
    /// schema describes them) and a warning is logged.
    #[must_use]
    pub fn merge(&self, updating: &Resource) -> Resource {
        if updating.is_empty() && updating.schema_url().is_none() {
            return self.clone();
        }
        if self.is_empty() && self.schema_url().is_none() {
            return updating.clone();
        }
        let schema_url = match (&self.inner.schema_url, &updating.inner.schema_url) {
            (None, url) | (url, None) => url.clone(),
            (Some(old), Some(new)) if old == new => Some(old.clone()),
            (Some(old), Some(new)) => {
                tracing::warn!(
                    target: "otlp_sdk",
                    "merging resources with different schema URLs ({old} and {new}): the \
                     merged resource has no schema URL"
                );
                None
            }
        };
        let mut attributes = self.inner.attributes.clone();
        for kv in updating.iter() {
            upsert(&mut attributes, kv.clone());
        }
        Self::from_parts(attributes, schema_url)
    }

    /// The resource as OTLP protobuf. The schema URL is not part of it: OTLP carries it on
    /// `ResourceSpans` / `ResourceLogs`, see [`Resource::proto_schema_url`].
    #[must_use]
    pub fn to_proto(&self) -> ProtoResource {
        ProtoResource {
            attributes: self.iter().cloned().map(KeyValue::into_proto).collect(),
            dropped_attributes_count: 0,
            entity_refs: Vec::new(),
        }
    }

    /// The schema URL as the `schema_url` field of `ResourceSpans` / `ResourceLogs` wants it:
    /// the empty string when there is none.
    #[must_use]
    pub fn proto_schema_url(&self) -> String {
        self.schema_url().unwrap_or_default().to_owned()
    }

    fn from_parts(attributes: Vec<KeyValue>, schema_url: Option<Cow<'static, str>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                attributes,
                schema_url,
            }),
        }
    }
}

impl Default for Resource {
    /// The specification's default resource over the process environment; see
    /// [`Resource::detect_with_env`].
    fn default() -> Self {
        Self::from_env()
    }
}

impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resource")
            .field("attributes", &self.inner.attributes)
            .field("schema_url", &self.inner.schema_url)
            .finish()
    }
}

impl PartialEq for Resource {
    /// Equal when both have the same schema URL and the same attributes, in any order.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            || (self.schema_url() == other.schema_url()
                && self.len() == other.len()
                && self
                    .iter()
                    .all(|kv| other.get(kv.key.as_str()) == Some(&kv.value)))
    }
}

impl<'a> IntoIterator for &'a Resource {
    type Item = &'a KeyValue;
    type IntoIter = std::slice::Iter<'a, KeyValue>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<KeyValue> for Resource {
    fn from_iter<T: IntoIterator<Item = KeyValue>>(iter: T) -> Self {
        Self::new(iter)
    }
}

/// `unknown_service:` followed by the executable name, or `unknown_service` when the name is
/// not known (the semantic conventions' fallback for `service.name`).
#[must_use]
pub(crate) fn default_service_name() -> String {
    match process::executable_name() {
        Some(name) => format!("unknown_service:{name}"),
        None => "unknown_service".to_owned(),
    }
}

/// Inserts `kv`, replacing the value of an attribute with the same key.
fn upsert(attributes: &mut Vec<KeyValue>, kv: KeyValue) {
    match attributes.iter_mut().find(|old| old.key == kv.key) {
        Some(old) => old.value = kv.value,
        None => attributes.push(kv),
    }
}

fn dedup(attributes: impl IntoIterator<Item = KeyValue>) -> Vec<KeyValue> {
    let mut out = Vec::new();
    for kv in attributes {
        upsert(&mut out, kv);
    }
    out
}

fn non_empty(url: Cow<'static, str>) -> Option<Cow<'static, str>> {
    (!url.is_empty()).then_some(url)
}

/// A string attribute, for detectors.
fn string_kv(key: &'static str, value: impl Into<String>) -> KeyValue {
    KeyValue::new(Key::from_static(key), Value::from(value.into()))
}

/// The trimmed content of a small text file, `None` when it is missing, unreadable or blank.
fn read_trimmed(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}
