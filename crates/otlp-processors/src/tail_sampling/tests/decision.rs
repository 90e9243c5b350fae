//! The final decision's precedence, and the configuration checks naming the offending key.

use otlp_pipeline::factory::Factory;

use crate::tail_sampling::decision::{Final, Votes};
use crate::tail_sampling::policy::Decision;
use crate::tail_sampling::tail_sampling_factory;

fn decide(decisions: &[Decision]) -> Final {
    let mut votes = Votes::default();
    for d in decisions {
        votes.add(*d);
    }
    votes.decide()
}

#[test]
fn precedence_follows_contrib() {
    use Decision::*;
    assert_eq!(
        decide(&[Sampled, NotSampled]),
        Final::Sampled,
        "any sample wins over not sampled"
    );
    assert_eq!(
        decide(&[Sampled, Dropped]),
        Final::Dropped,
        "a drop policy overrides"
    );
    assert_eq!(
        decide(&[Sampled, InvertNotSampled]),
        Final::NotSampled,
        "an inverted refusal overrides"
    );
    assert_eq!(decide(&[InvertSampled]), Final::Sampled);
    assert_eq!(
        decide(&[InvertSampled, NotSampled]),
        Final::NotSampled,
        "an inverted sample needs no plain refusal"
    );
    assert_eq!(
        decide(&[InvertSampled, NotSampled, Sampled]),
        Final::Sampled
    );
    assert_eq!(decide(&[NotSampled]), Final::NotSampled);
    assert_eq!(decide(&[]), Final::NotSampled, "no vote: not sampled");
    assert_eq!(decide(&[Dropped, InvertNotSampled]), Final::Dropped);
}

/// The location and message of the error validating `yaml`.
fn error(yaml: &str) -> (String, String) {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
    let error = tail_sampling_factory().validate(&value).unwrap_err();
    (error.location(), error.kind().to_string())
}

#[test]
fn config_errors_name_the_key() {
    let (at, message) = error(
        "policies:\n  - {name: a, type: always_sample}\n  - {name: b, type: latency, latency: {threshold_ms: 1}}\n  - {name: c, type: string_attribute, string_attribute: {values: [x]}}",
    );
    assert_eq!(at, "policies[2]::string_attribute::key");
    assert!(message.contains("empty"), "{message}");

    let (at, message) = error("policies: [{name: a, type: sometimes}]");
    assert_eq!(at, "policies[0]::type");
    assert!(
        message.contains("unknown policy type \"sometimes\""),
        "{message}"
    );
    assert!(
        message.contains("always_sample")
            && message.contains("ottl_condition")
            && message.contains("drop"),
        "{message}"
    );

    let cases = [
        ("policies: []", "policies"),
        (
            "decision_wait: 0s\npolicies: [{name: a, type: always_sample}]",
            "decision_wait",
        ),
        (
            "num_traces: 0\npolicies: [{name: a, type: always_sample}]",
            "num_traces",
        ),
        (
            "policies: [{name: a, type: always_sample}, {name: a, type: always_sample}]",
            "policies[1]::name",
        ),
        ("policies: [{type: always_sample}]", "policies[0]::name"),
        (
            "policies: [{name: s, type: status_code, status_code: {status_codes: [OK, BAD]}}]",
            "policies[0]::status_code::status_codes[1]",
        ),
        (
            "policies: [{name: s, type: string_attribute, string_attribute: {key: k, values: ['(', b], enabled_regex_matching: true}}]",
            "policies[0]::string_attribute::values[0]",
        ),
        (
            "policies: [{name: n, type: numeric_attribute, numeric_attribute: {key: k}}]",
            "policies[0]::numeric_attribute::min_value",
        ),
        (
            "policies: [{name: p, type: probabilistic, probabilistic: {sampling_percentage: 101}}]",
            "policies[0]::probabilistic::sampling_percentage",
        ),
        (
            "policies: [{name: r, type: rate_limiting, rate_limiting: {spans_per_second: 0}}]",
            "policies[0]::rate_limiting::spans_per_second",
        ),
        (
            "policies: [{name: o, type: ottl_condition, ottl_condition: {span: ['attributes[\"a\"] =='] }}]",
            "policies[0]::ottl_condition::span[0]",
        ),
        (
            "policies: [{name: a, type: and, and: {and_sub_policy: [{name: x, type: and, and: {and_sub_policy: []}}]}}]",
            "policies[0]::and::and_sub_policy[0]::type",
        ),
        (
            "policies: [{name: d, type: drop, drop: {drop_sub_policy: [{name: x, type: span_count, span_count: {min_spans: 3, max_spans: 2}}]}}]",
            "policies[0]::drop::drop_sub_policy[0]::span_count::max_spans",
        ),
        (
            "policies: [{name: c, type: composite, composite: {max_total_spans_per_second: 10, composite_sub_policy: [{name: x, type: always_sample}], rate_allocation: [{policy: y, percent: 10}]}}]",
            "policies[0]::composite::rate_allocation[0]::policy",
        ),
        (
            "policies: [{name: c, type: composite, composite: {max_total_spans_per_second: 10, policy_order: [z], composite_sub_policy: [{name: x, type: always_sample}]}}]",
            "policies[0]::composite::policy_order[0]",
        ),
        (
            "policies: [{name: a, type: always_sample, bogus: 1}]",
            "policies[0]::bogus",
        ),
    ];
    for (yaml, expected) in cases {
        let (at, message) = error(yaml);
        assert_eq!(at, expected, "{yaml}: {message}");
    }
}

#[test]
fn the_readme_configuration_is_accepted() {
    let yaml = r#"
decision_wait: 10s
num_traces: 100
expected_new_traces_per_sec: 10
decision_cache: {sampled_cache_size: 100000, non_sampled_cache_size: 100000}
policies:
  - {name: test-policy-1, type: always_sample}
  - {name: test-policy-2, type: latency, latency: {threshold_ms: 5000, upper_threshold_ms: 10000}}
  - {name: test-policy-3, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50, max_value: 100}}
  - {name: test-policy-4, type: probabilistic, probabilistic: {sampling_percentage: 10}}
  - {name: test-policy-5, type: status_code, status_code: {status_codes: [ERROR, UNSET]}}
  - {name: test-policy-6, type: string_attribute, string_attribute: {key: key2, values: [value1, value2]}}
  - {name: test-policy-7, type: string_attribute, string_attribute: {key: key2, values: [value1, val*], enabled_regex_matching: true, cache_max_size: 10}}
  - {name: test-policy-8, type: rate_limiting, rate_limiting: {spans_per_second: 35}}
  - {name: test-policy-10, type: span_count, span_count: {min_spans: 2, max_spans: 20}}
  - {name: test-policy-11, type: trace_state, trace_state: {key: key3, values: [value1, value2]}}
  - {name: test-policy-12, type: boolean_attribute, boolean_attribute: {key: key4, value: true}}
  - name: test-policy-13
    type: ottl_condition
    ottl_condition:
      error_mode: ignore
      span: ['attributes["test_attr_key_1"] == "test_attr_val_1"', 'attributes["test_attr_key_2"] != "test_attr_val_1"']
      spanevent: ['name != "test_span_event_name"', 'attributes["test_event_attr_key_2"] != "test_event_attr_val_1"']
  - name: and-policy-1
    type: and
    and: {and_sub_policy: [{name: test-and-policy-1, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50, max_value: 100}}, {name: test-and-policy-2, type: string_attribute, string_attribute: {key: key2, values: [value1, value2]}}]}
  - name: drop-policy-1
    type: drop
    drop: {drop_sub_policy: [{name: test-drop-policy-1, type: string_attribute, string_attribute: {key: url.path, values: [\/health, \/metrics], enabled_regex_matching: true}}]}
  - name: composite-policy-1
    type: composite
    composite:
      max_total_spans_per_second: 1000
      policy_order: [test-composite-policy-1, test-composite-policy-2, test-composite-policy-3]
      composite_sub_policy:
        - {name: test-composite-policy-1, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50}}
        - {name: test-composite-policy-2, type: string_attribute, string_attribute: {key: key2, values: [value1, value2]}}
        - {name: test-composite-policy-3, type: always_sample}
      rate_allocation: [{policy: test-composite-policy-1, percent: 50}, {policy: test-composite-policy-2, percent: 25}]
"#;
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
    tail_sampling_factory().validate(&value).unwrap();
}
