//! One service's telemetry: a tracer, logger and meter provider with the service's own
//! resource, exporting over OTLP, and a `tracing` dispatcher bridged to them.
//!
//! Several services run in one process, each with its own providers: a process-wide `tracing`
//! subscriber cannot tell them apart, so each service's futures run with its own dispatcher
//! ([`tracing::instrument::WithSubscriber`]).

use std::time::Instant;

use otlp_sdk::bridge::OtlpLayer;
use otlp_sdk::env::Env;
use otlp_sdk::export::{BatchSettings, Signal, otlp_exporter};
use otlp_sdk::logs::LoggerProvider;
use otlp_sdk::metrics::{Meter, MeterProvider, PeriodicReader, PeriodicSettings};
use otlp_sdk::trace::{Tracer, TracerProvider};
use otlp_sdk::{Resource, SdkError};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// The instrumentation scope of everything the demo records.
pub const SCOPE: &str = "otlp-demo";

/// A service's providers and its `tracing` dispatcher.
#[derive(Debug)]
pub struct Telemetry {
    service: &'static str,
    tracer_provider: TracerProvider,
    logger_provider: LoggerProvider,
    meter_provider: MeterProvider,
    dispatch: Dispatch,
}

impl Telemetry {
    /// Providers for `service` (its `service.name`, over the detected resource) exporting over
    /// OTLP as the `OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`, `OTEL_BLRP_*` and
    /// `OTEL_METRIC_EXPORT_*` variables of `env` say.
    ///
    /// # Errors
    ///
    /// An invalid exporter configuration, or an export thread that could not start.
    pub fn start(service: &'static str, env: &dyn Env) -> Result<Self, SdkError> {
        let resource = Resource::builder()
            .with_default_detectors()
            .with_service_name(service)
            .build();
        let tracer_provider = TracerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter_settings(
                otlp_exporter(Signal::Traces, env)?,
                BatchSettings::spans_from_env(env),
            )
            .try_build()?;
        let logger_provider = LoggerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter_settings(
                otlp_exporter(Signal::Logs, env)?,
                BatchSettings::logs_from_env(env),
            )
            .try_build()?;
        let meter_provider = MeterProvider::builder()
            .with_resource(resource)
            .with_reader(PeriodicReader::new(
                otlp_exporter(Signal::Metrics, env)?,
                PeriodicSettings::from_env(env),
            )?)
            .build();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(bridge(
            tracer_provider.tracer(SCOPE),
            logger_provider.logger(SCOPE),
        )));
        Ok(Self {
            service,
            tracer_provider,
            logger_provider,
            meter_provider,
            dispatch,
        })
    }

    /// The service's name.
    #[must_use]
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// The service's tracer.
    #[must_use]
    pub fn tracer(&self) -> Tracer {
        self.tracer_provider.tracer(SCOPE)
    }

    /// The service's meter.
    #[must_use]
    pub fn meter(&self) -> Meter {
        self.meter_provider.meter(SCOPE)
    }

    /// The `tracing` dispatcher whose spans and events become this service's spans and log
    /// records.
    #[must_use]
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// Flushes and shuts down the three providers, returning by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported, per provider.
    pub fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        let mut errors: Vec<SdkError> = [
            self.tracer_provider.shutdown(deadline),
            self.logger_provider.shutdown(deadline),
            self.meter_provider.shutdown(deadline),
        ]
        .into_iter()
        .filter_map(Result::err)
        .filter(|e| !matches!(e, SdkError::AlreadyShutdown))
        .collect();
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(SdkError::Multiple(errors)),
        }
    }
}

/// The SDK's `tracing` bridge: `tracing` spans become spans of `tracer`, events log records of
/// `logger`, correlated with the current span.
#[must_use]
pub fn bridge(tracer: Tracer, logger: otlp_sdk::logs::Logger) -> OtlpLayer {
    OtlpLayer::builder(tracer).logger(logger).build()
}
