//! One call that sets the SDK up from the environment, as every OpenTelemetry SDK reads it.

use std::time::Instant;

use otlp_propagation::Propagators;
use otlp_transport::Signal;

use crate::env::{Env, ProcessEnv, bool_var, invalid};
use crate::error::{DEFAULT_SHUTDOWN_TIMEOUT, SdkError};
use crate::global;
use crate::resource::Resource;

#[cfg(feature = "logs")]
use crate::logs::{LogRecordLimits, Logger, LoggerProvider};
#[cfg(feature = "metrics")]
use crate::metrics::{ExemplarFilter, Meter, MeterProvider, PeriodicReader, PeriodicSettings};
#[cfg(feature = "trace")]
use crate::trace::{AlwaysOff, SpanLimits, Tracer, TracerProvider, sampler_from_env};

/// What [`init`] set up; dropping it flushes and shuts everything down (within 5 s), so
/// keep it alive in `main`.
#[derive(Debug)]
#[must_use = "dropping the guard shuts the SDK down"]
pub struct Guard {
    #[cfg(feature = "trace")]
    tracer_provider: TracerProvider,
    #[cfg(feature = "logs")]
    logger_provider: LoggerProvider,
    #[cfg(feature = "metrics")]
    meter_provider: MeterProvider,
    done: bool,
}

impl Guard {
    /// The tracer provider (non-recording when disabled or without a traces exporter).
    #[cfg(feature = "trace")]
    #[must_use]
    pub fn tracer_provider(&self) -> &TracerProvider {
        &self.tracer_provider
    }

    /// A tracer of the provider.
    #[cfg(feature = "trace")]
    pub fn tracer(&self, name: impl Into<String>) -> Tracer {
        self.tracer_provider.tracer(name)
    }

    /// The logger provider.
    #[cfg(feature = "logs")]
    #[must_use]
    pub fn logger_provider(&self) -> &LoggerProvider {
        &self.logger_provider
    }

    /// A logger of the provider.
    #[cfg(feature = "logs")]
    pub fn logger(&self, name: impl Into<String>) -> Logger {
        self.logger_provider.logger(name)
    }

    /// The meter provider.
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn meter_provider(&self) -> &MeterProvider {
        &self.meter_provider
    }

    /// A meter of the provider.
    #[cfg(feature = "metrics")]
    pub fn meter(&self, name: impl Into<String>) -> Meter {
        self.meter_provider.meter(name)
    }

    /// Flushes and shuts down every provider, returning by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported, per provider.
    pub fn shutdown(mut self, deadline: Instant) -> Result<(), SdkError> {
        self.shutdown_by(deadline)
    }

    #[cfg_attr(not(any(feature = "trace", feature = "logs")), allow(unused_variables))]
    #[allow(clippy::vec_init_then_push)] // pushes under cfg
    fn shutdown_by(&mut self, deadline: Instant) -> Result<(), SdkError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(());
        }
        global::reset();
        #[allow(unused_mut)]
        let mut results = Vec::new();
        #[cfg(feature = "trace")]
        results.push(self.tracer_provider.shutdown(deadline));
        #[cfg(feature = "logs")]
        results.push(self.logger_provider.shutdown(deadline));
        #[cfg(feature = "metrics")]
        results.push(self.meter_provider.shutdown(deadline));
        SdkError::combine(
            results
                .into_iter()
                .filter(|r| !matches!(r, Err(SdkError::AlreadyShutdown)))
                .collect(),
        )
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown_by(Instant::now() + DEFAULT_SHUTDOWN_TIMEOUT) {
            tracing::warn!(target: "otlp_sdk", "shutdown: {error}");
        }
    }
}

/// Sets up traces and logs from the process environment and installs them as the
/// [`global`](crate::global) providers and propagators. See [`init_with`].
///
/// # Errors
///
/// An invalid `OTEL_EXPORTER_OTLP_*` or `OTEL_PROPAGATORS` value, or an export thread that
/// could not start.
pub fn init() -> Result<Guard, SdkError> {
    init_with(&ProcessEnv)
}

/// Sets up traces and logs from `env`:
///
/// | variable | effect |
/// |---|---|
/// | `OTEL_SDK_DISABLED=true` | nothing records or exports; spans still propagate context |
/// | `OTEL_TRACES_EXPORTER`, `OTEL_LOGS_EXPORTER`, `OTEL_METRICS_EXPORTER` | `otlp` (default), `console` (stdout), `none`; metrics also `prometheus` (a pull endpoint on `OTEL_EXPORTER_PROMETHEUS_HOST`:`_PORT`, default localhost:9464) |
/// | `OTEL_METRIC_EXPORT_INTERVAL`, `_TIMEOUT`, `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, `OTEL_METRICS_EXEMPLAR_FILTER` | the periodic reader |
/// | `OTEL_EXPORTER_OTLP_*` | endpoint, protocol, headers, compression, timeout, TLS |
/// | `OTEL_TRACES_SAMPLER`, `_ARG` | the sampler (default `parentbased_always_on`) |
/// | `OTEL_BSP_*`, `OTEL_BLRP_*` | the batch processors |
/// | `OTEL_SPAN_*`, `OTEL_LOGRECORD_*`, `OTEL_ATTRIBUTE_*` | limits |
/// | `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME` | the resource |
/// | `OTEL_PROPAGATORS` | the global propagators (default `tracecontext,baggage`) |
///
/// # Errors
///
/// As [`init`].
pub fn init_with(env: &dyn Env) -> Result<Guard, SdkError> {
    let propagators = Propagators::from_env_value(env.get("OTEL_PROPAGATORS").as_deref())
        .map_err(|e| SdkError::Config(e.to_string()))?;
    let disabled = bool_var(env, "OTEL_SDK_DISABLED") == Some(true);
    let resource = if disabled {
        Resource::empty()
    } else {
        Resource::detect_with_env(env)
    };

    #[cfg(feature = "trace")]
    let tracer_provider = {
        let builder = TracerProvider::builder().with_resource(resource.clone());
        if disabled {
            builder.with_sampler(AlwaysOff).build()
        } else {
            let builder = builder
                .with_boxed_sampler(sampler_from_env(env))
                .with_span_limits(SpanLimits::from_env(env));
            let settings = crate::export::BatchSettings::spans_from_env(env);
            match exporter_kind(env, "OTEL_TRACES_EXPORTER") {
                Exporter::None => builder.build(),
                Exporter::Console => builder
                    .with_batch_exporter_settings(crate::export::StdoutExporter::new(), settings)
                    .try_build()?,
                Exporter::Otlp => builder
                    .with_batch_exporter_settings(otlp(Signal::Traces, env)?, settings)
                    .try_build()?,
            }
        }
    };

    #[cfg(feature = "logs")]
    let logger_provider = {
        let builder = LoggerProvider::builder().with_resource(resource.clone());
        if disabled {
            builder.build()
        } else {
            let builder = builder.with_limits(LogRecordLimits::from_env(env));
            let settings = crate::export::BatchSettings::logs_from_env(env);
            match exporter_kind(env, "OTEL_LOGS_EXPORTER") {
                Exporter::None => builder.build(),
                Exporter::Console => builder
                    .with_batch_exporter_settings(crate::export::StdoutExporter::new(), settings)
                    .try_build()?,
                Exporter::Otlp => builder
                    .with_batch_exporter_settings(otlp(Signal::Logs, env)?, settings)
                    .try_build()?,
            }
        }
    };
    #[cfg(feature = "metrics")]
    let meter_provider = {
        let builder = MeterProvider::builder().with_resource(resource.clone());
        if disabled {
            builder.build()
        } else {
            let builder = builder.with_exemplar_filter(ExemplarFilter::from_env(env));
            let settings = PeriodicSettings::from_env(env);
            match metrics_exporter_kind(env) {
                MetricsExporter::None => builder.build(),
                MetricsExporter::Console => builder
                    .with_reader(PeriodicReader::new(
                        crate::export::StdoutExporter::new(),
                        settings,
                    )?)
                    .build(),
                MetricsExporter::Otlp => builder
                    .with_reader(PeriodicReader::new(otlp(Signal::Metrics, env)?, settings)?)
                    .build(),
                MetricsExporter::Prometheus => builder
                    .with_reader(crate::metrics::PrometheusReader::from_env(env)?)
                    .build(),
            }
        }
    };
    let _ = resource;

    global::set_propagators(propagators);
    #[cfg(feature = "trace")]
    global::set_tracer_provider(tracer_provider.clone());
    #[cfg(feature = "logs")]
    global::set_logger_provider(logger_provider.clone());
    #[cfg(feature = "metrics")]
    global::set_meter_provider(meter_provider.clone());
    Ok(Guard {
        #[cfg(feature = "trace")]
        tracer_provider,
        #[cfg(feature = "logs")]
        logger_provider,
        #[cfg(feature = "metrics")]
        meter_provider,
        done: false,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exporter {
    Otlp,
    Console,
    None,
}

fn exporter_kind(env: &dyn Env, key: &str) -> Exporter {
    let Some(raw) = env.get(key) else {
        return Exporter::Otlp;
    };
    // A list is allowed; the first value this SDK knows is used.
    for name in raw.split(',').map(str::trim) {
        match name {
            "otlp" => return Exporter::Otlp,
            "console" => return Exporter::Console,
            "none" => return Exporter::None,
            _ => invalid(key, name, "otlp, console or none"),
        }
    }
    Exporter::Otlp
}

#[cfg(feature = "metrics")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetricsExporter {
    Otlp,
    Console,
    Prometheus,
    None,
}

#[cfg(feature = "metrics")]
fn metrics_exporter_kind(env: &dyn Env) -> MetricsExporter {
    let key = "OTEL_METRICS_EXPORTER";
    let Some(raw) = env.get(key) else {
        return MetricsExporter::Otlp;
    };
    for name in raw.split(',').map(str::trim) {
        match name {
            "otlp" => return MetricsExporter::Otlp,
            "console" => return MetricsExporter::Console,
            "prometheus" => return MetricsExporter::Prometheus,
            "none" => return MetricsExporter::None,
            _ => invalid(key, name, "otlp, prometheus, console or none"),
        }
    }
    MetricsExporter::Otlp
}

#[cfg(feature = "otlp")]
fn otlp(signal: Signal, env: &dyn Env) -> Result<otlp_transport::client::OtlpExporter, SdkError> {
    crate::export::otlp_exporter(signal, env)
}

#[cfg(not(feature = "otlp"))]
fn otlp(_signal: Signal, _env: &dyn Env) -> Result<crate::export::StdoutExporter, SdkError> {
    Err(SdkError::Config(
        "OTLP export needs the `otlp` cargo feature (set OTEL_*_EXPORTER=console or none)".into(),
    ))
}
