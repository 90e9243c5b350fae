//! Data points of every metric type behind one interface, and otelcol's aggregation of points
//! (its `aggregateutil`): points grouped by attributes and timestamp (and start time for delta
//! temporality, bounds for histograms, scale and offsets for exponential histograms), each
//! group merged into its first point.

use std::collections::HashMap;

use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    AggregationTemporality, ExponentialHistogramDataPoint, HistogramDataPoint, Metric,
    NumberDataPoint, SummaryDataPoint, metric::Data, number_data_point,
};

/// What every data point has.
pub(crate) trait Point {
    fn attrs(&self) -> &[KeyValue];
    fn attrs_mut(&mut self) -> &mut Vec<KeyValue>;
}

macro_rules! point {
    ($($t:ty),*) => {$(
        impl Point for $t {
            fn attrs(&self) -> &[KeyValue] {
                &self.attributes
            }
            fn attrs_mut(&mut self) -> &mut Vec<KeyValue> {
                &mut self.attributes
            }
        }
    )*};
}
point!(
    NumberDataPoint,
    HistogramDataPoint,
    ExponentialHistogramDataPoint,
    SummaryDataPoint
);

/// Calls `f` on each point's attributes until it returns `false`.
pub(crate) fn each_attrs(metric: &Metric, mut f: impl FnMut(&[KeyValue]) -> bool) {
    macro_rules! go {
        ($points:expr) => {
            for p in $points {
                if !f(p.attrs()) {
                    return;
                }
            }
        };
    }
    match &metric.data {
        Some(Data::Gauge(g)) => go!(&g.data_points),
        Some(Data::Sum(s)) => go!(&s.data_points),
        Some(Data::Histogram(h)) => go!(&h.data_points),
        Some(Data::ExponentialHistogram(h)) => go!(&h.data_points),
        Some(Data::Summary(s)) => go!(&s.data_points),
        None => {}
    }
}

/// Calls `f` on each point's attributes, mutably.
pub(crate) fn each_attrs_mut(metric: &mut Metric, mut f: impl FnMut(&mut Vec<KeyValue>)) {
    macro_rules! go {
        ($points:expr) => {
            for p in $points {
                f(p.attrs_mut());
            }
        };
    }
    match &mut metric.data {
        Some(Data::Gauge(g)) => go!(&mut g.data_points),
        Some(Data::Sum(s)) => go!(&mut s.data_points),
        Some(Data::Histogram(h)) => go!(&mut h.data_points),
        Some(Data::ExponentialHistogram(h)) => go!(&mut h.data_points),
        Some(Data::Summary(s)) => go!(&mut s.data_points),
        None => {}
    }
}

/// Keeps the points whose attributes pass `keep`.
pub(crate) fn retain(metric: &mut Metric, mut keep: impl FnMut(&[KeyValue]) -> bool) {
    match &mut metric.data {
        Some(Data::Gauge(g)) => g.data_points.retain(|p| keep(p.attrs())),
        Some(Data::Sum(s)) => s.data_points.retain(|p| keep(p.attrs())),
        Some(Data::Histogram(h)) => h.data_points.retain(|p| keep(p.attrs())),
        Some(Data::ExponentialHistogram(h)) => h.data_points.retain(|p| keep(p.attrs())),
        Some(Data::Summary(s)) => s.data_points.retain(|p| keep(p.attrs())),
        None => {}
    }
}

/// How many points.
pub(crate) fn count(metric: &Metric) -> usize {
    match &metric.data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

/// A metric with the same name, description, unit, type and type parameters, no points
/// (otelcol's `CopyMetricDetails`: metadata is not copied).
pub(crate) fn empty_like(metric: &Metric) -> Metric {
    use otlp_proto::metrics::v1::{ExponentialHistogram, Gauge, Histogram, Sum, Summary};
    let data = metric.data.as_ref().map(|data| match data {
        Data::Gauge(_) => Data::Gauge(Gauge::default()),
        Data::Sum(s) => Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: s.aggregation_temporality,
            is_monotonic: s.is_monotonic,
        }),
        Data::Histogram(h) => Data::Histogram(Histogram {
            data_points: Vec::new(),
            aggregation_temporality: h.aggregation_temporality,
        }),
        Data::ExponentialHistogram(h) => Data::ExponentialHistogram(ExponentialHistogram {
            data_points: Vec::new(),
            aggregation_temporality: h.aggregation_temporality,
        }),
        Data::Summary(_) => Data::Summary(Summary::default()),
    });
    Metric {
        name: metric.name.clone(),
        description: metric.description.clone(),
        unit: metric.unit.clone(),
        metadata: Vec::new(),
        data,
    }
}

/// A value as pdata's `Str()`: the string of a string value, else empty.
pub(crate) fn str_of(value: Option<&AnyValue>) -> &str {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s,
        _ => "",
    }
}

pub(crate) fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    attrs.iter().find(|kv| kv.key == key)
}

/// pdata's `PutStr`: in place when present, else appended.
pub(crate) fn put_str(attrs: &mut Vec<KeyValue>, key: &str, value: &str) {
    put(
        attrs,
        key,
        AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        },
    );
}

pub(crate) fn put(attrs: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    if let Some(kv) = attrs.iter_mut().find(|kv| kv.key == key) {
        kv.value = Some(value);
    } else {
        attrs.push(KeyValue {
            key: key.to_owned(),
            value: Some(value),
            ..KeyValue::default()
        });
    }
}

/// pdata's `Remove`: swaps the last attribute into the removed one's place.
pub(crate) fn remove(attrs: &mut Vec<KeyValue>, key: &str) {
    if let Some(at) = attrs.iter().position(|kv| kv.key == key) {
        attrs.swap_remove(at);
    }
}

/// A canonical text of attributes as a map (order-free), for grouping.
fn attrs_key(attrs: &[KeyValue], out: &mut String) {
    let mut sorted: Vec<&KeyValue> = attrs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    out.push('{');
    for kv in sorted {
        out.push_str(&format!("{:?}:", kv.key));
        value_key(kv.value.as_ref(), out);
        out.push(',');
    }
    out.push('}');
}

fn value_key(value: Option<&AnyValue>, out: &mut String) {
    use any_value::Value;
    match value.and_then(|v| v.value.as_ref()) {
        None => out.push_str("null"),
        Some(Value::StringValue(s)) => out.push_str(&format!("{s:?}")),
        Some(Value::BoolValue(b)) => out.push_str(&b.to_string()),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(d)) => out.push_str(&d.to_string()),
        Some(Value::BytesValue(b)) => out.push_str(&format!("b{b:?}")),
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for v in &a.values {
                value_key(Some(v), out);
                out.push(',');
            }
            out.push(']');
        }
        Some(Value::KvlistValue(kv)) => attrs_key(&kv.values, out),
        Some(other) => out.push_str(&format!("{other:?}")),
    }
}

/// `sum`, `mean`, `min`, `max`, `count`, `median`, or none (the first point of each group
/// is kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aggregation {
    None,
    Sum,
    Mean,
    Min,
    Max,
    Count,
    Median,
}

impl Aggregation {
    pub(crate) fn parse(s: &str) -> Aggregation {
        match s {
            "sum" => Aggregation::Sum,
            "mean" => Aggregation::Mean,
            "min" => Aggregation::Min,
            "max" => Aggregation::Max,
            "count" => Aggregation::Count,
            "median" => Aggregation::Median,
            _ => Aggregation::None,
        }
    }
}

/// Groups in order of first appearance.
struct Groups<P> {
    index: HashMap<String, usize>,
    groups: Vec<Vec<P>>,
}

impl<P> Default for Groups<P> {
    fn default() -> Self {
        Groups {
            index: HashMap::new(),
            groups: Vec::new(),
        }
    }
}

impl<P> Groups<P> {
    fn add(&mut self, key: String, point: P) {
        match self.index.get(&key) {
            Some(&at) => self.groups[at].push(point),
            None => {
                self.index.insert(key, self.groups.len());
                self.groups.push(vec![point]);
            }
        }
    }
}

/// Points of several metrics of one type, grouped.
#[derive(Default)]
pub(crate) struct AggGroups {
    number: Groups<NumberDataPoint>,
    histogram: Groups<HistogramDataPoint>,
    exponential: Groups<ExponentialHistogramDataPoint>,
}

const DELTA: i32 = AggregationTemporality::Delta as i32;

impl AggGroups {
    /// Moves `metric`'s points into the groups.
    pub(crate) fn add(&mut self, metric: &mut Metric) {
        match &mut metric.data {
            Some(Data::Gauge(g)) => {
                for p in std::mem::take(&mut g.data_points) {
                    self.number.add(number_key(&p, false), p);
                }
            }
            Some(Data::Sum(s)) => {
                let delta = s.aggregation_temporality == DELTA;
                for p in std::mem::take(&mut s.data_points) {
                    self.number.add(number_key(&p, delta), p);
                }
            }
            Some(Data::Histogram(h)) => {
                let delta = h.aggregation_temporality == DELTA;
                for p in std::mem::take(&mut h.data_points) {
                    let mut key = String::new();
                    attrs_key(&p.attributes, &mut key);
                    key.push_str(&format!(
                        "|{}|{:?}|{}|{}|{}|{}",
                        p.time_unix_nano,
                        p.explicit_bounds,
                        if delta { p.start_time_unix_nano } else { 0 },
                        p.min.is_some(),
                        p.max.is_some(),
                        p.flags
                    ));
                    self.histogram.add(key, p);
                }
            }
            Some(Data::ExponentialHistogram(h)) => {
                let delta = h.aggregation_temporality == DELTA;
                for p in std::mem::take(&mut h.data_points) {
                    let mut key = String::new();
                    attrs_key(&p.attributes, &mut key);
                    key.push_str(&format!(
                        "|{}|{}|{}|{}|{}|{}|{}|{}",
                        p.time_unix_nano,
                        p.scale,
                        p.min.is_some(),
                        p.max.is_some(),
                        p.flags,
                        p.negative.as_ref().map_or(0, |b| b.offset),
                        p.positive.as_ref().map_or(0, |b| b.offset),
                        if delta { p.start_time_unix_nano } else { 0 },
                    ));
                    self.exponential.add(key, p);
                }
            }
            // Summaries are never grouped (the operations leave them as they are).
            Some(Data::Summary(_)) => {}
            None => {}
        }
    }

    /// Merges the groups into `to`'s points (of `to`'s type).
    pub(crate) fn merge_into(self, to: &mut Metric, aggregation: Aggregation) {
        match &mut to.data {
            Some(Data::Gauge(g)) => merge_numbers(self.number, aggregation, &mut g.data_points),
            Some(Data::Sum(s)) => merge_numbers(self.number, aggregation, &mut s.data_points),
            Some(Data::Histogram(h)) => merge_histograms(self.histogram, &mut h.data_points),
            Some(Data::ExponentialHistogram(h)) => {
                merge_exponential(self.exponential, &mut h.data_points)
            }
            Some(Data::Summary(_)) | None => {}
        }
    }
}

fn number_key(p: &NumberDataPoint, delta: bool) -> String {
    let mut key = String::new();
    attrs_key(&p.attributes, &mut key);
    key.push_str(&format!("|{}", p.time_unix_nano));
    if delta {
        key.push_str(&format!("|{}", p.start_time_unix_nano));
    }
    key
}

fn double_of(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

fn int_of(p: &NumberDataPoint) -> i64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d as i64,
        Some(number_data_point::Value::AsInt(i)) => i,
        None => 0,
    }
}

/// pdata's `IntValue()`: 0 for a double point.
fn raw_int(p: &NumberDataPoint) -> i64 {
    match p.value {
        Some(number_data_point::Value::AsInt(i)) => i,
        _ => 0,
    }
}

fn merge_numbers(
    groups: Groups<NumberDataPoint>,
    aggregation: Aggregation,
    to: &mut Vec<NumberDataPoint>,
) {
    use number_data_point::Value;
    for group in groups.groups {
        let mut points = group.into_iter();
        let Some(mut dp) = points.next() else {
            continue;
        };
        let rest: Vec<NumberDataPoint> = points.collect();
        let n = rest.len() + 1;
        match dp.value {
            Some(Value::AsDouble(first)) => {
                let mut value = first;
                let mut median = vec![first];
                for p in &rest {
                    match aggregation {
                        Aggregation::Sum | Aggregation::Mean => value += double_of(p),
                        Aggregation::Max => value = value.max(double_of(p)),
                        Aggregation::Min => value = value.min(double_of(p)),
                        Aggregation::Median => median.push(double_of(p)),
                        Aggregation::Count => value = n as f64,
                        Aggregation::None => {}
                    }
                    if p.start_time_unix_nano < dp.start_time_unix_nano {
                        dp.start_time_unix_nano = p.start_time_unix_nano;
                    }
                }
                if aggregation == Aggregation::Mean {
                    value /= n as f64;
                }
                if aggregation == Aggregation::Median {
                    median.sort_by(f64::total_cmp);
                    let m = median.len() / 2;
                    value = if median.len() % 2 == 1 {
                        median[m]
                    } else {
                        (median[m - 1] + median[m]) / 2.0
                    };
                }
                dp.value = Some(Value::AsDouble(value));
            }
            Some(Value::AsInt(first)) => {
                let mut value = first;
                let mut median = vec![first];
                for p in &rest {
                    match aggregation {
                        Aggregation::Sum | Aggregation::Mean => {
                            value = value.wrapping_add(raw_int(p))
                        }
                        Aggregation::Max => value = value.max(int_of(p)),
                        Aggregation::Min => value = value.min(int_of(p)),
                        Aggregation::Median => median.push(int_of(p)),
                        Aggregation::Count => value = n as i64,
                        Aggregation::None => {}
                    }
                    if p.start_time_unix_nano < dp.start_time_unix_nano {
                        dp.start_time_unix_nano = p.start_time_unix_nano;
                    }
                }
                if aggregation == Aggregation::Median {
                    median.sort_unstable();
                    let m = median.len() / 2;
                    value = if median.len() % 2 == 1 {
                        median[m]
                    } else {
                        median[m - 1].wrapping_add(median[m]) / 2
                    };
                }
                if aggregation == Aggregation::Mean {
                    value /= n as i64;
                }
                dp.value = Some(Value::AsInt(value));
            }
            None => {}
        }
        to.push(dp);
    }
}

fn merge_histograms(groups: Groups<HistogramDataPoint>, to: &mut Vec<HistogramDataPoint>) {
    for group in groups.groups {
        let mut points = group.into_iter();
        let Some(mut dp) = points.next() else {
            continue;
        };
        for mut p in points {
            if p.count == 0 {
                continue;
            }
            dp.count = dp.count.wrapping_add(p.count);
            dp.sum = Some(dp.sum.unwrap_or(0.0) + p.sum.unwrap_or(0.0));
            if let Some(min) = dp.min
                && min > p.min.unwrap_or(0.0)
            {
                dp.min = Some(p.min.unwrap_or(0.0));
            }
            if let Some(max) = dp.max
                && max < p.max.unwrap_or(0.0)
            {
                dp.max = Some(p.max.unwrap_or(0.0));
            }
            for (b, c) in p.bucket_counts.iter().enumerate() {
                if let Some(total) = dp.bucket_counts.get_mut(b) {
                    *total = total.wrapping_add(*c);
                }
            }
            dp.exemplars.append(&mut p.exemplars);
            if p.start_time_unix_nano < dp.start_time_unix_nano {
                dp.start_time_unix_nano = p.start_time_unix_nano;
            }
        }
        to.push(dp);
    }
}

fn merge_exponential(
    groups: Groups<ExponentialHistogramDataPoint>,
    to: &mut Vec<ExponentialHistogramDataPoint>,
) {
    fn add_buckets(into: &mut Vec<u64>, from: &[u64]) {
        for (b, c) in from.iter().enumerate() {
            match into.get_mut(b) {
                Some(total) => *total = total.wrapping_add(*c),
                None => into.push(*c),
            }
        }
    }
    for group in groups.groups {
        let mut points = group.into_iter();
        let Some(mut dp) = points.next() else {
            continue;
        };
        for mut p in points {
            if p.count == 0 {
                continue;
            }
            dp.count = dp.count.wrapping_add(p.count);
            dp.sum = Some(dp.sum.unwrap_or(0.0) + p.sum.unwrap_or(0.0));
            dp.zero_count = dp.zero_count.wrapping_add(p.zero_count);
            if let Some(min) = dp.min
                && min > p.min.unwrap_or(0.0)
            {
                dp.min = Some(p.min.unwrap_or(0.0));
            }
            if let Some(max) = dp.max
                && max < p.max.unwrap_or(0.0)
            {
                dp.max = Some(p.max.unwrap_or(0.0));
            }
            if let Some(neg) = &p.negative
                && !neg.bucket_counts.is_empty()
            {
                add_buckets(
                    &mut dp.negative.get_or_insert_default().bucket_counts,
                    &neg.bucket_counts,
                );
            }
            if let Some(pos) = &p.positive
                && !pos.bucket_counts.is_empty()
            {
                add_buckets(
                    &mut dp.positive.get_or_insert_default().bucket_counts,
                    &pos.bucket_counts,
                );
            }
            dp.exemplars.append(&mut p.exemplars);
            if p.start_time_unix_nano < dp.start_time_unix_nano {
                dp.start_time_unix_nano = p.start_time_unix_nano;
            }
        }
        to.push(dp);
    }
}
