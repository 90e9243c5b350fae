use otlp_proto::common::v1::any_value;
use prost::Message;

use super::{env, get_str};
use crate::resource::{Resource, default_service_name};
use crate::value::{KeyValue, Value};

fn kv(key: &'static str, value: &'static str) -> KeyValue {
    KeyValue::new(key, value)
}

#[test]
fn new_keeps_unique_keys_last_value_wins() {
    let resource = Resource::new([kv("a", "1"), kv("b", "2"), kv("a", "3")]);
    assert_eq!(resource.len(), 2);
    assert_eq!(get_str(&resource, "a"), Some("3"));
    let keys: Vec<&str> = resource.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(resource.get("missing"), None);
    assert_eq!(resource.schema_url(), None);
    assert!(Resource::empty().is_empty());
    assert_eq!(Resource::empty().len(), 0);
    assert_eq!((&resource).into_iter().count(), 2);
    let collected: Resource = [kv("x", "1")].into_iter().collect();
    assert_eq!(get_str(&collected, "x"), Some("1"));
}

#[test]
fn merge_updating_wins_even_with_empty_values() {
    let old = Resource::new([kv("a", "old"), kv("b", "old"), kv("c", "old")]);
    let updating = Resource::new([kv("b", "new"), kv("c", ""), kv("d", "new")]);
    let merged = old.merge(&updating);
    assert_eq!(merged.len(), 4);
    assert_eq!(get_str(&merged, "a"), Some("old"));
    assert_eq!(get_str(&merged, "b"), Some("new"));
    assert_eq!(get_str(&merged, "c"), Some(""));
    assert_eq!(get_str(&merged, "d"), Some("new"));
    // Inputs are unchanged (immutability).
    assert_eq!(get_str(&old, "b"), Some("old"));
    assert_eq!(updating.len(), 3);
    // Merging with the empty resource is the identity, both ways.
    assert_eq!(old.merge(&Resource::empty()), old);
    assert_eq!(Resource::empty().merge(&old), old);
}

#[test]
fn merge_schema_url_rules() {
    let none = Resource::new([kv("a", "1")]);
    let v1 =
        Resource::new_with_schema_url([kv("b", "2")], "https://opentelemetry.io/schemas/1.26.0");
    let v1_again =
        Resource::new_with_schema_url([kv("c", "3")], "https://opentelemetry.io/schemas/1.26.0");
    let v2 =
        Resource::new_with_schema_url([kv("b", "9")], "https://opentelemetry.io/schemas/1.37.0");

    // Old empty: the updating one's.
    assert_eq!(none.merge(&v1).schema_url(), v1.schema_url());
    // Updating empty: the old one's.
    assert_eq!(v1.merge(&none).schema_url(), v1.schema_url());
    // Same: kept.
    assert_eq!(v1.merge(&v1_again).schema_url(), v1.schema_url());
    // Different: a merging error; attributes still merged, no schema URL.
    let conflict = v1.merge(&v2);
    assert_eq!(conflict.schema_url(), None);
    assert_eq!(get_str(&conflict, "b"), Some("9"));
    // An empty schema URL is no schema URL.
    assert_eq!(
        Resource::new_with_schema_url([kv("a", "1")], "").schema_url(),
        None
    );
    // A resource with only a schema URL still passes it on.
    let only_url = Resource::new_with_schema_url([], "https://example.com/s");
    assert_eq!(
        none.merge(&only_url).schema_url(),
        Some("https://example.com/s")
    );
}

#[test]
fn equality_ignores_order() {
    let a = Resource::new([kv("a", "1"), kv("b", "2")]);
    let b = Resource::new([kv("b", "2"), kv("a", "1")]);
    assert_eq!(a, b);
    assert_ne!(a, Resource::new([kv("a", "1")]));
    assert_ne!(a, Resource::new([kv("a", "1"), kv("b", "3")]));
    assert_ne!(
        a,
        Resource::new_with_schema_url([kv("a", "1"), kv("b", "2")], "s")
    );
}

#[test]
fn to_proto_round_trips_through_protobuf() {
    let resource = Resource::new_with_schema_url(
        [
            kv("service.name", "checkout"),
            KeyValue::new("process.pid", 42_i64),
            KeyValue::new("flag", true),
            KeyValue::new("ratio", 0.5),
            KeyValue::new("tags", vec!["a", "b"]),
        ],
        "https://opentelemetry.io/schemas/1.26.0",
    );
    let proto = resource.to_proto();
    assert_eq!(proto.dropped_attributes_count, 0);
    let bytes = proto.encode_to_vec();
    let decoded = otlp_proto::resource::v1::Resource::decode(bytes.as_slice()).unwrap();
    assert_eq!(decoded, proto);
    let value_of = |key: &str| {
        decoded
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone())
            .and_then(|v| v.value)
    };
    assert_eq!(
        value_of("service.name"),
        Some(any_value::Value::StringValue("checkout".into()))
    );
    assert_eq!(
        value_of("process.pid"),
        Some(any_value::Value::IntValue(42))
    );
    assert_eq!(value_of("flag"), Some(any_value::Value::BoolValue(true)));
    assert_eq!(value_of("ratio"), Some(any_value::Value::DoubleValue(0.5)));
    assert!(
        matches!(value_of("tags"), Some(any_value::Value::ArrayValue(a)) if a.values.len() == 2)
    );
    assert_eq!(decoded.attributes.len(), 5);
    assert_eq!(
        resource.proto_schema_url(),
        "https://opentelemetry.io/schemas/1.26.0"
    );
    assert_eq!(Resource::empty().proto_schema_url(), "");
    assert!(Resource::empty().to_proto().attributes.is_empty());
}

#[test]
fn default_resource_without_env() {
    let resource = Resource::detect_with_env(&env(&[]));
    let name = get_str(&resource, "service.name").unwrap();
    assert!(name.starts_with("unknown_service:"), "{name}");
    let exe = std::env::current_exe().unwrap();
    assert_eq!(
        name,
        format!(
            "unknown_service:{}",
            exe.file_name().unwrap().to_string_lossy()
        )
    );
    assert_eq!(name, default_service_name());
    assert_eq!(get_str(&resource, "telemetry.sdk.name"), Some("otlp-rs"));
    assert_eq!(get_str(&resource, "telemetry.sdk.language"), Some("rust"));
    assert_eq!(
        get_str(&resource, "telemetry.sdk.version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        resource.get("process.pid"),
        Some(&Value::I64(i64::from(std::process::id())))
    );
    assert!(resource.get("host.arch").is_some());
    assert!(resource.get("os.type").is_some());
    assert!(resource.get("service.instance.id").is_some());
    assert_eq!(resource.schema_url(), None);
    #[cfg(target_os = "linux")]
    {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(get_str(&resource, "host.name"), Some(host.trim()));
    }
}

#[test]
fn default_resource_env_wins() {
    let map = env(&[
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=attrs,host.name=override,telemetry.sdk.language=c%2B%2B,\
             service.instance.id=fixed",
        ),
        ("OTEL_SERVICE_NAME", "checkout"),
        ("K8S_POD_NAME", "checkout-0"),
    ]);
    let resource = Resource::detect_with_env(&map);
    assert_eq!(get_str(&resource, "service.name"), Some("checkout"));
    assert_eq!(get_str(&resource, "host.name"), Some("override"));
    assert_eq!(get_str(&resource, "telemetry.sdk.language"), Some("c++"));
    assert_eq!(get_str(&resource, "service.instance.id"), Some("fixed"));
    assert_eq!(get_str(&resource, "k8s.pod.name"), Some("checkout-0"));
    assert_eq!(get_str(&resource, "telemetry.sdk.name"), Some("otlp-rs"));
}

#[test]
fn default_resource_with_bad_env_keeps_the_defaults() {
    let map = env(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=x,broken")]);
    let resource = Resource::detect_with_env(&map);
    assert!(
        get_str(&resource, "service.name")
            .unwrap()
            .starts_with("unknown_service:")
    );
}

#[test]
fn process_default_matches_detect_with_process_env() {
    // Only compare keys the test process' environment cannot change between the two calls.
    let a = Resource::default();
    let b = Resource::from_env();
    for key in [
        "telemetry.sdk.name",
        "process.pid",
        "service.instance.id",
        "host.arch",
    ] {
        assert_eq!(a.get(key), b.get(key), "{key}");
    }
}
