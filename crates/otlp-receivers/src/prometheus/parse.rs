//! The exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0 (chosen by the
//! response's Content-Type), parsed into metric families. Every malformed line is an error
//! naming the line; nothing panics.

use std::collections::HashMap;

use thiserror::Error;

/// Which grammar a body follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4` (and anything not OpenMetrics).
    Text,
    /// `application/openmetrics-text`.
    OpenMetrics,
}

impl Format {
    /// The format a Content-Type names (text when it names none we know).
    pub fn from_content_type(content_type: &str) -> Format {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

/// A family's type (`# TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
    /// `gaugehistogram` (OpenMetrics).
    GaugeHistogram,
    /// `summary`.
    Summary,
    /// `untyped` (text) or `unknown` (OpenMetrics), or no `# TYPE`.
    Untyped,
    /// `info` (OpenMetrics).
    Info,
    /// `stateset` (OpenMetrics).
    StateSet,
}

impl FamilyType {
    fn parse(text: &str) -> Option<FamilyType> {
        Some(match text {
            "counter" => FamilyType::Counter,
            "gauge" => FamilyType::Gauge,
            "histogram" => FamilyType::Histogram,
            "gaugehistogram" => FamilyType::GaugeHistogram,
            "summary" => FamilyType::Summary,
            "untyped" | "unknown" => FamilyType::Untyped,
            "info" => FamilyType::Info,
            "stateset" => FamilyType::StateSet,
            _ => return None,
        })
    }

    /// Whether a sample named `family + suffix` belongs to a family of this type.
    pub(crate) fn accepts(self, suffix: &str, format: Format) -> bool {
        match self {
            FamilyType::Counter => match format {
                Format::Text => suffix.is_empty(),
                Format::OpenMetrics => matches!(suffix, "" | "_total" | "_created"),
            },
            FamilyType::Gauge | FamilyType::Untyped | FamilyType::StateSet => suffix.is_empty(),
            FamilyType::Info => match format {
                Format::Text => suffix.is_empty(),
                Format::OpenMetrics => matches!(suffix, "" | "_info"),
            },
            FamilyType::Histogram => {
                matches!(suffix, "_bucket" | "_sum" | "_count" | "_created")
            }
            FamilyType::GaugeHistogram => matches!(suffix, "_bucket" | "_gsum" | "_gcount"),
            FamilyType::Summary => matches!(suffix, "" | "_sum" | "_count" | "_created"),
        }
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name (`http_requests_total`, `latency_bucket`).
    pub name: String,
    /// Its labels, in the order written (unique names).
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// Milliseconds since the Unix epoch, when the line has a timestamp.
    pub timestamp_ms: Option<i64>,
}

/// A metric family: its metadata and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family name (`# TYPE` name, else the sample name).
    pub name: String,
    /// The type.
    pub kind: FamilyType,
    /// `# HELP` text, unescaped.
    pub help: String,
    /// `# UNIT` (OpenMetrics).
    pub unit: String,
    /// The samples, in order.
    pub samples: Vec<Sample>,
}

/// Why a body could not be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    /// The body is not UTF-8.
    #[error("the body is not UTF-8 (at byte {0})")]
    NotUtf8(usize),
    /// A malformed line.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An OpenMetrics body without its final `# EOF`.
    #[error("OpenMetrics body without the final \"# EOF\"")]
    MissingEof,
}

/// The stale marker Prometheus writes into its storage (never expected in an exposition).
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// The suffixes a sample name may add to its family name.
const SUFFIXES: &[&str] = &[
    "_bucket", "_count", "_sum", "_total", "_created", "_info", "_gcount", "_gsum",
];

/// Parses a whole body.
pub fn parse(body: &[u8], format: Format) -> Result<Vec<Family>, ParseError> {
    let text = std::str::from_utf8(body).map_err(|e| ParseError::NotUtf8(e.valid_up_to()))?;
    let mut parser = Parser {
        format,
        families: Vec::new(),
        index: HashMap::new(),
    };
    let mut eof = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if eof {
            if line.is_empty() && format == Format::OpenMetrics {
                continue;
            }
            return Err(ParseError::Line {
                line: line_no,
                reason: "content after \"# EOF\"".into(),
            });
        }
        let err = |reason: String| ParseError::Line {
            line: line_no,
            reason,
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if format == Format::OpenMetrics && comment.trim() == "EOF" {
                eof = true;
                continue;
            }
            parser.comment(comment).map_err(err)?;
            continue;
        }
        parser.sample(line).map_err(err)?;
    }
    if format == Format::OpenMetrics && !eof {
        return Err(ParseError::MissingEof);
    }
    Ok(parser.families)
}

struct Parser {
    format: Format,
    families: Vec<Family>,
    index: HashMap<String, usize>,
}

impl Parser {
    fn family(&mut self, name: &str) -> &mut Family {
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.families.push(Family {
                    name: name.to_string(),
                    kind: FamilyType::Untyped,
                    help: String::new(),
                    unit: String::new(),
                    samples: Vec::new(),
                });
                let i = self.families.len() - 1;
                self.index.insert(name.to_string(), i);
                i
            }
        };
        &mut self.families[i]
    }

    fn comment(&mut self, comment: &str) -> Result<(), String> {
        let trimmed = comment.trim_start_matches([' ', '\t']);
        let (keyword, rest) = match trimmed.split_once([' ', '\t']) {
            Some((k, r)) => (k, r),
            None => (trimmed, ""),
        };
        if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
            if self.format == Format::OpenMetrics {
                return Err(format!("unexpected comment {:?}", truncate(comment)));
            }
            return Ok(()); // A plain comment.
        }
        let rest = rest.trim_start_matches([' ', '\t']);
        let (name, value) = match rest.split_once([' ', '\t']) {
            Some((n, v)) => (n, v),
            None => (rest, ""),
        };
        if !valid_metric_name(name) {
            return Err(format!(
                "invalid metric name {:?} in # {keyword}",
                truncate(name)
            ));
        }
        match keyword {
            "HELP" => {
                let help = unescape_help(value, self.format)?;
                self.family(name).help = help;
            }
            "TYPE" => {
                let kind = FamilyType::parse(value.trim())
                    .ok_or_else(|| format!("unknown type {:?} for {name}", truncate(value)))?;
                if self.format == Format::Text
                    && matches!(
                        kind,
                        FamilyType::GaugeHistogram | FamilyType::Info | FamilyType::StateSet
                    )
                {
                    return Err(format!("type {value:?} exists only in OpenMetrics"));
                }
                let family = self.family(name);
                if !family.samples.is_empty() && family.kind != kind {
                    return Err(format!("# TYPE for {name} after its samples"));
                }
                family.kind = kind;
            }
            _ => {
                let unit = value.trim().to_string();
                if !unit.is_empty() && !name.ends_with(&format!("_{unit}")) {
                    return Err(format!("unit {unit:?} is not a suffix of {name}"));
                }
                self.family(name).unit = unit;
            }
        }
        Ok(())
    }

    /// The family a sample name belongs to.
    fn family_of(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name)
            && self.families[i].kind.accepts("", self.format)
        {
            return i;
        }
        for suffix in SUFFIXES {
            if let Some(base) = name.strip_suffix(suffix)
                && let Some(&i) = self.index.get(base)
                && self.families[i].kind.accepts(suffix, self.format)
            {
                return i;
            }
        }
        // A sample without metadata: its own untyped family. A name taken by a family
        // that does not accept it (`# TYPE x counter` then `x` in OpenMetrics) is an error
        // caught by the caller.
        match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.family(name);
                self.families.len() - 1
            }
        }
    }

    fn sample(&mut self, line: &str) -> Result<(), String> {
        let mut c = Cursor {
            s: line.as_bytes(),
            pos: 0,
        };
        c.skip_ws();
        let name = c
            .metric_name()
            .ok_or_else(|| format!("expected a metric name at {:?}", truncate(c.rest_str(line))))?;
        let mut labels: Vec<(String, String)> = Vec::new();
        let mut spaced = c.skip_ws();
        if c.peek() == Some(b'{') {
            c.pos += 1;
            loop {
                c.skip_ws();
                if c.peek() == Some(b'}') {
                    c.pos += 1;
                    break;
                }
                let label = c
                    .label_name()
                    .ok_or_else(|| format!("expected a label name in {}", truncate(line)))?;
                c.skip_ws();
                if c.peek() != Some(b'=') {
                    return Err(format!("expected '=' after label {label}"));
                }
                c.pos += 1;
                c.skip_ws();
                let value = c.label_value()?;
                if labels.iter().any(|(n, _)| n == label) {
                    return Err(format!("label {label} appears twice"));
                }
                labels.push((label.to_string(), value));
                c.skip_ws();
                match c.peek() {
                    Some(b',') => c.pos += 1,
                    Some(b'}') => {
                        c.pos += 1;
                        break;
                    }
                    _ => return Err(format!("expected ',' or '}}' after label {label}")),
                }
            }
            spaced = c.skip_ws();
        }
        if !spaced {
            return Err(format!("expected a space before the value of {name}"));
        }
        let value_text = c.token();
        let value = parse_value(value_text)
            .ok_or_else(|| format!("invalid value {:?} of {name}", truncate(value_text)))?;
        let had_ws = c.skip_ws();
        let mut timestamp_ms = None;
        if had_ws && !c.at_end() && c.peek() != Some(b'#') {
            let ts = c.token();
            timestamp_ms = Some(match self.format {
                Format::Text => ts
                    .parse::<i64>()
                    .map_err(|_| format!("invalid timestamp {:?} of {name}", truncate(ts)))?,
                Format::OpenMetrics => {
                    let secs = parse_value(ts)
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| format!("invalid timestamp {:?} of {name}", truncate(ts)))?;
                    (secs * 1000.0).round() as i64
                }
            });
            c.skip_ws();
        }
        if !c.at_end() {
            // An OpenMetrics exemplar (` # {labels} value [ts]`) is skipped.
            if !(self.format == Format::OpenMetrics && c.peek() == Some(b'#')) {
                return Err(format!(
                    "unexpected {:?} after the sample of {name}",
                    truncate(c.rest_str(line))
                ));
            }
        }
        if value.to_bits() == STALE_NAN {
            return Ok(());
        }
        let name = name.to_string();
        let i = self.family_of(&name);
        let family = &mut self.families[i];
        let suffix = name.strip_prefix(family.name.as_str()).unwrap_or("");
        if !family.kind.accepts(suffix, self.format) {
            return Err(format!(
                "sample {name} does not fit its family {} ({:?})",
                family.name, family.kind
            ));
        }
        family.samples.push(Sample {
            name,
            labels,
            value,
            timestamp_ms,
        });
        Ok(())
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub(crate) fn valid_metric_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b':')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
}

/// A float as Go's `ParseFloat` reads exposition values (`NaN`, `+Inf`, `-Inf`, exponents).
pub(crate) fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => {
            let b = text.as_bytes();
            // Rust's parser also takes "infinity" spellings; the formats do not.
            let first_digit = b.iter().position(|c| *c != b'+' && *c != b'-')?;
            if !(b[first_digit].is_ascii_digit() || b[first_digit] == b'.') {
                return None;
            }
            text.parse::<f64>().ok()
        }
    }
}

fn unescape_help(text: &str, format: Format) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if format == Format::OpenMetrics => out.push('"'),
            // The text format keeps unknown escapes as written.
            Some(other) if format == Format::Text => {
                out.push('\\');
                out.push(other);
            }
            Some(other) => return Err(format!("invalid escape \\{other} in # HELP")),
            None => out.push('\\'),
        }
    }
    Ok(out)
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn rest_str<'l>(&self, line: &'l str) -> &'l str {
        line.get(self.pos..).unwrap_or("")
    }

    /// Skips spaces and tabs; whether there were any.
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b' ' || c == b'\t' {
                break;
            }
            self.pos += 1;
        }
        // Split at ASCII bytes of a valid UTF-8 line: always a char boundary.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }

    fn metric_name(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let ok = c.is_ascii_alphabetic()
                || c == b'_'
                || c == b':'
                || (self.pos > start && c.is_ascii_digit());
            if !ok {
                break;
            }
            self.pos += 1;
        }
        (self.pos > start).then(|| std::str::from_utf8(&self.s[start..self.pos]).unwrap_or(""))
    }

    fn label_name(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let ok =
                c.is_ascii_alphabetic() || c == b'_' || (self.pos > start && c.is_ascii_digit());
            if !ok {
                break;
            }
            self.pos += 1;
        }
        (self.pos > start).then(|| std::str::from_utf8(&self.s[start..self.pos]).unwrap_or(""))
    }

    fn label_value(&mut self) -> Result<String, String> {
        if self.peek() != Some(b'"') {
            return Err("expected '\"' to open a label value".into());
        }
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            match self.peek() {
                None => return Err("unterminated label value".into()),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'\\') => out.push(b'\\'),
                        Some(b'"') => out.push(b'"'),
                        Some(b'n') => out.push(b'\n'),
                        Some(other) => {
                            return Err(format!(
                                "invalid escape \\{} in a label value",
                                char::from(other)
                            ));
                        }
                        None => return Err("unterminated label value".into()),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        // Bytes of a valid UTF-8 line, split only at ASCII quotes and backslashes.
        String::from_utf8(out).map_err(|_| "a label value is not UTF-8".to_string())
    }
}
