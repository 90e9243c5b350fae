//! Exporter configuration: the OTLP exporter specification's environment variables (read
//! through an injected lookup, never the process environment), endpoint resolution, and the
//! builder's checks.
#![cfg(all(
    feature = "client",
    feature = "grpc",
    feature = "http",
    feature = "json",
    feature = "tls",
    feature = "gzip",
    feature = "zstd",
    feature = "brotli"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_support;

use std::collections::HashMap;
use std::time::Duration;

use otlp_transport::Signal;
use otlp_transport::client::{
    Compression, ConfigError, DEFAULT_TIMEOUT, ExporterConfig, OtlpExporter, Protocol, RetryConfig,
    TlsConfig,
};

fn from_env(signal: Signal, vars: &[(&str, &str)]) -> Result<ExporterConfig, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ExporterConfig::from_env_with(signal, |name| map.get(name).cloned())
}

fn endpoints(config: ExporterConfig) -> Vec<String> {
    let exporter = OtlpExporter::new(config).unwrap();
    Signal::ALL
        .iter()
        .map(|s| exporter.endpoint(*s).to_string())
        .collect()
}

/// The variable a config error names.
fn var_of(error: ConfigError) -> String {
    match error {
        ConfigError::Env { var, .. } => var,
        other => panic!("not an env error: {other:?}"),
    }
}

#[test]
fn nothing_set_means_the_spec_defaults() {
    let config = from_env(Signal::Traces, &[]).unwrap();
    assert_eq!(config.protocol(), Protocol::HttpProtobuf);
    assert_eq!(config.endpoint(), None);
    assert_eq!(config.compression(), Compression::None);
    assert_eq!(config.timeout(), DEFAULT_TIMEOUT);
    assert_eq!(config.timeout(), Duration::from_secs(10));
    assert!(config.headers().is_empty());
    assert!(!config.insecure());
    assert!(!config.tls().has_custom_ca());
    assert_eq!(config.retry(), &RetryConfig::default());
    assert_eq!(
        endpoints(config),
        [
            "http://localhost:4318/v1/traces",
            "http://localhost:4318/v1/metrics",
            "http://localhost:4318/v1/logs",
            "http://localhost:4318/v1development/profiles"
        ]
    );
    let grpc = from_env(Signal::Logs, &[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).unwrap();
    assert_eq!(
        endpoints(grpc)[2],
        "http://localhost:4317/opentelemetry.proto.collector.logs.v1.LogsService/Export"
    );
}

#[test]
fn every_general_variable_is_read() {
    let dir = client_support::temp_dir("client-config");
    let pki = client_support::TestPki::new();
    let ca = dir.join("ca.pem");
    let cert = dir.join("client.pem");
    let key = dir.join("client.key");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    std::fs::write(&cert, &pki.client_cert_pem).unwrap();
    std::fs::write(&key, &pki.client_key_pem).unwrap();
    let config = from_env(
        Signal::Metrics,
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://collector.example:4318/base/",
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=s3cr%3Dt, x-team = obs%20team",
            ),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.to_str().unwrap()),
            (
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                cert.to_str().unwrap(),
            ),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.to_str().unwrap()),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ],
    )
    .unwrap();
    assert_eq!(config.protocol(), Protocol::HttpJson);
    assert_eq!(
        config.endpoint(),
        Some("https://collector.example:4318/base/")
    );
    assert_eq!(config.signal_endpoint(Signal::Metrics), None);
    assert_eq!(
        config.headers(),
        &[
            ("api-key".to_owned(), "s3cr=t".to_owned()),
            ("x-team".to_owned(), "obs team".to_owned())
        ]
    );
    assert_eq!(config.compression(), Compression::Gzip);
    assert_eq!(config.timeout(), Duration::from_millis(2500));
    assert!(config.tls().has_custom_ca());
    assert!(config.tls().has_client_identity());
    assert!(config.insecure());
    assert_eq!(
        endpoints(config)[1],
        "https://collector.example:4318/base/v1/metrics"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn per_signal_variables_take_precedence_one_by_one() {
    let vars = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://traces:9999/custom",
        ),
        ("OTEL_EXPORTER_OTLP_HEADERS", "a=general"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=traces"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2000"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_METRICS_INSECURE", "true"),
    ];
    let traces = from_env(Signal::Traces, &vars).unwrap();
    assert_eq!(
        traces.signal_endpoint(Signal::Traces),
        Some("http://traces:9999/custom")
    );
    assert_eq!(
        traces.endpoint(),
        None,
        "the general endpoint is not read when the signal's is set"
    );
    assert_eq!(
        traces.headers(),
        &[("b".to_owned(), "traces".to_owned())],
        "replaced, not merged"
    );
    assert_eq!(traces.compression(), Compression::Zstd);
    assert_eq!(traces.timeout(), Duration::from_secs(2));
    assert_eq!(traces.protocol(), Protocol::HttpJson);
    assert!(!traces.insecure());
    // The signal endpoint is used as is; other signals of the same exporter use the base.
    let traces = endpoints(traces);
    assert_eq!(traces[0], "http://traces:9999/custom");
    assert_eq!(traces[2], "http://localhost:4318/v1/logs");

    let metrics = from_env(Signal::Metrics, &vars).unwrap();
    assert_eq!(metrics.endpoint(), Some("http://general:4318"));
    assert_eq!(metrics.signal_endpoint(Signal::Metrics), None);
    assert_eq!(metrics.headers(), &[("a".to_owned(), "general".to_owned())]);
    assert_eq!(metrics.compression(), Compression::Gzip);
    assert_eq!(metrics.timeout(), Duration::from_secs(1));
    assert_eq!(metrics.protocol(), Protocol::HttpProtobuf);
    assert!(metrics.insecure());
    assert_eq!(endpoints(metrics)[1], "http://general:4318/v1/metrics");

    // Every signal has its own variables.
    for signal in Signal::ALL {
        let name = format!("OTEL_EXPORTER_OTLP_{}_ENDPOINT", signal.env_name());
        let config = from_env(signal, &[(&name, "http://only:1/here")]).unwrap();
        assert_eq!(
            config.signal_endpoint(signal),
            Some("http://only:1/here"),
            "{signal}"
        );
        let name = format!("OTEL_EXPORTER_OTLP_{}_TIMEOUT", signal.env_name());
        let config = from_env(signal, &[(&name, "7")]).unwrap();
        assert_eq!(config.timeout(), Duration::from_millis(7), "{signal}");
    }
}

#[test]
fn empty_values_are_unset() {
    let config = from_env(
        Signal::Logs,
        &[
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", ""),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "  "),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", ""),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", ""),
            ("OTEL_EXPORTER_OTLP_HEADERS", ""),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", ""),
        ],
    )
    .unwrap();
    assert_eq!(config.signal_endpoint(Signal::Logs), None);
    assert_eq!(config.endpoint(), Some("http://base:4318"));
    assert_eq!(config.protocol(), Protocol::HttpJson);
    assert_eq!(config.timeout(), DEFAULT_TIMEOUT);
    assert_eq!(config.compression(), Compression::None);
    assert!(!config.tls().has_custom_ca());
}

#[test]
fn every_compression_name_is_accepted() {
    for (value, expected) in [
        ("none", Compression::None),
        ("gzip", Compression::Gzip),
        ("GZIP", Compression::Gzip),
        ("deflate", Compression::Deflate),
        ("zstd", Compression::Zstd),
        ("brotli", Compression::Brotli),
        ("br", Compression::Brotli),
    ] {
        let config =
            from_env(Signal::Traces, &[("OTEL_EXPORTER_OTLP_COMPRESSION", value)]).unwrap();
        assert_eq!(config.compression(), expected, "{value}");
    }
}

#[test]
fn insecure_follows_the_boolean_rule_for_scheme_less_grpc_endpoints() {
    for (value, scheme) in [
        ("true", "http"),
        ("TRUE", "http"),
        ("false", "https"),
        ("1", "https"),
        ("yes", "https"),
    ] {
        let config = from_env(
            Signal::Traces,
            &[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
                ("OTEL_EXPORTER_OTLP_INSECURE", value),
            ],
        )
        .unwrap();
        let exporter = OtlpExporter::new(config).unwrap();
        assert_eq!(
            exporter.endpoint(Signal::Traces).scheme_str(),
            Some(scheme),
            "{value}"
        );
    }
    // A scheme wins over INSECURE.
    let config = from_env(
        Signal::Traces,
        &[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ],
    )
    .unwrap();
    assert_eq!(
        OtlpExporter::new(config)
            .unwrap()
            .endpoint(Signal::Traces)
            .scheme_str(),
        Some("https")
    );
}

#[test]
fn invalid_values_name_their_variable() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http")],
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc/json")],
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_COMPRESSION", "lz4")],
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")],
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_TIMEOUT", "-5")],
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0")],
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")],
            "OTEL_EXPORTER_OTLP_HEADERS",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=%zz")],
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_HEADERS", "bad name=1")],
            "OTEL_EXPORTER_OTLP_HEADERS",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318")],
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://c/x")],
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://")],
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        (
            &[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
            ],
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ),
        (
            &[(
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                "/nonexistent/otlp-rs/ca.pem",
            )],
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ),
        (
            &[(
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                "/nonexistent/otlp-rs/c.pem",
            )],
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
        ),
    ];
    for (vars, expected) in cases {
        let error = from_env(Signal::Traces, vars).unwrap_err();
        let message = error.to_string();
        assert_eq!(var_of(error), *expected, "{vars:?}");
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn tls_files_are_checked_and_paired() {
    let dir = client_support::temp_dir("client-config-tls");
    let pki = client_support::TestPki::new();
    let not_pem = dir.join("not.pem");
    let cert = dir.join("client.pem");
    let key = dir.join("client.key");
    std::fs::write(&not_pem, "hello").unwrap();
    std::fs::write(&cert, &pki.client_cert_pem).unwrap();
    std::fs::write(&key, &pki.client_key_pem).unwrap();
    let (not_pem, cert, key) = (
        not_pem.to_str().unwrap(),
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
    );

    let error = from_env(
        Signal::Logs,
        &[("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", not_pem)],
    )
    .unwrap_err();
    assert_eq!(var_of(error), "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE");
    let error = from_env(Signal::Logs, &[("OTEL_EXPORTER_OTLP_CLIENT_KEY", key)]).unwrap_err();
    assert_eq!(var_of(error), "OTEL_EXPORTER_OTLP_CLIENT_KEY");
    let error = from_env(
        Signal::Logs,
        &[("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert)],
    )
    .unwrap_err();
    assert_eq!(var_of(error), "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE");
    // A key that is not the certificate's.
    let other = client_support::TestPki::new();
    let other_key = dir.join("other.key");
    std::fs::write(&other_key, &other.client_key_pem).unwrap();
    let error = from_env(
        Signal::Logs,
        &[
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert),
            (
                "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
                other_key.to_str().unwrap(),
            ),
        ],
    )
    .unwrap_err();
    assert!(var_of(error).contains("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY"));
    let config = from_env(
        Signal::Logs,
        &[
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert),
            ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", key),
        ],
    )
    .unwrap();
    assert!(config.tls().has_client_identity());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn builder_checks_everything_at_build() {
    let build = |builder: otlp_transport::client::ExporterBuilder| builder.build().unwrap_err();
    for name in [
        "content-type",
        "Content-Encoding",
        "te",
        "grpc-timeout",
        "host",
    ] {
        let error = build(OtlpExporter::builder().header(name, "x"));
        assert!(
            matches!(&error, ConfigError::Header { name: n, .. } if n == name),
            "{error:?}"
        );
    }
    assert!(matches!(
        build(OtlpExporter::builder().header("bad name", "x")),
        ConfigError::Header { .. }
    ));
    assert!(matches!(
        build(OtlpExporter::builder().header("x", "line\nbreak")),
        ConfigError::Header { .. }
    ));
    assert_eq!(
        build(OtlpExporter::builder().timeout(Duration::ZERO)),
        ConfigError::ZeroTimeout
    );
    assert!(matches!(
        build(OtlpExporter::builder().retry(RetryConfig::default().with_multiplier(0.9))),
        ConfigError::Retry {
            field: "multiplier",
            ..
        }
    ));
    assert!(matches!(
        build(OtlpExporter::builder().endpoint("collector:4318")),
        ConfigError::Endpoint { .. }
    ));
    assert!(matches!(
        build(OtlpExporter::builder().signal_endpoint(Signal::Profiles, "http://")),
        ConfigError::Endpoint { .. }
    ));
    assert!(matches!(
        build(
            OtlpExporter::builder()
                .endpoint("https://c:4318")
                .tls(TlsConfig::new().with_ca_pem("junk"))
        ),
        ConfigError::Tls { .. }
    ));
    // TLS material is only needed, and so only checked, for https endpoints.
    assert!(
        OtlpExporter::builder()
            .tls(TlsConfig::new().with_ca_pem("junk"))
            .build()
            .is_ok()
    );
    // Retry settings are not checked when retry is off.
    assert!(
        OtlpExporter::builder()
            .retry(RetryConfig::disabled().with_multiplier(0.0))
            .build()
            .is_ok()
    );
}

#[test]
fn env_config_can_be_refined_with_the_builder() {
    let config = from_env(Signal::Traces, &[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).unwrap();
    let exporter = config
        .into_builder()
        .endpoint("http://127.0.0.1:4317")
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    assert_eq!(exporter.protocol(), Protocol::Grpc);
    assert_eq!(
        exporter.endpoint(Signal::Traces).to_string(),
        "http://127.0.0.1:4317/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    );
}
