//! [`SdkDetector`]: `telemetry.sdk.*`.

use otlp_model::semconv::resource::{
    TELEMETRY_SDK_LANGUAGE, TELEMETRY_SDK_NAME, TELEMETRY_SDK_VERSION,
};

use super::{Resource, ResourceDetector};
use crate::value::KeyValue;

/// `telemetry.sdk.name` of this SDK. The semantic conventions reserve `opentelemetry` for the
/// official SDKs; any other SDK must use its own stable identifier.
pub(crate) const SDK_NAME: &str = "otlp-rs";
/// `telemetry.sdk.language`: the well-known value for Rust.
pub(crate) const SDK_LANGUAGE: &str = "rust";
/// `telemetry.sdk.version`: the version of this crate.
pub(crate) const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Describes this SDK: `telemetry.sdk.name = "otlp-rs"`, `telemetry.sdk.language = "rust"`
/// and `telemetry.sdk.version` (the crate version).
#[derive(Debug, Clone, Copy, Default)]
pub struct SdkDetector;

impl ResourceDetector for SdkDetector {
    fn detect(&self) -> Resource {
        static SDK: std::sync::OnceLock<Resource> = std::sync::OnceLock::new();
        SDK.get_or_init(|| {
            Resource::new([
                KeyValue::new(TELEMETRY_SDK_NAME, SDK_NAME),
                KeyValue::new(TELEMETRY_SDK_LANGUAGE, SDK_LANGUAGE),
                KeyValue::new(TELEMETRY_SDK_VERSION, SDK_VERSION),
            ])
        })
        .clone()
    }
}
