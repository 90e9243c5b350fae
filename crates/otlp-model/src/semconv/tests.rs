//! Consistency checks over the constant tables, read from the source so no key is forgotten.

use std::collections::BTreeMap;

const SOURCES: &[(&str, &str)] = &[
    ("resource", include_str!("resource.rs")),
    ("trace", include_str!("trace.rs")),
    ("legacy", include_str!("legacy.rs")),
];

/// Every `pub const NAME: &str = "value";` in a source file.
fn constants(source: &str) -> Vec<(String, String)> {
    source
        .split("pub const ")
        .skip(1)
        .map(|item| {
            let item = &item[..item.find(';').expect("every constant ends with `;`")];
            let (name, rest) = item.split_once(':').expect("typed constant");
            let value = rest.split('"').nth(1).expect("string literal value");
            (name.trim().to_owned(), value.to_owned())
        })
        .collect()
}

fn normalise(s: &str) -> String {
    s.to_ascii_lowercase().replace('_', ".")
}

#[test]
fn names_spell_their_keys() {
    let mut count = 0;
    for (module, source) in SOURCES {
        for (name, value) in constants(source) {
            count += 1;
            assert!(
                value
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._".contains(&b)),
                "{module}::{name} = {value:?} is not a lower-case dotted key"
            );
            if name == "EXCEPTION_EVENT_NAME" {
                assert_eq!(value, "exception");
            } else if let Some(prefix) = name.strip_suffix("_PREFIX") {
                assert_eq!(
                    normalise(&value),
                    format!("{}.", normalise(prefix)),
                    "{module}::{name}"
                );
            } else {
                assert_eq!(normalise(&value), normalise(&name), "{module}::{name}");
            }
        }
    }
    assert!(count > 150, "only {count} constants parsed");
}

#[test]
fn keys_are_unique_across_modules() {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (module, source) in SOURCES {
        for (name, value) in constants(source) {
            if let Some(previous) = seen.insert(value.clone(), format!("{module}::{name}")) {
                panic!("{value:?} is defined twice: {previous} and {module}::{name}");
            }
        }
    }
}

#[test]
fn spot_check_well_known_keys() {
    use super::{legacy, resource, trace};
    assert_eq!(resource::SERVICE_NAME, "service.name");
    assert_eq!(
        resource::DEPLOYMENT_ENVIRONMENT_NAME,
        "deployment.environment.name"
    );
    assert_eq!(resource::K8S_POD_UID, "k8s.pod.uid");
    assert_eq!(resource::CLOUD_AVAILABILITY_ZONE, "cloud.availability_zone");
    assert_eq!(
        trace::HTTP_RESPONSE_STATUS_CODE,
        "http.response.status_code"
    );
    assert_eq!(trace::DB_SYSTEM_NAME, "db.system.name");
    assert_eq!(trace::MESSAGING_OPERATION_TYPE, "messaging.operation.type");
    assert_eq!(trace::RPC_RESPONSE_STATUS_CODE, "rpc.response.status_code");
    assert_eq!(legacy::RPC_GRPC_STATUS_CODE, "rpc.grpc.status_code");
}
