//! otelcol's legacy `include` / `exclude` match properties (`internal/filter/filterconfig`,
//! `filterset`, `filtermatcher`, `filterspan`, `filterlog`), compiled once.

use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use otlp_proto::logs::v1::LogRecord;
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::Span;
use regex::Regex;
use serde::{Deserialize, Deserializer};

use super::{ConfigError, Signal};
use otlp_ottl::parse_severity;
use otlp_ottl::value::{ConfigValue, as_str_cow, describe, format_float};

/// How strings are compared (`match_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchType {
    /// Exact equality.
    Strict,
    /// Go-style (RE2) regular expression, matching anywhere in the string unless anchored.
    Regexp,
}

/// `regexp:` options of a match (the otelcol match cache). Accepted and ignored: compiled
/// regular expressions here need no result cache.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexpConfig {
    /// `cacheenabled`.
    #[serde(default)]
    pub cacheenabled: bool,
    /// `cachemaxnumentries`.
    #[serde(default)]
    pub cachemaxnumentries: i64,
}

/// One `attributes` / `resources` entry: a key, and optionally the value it must have.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMatch {
    /// The attribute key (`key`).
    #[serde(default)]
    pub key: String,
    /// The value to compare with (`value`); absent means "the key exists".
    #[serde(default)]
    pub value: Option<ConfigValue>,
}

/// One `libraries` entry: the instrumentation scope name and optional version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryMatch {
    /// Scope name (`name`).
    #[serde(default)]
    pub name: String,
    /// Scope version (`version`); absent matches any version.
    #[serde(default)]
    pub version: Option<String>,
}

/// `log_severity_number` / `severity_number`: the minimum severity a log record needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityNumberMatch {
    /// `min`: a short name (`INFO`, `warn2`, any case) or a number 1-24.
    #[serde(default, deserialize_with = "severity_text")]
    pub min: String,
    /// `match_undefined`: whether records with severity number 0 match.
    #[serde(default)]
    pub match_undefined: bool,
}

fn severity_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let ConfigValue(v) = ConfigValue::deserialize(d)?;
    Ok(otlp_ottl::value::as_string(Some(&v)))
}

/// otelcol's `MatchProperties`: the keys of an `include` or `exclude` block. Which keys apply
/// depends on the signal (see the README).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchProperties {
    /// `match_type`: `strict` or `regexp` (required).
    #[serde(default)]
    pub match_type: Option<MatchType>,
    /// `regexp`: cache options (ignored).
    #[serde(default)]
    pub regexp: Option<RegexpConfig>,
    /// `services`: the resource's `service.name` must match one (spans).
    #[serde(default)]
    pub services: Vec<String>,
    /// `span_names`: the span name must match one.
    #[serde(default)]
    pub span_names: Vec<String>,
    /// `span_kinds`: `SPAN_KIND_SERVER`, ...; the span kind must match one.
    #[serde(default)]
    pub span_kinds: Vec<String>,
    /// `log_bodies`: the body (as a string) must match one.
    #[serde(default)]
    pub log_bodies: Vec<String>,
    /// `log_severity_texts`: the severity text must match one.
    #[serde(default)]
    pub log_severity_texts: Vec<String>,
    /// `log_severity_number`: minimum severity.
    #[serde(default)]
    pub log_severity_number: Option<SeverityNumberMatch>,
    /// `metric_names`: the metric name must match one.
    #[serde(default)]
    pub metric_names: Vec<String>,
    /// `attributes`: every entry must match the item's attributes.
    #[serde(default)]
    pub attributes: Vec<AttributeMatch>,
    /// `resources`: every entry must match the resource's attributes.
    #[serde(default)]
    pub resources: Vec<AttributeMatch>,
    /// `libraries`: every entry must match the instrumentation scope.
    #[serde(default)]
    pub libraries: Vec<LibraryMatch>,
}

/// A compiled set of strings to match against: any one matching is a match.
#[derive(Debug, Clone)]
pub(crate) enum StringSet {
    Strict(Vec<String>),
    Regexp(Vec<Regex>),
}

impl StringSet {
    pub(crate) fn compile(
        processor: &'static str,
        field: &str,
        match_type: MatchType,
        items: &[String],
    ) -> Result<Self, ConfigError> {
        Ok(match match_type {
            MatchType::Strict => Self::Strict(items.to_vec()),
            MatchType::Regexp => Self::Regexp(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        Regex::new(p).map_err(|e| {
                            ConfigError::invalid(
                                processor,
                                format!("{field}[{i}]"),
                                p,
                                format!("invalid regular expression: {e}"),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    pub(crate) fn matches(&self, s: &str) -> bool {
        match self {
            Self::Strict(items) => items.iter().any(|i| i == s),
            Self::Regexp(res) => res.iter().any(|r| r.is_match(s)),
        }
    }
}

#[derive(Debug, Clone)]
enum AttrCheck {
    Exists,
    Equals(AnyValue),
    Regexp(Regex),
}

/// One compiled attribute condition.
#[derive(Debug, Clone)]
pub(crate) struct AttrMatcher {
    key: String,
    check: AttrCheck,
}

/// Compiles `attributes` / `resources` / `record_attributes` entries.
pub(crate) fn compile_attributes(
    processor: &'static str,
    field: &str,
    match_type: MatchType,
    entries: &[AttributeMatch],
) -> Result<Vec<AttrMatcher>, ConfigError> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if e.key.is_empty() {
                return Err(ConfigError::missing(
                    processor,
                    format!("{field}[{i}].key"),
                    "attribute matches need a key",
                ));
            }
            let check = match (&e.value, match_type) {
                (None, _) => AttrCheck::Exists,
                (Some(ConfigValue(v)), _) if v.value.is_none() => AttrCheck::Exists,
                (Some(ConfigValue(v)), MatchType::Strict) => AttrCheck::Equals(v.clone()),
                (Some(ConfigValue(v)), MatchType::Regexp) => match &v.value {
                    Some(Value::StringValue(p)) => {
                        AttrCheck::Regexp(Regex::new(p).map_err(|err| {
                            ConfigError::invalid(
                                processor,
                                format!("{field}[{i}].value"),
                                p,
                                format!("invalid regular expression: {err}"),
                            )
                        })?)
                    }
                    _ => {
                        return Err(ConfigError::invalid(
                            processor,
                            format!("{field}[{i}].value"),
                            describe(v),
                            "match_type=regexp only supports string values",
                        ));
                    }
                },
            };
            Ok(AttrMatcher {
                key: e.key.clone(),
                check,
            })
        })
        .collect()
}

/// otelcol's `AttributesMatcher.Match`: every matcher must match; an empty list matches
/// everything, and a non-empty list never matches an empty attribute list.
pub(crate) fn attributes_match(matchers: &[AttrMatcher], attrs: &[KeyValue]) -> bool {
    if matchers.is_empty() {
        return true;
    }
    if attrs.is_empty() {
        return false;
    }
    matchers.iter().all(|m| {
        let Some(kv) = attrs.iter().find(|kv| kv.key == m.key) else {
            return false;
        };
        match &m.check {
            AttrCheck::Exists => true,
            AttrCheck::Equals(want) => values_equal(want, kv.value.as_ref()),
            AttrCheck::Regexp(r) => match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => r.is_match(s),
                Some(Value::BoolValue(b)) => r.is_match(if *b { "true" } else { "false" }),
                Some(Value::IntValue(i)) => r.is_match(&i.to_string()),
                Some(Value::DoubleValue(d)) => {
                    let mut s = String::new();
                    format_float(*d, &mut s);
                    r.is_match(&s)
                }
                _ => false,
            },
        }
    })
}

fn values_equal(want: &AnyValue, got: Option<&AnyValue>) -> bool {
    match (want.value.as_ref(), got.and_then(|g| g.value.as_ref())) {
        (Some(Value::DoubleValue(a)), Some(Value::DoubleValue(b))) => a == b,
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The otelcol name of a span kind (`traceutil.SpanKindStr`).
pub(crate) fn span_kind_str(kind: i32) -> &'static str {
    match kind {
        1 => "SPAN_KIND_INTERNAL",
        2 => "SPAN_KIND_SERVER",
        3 => "SPAN_KIND_CLIENT",
        4 => "SPAN_KIND_PRODUCER",
        5 => "SPAN_KIND_CONSUMER",
        _ => "SPAN_KIND_UNSPECIFIED",
    }
}

/// The value of `service.name` as otelcol's span matcher sees it.
fn service_name(resource: Option<&Resource>) -> std::borrow::Cow<'_, str> {
    resource
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .map_or(std::borrow::Cow::Borrowed("<nil-service-name>"), |kv| {
            as_str_cow(kv.value.as_ref())
        })
}

/// One compiled `include` or `exclude` block.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    services: Option<StringSet>,
    span_names: Option<StringSet>,
    span_kinds: Option<StringSet>,
    log_bodies: Option<StringSet>,
    log_severity_texts: Option<StringSet>,
    severity: Option<(i32, bool)>,
    metric_names: StringSet,
    libraries: Vec<(StringSet, Option<StringSet>)>,
    attributes: Vec<AttrMatcher>,
    resources: Vec<AttrMatcher>,
    /// Signal-specific problems found while compiling, reported by `validate_for`.
    invalid_for: Vec<(Signal, String)>,
}

fn non_empty(
    processor: &'static str,
    field: &str,
    mt: MatchType,
    items: &[String],
) -> Result<Option<StringSet>, ConfigError> {
    if items.is_empty() {
        Ok(None)
    } else {
        StringSet::compile(processor, field, mt, items).map(Some)
    }
}

impl Matcher {
    pub(crate) fn compile(
        processor: &'static str,
        field: &str,
        mp: &MatchProperties,
    ) -> Result<Self, ConfigError> {
        let mt = mp.match_type.ok_or_else(|| {
            ConfigError::missing(
                processor,
                format!("{field}.match_type"),
                "one of strict, regexp",
            )
        })?;
        let f = |name: &str| format!("{field}.{name}");
        let severity = match &mp.log_severity_number {
            None => None,
            Some(s) if s.min.is_empty() => Some((0, s.match_undefined)),
            Some(s) => Some((
                parse_severity(&s.min).ok_or_else(|| {
                    ConfigError::invalid(
                        processor,
                        f("log_severity_number.min"),
                        &s.min,
                        "not a valid severity (TRACE..FATAL4 or 1..24)",
                    )
                })?,
                s.match_undefined,
            )),
        };
        let mut libraries = Vec::with_capacity(mp.libraries.len());
        for (i, lib) in mp.libraries.iter().enumerate() {
            let name = StringSet::compile(
                processor,
                &f(&format!("libraries[{i}].name")),
                mt,
                core::slice::from_ref(&lib.name),
            )?;
            let version = match &lib.version {
                Some(v) => Some(StringSet::compile(
                    processor,
                    &f(&format!("libraries[{i}].version")),
                    mt,
                    core::slice::from_ref(v),
                )?),
                None => None,
            };
            libraries.push((name, version));
        }

        let mut invalid_for = Vec::new();
        for (key, set) in [
            ("log_bodies", !mp.log_bodies.is_empty()),
            ("log_severity_texts", !mp.log_severity_texts.is_empty()),
            ("log_severity_number", mp.log_severity_number.is_some()),
        ] {
            if set {
                invalid_for.push((
                    Signal::Traces,
                    format!("`{field}.{key}` should not be specified for trace spans"),
                ));
            }
        }
        if mp.services.is_empty()
            && mp.span_names.is_empty()
            && mp.attributes.is_empty()
            && mp.libraries.is_empty()
            && mp.resources.is_empty()
            && mp.span_kinds.is_empty()
        {
            invalid_for.push((Signal::Traces, format!("`{field}`: at least one of \"attributes\", \"libraries\", or \"resources\" field must be specified")));
        }
        if mt == MatchType::Strict {
            for kind in &mp.span_kinds {
                if !matches!(
                    kind.as_str(),
                    "SPAN_KIND_INTERNAL"
                        | "SPAN_KIND_SERVER"
                        | "SPAN_KIND_CLIENT"
                        | "SPAN_KIND_PRODUCER"
                        | "SPAN_KIND_CONSUMER"
                ) {
                    return Err(ConfigError::invalid(
                        processor,
                        f("span_kinds"),
                        kind,
                        "must be one of the standard span kinds when match_type=strict",
                    ));
                }
            }
        }
        if !mp.span_names.is_empty() || !mp.services.is_empty() || !mp.span_kinds.is_empty() {
            invalid_for.push((
                Signal::Logs,
                format!(
                    "`{field}`: services, span_names, and span_kinds are not valid for log records"
                ),
            ));
        }
        if mp.attributes.is_empty()
            && mp.libraries.is_empty()
            && mp.resources.is_empty()
            && mp.log_bodies.is_empty()
            && mp.log_severity_texts.is_empty()
            && mp.log_severity_number.is_none()
        {
            invalid_for.push((Signal::Logs, format!("`{field}`: at least one of \"attributes\", \"libraries\", \"resources\", \"log_bodies\", \"log_severity_texts\" or \"log_severity_number\" field must be specified")));
        }

        Ok(Self {
            services: non_empty(processor, &f("services"), mt, &mp.services)?,
            span_names: non_empty(processor, &f("span_names"), mt, &mp.span_names)?,
            span_kinds: non_empty(processor, &f("span_kinds"), mt, &mp.span_kinds)?,
            log_bodies: non_empty(processor, &f("log_bodies"), mt, &mp.log_bodies)?,
            log_severity_texts: non_empty(
                processor,
                &f("log_severity_texts"),
                mt,
                &mp.log_severity_texts,
            )?,
            severity,
            metric_names: StringSet::compile(processor, &f("metric_names"), mt, &mp.metric_names)?,
            libraries,
            attributes: compile_attributes(processor, &f("attributes"), mt, &mp.attributes)?,
            resources: compile_attributes(processor, &f("resources"), mt, &mp.resources)?,
            invalid_for,
        })
    }

    fn common(
        &self,
        attrs: &[KeyValue],
        resource: Option<&Resource>,
        scope: Option<&InstrumentationScope>,
    ) -> bool {
        for (name, version) in &self.libraries {
            if !name.matches(scope.map_or("", |s| s.name.as_str())) {
                return false;
            }
            if let Some(v) = version
                && !v.matches(scope.map_or("", |s| s.version.as_str()))
            {
                return false;
            }
        }
        if !self.resources.is_empty()
            && !attributes_match(&self.resources, resource.map_or(&[], |r| &r.attributes))
        {
            return false;
        }
        attributes_match(&self.attributes, attrs)
    }

    pub(crate) fn matches_span(
        &self,
        span: &Span,
        resource: Option<&Resource>,
        scope: Option<&InstrumentationScope>,
    ) -> bool {
        if let Some(s) = &self.services
            && !s.matches(&service_name(resource))
        {
            return false;
        }
        if let Some(s) = &self.span_names
            && !s.matches(&span.name)
        {
            return false;
        }
        if let Some(s) = &self.span_kinds
            && !s.matches(span_kind_str(span.kind))
        {
            return false;
        }
        self.common(&span.attributes, resource, scope)
    }

    pub(crate) fn matches_log(
        &self,
        log: &LogRecord,
        resource: Option<&Resource>,
        scope: Option<&InstrumentationScope>,
    ) -> bool {
        if let Some(s) = &self.log_bodies
            && !s.matches(&as_str_cow(log.body.as_ref()))
        {
            return false;
        }
        if let Some(s) = &self.log_severity_texts
            && !s.matches(&log.severity_text)
        {
            return false;
        }
        if let Some((min, undefined)) = self.severity {
            let matched = if log.severity_number == 0 {
                undefined
            } else {
                log.severity_number >= min
            };
            if !matched {
                return false;
            }
        }
        self.common(&log.attributes, resource, scope)
    }

    /// Metrics match on `metric_names` only, as in otelcol's attributes processor (its
    /// `filtermetric` matcher ignores the other properties); no names match nothing.
    pub(crate) fn matches_metric_name(&self, name: &str) -> bool {
        self.metric_names.matches(name)
    }
}

/// A compiled `include` / `exclude` pair.
#[derive(Debug, Clone, Default)]
pub(crate) struct MatchConfig {
    include: Option<Matcher>,
    exclude: Option<Matcher>,
}

impl MatchConfig {
    pub(crate) fn compile(
        processor: &'static str,
        include: Option<&MatchProperties>,
        exclude: Option<&MatchProperties>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            include: include
                .map(|m| Matcher::compile(processor, "include", m))
                .transpose()?,
            exclude: exclude
                .map(|m| Matcher::compile(processor, "exclude", m))
                .transpose()?,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }

    /// The first signal-specific problem of these blocks for `signal`, if any.
    pub(crate) fn problem_for(&self, signal: Signal) -> Option<&str> {
        [&self.include, &self.exclude]
            .into_iter()
            .flatten()
            .flat_map(|m| m.invalid_for.iter())
            .find(|(s, _)| *s == signal)
            .map(|(_, why)| why.as_str())
    }

    fn skip(&self, matches: impl Fn(&Matcher) -> bool) -> bool {
        if let Some(inc) = &self.include
            && !matches(inc)
        {
            return true;
        }
        self.exclude.as_ref().is_some_and(matches)
    }

    pub(crate) fn skip_span(
        &self,
        span: &Span,
        resource: Option<&Resource>,
        scope: Option<&InstrumentationScope>,
    ) -> bool {
        self.skip(|m| m.matches_span(span, resource, scope))
    }

    pub(crate) fn skip_log(
        &self,
        log: &LogRecord,
        resource: Option<&Resource>,
        scope: Option<&InstrumentationScope>,
    ) -> bool {
        self.skip(|m| m.matches_log(log, resource, scope))
    }

    pub(crate) fn skip_metric(&self, name: &str) -> bool {
        self.skip(|m| m.matches_metric_name(name))
    }
}
