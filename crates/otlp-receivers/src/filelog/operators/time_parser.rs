//! Timestamps: the `timestamp` block of parsers and the `time_parser` operator. Layouts:
//! `strptime` (default; `%Y %y %m %d %e %H %I %M %S %L %f %p %b %h %B %a %A %z %Z %j %T %D %F
//! %R %%`), `gotime` (Go reference-time layouts: `2006 01 02 15 04 05 .000 .999 Jan January
//! Mon Monday MST Z07:00 -0700 PM _2 …`) and `epoch` (`s`, `ms`, `us`, `ns`, `s.ms`, `s.us`,
//! `s.ns`). Fractional seconds take any number of digits (as stanza's `%L` does); a layout
//! without a year takes the current one; times without a zone are UTC (`location` accepts
//! only UTC).

use serde::Deserialize;
use serde_json::Value;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::{Operator, Resolver, Step};
use crate::filelog::entry::{Entry, Field};

/// `timestamp:` / the `time_parser` keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimeConfig {
    #[serde(default)]
    parse_from: Option<String>,
    #[serde(default)]
    layout_type: Option<String>,
    #[serde(default)]
    layout: Option<String>,
    #[serde(default)]
    location: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    Lit(char),
    Space,
    Year4,
    Year2,
    Month,
    MonthName,
    Day,
    DayOfYear,
    Hour24,
    Hour12,
    Minute,
    Second,
    /// Required digits (after a literal separator).
    Frac,
    /// `.999`: the separator and digits, both optional.
    OptFrac(char),
    AmPm,
    Offset,
    ZoneName,
    Weekday,
}

/// A compiled layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layout {
    Items(Vec<Item>),
    Epoch(EpochUnit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EpochUnit {
    S,
    Ms,
    Us,
    Ns,
    SMs,
    SUs,
    SNs,
}

fn strptime(layout: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut chars = layout.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            items.push(if c == ' ' { Item::Space } else { Item::Lit(c) });
            continue;
        }
        let d = chars
            .next()
            .ok_or_else(|| "layout ends with %".to_owned())?;
        match d {
            'Y' => items.push(Item::Year4),
            'y' => items.push(Item::Year2),
            'm' => items.push(Item::Month),
            'd' | 'e' => items.push(Item::Day),
            'H' => items.push(Item::Hour24),
            'I' => items.push(Item::Hour12),
            'M' => items.push(Item::Minute),
            'S' => items.push(Item::Second),
            'L' | 'f' => items.push(Item::Frac),
            'p' => items.push(Item::AmPm),
            'b' | 'h' | 'B' => items.push(Item::MonthName),
            'a' | 'A' => items.push(Item::Weekday),
            'z' => items.push(Item::Offset),
            'Z' => items.push(Item::ZoneName),
            'j' => items.push(Item::DayOfYear),
            'T' => items.extend([
                Item::Hour24,
                Item::Lit(':'),
                Item::Minute,
                Item::Lit(':'),
                Item::Second,
            ]),
            'R' => items.extend([Item::Hour24, Item::Lit(':'), Item::Minute]),
            'D' => items.extend([
                Item::Month,
                Item::Lit('/'),
                Item::Day,
                Item::Lit('/'),
                Item::Year2,
            ]),
            'F' => items.extend([
                Item::Year4,
                Item::Lit('-'),
                Item::Month,
                Item::Lit('-'),
                Item::Day,
            ]),
            '%' => items.push(Item::Lit('%')),
            'n' | 't' => items.push(Item::Space),
            other => return Err(format!("strptime directive %{other} is not supported")),
        }
    }
    Ok(items)
}

fn gotime(layout: &str) -> Vec<Item> {
    const CHUNKS: &[(&str, Item)] = &[
        ("January", Item::MonthName),
        ("Jan", Item::MonthName),
        ("Monday", Item::Weekday),
        ("Mon", Item::Weekday),
        ("MST", Item::ZoneName),
        ("2006", Item::Year4),
        ("002", Item::DayOfYear),
        ("01", Item::Month),
        ("02", Item::Day),
        ("03", Item::Hour12),
        ("04", Item::Minute),
        ("05", Item::Second),
        ("06", Item::Year2),
        ("15", Item::Hour24),
        ("__2", Item::DayOfYear),
        ("_2", Item::Day),
        ("1", Item::Month),
        ("2", Item::Day),
        ("3", Item::Hour12),
        ("4", Item::Minute),
        ("5", Item::Second),
        ("PM", Item::AmPm),
        ("pm", Item::AmPm),
        ("Z07:00:00", Item::Offset),
        ("-07:00:00", Item::Offset),
        ("Z070000", Item::Offset),
        ("-070000", Item::Offset),
        ("Z07:00", Item::Offset),
        ("-07:00", Item::Offset),
        ("Z0700", Item::Offset),
        ("-0700", Item::Offset),
        ("Z07", Item::Offset),
        ("-07", Item::Offset),
    ];
    let mut items = Vec::new();
    let mut rest = layout;
    'outer: while let Some(c) = rest.chars().next() {
        if (c == '.' || c == ',') && rest.len() > 1 {
            let digits: String = rest[1..]
                .chars()
                .take_while(|d| *d == '0' || *d == '9')
                .collect();
            let after = rest[1 + digits.len()..].chars().next();
            if !digits.is_empty()
                && digits.chars().all(|d| d == digits.as_bytes()[0] as char)
                && !after.is_some_and(|a| a.is_ascii_digit())
            {
                if digits.starts_with('9') {
                    items.push(Item::OptFrac(c));
                } else {
                    items.push(Item::Lit(c));
                    items.push(Item::Frac);
                }
                rest = &rest[1 + digits.len()..];
                continue;
            }
        }
        for (chunk, item) in CHUNKS {
            if rest.starts_with(chunk) {
                items.push(*item);
                rest = &rest[chunk.len()..];
                continue 'outer;
            }
        }
        items.push(if c == ' ' { Item::Space } else { Item::Lit(c) });
        rest = &rest[c.len_utf8()..];
    }
    items
}

impl Layout {
    pub(crate) fn new(layout_type: Option<&str>, layout: &str) -> Result<Layout, String> {
        match layout_type.unwrap_or("strptime") {
            "strptime" => Ok(Layout::Items(strptime(layout)?)),
            "gotime" => Ok(Layout::Items(gotime(layout))),
            "epoch" => Ok(Layout::Epoch(match layout {
                "s" => EpochUnit::S,
                "ms" => EpochUnit::Ms,
                "us" => EpochUnit::Us,
                "ns" => EpochUnit::Ns,
                "s.ms" => EpochUnit::SMs,
                "s.us" => EpochUnit::SUs,
                "s.ns" => EpochUnit::SNs,
                other => {
                    return Err(format!(
                        "epoch layout \"{other}\": must be s, ms, us, ns, s.ms, s.us or s.ns"
                    ));
                }
            })),
            other => Err(format!(
                "layout_type \"{other}\": must be strptime, gotime or epoch"
            )),
        }
    }

    /// Unix nanoseconds for `value`.
    pub(crate) fn parse(&self, value: &Value) -> Result<i64, String> {
        match self {
            Layout::Epoch(unit) => {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => match n.as_f64() {
                        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9e18 => {
                            format!("{}", f as i64)
                        }
                        _ => n.to_string(),
                    },
                    other => {
                        return Err(format!(
                            "type {} cannot be parsed as an epoch",
                            super::type_name(other)
                        ));
                    }
                };
                epoch(&text, *unit)
            }
            Layout::Items(items) => {
                let Value::String(s) = value else {
                    return Err(format!(
                        "type {} cannot be parsed as a time",
                        super::type_name(value)
                    ));
                };
                parse_items(items, s)
            }
        }
    }
}

fn epoch(text: &str, unit: EpochUnit) -> Result<i64, String> {
    let bad = || format!("\"{text}\" is not an epoch timestamp");
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = match frac {
        Some(f) if !f.is_empty() => f.parse().map_err(|_| bad())?,
        _ => 0,
    };
    let ns = match unit {
        EpochUnit::S => whole.checked_mul(1_000_000_000),
        EpochUnit::Ms => whole.checked_mul(1_000_000),
        EpochUnit::Us => whole.checked_mul(1_000),
        EpochUnit::Ns => Some(whole),
        EpochUnit::SMs => whole
            .checked_mul(1_000_000_000)
            .and_then(|s| s.checked_add(frac.checked_mul(1_000_000)?)),
        EpochUnit::SUs => whole
            .checked_mul(1_000_000_000)
            .and_then(|s| s.checked_add(frac.checked_mul(1_000)?)),
        EpochUnit::SNs => whole
            .checked_mul(1_000_000_000)
            .and_then(|s| s.checked_add(frac)),
    };
    ns.ok_or_else(bad)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn current_year() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Civil year from days (inverse of days_from_civil, year only).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(m <= 2)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn parse_items(items: &[Item], text: &str) -> Result<i64, String> {
    let bad = |what: &str| format!("parsing time \"{text}\": {what}");
    let b = text.as_bytes();
    let mut i = 0usize;
    let digits = |i: &mut usize, min: usize, max: usize| -> Option<i64> {
        let start = *i;
        while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i - start < min {
            return None;
        }
        text[start..*i].parse().ok()
    };
    let (mut year, mut month, mut day) = (None, 1u32, 1u32);
    let mut doy: Option<i64> = None;
    let (mut hour, mut minute, mut second, mut nanos) = (0i64, 0i64, 0i64, 0i64);
    let mut pm: Option<bool> = None;
    let mut offset = 0i64;
    let frac = |i: &mut usize| -> Option<i64> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i == start {
            return None;
        }
        let mut ns: i64 = 0;
        for (n, c) in text[start..*i].bytes().take(9).enumerate() {
            ns += i64::from(c - b'0') * 10i64.pow(8 - n as u32);
        }
        Some(ns)
    };
    for (k, item) in items.iter().enumerate() {
        match *item {
            Item::Lit(c) => {
                let mut buf = [0u8; 4];
                let s = c.encode_utf8(&mut buf);
                if !text[i..].starts_with(&*s) {
                    return Err(bad(&format!("expected \"{c}\"")));
                }
                i += s.len();
            }
            Item::Space => {
                if i >= b.len() || !b[i].is_ascii_whitespace() {
                    return Err(bad("expected a space"));
                }
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
            }
            Item::Year4 => year = Some(digits(&mut i, 4, 4).ok_or_else(|| bad("year"))?),
            Item::Year2 => {
                let y = digits(&mut i, 2, 2).ok_or_else(|| bad("year"))?;
                year = Some(if y >= 69 { 1900 + y } else { 2000 + y });
            }
            Item::Month => {
                month = digits(&mut i, 1, 2).ok_or_else(|| bad("month"))? as u32;
            }
            Item::MonthName => {
                let start = i;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                let name = text[start..i].to_ascii_lowercase();
                let index = MONTHS
                    .iter()
                    .position(|m| name.len() >= 3 && name.starts_with(m))
                    .ok_or_else(|| bad("month name"))?;
                month = index as u32 + 1;
            }
            Item::Day => {
                while i < b.len() && b[i] == b' ' {
                    i += 1;
                }
                day = digits(&mut i, 1, 2).ok_or_else(|| bad("day"))? as u32;
            }
            Item::DayOfYear => {
                while i < b.len() && b[i] == b' ' {
                    i += 1;
                }
                doy = Some(digits(&mut i, 1, 3).ok_or_else(|| bad("day of year"))?);
            }
            Item::Hour24 | Item::Hour12 => {
                hour = digits(&mut i, 1, 2).ok_or_else(|| bad("hour"))?;
            }
            Item::Minute => minute = digits(&mut i, 1, 2).ok_or_else(|| bad("minute"))?,
            Item::Second => {
                second = digits(&mut i, 1, 2).ok_or_else(|| bad("second"))?;
                // Go accepts a fraction after the seconds the layout does not mention.
                let next = items.get(k + 1);
                let explicit = matches!(
                    next,
                    Some(Item::Lit('.' | ',') | Item::OptFrac(_) | Item::Frac)
                );
                if !explicit
                    && i + 1 < b.len()
                    && (b[i] == b'.' || b[i] == b',')
                    && b[i + 1].is_ascii_digit()
                {
                    i += 1;
                    nanos = frac(&mut i).unwrap_or(0);
                }
            }
            Item::Frac => nanos = frac(&mut i).ok_or_else(|| bad("fractional seconds"))?,
            Item::OptFrac(sep) => {
                if i + 1 < b.len()
                    && (b[i] == sep as u8 || b[i] == b'.' || b[i] == b',')
                    && b[i + 1].is_ascii_digit()
                {
                    i += 1;
                    nanos = frac(&mut i).unwrap_or(0);
                }
            }
            Item::AmPm => {
                let word = text.get(i..i + 2).map(str::to_ascii_uppercase);
                pm = match word.as_deref() {
                    Some("AM") => Some(false),
                    Some("PM") => Some(true),
                    _ => return Err(bad("AM/PM")),
                };
                i += 2;
            }
            Item::Offset => {
                if i < b.len() && b[i] == b'Z' {
                    i += 1;
                    offset = 0;
                    continue;
                }
                let sign = match b.get(i) {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(bad("zone offset")),
                };
                i += 1;
                let h = digits(&mut i, 2, 2).ok_or_else(|| bad("zone offset"))?;
                if i < b.len() && b[i] == b':' {
                    i += 1;
                }
                let m = digits(&mut i, 0, 2).unwrap_or(0);
                offset = sign * (h * 3600 + m * 60);
            }
            Item::ZoneName => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphabetic()) {
                    i += 1;
                }
                match &text[start..i] {
                    "UTC" | "GMT" | "Z" => offset = 0,
                    other => return Err(bad(&format!("time zone \"{other}\" is not supported"))),
                }
            }
            Item::Weekday => {
                let start = i;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                if i - start < 3 {
                    return Err(bad("weekday"));
                }
            }
        }
    }
    if i != b.len() {
        return Err(bad(&format!("extra text \"{}\"", &text[i..])));
    }
    if let Some(pm) = pm {
        if hour == 12 {
            hour = 0;
        }
        if pm {
            hour += 12;
        }
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad("value out of range"));
    }
    let year = year.unwrap_or_else(current_year);
    let days = match doy {
        Some(d) => days_from_civil(year, 1, 1) + d - 1,
        None => days_from_civil(year, month, day),
    };
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    secs.checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(nanos))
        .ok_or_else(|| bad("out of range"))
}

/// A compiled `timestamp` block.
#[derive(Debug, Clone)]
pub(crate) struct TimeParser {
    parse_from: Field,
    layout: Layout,
}

impl TimeParser {
    pub(crate) fn new(
        c: TimeConfig,
        r: &Resolver<'_>,
        prefix: &str,
    ) -> Result<TimeParser, ConfigError> {
        let parse_from = match &c.parse_from {
            Some(f) => r.field(&format!("{prefix}parse_from"), f)?,
            None => Field::body(),
        };
        let layout_text = c
            .layout
            .ok_or_else(|| r.error(&format!("{prefix}layout"), "required"))?;
        let layout = Layout::new(c.layout_type.as_deref(), &layout_text)
            .map_err(|e| r.error(&format!("{prefix}layout"), e))?;
        if let Some(location) = &c.location
            && !matches!(location.as_str(), "UTC" | "Etc/UTC" | "GMT" | "")
        {
            return Err(r.error(
                &format!("{prefix}location"),
                format!("\"{location}\": only UTC is supported"),
            ));
        }
        Ok(TimeParser { parse_from, layout })
    }

    pub(crate) fn apply(&self, entry: &mut Entry) -> Result<(), String> {
        let value = self.parse_from.get(entry).ok_or_else(|| {
            format!(
                "time parser: log entry does not have the expected parse_from field {}",
                self.parse_from
            )
        })?;
        let ns = self.layout.parse(value)?;
        entry.timestamp = Some(u64::try_from(ns).unwrap_or(0));
        Ok(())
    }
}

/// The `time_parser` operator.
pub(crate) struct TimeOperator(TimeParser);

impl TimeOperator {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<TimeOperator, ConfigError> {
        let c: TimeConfig = r.parse(rest)?;
        Ok(TimeOperator(TimeParser::new(c, r, "")?))
    }
}

impl Operator for TimeOperator {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        self.0.apply(entry).map(|()| Step::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(layout_type: &str, layout: &str, value: Value) -> Result<i64, String> {
        Layout::new(Some(layout_type), layout)?.parse(&value)
    }

    const T: i64 = 1_704_164_645; // 2024-01-02T03:04:05Z

    #[test]
    fn strptime_layouts() {
        let l = "%Y-%m-%dT%H:%M:%S.%LZ";
        assert_eq!(
            ns("strptime", l, json!("2024-01-02T03:04:05.123Z")),
            Ok(T * 1_000_000_000 + 123_000_000)
        );
        assert_eq!(
            ns("strptime", l, json!("2024-01-02T03:04:05.123456789Z")),
            Ok(T * 1_000_000_000 + 123_456_789)
        );
        assert_eq!(
            ns("strptime", l, json!("2024-01-02T03:04:05.5Z")),
            Ok(T * 1_000_000_000 + 500_000_000)
        );
        assert_eq!(
            ns(
                "strptime",
                "%Y-%m-%d %H:%M:%S,%L %z",
                json!("2024-01-02 03:04:05,123 +0100")
            ),
            Ok((T - 3600) * 1_000_000_000 + 123_000_000)
        );
        assert_eq!(
            ns(
                "strptime",
                "%d/%b/%Y:%H:%M:%S %z",
                json!("02/Jan/2024:03:04:05 -0000")
            ),
            Ok(T * 1_000_000_000)
        );
        assert_eq!(
            ns("strptime", "%F %T", json!("2024-01-02 03:04:05")),
            Ok(T * 1_000_000_000)
        );
        assert_eq!(
            ns(
                "strptime",
                "%Y-%m-%d %I:%M:%S %p",
                json!("2024-01-02 03:04:05 PM")
            ),
            Ok((T + 12 * 3600) * 1_000_000_000)
        );
        assert!(ns("strptime", "%Y-%m-%d", json!("2024-13-02")).is_err());
        assert!(ns("strptime", "%Y-%m-%d", json!("2024-01-02 extra")).is_err());
        assert!(ns("strptime", "%Q", json!("x")).is_err());
        assert!(ns("strptime", "%Y", json!(5)).is_err());
    }

    #[test]
    fn missing_year_is_this_year() {
        let got = ns("strptime", "%b %e %H:%M:%S", json!("Jan  2 03:04:05")).unwrap();
        let this_year = current_year();
        assert_eq!(
            got,
            (days_from_civil(this_year, 1, 2) * 86_400 + 3 * 3600 + 4 * 60 + 5) * 1_000_000_000
        );
    }

    #[test]
    fn gotime_layouts() {
        let l = "2006-01-02T15:04:05.999999999Z07:00";
        assert_eq!(
            ns("gotime", l, json!("2024-01-02T03:04:05.123456789Z")),
            Ok(T * 1_000_000_000 + 123_456_789)
        );
        assert_eq!(
            ns("gotime", l, json!("2024-01-02T03:04:05.1Z")),
            Ok(T * 1_000_000_000 + 100_000_000)
        );
        assert_eq!(
            ns("gotime", l, json!("2024-01-02T03:04:05+02:00")),
            Ok((T - 7200) * 1_000_000_000)
        );
        assert_eq!(
            ns(
                "gotime",
                "2006-01-02T15:04:05.000Z07:00",
                json!("2024-01-02T03:04:05.123Z")
            ),
            Ok(T * 1_000_000_000 + 123_000_000)
        );
        assert_eq!(
            ns(
                "gotime",
                "Jan _2 15:04:05 2006",
                json!("Jan  2 03:04:05 2024")
            ),
            Ok(T * 1_000_000_000)
        );
        assert_eq!(
            ns(
                "gotime",
                "Mon, 02 Jan 2006 15:04:05 MST",
                json!("Tue, 02 Jan 2024 03:04:05 UTC")
            ),
            Ok(T * 1_000_000_000)
        );
        assert_eq!(
            ns(
                "gotime",
                "2006-01-02 03:04:05PM",
                json!("2024-01-02 03:04:05AM")
            ),
            Ok(T * 1_000_000_000)
        );
        assert!(ns("gotime", "2006-01-02 MST", json!("2024-01-02 CEST")).is_err());
    }

    #[test]
    fn epoch_layouts() {
        assert_eq!(
            ns("epoch", "s", json!("1700000000")),
            Ok(1_700_000_000_000_000_000)
        );
        assert_eq!(
            ns("epoch", "s", json!(1_700_000_000.0)),
            Ok(1_700_000_000_000_000_000)
        );
        assert_eq!(
            ns("epoch", "ms", json!("1700000000123")),
            Ok(1_700_000_000_123_000_000)
        );
        assert_eq!(
            ns("epoch", "s.ms", json!("1700000000.5")),
            Ok(1_700_000_000_005_000_000)
        );
        assert_eq!(
            ns("epoch", "s.ns", json!("1700000000.000000007")),
            Ok(1_700_000_000_000_000_007)
        );
        assert!(ns("epoch", "s", json!("abc")).is_err());
        assert!(ns("epoch", "x", json!("1")).is_err());
    }
}
