//! OTLP metrics → remote write series, as otelcol-contrib's exporter translates them
//! (`pkg/translator/prometheusremotewrite`).
//!
//! - Names through [`MetricNamer`] (namespace, unit and type suffixes), label names through
//!   [`label_name`]; attributes whose names collide once sanitized are joined with `;` in
//!   key order. `job` is `service.namespace/service.name` (or `service.name`), `instance` is
//!   `service.instance.id`; the scope is promoted to `otel_scope_name`, `otel_scope_version`
//!   and `otel_scope_<attribute>` labels (not on `target_info`); external labels are added
//!   where the series lacks them.
//! - Gauges and cumulative sums are one series per point (`_total` for monotonic sums);
//!   cumulative histograms are `_bucket{le}` (counts made cumulative, `+Inf` = the count),
//!   `_sum` (when set) and `_count`; summaries `{quantile}`, `_sum`, `_count`. A point flagged
//!   "no recorded value" is Prometheus's stale marker.
//! - Dropped, counted and reported: delta sums and histograms (Go drops them too),
//!   exponential histograms (Go sends them as native histograms, which remote write 1.0
//!   carries only behind a Prometheus feature flag; not written here), metrics whose name
//!   sanitizes to nothing.
//! - `target_info` per resource (its attributes less the three service ones, plus `job` and
//!   `instance`), value 1 at the resource's latest point; `_created` series when asked.
//!
//! Series with the same labels are merged, their samples sorted by time; labels are sorted
//! by name.

use std::collections::HashMap;

use otlp_model::prometheus::translator::{
    MetricNamer, MetricType, label_name, unit_name, value_string,
};
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::metrics::v1::{
    AggregationTemporality, ResourceMetrics, metric::Data, number_data_point,
};

use super::wire::{Label, Metadata, MetadataType, Sample, TimeSeries, WriteRequest};

/// Prometheus's stale marker: a NaN with this bit pattern.
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// The "no recorded value" flag of OTLP data points.
const NO_RECORDED_VALUE: u32 = 1;

/// How to translate.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Names: namespace and suffixes.
    pub namer: MetricNamer,
    /// Added to series that lack them, sorted by name.
    pub external_labels: Vec<(String, String)>,
    /// Resource attributes as labels.
    pub resource_to_telemetry: bool,
    /// `target_info` per resource.
    pub target_info: bool,
    /// `_created` series.
    pub created: bool,
    /// Family metadata.
    pub metadata: bool,
}

/// What [`convert`] produced.
#[derive(Debug, Default)]
pub struct Converted {
    /// The series, merged by labels.
    pub series: Vec<TimeSeries>,
    /// Family metadata (with [`Settings::metadata`]).
    pub metadata: Vec<Metadata>,
    /// Data points not translated.
    pub dropped_points: u64,
    /// Why, one line per metric (the first few).
    pub errors: Vec<String>,
}

/// At most this many reasons are kept per request.
const MAX_ERRORS: usize = 8;

struct Builder<'a> {
    settings: &'a Settings,
    /// Series by the hash of their labels (candidates compared in full).
    index: HashMap<u64, Vec<usize>>,
    hasher: std::collections::hash_map::RandomState,
    out: Converted,
    families: HashMap<String, usize>,
}

fn millis(nanos: u64) -> i64 {
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`, with `+Inf`, `-Inf` and `NaN`.
fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

fn string_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(otlp_proto::common::v1::any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

const SERVICE_NAME: &str = "service.name";
const SERVICE_NAMESPACE: &str = "service.namespace";
const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// The labels of one series: `attrs` (sanitized, collisions joined), `job`/`instance` from
/// the resource, external labels, then `extras` (which win).
fn labels(
    resource: &[KeyValue],
    attrs: &[&KeyValue],
    scope: &[(String, String)],
    external: &[(String, String)],
    extras: &[(&str, &str)],
) -> Vec<Label> {
    with_extras(&base_labels(resource, attrs, scope, external), extras)
}

/// `base` (sorted by name) with `extras` set (replacing labels of the same name), sorted.
fn with_extras(base: &[Label], extras: &[(&str, &str)]) -> Vec<Label> {
    let mut out = Vec::with_capacity(base.len() + extras.len());
    out.extend(
        base.iter()
            .filter(|l| !extras.iter().any(|(n, _)| *n == l.name))
            .cloned(),
    );
    for (name, value) in extras {
        out.push(Label {
            name: (*name).to_owned(),
            value: (*value).to_owned(),
        });
    }
    out.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The labels of a point before its series' own (`__name__`, `le`, `quantile`), sorted.
fn base_labels(
    resource: &[KeyValue],
    attrs: &[&KeyValue],
    scope: &[(String, String)],
    external: &[(String, String)],
) -> Vec<Label> {
    let mut sorted: Vec<&KeyValue> = attrs.to_vec();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut map: Vec<(String, String)> =
        Vec::with_capacity(sorted.len() + scope.len() + external.len() + 2);
    let put = |map: &mut Vec<(String, String)>, name: String, value: String, join: bool| match map
        .iter_mut()
        .find(|(n, _)| *n == name)
    {
        Some((_, existing)) if join => {
            existing.push(';');
            existing.push_str(&value);
        }
        Some((_, existing)) => *existing = value,
        None => map.push((name, value)),
    };
    for kv in sorted {
        if let Some(name) = label_name(&kv.key) {
            put(&mut map, name, value_string(kv.value.as_ref()), true);
        }
    }
    for (name, value) in scope {
        put(&mut map, name.clone(), value.clone(), false);
    }
    if let Some(name) = string_attr(resource, SERVICE_NAME) {
        let job = match string_attr(resource, SERVICE_NAMESPACE) {
            Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
            _ => name.to_owned(),
        };
        put(&mut map, "job".to_owned(), job, false);
    }
    if let Some(id) = string_attr(resource, SERVICE_INSTANCE_ID) {
        put(&mut map, "instance".to_owned(), id.to_owned(), false);
    }
    for (name, value) in external {
        if !map.iter().any(|(n, _)| n == name) {
            map.push((name.clone(), value.clone()));
        }
    }
    let mut labels: Vec<Label> = map
        .into_iter()
        .map(|(name, value)| Label { name, value })
        .collect();
    labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    labels
}

impl Builder<'_> {
    fn sample(&mut self, labels: Vec<Label>, value: f64, timestamp: i64) {
        use std::hash::BuildHasher;
        let sample = Sample { value, timestamp };
        let key = self.hasher.hash_one(&labels);
        let candidates = self.index.entry(key).or_default();
        if let Some(&i) = candidates
            .iter()
            .find(|&&i| self.out.series[i].labels == labels)
        {
            self.out.series[i].samples.push(sample);
            return;
        }
        candidates.push(self.out.series.len());
        self.out.series.push(TimeSeries {
            labels,
            samples: vec![sample],
        });
    }

    fn drop(&mut self, points: usize, reason: String) {
        self.out.dropped_points += points as u64;
        if self.out.errors.len() < MAX_ERRORS {
            self.out.errors.push(reason);
        }
    }

    fn family(&mut self, kind: MetadataType, family: &str, help: &str, unit: &str) {
        if !self.settings.metadata || self.families.contains_key(family) {
            return;
        }
        self.families
            .insert(family.to_owned(), self.out.metadata.len());
        self.out.metadata.push(Metadata {
            kind,
            family: family.to_owned(),
            help: help.to_owned(),
            unit: unit.to_owned(),
        });
    }

    fn resource(&mut self, rm: &ResourceMetrics) {
        let resource: &[KeyValue] = rm
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        let settings = self.settings;
        let external = &settings.external_labels;
        let mut latest = 0u64;
        for sm in &rm.scope_metrics {
            let scope = scope_labels(sm.scope.as_ref());
            for metric in &sm.metrics {
                let Some(data) = &metric.data else {
                    continue;
                };
                let cumulative = |t: i32| t == AggregationTemporality::Cumulative as i32;
                // The type, the metadata type, the points, and why they are not written.
                let (ty, kind, points, problem) = match data {
                    Data::Gauge(g) => (
                        MetricType::Gauge,
                        MetadataType::Gauge,
                        g.data_points.len(),
                        None,
                    ),
                    Data::Sum(s) => {
                        let (ty, kind) = if s.is_monotonic {
                            (MetricType::MonotonicCounter, MetadataType::Counter)
                        } else {
                            (MetricType::NonMonotonicCounter, MetadataType::Gauge)
                        };
                        let problem = (!cumulative(s.aggregation_temporality))
                            .then_some("a sum that is not cumulative is not exported");
                        (ty, kind, s.data_points.len(), problem)
                    }
                    Data::Histogram(h) => (
                        MetricType::Histogram,
                        MetadataType::Histogram,
                        h.data_points.len(),
                        (!cumulative(h.aggregation_temporality))
                            .then_some("a histogram that is not cumulative is not exported"),
                    ),
                    Data::ExponentialHistogram(h) => (
                        MetricType::ExponentialHistogram,
                        MetadataType::Histogram,
                        h.data_points.len(),
                        Some(
                            "exponential histograms (native histograms) are not written to remote write 1.0",
                        ),
                    ),
                    Data::Summary(s) => (
                        MetricType::Summary,
                        MetadataType::Summary,
                        s.data_points.len(),
                        None,
                    ),
                };
                let Some(name) = settings.namer.build(&metric.name, &metric.unit, ty) else {
                    self.drop(
                        points,
                        format!("\"{}\": no valid Prometheus name is left", metric.name),
                    );
                    continue;
                };
                let names = SeriesNames::of(&name);
                // Go writes the metadata of every metric it names, written or not.
                self.family(kind, &name, &metric.description, &unit_name(&metric.unit));
                if let Some(problem) = problem {
                    self.drop(points, format!("{}: {problem}", metric.name));
                    continue;
                }
                match data {
                    Data::Gauge(g) => {
                        for p in &g.data_points {
                            latest = latest.max(p.time_unix_nano);
                            let value = number(p.value.as_ref(), p.flags);
                            let l = labels(
                                resource,
                                &attrs_of(&p.attributes, resource, settings.resource_to_telemetry),
                                &scope,
                                external,
                                &[("__name__", name.as_str())],
                            );
                            self.sample(l, value, millis(p.time_unix_nano));
                        }
                    }
                    Data::Sum(s) => {
                        for p in &s.data_points {
                            latest = latest.max(p.time_unix_nano);
                            let attrs =
                                attrs_of(&p.attributes, resource, settings.resource_to_telemetry);
                            let base = base_labels(resource, &attrs, &scope, external);
                            let ts = millis(p.time_unix_nano);
                            let value = number(p.value.as_ref(), p.flags);
                            let l = with_extras(&base, &[("__name__", name.as_str())]);
                            self.sample(l, value, ts);
                            if settings.created && s.is_monotonic && p.start_time_unix_nano != 0 {
                                self.created(&base, &names.created, p.start_time_unix_nano, ts);
                            }
                        }
                    }
                    Data::Histogram(h) => {
                        for p in &h.data_points {
                            latest = latest.max(p.time_unix_nano);
                            let attrs =
                                attrs_of(&p.attributes, resource, settings.resource_to_telemetry);
                            let base = base_labels(resource, &attrs, &scope, external);
                            let ts = millis(p.time_unix_nano);
                            let stale = p.flags & NO_RECORDED_VALUE != 0;
                            let or_stale =
                                |v: f64| if stale { f64::from_bits(STALE_NAN) } else { v };
                            if let Some(sum) = p.sum {
                                let l = with_extras(&base, &[("__name__", names.sum.as_str())]);
                                self.sample(l, or_stale(sum), ts);
                            }
                            let l = with_extras(&base, &[("__name__", names.count.as_str())]);
                            self.sample(l, or_stale(p.count as f64), ts);
                            let mut cumulative = 0u64;
                            for (i, bound) in p.explicit_bounds.iter().enumerate() {
                                let Some(count) = p.bucket_counts.get(i) else {
                                    break;
                                };
                                cumulative = cumulative.saturating_add(*count);
                                let l = with_extras(
                                    &base,
                                    &[
                                        ("__name__", names.bucket.as_str()),
                                        ("le", format_float(*bound).as_str()),
                                    ],
                                );
                                self.sample(l, or_stale(cumulative as f64), ts);
                            }
                            let l = with_extras(
                                &base,
                                &[("__name__", names.bucket.as_str()), ("le", "+Inf")],
                            );
                            self.sample(l, or_stale(p.count as f64), ts);
                            if settings.created && p.start_time_unix_nano != 0 {
                                self.created(&base, &names.created, p.start_time_unix_nano, ts);
                            }
                        }
                    }
                    Data::Summary(s) => {
                        for p in &s.data_points {
                            latest = latest.max(p.time_unix_nano);
                            let attrs =
                                attrs_of(&p.attributes, resource, settings.resource_to_telemetry);
                            let base = base_labels(resource, &attrs, &scope, external);
                            let ts = millis(p.time_unix_nano);
                            let stale = p.flags & NO_RECORDED_VALUE != 0;
                            let or_stale =
                                |v: f64| if stale { f64::from_bits(STALE_NAN) } else { v };
                            let l = with_extras(&base, &[("__name__", names.sum.as_str())]);
                            self.sample(l, or_stale(p.sum), ts);
                            let l = with_extras(&base, &[("__name__", names.count.as_str())]);
                            self.sample(l, or_stale(p.count as f64), ts);
                            for q in &p.quantile_values {
                                let l = with_extras(
                                    &base,
                                    &[
                                        ("__name__", name.as_str()),
                                        ("quantile", format_float(q.quantile).as_str()),
                                    ],
                                );
                                self.sample(l, or_stale(q.value), ts);
                            }
                            if settings.created && p.start_time_unix_nano != 0 {
                                self.created(&base, &names.created, p.start_time_unix_nano, ts);
                            }
                        }
                    }
                    Data::ExponentialHistogram(_) => {}
                }
            }
        }
        if settings.target_info && latest != 0 {
            let attrs: Vec<&KeyValue> = resource
                .iter()
                .filter(|kv| {
                    !matches!(
                        kv.key.as_str(),
                        SERVICE_NAME | SERVICE_NAMESPACE | SERVICE_INSTANCE_ID
                    )
                })
                .collect();
            if !attrs.is_empty() {
                let name = if settings.namer.namespace.is_empty() {
                    "target_info".to_owned()
                } else {
                    format!("{}_target_info", settings.namer.namespace)
                };
                let l = labels(
                    resource,
                    &attrs,
                    &[],
                    external,
                    &[("__name__", name.as_str())],
                );
                self.sample(l, 1.0, millis(latest));
            }
        }
    }

    /// The `_created` sample of a point whose labels (before `__name__`) are `base`.
    fn created(&mut self, base: &[Label], created_name: &str, start: u64, ts: i64) {
        let l = with_extras(base, &[("__name__", created_name)]);
        self.sample(l, millis(start) as f64, ts);
    }
}

/// `otel_scope_name`, `otel_scope_version` (when not empty) and
/// `otel_scope_<attribute>` for every scope attribute: the scope on every series of its
/// metrics, as the Go exporter promotes it.
fn scope_labels(
    scope: Option<&otlp_proto::common::v1::InstrumentationScope>,
) -> Vec<(String, String)> {
    let Some(scope) = scope else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in [
        ("otel_scope_name", &scope.name),
        ("otel_scope_version", &scope.version),
    ] {
        if !value.is_empty() {
            out.push((name.to_owned(), value.clone()));
        }
    }
    for kv in &scope.attributes {
        if let Some(name) = label_name(&kv.key) {
            out.push((
                format!("otel_scope_{name}"),
                value_string(kv.value.as_ref()),
            ));
        }
    }
    out
}

/// The series names of one metric, built once for all its points.
struct SeriesNames {
    sum: String,
    count: String,
    bucket: String,
    created: String,
}

impl SeriesNames {
    fn of(name: &str) -> SeriesNames {
        SeriesNames {
            sum: format!("{name}_sum"),
            count: format!("{name}_count"),
            bucket: format!("{name}_bucket"),
            created: format!("{}_created", name.strip_suffix("_total").unwrap_or(name)),
        }
    }
}

/// A point's attributes, plus the resource's it lacks with `resource_to_telemetry`.
fn attrs_of<'a>(
    point: &'a [KeyValue],
    resource: &'a [KeyValue],
    resource_to_telemetry: bool,
) -> Vec<&'a KeyValue> {
    let mut attrs: Vec<&KeyValue> = point.iter().collect();
    if resource_to_telemetry {
        for kv in resource {
            if !point.iter().any(|p| p.key == kv.key) {
                attrs.push(kv);
            }
        }
    }
    attrs
}

fn number(value: Option<&number_data_point::Value>, flags: u32) -> f64 {
    if flags & NO_RECORDED_VALUE != 0 {
        return f64::from_bits(STALE_NAN);
    }
    match value {
        Some(number_data_point::Value::AsDouble(v)) => *v,
        Some(number_data_point::Value::AsInt(v)) => *v as f64,
        None => 0.0,
    }
}

/// Translates one request.
pub fn convert(request: &ExportMetricsServiceRequest, settings: &Settings) -> Converted {
    let mut builder = Builder {
        settings,
        index: HashMap::new(),
        hasher: std::collections::hash_map::RandomState::new(),
        out: Converted::default(),
        families: HashMap::new(),
    };
    for rm in &request.resource_metrics {
        builder.resource(rm);
    }
    let mut out = builder.out;
    for series in &mut out.series {
        series.samples.sort_by_key(|s| s.timestamp);
    }
    out
}

/// Splits the series (then the metadata) into requests whose encoding stays under
/// `max_bytes` (a single larger series is a request of its own), as Go batches them.
pub fn batches(converted: Converted, max_bytes: usize) -> Vec<WriteRequest> {
    let mut requests = Vec::new();
    let mut current = WriteRequest::default();
    let mut size = 0usize;
    for series in converted.series {
        let len = series.encoded_len() + 6;
        if !current.timeseries.is_empty() && size + len >= max_bytes {
            requests.push(std::mem::take(&mut current));
            size = 0;
        }
        size += len;
        current.timeseries.push(series);
    }
    if !current.timeseries.is_empty() {
        requests.push(std::mem::take(&mut current));
    }
    size = 0;
    for metadata in converted.metadata {
        let len = metadata.family.len() + metadata.help.len() + metadata.unit.len() + 16;
        if !current.metadata.is_empty() && size + len >= max_bytes {
            requests.push(std::mem::take(&mut current));
            size = 0;
        }
        size += len;
        current.metadata.push(metadata);
    }
    if !current.metadata.is_empty() {
        requests.push(current);
    }
    requests
}
