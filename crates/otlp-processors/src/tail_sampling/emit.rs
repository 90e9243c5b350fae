//! Rebuilds outgoing `ResourceSpans` from tagged spans (`group.rs`): the spans of one
//! received scope go into one `ScopeSpans`, under one `ResourceSpans` per received resource,
//! so a resource shared by many sampled traces is sent once per outgoing request, not once
//! per trace. Resources and scopes are copied once per outgoing request.

use std::sync::Arc;

use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans};

use super::group::{ResourceHead, ScopeHead, TaggedSpan};
use super::hash::{IdMap, id_map};

/// The spans of one outgoing request, being assembled.
#[derive(Debug)]
pub(crate) struct Outgoing {
    out: Vec<ResourceSpans>,
    /// Received resource (by address) → its index in `out`. The `Arc` held keeps the address
    /// from being reused while the request is assembled.
    resources: IdMap<usize, (Arc<ResourceHead>, usize)>,
    /// Received scope (by address) → its resource's index in `out`, its index there.
    scopes: IdMap<usize, (Arc<ScopeHead>, usize, usize)>,
    /// The last span's scope (address) and its indices: runs of one scope skip the maps.
    last: Option<(usize, usize, usize)>,
}

impl Outgoing {
    /// Nothing yet.
    pub(crate) fn new() -> Outgoing {
        Outgoing {
            out: Vec::new(),
            resources: id_map(0),
            scopes: id_map(0),
            last: None,
        }
    }

    /// Adds `tagged` under its resource and scope.
    pub(crate) fn push(&mut self, tagged: TaggedSpan) {
        let TaggedSpan { scope, span } = tagged;
        let key = Arc::as_ptr(&scope).addr();
        let (r, s) = match self.last {
            Some((last, r, s)) if last == key => (r, s),
            _ => {
                let (r, s) = self.slot(key, scope);
                self.last = Some((key, r, s));
                (r, s)
            }
        };
        if let Some(target) = self.out.get_mut(r).and_then(|rs| rs.scope_spans.get_mut(s)) {
            target.spans.push(span);
        }
    }

    /// Adds every span of `spans`.
    pub(crate) fn extend(&mut self, spans: impl IntoIterator<Item = TaggedSpan>) {
        for tagged in spans {
            self.push(tagged);
        }
    }

    /// The indices of `scope`'s `ScopeSpans` (`key` is its address), created when new.
    fn slot(&mut self, key: usize, scope: Arc<ScopeHead>) -> (usize, usize) {
        if let Some((_, r, s)) = self.scopes.get(&key) {
            return (*r, *s);
        }
        let resource_key = Arc::as_ptr(&scope.resource).addr();
        let r = match self.resources.get(&resource_key) {
            Some((_, r)) => *r,
            None => {
                self.out.push(ResourceSpans {
                    resource: scope.resource.resource.clone(),
                    scope_spans: Vec::new(),
                    schema_url: scope.resource.schema_url.clone(),
                });
                let r = self.out.len() - 1;
                self.resources
                    .insert(resource_key, (Arc::clone(&scope.resource), r));
                r
            }
        };
        let s = match self.out.get_mut(r) {
            Some(rs) => {
                rs.scope_spans.push(ScopeSpans {
                    scope: scope.scope.clone(),
                    spans: Vec::new(),
                    schema_url: scope.schema_url.clone(),
                });
                rs.scope_spans.len() - 1
            }
            None => 0,
        };
        self.scopes.insert(key, (scope, r, s));
        (r, s)
    }

    /// The assembled `ResourceSpans`, in order of first use.
    pub(crate) fn finish(self) -> Vec<ResourceSpans> {
        self.out
    }
}
