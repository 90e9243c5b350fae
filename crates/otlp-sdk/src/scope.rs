//! The instrumentation scope: which library produced a span or a log record.

use std::sync::Arc;

use otlp_proto::common::v1::InstrumentationScope as ProtoScope;

use crate::value::{KeyValue, into_proto_attributes};

/// An instrumentation scope (name, version, schema URL, attributes), shared by every span or
/// log record its tracer or logger makes, and encoded once.
#[derive(Clone, Debug, PartialEq)]
pub struct InstrumentationScope {
    inner: Arc<ScopeInner>,
}

#[derive(Debug, PartialEq)]
struct ScopeInner {
    proto: ProtoScope,
    schema_url: String,
}

impl InstrumentationScope {
    /// A scope named `name` (the instrumentation library, e.g. `"checkout.http"`).
    pub fn new(name: impl Into<String>) -> Self {
        Self::builder(name).build()
    }

    /// A builder for a scope with a version, schema URL or attributes.
    pub fn builder(name: impl Into<String>) -> ScopeBuilder {
        ScopeBuilder {
            name: name.into(),
            version: String::new(),
            schema_url: String::new(),
            attributes: Vec::new(),
        }
    }

    /// The scope's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.inner.proto.name
    }

    /// The scope's version (empty when none).
    #[must_use]
    pub fn version(&self) -> &str {
        &self.inner.proto.version
    }

    /// The scope's schema URL (empty when none).
    #[must_use]
    pub fn schema_url(&self) -> &str {
        &self.inner.schema_url
    }

    /// The scope as OTLP protobuf.
    #[must_use]
    pub fn proto(&self) -> &ProtoScope {
        &self.inner.proto
    }

    /// `true` when both are the same scope object (a cheap pre-check before `==`).
    #[must_use]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// Builds an [`InstrumentationScope`].
#[derive(Debug)]
pub struct ScopeBuilder {
    name: String,
    version: String,
    schema_url: String,
    attributes: Vec<KeyValue>,
}

impl ScopeBuilder {
    /// The instrumentation library's version.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The schema URL of the semantic conventions the library follows.
    #[must_use]
    pub fn schema_url(mut self, url: impl Into<String>) -> Self {
        self.schema_url = url.into();
        self
    }

    /// Scope attributes.
    #[must_use]
    pub fn attributes(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.attributes.extend(attributes);
        self
    }

    /// The scope.
    #[must_use]
    pub fn build(self) -> InstrumentationScope {
        InstrumentationScope {
            inner: Arc::new(ScopeInner {
                proto: ProtoScope {
                    name: self.name,
                    version: self.version,
                    attributes: into_proto_attributes(self.attributes),
                    dropped_attributes_count: 0,
                },
                schema_url: self.schema_url,
            }),
        }
    }
}
