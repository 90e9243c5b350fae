//! A reader's pipeline: the streams every instrument feeds for that reader, the callbacks of
//! observable instruments, and collection into an OTLP request.

use std::sync::{Arc, Mutex, PoisonError};

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::metrics::v1::{ResourceMetrics, ScopeMetrics};

use crate::export::worker::WireResource;
use crate::metrics::aggregation::{Aggregation, DEFAULT_BOUNDARIES};
use crate::metrics::exemplar::ExemplarFilter;
use crate::metrics::stream::{Stream, StreamDescriptor};
use crate::metrics::view::View;
use crate::metrics::{InstrumentKind, TemporalityPreference};
use crate::scope::InstrumentationScope;

/// What a new instrument asks for.
#[derive(Clone, Debug)]
pub(crate) struct InstrumentSpec {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) unit: String,
    pub(crate) kind: InstrumentKind,
    pub(crate) integer: bool,
    /// Advisory explicit bucket boundaries (histograms).
    pub(crate) boundaries: Option<Vec<f64>>,
}

/// A callback of an observable instrument, given the streams it reports into.
pub(crate) type Callback = Arc<dyn Fn(&[Arc<Stream>]) + Send + Sync>;

struct ScopeEntry {
    scope: InstrumentationScope,
    streams: Vec<Arc<Stream>>,
    callbacks: Vec<(Callback, Vec<Arc<Stream>>)>,
}

/// Settings shared by every pipeline of a provider.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) views: Arc<[View]>,
    pub(crate) exemplar_filter: ExemplarFilter,
    pub(crate) cardinality_limit: usize,
}

pub(crate) struct Pipeline {
    temporality: TemporalityPreference,
    settings: Settings,
    resource: WireResource,
    scopes: Mutex<Vec<ScopeEntry>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("temporality", &self.temporality)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    pub(crate) fn new(
        temporality: TemporalityPreference,
        settings: Settings,
        resource: WireResource,
    ) -> Self {
        Self {
            temporality,
            settings,
            resource,
            scopes: Mutex::new(Vec::new()),
        }
    }

    /// The streams `spec` feeds in this pipeline: one per matching view, or the default one;
    /// an instrument registered twice with the same identity gets the same streams.
    pub(crate) fn streams(
        &self,
        scope: &InstrumentationScope,
        spec: &InstrumentSpec,
    ) -> Vec<Arc<Stream>> {
        let descriptors = self.descriptors(scope, spec);
        let mut scopes = self.scopes.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entry(&mut scopes, scope);
        descriptors
            .into_iter()
            .map(|d| {
                if let Some(existing) = entry.streams.iter().find(|s| s.descriptor == d) {
                    return Arc::clone(existing);
                }
                if entry
                    .streams
                    .iter()
                    .any(|s| s.descriptor.name.eq_ignore_ascii_case(&d.name))
                {
                    tracing::warn!(
                        target: "otlp_sdk",
                        "duplicate instrument {:?} with a different kind, unit, description or \
                         aggregation: both streams are exported under the same name",
                        d.name
                    );
                }
                let stream = Arc::new(Stream::new(d));
                entry.streams.push(Arc::clone(&stream));
                stream
            })
            .collect()
    }

    /// Registers an observable instrument's callback with its streams in this pipeline.
    pub(crate) fn register_callback(
        &self,
        scope: &InstrumentationScope,
        callback: Callback,
        streams: Vec<Arc<Stream>>,
    ) {
        let mut scopes = self.scopes.lock().unwrap_or_else(PoisonError::into_inner);
        entry(&mut scopes, scope)
            .callbacks
            .push((callback, streams));
    }

    fn descriptors(
        &self,
        scope: &InstrumentationScope,
        spec: &InstrumentSpec,
    ) -> Vec<StreamDescriptor> {
        let matched: Vec<&View> = self
            .settings
            .views
            .iter()
            .filter(|v| v.matches(&spec.name, spec.kind, &spec.unit, scope))
            .collect();
        let base = |changes: crate::metrics::view::StreamChanges| {
            let aggregation = match changes.aggregation.unwrap_or(Aggregation::Default) {
                Aggregation::Default => default_aggregation(spec),
                other => other,
            };
            StreamDescriptor {
                name: changes.name.unwrap_or_else(|| spec.name.clone()),
                description: changes
                    .description
                    .unwrap_or_else(|| spec.description.clone()),
                unit: spec.unit.clone(),
                kind: spec.kind,
                integer: spec.integer,
                aggregation,
                keep: changes.keep,
                temporality: self.temporality.temporality(spec.kind),
                cardinality_limit: changes
                    .cardinality_limit
                    .unwrap_or(self.settings.cardinality_limit),
                exemplar_filter: self.settings.exemplar_filter,
            }
        };
        if matched.is_empty() {
            vec![base(Default::default())]
        } else {
            matched.into_iter().map(|v| base(v.changes())).collect()
        }
    }

    /// Runs the callbacks, then collects every stream: one OTLP request with this pipeline's
    /// resource (no scope without metrics).
    pub(crate) fn collect(&self) -> ExportMetricsServiceRequest {
        let (callbacks, streams): (Vec<_>, Vec<_>) = {
            let scopes = self.scopes.lock().unwrap_or_else(PoisonError::into_inner);
            (
                scopes
                    .iter()
                    .flat_map(|e| e.callbacks.iter().cloned())
                    .collect(),
                scopes
                    .iter()
                    .map(|e| (e.scope.clone(), e.streams.clone()))
                    .collect(),
            )
        };
        for (callback, streams) in &callbacks {
            callback(streams);
        }
        let now = otlp_model::time::now_unix_nanos();
        let scope_metrics: Vec<ScopeMetrics> = streams
            .into_iter()
            .filter_map(|(scope, streams)| {
                let metrics: Vec<_> = streams.iter().filter_map(|s| s.collect(now)).collect();
                (!metrics.is_empty()).then(|| ScopeMetrics {
                    scope: Some(scope.proto().clone()),
                    metrics,
                    schema_url: scope.schema_url().to_owned(),
                })
            })
            .collect();
        ExportMetricsServiceRequest {
            resource_metrics: if scope_metrics.is_empty() {
                Vec::new()
            } else {
                vec![ResourceMetrics {
                    resource: Some(self.resource.proto.clone()),
                    scope_metrics,
                    schema_url: self.resource.schema_url.clone(),
                }]
            },
        }
    }
}

fn entry<'a>(scopes: &'a mut Vec<ScopeEntry>, scope: &InstrumentationScope) -> &'a mut ScopeEntry {
    let index = match scopes.iter().position(|e| e.scope == *scope) {
        Some(index) => index,
        None => {
            scopes.push(ScopeEntry {
                scope: scope.clone(),
                streams: Vec::new(),
                callbacks: Vec::new(),
            });
            scopes.len() - 1
        }
    };
    &mut scopes[index]
}

fn default_aggregation(spec: &InstrumentSpec) -> Aggregation {
    match spec.kind {
        InstrumentKind::Counter
        | InstrumentKind::UpDownCounter
        | InstrumentKind::ObservableCounter
        | InstrumentKind::ObservableUpDownCounter => Aggregation::Sum,
        InstrumentKind::Gauge | InstrumentKind::ObservableGauge => Aggregation::LastValue,
        InstrumentKind::Histogram => Aggregation::ExplicitBucketHistogram {
            boundaries: spec
                .boundaries
                .clone()
                .unwrap_or_else(|| DEFAULT_BOUNDARIES.to_vec()),
            record_min_max: true,
        },
    }
}
