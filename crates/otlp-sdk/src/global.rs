//! The process-wide providers and propagators that libraries reach without being handed
//! them (what [`init`](crate::init) installs).

use std::sync::{Arc, PoisonError, RwLock};

use otlp_propagation::Propagators;

#[cfg(feature = "logs")]
use crate::logs::{Logger, LoggerProvider};
#[cfg(feature = "metrics")]
use crate::metrics::{Meter, MeterProvider};
#[cfg(feature = "trace")]
use crate::trace::{AlwaysOff, Tracer, TracerProvider};

#[derive(Default)]
struct Globals {
    #[cfg(feature = "trace")]
    tracer_provider: Option<TracerProvider>,
    #[cfg(feature = "logs")]
    logger_provider: Option<LoggerProvider>,
    #[cfg(feature = "metrics")]
    meter_provider: Option<MeterProvider>,
    propagators: Option<Arc<Propagators>>,
}

static GLOBALS: RwLock<Option<Globals>> = RwLock::new(None);

fn read<R>(f: impl FnOnce(Option<&Globals>) -> R) -> R {
    let globals = GLOBALS.read().unwrap_or_else(PoisonError::into_inner);
    f(globals.as_ref())
}

fn write(f: impl FnOnce(&mut Globals)) {
    let mut globals = GLOBALS.write().unwrap_or_else(PoisonError::into_inner);
    f(globals.get_or_insert_with(Globals::default));
}

/// Installs the global tracer provider, returning the previous one.
#[cfg(feature = "trace")]
pub fn set_tracer_provider(provider: TracerProvider) -> Option<TracerProvider> {
    let mut previous = None;
    write(|g| previous = g.tracer_provider.replace(provider));
    previous
}

/// The global tracer provider, if one is installed.
#[cfg(feature = "trace")]
#[must_use]
pub fn tracer_provider() -> Option<TracerProvider> {
    read(|g| g.and_then(|g| g.tracer_provider.clone()))
}

/// A tracer of the global provider; without one, a tracer whose spans do not record (they
/// still carry a valid context, so propagation keeps working).
#[cfg(feature = "trace")]
#[must_use]
pub fn tracer(name: &str) -> Tracer {
    tracer_provider()
        .unwrap_or_else(|| TracerProvider::builder().with_sampler(AlwaysOff).build())
        .tracer(name.to_owned())
}

/// Installs the global logger provider, returning the previous one.
#[cfg(feature = "logs")]
pub fn set_logger_provider(provider: LoggerProvider) -> Option<LoggerProvider> {
    let mut previous = None;
    write(|g| previous = g.logger_provider.replace(provider));
    previous
}

/// The global logger provider, if one is installed.
#[cfg(feature = "logs")]
#[must_use]
pub fn logger_provider() -> Option<LoggerProvider> {
    read(|g| g.and_then(|g| g.logger_provider.clone()))
}

/// A logger of the global provider; without one, a logger that emits nothing.
#[cfg(feature = "logs")]
#[must_use]
pub fn logger(name: &str) -> Logger {
    logger_provider()
        .unwrap_or_else(|| LoggerProvider::builder().build())
        .logger(name.to_owned())
}

/// Installs the global meter provider, returning the previous one.
#[cfg(feature = "metrics")]
pub fn set_meter_provider(provider: MeterProvider) -> Option<MeterProvider> {
    let mut previous = None;
    write(|g| previous = g.meter_provider.replace(provider));
    previous
}

/// The global meter provider, if one is installed.
#[cfg(feature = "metrics")]
#[must_use]
pub fn meter_provider() -> Option<MeterProvider> {
    read(|g| g.and_then(|g| g.meter_provider.clone()))
}

/// A meter of the global provider; without one, a meter whose instruments record nothing.
#[cfg(feature = "metrics")]
#[must_use]
pub fn meter(name: &str) -> Meter {
    meter_provider()
        .unwrap_or_else(|| MeterProvider::builder().build())
        .meter(name.to_owned())
}

/// Installs the global propagators.
pub fn set_propagators(propagators: Propagators) {
    write(|g| g.propagators = Some(Arc::new(propagators)));
}

/// The global propagators (W3C trace context and baggage when none were installed).
#[must_use]
pub fn propagators() -> Arc<Propagators> {
    read(|g| g.and_then(|g| g.propagators.clone())).unwrap_or_else(|| Arc::new(Propagators::w3c()))
}

/// Removes everything installed (the providers are shut down when their last user is gone).
pub fn reset() {
    let mut globals = GLOBALS.write().unwrap_or_else(PoisonError::into_inner);
    *globals = None;
}
