//! Producer and consumer spans across a message's headers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use otlp_instrumentation::messaging::{Messaging, Parent};
use otlp_propagation::Propagators;
use otlp_proto::common::v1::any_value::Value as V;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_sdk::export::InMemoryExporter;
use otlp_sdk::metrics::{ManualReader, MeterProvider};
use otlp_sdk::trace::TracerProvider;

#[test]
fn the_consumer_links_to_or_continues_the_producer() {
    let spans = InMemoryExporter::new();
    let tracer_provider = TracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let reader = ManualReader::default();
    let meter_provider = MeterProvider::builder().with_reader(reader.clone()).build();
    let kafka = Messaging::new(
        "kafka",
        tracer_provider.tracer("orders"),
        &meter_provider.meter("orders"),
    )
    .with_propagators(Propagators::w3c());

    let request = tracer_provider.tracer("orders").start("POST /orders");
    let mut headers: Vec<(String, Vec<u8>)> = vec![("key".into(), b"order-1".to_vec())];
    {
        let _g = request.attach();
        kafka.send("payments", &mut headers).end();
    }
    drop(request);
    assert!(headers.iter().any(|(k, _)| k == "traceparent"));

    // Default: a link, and the consumer's own (empty) context as parent: a new trace.
    let linked = kafka.process("payments", &headers, Parent::Link);
    let linked_trace = linked.span().span_context().trace_id();
    linked.end();
    // Asked: continue the producer's trace.
    let continued = kafka.process("payments", &headers, Parent::Creation);
    {
        let _g = continued.attach();
        tracer_provider
            .tracer("payments")
            .start("charge card")
            .end();
    }
    continued.fail("timeout", "payment gateway timed out");

    tracer_provider
        .force_flush(Instant::now() + Duration::from_secs(5))
        .unwrap();
    let exported = spans.spans();
    let find = |name: &str, n: usize| {
        exported
            .iter()
            .filter(|s| s.name == name)
            .nth(n)
            .unwrap()
            .clone()
    };
    let (root, send) = (find("POST /orders", 0), find("send payments", 0));
    let (linked, continued, charge) = (
        find("process payments", 0),
        find("process payments", 1),
        find("charge card", 0),
    );
    assert_eq!(send.kind, SpanKind::Producer as i32);
    assert_eq!(send.parent_span_id, root.span_id);
    let attr = |s: &otlp_proto::trace::v1::Span, k: &str| {
        s.attributes
            .iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.clone()?.value)
    };
    assert_eq!(
        attr(&send, "messaging.system"),
        Some(V::StringValue("kafka".into()))
    );
    assert_eq!(
        attr(&send, "messaging.operation.type"),
        Some(V::StringValue("send".into()))
    );
    assert_eq!(
        attr(&send, "messaging.destination.name"),
        Some(V::StringValue("payments".into()))
    );

    assert_eq!(linked.kind, SpanKind::Consumer as i32);
    assert_ne!(linked.trace_id, send.trace_id);
    assert_eq!(linked_trace.to_bytes().to_vec(), linked.trace_id);
    assert_eq!(linked.links.len(), 1);
    assert_eq!(linked.links[0].span_id, send.span_id);
    assert_eq!(linked.links[0].trace_id, send.trace_id);

    assert_eq!(continued.trace_id, send.trace_id);
    assert_eq!(continued.parent_span_id, send.span_id);
    assert_eq!(continued.links[0].span_id, send.span_id);
    assert_eq!(
        charge.parent_span_id, continued.span_id,
        "the handler runs in the process span"
    );
    assert_eq!(continued.status.as_ref().map(|s| s.code), Some(2));
    assert_eq!(
        attr(&continued, "error.type"),
        Some(V::StringValue("timeout".into()))
    );

    let metrics = reader.collect().unwrap();
    let names: Vec<&str> = metrics
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| m.name.as_str())
        .collect();
    for expected in [
        "messaging.client.operation.duration",
        "messaging.process.duration",
        "messaging.client.sent.messages",
        "messaging.client.consumed.messages",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
}
