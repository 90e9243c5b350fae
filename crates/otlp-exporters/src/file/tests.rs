#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;

use super::*;
use otlp_pipeline::config::parse_config;
use otlp_pipeline::testing::{id, logs, traces};

fn exporter(yaml: &str) -> (FileExporter, Arc<Metrics>) {
    let config: FileExporterConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap()).unwrap();
    config.validate().unwrap();
    let resources = otlp_pipeline::Resources::collector();
    let metrics = Metrics::from_resources(&resources);
    let ctx = ExporterContext::new(id("file"), SignalSet::ALL).with_resources(resources);
    (FileExporter::new(ctx, config).unwrap(), metrics)
}

#[tokio::test]
async fn json_lines_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/out.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "left over from an earlier run\n").unwrap();
    let (exporter, metrics) = exporter(&format!("path: {}", path.display()));
    exporter.start(&Host::empty()).await.unwrap();
    exporter.consume(Telemetry::new(traces(2))).await.unwrap();
    exporter.consume(Telemetry::new(logs(3))).await.unwrap();
    exporter.shutdown(Instant::now()).await.unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "truncated at start, one line per request: {text}"
    );
    let spans: ExportTraceServiceRequest = otlp_proto::json::from_str(lines[0]).unwrap();
    assert_eq!(spans, traces(2));
    let records: ExportLogsServiceRequest = otlp_proto::json::from_str(lines[1]).unwrap();
    assert_eq!(records, logs(3));
    assert_eq!(
        metrics.value(
            "otelcol_exporter_sent_log_records_total",
            &[("exporter", "file")]
        ),
        Some(3.0)
    );
}

#[tokio::test]
async fn proto_is_length_prefixed_and_append_keeps_old_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.binpb");
    std::fs::write(&path, [0u8, 0, 0, 0]).unwrap();
    let (exporter, _) = exporter(&format!(
        "path: {}\nformat: proto\nappend: true",
        path.display()
    ));
    exporter.start(&Host::empty()).await.unwrap();
    exporter.consume(Telemetry::new(traces(1))).await.unwrap();
    exporter.flush().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 0, 0], "appended");
    let len = u32::from_be_bytes(bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(
        ExportTraceServiceRequest::decode(&bytes[8..8 + len]).unwrap(),
        traces(1)
    );
    exporter.shutdown(Instant::now()).await.unwrap();
}

#[tokio::test]
async fn rotates_by_size_and_keeps_max_backups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.json");
    let (exporter, _) = exporter(&format!(
        "path: {}\nrotation:\n  max_megabytes: 1\n  max_backups: 2",
        path.display()
    ));
    exporter.start(&Host::empty()).await.unwrap();
    // About 200 KiB per request: rotation every five requests.
    let mut big = traces(1);
    big.resource_spans[0].scope_spans[0].spans[0].name = "x".repeat(200 * 1024);
    for _ in 0..20 {
        exporter.consume(Telemetry::new(big.clone())).await.unwrap();
    }
    exporter.shutdown(Instant::now()).await.unwrap();
    let backups = rotation::backups(&path).unwrap();
    assert_eq!(backups.len(), 2, "older backups deleted: {backups:?}");
    for (_, backup) in &backups {
        let size = std::fs::metadata(backup).unwrap().len();
        assert!(size <= 1024 * 1024 && size > 512 * 1024, "{size}");
    }
    assert!(std::fs::metadata(&path).unwrap().len() <= 1024 * 1024);
}

#[tokio::test]
async fn writes_before_start_are_retryable_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (exporter, metrics) = exporter(&format!("path: {}", dir.path().join("x.json").display()));
    let error = exporter
        .consume(Telemetry::new(traces(2)))
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    assert_eq!(
        metrics.value(
            "otelcol_exporter_send_failed_spans_total",
            &[("exporter", "file")]
        ),
        Some(2.0)
    );
}
