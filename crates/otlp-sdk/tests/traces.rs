//! Spans through a real provider and batch/simple processors into the in-memory exporter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use otlp_model::{SpanId, TraceFlags, TraceId, TraceState};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::trace::v1::span::SpanKind as ProtoKind;
use otlp_proto::trace::v1::status::StatusCode;
use otlp_sdk::export::{BatchSettings, InMemoryExporter};
use otlp_sdk::trace::{AlwaysOff, Link, SpanKind, SpanLimits, Status, TracerProvider};
use otlp_sdk::{FutureExt, InstrumentationScope, KeyValue, Resource, Value, context};

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

fn provider(exporter: &InMemoryExporter<ExportTraceServiceRequest>) -> TracerProvider {
    TracerProvider::builder()
        .with_resource(Resource::new([KeyValue::new("service.name", "checkout")]))
        .with_batch_exporter(exporter.clone())
        .build()
}

fn attr<'a>(
    attrs: &'a [otlp_proto::common::v1::KeyValue],
    key: &str,
) -> Option<&'a otlp_proto::common::v1::any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

#[test]
fn parent_child_attributes_events_status_and_resource() {
    let exporter = InMemoryExporter::new();
    let provider = provider(&exporter);
    let tracer = provider.tracer_with_scope(
        InstrumentationScope::builder("checkout.http")
            .version("1.2.0")
            .build(),
    );

    let mut root = tracer
        .span("GET /cart")
        .kind(SpanKind::Server)
        .attribute(("http.request.method", "GET"))
        .start();
    {
        let _guard = root.attach();
        let mut child = tracer.start("SELECT carts");
        child.set_attribute(("db.system.name", "postgresql"));
        child.add_event("retry", vec![KeyValue::new("attempt", 2)]);
        child.set_status(Status::error("timeout"));
        child.set_status(Status::Unset); // ignored
        child.end();
    }
    root.set_status(Status::Ok);
    root.set_status(Status::error("too late")); // Ok is final
    root.update_name("GET /cart/{id}");
    root.end();

    provider.force_flush(deadline()).expect("flush");
    let requests = exporter.requests();
    let resource = requests[0].resource_spans[0]
        .resource
        .as_ref()
        .expect("resource");
    assert!(matches!(attr(&resource.attributes, "service.name"),
        Some(otlp_proto::common::v1::any_value::Value::StringValue(s)) if s == "checkout"));
    let scope = requests[0].resource_spans[0].scope_spans[0]
        .scope
        .as_ref()
        .expect("scope");
    assert_eq!(
        (scope.name.as_str(), scope.version.as_str()),
        ("checkout.http", "1.2.0")
    );

    let spans = exporter.spans();
    assert_eq!(spans.len(), 2);
    let (child, root) = (&spans[0], &spans[1]);
    assert_eq!(child.trace_id, root.trace_id);
    assert_eq!(child.parent_span_id, root.span_id);
    assert!(root.parent_span_id.is_empty());
    assert_eq!(root.name, "GET /cart/{id}");
    assert_eq!(root.kind, ProtoKind::Server as i32);
    assert_eq!(child.kind, ProtoKind::Internal as i32);
    assert_eq!(
        root.status.as_ref().map(|s| s.code),
        Some(StatusCode::Ok as i32)
    );
    let status = child.status.as_ref().expect("status");
    assert_eq!(
        (status.code, status.message.as_str()),
        (StatusCode::Error as i32, "timeout")
    );
    assert_eq!(child.events.len(), 1);
    assert_eq!(child.events[0].name, "retry");
    assert!(child.start_time_unix_nano >= root.start_time_unix_nano);
    assert!(child.end_time_unix_nano <= root.end_time_unix_nano);
    assert!(root.end_time_unix_nano > root.start_time_unix_nano);
    // Flags: sampled, random, HAS_IS_REMOTE; the root's parent is not remote.
    assert_eq!(root.flags, 0x100 | 0x03);
    assert_eq!(child.flags, 0x100 | 0x03);
}

#[test]
fn remote_parent_trace_state_links_and_flags() {
    let exporter = InMemoryExporter::new();
    let provider = provider(&exporter);
    let tracer = provider.tracer("consumer");
    let remote = otlp_model::SpanContext::new_remote(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
        SpanId::from(0x00f0_67aa_0ba9_02b7_u64),
        TraceFlags::SAMPLED,
        TraceState::from_members([("congo", "t61rcWkgMzE")]).expect("state"),
    );
    let linked = otlp_model::SpanContext::new_remote(
        TraceId::from(7_u128),
        SpanId::from(9_u64),
        TraceFlags::SAMPLED,
        TraceState::new(),
    );
    let span = tracer
        .span("process message")
        .kind(SpanKind::Consumer)
        .parent_span_context(remote.clone())
        .link(Link::new(
            linked,
            vec![KeyValue::new("messaging.batch.index", 0)],
        ))
        .start();
    assert!(span.span_context().is_sampled());
    assert!(
        !span.span_context().trace_flags().is_random(),
        "random comes from the parent"
    );
    drop(span);
    provider.force_flush(deadline()).expect("flush");
    let spans = exporter.spans();
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert_eq!(s.trace_id, remote.trace_id().to_bytes());
    assert_eq!(s.parent_span_id, remote.span_id().to_bytes());
    assert_eq!(s.trace_state, "congo=t61rcWkgMzE");
    assert_eq!(s.flags, 0x300 | 0x01, "parent is remote");
    assert_eq!(s.links.len(), 1);
    assert_eq!(s.links[0].span_id, 9_u64.to_be_bytes());
    assert_eq!(s.links[0].flags, 0x300 | 0x01);
}

#[test]
fn unsampled_spans_propagate_but_are_not_exported() {
    let exporter = InMemoryExporter::new();
    let provider = TracerProvider::builder()
        .with_sampler(AlwaysOff)
        .with_batch_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("t");
    let mut span = tracer.start("dropped");
    assert!(!span.is_recording());
    assert!(span.span_context().is_valid());
    assert!(!span.span_context().is_sampled());
    span.set_attribute(("k", "v"));
    let child = {
        let _guard = span.attach();
        tracer.start("child")
    };
    assert_eq!(
        child.span_context().trace_id(),
        span.span_context().trace_id()
    );
    drop((span, child));
    provider.force_flush(deadline()).expect("flush");
    assert!(exporter.spans().is_empty());
    assert_eq!(provider.processor_stats()[0].received, 0);
}

#[test]
fn limits_drop_and_count() {
    let exporter = InMemoryExporter::new();
    let provider = TracerProvider::builder()
        .with_span_limits(SpanLimits {
            max_attributes_per_span: 2,
            max_events_per_span: 1,
            max_links_per_span: 1,
            max_attributes_per_event: 1,
            max_attributes_per_link: 1,
            max_attribute_value_length: Some(3),
        })
        .with_batch_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("t");
    let mut span = tracer.start("limited");
    span.set_attributes([
        ("a", Value::from("abcdef")),
        ("b", 1.into()),
        ("c", 2.into()),
    ]);
    span.set_attribute(("a", "xy")); // replaces, not counted
    span.add_event("e1", vec![KeyValue::new("x", 1), KeyValue::new("y", 2)]);
    span.add_event("e2", vec![]);
    let other = tracer.start("other");
    span.add_link(other.span_context().clone(), vec![]);
    span.add_link(other.span_context().clone(), vec![]);
    span.end();
    drop(other);
    provider.force_flush(deadline()).expect("flush");
    let spans = exporter.spans();
    let s = spans.iter().find(|s| s.name == "limited").expect("span");
    assert_eq!(s.attributes.len(), 2);
    assert_eq!(s.dropped_attributes_count, 1);
    assert!(matches!(attr(&s.attributes, "a"),
        Some(otlp_proto::common::v1::any_value::Value::StringValue(v)) if v == "xy"));
    assert_eq!((s.events.len(), s.dropped_events_count), (1, 1));
    assert_eq!(s.events[0].dropped_attributes_count, 1);
    assert_eq!((s.links.len(), s.dropped_links_count), (1, 1));
}

#[test]
fn record_error_adds_an_exception_event() {
    let exporter = InMemoryExporter::new();
    let provider = provider(&exporter);
    let mut span = provider.tracer("t").start("fails");
    let error = std::io::Error::other("disk full");
    span.record_error(&error);
    span.end();
    provider.force_flush(deadline()).expect("flush");
    let spans = exporter.spans();
    let event = &spans[0].events[0];
    assert_eq!(event.name, "exception");
    assert!(matches!(attr(&event.attributes, "exception.message"),
        Some(otlp_proto::common::v1::any_value::Value::StringValue(m)) if m == "disk full"));
    assert!(matches!(attr(&event.attributes, "exception.type"),
        Some(otlp_proto::common::v1::any_value::Value::StringValue(t)) if t.contains("io::error::Error")));
}

#[test]
fn context_follows_threads_explicitly_and_guards_in_any_order() {
    let exporter = InMemoryExporter::new();
    let provider = provider(&exporter);
    let tracer = provider.tracer("t");
    let root = tracer.start("root");
    let cx = root.context();
    let a = context::attach(cx.clone());
    let inner = tracer.start("inner");
    let b = inner.attach();
    drop(a); // out of order: the inner span stays current
    assert_eq!(
        context::current().span_context().map(|s| s.span_id()),
        Some(inner.span_context().span_id())
    );
    drop(b);
    assert!(context::current().span_context().is_none());

    let handle = std::thread::spawn({
        let tracer = tracer.clone();
        move || {
            let _guard = context::attach(cx);
            tracer.start("on another thread").span_context().clone()
        }
    });
    let remote_child = handle.join().expect("thread");
    assert_eq!(remote_child.trace_id(), root.span_context().trace_id());
}

#[test]
fn context_follows_awaits_on_both_runtime_flavours() {
    let exporter = InMemoryExporter::new();
    let provider = provider(&exporter);
    let tracer = provider.tracer("t");
    let root = tracer.start("root");
    let trace_id = root.span_context().trace_id();
    for multi in [false, true] {
        let runtime = if multi {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        }
        .expect("runtime");
        let tracer = tracer.clone();
        let cx = root.context();
        let seen = runtime.block_on(async move {
            let task = tokio::spawn(
                async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    tokio::task::yield_now().await;
                    let span = tracer.start("after awaits");
                    (
                        span.span_context().trace_id(),
                        context::current().span_context().cloned(),
                    )
                }
                .with_context(cx),
            );
            // Not attached here: the spawned task carries its own.
            assert!(context::current().span_context().is_none());
            task.await.expect("task")
        });
        assert_eq!(seen.0, trace_id);
        assert_eq!(seen.1.map(|s| s.trace_id()), Some(trace_id));
    }
}

#[test]
fn simple_processor_exports_each_span_in_order() {
    let exporter = InMemoryExporter::new();
    let provider = TracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("t");
    for i in 0..5 {
        tracer.start(format!("span {i}")).end();
    }
    provider.force_flush(deadline()).expect("flush");
    let requests = exporter.requests();
    assert_eq!(requests.len(), 5, "one export per span");
    let names: Vec<String> = exporter.spans().into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        (0..5).map(|i| format!("span {i}")).collect::<Vec<_>>()
    );
}

#[test]
fn batches_are_cut_at_the_batch_size_and_full_buffers_drop_and_count() {
    let exporter = InMemoryExporter::new();
    let settings = BatchSettings {
        max_queue_size: 100,
        max_export_batch_size: 10,
        scheduled_delay: Duration::from_secs(60),
        ..BatchSettings::spans()
    };
    let provider = TracerProvider::builder()
        .with_batch_exporter_settings(exporter.clone(), settings)
        .build();
    let tracer = provider.tracer("t");
    for _ in 0..35 {
        tracer.start("s").end();
    }
    provider.force_flush(deadline()).expect("flush");
    assert_eq!(exporter.spans().len(), 35);
    assert!(
        exporter
            .requests()
            .iter()
            .all(|r| r.resource_spans[0].scope_spans[0].spans.len() <= 10)
    );

    // A destination that refuses everything: the buffer and queue fill, the rest is dropped
    // and counted, and flush reports it.
    exporter.fail_with(Some(otlp_sdk::export::ExportFailure::retryable("down")));
    for _ in 0..1000 {
        tracer.start("s").end();
    }
    let stats = provider.processor_stats()[0];
    assert_eq!(stats.received, 1035);
    // At most the buffer (100), one batch in the worker's hand (10) and the export queue
    // (100) hold spans; the rest was dropped, and every span is accounted for (give or take
    // the batch moving between the worker and the queue while we read).
    assert!(stats.dropped >= 1000 - 210, "{stats:?}");
    let accounted = stats.exported + stats.failed + stats.dropped + stats.buffered + stats.queued;
    assert!(accounted.abs_diff(stats.received) <= 10, "{stats:?}");
    let error = provider
        .force_flush(Instant::now() + Duration::from_millis(300))
        .expect_err("not everything can be exported");
    assert!(error.not_exported() > 0, "{error}");
    let _ = provider.shutdown(Instant::now() + Duration::from_millis(100));
}

/// An exporter that takes 2 ms per batch.
#[derive(Debug, Clone, Default)]
struct Slow(std::sync::Arc<std::sync::atomic::AtomicUsize>);

#[otlp_sdk::export::async_trait]
impl otlp_sdk::export::BatchExporter<ExportTraceServiceRequest> for Slow {
    async fn export(
        &self,
        batch: &ExportTraceServiceRequest,
    ) -> Result<Option<otlp_sdk::export::PartialSuccess>, otlp_sdk::export::ExportFailure> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let spans: usize = batch
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        self.0
            .fetch_add(spans, std::sync::atomic::Ordering::Relaxed);
        Ok(None)
    }
}

#[test]
fn blocking_mode_waits_for_room_instead_of_dropping() {
    let exporter = Slow::default();
    let settings = BatchSettings {
        max_queue_size: 10,
        max_export_batch_size: 5,
        scheduled_delay: Duration::from_millis(10),
        full_queue: otlp_sdk::export::FullQueue::Block(Duration::from_secs(5)),
        ..BatchSettings::spans()
    };
    let provider = TracerProvider::builder()
        .with_batch_exporter_settings(exporter.clone(), settings)
        .build();
    let tracer = provider.tracer("t");
    for _ in 0..300 {
        tracer.start("s").end();
    }
    provider.force_flush(deadline()).expect("flush");
    let stats = provider.processor_stats()[0];
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(exporter.0.load(std::sync::atomic::Ordering::Relaxed), 300);
}
