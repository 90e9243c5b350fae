//! Readers: how collected metrics leave the SDK — on a schedule to an exporter
//! ([`PeriodicReader`]), on demand ([`ManualReader`]), or when scraped
//! ([`PrometheusReader`](crate::metrics::PrometheusReader)).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use otlp_batch::{BatchExporter, BatchQueue, BatchQueueConfig};
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;

use crate::env::{Env, millis_var};
use crate::error::SdkError;
use crate::export::worker::drain_outcome;
use crate::metrics::TemporalityPreference;
use crate::metrics::pipeline::Pipeline;

/// A reader's handle on its pipeline: collects every instrument the reader sees.
#[derive(Clone, Debug)]
pub struct MetricsCollector {
    pipeline: Arc<Pipeline>,
}

impl MetricsCollector {
    pub(crate) fn new(pipeline: Arc<Pipeline>) -> Self {
        Self { pipeline }
    }

    /// Runs the observable instruments' callbacks and collects every stream now.
    #[must_use]
    pub fn collect(&self) -> ExportMetricsServiceRequest {
        self.pipeline.collect()
    }
}

/// A metric reader, registered on a [`MeterProvider`](crate::metrics::MeterProvider).
pub trait MetricReader: Send + Sync + std::fmt::Debug + 'static {
    /// The temporality it wants per instrument kind.
    fn temporality(&self) -> TemporalityPreference;

    /// Called once when the provider is built, with the reader's collector.
    fn register(&self, collector: MetricsCollector);

    /// Collects and exports now; returns by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported.
    fn force_flush(&self, deadline: Instant) -> Result<(), SdkError>;

    /// A last collection and export, then stops; returns by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported.
    fn shutdown(&self, deadline: Instant) -> Result<(), SdkError>;
}

/// Collects when asked: for tests, and for code that exports on its own schedule. Clones share
/// the registration.
#[derive(Clone, Debug)]
pub struct ManualReader {
    temporality: TemporalityPreference,
    collector: Arc<OnceLock<MetricsCollector>>,
    shut: Arc<AtomicBool>,
}

impl ManualReader {
    /// A reader with `temporality`.
    #[must_use]
    pub fn new(temporality: TemporalityPreference) -> Self {
        Self {
            temporality,
            collector: Arc::new(OnceLock::new()),
            shut: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Collects now.
    ///
    /// # Errors
    ///
    /// [`SdkError::Config`] when the reader is not registered on a provider,
    /// [`SdkError::AlreadyShutdown`] after shutdown.
    pub fn collect(&self) -> Result<ExportMetricsServiceRequest, SdkError> {
        if self.shut.load(Ordering::Relaxed) {
            return Err(SdkError::AlreadyShutdown);
        }
        self.collector
            .get()
            .map(MetricsCollector::collect)
            .ok_or_else(|| SdkError::Config("the reader is not registered on a provider".into()))
    }
}

impl Default for ManualReader {
    fn default() -> Self {
        Self::new(TemporalityPreference::Cumulative)
    }
}

impl MetricReader for ManualReader {
    fn temporality(&self) -> TemporalityPreference {
        self.temporality
    }

    fn register(&self, collector: MetricsCollector) {
        let _ = self.collector.set(collector);
    }

    fn force_flush(&self, _deadline: Instant) -> Result<(), SdkError> {
        Ok(())
    }

    fn shutdown(&self, _deadline: Instant) -> Result<(), SdkError> {
        if self.shut.swap(true, Ordering::Relaxed) {
            return Err(SdkError::AlreadyShutdown);
        }
        Ok(())
    }
}

/// When the periodic reader collects, and how long an export may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodicSettings {
    /// Between two collections (spec default 60 s, `OTEL_METRIC_EXPORT_INTERVAL`).
    pub interval: Duration,
    /// One export at most (spec default 30 s, `OTEL_METRIC_EXPORT_TIMEOUT`).
    pub timeout: Duration,
    /// The temporality asked of the pipeline (default cumulative;
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
    pub temporality: TemporalityPreference,
}

impl Default for PeriodicSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(60_000),
            timeout: Duration::from_millis(30_000),
            temporality: TemporalityPreference::Cumulative,
        }
    }
}

impl PeriodicSettings {
    /// The settings from `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT` (ms) and
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`.
    #[must_use]
    pub fn from_env(env: &dyn Env) -> Self {
        let defaults = Self::default();
        Self {
            interval: millis_var(env, "OTEL_METRIC_EXPORT_INTERVAL")
                .filter(|d| !d.is_zero())
                .unwrap_or(defaults.interval),
            timeout: millis_var(env, "OTEL_METRIC_EXPORT_TIMEOUT")
                .filter(|d| !d.is_zero())
                .unwrap_or(defaults.timeout),
            temporality: TemporalityPreference::from_env(env),
        }
    }
}

#[derive(Default)]
struct Control {
    flush_requested: u64,
    flush_done: u64,
    shutdown: bool,
    done: bool,
}

struct Periodic {
    settings: PeriodicSettings,
    queue: BatchQueue<ExportMetricsServiceRequest>,
    control: Mutex<Control>,
    wake: Condvar,
    woken: Condvar,
}

/// Collects every `interval` on a thread of its own and exports through an
/// `otlp_batch::BatchExporter` (the OTLP exporter, or any other) — no runtime required;
/// `force_flush` and `shutdown` collect once more, export, and return by their deadline.
pub struct PeriodicReader {
    inner: Arc<Periodic>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for PeriodicReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeriodicReader")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl PeriodicReader {
    /// A reader exporting through `exporter` with `settings`.
    ///
    /// # Errors
    ///
    /// The export thread could not start.
    pub fn new(
        exporter: impl BatchExporter<ExportMetricsServiceRequest>,
        settings: PeriodicSettings,
    ) -> Result<Self, SdkError> {
        let mut config = BatchQueueConfig::default();
        config.batch.send_batch_size = 1;
        config.batch.timeout = Duration::ZERO;
        config.queue.num_consumers = 1;
        config.queue.capacity_items = 1 << 20;
        config.queue.capacity_bytes = 64 << 20;
        config.queue.export_timeout = settings.timeout;
        config.retry.initial_interval = Duration::from_secs(1);
        config.retry.max_interval = Duration::from_secs(5);
        config.retry.max_elapsed_time = settings.interval.min(Duration::from_secs(60));
        let queue = BatchQueue::spawn_dedicated(config, Arc::new(exporter))
            .map_err(|e| SdkError::Build(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Periodic {
                settings,
                queue,
                control: Mutex::new(Control::default()),
                wake: Condvar::new(),
                woken: Condvar::new(),
            }),
            thread: Mutex::new(None),
        })
    }
}

impl Periodic {
    fn run(&self, collector: &MetricsCollector) {
        let mut next = Instant::now() + self.settings.interval;
        loop {
            let mut control = self.control.lock().unwrap_or_else(PoisonError::into_inner);
            while !control.shutdown && control.flush_requested == control.flush_done {
                let now = Instant::now();
                if now >= next {
                    break;
                }
                control = self
                    .wake
                    .wait_timeout(control, next - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            let (flush, shutdown) = (control.flush_requested, control.shutdown);
            drop(control);

            let request = collector.collect();
            if !request.resource_metrics.is_empty() {
                let deadline = Instant::now() + self.settings.timeout;
                if let Err(e) = self.queue.enqueue_blocking(request, deadline) {
                    tracing::warn!(target: "otlp_sdk", "metrics not exported: {e}");
                }
            }
            next = Instant::now() + self.settings.interval;

            let mut control = self.control.lock().unwrap_or_else(PoisonError::into_inner);
            control.flush_done = control.flush_done.max(flush);
            control.done = shutdown;
            drop(control);
            self.woken.notify_all();
            if shutdown {
                return;
            }
        }
    }

    /// Waits until the worker passed `check` or the deadline.
    fn wait(&self, deadline: Instant, check: impl Fn(&Control) -> bool) -> bool {
        let mut control = self.control.lock().unwrap_or_else(PoisonError::into_inner);
        while !check(&control) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            control = self
                .woken
                .wait_timeout(control, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl MetricReader for PeriodicReader {
    fn temporality(&self) -> TemporalityPreference {
        self.inner.settings.temporality
    }

    fn register(&self, collector: MetricsCollector) {
        let mut thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        if thread.is_some() {
            return;
        }
        let inner = Arc::clone(&self.inner);
        match std::thread::Builder::new()
            .name("otlp-sdk-metrics".into())
            .spawn(move || inner.run(&collector))
        {
            Ok(handle) => *thread = Some(handle),
            Err(e) => tracing::error!(target: "otlp_sdk", "metrics reader not started: {e}"),
        }
    }

    fn force_flush(&self, deadline: Instant) -> Result<(), SdkError> {
        let target = {
            let mut control = self
                .inner
                .control
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if control.shutdown {
                return Err(SdkError::AlreadyShutdown);
            }
            control.flush_requested += 1;
            control.flush_requested
        };
        self.inner.wake.notify_one();
        if !self
            .inner
            .wait(deadline, |c| c.flush_done >= target || c.done)
        {
            return Err(SdkError::DeadlineExceeded { pending: 0 });
        }
        drain_outcome(self.inner.queue.flush_blocking(deadline), 0)
    }

    fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        {
            let mut control = self
                .inner
                .control
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if control.shutdown {
                return Err(SdkError::AlreadyShutdown);
            }
            control.shutdown = true;
        }
        self.inner.wake.notify_one();
        let running = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        let finished = !running || self.inner.wait(deadline, |c| c.done);
        let outcome = drain_outcome(self.inner.queue.shutdown_blocking(deadline), 0);
        if finished
            && let Some(thread) = self
                .thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        {
            thread.join().ok();
        }
        outcome
    }
}
