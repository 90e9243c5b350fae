//! The `spanmetrics` aggregation state: per resource (service), one bounded map of series per
//! metric (`calls`, `duration`, `events`), and what a flush makes of it.
//!
//! Bounds: at most `resource_metrics_cache_size` resources (the least recently used one is
//! dropped for a new one), and per resource and metric at most the series limit; a span of a
//! new series beyond it is counted in the one overflow series, whose only attribute is
//! `otel.metric.overflow: true`. Exemplars are capped per point and cleared at every flush;
//! the delta start-time cache is capped too (when full it is forgotten: the next points start
//! at their series' creation, a reset).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::any_value::Value;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram as ExponentialData, Histogram, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, exemplar, metric, number_data_point,
};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::Span;
use tokio::time::Instant;

use super::config::{SpanMetricsConfig, Temporality, Unit};
use super::histogram::{DurationHistogram, ExplicitHistogram, ExponentialHistogram};
use super::key::{self, Defaults, Dimension, SpanRef};

/// The attribute of the overflow series.
pub const OVERFLOW_KEY: &str = "otel.metric.overflow";
/// The scope name of the emitted metrics (contrib's).
pub const SCOPE_NAME: &str = "spanmetricsconnector";

/// One series: its attributes, its value so far, its exemplars since the last flush.
#[derive(Debug)]
struct Series<T> {
    attributes: Vec<KeyValue>,
    value: T,
    exemplars: Vec<Exemplar>,
    start_ns: u64,
    last_seen: Instant,
}

/// The series of one metric of one resource.
#[derive(Debug)]
struct SeriesMap<T> {
    series: HashMap<Box<str>, Series<T>>,
    overflow: Option<Series<T>>,
}

impl<T> Default for SeriesMap<T> {
    fn default() -> Self {
        SeriesMap {
            series: HashMap::new(),
            overflow: None,
        }
    }
}

/// When and what a span is recorded with.
#[derive(Clone, Copy)]
struct Now {
    instant: Instant,
    unix_nanos: u64,
}

impl<T> SeriesMap<T> {
    /// The series `key`, created (with `attributes()` and `init()`) when new and there is
    /// room, else the overflow series (`None` only if the map lost the series it just made).
    fn entry(
        &mut self,
        key: &str,
        limit: usize,
        attributes: impl FnOnce() -> Vec<KeyValue>,
        init: impl FnOnce() -> T,
        now: Now,
    ) -> Option<&mut Series<T>> {
        let new = |attributes, value| Series {
            attributes,
            value,
            exemplars: Vec::new(),
            start_ns: now.unix_nanos,
            last_seen: now.instant,
        };
        if !self.series.contains_key(key) {
            if self.series.len() >= limit {
                let overflow = self
                    .overflow
                    .get_or_insert_with(|| new(vec![overflow_attribute()], init()));
                overflow.last_seen = now.instant;
                return Some(overflow);
            }
            self.series
                .insert(Box::from(key), new(attributes(), init()));
        }
        let series = self.series.get_mut(key)?;
        series.last_seen = now.instant;
        Some(series)
    }

    fn expire(&mut self, now: Instant, ttl: Duration) {
        let stale = |s: &Series<T>| now.saturating_duration_since(s.last_seen) >= ttl;
        self.series.retain(|_, s| !stale(s));
        if self.overflow.as_ref().is_some_and(stale) {
            self.overflow = None;
        }
    }

    fn is_empty(&self) -> bool {
        self.series.is_empty() && self.overflow.is_none()
    }

    fn clear_exemplars(&mut self) {
        for series in self.series.values_mut().chain(self.overflow.as_mut()) {
            series.exemplars.clear();
        }
    }

    /// The series in key order (the overflow series last), with their keys.
    fn sorted(&self) -> Vec<(&str, &Series<T>)> {
        let mut all: Vec<(&str, &Series<T>)> = self.series.iter().map(|(k, s)| (&**k, s)).collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all.extend(self.overflow.as_ref().map(|s| (OVERFLOW_KEY, s)));
        all
    }
}

fn overflow_attribute() -> KeyValue {
    KeyValue {
        key: OVERFLOW_KEY.to_owned(),
        value: Some(AnyValue {
            value: Some(Value::BoolValue(true)),
        }),
        ..KeyValue::default()
    }
}

impl<T> Series<T> {
    fn add_exemplar(&mut self, span: &Span, value: f64, max: usize) {
        if self.exemplars.len() >= max || span.trace_id.iter().all(|b| *b == 0) {
            return;
        }
        self.exemplars.push(Exemplar {
            trace_id: span.trace_id.clone(),
            span_id: span.span_id.clone(),
            value: Some(exemplar::Value::AsDouble(value)),
            ..Exemplar::default()
        });
    }
}

/// One resource's metrics.
#[derive(Debug, Default)]
struct ResourceEntry {
    attributes: Vec<KeyValue>,
    calls: SeriesMap<u64>,
    durations: SeriesMap<DurationHistogram>,
    events: SeriesMap<u64>,
    used: u64,
}

impl ResourceEntry {
    fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.durations.is_empty() && self.events.is_empty()
    }
}

/// The kind of duration histogram.
#[derive(Debug, Clone)]
enum HistogramKind {
    Explicit(Arc<[f64]>),
    Exponential(u32),
}

/// The configuration, compiled.
#[derive(Debug)]
struct Settings {
    defaults: Defaults,
    dimensions: Vec<Dimension>,
    calls_dimensions: Vec<Dimension>,
    duration_dimensions: Vec<Dimension>,
    event_dimensions: Vec<Dimension>,
    scopes: Vec<String>,
    series_limit: usize,
    resource_limit: usize,
    resource_keys: Vec<String>,
    temporality: Temporality,
    expiration: Option<Duration>,
    exemplars: Option<usize>,
    events: bool,
    histogram: Option<HistogramKind>,
    unit: Unit,
    calls_name: String,
    duration_name: String,
    events_name: String,
    timestamp_cache: usize,
}

/// Everything `spanmetrics` holds between flushes.
#[derive(Debug)]
pub(crate) struct Aggregator {
    settings: Settings,
    resources: HashMap<Box<str>, ResourceEntry>,
    uses: u64,
    key: String,
    resource_key: String,
    delta_starts: HashMap<String, u64>,
}

/// Nanoseconds since the Unix epoch, now.
pub(crate) fn unix_nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Aggregator {
    /// An empty state for `config` (validated).
    pub(crate) fn new(config: &SpanMetricsConfig) -> Aggregator {
        let histogram = if config.histogram.disable {
            None
        } else if let Some(exponential) = &config.histogram.exponential {
            let size = match exponential.max_size {
                0 => super::config::DEFAULT_EXPONENTIAL_MAX_SIZE,
                n => n,
            };
            Some(HistogramKind::Exponential(size))
        } else {
            Some(HistogramKind::Explicit(Arc::from(config.explicit_bounds())))
        };
        let settings = Settings {
            defaults: Defaults::new(&config.exclude_dimensions),
            dimensions: key::dimensions(&config.dimensions),
            calls_dimensions: key::dimensions(&config.calls_dimensions),
            duration_dimensions: key::dimensions(&config.histogram.dimensions),
            event_dimensions: key::dimensions(&config.events.dimensions),
            scopes: config.include_instrumentation_scope.clone(),
            series_limit: config.series_limit(),
            resource_limit: config.resource_metrics_cache_size,
            resource_keys: config.resource_metrics_key_attributes.clone(),
            temporality: config.aggregation_temporality,
            expiration: (!config.metrics_expiration.is_zero()).then_some(config.metrics_expiration),
            exemplars: config
                .exemplars
                .enabled
                .then_some(config.exemplars.max_per_data_point),
            events: config.events.enabled,
            histogram,
            unit: config.histogram.unit,
            calls_name: config.metric_name("calls"),
            duration_name: config.metric_name("duration"),
            events_name: config.metric_name("events"),
            timestamp_cache: config.metric_timestamp_cache_size,
        };
        Aggregator {
            settings,
            resources: HashMap::new(),
            uses: 0,
            key: String::new(),
            resource_key: String::new(),
            delta_starts: HashMap::new(),
        }
    }

    /// Series held (every metric, every resource, overflow series included).
    pub(crate) fn series_count(&self) -> usize {
        self.resources
            .values()
            .map(|r| {
                let count = |len: usize, overflow: bool| len + usize::from(overflow);
                count(r.calls.series.len(), r.calls.overflow.is_some())
                    + count(r.durations.series.len(), r.durations.overflow.is_some())
                    + count(r.events.series.len(), r.events.overflow.is_some())
            })
            .sum()
    }

    /// Records every span of `request` (spans of resources without `service.name` are
    /// skipped, as contrib does).
    pub(crate) fn ingest(
        &mut self,
        request: &ExportTraceServiceRequest,
        instant: Instant,
        unix_nanos: u64,
    ) {
        let now = Now {
            instant,
            unix_nanos,
        };
        for resource_spans in &request.resource_spans {
            let attributes: &[KeyValue] = resource_spans
                .resource
                .as_ref()
                .map_or(&[], |r| r.attributes.as_slice());
            let Some(service) = key::service_name(attributes) else {
                continue;
            };
            let Aggregator {
                settings,
                resources,
                uses,
                key,
                resource_key,
                ..
            } = self;
            key::resource_key(resource_key, attributes, &settings.resource_keys);
            *uses += 1;
            let entry = resource_entry(
                resources,
                resource_key,
                settings.resource_limit,
                *uses,
                attributes,
            );
            for scope_spans in &resource_spans.scope_spans {
                let scope = scope_spans
                    .scope
                    .as_ref()
                    .filter(|s| settings.scopes.contains(&s.name));
                for span in &scope_spans.spans {
                    record(settings, key, entry, service, span, scope, attributes, now);
                }
            }
        }
    }

    /// The metrics of everything held, as one request (`None` when there is nothing), and
    /// the state advanced: series expired before, delta series dropped after, exemplars
    /// cleared.
    pub(crate) fn flush(
        &mut self,
        instant: Instant,
        unix_nanos: u64,
    ) -> Option<ExportMetricsServiceRequest> {
        if let Some(ttl) = self.settings.expiration {
            for entry in self.resources.values_mut() {
                entry.calls.expire(instant, ttl);
                entry.durations.expire(instant, ttl);
                entry.events.expire(instant, ttl);
            }
            self.resources.retain(|_, entry| !entry.is_empty());
        }
        let mut keys: Vec<&Box<str>> = self.resources.keys().collect();
        keys.sort();
        let mut resource_metrics = Vec::with_capacity(keys.len());
        let mut starts_seen: Vec<String> = Vec::new();
        for resource_key in keys {
            let Some(entry) = self.resources.get(resource_key) else {
                continue;
            };
            let mut build = Build {
                settings: &self.settings,
                delta_starts: &self.delta_starts,
                seen: &mut starts_seen,
                resource_key,
                now: unix_nanos,
            };
            let metrics = build.metrics(entry);
            if metrics.is_empty() {
                continue;
            }
            resource_metrics.push(ResourceMetrics {
                resource: Some(Resource {
                    attributes: entry.attributes.clone(),
                    ..Resource::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: SCOPE_NAME.to_owned(),
                        ..InstrumentationScope::default()
                    }),
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            });
        }
        match self.settings.temporality {
            Temporality::Delta => {
                for key in starts_seen {
                    if self.delta_starts.len() >= self.settings.timestamp_cache
                        && !self.delta_starts.contains_key(&key)
                    {
                        self.delta_starts.clear();
                    }
                    self.delta_starts.insert(key, unix_nanos);
                }
                self.resources.clear();
            }
            Temporality::Cumulative => {
                for entry in self.resources.values_mut() {
                    entry.calls.clear_exemplars();
                    entry.durations.clear_exemplars();
                    entry.events.clear_exemplars();
                }
            }
        }
        (!resource_metrics.is_empty()).then_some(ExportMetricsServiceRequest { resource_metrics })
    }
}

/// The entry of the resource `resource_key`, made (evicting the least recently used one
/// when `limit` is reached) if new.
fn resource_entry<'a>(
    resources: &'a mut HashMap<Box<str>, ResourceEntry>,
    resource_key: &str,
    limit: usize,
    uses: u64,
    attributes: &[KeyValue],
) -> &'a mut ResourceEntry {
    if !resources.contains_key(resource_key) && resources.len() >= limit {
        let oldest = resources
            .iter()
            .min_by_key(|(_, r)| r.used)
            .map(|(k, _)| k.clone());
        if let Some(oldest) = oldest {
            resources.remove(&oldest);
        }
    }
    let entry = resources
        .entry(Box::from(resource_key))
        .or_insert_with(|| ResourceEntry {
            attributes: attributes.to_vec(),
            ..ResourceEntry::default()
        });
    entry.used = uses;
    entry
}

/// Records one span in its resource's metrics.
#[allow(clippy::too_many_arguments)]
fn record(
    settings: &Settings,
    key: &mut String,
    entry: &mut ResourceEntry,
    service: &str,
    span: &Span,
    scope: Option<&InstrumentationScope>,
    resource: &[KeyValue],
    now: Now,
) {
    let duration = if span.end_time_unix_nano > span.start_time_unix_nano {
        (span.end_time_unix_nano - span.start_time_unix_nano) as f64 / settings.unit.nanos()
    } else {
        0.0
    };
    let mut target = SpanRef {
        service,
        span,
        scope,
        resource,
        event: None,
    };
    let limit = settings.series_limit;
    let groups: [&[Dimension]; 2] = [&settings.dimensions, &settings.calls_dimensions];
    settings.defaults.write_key(key, &target, &groups);
    if let Some(calls) = entry.calls.entry(
        key,
        limit,
        || settings.defaults.attributes(&target, &groups),
        || 0,
        now,
    ) {
        calls.value += 1;
        if let Some(max) = settings.exemplars {
            calls.add_exemplar(span, duration, max);
        }
    }
    if let Some(kind) = &settings.histogram {
        let groups: [&[Dimension]; 2] = [&settings.dimensions, &settings.duration_dimensions];
        settings.defaults.write_key(key, &target, &groups);
        if let Some(histogram) = entry.durations.entry(
            key,
            limit,
            || settings.defaults.attributes(&target, &groups),
            || match kind {
                HistogramKind::Explicit(bounds) => {
                    DurationHistogram::Explicit(ExplicitHistogram::new(Arc::clone(bounds)))
                }
                HistogramKind::Exponential(size) => {
                    DurationHistogram::Exponential(ExponentialHistogram::new(*size))
                }
            },
            now,
        ) {
            histogram.value.observe(duration);
            if let Some(max) = settings.exemplars {
                histogram.add_exemplar(span, duration, max);
            }
        }
    }
    if settings.events {
        let groups: [&[Dimension]; 2] = [&settings.dimensions, &settings.event_dimensions];
        for event in &span.events {
            target.event = Some(&event.attributes);
            settings.defaults.write_key(key, &target, &groups);
            if let Some(events) = entry.events.entry(
                key,
                limit,
                || settings.defaults.attributes(&target, &groups),
                || 0,
                now,
            ) {
                events.value += 1;
                if let Some(max) = settings.exemplars {
                    events.add_exemplar(span, duration, max);
                }
            }
        }
    }
}

/// Builds one resource's metrics at a flush.
struct Build<'a> {
    settings: &'a Settings,
    delta_starts: &'a HashMap<String, u64>,
    seen: &'a mut Vec<String>,
    resource_key: &'a str,
    now: u64,
}

impl Build<'_> {
    fn metrics(&mut self, entry: &ResourceEntry) -> Vec<Metric> {
        let settings = self.settings;
        let temporality = match settings.temporality {
            Temporality::Cumulative => AggregationTemporality::Cumulative,
            Temporality::Delta => AggregationTemporality::Delta,
        } as i32;
        let mut metrics = Vec::with_capacity(3);
        if !entry.calls.is_empty() {
            let points = self.sums(&entry.calls, 'c');
            metrics.push(sum_metric(&settings.calls_name, points, temporality));
        }
        if !entry.durations.is_empty() {
            let data = self.histograms(&entry.durations, temporality);
            metrics.push(Metric {
                name: settings.duration_name.clone(),
                unit: settings.unit.as_str().to_owned(),
                data: Some(data),
                ..Metric::default()
            });
        }
        if settings.events && !entry.events.is_empty() {
            let points = self.sums(&entry.events, 'e');
            metrics.push(sum_metric(&settings.events_name, points, temporality));
        }
        metrics
    }

    /// The start time of a series: its creation, or (delta) the previous flush that emitted
    /// it.
    fn start<T>(&mut self, metric: char, key: &str, series: &Series<T>) -> u64 {
        if self.settings.temporality == Temporality::Cumulative {
            return series.start_ns;
        }
        let id = format!("{}\u{2}{metric}\u{2}{key}", self.resource_key);
        let start = self
            .delta_starts
            .get(&id)
            .copied()
            .unwrap_or(series.start_ns);
        self.seen.push(id);
        start
    }

    fn exemplars(&self, exemplars: &[Exemplar]) -> Vec<Exemplar> {
        exemplars
            .iter()
            .map(|e| Exemplar {
                time_unix_nano: self.now,
                ..e.clone()
            })
            .collect()
    }

    fn sums(&mut self, map: &SeriesMap<u64>, metric: char) -> Vec<NumberDataPoint> {
        map.sorted()
            .into_iter()
            .map(|(key, series)| NumberDataPoint {
                attributes: series.attributes.clone(),
                start_time_unix_nano: self.start(metric, key, series),
                time_unix_nano: self.now,
                exemplars: self.exemplars(&series.exemplars),
                value: Some(number_data_point::Value::AsInt(
                    i64::try_from(series.value).unwrap_or(i64::MAX),
                )),
                ..NumberDataPoint::default()
            })
            .collect()
    }

    fn histograms(&mut self, map: &SeriesMap<DurationHistogram>, temporality: i32) -> metric::Data {
        let mut explicit = Vec::new();
        let mut exponential = Vec::new();
        for (key, series) in map.sorted() {
            let start = self.start('d', key, series);
            let exemplars = self.exemplars(&series.exemplars);
            match &series.value {
                DurationHistogram::Explicit(h) => {
                    let mut point = h.point();
                    point.attributes = series.attributes.clone();
                    point.start_time_unix_nano = start;
                    point.time_unix_nano = self.now;
                    point.exemplars = exemplars;
                    explicit.push(point);
                }
                DurationHistogram::Exponential(h) => {
                    let mut point = h.point();
                    point.attributes = series.attributes.clone();
                    point.start_time_unix_nano = start;
                    point.time_unix_nano = self.now;
                    point.exemplars = exemplars;
                    exponential.push(point);
                }
            }
        }
        if matches!(self.settings.histogram, Some(HistogramKind::Exponential(_))) {
            metric::Data::ExponentialHistogram(ExponentialData {
                data_points: exponential,
                aggregation_temporality: temporality,
            })
        } else {
            metric::Data::Histogram(Histogram {
                data_points: explicit,
                aggregation_temporality: temporality,
            })
        }
    }
}

fn sum_metric(name: &str, data_points: Vec<NumberDataPoint>, temporality: i32) -> Metric {
    Metric {
        name: name.to_owned(),
        data: Some(metric::Data::Sum(Sum {
            data_points,
            aggregation_temporality: temporality,
            is_monotonic: true,
        })),
        ..Metric::default()
    }
}
