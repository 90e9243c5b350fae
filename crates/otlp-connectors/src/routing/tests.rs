//! `routing`, against the otelcol-contrib README's semantics: first matching route wins, on
//! what earlier routes left; the default pipelines take the rest (or it is dropped); whole
//! requests go on untouched; the `request` context reads metadata; configuration errors name
//! the key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use otlp_model::builders::{LogRecordBuilder, LogsBuilder, SpanBuilder, TracesBuilder};
use otlp_pipeline::testing::{Probe, connector_ctx};
use otlp_pipeline::{
    ClientInfo, ConnectorFactory, ConsumeError, Consumer, Context, Factory, Metadata, PipelineId,
    Resources, Signal, Telemetry,
};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use serde_yaml_ng::Value;

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap()
}

/// A routing instance for `signal` feeding `pipelines` (each a probe), built from `config`.
fn build(
    config: &str,
    signal: Signal,
    pipelines: &[&str],
) -> (Box<dyn otlp_pipeline::Connector>, Vec<Arc<Probe>>) {
    let probes: Vec<Arc<Probe>> = pipelines.iter().map(|_| Probe::new()).collect();
    let feeds = pipelines
        .iter()
        .zip(&probes)
        .map(|(p, probe)| (*p, probe.clone() as Arc<dyn Consumer>))
        .collect();
    let ctx = connector_ctx("routing", signal, signal, feeds, Resources::default());
    let connector = super::factory()
        .create(ctx, yaml(config))
        .unwrap_or_else(|e| panic!("{e}"));
    (connector, probes)
}

fn traces_of(services: &[(&str, usize)]) -> ExportTraceServiceRequest {
    let mut request = ExportTraceServiceRequest::default();
    for (service, spans) in services {
        let part = TracesBuilder::new()
            .resource(otlp_model::resource!["service.name" => *service])
            .spans((0..*spans).map(|i| SpanBuilder::new(format!("{service}-{i}"))))
            .build();
        request.resource_spans.extend(part.resource_spans);
    }
    request
}

fn services(probe: &Probe) -> Vec<String> {
    probe
        .received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|t| {
            t.traces()
                .map(|r| {
                    r.resource_spans
                        .iter()
                        .map(|rs| {
                            otlp_ottl::value::as_string(
                                rs.resource
                                    .as_ref()
                                    .and_then(|r| {
                                        r.attributes.iter().find(|kv| kv.key == "service.name")
                                    })
                                    .and_then(|kv| kv.value.as_ref()),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect()
}

const BY_SERVICE: &str = r#"
default_pipelines: [traces/other]
table:
  - condition: attributes["service.name"] == "cart"
    pipelines: [traces/cart]
  - statement: route() where attributes["service.name"] == "checkout"
    pipelines: [traces/checkout, traces/audit]
"#;

#[tokio::test]
async fn resources_go_to_the_first_matching_route_or_the_default() {
    let (routing, probes) = build(
        BY_SERVICE,
        Signal::Traces,
        &[
            "traces/cart",
            "traces/checkout",
            "traces/audit",
            "traces/other",
        ],
    );
    let request = traces_of(&[("cart", 2), ("checkout", 3), ("search", 1), ("cart", 1)]);
    routing.consume(Telemetry::new(request)).await.unwrap();
    assert_eq!(services(&probes[0]), ["cart", "cart"]);
    assert_eq!(probes[0].items(), 3);
    assert_eq!(services(&probes[1]), ["checkout"]);
    assert_eq!(
        services(&probes[2]),
        ["checkout"],
        "a route may name several pipelines"
    );
    assert_eq!(services(&probes[3]), ["search"]);
    for probe in &probes {
        assert_eq!(probe.calls(), 1, "one request per pipeline");
    }
}

#[tokio::test]
async fn a_request_going_whole_to_one_route_is_passed_on_as_it_came() {
    let (routing, probes) = build(
        BY_SERVICE,
        Signal::Traces,
        &[
            "traces/cart",
            "traces/checkout",
            "traces/audit",
            "traces/other",
        ],
    );
    let data = Telemetry::new(traces_of(&[("cart", 2), ("cart", 5)]));
    let address = data.traces().unwrap().resource_spans.as_ptr() as usize;
    routing.consume(data).await.unwrap();
    assert_eq!(probes[0].addresses.lock().unwrap().as_slice(), [address]);
    assert_eq!(probes[0].items(), 7);
    assert_eq!(probes[3].calls(), 0);
}

#[tokio::test]
async fn without_default_pipelines_unmatched_data_is_dropped() {
    let (routing, probes) = build(
        r#"table: [{condition: 'attributes["service.name"] == "cart"', pipelines: [traces/cart]}]"#,
        Signal::Traces,
        &["traces/cart"],
    );
    routing
        .consume(Telemetry::new(traces_of(&[("search", 4)])))
        .await
        .expect("dropping is not an error");
    assert_eq!(probes[0].calls(), 0);
}

fn logs(records: &[(&str, i32)]) -> ExportLogsServiceRequest {
    let mut request = ExportLogsServiceRequest::default();
    for (service, severity) in records {
        let mut record = LogRecordBuilder::new()
            .body(format!("{service}:{severity}"))
            .build();
        record.severity_number = *severity;
        let part = LogsBuilder::new()
            .resource(otlp_model::resource!["service.name" => *service])
            .log_record(record)
            .build();
        request.resource_logs.extend(part.resource_logs);
    }
    request
}

fn bodies(probe: &Probe) -> Vec<String> {
    let mut out = Vec::new();
    for t in probe.received.lock().unwrap().iter() {
        for rl in &t.logs().unwrap().resource_logs {
            for sl in &rl.scope_logs {
                for r in &sl.log_records {
                    out.push(otlp_ottl::value::as_string(r.body.as_ref()));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn later_routes_see_only_what_earlier_routes_left() {
    // The contrib README's "low level logs to cheap storage, the rest by service".
    let (routing, probes) = build(
        r#"
table:
  - context: log
    condition: severity_number < SEVERITY_NUMBER_ERROR
    pipelines: [logs/cheap]
  - context: resource
    condition: attributes["service.name"] == "service1"
    pipelines: [logs/service1]
  - context: resource
    condition: attributes["service.name"] == "service2"
    pipelines: [logs/service2]
"#,
        Signal::Logs,
        &["logs/cheap", "logs/service1", "logs/service2"],
    );
    let request = logs(&[
        ("service1", 9),
        ("service1", 17),
        ("service2", 21),
        ("service2", 5),
        ("service3", 17),
    ]);
    routing.consume(Telemetry::new(request)).await.unwrap();
    assert_eq!(bodies(&probes[0]), ["service1:9", "service2:5"]);
    assert_eq!(bodies(&probes[1]), ["service1:17"]);
    assert_eq!(bodies(&probes[2]), ["service2:21"]);
    // service3's error record matched nothing and there is no default: dropped.
}

#[tokio::test]
async fn the_request_context_reads_the_metadata() {
    let (routing, probes) = build(
        r#"
default_pipelines: [logs/other]
table:
  - context: request
    condition: request["X-Tenant"] == "acme"
    pipelines: [logs/acme]
  - context: request
    condition: request["X-Tenant"] != "ecorp"
    pipelines: [logs/not-ecorp]
"#,
        Signal::Logs,
        &["logs/acme", "logs/not-ecorp", "logs/other"],
    );
    let with_tenant = |tenant: Option<&str>| {
        let mut metadata = Metadata::new();
        if let Some(t) = tenant {
            metadata.append("x-tenant", t);
        }
        let context = Context::with_client(ClientInfo::new(None).with_metadata(metadata));
        Telemetry::new(logs(&[("a", 9)])).with_context(context)
    };
    routing.consume(with_tenant(Some("acme"))).await.unwrap();
    routing.consume(with_tenant(Some("ecorp"))).await.unwrap();
    routing.consume(with_tenant(None)).await.unwrap();
    assert_eq!(probes[0].calls(), 1);
    assert_eq!(probes[1].calls(), 1, "absent is not ecorp");
    assert_eq!(probes[2].calls(), 1, "ecorp falls through to the default");
}

#[tokio::test]
async fn data_points_are_split_out_of_their_metric() {
    use otlp_model::builders::{GaugeBuilder, MetricsBuilder, NumberPointBuilder};
    let (routing, probes) = build(
        r#"
default_pipelines: [metrics/rest]
table:
  - context: datapoint
    condition: attributes["env"] == "prod"
    pipelines: [metrics/prod]
"#,
        Signal::Metrics,
        &["metrics/prod", "metrics/rest"],
    );
    let request: ExportMetricsServiceRequest = MetricsBuilder::new()
        .metric(
            GaugeBuilder::new("queue.depth")
                .point(NumberPointBuilder::int(1).attr("env", "prod"))
                .point(NumberPointBuilder::int(2).attr("env", "dev"))
                .point(NumberPointBuilder::int(3).attr("env", "prod")),
        )
        .build();
    routing.consume(Telemetry::new(request)).await.unwrap();
    let points = |probe: &Probe| -> Vec<i64> {
        let mut out = Vec::new();
        for t in probe.received.lock().unwrap().iter() {
            for rm in &t.metrics().unwrap().resource_metrics {
                for sm in &rm.scope_metrics {
                    for m in &sm.metrics {
                        assert_eq!(m.name, "queue.depth", "the metric travels with its points");
                        if let Some(otlp_proto::metrics::v1::metric::Data::Gauge(g)) = &m.data {
                            for p in &g.data_points {
                                if let Some(
                                    otlp_proto::metrics::v1::number_data_point::Value::AsInt(v),
                                ) = p.value
                                {
                                    out.push(v);
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    };
    assert_eq!(points(&probes[0]), [1, 3]);
    assert_eq!(points(&probes[1]), [2]);
}

#[tokio::test]
async fn what_the_pipelines_answer_comes_back_merged() {
    let ok = Probe::new();
    let busy = Probe::failing([ConsumeError::retryable("queue full")]);
    let ctx = connector_ctx(
        "routing",
        Signal::Traces,
        Signal::Traces,
        vec![
            ("traces/cart", ok.clone() as Arc<dyn Consumer>),
            ("traces/other", busy.clone() as Arc<dyn Consumer>),
        ],
        Resources::default(),
    );
    let routing = super::factory()
        .create(
            ctx,
            yaml(r#"{default_pipelines: [traces/other], table: [{condition: 'attributes["service.name"] == "cart"', pipelines: [traces/cart]}]}"#),
        )
        .unwrap();
    let error = routing
        .consume(Telemetry::new(traces_of(&[("cart", 1), ("search", 1)])))
        .await
        .expect_err("one pipeline refused retryably");
    assert!(error.is_retryable(), "{error}");
    assert_eq!(ok.items(), 1);
}

fn refusal(config: &str, to: Signal, feeds: &[&str]) -> String {
    let factory = super::factory();
    let value = yaml(config);
    if let Err(e) = factory.validate(&value) {
        return e.to_string();
    }
    let feeds: Vec<PipelineId> = feeds.iter().map(|p| p.parse().unwrap()).collect();
    match factory.validate_for_pipelines(&value, to, to, &feeds) {
        Err(e) => e.to_string(),
        Ok(()) => String::new(),
    }
}

#[test]
fn configuration_errors_name_the_key() {
    let cases: &[(&str, &str)] = &[
        ("{}", "the routing table is empty"),
        (
            "table: [{pipelines: [traces/a]}]",
            "a route needs a condition",
        ),
        (
            r#"table: [{condition: "true", statement: "route() where true", pipelines: [traces/a]}]"#,
            "either a statement or a condition",
        ),
        (
            r#"table: [{condition: "true", pipelines: []}]"#,
            "at least one pipeline",
        ),
        (
            r#"table: [{context: scope, condition: "true", pipelines: [traces/a]}]"#,
            "unknown context \"scope\"",
        ),
        (
            r#"table: [{context: request, statement: 'route() where request["a"] == "b"', pipelines: [traces/a]}]"#,
            "takes a condition, not a statement",
        ),
        (
            r#"table: [{context: request, condition: 'request["a"] == b', pipelines: [traces/a]}]"#,
            "request[\\\"key\\\"] == \\\"value\\\"",
        ),
        (
            r#"table: [{statement: "set(x, 1)", pipelines: [traces/a]}]"#,
            "expected `route() where",
        ),
        (
            r#"table: [{condition: "attributes[ == 1", pipelines: [traces/a]}]"#,
            "position",
        ),
        (
            r#"{table: [{condition: "true", pipelines: [traces/a]}], colour: red}"#,
            "colour",
        ),
        (
            r#"table: [{condition: "true", pipelines: [traces/elsewhere]}]"#,
            "pipeline \"traces/elsewhere\" does not receive traces from this connector",
        ),
        (
            r#"{default_pipelines: [traces/x], table: [{condition: "true", pipelines: [traces/a]}]}"#,
            "pipeline \"traces/x\"",
        ),
        (
            r#"table: [{context: log, condition: "true", pipelines: [traces/a]}]"#,
            "context \"log\" cannot route traces",
        ),
    ];
    for (config, expected) in cases {
        let found = refusal(config, Signal::Traces, &["traces/a"]);
        let expected = expected.replace("\\\"", "\"");
        assert!(
            found.contains(&expected),
            "{config}: expected \"{expected}\" in \"{found}\""
        );
    }
    assert_eq!(
        refusal(
            r#"table: [{condition: "true", pipelines: [traces/a]}]"#,
            Signal::Traces,
            &["traces/a"]
        ),
        ""
    );
    let paths = super::config::RoutingConfig::default();
    assert_eq!(
        paths.error_mode,
        otlp_ottl::ErrorMode::Propagate,
        "the default error_mode"
    );
}
