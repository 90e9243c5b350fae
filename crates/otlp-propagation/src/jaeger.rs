//! Jaeger: the `uber-trace-id` header, `uberctx-{key}` baggage and [`JaegerPropagator`].

use core::fmt;

use otlp_model::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

use crate::baggage::{Baggage, is_token};
use crate::carrier::{Extractor, Injector};
use crate::context::{Context, SamplingState};
use crate::percent;
use crate::propagator::TextMapPropagator;

/// The trace header: `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}`.
pub const JAEGER_HEADER: &str = "uber-trace-id";
/// The prefix of baggage headers: `uberctx-{key}: {url-encoded value}`.
pub const JAEGER_BAGGAGE_PREFIX: &str = "uberctx-";

/// Jaeger flag: sampled.
const FLAG_SAMPLED: u8 = 0x01;
/// Jaeger flag: debug (only meaningful with sampled).
const FLAG_DEBUG: u8 = 0x02;

/// Why an `uber-trace-id` value was rejected. A propagator treats every one as "absent".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JaegerError {
    /// The value does not have four `:`-separated fields (after URL-decoding).
    #[error("uber-trace-id must have four ':'-separated fields")]
    WrongFieldCount,
    /// The trace id is not 1 to 32 hex digits, or is zero.
    #[error("invalid uber-trace-id trace id")]
    InvalidTraceId,
    /// The span id is not 1 to 16 hex digits, or is zero.
    #[error("invalid uber-trace-id span id")]
    InvalidSpanId,
    /// The parent span id is not 1 to 16 hex digits (`0` means none).
    #[error("invalid uber-trace-id parent span id")]
    InvalidParentSpanId,
    /// The flags are not 1 or 2 hex digits.
    #[error("invalid uber-trace-id flags")]
    InvalidFlags,
}

/// A parsed `uber-trace-id`.
///
/// ```
/// use otlp_propagation::UberTraceId;
///
/// // Short ids are left-padded; a URL-encoded value is accepted.
/// let id = UberTraceId::parse("4d2%3A17c29%3A0%3A3")?;
/// assert_eq!(id.trace_id().to_u128(), 0x4d2);
/// assert_eq!(id.span_id().to_u64(), 0x17c29);
/// assert!(id.is_sampled() && id.is_debug());
/// assert_eq!(id.to_string(), "00000000000004d2:0000000000017c29:0:3");
/// # Ok::<(), otlp_propagation::JaegerError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UberTraceId {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    flags: u8,
}

impl UberTraceId {
    /// An `uber-trace-id` with no parent span id.
    #[must_use]
    pub const fn new(trace_id: TraceId, span_id: SpanId, flags: u8) -> Self {
        Self {
            trace_id,
            span_id,
            parent_span_id: None,
            flags,
        }
    }

    /// Parses a header value: optional whitespace trimmed, URL-encoding (`%3A`) decoded,
    /// hex ids of any width up to 32 (trace) or 16 (span) digits in either case,
    /// flags as one or two hex digits.
    ///
    /// # Errors
    ///
    /// A [`JaegerError`] for the first rule broken. Never panics.
    pub fn parse(value: &str) -> Result<Self, JaegerError> {
        let decoded = percent::decode(value.trim_matches([' ', '\t']), false);
        let mut parts = decoded.split(':');
        let (Some(trace), Some(span), Some(parent), Some(flags), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(JaegerError::WrongFieldCount);
        };
        let trace_id = parse_hex::<32>(trace)
            .map(TraceId::from)
            .filter(TraceId::is_valid)
            .ok_or(JaegerError::InvalidTraceId)?;
        let span_id = parse_hex::<16>(span)
            .and_then(|v| u64::try_from(v).ok())
            .map(SpanId::from)
            .filter(SpanId::is_valid)
            .ok_or(JaegerError::InvalidSpanId)?;
        let parent = parse_hex::<16>(parent)
            .and_then(|v| u64::try_from(v).ok())
            .ok_or(JaegerError::InvalidParentSpanId)?;
        let flags = parse_hex::<2>(flags)
            .and_then(|v| u8::try_from(v).ok())
            .ok_or(JaegerError::InvalidFlags)?;
        Ok(Self {
            trace_id,
            span_id,
            parent_span_id: (parent != 0).then(|| SpanId::from(parent)),
            flags,
        })
    }

    /// The trace id.
    #[must_use]
    pub const fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id.
    #[must_use]
    pub const fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The (deprecated) parent span id, `None` when sent as `0`.
    #[must_use]
    pub const fn parent_span_id(&self) -> Option<SpanId> {
        self.parent_span_id
    }

    /// The raw flags byte (`0x01` sampled, `0x02` debug, `0x08` firehose).
    #[must_use]
    pub const fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the sampled flag (or the debug flag, which implies it) is set.
    #[must_use]
    pub const fn is_sampled(&self) -> bool {
        self.flags & (FLAG_SAMPLED | FLAG_DEBUG) != 0
    }

    /// Whether the debug flag is set.
    #[must_use]
    pub const fn is_debug(&self) -> bool {
        self.flags & FLAG_DEBUG != 0
    }

    /// The sampling decision the flags state: debug implies sampled.
    #[must_use]
    pub const fn sampling(&self) -> SamplingState {
        if self.is_debug() {
            SamplingState::Debug
        } else if self.is_sampled() {
            SamplingState::Accept
        } else {
            SamplingState::Deny
        }
    }
}

impl fmt::Display for UberTraceId {
    /// `{trace-id}:{span-id}:{parent-span-id or 0}:{flags}`, the trace id in 16 digits when
    /// its high half is zero (as the Jaeger clients write it) and 32 otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let trace = self.trace_id.to_u128();
        if trace >> 64 == 0 {
            write!(f, "{trace:016x}")?;
        } else {
            write!(f, "{trace:032x}")?;
        }
        write!(f, ":{}:", self.span_id)?;
        match self.parent_span_id {
            Some(parent) => write!(f, "{parent}")?,
            None => f.write_str("0")?,
        }
        write!(f, ":{:x}", self.flags)
    }
}

/// Up to `MAX` hex digits (either case, at least one) as an integer.
fn parse_hex<const MAX: usize>(s: &str) -> Option<u128> {
    if s.is_empty() || s.len() > MAX || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

/// URL-encoding keeps RFC 3986 unreserved characters.
fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~')
}

/// The Jaeger propagator: `uber-trace-id` and `uberctx-{key}` baggage.
///
/// Extract reads the span context from `uber-trace-id` (Jaeger carries no W3C trace state, so
/// it is empty) and every `uberctx-{key}` header (any case) as a baggage member, the value
/// URL-decoded (`%XX`, and `+` as a space, as the Jaeger clients encode it). Keys that are
/// not HTTP tokens are skipped.
///
/// Inject writes `uber-trace-id` with the flags `1` (sampled), `3` (debug) or `0`, and one
/// `uberctx-{key}` header per baggage member, the value URL-encoded; baggage properties have
/// no Jaeger form and are not written.
#[derive(Clone, Copy, Debug, Default)]
pub struct JaegerPropagator;

impl JaegerPropagator {
    /// The propagator.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }

    /// Reads the `uberctx-*` headers as baggage.
    #[must_use]
    pub fn extract_baggage(&self, extractor: &dyn Extractor) -> Baggage {
        let mut baggage = Baggage::new();
        extractor.for_each_field(&mut |name, value| {
            let Some(key) = strip_prefix_ignore_case(name, JAEGER_BAGGAGE_PREFIX) else {
                return;
            };
            if is_token(key) && baggage.get(key).is_none() {
                let value = percent::decode(value.trim_matches([' ', '\t']), true);
                // A member beyond the baggage limits is skipped.
                let _ = baggage.insert(key, &value);
            }
        });
        baggage
    }
}

fn strip_prefix_ignore_case<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| name.get(prefix.len()..))
        .flatten()
}

impl TextMapPropagator for JaegerPropagator {
    fn fields(&self) -> &[&'static str] {
        &[JAEGER_HEADER]
    }

    fn extract_into(&self, extractor: &dyn Extractor, cx: &mut Context) {
        if cx.span_context().is_none()
            && let Some(id) = extractor
                .get(JAEGER_HEADER)
                .and_then(|v| UberTraceId::parse(v).ok())
        {
            let flags = TraceFlags::default().with_sampled(id.is_sampled());
            cx.set_span_context(SpanContext::new_remote(
                id.trace_id(),
                id.span_id(),
                flags,
                TraceState::new(),
            ));
            cx.set_sampling(Some(id.sampling()));
        }
        let baggage = self.extract_baggage(extractor);
        if !baggage.is_empty() {
            cx.baggage_mut().merge_missing(&baggage);
        }
    }

    fn inject(&self, cx: &Context, injector: &mut dyn Injector) {
        if let Some(sc) = cx.span_context() {
            let flags = match cx.sampling() {
                Some(SamplingState::Debug) => FLAG_SAMPLED | FLAG_DEBUG,
                Some(SamplingState::Accept) => FLAG_SAMPLED,
                Some(SamplingState::Deny) | None => 0,
            };
            let id = UberTraceId::new(sc.trace_id(), sc.span_id(), flags);
            injector.set(JAEGER_HEADER, id.to_string());
        }
        let mut name = String::new();
        for entry in cx.baggage() {
            name.clear();
            name.push_str(JAEGER_BAGGAGE_PREFIX);
            name.push_str(entry.key());
            injector.set(&name, percent::encode(entry.value(), is_unreserved));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_full_and_short_ids() {
        let id =
            UberTraceId::parse("000000000000004d0000000000000016:0000000000017c29:0:1").unwrap();
        assert_eq!(id.trace_id().to_u128(), 0x4d_0000_0000_0000_0016);
        assert_eq!(id.span_id().to_u64(), 0x17c29);
        assert_eq!(id.parent_span_id(), None);
        assert!(id.is_sampled() && !id.is_debug());
        assert_eq!(id.sampling(), SamplingState::Accept);

        let short = UberTraceId::parse("4d0000000000000016:17c29:0:1").unwrap();
        assert_eq!(short, id);
        let upper = UberTraceId::parse("4D0000000000000016:17C29:1A:01").unwrap();
        assert_eq!(upper.trace_id(), id.trace_id());
        assert_eq!(upper.parent_span_id(), Some(SpanId::from(0x1a_u64)));
        assert_eq!(upper.flags(), 1);

        assert_eq!(
            UberTraceId::parse("1:2:0:0").unwrap().sampling(),
            SamplingState::Deny
        );
        assert_eq!(
            UberTraceId::parse("1:2:0:3").unwrap().sampling(),
            SamplingState::Debug
        );
        // Debug implies sampled even without the sampled bit; firehose is kept raw.
        assert!(UberTraceId::parse("1:2:0:2").unwrap().is_sampled());
        assert_eq!(UberTraceId::parse("1:2:0:09").unwrap().flags(), 9);
    }

    #[test]
    fn url_encoded_values() {
        let id = UberTraceId::parse("4d2%3a17c29%3A0%3A1").unwrap();
        assert_eq!(id.trace_id().to_u128(), 0x4d2);
        assert_eq!(id.span_id().to_u64(), 0x17c29);
    }

    #[test]
    fn invalid_values() {
        use JaegerError::*;
        for (input, expected) in [
            ("", WrongFieldCount),
            ("1:2:0", WrongFieldCount),
            ("1:2:0:1:5", WrongFieldCount),
            ("0:2:0:1", InvalidTraceId),
            (":2:0:1", InvalidTraceId),
            ("123456789012345678901234567890123:2:0:1", InvalidTraceId),
            ("1:0:0:1", InvalidSpanId),
            ("1:12345678901234567:0:1", InvalidSpanId),
            ("1:+2:0:1", InvalidSpanId),
            ("1:2:x:1", InvalidParentSpanId),
            ("1:2:0:", InvalidFlags),
            ("1:2:0:100", InvalidFlags),
            ("1:2:0:g", InvalidFlags),
        ] {
            assert_eq!(UberTraceId::parse(input), Err(expected), "{input:?}");
            assert!(!expected.to_string().is_empty());
        }
    }

    #[test]
    fn propagator_extracts_context_and_baggage() {
        let carrier = map(&[
            ("Uber-Trace-Id", "4d2:17c29:0:3"),
            ("UberCtx-User", "alice+smith%21"),
            ("uberctx-tenant", "acme"),
            ("uberctx-bad key", "x"),
            ("uberctx-", "empty key"),
            ("other", "x"),
        ]);
        let cx = JaegerPropagator::new().extract(&carrier);
        let sc = cx.span_context().unwrap();
        assert_eq!(sc.trace_id().to_u128(), 0x4d2);
        assert!(sc.is_remote() && sc.is_sampled() && cx.is_debug());
        assert_eq!(cx.baggage().get("User"), Some("alice smith!"));
        assert_eq!(cx.baggage().get("tenant"), Some("acme"));
        assert_eq!(cx.baggage().len(), 2);

        // Baggage is read even without a valid trace header.
        let cx =
            JaegerPropagator::new().extract(&map(&[("uber-trace-id", "junk"), ("uberctx-k", "v")]));
        assert!(cx.span_context().is_none());
        assert_eq!(cx.baggage().get("k"), Some("v"));
    }

    #[test]
    fn propagator_injects() {
        let carrier = map(&[(
            "uber-trace-id",
            "80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:05e3ac9a4f6e3b90:1",
        )]);
        let mut cx = JaegerPropagator::new().extract(&carrier);
        cx.baggage_mut().insert("user", "alice smith/é").unwrap();
        let mut out = HashMap::new();
        JaegerPropagator::new().inject(&cx, &mut out);
        assert_eq!(
            out,
            map(&[
                (
                    "uber-trace-id",
                    "80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:1"
                ),
                ("uberctx-user", "alice%20smith%2F%C3%A9"),
            ])
        );
        let back = JaegerPropagator::new().extract(&out);
        assert_eq!(back.baggage().get("user"), Some("alice smith/é"));

        for (sampling, flag) in [
            (Some(SamplingState::Deny), "0"),
            (None, "0"),
            (Some(SamplingState::Debug), "3"),
        ] {
            let mut out = HashMap::new();
            JaegerPropagator::new().inject(&cx.clone().with_sampling(sampling), &mut out);
            assert!(out["uber-trace-id"].ends_with(&format!(":0:{flag}")));
        }
        let mut out: HashMap<String, String> = HashMap::new();
        JaegerPropagator::new().inject(&Context::new(), &mut out);
        assert!(out.is_empty());
    }

    proptest! {
        #[test]
        fn format_parse_identity(trace in 1..=u128::MAX, span in 1..=u64::MAX, flags in any::<u8>()) {
            let id = UberTraceId::new(TraceId::from(trace), SpanId::from(span), flags);
            let text = id.to_string();
            prop_assert_eq!(UberTraceId::parse(&text), Ok(id));
            prop_assert_eq!(UberTraceId::parse(&text).map(|i| i.to_string()), Ok(text));
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = UberTraceId::parse(&s);
        }
    }
}
