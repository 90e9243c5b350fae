//! The collector's OTLP → Prometheus naming, as the Go collector's Prometheus exporters
//! (`prometheus`, `prometheusremotewrite`) build names through the `otlptranslator` module
//! (v1.0.0, `MetricNamer` / `LabelNamer`), and attribute values as pdata's `AsString` writes
//! them.
//!
//! It differs from the specification-literal rules of [`super::names`] (which the SDK's pull
//! exporter keeps) in ways a Prometheus user of the Go collector sees, so the collector side
//! follows the Go collector:
//!
//! - a metric name is split into tokens at every character outside `[a-zA-Z0-9:]` (so runs of
//!   `_` collapse and leading / trailing ones vanish); a unit word already among the tokens is
//!   not added again, and a `total` (counters) or `ratio` (gauges of unit `1`) token anywhere
//!   is moved to the end;
//! - units: `TiBy` is `tibibytes`, the "per" table has `m` = `minute`, `w`, `y`; a unit with
//!   braces anywhere is no suffix;
//! - label names keep runs of `_` (`PreserveMultipleUnderscores`), a leading digit gets `key_`;
//! - the namespace is prepended as it is written in the configuration;
//! - attribute values: doubles in the ES6 number form (`1e-7`, `1e+21`), maps as JSON with
//!   sorted keys.

use std::fmt::Write as _;

use otlp_proto::common::v1::AnyValue;
use otlp_proto::common::v1::any_value::Value;

/// `otlptranslator`'s metric types (as `TranslatorMetricFromOtelMetric` maps OTLP data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// A gauge.
    Gauge,
    /// A monotonic sum: `_total`.
    MonotonicCounter,
    /// A non-monotonic sum.
    NonMonotonicCounter,
    /// An explicit-bucket histogram.
    Histogram,
    /// An exponential histogram.
    ExponentialHistogram,
    /// A summary.
    Summary,
}

/// `otlptranslator.MetricNamer` with `UTF8Allowed: false` (the underscore-escaping
/// strategies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricNamer {
    /// Prepended with `_` (as written).
    pub namespace: String,
    /// Unit and type suffixes (`UnderscoreEscapingWithSuffixes`).
    pub with_suffixes: bool,
}

const UNITS: &[(&str, &str)] = &[
    ("d", "days"),
    ("h", "hours"),
    ("min", "minutes"),
    ("s", "seconds"),
    ("ms", "milliseconds"),
    ("us", "microseconds"),
    ("ns", "nanoseconds"),
    ("By", "bytes"),
    ("KiBy", "kibibytes"),
    ("MiBy", "mebibytes"),
    ("GiBy", "gibibytes"),
    ("TiBy", "tibibytes"),
    ("KBy", "kilobytes"),
    ("MBy", "megabytes"),
    ("GBy", "gigabytes"),
    ("TBy", "terabytes"),
    ("m", "meters"),
    ("V", "volts"),
    ("A", "amperes"),
    ("J", "joules"),
    ("W", "watts"),
    ("g", "grams"),
    ("Cel", "celsius"),
    ("Hz", "hertz"),
    ("1", ""),
    ("%", "percent"),
];

const PER_UNITS: &[(&str, &str)] = &[
    ("s", "second"),
    ("m", "minute"),
    ("h", "hour"),
    ("d", "day"),
    ("w", "week"),
    ("mo", "month"),
    ("y", "year"),
];

fn lookup<'a>(table: &[(&str, &'a str)], unit: &'a str) -> &'a str {
    table
        .iter()
        .find(|(k, _)| *k == unit)
        .map_or(unit, |(_, v)| v)
}

fn metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':'
}

/// The main and "per" unit words (`per_` included on the second), before clean-up.
fn unit_suffixes(unit: &str) -> (String, String) {
    let mut parts = unit.splitn(2, '/');
    let main = parts.next().unwrap_or_default().trim();
    let main = if !main.is_empty() && !main.contains(['{', '}']) {
        lookup(UNITS, main).to_owned()
    } else {
        String::new()
    };
    let per = match parts.next() {
        Some(per) if !per.is_empty() => {
            let per = per.trim();
            if !per.is_empty() && !per.contains(['{', '}']) {
                format!("per_{}", lookup(PER_UNITS, per))
            } else {
                String::new()
            }
        }
        _ => String::new(),
    };
    (main, per)
}

/// Invalid characters to `_`, runs collapsed, a leading `_` removed.
fn clean_unit(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len());
    for c in unit.chars() {
        let c = if metric_char(c) { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    match out.strip_prefix('_') {
        Some(rest) => rest.to_owned(),
        None => out,
    }
}

impl MetricNamer {
    /// The Prometheus name, or `None` when nothing valid is left (Go's error).
    pub fn build(&self, name: &str, unit: &str, ty: MetricType) -> Option<String> {
        let out = if self.with_suffixes {
            self.with_suffixes(name, unit, ty)
        } else {
            let join = |s: &str| {
                s.split(|c: char| !metric_char(c) && c != '_')
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
                    .join("_")
            };
            let base = join(name);
            if !self.namespace.is_empty() {
                format!("{}_{base}", join(&self.namespace))
            } else if base.starts_with(|c: char| c.is_ascii_digit()) {
                format!("_{base}")
            } else {
                base
            }
        };
        if out.is_empty() || (out != name && out.chars().all(|c| c == '_')) {
            return None;
        }
        Some(out)
    }

    fn with_suffixes(&self, name: &str, unit: &str, ty: MetricType) -> String {
        let mut tokens: Vec<String> = name
            .split(|c: char| !metric_char(c))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        let (main, per) = unit_suffixes(unit);
        let mut main = clean_unit(&main);
        let mut per = clean_unit(&per);
        if tokens.contains(&main) {
            main.clear();
        }
        if per == "per_" {
            per.clear();
        } else {
            if let Some(p) = per.strip_suffix('_') {
                per = p.to_owned();
            }
            if tokens.contains(&per) {
                per.clear();
            }
        }
        if !per.is_empty()
            && let Some(m) = main.strip_suffix('_')
        {
            main = m.to_owned();
        }
        if !main.is_empty() {
            tokens.push(main);
        }
        if !per.is_empty() {
            tokens.push(per);
        }
        if ty == MetricType::MonotonicCounter {
            tokens.retain(|t| t != "total");
            tokens.push("total".to_owned());
        }
        if unit == "1" && ty == MetricType::Gauge {
            tokens.retain(|t| t != "ratio");
            tokens.push("ratio".to_owned());
        }
        if !self.namespace.is_empty() {
            tokens.insert(0, self.namespace.clone());
        }
        let out = tokens.join("_");
        if out.starts_with(|c: char| c.is_ascii_digit()) {
            format!("_{out}")
        } else {
            out
        }
    }
}

/// The unit as the Go exporters write it in metadata (`otlptranslator`'s unit namer): the
/// word of the main unit and `per_` the word of the "per" unit, joined by `_` (`By/s` is
/// `bytes_per_second`, `ms` is `milliseconds`); `1` and units in braces are empty.
pub fn unit_name(unit: &str) -> String {
    let (main, per) = unit_suffixes(unit);
    let main = clean_unit(&main);
    let main = main.trim_end_matches('_');
    let per = clean_unit(&per);
    let per = per.trim_end_matches('_');
    let per = if per == "per" { "" } else { per };
    match (main.is_empty(), per.is_empty()) {
        (_, true) => main.to_owned(),
        (true, false) => per.to_owned(),
        (false, false) => format!("{main}_{per}"),
    }
}

/// `otlptranslator.LabelNamer{PreserveMultipleUnderscores: true}`: every character outside
/// `[a-zA-Z0-9]` becomes `_`, a leading digit gets `key_`; `None` for an empty key or one
/// of underscores only.
pub fn label_name(key: &str) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    }
    if out.chars().all(|c| c == '_') {
        return None;
    }
    Some(out)
}

/// Whether `name` is a valid legacy metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Whether `name` is a valid legacy label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not `__`-prefixed
/// reserved names are allowed as client_golang allows them).
pub fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The shortest round-trip digits and decimal exponent of a finite, non-zero `v`:
/// `1234.5` → (`"12345"`, 3).
fn digits(v: f64) -> (String, i32) {
    let text = format!("{:e}", v.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    (mantissa.replace('.', ""), exp.parse().unwrap_or(0))
}

fn exponent_form(out: &mut String, v: f64, min_exp_digits: usize) {
    let (digits, exp) = digits(v);
    if v < 0.0 {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(
        out,
        "{:0width$}",
        exp.unsigned_abs(),
        width = min_exp_digits
    );
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)`, as client_golang writes sample values and
/// `le` / `quantile` label values in the text format: `0.005`, `1e+06`, `1.5e-07`, `+Inf`.
pub fn go_float(v: f64) -> String {
    let mut out = String::new();
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
    } else {
        let (_, exp) = digits(v);
        if !(-4..6).contains(&exp) {
            exponent_form(&mut out, v, 2);
        } else {
            let _ = write!(out, "{v}");
        }
    }
    out
}

/// client_golang's OpenMetrics float: [`go_float`] with `.0` added when there is neither a
/// `.` nor an `e` (`1.0`, `0.0`, `1e+06`).
pub fn openmetrics_float(v: f64) -> String {
    let mut s = go_float(v);
    if v.is_finite() && !s.contains(['.', 'e']) {
        s.push_str(".0");
    }
    s
}

/// pdata's `float64AsString` (the ES6 number form): exponent only below 1e-6 or from 1e21,
/// written `1e-7`, `1e+21`; `NaN`, `Infinity`, `-Infinity`.
pub fn es6_float(v: f64) -> String {
    let mut out = String::new();
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else if v != 0.0 && (v.abs() < 1e-6 || v.abs() >= 1e21) {
        exponent_form(&mut out, v, 1);
    } else {
        let _ = write!(out, "{v}");
    }
    out
}

/// An attribute value as pdata's `AsString` writes it (the label value of the Go
/// exporters): strings as they are, doubles in [`es6_float`], bytes in base64, arrays and
/// maps as JSON (map keys sorted, as Go's `encoding/json` writes a map).
pub fn value_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => es6_float(*d),
        Some(Value::BytesValue(b)) => super::values::base64(b),
        Some(v @ (Value::ArrayValue(_) | Value::KvlistValue(_))) => {
            let mut out = String::new();
            json(&mut out, Some(v), 0);
            out
        }
        Some(_) => String::new(),
    }
}

fn json(out: &mut String, value: Option<&Value>, depth: usize) {
    if depth > 32 {
        out.push_str("null");
        return;
    }
    match value {
        None => out.push_str("null"),
        Some(Value::StringValue(s)) => super::values::write_json_string(out, s),
        Some(Value::BoolValue(b)) => {
            let _ = write!(out, "{b}");
        }
        Some(Value::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(Value::DoubleValue(d)) if d.is_finite() => out.push_str(&es6_float(*d)),
        Some(Value::DoubleValue(_)) => out.push_str("null"),
        Some(Value::BytesValue(b)) => {
            super::values::write_json_string(out, &super::values::base64(b));
        }
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for (i, v) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(out, v.value.as_ref(), depth + 1);
            }
            out.push(']');
        }
        Some(Value::KvlistValue(kv)) => {
            let mut entries: Vec<_> = kv.values.iter().collect();
            entries.sort_by(|a, b| a.key.cmp(&b.key));
            entries.dedup_by(|a, b| a.key == b.key);
            out.push('{');
            for (i, kv) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                super::values::write_json_string(out, &kv.key);
                out.push(':');
                json(
                    out,
                    kv.value.as_ref().and_then(|v| v.value.as_ref()),
                    depth + 1,
                );
            }
            out.push('}');
        }
        Some(_) => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_are_the_words_of_the_suffixes() {
        assert_eq!(unit_name("By"), "bytes");
        assert_eq!(unit_name("ms"), "milliseconds");
        assert_eq!(unit_name("By/s"), "bytes_per_second");
        assert_eq!(unit_name("1/s"), "per_second");
        assert_eq!(unit_name("1"), "");
        assert_eq!(unit_name("{item}"), "");
        assert_eq!(unit_name("{packet}/s"), "per_second");
        assert_eq!(unit_name(""), "");
    }

    fn name(n: &str, unit: &str, ty: MetricType) -> Option<String> {
        MetricNamer {
            namespace: String::new(),
            with_suffixes: true,
        }
        .build(n, unit, ty)
    }

    #[test]
    fn metric_names() {
        use MetricType::*;
        let n = |a, u, t| name(a, u, t).unwrap_or_default();
        assert_eq!(
            n("http.server.duration", "ms", Histogram),
            "http_server_duration_milliseconds"
        );
        assert_eq!(
            n("requests", "{requests}", MonotonicCounter),
            "requests_total"
        );
        assert_eq!(n("requests_total", "", MonotonicCounter), "requests_total");
        assert_eq!(n("total_requests", "", MonotonicCounter), "requests_total");
        assert_eq!(n("util", "1", Gauge), "util_ratio");
        assert_eq!(n("util", "1", NonMonotonicCounter), "util");
        assert_eq!(n("mem", "By", Gauge), "mem_bytes");
        assert_eq!(n("bytes_mem", "By", Gauge), "bytes_mem");
        assert_eq!(n("tput", "By/s", Gauge), "tput_bytes_per_second");
        assert_eq!(n("speed", "m/m", Gauge), "speed_meters_per_minute");
        assert_eq!(n("a__b..c", "", Gauge), "a_b_c");
        assert_eq!(n("9lives", "", Gauge), "_9lives");
        assert_eq!(n("disk", "TiBy", Gauge), "disk_tibibytes");
        assert_eq!(n("x", "foo-bar", Gauge), "x_foo_bar");
        assert_eq!(name("...", "", Gauge), None);
        let with_ns = MetricNamer {
            namespace: "app".into(),
            with_suffixes: true,
        };
        assert_eq!(
            with_ns.build("req", "", MonotonicCounter).as_deref(),
            Some("app_req_total")
        );
        let plain = MetricNamer {
            namespace: String::new(),
            with_suffixes: false,
        };
        assert_eq!(
            plain.build("a.b__c", "ms", MonotonicCounter).as_deref(),
            Some("a_b__c")
        );
    }

    #[test]
    fn label_names() {
        assert_eq!(label_name("http.method").as_deref(), Some("http_method"));
        assert_eq!(label_name("a..b").as_deref(), Some("a__b"));
        assert_eq!(label_name("9x").as_deref(), Some("key_9x"));
        assert_eq!(label_name("__x").as_deref(), Some("__x"));
        assert_eq!(label_name("..."), None);
        assert_eq!(label_name(""), None);
    }

    #[test]
    fn floats() {
        assert_eq!(go_float(0.005), "0.005");
        assert_eq!(go_float(1000.0), "1000");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(1.5e-7), "1.5e-07");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
        assert_eq!(openmetrics_float(1.0), "1.0");
        assert_eq!(openmetrics_float(2.5), "2.5");
        assert_eq!(openmetrics_float(1e6), "1e+06");
        assert_eq!(es6_float(1e-7), "1e-7");
        assert_eq!(es6_float(1e21), "1e+21");
        assert_eq!(es6_float(123456789.0), "123456789");
        assert_eq!(es6_float(0.5), "0.5");
    }
}
