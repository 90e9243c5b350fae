//! `spanmetrics` end to end through its factory: YAML configuration, hand-built spans in, the
//! metrics a probe receives out, checked value by value.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use otlp_model::builders::{EventBuilder, SpanBuilder, SpanKind, TracesBuilder};
use otlp_model::resource;
use otlp_pipeline::testing::{Probe, connector_ctx};
use otlp_pipeline::{
    Connector, ConnectorFactory, ConsumeError, Consumer, Factory, Resources, Signal, Telemetry,
};
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::common::v1::any_value::Value;
use otlp_proto::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint, metric, number_data_point,
};
use otlp_proto::trace::v1::status::StatusCode;
use tokio::time::Instant;

const MS: u64 = 1_000_000;

fn build(yaml: &str, probe: &Arc<Probe>) -> Box<dyn Connector> {
    let ctx = connector_ctx(
        "spanmetrics",
        Signal::Traces,
        Signal::Metrics,
        vec![("metrics/out", probe.clone() as Arc<dyn Consumer>)],
        Resources::default(),
    );
    let config: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
    super::factory().create(ctx, config).unwrap()
}

/// A span of `name` lasting `ms` milliseconds.
fn span(name: &str, ms: u64) -> SpanBuilder {
    SpanBuilder::new(name)
        .kind(SpanKind::Server)
        .trace_id([7; 16])
        .span_id([9; 8])
        .start(1_000 * MS)
        .end(1_000 * MS + ms * MS)
}

fn traces(service: &str, spans: Vec<SpanBuilder>) -> Telemetry {
    Telemetry::new(
        TracesBuilder::new()
            .resource(resource!["service.name" => service])
            .scope("lib", "1.0")
            .spans(spans)
            .build(),
    )
}

async fn flush(connector: &dyn Connector) {
    connector
        .shutdown(Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}

/// The `n`-th metrics request the probe received.
fn request(probe: &Probe, n: usize) -> ExportMetricsServiceRequest {
    let received = probe.received.lock().unwrap();
    received[n].metrics().unwrap().clone()
}

fn metric<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
    request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn sums(metric: &Metric) -> &[NumberDataPoint] {
    match &metric.data {
        Some(metric::Data::Sum(sum)) => {
            assert!(sum.is_monotonic);
            &sum.data_points
        }
        other => panic!("not a sum: {other:?}"),
    }
}

fn histograms(metric: &Metric) -> &[HistogramDataPoint] {
    match &metric.data {
        Some(metric::Data::Histogram(h)) => &h.data_points,
        other => panic!("not a histogram: {other:?}"),
    }
}

fn attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attr(attributes, key)? {
        Value::StringValue(s) => Some(s.clone()),
        other => Some(format!("{other:?}")),
    }
}

fn int(point: &NumberDataPoint) -> i64 {
    match point.value {
        Some(number_data_point::Value::AsInt(v)) => v,
        other => panic!("not an int: {other:?}"),
    }
}

fn point_with<'a, P>(
    points: &'a [P],
    attrs: impl Fn(&P) -> &[KeyValue],
    key: &str,
    value: &str,
) -> &'a P {
    points
        .iter()
        .find(|p| text(attrs(p), key).as_deref() == Some(value))
        .unwrap_or_else(|| panic!("no point with {key}={value}"))
}

#[tokio::test]
async fn calls_and_duration_histogram_have_exact_values() {
    let probe = Probe::new();
    let connector = build("histogram: {explicit: {buckets: [10ms, 100ms]}}", &probe);
    let spans = vec![
        span("GET /cart", 5),
        span("GET /cart", 10),
        span("GET /cart", 150),
        span("GET /cart", 20).status(StatusCode::Error, "boom"),
    ];
    connector.consume(traces("checkout", spans)).await.unwrap();
    flush(connector.as_ref()).await;

    let out = request(&probe, 0);
    assert_eq!(out.resource_metrics.len(), 1);
    let rm = &out.resource_metrics[0];
    let resource = rm.resource.as_ref().unwrap();
    assert_eq!(
        text(&resource.attributes, "service.name").as_deref(),
        Some("checkout")
    );
    assert_eq!(
        rm.scope_metrics[0].scope.as_ref().unwrap().name,
        "spanmetricsconnector"
    );

    let calls = sums(metric(&out, "traces.span.metrics.calls"));
    assert_eq!(calls.len(), 2);
    let ok = point_with(calls, |p| &p.attributes, "status.code", "STATUS_CODE_UNSET");
    assert_eq!(int(ok), 3);
    assert_eq!(
        text(&ok.attributes, "service.name").as_deref(),
        Some("checkout")
    );
    assert_eq!(
        text(&ok.attributes, "span.name").as_deref(),
        Some("GET /cart")
    );
    assert_eq!(
        text(&ok.attributes, "span.kind").as_deref(),
        Some("SPAN_KIND_SERVER")
    );
    assert_eq!(ok.attributes.len(), 4);
    let failed = point_with(calls, |p| &p.attributes, "status.code", "STATUS_CODE_ERROR");
    assert_eq!(int(failed), 1);

    let duration = metric(&out, "traces.span.metrics.duration");
    assert_eq!(duration.unit, "ms");
    let points = histograms(duration);
    let ok = point_with(
        points,
        |p| &p.attributes,
        "status.code",
        "STATUS_CODE_UNSET",
    );
    assert_eq!(ok.explicit_bounds, [10.0, 100.0]);
    assert_eq!(ok.bucket_counts, [2, 0, 1], "10ms is in the first bucket");
    assert_eq!(ok.count, 3);
    assert_eq!(ok.sum, Some(165.0));
    assert!(ok.exemplars.is_empty(), "exemplars are off by default");
    let failed = point_with(
        points,
        |p| &p.attributes,
        "status.code",
        "STATUS_CODE_ERROR",
    );
    assert_eq!(failed.bucket_counts, [0, 1, 0]);
    assert_eq!(failed.sum, Some(20.0));
    match &duration.data {
        Some(metric::Data::Histogram(h)) => {
            assert_eq!(
                h.aggregation_temporality,
                AggregationTemporality::Cumulative as i32
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn default_buckets_in_seconds_and_a_custom_namespace() {
    let probe = Probe::new();
    let connector = build("{histogram: {unit: s}, namespace: app}", &probe);
    connector
        .consume(traces("checkout", vec![span("work", 1500)]))
        .await
        .unwrap();
    flush(connector.as_ref()).await;
    let out = request(&probe, 0);
    let duration = metric(&out, "app.duration");
    assert_eq!(duration.unit, "s");
    let point = &histograms(duration)[0];
    assert_eq!(point.explicit_bounds.len(), 16);
    assert_eq!(point.explicit_bounds[0], 0.002);
    assert_eq!(point.explicit_bounds[15], 15.0);
    assert_eq!(point.sum, Some(1.5));
    // 1.5 s lies in (1.4 s, 2 s]: bucket 12.
    assert_eq!(point.bucket_counts[12], 1);
    assert_eq!(point.bucket_counts.iter().sum::<u64>(), 1);
    assert_eq!(int(&sums(metric(&out, "app.calls"))[0]), 1);
}

#[tokio::test]
async fn dimensions_come_from_span_then_resource_then_default() {
    let probe = Probe::new();
    let connector = build(
        "dimensions: [{name: http.method, default: GET}, {name: region}]\n\
         exclude_dimensions: [status.code, span.kind]",
        &probe,
    );
    let request = TracesBuilder::new()
        .resource(resource!["service.name" => "checkout", "region" => "eu"])
        .scope("lib", "1.0")
        .span(span("a", 1).attr("http.method", "POST"))
        .span(span("a", 1).attr("region", "us"))
        .resource(resource!["service.name" => "cart"])
        .scope("lib", "1.0")
        .span(span("a", 1))
        .build();
    connector.consume(Telemetry::new(request)).await.unwrap();
    flush(connector.as_ref()).await;
    let out = self::request(&probe, 0);
    assert_eq!(
        out.resource_metrics.len(),
        2,
        "one ResourceMetrics per service"
    );
    let calls: Vec<&NumberDataPoint> = out
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics[0].metrics)
        .filter(|m| m.name == "traces.span.metrics.calls")
        .flat_map(sums)
        .collect();
    let seen: Vec<(Option<String>, Option<String>, Option<String>)> = calls
        .iter()
        .map(|p| {
            assert!(attr(&p.attributes, "status.code").is_none());
            assert!(attr(&p.attributes, "span.kind").is_none());
            (
                text(&p.attributes, "service.name"),
                text(&p.attributes, "http.method"),
                text(&p.attributes, "region"),
            )
        })
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert!(
        seen.contains(&(s("checkout"), s("POST"), s("eu"))),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(s("checkout"), s("GET"), s("us"))),
        "{seen:?}"
    );
    assert!(seen.contains(&(s("cart"), s("GET"), None)), "{seen:?}");
    assert_eq!(seen.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn cumulative_totals_grow_across_flushes() {
    let probe = Probe::new();
    let connector = build("metrics_flush_interval: 10s", &probe);
    connector
        .start(&otlp_pipeline::Host::empty())
        .await
        .unwrap();
    connector
        .consume(traces("checkout", vec![span("a", 1), span("a", 1)]))
        .await
        .unwrap();
    tick(Duration::from_secs(10)).await;
    assert_eq!(probe.calls(), 1);
    connector
        .consume(traces("checkout", vec![span("a", 1)]))
        .await
        .unwrap();
    tick(Duration::from_secs(10)).await;
    assert_eq!(probe.calls(), 2);
    let first = sums(metric(&request(&probe, 0), "traces.span.metrics.calls"))[0].clone();
    let second = sums(metric(&request(&probe, 1), "traces.span.metrics.calls"))[0].clone();
    assert_eq!((int(&first), int(&second)), (2, 3));
    assert_eq!(first.start_time_unix_nano, second.start_time_unix_nano);
    assert!(second.time_unix_nano >= first.time_unix_nano);
    let second_request = request(&probe, 1);
    let h = &histograms(metric(&second_request, "traces.span.metrics.duration"))[0];
    assert_eq!(h.count, 3);
    flush(connector.as_ref()).await;
    assert_eq!(probe.calls(), 3, "shutdown flushes once more");
}

/// Lets the paused clock run `by`, then lets the ticker task finish its flush.
async fn tick(by: Duration) {
    tokio::time::sleep(by + Duration::from_millis(1)).await;
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn delta_restarts_each_interval() {
    let probe = Probe::new();
    let connector = build(
        "{metrics_flush_interval: 10s, aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA}",
        &probe,
    );
    connector
        .start(&otlp_pipeline::Host::empty())
        .await
        .unwrap();
    connector
        .consume(traces("checkout", vec![span("a", 1), span("a", 1)]))
        .await
        .unwrap();
    tick(Duration::from_secs(10)).await;
    tick(Duration::from_secs(10)).await;
    assert_eq!(probe.calls(), 1, "an interval without spans sends nothing");
    connector
        .consume(traces("checkout", vec![span("a", 1)]))
        .await
        .unwrap();
    tick(Duration::from_secs(10)).await;
    assert_eq!(probe.calls(), 2);
    let first_request = request(&probe, 0);
    let first_metric = metric(&first_request, "traces.span.metrics.calls");
    match &first_metric.data {
        Some(metric::Data::Sum(sum)) => {
            assert_eq!(
                sum.aggregation_temporality,
                AggregationTemporality::Delta as i32
            );
        }
        other => panic!("{other:?}"),
    }
    let first = sums(first_metric)[0].clone();
    let second = sums(metric(&request(&probe, 1), "traces.span.metrics.calls"))[0].clone();
    assert_eq!((int(&first), int(&second)), (2, 1));
    assert_eq!(
        second.start_time_unix_nano, first.time_unix_nano,
        "a delta point starts where the series' previous one ended"
    );
    let second_request = request(&probe, 1);
    let h = &histograms(metric(&second_request, "traces.span.metrics.duration"))[0];
    assert_eq!(h.count, 1);
    connector
        .shutdown(Instant::now() + Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn series_not_updated_for_metrics_expiration_are_dropped() {
    let probe = Probe::new();
    let connector = build(
        "{metrics_flush_interval: 10s, metrics_expiration: 15s}",
        &probe,
    );
    connector
        .start(&otlp_pipeline::Host::empty())
        .await
        .unwrap();
    connector
        .consume(traces("checkout", vec![span("old", 1)]))
        .await
        .unwrap();
    tick(Duration::from_secs(10)).await; // t=10: old (seen at 0)
    connector
        .consume(traces("checkout", vec![span("new", 1)]))
        .await
        .unwrap();
    tick(Duration::from_secs(10)).await; // t=20: old expired (20s), new (10s) kept
    let names = |n: usize| -> Vec<String> {
        sums(metric(&request(&probe, n), "traces.span.metrics.calls"))
            .iter()
            .filter_map(|p| text(&p.attributes, "span.name"))
            .collect()
    };
    assert_eq!(names(0), ["old"]);
    assert_eq!(names(1), ["new"]);
    tick(Duration::from_secs(10)).await; // t=30: new expired too: nothing is sent
    assert_eq!(probe.calls(), 2);
    connector
        .shutdown(Instant::now() + Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn over_the_cardinality_limit_spans_go_to_the_overflow_series() {
    let probe = Probe::new();
    let config: super::SpanMetricsConfig =
        serde_yaml_ng::from_str("aggregation_cardinality_limit: 2").unwrap();
    let ctx = connector_ctx(
        "spanmetrics",
        Signal::Traces,
        Signal::Metrics,
        vec![("metrics/out", probe.clone() as Arc<dyn Consumer>)],
        Resources::default(),
    );
    let connector = super::SpanMetricsConnector::new(ctx, &config);
    let spans = (0..5).map(|i| span(&format!("op-{i}"), 1)).collect();
    connector.consume(traces("checkout", spans)).await.unwrap();
    connector
        .consume(traces("checkout", vec![span("op-0", 1), span("op-9", 1)]))
        .await
        .unwrap();
    // calls and duration: 2 series and an overflow series each.
    assert_eq!(connector.series_count(), 6);
    Connector::shutdown(&connector, Instant::now() + Duration::from_secs(1))
        .await
        .unwrap();
    let out = request(&probe, 0);
    let calls = sums(metric(&out, "traces.span.metrics.calls"));
    assert_eq!(calls.len(), 3);
    let op0 = point_with(calls, |p| &p.attributes, "span.name", "op-0");
    assert_eq!(int(op0), 2, "a known series keeps counting past the limit");
    assert_eq!(
        int(point_with(calls, |p| &p.attributes, "span.name", "op-1")),
        1
    );
    let overflow = calls
        .iter()
        .find(|p| attr(&p.attributes, "otel.metric.overflow").is_some())
        .unwrap();
    assert_eq!(
        attr(&overflow.attributes, "otel.metric.overflow"),
        Some(&Value::BoolValue(true))
    );
    assert_eq!(overflow.attributes.len(), 1);
    assert_eq!(int(overflow), 4, "op-2, op-3, op-4 and op-9");
    let durations = histograms(metric(&out, "traces.span.metrics.duration"));
    assert_eq!(
        durations.iter().map(|p| p.count).sum::<u64>(),
        7,
        "no span is lost"
    );
}

#[tokio::test]
async fn exemplars_carry_trace_and_span_ids_and_are_capped() {
    let probe = Probe::new();
    let connector = build("exemplars: {enabled: true, max_per_data_point: 2}", &probe);
    let spans = (1..=3u8)
        .map(|i| span("a", 3).trace_id([i; 16]).span_id([i; 8]))
        .collect();
    connector.consume(traces("checkout", spans)).await.unwrap();
    flush(connector.as_ref()).await;
    let out = request(&probe, 0);
    let point = &histograms(metric(&out, "traces.span.metrics.duration"))[0];
    assert_eq!(point.exemplars.len(), 2);
    assert_eq!(point.exemplars[0].trace_id, vec![1; 16]);
    assert_eq!(point.exemplars[0].span_id, vec![1; 8]);
    assert_eq!(point.exemplars[1].trace_id, vec![2; 16]);
    assert_eq!(
        point.exemplars[0].value,
        Some(otlp_proto::metrics::v1::exemplar::Value::AsDouble(3.0))
    );
    assert_eq!(point.exemplars[0].time_unix_nano, point.time_unix_nano);
    // Exemplars belong to one interval: the next flush has none (the totals stay).
    connector
        .consume(traces("checkout", vec![span("b", 1).trace_id([0; 16])]))
        .await
        .unwrap();
    flush(connector.as_ref()).await;
    let out = request(&probe, 1);
    let points = histograms(metric(&out, "traces.span.metrics.duration"));
    assert!(
        points.iter().all(|p| p.exemplars.is_empty()),
        "and an empty trace id gives none"
    );
}

#[tokio::test]
async fn events_are_counted_by_their_attributes() {
    let probe = Probe::new();
    let connector = build(
        "events: {enabled: true, dimensions: [{name: exception.type}]}",
        &probe,
    );
    let spans = vec![
        span("a", 1)
            .event(EventBuilder::new("exception").attr("exception.type", "Timeout"))
            .event(EventBuilder::new("exception").attr("exception.type", "Refused")),
        span("a", 1).event(EventBuilder::new("exception").attr("exception.type", "Timeout")),
        span("a", 1),
    ];
    connector.consume(traces("checkout", spans)).await.unwrap();
    flush(connector.as_ref()).await;
    let out = request(&probe, 0);
    let events = sums(metric(&out, "traces.span.metrics.events"));
    assert_eq!(events.len(), 2);
    let timeout = point_with(events, |p| &p.attributes, "exception.type", "Timeout");
    assert_eq!(int(timeout), 2);
    assert_eq!(text(&timeout.attributes, "span.name").as_deref(), Some("a"));
    assert_eq!(
        int(point_with(
            events,
            |p| &p.attributes,
            "exception.type",
            "Refused"
        )),
        1
    );
    assert_eq!(int(&sums(metric(&out, "traces.span.metrics.calls"))[0]), 3);
}

#[tokio::test]
async fn exponential_histogram_and_disabled_histogram() {
    let probe = Probe::new();
    let connector = build("histogram: {exponential: {max_size: 10}}", &probe);
    let spans = vec![span("a", 1), span("a", 1000), span("a", 0)];
    connector.consume(traces("checkout", spans)).await.unwrap();
    flush(connector.as_ref()).await;
    let out = request(&probe, 0);
    match &metric(&out, "traces.span.metrics.duration").data {
        Some(metric::Data::ExponentialHistogram(h)) => {
            let p = &h.data_points[0];
            assert_eq!((p.count, p.zero_count, p.sum), (3, 1, Some(1001.0)));
            let positive = p.positive.as_ref().unwrap();
            assert!(positive.bucket_counts.len() <= 10);
            assert_eq!(positive.bucket_counts.iter().sum::<u64>(), 2);
            assert_eq!((p.min, p.max), (Some(0.0), Some(1000.0)));
        }
        other => panic!("{other:?}"),
    }

    let probe = Probe::new();
    let connector = build("histogram: {disable: true}", &probe);
    connector
        .consume(traces("checkout", vec![span("a", 1)]))
        .await
        .unwrap();
    flush(connector.as_ref()).await;
    let out = request(&probe, 0);
    let names: Vec<&str> = out.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["traces.span.metrics.calls"]);
}

#[tokio::test]
async fn resources_by_key_attributes_scopes_and_spans_without_a_service() {
    let probe = Probe::new();
    let connector = build(
        "resource_metrics_key_attributes: [service.name]\ninclude_instrumentation_scope: [lib]",
        &probe,
    );
    let request = TracesBuilder::new()
        .resource(resource!["service.name" => "checkout", "process.pid" => 1_i64])
        .scope("lib", "1.0")
        .span(span("a", 1))
        .resource(resource!["service.name" => "checkout", "process.pid" => 2_i64])
        .scope("other", "2.0")
        .span(span("a", 1))
        .resource(resource!["host.name" => "h"])
        .scope("lib", "1.0")
        .span(span("a", 1))
        .build();
    connector.consume(Telemetry::new(request)).await.unwrap();
    flush(connector.as_ref()).await;
    let out = self::request(&probe, 0);
    assert_eq!(
        out.resource_metrics.len(),
        1,
        "pids differ, the key does not"
    );
    let calls = sums(metric(&out, "traces.span.metrics.calls"));
    assert_eq!(
        calls.iter().map(int).sum::<i64>(),
        2,
        "the span without a service is skipped"
    );
    let scoped = point_with(
        calls,
        |p| &p.attributes,
        "span.instrumentation.scope.name",
        "lib",
    );
    assert_eq!(
        text(&scoped.attributes, "span.instrumentation.scope.version").as_deref(),
        Some("1.0")
    );
    assert!(
        calls
            .iter()
            .any(|p| attr(&p.attributes, "span.instrumentation.scope.name").is_none())
    );
}

#[tokio::test]
async fn a_refused_flush_is_dropped_and_the_next_one_is_complete() {
    let probe = Probe::failing([ConsumeError::permanent("backend down")]);
    let connector = build("{}", &probe);
    connector
        .consume(traces("checkout", vec![span("a", 1)]))
        .await
        .unwrap();
    flush(connector.as_ref()).await;
    assert_eq!(
        (probe.calls(), probe.received.lock().unwrap().len()),
        (1, 0)
    );
    connector
        .consume(traces("checkout", vec![span("a", 1)]))
        .await
        .unwrap();
    flush(connector.as_ref()).await;
    let out = request(&probe, 0);
    assert_eq!(int(&sums(metric(&out, "traces.span.metrics.calls"))[0]), 2);
}

#[tokio::test]
async fn refuses_other_signals() {
    let probe = Probe::new();
    let connector = build("{}", &probe);
    let error = connector
        .consume(Telemetry::new(otlp_pipeline::testing::logs(1)))
        .await
        .unwrap_err();
    assert!(!error.is_retryable());
    let _ = ExportTraceServiceRequest::default();
}

fn invalid(yaml: &str) -> String {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
    super::factory().validate(&value).unwrap_err().to_string()
}

#[test]
fn configuration_errors_name_the_key() {
    let factory = super::factory();
    assert!(factory.supports(Signal::Traces, Signal::Metrics));
    assert!(!factory.supports(Signal::Traces, Signal::Traces));
    assert!(factory.validate(&serde_yaml_ng::Value::Null).is_ok());
    let cases = [
        ("bogus: 1", "bogus"),
        ("events: {enabled: true}", "events::dimensions"),
        ("dimensions: [{name: span.name}]", "dimensions[0]::name"),
        ("dimensions: [{name: a}, {name: a}]", "dimensions[1]::name"),
        ("histogram: {explicit: {}, exponential: {}}", "histogram"),
        (
            "histogram: {explicit: {buckets: [2ms, 1ms]}}",
            "histogram::explicit::buckets",
        ),
        ("histogram: {unit: h}", "histogram::unit"),
        ("aggregation_temporality: DELTA", "aggregation_temporality"),
        ("metrics_flush_interval: 0s", "metrics_flush_interval"),
        ("dimensions_cache_size: 0", "dimensions_cache_size"),
        (
            "resource_metrics_cache_size: 0",
            "resource_metrics_cache_size",
        ),
    ];
    for (yaml, key) in cases {
        let message = invalid(yaml);
        assert!(message.contains(key), "{yaml}: {message}");
    }
}

#[test]
fn defaults_match_contrib() {
    let config = super::SpanMetricsConfig::default();
    assert_eq!(config.namespace, "traces.span.metrics");
    assert_eq!(config.metrics_flush_interval, Duration::from_secs(60));
    assert_eq!(config.metrics_expiration, Duration::ZERO);
    assert_eq!(
        config.aggregation_temporality,
        super::Temporality::Cumulative
    );
    assert_eq!(config.histogram.unit, super::Unit::Milliseconds);
    assert_eq!(config.exemplars.max_per_data_point, 5);
    assert_eq!(config.resource_metrics_cache_size, 1000);
    assert_eq!(config.explicit_bounds(), super::DEFAULT_BUCKETS_MS);
    let yaml = serde_yaml_ng::to_string(&config).unwrap();
    assert!(
        yaml.contains("AGGREGATION_TEMPORALITY_CUMULATIVE"),
        "{yaml}"
    );
    let parsed: super::SpanMetricsConfig =
        serde_yaml_ng::from_str("histogram: {explicit: {buckets: [100us, 1ms, 1s]}}").unwrap();
    assert_eq!(parsed.explicit_bounds(), [0.1, 1.0, 1000.0]);
}
