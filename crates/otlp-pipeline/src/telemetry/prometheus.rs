//! The Prometheus text exposition format (version 0.0.4).

use std::fmt::Write as _;

use super::registry::{Families, Kind};

/// A sample value: integers without a fraction, other values in Rust's shortest round-trip
/// form, non-finite values as Prometheus spells them.
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn escape_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn label_set(labels: &[(String, String)], extra: Option<(&str, &str)>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{}\"", escape_label(v)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

pub(crate) fn render(families: &Families) -> String {
    let mut out = String::new();
    for (name, family) in families {
        if family.series.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {name} {}", escape_help(&family.help));
        let _ = writeln!(out, "# TYPE {name} {}", family.kind.name());
        for (labels, series) in &family.series {
            if family.kind == Kind::Histogram {
                let histogram = series.histogram();
                for (bound, count) in &histogram.buckets {
                    let le = value(*bound);
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {count}",
                        label_set(labels, Some(("le", &le)))
                    );
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {}",
                    label_set(labels, Some(("le", "+Inf"))),
                    histogram.count
                );
                let _ = writeln!(
                    out,
                    "{name}_sum{} {}",
                    label_set(labels, None),
                    value(histogram.sum)
                );
                let _ = writeln!(
                    out,
                    "{name}_count{} {}",
                    label_set(labels, None),
                    histogram.count
                );
            } else {
                let _ = writeln!(
                    out,
                    "{name}{} {}",
                    label_set(labels, None),
                    value(series.value())
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{HistogramValue, Kind, Metrics};

    #[test]
    fn text_format() {
        let metrics = Metrics::new();
        metrics
            .counter(
                "otelcol_exporter_sent_spans_total",
                "Number of spans successfully sent.",
                &[("exporter", "otlp/\"a\"")],
            )
            .add(7);
        let _h = metrics.register_histogram("h", "Sizes.", &[("processor", "batch")], || {
            HistogramValue {
                buckets: vec![(10.0, 1), (25.0, 3)],
                count: 4,
                sum: 60.0,
            }
        });
        let _g = metrics.register_fn(Kind::Gauge, "g", "G.", &[], || 0.25);
        let text = metrics.render();
        assert!(
            text.contains(
                "# HELP otelcol_exporter_sent_spans_total Number of spans successfully sent.\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("# TYPE otelcol_exporter_sent_spans_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("otelcol_exporter_sent_spans_total{exporter=\"otlp/\\\"a\\\"\"} 7\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE h histogram\nh_bucket{processor=\"batch\",le=\"10\"} 1\nh_bucket{processor=\"batch\",le=\"25\"} 3\nh_bucket{processor=\"batch\",le=\"+Inf\"} 4\nh_sum{processor=\"batch\"} 60\nh_count{processor=\"batch\"} 4\n"), "{text}");
        assert!(text.contains("\ng 0.25\n"), "{text}");
        assert!(
            text.contains("# TYPE otelcol_process_memory_rss_bytes gauge\n"),
            "{text}"
        );
    }
}
