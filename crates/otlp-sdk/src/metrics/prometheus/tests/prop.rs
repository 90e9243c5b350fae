//! Whatever the names, units, descriptions and attributes, `encode_text` does not panic and
//! writes only lines of the text format's grammar.

use std::collections::HashSet;

use otlp_proto::metrics::v1::{Summary, SummaryDataPoint, metric::Data};
use proptest::prelude::*;

use super::super::{TextOptions, encode_text};
use super::*;

fn is_name(s: &str, colon: bool) -> bool {
    let ok = |c: char, first: bool| {
        c.is_ascii_alphabetic() || c == '_' || (colon && c == ':') || (!first && c.is_ascii_digit())
    };
    let mut chars = s.chars();
    chars.next().is_some_and(|c| ok(c, true)) && chars.all(|c| ok(c, false))
}

fn is_value(s: &str) -> bool {
    if matches!(s, "+Inf" | "-Inf" | "NaN") {
        return true;
    }
    // -?digits(.digits)?(e[+-]?digits)?
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match s.split_once('e') {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (s, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(digits)
}

/// Parses `name{label="value",...} value`; returns the name, or why the line is wrong.
fn parse_sample(line: &str) -> Result<String, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    if let Some(labels) = rest.strip_prefix('{') {
        let mut seen = HashSet::new();
        let mut s = labels;
        loop {
            let eq = s.find('=').ok_or("label without =")?;
            let label = &s[..eq];
            if !is_name(label, false) || label.starts_with("__") {
                return Err(format!("bad label name {label:?}"));
            }
            if !seen.insert(label.to_owned()) {
                return Err(format!("repeated label {label:?}"));
            }
            s = s[eq + 1..]
                .strip_prefix('"')
                .ok_or("label value not quoted")?;
            // The value: any characters but `"`, `\` and line feed, or escapes.
            let mut chars = s.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err("unterminated label value".into()),
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\' | '"' | 'n')) => {}
                        other => return Err(format!("bad escape {other:?}")),
                    },
                    Some((_, '\n')) => return Err("raw line feed".into()),
                    Some(_) => {}
                }
            };
            s = &s[end + 1..];
            if let Some(after) = s.strip_prefix(',') {
                s = after;
            } else if let Some(after) = s.strip_prefix('}') {
                rest = after;
                break;
            } else {
                return Err("expected , or }".into());
            }
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before value")?;
    if !is_value(value) {
        return Err(format!("bad value {value:?}"));
    }
    Ok(name.to_owned())
}

/// Checks a whole scrape; panics with the offending line.
fn check(text: &str) {
    let mut typed = HashSet::new();
    let mut helped = HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(is_name(name, true), "{line:?}");
            assert!(
                matches!(
                    ty,
                    "counter" | "gauge" | "histogram" | "summary" | "untyped"
                ),
                "{line:?}"
            );
            assert!(typed.insert(name.to_owned()), "TYPE twice: {line:?}");
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(is_name(name, true), "{line:?}");
            assert!(helped.insert(name.to_owned()), "HELP twice: {line:?}");
            let mut chars = help.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    assert!(
                        matches!(chars.next(), Some('\\' | 'n')),
                        "bad HELP escape: {line:?}"
                    );
                }
            }
        } else {
            assert!(!line.starts_with('#'), "unknown comment: {line:?}");
            if let Err(why) = parse_sample(line) {
                panic!("{why}: {line:?}");
            }
        }
    }
    assert!(text.is_empty() || text.ends_with('\n'));
}

fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z._/{}\\-]{0,12}",
        any::<String>(),
        Just(String::new()),
        Just("__name__".to_owned()),
        Just("le".to_owned()),
        Just("quantile".to_owned()),
        Just("a\"b\\c\nd".to_owned()),
    ]
}

fn any_unit() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ms".to_owned()),
        Just("1".to_owned()),
        Just("By/s".to_owned()),
        Just("{req}".to_owned()),
        Just("{".to_owned()),
        any_string(),
    ]
}

fn any_attributes() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((any_string(), any_string()), 0..4)
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        -1e6..1e6f64
    ]
}

#[derive(Debug, Clone)]
struct Input {
    name: String,
    unit: String,
    description: String,
    kind: u8,
    attributes: Vec<(String, String)>,
    value: f64,
    bounds: Vec<f64>,
}

fn any_input() -> impl Strategy<Value = Input> {
    (
        any_string(),
        any_unit(),
        any_string(),
        0u8..6,
        any_attributes(),
        any_f64(),
        proptest::collection::vec(any_f64(), 0..4),
    )
        .prop_map(
            |(name, unit, description, kind, attributes, value, bounds)| Input {
                name,
                unit,
                description,
                kind,
                attributes,
                value,
                bounds,
            },
        )
}

fn to_metric(input: &Input) -> Metric {
    let labels: Vec<(&str, &str)> = input
        .attributes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut m = match input.kind {
        0 => gauge(&input.name, &input.unit, vec![double(input.value, &labels)]),
        1 => counter(
            &input.name,
            &input.unit,
            vec![int(input.value as i64, &labels)],
        ),
        2 => sum(
            &input.name,
            &input.unit,
            false,
            CUMULATIVE,
            vec![double(input.value, &labels)],
        ),
        3 => {
            let mut bounds = input.bounds.clone();
            bounds.sort_by(f64::total_cmp);
            let counts: Vec<u64> = (0..=bounds.len() as u64).collect();
            let point = histogram_point(&bounds, &counts, Some(input.value), &labels);
            histogram(&input.name, &input.unit, CUMULATIVE, vec![point])
        }
        4 => {
            let point = SummaryDataPoint {
                attributes: attrs(&labels),
                count: 3,
                sum: input.value,
                quantile_values: input
                    .bounds
                    .iter()
                    .map(
                        |q| otlp_proto::metrics::v1::summary_data_point::ValueAtQuantile {
                            quantile: *q,
                            value: input.value,
                        },
                    )
                    .collect(),
                ..Default::default()
            };
            metric(
                &input.name,
                &input.unit,
                "",
                Data::Summary(Summary {
                    data_points: vec![point],
                }),
            )
        }
        _ => sum(&input.name, &input.unit, true, DELTA, vec![int(1, &labels)]),
    };
    m.description = input.description.clone();
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn output_is_always_valid_text(
        inputs in proptest::collection::vec(any_input(), 0..6),
        resource_attributes in any_attributes(),
        scope_name in any_string(),
        scope_attributes in any_attributes(),
        flags in 0u8..32,
    ) {
        let resource_labels: Vec<(&str, &str)> =
            resource_attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let scope_labels: Vec<(&str, &str)> =
            scope_attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut scope_metrics = scope(&scope_name, "v", inputs.iter().map(to_metric).collect());
        if let Some(scope) = scope_metrics.scope.as_mut() {
            scope.attributes = attrs(&scope_labels);
        }
        let metrics = vec![resource(&resource_labels, vec![scope_metrics])];
        let options = TextOptions {
            without_units: flags & 1 != 0,
            without_counter_suffixes: flags & 2 != 0,
            without_scope_info: flags & 4 != 0,
            without_target_info: flags & 8 != 0,
            job_and_instance_labels: flags & 16 != 0,
        };
        check(&encode_text(&metrics, &options));
    }
}

#[test]
fn the_checker_rejects_bad_lines() {
    for bad in [
        "1abc 1",
        "a{b=\"c} 1",
        "a{b=\"c\"} x",
        "a{__x=\"c\"} 1",
        "a{b=\"c\",b=\"d\"} 1",
        "a{b=\"\\t\"} 1",
        "a{b-c=\"d\"} 1",
        "a 1 2",
        "a",
    ] {
        assert!(parse_sample(bad).is_err(), "{bad:?}");
    }
    for good in [
        "a 1",
        "a:b_c{d=\"e\\\"\\\\\\n\",f=\"\"} -1.5e-7",
        "x +Inf",
        "_ NaN",
    ] {
        assert_eq!(parse_sample(good).map(|_| ()), Ok(()), "{good:?}");
    }
}
