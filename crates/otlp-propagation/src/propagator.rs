//! The [`TextMapPropagator`] trait, the composite [`Propagators`] and `OTEL_PROPAGATORS`.

use core::fmt;
use core::str::FromStr;

use crate::b3::{B3Encoding, B3Propagator};
use crate::baggage::BaggagePropagator;
use crate::carrier::{Extractor, Injector};
use crate::context::Context;
use crate::jaeger::JaegerPropagator;
use crate::trace_context::TraceContextPropagator;

/// The environment variable that names the propagators, as in the OpenTelemetry SDKs.
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";

/// The value used when [`OTEL_PROPAGATORS`] is unset or empty.
pub const DEFAULT_PROPAGATORS: &str = "tracecontext,baggage";

/// Reads and writes one propagation format on a carrier of text fields.
///
/// Object safe, so propagators can be chosen at run time (`Box<dyn TextMapPropagator>`) and
/// combined in [`Propagators`].
///
/// The extract contract is "fill in what is missing": [`extract_into`](Self::extract_into)
/// sets the span context only when `cx` has none, a sampling decision only when `cx` has none,
/// and adds baggage members only for keys `cx` lacks. That makes a list of propagators take
/// the first valid span context and merge baggage with the earlier propagator winning.
/// Invalid input is never an error: it is treated as absent.
pub trait TextMapPropagator: Send + Sync + fmt::Debug {
    /// The fixed field names this propagator reads and writes, lower case. Prefixed fields
    /// (Jaeger's `uberctx-{key}`) are not listed.
    fn fields(&self) -> &[&'static str];

    /// Adds what this propagator finds in `extractor` to `cx`, without replacing what `cx`
    /// already holds.
    fn extract_into(&self, extractor: &dyn Extractor, cx: &mut Context);

    /// Writes `cx` in this propagator's format. Writes nothing it has nothing for.
    fn inject(&self, cx: &Context, injector: &mut dyn Injector);

    /// Extracts into a new, empty [`Context`].
    fn extract(&self, extractor: &dyn Extractor) -> Context {
        let mut cx = Context::new();
        self.extract_into(extractor, &mut cx);
        cx
    }
}

/// The propagators this crate provides, by their `OTEL_PROPAGATORS` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PropagatorKind {
    /// `tracecontext`: [`TraceContextPropagator`].
    TraceContext,
    /// `baggage`: [`BaggagePropagator`].
    Baggage,
    /// `b3`: [`B3Propagator`] injecting the single `b3` header.
    B3,
    /// `b3multi`: [`B3Propagator`] injecting the `X-B3-*` headers.
    B3Multi,
    /// `jaeger`: [`JaegerPropagator`].
    Jaeger,
}

impl PropagatorKind {
    /// Every kind, in the order of their names in [`VALID_NAMES`](Self::VALID_NAMES).
    pub const ALL: [Self; 5] = [
        Self::TraceContext,
        Self::Baggage,
        Self::B3,
        Self::B3Multi,
        Self::Jaeger,
    ];

    /// The names [`Propagators::from_names`] accepts, for error messages.
    pub const VALID_NAMES: &'static str = "tracecontext, baggage, b3, b3multi, jaeger, none";

    /// The `OTEL_PROPAGATORS` name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::TraceContext => "tracecontext",
            Self::Baggage => "baggage",
            Self::B3 => "b3",
            Self::B3Multi => "b3multi",
            Self::Jaeger => "jaeger",
        }
    }

    /// A new propagator of this kind.
    #[must_use]
    pub fn build(self) -> Box<dyn TextMapPropagator> {
        match self {
            Self::TraceContext => Box::new(TraceContextPropagator::new()),
            Self::Baggage => Box::new(BaggagePropagator::new()),
            Self::B3 => Box::new(B3Propagator::new(B3Encoding::Single)),
            Self::B3Multi => Box::new(B3Propagator::new(B3Encoding::Multi)),
            Self::Jaeger => Box::new(JaegerPropagator::new()),
        }
    }
}

impl fmt::Display for PropagatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PropagatorKind {
    type Err = PropagatorsError;

    /// Case-insensitive, surrounding whitespace ignored. `none` is not a kind (see
    /// [`Propagators::from_names`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| PropagatorsError::Unknown {
                name: name.chars().take(64).collect(),
            })
    }
}

/// Error returned for a propagator list that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PropagatorsError {
    /// A name is not one this crate provides.
    #[error(
        "unknown propagator {name:?}; valid names are: {}",
        PropagatorKind::VALID_NAMES
    )]
    Unknown {
        /// The unknown name (at most 64 characters of it).
        name: String,
    },
    /// `none` was listed together with other propagators.
    #[error("propagator \"none\" cannot be combined with other propagators")]
    NoneWithOthers,
    /// The environment variable is set but is not valid Unicode.
    #[error("{OTEL_PROPAGATORS} is not valid Unicode")]
    NotUnicode,
}

/// A composite propagator: a list of propagators used together.
///
/// Extract asks each in order ([`TextMapPropagator::extract_into`]), so the first valid span
/// context wins and baggage merges with earlier propagators winning; inject lets every one
/// write. An empty list (`none`) extracts nothing and injects nothing.
///
/// ```
/// use otlp_propagation::{Propagators, TextMapPropagator};
/// use std::collections::HashMap;
///
/// let propagators: Propagators = "tracecontext,baggage,b3multi".parse()?;
/// let incoming = HashMap::from([
///     ("X-B3-TraceId".to_owned(), "463ac35c9f6413ad48485a3953bb6124".to_owned()),
///     ("X-B3-SpanId".to_owned(), "a2fb4a1d1a96d312".to_owned()),
///     ("X-B3-Sampled".to_owned(), "1".to_owned()),
///     ("baggage".to_owned(), "user=alice".to_owned()),
/// ]);
/// let cx = propagators.extract(&incoming).child();
///
/// let mut outgoing = HashMap::new();
/// propagators.inject(&cx, &mut outgoing);
/// assert!(outgoing["traceparent"].starts_with("00-463ac35c9f6413ad48485a3953bb6124-"));
/// assert_eq!(outgoing["x-b3-traceid"], "463ac35c9f6413ad48485a3953bb6124");
/// assert_eq!(outgoing["baggage"], "user=alice");
///
/// assert!("tracecontext,xray".parse::<Propagators>().is_err());
/// # Ok::<(), otlp_propagation::PropagatorsError>(())
/// ```
#[derive(Debug, Default)]
pub struct Propagators {
    propagators: Vec<Box<dyn TextMapPropagator>>,
    fields: Vec<&'static str>,
}

impl Propagators {
    /// An empty list: what `OTEL_PROPAGATORS=none` means.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// The OpenTelemetry default, `tracecontext,baggage`.
    #[must_use]
    pub fn w3c() -> Self {
        Self::none()
            .with(TraceContextPropagator::new())
            .with(BaggagePropagator::new())
    }

    /// Builds the list from `OTEL_PROPAGATORS` syntax: names separated by commas,
    /// case-insensitive, whitespace and empty items ignored, a repeated name used once. A value
    /// with no names (empty, blank or only commas) means [`DEFAULT_PROPAGATORS`]; `none` alone means no propagator.
    ///
    /// # Errors
    ///
    /// [`PropagatorsError::Unknown`] for a name that is not one of
    /// [`PropagatorKind::VALID_NAMES`], [`PropagatorsError::NoneWithOthers`] when `none` is
    /// listed with anything else.
    pub fn from_names(names: &str) -> Result<Self, PropagatorsError> {
        let is_blank = names.split(',').all(|n| n.trim().is_empty());
        let names = if is_blank { DEFAULT_PROPAGATORS } else { names };
        let mut kinds: Vec<PropagatorKind> = Vec::new();
        let mut saw_none = false;
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("none") {
                saw_none = true;
                continue;
            }
            let kind: PropagatorKind = name.parse()?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if saw_none && !kinds.is_empty() {
            return Err(PropagatorsError::NoneWithOthers);
        }
        Ok(kinds
            .into_iter()
            .fold(Self::none(), |list, kind| list.with_boxed(kind.build())))
    }

    /// Builds the list from the value of [`OTEL_PROPAGATORS`] (`None` when unset).
    ///
    /// # Errors
    ///
    /// As for [`from_names`](Self::from_names).
    pub fn from_env_value(value: Option<&str>) -> Result<Self, PropagatorsError> {
        Self::from_names(value.unwrap_or(DEFAULT_PROPAGATORS))
    }

    /// Builds the list from the [`OTEL_PROPAGATORS`] environment variable, defaulting to
    /// [`DEFAULT_PROPAGATORS`].
    ///
    /// # Errors
    ///
    /// As for [`from_names`](Self::from_names), and [`PropagatorsError::NotUnicode`].
    pub fn from_env() -> Result<Self, PropagatorsError> {
        match std::env::var(OTEL_PROPAGATORS) {
            Ok(value) => Self::from_env_value(Some(&value)),
            Err(std::env::VarError::NotPresent) => Self::from_env_value(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(PropagatorsError::NotUnicode),
        }
    }

    /// Appends a propagator (builder form).
    #[must_use]
    pub fn with<P: TextMapPropagator + 'static>(self, propagator: P) -> Self {
        self.with_boxed(Box::new(propagator))
    }

    /// Appends a boxed propagator (builder form).
    #[must_use]
    pub fn with_boxed(mut self, propagator: Box<dyn TextMapPropagator>) -> Self {
        self.push(propagator);
        self
    }

    /// Appends a boxed propagator.
    pub fn push(&mut self, propagator: Box<dyn TextMapPropagator>) {
        for field in propagator.fields() {
            if !self.fields.contains(field) {
                self.fields.push(field);
            }
        }
        self.propagators.push(propagator);
    }

    /// The number of propagators.
    #[must_use]
    pub fn len(&self) -> usize {
        self.propagators.len()
    }

    /// `true` for the empty list (`none`).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.propagators.is_empty()
    }

    /// The propagators, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &dyn TextMapPropagator> + '_ {
        self.propagators.iter().map(|p| &**p)
    }
}

impl FromStr for Propagators {
    type Err = PropagatorsError;

    /// [`Propagators::from_names`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_names(s)
    }
}

impl TextMapPropagator for Propagators {
    /// The union of the members' fields, in order of first appearance.
    fn fields(&self) -> &[&'static str] {
        &self.fields
    }

    fn extract_into(&self, extractor: &dyn Extractor, cx: &mut Context) {
        for propagator in &self.propagators {
            propagator.extract_into(extractor, cx);
        }
    }

    fn inject(&self, cx: &Context, injector: &mut dyn Injector) {
        for propagator in &self.propagators {
            propagator.inject(cx, injector);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn names(p: &Propagators) -> Vec<&'static str> {
        p.fields().to_vec()
    }

    #[test]
    fn parses_otel_propagators() {
        let p = Propagators::from_names("tracecontext,baggage,b3,b3multi,jaeger").unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(
            names(&p),
            [
                "traceparent",
                "tracestate",
                "baggage",
                "b3",
                "x-b3-traceid",
                "x-b3-spanid",
                "x-b3-parentspanid",
                "x-b3-sampled",
                "x-b3-flags",
                "uber-trace-id"
            ]
        );
        let p = Propagators::from_names(" TraceContext , ,BAGGAGE,tracecontext,").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(Propagators::from_names("").unwrap().len(), 2);
        assert_eq!(Propagators::from_env_value(None).unwrap().len(), 2);
        assert_eq!(Propagators::from_env_value(Some("b3")).unwrap().len(), 1);
        assert!(Propagators::from_names("none").unwrap().is_empty());
        assert!(Propagators::from_names(" None ,").unwrap().is_empty());
        assert_eq!(Propagators::w3c().len(), 2);
        assert_eq!(Propagators::default().len(), 0);
        assert_eq!(Propagators::none().iter().count(), 0);
    }

    #[test]
    fn errors_list_valid_names() {
        let err = Propagators::from_names("tracecontext,xray").unwrap_err();
        assert_eq!(
            err,
            PropagatorsError::Unknown {
                name: "xray".into()
            }
        );
        let message = err.to_string();
        assert!(message.contains("\"xray\""), "{message}");
        for kind in PropagatorKind::ALL {
            assert!(message.contains(kind.name()), "{message}");
        }
        assert!(message.contains("none"));
        assert_eq!(
            Propagators::from_names("none,b3").unwrap_err(),
            PropagatorsError::NoneWithOthers
        );
        assert!("ottrace".parse::<Propagators>().is_err());
        assert!(
            PropagatorsError::NotUnicode
                .to_string()
                .contains(OTEL_PROPAGATORS)
        );
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in PropagatorKind::ALL {
            assert_eq!(kind.name().parse::<PropagatorKind>(), Ok(kind));
            assert_eq!(
                kind.to_string().to_uppercase().parse::<PropagatorKind>(),
                Ok(kind)
            );
            assert!(!kind.build().fields().is_empty());
        }
    }

    #[test]
    fn first_valid_span_context_wins() {
        let carrier = HashMap::from([
            // Invalid traceparent: ignored, so B3 supplies the context.
            (
                "traceparent".to_owned(),
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01".to_owned(),
            ),
            (
                "b3".to_owned(),
                "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".to_owned(),
            ),
            ("uber-trace-id".to_owned(), "1:2:0:1".to_owned()),
        ]);
        let p: Propagators = "tracecontext,b3,jaeger".parse().unwrap();
        let cx = p.extract(&carrier);
        assert_eq!(
            cx.span_context().unwrap().trace_id().to_string(),
            "80f198ee56343ba864fe8b2a57d3eff7"
        );
        let p: Propagators = "jaeger,b3".parse().unwrap();
        let cx = p.extract(&carrier);
        assert_eq!(cx.span_context().unwrap().trace_id().to_u128(), 1);
        assert!(
            Propagators::none()
                .extract(&carrier)
                .span_context()
                .is_none()
        );
    }

    #[test]
    fn baggage_merges_with_the_first_winning() {
        let carrier = HashMap::from([
            ("baggage".to_owned(), "user=alice,tenant=acme".to_owned()),
            ("uberctx-user".to_owned(), "bob".to_owned()),
            ("uberctx-region".to_owned(), "eu".to_owned()),
        ]);
        let cx = Propagators::from_names("baggage,jaeger")
            .unwrap()
            .extract(&carrier);
        assert_eq!(cx.baggage().get("user"), Some("alice"));
        assert_eq!(cx.baggage().get("region"), Some("eu"));
        assert_eq!(cx.baggage().len(), 3);
        let cx = Propagators::from_names("jaeger,baggage")
            .unwrap()
            .extract(&carrier);
        assert_eq!(cx.baggage().get("user"), Some("bob"));
    }

    #[test]
    fn inject_writes_all() {
        let carrier = HashMap::from([(
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        )]);
        let p = Propagators::from_names("tracecontext,baggage,b3,b3multi,jaeger").unwrap();
        let mut cx = p.extract(&carrier);
        cx.baggage_mut().insert("k", "v").unwrap();
        let mut out: HashMap<String, String> = HashMap::new();
        p.inject(&cx, &mut out);
        let mut keys: Vec<&str> = out.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "b3",
                "baggage",
                "traceparent",
                "uber-trace-id",
                "uberctx-k",
                "x-b3-sampled",
                "x-b3-spanid",
                "x-b3-traceid"
            ]
        );
        let mut out: HashMap<String, String> = HashMap::new();
        Propagators::none().inject(&cx, &mut out);
        assert!(out.is_empty());
    }
}
