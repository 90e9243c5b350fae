#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{NextConsumers, ReceiverContext};
use otlp_pipeline::factory::ComponentConfig;
use otlp_pipeline::testing::{Probe, id};
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::any_value;
use otlp_proto::metrics::v1::{AggregationTemporality, Metric, metric, number_data_point};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::parse::{FamilyType, Format, ParseError, parse};
use super::relabel::{RelabelConfig, Rule, md5};
use super::*;

fn config(yaml: &str) -> Result<PrometheusConfig, String> {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
    let c: PrometheusConfig =
        otlp_pipeline::config::parse_config(&value).map_err(|e| e.to_string())?;
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

fn one_target(yaml: &str) -> TargetScraper {
    let mut t = targets(&config(yaml).unwrap()).unwrap();
    assert_eq!(t.len(), 1);
    t.remove(0)
}

const BASIC: &str = "
config:
  scrape_configs:
    - job_name: node
      static_configs:
        - targets: ['10.0.0.1:9100']
          labels: {env: prod}
";

fn metrics(request: &ExportMetricsServiceRequest) -> &[Metric] {
    &request.resource_metrics[0].scope_metrics[0].metrics
}

fn find<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
    metrics(request)
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn number(m: &Metric, i: usize) -> f64 {
    let dp = match &m.data {
        Some(metric::Data::Gauge(g)) => &g.data_points[i],
        Some(metric::Data::Sum(s)) => &s.data_points[i],
        other => panic!("{} is {other:?}", m.name),
    };
    match dp.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        other => panic!("{other:?}"),
    }
}

fn attrs(kvs: &[otlp_proto::common::v1::KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

// ---- configuration ----

#[test]
fn defaults_follow_prometheus() {
    let c = config(BASIC).unwrap();
    let job = &c.config.scrape_configs[0];
    assert_eq!(job.metrics_path, "/metrics");
    assert_eq!(job.scheme, "http");
    assert!(job.honor_timestamps);
    assert!(!job.honor_labels);
    assert_eq!(job.interval(&c.config.global), Duration::from_secs(60));
    assert_eq!(job.timeout(&c.config.global), Duration::from_secs(10));
    assert!(!c.trim_metric_suffixes);
    let t = one_target(BASIC);
    assert_eq!(t.address(), "10.0.0.1:9100");
    assert_eq!(t.path_and_query(), "/metrics");
    assert_eq!(t.info.job, "node");
    assert_eq!(t.info.instance, "10.0.0.1:9100");
    assert_eq!(t.info.labels.get("env").map(String::as_str), Some("prod"));
    assert!(!t.info.labels.keys().any(|k| k.starts_with("__")));
}

#[test]
fn timeout_defaults_to_at_most_the_interval() {
    let c = config(
        "config: {scrape_configs: [{job_name: a, scrape_interval: 5s, static_configs: [{targets: ['h:1']}]}]}",
    )
    .unwrap();
    assert_eq!(
        c.config.scrape_configs[0].timeout(&c.config.global),
        Duration::from_secs(5)
    );
    let err = config(
        "config: {scrape_configs: [{job_name: a, scrape_interval: 5s, scrape_timeout: 6s, static_configs: [{targets: ['h:1']}]}]}",
    )
    .unwrap_err();
    assert!(err.contains("greater than the scrape interval"), "{err}");
}

#[test]
fn service_discovery_and_target_allocator_are_refused_by_name() {
    for sd in [
        "kubernetes_sd_configs",
        "file_sd_configs",
        "dns_sd_configs",
        "consul_sd_configs",
    ] {
        let err = config(&format!(
            "config: {{scrape_configs: [{{job_name: a, {sd}: [{{}}]}}]}}"
        ))
        .unwrap_err();
        assert!(err.contains(sd) && err.contains("not supported"), "{err}");
    }
    let err = config(
        "config: {scrape_configs: [{job_name: a, static_configs: [{targets: ['h:1']}]}]}\ntarget_allocator: {endpoint: http://ta}",
    )
    .unwrap_err();
    assert!(err.contains("target_allocator"), "{err}");
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    let cases = [
        (
            "config: {scrape_configs: [{job_name: a, tls_config: {}}]}",
            "tls_config",
        ),
        (
            "config: {scrape_configs: [{job_name: a}]}\nbogus: 1",
            "bogus",
        ),
        (
            "config: {rule_files: [x], scrape_configs: [{job_name: a}]}",
            "rule_files",
        ),
        ("config: {scrape_configs: []}", "scrape_configs"),
        (
            "config: {scrape_configs: [{static_configs: [{targets: ['h:1']}]}]}",
            "job_name",
        ),
        (
            "config: {scrape_configs: [{job_name: a, static_configs: [{targets: ['h:1']}]}, {job_name: a, static_configs: [{targets: ['h:2']}]}]}",
            "used by two",
        ),
        (
            "config: {scrape_configs: [{job_name: a, scheme: https, static_configs: [{targets: ['h:1']}]}]}",
            "https is not supported",
        ),
        (
            "config: {scrape_configs: [{job_name: a, static_configs: [{targets: ['nohostport']}]}]}",
            "not host:port",
        ),
        (
            "config: {scrape_configs: [{job_name: a, scrape_interval: 10, static_configs: [{targets: ['h:1']}]}]}",
            "unit",
        ),
        (
            "config: {scrape_configs: [{job_name: a, relabel_configs: [{action: keepequal, source_labels: [a], target_label: b}], static_configs: [{targets: ['h:1']}]}]}",
            "keepequal",
        ),
        (
            "config: {scrape_configs: [{job_name: a, relabel_configs: [{action: hashmod, source_labels: [a], target_label: b}], static_configs: [{targets: ['h:1']}]}]}",
            "modulus",
        ),
        (
            "config: {scrape_configs: [{job_name: a, metric_relabel_configs: [{regex: '(', source_labels: [a], target_label: b}], static_configs: [{targets: ['h:1']}]}]}",
            "invalid regex",
        ),
    ];
    for (yaml, needle) in cases {
        let err = config(yaml).unwrap_err();
        assert!(err.contains(needle), "{yaml}: {err}");
    }
}

#[test]
fn accepted_receiver_keys_and_sizes() {
    let c = config(
        "config: {global: {scrape_interval: 1m30s, external_labels: {dc: x}}, scrape_configs: [{job_name: a, body_size_limit: 10MB, sample_limit: 5, static_configs: [{targets: ['h:1']}]}]}\ntrim_metric_suffixes: true\nuse_start_time_metric: true\nstart_time_metric_regex: '^(.+_)*process_start_time_seconds$'",
    )
    .unwrap();
    assert_eq!(c.config.global.scrape_interval, Duration::from_secs(90));
    assert_eq!(c.config.scrape_configs[0].body_size_limit, 10 << 20);
    assert!(c.trim_metric_suffixes && c.use_start_time_metric);
    assert_eq!(parse_byte_size("64MiB"), Ok(64 << 20));
    assert!(parse_byte_size("12XB").is_err());
    assert_eq!(prom_duration::parse("1h30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(
        prom_duration::parse("500ms"),
        Ok(Duration::from_millis(500))
    );
    assert_eq!(prom_duration::parse("1d"), Ok(Duration::from_secs(86400)));
    assert!(prom_duration::parse("1m1h").is_err());
    assert!(prom_duration::parse("1.5s").is_err());
    assert_eq!(prom_duration::format(Duration::from_secs(90)), "1m30s");
}

#[test]
fn replacement_refs_survive_collector_config_loading() {
    let yaml = r#"
receivers:
  prometheus:
    config:
      scrape_configs:
        - job_name: a
          static_configs: [{targets: ['h:1']}]
          metric_relabel_configs:
            - source_labels: [__name__]
              regex: 'go_(.*)'
              target_label: kind
              replacement: 'go-$1'
exporters: {debug: {}}
service: {pipelines: {metrics: {receivers: [prometheus], exporters: [debug]}}}
"#;
    let loaded = otlp_pipeline::config::Config::from_yaml("test", yaml).unwrap();
    let text = serde_yaml_ng::to_string(loaded.raw()).unwrap();
    assert!(text.contains("go-$1"), "{text}");
}

// ---- relabeling ----

fn rule(yaml: &str) -> Rule {
    let c: RelabelConfig = serde_yaml_ng::from_str(yaml).unwrap();
    Rule::compile(&c).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn md5_matches_rfc_1321_vectors() {
    let hex = |d: [u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(hex(md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(hex(md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(
        hex(md5(
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
        )),
        "57edf4a22be3c955ac49da2e2107b67a"
    );
}

#[test]
fn relabel_actions() {
    let mut l = labels(&[("a", "foo"), ("b", "bar")]);
    assert!(
        rule(
            "{source_labels: [a, b], regex: 'f(o+);(.*)', target_label: c, replacement: '${1}-$2'}"
        )
        .apply(&mut l)
    );
    assert_eq!(l["c"], "oo-bar");
    // Anchored: a partial match does nothing.
    assert!(rule("{source_labels: [a], regex: 'oo', target_label: d}").apply(&mut l));
    assert!(!l.contains_key("d"));
    // An empty replacement deletes the target.
    assert!(
        rule("{source_labels: [a], regex: '.*', target_label: c, replacement: ''}").apply(&mut l)
    );
    assert!(!l.contains_key("c"));
    assert!(rule("{source_labels: [a], regex: 'foo', action: keep}").apply(&mut l.clone()));
    assert!(!rule("{source_labels: [a], regex: 'bar', action: keep}").apply(&mut l.clone()));
    assert!(!rule("{source_labels: [b], regex: 'bar', action: drop}").apply(&mut l.clone()));
    let mut m = labels(&[("__meta_x", "1"), ("__meta_y", "2"), ("z", "3")]);
    assert!(rule("{action: labelmap, regex: '__meta_(.*)'}").apply(&mut m));
    assert_eq!(m["x"], "1");
    assert_eq!(m["y"], "2");
    assert!(rule("{action: labeldrop, regex: '__meta_.*'}").apply(&mut m));
    assert_eq!(m.keys().collect::<Vec<_>>(), ["x", "y", "z"]);
    assert!(rule("{action: labelkeep, regex: '[xz]'}").apply(&mut m));
    assert_eq!(m.keys().collect::<Vec<_>>(), ["x", "z"]);
    let mut u = labels(&[("a", "MiXeD")]);
    assert!(rule("{action: lowercase, source_labels: [a], target_label: lo}").apply(&mut u));
    assert!(rule("{action: uppercase, source_labels: [a], target_label: up}").apply(&mut u));
    assert_eq!((u["lo"].as_str(), u["up"].as_str()), ("mixed", "MIXED"));
    // hashmod: md5, the last 8 bytes big-endian, mod the modulus.
    let mut h = labels(&[("a", "abc")]);
    assert!(
        rule("{action: hashmod, source_labels: [a], target_label: shard, modulus: 1000}")
            .apply(&mut h)
    );
    let d = md5(b"abc");
    let expect = u64::from_be_bytes(d[8..].try_into().unwrap()) % 1000;
    assert_eq!(h["shard"], expect.to_string());
}

// ---- parsing ----

const TEXT: &str = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# A plain comment
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf -3982045
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE temperature gauge
temperature{room="a"} NaN
temperature{room="b"} -Inf
"#;

#[test]
fn text_format_families() {
    let families = parse(TEXT.as_bytes(), Format::Text).unwrap();
    let names: Vec<(&str, FamilyType, usize)> = families
        .iter()
        .map(|f| (f.name.as_str(), f.kind, f.samples.len()))
        .collect();
    assert_eq!(
        names,
        [
            ("http_requests_total", FamilyType::Counter, 2),
            ("msdos_file_access_time_seconds", FamilyType::Untyped, 1),
            (
                "metric_without_timestamp_and_labels",
                FamilyType::Untyped,
                1
            ),
            ("something_weird", FamilyType::Untyped, 1),
            ("http_request_duration_seconds", FamilyType::Histogram, 8),
            ("rpc_duration_seconds", FamilyType::Summary, 5),
            ("temperature", FamilyType::Gauge, 2),
        ]
    );
    assert_eq!(families[0].help, "The total number of HTTP requests.");
    assert_eq!(families[0].samples[0].timestamp_ms, Some(1_395_066_363_000));
    assert_eq!(
        families[0].samples[1].labels,
        [
            ("method".into(), "post".into()),
            ("code".into(), "400".into())
        ]
    );
    let msdos = &families[1].samples[0];
    assert_eq!(msdos.labels[0].1, "C:\\DIR\\FILE.TXT");
    assert_eq!(msdos.labels[1].1, "Cannot find file:\n\"FILE.TXT\"");
    assert_eq!(msdos.value, 1.458255915e9);
    assert_eq!(families[3].samples[0].value, f64::INFINITY);
    assert_eq!(families[3].samples[0].timestamp_ms, Some(-3_982_045));
    assert!(families[6].samples[0].value.is_nan());
    assert_eq!(families[6].samples[1].value, f64::NEG_INFINITY);
}

const OPENMETRICS: &str = r#"# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
# TYPE go_goroutines gauge
go_goroutines 69
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
process_cpu_seconds_total 4.20072246e+06 1605281325.5
process_cpu_seconds_created 1605000000.0
# TYPE foo histogram
foo_bucket{le="0.0"} 0
foo_bucket{le="1e-05"} 0 # {trace_id="KOO5S4vxi0o"} 0.67
foo_bucket{le="0.1"} 8
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# TYPE build info
build_info{version="1.0"} 1
# EOF
"#;

#[test]
fn openmetrics_families() {
    let families = parse(OPENMETRICS.as_bytes(), Format::OpenMetrics).unwrap();
    let names: Vec<(&str, FamilyType, usize)> = families
        .iter()
        .map(|f| (f.name.as_str(), f.kind, f.samples.len()))
        .collect();
    assert_eq!(
        names,
        [
            ("acme_http_router_request_seconds", FamilyType::Summary, 3),
            ("go_goroutines", FamilyType::Gauge, 1),
            ("process_cpu_seconds", FamilyType::Counter, 2),
            ("foo", FamilyType::Histogram, 7),
            ("build", FamilyType::Info, 1),
        ]
    );
    assert_eq!(families[0].unit, "seconds");
    // OpenMetrics timestamps are seconds.
    assert_eq!(families[2].samples[0].timestamp_ms, Some(1_605_281_325_500));
    assert_eq!(
        parse(b"# TYPE a gauge\na 1\n", Format::OpenMetrics),
        Err(ParseError::MissingEof)
    );
    assert!(matches!(
        parse(b"a 1\n# EOF\nb 2\n", Format::OpenMetrics),
        Err(ParseError::Line { line: 3, .. })
    ));
    assert_eq!(
        Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        Format::OpenMetrics
    );
    assert_eq!(
        Format::from_content_type("text/plain; version=0.0.4"),
        Format::Text
    );
}

#[test]
fn bad_lines_are_errors_naming_the_line() {
    let cases: &[&[u8]] = &[
        b"ok 1\n{bad} 1\n",
        b"ok 1\nname{a=\"1\" 1\n",
        b"ok 1\nname{a=1} 1\n",
        b"ok 1\nname 1 2 3\n",
        b"ok 1\nname one\n",
        b"ok 1\nname{a=\"\\x\"} 1\n",
        b"ok 1\nname{a=\"1\",a=\"2\"} 1\n",
        b"ok 1\n# TYPE name nonsense\n",
        b"ok 1\nname 1 1.5\n",
        b"ok 1\nname{a=\"unterminated\n",
        b"ok 1\nname infinity\n",
    ];
    for body in cases {
        match parse(body, Format::Text) {
            Err(ParseError::Line { line: 2, reason }) => assert!(!reason.is_empty()),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
        }
    }
    assert_eq!(
        parse(b"a 1\n\xff\n", Format::Text),
        Err(ParseError::NotUtf8(4))
    );
}

#[test]
fn garbage_never_panics() {
    // A deterministic pseudo-random walk over bytes that matter to the grammar.
    let alphabet = b"ab_:{}=\",# \n\\01.+-eInfNaTYPEHELPUNIT\t";
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        let len = (state % 60) as usize;
        let mut body = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            body.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        for format in [Format::Text, Format::OpenMetrics] {
            if let Ok(families) = parse(&body, format) {
                let mut t = one_target(BASIC);
                let _ =
                    translate::translate(&families, format, &t.info, &t.options, &mut t.cache, 1);
            }
        }
    }
}

// ---- translation ----

const NOW: u64 = 1_700_000_000_000_000_000;

#[test]
fn text_translation_matches_the_go_receiver() {
    let mut t = one_target(BASIC);
    let (req, counts) = t
        .process(
            TEXT.as_bytes(),
            "text/plain; version=0.0.4",
            NOW,
            Duration::from_millis(5),
        )
        .unwrap();
    assert_eq!(counts.scraped, 20);
    assert_eq!(counts.post_relabel, 20);
    let rm = &req.resource_metrics[0];
    let resource = attrs(&rm.resource.as_ref().unwrap().attributes);
    assert_eq!(resource["service.name"], "node");
    assert_eq!(resource["service.instance.id"], "10.0.0.1:9100");
    assert_eq!(resource["server.address"], "10.0.0.1");
    assert_eq!(resource["server.port"], "9100");
    assert_eq!(resource["url.scheme"], "http");
    let scope = rm.scope_metrics[0].scope.as_ref().unwrap();
    assert_eq!(scope.name, translate::SCOPE_NAME);

    let counter = find(&req, "http_requests_total");
    assert_eq!(counter.description, "The total number of HTTP requests.");
    match &counter.data {
        Some(metric::Data::Sum(s)) => {
            assert!(s.is_monotonic);
            assert_eq!(
                s.aggregation_temporality,
                AggregationTemporality::Cumulative as i32
            );
            let dp = &s.data_points[0];
            assert_eq!(
                attrs(&dp.attributes),
                BTreeMap::from([
                    ("code".to_string(), "200".to_string()),
                    ("env".to_string(), "prod".to_string()),
                    ("method".to_string(), "post".to_string()),
                ])
            );
            // honor_timestamps: the exposition's timestamp; first seen: start = time.
            assert_eq!(dp.time_unix_nano, 1_395_066_363_000_000_000);
            assert_eq!(dp.start_time_unix_nano, dp.time_unix_nano);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        find(&req, "metric_without_timestamp_and_labels").data,
        Some(metric::Data::Gauge(_))
    ));
    match &find(&req, "http_request_duration_seconds").data {
        Some(metric::Data::Histogram(h)) => {
            let dp = &h.data_points[0];
            assert_eq!(dp.explicit_bounds, [0.05, 0.1, 0.2, 0.5, 1.0]);
            assert_eq!(
                dp.bucket_counts,
                [
                    24054,
                    33444 - 24054,
                    100392 - 33444,
                    129389 - 100392,
                    133988 - 129389,
                    144320 - 133988
                ]
            );
            assert_eq!(dp.count, 144320);
            assert_eq!(dp.sum, Some(53423.0));
            assert_eq!(dp.time_unix_nano, NOW);
            assert_eq!(
                h.aggregation_temporality,
                AggregationTemporality::Cumulative as i32
            );
        }
        other => panic!("{other:?}"),
    }
    match &find(&req, "rpc_duration_seconds").data {
        Some(metric::Data::Summary(s)) => {
            let dp = &s.data_points[0];
            assert_eq!(dp.count, 2693);
            assert_eq!(dp.sum, 1.7560473e7);
            let q: Vec<(f64, f64)> = dp
                .quantile_values
                .iter()
                .map(|q| (q.quantile, q.value))
                .collect();
            assert_eq!(q, [(0.01, 3102.0), (0.5, 4773.0), (0.99, 76656.0)]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(number(find(&req, "up"), 0), 1.0);
    assert_eq!(number(find(&req, "scrape_samples_scraped"), 0), 20.0);
    assert_eq!(
        number(find(&req, "scrape_samples_post_metric_relabeling"), 0),
        20.0
    );
    // 2 + 1 + 1 + 1 + (6 buckets + sum + count) + (3 quantiles + sum + count) + 2.
    assert_eq!(number(find(&req, "scrape_series_added"), 0), 20.0);
    assert_eq!(number(find(&req, "scrape_duration_seconds"), 0), 0.005);
    let up = find(&req, "up");
    match &up.data {
        Some(metric::Data::Gauge(g)) => assert_eq!(
            attrs(&g.data_points[0].attributes),
            BTreeMap::from([("env".to_string(), "prod".to_string())])
        ),
        other => panic!("{other:?}"),
    }

    // The second scrape: no series added; start times kept.
    let (req2, counts2) = t
        .process(
            TEXT.as_bytes(),
            "text/plain",
            NOW + 1_000_000_000,
            Duration::from_millis(5),
        )
        .unwrap();
    assert_eq!(counts2.series_added, 0);
    match &find(&req2, "http_request_duration_seconds").data {
        Some(metric::Data::Histogram(h)) => {
            assert_eq!(h.data_points[0].start_time_unix_nano, NOW);
            assert_eq!(h.data_points[0].time_unix_nano, NOW + 1_000_000_000);
        }
        other => panic!("{other:?}"),
    }
}

fn sum_point(req: &ExportMetricsServiceRequest, name: &str) -> (u64, u64, f64) {
    match &find(req, name).data {
        Some(metric::Data::Sum(s)) => {
            let dp = &s.data_points[0];
            let v = match dp.value {
                Some(number_data_point::Value::AsDouble(v)) => v,
                _ => f64::NAN,
            };
            (dp.start_time_unix_nano, dp.time_unix_nano, v)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn start_times_reset_when_a_counter_goes_down() {
    let mut t = one_target(BASIC);
    let body = |v: u32| format!("# TYPE c_total counter\nc_total {v}\n");
    let s = 1_000_000_000;
    let (r1, _) = t
        .process(body(10).as_bytes(), "", NOW, Duration::ZERO)
        .unwrap();
    let (r2, _) = t
        .process(body(15).as_bytes(), "", NOW + s, Duration::ZERO)
        .unwrap();
    let (r3, _) = t
        .process(body(3).as_bytes(), "", NOW + 2 * s, Duration::ZERO)
        .unwrap();
    let (r4, _) = t
        .process(body(4).as_bytes(), "", NOW + 3 * s, Duration::ZERO)
        .unwrap();
    assert_eq!(sum_point(&r1, "c_total"), (NOW, NOW, 10.0));
    assert_eq!(sum_point(&r2, "c_total"), (NOW, NOW + s, 15.0));
    assert_eq!(sum_point(&r3, "c_total"), (NOW + 2 * s, NOW + 2 * s, 3.0));
    assert_eq!(sum_point(&r4, "c_total"), (NOW + 2 * s, NOW + 3 * s, 4.0));
}

#[test]
fn openmetrics_translation() {
    let mut t = one_target(BASIC);
    let (req, _) = t
        .process(
            OPENMETRICS.as_bytes(),
            "application/openmetrics-text; version=1.0.0",
            NOW,
            Duration::ZERO,
        )
        .unwrap();
    let (start, time, value) = sum_point(&req, "process_cpu_seconds_total");
    assert_eq!(
        start, 1_605_000_000_000_000_000,
        "_created is the start time"
    );
    assert_eq!(time, 1_605_281_325_500_000_000);
    assert_eq!(value, 4.20072246e6);
    assert_eq!(find(&req, "process_cpu_seconds_total").unit, "seconds");
    match &find(&req, "foo").data {
        Some(metric::Data::Histogram(h)) => {
            let dp = &h.data_points[0];
            assert_eq!(dp.explicit_bounds, [0.0, 1e-05, 0.1]);
            assert_eq!(dp.bucket_counts, [0, 0, 8, 9]);
            assert_eq!(dp.start_time_unix_nano, 1_520_430_000_123_000_000);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        find(&req, "build_info").data,
        Some(metric::Data::Gauge(_))
    ));
    match &find(&req, "acme_http_router_request_seconds").data {
        Some(metric::Data::Summary(s)) => {
            assert_eq!(s.data_points[0].count, 807_283);
            assert_eq!(attrs(&s.data_points[0].attributes)["path"], "/api/v1");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn trim_metric_suffixes_strips_total_and_units() {
    let mut c = config(BASIC).unwrap();
    c.trim_metric_suffixes = true;
    let mut t = targets(&c).unwrap().remove(0);
    let (req, _) = t
        .process(
            OPENMETRICS.as_bytes(),
            "application/openmetrics-text",
            NOW,
            Duration::ZERO,
        )
        .unwrap();
    let names: Vec<&str> = metrics(&req).iter().map(|m| m.name.as_str()).collect();
    assert!(names.contains(&"process_cpu"), "{names:?}");
    assert!(names.contains(&"acme_http_router_request"), "{names:?}");
    let mut plain = one_target(BASIC);
    let (req, _) = plain
        .process(
            b"# TYPE a_total counter\na_total 1\n",
            "",
            NOW,
            Duration::ZERO,
        )
        .unwrap();
    assert!(metrics(&req).iter().any(|m| m.name == "a_total"));
}

#[test]
fn honor_labels_and_metric_relabeling() {
    let body = b"# TYPE m gauge\nm{job=\"scraped\",env=\"inner\",drop=\"me\"} 1\nm{job=\"scraped\",env=\"x\",drop=\"keep\"} 2\nother 3\n";
    let mut t = one_target(BASIC);
    let (req, counts) = t.process(body, "", NOW, Duration::ZERO).unwrap();
    assert_eq!(counts.scraped, 3);
    let m = find(&req, "m");
    let Some(metric::Data::Gauge(g)) = &m.data else {
        panic!()
    };
    let a = attrs(&g.data_points[0].attributes);
    assert_eq!(a["env"], "prod");
    assert_eq!(a["exported_env"], "inner");
    assert_eq!(a["exported_job"], "scraped");
    assert!(!a.contains_key("job"));

    let yaml = "
config:
  global: {external_labels: {region: eu}}
  scrape_configs:
    - job_name: node
      honor_labels: true
      static_configs: [{targets: ['10.0.0.1:9100'], labels: {env: prod}}]
      metric_relabel_configs:
        - {source_labels: [drop], regex: me, action: drop}
        - {source_labels: [__name__], regex: other, target_label: __name__, replacement: renamed}
";
    let mut t = one_target(yaml);
    let (req, counts) = t.process(body, "", NOW, Duration::ZERO).unwrap();
    assert_eq!(counts.scraped, 3);
    assert_eq!(counts.post_relabel, 2);
    let Some(metric::Data::Gauge(g)) = &find(&req, "m").data else {
        panic!()
    };
    assert_eq!(g.data_points.len(), 1);
    let a = attrs(&g.data_points[0].attributes);
    assert_eq!(a["env"], "x");
    assert_eq!(a["region"], "eu");
    assert!(!a.contains_key("exported_env"));
    assert!(metrics(&req).iter().any(|m| m.name == "renamed"));
    assert!(!metrics(&req).iter().any(|m| m.name == "other"));
}

#[test]
fn target_relabeling_builds_the_url_and_labels() {
    let yaml = "
config:
  scrape_configs:
    - job_name: j
      metrics_path: /probe
      params: {module: [http_2xx]}
      static_configs: [{targets: ['a.example:80', 'b.example:80', 'skip.example:80']}]
      relabel_configs:
        - {source_labels: [__address__], regex: 'skip.*', action: drop}
        - {source_labels: [__address__], target_label: __param_target}
        - {source_labels: [__param_target], target_label: instance}
        - {target_label: __address__, replacement: '127.0.0.1:9115'}
";
    let t = targets(&config(yaml).unwrap()).unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].address(), "127.0.0.1:9115");
    assert_eq!(
        t[0].path_and_query(),
        "/probe?module=http_2xx&target=a.example%3A80"
    );
    assert_eq!(t[0].info.instance, "a.example:80");
    assert_eq!(t[1].info.instance, "b.example:80");
    // Loopback / localhost hosts get no server.address (as the Go receiver).
    let r = translate::resource(
        &TargetInfo {
            job: "j".into(),
            instance: "localhost:9100".into(),
            scheme: "http".into(),
            labels: BTreeMap::new(),
        },
        &BTreeMap::new(),
    );
    let a = attrs(&r.attributes);
    assert!(!a.contains_key("server.address"));
    assert_eq!(a["server.port"], "9100");
}

#[test]
fn sample_limit_fails_the_scrape() {
    let yaml = "config: {scrape_configs: [{job_name: a, sample_limit: 2, static_configs: [{targets: ['h:1']}]}]}";
    let mut t = one_target(yaml);
    assert!(t.process(b"a 1\nb 2\n", "", NOW, Duration::ZERO).is_ok());
    let err = t
        .process(b"a 1\nb 2\nc 3\n", "", NOW, Duration::ZERO)
        .unwrap_err();
    assert!(err.to_string().contains("sample limit exceeded"), "{err}");
    let failed = t.failed(NOW, Duration::ZERO);
    assert_eq!(number(find(&failed, "up"), 0), 0.0);
    assert_eq!(metrics(&failed).len(), 5);
}

#[test]
fn target_info_becomes_resource_attributes() {
    let mut t = one_target(BASIC);
    let (req, _) = t
        .process(
            b"# TYPE target_info gauge\ntarget_info{version=\"1.2\"} 1\nx 1\n",
            "",
            NOW,
            Duration::ZERO,
        )
        .unwrap();
    assert!(!metrics(&req).iter().any(|m| m.name == "target_info"));
    let a = attrs(
        &req.resource_metrics[0]
            .resource
            .as_ref()
            .unwrap()
            .attributes,
    );
    assert_eq!(a["version"], "1.2");
}

// ---- HTTP ----

/// A one-shot HTTP server answering each connection with `response`; the requests it saw.
async fn serve(response: Vec<u8>) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let mut n = 0;
            while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf[n..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => n += k,
                }
            }
            seen2
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = stream.write_all(&response).await;
            let _ = stream.shutdown().await;
        }
    });
    (address, seen)
}

fn http_response(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn target_at(address: &str, extra: &str) -> TargetScraper {
    one_target(&format!(
        "config: {{scrape_configs: [{{job_name: t, scrape_interval: 1s, {extra} static_configs: [{{targets: ['{address}']}}]}}]}}"
    ))
}

#[tokio::test]
async fn scrapes_gzip_over_http_with_prometheus_headers() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"# TYPE a gauge\na 42\n").unwrap();
    let body = gz.finish().unwrap();
    let (address, seen) = serve(http_response(
        "Content-Type: text/plain; version=0.0.4\r\nContent-Encoding: gzip\r\n",
        &body,
    ))
    .await;
    let mut t = target_at(&address, "");
    let (req, outcome) = t.scrape().await;
    outcome.unwrap();
    assert_eq!(number(find(&req, "a"), 0), 42.0);
    assert_eq!(number(find(&req, "up"), 0), 1.0);
    let request = seen.lock().unwrap()[0].to_ascii_lowercase();
    assert!(request.starts_with("get /metrics http/1.1"), "{request}");
    assert!(
        request.contains(&format!("accept: {}", scrape::ACCEPT.to_ascii_lowercase())),
        "{request}"
    );
    assert!(request.contains("accept-encoding: gzip"), "{request}");
    assert!(
        request.contains("x-prometheus-scrape-timeout-seconds: 1"),
        "{request}"
    );
}

#[tokio::test]
async fn failures_report_up_zero() {
    // A closed port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let mut t = target_at(&closed, "");
    let (req, outcome) = t.scrape().await;
    assert!(
        matches!(outcome, Err(ScrapeError::Connect { .. })),
        "{outcome:?}"
    );
    assert_eq!(number(find(&req, "up"), 0), 0.0);

    // Too large a body.
    let (address, _) = serve(http_response("", &vec![b'#'; 4096])).await;
    let mut t = target_at(&address, "body_size_limit: 1000,");
    let (_, outcome) = t.scrape().await;
    assert!(
        matches!(outcome, Err(ScrapeError::BodyTooLarge(1000))),
        "{outcome:?}"
    );

    // A bad body.
    let (address, _) = serve(http_response("", b"bad{ 1\n")).await;
    let mut t = target_at(&address, "");
    let (req, outcome) = t.scrape().await;
    assert!(matches!(outcome, Err(ScrapeError::Parse(_))), "{outcome:?}");
    assert_eq!(number(find(&req, "up"), 0), 0.0);

    // A 500.
    let (address, _) =
        serve(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec()).await;
    let mut t = target_at(&address, "");
    let (_, outcome) = t.scrape().await;
    assert!(
        matches!(outcome, Err(ScrapeError::Status(s)) if s.as_u16() == 500),
        "{outcome:?}"
    );

    // A server that never answers: the timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let mut t = target_at(&address, "scrape_timeout: 200ms,");
    let started = std::time::Instant::now();
    let (_, outcome) = t.scrape().await;
    assert!(
        matches!(outcome, Err(ScrapeError::Timeout(_))),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(listener);
}

#[tokio::test]
async fn the_receiver_sends_each_scrape_and_stops() {
    let (address, _) = serve(http_response("", b"# TYPE a counter\na 1\n")).await;
    let yaml = format!(
        "config: {{scrape_configs: [{{job_name: t, scrape_interval: 100ms, static_configs: [{{targets: ['{address}']}}]}}]}}"
    );
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    let probe = Probe::new();
    let next = NextConsumers::new().with(
        Signal::Metrics,
        probe.clone() as Arc<dyn otlp_pipeline::Consumer>,
    );
    use otlp_pipeline::ReceiverFactory as _;
    let receiver = factory()
        .create(ReceiverContext::new(id("prometheus"), next), value)
        .unwrap();
    receiver
        .start(&otlp_pipeline::component::Host::empty())
        .await
        .unwrap();
    assert!(otlp_pipeline::testing::eventually(|| probe.calls() >= 2).await);
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();
    let calls = probe.calls();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(probe.calls(), calls, "no scrape after shutdown");
    let received = probe.received.lock().unwrap();
    let first = received[0].metrics().unwrap();
    assert!(
        first.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .any(|m| m.name == "a")
    );
}

#[test]
fn empty_label_values_are_no_labels() {
    let mut t = one_target(BASIC);
    let (req, _) = t
        .process(b"m{a=\"\",b=\"x\"} 1\n", "", NOW, Duration::ZERO)
        .unwrap();
    let Some(metric::Data::Gauge(g)) = &find(&req, "m").data else {
        panic!()
    };
    let a = attrs(&g.data_points[0].attributes);
    assert_eq!(a.keys().collect::<Vec<_>>(), ["b", "env"]);
}

#[test]
fn use_start_time_metric_takes_process_start_time() {
    let body = b"# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1600000000.25\n# TYPE c_total counter\nc_total 5\n";
    let mut c = config(BASIC).unwrap();
    c.use_start_time_metric = true;
    let mut t = targets(&c).unwrap().remove(0);
    let (req, _) = t.process(body, "", NOW, Duration::ZERO).unwrap();
    assert_eq!(sum_point(&req, "c_total").0, 1_600_000_000_250_000_000);
    // Off (the default): first seen.
    let mut t = one_target(BASIC);
    let (req, _) = t.process(body, "", NOW, Duration::ZERO).unwrap();
    assert_eq!(sum_point(&req, "c_total").0, NOW);
    // A regex of one's own.
    c.start_time_metric_regex = "^c_total$".into();
    assert!(targets(&c).is_ok());
    c.start_time_metric_regex = "(".into();
    assert!(targets(&c).is_err());
}
