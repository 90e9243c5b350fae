#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Exemplar, Gauge as OtlpGauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, exemplar, metric::Data, number_data_point,
};
use otlp_proto::resource::v1::Resource;

use super::*;
use otlp_pipeline::config::parse_config;
use otlp_pipeline::testing::id;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn resource_metrics(metrics: Vec<Metric>) -> ResourceMetrics {
    ResourceMetrics {
        resource: Some(Resource {
            attributes: vec![
                kv("service.name", "svc"),
                kv("service.instance.id", "i-1"),
                kv("host.name", "h1"),
            ],
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: "lib".into(),
                version: "1.0".into(),
                ..Default::default()
            }),
            metrics,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn number(value: f64, start: u64, time: u64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn sum(
    name: &str,
    unit: &str,
    temporality: AggregationTemporality,
    monotonic: bool,
    points: Vec<NumberDataPoint>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: format!("{name} help"),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality as i32,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        data: Some(Data::Gauge(OtlpGauge {
            data_points: points,
        })),
        ..Default::default()
    }
}

fn histogram(
    name: &str,
    temporality: AggregationTemporality,
    start: u64,
    time: u64,
    counts: Vec<u64>,
) -> Metric {
    let count = counts.iter().sum();
    Metric {
        name: name.into(),
        unit: "s".into(),
        data: Some(Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                sum: Some(count as f64 * 0.5),
                bucket_counts: counts,
                explicit_bounds: vec![0.1, 1.0],
                ..Default::default()
            }],
            aggregation_temporality: temporality as i32,
        })),
        ..Default::default()
    }
}

fn options() -> RenderOptions {
    RenderOptions {
        with_suffixes: true,
        ..Default::default()
    }
}

fn scrape(acc: &mut Accumulator, options: &RenderOptions, format: Format) -> (String, usize) {
    render::render(acc, options, format, Instant::now())
}

const CUMULATIVE: AggregationTemporality = AggregationTemporality::Cumulative;
const DELTA: AggregationTemporality = AggregationTemporality::Delta;

#[test]
fn counter_gauge_and_target_info_in_text() {
    let mut acc = Accumulator::new(Duration::from_secs(300), MAX_SERIES);
    let rm = resource_metrics(vec![
        sum(
            "sent",
            "By",
            CUMULATIVE,
            true,
            vec![number(42.0, 1, 10, vec![kv("k.a", "v")])],
        ),
        gauge("temp", vec![number(1e6, 0, 10, vec![])]),
    ]);
    let outcome = acc.accumulate(&rm, &ResourceToTelemetryConfig::default(), Instant::now());
    assert_eq!(outcome, accumulator::Outcome::default());
    assert_eq!(acc.len(), 2);
    let (text, refused) = scrape(&mut acc, &options(), Format::Text);
    assert_eq!(refused, 0);
    assert!(
        text.contains("# HELP sent_bytes_total sent help\n# TYPE sent_bytes_total counter\n"),
        "{text}"
    );
    assert!(
        text.contains(r#"sent_bytes_total{instance="i-1",job="svc",k_a="v",otel_scope_name="lib",otel_scope_schema_url="",otel_scope_version="1.0"} 42"#),
        "{text}"
    );
    assert!(text.contains("# TYPE temp gauge\n"), "{text}");
    assert!(text.contains("} 1e+06\n"), "Go's float form: {text}");
    assert!(
        text.contains(r#"target_info{host_name="h1",instance="i-1",job="svc"} 1"#),
        "{text}"
    );
    assert!(!text.contains("# EOF"));
}

#[test]
fn delta_sums_accumulate_and_reset() {
    let mut acc = Accumulator::new(Duration::from_secs(300), MAX_SERIES);
    let r2t = ResourceToTelemetryConfig::default();
    let now = Instant::now();
    for (value, start, time) in [(3.0, 0, 10), (4.0, 10, 20)] {
        let rm = resource_metrics(vec![sum(
            "req",
            "",
            DELTA,
            true,
            vec![number(value, start, time, vec![])],
        )]);
        acc.accumulate(&rm, &r2t, now);
    }
    let (text, _) = scrape(&mut acc, &options(), Format::Text);
    assert!(
        text.contains("req_total{") && text.contains("} 7\n"),
        "3 + 4: {text}"
    );
    // A start that is not the held timestamp is a reset.
    let rm = resource_metrics(vec![sum(
        "req",
        "",
        DELTA,
        true,
        vec![number(5.0, 25, 30, vec![])],
    )]);
    acc.accumulate(&rm, &r2t, now);
    let (text, _) = scrape(&mut acc, &options(), Format::Text);
    assert!(text.contains("} 5\n"), "{text}");
    // Older than the held point: refused.
    let rm = resource_metrics(vec![sum(
        "req",
        "",
        DELTA,
        true,
        vec![number(9.0, 0, 5, vec![])],
    )]);
    assert_eq!(acc.accumulate(&rm, &r2t, now).refused, 1);
    // Non-monotonic delta and unspecified temporality: refused.
    let rm = resource_metrics(vec![
        sum("updown", "", DELTA, false, vec![number(1.0, 0, 5, vec![])]),
        sum(
            "weird",
            "",
            AggregationTemporality::Unspecified,
            true,
            vec![number(1.0, 0, 5, vec![])],
        ),
    ]);
    assert_eq!(acc.accumulate(&rm, &r2t, now).refused, 2);
    assert_eq!(acc.len(), 1);
}

#[test]
fn delta_histograms_add_buckets() {
    let mut acc = Accumulator::new(Duration::from_secs(300), MAX_SERIES);
    let r2t = ResourceToTelemetryConfig::default();
    let now = Instant::now();
    acc.accumulate(
        &resource_metrics(vec![histogram("lat", DELTA, 0, 10, vec![1, 2, 3])]),
        &r2t,
        now,
    );
    acc.accumulate(
        &resource_metrics(vec![histogram("lat", DELTA, 10, 20, vec![1, 0, 1])]),
        &r2t,
        now,
    );
    // Starts after the held timestamp: misaligned, refused.
    let outcome = acc.accumulate(
        &resource_metrics(vec![histogram("lat", DELTA, 25, 30, vec![5, 5, 5])]),
        &r2t,
        now,
    );
    assert_eq!(outcome.refused, 1);
    let (text, _) = scrape(&mut acc, &options(), Format::Text);
    let line = |suffix: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("lat_seconds{suffix}")))
            .map(|l| l.rsplit(' ').next().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {suffix} in {text}"))
    };
    assert_eq!(line("_count"), "8");
    assert_eq!(line("_sum"), "4");
    assert!(text.contains(r#",le="0.1"} 2"#), "{text}");
    assert!(text.contains(r#",le="1"} 4"#), "{text}");
    assert!(text.contains(r#",le="+Inf"} 8"#), "{text}");
}

#[test]
fn no_recorded_value_removes_and_expiry_purges() {
    let mut acc = Accumulator::new(Duration::from_secs(60), MAX_SERIES);
    let r2t = ResourceToTelemetryConfig::default();
    let t0 = Instant::now();
    acc.accumulate(
        &resource_metrics(vec![
            gauge("a", vec![number(1.0, 0, 1, vec![])]),
            gauge("b", vec![number(1.0, 0, 1, vec![])]),
        ]),
        &r2t,
        t0,
    );
    assert_eq!(acc.len(), 2);
    let mut stale = number(0.0, 0, 2, vec![]);
    stale.flags = 1;
    acc.accumulate(&resource_metrics(vec![gauge("a", vec![stale])]), &r2t, t0);
    assert_eq!(acc.len(), 1);
    acc.expire(t0 + Duration::from_secs(30));
    assert_eq!(acc.len(), 1);
    acc.expire(t0 + Duration::from_secs(61));
    assert_eq!(acc.len(), 0);
    let (text, _) = scrape(&mut acc, &options(), Format::Text);
    assert!(text.is_empty(), "{text}");
}

#[test]
fn series_beyond_the_maximum_are_dropped() {
    let mut acc = Accumulator::new(Duration::from_secs(60), 2);
    let r2t = ResourceToTelemetryConfig::default();
    let points = (0..3)
        .map(|i| number(1.0, 0, 1, vec![kv("i", &i.to_string())]))
        .collect();
    let outcome = acc.accumulate(
        &resource_metrics(vec![gauge("g", points)]),
        &r2t,
        Instant::now(),
    );
    assert_eq!(outcome.series_dropped, 1);
    assert_eq!(acc.len(), 2);
}

#[test]
fn resource_to_telemetry_and_const_labels_and_namespace() {
    let mut acc = Accumulator::new(Duration::from_secs(60), MAX_SERIES);
    let r2t = ResourceToTelemetryConfig {
        enabled: true,
        exclude_service_attributes: true,
    };
    acc.accumulate(
        &resource_metrics(vec![gauge(
            "g",
            vec![number(2.5, 0, 1, vec![kv("host.name", "point")])],
        )]),
        &r2t,
        Instant::now(),
    );
    let options = RenderOptions {
        namespace: "app".into(),
        with_suffixes: true,
        const_labels: vec![("region".into(), "eu".into())],
        send_timestamps: true,
        without_scope_info: true,
    };
    let (text, _) = scrape(&mut acc, &options, Format::Text);
    assert!(
        text.contains(r#"app_g{host_name="h1",instance="i-1",job="svc",region="eu"} 2.5 0"#),
        "resource wins, service attributes excluded, timestamp in ms: {text}"
    );
    assert!(!text.contains("otel_scope"), "{text}");
    assert!(!text.contains("service_name"), "{text}");
}

#[test]
fn open_metrics_with_exemplars() {
    let mut acc = Accumulator::new(Duration::from_secs(60), MAX_SERIES);
    let mut point = number(3.0, 0, 1, vec![]);
    point.exemplars = vec![Exemplar {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        value: Some(exemplar::Value::AsDouble(1.5)),
        time_unix_nano: 2_500_000_000,
        ..Default::default()
    }];
    let mut hist = histogram("lat", CUMULATIVE, 0, 1, vec![1, 1, 1]);
    if let Some(Data::Histogram(h)) = &mut hist.data {
        h.data_points[0].exemplars = vec![Exemplar {
            value: Some(exemplar::Value::AsDouble(0.5)),
            trace_id: vec![3; 16],
            ..Default::default()
        }];
    }
    let rm = resource_metrics(vec![sum("req", "", CUMULATIVE, true, vec![point]), hist]);
    acc.accumulate(&rm, &ResourceToTelemetryConfig::default(), Instant::now());
    let (text, _) = scrape(&mut acc, &options(), Format::OpenMetrics);
    assert!(text.contains("# TYPE req counter\n"), "{text}");
    assert!(
        text.contains(r#"} 3.0 # {span_id="0202020202020202",trace_id="01010101010101010101010101010101"} 1.5 2.5"#),
        "{text}"
    );
    assert!(
        text.contains(r#"le="1.0"} 2 # {trace_id="03030303030303030303030303030303"} 0.5"#),
        "{text}"
    );
    assert!(
        text.contains("target_info{host_name=\"h1\",instance=\"i-1\",job=\"svc\"} 1.0\n"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[test]
fn conflicting_families_are_left_out() {
    let mut acc = Accumulator::new(Duration::from_secs(60), MAX_SERIES);
    // A gauge and a non-monotonic sum of one name share a family only with one HELP.
    let mut g = gauge("x", vec![number(1.0, 0, 1, vec![])]);
    g.description = "one".into();
    let mut s = sum(
        "x",
        "",
        CUMULATIVE,
        false,
        vec![number(2.0, 0, 1, vec![kv("a", "b")])],
    );
    s.description = "two".into();
    // Two attribute keys that meet after translation.
    let clash = gauge(
        "y",
        vec![number(1.0, 0, 1, vec![kv("a.b", "1"), kv("a_b", "2")])],
    );
    acc.accumulate(
        &resource_metrics(vec![g, s, clash]),
        &ResourceToTelemetryConfig::default(),
        Instant::now(),
    );
    let (text, refused) = scrape(&mut acc, &options(), Format::Text);
    assert_eq!(refused, 2, "{text}");
    assert_eq!(text.matches("# TYPE x gauge").count(), 1, "{text}");
    assert!(!text.contains("\ny{"), "{text}");
}

#[test]
fn negotiation_and_gzip() {
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    assert_eq!(server::negotiate(prometheus, true), Format::OpenMetrics);
    assert_eq!(server::negotiate(prometheus, false), Format::Text);
    assert_eq!(server::negotiate("text/plain", true), Format::Text);
    assert_eq!(server::negotiate("", true), Format::Text);
    assert_eq!(
        server::negotiate("application/openmetrics-text;q=0", true),
        Format::Text
    );
    assert!(server::accepts_gzip("gzip, deflate"));
    assert!(!server::accepts_gzip("deflate, gzip;q=0"));
    assert!(!server::accepts_gzip(""));
}

fn exporter(yaml: &str) -> (PrometheusExporter, Arc<Metrics>) {
    let config: PrometheusConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap()).unwrap();
    let resources = otlp_pipeline::Resources::collector();
    let metrics = Metrics::from_resources(&resources);
    let ctx = ExporterContext::new(id("prometheus"), SignalSet::from(Signal::Metrics))
        .with_resources(resources);
    (PrometheusExporter::new(ctx, config).unwrap(), metrics)
}

#[test]
fn config_is_validated() {
    let parse = |yaml: &str| -> Result<(), String> {
        let config: PrometheusConfig =
            parse_config(&serde_yaml_ng::from_str(yaml).unwrap()).map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())
    };
    assert!(parse("endpoint: 127.0.0.1:0").is_ok());
    assert!(parse("namespace: x").unwrap_err().contains("endpoint"));
    assert!(
        parse("endpoint: 127.0.0.1:0\ntls: {}")
            .unwrap_err()
            .contains("tls")
    );
    assert!(parse("endpoint: 127.0.0.1:0\nconst_labels: {\"a-b\": x}").is_err());
    assert!(parse("endpoint: 127.0.0.1:0\ntranslation_strategy: NoTranslation").is_err());
    assert!(parse("endpoint: 127.0.0.1:0\nbogus: 1").is_err());
    assert!(
        parse("endpoint: 127.0.0.1:0\ntranslation_strategy: UnderscoreEscapingWithoutSuffixes")
            .is_ok()
    );
}

#[tokio::test]
async fn serves_metrics_over_http_and_counts() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (exporter, metrics) = exporter("endpoint: 127.0.0.1:0\nenable_open_metrics: true");
    exporter.start(&Host::empty()).await.unwrap();
    let addr = exporter.local_addr().await.unwrap();
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![resource_metrics(vec![
            sum("req", "", CUMULATIVE, true, vec![number(5.0, 0, 1, vec![])]),
            sum("updown", "", DELTA, false, vec![number(1.0, 0, 1, vec![])]),
        ])],
    };
    exporter.consume(Telemetry::new(request)).await.unwrap();
    let get = |path: &str, headers: &str, method: &str| {
        let raw =
            format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n");
        async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.write_all(raw.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            stream.read_to_end(&mut out).await.unwrap();
            out
        }
    };
    let text = String::from_utf8(get("/metrics", "", "GET").await).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("text/plain; version=0.0.4; charset=utf-8"),
        "{text}"
    );
    assert!(text.contains("\nreq_total{"), "{text}");
    let om = String::from_utf8(
        get(
            "/metrics",
            "Accept: application/openmetrics-text;version=1.0.0\r\n",
            "GET",
        )
        .await,
    )
    .unwrap();
    assert!(
        om.contains("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{om}"
    );
    assert!(om.ends_with("# EOF\n"), "{om}");
    let gz = get("/metrics", "Accept-Encoding: gzip\r\n", "GET").await;
    let head_end = gz.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&gz[..head_end]);
    assert!(
        head.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{head}"
    );
    let mut decoded = Vec::new();
    otlp_transport::compression::decompress(
        otlp_transport::Compression::Gzip,
        &gz[head_end..],
        1 << 20,
    )
    .map(|d| decoded = d)
    .unwrap();
    assert!(String::from_utf8(decoded).unwrap().contains("req_total{"));
    let missing = String::from_utf8(get("/other", "", "GET").await).unwrap();
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let post = String::from_utf8(get("/metrics", "Content-Length: 0\r\n", "POST").await).unwrap();
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    exporter
        .shutdown(tokio::time::Instant::now())
        .await
        .unwrap();
    let rendered = metrics.render();
    assert!(
        rendered.contains(r#"otelcol_exporter_sent_metric_points_total{exporter="prometheus"} 2"#),
        "{rendered}"
    );
    assert!(
        rendered.contains(
            r#"otelcol_exporter_prometheus_points_refused_total{exporter="prometheus"} 1"#
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains(r#"otelcol_exporter_prometheus_series{exporter="prometheus"} 1"#),
        "{rendered}"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "closed after shutdown"
    );
}

#[test]
fn target_info_needs_job_and_instance() {
    let mut acc = Accumulator::new(Duration::from_secs(60), MAX_SERIES);
    let mut rm = resource_metrics(vec![gauge("g", vec![number(1.0, 0, 1, vec![])])]);
    if let Some(resource) = &mut rm.resource {
        resource
            .attributes
            .retain(|kv| kv.key != "service.instance.id");
    }
    acc.accumulate(&rm, &ResourceToTelemetryConfig::default(), Instant::now());
    let (text, _) = scrape(&mut acc, &options(), Format::Text);
    assert!(text.contains("g{job=\"svc\","), "{text}");
    assert!(
        !text.contains("target_info"),
        "as Go: no instance, no target_info: {text}"
    );
    let options = RenderOptions {
        namespace: "ns".into(),
        ..options()
    };
    let rm = resource_metrics(vec![gauge("h", vec![number(1.0, 0, 1, vec![])])]);
    acc.accumulate(&rm, &ResourceToTelemetryConfig::default(), Instant::now());
    let (text, _) = scrape(&mut acc, &options, Format::Text);
    assert!(
        text.contains("\nns_target_info{host_name=\"h1\",instance=\"i-1\",job=\"svc\"} 1\n"),
        "{text}"
    );
}
