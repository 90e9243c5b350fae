//! The `profile` context: a profile's fields, its attributes read through the request's
//! dictionary, its resource and scope, statements on its own fields, and what is refused.

use otlp_proto::profiles::v1development::{KeyValueAndUnit, Profile, ProfilesDictionary};

use super::*;
use crate::{Condition, Item, Target, infer_context};

/// A dictionary: strings `["", "thread.name", "container.id", "process.pid"]`, attributes
/// `[unset, thread.name=main, container.id=c-1, thread.name=worker, process.pid=42]`.
fn dictionary() -> ProfilesDictionary {
    let entry = |key_strindex, value| KeyValueAndUnit {
        key_strindex,
        value: Some(value),
        unit_strindex: 0,
    };
    ProfilesDictionary {
        string_table: vec![
            String::new(),
            "thread.name".into(),
            "container.id".into(),
            "process.pid".into(),
        ],
        attribute_table: vec![
            KeyValueAndUnit::default(),
            entry(1, s("main")),
            entry(2, s("c-1")),
            entry(1, s("worker")),
            entry(3, i(42)),
        ],
        ..ProfilesDictionary::default()
    }
}

fn profile(attribute_indices: Vec<i32>) -> Profile {
    Profile {
        time_unix_nano: 1_700_000_000_000_000_000,
        duration_nano: 10_000_000_000,
        period: 19,
        profile_id: (1..=16).collect(),
        dropped_attributes_count: 3,
        original_payload_format: "pprof".into(),
        original_payload: vec![0xca, 0xfe],
        attribute_indices,
        ..Profile::default()
    }
}

fn holds(text: &str, target: &Target<'_>) -> bool {
    Condition::parse(text, Context::Profile)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .eval(target)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn profile_paths_read_the_profile_its_resource_and_scope() {
    let dict = dictionary();
    let p = profile(vec![1, 2]);
    let resource = Resource {
        attributes: kvs(vec![("service.name", s("containerd-shim-runc-v2"))]),
        ..Resource::default()
    };
    let scope = InstrumentationScope {
        name: "ebpf-profiler".into(),
        version: "0.1".into(),
        ..InstrumentationScope::default()
    };
    let target = Target {
        item: Item::Profile(&p, Some(&dict)),
        resource: Some(&resource),
        scope: Some(&scope),
    };
    for text in [
        r#"IsMatch(resource.attributes["service.name"], "containerd-shim-.*")"#,
        r#"instrumentation_scope.name == "ebpf-profiler" and scope.version == "0.1""#,
        "time_unix_nano == 1700000000000000000",
        "profile.duration_unix_nano == 10000000000",
        "period == 19 and dropped_attributes_count == 3",
        "profile_id == 0x0102030405060708090a0b0c0d0e0f10",
        r#"profile.profile_id.string == "0102030405060708090a0b0c0d0e0f10""#,
        r#"original_payload_format == "pprof" and original_payload == 0xcafe"#,
        r#"attributes["thread.name"] == "main""#,
        r#"profile.attributes["container.id"] == "c-1""#,
        r#"attributes["process.pid"] == nil"#,
        "attribute_indices == [1, 2]",
        r#"Len(attributes) == 2"#,
    ] {
        assert!(holds(text, &target), "{text} should hold");
    }
    for text in [
        r#"IsMatch(resource.attributes["service.name"], "^frontend")"#,
        r#"attributes["thread.name"] == "worker""#,
        "period > 19",
    ] {
        assert!(!holds(text, &target), "{text} should not hold");
    }
}

#[test]
fn dictionary_attributes_skip_bad_indexes_and_keep_the_last_value_of_a_key() {
    let dict = dictionary();
    // 99 and -1 point nowhere; 3 sets thread.name again; 4 is an int.
    let p = profile(vec![1, 99, -1, 3, 4]);
    let target = Target {
        item: Item::Profile(&p, Some(&dict)),
        resource: None,
        scope: None,
    };
    assert!(holds(r#"attributes["thread.name"] == "worker""#, &target));
    assert!(holds(r#"attributes["process.pid"] == 42"#, &target));
    assert!(holds("Len(attributes) == 2", &target));
    // Without a dictionary, a profile has no attributes (and nothing fails).
    let bare = Target {
        item: Item::Profile(&p, None),
        resource: None,
        scope: None,
    };
    assert!(holds(r#"attributes["thread.name"] == nil"#, &bare));
    assert!(holds("Len(attributes) == 0", &bare));
    assert!(holds(
        r#"resource.attributes["service.name"] == nil"#,
        &bare
    ));
}

#[test]
fn resource_keys_given_by_string_index_are_resolved_through_the_dictionary() {
    let dict = dictionary();
    let p = profile(vec![]);
    let resource = Resource {
        attributes: vec![
            KeyValue {
                key: String::new(),
                value: Some(s("c-9")),
                key_strindex: 2,
            },
            KeyValue {
                key: "host.name".into(),
                value: Some(s("node-1")),
                key_strindex: 0,
            },
        ],
        ..Resource::default()
    };
    let target = Target {
        item: Item::Profile(&p, Some(&dict)),
        resource: Some(&resource),
        scope: None,
    };
    assert!(holds(
        r#"resource.attributes["container.id"] == "c-9""#,
        &target
    ));
    assert!(holds(
        r#"resource.attributes["host.name"] == "node-1""#,
        &target
    ));
}

#[test]
fn statements_write_a_profiles_own_fields() {
    let dict = dictionary();
    let mut p = profile(vec![1]);
    let (mut r, mut sc, mut c) = (None, None, Vec::new());
    let mut t = TargetMut {
        item: ItemMut::Profile(&mut p, Some(&dict)),
        resource: &mut r,
        scope: &mut sc,
        cache: &mut c,
    };
    for text in [
        r#"set(original_payload_format, "jfr") where attributes["thread.name"] == "main""#,
        "set(profile.period, 7)",
        "set(duration_unix_nano, 5)",
        "set(dropped_attributes_count, 0)",
        r#"set(profile_id.string, "000102030405060708090a0b0c0d0e0f")"#,
        "set(original_payload, 0x00)",
        r#"set(resource.attributes["seen"], attributes["thread.name"])"#,
        r#"set(cache["x"], 1)"#,
    ] {
        let statement = Statement::parse(text, Context::Profile).unwrap_or_else(|e| panic!("{e}"));
        assert!(statement.execute(&mut t).unwrap(), "{text} should run");
    }
    assert_eq!(p.original_payload_format, "jfr");
    assert_eq!((p.period, p.duration_nano), (7, 5));
    assert_eq!(p.dropped_attributes_count, 0);
    assert_eq!(p.profile_id, (0..16).collect::<Vec<u8>>());
    assert_eq!(p.original_payload, vec![0]);
    assert_eq!(p.attribute_indices, vec![1], "attributes are left alone");
    assert_eq!(
        r.unwrap_or_default().attributes,
        kvs(vec![("seen", s("main"))])
    );
}

#[test]
fn a_profile_id_of_the_wrong_length_is_an_error() {
    let mut p = profile(vec![]);
    let (mut r, mut sc, mut c) = (None, None, Vec::new());
    let mut t = TargetMut {
        item: ItemMut::Profile(&mut p, None),
        resource: &mut r,
        scope: &mut sc,
        cache: &mut c,
    };
    let statement = Statement::parse(r#"set(profile_id.string, "0102")"#, Context::Profile)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(statement.execute(&mut t).is_err());
    assert_eq!(p.profile_id, (1..=16).collect::<Vec<u8>>());
}

#[test]
fn unknown_or_unwritable_profile_paths_are_refused_when_parsing() {
    for text in [
        r#"name == "x""#,
        "profile.samples == nil",
        "profile.duration == 1",
        "span.name == nil",
        "profile_id[0] == 1",
    ] {
        let error = Condition::parse(text, Context::Profile)
            .expect_err(&format!("{text} should be refused"));
        assert!(
            error.message.contains("unknown path")
                || error.message.contains("cannot be used")
                || error.message.contains("cannot be indexed"),
            "{text}: {error}"
        );
    }
    for text in [
        r#"set(attributes["k"], "v")"#,
        r#"delete_key(profile.attributes, "thread.name")"#,
        "set(attribute_indices, [1])",
    ] {
        let error = Statement::parse(text, Context::Profile)
            .expect_err(&format!("{text} should be refused"));
        assert!(
            error.message.contains("cannot be written"),
            "{text}: {error}"
        );
    }
    // Profile paths belong to the profile context only.
    assert!(Condition::parse("profile.period == 1", Context::Log).is_err());
}

#[test]
fn context_inference_picks_the_profile_context() {
    let ctx = infer_context(
        &[r#"set(resource.attributes["a"], profile.original_payload_format)"#],
        &[],
        &[Context::Resource, Context::Scope, Context::Profile],
    );
    assert_eq!(ctx, Ok(Context::Profile));
    assert_eq!(Context::from_name("profile"), Some(Context::Profile));
    assert_eq!(Context::Profile.name(), "profile");
    assert_eq!(Context::Profile.depth(), 2);
}
