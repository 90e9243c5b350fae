#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use otlp_pipeline::config::parse_config;
use otlp_pipeline::testing::{id, logs, metrics, traces};

#[test]
fn basic_is_one_line_with_counts() {
    let text = render(&Telemetry::new(traces(2)), Verbosity::Basic);
    assert_eq!(text, "Traces {\"resource spans\": 1, \"spans\": 2}\n");
    let text = render(&Telemetry::new(metrics(3)), Verbosity::Basic);
    assert_eq!(
        text,
        "Metrics {\"resource metrics\": 1, \"metrics\": 1, \"data points\": 3}\n"
    );
    let text = render(&Telemetry::new(logs(4)), Verbosity::Basic);
    assert_eq!(text, "Logs {\"resource logs\": 1, \"log records\": 4}\n");
}

#[test]
fn normal_is_one_line_per_item() {
    let text = render(&Telemetry::new(traces(2)), Verbosity::Normal);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1], "ResourceSpans #0 service.name=checkout");
    assert_eq!(lines[2], "ScopeSpans #0 test@1.0");
    assert_eq!(
        lines[3],
        "span-0 01010101010101010101010101010101 0101010101010101 http.route=/health"
    );
    assert_eq!(lines.len(), 5);
    let text = render(&Telemetry::new(metrics(2)), Verbosity::Normal);
    assert!(text.contains("\nqueue.depth i=1 1\n"), "{text}");
    let text = render(&Telemetry::new(logs(1)), Verbosity::Normal);
    assert!(text.contains("\nline 0 n=0\n"), "{text}");
}

#[test]
fn detailed_dumps_everything() {
    let text = render(&Telemetry::new(traces(1)), Verbosity::Detailed);
    for expected in [
        "ResourceSpans #0\n",
        "Resource attributes:\n     -> service.name: Str(checkout)\n",
        "InstrumentationScope test 1.0\n",
        "Span #0\n",
        "    Trace ID       : 01010101010101010101010101010101\n",
        "    Name           : span-0\n",
        "    Kind           : Unspecified\n",
        "    Start time     : 1970-01-01 00:00:00.000000000 +0000 UTC\n",
        "Attributes:\n     -> http.route: Str(/health)\n",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    let text = render(&Telemetry::new(metrics(1)), Verbosity::Detailed);
    assert!(
        text.contains("     -> DataType: Gauge\n") && text.contains("Value: 0\n"),
        "{text}"
    );
    let text = render(&Telemetry::new(logs(1)), Verbosity::Detailed);
    assert!(
        text.contains("Body: Str(line 0)\n") && text.contains("     -> n: Int(0)\n"),
        "{text}"
    );
}

#[tokio::test]
async fn sampling_and_counting() {
    let config: DebugConfig = parse_config(
        &serde_yaml_ng::from_str("sampling_initial: 2\nsampling_thereafter: 3").unwrap(),
    )
    .unwrap();
    assert_eq!(config.verbosity, Verbosity::Basic);
    let resources = otlp_pipeline::Resources::collector();
    let exporter = DebugExporter::new(
        ExporterContext::new(id("debug"), SignalSet::ALL).with_resources(resources.clone()),
        config,
    );
    let data = Telemetry::new(traces(1));
    let printed: Vec<bool> = (0..8).map(|_| exporter.output(&data).is_some()).collect();
    // Two, then every third: the 5th and the 8th.
    assert_eq!(
        printed,
        [true, true, false, false, true, false, false, true]
    );
    exporter.consume(Telemetry::new(traces(4))).await.unwrap();
    let metrics = Metrics::from_resources(&resources);
    assert_eq!(
        metrics.value(
            "otelcol_exporter_sent_spans_total",
            &[("exporter", "debug")]
        ),
        Some(4.0)
    );
}

#[test]
fn logging_s_loglevel_sets_the_verbosity() {
    use otlp_pipeline::factory::ComponentConfig;
    let config: DebugConfig = serde_yaml_ng::from_str("loglevel: debug").unwrap();
    assert_eq!(config.effective_verbosity(), Verbosity::Detailed);
    let config: DebugConfig =
        serde_yaml_ng::from_str("{loglevel: info, verbosity: basic}").unwrap();
    assert_eq!(config.effective_verbosity(), Verbosity::Normal);
    let config: DebugConfig = serde_yaml_ng::from_str("verbosity: detailed").unwrap();
    assert_eq!(config.effective_verbosity(), Verbosity::Detailed);
    let bad: DebugConfig = serde_yaml_ng::from_str("loglevel: loud").unwrap();
    assert!(bad.validate().unwrap_err().to_string().contains("loglevel"));
    let mut registry = otlp_pipeline::Registry::default();
    registry.register_exporter(super::factory()).unwrap();
    assert!(registry.exporter("logging").is_some());
}
