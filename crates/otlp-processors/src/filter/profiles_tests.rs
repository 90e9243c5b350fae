//! The `filter` processor on profiles: `profiles.profile` conditions, emptied containers,
//! `error_mode`, configuration errors, and the factory in a profiles pipeline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_pipeline::component::SignalSet;
use otlp_pipeline::factory::ProcessorFactory;
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::testing::Probe;
use otlp_pipeline::{Signal as PipelineSignal, Telemetry};
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use otlp_proto::profiles::v1development::{
    KeyValueAndUnit, Profile, ProfilesDictionary, ResourceProfiles, ScopeProfiles,
};
use otlp_proto::resource::v1::Resource;

use super::*;
use crate::common::ConfigError;
use crate::data_processor::test_support::{build, yaml};

/// The condition of the OpenTelemetry demo's `filter/sanitize_profiles`.
const DEMO: &str = r#"
error_mode: ignore
profiles:
  profile:
    - 'IsMatch(resource.attributes["service.name"], "containerd-shim-.*")'
"#;

fn text(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::StringValue(v.into())),
    })
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: text(service),
            key_strindex: 0,
        }],
        ..Resource::default()
    })
}

/// A profile named by its `original_payload_format`, with the given dictionary attributes.
fn profile(name: &str, attribute_indices: Vec<i32>) -> Profile {
    Profile {
        original_payload_format: name.into(),
        attribute_indices,
        ..Profile::default()
    }
}

fn scope(name: &str, profiles: Vec<Profile>) -> ScopeProfiles {
    ScopeProfiles {
        scope: Some(InstrumentationScope {
            name: name.into(),
            ..InstrumentationScope::default()
        }),
        profiles,
        ..ScopeProfiles::default()
    }
}

/// Three resources: a containerd shim (two scopes), the frontend (two scopes, one profile
/// with `thread.name=gc`), another shim. Dictionary attribute 1 is `thread.name=gc`.
fn request() -> ExportProfilesServiceRequest {
    let resources = vec![
        ResourceProfiles {
            resource: resource("containerd-shim-runc-v2"),
            scope_profiles: vec![
                scope(
                    "ebpf",
                    vec![profile("shim-a", vec![]), profile("shim-b", vec![])],
                ),
                scope("other", vec![profile("shim-c", vec![])]),
            ],
            ..ResourceProfiles::default()
        },
        ResourceProfiles {
            resource: resource("frontend"),
            scope_profiles: vec![
                scope(
                    "ebpf",
                    vec![
                        profile("frontend-a", vec![]),
                        profile("frontend-gc", vec![1]),
                    ],
                ),
                scope("gc-only", vec![profile("frontend-gc-2", vec![1])]),
            ],
            ..ResourceProfiles::default()
        },
        ResourceProfiles {
            resource: resource("containerd-shim-x"),
            scope_profiles: vec![scope("ebpf", vec![profile("shim-d", vec![])])],
            ..ResourceProfiles::default()
        },
    ];
    ExportProfilesServiceRequest {
        resource_profiles: resources,
        dictionary: Some(ProfilesDictionary {
            string_table: vec![String::new(), "thread.name".into()],
            attribute_table: vec![
                KeyValueAndUnit::default(),
                KeyValueAndUnit {
                    key_strindex: 1,
                    value: text("gc"),
                    unit_strindex: 0,
                },
            ],
            ..ProfilesDictionary::default()
        }),
    }
}

/// `(service, scope, [profiles])` left in the request.
fn layout(req: &ExportProfilesServiceRequest) -> Vec<(String, String, Vec<String>)> {
    req.resource_profiles
        .iter()
        .flat_map(|rp| {
            let service = rp
                .resource
                .as_ref()
                .and_then(|r| r.attributes.first())
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(Value::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            rp.scope_profiles.iter().map(move |sp| {
                (
                    service.clone(),
                    sp.scope
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_default(),
                    sp.profiles
                        .iter()
                        .map(|p| p.original_payload_format.clone())
                        .collect(),
                )
            })
        })
        .collect()
}

fn filter(yaml_text: &str) -> FilterProcessor {
    FilterConfig::from_yaml(yaml_text)
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn owned(entries: &[(&str, &str, &[&str])]) -> Vec<(String, String, Vec<String>)> {
    entries
        .iter()
        .map(|(r, s, p)| {
            (
                (*r).to_owned(),
                (*s).to_owned(),
                p.iter().map(|x| (*x).to_owned()).collect(),
            )
        })
        .collect()
}

#[test]
fn the_demo_condition_drops_the_profiles_of_containerd_shims() {
    let mut req = request();
    let dropped = filter(DEMO).process_profiles(&mut req).unwrap();
    assert_eq!(dropped, 4);
    assert_eq!(
        layout(&req),
        owned(&[
            ("frontend", "ebpf", &["frontend-a", "frontend-gc"]),
            ("frontend", "gc-only", &["frontend-gc-2"]),
        ]),
        "the shims' resources are gone with their profiles; the frontend is untouched"
    );
    assert!(req.dictionary.is_some(), "the dictionary stays");
}

#[test]
fn profile_attributes_are_read_through_the_dictionary_and_emptied_scopes_go() {
    let mut req = request();
    let p = filter("profiles:\n  profile:\n    - 'attributes[\"thread.name\"] == \"gc\"'\n");
    assert_eq!(p.process_profiles(&mut req).unwrap(), 2);
    assert_eq!(
        layout(&req),
        owned(&[
            ("containerd-shim-runc-v2", "ebpf", &["shim-a", "shim-b"]),
            ("containerd-shim-runc-v2", "other", &["shim-c"]),
            ("frontend", "ebpf", &["frontend-a"]),
            ("containerd-shim-x", "ebpf", &["shim-d"]),
        ])
    );
}

#[test]
fn any_profile_condition_drops_and_no_condition_keeps_everything() {
    let mut req = request();
    let p = filter(
        "profiles:\n  profile:\n    - 'original_payload_format == \"shim-d\"'\n    - 'scope.name == \"other\"'\n",
    );
    assert_eq!(p.process_profiles(&mut req).unwrap(), 2);
    assert_eq!(
        layout(&req).len(),
        3,
        "scope `other` and the last resource are gone"
    );
    let mut untouched = request();
    assert_eq!(
        filter("traces:\n  span:\n    - 'name == \"x\"'\n")
            .process_profiles(&mut untouched)
            .unwrap(),
        0
    );
    assert_eq!(untouched, request());
}

#[test]
fn error_mode_applies_to_profile_conditions() {
    let failing = "profiles:\n  profile:\n    - 'Len(attributes[\"missing\"]) > 1'\n    - 'original_payload_format == \"shim-a\"'\n";
    let mut req = request();
    let error = filter(failing).process_profiles(&mut req).unwrap_err();
    assert_eq!(error.condition, r#"Len(attributes["missing"]) > 1"#);
    for mode in ["ignore", "silent"] {
        let mut req = request();
        let dropped = filter(&format!("error_mode: {mode}\n{failing}"))
            .process_profiles(&mut req)
            .unwrap();
        assert_eq!(
            dropped, 1,
            "{mode}: the failing condition counts as false, the next one still drops"
        );
    }
}

#[test]
fn profile_configuration_errors_name_the_field() {
    let error = FilterConfig::from_yaml("profiles:\n  profile:\n    - 'samples == nil'\n")
        .and_then(|c| c.build())
        .unwrap_err();
    match &error {
        ConfigError::Condition { field, message, .. } => {
            assert_eq!(field, "profiles.profile[0]");
            assert!(message.contains("unknown path"), "{message}");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(matches!(
        FilterConfig::from_yaml("profiles:\n  sample:\n    - 'true'\n"),
        Err(ConfigError::Parse { .. })
    ));
    // A span path is not a profile path.
    assert!(
        FilterConfig::from_yaml("profiles:\n  profile:\n    - 'span.name == \"x\"'\n")
            .and_then(|c| c.build())
            .is_err()
    );
}

#[tokio::test]
async fn factory_takes_a_profiles_pipeline_and_counts_drops() {
    let factory = filter_factory();
    assert!(
        factory
            .supported_signals()
            .contains(PipelineSignal::Profiles)
    );
    assert_eq!(factory.supported_signals(), SignalSet::ALL);
    factory
        .validate_for_signal(&yaml(DEMO), PipelineSignal::Profiles)
        .unwrap();

    let probe = Probe::new();
    let resources = otlp_pipeline::Resources::collector();
    let processor = build(&factory, DEMO, "profiles", probe.clone(), &resources);
    processor.consume(Telemetry::new(request())).await.unwrap();
    assert_eq!(probe.calls(), 1);
    let received = probe.received.lock().unwrap()[0].clone();
    assert_eq!(
        layout(received.profiles().unwrap()).len(),
        2,
        "only the frontend's two scopes are passed on"
    );

    // A request of shims only is emptied: acknowledged without calling the next stage.
    let mut shims = request();
    shims.resource_profiles.remove(1);
    processor.consume(Telemetry::new(shims)).await.unwrap();
    assert_eq!(probe.calls(), 1);

    let registry = Metrics::from_resources(&resources);
    assert_eq!(
        registry.value(
            "otelcol_processor_filter_profiles_filtered_total",
            &[("processor", "filter/x")]
        ),
        Some(8.0)
    );
}
