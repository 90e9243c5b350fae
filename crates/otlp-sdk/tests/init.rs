//! `init_with`: the SDK set up from `OTEL_*` variables (one test: `init` installs globals).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use otlp_sdk::{global, init_with};

#[test]
fn init_from_the_environment() {
    // Disabled: spans do not record but still carry a context; nothing is exported.
    let env = HashMap::from([("OTEL_SDK_DISABLED", "true"), ("OTEL_SERVICE_NAME", "x")]);
    let guard = init_with(&env).expect("init");
    let span = guard.tracer("t").start("s");
    assert!(!span.is_recording());
    assert!(span.span_context().is_valid());
    assert!(guard.tracer_provider().resource().is_empty());
    assert!(!guard.logger("l").enabled());
    drop(span);
    guard
        .shutdown(Instant::now() + Duration::from_secs(1))
        .expect("shutdown");

    // No exporters, a ratio sampler, limits, B3 propagation, the service name.
    let env = HashMap::from([
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ("OTEL_PROPAGATORS", "b3multi"),
        ("OTEL_SERVICE_NAME", "checkout"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=ignored,team=payments%20eu",
        ),
    ]);
    let guard = init_with(&env).expect("init");
    let resource = guard.tracer_provider().resource();
    assert_eq!(
        resource.get("service.name").and_then(|v| v.as_str()),
        Some("checkout")
    );
    assert_eq!(
        resource.get("team").and_then(|v| v.as_str()),
        Some("payments eu")
    );
    assert_eq!(
        resource
            .get("telemetry.sdk.language")
            .and_then(|v| v.as_str()),
        Some("rust")
    );
    assert!(
        !guard.tracer("t").start("s").is_recording(),
        "ratio 0 samples nothing"
    );
    let fields: Vec<&str> = global::propagators()
        .iter()
        .flat_map(|p| p.fields().to_vec())
        .collect();
    assert!(fields.contains(&"x-b3-traceid"), "{fields:?}");
    assert!(global::tracer_provider().is_some());
    guard
        .shutdown(Instant::now() + Duration::from_secs(1))
        .expect("shutdown");
    assert!(
        global::tracer_provider().is_none(),
        "shutdown uninstalls the globals"
    );

    // Invalid values: an unknown propagator and a bad endpoint are errors naming the variable.
    let env = HashMap::from([("OTEL_PROPAGATORS", "nope")]);
    assert!(init_with(&env).is_err());
    let env = HashMap::from([("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "::not a url")]);
    let error = init_with(&env).expect_err("bad endpoint").to_string();
    assert!(
        error.contains("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        "{error}"
    );
}
