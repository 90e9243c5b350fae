//! Property tests: the processors never panic on arbitrary input, and the filtering ones never
//! increase any count.

use otlp_model::prelude::*;
use otlp_processors::attributes::AttributesConfig;
use otlp_processors::filter::{FilterConfig, FilterProcessor};
use otlp_processors::probabilistic_sampler::ProbabilisticSamplerConfig;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue};
use proptest::prelude::*;

fn any_value() -> impl Strategy<Value = AnyValue> {
    prop_oneof![
        "[a-z/0-9.]{0,8}".prop_map(|s| s.into_any_value()),
        any::<i64>().prop_map(IntoAnyValue::into_any_value),
        any::<f64>().prop_map(IntoAnyValue::into_any_value),
        any::<bool>().prop_map(IntoAnyValue::into_any_value),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(IntoAnyValue::into_any_value),
        Just(AnyValue::default()),
    ]
}

fn attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::vec(
        (
            prop_oneof![
                Just("k"),
                Just("http.route"),
                Just("code"),
                Just("sampling.priority")
            ],
            any_value(),
        )
            .prop_map(|(k, v)| kv(k, v)),
        0..4,
    )
}

fn traces() -> impl Strategy<Value = ExportTraceServiceRequest> {
    proptest::collection::vec(
        (
            "[a-c]{0,2}",
            0_i32..7,
            attrs(),
            any::<[u8; 16]>(),
            prop_oneof![
                Just(""),
                Just("ot=th:8"),
                Just("ot=rv:zz"),
                Just("a=b,ot=rv:80000000000000")
            ],
            proptest::collection::vec("[a-c]{0,2}", 0..3),
            0_usize..3,
        ),
        0..12,
    )
    .prop_map(|spans| {
        let mut b = TracesBuilder::new();
        for (i, (name, kind, attributes, id, ts, events, group)) in spans.into_iter().enumerate() {
            if group == 0 || i == 0 {
                b = b
                    .resource(resource!["service.name" => name.clone()])
                    .scope(name.clone(), "");
            }
            let mut s = SpanBuilder::new(name)
                .trace_id(id)
                .attrs(attributes)
                .trace_state(ts);
            for e in events {
                s = s.event(EventBuilder::new(e));
            }
            let mut span: otlp_proto::trace::v1::Span = s.build();
            span.kind = kind;
            span.trace_id = id.to_vec();
            b = b.span(span);
        }
        b.build()
    })
}

fn logs() -> impl Strategy<Value = ExportLogsServiceRequest> {
    proptest::collection::vec((0_i32..30, any_value(), attrs(), "[A-Z]{0,5}"), 0..12).prop_map(
        |records| {
            let mut b = LogsBuilder::new();
            for (sev, body, attributes, text) in records {
                let mut r: otlp_proto::logs::v1::LogRecord = LogRecordBuilder::new()
                    .body(body)
                    .attrs(attributes)
                    .severity_text(text)
                    .build();
                r.severity_number = sev;
                b = b.log_record(r);
            }
            b.build()
        },
    )
}

fn metrics() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    proptest::collection::vec(
        (
            "[a-c]{1,2}",
            proptest::collection::vec((any::<i64>(), attrs()), 0..4),
            any::<bool>(),
        ),
        0..8,
    )
    .prop_map(|ms| {
        let mut b = MetricsBuilder::new();
        for (name, points, gauge) in ms {
            if gauge {
                let mut g = GaugeBuilder::new(name);
                for (v, a) in points {
                    g = g.point(NumberPointBuilder::int(v).attrs(a));
                }
                b = b.metric(g);
            } else {
                let mut s = SumBuilder::new(name);
                for (v, a) in points {
                    s = s.point(NumberPointBuilder::int(v).attrs(a));
                }
                b = b.metric(s);
            }
        }
        b.build()
    })
}

fn filters() -> Vec<FilterProcessor> {
    [
        r#"
error_mode: ignore
traces:
  span: ['name == "a" or attributes["k"] > 3', 'IsMatch(attributes["http.route"], "^/h")', 'Len(attributes["k"]) > 1']
  spanevent: ['name != "b" and span.kind == SPAN_KIND_SERVER']
metrics:
  metric: ['name == "b"']
  datapoint: ['attributes["code"] >= 2.5 or value_int < 0']
logs:
  log_record: ['severity_number < SEVERITY_NUMBER_WARN and not IsMatch(body, "A")', 'attributes["k"] == nil']
"#,
        r#"
spans:
  exclude: {match_type: regexp, span_names: ["^a"], attributes: [{key: k}]}
metrics:
  include: {match_type: strict, metric_names: [a, c]}
logs:
  include: {match_type: regexp, bodies: ["a"], severity_number: {min: INFO, match_undefined: true}}
"#,
    ]
    .iter()
    .map(|y| FilterConfig::from_yaml(y).and_then(|c| c.build()).unwrap_or_else(|e| panic!("{e}")))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn processors_filters_never_increase_traces(req in traces()) {
        for f in filters() {
            let mut r = req.clone();
            let before = (r.span_count(), r.spans().map(|s| s.span.events.len()).sum::<usize>());
            let dropped = f.process_traces(&mut r);
            let after = (r.span_count(), r.spans().map(|s| s.span.events.len()).sum::<usize>());
            prop_assert!(after.0 <= before.0 && after.1 <= before.1);
            if let Ok(d) = dropped {
                prop_assert_eq!(before.0 - after.0, d);
            }
            prop_assert!(r.resource_spans.iter().all(|rs| !rs.scope_spans.is_empty()
                && rs.scope_spans.iter().all(|ss| !ss.spans.is_empty())));
        }
    }

    #[test]
    fn processors_filters_never_increase_logs(req in logs()) {
        for f in filters() {
            let mut r = req.clone();
            let before = r.log_record_count();
            let dropped = f.process_logs(&mut r);
            prop_assert!(r.log_record_count() <= before);
            prop_assert_eq!(dropped, Ok(before - r.log_record_count()));
        }
    }

    #[test]
    fn processors_filters_never_increase_metrics(req in metrics()) {
        for f in filters() {
            let mut r = req.clone();
            let before = (r.metric_count(), r.data_point_count());
            let dropped = f.process_metrics(&mut r);
            prop_assert!(r.metric_count() <= before.0 && r.data_point_count() <= before.1);
            prop_assert_eq!(dropped, Ok(before.1 - r.data_point_count()));
        }
    }

    #[test]
    fn processors_sampler_and_attributes_never_panic(req in traces(), l in logs(), pct in 0.0_f32..120.0, seed in any::<u32>()) {
        for mode in ["hash_seed", "proportional", "equalizing"] {
            let yaml = format!("sampling_percentage: {pct}\nhash_seed: {seed}\nmode: {mode}\nfail_closed: false\nfrom_attribute: k\nsampling_priority: code");
            let s = ProbabilisticSamplerConfig::from_yaml(&yaml).and_then(|c| c.build());
            prop_assert!(s.is_ok());
            if let Ok(s) = s {
                let mut r = req.clone();
                let before = r.span_count();
                let dropped = s.process_traces(&mut r);
                prop_assert_eq!(before - dropped, r.span_count());
                let mut l2 = l.clone();
                let before = l2.log_record_count();
                let dropped = s.process_logs(&mut l2);
                prop_assert_eq!(before - dropped, l2.log_record_count());
            }
        }
        let a = AttributesConfig::from_yaml(
            "actions: [{key: k, action: hash}, {key: code, action: convert, converted_type: int}, {key: k, pattern: '(?P<x>.)', action: extract}, {pattern: '^s', action: delete}]",
        ).and_then(|c| c.build());
        prop_assert!(a.is_ok());
        if let Ok(a) = a {
            let mut r = req.clone();
            a.process_traces(&mut r);
            prop_assert_eq!(r.span_count(), req.span_count());
        }
    }

    #[test]
    fn processors_condition_parser_never_panics(tokens in proptest::collection::vec(prop_oneof![
        Just("name"), Just("=="), Just("!="), Just("<"), Just(">="), Just("and"), Just("or"), Just("not"),
        Just("("), Just(")"), Just("\"x\""), Just("1"), Just("-2.5"), Just("nil"), Just("true"),
        Just("attributes"), Just("[\"k\"]"), Just("[0]"), Just("."), Just(","), Just("IsMatch("),
        Just("SPAN_KIND_SERVER"), Just("resource"), Just("\"unterminated"), Just("é"), Just("\\"),
    ], 0..12)) {
        let condition = tokens.join(" ");
        let yaml = serde_yaml_ng::to_string(&serde_yaml_ng::Value::Mapping(
            [(
                serde_yaml_ng::Value::from("traces"),
                serde_yaml_ng::Value::Mapping([(serde_yaml_ng::Value::from("span"), serde_yaml_ng::Value::Sequence(vec![condition.clone().into()]))].into_iter().collect()),
            )].into_iter().collect(),
        )).unwrap_or_default();
        if let Ok(f) = FilterConfig::from_yaml(&yaml).and_then(|cfg| cfg.build()) {
            let mut r = TracesBuilder::new().span(SpanBuilder::new("x").attr("k", 1)).build();
            let _ = f.process_traces(&mut r);
        }
    }
}
