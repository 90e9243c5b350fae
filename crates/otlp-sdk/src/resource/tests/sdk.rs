use super::get_str;
use crate::resource::{ResourceDetector, SdkDetector};

#[test]
fn sdk_attributes() {
    let resource = SdkDetector.detect();
    assert_eq!(resource.len(), 3);
    assert_eq!(get_str(&resource, "telemetry.sdk.name"), Some("otlp-rs"));
    assert_ne!(
        get_str(&resource, "telemetry.sdk.name"),
        Some("opentelemetry")
    );
    assert_eq!(get_str(&resource, "telemetry.sdk.language"), Some("rust"));
    assert_eq!(
        get_str(&resource, "telemetry.sdk.version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
}
