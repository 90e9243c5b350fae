//! The graph: one receiver feeding several pipelines, shared exporters, per-pipeline
//! processors, fan-out copies only for writers, errors back to the receiver, lifecycle order.

#![allow(clippy::expect_used)] // test helpers outside #[test] functions

mod core_support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use core_support::{Probe, markers, probe_registry, traces};
use otlp_pipeline::graph::FanOut;
use otlp_pipeline::{
    ClientInfo, ComponentId, ComponentKind, Config, ConsumeError, Consumer, Context, ErrorKind,
    Metadata, NextConsumers, Pipelines, Resources, Signal, SignalSet, Telemetry, config,
};
use tokio::time::Instant;

/// Builds `yaml` with the probe components; returns the graph and the probe.
fn build(yaml: &str) -> (Pipelines, Arc<Probe>) {
    let config = Config::from_yaml("graph.yaml", yaml).expect("loads");
    let validated = config::validate(&config, &probe_registry()).unwrap_or_else(|e| panic!("{e}"));
    let probe = Arc::new(Probe::default());
    let resources = Resources::new().with(probe.clone());
    let pipelines = Pipelines::build_with(&validated, resources).unwrap_or_else(|e| panic!("{e}"));
    (pipelines, probe)
}

fn id(text: &str) -> ComponentId {
    text.parse().expect("id")
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

/// What the probe receiver `name` hands data to.
fn receiver(probe: &Probe, name: &str) -> NextConsumers {
    probe.next_of(name)
}

#[tokio::test]
async fn one_receiver_feeds_several_pipelines() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
exporters: {probe/a: {}, probe/b: {}, probe/m: {}}
service:
  pipelines:
    traces/a: {receivers: [probe], exporters: [probe/a]}
    traces/b: {receivers: [probe], exporters: [probe/b]}
    metrics: {receivers: [probe], exporters: [probe/m]}
",
    );
    assert_eq!(probe.creates("probe"), 1, "the receiver is built once");
    let next = receiver(&probe, "probe");
    assert_eq!(
        next.signals(),
        SignalSet::from([Signal::Traces, Signal::Metrics])
    );
    pipelines.start().await.expect("starts");

    next.consume(traces(3)).await.expect("accepted");
    assert_eq!(probe.delivered_to("probe/a").len(), 1);
    assert_eq!(probe.delivered_to("probe/b").len(), 1);
    assert_eq!(
        probe.delivered_to("probe/m").len(),
        0,
        "traces do not reach the metrics pipeline"
    );
    assert_eq!(probe.delivered_to("probe/a")[0].item_count(), 3);

    let metrics =
        Telemetry::new(otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest::default());
    next.consume(metrics).await.expect("accepted");
    assert_eq!(probe.delivered_to("probe/m").len(), 1);

    let logs = Telemetry::new(otlp_proto::collector::logs::v1::ExportLogsServiceRequest::default());
    let error = next.consume(logs).await.expect_err("no logs pipeline");
    assert!(error.is_permanent());
    pipelines.shutdown(soon()).await.expect("stops");
}

#[tokio::test]
async fn exporters_are_shared_and_processors_are_per_pipeline() {
    let (pipelines, probe) = build(
        "
receivers: {probe/t: {}, probe/l: {}}
processors: {probe: {}}
exporters: {probe/shared: {}}
service:
  pipelines:
    traces: {receivers: [probe/t], processors: [probe], exporters: [probe/shared]}
    logs: {receivers: [probe/l], processors: [probe], exporters: [probe/shared]}
",
    );
    assert_eq!(
        probe.creates("probe/shared"),
        1,
        "one exporter instance for both pipelines"
    );
    assert_eq!(
        probe.exporter_signals.lock().unwrap()["probe/shared"],
        SignalSet::from([Signal::Traces, Signal::Logs]),
        "the exporter is told which signals it will see"
    );
    assert_eq!(
        probe.creates("probe"),
        2,
        "the processor is built once per pipeline"
    );
    pipelines.start().await.expect("starts");
    receiver(&probe, "probe/t")
        .consume(traces(1))
        .await
        .expect("accepted");
    let logs = Telemetry::new(otlp_proto::collector::logs::v1::ExportLogsServiceRequest::default());
    receiver(&probe, "probe/l")
        .consume(logs)
        .await
        .expect("accepted");
    let processed = probe.processed.lock().unwrap().clone();
    let pipelines_seen: Vec<&str> = processed.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(
        pipelines_seen,
        ["traces", "logs"],
        "each pipeline has its own processor instance"
    );
    assert_eq!(probe.delivered_to("probe/shared").len(), 2);
    pipelines.shutdown(soon()).await.expect("stops");
}

#[tokio::test]
async fn read_only_fan_out_makes_no_copy() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
exporters: {probe/a: {}, probe/b: {}, probe/c: {}}
service:
  pipelines:
    traces: {receivers: [probe], exporters: [probe/a, probe/b, probe/c]}
",
    );
    let original = traces(2);
    receiver(&probe, "probe")
        .consume(original.clone())
        .await
        .expect("accepted");
    for exporter in ["probe/a", "probe/b", "probe/c"] {
        let got = &probe.delivered_to(exporter)[0];
        assert!(
            Telemetry::same_payload(got, &original),
            "{exporter} shares the one request"
        );
    }
    assert_eq!(pipelines.deep_copies(), 0);
}

#[tokio::test]
async fn fan_out_copies_only_for_consumers_that_mutate() {
    // Two writers and a reader: each writer gets a copy, the reader the original.
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
exporters: {probe/w1: {mutates: true}, probe/w2: {mutates: true}, probe/r: {}}
service:
  pipelines:
    traces: {receivers: [probe], exporters: [probe/w1, probe/r, probe/w2]}
",
    );
    let original = traces(1);
    receiver(&probe, "probe")
        .consume(original.clone())
        .await
        .expect("accepted");
    assert_eq!(pipelines.deep_copies(), 2);
    assert!(Telemetry::same_payload(
        &probe.delivered_to("probe/r")[0],
        &original
    ));
    for writer in ["probe/w1", "probe/w2"] {
        let got = &probe.delivered_to(writer)[0];
        assert!(
            !Telemetry::same_payload(got, &original),
            "{writer} got its own copy"
        );
        assert_eq!(
            markers(got),
            [format!("written.by.{writer}")],
            "and wrote only to it"
        );
    }
    assert!(
        markers(&original).is_empty(),
        "nobody's write shows in the original"
    );
    assert!(markers(&probe.delivered_to("probe/r")[0]).is_empty());
    let unshared = probe
        .deliveries
        .lock()
        .unwrap()
        .iter()
        .filter(|d| !d.shared_on_arrival)
        .count();
    assert_eq!(
        unshared, 2,
        "the writers' copies arrive unshared, so writing costs no second copy"
    );
}

#[tokio::test]
async fn the_last_writer_gets_the_original_when_no_reader_shares_it() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
exporters: {probe/w1: {mutates: true}, probe/w2: {mutates: true}}
service:
  pipelines:
    traces: {receivers: [probe], exporters: [probe/w1, probe/w2]}
",
    );
    receiver(&probe, "probe")
        .consume(traces(1))
        .await
        .expect("accepted");
    assert_eq!(pipelines.deep_copies(), 1, "two writers, one copy");
    let deliveries = probe.deliveries.lock().unwrap();
    assert!(
        deliveries.iter().all(|d| !d.shared_on_arrival),
        "both write in place"
    );
    assert!(!Telemetry::same_payload(
        &deliveries[0].data,
        &deliveries[1].data
    ));
}

#[tokio::test]
async fn receiver_fan_out_copies_for_pipelines_with_writing_processors() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
processors: {probe/write: {mutates: true}, probe/read: {}}
exporters: {probe/a: {}, probe/b: {}, probe/c: {}}
service:
  pipelines:
    traces/writes: {receivers: [probe], processors: [probe/read, probe/write], exporters: [probe/a]}
    traces/reads: {receivers: [probe], processors: [probe/read], exporters: [probe/b]}
    traces/direct: {receivers: [probe], exporters: [probe/c]}
",
    );
    let original = traces(1);
    receiver(&probe, "probe")
        .consume(original.clone())
        .await
        .expect("accepted");
    assert_eq!(
        pipelines.deep_copies(),
        1,
        "only the writing pipeline gets a copy"
    );
    assert_eq!(
        markers(&probe.delivered_to("probe/a")[0]),
        ["written.by.probe/write"]
    );
    assert!(Telemetry::same_payload(
        &probe.delivered_to("probe/b")[0],
        &original
    ));
    assert!(Telemetry::same_payload(
        &probe.delivered_to("probe/c")[0],
        &original
    ));
    let processed = probe.processed.lock().unwrap().clone();
    let write = processed
        .iter()
        .find(|(p, _, _)| p == "probe/write")
        .expect("ran");
    assert!(
        !write.2,
        "the writer's input is its own copy: writing in place, no second copy"
    );
}

#[tokio::test]
async fn a_writer_that_does_not_declare_it_still_cannot_corrupt_others() {
    // `FanOut` straight over consumers whose `mutates_data` lies.
    struct SneakyWriter;
    #[async_trait::async_trait]
    impl Consumer for SneakyWriter {
        async fn consume(&self, mut data: Telemetry) -> Result<(), ConsumeError> {
            if let Some(traces) = data.traces_mut() {
                traces.resource_spans.clear();
            }
            Ok(())
        }
    }
    let fanout = FanOut::new([
        Arc::new(SneakyWriter) as Arc<dyn Consumer>,
        Arc::new(SneakyWriter),
    ]);
    let original = traces(4);
    fanout.consume(original.clone()).await.expect("accepted");
    assert_eq!(
        fanout.deep_copies(),
        0,
        "it did not declare writing, so the fan-out shared"
    );
    assert_eq!(
        original.item_count(),
        4,
        "copy-on-write kept the original intact"
    );
}

#[tokio::test]
async fn errors_reach_the_receiver_with_their_kind_and_component() {
    let (pipelines, probe) = build(
        "
receivers: {probe/r: {}, probe/p: {}, probe/ok: {}}
exporters:
  probe/ok: {}
  probe/down: {fail: retryable, retry_after: 3s}
  probe/reject: {fail: permanent}
service:
  pipelines:
    traces/retry: {receivers: [probe/r], exporters: [probe/ok, probe/down]}
    traces/perm: {receivers: [probe/p], exporters: [probe/ok, probe/reject]}
    traces/fine: {receivers: [probe/ok], exporters: [probe/ok]}
",
    );
    pipelines.start().await.expect("starts");
    let error = receiver(&probe, "probe/r")
        .consume(traces(1))
        .await
        .expect_err("retryable");
    assert_eq!(
        error.kind(),
        ErrorKind::Retryable {
            retry_after: Some(Duration::from_secs(3))
        }
    );
    assert_eq!(
        error.component(),
        Some(&id("probe/down")),
        "the graph names the failing exporter"
    );
    assert_eq!(error.to_string(), "probe/down: backend unavailable");

    let error = receiver(&probe, "probe/p")
        .consume(traces(1))
        .await
        .expect_err("permanent");
    assert!(error.is_permanent());
    assert_eq!(error.component(), Some(&id("probe/reject")));

    receiver(&probe, "probe/ok")
        .consume(traces(1))
        .await
        .expect("accepted");
    assert_eq!(
        probe.delivered_to("probe/ok").len(),
        3,
        "the healthy exporter got every request"
    );

    // What the transport answers the sender.
    use otlp_transport::status::Refusal;
    let refusal: Refusal = ConsumeError::retryable("x")
        .with_retry_after(Duration::from_secs(3))
        .into();
    assert_eq!(
        refusal,
        Refusal::retryable("x").with_retry_after(Duration::from_secs(3))
    );
    pipelines.shutdown(soon()).await.expect("stops");
}

#[tokio::test]
async fn retryable_wins_when_pipelines_fail_differently() {
    let (_pipelines, probe) = build(
        "
receivers: {probe: {}}
exporters:
  probe/down: {fail: retryable, retry_after: 1s}
  probe/later: {fail: retryable, retry_after: 7s}
  probe/reject: {fail: permanent}
  probe/ok: {}
service:
  pipelines:
    traces/a: {receivers: [probe], exporters: [probe/reject]}
    traces/b: {receivers: [probe], exporters: [probe/down, probe/later]}
    traces/c: {receivers: [probe], exporters: [probe/ok]}
",
    );
    let error = receiver(&probe, "probe")
        .consume(traces(1))
        .await
        .expect_err("fails");
    assert!(
        error.is_retryable(),
        "one destination may accept later: the sender must retry"
    );
    assert_eq!(
        error.retry_after(),
        Some(Duration::from_secs(7)),
        "the longest advised delay"
    );
    assert_eq!(error.component(), Some(&id("probe/down")));
    assert_eq!(
        error.to_string(),
        "probe/reject: data rejected; probe/down: backend unavailable; probe/later: backend unavailable",
        "what the sender reads: every failure, each with its component"
    );
    assert_eq!(
        probe.delivered_to("probe/ok").len(),
        1,
        "every consumer was called"
    );
}

#[tokio::test]
async fn processor_errors_name_the_processor() {
    let (_pipelines, probe) = build(
        "
receivers: {probe: {}}
processors: {probe/limit: {fail: retryable}}
exporters: {probe: {}}
service:
  pipelines:
    logs: {receivers: [probe], processors: [probe/limit], exporters: [probe]}
",
    );
    let logs = Telemetry::new(otlp_proto::collector::logs::v1::ExportLogsServiceRequest::default());
    let error = receiver(&probe, "probe")
        .consume(logs)
        .await
        .expect_err("refused");
    assert_eq!(error.component(), Some(&id("probe/limit")));
    assert_eq!(probe.delivery_count(), 0);
}

const LIFECYCLE: &str = "
extensions: {probe/e1: {}, probe/e2: {}}
receivers: {probe/r1: {}, probe/r2: {}}
processors: {probe/p1: {}, probe/p2: {}}
exporters: {probe/x1: {}, probe/x2: {}}
service:
  extensions: [probe/e2, probe/e1]
  pipelines:
    traces: {receivers: [probe/r1, probe/r2], processors: [probe/p1, probe/p2], exporters: [probe/x1, probe/x2]}
    logs: {receivers: [probe/r2], processors: [probe/p2], exporters: [probe/x2]}
";

#[tokio::test]
async fn start_and_shutdown_order() {
    let (pipelines, probe) = build(LIFECYCLE);
    pipelines.start().await.expect("starts");
    pipelines.shutdown(soon()).await.expect("stops");
    assert_eq!(
        probe.events(),
        [
            // Extensions in service.extensions order, then exporters, then processors from the
            // end of each pipeline, then receivers.
            "start extension probe/e2",
            "start extension probe/e1",
            "start exporter probe/x1",
            "start exporter probe/x2",
            "start processor probe/p2 (traces)",
            "start processor probe/p1 (traces)",
            "start processor probe/p2 (logs)",
            "start receiver probe/r1",
            "start receiver probe/r2",
            // Receivers first; processors from the start of each pipeline (pipelines run
            // concurrently); exporters; extensions in reverse.
            "shutdown receiver probe/r1",
            "shutdown receiver probe/r2",
            "shutdown processor probe/p1 (traces)",
            "shutdown processor probe/p2 (traces)",
            "shutdown processor probe/p2 (logs)",
            "shutdown exporter probe/x1",
            "shutdown exporter probe/x2",
            "shutdown extension probe/e1",
            "shutdown extension probe/e2",
        ]
    );
    // Idempotent, and no restart after shutdown.
    pipelines
        .shutdown(soon())
        .await
        .expect("again: nothing to do");
    pipelines.start().await.expect("no-op");
    assert_eq!(probe.events().len(), 18);
}

#[tokio::test]
async fn a_failed_start_stops_there_and_shutdown_stops_what_started() {
    let yaml = LIFECYCLE.replace("probe/x2: {}", "probe/x2: {fail_start: true}");
    let (pipelines, probe) = build(&yaml);
    let error = pipelines.start().await.expect_err("x2 fails");
    assert_eq!(
        (error.kind, error.id.as_str()),
        (ComponentKind::Exporter, "probe/x2")
    );
    assert_eq!(
        error.to_string(),
        "cannot start exporter \"probe/x2\": refusing to start"
    );
    pipelines.shutdown(soon()).await.expect("stops");
    assert_eq!(
        probe.events(),
        [
            "start extension probe/e2",
            "start extension probe/e1",
            "start exporter probe/x1",
            "start exporter probe/x2",
            "shutdown exporter probe/x1",
            "shutdown exporter probe/x2",
            "shutdown extension probe/e1",
            "shutdown extension probe/e2",
        ],
        "no processor or receiver started, so none is shut down"
    );
}

#[tokio::test]
async fn shutdown_is_bounded_by_the_deadline() {
    let yaml = LIFECYCLE.replace("probe/x1: {}", "probe/x1: {slow_shutdown: 1h}");
    let (pipelines, probe) = build(&yaml);
    pipelines.start().await.expect("starts");
    let started = std::time::Instant::now();
    let errors = pipelines
        .shutdown(Instant::now() + Duration::from_millis(50))
        .await
        .expect_err("x1 misses the deadline");
    assert!(started.elapsed() < Duration::from_secs(10));
    let messages: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["cannot shut down exporter \"probe/x1\": the shutdown deadline passed"]
    );
    assert_eq!(
        probe.events().last().map(String::as_str),
        Some("shutdown extension probe/e2"),
        "the rest still stopped"
    );
}

#[tokio::test]
async fn components_find_extensions_through_the_host() {
    let yaml = "
extensions: {probe/storage: {}}
receivers: {probe: {}}
exporters: {probe: {needs_extension: probe/storage}}
service:
  extensions: [probe/storage]
  pipelines:
    traces: {receivers: [probe], exporters: [probe]}
";
    let (pipelines, _probe) = build(yaml);
    pipelines
        .start()
        .await
        .expect("the exporter found its storage");
    pipelines.shutdown(soon()).await.expect("stops");

    let missing = yaml.replace("  extensions: [probe/storage]\n", "");
    let (pipelines, _probe) = build(&missing);
    let error = pipelines
        .start()
        .await
        .expect_err("not listed in service.extensions");
    assert_eq!(
        error.to_string(),
        "cannot start exporter \"probe\": extension probe/storage not found"
    );
    pipelines.shutdown(soon()).await.expect("stops");
}

#[tokio::test]
async fn fatal_errors_after_start_reach_the_owner() {
    let (pipelines, _probe) = build(
        "
receivers: {probe: {fatal_after_start: true}}
exporters: {probe: {}}
service:
  pipelines:
    traces: {receivers: [probe], exporters: [probe]}
",
    );
    pipelines.start().await.expect("starts");
    let fatal = tokio::time::timeout(Duration::from_secs(5), pipelines.fatal_error())
        .await
        .expect("reported");
    assert_eq!(
        fatal.to_string(),
        "receiver \"probe\" failed: listener died"
    );
    pipelines.shutdown(soon()).await.expect("stops");
}

#[tokio::test]
async fn context_and_received_bytes_travel_with_the_data() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
processors: {probe/write: {mutates: true}}
exporters: {probe/plain: {}, probe/after_write: {}}
service:
  pipelines:
    traces/plain: {receivers: [probe], exporters: [probe/plain]}
    traces/written: {receivers: [probe], processors: [probe/write], exporters: [probe/after_write]}
",
    );
    let metadata: Metadata = [("X-Tenant", "acme")].into_iter().collect();
    let context = Context::with_client(ClientInfo::new(None).with_metadata(metadata));
    let data = traces(1)
        .with_context(context)
        .with_encoded(Bytes::from_static(b"as received"));
    receiver(&probe, "probe")
        .consume(data)
        .await
        .expect("accepted");

    let plain = &probe.delivered_to("probe/plain")[0];
    assert_eq!(
        plain
            .context()
            .client()
            .and_then(|c| c.metadata.get("x-tenant")),
        Some("acme")
    );
    assert_eq!(
        plain.encoded().map(|b| &b[..]),
        Some(&b"as received"[..]),
        "unchanged data keeps its bytes"
    );
    let written = &probe.delivered_to("probe/after_write")[0];
    assert_eq!(
        written
            .context()
            .client()
            .and_then(|c| c.metadata.get("x-tenant")),
        Some("acme")
    );
    assert!(
        written.encoded().is_none(),
        "a write invalidates the received bytes"
    );
    drop(pipelines);
}

#[tokio::test]
async fn pipelines_can_be_fed_directly_and_check_the_signal() {
    let (pipelines, probe) = build(
        "
receivers: {probe: {}}
exporters: {probe: {}}
service:
  pipelines:
    traces/direct: {receivers: [probe], exporters: [probe]}
",
    );
    let entry = pipelines
        .pipeline(&"traces/direct".parse().expect("id"))
        .expect("exists");
    entry.consume(traces(2)).await.expect("accepted");
    assert_eq!(probe.delivery_count(), 1);
    let logs = Telemetry::new(otlp_proto::collector::logs::v1::ExportLogsServiceRequest::default());
    let error = entry.consume(logs).await.expect_err("wrong signal");
    assert_eq!(
        error.to_string(),
        "pipeline \"traces/direct\" does not accept logs"
    );
}
