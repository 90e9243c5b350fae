//! Splits an incoming request by trace id, keeping each span's resource and scope: for every
//! trace, one `ResourceSpans` per resource it has spans under, with one `ScopeSpans` per scope.

use std::collections::HashMap;

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans};

use super::store::{TraceId, trace_key};

/// The spans of one trace from one request.
#[derive(Debug)]
pub(crate) struct TraceGroup {
    /// The trace id.
    pub(crate) id: TraceId,
    /// Its spans with their resources and scopes.
    pub(crate) batches: Vec<ResourceSpans>,
    /// How many spans.
    pub(crate) span_count: u64,
}

/// The request's spans by trace, in order of each trace's first span.
pub(crate) fn by_trace(request: ExportTraceServiceRequest) -> Vec<TraceGroup> {
    let mut groups: Vec<TraceGroup> = Vec::new();
    let mut index: HashMap<TraceId, usize> = HashMap::new();
    for rs in request.resource_spans {
        let ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        } = rs;
        // (group, resource index in the group, scope index it last received) for this resource.
        let mut here: HashMap<usize, (usize, usize)> = HashMap::new();
        for (scope_index, ss) in scope_spans.into_iter().enumerate() {
            let ScopeSpans {
                scope,
                spans,
                schema_url: scope_schema,
            } = ss;
            for span in spans {
                let id = trace_key(&span.trace_id);
                let g = *index.entry(id).or_insert_with(|| {
                    groups.push(TraceGroup {
                        id,
                        batches: Vec::new(),
                        span_count: 0,
                    });
                    groups.len() - 1
                });
                let Some(group) = groups.get_mut(g) else {
                    continue;
                };
                group.span_count += 1;
                let (r, last_scope) = *here.entry(g).or_insert_with(|| {
                    group.batches.push(ResourceSpans {
                        resource: resource.clone(),
                        scope_spans: Vec::new(),
                        schema_url: schema_url.clone(),
                    });
                    (group.batches.len() - 1, usize::MAX)
                });
                let Some(target) = group.batches.get_mut(r) else {
                    continue;
                };
                if last_scope != scope_index {
                    target.scope_spans.push(ScopeSpans {
                        scope: scope.clone(),
                        spans: Vec::new(),
                        schema_url: scope_schema.clone(),
                    });
                    here.insert(g, (r, scope_index));
                }
                if let Some(last) = target.scope_spans.last_mut() {
                    last.spans.push(span);
                }
            }
        }
    }
    groups
}
