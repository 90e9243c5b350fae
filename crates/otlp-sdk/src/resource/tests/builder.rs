use super::{env, get_str};
use crate::resource::{Resource, ResourceDetector, SdkDetector};
use crate::value::KeyValue;

#[derive(Debug)]
struct Fixed(
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
);

impl ResourceDetector for Fixed {
    fn detect(&self) -> Resource {
        let attributes = self.0.iter().map(|(k, v)| KeyValue::new(*k, *v));
        match self.1 {
            Some(url) => Resource::new_with_schema_url(attributes, url),
            None => Resource::new(attributes),
        }
    }
}

#[test]
fn empty_builder_builds_empty_resource() {
    let resource = Resource::builder().build();
    assert!(resource.is_empty());
    assert_eq!(resource.schema_url(), None);
}

#[test]
fn later_detectors_win_and_explicit_attributes_win_over_all() {
    let resource = Resource::builder()
        .with_attribute(KeyValue::new("a", "explicit"))
        .with_detector(Fixed(
            &[("a", "first"), ("b", "first"), ("c", "first")],
            None,
        ))
        .with_detector(Fixed(&[("b", "second")], None))
        .with_attributes([
            KeyValue::new("d", "explicit-1"),
            KeyValue::new("d", "explicit-2"),
        ])
        .build();
    assert_eq!(get_str(&resource, "a"), Some("explicit"));
    assert_eq!(get_str(&resource, "b"), Some("second"));
    assert_eq!(get_str(&resource, "c"), Some("first"));
    assert_eq!(get_str(&resource, "d"), Some("explicit-2"));
    assert_eq!(resource.len(), 4);
}

#[test]
fn with_detectors_runs_in_order() {
    let detectors: Vec<Box<dyn ResourceDetector>> = vec![
        Box::new(Fixed(&[("k", "1")], None)),
        Box::new(Fixed(&[("k", "2")], None)),
    ];
    let resource = Resource::builder()
        .with_detectors(detectors)
        .with_detector(SdkDetector)
        .build();
    assert_eq!(get_str(&resource, "k"), Some("2"));
    assert_eq!(get_str(&resource, "telemetry.sdk.name"), Some("otlp-rs"));
}

#[test]
fn service_name_wins_over_env_and_defaults() {
    let map = env(&[
        ("OTEL_SERVICE_NAME", "from-env"),
        ("OTEL_RESOURCE_ATTRIBUTES", "team=a"),
    ]);
    let resource = Resource::builder()
        .with_default_detectors_from(map)
        .with_service_name("from-code")
        .build();
    assert_eq!(get_str(&resource, "service.name"), Some("from-code"));
    assert_eq!(get_str(&resource, "team"), Some("a"));
    assert_eq!(get_str(&resource, "telemetry.sdk.language"), Some("rust"));

    let resource = Resource::builder()
        .with_default_detectors_from(env(&[]))
        .build();
    assert!(
        get_str(&resource, "service.name")
            .unwrap()
            .starts_with("unknown_service:")
    );
}

#[test]
fn schema_url_of_explicit_attributes() {
    let url = "https://opentelemetry.io/schemas/1.26.0";
    let resource = Resource::builder()
        .with_detector(Fixed(&[("a", "1")], None))
        .with_schema_url(url)
        .build();
    assert_eq!(resource.schema_url(), Some(url));

    // A detector's schema URL is kept when nothing explicit has one.
    let resource = Resource::builder()
        .with_detector(Fixed(&[("a", "1")], Some(url)))
        .build();
    assert_eq!(resource.schema_url(), Some(url));

    // Conflicting schema URLs: attributes merged, no schema URL.
    let resource = Resource::builder()
        .with_detector(Fixed(
            &[("a", "1")],
            Some("https://opentelemetry.io/schemas/1.20.0"),
        ))
        .with_attribute(KeyValue::new("a", "2"))
        .with_schema_url(url)
        .build();
    assert_eq!(resource.schema_url(), None);
    assert_eq!(get_str(&resource, "a"), Some("2"));
}

#[test]
fn builder_and_detectors_are_debug() {
    let builder = Resource::builder()
        .with_detector(SdkDetector)
        .with_default_detectors();
    let text = format!("{builder:?}");
    assert!(
        text.contains("SdkDetector") && text.contains("DefaultDetectors"),
        "{text}"
    );
}
