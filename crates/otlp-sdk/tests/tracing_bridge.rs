//! The `tracing` bridge: `tracing` spans and events through `OtlpLayer` into in-memory
//! exporters.
#![cfg(feature = "tracing")]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use otlp_model::{SpanId, TraceFlags, TraceId};
use otlp_propagation::{TextMapPropagator, TraceContextPropagator};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::KeyValue as ProtoKeyValue;
use otlp_proto::common::v1::any_value::Value as V;
use otlp_proto::logs::v1::LogRecord as ProtoLog;
use otlp_proto::trace::v1::Span as ProtoSpan;
use otlp_proto::trace::v1::span::SpanKind as ProtoKind;
use otlp_proto::trace::v1::status::StatusCode;
use otlp_sdk::bridge::{OtlpLayer, OtlpLayerBuilder, OtlpSpanExt};
use otlp_sdk::export::InMemoryExporter;
use otlp_sdk::logs::LoggerProvider;
use otlp_sdk::trace::{Status, TracerProvider};
use otlp_sdk::{KeyValue, context};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

struct Pipeline {
    spans: InMemoryExporter<ExportTraceServiceRequest>,
    logs: InMemoryExporter<ExportLogsServiceRequest>,
    tracer_provider: TracerProvider,
    logger_provider: LoggerProvider,
}

impl Pipeline {
    fn new() -> Self {
        let spans = InMemoryExporter::new();
        let logs = InMemoryExporter::new();
        Self {
            tracer_provider: TracerProvider::builder()
                .with_simple_exporter(spans.clone())
                .build(),
            logger_provider: LoggerProvider::builder()
                .with_simple_exporter(logs.clone())
                .build(),
            spans,
            logs,
        }
    }

    /// A layer with a tracer and a logger.
    fn builder(&self) -> OtlpLayerBuilder {
        OtlpLayer::builder(self.tracer_provider.tracer("bridge-test"))
            .logger(self.logger_provider.logger("bridge-test"))
    }

    /// Runs `f` with `layer` on a registry as the default subscriber of this thread.
    fn run<R>(&self, layer: OtlpLayer, f: impl FnOnce() -> R) -> R {
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f)
    }

    fn flush(&self) -> (Vec<ProtoSpan>, Vec<ProtoLog>) {
        let deadline = Instant::now() + Duration::from_secs(5);
        self.tracer_provider
            .force_flush(deadline)
            .unwrap_or_else(|e| panic!("flush spans: {e}"));
        self.logger_provider
            .force_flush(deadline)
            .unwrap_or_else(|e| panic!("flush logs: {e}"));
        (self.spans.spans(), self.logs.log_records())
    }
}

fn attr<'a>(attrs: &'a [ProtoKeyValue], key: &str) -> Option<&'a V> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn str_attr<'a>(attrs: &'a [ProtoKeyValue], key: &str) -> Option<&'a str> {
    match attr(attrs, key) {
        Some(V::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn by_name<'a>(spans: &'a [ProtoSpan], name: &str) -> &'a ProtoSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span named {name} in {spans:#?}"))
}

#[derive(Debug)]
struct Outer(std::io::Error);

impl std::fmt::Display for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request failed")
    }
}

impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn nested_spans_keep_parents_and_one_trace() {
    let p = Pipeline::new();
    p.run(p.builder().build(), || {
        let root = tracing::info_span!("root");
        let _root = root.enter();
        let child = tracing::info_span!("child");
        let _child = child.enter();
        // An explicit parent, not the current span.
        let sibling = tracing::info_span!(parent: &root, "sibling");
        drop(sibling);
        tracing::info_span!("grandchild").in_scope(|| {});
    });
    let (spans, _) = p.flush();
    assert_eq!(spans.len(), 4, "{spans:#?}");
    let root = by_name(&spans, "root");
    let child = by_name(&spans, "child");
    let sibling = by_name(&spans, "sibling");
    let grandchild = by_name(&spans, "grandchild");
    assert!(root.parent_span_id.is_empty());
    assert_eq!(child.parent_span_id, root.span_id);
    assert_eq!(sibling.parent_span_id, root.span_id);
    assert_eq!(grandchild.parent_span_id, child.span_id);
    for span in [child, sibling, grandchild] {
        assert_eq!(span.trace_id, root.trace_id);
        assert_eq!(span.kind, ProtoKind::Internal as i32);
    }
    assert_ne!(child.span_id, sibling.span_id);
    // Children end before their parents; durations are open → close.
    assert!(grandchild.end_time_unix_nano <= child.end_time_unix_nano);
    assert!(child.end_time_unix_nano <= root.end_time_unix_nano);
    assert!(root.start_time_unix_nano <= child.start_time_unix_nano);
    assert!(root.end_time_unix_nano >= root.start_time_unix_nano);
}

#[test]
fn fields_become_typed_attributes() {
    let p = Pipeline::new();
    let error = Outer(std::io::Error::other("connection reset"));
    p.run(p.builder().build(), || {
        let span = tracing::info_span!(
            "fields",
            count = 3_i64,
            big = u64::MAX,
            small = 7_u64,
            ratio = 0.5_f64,
            ok = true,
            name = "alice",
            shown = %"display",
            debugged = ?Some(1),
            err = &error as &(dyn std::error::Error + 'static),
            r#type = "raw",
            message = "not an attribute",
        );
        drop(span);
    });
    let (spans, _) = p.flush();
    let span = by_name(&spans, "fields");
    let a = &span.attributes;
    assert_eq!(attr(a, "count"), Some(&V::IntValue(3)));
    assert_eq!(attr(a, "big"), Some(&V::StringValue(u64::MAX.to_string())));
    assert_eq!(attr(a, "small"), Some(&V::IntValue(7)));
    assert_eq!(attr(a, "ratio"), Some(&V::DoubleValue(0.5)));
    assert_eq!(attr(a, "ok"), Some(&V::BoolValue(true)));
    assert_eq!(str_attr(a, "name"), Some("alice"));
    assert_eq!(str_attr(a, "shown"), Some("display"));
    assert_eq!(str_attr(a, "debugged"), Some("Some(1)"));
    assert_eq!(str_attr(a, "err"), Some("request failed: connection reset"));
    assert_eq!(str_attr(a, "type"), Some("raw"));
    assert!(attr(a, "message").is_none());
    assert!(str_attr(a, "code.file.path").is_some_and(|f| f.ends_with("tracing_bridge.rs")));
    assert!(matches!(attr(a, "code.line.number"), Some(V::IntValue(n)) if *n > 0));
}

#[test]
fn otel_fields_set_name_kind_and_status() {
    let p = Pipeline::new();
    p.run(p.builder().with_location(false).build(), || {
        let _a = tracing::info_span!(
            "ignored name",
            otel.name = "GET /cart",
            otel.kind = "Server",
            otel.status_code = "ERROR",
            otel.status_description = "upstream timeout",
        )
        .entered();
        let _b = tracing::info_span!("b", otel.kind = "client", otel.status_code = "ok").entered();
        let _c =
            tracing::info_span!("c", otel.kind = "PRODUCER", otel.status_code = "unset").entered();
        let _d = tracing::info_span!("d", otel.kind = "consumer", otel.kind_unknown = 1).entered();
        let _e = tracing::info_span!("e", otel.kind = "sideways").entered();
    });
    let (spans, _) = p.flush();
    assert_eq!(spans.len(), 5);
    let a = by_name(&spans, "GET /cart");
    assert_eq!(a.kind, ProtoKind::Server as i32);
    let status = a.status.as_ref().expect("status");
    assert_eq!(
        (status.code, status.message.as_str()),
        (StatusCode::Error as i32, "upstream timeout")
    );
    for key in [
        "otel.name",
        "otel.kind",
        "otel.status_code",
        "otel.status_description",
    ] {
        assert!(
            attr(&a.attributes, key).is_none(),
            "{key} is not an attribute"
        );
    }
    let b = by_name(&spans, "b");
    assert_eq!(b.kind, ProtoKind::Client as i32);
    assert_eq!(
        b.status.as_ref().map(|s| s.code),
        Some(StatusCode::Ok as i32)
    );
    let c = by_name(&spans, "c");
    assert_eq!(c.kind, ProtoKind::Producer as i32);
    assert_eq!(
        c.status.as_ref().map_or(0, |s| s.code),
        StatusCode::Unset as i32
    );
    let d = by_name(&spans, "d");
    assert_eq!(d.kind, ProtoKind::Consumer as i32);
    assert_eq!(
        attr(&d.attributes, "otel.kind_unknown"),
        Some(&V::IntValue(1))
    );
    assert_eq!(by_name(&spans, "e").kind, ProtoKind::Internal as i32);
}

#[test]
fn fields_recorded_later_are_attributes() {
    let p = Pipeline::new();
    p.run(p.builder().build(), || {
        // Recorded before the SDK span starts: the kind still applies.
        let early = tracing::info_span!("early", otel.kind = tracing::field::Empty, n = 1);
        early.record("otel.kind", "server");
        early.record("n", 2);
        drop(early);

        let span = tracing::info_span!(
            "late",
            user = tracing::field::Empty,
            otel.name = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            otel.status_description = tracing::field::Empty,
        );
        let _entered = span.enter();
        span.record("user", "bob");
        span.record("otel.name", "renamed");
        span.record("otel.status_code", "error");
        span.record("otel.status_description", "bad input");
    });
    let (spans, _) = p.flush();
    let early = by_name(&spans, "early");
    assert_eq!(early.kind, ProtoKind::Server as i32);
    assert_eq!(attr(&early.attributes, "n"), Some(&V::IntValue(2)));
    assert_eq!(
        early.attributes.iter().filter(|kv| kv.key == "n").count(),
        1,
        "replaced, not duplicated"
    );
    let late = by_name(&spans, "renamed");
    assert_eq!(str_attr(&late.attributes, "user"), Some("bob"));
    let status = late.status.as_ref().expect("status");
    assert_eq!(
        (status.code, status.message.as_str()),
        (StatusCode::Error as i32, "bad input")
    );
}

#[test]
fn follows_from_becomes_a_link() {
    let p = Pipeline::new();
    p.run(p.builder().build(), || {
        let cause = tracing::info_span!("cause");
        let effect = tracing::info_span!(parent: None, "effect");
        effect.follows_from(&cause);
        drop(effect);
        drop(cause);
    });
    let (spans, _) = p.flush();
    let cause = by_name(&spans, "cause");
    let effect = by_name(&spans, "effect");
    assert_eq!(effect.links.len(), 1);
    assert_eq!(effect.links[0].span_id, cause.span_id);
    assert_eq!(effect.links[0].trace_id, cause.trace_id);
    assert_ne!(
        effect.trace_id, cause.trace_id,
        "parent: None is a new trace"
    );
}

#[test]
fn events_become_log_records_correlated_with_their_span() {
    let p = Pipeline::new();
    let line = line!() + 6;
    p.run(p.builder().build(), || {
        let outer = tracing::info_span!("outer");
        let _outer = outer.enter();
        let inner = tracing::info_span!("inner");
        let _inner = inner.enter();
        tracing::warn!(order.id = 17, paid = false, "payment {} declined", "visa");
        tracing::info!(parent: &outer, "explicit parent");
        tracing::error!(target: "audit", ?line, "an error");
    });
    let (spans, logs) = p.flush();
    let outer = by_name(&spans, "outer");
    let inner = by_name(&spans, "inner");
    assert_eq!(logs.len(), 3);

    let warn = &logs[0];
    assert_eq!(warn.severity_number, 13);
    assert_eq!(warn.severity_text, "WARN");
    assert_eq!(
        warn.body.as_ref().and_then(|b| b.value.as_ref()),
        Some(&V::StringValue("payment visa declined".into()))
    );
    assert_eq!(attr(&warn.attributes, "order.id"), Some(&V::IntValue(17)));
    assert_eq!(attr(&warn.attributes, "paid"), Some(&V::BoolValue(false)));
    assert!(attr(&warn.attributes, "message").is_none());
    assert!(
        str_attr(&warn.attributes, "code.file.path")
            .is_some_and(|f| f.ends_with("tracing_bridge.rs"))
    );
    assert_eq!(
        attr(&warn.attributes, "code.line.number"),
        Some(&V::IntValue(i64::from(line)))
    );
    assert_eq!(
        str_attr(&warn.attributes, "log.target"),
        Some(module_path!())
    );
    assert_eq!(warn.trace_id, inner.trace_id);
    assert_eq!(warn.span_id, inner.span_id);
    assert_eq!(warn.flags & 0x01, 0x01, "sampled");
    assert!(warn.time_unix_nano > 0 && warn.observed_time_unix_nano > 0);

    assert_eq!(logs[1].span_id, outer.span_id);
    assert_eq!(logs[1].severity_number, 9);
    assert_eq!(logs[2].severity_number, 17);
    assert_eq!(logs[2].severity_text, "ERROR");
    assert_eq!(str_attr(&logs[2].attributes, "log.target"), Some("audit"));
    // Not span events unless asked.
    assert!(outer.events.is_empty() && inner.events.is_empty());
}

#[test]
fn levels_map_to_severities() {
    let p = Pipeline::new();
    p.run(p.builder().build(), || {
        tracing::trace!("t");
        tracing::debug!("d");
        tracing::info!("i");
        tracing::warn!("w");
        tracing::error!("e");
    });
    let (_, logs) = p.flush();
    let got: Vec<(i32, &str)> = logs
        .iter()
        .map(|l| (l.severity_number, l.severity_text.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "TRACE"),
            (5, "DEBUG"),
            (9, "INFO"),
            (13, "WARN"),
            (17, "ERROR")
        ]
    );
    // No span and no SDK context: no trace context.
    assert!(
        logs.iter()
            .all(|l| l.trace_id.is_empty() && l.span_id.is_empty())
    );
}

#[test]
fn span_events_only_when_asked_and_bounded() {
    let p = Pipeline::new();
    p.run(p.builder().events_as_span_events(2).build(), || {
        let span = tracing::info_span!("busy");
        let _entered = span.enter();
        for i in 0..5 {
            tracing::info!(i, "step {i}");
        }
    });
    let (spans, logs) = p.flush();
    let busy = by_name(&spans, "busy");
    assert_eq!(busy.events.len(), 2);
    assert_eq!(busy.events[0].name, "step 0");
    assert_eq!(busy.events[1].name, "step 1");
    assert_eq!(attr(&busy.events[1].attributes, "i"), Some(&V::IntValue(1)));
    assert_eq!(str_attr(&busy.events[0].attributes, "level"), Some("INFO"));
    assert_eq!(logs.len(), 5, "every event is still a log record");

    // Span events without a logger.
    let p = Pipeline::new();
    let layer = OtlpLayer::builder(p.tracer_provider.tracer("t"))
        .events_as_span_events(10)
        .build();
    p.run(layer, || {
        tracing::info_span!("quiet").in_scope(|| tracing::info!("only a span event"));
    });
    let (spans, logs) = p.flush();
    assert_eq!(by_name(&spans, "quiet").events[0].name, "only a span event");
    assert!(logs.is_empty());
}

#[test]
fn remote_parent_through_set_parent() {
    let p = Pipeline::new();
    let headers = HashMap::from([(
        "traceparent".to_owned(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
    )]);
    let remote = TraceContextPropagator.extract(&headers);
    let injected = p.run(p.builder().build(), || {
        let span = tracing::info_span!("handle", otel.kind = "server");
        span.set_parent(&remote);
        let _entered = span.enter();
        tracing::info_span!("db").in_scope(|| {});
        tracing::info!("handled");
        // What an outgoing call would carry.
        let mut out = HashMap::new();
        TraceContextPropagator.inject(&span.context(), &mut out);
        out
    });
    let (spans, logs) = p.flush();
    let handle = by_name(&spans, "handle");
    let trace_id = TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128);
    assert_eq!(handle.trace_id, trace_id.to_bytes().to_vec());
    assert_eq!(
        handle.parent_span_id,
        SpanId::from(0x00f0_67aa_0ba9_02b7_u64).to_bytes().to_vec()
    );
    assert_eq!(handle.kind, ProtoKind::Server as i32);
    // HAS_IS_REMOTE | IS_REMOTE: the parent came from another process.
    assert_eq!(handle.flags & 0x300, 0x300);
    let db = by_name(&spans, "db");
    assert_eq!(db.trace_id, handle.trace_id);
    assert_eq!(db.parent_span_id, handle.span_id);
    assert_eq!(db.flags & 0x300, 0x100, "a local parent");
    assert_eq!(logs[0].trace_id, handle.trace_id);
    let traceparent = injected.get("traceparent").expect("injected");
    let span_id_hex: String = handle.span_id.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        traceparent,
        &format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{span_id_hex}-01")
    );
}

#[test]
fn set_parent_after_start_does_nothing() {
    let p = Pipeline::new();
    let remote = otlp_sdk::Context::from_span_context(otlp_model::SpanContext::new_remote(
        TraceId::from(7_u128),
        SpanId::from(9_u64),
        TraceFlags::SAMPLED,
        otlp_model::TraceState::default(),
    ));
    p.run(p.builder().build(), || {
        let span = tracing::info_span!("started");
        let _entered = span.enter();
        span.set_parent(&remote);
    });
    let (spans, _) = p.flush();
    let span = by_name(&spans, "started");
    assert!(span.parent_span_id.is_empty());
    assert_ne!(span.trace_id, TraceId::from(7_u128).to_bytes().to_vec());
}

#[test]
fn attached_sdk_context_parents_root_tracing_spans() {
    let p = Pipeline::new();
    let tracer = p.tracer_provider.tracer("direct");
    p.run(p.builder().build(), || {
        let sdk_span = tracer.start("sdk");
        let _attached = sdk_span.attach();
        let bridged = tracing::info_span!("bridged");
        let _entered = bridged.enter();
        tracing::info_span!("nested").in_scope(|| {});
        // `parent: None` is a new trace, whatever is attached.
        tracing::info_span!(parent: None, "detached").in_scope(|| {});
        drop(_entered);
        drop(bridged);
        drop(_attached);
        drop(sdk_span);
    });
    let (spans, _) = p.flush();
    let sdk = by_name(&spans, "sdk");
    let bridged = by_name(&spans, "bridged");
    let nested = by_name(&spans, "nested");
    let detached = by_name(&spans, "detached");
    assert_eq!(bridged.parent_span_id, sdk.span_id);
    assert_eq!(bridged.trace_id, sdk.trace_id);
    assert_eq!(nested.parent_span_id, bridged.span_id);
    assert!(detached.parent_span_id.is_empty());
    assert_ne!(detached.trace_id, sdk.trace_id);
}

#[test]
fn instrumented_futures_keep_their_parent_across_await() {
    let p = Pipeline::new();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(p.builder().build()));
    // The dispatcher is the default of the worker threads (and of this one) for their whole
    // life, without a global default: the registry closes a parent through the default
    // dispatcher of the thread where its last child closes.
    let worker_dispatch = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .on_thread_start(move || {
            std::mem::forget(tracing::dispatcher::set_default(&worker_dispatch));
        })
        .build()
        .expect("runtime");
    let default = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(async {
        let request = tracing::info_span!("request");
        let handles: Vec<_> = (0..4)
            .map(|i| {
                tokio::spawn(
                    async move {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        tracing::info!("after await");
                        async {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        .instrument(tracing::info_span!("inner"))
                        .await;
                    }
                    .instrument(tracing::info_span!(parent: &request, "task", i)),
                )
            })
            .collect();
        for handle in handles {
            handle.await.expect("task");
        }
        drop(request);
    });
    drop(runtime);
    drop(default);
    let (spans, logs) = p.flush();
    let request = by_name(&spans, "request");
    let tasks: Vec<_> = spans.iter().filter(|s| s.name == "task").collect();
    let inners: Vec<_> = spans.iter().filter(|s| s.name == "inner").collect();
    assert_eq!((tasks.len(), inners.len()), (4, 4));
    for task in &tasks {
        assert_eq!(task.parent_span_id, request.span_id);
        assert_eq!(task.trace_id, request.trace_id);
    }
    for inner in &inners {
        assert!(tasks.iter().any(|t| t.span_id == inner.parent_span_id));
        assert_eq!(inner.trace_id, request.trace_id);
    }
    assert_eq!(logs.len(), 4);
    for log in &logs {
        assert!(tasks.iter().any(|t| t.span_id == log.span_id));
    }
}

#[test]
fn internal_targets_are_ignored() {
    let p = Pipeline::new();
    p.run(p.builder().build(), || {
        tracing::info!(target: "otlp_sdk::x", "internal");
        tracing::warn!(target: "hyper::proto", "internal too");
        tracing::info!(target: "hyperion", "an application target");
        let app = tracing::info_span!("app");
        let _app = app.enter();
        let internal = tracing::info_span!(target: "otlp_batch::queue", "queue");
        let _internal = internal.enter();
        // Parented to the nearest span the layer keeps.
        tracing::info_span!("app child").in_scope(|| {});
        tracing::error!(target: "h2", "ignored");
    });
    let (spans, logs) = p.flush();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let app = by_name(&spans, "app");
    assert_eq!(by_name(&spans, "app child").parent_span_id, app.span_id);
    assert_eq!(logs.len(), 1);
    assert_eq!(
        str_attr(&logs[0].attributes, "log.target"),
        Some("hyperion")
    );
}

#[test]
fn never_entered_span_is_exported_on_close() {
    let p = Pipeline::new();
    p.run(p.builder().build(), || {
        let span = tracing::info_span!("idle", otel.kind = "client", key = "v");
        std::thread::sleep(Duration::from_millis(2));
        drop(span);
    });
    let (spans, _) = p.flush();
    let idle = by_name(&spans, "idle");
    assert_eq!(idle.kind, ProtoKind::Client as i32);
    assert_eq!(str_attr(&idle.attributes, "key"), Some("v"));
    assert!(idle.end_time_unix_nano >= idle.start_time_unix_nano + 1_000_000);
}

#[test]
fn extension_trait_sets_attributes_status_and_links() {
    let p = Pipeline::new();
    let other = otlp_model::SpanContext::new_remote(
        TraceId::from(0xabc_u128),
        SpanId::from(0xdef_u64),
        TraceFlags::SAMPLED,
        otlp_model::TraceState::default(),
    );
    let seen = p.run(p.builder().build(), || {
        let span = tracing::info_span!("ext");
        // Pending: kept for the start.
        span.set_attribute(KeyValue::new("before", 1));
        span.add_link(other.clone());
        span.set_status(Status::error("early"));
        let sc = span.span_context().expect("span context");
        // Started: applied to the SDK span.
        span.set_attribute(KeyValue::new("after", "yes"));
        span.set_status(Status::error("late"));
        drop(span);
        // A disabled span: nothing, and the current SDK context.
        let none = tracing::Span::none();
        none.set_attribute(KeyValue::new("x", 1));
        assert!(none.span_context().is_none());
        assert!(none.context().span_context().is_none());
        sc
    });
    let (spans, _) = p.flush();
    let ext = by_name(&spans, "ext");
    assert_eq!(ext.span_id, seen.span_id().to_bytes().to_vec());
    assert_eq!(attr(&ext.attributes, "before"), Some(&V::IntValue(1)));
    assert_eq!(str_attr(&ext.attributes, "after"), Some("yes"));
    assert_eq!(ext.links.len(), 1);
    assert_eq!(
        ext.links[0].span_id,
        SpanId::from(0xdef_u64).to_bytes().to_vec()
    );
    let status = ext.status.as_ref().expect("status");
    assert_eq!(
        (status.code, status.message.as_str()),
        (StatusCode::Error as i32, "late")
    );
}

#[test]
fn without_the_layer_the_extension_trait_is_inert() {
    let span = tracing::info_span!("no subscriber");
    span.set_parent(&context::current());
    assert!(span.span_context().is_none());
    // A subscriber that is not a registry with the layer.
    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        let span = tracing::info_span!("plain");
        assert!(span.span_context().is_none());
    });
}

#[test]
fn sdk_span_limits_bound_what_a_span_holds() {
    let spans = InMemoryExporter::new();
    let provider = TracerProvider::builder()
        .with_span_limits(otlp_sdk::trace::SpanLimits {
            max_attributes_per_span: 2,
            max_links_per_span: 3,
            ..otlp_sdk::trace::SpanLimits::default()
        })
        .with_simple_exporter(spans.clone())
        .build();
    let layer = OtlpLayer::builder(provider.tracer("limits"))
        .with_location(false)
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("limited", a = 1, b = 2, c = 3);
        // More links than a pending span keeps: it starts, and the SDK counts the drops.
        for i in 1..=200_u64 {
            span.add_link(otlp_model::SpanContext::new_remote(
                TraceId::from(u128::from(i)),
                SpanId::from(i),
                TraceFlags::SAMPLED,
                otlp_model::TraceState::default(),
            ));
        }
    });
    provider
        .force_flush(Instant::now() + Duration::from_secs(5))
        .expect("flush");
    let exported = spans.spans();
    let span = by_name(&exported, "limited");
    assert_eq!(span.attributes.len(), 2);
    assert_eq!(span.dropped_attributes_count, 1);
    assert_eq!(span.links.len(), 3);
    assert_eq!(span.dropped_links_count, 197);
}
