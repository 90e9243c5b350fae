//! Runs the `gateway` example's self-test: a real HTTP gateway on 127.0.0.1:0 in front of an
//! echo upstream, checking that the outgoing request carries the same trace id and a new span
//! id (and that B3 in becomes W3C and B3 out).

#![cfg(feature = "http")]

#[allow(dead_code)]
#[path = "../examples/gateway.rs"]
mod gateway;

#[tokio::test]
async fn gateway_continues_the_trace() {
    if let Err(e) = gateway::self_test().await {
        panic!("{e}");
    }
}

#[tokio::test]
async fn gateway_with_no_propagators_starts_new_traces() {
    let addr = gateway::start(otlp_propagation::Propagators::none())
        .await
        .unwrap();
    let echo = gateway::call(
        addr,
        &[(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )],
    )
    .await
    .unwrap();
    // `none` owns no fields, so the caller's header is forwarded untouched and nothing is
    // injected; the gateway's own (root) trace id differs.
    assert_eq!(
        echo.get("traceparent"),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    );
    assert_ne!(echo.trace_id_header, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(echo.trace_id_header.len(), 32);
}
