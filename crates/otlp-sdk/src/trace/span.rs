//! [`Span`]: an operation in progress.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use otlp_model::SpanContext;
use otlp_model::time::{now_unix_nanos, system_time_nanos};

use crate::attribute_limits::{limit_attributes, set_attribute};
use crate::context::{self, Context, ContextGuard};
use crate::trace::provider::ProviderShared;
use crate::trace::{Event, Link, SpanData, Status};
use crate::value::KeyValue;

/// A span: started by a [`Tracer`](crate::trace::Tracer), ended by [`end`](Self::end) or
/// when dropped.
///
/// A span the sampler dropped is *non-recording*: it still has a valid [`SpanContext`]
/// (children and outgoing calls stay in its trace), and every recording method is a no-op
/// that allocates nothing.
#[derive(Debug)]
pub struct Span {
    span_context: SpanContext,
    recording: Option<Recording>,
}

#[derive(Debug)]
struct Recording {
    data: SpanData,
    provider: Arc<ProviderShared>,
}

impl Span {
    pub(crate) fn recording(data: SpanData, provider: Arc<ProviderShared>) -> Self {
        Self {
            span_context: data.span_context.clone(),
            recording: Some(Recording { data, provider }),
        }
    }

    /// A span that records nothing, with `span_context` as its identity.
    #[must_use]
    pub fn non_recording(span_context: SpanContext) -> Self {
        Self {
            span_context,
            recording: None,
        }
    }

    /// The span's identity: what children and propagators use.
    #[must_use]
    pub fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    /// `true` while the span records (sampled, or recorded only, and not ended).
    #[must_use]
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// The current context with this span as its span: attach it, or pass it as a parent or
    /// to a propagator.
    #[must_use]
    pub fn context(&self) -> Context {
        context::current().with_span_context(self.span_context.clone())
    }

    /// Makes this span current on this thread until the guard is dropped.
    pub fn attach(&self) -> ContextGuard {
        context::attach(self.context())
    }

    /// Sets an attribute (replacing an earlier value of the same key).
    pub fn set_attribute(&mut self, attribute: impl Into<KeyValue>) {
        if let Some(r) = &mut self.recording {
            let limits = &r.provider.limits;
            if r.data.attributes.capacity() == 0 {
                // One allocation for the usual handful instead of growing 4 → 8.
                r.data
                    .attributes
                    .reserve(8.min(limits.max_attributes_per_span));
            }
            r.data.dropped_attributes_count += set_attribute(
                &mut r.data.attributes,
                attribute.into(),
                limits.max_attributes_per_span,
                limits.max_attribute_value_length,
            );
        }
    }

    /// Sets several attributes.
    pub fn set_attributes<I, A>(&mut self, attributes: I)
    where
        I: IntoIterator<Item = A>,
        A: Into<KeyValue>,
    {
        if self.recording.is_some() {
            for attribute in attributes {
                self.set_attribute(attribute);
            }
        }
    }

    /// Adds an event that happened now.
    pub fn add_event(&mut self, name: impl Into<Cow<'static, str>>, attributes: Vec<KeyValue>) {
        if self.recording.is_some() {
            self.add_event_at(name, SystemTime::now(), attributes);
        }
    }

    /// Adds an event that happened at `time`.
    pub fn add_event_at(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        time: SystemTime,
        mut attributes: Vec<KeyValue>,
    ) {
        let Some(r) = &mut self.recording else {
            return;
        };
        let limits = &r.provider.limits;
        if r.data.events.len() >= limits.max_events_per_span {
            r.data.dropped_events_count += 1;
            return;
        }
        let dropped = limit_attributes(
            &mut attributes,
            limits.max_attributes_per_event,
            limits.max_attribute_value_length,
        );
        r.data.events.push(Event {
            name: name.into(),
            time_unix_nano: system_time_nanos(time),
            attributes,
            dropped_attributes_count: dropped,
        });
    }

    /// Adds a link to another span (after the start; the sampler saw only the links given
    /// to the builder).
    pub fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        let Some(r) = &mut self.recording else {
            return;
        };
        if !span_context.is_valid() {
            return;
        }
        let limits = r.provider.limits;
        push_link(&mut r.data, Link::new(span_context, attributes), &limits);
    }

    /// Sets the status. `Ok` is final; `Error` replaces `Unset` or an earlier `Error`;
    /// setting `Unset` is ignored (the specification's rules).
    pub fn set_status(&mut self, status: Status) {
        let Some(r) = &mut self.recording else {
            return;
        };
        match (&r.data.status, &status) {
            (Status::Ok, _) | (_, Status::Unset) => {}
            _ => r.data.status = status,
        }
    }

    /// Records an error as an `exception` event (`exception.type`, `exception.message`).
    /// The status is left to the caller, as the specification says.
    pub fn record_error<E: std::error::Error + ?Sized>(&mut self, error: &E) {
        if self.recording.is_none() {
            return;
        }
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        self.add_event(
            "exception",
            vec![
                KeyValue::new("exception.type", std::any::type_name::<E>()),
                KeyValue::new("exception.message", message),
            ],
        );
    }

    /// Renames the span.
    pub fn update_name(&mut self, name: impl Into<Cow<'static, str>>) {
        if let Some(r) = &mut self.recording {
            r.data.name = name.into();
        }
    }

    /// Ends the span now. Later calls on it do nothing.
    pub fn end(&mut self) {
        // No clock read for a span that does not record (or has ended already).
        if self.recording.is_some() {
            self.end_with(now_unix_nanos());
        }
    }

    /// Ends the span at `time`.
    pub fn end_at(&mut self, time: SystemTime) {
        self.end_with(system_time_nanos(time));
    }

    fn end_with(&mut self, end: u64) {
        let Some(Recording { mut data, provider }) = self.recording.take() else {
            return;
        };
        data.end_time_unix_nano = end.max(data.start_time_unix_nano);
        provider.on_end(data);
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        self.end();
    }
}

pub(crate) fn push_link(data: &mut SpanData, mut link: Link, limits: &crate::trace::SpanLimits) {
    if data.links.len() >= limits.max_links_per_span {
        data.dropped_links_count += 1;
        return;
    }
    link.dropped_attributes_count += limit_attributes(
        &mut link.attributes,
        limits.max_attributes_per_link,
        limits.max_attribute_value_length,
    );
    data.links.push(link);
}
