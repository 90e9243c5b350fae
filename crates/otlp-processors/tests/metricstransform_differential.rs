//! The `metricstransform` processor against otelcol-contrib v0.160.0's `metrics_transform`:
//! the same OTLP metrics through both — Go: `otlp` receiver → `metrics_transform` →
//! `otlp_http` exporter to an in-test HTTP server; ours: the processor in-process, configured
//! from the same YAML text by our config loader (so `$$` is unescaped as otelcol does) — and
//! the outputs compared metric by metric (names, types, temporality, units, data points'
//! attributes and values, sorted: otelcol's aggregation emits groups in random order).
//!
//! Two cases in one Go collector (two pipelines): the couchbase transforms of
//! `../shared/otelcol-configs/011-contrib-couchbase.yaml` (renames, `combine` with named
//! groups, `aggregate_labels`) on Prometheus-like gauges, and transforms covering every action
//! and operation on gauges, sums (cumulative, delta), histograms, exponential histograms and
//! summaries.
//!
//! The peer comes from `OTLP_PEER_OTELCOL_CONTRIB_GO` or `target/peers/peers.env`; without it
//! the test fails, saying to run `cargo xtask test`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otlp_pipeline::component::ComponentKind;
use otlp_pipeline::config::{Config, parse_config};
use otlp_processors::metricstransform::{MetricsTransform, MetricsTransformConfig};
use otlp_proto::Message as _;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point::Value,
    summary_data_point::ValueAtQuantile,
};
use otlp_proto::resource::v1::Resource;

#[path = "../../otlp-transport/tests/interop_support/peers.rs"]
#[allow(dead_code, unreachable_pub)]
mod peers;

use peers::Peer;

/// The installed peer (see `interop_support/peers.rs`); a missing one fails the test.
fn peer(peer: Peer) -> PathBuf {
    peers::locate(peer).unwrap_or_else(|| {
        panic!(
            "{} is unset and target/peers/peers.env names no such peer: run `cargo xtask test` \
             (it installs the interop peers and sets their variables)",
            peer.env_var()
        )
    })
}

/// The couchbase transforms of config 011, with `aggregation_type: sum` added to its two
/// `combine`s: otelcol-contrib v0.160.0 refuses them without it ("missing required field
/// \"aggregation_type\" while \"action\" is combine"), and so do we.
const COUCHBASE: &str = r#"
    transforms:
      - include: kv_ops
        match_type: strict
        action: update
        new_name: "couchbase.bucket.operation.count"
      - include: kv_vb_curr_items
        match_type: strict
        action: update
        new_name: "couchbase.bucket.item.count"
      - include: kv_ep_cursor_memory_freed_bytes
        match_type: strict
        action: update
        new_name: "couchbase.bucket.memory.usage.free"
      - include: kv_total_memory_used_bytes
        match_type: strict
        action: update
        new_name: "couchbase.bucket.memory.usage.used"
      - include: kv_ep_tmp_oom_errors
        match_type: strict
        action: update
        new_name: "couchbase.bucket.error.oom.count.recoverable"
      - include: kv_ep_oom_errors
        match_type: strict
        action: update
        new_name: "couchbase.bucket.error.oom.count.unrecoverable"
      - include: '^couchbase\.bucket\.error\.oom\.count\.(?P<error_type>unrecoverable|recoverable)$$'
        match_type: regexp
        action: combine
        new_name: "couchbase.bucket.error.oom.count"
        aggregation_type: sum
      - include: '^couchbase\.bucket\.memory\.usage\.(?P<state>free|used)$$'
        match_type: regexp
        action: combine
        new_name: "couchbase.bucket.memory.usage"
        aggregation_type: sum
      - include: 'couchbase.bucket.operation.count'
        match_type: strict
        action: update
        operations:
          - action: aggregate_labels
            label_set: ["bucket", "op"]
            aggregation_type: sum
"#;

/// Every action and operation.
const COVERAGE: &str = r#"
    transforms:
      - include: system.cpu.usage
        action: update
        operations:
          - action: update_label
            label: state
            new_label: cpu_state
            value_actions:
              - {value: idle, new_value: "-"}
          - action: aggregate_labels
            label_set: [cpu_state]
            aggregation_type: sum
      - include: system.memory.usage
        action: update
        operations:
          - action: aggregate_label_values
            label: state
            aggregated_values: [slab_reclaimable, slab_unreclaimable]
            new_value: slab
            aggregation_type: sum
      - include: requests
        action: insert
        new_name: requests.copy
        operations:
          - {action: add_label, new_label: k, new_value: v}
          - {action: experimental_scale_value, experimental_scale: 2.5}
      - include: requests
        action: update
        operations:
          - {action: aggregate_labels, label_set: [], aggregation_type: mean}
      - include: latency
        action: update
        operations:
          - {action: aggregate_labels, label_set: [], aggregation_type: sum}
          - {action: experimental_scale_value, experimental_scale: 1000}
      - include: exp
        action: update
        operations:
          - {action: aggregate_labels, label_set: [], aggregation_type: sum}
      - include: summ
        action: update
        operations:
          - {action: aggregate_labels, label_set: [], aggregation_type: sum}
      - include: '^Web Service \(\*\)/Total (?P<http_method>.*) Requests$$'
        match_type: regexp
        action: combine
        new_name: iis.requests
        submatch_case: upper
        aggregation_type: max
      - include: '^pod\.(.*)$$'
        match_type: regexp
        experimental_match_labels: {pod: 'a.*'}
        action: insert
        new_name: 'pod_copy.$${1}.x'
        operations:
          - {action: delete_label_value, label: zone, label_value: z1}
      - include: '^pod\.(.*)$$'
        match_type: regexp
        experimental_match_labels: {pod: 'b'}
        action: update
        new_name: renamed_if_all_match
        operations:
          - {action: toggle_scalar_data_type}
          - {action: add_label, new_label: skipped, new_value: x}
      - include: toggle.me
        action: update
        operations:
          - {action: toggle_scalar_data_type}
          - {action: aggregate_labels, label_set: [], aggregation_type: median}
      - include: counted
        action: update
        operations:
          - {action: aggregate_labels, label_set: [host], aggregation_type: count}
      - include: minmax
        action: insert
        new_name: minmax.min
        operations:
          - {action: aggregate_labels, label_set: [], aggregation_type: min}
      - include: minmax
        action: update
        operations:
          - {action: aggregate_label_values, label: c, aggregated_values: [x, y], new_value: xy, aggregation_type: max}
      - include: '^grp\.'
        match_type: regexp
        action: group
        group_resource_labels: {source: kubelet, resource.type: k8s.pod}
"#;

fn config_yaml(couchbase_port: u16, coverage_port: u16, sink_port: u16) -> String {
    format!(
        "receivers:\n  otlp/couchbase:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:{couchbase_port}\n  \
         otlp/coverage:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:{coverage_port}\n\
         processors:\n  metrics_transform/couchbase:{COUCHBASE}  metrics_transform/coverage:{COVERAGE}\
         exporters:\n  otlp_http:\n    endpoint: http://127.0.0.1:{sink_port}\n    compression: none\n\
         service:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n\
         \x20   metrics/couchbase:\n      receivers: [otlp/couchbase]\n      processors: [metrics_transform/couchbase]\n      exporters: [otlp_http]\n\
         \x20   metrics/coverage:\n      receivers: [otlp/coverage]\n      processors: [metrics_transform/coverage]\n      exporters: [otlp_http]\n"
    )
}

fn s(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..KeyValue::default()
    }
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
    pairs.iter().map(|(k, v)| s(k, v)).collect()
}

fn num(pairs: &[(&str, &str)], start: u64, t: u64, v: Value) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs(pairs),
        start_time_unix_nano: start,
        time_unix_nano: t,
        value: Some(v),
        ..NumberDataPoint::default()
    }
}

fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: "1".into(),
        description: format!("{name} description"),
        data: Some(Data::Gauge(Gauge {
            data_points: points,
        })),
        ..Metric::default()
    }
}

fn sum(name: &str, temporality: i32, monotonic: bool, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: "By".into(),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: monotonic,
        })),
        ..Metric::default()
    }
}

fn request(case: &str, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: attrs(&[("case", case), ("host.name", "h1")]),
                ..Resource::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    }
}

const T0: u64 = 1_700_000_000_000_000_000;
const T1: u64 = T0 + 10_000_000_000;

fn couchbase_input() -> ExportMetricsServiceRequest {
    use Value::AsDouble as D;
    let mut metrics = Vec::new();
    let mut ops = Vec::new();
    for (bucket, op, result, v) in [
        ("b1", "get", "hit", 10.0),
        ("b1", "get", "miss", 3.0),
        ("b1", "set", "ok", 7.0),
        ("b2", "get", "hit", 1.0),
    ] {
        ops.push(num(
            &[("bucket", bucket), ("op", op), ("result", result)],
            T0,
            T1,
            D(v),
        ));
    }
    metrics.push(gauge("kv_ops", ops));
    for name in [
        "kv_vb_curr_items",
        "kv_ep_cursor_memory_freed_bytes",
        "kv_total_memory_used_bytes",
        "kv_ep_tmp_oom_errors",
        "kv_ep_oom_errors",
    ] {
        metrics.push(gauge(
            name,
            vec![
                num(&[("bucket", "b1")], T0, T1, D(name.len() as f64)),
                num(&[("bucket", "b2")], T0, T1, D(2.5)),
            ],
        ));
    }
    request("couchbase", metrics)
}

fn coverage_input() -> ExportMetricsServiceRequest {
    use Value::{AsDouble as D, AsInt as I};
    let mut metrics = Vec::new();
    let mut cpu = Vec::new();
    for (t, base) in [(T0, 0), (T1, 100)] {
        for (i, (state, c)) in [
            ("user", "0"),
            ("system", "0"),
            ("idle", "0"),
            ("user", "1"),
            ("idle", "1"),
        ]
        .into_iter()
        .enumerate()
        {
            cpu.push(num(
                &[("state", state), ("cpu", c)],
                T0 - 1000 * i as u64,
                t,
                I(base + i as i64 * 7),
            ));
        }
    }
    metrics.push(gauge("system.cpu.usage", cpu));
    metrics.push(sum(
        "system.memory.usage",
        2,
        false,
        ["slab_reclaimable", "slab_unreclaimable", "used", "free"]
            .iter()
            .enumerate()
            .map(|(i, st)| num(&[("state", st)], T0, T1, D(1.25 * (i + 1) as f64)))
            .collect(),
    ));
    metrics.push(sum(
        "requests",
        1,
        true,
        vec![
            num(&[("route", "a")], T0, T1, I(10)),
            num(&[("route", "b")], T0, T1, I(21)),
            num(&[("route", "c")], T0 + 5, T1, I(4)),
            num(&[("route", "d")], T0, T1, I(-3)),
        ],
    ));
    let hist = |route: &str, count: u64, counts: Vec<u64>, min: f64, max: f64| HistogramDataPoint {
        attributes: attrs(&[("route", route)]),
        start_time_unix_nano: T0,
        time_unix_nano: T1,
        count,
        sum: Some(count as f64 * 1.5),
        bucket_counts: counts,
        explicit_bounds: vec![0.5, 1.0, 2.5],
        min: Some(min),
        max: Some(max),
        ..HistogramDataPoint::default()
    };
    metrics.push(Metric {
        name: "latency".into(),
        unit: "s".into(),
        data: Some(Data::Histogram(Histogram {
            data_points: vec![
                hist("a", 6, vec![1, 2, 3, 0], 0.1, 2.0),
                hist("b", 4, vec![0, 1, 1, 2], 0.7, 9.0),
                hist("c", 0, vec![0, 0, 0, 0], 0.0, 0.0),
            ],
            aggregation_temporality: 2,
        })),
        ..Metric::default()
    });
    let exp = |route: &str, pos: Vec<u64>, neg: Vec<u64>| ExponentialHistogramDataPoint {
        attributes: attrs(&[("route", route)]),
        start_time_unix_nano: T0,
        time_unix_nano: T1,
        count: pos.iter().sum::<u64>() + neg.iter().sum::<u64>() + 1,
        sum: Some(3.5),
        scale: 2,
        zero_count: 1,
        positive: Some(Buckets {
            offset: 1,
            bucket_counts: pos,
        }),
        negative: Some(Buckets {
            offset: 0,
            bucket_counts: neg,
        }),
        min: Some(-1.0),
        max: Some(4.0),
        ..ExponentialHistogramDataPoint::default()
    };
    metrics.push(Metric {
        name: "exp".into(),
        data: Some(Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![
                exp("a", vec![1, 2], vec![1]),
                exp("b", vec![3, 0, 1], vec![]),
            ],
            aggregation_temporality: 2,
        })),
        ..Metric::default()
    });
    metrics.push(Metric {
        name: "summ".into(),
        data: Some(Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                attributes: attrs(&[("a", "1")]),
                time_unix_nano: T1,
                count: 2,
                sum: 3.0,
                quantile_values: vec![ValueAtQuantile {
                    quantile: 0.5,
                    value: 1.0,
                }],
                ..SummaryDataPoint::default()
            }],
        })),
        ..Metric::default()
    });
    for method in ["Get", "Post", "Delete"] {
        metrics.push(gauge(
            &format!("Web Service (*)/Total {method} Requests"),
            vec![num(&[("site", "s1")], T0, T1, I(method.len() as i64))],
        ));
    }
    metrics.push(gauge(
        "pod.cpu",
        vec![
            num(&[("pod", "a1"), ("zone", "z1")], T0, T1, D(1.5)),
            num(&[("pod", "a2"), ("zone", "z2")], T0, T1, D(2.5)),
            num(&[("pod", "b"), ("zone", "z1")], T0, T1, D(3.5)),
            num(&[("zone", "z3")], T0, T1, D(4.5)),
        ],
    ));
    metrics.push(gauge("pod.mem", vec![num(&[("pod", "b")], T0, T1, D(7.9))]));
    metrics.push(gauge(
        "toggle.me",
        [1.9, 5.2, 3.7, 10.1]
            .iter()
            .enumerate()
            .map(|(i, v)| num(&[("i", &i.to_string())], T0, T1, D(*v)))
            .collect(),
    ));
    metrics.push(gauge(
        "counted",
        vec![
            num(&[("host", "h1"), ("dev", "a")], T0, T1, I(5)),
            num(&[("host", "h1"), ("dev", "b")], T0, T1, I(6)),
            num(&[("host", "h1"), ("dev", "c")], T0, T1, I(7)),
            num(&[("host", "h2"), ("dev", "a")], T0, T1, I(8)),
        ],
    ));
    metrics.push(gauge(
        "minmax",
        vec![
            num(&[("c", "x")], T0, T1, D(5.5)),
            num(&[("c", "y")], T0, T1, D(-2.0)),
            num(&[("c", "z")], T0, T1, D(9.0)),
        ],
    ));
    metrics.push(gauge("grp.one", vec![num(&[], T0, T1, I(1))]));
    metrics.push(gauge("grp.two", vec![num(&[], T0, T1, I(2))]));
    request("coverage", metrics)
}

/// A canonical text of one metric with its resource: points sorted, attributes sorted.
fn canon_metric(resource: &[KeyValue], m: &Metric) -> String {
    let attrs = |a: &[KeyValue]| {
        let map: BTreeMap<_, _> = a
            .iter()
            .map(|kv| {
                (
                    kv.key.clone(),
                    format!("{:?}", kv.value.as_ref().and_then(|v| v.value.as_ref())),
                )
            })
            .collect();
        format!("{map:?}")
    };
    let (kind, mut points): (String, Vec<String>) = match &m.data {
        Some(Data::Gauge(g)) => (
            "gauge".into(),
            g.data_points
                .iter()
                .map(|p| {
                    format!(
                        "{} {}..{} {:?}",
                        attrs(&p.attributes),
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        p.value
                    )
                })
                .collect(),
        ),
        Some(Data::Sum(s)) => (
            format!(
                "sum t={} mono={}",
                s.aggregation_temporality, s.is_monotonic
            ),
            s.data_points
                .iter()
                .map(|p| {
                    format!(
                        "{} {}..{} {:?}",
                        attrs(&p.attributes),
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        p.value
                    )
                })
                .collect(),
        ),
        Some(Data::Histogram(h)) => (
            format!("histogram t={}", h.aggregation_temporality),
            h.data_points
                .iter()
                .map(|p| {
                    format!(
                        "{} {}..{} n={} sum={:?} min={:?} max={:?} counts={:?} bounds={:?} ex={}",
                        attrs(&p.attributes),
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        p.count,
                        p.sum,
                        p.min,
                        p.max,
                        p.bucket_counts,
                        p.explicit_bounds,
                        p.exemplars.len()
                    )
                })
                .collect(),
        ),
        Some(Data::ExponentialHistogram(h)) => (
            format!("exponential t={}", h.aggregation_temporality),
            h.data_points
                .iter()
                .map(|p| {
                    let b = |b: &Option<Buckets>| {
                        let b = b.clone().unwrap_or_default();
                        format!("{}:{:?}", b.offset, b.bucket_counts)
                    };
                    format!(
                        "{} {}..{} n={} sum={:?} zero={} scale={} min={:?} max={:?} pos={} neg={}",
                        attrs(&p.attributes),
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        p.count,
                        p.sum,
                        p.zero_count,
                        p.scale,
                        p.min,
                        p.max,
                        b(&p.positive),
                        b(&p.negative)
                    )
                })
                .collect(),
        ),
        Some(Data::Summary(s)) => (
            "summary".into(),
            s.data_points
                .iter()
                .map(|p| {
                    format!(
                        "{} {} n={} sum={}",
                        attrs(&p.attributes),
                        p.time_unix_nano,
                        p.count,
                        p.sum
                    )
                })
                .collect(),
        ),
        None => ("empty".into(), Vec::new()),
    };
    points.sort();
    format!(
        "resource={} name={:?} unit={:?} description={:?} {kind}\n    {}",
        attrs(resource),
        m.name,
        m.unit,
        m.description,
        points.join("\n    ")
    )
}

fn canon(requests: &[ExportMetricsServiceRequest]) -> Vec<String> {
    let mut out: Vec<String> = requests
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|rm| {
            let resource = rm
                .resource
                .as_ref()
                .map(|r| r.attributes.clone())
                .unwrap_or_default();
            rm.scope_metrics
                .iter()
                .flat_map(|sm| sm.metrics.iter())
                .map(move |m| canon_metric(&resource, m))
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

/// A minimal OTLP/HTTP metrics endpoint (blocking, one thread per connection).
fn sink(listener: std::net::TcpListener, got: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        let got = Arc::clone(&got);
        std::thread::spawn(move || {
            let mut buffer = Vec::new();
            loop {
                let header_end = loop {
                    if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                    let mut chunk = [0u8; 8192];
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while buffer.len() < header_end + length {
                    let mut chunk = [0u8; 8192];
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                }
                let body: Vec<u8> = buffer
                    .drain(..header_end + length)
                    .skip(header_end)
                    .collect();
                if head.starts_with("post /v1/metrics") {
                    got.lock()
                        .unwrap()
                        .push(ExportMetricsServiceRequest::decode(body.as_slice()).unwrap());
                }
                let ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";
                if stream.write_all(ok).is_err() {
                    return;
                }
            }
        });
    }
}

fn post(port: u16, request: &ExportMetricsServiceRequest) {
    let body = request.encode_to_vec();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /v1/metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Our processor, configured from the same YAML through our loader.
fn ours(
    yaml: &str,
    id: &str,
    mut request: ExportMetricsServiceRequest,
) -> ExportMetricsServiceRequest {
    let config = Config::from_yaml("differential.yaml", yaml).unwrap();
    let entry = config
        .section(ComponentKind::Processor)
        .iter()
        .find(|(k, _)| k.to_string() == id)
        .map(|(_, v)| v.config.clone())
        .unwrap();
    let parsed: MetricsTransformConfig = parse_config(&entry).unwrap();
    MetricsTransform::new(&parsed)
        .unwrap()
        .process(&mut request);
    request
}

#[test]
fn same_metrics_as_otelcol_contrib_metrics_transform() {
    let otelcol = peer(Peer::OtelcolContribGo);
    let dir = std::env::temp_dir().join(format!("otlp-mt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let sink_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sink_port = sink_listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    {
        let got = Arc::clone(&got);
        std::thread::spawn(move || sink(sink_listener, got));
    }
    let (couchbase_port, coverage_port) = (free_port(), free_port());
    let yaml = config_yaml(couchbase_port, coverage_port, sink_port);
    let config_path = dir.join("otelcol.yaml");
    std::fs::write(&config_path, &yaml).unwrap();
    let log = std::fs::File::create(dir.join("otelcol.log")).unwrap();
    let _go = Killed(
        Command::new(&otelcol)
            .arg("--config")
            .arg(&config_path)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for port in [couchbase_port, coverage_port] {
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "otelcol-contrib-go did not start: {}",
                std::fs::read_to_string(dir.join("otelcol.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    let expected_ours = vec![
        ours(&yaml, "metrics_transform/couchbase", couchbase_input()),
        ours(&yaml, "metrics_transform/coverage", coverage_input()),
    ];
    let ours = canon(&expected_ours);
    post(couchbase_port, &couchbase_input());
    post(coverage_port, &coverage_input());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut go = canon(&got.lock().unwrap());
    while go.len() < ours.len() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        go = canon(&got.lock().unwrap());
    }
    std::thread::sleep(Duration::from_millis(300));
    go = canon(&got.lock().unwrap());
    let only_ours: Vec<_> = ours.iter().filter(|m| !go.contains(m)).collect();
    let only_go: Vec<_> = go.iter().filter(|m| !ours.contains(m)).collect();
    assert!(
        only_ours.is_empty() && only_go.is_empty(),
        "only ours:\n{}\n\nonly otelcol's:\n{}",
        only_ours
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        only_go
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(ours, go);
    // The cases did something: renames, combines, copies, groups.
    let all = ours.join("\n");
    for needle in [
        "couchbase.bucket.memory.usage\"",
        "\"state\": \"Some(StringValue(\\\"free\\\"))\"",
        "iis.requests",
        "pod_copy.cpu.x",
        "requests.copy",
        "minmax.min",
        "\"source\": \"Some(StringValue(\\\"kubelet\\\"))\"",
    ] {
        assert!(all.contains(needle), "{needle} missing from {all}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
