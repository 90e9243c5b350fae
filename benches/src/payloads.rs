//! Realistic OTLP payloads, built deterministically from a seed so every run measures the same
//! bytes.
//!
//! A span here looks like what an instrumented service sends: a resource with six attributes
//! drawn from a small pool of services, random 16-byte trace ids and 8-byte span ids with parent
//! links, ten span attributes of mixed types including a ~100-byte `db.query.text`, one event
//! and a status.

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
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

#[cfg(test)]
mod tests {
    use super::traces_request;

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
}
