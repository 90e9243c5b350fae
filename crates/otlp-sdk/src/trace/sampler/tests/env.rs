use std::collections::HashMap;

use super::super::{Sampler, sampler_from_env};
use super::*;

const DEFAULT: &str = "ParentBased{root=AlwaysOnSampler,remoteParentSampled=AlwaysOnSampler,\
    remoteParentNotSampled=AlwaysOffSampler,localParentSampled=AlwaysOnSampler,\
    localParentNotSampled=AlwaysOffSampler}";

/// The description of the sampler the variables give, and how many warnings were logged.
fn from_env(sampler: Option<&str>, arg: Option<&str>) -> (String, usize) {
    let mut env: HashMap<&str, &str> = HashMap::new();
    if let Some(sampler) = sampler {
        env.insert("OTEL_TRACES_SAMPLER", sampler);
    }
    if let Some(arg) = arg {
        env.insert("OTEL_TRACES_SAMPLER_ARG", arg);
    }
    let mut description = String::new();
    let warnings = count_warnings(|| description = sampler_from_env(&env).description());
    (description, warnings)
}

fn parent_based(root: &str) -> String {
    DEFAULT.replacen("root=AlwaysOnSampler", &format!("root={root}"), 1)
}

#[test]
fn each_value() {
    let cases: [(Option<&str>, Option<&str>, String); 11] = [
        (None, None, DEFAULT.to_owned()),
        (Some(""), None, DEFAULT.to_owned()),
        (Some("always_on"), None, "AlwaysOnSampler".to_owned()),
        (Some("always_off"), None, "AlwaysOffSampler".to_owned()),
        (
            Some("traceidratio"),
            Some("0.25"),
            "TraceIdRatioBased{0.25}".to_owned(),
        ),
        (
            Some("traceidratio"),
            None,
            "TraceIdRatioBased{1}".to_owned(),
        ),
        (Some("parentbased_always_on"), None, DEFAULT.to_owned()),
        (
            Some("parentbased_always_off"),
            None,
            parent_based("AlwaysOffSampler"),
        ),
        (
            Some("parentbased_traceidratio"),
            Some("0.1"),
            parent_based("TraceIdRatioBased{0.1}"),
        ),
        (
            Some("parentbased_traceidratio"),
            None,
            parent_based("TraceIdRatioBased{1}"),
        ),
        // Enum values are case-insensitive; surrounding whitespace is ignored.
        (Some(" Always_OFF "), None, "AlwaysOffSampler".to_owned()),
    ];
    for (sampler, arg, expected) in cases {
        assert_eq!(from_env(sampler, arg), (expected, 0), "{sampler:?} {arg:?}");
    }
}

#[test]
fn argument_edge_values() {
    assert_eq!(
        from_env(Some("traceidratio"), Some("0")),
        ("TraceIdRatioBased{0}".to_owned(), 0)
    );
    assert_eq!(
        from_env(Some("traceidratio"), Some("1")),
        ("TraceIdRatioBased{1}".to_owned(), 0)
    );
    assert_eq!(
        from_env(Some("traceidratio"), Some(" 1e-3 ")),
        ("TraceIdRatioBased{0.001}".to_owned(), 0)
    );
    // The argument is only read by the ratio samplers.
    assert_eq!(
        from_env(Some("always_on"), Some("bogus")),
        ("AlwaysOnSampler".to_owned(), 0)
    );
    assert_eq!(from_env(None, Some("0.5")), (DEFAULT.to_owned(), 0));
}

#[test]
fn invalid_argument_falls_back_to_one() {
    for arg in ["abc", "1.5", "-0.1", "NaN", "inf", "50%"] {
        assert_eq!(
            from_env(Some("traceidratio"), Some(arg)),
            ("TraceIdRatioBased{1}".to_owned(), 1),
            "{arg:?}"
        );
        assert_eq!(
            from_env(Some("parentbased_traceidratio"), Some(arg)),
            (parent_based("TraceIdRatioBased{1}"), 1),
            "{arg:?}"
        );
    }
}

#[test]
fn unsupported_and_unknown_samplers_fall_back_to_default() {
    for sampler in [
        "jaeger_remote",
        "parentbased_jaeger_remote",
        "xray",
        "bogus",
        "always-on",
    ] {
        assert_eq!(
            from_env(Some(sampler), None),
            (DEFAULT.to_owned(), 1),
            "{sampler:?}"
        );
    }
    assert_eq!(
        from_env(Some("jaeger_remote"), Some("endpoint=http://x")),
        (DEFAULT.to_owned(), 1)
    );
}

#[test]
fn the_default_samples_roots() {
    let env: HashMap<&str, &str> = HashMap::new();
    let sampler = sampler_from_env(&env);
    let result = sampler.should_sample(&root(trace_id_with_randomness(0)));
    assert!(result.decision.is_sampled());
}
