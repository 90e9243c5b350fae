//! Splits an incoming request by trace id without copying resources or scopes: each
//! resource and each scope of the request is put behind an [`Arc`] once, and every span is
//! tagged with its scope's (which holds its resource's). The traces buffered from one request
//! share them; `emit.rs` rebuilds outgoing requests from the tags.

use std::sync::Arc;

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::InstrumentationScope;
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::hash::{IdMap, id_map};
use super::store::{TraceId, trace_key};

/// A received resource (of one `ResourceSpans`), shared by its spans.
#[derive(Debug)]
pub(crate) struct ResourceHead {
    /// The resource.
    pub(crate) resource: Option<Resource>,
    /// The `ResourceSpans`' schema URL.
    pub(crate) schema_url: String,
}

/// A received scope (of one `ScopeSpans`) and its resource, shared by its spans.
#[derive(Debug)]
pub(crate) struct ScopeHead {
    /// The resource the scope was received under.
    pub(crate) resource: Arc<ResourceHead>,
    /// The scope.
    pub(crate) scope: Option<InstrumentationScope>,
    /// The `ScopeSpans`' schema URL.
    pub(crate) schema_url: String,
}

/// A span and the scope (and resource) it was received under.
#[derive(Debug)]
pub(crate) struct TaggedSpan {
    /// Its scope and resource.
    pub(crate) scope: Arc<ScopeHead>,
    /// The span.
    pub(crate) span: Span,
}

impl TaggedSpan {
    /// The resource the span was received under.
    pub(crate) fn resource(&self) -> Option<&Resource> {
        self.scope.resource.resource.as_ref()
    }
}

/// No next span.
const END: usize = usize::MAX;

/// One trace of a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceGroup {
    /// The trace id.
    pub(crate) id: TraceId,
    /// How many spans.
    pub(crate) span_count: u64,
    /// Its first span's index in [`Grouped::spans`].
    first: usize,
    /// Its last span's index.
    last: usize,
}

/// A request's spans by trace, in order of each trace's first span: each trace's spans are a
/// chain through `next`, taken out with [`Grouped::take`].
#[derive(Debug)]
pub(crate) struct Grouped {
    groups: Vec<TraceGroup>,
    spans: Vec<Option<TaggedSpan>>,
    next: Vec<usize>,
}

impl Grouped {
    /// The traces, in order of their first span.
    pub(crate) fn groups(&self) -> &[TraceGroup] {
        &self.groups
    }

    /// Takes the spans of trace `g` (of [`groups`](Self::groups)), in arrival order; empty
    /// when taken already.
    pub(crate) fn take(&mut self, g: usize) -> Take<'_> {
        let (at, remaining) = match self.groups.get_mut(g) {
            Some(group) if group.first != END => {
                (std::mem::replace(&mut group.first, END), group.span_count)
            }
            _ => (END, 0),
        };
        Take {
            spans: &mut self.spans,
            next: &self.next,
            at,
            remaining: usize::try_from(remaining).unwrap_or(usize::MAX),
        }
    }
}

/// The spans of one trace of a [`Grouped`].
#[derive(Debug)]
pub(crate) struct Take<'a> {
    spans: &'a mut [Option<TaggedSpan>],
    next: &'a [usize],
    at: usize,
    remaining: usize,
}

impl Iterator for Take<'_> {
    type Item = TaggedSpan;

    fn next(&mut self) -> Option<TaggedSpan> {
        let span = self.spans.get_mut(self.at)?.take()?;
        self.at = self.next.get(self.at).copied().unwrap_or(END);
        self.remaining = self.remaining.saturating_sub(1);
        Some(span)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

/// Splits `request` by trace.
pub(crate) fn by_trace(request: ExportTraceServiceRequest) -> Grouped {
    let total: usize = request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum();
    let mut grouped = Grouped {
        groups: Vec::new(),
        spans: Vec::with_capacity(total),
        next: Vec::with_capacity(total),
    };
    let mut index: IdMap<TraceId, usize> = id_map(total);
    // The last span's trace and group: consecutive spans of one trace skip the map.
    let mut last: Option<(TraceId, usize)> = None;
    for rs in request.resource_spans {
        let ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        } = rs;
        let resource = Arc::new(ResourceHead {
            resource,
            schema_url,
        });
        for ss in scope_spans {
            let ScopeSpans {
                scope,
                spans,
                schema_url,
            } = ss;
            if spans.is_empty() {
                continue;
            }
            let scope = Arc::new(ScopeHead {
                resource: Arc::clone(&resource),
                scope,
                schema_url,
            });
            for span in spans {
                let id = trace_key(&span.trace_id);
                let at = grouped.spans.len();
                let g = match last {
                    Some((last_id, g)) if last_id == id => g,
                    _ => *index.entry(id).or_insert_with(|| {
                        grouped.groups.push(TraceGroup {
                            id,
                            span_count: 0,
                            first: at,
                            last: at,
                        });
                        grouped.groups.len() - 1
                    }),
                };
                last = Some((id, g));
                if let Some(group) = grouped.groups.get_mut(g) {
                    if group.span_count > 0
                        && let Some(link) = grouped.next.get_mut(group.last)
                    {
                        *link = at;
                    }
                    group.last = at;
                    group.span_count += 1;
                }
                grouped.spans.push(Some(TaggedSpan {
                    scope: Arc::clone(&scope),
                    span,
                }));
                grouped.next.push(END);
            }
        }
    }
    grouped
}
