//! OTLP metric names, units and attribute keys → Prometheus metric and label names.
//!
//! The rules are the "OTLP Metric points to Prometheus" section of the OpenTelemetry
//! specification's Prometheus and OpenMetrics compatibility document (metric metadata and
//! metric attributes), restricted to the legacy character set that the text format 0.0.4
//! allows: metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`.

/// The UCUM units that become a Prometheus unit word (the table of the compatibility
/// specification; `KBy` is accepted beside UCUM's `kBy`).
const UNIT_WORDS: &[(&str, &str)] = &[
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
    ("TiBy", "tebibytes"),
    ("kBy", "kilobytes"),
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
    ("%", "percent"),
];

/// The units after a `/` ("per"), as singular words: `By/s` → `bytes_per_second`.
const PER_UNIT_WORDS: &[(&str, &str)] = &[
    ("s", "second"),
    ("ms", "millisecond"),
    ("us", "microsecond"),
    ("ns", "nanosecond"),
    ("min", "minute"),
    ("h", "hour"),
    ("d", "day"),
    ("wk", "week"),
    ("mo", "month"),
    ("a", "year"),
    ("m", "meter"),
    ("By", "byte"),
];

/// What the name is for, as far as suffixes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A monotonic cumulative sum: `_total`.
    Counter,
    /// An OTLP Gauge: unit `1` becomes `_ratio`.
    Gauge,
    /// Any other family (non-monotonic sum, histogram, summary): unit suffix only.
    Plain,
    /// A gauge standing in for an OpenMetrics Info metric: `_info`.
    Info,
}

/// Replaces every character outside `[a-zA-Z0-9_:]` (or `[a-zA-Z0-9_]` when `colon` is false)
/// with `_`, collapses runs of `_` and prefixes a leading digit with `_`.
fn sanitize(name: &str, colon: bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    for c in name.chars() {
        let keep = c.is_ascii_alphanumeric() || (colon && c == ':');
        let c = if keep { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The metric-name character rule alone (no unit or type suffix); empty stays empty.
pub fn sanitize_metric_name(name: &str) -> String {
    sanitize(name, true)
}

/// A Prometheus label name for an attribute key, or `None` for an empty key.
///
/// Runs of `_` are collapsed, so a result never starts with the reserved `__` prefix.
pub fn sanitize_label_name(key: &str) -> Option<String> {
    let out = sanitize(key, false);
    (!out.is_empty()).then_some(out)
}

/// Removes the parts of a unit within `{…}` (an unclosed `{` drops the rest).
fn strip_braces(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len());
    let mut depth = 0usize;
    for c in unit.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// One side of a unit as a word: from `table`, else the unit with characters outside
/// `[a-zA-Z0-9]` replaced by `_` (runs collapsed, ends trimmed); `1` alone is no word.
fn unit_word(unit: &str, table: &[(&str, &str)]) -> String {
    let unit = strip_braces(unit);
    let unit = unit.trim();
    if unit.is_empty() || unit == "1" {
        return String::new();
    }
    if let Some((_, word)) = table.iter().find(|(ucum, _)| *ucum == unit) {
        return (*word).to_owned();
    }
    let mut out = String::with_capacity(unit.len());
    for c in unit.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The unit suffix for a UCUM unit (without the leading `_`), empty when there is none.
///
/// `1` becomes `ratio` only when `ratio` is set (OTLP gauges); `x/y` becomes `x_per_y`;
/// annotations in braces are dropped.
pub fn unit_suffix(unit: &str, ratio: bool) -> String {
    let unit = unit.trim();
    if unit == "1" {
        return if ratio {
            "ratio".to_owned()
        } else {
            String::new()
        };
    }
    let (main, per) = match unit.split_once('/') {
        Some((main, per)) => (main, Some(per)),
        None => (unit, None),
    };
    let main = unit_word(main, UNIT_WORDS);
    let per = per
        .map(|p| unit_word(p, PER_UNIT_WORDS))
        .unwrap_or_default();
    match (main.is_empty(), per.is_empty()) {
        (_, true) => main,
        (true, false) => format!("per_{per}"),
        (false, false) => format!("{main}_per_{per}"),
    }
}

/// Whether `name` is `suffix` or ends with `_` + `suffix`.
fn ends_with_word(name: &str, suffix: &str) -> bool {
    name == suffix
        || name
            .strip_suffix(suffix)
            .is_some_and(|rest| rest.ends_with('_'))
}

/// Removes `_` + `suffix` from the end of `name` when something is left before it.
fn strip_word<'a>(name: &'a str, suffix: &str) -> &'a str {
    match name.strip_suffix(suffix) {
        Some(rest) if rest.len() > 1 && rest.ends_with('_') => &rest[..rest.len() - 1],
        _ => name,
    }
}

/// The Prometheus family name of an OTLP metric, or `None` when nothing valid is left.
///
/// The unit suffix comes before the type suffix (`_total`, `_info`); neither is added when
/// the name already ends with it.
pub fn metric_name(
    name: &str,
    unit: &str,
    kind: NameKind,
    with_units: bool,
    with_counter_suffix: bool,
) -> Option<String> {
    let base = sanitize_metric_name(name);
    if base.is_empty() {
        return None;
    }
    let type_suffix = match kind {
        NameKind::Counter if with_counter_suffix => Some("total"),
        NameKind::Info => Some("info"),
        _ => None,
    };
    let mut out = match type_suffix {
        Some(suffix) => strip_word(&base, suffix).to_owned(),
        None => base,
    };
    if with_units {
        let suffix = unit_suffix(unit, kind == NameKind::Gauge);
        if !suffix.is_empty() && !ends_with_word(&out, &suffix) {
            if !out.ends_with('_') {
                out.push('_');
            }
            out.push_str(&suffix);
        }
    }
    if let Some(suffix) = type_suffix {
        if !out.ends_with('_') {
            out.push('_');
        }
        out.push_str(suffix);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_name_characters() {
        assert_eq!(
            sanitize_metric_name("http.server.duration"),
            "http_server_duration"
        );
        assert_eq!(sanitize_metric_name("a..b__c-d"), "a_b_c_d");
        assert_eq!(sanitize_metric_name("1xx"), "_1xx");
        assert_eq!(sanitize_metric_name("ns:sub.x"), "ns:sub_x");
        assert_eq!(sanitize_metric_name("größe"), "gr_e");
        assert_eq!(sanitize_metric_name("__x"), "_x");
        assert_eq!(sanitize_metric_name(""), "");
    }

    #[test]
    fn label_name_characters() {
        assert_eq!(
            sanitize_label_name("http.method").as_deref(),
            Some("http_method")
        );
        assert_eq!(sanitize_label_name("a:b").as_deref(), Some("a_b"));
        assert_eq!(sanitize_label_name("9lives").as_deref(), Some("_9lives"));
        assert_eq!(
            sanitize_label_name("__reserved").as_deref(),
            Some("_reserved")
        );
        assert_eq!(sanitize_label_name("..."), Some("_".to_owned()));
        assert_eq!(sanitize_label_name(""), None);
    }

    #[test]
    fn units() {
        assert_eq!(unit_suffix("ms", false), "milliseconds");
        assert_eq!(unit_suffix("By/s", false), "bytes_per_second");
        assert_eq!(unit_suffix("m/s", false), "meters_per_second");
        assert_eq!(unit_suffix("{requests}", false), "");
        assert_eq!(unit_suffix("{packet}/s", false), "per_second");
        assert_eq!(unit_suffix("1/s", false), "per_second");
        assert_eq!(unit_suffix("1", true), "ratio");
        assert_eq!(unit_suffix("1", false), "");
        assert_eq!(unit_suffix("KiBy", false), "kibibytes");
        assert_eq!(unit_suffix("kBy", false), "kilobytes");
        assert_eq!(unit_suffix("KBy", false), "kilobytes");
        assert_eq!(unit_suffix("Cel", false), "celsius");
        assert_eq!(unit_suffix("%", false), "percent");
        assert_eq!(unit_suffix("packets", false), "packets");
        assert_eq!(unit_suffix("foo-bar.baz", false), "foo_bar_baz");
        assert_eq!(unit_suffix("", false), "");
    }

    #[test]
    fn suffixes() {
        let name = |n, u, k| metric_name(n, u, k, true, true);
        assert_eq!(
            name("req", "ms", NameKind::Counter).as_deref(),
            Some("req_milliseconds_total")
        );
        assert_eq!(
            name("req_total", "ms", NameKind::Counter).as_deref(),
            Some("req_milliseconds_total")
        );
        assert_eq!(
            name("req_total", "", NameKind::Counter).as_deref(),
            Some("req_total")
        );
        assert_eq!(
            name("total", "", NameKind::Counter).as_deref(),
            Some("total_total")
        );
        assert_eq!(
            name("lat_seconds", "s", NameKind::Plain).as_deref(),
            Some("lat_seconds")
        );
        assert_eq!(
            name("seconds", "s", NameKind::Plain).as_deref(),
            Some("seconds")
        );
        assert_eq!(
            name("util", "1", NameKind::Gauge).as_deref(),
            Some("util_ratio")
        );
        assert_eq!(
            name("util_ratio", "1", NameKind::Gauge).as_deref(),
            Some("util_ratio")
        );
        assert_eq!(name("util", "1", NameKind::Plain).as_deref(), Some("util"));
        assert_eq!(
            name("util", "1", NameKind::Counter).as_deref(),
            Some("util_total")
        );
        assert_eq!(
            name("build", "", NameKind::Info).as_deref(),
            Some("build_info")
        );
        assert_eq!(
            name("x.", "s", NameKind::Plain).as_deref(),
            Some("x_seconds")
        );
        assert_eq!(name("...", "", NameKind::Plain).as_deref(), Some("_"));
        assert_eq!(name("", "s", NameKind::Plain), None);
        assert_eq!(
            metric_name("req", "ms", NameKind::Counter, false, true).as_deref(),
            Some("req_total")
        );
        assert_eq!(
            metric_name("req", "ms", NameKind::Counter, true, false).as_deref(),
            Some("req_milliseconds")
        );
        assert_eq!(
            metric_name("req_total", "ms", NameKind::Counter, true, false).as_deref(),
            Some("req_total_milliseconds")
        );
    }
}
