//! [`Metrics`]: named counters, gauges and histograms with labels.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Instant;

use crate::component::Resources;

/// The type of a metric family, as the Prometheus `# TYPE` line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A monotonic count (exposed with a `_total` name).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A distribution over fixed buckets.
    Histogram,
}

impl Kind {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A histogram's state: cumulative counts per upper bound (in increasing order, without
/// `+Inf`), the count of all observations and their sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramValue {
    /// `(upper bound, observations ≤ bound)`, cumulative.
    pub buckets: Vec<(f64, u64)>,
    /// All observations (the `+Inf` bucket).
    pub count: u64,
    /// The sum of all observations.
    pub sum: f64,
}

impl HistogramValue {
    /// Adds another histogram with the same bounds (a different one is ignored).
    fn add(&mut self, other: &HistogramValue) {
        if self.buckets.is_empty() && self.count == 0 {
            *self = other.clone();
            return;
        }
        if self.buckets.len() != other.buckets.len() {
            return;
        }
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            mine.1 += theirs.1;
        }
        self.count += other.count;
        self.sum += other.sum;
    }
}

type ValueFn = Arc<dyn Fn() -> f64 + Send + Sync>;
type HistogramFn = Arc<dyn Fn() -> HistogramValue + Send + Sync>;

/// Sorted `(name, value)` label pairs.
pub(crate) type Labels = Vec<(String, String)>;

#[derive(Default)]
pub(crate) struct Series {
    counter: Option<Arc<AtomicU64>>,
    gauge: Option<Arc<AtomicI64>>,
    fns: Vec<(u64, ValueFn)>,
    histograms: Vec<(u64, HistogramFn)>,
}

impl Series {
    pub(crate) fn value(&self) -> f64 {
        let mut value = 0.0;
        if let Some(counter) = &self.counter {
            value += counter.load(Ordering::Relaxed) as f64;
        }
        if let Some(gauge) = &self.gauge {
            value += gauge.load(Ordering::Relaxed) as f64;
        }
        for (_, f) in &self.fns {
            value += f();
        }
        value
    }

    pub(crate) fn histogram(&self) -> HistogramValue {
        let mut total = HistogramValue::default();
        for (_, f) in &self.histograms {
            total.add(&f());
        }
        total
    }

    fn is_empty(&self) -> bool {
        self.counter.is_none()
            && self.gauge.is_none()
            && self.fns.is_empty()
            && self.histograms.is_empty()
    }
}

pub(crate) struct Family {
    pub(crate) help: String,
    pub(crate) kind: Kind,
    pub(crate) series: BTreeMap<Labels, Series>,
}

pub(crate) type Families = BTreeMap<String, Family>;

/// The registry of the collector's own metrics. See the [module documentation](super) for
/// the names and how components share one.
pub struct Metrics {
    families: Arc<Mutex<Families>>,
    next_id: AtomicU64,
    started: Instant,
    _process: Vec<Registration>,
}

static GLOBAL: LazyLock<Arc<Metrics>> = LazyLock::new(Metrics::new);

fn lock(families: &Mutex<Families>) -> MutexGuard<'_, Families> {
    families.lock().unwrap_or_else(PoisonError::into_inner)
}

fn labels_of(labels: &[(&str, &str)]) -> Labels {
    let mut labels: Labels = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    labels.sort();
    labels
}

impl Metrics {
    /// A registry with the process metrics (`otelcol_process_memory_rss_bytes`,
    /// `otelcol_process_cpu_seconds_total`, `otelcol_process_uptime_seconds_total`).
    pub fn new() -> Arc<Metrics> {
        let mut metrics = Metrics {
            families: Arc::new(Mutex::new(BTreeMap::new())),
            next_id: AtomicU64::new(0),
            started: Instant::now(),
            _process: Vec::new(),
        };
        metrics._process = super::process::register(&metrics);
        Arc::new(metrics)
    }

    /// The process-wide registry, used by components when the [`Resources`] they were built
    /// with hold none.
    pub fn global() -> Arc<Metrics> {
        GLOBAL.clone()
    }

    /// The registry in `resources`, or [`Metrics::global`].
    pub fn from_resources(resources: &Resources) -> Arc<Metrics> {
        resources.get::<Metrics>().unwrap_or_else(Metrics::global)
    }

    /// When this registry was created (the start of `otelcol_process_uptime_seconds_total`).
    pub fn started(&self) -> Instant {
        self.started
    }

    fn with_series<T>(
        &self,
        name: &str,
        help: &str,
        kind: Kind,
        labels: &[(&str, &str)],
        f: impl FnOnce(&mut Series) -> T,
    ) -> T {
        let mut families = lock(&self.families);
        let family = families.entry(name.to_owned()).or_insert_with(|| Family {
            help: help.to_owned(),
            kind,
            series: BTreeMap::new(),
        });
        f(family.series.entry(labels_of(labels)).or_default())
    }

    /// The counter `name` with `labels` (created at zero the first time).
    pub fn counter(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Counter {
        self.with_series(name, help, Kind::Counter, labels, |series| {
            Counter(series.counter.get_or_insert_with(Default::default).clone())
        })
    }

    /// The gauge `name` with `labels` (created at zero the first time).
    pub fn gauge(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Gauge {
        self.with_series(name, help, Kind::Gauge, labels, |series| {
            Gauge(series.gauge.get_or_insert_with(Default::default).clone())
        })
    }

    fn registration(&self, name: &str, labels: &[(&str, &str)], id: u64) -> Registration {
        Registration {
            families: Arc::downgrade(&self.families),
            name: name.to_owned(),
            labels: labels_of(labels),
            id,
        }
    }

    /// Registers a function read at every scrape as (part of) the value of `name` with
    /// `labels`; several functions of one series are summed. The function is removed when the
    /// returned [`Registration`] is dropped.
    #[must_use = "the function is unregistered when the Registration is dropped"]
    pub fn register_fn(
        &self,
        kind: Kind,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        f: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.with_series(name, help, kind, labels, |series| {
            series.fns.push((id, Arc::new(f)))
        });
        self.registration(name, labels, id)
    }

    /// Registers a histogram read at every scrape; several functions of one series are
    /// summed (they must use the same bounds).
    #[must_use = "the function is unregistered when the Registration is dropped"]
    pub fn register_histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        f: impl Fn() -> HistogramValue + Send + Sync + 'static,
    ) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.with_series(name, help, Kind::Histogram, labels, |series| {
            series.histograms.push((id, Arc::new(f)))
        });
        self.registration(name, labels, id)
    }

    /// The current value of one series (exact labels), `None` when it does not exist.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let families = lock(&self.families);
        families
            .get(name)?
            .series
            .get(&labels_of(labels))
            .map(Series::value)
    }

    /// The sum of every series of `name` whose labels include all of `labels` (0 when none).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let families = lock(&self.families);
        let Some(family) = families.get(name) else {
            return 0.0;
        };
        family
            .series
            .iter()
            .filter(|(series_labels, _)| {
                labels
                    .iter()
                    .all(|(k, v)| series_labels.iter().any(|(sk, sv)| sk == k && sv == v))
            })
            .map(|(_, series)| series.value())
            .sum()
    }

    /// The whole registry in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let families = lock(&self.families);
        super::prometheus::render(&families)
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let families = lock(&self.families);
        f.debug_struct("Metrics")
            .field("families", &families.len())
            .finish_non_exhaustive()
    }
}

/// A monotonic counter; cheap to clone (clones count together).
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// A counter registered nowhere (for components built without a registry).
    pub fn detached() -> Counter {
        Counter::default()
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counter({})", self.get())
    }
}

/// A gauge; cheap to clone.
#[derive(Clone, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, value: i64) {
        self.0.store(value, Ordering::Relaxed);
    }

    /// Adds `delta` (may be negative).
    pub fn add(&self, delta: i64) {
        self.0.fetch_add(delta, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Gauge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gauge({})", self.get())
    }
}

/// Keeps a function registered with [`Metrics::register_fn`] or
/// [`Metrics::register_histogram`]; dropping it removes the function (and the series, when
/// nothing else feeds it).
pub struct Registration {
    families: Weak<Mutex<Families>>,
    name: String,
    labels: Labels,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(families) = self.families.upgrade() else {
            return;
        };
        let mut families = lock(&families);
        let Some(family) = families.get_mut(&self.name) else {
            return;
        };
        if let Some(series) = family.series.get_mut(&self.labels) {
            series.fns.retain(|(id, _)| *id != self.id);
            series.histograms.retain(|(id, _)| *id != self.id);
            if series.is_empty() {
                family.series.remove(&self.labels);
            }
        }
        if family.series.is_empty() {
            families.remove(&self.name);
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.name)
            .field("labels", &self.labels)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_shared_by_name_and_labels() {
        let metrics = Metrics::new();
        let a = metrics.counter("x_total", "X.", &[("exporter", "otlp")]);
        let b = metrics.counter("x_total", "X.", &[("exporter", "otlp")]);
        let c = metrics.counter("x_total", "X.", &[("exporter", "debug")]);
        a.add(2);
        b.add(3);
        c.add(1);
        assert_eq!(metrics.value("x_total", &[("exporter", "otlp")]), Some(5.0));
        assert_eq!(metrics.sum("x_total", &[]), 6.0);
    }

    #[test]
    fn functions_sum_and_unregister() {
        let metrics = Metrics::new();
        let one = metrics.register_fn(Kind::Gauge, "q", "Q.", &[("exporter", "a")], || 2.0);
        let two = metrics.register_fn(Kind::Gauge, "q", "Q.", &[("exporter", "a")], || 3.0);
        assert_eq!(metrics.value("q", &[("exporter", "a")]), Some(5.0));
        drop(one);
        assert_eq!(metrics.value("q", &[("exporter", "a")]), Some(3.0));
        drop(two);
        assert_eq!(metrics.value("q", &[("exporter", "a")]), None);
        assert!(!metrics.render().contains("\nq{"));
    }
}
