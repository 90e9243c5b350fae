//! Zipkin B3: the single `b3` header, the `X-B3-*` headers and [`B3Propagator`].
//!
//! Follows the openzipkin `b3-propagation` specification and the OpenTelemetry B3
//! requirements: extract reads the single header first and falls back to the multi headers;
//! inject never writes a parent span id; debug implies sampled.

use core::fmt;

use otlp_model::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

use crate::carrier::{Extractor, Injector};
use crate::context::{Context, SamplingState};
use crate::propagator::TextMapPropagator;

/// The single header: `b3: {TraceId}-{SpanId}-{SamplingState}-{ParentSpanId}`.
pub const B3_SINGLE_HEADER: &str = "b3";
/// `X-B3-TraceId` (lower case, as written).
pub const B3_TRACE_ID_HEADER: &str = "x-b3-traceid";
/// `X-B3-SpanId`.
pub const B3_SPAN_ID_HEADER: &str = "x-b3-spanid";
/// `X-B3-ParentSpanId`.
pub const B3_PARENT_SPAN_ID_HEADER: &str = "x-b3-parentspanid";
/// `X-B3-Sampled`.
pub const B3_SAMPLED_HEADER: &str = "x-b3-sampled";
/// `X-B3-Flags` (`1` means debug).
pub const B3_FLAGS_HEADER: &str = "x-b3-flags";

const MULTI_FIELDS: [&str; 5] = [
    B3_TRACE_ID_HEADER,
    B3_SPAN_ID_HEADER,
    B3_PARENT_SPAN_ID_HEADER,
    B3_SAMPLED_HEADER,
    B3_FLAGS_HEADER,
];
const ALL_FIELDS: [&str; 6] = [
    B3_SINGLE_HEADER,
    B3_TRACE_ID_HEADER,
    B3_SPAN_ID_HEADER,
    B3_PARENT_SPAN_ID_HEADER,
    B3_SAMPLED_HEADER,
    B3_FLAGS_HEADER,
];

/// Why B3 headers were rejected. A propagator treats every one as "absent".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum B3Error {
    /// The single header does not have 1 (sampling only), 2, 3 or 4 `-`-separated fields, or
    /// has a parent span id without a sampling state.
    #[error("b3 header has the wrong number of fields")]
    WrongFieldCount,
    /// The trace id is not 16 or 32 lower-case hex digits, or is all zeros.
    #[error("invalid b3 trace id")]
    InvalidTraceId,
    /// The span id is not 16 lower-case hex digits, or is all zeros.
    #[error("invalid b3 span id")]
    InvalidSpanId,
    /// The parent span id of the single header is not 16 lower-case hex digits, or is all
    /// zeros.
    #[error("invalid b3 parent span id")]
    InvalidParentSpanId,
    /// The sampling state is not `0`, `1` or `d` (or, for `X-B3-Sampled`, `true`/`false`).
    #[error("invalid b3 sampling state")]
    InvalidSamplingState,
    /// Only one of `X-B3-TraceId` and `X-B3-SpanId` is present.
    #[error("X-B3-TraceId and X-B3-SpanId must be sent together")]
    IncompleteIds,
}

/// Parsed B3 propagation data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum B3Header {
    /// A sampling decision without ids: the lone `b3: 0`, `b3: 1` or `b3: d`, or
    /// `X-B3-Sampled` / `X-B3-Flags` without `X-B3-TraceId`.
    Sampling(SamplingState),
    /// A span's ids, with the sampling decision if one was sent (`None` defers it to the
    /// receiver).
    Context {
        /// The trace id; a 64-bit id is left-padded with zeros.
        trace_id: TraceId,
        /// The span id.
        span_id: SpanId,
        /// The sampling decision, or `None` for "deferred".
        sampling: Option<SamplingState>,
        /// The parent span id, when sent.
        parent_span_id: Option<SpanId>,
    },
}

impl B3Header {
    /// Parses the single `b3` header, trimming optional whitespace.
    ///
    /// # Errors
    ///
    /// A [`B3Error`] for the first rule broken. Never panics.
    ///
    /// ```
    /// use otlp_propagation::{B3Header, SamplingState};
    ///
    /// let h = B3Header::parse_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d")?;
    /// assert!(matches!(h, B3Header::Context { sampling: Some(SamplingState::Debug), .. }));
    /// assert_eq!(B3Header::parse_single("0")?, B3Header::Sampling(SamplingState::Deny));
    /// # Ok::<(), otlp_propagation::B3Error>(())
    /// ```
    pub fn parse_single(value: &str) -> Result<Self, B3Error> {
        let value = value.trim_matches([' ', '\t']);
        let mut parts = value.split('-');
        let first = parts.next().unwrap_or_default();
        let Some(second) = parts.next() else {
            return parse_single_sampling(first).map(Self::Sampling);
        };
        let third = parts.next();
        let fourth = parts.next();
        if parts.next().is_some() {
            return Err(B3Error::WrongFieldCount);
        }
        let trace_id = parse_trace_id(first)?;
        let span_id = parse_span_id(second).ok_or(B3Error::InvalidSpanId)?;
        let sampling = third.map(parse_single_sampling).transpose()?;
        let parent_span_id = fourth
            .map(|p| parse_span_id(p).ok_or(B3Error::InvalidParentSpanId))
            .transpose()?;
        Ok(Self::Context {
            trace_id,
            span_id,
            sampling,
            parent_span_id,
        })
    }

    /// Reads the `X-B3-*` headers; `Ok(None)` when none of them is present.
    ///
    /// `X-B3-Flags: 1` means debug and overrides `X-B3-Sampled`, which accepts `1`, `0`,
    /// `true` and `false`. An invalid `X-B3-ParentSpanId` is ignored.
    ///
    /// # Errors
    ///
    /// A [`B3Error`] when the headers present are invalid or incomplete.
    pub fn extract_multi(extractor: &dyn Extractor) -> Result<Option<Self>, B3Error> {
        let debug = extractor
            .get(B3_FLAGS_HEADER)
            .is_some_and(|f| f.trim() == "1");
        let sampling = if debug {
            Some(SamplingState::Debug)
        } else {
            extractor
                .get(B3_SAMPLED_HEADER)
                .map(|s| match s.trim() {
                    "1" | "true" => Ok(SamplingState::Accept),
                    "0" | "false" => Ok(SamplingState::Deny),
                    "d" => Ok(SamplingState::Debug),
                    _ => Err(B3Error::InvalidSamplingState),
                })
                .transpose()?
        };
        let trace_id = extractor.get(B3_TRACE_ID_HEADER);
        let span_id = extractor.get(B3_SPAN_ID_HEADER);
        match (trace_id, span_id) {
            (None, None) => Ok(sampling.map(Self::Sampling)),
            (Some(trace_id), Some(span_id)) => Ok(Some(Self::Context {
                trace_id: parse_trace_id(trace_id.trim())?,
                span_id: parse_span_id(span_id.trim()).ok_or(B3Error::InvalidSpanId)?,
                sampling,
                parent_span_id: extractor
                    .get(B3_PARENT_SPAN_ID_HEADER)
                    .and_then(|p| parse_span_id(p.trim())),
            })),
            _ => Err(B3Error::IncompleteIds),
        }
    }

    /// The single `b3` header value. Trace ids whose high 64 bits are zero are written with
    /// 16 digits, as 64-bit tracers expect (and as Zipkin's Brave does).
    #[must_use]
    pub fn to_single(&self) -> String {
        self.to_string()
    }

    /// Writes the `X-B3-*` headers: ids, then `X-B3-Flags: 1` for debug or `X-B3-Sampled`
    /// for accept/deny, and `X-B3-ParentSpanId` when present.
    pub fn inject_multi(&self, injector: &mut dyn Injector) {
        let sampling = match *self {
            Self::Sampling(sampling) => Some(sampling),
            Self::Context {
                trace_id,
                span_id,
                sampling,
                parent_span_id,
            } => {
                injector.set(B3_TRACE_ID_HEADER, TraceIdHex(trace_id).to_string());
                injector.set(B3_SPAN_ID_HEADER, span_id.to_string());
                if let Some(parent) = parent_span_id {
                    injector.set(B3_PARENT_SPAN_ID_HEADER, parent.to_string());
                }
                sampling
            }
        };
        match sampling {
            Some(SamplingState::Debug) => injector.set(B3_FLAGS_HEADER, "1".to_owned()),
            Some(SamplingState::Accept) => injector.set(B3_SAMPLED_HEADER, "1".to_owned()),
            Some(SamplingState::Deny) => injector.set(B3_SAMPLED_HEADER, "0".to_owned()),
            None => {}
        }
    }
}

impl fmt::Display for B3Header {
    /// The single `b3` header value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sampling(sampling) => f.write_str(sampling_char(*sampling)),
            Self::Context {
                trace_id,
                span_id,
                sampling,
                parent_span_id,
            } => {
                write!(f, "{}-{span_id}", TraceIdHex(*trace_id))?;
                // The 4-field form needs a sampling state; without one the parent is dropped.
                if let Some(sampling) = sampling {
                    write!(f, "-{}", sampling_char(*sampling))?;
                    if let Some(parent) = parent_span_id {
                        write!(f, "-{parent}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// A trace id in B3 width: 16 digits when the high half is zero, else 32.
struct TraceIdHex(TraceId);

impl fmt::Display for TraceIdHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.0.to_u128();
        if value >> 64 == 0 {
            write!(f, "{value:016x}")
        } else {
            write!(f, "{value:032x}")
        }
    }
}

const fn sampling_char(sampling: SamplingState) -> &'static str {
    match sampling {
        SamplingState::Deny => "0",
        SamplingState::Accept => "1",
        SamplingState::Debug => "d",
    }
}

fn parse_single_sampling(s: &str) -> Result<SamplingState, B3Error> {
    match s {
        "0" => Ok(SamplingState::Deny),
        "1" => Ok(SamplingState::Accept),
        "d" => Ok(SamplingState::Debug),
        _ => Err(B3Error::InvalidSamplingState),
    }
}

fn parse_trace_id(s: &str) -> Result<TraceId, B3Error> {
    let id = match s.len() {
        32 => TraceId::from_hex_lowercase_strict(s).ok(),
        16 => SpanId::from_hex_lowercase_strict(s)
            .ok()
            .map(|low| TraceId::from(u128::from(low.to_u64()))),
        _ => None,
    };
    id.filter(TraceId::is_valid).ok_or(B3Error::InvalidTraceId)
}

fn parse_span_id(s: &str) -> Option<SpanId> {
    SpanId::from_hex_lowercase_strict(s)
        .ok()
        .filter(SpanId::is_valid)
}

/// Which B3 form [`B3Propagator`] injects. Extract always reads both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum B3Encoding {
    /// The single `b3` header (`OTEL_PROPAGATORS` name `b3`).
    #[default]
    Single,
    /// The `X-B3-*` headers (`OTEL_PROPAGATORS` name `b3multi`).
    Multi,
    /// Both forms.
    SingleAndMulti,
}

/// The Zipkin B3 propagator.
///
/// Extract reads the single `b3` header and, when it is absent or invalid, the `X-B3-*`
/// headers; a lone sampling decision (`b3: 0`) becomes [`Context::sampling`] without a span
/// context. B3 carries no trace state, so an extracted span context has an empty one.
/// Inject writes the form chosen by [`B3Encoding`], never a parent span id.
#[derive(Clone, Copy, Debug, Default)]
pub struct B3Propagator {
    encoding: B3Encoding,
}

impl B3Propagator {
    /// A propagator that injects `encoding`.
    #[must_use]
    pub const fn new(encoding: B3Encoding) -> Self {
        Self { encoding }
    }

    /// Injects the single `b3` header.
    #[must_use]
    pub const fn single() -> Self {
        Self::new(B3Encoding::Single)
    }

    /// Injects the `X-B3-*` headers.
    #[must_use]
    pub const fn multi() -> Self {
        Self::new(B3Encoding::Multi)
    }

    /// The injected form.
    #[must_use]
    pub const fn encoding(&self) -> B3Encoding {
        self.encoding
    }

    /// Reads B3 from `extractor`: the single header if valid, else the multi headers.
    #[must_use]
    pub fn extract_header(&self, extractor: &dyn Extractor) -> Option<B3Header> {
        extractor
            .get(B3_SINGLE_HEADER)
            .and_then(|v| B3Header::parse_single(v).ok())
            .or_else(|| B3Header::extract_multi(extractor).ok().flatten())
    }
}

impl TextMapPropagator for B3Propagator {
    fn fields(&self) -> &[&'static str] {
        match self.encoding {
            B3Encoding::Single => &ALL_FIELDS[..1],
            B3Encoding::Multi => &MULTI_FIELDS,
            B3Encoding::SingleAndMulti => &ALL_FIELDS,
        }
    }

    fn extract_into(&self, extractor: &dyn Extractor, cx: &mut Context) {
        if cx.span_context().is_some() {
            return;
        }
        match self.extract_header(extractor) {
            Some(B3Header::Context {
                trace_id,
                span_id,
                sampling,
                ..
            }) => {
                let flags = TraceFlags::default()
                    .with_sampled(sampling.is_some_and(SamplingState::is_sampled));
                cx.set_span_context(SpanContext::new_remote(
                    trace_id,
                    span_id,
                    flags,
                    TraceState::new(),
                ));
                cx.set_sampling(sampling);
            }
            Some(B3Header::Sampling(sampling)) if cx.sampling().is_none() => {
                cx.set_sampling(Some(sampling));
            }
            _ => {}
        }
    }

    fn inject(&self, cx: &Context, injector: &mut dyn Injector) {
        let header = match cx.span_context() {
            Some(sc) => B3Header::Context {
                trace_id: sc.trace_id(),
                span_id: sc.span_id(),
                sampling: cx.sampling(),
                parent_span_id: None,
            },
            None => match cx.sampling() {
                Some(sampling) => B3Header::Sampling(sampling),
                None => return,
            },
        };
        if matches!(
            self.encoding,
            B3Encoding::Single | B3Encoding::SingleAndMulti
        ) {
            injector.set(B3_SINGLE_HEADER, header.to_single());
        }
        if matches!(
            self.encoding,
            B3Encoding::Multi | B3Encoding::SingleAndMulti
        ) {
            header.inject_multi(injector);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";
    const PARENT: &str = "05e3ac9a4f6e3b90";

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn ctx(sampling: Option<SamplingState>) -> B3Header {
        B3Header::Context {
            trace_id: TRACE.parse().unwrap(),
            span_id: SPAN.parse().unwrap(),
            sampling,
            parent_span_id: None,
        }
    }

    #[test]
    fn single_header_spec_examples() {
        use SamplingState::*;
        let full = format!("{TRACE}-{SPAN}-1-{PARENT}");
        assert_eq!(
            B3Header::parse_single(&full),
            Ok(B3Header::Context {
                trace_id: TRACE.parse().unwrap(),
                span_id: SPAN.parse().unwrap(),
                sampling: Some(Accept),
                parent_span_id: Some(PARENT.parse().unwrap()),
            })
        );
        assert_eq!(
            B3Header::parse_single(&format!("{TRACE}-{SPAN}")),
            Ok(ctx(None))
        );
        assert_eq!(
            B3Header::parse_single(&format!("{TRACE}-{SPAN}-0")),
            Ok(ctx(Some(Deny)))
        );
        assert_eq!(
            B3Header::parse_single(&format!(" {TRACE}-{SPAN}-d\t")),
            Ok(ctx(Some(Debug)))
        );
        assert_eq!(B3Header::parse_single("0"), Ok(B3Header::Sampling(Deny)));
        assert_eq!(B3Header::parse_single("1"), Ok(B3Header::Sampling(Accept)));
        assert_eq!(B3Header::parse_single("d"), Ok(B3Header::Sampling(Debug)));
        // 64-bit trace id, left-padded.
        let h = B3Header::parse_single(&format!("a3ce929d0e0e4736-{SPAN}-1")).unwrap();
        let B3Header::Context { trace_id, .. } = h else {
            panic!()
        };
        assert_eq!(trace_id.to_u128(), 0xa3ce_929d_0e0e_4736);
        assert_eq!(h.to_single(), format!("a3ce929d0e0e4736-{SPAN}-1"));
    }

    #[test]
    fn single_header_invalid() {
        use B3Error::*;
        let cases = [
            ("", InvalidSamplingState),
            ("2", InvalidSamplingState),
            ("true", InvalidSamplingState),
            ("-", InvalidTraceId),
            (&*format!("{}-{SPAN}", TRACE.to_uppercase()), InvalidTraceId),
            (&*format!("{}-{SPAN}", &TRACE[..31]), InvalidTraceId),
            (&*format!("{}-{SPAN}", "0".repeat(32)), InvalidTraceId),
            (&*format!("{TRACE}-{}", "0".repeat(16)), InvalidSpanId),
            (&*format!("{TRACE}-{}", &SPAN[..15]), InvalidSpanId),
            (&*format!("{TRACE}-{SPAN}-x"), InvalidSamplingState),
            (&*format!("{TRACE}-{SPAN}-true"), InvalidSamplingState),
            (&*format!("{TRACE}-{SPAN}-1-xyz"), InvalidParentSpanId),
            (&*format!("{TRACE}-{SPAN}-1-{PARENT}-"), WrongFieldCount),
        ];
        for (input, expected) in cases {
            assert_eq!(B3Header::parse_single(input), Err(expected), "{input:?}");
            assert!(!expected.to_string().is_empty());
        }
    }

    #[test]
    fn multi_headers() {
        use SamplingState::*;
        let h = B3Header::extract_multi(&map(&[
            ("X-B3-TraceId", TRACE),
            ("X-B3-SpanId", SPAN),
            ("X-B3-ParentSpanId", PARENT),
            ("X-B3-Sampled", "1"),
        ]))
        .unwrap()
        .unwrap();
        assert!(matches!(
            h,
            B3Header::Context {
                sampling: Some(Accept),
                parent_span_id: Some(_),
                ..
            }
        ));
        for (value, expected) in [("true", Accept), ("false", Deny), ("0", Deny)] {
            let h = B3Header::extract_multi(&map(&[
                ("x-b3-traceid", TRACE),
                ("x-b3-spanid", SPAN),
                ("x-b3-sampled", value),
            ]));
            assert_eq!(h, Ok(Some(ctx(Some(expected)))));
        }
        // Debug overrides sampled; no sampling header defers.
        let h = B3Header::extract_multi(&map(&[
            ("x-b3-traceid", TRACE),
            ("x-b3-spanid", SPAN),
            ("x-b3-sampled", "0"),
            ("x-b3-flags", "1"),
        ]));
        assert_eq!(h, Ok(Some(ctx(Some(Debug)))));
        let h = B3Header::extract_multi(&map(&[("x-b3-traceid", TRACE), ("x-b3-spanid", SPAN)]));
        assert_eq!(h, Ok(Some(ctx(None))));
        // Sampling only; nothing; incomplete; invalid.
        assert_eq!(
            B3Header::extract_multi(&map(&[("x-b3-sampled", "0")])),
            Ok(Some(B3Header::Sampling(Deny)))
        );
        assert_eq!(
            B3Header::extract_multi(&map(&[("x-b3-flags", "1")])),
            Ok(Some(B3Header::Sampling(Debug)))
        );
        assert_eq!(B3Header::extract_multi(&map(&[])), Ok(None));
        assert_eq!(
            B3Header::extract_multi(&map(&[("x-b3-traceid", TRACE)])),
            Err(B3Error::IncompleteIds)
        );
        assert_eq!(
            B3Header::extract_multi(&map(&[
                ("x-b3-traceid", TRACE),
                ("x-b3-spanid", SPAN),
                ("x-b3-sampled", "yes")
            ])),
            Err(B3Error::InvalidSamplingState)
        );
        // An invalid parent is ignored in the multi form.
        let h = B3Header::extract_multi(&map(&[
            ("x-b3-traceid", TRACE),
            ("x-b3-spanid", SPAN),
            ("x-b3-parentspanid", "zz"),
        ]));
        assert_eq!(h, Ok(Some(ctx(None))));
    }

    #[test]
    fn propagator_prefers_single_and_falls_back_to_multi() {
        let single_and_multi = map(&[
            ("b3", &format!("{TRACE}-{SPAN}-1")),
            ("x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124"),
            ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ]);
        let cx = B3Propagator::multi().extract(&single_and_multi);
        assert_eq!(cx.span_context().unwrap().trace_id().to_string(), TRACE);
        assert!(cx.is_sampled());
        assert!(cx.span_context().unwrap().is_remote());

        let bad_single = map(&[
            ("b3", "garbage"),
            ("x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124"),
            ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ]);
        let cx = B3Propagator::single().extract(&bad_single);
        assert_eq!(
            cx.span_context().unwrap().span_id().to_string(),
            "a2fb4a1d1a96d312"
        );
        assert_eq!(cx.sampling(), None);
    }

    #[test]
    fn sampling_only_and_debug_contexts() {
        let cx = B3Propagator::single().extract(&map(&[("b3", "0")]));
        assert!(cx.span_context().is_none());
        assert_eq!(cx.sampling(), Some(SamplingState::Deny));
        // The next hop is a new root that honours the decision.
        let child = cx.child();
        assert!(!child.span_context().unwrap().is_sampled());
        let mut out = HashMap::new();
        B3Propagator::single().inject(
            &Context::new().with_sampling(Some(SamplingState::Deny)),
            &mut out,
        );
        assert_eq!(out, map(&[("b3", "0")]));
        let mut out = HashMap::new();
        B3Propagator::multi().inject(
            &Context::new().with_sampling(Some(SamplingState::Debug)),
            &mut out,
        );
        assert_eq!(out, map(&[("x-b3-flags", "1")]));
        let mut out: HashMap<String, String> = HashMap::new();
        B3Propagator::multi().inject(&Context::new(), &mut out);
        assert!(out.is_empty());

        let cx = B3Propagator::single().extract(&map(&[("b3", &format!("{TRACE}-{SPAN}-d"))]));
        assert!(cx.is_debug() && cx.span_context().unwrap().is_sampled());
    }

    #[test]
    fn inject_forms() {
        let cx =
            B3Propagator::single().extract(&map(&[("b3", &format!("{TRACE}-{SPAN}-1-{PARENT}"))]));
        let mut out = HashMap::new();
        B3Propagator::single().inject(&cx, &mut out);
        assert_eq!(out, map(&[("b3", &format!("{TRACE}-{SPAN}-1"))]));

        let mut out = HashMap::new();
        B3Propagator::multi().inject(&cx, &mut out);
        assert_eq!(
            out,
            map(&[
                ("x-b3-traceid", TRACE),
                ("x-b3-spanid", SPAN),
                ("x-b3-sampled", "1")
            ])
        );

        let deferred = cx.clone().with_sampling(None);
        let mut out = HashMap::new();
        B3Propagator::new(B3Encoding::SingleAndMulti).inject(&deferred, &mut out);
        assert_eq!(
            out,
            map(&[
                ("b3", &format!("{TRACE}-{SPAN}")),
                ("x-b3-traceid", TRACE),
                ("x-b3-spanid", SPAN)
            ])
        );

        let debug = cx.with_sampling(Some(SamplingState::Debug));
        let mut out = HashMap::new();
        B3Propagator::new(B3Encoding::SingleAndMulti).inject(&debug, &mut out);
        assert_eq!(out["b3"], format!("{TRACE}-{SPAN}-d"));
        assert_eq!(out["x-b3-flags"], "1");
        assert!(!out.contains_key("x-b3-sampled"));
        assert_eq!(B3Propagator::default().encoding(), B3Encoding::Single);
        assert_eq!(
            B3Propagator::new(B3Encoding::SingleAndMulti).fields().len(),
            6
        );
    }

    #[test]
    fn multi_injection_with_parent() {
        let mut out = HashMap::new();
        B3Header::Context {
            trace_id: TraceId::from(5_u128),
            span_id: SpanId::from(6_u64),
            sampling: Some(SamplingState::Accept),
            parent_span_id: Some(SpanId::from(7_u64)),
        }
        .inject_multi(&mut out);
        assert_eq!(out["x-b3-traceid"], "0000000000000005");
        assert_eq!(out["x-b3-parentspanid"], "0000000000000007");
    }

    fn sampling_strategy() -> impl Strategy<Value = Option<SamplingState>> {
        prop_oneof![
            Just(None),
            Just(Some(SamplingState::Deny)),
            Just(Some(SamplingState::Accept)),
            Just(Some(SamplingState::Debug)),
        ]
    }

    proptest! {
        #[test]
        fn single_format_parse_identity(
            trace in 1..=u128::MAX,
            short in any::<bool>(),
            span in 1..=u64::MAX,
            sampling in sampling_strategy(),
            parent in proptest::option::of(1..=u64::MAX),
        ) {
            let trace = if short { trace & u128::from(u64::MAX) } else { trace };
            prop_assume!(trace != 0);
            let header = B3Header::Context {
                trace_id: TraceId::from(trace),
                span_id: SpanId::from(span),
                sampling,
                parent_span_id: parent.filter(|_| sampling.is_some()).map(SpanId::from),
            };
            let text = header.to_single();
            prop_assert_eq!(B3Header::parse_single(&text), Ok(header));
            prop_assert_eq!(B3Header::parse_single(&text).map(|h| h.to_single()), Ok(text));

            let mut multi = HashMap::new();
            header.inject_multi(&mut multi);
            prop_assert_eq!(B3Header::extract_multi(&multi), Ok(Some(header)));
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = B3Header::parse_single(&s);
            let _ = B3Header::extract_multi(&map(&[("x-b3-traceid", &s), ("x-b3-spanid", &s), ("x-b3-sampled", &s)]));
        }
    }
}
