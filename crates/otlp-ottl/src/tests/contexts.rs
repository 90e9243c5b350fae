//! Every context reads and writes its own item and its parents, with and without the context
//! prefix; context inference picks the most specific prefix.

use otlp_proto::logs::v1::LogRecord;
use otlp_proto::metrics::v1::{
    Gauge, Metric, NumberDataPoint, Sum, metric::Data, number_data_point,
};
use otlp_proto::trace::v1::span::Event;

use super::*;
use crate::{InferSource, PointMut, infer_context};

fn exec(ctx: Context, text: &str, t: &mut TargetMut<'_>) -> bool {
    Statement::parse(text, ctx)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .execute(t)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn resource_and_scope_contexts() {
    let mut resource = Some(Resource::default());
    let mut scope = Some(InstrumentationScope::default());
    let mut cache = Vec::new();
    let mut t = TargetMut {
        item: ItemMut::Resource,
        resource: &mut resource,
        scope: &mut scope,
        cache: &mut cache,
    };
    assert!(exec(
        Context::Resource,
        r#"set(attributes["a"], "1")"#,
        &mut t
    ));
    assert!(exec(
        Context::Resource,
        r#"set(resource.attributes["b"], attributes["a"])"#,
        &mut t
    ));
    assert!(exec(
        Context::Resource,
        "set(dropped_attributes_count, 2)",
        &mut t
    ));
    t.item = ItemMut::Scope;
    assert!(exec(Context::Scope, r#"set(name, "lib")"#, &mut t));
    assert!(exec(Context::Scope, r#"set(scope.version, "1.0")"#, &mut t));
    assert!(exec(
        Context::Scope,
        r#"set(instrumentation_scope.attributes["from"], resource.attributes["a"])"#,
        &mut t
    ));
    let r = resource.unwrap_or_default();
    assert_eq!(r.attributes, kvs(vec![("a", s("1")), ("b", s("1"))]));
    assert_eq!(r.dropped_attributes_count, 2);
    let sc = scope.unwrap_or_default();
    assert_eq!((sc.name.as_str(), sc.version.as_str()), ("lib", "1.0"));
    assert_eq!(sc.attributes, kvs(vec![("from", s("1"))]));
}

#[test]
fn span_event_context_reads_its_span() {
    let mut sp = span("GET /cart", vec![]);
    let mut event = Event {
        name: "retry".into(),
        ..Event::default()
    };
    let (mut r, mut sc, mut c) = (None, None, Vec::new());
    let mut t = TargetMut {
        item: ItemMut::SpanEvent(&mut event, &mut sp),
        resource: &mut r,
        scope: &mut sc,
        cache: &mut c,
    };
    assert!(exec(
        Context::SpanEvent,
        r#"set(attributes["span"], span.name)"#,
        &mut t
    ));
    assert!(exec(
        Context::SpanEvent,
        r#"set(spanevent.name, "retried") where name == "retry""#,
        &mut t
    ));
    assert!(exec(
        Context::SpanEvent,
        r#"set(span.attributes["had_event"], true)"#,
        &mut t
    ));
    assert!(exec(Context::SpanEvent, "set(time_unix_nano, 7)", &mut t));
    assert_eq!(event.name, "retried");
    assert_eq!(event.time_unix_nano, 7);
    assert_eq!(event.attributes, kvs(vec![("span", s("GET /cart"))]));
    assert_eq!(sp.attributes, kvs(vec![("had_event", b(true))]));
}

#[test]
fn metric_and_datapoint_contexts() {
    let mut metric = Metric {
        name: "http.requests".into(),
        data: Some(Data::Sum(Sum {
            aggregation_temporality: 2,
            is_monotonic: true,
            ..Sum::default()
        })),
        ..Metric::default()
    };
    let (mut r, mut sc, mut c) = (None, None, Vec::new());
    let mut t = TargetMut {
        item: ItemMut::Metric(&mut metric),
        resource: &mut r,
        scope: &mut sc,
        cache: &mut c,
    };
    assert!(exec(
        Context::Metric,
        r#"set(description, "Sum") where type == METRIC_DATA_TYPE_SUM"#,
        &mut t
    ));
    assert!(!exec(
        Context::Metric,
        r#"set(unit, "x") where metric.type == METRIC_DATA_TYPE_GAUGE"#,
        &mut t
    ));
    assert!(exec(
        Context::Metric,
        "set(aggregation_temporality, AGGREGATION_TEMPORALITY_DELTA)",
        &mut t
    ));
    assert!(exec(Context::Metric, "set(is_monotonic, false)", &mut t));
    assert_eq!(metric.description, "Sum");
    assert_eq!(metric.unit, "");
    assert!(
        matches!(&metric.data, Some(Data::Sum(s)) if s.aggregation_temporality == 1 && !s.is_monotonic)
    );

    let mut gauge = Metric {
        name: "queue.depth".into(),
        data: Some(Data::Gauge(Gauge::default())),
        ..Metric::default()
    };
    let mut point = NumberDataPoint {
        value: Some(number_data_point::Value::AsInt(3)),
        ..NumberDataPoint::default()
    };
    let mut t = TargetMut {
        item: ItemMut::DataPoint(PointMut::Number(&mut point), &mut gauge),
        resource: &mut r,
        scope: &mut sc,
        cache: &mut c,
    };
    assert!(exec(
        Context::DataPoint,
        r#"set(attributes["metric"], metric.name)"#,
        &mut t
    ));
    assert!(exec(
        Context::DataPoint,
        "set(value_double, 2.5) where value_int == 3",
        &mut t
    ));
    assert!(exec(Context::DataPoint, r#"set(metric.unit, "1")"#, &mut t));
    assert!(exec(
        Context::DataPoint,
        "set(datapoint.time_unix_nano, 9)",
        &mut t
    ));
    assert_eq!(point.attributes, kvs(vec![("metric", s("queue.depth"))]));
    assert_eq!(point.value, Some(number_data_point::Value::AsDouble(2.5)));
    assert_eq!(point.time_unix_nano, 9);
    assert_eq!(gauge.unit, "1");
}

#[test]
fn log_context() {
    let mut log = LogRecord {
        body: Some(s("request failed")),
        ..LogRecord::default()
    };
    let (mut r, mut sc, mut c) = (None, None, Vec::new());
    let mut t = TargetMut {
        item: ItemMut::Log(&mut log),
        resource: &mut r,
        scope: &mut sc,
        cache: &mut c,
    };
    assert!(exec(
        Context::Log,
        r#"set(log.severity_text, "FAIL") where log.body == "request failed""#,
        &mut t
    ));
    assert!(exec(
        Context::Log,
        "set(severity_number, SEVERITY_NUMBER_ERROR)",
        &mut t
    ));
    assert!(exec(
        Context::Log,
        r#"set(attributes["route"], "/x")"#,
        &mut t
    ));
    assert!(exec(
        Context::Log,
        r#"set(body, attributes["route"])"#,
        &mut t
    ));
    let nested = Statement::parse(r#"set(body["nested"], 1)"#, Context::Log).unwrap();
    assert!(
        nested.execute(&mut t).is_err(),
        "a string body cannot be indexed"
    );
    assert!(exec(
        Context::Log,
        r#"set(span_id.string, "0102030405060708")"#,
        &mut t
    ));
    assert_eq!(log.severity_text, "FAIL");
    assert_eq!(log.severity_number, 17);
    assert_eq!(log.span_id, (1..=8).collect::<Vec<u8>>());
    // body was the string "/x": indexing a string is an error, the body stays.
    assert_eq!(log.body, Some(s("/x")));
}

#[test]
fn setting_a_body_key_on_a_map_body() {
    let mut log = LogRecord {
        body: Some(map(vec![("a", i(1))])),
        ..LogRecord::default()
    };
    let (mut r, mut sc, mut c) = (None, None, Vec::new());
    let mut t = TargetMut {
        item: ItemMut::Log(&mut log),
        resource: &mut r,
        scope: &mut sc,
        cache: &mut c,
    };
    assert!(exec(Context::Log, r#"set(body["b"]["c"], "x")"#, &mut t));
    assert!(exec(Context::Log, r#"delete_key(body, "a")"#, &mut t));
    assert_eq!(log.body, Some(map(vec![("b", map(vec![("c", s("x"))]))])));
}

#[test]
fn inference_picks_the_most_specific_prefix() {
    let traces = [
        Context::Resource,
        Context::Scope,
        Context::Span,
        Context::SpanEvent,
    ];
    let metrics = [
        Context::Resource,
        Context::Scope,
        Context::Metric,
        Context::DataPoint,
    ];
    let infer = |s: &[&str], c: &[&str], cands: &[Context]| infer_context(s, c, cands);
    assert_eq!(
        infer(
            &[r#"set(metric.description, "x") where datapoint.attributes["t"] == "pass""#],
            &[],
            &metrics
        ),
        Ok(Context::DataPoint)
    );
    assert_eq!(
        infer(
            &[
                r#"set(resource.attributes["t"], "x")"#,
                r#"set(metric.description, "y")"#
            ],
            &[],
            &metrics
        ),
        Ok(Context::Metric)
    );
    assert_eq!(
        infer(&[r#"set(resource.attributes["t"], "x")"#], &[], &traces),
        Ok(Context::Resource)
    );
    assert_eq!(
        infer(
            &[r#"set(span.name, "x")"#],
            &[r#"spanevent.name == "e""#],
            &traces
        ),
        Ok(Context::SpanEvent)
    );
    assert_eq!(
        infer(&[r#"set(instrumentation_scope.name, "x")"#], &[], &traces),
        Ok(Context::Scope)
    );
    let err = infer(
        &[r#"set(span.name, "x")"#, r#"set(log.body, "x")"#],
        &[],
        &traces,
    )
    .unwrap_err();
    assert_eq!(err.source, InferSource::Statement(1));
    assert_eq!(err.error.position, 4);
    let err = infer(&[r#"set(attributes["x"], "y")"#], &[], &traces).unwrap_err();
    assert_eq!(err.source, InferSource::Group);
    let err = infer(&["set(span.name"], &[], &traces).unwrap_err();
    assert_eq!(
        (err.source, err.error.position),
        (InferSource::Statement(0), 13)
    );
}

#[test]
fn prefixes_must_be_the_context_or_a_parent() {
    for (ctx, text) in [
        (Context::Span, r#"set(log.body, "x")"#),
        (Context::Span, r#"set(spanevent.name, "x")"#),
        (Context::Resource, r#"set(scope.name, "x")"#),
        (Context::Log, r#"set(metric.name, "x")"#),
        (Context::Metric, r#"set(datapoint.attributes["a"], "x")"#),
    ] {
        let e = Statement::parse(text, ctx).unwrap_err();
        assert_eq!(e.position, 4, "{text}: {}", e.message);
    }
}
