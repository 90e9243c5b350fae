//! Realistic OTLP payloads, built deterministically from a seed so every run measures the same
//! bytes.
//!
//! A span here looks like what an instrumented service sends: a resource with six attributes
//! drawn from a small pool of services, random 16-byte trace ids and 8-byte span ids with parent
//! links, ten span attributes of mixed types including a ~100-byte `db.query.text`, one event
//! and a status.
//!
//! Metrics ([`metrics_request`]) are what an HTTP service's SDK exports every interval: a
//! request-duration histogram (the semantic conventions' default buckets), an active-requests
//! up-down sum, a monotonic request counter and a CPU-utilization gauge, each with a handful of
//! attribute sets. Logs ([`logs_request`]) are access-log-like records: severity, a ~70-byte
//! message body, five attributes and the trace context of the request that wrote them.

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};

/// A small deterministic generator (splitmix64): benchmarks must not depend on a global RNG.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (bound > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    fn bytes<const N: usize>(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(N);
        while out.len() < N {
            out.extend_from_slice(&self.next_u64().to_be_bytes());
        }
        out.truncate(N);
        out
    }
}

const SERVICES: &[&str] = &["checkout", "cart", "payment", "shipping", "frontend", "ads"];
const ROUTES: &[&str] = &[
    "/api/cart",
    "/api/checkout",
    "/api/products/{id}",
    "/health",
    "/api/ads",
];

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn string(value: &str) -> Value {
    Value::StringValue(value.to_owned())
}

/// The resource of one of the pooled services.
pub fn resource(service: usize) -> Resource {
    let name = SERVICES[service % SERVICES.len()];
    Resource {
        attributes: vec![
            kv("service.name", string(name)),
            kv("service.version", string("1.42.0")),
            kv(
                "service.instance.id",
                string(&format!("{name}-7d9f8b6c5-x2k4q")),
            ),
            kv("deployment.environment.name", string("production")),
            kv(
                "host.name",
                string("ip-10-0-12-34.eu-west-1.compute.internal"),
            ),
            kv("telemetry.sdk.language", string("rust")),
        ],
        ..Default::default()
    }
}

/// One realistic span; `parent` is the span id of its parent (empty for a root).
pub fn span(rng: &mut SplitMix64, trace_id: Vec<u8>, parent: Vec<u8>) -> Span {
    let start = 1_700_000_000_000_000_000 + rng.below(1_000_000_000_000);
    let duration = 50_000 + rng.below(250_000_000);
    let route = ROUTES[rng.below(ROUTES.len() as u64) as usize];
    let failed = rng.below(50) == 0;
    Span {
        trace_id,
        span_id: rng.bytes::<8>(),
        parent_span_id: parent,
        name: format!("GET {route}"),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + duration,
        flags: 0x101,
        attributes: vec![
            kv("http.request.method", string("GET")),
            kv("http.route", string(route)),
            kv(
                "http.response.status_code",
                Value::IntValue(if failed { 500 } else { 200 }),
            ),
            kv("url.scheme", string("https")),
            kv("server.address", string("shop.example.com")),
            kv("server.port", Value::IntValue(443)),
            kv("network.protocol.version", string("1.1")),
            kv("db.system.name", string("postgresql")),
            kv(
                "db.query.text",
                string(
                    "SELECT id, name, price, currency FROM products WHERE category_id = $1 ORDER BY price LIMIT 20",
                ),
            ),
            kv("app.cache.hit", Value::BoolValue(rng.below(2) == 0)),
            kv(
                "app.request.size_ratio",
                Value::DoubleValue((rng.below(1000) as f64) / 1000.0),
            ),
        ],
        events: vec![span::Event {
            time_unix_nano: start + duration / 2,
            name: "cache.lookup".into(),
            attributes: vec![kv("cache.key", string("products:category:42"))],
            dropped_attributes_count: 0,
        }],
        status: Some(Status {
            code: if failed {
                status::StatusCode::Error
            } else {
                status::StatusCode::Ok
            } as i32,
            message: if failed {
                "upstream returned 500".into()
            } else {
                String::new()
            },
        }),
        ..Default::default()
    }
}

/// A request of `spans` spans from `resources` services, traces of up to four spans each with
/// parent links, grouped by resource and scope as an SDK would send them.
pub fn traces_request(seed: u64, resources: usize, spans: usize) -> ExportTraceServiceRequest {
    let mut rng = SplitMix64::new(seed);
    let resources = resources.max(1);
    let per_resource = spans.div_ceil(resources);
    let mut resource_spans = Vec::with_capacity(resources);
    let mut remaining = spans;
    for index in 0..resources {
        let count = per_resource.min(remaining);
        remaining -= count;
        let mut spans = Vec::with_capacity(count);
        let mut trace_id = rng.bytes::<16>();
        let mut parent = Vec::new();
        for position in 0..count {
            if position % 4 == 0 {
                trace_id = rng.bytes::<16>();
                parent = Vec::new();
            }
            let span = span(&mut rng, trace_id.clone(), parent.clone());
            parent = span.span_id.clone();
            spans.push(span);
        }
        resource_spans.push(ResourceSpans {
            resource: Some(resource(index)),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "opentelemetry-instrumentation-http".into(),
                    version: "0.50.0".into(),
                    ..Default::default()
                }),
                spans,
                schema_url: "https://opentelemetry.io/schemas/1.37.0".into(),
            }],
            schema_url: String::new(),
        });
    }
    ExportTraceServiceRequest { resource_spans }
}

/// Splits `items` over `resources` groups as evenly as [`traces_request`] does.
fn per_resource(items: usize, resources: usize) -> impl Iterator<Item = (usize, usize)> {
    let per = items.div_ceil(resources);
    let mut remaining = items;
    (0..resources).map(move |index| {
        let count = per.min(remaining);
        remaining -= count;
        (index, count)
    })
}

/// The kinds of metric [`metrics_request`] cycles through, in order.
const METRIC_KINDS: usize = 4;
/// Data points (attribute sets) per metric at most.
const POINTS_PER_METRIC: usize = 8;
/// The semantic conventions' default bucket boundaries for `http.server.request.duration`.
const DURATION_BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE"];

/// The attributes of one HTTP server data point.
fn http_point_attributes(rng: &mut SplitMix64, with_route: bool) -> Vec<KeyValue> {
    let method = METHODS[rng.below(METHODS.len() as u64) as usize];
    let mut attributes = vec![
        kv("http.request.method", string(method)),
        kv("url.scheme", string("https")),
    ];
    if with_route {
        let route = ROUTES[rng.below(ROUTES.len() as u64) as usize];
        let status = if rng.below(50) == 0 { 500 } else { 200 };
        attributes.push(kv("http.route", string(route)));
        attributes.push(kv("http.response.status_code", Value::IntValue(status)));
        attributes.push(kv("network.protocol.version", string("1.1")));
    }
    attributes
}

/// One metric of kind `kind % METRIC_KINDS` with `points` data points.
fn metric(rng: &mut SplitMix64, kind: usize, points: usize, start: u64, time: u64) -> Metric {
    let number = |attributes, value| NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(value),
        ..Default::default()
    };
    let (name, description, unit, data) = match kind % METRIC_KINDS {
        0 => {
            let data_points = (0..points)
                .map(|_| {
                    let attributes = http_point_attributes(rng, true);
                    let bucket_counts: Vec<u64> = (0..=DURATION_BOUNDS.len())
                        .map(|bucket| {
                            if bucket < 9 {
                                rng.below(400)
                            } else {
                                rng.below(5)
                            }
                        })
                        .collect();
                    let count = bucket_counts.iter().sum();
                    HistogramDataPoint {
                        attributes,
                        start_time_unix_nano: start,
                        time_unix_nano: time,
                        count,
                        sum: Some(count as f64 * 0.042),
                        bucket_counts,
                        explicit_bounds: DURATION_BOUNDS.to_vec(),
                        min: Some(0.0004),
                        max: Some(1.5 + rng.below(1000) as f64 / 1000.0),
                        ..Default::default()
                    }
                })
                .collect();
            (
                "http.server.request.duration",
                "Duration of HTTP server requests.",
                "s",
                metric::Data::Histogram(Histogram {
                    data_points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            )
        }
        1 => {
            let data_points = (0..points)
                .map(|_| {
                    let attributes = http_point_attributes(rng, false);
                    let value = number_data_point::Value::AsInt(rng.below(64) as i64);
                    number(attributes, value)
                })
                .collect();
            (
                "http.server.active_requests",
                "Number of active HTTP server requests.",
                "{request}",
                metric::Data::Sum(Sum {
                    data_points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: false,
                }),
            )
        }
        2 => {
            let data_points = (0..points)
                .map(|_| {
                    let attributes = http_point_attributes(rng, true);
                    let value = number_data_point::Value::AsInt(rng.below(10_000_000) as i64);
                    number(attributes, value)
                })
                .collect();
            (
                "app.requests.handled",
                "Requests handled since the process started.",
                "{request}",
                metric::Data::Sum(Sum {
                    data_points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                }),
            )
        }
        _ => {
            const MODES: &[&str] = &["user", "system", "wait", "idle"];
            let data_points = (0..points)
                .map(|index| {
                    let attributes = vec![
                        kv("cpu.mode", string(MODES[index % MODES.len()])),
                        kv(
                            "cpu.logical_number",
                            Value::IntValue((index / MODES.len()) as i64),
                        ),
                    ];
                    let value = number_data_point::Value::AsDouble(rng.below(1000) as f64 / 1000.0);
                    number(attributes, value)
                })
                .collect();
            (
                "process.cpu.utilization",
                "CPU utilization of the process.",
                "1",
                metric::Data::Gauge(Gauge { data_points }),
            )
        }
    };
    Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        metadata: Vec::new(),
        data: Some(data),
    }
}

/// A request of `points` data points from `resources` services, as an SDK's periodic reader
/// sends them: per resource one scope whose metrics cycle through a histogram
/// (`http.server.request.duration`), an up-down sum, a monotonic sum and a gauge, each with up
/// to eight data points (attribute sets).
pub fn metrics_request(seed: u64, resources: usize, points: usize) -> ExportMetricsServiceRequest {
    let mut rng = SplitMix64::new(seed);
    let resources = resources.max(1);
    let start = 1_700_000_000_000_000_000 + rng.below(1_000_000_000_000);
    let time = start + 60_000_000_000 + rng.below(1_000_000_000);
    let resource_metrics = per_resource(points, resources)
        .map(|(index, count)| {
            let mut metrics = Vec::new();
            let mut remaining = count;
            let mut kind = rng.below(METRIC_KINDS as u64) as usize;
            while remaining > 0 {
                let points = remaining.min(POINTS_PER_METRIC);
                metrics.push(metric(&mut rng, kind, points, start, time));
                remaining -= points;
                kind += 1;
            }
            ResourceMetrics {
                resource: Some(resource(index)),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "opentelemetry-instrumentation-http".into(),
                        version: "0.50.0".into(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: "https://opentelemetry.io/schemas/1.37.0".into(),
                }],
                schema_url: String::new(),
            }
        })
        .collect();
    ExportMetricsServiceRequest { resource_metrics }
}

/// One realistic log record: an access-log line of a request, with its trace context.
pub fn log_record(rng: &mut SplitMix64) -> LogRecord {
    let time = 1_700_000_000_000_000_000 + rng.below(1_000_000_000_000);
    let method = METHODS[rng.below(METHODS.len() as u64) as usize];
    let route = ROUTES[rng.below(ROUTES.len() as u64) as usize];
    let (severity, text, status) = match rng.below(50) {
        0 => (SeverityNumber::Error, "ERROR", 500),
        1..=3 => (SeverityNumber::Warn, "WARN", 429),
        _ => (SeverityNumber::Info, "INFO", 200),
    };
    let millis = rng.below(250_000) as f64 / 1000.0;
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time + 1_000_000 + rng.below(5_000_000),
        severity_number: severity as i32,
        severity_text: text.to_owned(),
        body: Some(AnyValue {
            value: Some(string(&format!(
                "{method} {route} completed with status {status} in {millis:.3} ms"
            ))),
        }),
        attributes: vec![
            kv("http.request.method", string(method)),
            kv("http.route", string(route)),
            kv("http.response.status_code", Value::IntValue(status)),
            kv(
                "code.function.name",
                string("shop::handlers::serve_request"),
            ),
            kv("thread.id", Value::IntValue(rng.below(64) as i64)),
        ],
        dropped_attributes_count: 0,
        flags: 1,
        trace_id: rng.bytes::<16>(),
        span_id: rng.bytes::<8>(),
        event_name: String::new(),
    }
}

/// A request of `records` log records from `resources` services, one scope per resource, as
/// an SDK's batch log processor sends them.
pub fn logs_request(seed: u64, resources: usize, records: usize) -> ExportLogsServiceRequest {
    let mut rng = SplitMix64::new(seed);
    let resources = resources.max(1);
    let resource_logs = per_resource(records, resources)
        .map(|(index, count)| ResourceLogs {
            resource: Some(resource(index)),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "shop::handlers".into(),
                    version: "1.42.0".into(),
                    ..Default::default()
                }),
                log_records: (0..count).map(|_| log_record(&mut rng)).collect(),
                schema_url: "https://opentelemetry.io/schemas/1.37.0".into(),
            }],
            schema_url: String::new(),
        })
        .collect();
    ExportLogsServiceRequest { resource_logs }
}

#[cfg(test)]
mod tests {
    use super::{logs_request, metrics_request, traces_request};
    use otlp_proto::metrics::v1::metric::Data;

    #[test]
    fn request_has_the_asked_shape() {
        let request = traces_request(7, 3, 100);
        assert_eq!(request.resource_spans.len(), 3);
        let spans: usize = request
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .map(|ss| ss.spans.len())
            .sum();
        assert_eq!(spans, 100);
        assert_eq!(
            traces_request(7, 3, 100),
            request,
            "deterministic for a seed"
        );
    }

    #[test]
    fn metrics_request_has_the_asked_points() {
        let request = metrics_request(7, 2, 200);
        assert_eq!(request.resource_metrics.len(), 2);
        let metrics: Vec<_> = request
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .collect();
        let points: usize = metrics
            .iter()
            .map(|m| match &m.data {
                Some(Data::Gauge(g)) => g.data_points.len(),
                Some(Data::Sum(s)) => s.data_points.len(),
                Some(Data::Histogram(h)) => h.data_points.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(points, 200);
        for kind in ["Gauge", "Sum", "Histogram"] {
            assert!(
                metrics
                    .iter()
                    .any(|m| format!("{:?}", m.data).starts_with(&format!("Some({kind}("))),
                "has a {kind}"
            );
        }
        assert_eq!(
            metrics_request(7, 2, 200),
            request,
            "deterministic for a seed"
        );
    }

    #[test]
    fn logs_request_has_the_asked_records() {
        let request = logs_request(7, 3, 200);
        assert_eq!(request.resource_logs.len(), 3);
        let records: usize = request
            .resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .map(|sl| sl.log_records.len())
            .sum();
        assert_eq!(records, 200);
        assert_eq!(logs_request(7, 3, 200), request, "deterministic for a seed");
    }
}
