#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use otlp_transport::client::{ExportError, OtlpExporter, Protocol, ResponseStatus, RetryConfig};
use otlp_transport::grpc_wire::GrpcCode;

use super::*;
use otlp_pipeline::component::{Extension, Resources};
use otlp_pipeline::config::parse_config;
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::factory::ComponentConfig;
use otlp_pipeline::testing::{Probe, id, traces};

fn parse(yaml: &str) -> Result<OtlpReceiverConfig, otlp_pipeline::ConfigError> {
    let config: OtlpReceiverConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap())?;
    config.validate()?;
    Ok(config)
}

#[test]
fn protocols_written_with_nothing_under_them_take_the_defaults() {
    let config = parse("protocols:\n  grpc:\n  http:\n").unwrap();
    assert_eq!(
        config.protocols.grpc.as_ref().unwrap().endpoint,
        "localhost:4317"
    );
    assert_eq!(
        config.protocols.http.as_ref().unwrap().endpoint,
        "localhost:4318"
    );
    let config = parse("protocols:\n  http:\n    endpoint: 0.0.0.0:4318\n").unwrap();
    assert!(config.protocols.grpc.is_none());
    assert!(
        parse("protocols:\n")
            .unwrap_err()
            .to_string()
            .contains("at least one protocol")
    );
    let config = parse("protocols:\n  grpc:\n    endpoint: ':4317'\n    tls:\n      cert_file: c.pem\n      key_file: k.pem\n      client_ca_file: ca.pem\n      min_version: '1.2'\n").unwrap();
    assert!(
        config
            .protocols
            .grpc
            .unwrap()
            .tls
            .unwrap()
            .client_ca_file
            .is_some()
    );
    let error = parse("protocols:\n  grpc:\n    tls:\n      cert_file: c.pem\n      key_file: k.pem\n      min_version: '1.3'\n").unwrap_err();
    assert!(error.to_string().contains("min_version"), "{error}");
}

#[test]
fn connection_keys_reach_the_transport() {
    let config = parse(
        "protocols:
  grpc:
    max_concurrent_streams: 16
    max_connections_per_address: 10
    keepalive:
      server_parameters:
        max_connection_idle: 30s
        max_connection_age: 10m
        max_connection_age_grace: 15s
        time: 1m
        timeout: 5s
      enforcement_policy:
        min_time: 10s
        permit_without_stream: true
  http:
    read_header_timeout: 3s
    read_timeout: 20s
    write_timeout: 10s
    max_concurrent_requests_per_address: 64
    keepalive:
      enabled: false
      idle_timeout: 0s
",
    )
    .unwrap();
    let mut grpc = ReceiverConfig::default();
    ConnectionSettings::grpc(config.protocols.grpc.as_ref().unwrap()).apply(&mut grpc);
    assert_eq!(grpc.max_concurrent_streams, 16);
    assert_eq!(grpc.max_connections_per_address, Some(10));
    assert_eq!(grpc.idle_timeout, Some(Duration::from_secs(30)));
    assert_eq!(grpc.max_connection_age, Some(Duration::from_secs(600)));
    assert_eq!(grpc.max_connection_age_grace, Some(Duration::from_secs(15)));
    assert_eq!(grpc.keepalive_time, Some(Duration::from_secs(60)));
    assert_eq!(grpc.keepalive_timeout, Duration::from_secs(5));
    assert_eq!(
        grpc.handshake_timeout,
        ReceiverConfig::default().handshake_timeout
    );

    let mut http = ReceiverConfig::default();
    ConnectionSettings::http(config.protocols.http.as_ref().unwrap()).apply(&mut http);
    assert_eq!(http.handshake_timeout, Duration::from_secs(3));
    assert_eq!(http.body_timeout, Duration::from_secs(20));
    assert_eq!(http.idle_timeout, None, "0s: no idle limit, as in Go");
    assert!(!http.http1_keep_alive);
    assert_eq!(http.max_concurrent_requests_per_address, Some(64));

    // Unset keys keep the transport's defaults.
    let config = parse("protocols:\n  grpc:\n  http:\n    idle_timeout: 2m\n").unwrap();
    let mut grpc = ReceiverConfig::default();
    ConnectionSettings::grpc(config.protocols.grpc.as_ref().unwrap()).apply(&mut grpc);
    let defaults = ReceiverConfig::default();
    assert_eq!(grpc.idle_timeout, defaults.idle_timeout);
    assert_eq!(grpc.keepalive_time, defaults.keepalive_time);
    assert_eq!(grpc.max_concurrent_streams, defaults.max_concurrent_streams);
    let mut http = ReceiverConfig::default();
    ConnectionSettings::http(config.protocols.http.as_ref().unwrap()).apply(&mut http);
    assert_eq!(
        http.idle_timeout,
        Some(Duration::from_secs(120)),
        "the older key"
    );

    for (yaml, key) in [
        (
            "protocols:\n  http:\n    read_header_timeout: 0s\n",
            "read_header_timeout",
        ),
        (
            "protocols:\n  grpc:\n    max_concurrent_streams: 0\n",
            "max_concurrent_streams",
        ),
        (
            "protocols:\n  grpc:\n    max_connections_per_address: 0\n",
            "max_connections_per_address",
        ),
        (
            "protocols:\n  http:\n    idle_timeout: 1m\n    keepalive:\n      idle_timeout: 1m\n",
            "idle_timeout",
        ),
        (
            "protocols:\n  grpc:\n    keepalive:\n      server_parameters:\n        max_idle: 1m\n",
            "max_idle",
        ),
    ] {
        let error = parse(yaml).unwrap_err().to_string();
        assert!(error.contains(key), "{key}: {error}");
    }
}

struct Started {
    receiver: OtlpReceiver,
    probe: Arc<Probe>,
    resources: Resources,
}

async fn start(yaml: &str, probe: Arc<Probe>, host: &Host) -> Started {
    let resources = otlp_pipeline::Resources::collector();
    let next = NextConsumers::new().with(Signal::Traces, probe.clone());
    let ctx = ReceiverContext::new(id("otlp"), next).with_resources(resources.clone());
    let receiver = OtlpReceiver::new(ctx, parse(yaml).unwrap());
    receiver.start(host).await.unwrap();
    Started {
        receiver,
        probe,
        resources,
    }
}

fn client(protocol: Protocol, addr: std::net::SocketAddr, token: Option<&str>) -> OtlpExporter {
    let mut builder = OtlpExporter::builder()
        .protocol(protocol)
        .endpoint(format!("http://{addr}"))
        .retry(RetryConfig::disabled());
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.build().unwrap()
}

const BOTH: &str = "protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    include_metadata: true\n  http:\n    endpoint: 127.0.0.1:0\n";

#[tokio::test]
async fn pipeline_answers_map_to_the_sender() {
    let probe = Probe::failing([
        ConsumeError::retryable("queue full").with_retry_after(Duration::from_secs(3)),
        ConsumeError::permanent("bad data"),
        ConsumeError::retryable("queue full"),
        ConsumeError::permanent("bad data"),
    ]);
    let started = start(BOTH, probe, &Host::empty()).await;
    let grpc = client(
        Protocol::Grpc,
        started.receiver.local_addr(Transport::Grpc).unwrap(),
        None,
    );
    let http = client(
        Protocol::HttpProtobuf,
        started.receiver.local_addr(Transport::Http).unwrap(),
        None,
    );

    let error = grpc.export(&traces(2)).await.unwrap_err();
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Grpc(GrpcCode::Unavailable)),
        "{error}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
    let error = grpc.export(&traces(2)).await.unwrap_err();
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Grpc(GrpcCode::InvalidArgument)),
        "{error}"
    );
    assert!(error.to_string().contains("bad data"), "{error}");
    let error = http.export(&traces(1)).await.unwrap_err();
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Http(http::StatusCode::SERVICE_UNAVAILABLE)),
        "{error}"
    );
    let error = http.export(&traces(1)).await.unwrap_err();
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Http(http::StatusCode::BAD_REQUEST)),
        "{error}"
    );
    grpc.export(&traces(5)).await.unwrap();

    let metrics = Metrics::from_resources(&started.resources);
    let value = |name: &str, transport: &str| {
        metrics.value(name, &[("receiver", "otlp"), ("transport", transport)])
    };
    assert_eq!(
        value("otelcol_receiver_accepted_spans_total", "grpc"),
        Some(5.0)
    );
    assert_eq!(
        value("otelcol_receiver_refused_spans_total", "grpc"),
        Some(4.0)
    );
    assert_eq!(
        value("otelcol_receiver_refused_spans_total", "http"),
        Some(2.0)
    );

    // What the pipeline got: the data, its encoding, the client address and (gRPC,
    // include_metadata) the headers.
    let received = started.probe.received.lock().unwrap()[0].clone();
    assert_eq!(received.item_count(), 5);
    assert!(received.encoded().is_some());
    let client_info = received.context().client().unwrap();
    assert!(client_info.addr.is_some_and(|a| a.ip().is_loopback()));
    assert!(client_info.metadata.get("user-agent").is_some());
    started
        .receiver
        .shutdown(Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();
}

#[tokio::test]
async fn bearer_token_authenticator() {
    // Any extension that is a server authenticator will do (bearertokenauth is one, in
    // otlp-extensions; the collector's tests run the two together).
    struct Token(&'static str);
    impl Extension for Token {
        fn as_server_authenticator(&self) -> Option<&dyn otlp_pipeline::ServerAuthenticator> {
            Some(self)
        }
    }
    impl otlp_pipeline::ServerAuthenticator for Token {
        fn bearer_token(&self) -> String {
            self.0.to_owned()
        }
    }
    let auth = Arc::new(Token("s3cret"));
    let (host, _fatal) = Host::new(
        vec![(id("bearertokenauth/in"), auth as Arc<dyn Extension>)],
        Resources::default(),
    );
    let yaml = "protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    auth:\n      authenticator: bearertokenauth/in\n";
    let started = start(yaml, Probe::new(), &host).await;
    let addr = started.receiver.local_addr(Transport::Grpc).unwrap();
    let error = client(Protocol::Grpc, addr, None)
        .export(&traces(1))
        .await
        .unwrap_err();
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Grpc(GrpcCode::Unauthenticated)),
        "{error}"
    );
    let error = client(Protocol::Grpc, addr, Some("wrong"))
        .export(&traces(1))
        .await
        .unwrap_err();
    assert!(matches!(error, ExportError::Rejected { .. }), "{error}");
    client(Protocol::Grpc, addr, Some("s3cret"))
        .export(&traces(1))
        .await
        .unwrap();
    assert_eq!(started.probe.items(), 1);
    started
        .receiver
        .shutdown(Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();

    // A missing extension is a start error naming it.
    let resources = otlp_pipeline::Resources::collector();
    let ctx = ReceiverContext::new(id("otlp"), NextConsumers::new()).with_resources(resources);
    let receiver = OtlpReceiver::new(ctx, parse(yaml).unwrap());
    let error = receiver.start(&Host::empty()).await.unwrap_err();
    assert!(error.to_string().contains("bearertokenauth/in"), "{error}");
}

#[tokio::test]
async fn max_recv_msg_size_is_enforced() {
    let yaml = "protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    max_recv_msg_size_mib: 1\n";
    let started = start(yaml, Probe::new(), &Host::empty()).await;
    let addr = started.receiver.local_addr(Transport::Grpc).unwrap();
    let mut big = traces(1);
    big.resource_spans[0].scope_spans[0].spans[0].name = "x".repeat(2 * 1024 * 1024);
    let error = client(Protocol::Grpc, addr, None)
        .export(&big)
        .await
        .unwrap_err();
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Grpc(GrpcCode::ResourceExhausted)),
        "{error}"
    );
    assert_eq!(started.probe.calls(), 0);
    started
        .receiver
        .shutdown(Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();
}

#[tokio::test]
async fn export_requests_are_self_spans_named_as_otelcol_names_them() {
    let resources = otlp_pipeline::Resources::collector();
    let spans = otlp_pipeline::telemetry::SelfSpans::from_resources(&resources);
    let _reader = spans.subscribe();
    let (host, _fatal) = Host::new(Vec::new(), resources);
    let probe = Probe::failing([ConsumeError::permanent("bad data")]);
    let started = start(BOTH, probe, &host).await;
    let grpc = client(
        Protocol::Grpc,
        started.receiver.local_addr(Transport::Grpc).unwrap(),
        None,
    );
    let http = client(
        Protocol::HttpProtobuf,
        started.receiver.local_addr(Transport::Http).unwrap(),
        None,
    );
    grpc.export(&traces(2)).await.unwrap_err();
    http.export(&traces(3)).await.unwrap();
    let summaries = spans.summaries();
    let names: Vec<&str> = summaries.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "POST /v1/traces",
            "opentelemetry.proto.collector.trace.v1.TraceService/Export"
        ]
    );
    assert_eq!((summaries[0].errors, summaries[1].errors), (0, 1));
    let failed = spans.samples(
        "opentelemetry.proto.collector.trace.v1.TraceService/Export",
        otlp_pipeline::telemetry::SampleSet::Errors,
    );
    assert!(
        failed[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("bad data"))
    );
    assert!(
        failed[0]
            .attributes
            .iter()
            .any(|(k, v)| k == "spans" && v == "2")
    );
    started
        .receiver
        .shutdown(Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();
}
