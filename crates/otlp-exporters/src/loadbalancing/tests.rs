#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use otlp_model::builders::{GaugeBuilder, LogRecordBuilder, LogsBuilder, MetricsBuilder};
use otlp_model::builders::{NumberPointBuilder, SpanBuilder, TracesBuilder};
use otlp_model::resource;
use otlp_pipeline::config::parse_config;
use otlp_pipeline::factory::{ComponentConfig, ExporterFactory, Factory};
use otlp_pipeline::testing::id;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::trace::v1::span::SpanKind;

use super::ring::HashRing;
use super::*;

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

fn config(yaml: &str) -> Result<LoadBalancingConfig, ConfigError> {
    let config: LoadBalancingConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap())?;
    config.validate()?;
    Ok(config)
}

fn error(yaml: &str) -> String {
    config(yaml).unwrap_err().to_string()
}

const STATIC: &str = "resolver: {static: {hostnames: [b:4317, a:4317]}}\n";

#[test]
fn otelcol_defaults() {
    let parsed = config(STATIC).unwrap();
    assert_eq!(
        parsed.resolver().unwrap(),
        ResolverChoice::Static(vec!["a:4317".into(), "b:4317".into()]),
        "sorted, as Go's static resolver"
    );
    assert_eq!(
        parsed.routing_key(Signal::Traces).unwrap(),
        RoutingKey::TraceId
    );
    assert_eq!(
        parsed.routing_key(Signal::Metrics).unwrap(),
        RoutingKey::Service
    );
    assert_eq!(
        parsed.routing_key(Signal::Logs).unwrap(),
        RoutingKey::Service
    );
    assert_eq!(parsed.protocol.otlp.timeout, Duration::from_secs(5));
    assert!(
        parsed.protocol.otlp.sending_queue.enabled,
        "per-backend queue on"
    );
    let backend = parsed.backend_config("a:4317");
    assert_eq!(backend.endpoint, "a:4317");

    let dns = config("resolver: {dns: {hostname: collectors.svc}}").unwrap();
    let ResolverChoice::Dns(dns) = dns.resolver().unwrap() else {
        panic!("dns")
    };
    assert_eq!(
        (dns.port.as_deref(), dns.interval, dns.timeout),
        (None, Duration::from_secs(5), Duration::from_secs(1))
    );
    let dns =
        config("resolver: {dns: {hostname: x, port: 4317, interval: 0s, timeout: 250ms}}").unwrap();
    let ResolverChoice::Dns(dns) = dns.resolver().unwrap() else {
        panic!("dns")
    };
    assert_eq!(
        dns.port.as_deref(),
        Some("4317"),
        "a number is the port's text"
    );
    assert_eq!(
        dns.effective_interval(),
        DEFAULT_DNS_INTERVAL,
        "0 is the default"
    );
    assert_eq!(dns.effective_timeout(), Duration::from_millis(250));
    let quoted = config("resolver: {dns: {hostname: x, port: \"55690\"}}").unwrap();
    assert!(
        matches!(quoted.resolver().unwrap(), ResolverChoice::Dns(d) if d.port.as_deref() == Some("55690"))
    );
    // Go's exporter-level resilience sections are accepted when off.
    config(&format!(
        "{STATIC}timeout: 0s\nretry_on_failure: {{enabled: false}}\nsending_queue: {{enabled: false}}"
    ))
    .unwrap();
    // An endpoint under protocol.otlp is allowed and replaced per backend.
    let with_endpoint = config(&format!(
        "{STATIC}protocol: {{otlp: {{endpoint: ignored:1}}}}"
    ))
    .unwrap();
    assert_eq!(with_endpoint.backend_config("a:4317").endpoint, "a:4317");
}

#[test]
fn configuration_errors_name_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("routing_key: traceID", "resolver", "no resolvers specified"),
        (
            "resolver: {static: {hostnames: [a]}, dns: {hostname: b}}",
            "resolver",
            "only one resolver",
        ),
        (
            "resolver: {k8s: {service: lb.ns}}",
            "resolver::k8s",
            "not supported",
        ),
        (
            "resolver: {aws_cloud_map: {namespace: n, service_name: s}}",
            "resolver::aws_cloud_map",
            "not supported",
        ),
        (
            "resolver: {static: {hostnames: []}}",
            "resolver::static::hostnames",
            "no endpoints",
        ),
        (
            "resolver: {static: {}}",
            "resolver::static::hostnames",
            "no endpoints",
        ),
        (
            "resolver: {dns: {port: 4317}}",
            "resolver::dns::hostname",
            "no hostname",
        ),
        (
            "resolver: {dns: {hostname: x, port: http}}",
            "resolver::dns::port",
            "not a port",
        ),
        (
            "resolver: {static: {hostnames: [a]}}\nrouting_key: span",
            "routing_key",
            "unsupported",
        ),
        (
            "resolver: {static: {hostnames: [a]}}\nrouting_key: attributes",
            "routing_attributes",
            "at least one",
        ),
        (
            "resolver: {static: {hostnames: [a]}}\nprotocol: {otlp: {compression: snappy}}",
            "protocol::otlp::compression",
            "",
        ),
        (
            "resolver: {static: {hostnames: [a]}}\nprotocol: {otlp: {retry_on_failure: {multiplier: 0.5}}}",
            "protocol::otlp::retry_on_failure::multiplier",
            "",
        ),
        (
            "resolver: {static: {hostnames: [a]}}\nprotocol: {otlphttp: {}}",
            "otlphttp",
            "",
        ),
        (
            "resolver: {static: {hostnames: [a]}}\nretry_on_failure: {enabled: true}",
            "retry_on_failure",
            "protocol.otlp.retry_on_failure",
        ),
        (
            "resolver: {static: {hostnames: [a]}}\nsending_queue: {enabled: true}",
            "sending_queue",
            "own queue",
        ),
        (
            "resolver: {static: {hostnames: [a]}}\ntimeout: 5s",
            "timeout",
            "protocol.otlp.timeout",
        ),
        (
            "resolver: {static: {hostnames: [a]}}\nlog_batcher: {}",
            "log_batcher",
            "",
        ),
    ];
    for (yaml, key, words) in cases {
        let text = error(yaml);
        assert!(text.contains(key), "{yaml}: {text}");
        assert!(text.contains(words), "{yaml}: {text}");
    }
}

fn factory_ctx(signals: impl Into<SignalSet>) -> ExporterContext {
    ExporterContext::new(id("loadbalancing/tier"), signals)
        .with_resources(otlp_pipeline::Resources::collector())
}

#[test]
fn a_key_the_pipeline_signal_cannot_use_is_refused_when_built() {
    let factory = factory();
    assert_eq!(factory.aliases(), ["load_balancing"]);
    let yaml = |key: &str| -> serde_yaml_ng::Value {
        serde_yaml_ng::from_str(&format!("{STATIC}routing_key: {key}")).unwrap()
    };
    for (key, signal) in [
        ("traceID", Signal::Metrics),
        ("metric", Signal::Traces),
        ("streamID", Signal::Logs),
        ("resource", Signal::Traces),
    ] {
        let Err(error) = factory.create(factory_ctx(signal), yaml(key)) else {
            panic!("{key} for {signal} accepted")
        };
        let text = error.to_string();
        assert!(
            text.contains("routing_key") && text.contains(key),
            "{key}: {text}"
        );
    }
    for (key, signal) in [
        ("traceID", Signal::Logs),
        ("service", Signal::Traces),
        ("streamID", Signal::Metrics),
    ] {
        assert!(
            factory.create(factory_ctx(signal), yaml(key)).is_ok(),
            "{key} {signal}"
        );
    }
    assert!(!factory.supported_signals().contains(Signal::Profiles));
}

// ---------------------------------------------------------------------------------------------
// Routing keys and splitting
// ---------------------------------------------------------------------------------------------

fn ring() -> HashRing {
    HashRing::new(&["10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"])
}

/// `n` traces of `spans` spans each, interleaved, under two resources.
fn interleaved(n: u8, spans: u8) -> ExportTraceServiceRequest {
    let build = |service: &str, half: u8| {
        TracesBuilder::new()
            .resource(resource!["service.name" => service])
            .scope("lib", "1")
            .spans((0..spans).flat_map(|s| {
                (0..n).filter(move |t| t % 2 == half).map(move |t| {
                    SpanBuilder::new(format!("t{t}-s{s}"))
                        .trace_id([t + 1; 16])
                        .span_id([t + 1, s + 1, 0, 0, 0, 0, 0, 1])
                })
            }))
            .build()
    };
    let mut request = build("a", 0);
    request.resource_spans.extend(build("b", 1).resource_spans);
    request
}

fn spans_by_trace(request: &ExportTraceServiceRequest) -> BTreeMap<Vec<u8>, usize> {
    let mut out = BTreeMap::new();
    for rs in &request.resource_spans {
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                *out.entry(span.trace_id.clone()).or_default() += 1;
            }
        }
    }
    out
}

#[test]
fn trace_id_routing_keeps_every_trace_whole_on_the_ring_s_member() {
    let ring = ring();
    let request = interleaved(12, 3);
    let assignment = assign_traces(&request, &RoutingKey::TraceId, &ring);
    assert_eq!(assignment.targets.len(), 36);
    let split = split_traces(request.clone(), &assignment, 3);
    assert!(split.unroutable.is_none());
    let mut seen = BTreeSet::new();
    for (member, part) in &split.parts {
        for (trace, spans) in spans_by_trace(part) {
            assert_eq!(spans, 3, "all spans of a trace together");
            assert_eq!(ring.member_for(&trace), Some(*member), "the ring's member");
            assert!(seen.insert(trace), "one part per trace");
        }
    }
    assert_eq!(seen.len(), 12);
    assert!(
        split.parts.len() > 1,
        "12 traces over 3 members use more than one"
    );
}

#[test]
fn service_and_attribute_keys_are_go_s_text() {
    let ring = ring();
    let request = interleaved(4, 2);
    let by_service = assign_traces(&request, &RoutingKey::Service, &ring);
    let a = ring.member_for(b"service.name=a|").map(|m| m as u32);
    let b = ring.member_for(b"service.name=b|").map(|m| m as u32);
    assert_eq!(by_service.targets[..4], [a; 4]);
    assert_eq!(by_service.targets[4..], [b; 4]);

    let names = vec![
        "span.kind".to_owned(),
        "service.name".to_owned(),
        "tier".to_owned(),
    ];
    let request = TracesBuilder::new()
        .resource(resource!["service.name" => "cart"])
        .spans([
            SpanBuilder::new("x")
                .kind(SpanKind::Server)
                .attr("tier", "gold"),
            SpanBuilder::new("y").kind(SpanKind::Client),
        ])
        .build();
    let assignment = assign_traces(&request, &RoutingKey::Attributes(names), &ring);
    let expected = |key: &str| ring.member_for(key.as_bytes()).map(|m| m as u32);
    assert_eq!(
        assignment.targets,
        [
            expected("span.kind=Server|service.name=cart|tier=gold|"),
            expected("span.kind=Client|service.name=cart|tier=|"),
        ]
    );
}

fn gauge_request() -> ExportMetricsServiceRequest {
    let mut request = MetricsBuilder::new()
        .resource(resource!["service.name" => "cart", "host" => "h1"])
        .scope("lib", "1")
        .metric(
            GaugeBuilder::new("cpu")
                .point(NumberPointBuilder::double(0.5).attr("core", 0))
                .point(NumberPointBuilder::double(0.7).attr("core", 1)),
        )
        .metric(GaugeBuilder::new("mem").point(NumberPointBuilder::int(1)))
        .build();
    let other = MetricsBuilder::new()
        .resource(resource!["host" => "h2"])
        .metric(GaugeBuilder::new("cpu").point(NumberPointBuilder::double(0.1)))
        .build();
    request.resource_metrics.extend(other.resource_metrics);
    request
}

#[test]
fn metrics_keys_and_the_unroutable_resource() {
    let ring = ring();
    let request = gauge_request();
    let m = |key: &str| ring.member_for(key.as_bytes()).map(|m| m as u32);

    let service = assign_metrics(&request, &RoutingKey::Service, &ring);
    assert_eq!(service.targets, [m("cart"), m("cart"), m("cart"), None]);
    assert_eq!(service.unroutable(), 1, "no service.name");
    let split = split_metrics(request.clone(), &service, 3);
    let rest = split.unroutable.unwrap();
    assert_eq!(rest.resource_metrics.len(), 1);
    assert_eq!(
        rest.resource_metrics[0].scope_metrics[0].metrics[0].name,
        "cpu"
    );

    let metric = assign_metrics(&request, &RoutingKey::Metric, &ring);
    assert_eq!(metric.targets, [m("cpu"), m("cpu"), m("mem"), m("cpu")]);

    let resource = assign_metrics(&request, &RoutingKey::Resource, &ring);
    assert_eq!(
        resource.targets[0],
        m("resource/host=h1|service.name=cart|"),
        "sorted"
    );
    assert_eq!(resource.targets[3], m("resource/host=h2|"));

    let stream = assign_metrics(&request, &RoutingKey::StreamId, &ring);
    assert_eq!(stream.targets.len(), 4);
    let again = assign_metrics(&request, &RoutingKey::StreamId, &ring);
    assert_eq!(stream, again, "stable");

    // Go's level order: names found on the resource first, then the point's.
    let names = vec!["core".to_owned(), "host".to_owned()];
    let attributes = assign_metrics(&request, &RoutingKey::Attributes(names), &ring);
    assert_eq!(
        attributes.targets,
        [
            m("host=h1|core=0|"),
            m("host=h1|core=1|"),
            m("host=h1|core=|"),
            m("host=h2|core=|")
        ]
    );
}

fn logs_request() -> ExportLogsServiceRequest {
    LogsBuilder::new()
        .resource(resource!["service.name" => "cart"])
        .log_records([
            LogRecordBuilder::new()
                .body("a")
                .trace_id([3; 16])
                .severity_text("WARN"),
            LogRecordBuilder::new().body("b"),
            LogRecordBuilder::new()
                .body("c")
                .trace_id([3; 16])
                .attr("user", "u1"),
        ])
        .build()
}

#[test]
fn logs_keys() {
    let ring = ring();
    let request = logs_request();
    let m = |key: &str| ring.member_for(key.as_bytes()).map(|m| m as u32);
    let mut calls = 0;
    let mut random = || {
        calls += 1;
        [0xab; 16]
    };
    let by_trace = assign_logs(&request, &RoutingKey::TraceId, &ring, &mut random);
    let hex3 = "03".repeat(16);
    assert_eq!(by_trace.targets, [m(&hex3), m(&"ab".repeat(16)), m(&hex3)]);
    assert_eq!(calls, 1, "a random key for the record without a trace id");
    let mut never = || -> [u8; 16] { panic!("no random key needed") };
    let by_service = assign_logs(&request, &RoutingKey::Service, &ring, &mut never);
    assert_eq!(by_service.single(), m("cart"));
    let names = vec![
        "log.severity".to_owned(),
        "user".to_owned(),
        "log.body".to_owned(),
    ];
    let by_attributes = assign_logs(&request, &RoutingKey::Attributes(names), &ring, &mut never);
    assert_eq!(
        by_attributes.targets,
        [
            m("log.severity=WARN|user=|log.body=a|"),
            m("log.severity=|user=|log.body=b|"),
            m("log.severity=|user=u1|log.body=c|"),
        ]
    );
    let split = split_logs(request, &by_trace, 3);
    let total: usize = split
        .parts
        .iter()
        .map(|(_, r)| r.resource_logs[0].scope_logs[0].log_records.len())
        .sum();
    assert_eq!(total, 3);
}

// ---------------------------------------------------------------------------------------------
// The exporter, with test backends
// ---------------------------------------------------------------------------------------------

type Hook = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// A backend exporter that records what it gets, and refuses (handing the data back) once it
/// was shut down, as the otlp exporter's closed queue does.
#[derive(Default)]
struct TestBackend {
    got: Mutex<Vec<Telemetry>>,
    started: std::sync::atomic::AtomicBool,
    stopped: std::sync::atomic::AtomicBool,
    hook: Mutex<Option<Hook>>,
}

impl TestBackend {
    fn items(&self) -> usize {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(Telemetry::item_count)
            .sum()
    }
}

#[async_trait]
impl Consumer for TestBackend {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.consume_or_return(data).await.map_err(|r| r.error)
    }

    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        let hook = self.hook.lock().unwrap().take();
        if let Some(hook) = hook {
            hook().await;
        }
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Refused {
                error: ConsumeError::retryable("sending queue: closed"),
                data: Some(data),
            });
        }
        self.got.lock().unwrap().push(data);
        Ok(())
    }
}

#[async_trait]
impl Exporter for TestBackend {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        self.started.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.stopped.store(true, Ordering::SeqCst);
        Ok(())
    }
}

type Backends = Arc<Mutex<BTreeMap<String, Arc<TestBackend>>>>;

fn test_backends() -> (BackendFactory, Backends) {
    let backends: Backends = Arc::default();
    let made = Arc::clone(&backends);
    let factory: BackendFactory = Arc::new(move |ctx: ExporterContext, config| {
        assert!(
            ctx.id.as_str().starts_with("loadbalancing/tier/"),
            "{}",
            ctx.id
        );
        assert_eq!(
            ctx.id.as_str(),
            format!("loadbalancing/tier/{}", config.endpoint)
        );
        let backend = Arc::new(TestBackend::default());
        made.lock()
            .unwrap()
            .insert(config.endpoint.clone(), Arc::clone(&backend));
        let exporter: Arc<dyn Exporter> = backend;
        Ok(exporter)
    });
    (factory, backends)
}

/// A DNS answer the test changes.
#[derive(Default)]
struct Script(Mutex<Vec<IpAddr>>);

impl Script {
    fn set(&self, last_octets: &[u8]) {
        *self.0.lock().unwrap() = last_octets
            .iter()
            .map(|o| IpAddr::V4(Ipv4Addr::new(10, 0, 0, *o)))
            .collect();
    }
}

impl Lookup for Script {
    fn lookup<'a>(&'a self, _host: &'a str) -> LookupFuture<'a> {
        let answer = self.0.lock().unwrap().clone();
        Box::pin(async move { Ok(answer) })
    }
}

fn exporter(
    yaml: &str,
    signals: impl Into<SignalSet>,
    lookup: Arc<dyn Lookup>,
) -> (LoadBalancingExporter, Backends) {
    let (factory, backends) = test_backends();
    let exporter = LoadBalancingExporter::with_parts(
        factory_ctx(signals),
        config(yaml).unwrap(),
        factory,
        lookup,
    )
    .unwrap();
    (exporter, backends)
}

fn metric(exporter: &LoadBalancingExporter, name: &str, labels: &[(&str, &str)]) -> f64 {
    let metrics = Metrics::from_resources(&exporter.shared.resources);
    metrics.value(name, labels).unwrap_or(-1.0)
}

const THREE: &str =
    "resolver: {static: {hostnames: [10.0.0.3:4317, 10.0.0.1:4317, 10.0.0.2:4317]}}";

#[tokio::test]
async fn every_trace_reaches_the_backend_the_ring_names() {
    let (lb, backends) = exporter(THREE, Signal::Traces, Arc::new(SystemLookup));
    lb.start(&Host::empty()).await.unwrap();
    assert_eq!(
        lb.members(),
        ["10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"]
    );
    let request = interleaved(30, 4);
    lb.consume(Telemetry::new(request)).await.unwrap();
    let ring = ring();
    let backends = backends.lock().unwrap().clone();
    assert_eq!(backends.len(), 3);
    let mut total = 0;
    for (endpoint, backend) in &backends {
        assert!(backend.started.load(Ordering::SeqCst));
        for data in backend.got.lock().unwrap().iter() {
            for (trace, spans) in spans_by_trace(data.traces().unwrap()) {
                assert_eq!(ring.endpoint_for(&trace), Some(endpoint.as_str()));
                assert_eq!(spans, 4);
                total += spans;
            }
        }
    }
    assert_eq!(total, 120);
    let lb_id = [("exporter", "loadbalancing/tier")];
    assert_eq!(
        metric(&lb, "otelcol_exporter_sent_spans_total", &lb_id),
        120.0
    );
    assert_eq!(
        metric(
            &lb,
            "otelcol_loadbalancer_num_backends",
            &[("exporter", "loadbalancing/tier"), ("resolver", "static")]
        ),
        3.0
    );
    let outcomes: f64 = ["10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"]
        .iter()
        .map(|e| {
            metric(
                &lb,
                "otelcol_loadbalancer_backend_outcome_total",
                &[
                    ("endpoint", e),
                    ("exporter", "loadbalancing/tier"),
                    ("success", "true"),
                ],
            )
        })
        .sum();
    assert_eq!(outcomes, 3.0, "one consume call per backend");
    lb.shutdown(Instant::now() + Duration::from_secs(1))
        .await
        .unwrap();
    assert!(backends.values().all(|b| b.stopped.load(Ordering::SeqCst)));
}

#[tokio::test]
async fn a_request_for_one_backend_goes_on_whole_with_its_bytes() {
    use prost::Message as _;
    let (lb, backends) = exporter(THREE, Signal::Traces, Arc::new(SystemLookup));
    lb.start(&Host::empty()).await.unwrap();
    let request = TracesBuilder::new()
        .spans((0..5u8).map(|i| SpanBuilder::new(format!("s{i}")).trace_id([9; 16])))
        .build();
    let bytes = bytes::Bytes::from(request.encode_to_vec());
    let data = Telemetry::new(request).with_encoded(bytes.clone());
    lb.consume(data).await.unwrap();
    let target = ring().endpoint_for(&[9; 16]).unwrap().to_owned();
    let backends = backends.lock().unwrap().clone();
    let got = backends[&target].got.lock().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].encoded(),
        Some(&bytes),
        "the received bytes travel on"
    );
    assert_eq!(got[0].item_count(), 5);
}

#[tokio::test]
async fn unroutable_metric_points_are_counted_and_a_request_of_only_them_is_refused() {
    let (lb, backends) = exporter(THREE, Signal::Metrics, Arc::new(SystemLookup));
    lb.start(&Host::empty()).await.unwrap();
    lb.consume(Telemetry::new(gauge_request())).await.unwrap();
    let delivered: usize = backends.lock().unwrap().values().map(|b| b.items()).sum();
    assert_eq!(delivered, 3);
    let lb_id = [("exporter", "loadbalancing/tier")];
    assert_eq!(
        metric(
            &lb,
            "otelcol_exporter_send_failed_metric_points_total",
            &lb_id
        ),
        1.0
    );
    let only = MetricsBuilder::new()
        .metric(GaugeBuilder::new("cpu").point(NumberPointBuilder::double(0.1)))
        .build();
    let error = lb.consume(Telemetry::new(only)).await.unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    assert_eq!(
        metric(
            &lb,
            "otelcol_exporter_send_failed_metric_points_total",
            &lb_id
        ),
        2.0
    );
}

#[tokio::test]
async fn no_backend_yet_is_a_retryable_refusal_that_hands_the_data_back() {
    let script = Arc::new(Script::default());
    let (lb, _backends) = exporter(
        "resolver: {dns: {hostname: collectors, port: 4317}}",
        Signal::Traces,
        script,
    );
    lb.start(&Host::empty()).await.unwrap();
    assert!(lb.members().is_empty());
    let refused = lb
        .consume_or_return(Telemetry::new(interleaved(2, 1)))
        .await
        .unwrap_err();
    assert!(refused.error.is_retryable());
    assert_eq!(refused.data.map(|d| d.item_count()), Some(2));
    lb.shutdown(Instant::now() + Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn dns_changes_rebuild_the_ring_start_new_backends_and_drain_removed_ones() {
    let script = Arc::new(Script::default());
    script.set(&[2, 1]);
    let (lb, backends) = exporter(
        "resolver: {dns: {hostname: collectors, port: 4317, interval: 1h}}",
        Signal::Traces,
        Arc::clone(&script) as Arc<dyn Lookup>,
    );
    lb.start(&Host::empty()).await.unwrap();
    assert_eq!(lb.members(), ["10.0.0.1:4317", "10.0.0.2:4317"]);
    let labels = [("exporter", "loadbalancing/tier"), ("resolver", "dns")];
    assert_eq!(
        metric(&lb, "otelcol_loadbalancer_num_backends", &labels),
        2.0
    );

    // The same answer again: nothing changes.
    let dns = lb.dns.clone().unwrap();
    LoadBalancingExporter::resolve_once(&lb.shared, &dns).await;
    assert_eq!(
        metric(
            &lb,
            "otelcol_loadbalancer_num_backend_updates_total",
            &labels
        ),
        1.0
    );
    let first = Arc::clone(&backends.lock().unwrap()["10.0.0.1:4317"]);

    script.set(&[1, 3, 4]);
    LoadBalancingExporter::resolve_once(&lb.shared, &dns).await;
    assert_eq!(
        lb.members(),
        ["10.0.0.1:4317", "10.0.0.3:4317", "10.0.0.4:4317"]
    );
    assert_eq!(
        metric(
            &lb,
            "otelcol_loadbalancer_num_backend_updates_total",
            &labels
        ),
        2.0
    );
    assert_eq!(
        metric(&lb, "otelcol_loadbalancer_num_backends", &labels),
        3.0
    );
    let all = backends.lock().unwrap().clone();
    assert_eq!(all.len(), 4, "two new exporters made");
    assert!(
        Arc::ptr_eq(&all["10.0.0.1:4317"], &first),
        "a kept backend keeps its exporter"
    );
    assert!(all["10.0.0.3:4317"].started.load(Ordering::SeqCst));
    assert!(all["10.0.0.4:4317"].started.load(Ordering::SeqCst));
    // The removed backend is drained in the background.
    let removed = Arc::clone(&all["10.0.0.2:4317"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !removed.stopped.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
    assert!(removed.stopped.load(Ordering::SeqCst), "drained");
    assert!(!first.stopped.load(Ordering::SeqCst));

    // Traffic follows the new ring.
    lb.consume(Telemetry::new(interleaved(40, 1)))
        .await
        .unwrap();
    assert_eq!(removed.items(), 0);
    let ring = HashRing::new(&["10.0.0.1:4317", "10.0.0.3:4317", "10.0.0.4:4317"]);
    for endpoint in ["10.0.0.1:4317", "10.0.0.3:4317", "10.0.0.4:4317"] {
        for data in all[endpoint].got.lock().unwrap().iter() {
            for trace in spans_by_trace(data.traces().unwrap()).keys() {
                assert_eq!(ring.endpoint_for(trace), Some(endpoint));
            }
        }
    }
    // A failed resolution keeps the backends.
    struct Failing;
    impl Lookup for Failing {
        fn lookup<'a>(&'a self, _host: &'a str) -> LookupFuture<'a> {
            Box::pin(async { Err(std::io::Error::other("SERVFAIL")) })
        }
    }
    let failing = DnsResolver::new(
        "collectors",
        None,
        Duration::from_secs(1),
        Arc::new(Failing),
    );
    LoadBalancingExporter::resolve_once(&lb.shared, &failing).await;
    assert_eq!(lb.members().len(), 3);
    let failed = [
        ("exporter", "loadbalancing/tier"),
        ("resolver", "dns"),
        ("success", "false"),
    ];
    assert_eq!(
        metric(&lb, "otelcol_loadbalancer_num_resolutions_total", &failed),
        1.0
    );
    lb.shutdown(Instant::now() + Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_resolver_task_picks_up_a_change_on_its_interval() {
    let script = Arc::new(Script::default());
    script.set(&[1]);
    let (lb, _backends) = exporter(
        "resolver: {dns: {hostname: collectors, interval: 100ms}}",
        Signal::Traces,
        Arc::clone(&script) as Arc<dyn Lookup>,
    );
    lb.start(&Host::empty()).await.unwrap();
    assert_eq!(
        lb.members(),
        ["10.0.0.1"],
        "no port: the bare address, as Go's ring"
    );
    script.set(&[1, 2]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while lb.members().len() != 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(lb.members(), ["10.0.0.1", "10.0.0.2"]);
    lb.shutdown(Instant::now() + Duration::from_secs(1))
        .await
        .unwrap();
    script.set(&[3]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        lb.members().is_empty(),
        "the task stopped with the exporter"
    );
}

#[tokio::test]
async fn a_part_refused_by_a_backend_removed_meanwhile_is_routed_again() {
    let script = Arc::new(Script::default());
    script.set(&[1, 2, 3]);
    let (lb, backends) = exporter(
        "resolver: {dns: {hostname: collectors, port: 4317, interval: 1h}}",
        Signal::Traces,
        Arc::clone(&script) as Arc<dyn Lookup>,
    );
    lb.start(&Host::empty()).await.unwrap();
    let trace = [9u8; 16];
    let target = ring().endpoint_for(&trace).unwrap().to_owned();
    let victim = Arc::clone(&backends.lock().unwrap()[&target]);
    // While the request is on its way to `target`, `target` leaves the ring and shuts down.
    let keep: Vec<u8> = [1u8, 2, 3]
        .into_iter()
        .filter(|o| format!("10.0.0.{o}:4317") != target)
        .collect();
    let shared = Arc::clone(&lb.shared);
    let dns = lb.dns.clone().unwrap();
    let script_in_hook = Arc::clone(&script);
    let removed = Arc::clone(&victim);
    *victim.hook.lock().unwrap() = Some(Box::new(move || {
        Box::pin(async move {
            script_in_hook.set(&keep);
            LoadBalancingExporter::resolve_once(&shared, &dns).await;
            // Stands for the closing queue: refused from now on.
            removed.stopped.store(true, Ordering::SeqCst);
        })
    }));
    let request = TracesBuilder::new()
        .spans((0..3u8).map(|i| SpanBuilder::new(format!("s{i}")).trace_id(trace)))
        .build();
    lb.consume(Telemetry::new(request)).await.unwrap();
    assert_eq!(victim.items(), 0);
    let now = lb.member_for(&trace).unwrap();
    assert_ne!(now, target);
    assert_eq!(
        backends.lock().unwrap()[&now].items(),
        3,
        "routed again over the new ring"
    );
    lb.shutdown(Instant::now() + Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn consume_or_return_hands_back_only_the_refused_parts() {
    let (lb, backends) = exporter(THREE, Signal::Traces, Arc::new(SystemLookup));
    lb.start(&Host::empty()).await.unwrap();
    let down = "10.0.0.2:4317";
    backends.lock().unwrap()[down]
        .stopped
        .store(true, Ordering::SeqCst);
    let request = interleaved(30, 2);
    let expected_back: usize = spans_by_trace(&request)
        .iter()
        .filter(|(t, _)| ring().endpoint_for(t) == Some(down))
        .map(|(_, n)| *n)
        .sum();
    assert!(expected_back > 0 && expected_back < 60);
    let refused = lb
        .consume_or_return(Telemetry::new(request))
        .await
        .unwrap_err();
    assert!(refused.error.is_retryable());
    let back = refused.data.unwrap();
    assert_eq!(back.item_count(), expected_back);
    for trace in spans_by_trace(back.traces().unwrap()).keys() {
        assert_eq!(ring().endpoint_for(trace), Some(down));
    }
    let delivered: usize = backends.lock().unwrap().values().map(|b| b.items()).sum();
    assert_eq!(delivered, 60 - expected_back);
    let failed = [
        ("endpoint", down),
        ("exporter", "loadbalancing/tier"),
        ("success", "false"),
    ];
    assert_eq!(
        metric(&lb, "otelcol_loadbalancer_backend_outcome_total", &failed),
        1.0
    );
}

#[test]
fn backend_ids_and_drain_budgets() {
    assert_eq!(
        backend_id(&id("loadbalancing/tier"), "10.0.0.1:4317").as_str(),
        "loadbalancing/tier/10.0.0.1:4317"
    );
    assert_eq!(
        backend_id(&id("loadbalancing"), "[::1]:4317").as_str(),
        "loadbalancing/[::1]:4317"
    );
    assert_eq!(
        backend_id(&id("loadbalancing"), "a+b:1").as_str(),
        "loadbalancing/a_b:1",
        "a symbol is replaced"
    );
    let mut otlp = OtlpExporterConfig::default();
    assert_eq!(drain_timeout(&otlp), Duration::from_secs(305));
    otlp.retry_on_failure.enabled = false;
    assert_eq!(drain_timeout(&otlp), Duration::from_secs(6));
}
