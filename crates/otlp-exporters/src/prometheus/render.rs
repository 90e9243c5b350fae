//! A scrape: the held series in the text format 0.0.4 or OpenMetrics 1.0, as the Go
//! exporter's collector and client_golang's encoders write them.
//!
//! - Families are sorted by name, samples within a family by their labels; every family has
//!   `# HELP` (the OTLP description, possibly empty) and `# TYPE`.
//! - Types: gauges and non-monotonic sums are `gauge`, monotonic sums `counter`, explicit and
//!   exponential histograms `histogram` (an exponential one with only the `+Inf` bucket),
//!   summaries `summary`.
//! - Labels: the point attributes, `job` and `instance` (from the resource), the scope labels
//!   (`otel_scope_name`, `otel_scope_version`, `otel_scope_schema_url`,
//!   `otel_scope_<attribute>`) unless `without_scope_info`, and the constant labels.
//! - What client_golang refuses is left out and counted: a name with nothing valid in it,
//!   two labels of one name, a reserved (`__`) label name, `le` on a histogram or `quantile`
//!   on a summary, a family whose type or HELP differs from the family of that name written
//!   first, a label set written twice in a family, histogram buckets that do not match
//!   their bounds.
//! - `target_info` (a gauge of value 1, HELP `Target metadata`, named with the namespace:
//!   `app_target_info`): one per `job` / `instance` (none for a resource that lacks either),
//!   labelled with them and the resource attributes less `service.name`,
//!   `service.namespace` and `service.instance.id` (values of keys that meet after
//!   translation joined with `;`).
//! - OpenMetrics: counters' metadata names lose `_total` (their samples keep it; a counter
//!   named without `_total`, under `UnderscoreEscapingWithoutSuffixes`, is `unknown`),
//!   timestamps are float seconds (`1.796413590979e+09`), floats are
//!   written with a `.0` when integral, exemplars (`trace_id`, `span_id`) follow counter
//!   samples (the last exemplar) and histogram buckets (each in the first bucket whose bound
//!   is not below its value), and the scrape ends with `# EOF`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::time::Instant;

use otlp_model::prometheus::translator::{
    MetricNamer, MetricType, go_float, label_name, openmetrics_float, value_string,
};
use otlp_model::prometheus::values::{write_help, write_label_value};
use otlp_proto::metrics::v1::{Exemplar, exemplar, number_data_point};

use super::accumulator::{
    Accumulator, Kind, Point, SERVICE_INSTANCE_ID, SERVICE_NAME, SERVICE_NAMESPACE, Series,
};

/// The exposition format of a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of a scrape in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// How series are named and labelled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Prefix of every metric name (`namespace_name`).
    pub namespace: String,
    /// Unit and type suffixes (`UnderscoreEscapingWithSuffixes`).
    pub with_suffixes: bool,
    /// Labels added to every series but `target_info`.
    pub const_labels: Vec<(String, String)>,
    /// Write each sample's OTLP timestamp.
    pub send_timestamps: bool,
    /// No `otel_scope_*` labels.
    pub without_scope_info: bool,
}

const TARGET_INFO: &str = "target_info";

/// One family being written.
struct Family {
    ty: &'static str,
    help: String,
    /// (sorted labels, sample lines) per series.
    samples: Vec<(String, String)>,
    seen: HashSet<String>,
}

/// Renders the series of `accumulator` (after expiring those too old at `now`), returning
/// the exposition and how many series were left out.
pub fn render(
    accumulator: &mut Accumulator,
    options: &RenderOptions,
    format: Format,
    now: Instant,
) -> (String, usize) {
    accumulator.expire(now);
    let namer = MetricNamer {
        namespace: options.namespace.clone(),
        with_suffixes: options.with_suffixes,
    };
    let mut series: Vec<&Series> = accumulator.series().collect();
    // Deterministic: which of two conflicting families is kept does not depend on hashing.
    series.sort_unstable_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| a.kind.order().cmp(&b.kind.order()))
            .then_with(|| a.scope.name.cmp(&b.scope.name))
    });
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut refused = 0usize;
    let target_info_name = namer
        .build(TARGET_INFO, "", MetricType::Gauge)
        .unwrap_or_else(|| TARGET_INFO.to_owned());
    target_info(&series, format, &target_info_name, &mut families);
    let mut writer = Writer {
        format,
        send_timestamps: options.send_timestamps,
    };
    // Many series share a metric: its name is translated once.
    let mut names: HashMap<(&str, &str, u8), Option<String>> = HashMap::new();
    for s in &series {
        let name = names
            .entry((s.name.as_str(), s.unit.as_str(), s.kind.order()))
            .or_insert_with(|| namer.build(&s.name, &s.unit, metric_type(s.kind)));
        let Some(name) = name.as_deref() else {
            tracing::debug!(metric = %s.name, "series left out: no valid name");
            refused += 1;
            continue;
        };
        if !one_series(s, name, options, &mut writer, &mut families) {
            refused += 1;
        }
    }
    let mut out = String::with_capacity(families.values().map(|f| f.samples.len() * 96).sum());
    for (name, family) in &mut families {
        family.samples.sort_by(|a, b| a.0.cmp(&b.0));
        // OpenMetrics: a counter's metadata name has no `_total`; a counter whose name does
        // not end in `_total` (no suffixes) is `unknown`, as client_golang writes it.
        let (meta_name, ty) = match (format, family.ty) {
            (Format::OpenMetrics, "counter") => match name.strip_suffix("_total") {
                Some(base) => (base, "counter"),
                None => (name.as_str(), "unknown"),
            },
            (_, ty) => (name.as_str(), ty),
        };
        out.push_str("# HELP ");
        out.push_str(meta_name);
        out.push(' ');
        match format {
            Format::Text => write_help(&mut out, &family.help),
            Format::OpenMetrics => write_om_help(&mut out, &family.help),
        }
        out.push('\n');
        let _ = writeln!(out, "# TYPE {meta_name} {ty}");
        for (_, lines) in &family.samples {
            out.push_str(lines);
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    (out, refused)
}

impl Kind {
    fn order(self) -> u8 {
        match self {
            Kind::Gauge => 0,
            Kind::Sum { monotonic: true } => 1,
            Kind::Sum { monotonic: false } => 2,
            Kind::Histogram => 3,
            Kind::ExponentialHistogram => 4,
            Kind::Summary => 5,
        }
    }
}

fn write_om_help(out: &mut String, help: &str) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// `target_info`: one per `job` / `instance`, from the most recently updated resource.
fn target_info(
    series: &[&Series],
    format: Format,
    name: &str,
    families: &mut BTreeMap<String, Family>,
) {
    let mut latest: HashMap<(Option<&str>, Option<&str>), &Series> = HashMap::new();
    for s in series {
        let resource = &s.resource;
        // As Go's `resourceSignature`: no `target_info` without both.
        if resource.job.is_none() || resource.instance.is_none() {
            continue;
        }
        let key = (resource.job.as_deref(), resource.instance.as_deref());
        match latest.get(&key) {
            Some(held) if held.updated >= s.updated => {}
            _ => {
                latest.insert(key, s);
            }
        }
    }
    if latest.is_empty() {
        return;
    }
    let mut family = Family {
        ty: "gauge",
        help: "Target metadata".to_owned(),
        samples: Vec::with_capacity(latest.len()),
        seen: HashSet::new(),
    };
    for s in latest.values() {
        let resource = &s.resource;
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        for kv in &resource.attributes {
            if [SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID].contains(&kv.key.as_str()) {
                continue;
            }
            let Some(name) = label_name(&kv.key) else {
                continue;
            };
            let value = value_string(kv.value.as_ref());
            labels
                .entry(name)
                .and_modify(|v| {
                    v.push(';');
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        if let Some(job) = &resource.job {
            labels.insert("job".to_owned(), job.clone());
        }
        if let Some(instance) = &resource.instance {
            labels.insert("instance".to_owned(), instance.clone());
        }
        let labels: Vec<(String, String)> = labels.into_iter().collect();
        let rendered = render_labels(&labels, None);
        let mut line = String::new();
        line.push_str(name);
        line.push_str(&rendered);
        line.push(' ');
        line.push_str(match format {
            Format::Text => "1",
            Format::OpenMetrics => "1.0",
        });
        line.push('\n');
        if family.seen.insert(rendered.clone()) {
            family.samples.push((rendered, line));
        }
    }
    families.insert(name.to_owned(), family);
}

/// `{a="x",b="y"}` (with `extra` last), or nothing when there are no labels.
fn render_labels(labels: &[(String, String)], extra: Option<(&str, &str)>) -> String {
    let mut out = String::new();
    write_labels(&mut out, labels, extra);
    out
}

fn write_labels(out: &mut String, labels: &[(String, String)], extra: Option<(&str, &str)>) {
    if labels.is_empty() && extra.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    let pairs = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(extra);
    for (name, value) in pairs {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(name);
        out.push_str("=\"");
        write_label_value(out, value);
        out.push('"');
    }
    out.push('}');
}

/// The labels of a series, sorted by name; `None` when client_golang would refuse them.
fn series_labels(
    s: &Series,
    options: &RenderOptions,
    reserved: Option<&str>,
) -> Option<Vec<(String, String)>> {
    let mut labels: Vec<(String, String)> = Vec::with_capacity(s.attributes.len() + 6);
    for kv in &s.attributes {
        let Some(name) = label_name(&kv.key) else {
            continue;
        };
        labels.push((name, value_string(kv.value.as_ref())));
    }
    if let Some(job) = &s.resource.job {
        labels.push(("job".to_owned(), job.clone()));
    }
    if let Some(instance) = &s.resource.instance {
        labels.push(("instance".to_owned(), instance.clone()));
    }
    if !options.without_scope_info {
        let scope = &s.scope;
        labels.push(("otel_scope_name".to_owned(), scope.name.clone()));
        labels.push(("otel_scope_version".to_owned(), scope.version.clone()));
        labels.push(("otel_scope_schema_url".to_owned(), scope.schema_url.clone()));
        for kv in &scope.attributes {
            let Some(name) = label_name(&format!("otel_scope_{}", kv.key)) else {
                continue;
            };
            labels.push((name, value_string(kv.value.as_ref())));
        }
    }
    labels.extend(options.const_labels.iter().cloned());
    labels.sort();
    let bad = labels.windows(2).any(|w| w[0].0 == w[1].0)
        || labels
            .iter()
            .any(|(name, _)| name.starts_with("__") || Some(name.as_str()) == reserved);
    if bad {
        return None;
    }
    Some(labels)
}

struct Writer {
    format: Format,
    send_timestamps: bool,
}

impl Writer {
    fn float(&self, out: &mut String, v: f64) {
        // Integral values below 1e6 are written alike by Go's 'g' form and plainly (the
        // common case, without the general formatter's allocations).
        if v != 0.0 && v.fract() == 0.0 && v.abs() < 1e6 {
            let _ = write!(out, "{}", v as i64);
            if self.format == Format::OpenMetrics {
                out.push_str(".0");
            }
            return;
        }
        match self.format {
            Format::Text => out.push_str(&go_float(v)),
            Format::OpenMetrics => out.push_str(&openmetrics_float(v)),
        }
    }

    /// A count: a float in the text format (as client_golang writes it), an integer in
    /// OpenMetrics.
    fn count(&self, out: &mut String, v: u64) {
        match self.format {
            Format::Text if v < 1_000_000 => {
                let _ = write!(out, "{v}");
            }
            Format::Text => out.push_str(&go_float(v as f64)),
            Format::OpenMetrics => {
                let _ = write!(out, "{v}");
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sample(
        &self,
        out: &mut String,
        name: &str,
        suffix: &str,
        labels: &str,
        extra: Option<(&str, &str)>,
        value: SampleValue,
        time_unix_nano: u64,
        exemplar: Option<&Exemplar>,
    ) {
        out.push_str(name);
        out.push_str(suffix);
        if !labels.is_empty() || extra.is_some() {
            out.push('{');
            out.push_str(labels);
            if let Some((name, value)) = extra {
                if !labels.is_empty() {
                    out.push(',');
                }
                out.push_str(name);
                out.push_str("=\"");
                write_label_value(out, value);
                out.push('"');
            }
            out.push('}');
        }
        out.push(' ');
        match value {
            SampleValue::Float(v) => self.float(out, v),
            SampleValue::Count(v) => self.count(out, v),
        }
        if self.send_timestamps {
            match self.format {
                Format::Text => {
                    let _ = write!(out, " {}", time_unix_nano / 1_000_000);
                }
                Format::OpenMetrics => {
                    out.push(' ');
                    out.push_str(&sample_seconds(time_unix_nano));
                }
            }
        }
        if self.format == Format::OpenMetrics
            && let Some(e) = exemplar
        {
            write_exemplar(out, e);
        }
        out.push('\n');
    }
}

#[derive(Clone, Copy)]
enum SampleValue {
    Float(f64),
    Count(u64),
}

/// A sample timestamp in OpenMetrics: client_golang keeps milliseconds and writes them as
/// float seconds (`1.796413590979e+09`).
fn sample_seconds(nanos: u64) -> String {
    openmetrics_float((nanos / 1_000_000) as f64 / 1000.0)
}

/// An exemplar timestamp in OpenMetrics: float seconds, to the nanosecond.
fn exemplar_seconds(nanos: u64) -> String {
    openmetrics_float(nanos as f64 / 1e9)
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn exemplar_value(e: &Exemplar) -> f64 {
    match e.value {
        Some(exemplar::Value::AsDouble(v)) => v,
        Some(exemplar::Value::AsInt(v)) => v as f64,
        None => 0.0,
    }
}

fn write_exemplar(out: &mut String, e: &Exemplar) {
    let mut labels = Vec::new();
    if !e.trace_id.is_empty() && e.trace_id.iter().any(|b| *b != 0) {
        labels.push(("trace_id".to_owned(), hex(&e.trace_id)));
    }
    if !e.span_id.is_empty() && e.span_id.iter().any(|b| *b != 0) {
        labels.push(("span_id".to_owned(), hex(&e.span_id)));
    }
    labels.sort();
    out.push_str(" # {");
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"");
        write_label_value(out, v);
        out.push('"');
    }
    out.push_str("} ");
    out.push_str(&openmetrics_float(exemplar_value(e)));
    if e.time_unix_nano != 0 {
        out.push(' ');
        out.push_str(&exemplar_seconds(e.time_unix_nano));
    }
}

/// Writes one series into its family; `false` when it is left out.
/// `otlptranslator`'s type of a series.
fn metric_type(kind: Kind) -> MetricType {
    match kind {
        Kind::Gauge => MetricType::Gauge,
        Kind::Sum { monotonic: true } => MetricType::MonotonicCounter,
        Kind::Sum { monotonic: false } => MetricType::NonMonotonicCounter,
        Kind::Histogram => MetricType::Histogram,
        Kind::ExponentialHistogram => MetricType::ExponentialHistogram,
        Kind::Summary => MetricType::Summary,
    }
}

fn one_series(
    s: &Series,
    name: &str,
    options: &RenderOptions,
    writer: &mut Writer,
    families: &mut BTreeMap<String, Family>,
) -> bool {
    let (ty, reserved) = match s.kind {
        Kind::Gauge | Kind::Sum { monotonic: false } => ("gauge", None),
        Kind::Sum { monotonic: true } => ("counter", None),
        Kind::Histogram | Kind::ExponentialHistogram => ("histogram", Some("le")),
        Kind::Summary => ("summary", Some("quantile")),
    };
    let Some(labels) = series_labels(s, options, reserved) else {
        tracing::debug!(metric = %s.name, "series left out: invalid or repeated label names");
        return false;
    };
    if !families.contains_key(name) {
        families.insert(
            name.to_owned(),
            Family {
                ty,
                help: s.description.clone(),
                samples: Vec::new(),
                seen: HashSet::new(),
            },
        );
    }
    let Some(family) = families.get_mut(name) else {
        return false;
    };
    if family.ty != ty || family.help != s.description {
        tracing::debug!(metric = %name, "series left out: its family has another type or HELP");
        return false;
    }
    // The labels are escaped once per series, not once per sample line.
    let mut key = render_labels(&labels, None);
    if key.len() >= 2 {
        key.pop();
        key.remove(0);
    }
    if family.seen.contains(&key) {
        tracing::debug!(metric = %name, labels = %key, "series left out: written twice");
        return false;
    }
    let mut lines = String::new();
    let w = &*writer;
    match &s.point {
        Point::Number(p) => {
            let value = match p.value {
                Some(number_data_point::Value::AsDouble(v)) => v,
                Some(number_data_point::Value::AsInt(v)) => v as f64,
                None => return false,
            };
            let (sample_name, suffix, exemplar) = match (w.format, ty) {
                (Format::OpenMetrics, "counter") => match name.strip_suffix("_total") {
                    Some(base) => (base, "_total", p.exemplars.last()),
                    // Written as `unknown`: no `_total`, no exemplar.
                    None => (name, "", None),
                },
                _ => (name, "", None),
            };
            w.sample(
                &mut lines,
                sample_name,
                suffix,
                &key,
                None,
                SampleValue::Float(value),
                p.time_unix_nano,
                exemplar,
            );
        }
        Point::Histogram(p) => {
            let bounds = &p.explicit_bounds;
            let counts: &[u64] = if p.bucket_counts.is_empty() {
                &[]
            } else if p.bucket_counts.len() == bounds.len() + 1 {
                &p.bucket_counts[..bounds.len()]
            } else {
                tracing::debug!(metric = %name, "histogram left out: buckets do not match bounds");
                return false;
            };
            // Each exemplar into the first bucket whose bound is not below it (+Inf after).
            let mut bucket_exemplars: Vec<Option<&Exemplar>> = vec![None; counts.len() + 1];
            for e in &p.exemplars {
                let v = exemplar_value(e);
                let i = bounds[..counts.len()]
                    .iter()
                    .position(|b| *b >= v)
                    .unwrap_or(counts.len());
                bucket_exemplars[i] = Some(e);
            }
            let mut cumulative = 0u64;
            for (i, (bound, count)) in bounds.iter().zip(counts).enumerate() {
                cumulative = cumulative.saturating_add(*count);
                let le = match w.format {
                    Format::Text => go_float(*bound),
                    Format::OpenMetrics => openmetrics_float(*bound),
                };
                w.sample(
                    &mut lines,
                    name,
                    "_bucket",
                    &key,
                    Some(("le", &le)),
                    SampleValue::Count(cumulative),
                    p.time_unix_nano,
                    bucket_exemplars[i],
                );
            }
            w.sample(
                &mut lines,
                name,
                "_bucket",
                &key,
                Some(("le", "+Inf")),
                SampleValue::Count(p.count),
                p.time_unix_nano,
                bucket_exemplars[counts.len()],
            );
            let sum = p.sum.unwrap_or(0.0);
            let t = p.time_unix_nano;
            w.sample(
                &mut lines,
                name,
                "_sum",
                &key,
                None,
                SampleValue::Float(sum),
                t,
                None,
            );
            let count = SampleValue::Count(p.count);
            w.sample(&mut lines, name, "_count", &key, None, count, t, None);
        }
        Point::ExponentialHistogram(p) => {
            let t = p.time_unix_nano;
            let inf = Some(("le", "+Inf"));
            let count = SampleValue::Count(p.count);
            w.sample(&mut lines, name, "_bucket", &key, inf, count, t, None);
            let sum = SampleValue::Float(p.sum.unwrap_or(0.0));
            w.sample(&mut lines, name, "_sum", &key, None, sum, t, None);
            w.sample(&mut lines, name, "_count", &key, None, count, t, None);
        }
        Point::Summary(p) => {
            let mut quantiles: Vec<(f64, f64)> = p
                .quantile_values
                .iter()
                .map(|q| (q.quantile, q.value))
                .collect();
            quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
            // Go keys the quantiles by value in a map: the last of equal quantiles wins.
            let mut deduped: Vec<(f64, f64)> = Vec::with_capacity(quantiles.len());
            for q in quantiles {
                match deduped.last_mut() {
                    Some(last) if last.0 == q.0 => *last = q,
                    _ => deduped.push(q),
                }
            }
            let t = p.time_unix_nano;
            for (q, v) in deduped {
                let label = match w.format {
                    Format::Text => go_float(q),
                    Format::OpenMetrics => openmetrics_float(q),
                };
                let extra = Some(("quantile", label.as_str()));
                w.sample(
                    &mut lines,
                    name,
                    "",
                    &key,
                    extra,
                    SampleValue::Float(v),
                    t,
                    None,
                );
            }
            let sum = SampleValue::Float(p.sum);
            w.sample(&mut lines, name, "_sum", &key, None, sum, t, None);
            let count = SampleValue::Count(p.count);
            w.sample(&mut lines, name, "_count", &key, None, count, t, None);
        }
    }
    family.seen.insert(key.clone());
    family.samples.push((key, lines));
    true
}
