#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_transport::{Compression, CompressionLevel};

use super::*;
use otlp_pipeline::config::parse_config;
use otlp_pipeline::factory::ComponentConfig;
use otlp_pipeline::testing::{id, traces};

fn grpc(yaml: &str) -> Result<OtlpExporterConfig, ConfigError> {
    let config: OtlpExporterConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap())?;
    config.validate()?;
    Ok(config)
}

fn http(yaml: &str) -> Result<OtlpHttpExporterConfig, ConfigError> {
    let config: OtlpHttpExporterConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap())?;
    config.validate()?;
    Ok(config)
}

fn ctx() -> ExporterContext {
    ExporterContext::new(id("otlp"), SignalSet::TRACES_METRICS_LOGS)
        .with_resources(otlp_pipeline::Resources::collector())
}

#[test]
fn otelcol_defaults_and_compression() {
    let config = grpc("endpoint: backend:4317").unwrap();
    assert_eq!(config.timeout, Duration::from_secs(5));
    assert_eq!(config.compression, "gzip");
    assert!(config.sending_queue.enabled);
    assert_eq!(
        (
            config.sending_queue.num_consumers,
            config.sending_queue.queue_size
        ),
        (10, 1000)
    );
    assert_eq!(config.retry_on_failure, RetryOnFailureConfig::default());
    assert_eq!(compression("gzip", true).unwrap(), Compression::Gzip);
    assert_eq!(compression("none", true).unwrap(), Compression::None);
    assert_eq!(compression("", false).unwrap(), Compression::None);
    assert_eq!(compression("zstd", true).unwrap(), Compression::Zstd);
    assert_eq!(compression("deflate", false).unwrap(), Compression::Deflate);
    assert!(compression("deflate", true).is_err());
    assert!(
        compression("snappy", false)
            .unwrap_err()
            .to_string()
            .contains("not supported")
    );
    let config =
        http("endpoint: https://b:4318\ntls:\nsending_queue:\nretry_on_failure:\nheaders:\n")
            .unwrap();
    assert_eq!(config.timeout, Duration::from_secs(30));
    assert!(
        config.sending_queue.enabled,
        "an empty section keeps the defaults"
    );
}

#[test]
fn compression_params_level_reaches_the_transport() {
    let config = http("endpoint: https://b:4318\ncompression_params:\n  level: 6").unwrap();
    assert_eq!(config.compression_params.level, Some(6));
    let exporter = OtlpExporterComponent::http(ctx(), config).unwrap();
    assert_eq!(
        (
            exporter.client().compression(),
            exporter.client().compression_level()
        ),
        (Compression::Gzip, CompressionLevel::new(6))
    );
    let config =
        grpc("endpoint: b:4317\ncompression: zstd\ncompression_params:\n  level: 19").unwrap();
    let exporter = OtlpExporterComponent::grpc(ctx(), config).unwrap();
    assert_eq!(
        (
            exporter.client().compression(),
            exporter.client().compression_level()
        ),
        (Compression::Zstd, CompressionLevel::new(19))
    );
    for params in ["", "compression_params:", "compression_params:\n  level: 0"] {
        let config = grpc(&format!("endpoint: b:4317\n{params}")).unwrap();
        let exporter = OtlpExporterComponent::grpc(ctx(), config).unwrap();
        assert_eq!(
            exporter.client().compression_level(),
            CompressionLevel::DEFAULT,
            "{params:?}: otelcol's default"
        );
    }
    for level in [-2, -1, 1, 9] {
        let yaml = format!(
            "endpoint: https://b:4318\ncompression: deflate\ncompression_params:\n  level: {level}"
        );
        assert_eq!(http(&yaml).unwrap().compression_params.level, Some(level));
    }
}

#[test]
fn a_bad_compression_level_names_the_key() {
    let names_the_key = |result: Result<(), ConfigError>, yaml: &str| {
        let error = result.unwrap_err().to_string();
        assert!(
            error.contains("compression_params::level"),
            "{yaml}: {error}"
        );
        error
    };
    for params in [
        "level: 10",
        "level: -3",
        "level: fast",
        "level: 1.5",
        "level: 99999999999",
        "level: [1]",
    ] {
        let yaml = format!("endpoint: b:4317\ncompression_params:\n  {params}");
        names_the_key(grpc(&yaml).map(drop), &yaml);
        let yaml =
            format!("endpoint: https://b:4318\ncompression: zlib\ncompression_params:\n  {params}");
        names_the_key(http(&yaml).map(drop), &yaml);
    }
    let yaml = "endpoint: b:4317\ncompression: none\ncompression_params:\n  level: 1";
    let error = names_the_key(grpc(yaml).map(drop), yaml);
    assert!(error.contains("none"), "{error}");
    let error = http("endpoint: https://b:4318\ncompression_params:\n  lvl: 1")
        .unwrap_err()
        .to_string();
    assert!(error.contains("lvl"), "{error}");
}

#[test]
fn endpoints_reach_the_transport() {
    let exporter = OtlpExporterComponent::grpc(
        ctx(),
        grpc("endpoint: backend:4317\ntls:\n  insecure: true").unwrap(),
    )
    .unwrap();
    assert_eq!(
        exporter.client().endpoint(Signal::Traces).to_string(),
        "http://backend:4317/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    );
    let exporter =
        OtlpExporterComponent::grpc(ctx(), grpc("endpoint: backend:4317").unwrap()).unwrap();
    assert_eq!(
        exporter.client().endpoint(Signal::Logs).scheme_str(),
        Some("https"),
        "TLS unless insecure"
    );
    let config = http(
        "endpoint: https://b:4318/otlp\nlogs_endpoint: https://logs:443/custom\nencoding: json",
    )
    .unwrap();
    let exporter = OtlpExporterComponent::http(ctx(), config).unwrap();
    assert_eq!(exporter.client().protocol(), Protocol::HttpJson);
    assert_eq!(
        exporter.client().endpoint(Signal::Traces).to_string(),
        "https://b:4318/otlp/v1/traces"
    );
    assert_eq!(
        exporter.client().endpoint(Signal::Logs).to_string(),
        "https://logs:443/custom"
    );
    let error = OtlpExporterComponent::grpc(
        ctx(),
        grpc("endpoint: backend:4317\nheaders:\n  content-type: x").unwrap(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("content-type"), "{error}");
    let error = grpc("endpoint: b:4317\ntls:\n  ca_file: /nonexistent/ca.pem")
        .map(|c| OtlpExporterComponent::grpc(ctx(), c));
    assert!(
        matches!(error, Ok(Err(_))),
        "an unreadable CA file is a configuration error"
    );
}

#[test]
fn queue_size_maps_to_item_and_byte_capacities() {
    let settings = |yaml: &str| {
        let config = grpc(&format!("endpoint: b:4317\n{yaml}")).unwrap();
        queue_settings(&Settings::grpc(config).unwrap()).unwrap()
    };
    let q = settings("").unwrap();
    assert_eq!(
        q.config.queue.capacity_items,
        1000 * ITEMS_PER_REQUEST as usize
    );
    assert_eq!(q.config.queue.num_consumers, 10);
    assert_eq!(
        q.config.batch.send_batch_size, 1,
        "no batching in the exporter queue"
    );
    assert_eq!(q.config.retry.initial_interval, Duration::from_secs(5));
    let q = settings("sending_queue:\n  sizer: items\n  queue_size: 500").unwrap();
    assert_eq!(q.config.queue.capacity_items, 500);
    let q = settings("sending_queue:\n  sizer: bytes\n  queue_size: 1048576").unwrap();
    assert_eq!(q.config.queue.capacity_bytes, 1_048_576);
    let q = settings(
        "sending_queue:\n  blocking: true\n  wait_for_result: true\n  storage: file_storage/q",
    )
    .unwrap();
    assert!(q.enqueue.blocking && q.enqueue.wait_for_result);
    assert_eq!(q.storage, Some(id("file_storage/q")));
    assert!(settings("sending_queue:\n  enabled: false").is_none());
    assert!(grpc("endpoint: b:4317\nsending_queue:\n  sizer: pages").is_err());
}

#[tokio::test]
async fn without_a_queue_the_sender_gets_the_outcome() {
    // Nothing listens on port 9 of localhost: the connection is refused, a retryable failure.
    let config = grpc("endpoint: 127.0.0.1:9\ntls:\n  insecure: true\nsending_queue:\n  enabled: false\nretry_on_failure:\n  enabled: false").unwrap();
    let context = ctx();
    let metrics = Metrics::from_resources(&context.resources);
    let exporter = OtlpExporterComponent::grpc(context, config).unwrap();
    exporter.start(&Host::empty()).await.unwrap();
    let error = exporter
        .consume(Telemetry::new(traces(3)))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(
        metrics.value(
            "otelcol_exporter_send_failed_spans_total",
            &[("exporter", "otlp")]
        ),
        Some(3.0)
    );
    exporter.shutdown(Instant::now()).await.unwrap();
}

#[tokio::test]
async fn with_a_queue_consume_before_start_is_refused_retryably() {
    let exporter = OtlpExporterComponent::grpc(
        ctx(),
        grpc("endpoint: 127.0.0.1:9\ntls:\n  insecure: true").unwrap(),
    )
    .unwrap();
    let error = exporter
        .consume(Telemetry::new(traces(1)))
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    // A missing storage extension is a start error.
    let config = grpc("endpoint: 127.0.0.1:9\ntls:\n  insecure: true\nsending_queue:\n  storage: file_storage/missing").unwrap();
    let exporter = OtlpExporterComponent::grpc(ctx(), config).unwrap();
    let error = exporter.start(&Host::empty()).await.unwrap_err();
    assert!(
        error.to_string().contains("file_storage/missing"),
        "{error}"
    );
}

#[tokio::test]
async fn refused_requests_are_handed_back_uncopied() {
    let address = |data: &Telemetry| data.traces().unwrap().resource_spans.as_ptr() as usize;
    // A queue of four items, its destination unreachable: the first request fills it.
    let config = grpc("endpoint: 127.0.0.1:9\ntls:\n  insecure: true\nsending_queue:\n  sizer: items\n  queue_size: 4").unwrap();
    let exporter = OtlpExporterComponent::grpc(ctx(), config).unwrap();
    exporter.start(&Host::empty()).await.unwrap();
    exporter
        .consume_or_return(Telemetry::new(traces(4)))
        .await
        .unwrap();
    let request = Telemetry::new(traces(2));
    let at = address(&request);
    let refused = exporter.consume_or_return(request).await.unwrap_err();
    assert!(refused.error.is_retryable(), "{}", refused.error);
    let back = refused.data.expect("the queue hands the request back");
    assert_eq!(back.item_count(), 2);
    assert_eq!(address(&back), at, "moved out and back, not copied");
    exporter.shutdown(Instant::now()).await.ok();

    // Without a queue the caller's data was only lent to the transport.
    let config = grpc("endpoint: 127.0.0.1:9\ntls:\n  insecure: true\nsending_queue:\n  enabled: false\nretry_on_failure:\n  enabled: false").unwrap();
    let exporter = OtlpExporterComponent::grpc(ctx(), config).unwrap();
    exporter.start(&Host::empty()).await.unwrap();
    let request = Telemetry::new(traces(3));
    let at = address(&request);
    let refused = exporter.consume_or_return(request).await.unwrap_err();
    assert_eq!(refused.data.map(|d| address(&d)), Some(at));
    exporter.shutdown(Instant::now()).await.unwrap();
}

/// A destination that keeps the protobuf bytes of every traces request.
#[derive(Default)]
struct RawSink(std::sync::Mutex<Vec<bytes::Bytes>>, tokio::sync::Notify);

#[async_trait]
impl otlp_transport::server::ExportHandler for RawSink {
    async fn export_traces(
        &self,
        _request: ExportTraceServiceRequest,
        context: otlp_transport::server::RequestContext,
    ) -> Result<Option<otlp_transport::PartialSuccess>, otlp_transport::status::Refusal> {
        self.0.lock().unwrap().extend(context.protobuf);
        self.1.notify_waiters();
        Ok(None)
    }
}

#[tokio::test]
async fn the_queue_sends_the_bytes_it_received() {
    let sink = Arc::new(RawSink::default());
    let running = otlp_transport::server::Receiver::new(Arc::clone(&sink))
        .grpc("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let endpoint = running.grpc_local_addr().unwrap();
    let config = grpc(&format!(
        "endpoint: {endpoint}\ntls:\n  insecure: true\ncompression: none"
    ))
    .unwrap();
    let exporter = OtlpExporterComponent::grpc(ctx(), config).unwrap();
    exporter.start(&Host::empty()).await.unwrap();

    // As received: the request followed by a field this schema does not know (number 15).
    // A decode and re-encode would drop that field; forwarding the received bytes keeps it.
    let request = traces(3);
    let mut received = prost::Message::encode_to_vec(&request);
    received.extend_from_slice(&[0x7a, 0x02, b'h', b'i']);
    let arrived = |n: usize| {
        let sink = Arc::clone(&sink);
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while sink.0.lock().unwrap().len() < n && tokio::time::Instant::now() < deadline {
                let _ = tokio::time::timeout(Duration::from_millis(50), sink.1.notified()).await;
            }
            sink.0.lock().unwrap().clone()
        }
    };
    let data = Telemetry::new(request.clone()).with_encoded(received.clone().into());
    exporter.consume(data).await.unwrap();
    assert_eq!(
        arrived(1).await,
        vec![received],
        "the received bytes, unknown field and all"
    );
    // Without received bytes the request is encoded.
    exporter
        .consume(Telemetry::new(request.clone()))
        .await
        .unwrap();
    assert_eq!(arrived(2).await[1], prost::Message::encode_to_vec(&request));
    exporter
        .shutdown(Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    let _ = running.shutdown(Duration::from_secs(1)).await;
}

#[test]
fn sending_queue_batch_keys_and_defaults() {
    let settings = |yaml: &str| {
        let config = grpc(&format!("endpoint: b:4317\n{yaml}"))?;
        Ok::<_, ConfigError>(
            queue_settings(&Settings::grpc(config)?)?
                .unwrap()
                .config
                .batch,
        )
    };
    // A bare `batch:` (and `batch: {}`) turns batching on with otelcol's defaults.
    for bare in ["sending_queue:\n  batch:", "sending_queue:\n  batch: {}"] {
        let batch = settings(bare).unwrap();
        assert_eq!(batch.send_batch_size, 8192, "{bare}");
        assert_eq!(batch.send_batch_max_size, 0);
        assert_eq!(batch.timeout, Duration::from_millis(200));
    }
    let batch = settings(
        "sending_queue:\n  batch:\n    sizer: items\n    flush_timeout: 1s\n    min_size: 100\n    max_size: 500",
    )
    .unwrap();
    assert_eq!(
        (
            batch.send_batch_size,
            batch.send_batch_max_size,
            batch.timeout
        ),
        (100, 500, Duration::from_secs(1))
    );
    for (yaml, key) in [
        (
            "sending_queue:\n  batch:\n    sizer: bytes",
            "sending_queue::batch::sizer",
        ),
        (
            "sending_queue:\n  batch:\n    sizer: requests",
            "sending_queue::batch::sizer",
        ),
        (
            "sending_queue:\n  batch:\n    flush_timeout: 0s",
            "sending_queue::batch::flush_timeout",
        ),
        (
            "sending_queue:\n  batch:\n    min_size: 10\n    max_size: 5",
            "sending_queue::batch::max_size",
        ),
        (
            "sending_queue:\n  batch:\n    min_sise: 10",
            "sending_queue::batch",
        ),
    ] {
        let error = settings(yaml).unwrap_err().to_string();
        assert!(error.contains(key), "{yaml}: {error}");
    }
}

#[tokio::test]
async fn sending_queue_batch_merges_queued_requests_into_one_export() {
    let sink = Arc::new(RawSink::default());
    let running = otlp_transport::server::Receiver::new(Arc::clone(&sink))
        .grpc("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let endpoint = running.grpc_local_addr().unwrap();
    let config = grpc(&format!(
        "endpoint: {endpoint}\ntls:\n  insecure: true\ncompression: none\nsending_queue:\n  batch:\n    min_size: 30\n    flush_timeout: 10s"
    ))
    .unwrap();
    let exporter = OtlpExporterComponent::grpc(ctx(), config).unwrap();
    exporter.start(&Host::empty()).await.unwrap();
    // Ten requests of three spans: nothing leaves before the tenth (min_size 30, and the
    // flush timeout is far away), then one export carries all thirty.
    for _ in 0..9 {
        exporter.consume(Telemetry::new(traces(3))).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        sink.0.lock().unwrap().is_empty(),
        "exported before min_size"
    );
    exporter.consume(Telemetry::new(traces(3))).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sink.0.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(50), sink.1.notified()).await;
    }
    let exports = sink.0.lock().unwrap().clone();
    assert_eq!(exports.len(), 1, "one export for ten requests");
    let merged: ExportTraceServiceRequest = prost::Message::decode(&exports[0][..]).unwrap();
    let spans: usize = merged
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    assert_eq!(spans, 30);
    exporter
        .shutdown(Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    let _ = running.shutdown(Duration::from_secs(1)).await;
}
