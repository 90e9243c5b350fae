//! `servicegraph` end to end through its factory: YAML configuration, hand-built client and
//! server spans in, the metrics a probe receives (and the self-metrics) out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use otlp_model::builders::{SpanBuilder, SpanKind, TracesBuilder};
use otlp_model::resource;
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::testing::{Probe, connector_ctx};
use otlp_pipeline::{
    Connector, ConnectorFactory, Consumer, Factory, Host, Resources, Signal, Telemetry,
};
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::common::v1::any_value::Value;
use otlp_proto::metrics::v1::{
    HistogramDataPoint, Metric, NumberDataPoint, metric, number_data_point,
};
use otlp_proto::trace::v1::status::StatusCode;
use tokio::time::Instant;

const MS: u64 = 1_000_000;
const TRACE: [u8; 16] = [1; 16];

struct Setup {
    connector: Box<dyn Connector>,
    probe: Arc<Probe>,
    metrics: Arc<Metrics>,
}

fn setup(yaml: &str) -> Setup {
    let probe = Probe::new();
    let metrics = Metrics::new();
    let ctx = connector_ctx(
        "servicegraph",
        Signal::Traces,
        Signal::Metrics,
        vec![("metrics/graph", probe.clone() as Arc<dyn Consumer>)],
        Resources::new().with(metrics.clone()),
    );
    let config: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
    let connector = super::factory().create(ctx, config).unwrap();
    Setup {
        connector,
        probe,
        metrics,
    }
}

impl Setup {
    async fn send(&self, service: &str, span: SpanBuilder) {
        let request = TracesBuilder::new()
            .resource(resource!["service.name" => service])
            .scope("lib", "1.0")
            .span(span)
            .build();
        self.connector
            .consume(Telemetry::new(request))
            .await
            .unwrap();
    }

    async fn flush(&self) {
        self.connector
            .shutdown(Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
    }

    fn last(&self) -> ExportMetricsServiceRequest {
        let received = self.probe.received.lock().unwrap();
        received.last().unwrap().metrics().unwrap().clone()
    }

    fn counter(&self, name: &str) -> Option<f64> {
        self.metrics.value(
            &format!("otelcol_connector_servicegraph_{name}"),
            &[("connector", "servicegraph")],
        )
    }
}

/// A client span `id` lasting `ms`.
fn client(id: u8, ms: u64) -> SpanBuilder {
    SpanBuilder::new("call")
        .kind(SpanKind::Client)
        .trace_id(TRACE)
        .span_id([id; 8])
        .start(1_000 * MS)
        .end(1_000 * MS + ms * MS)
}

/// The server span answering client span `parent`, lasting `ms`.
fn server(parent: u8, ms: u64) -> SpanBuilder {
    SpanBuilder::new("handle")
        .kind(SpanKind::Server)
        .trace_id(TRACE)
        .span_id([parent + 100; 8])
        .parent([parent; 8])
        .start(1_001 * MS)
        .end(1_001 * MS + ms * MS)
}

fn metric<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> Option<&'a Metric> {
    request.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == name)
}

fn sums(metric: &Metric) -> &[NumberDataPoint] {
    match &metric.data {
        Some(metric::Data::Sum(sum)) => {
            assert!(sum.is_monotonic);
            assert_eq!(sum.aggregation_temporality, 2, "cumulative");
            &sum.data_points
        }
        other => panic!("not a sum: {other:?}"),
    }
}

fn histograms(metric: &Metric) -> &[HistogramDataPoint] {
    assert_eq!(metric.unit, "s");
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

fn edge(attributes: &[KeyValue]) -> (String, String, String) {
    (
        text(attributes, "client").unwrap(),
        text(attributes, "server").unwrap(),
        text(attributes, "connection_type").unwrap(),
    )
}

fn names(s: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    s.iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_client_and_a_server_span_in_one_request_make_an_edge() {
    let t = setup("latency_histogram_buckets: [50ms, 100ms, 1s]");
    let request = TracesBuilder::new()
        .resource(resource!["service.name" => "frontend"])
        .scope("lib", "1.0")
        .span(client(1, 100))
        .resource(resource!["service.name" => "cart"])
        .scope("lib", "1.0")
        .span(server(1, 80))
        .span(
            SpanBuilder::new("internal")
                .trace_id(TRACE)
                .span_id([50; 8]),
        )
        .build();
    t.connector.consume(Telemetry::new(request)).await.unwrap();
    t.flush().await;
    let out = t.last();
    assert_eq!(
        out.resource_metrics[0].scope_metrics[0]
            .scope
            .as_ref()
            .unwrap()
            .name,
        "traces_service_graph"
    );
    let total = sums(metric(&out, "traces_service_graph_request_total").unwrap());
    assert_eq!(total.len(), 1);
    assert_eq!(int(&total[0]), 1);
    assert_eq!(
        edge(&total[0].attributes),
        names(&[("frontend", "cart", "")])[0]
    );
    assert_eq!(
        attr(&total[0].attributes, "failed"),
        Some(&Value::BoolValue(false))
    );
    assert!(metric(&out, "traces_service_graph_request_failed_total").is_none());
    let server_side = &histograms(metric(&out, "traces_service_graph_request_server").unwrap())[0];
    assert_eq!(server_side.explicit_bounds, [0.05, 0.1, 1.0]);
    assert_eq!(server_side.bucket_counts, [0, 1, 0, 0]);
    assert!((server_side.sum.unwrap() - 0.08).abs() < 1e-12);
    let client_side = &histograms(metric(&out, "traces_service_graph_request_client").unwrap())[0];
    assert_eq!(
        client_side.bucket_counts,
        [0, 1, 0, 0],
        "0.1 s is in (0.05, 0.1]"
    );
    assert!((client_side.sum.unwrap() - 0.1).abs() < 1e-12);
    assert_eq!(t.counter("total_edges_total"), Some(1.0));
}

#[tokio::test]
async fn halves_pair_across_requests_in_either_order() {
    let t = setup("{}");
    t.send("cart", server(1, 5)).await;
    t.send("frontend", client(2, 5)).await;
    t.send("frontend", client(1, 5)).await;
    t.send("cart", server(2, 5)).await;
    t.flush().await;
    let out = t.last();
    let total = sums(metric(&out, "traces_service_graph_request_total").unwrap());
    assert_eq!(int(&total[0]), 2);
    let h = &histograms(metric(&out, "traces_service_graph_request_server").unwrap())[0];
    assert_eq!(h.explicit_bounds, super::DEFAULT_BUCKETS_S);
    // 5 ms lies in (4 ms, 6 ms]: bucket 2.
    assert_eq!(h.bucket_counts[2], 2);
    assert_eq!(t.counter("total_edges_total"), Some(2.0));
}

#[tokio::test(start_paused = true)]
async fn unpaired_spans_expire_after_the_ttl() {
    let t = setup("{store: {ttl: 2s}, store_expiration_loop: 1s, metrics_flush_interval: 10s}");
    t.connector.start(&Host::empty()).await.unwrap();
    t.send("frontend", client(1, 5)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(t.counter("expired_edges_total"), Some(0.0));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for _ in 0..5 {
        tokio::task::yield_now().await;
    }
    assert_eq!(t.counter("expired_edges_total"), Some(1.0));
    // The server half now arrives too late: it waits alone, and nothing is recorded.
    t.send("cart", server(1, 5)).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    for _ in 0..5 {
        tokio::task::yield_now().await;
    }
    assert_eq!(t.probe.calls(), 0, "no series, no flush");
    assert_eq!(t.counter("expired_edges_total"), Some(2.0));
    t.flush().await;
    assert_eq!(t.probe.calls(), 0);
}

#[tokio::test]
async fn a_full_store_drops_new_edges_and_counts_them() {
    let probe = Probe::new();
    let ctx = connector_ctx(
        "servicegraph",
        Signal::Traces,
        Signal::Metrics,
        vec![("metrics/graph", probe.clone() as Arc<dyn Consumer>)],
        Resources::default(),
    );
    let config: super::ServiceGraphConfig =
        serde_yaml_ng::from_str("store: {max_items: 2}").unwrap();
    let connector = super::ServiceGraphConnector::new(ctx, &config);
    for id in 1..=3 {
        let request = TracesBuilder::new()
            .resource(resource!["service.name" => "frontend"])
            .scope("lib", "1.0")
            .span(client(id, 1))
            .build();
        connector.consume(Telemetry::new(request)).await.unwrap();
    }
    assert_eq!(connector.pending_edges(), 2);
    // The third edge was dropped: its server half opens an edge of its own, not a pair.
    let request = TracesBuilder::new()
        .resource(resource!["service.name" => "cart"])
        .scope("lib", "1.0")
        .span(server(1, 1))
        .span(server(3, 1))
        .build();
    connector.consume(Telemetry::new(request)).await.unwrap();
    assert_eq!(connector.series_count(), 1);
    assert_eq!(
        connector.pending_edges(),
        2,
        "edge 2, and server(3) waiting alone: its client half was dropped"
    );

    let t = setup("store: {max_items: 1}");
    t.send("frontend", client(1, 1)).await;
    t.send("frontend", client(2, 1)).await;
    assert_eq!(t.counter("dropped_spans_total"), Some(1.0));
}

#[tokio::test]
async fn a_failed_side_makes_a_failed_request() {
    let t = setup("{}");
    t.send("frontend", client(1, 1)).await;
    t.send("cart", server(1, 1).status(StatusCode::Error, "boom"))
        .await;
    t.send("frontend", client(2, 1)).await;
    t.send("cart", server(2, 1)).await;
    t.send(
        "frontend",
        client(3, 1).status(StatusCode::Error, "timeout"),
    )
    .await;
    t.send("cart", server(3, 1)).await;
    t.flush().await;
    let out = t.last();
    let total = sums(metric(&out, "traces_service_graph_request_total").unwrap());
    assert_eq!(
        total.len(),
        2,
        "failed and successful requests are separate series"
    );
    let failed = sums(metric(&out, "traces_service_graph_request_failed_total").unwrap());
    assert_eq!(failed.len(), 1);
    assert_eq!(int(&failed[0]), 2);
    assert_eq!(
        attr(&failed[0].attributes, "failed"),
        Some(&Value::BoolValue(true))
    );
    let ok = total
        .iter()
        .find(|p| attr(&p.attributes, "failed") == Some(&Value::BoolValue(false)))
        .unwrap();
    assert_eq!(int(ok), 1);
}

#[tokio::test]
async fn messaging_and_database_requests() {
    let t = setup("{}");
    let producer = SpanBuilder::new("publish")
        .kind(SpanKind::Producer)
        .trace_id(TRACE)
        .span_id([7; 8]);
    let consumer = SpanBuilder::new("process")
        .kind(SpanKind::Consumer)
        .trace_id(TRACE)
        .span_id([8; 8])
        .parent([7; 8]);
    t.send("orders", producer).await;
    t.send("billing", consumer).await;
    t.send("cart", client(9, 3).attr("db.name", "carts")).await;
    t.flush().await;
    let out = t.last();
    let total = sums(metric(&out, "traces_service_graph_request_total").unwrap());
    let mut edges: Vec<_> = total.iter().map(|p| edge(&p.attributes)).collect();
    edges.sort();
    assert_eq!(
        edges,
        names(&[
            ("cart", "carts", "database"),
            ("orders", "billing", "messaging_system")
        ])
    );
    let db = total
        .iter()
        .find(|p| text(&p.attributes, "server").as_deref() == Some("carts"))
        .unwrap();
    assert_eq!(int(db), 1);
    let servers = histograms(metric(&out, "traces_service_graph_request_server").unwrap());
    let db = servers
        .iter()
        .find(|p| text(&p.attributes, "server").as_deref() == Some("carts"))
        .unwrap();
    assert!(
        (db.sum.unwrap() - 0.003).abs() < 1e-12,
        "the client's latency, both sides"
    );
}

#[tokio::test]
async fn dimensions_are_prefixed_by_side() {
    let t = setup("dimensions: [http.method, region]");
    t.send("frontend", client(1, 1).attr("http.method", "GET"))
        .await;
    let request = TracesBuilder::new()
        .resource(resource!["service.name" => "cart", "region" => "eu"])
        .scope("lib", "1.0")
        .span(server(1, 1).attr("http.method", "POST"))
        .build();
    t.connector.consume(Telemetry::new(request)).await.unwrap();
    t.flush().await;
    let out = t.last();
    let point = &sums(metric(&out, "traces_service_graph_request_total").unwrap())[0];
    assert_eq!(
        text(&point.attributes, "client_http.method").as_deref(),
        Some("GET")
    );
    assert_eq!(
        text(&point.attributes, "server_http.method").as_deref(),
        Some("POST")
    );
    assert_eq!(
        text(&point.attributes, "server_region").as_deref(),
        Some("eu")
    );
    assert!(attr(&point.attributes, "client_region").is_none());
}

#[tokio::test(start_paused = true)]
async fn flushes_on_the_interval_or_after_every_request() {
    let t = setup("metrics_flush_interval: 10s");
    t.connector.start(&Host::empty()).await.unwrap();
    t.send("frontend", client(1, 1)).await;
    t.send("cart", server(1, 1)).await;
    assert_eq!(t.probe.calls(), 0);
    tokio::time::sleep(Duration::from_millis(10_001)).await;
    for _ in 0..5 {
        tokio::task::yield_now().await;
    }
    assert_eq!(t.probe.calls(), 1);
    t.send("frontend", client(2, 1)).await;
    t.send("cart", server(2, 1)).await;
    tokio::time::sleep(Duration::from_millis(10_000)).await;
    for _ in 0..5 {
        tokio::task::yield_now().await;
    }
    let out = t.last();
    let total = sums(metric(&out, "traces_service_graph_request_total").unwrap());
    assert_eq!(int(&total[0]), 2, "cumulative");
    t.flush().await;

    let t = setup("metrics_flush_interval: 0s");
    t.send("frontend", client(1, 1)).await;
    assert_eq!(t.probe.calls(), 0, "nothing complete yet");
    t.send("cart", server(1, 1)).await;
    assert_eq!(t.probe.calls(), 1);
}

#[test]
fn configuration_defaults_and_errors() {
    let config = super::ServiceGraphConfig::default();
    assert_eq!(config.store.ttl, Duration::from_secs(2));
    assert_eq!(config.store.max_items, 1000);
    assert_eq!(config.metrics_flush_interval, Duration::from_secs(60));
    assert_eq!(config.database_name_attributes, ["db.name"]);
    let factory = super::factory();
    assert!(factory.supports(Signal::Traces, Signal::Metrics));
    assert!(factory.validate(&serde_yaml_ng::Value::Null).is_ok());
    let cases = [
        ("bogus: 1", "bogus"),
        ("store: {ttl: 0s}", "store::ttl"),
        ("store: {max_items: 0}", "store::max_items"),
        ("store: {size: 3}", "store"),
        (
            "latency_histogram_buckets: [1s, 10ms]",
            "latency_histogram_buckets",
        ),
        ("cache_loop: 0s", "cache_loop"),
    ];
    for (yaml, key) in cases {
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
        let message = factory.validate(&value).unwrap_err().to_string();
        assert!(message.contains(key), "{yaml}: {message}");
    }
}
