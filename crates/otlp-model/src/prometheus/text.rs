//! OTLP metrics → the Prometheus text exposition format, version 0.0.4.

use std::collections::{BTreeMap, HashMap, HashSet};

use otlp_proto::common::v1::KeyValue;
use otlp_proto::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, SummaryDataPoint, metric::Data, number_data_point,
};
use otlp_proto::resource::v1::Resource;

use super::names::{self, NameKind};
use super::values::{any_value_string, f64_string, write_f64, write_help, write_label_value};

/// How [`encode_text`] names and labels what it writes.
///
/// The default is what the specification requires by default: unit and `_total` suffixes,
/// scope labels and a `target_info` metric, no `job` / `instance` labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Adds no unit suffix (`_seconds`, `_bytes`, `_ratio`, …) to metric names (the
    /// specification's `without_units`).
    pub without_units: bool,
    /// Adds no `_total` suffix to counters (the specification's `without_type_suffix`, for
    /// counters; the `_info` suffix of Info-typed gauges is always added).
    pub without_counter_suffixes: bool,
    /// Adds no `otel_scope_name`, `otel_scope_version`, `otel_scope_schema_url` and
    /// `otel_scope_<attribute>` labels (the specification's `without_scope_info`).
    pub without_scope_info: bool,
    /// Writes no `target_info` metric (the specification's `without_target_info`).
    pub without_target_info: bool,
    /// Adds `job` (`service.namespace/service.name`, or `service.name`) and `instance`
    /// (`service.instance.id`, or empty) labels to every series and to `target_info`, whose
    /// other labels are then the resource attributes less those three, as the
    /// specification asks of the Collector's exporters. Off by default: for an SDK endpoint
    /// the scraper sets `job` and `instance`, and the specification says `target_info` has
    /// the resource attributes and no other labels.
    pub job_and_instance_labels: bool,
}

/// What [`encode_text_with_stats`] left out, and why.
///
/// Metrics are counted once however many points they have; points are counted one by one.
/// (Not `#[non_exhaustive]`: the SDK's tests, in another crate since the move, build it with
/// `..Default::default()`.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodeStats {
    /// Exponential histograms: the text format 0.0.4 has no native histograms, and the
    /// specification says to drop them when the format cannot carry them.
    pub exponential_histograms_skipped: usize,
    /// Sums and histograms of delta temporality: a scrape needs cumulative values, and this
    /// stateless encoder does not accumulate (the Prometheus exporter's reader must use
    /// cumulative temporality for every instrument kind).
    pub delta_metrics_dropped: usize,
    /// Metrics whose Prometheus name is already taken by a family of another type (or by
    /// another family's `_bucket` / `_sum` / `_count` series, or by `target_info`).
    pub conflicting_metrics_dropped: usize,
    /// Metrics with no data, an unspecified temporality, or a name with nothing valid in it.
    pub invalid_metrics_dropped: usize,
    /// Data points with no value, the no-recorded-value flag, or inconsistent histogram
    /// buckets (bounds not increasing, wrong number of counts, counts not adding up).
    pub points_dropped: usize,
    /// Series whose name and labels repeat an earlier series (only the first is kept).
    pub duplicate_series_dropped: usize,
    /// Resources beyond the first whose `target_info` would differ from the one written:
    /// an endpoint has at most one `target_info` (one per `job` / `instance` with
    /// [`TextOptions::job_and_instance_labels`]).
    pub target_infos_dropped: usize,
}

/// Encodes metrics in the Prometheus text format 0.0.4, as `GET /metrics` serves them.
///
/// See [`encode_text_with_stats`] for the rules; this drops its counts.
pub fn encode_text(metrics: &[ResourceMetrics], options: &TextOptions) -> String {
    encode_text_with_stats(metrics, options).0
}

/// [`encode_text`], also returning what was left out.
///
/// - Names: characters outside `[a-zA-Z0-9_:]` become `_`, runs of `_` collapse, a leading
///   digit gets a `_` before it; then the unit suffix (`ms` → `_milliseconds`, `By/s` →
///   `_bytes_per_second`, `1` → `_ratio` for gauges, `{…}` dropped) and for counters
///   `_total`, neither added twice.
/// - Types: a cumulative monotonic sum is a `counter`; a gauge or cumulative non-monotonic
///   sum a `gauge` (`untyped` when its `prometheus.type` metadata is `unknown`, a gauge
///   named `…_info` when it is `info`); a cumulative histogram a `histogram` (cumulative
///   `_bucket{le}` ending in `+Inf`, `_sum` when the point has a sum, `_count`); a summary
///   a `summary` (`quantile` series, `_sum`, `_count`). Delta metrics and exponential
///   histograms are dropped (see [`EncodeStats`]).
/// - Labels: point attributes, scope labels and (optionally) `job` / `instance`; keys are
///   sanitized like names (without `:`), keys that meet after sanitizing have their values
///   joined with `;` in the order of the original keys; labels are sorted by name.
/// - Families: one per name, sorted by name, with `# HELP` (the first non-empty
///   description) and `# TYPE`; metrics of one name from several scopes or resources
///   share it, a metric whose type differs from the family's is dropped with a warning.
/// - `target_info`: a gauge of value 1 with the resource attributes as labels.
/// - No timestamps (the scraper stamps samples), no exemplars, no `_created` series.
pub fn encode_text_with_stats(
    metrics: &[ResourceMetrics],
    options: &TextOptions,
) -> (String, EncodeStats) {
    let mut encoder = Encoder {
        options,
        families: BTreeMap::new(),
        owners: HashMap::new(),
        stats: EncodeStats::default(),
    };
    if !options.without_target_info {
        encoder.target_info(metrics);
    }
    for resource_metrics in metrics {
        let resource_labels = if options.job_and_instance_labels {
            job_and_instance(resource_metrics.resource.as_ref())
        } else {
            Vec::new()
        };
        for scope_metrics in &resource_metrics.scope_metrics {
            let mut labels = resource_labels.clone();
            if !options.without_scope_info {
                labels.extend(scope_labels(scope_metrics));
            }
            for metric in &scope_metrics.metrics {
                encoder.metric(metric, &labels);
            }
        }
    }
    encoder.finish()
}

/// The name of the resource metric.
const TARGET_INFO: &str = "target_info";
/// The metadata key whose value is the Prometheus type a metric came from.
const PROMETHEUS_TYPE: &str = "prometheus.type";
/// The data point flag of a point that has no recorded value.
const NO_RECORDED_VALUE: u32 = 1;

/// A family's `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FamilyType {
    Counter,
    Gauge,
    Untyped,
    Histogram,
    Summary,
}

impl FamilyType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Untyped => "untyped",
            Self::Histogram => "histogram",
            Self::Summary => "summary",
        }
    }

    /// The series names a family of this type writes.
    fn series_names(self, name: &str) -> Vec<String> {
        match self {
            Self::Counter | Self::Gauge | Self::Untyped => vec![name.to_owned()],
            Self::Histogram => vec![
                name.to_owned(),
                format!("{name}_bucket"),
                format!("{name}_sum"),
                format!("{name}_count"),
            ],
            Self::Summary => {
                vec![
                    name.to_owned(),
                    format!("{name}_sum"),
                    format!("{name}_count"),
                ]
            }
        }
    }
}

/// One metric family being written.
struct Family {
    ty: FamilyType,
    help: String,
    /// The sample lines.
    body: String,
    /// The label sets written so far (a repeated one is a duplicate series).
    series: HashSet<String>,
    /// `target_info`: no metric may join it.
    reserved: bool,
}

/// A label before sanitized names that meet are merged.
#[derive(Debug, Clone)]
struct Label {
    /// The Prometheus label name.
    name: String,
    /// The key it came from (the merge order).
    key: String,
    value: String,
}

impl Label {
    fn new(name: &str, value: String) -> Self {
        Self {
            name: name.to_owned(),
            key: name.to_owned(),
            value,
        }
    }

    /// A label for an attribute, `None` for an empty key.
    fn attribute(attribute: &KeyValue) -> Option<Self> {
        Some(Self {
            name: names::sanitize_label_name(&attribute.key)?,
            key: attribute.key.clone(),
            value: any_value_string(attribute.value.as_ref()),
        })
    }
}

/// The labels rendered as `a="x",b="y"`: sorted by name, values of equal names joined with
/// `;` in the order of their original keys.
fn render_labels(mut labels: Vec<Label>) -> String {
    labels.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.key.cmp(&b.key)));
    let mut out = String::new();
    let mut previous: Option<String> = None;
    for label in labels {
        if previous.as_deref() == Some(label.name.as_str()) {
            // Reopen the value: drop the closing quote, add `;` and this value.
            out.pop();
            out.push(';');
        } else {
            if previous.is_some() {
                out.push(',');
            }
            out.push_str(&label.name);
            out.push_str("=\"");
        }
        write_label_value(&mut out, &label.value);
        out.push('"');
        previous = Some(label.name);
    }
    out
}

/// The attribute value of `key` on a resource, as a string.
fn resource_value(resource: &Resource, key: &str) -> Option<String> {
    resource
        .attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| any_value_string(kv.value.as_ref()))
}

const SERVICE_NAME: &str = "service.name";
const SERVICE_NAMESPACE: &str = "service.namespace";
const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// `job` (when the resource has a `service.name`) and `instance` labels.
fn job_and_instance(resource: Option<&Resource>) -> Vec<Label> {
    let mut labels = Vec::new();
    let Some(resource) = resource else {
        labels.push(Label::new("instance", String::new()));
        return labels;
    };
    if let Some(name) = resource_value(resource, SERVICE_NAME) {
        let job = match resource_value(resource, SERVICE_NAMESPACE) {
            Some(namespace) if !namespace.is_empty() => format!("{namespace}/{name}"),
            _ => name,
        };
        labels.push(Label::new("job", job));
    }
    let instance = resource_value(resource, SERVICE_INSTANCE_ID).unwrap_or_default();
    labels.push(Label::new("instance", instance));
    labels
}

/// The scope labels of the metrics of one scope.
fn scope_labels(scope_metrics: &ScopeMetrics) -> Vec<Label> {
    const FIXED: [&str; 3] = [
        "otel_scope_name",
        "otel_scope_version",
        "otel_scope_schema_url",
    ];
    let scope = scope_metrics.scope.as_ref();
    let mut labels = vec![
        Label::new(FIXED[0], scope.map(|s| s.name.clone()).unwrap_or_default()),
        Label::new(
            FIXED[1],
            scope.map(|s| s.version.clone()).unwrap_or_default(),
        ),
        Label::new(FIXED[2], scope_metrics.schema_url.clone()),
    ];
    for attribute in scope.map(|s| s.attributes.as_slice()).unwrap_or_default() {
        let key = format!("otel_scope_{}", attribute.key);
        let Some(name) = names::sanitize_label_name(&key) else {
            continue;
        };
        // The specification: scope attributes that would meet the three fixed labels are
        // dropped.
        if FIXED.contains(&name.as_str()) {
            tracing::debug!(attribute = %attribute.key, "scope attribute dropped: meets {name}");
            continue;
        }
        labels.push(Label {
            name,
            key,
            value: any_value_string(attribute.value.as_ref()),
        });
    }
    labels
}

/// The labels of one data point: its attributes (less the one named `reserved`, the `le` of
/// histograms and the `quantile` of summaries) and the scope and resource labels.
fn point_labels(attributes: &[KeyValue], context: &[Label], reserved: Option<&str>) -> String {
    let mut labels: Vec<Label> = context.to_vec();
    for attribute in attributes {
        let Some(label) = Label::attribute(attribute) else {
            continue;
        };
        if Some(label.name.as_str()) == reserved {
            let key = &attribute.key;
            tracing::debug!(attribute = %key, "attribute dropped: meets the {} label", label.name);
            continue;
        }
        labels.push(label);
    }
    render_labels(labels)
}

/// A sample value.
#[derive(Clone, Copy)]
enum Value {
    F64(f64),
    I64(i64),
    U64(u64),
}

/// Appends `name{labels,extra} value`.
fn write_sample(
    body: &mut String,
    name: &str,
    suffix: &str,
    labels: &str,
    extra: Option<(&str, &str)>,
    value: Value,
) {
    body.push_str(name);
    body.push_str(suffix);
    if !labels.is_empty() || extra.is_some() {
        body.push('{');
        body.push_str(labels);
        if let Some((label, label_value)) = extra {
            if !labels.is_empty() {
                body.push(',');
            }
            body.push_str(label);
            body.push_str("=\"");
            write_label_value(body, label_value);
            body.push('"');
        }
        body.push('}');
    }
    body.push(' ');
    match value {
        Value::F64(v) => write_f64(body, v),
        Value::I64(v) => body.push_str(&v.to_string()),
        Value::U64(v) => body.push_str(&v.to_string()),
    }
    body.push('\n');
}

/// Whether a label set is new to the family (a repeat is counted and skipped).
fn new_series(family: &mut Family, stats: &mut EncodeStats, name: &str, labels: &str) -> bool {
    if family.series.insert(labels.to_owned()) {
        return true;
    }
    tracing::warn!(metric = %name, labels = %labels, "duplicate series dropped");
    stats.duplicate_series_dropped += 1;
    false
}

fn temporality(value: i32) -> Option<AggregationTemporality> {
    AggregationTemporality::try_from(value).ok()
}

struct Encoder<'a> {
    options: &'a TextOptions,
    families: BTreeMap<String, Family>,
    /// Series name → the family that writes it.
    owners: HashMap<String, String>,
    stats: EncodeStats,
}

impl Encoder<'_> {
    /// Makes room for a family, or joins the existing one of the same type; `false` (with a
    /// warning) when the name or one of its series names belongs to a family it cannot join.
    fn family(&mut self, name: &str, ty: FamilyType, help: &str, reserved: bool) -> bool {
        if let Some(family) = self.families.get_mut(name) {
            if family.reserved || family.ty != ty {
                tracing::warn!(
                    metric = %name,
                    "metric dropped: the name is already a {} family",
                    family.ty.as_str()
                );
                self.stats.conflicting_metrics_dropped += 1;
                return false;
            }
            if family.help.is_empty() {
                family.help = help.to_owned();
            } else if !help.is_empty() && help != family.help {
                tracing::warn!(metric = %name, "conflicting description dropped from HELP");
            }
            return true;
        }
        let series_names = ty.series_names(name);
        if let Some(owner) = series_names.iter().find_map(|s| self.owners.get(s)) {
            tracing::warn!(metric = %name, "metric dropped: its series belong to {owner}");
            self.stats.conflicting_metrics_dropped += 1;
            return false;
        }
        for series_name in series_names {
            self.owners.insert(series_name, name.to_owned());
        }
        self.families.insert(
            name.to_owned(),
            Family {
                ty,
                help: help.to_owned(),
                body: String::new(),
                series: HashSet::new(),
                reserved,
            },
        );
        true
    }

    /// Writes the `target_info` family: one series for the first non-empty resource (per
    /// `job` / `instance` with [`TextOptions::job_and_instance_labels`]).
    fn target_info(&mut self, metrics: &[ResourceMetrics]) {
        // Key (job and instance, or nothing) → the label set written for it.
        let mut written: HashMap<String, String> = HashMap::new();
        let mut lines = String::new();
        for resource in metrics.iter().filter_map(|rm| rm.resource.as_ref()) {
            if resource.attributes.is_empty() {
                continue;
            }
            let (key, labels) = if self.options.job_and_instance_labels {
                let mut labels = job_and_instance(Some(resource));
                let key = labels
                    .iter()
                    .map(|l| l.value.as_str())
                    .collect::<Vec<_>>()
                    .join("\u{0}");
                labels.extend(
                    resource
                        .attributes
                        .iter()
                        .filter(|kv| {
                            ![SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID]
                                .contains(&kv.key.as_str())
                        })
                        .filter_map(Label::attribute),
                );
                (key, render_labels(labels))
            } else {
                let labels = resource
                    .attributes
                    .iter()
                    .filter_map(Label::attribute)
                    .collect();
                (String::new(), render_labels(labels))
            };
            match written.get(&key) {
                Some(previous) if *previous == labels => {}
                Some(_) => {
                    tracing::warn!("target_info of a further resource dropped: one is written");
                    self.stats.target_infos_dropped += 1;
                }
                None => {
                    write_sample(&mut lines, TARGET_INFO, "", &labels, None, Value::I64(1));
                    written.insert(key, labels);
                }
            }
        }
        if lines.is_empty() || !self.family(TARGET_INFO, FamilyType::Gauge, "Target metadata", true)
        {
            return;
        }
        if let Some(family) = self.families.get_mut(TARGET_INFO) {
            family.body = lines;
        }
    }

    fn metric(&mut self, metric: &Metric, context: &[Label]) {
        let Some(data) = &metric.data else {
            tracing::warn!(metric = %metric.name, "metric without data dropped");
            self.stats.invalid_metrics_dropped += 1;
            return;
        };
        let hint = metric
            .metadata
            .iter()
            .find(|kv| kv.key == PROMETHEUS_TYPE)
            .map(|kv| any_value_string(kv.value.as_ref()));
        let gauge_like = |kind| match hint.as_deref() {
            Some("unknown") => (FamilyType::Untyped, kind),
            Some("info") => (FamilyType::Gauge, NameKind::Info),
            _ => (FamilyType::Gauge, kind),
        };
        let cumulative = |value| match temporality(value) {
            Some(AggregationTemporality::Cumulative) => Some(true),
            Some(AggregationTemporality::Delta) => Some(false),
            _ => None,
        };
        let (ty, kind) = match data {
            Data::Gauge(_) => gauge_like(NameKind::Gauge),
            Data::Sum(sum) => match cumulative(sum.aggregation_temporality) {
                Some(true) if sum.is_monotonic => (FamilyType::Counter, NameKind::Counter),
                Some(true) => gauge_like(NameKind::Plain),
                Some(false) => return self.delta(metric),
                None => return self.unspecified(metric),
            },
            Data::Histogram(histogram) => match cumulative(histogram.aggregation_temporality) {
                Some(true) => (FamilyType::Histogram, NameKind::Plain),
                Some(false) => return self.delta(metric),
                None => return self.unspecified(metric),
            },
            Data::ExponentialHistogram(_) => {
                let name = &metric.name;
                tracing::debug!(metric = %name, "exponential histogram skipped: not in text 0.0.4");
                self.stats.exponential_histograms_skipped += 1;
                return;
            }
            Data::Summary(_) => (FamilyType::Summary, NameKind::Plain),
        };
        let Some(name) = names::metric_name(
            &metric.name,
            &metric.unit,
            kind,
            !self.options.without_units,
            !self.options.without_counter_suffixes,
        ) else {
            tracing::warn!(metric = %metric.name, "metric dropped: no valid character in its name");
            self.stats.invalid_metrics_dropped += 1;
            return;
        };
        if !self.family(&name, ty, &metric.description, false) {
            return;
        }
        let Some(family) = self.families.get_mut(&name) else {
            return;
        };
        let stats = &mut self.stats;
        match data {
            Data::Gauge(gauge) => number_points(family, stats, &name, &gauge.data_points, context),
            Data::Sum(sum) => number_points(family, stats, &name, &sum.data_points, context),
            Data::Histogram(histogram) => {
                for point in &histogram.data_points {
                    histogram_point(family, stats, &name, point, context);
                }
            }
            Data::Summary(summary) => {
                for point in &summary.data_points {
                    summary_point(family, stats, &name, point, context);
                }
            }
            Data::ExponentialHistogram(_) => {}
        }
    }

    fn delta(&mut self, metric: &Metric) {
        tracing::warn!(metric = %metric.name, "delta metric dropped: cumulative is needed");
        self.stats.delta_metrics_dropped += 1;
    }

    fn unspecified(&mut self, metric: &Metric) {
        tracing::warn!(metric = %metric.name, "metric dropped: unspecified temporality");
        self.stats.invalid_metrics_dropped += 1;
    }

    fn finish(self) -> (String, EncodeStats) {
        let mut out = String::new();
        for (name, family) in &self.families {
            if family.body.is_empty() {
                continue;
            }
            if !family.help.is_empty() {
                out.push_str("# HELP ");
                out.push_str(name);
                out.push(' ');
                write_help(&mut out, &family.help);
                out.push('\n');
            }
            out.push_str("# TYPE ");
            out.push_str(name);
            out.push(' ');
            out.push_str(family.ty.as_str());
            out.push('\n');
            out.push_str(&family.body);
        }
        (out, self.stats)
    }
}

fn number_points(
    family: &mut Family,
    stats: &mut EncodeStats,
    name: &str,
    points: &[NumberDataPoint],
    context: &[Label],
) {
    for point in points {
        let value = match point.value {
            _ if point.flags & NO_RECORDED_VALUE != 0 => None,
            Some(number_data_point::Value::AsDouble(v)) => Some(Value::F64(v)),
            Some(number_data_point::Value::AsInt(v)) => Some(Value::I64(v)),
            None => None,
        };
        let Some(value) = value else {
            stats.points_dropped += 1;
            continue;
        };
        let labels = point_labels(&point.attributes, context, None);
        if new_series(family, stats, name, &labels) {
            write_sample(&mut family.body, name, "", &labels, None, value);
        }
    }
}

/// The cumulative bucket counts of a histogram point (one per bound), or `None` when the
/// point is inconsistent.
fn cumulative_buckets(point: &HistogramDataPoint) -> Option<Vec<u64>> {
    let bounds = &point.explicit_bounds;
    let valid_bounds = bounds.iter().all(|b| !b.is_nan() && *b != f64::INFINITY)
        && bounds.windows(2).all(|w| w[0] < w[1]);
    if !valid_bounds {
        return None;
    }
    if point.bucket_counts.is_empty() {
        // No buckets recorded: only the `+Inf` bucket, which is the count.
        return Some(Vec::new());
    }
    if point.bucket_counts.len() != bounds.len() + 1 {
        return None;
    }
    let mut total = 0u64;
    let mut cumulative = Vec::with_capacity(bounds.len());
    for count in &point.bucket_counts {
        total = total.checked_add(*count)?;
        cumulative.push(total);
    }
    cumulative.pop();
    (total == point.count).then_some(cumulative)
}

fn histogram_point(
    family: &mut Family,
    stats: &mut EncodeStats,
    name: &str,
    point: &HistogramDataPoint,
    context: &[Label],
) {
    let buckets = match cumulative_buckets(point) {
        Some(buckets) if point.flags & NO_RECORDED_VALUE == 0 => buckets,
        _ => {
            tracing::warn!(metric = %name, "histogram point dropped: no value or bad buckets");
            stats.points_dropped += 1;
            return;
        }
    };
    let labels = point_labels(&point.attributes, context, Some("le"));
    if !new_series(family, stats, name, &labels) {
        return;
    }
    let body = &mut family.body;
    let shown_bounds = if buckets.is_empty() {
        &[][..]
    } else {
        &point.explicit_bounds[..]
    };
    for (bound, count) in shown_bounds.iter().zip(&buckets) {
        let le = f64_string(*bound);
        write_sample(
            body,
            name,
            "_bucket",
            &labels,
            Some(("le", &le)),
            Value::U64(*count),
        );
    }
    write_sample(
        body,
        name,
        "_bucket",
        &labels,
        Some(("le", "+Inf")),
        Value::U64(point.count),
    );
    if let Some(sum) = point.sum {
        write_sample(body, name, "_sum", &labels, None, Value::F64(sum));
    }
    write_sample(body, name, "_count", &labels, None, Value::U64(point.count));
}

fn summary_point(
    family: &mut Family,
    stats: &mut EncodeStats,
    name: &str,
    point: &SummaryDataPoint,
    context: &[Label],
) {
    if point.flags & NO_RECORDED_VALUE != 0 {
        stats.points_dropped += 1;
        return;
    }
    let labels = point_labels(&point.attributes, context, Some("quantile"));
    if !new_series(family, stats, name, &labels) {
        return;
    }
    let mut quantiles: Vec<(f64, f64)> = point
        .quantile_values
        .iter()
        .filter(|q| (0.0..=1.0).contains(&q.quantile))
        .map(|q| (q.quantile, q.value))
        .collect();
    quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
    quantiles.dedup_by(|a, b| a.0 == b.0);
    let body = &mut family.body;
    for (quantile, value) in quantiles {
        let q = f64_string(quantile);
        write_sample(
            body,
            name,
            "",
            &labels,
            Some(("quantile", &q)),
            Value::F64(value),
        );
    }
    write_sample(body, name, "_sum", &labels, None, Value::F64(point.sum));
    write_sample(body, name, "_count", &labels, None, Value::U64(point.count));
}
