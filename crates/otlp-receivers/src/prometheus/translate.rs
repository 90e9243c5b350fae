//! Parsed families → OTLP, as the Go receiver translates them: one resource per target
//! (`service.name` = job, `service.instance.id` = instance, `server.address`, `server.port`,
//! `url.scheme`), counters as monotonic cumulative sums, gauges and untyped as gauges,
//! histograms with explicit bounds, summaries; start times from a per-target series cache.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric, number_data_point,
    summary_data_point::ValueAtQuantile,
};
use otlp_proto::resource::v1::Resource;
use thiserror::Error;

use super::parse::{Family, FamilyType, Format};
use super::relabel::{self, Rule};

/// The Go receiver's scope name.
pub const SCOPE_NAME: &str =
    "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver";

/// At most this many series are remembered per target (start times, `scrape_series_added`).
pub const MAX_SERIES: usize = 500_000;

/// Series unseen for this many scrapes are forgotten.
const FORGET_AFTER: u64 = 10;

/// What fails a scrape after the body was parsed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TranslateError {
    /// More samples than `sample_limit` after metric relabeling.
    #[error("sample limit exceeded: {samples} samples, the limit is {limit}")]
    SampleLimit {
        /// Samples after relabeling.
        samples: u64,
        /// `sample_limit`.
        limit: u64,
    },
}

/// The scraped target: its final labels and resource identity.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetInfo {
    /// `job`.
    pub job: String,
    /// `instance`.
    pub instance: String,
    /// `http`.
    pub scheme: String,
    /// Every target label after relabeling (job and instance included, no `__` labels).
    pub labels: BTreeMap<String, String>,
}

/// How samples are turned into points.
#[derive(Debug, Clone)]
pub struct Options {
    /// `honor_labels`.
    pub honor_labels: bool,
    /// `honor_timestamps`.
    pub honor_timestamps: bool,
    /// `trim_metric_suffixes`.
    pub trim_suffixes: bool,
    /// `sample_limit` (0: none).
    pub sample_limit: u64,
    /// `metric_relabel_configs`, compiled.
    pub metric_relabel: Vec<Rule>,
    /// `global.external_labels`.
    pub external_labels: BTreeMap<String, String>,
    /// `use_start_time_metric`: the regex of the gauge whose value (seconds) is the start
    /// time of every cumulative point (`start_time_metric_regex`, by default
    /// `^(.+_)*process_start_time_seconds$`).
    pub start_time_metric: Option<regex::Regex>,
}

#[derive(Debug, Clone, Copy)]
struct SeriesState {
    start: u64,
    last: f64,
    last_seen: u64,
}

/// A target's series: start times of cumulative series and which series the previous scrape
/// had. Bounded by [`MAX_SERIES`].
#[derive(Debug, Default)]
pub struct SeriesCache {
    series: HashMap<u64, SeriesState>,
    scrape: u64,
}

impl SeriesCache {
    /// Series remembered.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Marks `key` seen in this scrape; whether it is new since the previous scrape.
    fn touch(&mut self, key: u64) -> bool {
        let scrape = self.scrape;
        if let Some(s) = self.series.get_mut(&key) {
            let added = s.last_seen + 1 < scrape;
            s.last_seen = scrape;
            return added;
        }
        if self.series.len() < MAX_SERIES {
            self.series.insert(
                key,
                SeriesState {
                    start: 0,
                    last: f64::NAN,
                    last_seen: scrape,
                },
            );
        }
        true
    }

    /// The start time of a cumulative point; resets when the value went down.
    fn start(&mut self, key: u64, value: f64, ts: u64, created: Option<u64>) -> u64 {
        let Some(s) = self.series.get_mut(&key) else {
            return created.unwrap_or(ts);
        };
        let start = match created {
            Some(c) => c,
            // Kept unless the value went down (NaN compares as not down).
            None if s.start != 0
                && value.partial_cmp(&s.last) != Some(std::cmp::Ordering::Less) =>
            {
                s.start
            }
            None => ts,
        };
        s.start = start;
        s.last = value;
        start
    }

    fn begin(&mut self) {
        self.scrape += 1;
    }

    fn end(&mut self) {
        let scrape = self.scrape;
        self.series
            .retain(|_, s| s.last_seen + FORGET_AFTER >= scrape);
        if self.series.len() >= MAX_SERIES {
            self.series.retain(|_, s| s.last_seen == scrape);
        }
    }
}

/// Counts of one scrape, for the `scrape_*` metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrapeCounts {
    /// `scrape_samples_scraped`.
    pub scraped: u64,
    /// `scrape_samples_post_metric_relabeling`.
    pub post_relabel: u64,
    /// `scrape_series_added`.
    pub series_added: u64,
}

type Attrs = BTreeMap<String, String>;

struct NumberPoint {
    attrs: Attrs,
    value: f64,
    ts: u64,
    created: Option<u64>,
}

#[derive(Default)]
struct HistogramGroup {
    attrs: Attrs,
    buckets: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: Option<f64>,
    ts: u64,
    created: Option<u64>,
}

#[derive(Default)]
struct SummaryGroup {
    attrs: Attrs,
    quantiles: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: Option<f64>,
    ts: u64,
    created: Option<u64>,
}

enum Points {
    Sum(Vec<NumberPoint>),
    Gauge(Vec<NumberPoint>),
    Histogram(Vec<HistogramGroup>),
    Summary(Vec<SummaryGroup>),
}

struct Builder {
    name: String,
    help: String,
    unit: String,
    points: Points,
    index: HashMap<String, usize>,
}

fn attrs_key(attrs: &Attrs) -> String {
    let mut key = String::new();
    for (k, v) in attrs {
        key.push_str(k);
        key.push('\u{1}');
        key.push_str(v);
        key.push('\u{2}');
    }
    key
}

fn series_hash(name: &str, attrs: &Attrs) -> u64 {
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    for (k, v) in attrs {
        k.hash(&mut h);
        v.hash(&mut h);
    }
    h.finish()
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

fn attributes(attrs: Attrs) -> Vec<KeyValue> {
    attrs
        .into_iter()
        .map(|(key, value)| KeyValue {
            key,
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value)),
            }),
            ..Default::default()
        })
        .collect()
}

/// Whether a host names this machine only (`localhost`, a loopback or unspecified address):
/// the Go receiver leaves `server.address` out then.
fn discernible_host(host: &str) -> bool {
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => !ip.is_loopback() && !ip.is_unspecified(),
        Err(_) => host != "localhost",
    }
}

/// The resource of a target, as the Go receiver builds it.
pub fn resource(target: &TargetInfo, extra: &Attrs) -> Resource {
    let (host, port) = match super::config::split_host_port(&target.instance) {
        Some((h, p)) => (h, p),
        None => (target.instance.as_str(), ""),
    };
    let mut attrs = vec![kv("service.name", &target.job)];
    if discernible_host(host) {
        attrs.push(kv("server.address", host));
    }
    attrs.push(kv("service.instance.id", &target.instance));
    attrs.push(kv("server.port", port));
    attrs.push(kv("url.scheme", &target.scheme));
    for (k, v) in extra {
        if !attrs.iter().any(|a| &a.key == k) {
            attrs.push(kv(k, v));
        }
    }
    Resource {
        attributes: attrs,
        ..Default::default()
    }
}

/// The target labels a sample gets (honor_labels rules), then the external labels.
fn merge_target_labels(labels: &mut Attrs, target: &TargetInfo, options: &Options) {
    for (k, v) in &target.labels {
        match labels.get(k) {
            Some(existing) if options.honor_labels && !existing.is_empty() => {}
            Some(existing) if !existing.is_empty() => {
                let existing = existing.clone();
                let mut name = format!("exported_{k}");
                while labels.contains_key(&name) {
                    name = format!("exported_{name}");
                }
                labels.insert(name, existing);
                labels.insert(k.clone(), v.clone());
            }
            _ => {
                labels.insert(k.clone(), v.clone());
            }
        }
    }
    for (k, v) in &options.external_labels {
        labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

fn seconds_to_nanos(secs: f64) -> Option<u64> {
    // Millisecond precision, as Prometheus's timestamps.
    (secs.is_finite() && secs > 0.0)
        .then(|| ((secs * 1000.0).round() as u64).saturating_mul(1_000_000))
}

fn trimmed_name(name: &str, kind: FamilyType, unit: &str, trim: bool) -> String {
    if !trim {
        return name.to_string();
    }
    let mut n = name;
    if kind == FamilyType::Counter
        && let Some(base) = n.strip_suffix("_total")
        && !base.is_empty()
    {
        n = base;
    }
    if !unit.is_empty()
        && let Some(base) = n.strip_suffix(&format!("_{unit}"))
        && !base.is_empty()
    {
        n = base;
    }
    n.to_string()
}

/// Translates one scrape's families into the target's resource metrics.
pub fn translate(
    families: &[Family],
    format: Format,
    target: &TargetInfo,
    options: &Options,
    cache: &mut SeriesCache,
    now: u64,
) -> Result<(ResourceMetrics, ScrapeCounts), TranslateError> {
    cache.begin();
    let mut counts = ScrapeCounts::default();
    let mut builders: Vec<Builder> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut resource_extra = Attrs::new();
    // `use_start_time_metric`: the first matching gauge or untyped sample.
    let process_start = options.start_time_metric.as_ref().and_then(|re| {
        families
            .iter()
            .filter(|f| matches!(f.kind, FamilyType::Gauge | FamilyType::Untyped))
            .flat_map(|f| &f.samples)
            .find(|s| re.is_match(&s.name))
            .and_then(|s| seconds_to_nanos(s.value))
    });
    for family in families {
        for sample in &family.samples {
            counts.scraped += 1;
            let mut labels: Attrs = sample.labels.iter().cloned().collect();
            labels.insert("__name__".into(), sample.name.clone());
            merge_target_labels(&mut labels, target, options);
            if !relabel::apply_all(&options.metric_relabel, &mut labels) {
                continue;
            }
            let Some(name) = labels.remove("__name__").filter(|n| !n.is_empty()) else {
                continue;
            };
            // An empty label value is no label (as in Prometheus).
            labels.retain(|_, v| !v.is_empty());
            counts.post_relabel += 1;
            labels.remove("job");
            labels.remove("instance");
            let ts = match sample.timestamp_ms {
                Some(ms) if options.honor_timestamps => {
                    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
                }
                _ => now,
            };
            // A sample renamed by relabeling leaves its family: a gauge of its own.
            let (kind, suffix, family_name) = match name.strip_prefix(family.name.as_str()) {
                Some(suffix) if family.kind.accepts(suffix, format) => {
                    (family.kind, suffix.to_string(), family.name.as_str())
                }
                _ => (FamilyType::Untyped, String::new(), name.as_str()),
            };
            if family_name == "target_info"
                && matches!(
                    kind,
                    FamilyType::Gauge | FamilyType::Untyped | FamilyType::Info
                )
            {
                for (k, v) in &labels {
                    resource_extra.insert(k.clone(), v.clone());
                }
                continue;
            }
            let metric_name = match (kind, format) {
                (FamilyType::Counter, Format::OpenMetrics) if !family_name.ends_with("_total") => {
                    format!("{family_name}_total")
                }
                (FamilyType::Info, Format::OpenMetrics) if !family_name.ends_with("_info") => {
                    format!("{family_name}_info")
                }
                (FamilyType::Counter | FamilyType::Histogram | FamilyType::Summary, _) => {
                    family_name.to_string()
                }
                _ => name.clone(),
            };
            if kind == FamilyType::GaugeHistogram {
                continue; // Not translated (see the module documentation).
            }
            let metric_name = trimmed_name(&metric_name, kind, &family.unit, options.trim_suffixes);
            let b = match by_name.get(&metric_name) {
                Some(&i) => i,
                None => {
                    let points = match kind {
                        FamilyType::Counter => Points::Sum(Vec::new()),
                        FamilyType::Histogram => Points::Histogram(Vec::new()),
                        FamilyType::Summary => Points::Summary(Vec::new()),
                        _ => Points::Gauge(Vec::new()),
                    };
                    let (help, unit) = if family_name == family.name {
                        (family.help.clone(), family.unit.clone())
                    } else {
                        (String::new(), String::new())
                    };
                    builders.push(Builder {
                        name: metric_name.clone(),
                        help,
                        unit,
                        points,
                        index: HashMap::new(),
                    });
                    by_name.insert(metric_name, builders.len() - 1);
                    builders.len() - 1
                }
            };
            let builder = &mut builders[b];
            match &mut builder.points {
                Points::Sum(points) | Points::Gauge(points) => {
                    if suffix == "_created" {
                        let key = attrs_key(&labels);
                        if let Some(&i) = builder.index.get(&key) {
                            points[i].created = seconds_to_nanos(sample.value);
                        }
                        continue;
                    }
                    // Only OpenMetrics counters have `_created` samples to find their point.
                    if format == Format::OpenMetrics && kind == FamilyType::Counter {
                        builder.index.insert(attrs_key(&labels), points.len());
                    }
                    points.push(NumberPoint {
                        attrs: labels,
                        value: sample.value,
                        ts,
                        created: process_start,
                    });
                }
                Points::Histogram(groups) => {
                    let le = if suffix == "_bucket" {
                        match labels
                            .remove("le")
                            .and_then(|v| super::parse::parse_value(&v))
                        {
                            Some(le) => Some(le),
                            None => continue, // A bucket without a valid `le`.
                        }
                    } else {
                        None
                    };
                    let key = attrs_key(&labels);
                    let i = match builder.index.get(&key) {
                        Some(&i) => i,
                        None => {
                            groups.push(HistogramGroup {
                                attrs: labels,
                                ts,
                                created: process_start,
                                ..Default::default()
                            });
                            builder.index.insert(key, groups.len() - 1);
                            groups.len() - 1
                        }
                    };
                    let g = &mut groups[i];
                    match suffix.as_str() {
                        "_bucket" => {
                            if let Some(le) = le {
                                g.buckets.push((le, sample.value));
                            }
                        }
                        "_sum" => g.sum = Some(sample.value),
                        "_count" => g.count = Some(sample.value),
                        "_created" => g.created = seconds_to_nanos(sample.value),
                        _ => {}
                    }
                }
                Points::Summary(groups) => {
                    let quantile = if suffix.is_empty() {
                        match labels
                            .remove("quantile")
                            .and_then(|v| super::parse::parse_value(&v))
                        {
                            Some(q) => Some(q),
                            None => continue,
                        }
                    } else {
                        None
                    };
                    let key = attrs_key(&labels);
                    let i = match builder.index.get(&key) {
                        Some(&i) => i,
                        None => {
                            groups.push(SummaryGroup {
                                attrs: labels,
                                ts,
                                created: process_start,
                                ..Default::default()
                            });
                            builder.index.insert(key, groups.len() - 1);
                            groups.len() - 1
                        }
                    };
                    let g = &mut groups[i];
                    match (suffix.as_str(), quantile) {
                        ("", Some(q)) => g.quantiles.push((q, sample.value)),
                        ("_sum", _) => g.sum = Some(sample.value),
                        ("_count", _) => g.count = Some(sample.value),
                        ("_created", _) => g.created = seconds_to_nanos(sample.value),
                        _ => {}
                    }
                }
            }
        }
    }
    if options.sample_limit > 0 && counts.post_relabel > options.sample_limit {
        cache.end();
        return Err(TranslateError::SampleLimit {
            samples: counts.post_relabel,
            limit: options.sample_limit,
        });
    }
    let mut metrics = Vec::with_capacity(builders.len());
    for b in builders {
        let name = b.name;
        let data = match b.points {
            Points::Gauge(points) => {
                let data_points = points
                    .into_iter()
                    .map(|p| {
                        if cache.touch(series_hash(&name, &p.attrs)) {
                            counts.series_added += 1;
                        }
                        number_point(p.attrs, p.value, 0, p.ts)
                    })
                    .collect();
                metric::Data::Gauge(Gauge { data_points })
            }
            Points::Sum(points) => {
                let data_points = points
                    .into_iter()
                    .map(|p| {
                        let key = series_hash(&name, &p.attrs);
                        if cache.touch(key) {
                            counts.series_added += 1;
                        }
                        let start = cache.start(key, p.value, p.ts, p.created);
                        number_point(p.attrs, p.value, start, p.ts)
                    })
                    .collect();
                metric::Data::Sum(Sum {
                    data_points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                })
            }
            Points::Histogram(groups) => {
                let data_points = groups
                    .into_iter()
                    .map(|g| histogram_point(&name, g, cache, &mut counts))
                    .collect();
                metric::Data::Histogram(Histogram {
                    data_points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                })
            }
            Points::Summary(groups) => {
                let data_points = groups
                    .into_iter()
                    .map(|g| summary_point(&name, g, cache, &mut counts))
                    .collect();
                metric::Data::Summary(Summary { data_points })
            }
        };
        metrics.push(Metric {
            name,
            description: b.help,
            unit: b.unit,
            data: Some(data),
            ..Default::default()
        });
    }
    cache.end();
    Ok((resource_metrics(target, &resource_extra, metrics), counts))
}

fn number_point(attrs: Attrs, value: f64, start: u64, ts: u64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attributes(attrs),
        start_time_unix_nano: start,
        time_unix_nano: ts,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn count_u64(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round() as u64
    } else {
        0
    }
}

fn histogram_point(
    name: &str,
    mut g: HistogramGroup,
    cache: &mut SeriesCache,
    counts: &mut ScrapeCounts,
) -> HistogramDataPoint {
    // Each bucket, the sum and the count are series of their own in Prometheus.
    let key = series_hash(name, &g.attrs);
    let series = g.buckets.len() as u64 + u64::from(g.sum.is_some()) + u64::from(g.count.is_some());
    if cache.touch(key) {
        counts.series_added += series;
    }
    g.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    g.buckets.dedup_by(|a, b| a.0 == b.0);
    let inf = g
        .buckets
        .last()
        .filter(|b| b.0 == f64::INFINITY)
        .map(|b| b.1);
    let count = g.count.or(inf).unwrap_or(0.0);
    let mut bounds = Vec::with_capacity(g.buckets.len());
    let mut bucket_counts = Vec::with_capacity(g.buckets.len() + 1);
    let mut previous = 0u64;
    for (le, cumulative) in &g.buckets {
        if *le == f64::INFINITY {
            break;
        }
        let c = count_u64(*cumulative);
        bounds.push(*le);
        bucket_counts.push(c.saturating_sub(previous));
        previous = previous.max(c);
    }
    let total = count_u64(count);
    bucket_counts.push(total.saturating_sub(previous));
    let start = cache.start(key, count, g.ts, g.created);
    HistogramDataPoint {
        attributes: attributes(std::mem::take(&mut g.attrs)),
        start_time_unix_nano: start,
        time_unix_nano: g.ts,
        count: total,
        sum: g.sum,
        bucket_counts,
        explicit_bounds: bounds,
        ..Default::default()
    }
}

fn summary_point(
    name: &str,
    mut g: SummaryGroup,
    cache: &mut SeriesCache,
    counts: &mut ScrapeCounts,
) -> SummaryDataPoint {
    let key = series_hash(name, &g.attrs);
    let series =
        g.quantiles.len() as u64 + u64::from(g.sum.is_some()) + u64::from(g.count.is_some());
    if cache.touch(key) {
        counts.series_added += series;
    }
    g.quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = g.count.unwrap_or(0.0);
    let start = cache.start(key, count, g.ts, g.created);
    SummaryDataPoint {
        attributes: attributes(std::mem::take(&mut g.attrs)),
        start_time_unix_nano: start,
        time_unix_nano: g.ts,
        count: count_u64(count),
        sum: g.sum.unwrap_or(0.0),
        quantile_values: g
            .quantiles
            .into_iter()
            .map(|(quantile, value)| ValueAtQuantile { quantile, value })
            .collect(),
        ..Default::default()
    }
}

fn resource_metrics(target: &TargetInfo, extra: &Attrs, metrics: Vec<Metric>) -> ResourceMetrics {
    ResourceMetrics {
        resource: Some(resource(target, extra)),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: SCOPE_NAME.into(),
                version: env!("CARGO_PKG_VERSION").into(),
                ..Default::default()
            }),
            metrics,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
/// `scrape_samples_post_metric_relabeling` and `scrape_series_added` gauges of one scrape,
/// appended to `rm`'s scope (a resource of their own when `rm` is `None`: a failed scrape).
pub fn add_scrape_metrics(
    rm: Option<ResourceMetrics>,
    target: &TargetInfo,
    options: &Options,
    up: bool,
    duration_secs: f64,
    counts: ScrapeCounts,
    now: u64,
) -> ResourceMetrics {
    let mut rm = rm.unwrap_or_else(|| resource_metrics(target, &Attrs::new(), Vec::new()));
    let mut attrs: Attrs = target.labels.clone();
    attrs.remove("job");
    attrs.remove("instance");
    for (k, v) in &options.external_labels {
        attrs.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let gauge = |name: &str, help: &str, unit: &str, value: f64| Metric {
        name: name.into(),
        description: help.into(),
        unit: unit.into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![number_point(attrs.clone(), value, 0, now)],
        })),
        ..Default::default()
    };
    let metrics = [
        gauge(
            "up",
            "The scraping was successful",
            "",
            if up { 1.0 } else { 0.0 },
        ),
        gauge(
            "scrape_duration_seconds",
            "Duration of the scrape",
            "s",
            duration_secs,
        ),
        gauge(
            "scrape_samples_scraped",
            "The number of samples the target exposed",
            "",
            counts.scraped as f64,
        ),
        gauge(
            "scrape_samples_post_metric_relabeling",
            "The number of samples remaining after metric relabeling was applied",
            "",
            counts.post_relabel as f64,
        ),
        gauge(
            "scrape_series_added",
            "The approximate number of new series in this scrape",
            "",
            counts.series_added as f64,
        ),
    ];
    if let Some(scope) = rm.scope_metrics.first_mut() {
        scope.metrics.extend(metrics);
    }
    rm
}
