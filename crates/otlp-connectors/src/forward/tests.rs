//! `forward`: the data arrives unchanged (not even copied), at every pipeline it feeds, and
//! what those pipelines answer comes back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use otlp_pipeline::testing::{Probe, connector_ctx, traces};
use otlp_pipeline::{ConnectorFactory, ConsumeError, Consumer, Resources, Signal, Telemetry};
use serde_yaml_ng::Value;

#[tokio::test]
async fn passes_the_same_request_to_the_pipeline_it_feeds() {
    let probe = Probe::new();
    let ctx = connector_ctx(
        "forward",
        Signal::Traces,
        Signal::Traces,
        vec![("traces/out", probe.clone() as Arc<dyn Consumer>)],
        Resources::default(),
    );
    let forward = super::factory().create(ctx, Value::Null).unwrap();
    let data = Telemetry::new(traces(5));
    let before = data.traces().unwrap().resource_spans.as_ptr() as usize;
    forward.consume(data).await.unwrap();
    assert_eq!(probe.items(), 5);
    assert_eq!(
        probe.addresses.lock().unwrap().as_slice(),
        [before],
        "not copied"
    );
}

#[tokio::test]
async fn feeds_every_pipeline_and_returns_their_refusal() {
    let ok = Probe::new();
    let refusing = Probe::failing([ConsumeError::permanent("backend says no")]);
    let ctx = connector_ctx(
        "forward/x",
        Signal::Logs,
        Signal::Logs,
        vec![
            ("logs/a", ok.clone() as Arc<dyn Consumer>),
            ("logs/b", refusing.clone() as Arc<dyn Consumer>),
        ],
        Resources::default(),
    );
    let forward = super::factory().create(ctx, Value::Null).unwrap();
    let error = forward
        .consume(Telemetry::new(otlp_pipeline::testing::logs(2)))
        .await
        .expect_err("one pipeline refused");
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("backend says no"), "{error}");
    assert_eq!(ok.items(), 2, "the other pipeline still got it");
    assert_eq!(refusing.calls(), 1);
}

#[test]
fn takes_no_keys_and_connects_each_signal_to_itself() {
    let factory = super::factory();
    let yaml: Value = serde_yaml_ng::from_str("{unknown: 1}").unwrap();
    assert!(otlp_pipeline::Factory::validate(&factory, &yaml).is_err());
    assert!(otlp_pipeline::Factory::validate(&factory, &Value::Null).is_ok());
    for signal in Signal::ALL {
        assert!(factory.supports(signal, signal));
    }
    assert!(!factory.supports(Signal::Traces, Signal::Metrics));
}
