//! The OTLP exporter (feature `otlp`): `otlp-transport`'s client, configured like every
//! OpenTelemetry SDK from the `OTEL_EXPORTER_OTLP_*` variables.

use otlp_transport::Signal;
use otlp_transport::client::{ExporterConfig, OtlpExporter, RetryConfig};

use crate::env::{Env, ProcessEnv};
use crate::error::SdkError;

/// An OTLP exporter for `signal` configured from `env`: `OTEL_EXPORTER_OTLP_PROTOCOL`
/// (`http/protobuf` by default, `grpc`, `http/json`), `_ENDPOINT`, `_HEADERS`,
/// `_COMPRESSION`, `_TIMEOUT`, `_CERTIFICATE`, `_CLIENT_KEY`, `_CLIENT_CERTIFICATE`,
/// `_INSECURE`, each with its per-signal form (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, ...)
/// winning for that signal.
///
/// The transport's own retry loop is turned off: the processor's export queue retries
/// (with backoff, within the processor's deadlines), so a failing destination is retried in
/// one place.
///
/// # Errors
///
/// An invalid variable, named in the message.
pub fn otlp_exporter(signal: Signal, env: &dyn Env) -> Result<OtlpExporter, SdkError> {
    let config = ExporterConfig::from_env_with(signal, |key| env.get(key))
        .map_err(|e| SdkError::Config(e.to_string()))?;
    config
        .into_builder()
        .retry(RetryConfig::disabled())
        .build()
        .map_err(|e| SdkError::Config(e.to_string()))
}

/// [`otlp_exporter`] over the process environment.
///
/// # Errors
///
/// An invalid variable, named in the message.
pub fn otlp_exporter_from_env(signal: Signal) -> Result<OtlpExporter, SdkError> {
    otlp_exporter(signal, &ProcessEnv)
}
