//! Builds every signal with the builders and checks that the views see every item, with the
//! right resource and scope, and that the counts agree.

use std::time::{Duration, UNIX_EPOCH};

use otlp_model::prelude::*;
use otlp_model::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_model::proto::logs::v1::LogsData;
use otlp_model::proto::metrics::v1::{Metric, MetricsData};
use otlp_model::proto::profiles::v1development::{
    Profile, ResourceProfiles, Sample, ScopeProfiles,
};
use otlp_model::proto::trace::v1::{Span, TracesData};
use otlp_model::semconv::resource::{HOST_NAME, SERVICE_NAME};
use otlp_model::semconv::trace::{EXCEPTION_EVENT_NAME, EXCEPTION_TYPE, HTTP_REQUEST_METHOD};
use otlp_model::views::{DataPoint, LogRecordRef, SpanRef};
use prost::Message;

const T0: u64 = 1_700_000_000_000_000_000;

fn scope_name(scope: Option<&otlp_model::proto::common::v1::InstrumentationScope>) -> &str {
    scope.map_or("<none>", |s| s.name.as_str())
}

#[test]
fn traces_view_sees_every_span_in_its_resource_and_scope() {
    let trace = TraceId::from(0xabc_u128);
    let root = SpanId::from(1_u64);
    let parent_cx = SpanContext::new_remote(trace, root, TraceFlags::SAMPLED, TraceState::new());

    let request = TracesBuilder::new()
        .resource(resource![SERVICE_NAME => "frontend", HOST_NAME => "web-1"])
        .scope("http", "1.0")
        .span(
            SpanBuilder::new("GET /cart")
                .kind(SpanKind::Server)
                .trace_id(trace)
                .span_id(root)
                .start(T0)
                .end(UNIX_EPOCH + Duration::from_nanos(T0 + 5_000))
                .attr(HTTP_REQUEST_METHOD, "GET")
                .status_ok(),
        )
        .scope("db", "2.0")
        .span(
            SpanBuilder::new("SELECT")
                .kind(SpanKind::Client)
                .child_of(&parent_cx)
                .span_id(2_u64),
        )
        .span(
            SpanBuilder::new("INSERT")
                .trace_id(trace)
                .span_id(3_u64)
                .parent(root)
                .event(
                    EventBuilder::new(EXCEPTION_EVENT_NAME)
                        .time(T0 + 1)
                        .attr(EXCEPTION_TYPE, "Timeout"),
                )
                .status_error("timeout"),
        )
        .resource(resource![SERVICE_NAME => "cart"])
        .scope("worker", "")
        .span(
            SpanBuilder::new("job")
                .trace_id(trace)
                .span_id(4_u64)
                .start(10)
                .end(5),
        )
        .build();

    assert_eq!(request.span_count(), 4);
    assert_eq!(request.spans().count(), 4);

    let seen: Vec<(&str, &str, &str)> = request
        .spans()
        .map(|s| {
            (
                s.service_name().unwrap_or("?"),
                scope_name(s.scope()),
                s.name(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("frontend", "http", "GET /cart"),
            ("frontend", "db", "SELECT"),
            ("frontend", "db", "INSERT"),
            ("cart", "worker", "job"),
        ]
    );

    let spans: Vec<SpanRef<'_>> = request.spans().collect();
    let [server, select, insert, job] = spans.as_slice() else {
        panic!("four spans")
    };
    assert_eq!(
        server.resource().map(|r| r.attributes.get_str(HOST_NAME)),
        Some(Some("web-1"))
    );
    assert!(std::ptr::eq(
        server.resource_spans,
        &request.resource_spans[0]
    ));
    assert!(std::ptr::eq(
        job.scope_spans,
        &request.resource_spans[1].scope_spans[0]
    ));

    assert_eq!(server.trace_id(), Some(trace));
    assert_eq!(server.span_id(), Some(root));
    assert!(server.is_root());
    assert_eq!(server.parent_span_id(), None);
    assert_eq!(server.kind(), SpanKind::Server);
    assert_eq!(server.status_code(), StatusCode::Ok);
    assert_eq!(server.duration_nanos(), Some(5_000));
    assert_eq!(
        server.attributes().get_str(HTTP_REQUEST_METHOD),
        Some("GET")
    );

    assert_eq!(select.parent_span_id(), Some(root));
    assert!(!select.is_root());
    assert_eq!(select.trace_flags(), TraceFlags::SAMPLED);
    assert_eq!(select.parent_is_remote(), Some(true));
    assert_eq!(select.kind(), SpanKind::Client);

    assert_eq!(insert.status_code(), StatusCode::Error);
    assert_eq!(
        insert.span.events[0].attributes.get_str(EXCEPTION_TYPE),
        Some("Timeout")
    );
    assert_eq!(insert.parent_is_remote(), None);
    assert_eq!(insert.kind(), SpanKind::Unspecified);
    assert_eq!(insert.status_code(), StatusCode::Error);

    assert_eq!(job.duration_nanos(), None, "end before start");
    assert_eq!(job.status_code(), StatusCode::Unset);
}

#[test]
fn traces_view_works_on_every_container() {
    let request = TracesBuilder::new()
        .resource(resource![SERVICE_NAME => "a"])
        .span(SpanBuilder::new("1"))
        .span(SpanBuilder::new("2"))
        .resource(resource![SERVICE_NAME => "b"])
        .span(SpanBuilder::new("3"))
        .build();
    let data = TracesData {
        resource_spans: request.resource_spans.clone(),
    };
    assert_eq!(data.span_count(), 3);
    assert_eq!(request.resource_spans.span_count(), 3);
    assert_eq!(request.resource_spans[..1].span_count(), 2);
    assert_eq!(request.resource_spans[1].span_count(), 1);
    assert_eq!(
        request.resource_spans[1]
            .spans()
            .map(|s| s.name())
            .collect::<Vec<_>>(),
        ["3"]
    );
    assert!(
        request.spans().all(|s| s.scope().is_none()),
        "no scope was given"
    );
}

#[test]
fn span_ref_rejects_malformed_ids_without_panicking() {
    let span = Span {
        trace_id: vec![1; 15],
        span_id: vec![],
        parent_span_id: vec![0; 8],
        kind: 42,
        ..Span::default()
    };
    let request = TracesBuilder::new().span(span).build();
    let s = request.spans().next().expect("one span");
    assert_eq!(s.trace_id(), None);
    assert_eq!(s.span_id(), None);
    assert_eq!(s.parent_span_id(), Some(SpanId::INVALID));
    assert!(s.is_root(), "an all-zero parent is no parent");
    assert_eq!(
        s.kind(),
        SpanKind::Unspecified,
        "unknown kinds read as unspecified"
    );
    assert_eq!(s.service_name(), None);
    assert_eq!(s.resource(), None);
}

#[test]
fn built_requests_survive_a_protobuf_round_trip() {
    let traces = TracesBuilder::new()
        .resource(ResourceBuilder::new().attr(SERVICE_NAME, "svc"))
        .scope_with(ScopeBuilder::new("lib").version("1").attr("k", vec![1, 2]))
        .span(
            SpanBuilder::new("s")
                .attr("bytes", vec![0_u8, 1])
                .link(LinkBuilder::new(1_u128, 2_u64)),
        )
        .build();
    let decoded = otlp_model::proto::collector::trace::v1::ExportTraceServiceRequest::decode(
        traces.encode_to_vec().as_slice(),
    )
    .expect("decodes");
    assert_eq!(decoded, traces);

    let metrics = full_metrics_request();
    let bytes = metrics.encode_to_vec();
    let decoded =
        otlp_model::proto::collector::metrics::v1::ExportMetricsServiceRequest::decode(&*bytes)
            .expect("decodes");
    assert_eq!(decoded, metrics);
}

fn full_metrics_request() -> otlp_model::proto::collector::metrics::v1::ExportMetricsServiceRequest
{
    MetricsBuilder::new()
        .resource(resource![SERVICE_NAME => "api"])
        .scope("meter.a", "1")
        .metric(
            SumBuilder::new("requests")
                .monotonic(true)
                .start_time(T0)
                .time(T0 + 10)
                .point(NumberPointBuilder::int(5).attr("code", 200))
                .point(NumberPointBuilder::int(1).attr("code", 500)),
        )
        .metric(GaugeBuilder::new("temperature").point(NumberPointBuilder::double(21.5).time(T0)))
        .metric(Metric {
            name: "empty".into(),
            ..Metric::default()
        })
        .scope("meter.b", "1")
        .metric(
            HistogramBuilder::new("latency")
                .temporality(AggregationTemporality::Delta)
                .point(HistogramPointBuilder::new([1.0, 10.0], [3, 2, 1]).sum(30.0)),
        )
        .metric(
            ExponentialHistogramBuilder::new("size")
                .point(
                    ExponentialHistogramPointBuilder::new(1)
                        .zero_count(1)
                        .positive(0, [1, 1]),
                )
                .point(ExponentialHistogramPointBuilder::new(1).negative(-3, [4])),
        )
        .resource(resource![SERVICE_NAME => "worker"])
        .scope("meter.c", "1")
        .metric(
            SummaryBuilder::new("gc").point(SummaryPointBuilder::new(4, 1.0).quantile(0.5, 0.2)),
        )
        .build()
}

#[test]
fn metrics_view_sees_every_point_with_its_metric_resource_and_scope() {
    let request = full_metrics_request();
    assert_eq!(request.metric_count(), 6);
    assert_eq!(request.data_point_count(), 7);
    assert_eq!(request.data_points().count(), 7);
    assert_eq!(
        request
            .metrics()
            .map(|m| m.data_point_count())
            .sum::<usize>(),
        7
    );

    let seen: Vec<(&str, &str, &str, &str)> = request
        .data_points()
        .map(|p| {
            let kind = match p.point {
                DataPoint::Gauge(_) => "gauge",
                DataPoint::Sum(_) => "sum",
                DataPoint::Histogram(_) => "histogram",
                DataPoint::ExponentialHistogram(_) => "exponential",
                DataPoint::Summary(_) => "summary",
            };
            (
                p.service_name().unwrap_or("?"),
                scope_name(p.scope()),
                p.metric_name(),
                kind,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("api", "meter.a", "requests", "sum"),
            ("api", "meter.a", "requests", "sum"),
            ("api", "meter.a", "temperature", "gauge"),
            ("api", "meter.b", "latency", "histogram"),
            ("api", "meter.b", "size", "exponential"),
            ("api", "meter.b", "size", "exponential"),
            ("worker", "meter.c", "gc", "summary"),
        ]
    );

    let points: Vec<_> = request.data_points().collect();
    assert_eq!(points[0].point.attributes().get_i64("code"), Some(200));
    assert_eq!(points[0].point.start_time_unix_nano(), T0);
    assert_eq!(points[0].point.time_unix_nano(), T0 + 10);
    assert_eq!(points[2].point.time_unix_nano(), T0);
    assert!(points[2].point.as_number().is_some());
    assert!(points[3].point.as_number().is_none());
    assert_eq!(points[3].point.flags(), 0);
    let DataPoint::Histogram(h) = points[3].point else {
        panic!("histogram")
    };
    assert_eq!(h.count, 6);
    let DataPoint::ExponentialHistogram(e) = points[4].point else {
        panic!("exponential")
    };
    assert_eq!(e.count, 3);

    let empty = request
        .metrics()
        .find(|m| m.name() == "empty")
        .expect("kept");
    assert_eq!(empty.data_point_count(), 0);
    assert_eq!(empty.scope().map(|s| s.name.as_str()), Some("meter.a"));

    let data = MetricsData {
        resource_metrics: request.resource_metrics.clone(),
    };
    assert_eq!(data.data_point_count(), 7);
    assert_eq!(request.resource_metrics[1].data_point_count(), 1);
}

#[test]
fn logs_view_sees_every_record_in_its_resource_and_scope() {
    let cx = SpanContext::new(
        TraceId::from(7_u128),
        SpanId::from(8_u64),
        TraceFlags::SAMPLED,
        false,
        TraceState::new(),
    );
    let request = LogsBuilder::new()
        .resource(resource![SERVICE_NAME => "checkout"])
        .scope("app.log", "1")
        .log_record(
            LogRecordBuilder::new()
                .time(T0)
                .severity(SeverityNumber::Info)
                .severity_text("INFO")
                .body("order placed")
                .attr("order.id", 17)
                .context(&cx),
        )
        .log_record(
            LogRecordBuilder::new()
                .observed_time(T0 + 1)
                .event_name("cart.emptied"),
        )
        .resource(resource![SERVICE_NAME => "batch"])
        .scope("job.log", "1")
        .log_record(
            LogRecordBuilder::new()
                .severity(SeverityNumber::Fatal)
                .body(vec![kv("k", 1)]),
        )
        .build();

    assert_eq!(request.log_record_count(), 3);
    let records: Vec<LogRecordRef<'_>> = request.log_records().collect();
    let seen: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r.service_name().unwrap_or("?"), scope_name(r.scope())))
        .collect();
    assert_eq!(
        seen,
        [
            ("checkout", "app.log"),
            ("checkout", "app.log"),
            ("batch", "job.log")
        ]
    );

    let [placed, emptied, fatal] = records.as_slice() else {
        panic!("three records")
    };
    assert_eq!(placed.trace_id(), Some(cx.trace_id()));
    assert_eq!(placed.span_id(), Some(cx.span_id()));
    assert_eq!(placed.trace_flags(), TraceFlags::SAMPLED);
    assert_eq!(placed.severity(), SeverityNumber::Info);
    assert_eq!(
        placed.body().and_then(AnyValueExt::as_str),
        Some("order placed")
    );
    assert_eq!(placed.attributes().get_i64("order.id"), Some(17));
    assert_eq!(placed.effective_time_unix_nano(), T0);

    assert_eq!(emptied.trace_id(), None);
    assert_eq!(emptied.log_record.event_name, "cart.emptied");
    assert_eq!(emptied.effective_time_unix_nano(), T0 + 1);
    assert_eq!(emptied.severity(), SeverityNumber::Unspecified);

    assert_eq!(fatal.severity(), SeverityNumber::Fatal);
    assert_eq!(
        fatal.body().map(|b| b.display().to_string()),
        Some("{k: 1}".to_owned())
    );

    let data = LogsData {
        resource_logs: request.resource_logs.clone(),
    };
    assert_eq!(data.log_records().count(), 3);
}

#[test]
fn profiles_view_counts_profiles_and_samples() {
    let profile = |samples: usize| Profile {
        samples: vec![Sample::default(); samples],
        profile_id: vec![9; 16],
        ..Profile::default()
    };
    let request = ExportProfilesServiceRequest {
        resource_profiles: vec![
            ResourceProfiles {
                resource: Some(resource![SERVICE_NAME => "prof"]),
                scope_profiles: vec![
                    ScopeProfiles {
                        profiles: vec![profile(3), profile(0)],
                        ..Default::default()
                    },
                    ScopeProfiles::default(),
                ],
                ..Default::default()
            },
            ResourceProfiles {
                scope_profiles: vec![ScopeProfiles {
                    profiles: vec![profile(2)],
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
        dictionary: None,
    };
    assert_eq!(request.profile_count(), 3);
    assert_eq!(request.sample_count(), 5);
    let profiles: Vec<_> = request.profiles().collect();
    assert_eq!(profiles.len(), 3);
    assert_eq!(profiles[0].service_name(), Some("prof"));
    assert_eq!(profiles[0].sample_count(), 3);
    assert_eq!(profiles[0].profile_id(), Some([9; 16]));
    assert_eq!(profiles[2].service_name(), None);
    assert_eq!(
        profiles.iter().map(|p| p.sample_count()).sum::<usize>(),
        request.sample_count()
    );
}

#[test]
fn empty_requests_count_zero() {
    assert_eq!(TracesBuilder::new().build().span_count(), 0);
    assert_eq!(
        TracesBuilder::new()
            .build()
            .spans()
            .next()
            .map(|s| s.name()),
        None
    );
    assert_eq!(MetricsBuilder::new().build().data_points().count(), 0);
    assert_eq!(
        LogsBuilder::new().scope("s", "").build().log_record_count(),
        0
    );
    assert_eq!(ExportProfilesServiceRequest::default().sample_count(), 0);
}
