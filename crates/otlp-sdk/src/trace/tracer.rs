//! [`Tracer`] and [`SpanBuilder`]: where spans start.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use otlp_model::time::{now_unix_nanos, system_time_nanos};
use otlp_model::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

use crate::attribute_limits::limit_attributes;
use crate::context::{self, Context};
use crate::scope::InstrumentationScope;
use crate::trace::provider::ProviderShared;
use crate::trace::sampler::{SamplingDecision, SamplingParameters};
use crate::trace::span::push_link;
use crate::trace::{Link, Span, SpanData, SpanKind, Status};
use crate::value::KeyValue;

/// Starts spans for one instrumentation scope. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Tracer {
    provider: Arc<ProviderShared>,
    scope: InstrumentationScope,
}

impl Tracer {
    pub(crate) fn new(provider: Arc<ProviderShared>, scope: InstrumentationScope) -> Self {
        Self { provider, scope }
    }

    /// The tracer's instrumentation scope.
    #[must_use]
    pub fn scope(&self) -> &InstrumentationScope {
        &self.scope
    }

    /// A builder for a span named `name`, child of the current context unless told otherwise.
    pub fn span(&self, name: impl Into<Cow<'static, str>>) -> SpanBuilder<'_> {
        SpanBuilder {
            tracer: self,
            name: name.into(),
            kind: SpanKind::Internal,
            parent: Parent::Current,
            attributes: Vec::new(),
            links: Vec::new(),
            start_time: None,
        }
    }

    /// Starts an internal span named `name`, child of the current context.
    pub fn start(&self, name: impl Into<Cow<'static, str>>) -> Span {
        self.span(name).start()
    }

    /// Runs `f` inside a new span that is current while `f` runs, and ends it afterwards.
    pub fn in_span<R>(
        &self,
        name: impl Into<Cow<'static, str>>,
        f: impl FnOnce(&mut Span) -> R,
    ) -> R {
        let mut span = self.start(name);
        let _guard = span.attach();
        f(&mut span)
    }
}

#[derive(Debug)]
enum Parent {
    Current,
    Explicit(Option<SpanContext>),
}

/// A span about to start: name, kind, parent, attributes and links the sampler sees.
#[derive(Debug)]
#[must_use = "a span builder does nothing until `start` is called"]
pub struct SpanBuilder<'t> {
    tracer: &'t Tracer,
    name: Cow<'static, str>,
    kind: SpanKind,
    parent: Parent,
    attributes: Vec<KeyValue>,
    links: Vec<Link>,
    start_time: Option<SystemTime>,
}

impl SpanBuilder<'_> {
    /// The span's kind (default `Internal`).
    pub fn kind(mut self, kind: SpanKind) -> Self {
        self.kind = kind;
        self
    }

    /// The parent is `cx`'s span (a new root when `cx` has none), not the current context.
    pub fn parent(mut self, cx: &Context) -> Self {
        self.parent = Parent::Explicit(cx.span_context().cloned());
        self
    }

    /// The parent is `span_context` (e.g. extracted from a message's headers).
    pub fn parent_span_context(mut self, span_context: SpanContext) -> Self {
        self.parent = Parent::Explicit(Some(span_context).filter(SpanContext::is_valid));
        self
    }

    /// A new trace: no parent, whatever is current.
    pub fn root(mut self) -> Self {
        self.parent = Parent::Explicit(None);
        self
    }

    /// An attribute known at the start (the sampler sees it).
    pub fn attribute(mut self, attribute: impl Into<KeyValue>) -> Self {
        self.attributes.push(attribute.into());
        self
    }

    /// Attributes known at the start.
    pub fn attributes<I, A>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<KeyValue>,
    {
        self.attributes
            .extend(attributes.into_iter().map(Into::into));
        self
    }

    /// A link known at the start (the sampler sees it). Invalid span contexts are ignored.
    pub fn link(mut self, link: Link) -> Self {
        if link.span_context.is_valid() {
            self.links.push(link);
        }
        self
    }

    /// An explicit start time (default: now).
    pub fn start_time(mut self, time: SystemTime) -> Self {
        self.start_time = Some(time);
        self
    }

    /// Starts the span.
    pub fn start(self) -> Span {
        match self.parent {
            Parent::Current => {
                let parent = context::with_current(|cx| cx.span_context().cloned());
                start(
                    self.tracer,
                    parent,
                    self.name,
                    self.kind,
                    self.attributes,
                    self.links,
                    self.start_time,
                )
            }
            Parent::Explicit(parent) => start(
                self.tracer,
                parent,
                self.name,
                self.kind,
                self.attributes,
                self.links,
                self.start_time,
            ),
        }
    }
}

fn start(
    tracer: &Tracer,
    parent: Option<SpanContext>,
    name: Cow<'static, str>,
    kind: SpanKind,
    mut attributes: Vec<KeyValue>,
    links: Vec<Link>,
    start_time: Option<SystemTime>,
) -> Span {
    let provider = &tracer.provider;
    let (trace_id, random) = match &parent {
        Some(p) => (p.trace_id(), p.trace_flags().is_random()),
        None => (TraceId::random(), true),
    };
    if provider.is_shutdown() {
        return Span::non_recording(span_context(trace_id, random, false, parent.as_ref(), None));
    }
    let result = provider.sampler.should_sample(&SamplingParameters {
        parent: parent.as_ref(),
        trace_id,
        random_trace_id: random,
        name: &name,
        kind,
        attributes: &attributes,
        links: &links,
    });
    let sampled = result.decision == SamplingDecision::RecordAndSample;
    let sc = span_context(
        trace_id,
        random,
        sampled,
        parent.as_ref(),
        result.trace_state,
    );
    if result.decision == SamplingDecision::Drop {
        return Span::non_recording(sc);
    }

    let limits = provider.limits;
    attributes.extend(result.attributes);
    let dropped_attributes_count = limit_attributes(
        &mut attributes,
        limits.max_attributes_per_span,
        limits.max_attribute_value_length,
    );
    let mut data = SpanData {
        span_context: sc,
        parent_span_id: parent
            .as_ref()
            .map_or(SpanId::INVALID, SpanContext::span_id),
        parent_is_remote: parent.as_ref().map(SpanContext::is_remote),
        name,
        kind,
        start_time_unix_nano: start_time.map_or_else(now_unix_nanos, system_time_nanos),
        end_time_unix_nano: 0,
        attributes,
        dropped_attributes_count,
        events: Vec::new(),
        dropped_events_count: 0,
        links: Vec::with_capacity(links.len().min(limits.max_links_per_span)),
        dropped_links_count: 0,
        status: Status::Unset,
        scope: tracer.scope.clone(),
    };
    for link in links {
        push_link(&mut data, link, &limits);
    }
    provider.on_start(&mut data, parent.as_ref());
    Span::recording(data, Arc::clone(provider))
}

fn span_context(
    trace_id: TraceId,
    random: bool,
    sampled: bool,
    parent: Option<&SpanContext>,
    trace_state: Option<TraceState>,
) -> SpanContext {
    let state = trace_state
        .or_else(|| parent.map(|p| p.trace_state().clone()))
        .unwrap_or_default();
    let flags = TraceFlags::default()
        .with_random(random)
        .with_sampled(sampled);
    SpanContext::new(trace_id, new_span_id(parent), flags, false, state)
}

fn new_span_id(parent: Option<&SpanContext>) -> SpanId {
    loop {
        let id = SpanId::random();
        if parent.is_none_or(|p| p.span_id() != id) {
            return id;
        }
    }
}
