//! What the layer keeps in a `tracing` span's extensions: the SDK span, or what it will start
//! with while it is pending.
//!
//! The SDK is never called to start or end a span while an extensions lock is held: a sampler
//! or a processor may emit a `tracing` event, and another layer handling it may read the same
//! span's extensions.

use std::borrow::Cow;
use std::mem;
use std::time::SystemTime;

use otlp_model::SpanContext;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::bridge::fields::{SpanFields, StatusCode, StatusFields};
use crate::trace::{Link, Span, SpanKind, Status, Tracer};
use crate::value::KeyValue;

/// Attributes or links a pending span holds before it is started anyway (the SDK then applies
/// its limits and counts what it drops).
pub(crate) const MAX_PENDING: usize = 128;

/// A span not started yet: what its SDK span will start with.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    /// `None`: a new trace.
    pub(crate) parent: Option<SpanContext>,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) links: Vec<Link>,
    pub(crate) start_time: SystemTime,
}

#[derive(Debug)]
enum Otel {
    Pending(Pending),
    /// Taken out by a thread that is starting it.
    Starting,
    Started(Span),
}

/// The layer's data in a span's extensions.
#[derive(Debug)]
pub(crate) struct SpanState {
    otel: Otel,
    status: StatusFields,
    /// Events added to the span as span events so far.
    pub(crate) span_events: usize,
}

/// What a pending span could not take: the span must start, and then take it.
#[must_use]
pub(crate) enum Overflow {
    None,
    Attribute(KeyValue),
    Link(SpanContext),
}

impl SpanState {
    pub(crate) fn new(pending: Pending, status: StatusFields) -> Self {
        Self {
            otel: Otel::Pending(pending),
            status,
            span_events: 0,
        }
    }

    /// The started span, if it is.
    pub(crate) fn started(&mut self) -> Option<&mut Span> {
        match &mut self.otel {
            Otel::Started(span) => Some(span),
            _ => None,
        }
    }

    /// Re-parents a pending span (`None`: a new trace). `false` when already started.
    pub(crate) fn set_parent(&mut self, parent: Option<SpanContext>) -> bool {
        match &mut self.otel {
            Otel::Pending(p) => {
                p.parent = parent.filter(SpanContext::is_valid);
                true
            }
            _ => false,
        }
    }

    /// Applies a span's fields (recorded later, or through the extension trait).
    pub(crate) fn record(&mut self, fields: SpanFields) -> Vec<KeyValue> {
        if fields.status_touched {
            if fields.status.code.is_some() {
                self.status.code = fields.status.code;
            }
            if fields.status.description.is_some() {
                self.status.description = fields.status.description;
            }
        }
        let status = fields
            .status_touched
            .then(|| self.status.status())
            .flatten();
        let mut overflow = Vec::new();
        match &mut self.otel {
            Otel::Pending(p) => {
                if let Some(name) = fields.name {
                    p.name = name.into();
                }
                if let Some(kind) = fields.kind {
                    p.kind = kind;
                }
                for attribute in fields.attributes {
                    if let Some(kv) = upsert(&mut p.attributes, attribute) {
                        overflow.push(kv);
                    }
                }
            }
            Otel::Started(span) => {
                if let Some(name) = fields.name {
                    span.update_name(name);
                }
                span.set_attributes(fields.attributes);
                if let Some(status) = status {
                    span.set_status(status);
                }
            }
            Otel::Starting => {}
        }
        overflow
    }

    pub(crate) fn set_attribute(&mut self, attribute: KeyValue) -> Overflow {
        match &mut self.otel {
            Otel::Pending(p) => {
                upsert(&mut p.attributes, attribute).map_or(Overflow::None, Overflow::Attribute)
            }
            Otel::Started(span) => {
                span.set_attribute(attribute);
                Overflow::None
            }
            Otel::Starting => Overflow::None,
        }
    }

    pub(crate) fn add_link(&mut self, span_context: SpanContext) -> Overflow {
        if !span_context.is_valid() {
            return Overflow::None;
        }
        match &mut self.otel {
            Otel::Pending(p) if p.links.len() < MAX_PENDING => {
                p.links.push(Link::new(span_context, Vec::new()));
                Overflow::None
            }
            Otel::Pending(_) => Overflow::Link(span_context),
            Otel::Started(span) => {
                span.add_link(span_context, Vec::new());
                Overflow::None
            }
            Otel::Starting => Overflow::None,
        }
    }

    pub(crate) fn set_status(&mut self, status: Status) {
        match &mut self.otel {
            // Kept as fields so that it is applied at the start, and `Ok` stays final.
            Otel::Pending(_) => match status {
                Status::Unset => {}
                _ if self.status.code == Some(StatusCode::Ok) => {}
                Status::Ok => self.status.code = Some(StatusCode::Ok),
                Status::Error { description } => {
                    self.status.code = Some(StatusCode::Error);
                    self.status.description = Some(description.into_owned());
                }
            },
            Otel::Started(span) => span.set_status(status),
            Otel::Starting => {}
        }
    }
}

/// Replaces the attribute of the same key, or appends; gives the attribute back when the
/// pending span is full.
fn upsert(attributes: &mut Vec<KeyValue>, attribute: KeyValue) -> Option<KeyValue> {
    if let Some(existing) = attributes.iter_mut().find(|kv| kv.key == attribute.key) {
        existing.value = attribute.value;
        None
    } else if attributes.len() < MAX_PENDING {
        attributes.push(attribute);
        None
    } else {
        Some(attribute)
    }
}

fn start_pending(tracer: &Tracer, pending: Pending, status: Option<Status>) -> Span {
    let Pending {
        name,
        kind,
        parent,
        attributes,
        links,
        start_time,
    } = pending;
    let mut builder = tracer
        .span(name)
        .kind(kind)
        .attributes(attributes)
        .start_time(start_time);
    builder = match parent {
        Some(parent) => builder.parent_span_context(parent),
        None => builder.root(),
    };
    for link in links {
        builder = builder.link(link);
    }
    let mut span = builder.start();
    if let Some(status) = status {
        span.set_status(status);
    }
    span
}

/// Starts the span's SDK span if it is pending; its span context either way. `None` when the
/// layer keeps nothing for the span, or another thread is starting it right now.
pub(crate) fn ensure_started<'a, R>(span: &SpanRef<'a, R>, tracer: &Tracer) -> Option<SpanContext>
where
    R: LookupSpan<'a>,
{
    let (pending, status) = {
        let mut extensions = span.extensions_mut();
        let state = extensions.get_mut::<SpanState>()?;
        match &state.otel {
            Otel::Started(started) => return Some(started.span_context().clone()),
            Otel::Starting => return None,
            Otel::Pending(_) => {}
        }
        let Otel::Pending(pending) = mem::replace(&mut state.otel, Otel::Starting) else {
            return None;
        };
        (pending, state.status.status())
    };
    let started = start_pending(tracer, pending, status);
    let span_context = started.span_context().clone();
    let leftover = {
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanState>() {
            Some(state) => {
                state.otel = Otel::Started(started);
                None
            }
            // Closed meanwhile: end it, outside the lock.
            None => Some(started),
        }
    };
    drop(leftover);
    Some(span_context)
}

/// Runs `f` on the state, under the extensions lock. `None` when the layer keeps nothing.
pub(crate) fn with_state<'a, R, T>(
    span: &SpanRef<'a, R>,
    f: impl FnOnce(&mut SpanState) -> T,
) -> Option<T>
where
    R: LookupSpan<'a>,
{
    let mut extensions = span.extensions_mut();
    extensions.get_mut::<SpanState>().map(f)
}

/// Runs `f` on the started SDK span, starting it first if pending.
pub(crate) fn with_started<'a, R>(
    span: &SpanRef<'a, R>,
    tracer: &Tracer,
    f: impl FnOnce(&mut SpanState),
) where
    R: LookupSpan<'a>,
{
    if ensure_started(span, tracer).is_some() {
        let _ = with_state(span, f);
    }
}

/// Applies what a pending span could not take.
pub(crate) fn apply_overflow<'a, R>(span: &SpanRef<'a, R>, tracer: &Tracer, overflow: Overflow)
where
    R: LookupSpan<'a>,
{
    match overflow {
        Overflow::None => {}
        Overflow::Attribute(kv) => with_started(span, tracer, |s| {
            if let Some(span) = s.started() {
                span.set_attribute(kv);
            }
        }),
        Overflow::Link(sc) => with_started(span, tracer, |s| {
            if let Some(span) = s.started() {
                span.add_link(sc, Vec::new());
            }
        }),
    }
}

/// Removes the state at close and ends the SDK span now (starting it first if it never
/// started), outside the lock.
pub(crate) fn close<'a, R>(span: &SpanRef<'a, R>, tracer: &Tracer)
where
    R: LookupSpan<'a>,
{
    let state = span.extensions_mut().remove::<SpanState>();
    let Some(state) = state else { return };
    match state.otel {
        Otel::Pending(pending) => {
            let mut started = start_pending(tracer, pending, state.status.status());
            started.end();
        }
        Otel::Started(mut started) => started.end(),
        // The starting thread finds the state gone and ends the span.
        Otel::Starting => {}
    }
}
