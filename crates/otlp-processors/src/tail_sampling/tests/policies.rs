//! Each policy's semantics on hand-built traces (cases after contrib's README examples).

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use tokio::time::Instant;

use super::{b, i, request, resource_spans, s, span, with_attrs, with_status};
use crate::tail_sampling::config::PolicyConfig;
use crate::tail_sampling::group;
use crate::tail_sampling::policy::{
    Decision, EvalError, Level, NamedPolicy, TraceView, build_list,
};

/// The policy of one YAML flow mapping (`{name: p, type: ..., ...}`).
pub(super) fn policy(yaml: &str) -> NamedPolicy {
    let config: PolicyConfig = serde_yaml_ng::from_str(yaml).unwrap();
    build_list(&[config], "policies", Level::Top)
        .unwrap()
        .pop()
        .unwrap()
}

/// `policy`'s decision for the single trace in `request`, at `now`.
pub(super) fn decide_at(
    policy: &mut NamedPolicy,
    request: ExportTraceServiceRequest,
    now: Instant,
) -> Result<Decision, EvalError> {
    let mut grouped = group::by_trace(request);
    assert_eq!(grouped.groups().len(), 1, "one trace per test request");
    let g = grouped.groups()[0];
    let spans: Vec<_> = grouped.take(0).collect();
    let view = TraceView {
        id: &g.id,
        spans: &spans,
        span_count: g.span_count,
    };
    policy.evaluator.evaluate(&view, now)
}

fn decide(policy: &mut NamedPolicy, request: ExportTraceServiceRequest) -> Decision {
    decide_at(policy, request, Instant::now()).unwrap()
}

fn one(p: &mut NamedPolicy, attributes: Vec<otlp_proto::common::v1::KeyValue>) -> Decision {
    decide(
        p,
        request(vec![], vec![with_attrs(span(1, 1, 0, 10), attributes)]),
    )
}

#[test]
fn always_sample_samples_every_trace() {
    let mut p = policy("{name: all, type: always_sample}");
    assert_eq!(one(&mut p, vec![]), Decision::Sampled);
}

#[test]
fn latency_measures_earliest_start_to_latest_end() {
    let mut p = policy("{name: l, type: latency, latency: {threshold_ms: 5000}}");
    // Two spans 0–2 s and 3–5 s: the trace lasts 5 s, the threshold is inclusive.
    let trace = request(vec![], vec![span(1, 1, 0, 2000), span(1, 2, 3000, 5000)]);
    assert_eq!(decide(&mut p, trace), Decision::Sampled);
    let short = request(vec![], vec![span(1, 1, 0, 2000), span(1, 2, 1000, 4999)]);
    assert_eq!(decide(&mut p, short), Decision::NotSampled);

    let mut bounded = policy(
        "{name: l, type: latency, latency: {threshold_ms: 5000, upper_threshold_ms: 10000}}",
    );
    let seven = request(vec![], vec![span(1, 1, 0, 7000)]);
    assert_eq!(decide(&mut bounded, seven), Decision::Sampled);
    let twelve = request(vec![], vec![span(1, 1, 0, 12_000)]);
    assert_eq!(decide(&mut bounded, twelve), Decision::NotSampled);
    let exactly_lower = request(vec![], vec![span(1, 1, 0, 5000)]);
    assert_eq!(
        decide(&mut bounded, exactly_lower),
        Decision::NotSampled,
        "with an upper bound the lower one is exclusive"
    );
}

#[test]
fn numeric_attribute_matches_spans_and_resources_in_range() {
    let mut p = policy(
        "{name: n, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50, max_value: 100}}",
    );
    assert_eq!(one(&mut p, vec![i("key1", 70)]), Decision::Sampled);
    assert_eq!(one(&mut p, vec![i("key1", 100)]), Decision::Sampled);
    assert_eq!(one(&mut p, vec![i("key1", 101)]), Decision::NotSampled);
    assert_eq!(one(&mut p, vec![s("key1", "70")]), Decision::NotSampled);
    let on_resource = request(vec![i("key1", 50)], vec![span(1, 1, 0, 1)]);
    assert_eq!(decide(&mut p, on_resource), Decision::Sampled);

    let mut open =
        policy("{name: n, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50}}");
    assert_eq!(one(&mut open, vec![i("key1", i64::MAX)]), Decision::Sampled);

    let mut inverted = policy(
        "{name: n, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50, max_value: 100, invert_match: true}}",
    );
    assert_eq!(
        one(&mut inverted, vec![i("key1", 70)]),
        Decision::InvertNotSampled
    );
    assert_eq!(one(&mut inverted, vec![]), Decision::InvertSampled);
}

#[test]
fn probabilistic_samples_a_stable_share_of_trace_ids() {
    let count = |yaml: &str| {
        let mut p = policy(yaml);
        (0..2000u32)
            .filter(|n| {
                let mut s = span(0, 1, 0, 1);
                s.trace_id = [n.to_be_bytes().to_vec(), vec![7; 12]].concat();
                decide(&mut p, request(vec![], vec![s])) == Decision::Sampled
            })
            .count()
    };
    assert_eq!(
        count("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 0}}"),
        0
    );
    assert_eq!(
        count("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 100}}"),
        2000
    );
    let half = count("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 50}}");
    assert!((800..1200).contains(&half), "{half}");
    let again = count("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 50}}");
    assert_eq!(half, again, "the decision depends on the trace id only");
    let salted = count(
        "{name: p, type: probabilistic, probabilistic: {sampling_percentage: 50, hash_salt: other}}",
    );
    assert_ne!(half, salted, "another salt picks other traces");
}

#[test]
fn status_code_matches_any_span() {
    let mut p = policy("{name: s, type: status_code, status_code: {status_codes: [ERROR, UNSET]}}");
    let error = request(
        vec![],
        vec![
            with_status(span(1, 1, 0, 1), 1),
            with_status(span(1, 2, 0, 1), 2),
        ],
    );
    assert_eq!(decide(&mut p, error), Decision::Sampled);
    let ok = request(vec![], vec![with_status(span(1, 1, 0, 1), 1)]);
    assert_eq!(decide(&mut p, ok), Decision::NotSampled);
    let unset = request(vec![], vec![span(1, 1, 0, 1)]);
    assert_eq!(
        decide(&mut p, unset),
        Decision::Sampled,
        "no status is UNSET"
    );
}

#[test]
fn string_attribute_exact_regex_and_inverted() {
    let mut exact = policy(
        "{name: s, type: string_attribute, string_attribute: {key: key2, values: [value1, value2]}}",
    );
    assert_eq!(
        one(&mut exact, vec![s("key2", "value2")]),
        Decision::Sampled
    );
    assert_eq!(
        one(&mut exact, vec![s("key2", "value3")]),
        Decision::NotSampled
    );
    assert_eq!(one(&mut exact, vec![i("key2", 1)]), Decision::NotSampled);
    let on_resource = request(vec![s("key2", "value1")], vec![span(1, 1, 0, 1)]);
    assert_eq!(decide(&mut exact, on_resource), Decision::Sampled);

    let mut regex = policy(
        "{name: r, type: string_attribute, string_attribute: {key: http.route, values: [/v1/name/.+], enabled_regex_matching: true, cache_max_size: 2}}",
    );
    for _ in 0..3 {
        assert_eq!(
            one(&mut regex, vec![s("http.route", "/v1/name/42")]),
            Decision::Sampled
        );
        assert_eq!(
            one(&mut regex, vec![s("http.route", "/v1/other")]),
            Decision::NotSampled
        );
        assert_eq!(
            one(&mut regex, vec![s("http.route", "/x/v1/name/7")]),
            Decision::Sampled,
            "unanchored"
        );
    }

    // README rule 1: sample everything not from the listed services.
    let mut inverted = policy(
        "{name: i, type: string_attribute, string_attribute: {key: service.name, values: [list, of, services], invert_match: true}}",
    );
    let listed = request(vec![s("service.name", "of")], vec![span(1, 1, 0, 1)]);
    assert_eq!(decide(&mut inverted, listed), Decision::InvertNotSampled);
    let other = request(vec![s("service.name", "billing")], vec![span(1, 1, 0, 1)]);
    assert_eq!(decide(&mut inverted, other), Decision::InvertSampled);
}

#[test]
fn rate_limiting_is_a_token_bucket_of_spans() {
    let mut p = policy("{name: r, type: rate_limiting, rate_limiting: {spans_per_second: 35}}");
    let start = Instant::now();
    let trace = |n: u8| request(vec![], (0..n).map(|k| span(1, k, 0, 1)).collect());
    // The bucket starts full at twice the rate: 70 spans.
    assert_eq!(
        decide_at(&mut p, trace(50), start).unwrap(),
        Decision::Sampled
    );
    assert_eq!(
        decide_at(&mut p, trace(30), start).unwrap(),
        Decision::NotSampled
    );
    assert_eq!(
        decide_at(&mut p, trace(20), start).unwrap(),
        Decision::Sampled
    );
    // One second refills 35.
    let later = start + std::time::Duration::from_secs(1);
    assert_eq!(
        decide_at(&mut p, trace(36), later).unwrap(),
        Decision::NotSampled
    );
    assert_eq!(
        decide_at(&mut p, trace(35), later).unwrap(),
        Decision::Sampled
    );
    assert_eq!(
        decide_at(
            &mut p,
            trace(71),
            later + std::time::Duration::from_secs(60)
        )
        .unwrap(),
        Decision::NotSampled,
        "a trace larger than the bucket never passes"
    );
}

#[test]
fn span_count_bounds_are_inclusive() {
    let mut p = policy("{name: c, type: span_count, span_count: {min_spans: 2, max_spans: 20}}");
    let trace = |n: u8| request(vec![], (0..n).map(|k| span(1, k, 0, 1)).collect());
    assert_eq!(decide(&mut p, trace(1)), Decision::NotSampled);
    assert_eq!(decide(&mut p, trace(2)), Decision::Sampled);
    assert_eq!(decide(&mut p, trace(20)), Decision::Sampled);
    assert_eq!(decide(&mut p, trace(21)), Decision::NotSampled);
    let mut open = policy("{name: c, type: span_count, span_count: {min_spans: 2}}");
    assert_eq!(decide(&mut open, trace(200)), Decision::Sampled);
}

#[test]
fn trace_state_matches_a_member_value() {
    let mut p =
        policy("{name: t, type: trace_state, trace_state: {key: key3, values: [value1, value2]}}");
    let with_state = |state: &str| {
        let mut s = span(1, 1, 0, 1);
        s.trace_state = state.to_owned();
        request(vec![], vec![s])
    };
    assert_eq!(
        decide(&mut p, with_state("rojo=00f067aa0ba902b7,key3=value2")),
        Decision::Sampled
    );
    assert_eq!(
        decide(&mut p, with_state("key3=value9")),
        Decision::NotSampled
    );
    assert_eq!(
        decide(&mut p, with_state("other=value1")),
        Decision::NotSampled
    );
    assert_eq!(decide(&mut p, with_state("")), Decision::NotSampled);
}

#[test]
fn boolean_attribute_matches_the_value() {
    let mut p = policy(
        "{name: f, type: boolean_attribute, boolean_attribute: {key: app.force_sample, value: true}}",
    );
    assert_eq!(
        one(&mut p, vec![b("app.force_sample", true)]),
        Decision::Sampled
    );
    assert_eq!(
        one(&mut p, vec![b("app.force_sample", false)]),
        Decision::NotSampled
    );
    assert_eq!(
        one(&mut p, vec![s("app.force_sample", "true")]),
        Decision::NotSampled
    );
    let mut inverted = policy(
        "{name: f, type: boolean_attribute, boolean_attribute: {key: k, value: true, invert_match: true}}",
    );
    assert_eq!(
        one(&mut inverted, vec![b("k", true)]),
        Decision::InvertNotSampled
    );
    assert_eq!(
        one(&mut inverted, vec![b("k", false)]),
        Decision::InvertSampled
    );
}

#[test]
fn ottl_condition_on_spans_and_span_events() {
    let mut p = policy(
        r#"{name: o, type: ottl_condition, ottl_condition: {error_mode: ignore, span: ['attributes["test_attr_key_1"] == "test_attr_val_1"'], spanevent: ['name == "boom"']}}"#,
    );
    assert_eq!(
        one(&mut p, vec![s("test_attr_key_1", "test_attr_val_1")]),
        Decision::Sampled
    );
    assert_eq!(
        one(&mut p, vec![s("test_attr_key_1", "other")]),
        Decision::NotSampled
    );
    let mut with_event = span(1, 1, 0, 1);
    with_event.events.push(otlp_proto::trace::v1::span::Event {
        name: "boom".to_owned(),
        ..Default::default()
    });
    assert_eq!(
        decide(&mut p, request(vec![], vec![with_event])),
        Decision::Sampled
    );

    let failing = |mode: &str| {
        policy(&format!(
            r#"{{name: o, type: ottl_condition, ottl_condition: {{error_mode: {mode}, span: ['Len(attributes["n"]) > 1']}}}}"#
        ))
    };
    let trace = || request(vec![], vec![with_attrs(span(1, 1, 0, 1), vec![i("n", 5)])]);
    assert!(decide_at(&mut failing("propagate"), trace(), Instant::now()).is_err());
    assert_eq!(
        decide(&mut failing("ignore"), trace()),
        Decision::NotSampled
    );
    assert_eq!(
        decide(&mut failing("silent"), trace()),
        Decision::NotSampled
    );
}

#[test]
fn and_needs_every_sub_policy() {
    let mut p = policy(
        "{name: a, type: and, and: {and_sub_policy: [{name: n, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50, max_value: 100}}, {name: s, type: string_attribute, string_attribute: {key: key2, values: [value1, value2]}}]}}",
    );
    assert_eq!(
        one(&mut p, vec![i("key1", 60), s("key2", "value1")]),
        Decision::Sampled
    );
    assert_eq!(one(&mut p, vec![i("key1", 60)]), Decision::NotSampled);
    assert_eq!(one(&mut p, vec![s("key2", "value1")]), Decision::NotSampled);

    // An inverted sub-decision counts as a plain one inside `and` (README rule 1).
    let mut backwards = policy(
        "{name: a, type: and, and: {and_sub_policy: [{name: s, type: string_attribute, string_attribute: {key: service.name, values: [tail], invert_match: true}}, {name: all, type: always_sample}]}}",
    );
    let other = request(vec![s("service.name", "legacy")], vec![span(1, 1, 0, 1)]);
    assert_eq!(decide(&mut backwards, other), Decision::Sampled);
    let listed = request(vec![s("service.name", "tail")], vec![span(1, 1, 0, 1)]);
    assert_eq!(decide(&mut backwards, listed), Decision::NotSampled);
}

#[test]
fn drop_answers_dropped_when_every_sub_policy_matches() {
    let mut p = policy(
        r"{name: d, type: drop, drop: {drop_sub_policy: [{name: h, type: string_attribute, string_attribute: {key: url.path, values: [\/health, \/metrics], enabled_regex_matching: true}}]}}",
    );
    assert_eq!(
        one(&mut p, vec![s("url.path", "/health")]),
        Decision::Dropped
    );
    assert_eq!(
        one(&mut p, vec![s("url.path", "/orders")]),
        Decision::NotSampled
    );
}

#[test]
fn composite_charges_the_first_sampling_sub_policy_per_second() {
    let mut p = policy(
        "{name: c, type: composite, composite: {max_total_spans_per_second: 100, policy_order: [num, all], composite_sub_policy: [{name: num, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50}}, {name: all, type: always_sample}], rate_allocation: [{policy: num, percent: 50}, {policy: all, percent: 25}]}}",
    );
    let start = Instant::now();
    let trace = |n: u8, attrs: Vec<otlp_proto::common::v1::KeyValue>| {
        request(
            vec![],
            (0..n)
                .map(|k| with_attrs(span(1, k, 0, 1), attrs.clone()))
                .collect(),
        )
    };
    // `num` has 50 spans/s: 30 fit, 30 more do not — and do not fall through to `all`.
    assert_eq!(
        decide_at(&mut p, trace(30, vec![i("key1", 60)]), start).unwrap(),
        Decision::Sampled
    );
    assert_eq!(
        decide_at(&mut p, trace(30, vec![i("key1", 60)]), start).unwrap(),
        Decision::NotSampled
    );
    // `all` has 25 spans/s of its own.
    assert_eq!(
        decide_at(&mut p, trace(25, vec![]), start).unwrap(),
        Decision::Sampled
    );
    assert_eq!(
        decide_at(&mut p, trace(1, vec![]), start).unwrap(),
        Decision::NotSampled
    );
    // The budgets restart every second.
    let next = start + std::time::Duration::from_secs(1);
    assert_eq!(
        decide_at(&mut p, trace(30, vec![i("key1", 60)]), next).unwrap(),
        Decision::Sampled
    );

    let mut unlisted = policy(
        "{name: c, type: composite, composite: {max_total_spans_per_second: 100, composite_sub_policy: [{name: num, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50}}, {name: all, type: always_sample}], rate_allocation: [{policy: num, percent: 50}]}}",
    );
    assert_eq!(
        decide_at(&mut unlisted, trace(1, vec![]), start).unwrap(),
        Decision::NotSampled,
        "a sub-policy without rate_allocation gets no budget"
    );
    let mut equal = policy(
        "{name: c, type: composite, composite: {max_total_spans_per_second: 100, composite_sub_policy: [{name: a, type: always_sample}, {name: b, type: always_sample}]}}",
    );
    assert_eq!(
        decide_at(&mut equal, trace(50, vec![]), start).unwrap(),
        Decision::Sampled
    );
    assert_eq!(
        decide_at(&mut equal, trace(1, vec![]), start).unwrap(),
        Decision::NotSampled
    );
}

#[test]
fn grouping_keeps_resources_and_scopes_per_trace() {
    let request = otlp_proto::collector::trace::v1::ExportTraceServiceRequest {
        resource_spans: vec![
            resource_spans(
                vec![s("service.name", "a")],
                vec![span(1, 1, 0, 1), span(2, 2, 0, 1), span(1, 3, 0, 1)],
            ),
            resource_spans(vec![s("service.name", "b")], vec![span(2, 4, 0, 1)]),
        ],
    };
    let mut grouped = group::by_trace(request);
    let groups = grouped.groups().to_vec();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].id, [1; 16]);
    assert_eq!(groups[0].span_count, 2);
    assert_eq!(groups[1].id, [2; 16]);
    assert_eq!(groups[1].span_count, 2);
    let one: Vec<_> = grouped.take(0).collect();
    let two: Vec<_> = grouped.take(1).collect();
    let span_bytes = |spans: &[group::TaggedSpan]| -> Vec<u8> {
        spans.iter().map(|t| t.span.span_id[0]).collect()
    };
    assert_eq!(span_bytes(&one), vec![1, 3], "in arrival order");
    assert_eq!(span_bytes(&two), vec![2, 4]);
    assert!(grouped.take(0).next().is_none(), "taken once");
    let service = |t: &group::TaggedSpan| t.resource().unwrap().attributes[0].value.clone();
    assert_eq!(service(&one[0]), service(&two[0]));
    assert!(
        std::sync::Arc::ptr_eq(&one[0].scope, &two[0].scope),
        "traces share the request's resource and scope"
    );
    assert_ne!(
        service(&two[0]),
        service(&two[1]),
        "trace 2 has spans under both resources"
    );
    assert_eq!(two[1].scope.scope.as_ref().unwrap().name, "test");
}

#[test]
fn outgoing_requests_carry_each_received_resource_once() {
    let request = otlp_proto::collector::trace::v1::ExportTraceServiceRequest {
        resource_spans: vec![
            resource_spans(
                vec![s("service.name", "a")],
                vec![span(1, 1, 0, 1), span(2, 2, 0, 1), span(1, 3, 0, 1)],
            ),
            resource_spans(vec![s("service.name", "b")], vec![span(2, 4, 0, 1)]),
        ],
    };
    let other = request.clone();
    let mut grouped = group::by_trace(request);
    let mut later = group::by_trace(other);
    let mut out = crate::tail_sampling::emit::Outgoing::new();
    // Trace 2, then trace 1, then trace 1 of a second (equal) request.
    out.extend(grouped.take(1));
    out.extend(grouped.take(0));
    out.extend(later.take(0));
    let batches = out.finish();
    let services: Vec<_> = batches
        .iter()
        .map(|rs| rs.resource.as_ref().unwrap().attributes[0].value.clone())
        .collect();
    assert_eq!(
        services,
        vec![
            Some(otlp_proto::common::v1::AnyValue {
                value: Some(otlp_proto::common::v1::any_value::Value::StringValue(
                    "a".to_owned()
                ))
            }),
            Some(otlp_proto::common::v1::AnyValue {
                value: Some(otlp_proto::common::v1::any_value::Value::StringValue(
                    "b".to_owned()
                ))
            }),
            Some(otlp_proto::common::v1::AnyValue {
                value: Some(otlp_proto::common::v1::any_value::Value::StringValue(
                    "a".to_owned()
                ))
            }),
        ],
        "one ResourceSpans per received resource, the second request's apart"
    );
    let spans = |rs: &otlp_proto::trace::v1::ResourceSpans| -> Vec<(u8, u8)> {
        assert_eq!(rs.scope_spans.len(), 1);
        assert_eq!(rs.scope_spans[0].scope.as_ref().unwrap().name, "test");
        rs.scope_spans[0]
            .spans
            .iter()
            .map(|s| (s.trace_id[0], s.span_id[0]))
            .collect()
    };
    assert_eq!(spans(&batches[0]), vec![(2, 2), (1, 1), (1, 3)]);
    assert_eq!(spans(&batches[1]), vec![(2, 4)]);
    assert_eq!(spans(&batches[2]), vec![(1, 1), (1, 3)]);
}
