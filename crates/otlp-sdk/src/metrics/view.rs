//! Views: which instruments a reader sees, and how (rename, describe, keep some attribute
//! keys, change the aggregation, drop).

use crate::metrics::InstrumentKind;
use crate::metrics::aggregation::Aggregation;
use crate::scope::InstrumentationScope;
use crate::value::Key;

/// A view: a selection of instruments and the stream settings they get. Every criterion set
/// must match; an instrument that no view matches gets the default stream.
#[derive(Clone, Debug, Default)]
pub struct View {
    name: Option<String>,
    kind: Option<InstrumentKind>,
    unit: Option<String>,
    meter_name: Option<String>,
    meter_version: Option<String>,
    stream_name: Option<String>,
    description: Option<String>,
    keep: Option<Vec<Key>>,
    aggregation: Option<Aggregation>,
    cardinality_limit: Option<usize>,
}

/// What a matched view changes.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamChanges {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) keep: Option<Vec<Key>>,
    pub(crate) aggregation: Option<Aggregation>,
    pub(crate) cardinality_limit: Option<usize>,
}

impl View {
    /// A view selecting instruments by name: exact (case-insensitive), or a pattern with `*`
    /// (any run of characters) and `?` (one character).
    #[must_use]
    pub fn named(pattern: impl Into<String>) -> Self {
        Self {
            name: Some(pattern.into()),
            ..Self::default()
        }
    }

    /// A view selecting every instrument (narrow it with the other criteria).
    #[must_use]
    pub fn all() -> Self {
        Self::default()
    }

    /// Only instruments of this kind.
    #[must_use]
    pub fn kind(mut self, kind: InstrumentKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Only instruments with this unit.
    #[must_use]
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// Only instruments of meters with this name.
    #[must_use]
    pub fn meter_name(mut self, name: impl Into<String>) -> Self {
        self.meter_name = Some(name.into());
        self
    }

    /// Only instruments of meters with this version.
    #[must_use]
    pub fn meter_version(mut self, version: impl Into<String>) -> Self {
        self.meter_version = Some(version.into());
        self
    }

    /// Renames the stream (only for a view that selects one instrument by exact name: the
    /// specification forbids renaming through a wildcard, which would merge streams).
    #[must_use]
    pub fn rename(mut self, name: impl Into<String>) -> Self {
        self.stream_name = Some(name.into());
        self
    }

    /// Replaces the description.
    #[must_use]
    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Keeps only these attribute keys (the others go to exemplars' filtered attributes).
    #[must_use]
    pub fn keep_attributes<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<Key>,
    {
        self.keep = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// Replaces the aggregation ([`Aggregation::Drop`] drops the instrument).
    #[must_use]
    pub fn aggregation(mut self, aggregation: Aggregation) -> Self {
        self.aggregation = Some(aggregation);
        self
    }

    /// Series per stream at most, overflow series included (default 2000).
    #[must_use]
    pub fn cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = Some(limit);
        self
    }

    /// Checks the view itself: a rename needs an exact name selection; the aggregation
    /// must be valid.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.stream_name.is_some() && self.name.as_deref().is_none_or(is_pattern) {
            return Err("a view that renames must select one instrument by its exact name".into());
        }
        if let Some(aggregation) = &self.aggregation {
            aggregation.validate()?;
        }
        Ok(())
    }

    pub(crate) fn matches(
        &self,
        name: &str,
        kind: InstrumentKind,
        unit: &str,
        scope: &InstrumentationScope,
    ) -> bool {
        self.name.as_deref().is_none_or(|p| wildcard(p, name))
            && self.kind.is_none_or(|k| k == kind)
            && self.unit.as_deref().is_none_or(|u| u == unit)
            && self.meter_name.as_deref().is_none_or(|m| m == scope.name())
            && self
                .meter_version
                .as_deref()
                .is_none_or(|v| v == scope.version())
    }

    pub(crate) fn changes(&self) -> StreamChanges {
        StreamChanges {
            name: self.stream_name.clone(),
            description: self.description.clone(),
            keep: self.keep.clone(),
            aggregation: self.aggregation.clone(),
            cardinality_limit: self.cardinality_limit,
        }
    }
}

fn is_pattern(name: &str) -> bool {
    name.contains(['*', '?'])
}

/// Case-insensitive match of `name` against `pattern` with `*` and `?`.
pub(crate) fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let n: Vec<char> = name.to_lowercase().chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("http.*", "http.server.duration"));
        assert!(wildcard("HTTP.server.?uration", "http.server.duration"));
        assert!(wildcard("*", "anything"));
        assert!(wildcard("*.duration", "rpc.client.duration"));
        assert!(!wildcard("http.*", "rpc.server.duration"));
        assert!(!wildcard("a?c", "abbc"));
        assert!(wildcard("a*b*c", "aXbYc"));
        assert!(!wildcard("a*b*c", "aXbY"));
    }

    #[test]
    fn renaming_needs_an_exact_selection() {
        assert!(View::named("http.*").rename("x").validate().is_err());
        assert!(View::all().rename("x").validate().is_err());
        assert!(
            View::named("http.server.duration")
                .rename("x")
                .validate()
                .is_ok()
        );
        let bad = View::named("h").aggregation(Aggregation::ExplicitBucketHistogram {
            boundaries: vec![2.0, 1.0],
            record_min_max: true,
        });
        assert!(bad.validate().is_err());
    }
}
