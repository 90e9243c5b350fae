//! Helpers of the `prometheus` receiver's peer tests (`prometheus_peers.rs`,
//! `prometheus_differential.rs` include this file): starting node_exporter and Prometheus
//! (killed by PID on drop), plain HTTP GETs, Prometheus's query API (a small JSON reader),
//! our receiver on a probe, and views of OTLP requests. As a test target of its own it tests
//! the JSON reader.

#![cfg(feature = "prometheus")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    unreachable_pub,
    missing_docs
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext};
use otlp_pipeline::testing::Probe;
use otlp_pipeline::{ReceiverFactory as _, Signal};
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{KeyValue, any_value};
use otlp_proto::metrics::v1::{Metric, metric, number_data_point};

/// A temporary directory, removed on drop.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        TempDir(
            tempfile::Builder::new()
                .prefix(&format!("otlp-prometheus-{prefix}-"))
                .tempdir()
                .unwrap(),
        )
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed (by its PID) and reaped on drop.
pub struct Server {
    pub child: Child,
    pub address: String,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn spawn(program: &Path, args: &[String], address: String, log: PathBuf) -> Server {
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        Server {
            child,
            address,
            log,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `path` answers 200 (at most 60 s).
    pub fn wait_http(&mut self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status}: {}", self.address, self.log_text());
            }
            if try_http_get(&self.address, path).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer {path}: {}",
                self.address,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub fn start_node_exporter(binary: &Path, dir: &TempDir) -> Server {
    let address = format!("127.0.0.1:{}", free_port());
    let args = [
        format!("--web.listen-address={address}"),
        "--collector.disable-defaults".into(),
        "--collector.loadavg".into(),
        "--collector.meminfo".into(),
        "--collector.stat".into(),
        "--collector.time".into(),
        "--collector.uname".into(),
    ];
    let mut server = Server::spawn(
        binary,
        &args,
        address,
        dir.path()
            .join(format!("node_exporter-{}.log", free_port())),
    );
    server.wait_http("/metrics");
    server
}

pub fn start_prometheus(binary: &Path, dir: &TempDir, port: u16, node: &str) -> Server {
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\n\
             scrape_configs:\n  - job_name: node\n    static_configs: [{{targets: ['{node}']}}]\n"
        ),
    )
    .unwrap();
    let address = format!("127.0.0.1:{port}");
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()),
        format!("--web.listen-address={address}"),
    ];
    let mut server = Server::spawn(binary, &args, address, dir.path().join("prometheus.log"));
    server.wait_http("/-/ready");
    server
}

/// `GET path` over HTTP/1.0; the body of a 200.
pub fn try_http_get(address: &str, path: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8(raw).map_err(|e| e.to_string())?;
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no header end")?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(head.lines().next().unwrap_or("").to_string());
    }
    Ok(body.to_string())
}

pub fn http_get(address: &str, path: &str) -> String {
    try_http_get(address, path).unwrap_or_else(|e| panic!("GET {address}{path}: {e}"))
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Prometheus's instant query: each series' labels and value (as text).
pub fn query(prometheus: &str, promql: &str) -> Vec<(BTreeMap<String, String>, String)> {
    let body = match try_http_get(
        prometheus,
        &format!("/api/v1/query?query={}", url_encode(promql)),
    ) {
        Ok(b) => b,
        Err(_) => return Vec::new(),
    };
    let json = Json::parse(&body).unwrap_or_else(|| panic!("not JSON: {body}"));
    assert_eq!(
        json.get("status").and_then(Json::as_str),
        Some("success"),
        "{body}"
    );
    let Some(Json::Array(result)) = json.get("data").and_then(|d| d.get("result")) else {
        panic!("no result: {body}");
    };
    result
        .iter()
        .map(|r| {
            let Some(Json::Object(metric)) = r.get("metric") else {
                panic!("{body}")
            };
            let labels = metric
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            let Some(Json::Array(value)) = r.get("value") else {
                panic!("{body}")
            };
            (labels, value[1].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// Polls `condition` (blocking calls allowed) every 200 ms, at most 60 s.
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Our receiver, built from YAML, sending to a probe.
pub struct OurReceiver {
    pub probe: Arc<Probe>,
    receiver: Box<dyn Receiver>,
}

impl OurReceiver {
    pub async fn start(yaml: &str) -> OurReceiver {
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
        let probe = Probe::new();
        let next = NextConsumers::new().with(
            Signal::Metrics,
            probe.clone() as Arc<dyn otlp_pipeline::Consumer>,
        );
        let receiver = otlp_receivers::prometheus::factory()
            .create(
                ReceiverContext::new(otlp_pipeline::testing::id("prometheus"), next),
                value,
            )
            .unwrap();
        receiver.start(&Host::empty()).await.unwrap();
        OurReceiver { probe, receiver }
    }

    pub async fn stop(&self) {
        self.receiver
            .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
    }

    /// The requests whose resource's `service.name` is `job`, in order.
    pub fn requests_of(&self, job: &str) -> Vec<ExportMetricsServiceRequest> {
        self.probe
            .received
            .lock()
            .unwrap()
            .iter()
            .filter_map(|t| t.metrics().cloned())
            .filter(|r| {
                r.resource_metrics.iter().any(|rm| {
                    resource_attrs(rm).get("service.name").map(String::as_str) == Some(job)
                })
            })
            .collect()
    }
}

pub fn string_attrs(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                Some(any_value::Value::BoolValue(b)) => b.to_string(),
                Some(any_value::Value::DoubleValue(d)) => d.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

fn resource_attrs(rm: &otlp_proto::metrics::v1::ResourceMetrics) -> BTreeMap<String, String> {
    rm.resource
        .as_ref()
        .map(|r| string_attrs(&r.attributes))
        .unwrap_or_default()
}

pub fn resource_attributes(request: &ExportMetricsServiceRequest) -> BTreeMap<String, String> {
    resource_attrs(&request.resource_metrics[0])
}

pub fn all_metrics(request: &ExportMetricsServiceRequest) -> impl Iterator<Item = &Metric> {
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
}

pub fn metrics_by_name(request: &ExportMetricsServiceRequest) -> BTreeMap<&str, &Metric> {
    all_metrics(request).map(|m| (m.name.as_str(), m)).collect()
}

pub fn metric_names(request: &ExportMetricsServiceRequest) -> BTreeSet<String> {
    all_metrics(request).map(|m| m.name.clone()).collect()
}

pub fn gauge_values(request: &ExportMetricsServiceRequest, name: &str) -> Vec<f64> {
    all_metrics(request)
        .filter(|m| m.name == name)
        .flat_map(|m| match &m.data {
            Some(metric::Data::Gauge(g)) => g.data_points.clone(),
            _ => Vec::new(),
        })
        .filter_map(|dp| match dp.value {
            Some(number_data_point::Value::AsDouble(v)) => Some(v),
            Some(number_data_point::Value::AsInt(v)) => Some(v as f64),
            None => None,
        })
        .collect()
}

/// (metric name, point attributes) of every point.
pub fn point_label_sets(
    request: &ExportMetricsServiceRequest,
) -> BTreeSet<(String, BTreeMap<String, String>)> {
    let mut out = BTreeSet::new();
    for m in all_metrics(request) {
        let sets: Vec<&[KeyValue]> = match &m.data {
            Some(metric::Data::Gauge(g)) => {
                g.data_points.iter().map(|p| &p.attributes[..]).collect()
            }
            Some(metric::Data::Sum(s)) => s.data_points.iter().map(|p| &p.attributes[..]).collect(),
            Some(metric::Data::Histogram(h)) => {
                h.data_points.iter().map(|p| &p.attributes[..]).collect()
            }
            Some(metric::Data::Summary(s)) => {
                s.data_points.iter().map(|p| &p.attributes[..]).collect()
            }
            _ => Vec::new(),
        };
        for attrs in sets {
            out.insert((m.name.clone(), string_attrs(attrs)));
        }
    }
    out
}

/// The value of the number point of `name` with exactly `attrs`.
pub fn point_value(
    request: &ExportMetricsServiceRequest,
    name: &str,
    attrs: &BTreeMap<String, String>,
) -> Option<f64> {
    for m in all_metrics(request).filter(|m| m.name == name) {
        let points = match &m.data {
            Some(metric::Data::Gauge(g)) => &g.data_points,
            Some(metric::Data::Sum(s)) => &s.data_points,
            _ => continue,
        };
        for p in points {
            if &string_attrs(&p.attributes) == attrs {
                return match p.value {
                    Some(number_data_point::Value::AsDouble(v)) => Some(v),
                    Some(number_data_point::Value::AsInt(v)) => Some(v as f64),
                    None => None,
                };
            }
        }
    }
    None
}

/// `# TYPE` lines of a text exposition: family → type.
pub fn text_types(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| {
            let mut parts = rest.split_whitespace();
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect()
}

/// The family a series name belongs to, and the label its family type folds away
/// (`le` of histogram buckets, `quantile` of summaries).
pub fn family_of_series(
    name: &str,
    types: &BTreeMap<String, String>,
) -> (String, Option<&'static str>) {
    if let Some(kind) = types.get(name) {
        return (name.to_string(), (kind == "summary").then_some("quantile"));
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && let Some(kind) = types.get(base)
            && (kind == "histogram" || kind == "summary")
        {
            return (base.to_string(), (suffix == "_bucket").then_some("le"));
        }
    }
    (name.to_string(), None)
}

/// The families that have at least one sample line.
pub fn sampled_families(text: &str, types: &BTreeMap<String, String>) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(|name| family_of_series(name, types).0)
        .collect()
}

/// The `le` bounds (without `+Inf`) of a histogram family in a text exposition.
pub fn bucket_bounds(text: &str, family: &str) -> Vec<f64> {
    let prefix = format!("{family}_bucket{{");
    let mut bounds: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| {
            let at = l.find("le=\"")? + 4;
            let end = l[at..].find('"')? + at;
            l[at..end].parse::<f64>().ok()
        })
        .filter(|b| b.is_finite())
        .collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    bounds
}

/// A JSON value (enough for Prometheus's API answers).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    pub fn parse(text: &str) -> Option<Json> {
        let mut p = JsonParser {
            b: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        (p.i == p.b.len()).then_some(v)
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

struct JsonParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn value(&mut self) -> Option<Json> {
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut map = BTreeMap::new();
                if self.eat(b'}').is_some() {
                    return Some(Json::Object(map));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.eat(b':')?;
                    let v = self.value()?;
                    map.insert(key, v);
                    if self.eat(b',').is_none() {
                        self.eat(b'}')?;
                        return Some(Json::Object(map));
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                if self.eat(b']').is_some() {
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    if self.eat(b',').is_none() {
                        self.eat(b']')?;
                        return Some(Json::Array(items));
                    }
                }
            }
            b'"' => self.string().map(Json::String),
            b't' => self.word("true", Json::Bool(true)),
            b'f' => self.word("false", Json::Bool(false)),
            b'n' => self.word("null", Json::Null),
            _ => {
                let start = self.i;
                while self.i < self.b.len() && b"+-.eE0123456789".contains(&self.b[self.i]) {
                    self.i += 1;
                }
                std::str::from_utf8(&self.b[start..self.i])
                    .ok()?
                    .parse()
                    .ok()
                    .map(Json::Number)
            }
        }
    }

    fn word(&mut self, word: &str, v: Json) -> Option<Json> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Some(v)
        } else {
            None
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = std::str::from_utf8(self.b.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        _ => return None,
                    }
                }
                _ => out.push(c),
            }
        }
    }
}

#[test]
fn json_reader_reads_prometheus_answers() {
    let v = Json::parse(
        r#"{"status":"success","data":{"result":[{"metric":{"__name__":"up","a":"x\"y\u00e9\\"},"value":[1.5,"1"]}]},"n":[true,false,null,-2e3]}"#,
    )
    .unwrap();
    let Some(Json::Array(items)) = v.get("data").and_then(|d| d.get("result")) else {
        panic!("{v:?}")
    };
    assert_eq!(
        items[0]
            .get("metric")
            .and_then(|m| m.get("a"))
            .and_then(Json::as_str),
        Some("x\"yé\\")
    );
    assert_eq!(
        v.get("n"),
        Some(&Json::Array(vec![
            Json::Bool(true),
            Json::Bool(false),
            Json::Null,
            Json::Number(-2000.0)
        ]))
    );
    assert!(Json::parse("{\"a\":").is_none());
    assert!(Json::parse("[1,]").is_none());
}

#[test]
fn series_map_to_their_families() {
    let types = text_types("# TYPE h histogram\n# TYPE s summary\n# TYPE c counter\n");
    assert_eq!(
        family_of_series("h_bucket", &types),
        ("h".into(), Some("le"))
    );
    assert_eq!(
        family_of_series("s", &types),
        ("s".into(), Some("quantile"))
    );
    assert_eq!(family_of_series("s_count", &types), ("s".into(), None));
    assert_eq!(family_of_series("c", &types), ("c".into(), None));
    assert_eq!(family_of_series("c_sum", &types), ("c_sum".into(), None));
    assert_eq!(
        bucket_bounds(
            "h_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_bucket{a=\"b\",le=\"0.1\"} 1\n",
            "h"
        ),
        [0.1, 0.5]
    );
}
