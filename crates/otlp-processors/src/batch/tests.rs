#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_model::views::TracesView;

use super::*;
use otlp_pipeline::config::parse_config;
use otlp_pipeline::testing::{Probe, eventually, processor_ctx, traces};

fn processor(yaml: &str, next: Arc<Probe>) -> (BatchProcessor, Arc<Metrics>) {
    let config: BatchProcessorConfig =
        parse_config(&serde_yaml_ng::from_str(yaml).unwrap()).unwrap();
    config.validate().unwrap();
    let resources = otlp_pipeline::Resources::collector();
    let metrics = Metrics::from_resources(&resources);
    (
        BatchProcessor::new(processor_ctx("batch", "traces", next, resources), &config).unwrap(),
        metrics,
    )
}

#[test]
fn otelcol_keys() {
    let config: BatchProcessorConfig = parse_config(&serde_yaml_ng::Value::Null).unwrap();
    assert_eq!(config, BatchProcessorConfig::default());
    assert_eq!(
        (config.send_batch_size, config.timeout),
        (8192, Duration::from_millis(200))
    );
    let queue = config.queue_config();
    assert_eq!(queue.batch.send_batch_size, 8192);
    let timeout_only: BatchProcessorConfig =
        parse_config(&serde_yaml_ng::from_str("send_batch_size: 0").unwrap()).unwrap();
    assert!(timeout_only.queue_config().validate().is_ok());
    let bad: BatchProcessorConfig = parse_config(
        &serde_yaml_ng::from_str("send_batch_size: 10\nsend_batch_max_size: 5").unwrap(),
    )
    .unwrap();
    assert!(bad.validate().is_err());
}

#[tokio::test]
async fn merges_requests_and_acknowledges_once_enqueued() {
    let probe = Probe::new();
    let (batch, metrics) = processor("send_batch_size: 6\ntimeout: 10s", probe.clone());
    assert!(
        batch.consume(Telemetry::new(traces(1))).await.is_err(),
        "not started: retryable refusal"
    );
    batch.start(&Host::empty()).await.unwrap();
    // Two requests as decoded, one as received bytes.
    let received_bytes = bytes::Bytes::from(prost::Message::encode_to_vec(&traces(2)));
    batch.consume(Telemetry::new(traces(2))).await.unwrap();
    batch
        .consume(Telemetry::new(traces(2)).with_encoded(received_bytes.clone()))
        .await
        .unwrap();
    batch.consume(Telemetry::new(traces(2))).await.unwrap();
    assert_eq!(probe.wait_items(6).await, 6);
    let received = probe.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "one batch of six");
    let batch_bytes = received[0]
        .encoded()
        .expect("a batch travels encoded")
        .clone();
    assert!(
        !received[0].is_decoded(),
        "counting its items decoded nothing"
    );
    // The batch is the three requests' encodings, concatenated (as otelcol appends resource
    // groups; equal resources are not combined).
    let encoded = prost::Message::encode_to_vec(&traces(2));
    assert_eq!(batch_bytes.len(), 3 * encoded.len());
    assert_eq!(
        &batch_bytes[encoded.len()..2 * encoded.len()],
        &received_bytes[..]
    );
    let merged = received[0].traces().unwrap();
    assert_eq!(
        merged.resource_spans.len(),
        3,
        "one resource group per request"
    );
    assert_eq!(merged.span_count(), 6);
    assert!(
        eventually(|| {
            metrics.value(
                "otelcol_processor_batch_batch_size_trigger_send_total",
                &[("processor", "batch")],
            ) == Some(1.0)
        })
        .await
    );
    assert_eq!(
        metrics.value(
            "otelcol_processor_batch_batch_send_size_count",
            &[("processor", "batch")]
        ),
        None,
        "a histogram series has no plain value"
    );
    assert!(metrics.render().contains(
        "otelcol_processor_batch_batch_send_size_bucket{processor=\"batch\",le=\"10\"} 1\n"
    ));
    batch
        .shutdown(Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();
}

#[tokio::test]
async fn retries_retryable_refusals_of_the_next_stage() {
    let probe = Probe::failing([
        ConsumeError::retryable("queue full"),
        ConsumeError::retryable("queue full"),
    ]);
    let (batch, metrics) = processor("timeout: 1ms", probe.clone());
    batch.start(&Host::empty()).await.unwrap();
    batch.consume(Telemetry::new(traces(3))).await.unwrap();
    assert_eq!(probe.wait_items(3).await, 3, "delivered after two refusals");
    assert_eq!(probe.calls(), 3);
    let addresses = probe.addresses.lock().unwrap().clone();
    assert!(
        addresses.iter().all(|a| *a == addresses[0]),
        "the batch is handed on and back for each retry, never copied: {addresses:?}"
    );
    batch
        .shutdown(Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(
        metrics.value(
            "otelcol_processor_batch_failed_items_total",
            &[("processor", "batch")]
        ),
        Some(0.0)
    );
}

#[tokio::test]
async fn permanent_refusals_are_dropped_and_counted() {
    let probe = Probe::failing([ConsumeError::permanent("bad data")]);
    let (batch, metrics) = processor("timeout: 1ms", probe.clone());
    batch.start(&Host::empty()).await.unwrap();
    batch.consume(Telemetry::new(traces(4))).await.unwrap();
    assert!(
        eventually(|| {
            metrics.value(
                "otelcol_processor_batch_failed_items_total",
                &[("processor", "batch")],
            ) == Some(4.0)
        })
        .await
    );
    batch.consume(Telemetry::new(traces(1))).await.unwrap();
    assert_eq!(probe.wait_items(1).await, 1);
    batch
        .shutdown(Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();
}

#[tokio::test]
async fn shutdown_flushes() {
    let probe = Probe::new();
    let (batch, metrics) = processor("timeout: 1h", probe.clone());
    batch.start(&Host::empty()).await.unwrap();
    batch.consume(Telemetry::new(traces(2))).await.unwrap();
    assert_eq!(probe.items(), 0);
    batch
        .shutdown(Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(probe.items(), 2);
    let error = batch.consume(Telemetry::new(traces(1))).await.unwrap_err();
    assert!(error.is_retryable(), "closed: {error}");
    assert!(
        metrics.render().contains(
            "otelcol_processor_batch_timeout_trigger_send_total{processor=\"batch\"} 0\n"
        )
    );
}

#[tokio::test]
async fn a_full_queue_holds_the_sender_until_there_is_room() {
    // The next stage refuses once (retried after ~200 ms); the wait is long enough for any
    // scheduling delay, and the test ends as soon as room is made.
    let probe = Probe::failing([ConsumeError::retryable("queue full")]);
    let (mut batch, _) = processor("timeout: 1ms", probe.clone());
    assert_eq!(batch.enqueue_wait, ENQUEUE_WAIT);
    batch.enqueue_wait = Duration::from_secs(30);
    batch.config.queue.capacity_items = 10;
    assert_eq!(batch.config.queue.capacity_bytes, QUEUE_BYTES);
    let batch = Arc::new(batch);
    batch.start(&Host::empty()).await.unwrap();
    batch.consume(Telemetry::new(traces(10))).await.unwrap();
    assert!(
        eventually(|| probe.calls() >= 1).await,
        "the full batch went out and was refused"
    );
    // The queue is full until the retry succeeds: this request waits instead of being refused.
    let waiting = {
        let batch = Arc::clone(&batch);
        tokio::spawn(async move { batch.consume(Telemetry::new(traces(2))).await })
    };
    waiting
        .await
        .unwrap()
        .expect("accepted once the retried batch made room");
    assert_eq!(probe.wait_items(12).await, 12);
    batch
        .shutdown(Instant::now() + Duration::from_secs(2))
        .await
        .unwrap();
}
