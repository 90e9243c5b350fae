//! [`Meter`]: creates instruments for one instrumentation scope.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::metrics::InstrumentKind;
use crate::metrics::instrument::{
    Counter, Gauge, Histogram, Number, Observable, Observer, Streams, UpDownCounter,
};
use crate::metrics::pipeline::{Callback, InstrumentSpec, Pipeline};
use crate::metrics::stream::Stream;
use crate::scope::InstrumentationScope;

/// Creates instruments for one instrumentation scope. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Meter {
    pipelines: Arc<[Arc<Pipeline>]>,
    scope: InstrumentationScope,
}

/// Why an instrument name, unit or description is refused (the specification's rules).
pub(crate) fn check_identity(name: &str, unit: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok
        || name.len() > 255
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
    {
        return Err(format!(
            "invalid instrument name {name:?}: 1 to 255 ASCII characters, a letter first, then \
             letters, digits, '_', '.', '-' or '/'"
        ));
    }
    if unit.len() > 63 || !unit.is_ascii() {
        return Err(format!(
            "invalid unit {unit:?} of {name:?}: at most 63 ASCII characters"
        ));
    }
    Ok(())
}

impl Meter {
    pub(crate) fn new(pipelines: Arc<[Arc<Pipeline>]>, scope: InstrumentationScope) -> Self {
        Self { pipelines, scope }
    }

    /// The meter's scope.
    #[must_use]
    pub fn scope(&self) -> &InstrumentationScope {
        &self.scope
    }

    fn builder<I>(
        &self,
        name: impl Into<String>,
        kind: InstrumentKind,
        integer: bool,
    ) -> InstrumentBuilder<'_, I> {
        InstrumentBuilder {
            meter: self,
            spec: InstrumentSpec {
                name: name.into(),
                description: String::new(),
                unit: String::new(),
                kind,
                integer,
                boundaries: None,
            },
            _instrument: PhantomData,
        }
    }

    /// A `u64` counter.
    pub fn u64_counter(&self, name: impl Into<String>) -> InstrumentBuilder<'_, Counter<u64>> {
        self.builder(name, InstrumentKind::Counter, true)
    }

    /// An `f64` counter.
    pub fn f64_counter(&self, name: impl Into<String>) -> InstrumentBuilder<'_, Counter<f64>> {
        self.builder(name, InstrumentKind::Counter, false)
    }

    /// An `i64` up-down counter.
    pub fn i64_up_down_counter(
        &self,
        name: impl Into<String>,
    ) -> InstrumentBuilder<'_, UpDownCounter<i64>> {
        self.builder(name, InstrumentKind::UpDownCounter, true)
    }

    /// An `f64` up-down counter.
    pub fn f64_up_down_counter(
        &self,
        name: impl Into<String>,
    ) -> InstrumentBuilder<'_, UpDownCounter<f64>> {
        self.builder(name, InstrumentKind::UpDownCounter, false)
    }

    /// A `u64` histogram.
    pub fn u64_histogram(&self, name: impl Into<String>) -> InstrumentBuilder<'_, Histogram<u64>> {
        self.builder(name, InstrumentKind::Histogram, true)
    }

    /// An `f64` histogram.
    pub fn f64_histogram(&self, name: impl Into<String>) -> InstrumentBuilder<'_, Histogram<f64>> {
        self.builder(name, InstrumentKind::Histogram, false)
    }

    /// A `u64` gauge.
    pub fn u64_gauge(&self, name: impl Into<String>) -> InstrumentBuilder<'_, Gauge<u64>> {
        self.builder(name, InstrumentKind::Gauge, true)
    }

    /// An `i64` gauge.
    pub fn i64_gauge(&self, name: impl Into<String>) -> InstrumentBuilder<'_, Gauge<i64>> {
        self.builder(name, InstrumentKind::Gauge, true)
    }

    /// An `f64` gauge.
    pub fn f64_gauge(&self, name: impl Into<String>) -> InstrumentBuilder<'_, Gauge<f64>> {
        self.builder(name, InstrumentKind::Gauge, false)
    }

    /// A `u64` observable counter (the callback reports running totals).
    pub fn u64_observable_counter(&self, name: impl Into<String>) -> ObservableBuilder<'_, u64> {
        ObservableBuilder::new(self.builder::<()>(name, InstrumentKind::ObservableCounter, true))
    }

    /// An `f64` observable counter.
    pub fn f64_observable_counter(&self, name: impl Into<String>) -> ObservableBuilder<'_, f64> {
        ObservableBuilder::new(self.builder::<()>(name, InstrumentKind::ObservableCounter, false))
    }

    /// An `i64` observable up-down counter.
    pub fn i64_observable_up_down_counter(
        &self,
        name: impl Into<String>,
    ) -> ObservableBuilder<'_, i64> {
        ObservableBuilder::new(self.builder::<()>(
            name,
            InstrumentKind::ObservableUpDownCounter,
            true,
        ))
    }

    /// An `f64` observable up-down counter.
    pub fn f64_observable_up_down_counter(
        &self,
        name: impl Into<String>,
    ) -> ObservableBuilder<'_, f64> {
        ObservableBuilder::new(self.builder::<()>(
            name,
            InstrumentKind::ObservableUpDownCounter,
            false,
        ))
    }

    /// A `u64` observable gauge.
    pub fn u64_observable_gauge(&self, name: impl Into<String>) -> ObservableBuilder<'_, u64> {
        ObservableBuilder::new(self.builder::<()>(name, InstrumentKind::ObservableGauge, true))
    }

    /// An `i64` observable gauge.
    pub fn i64_observable_gauge(&self, name: impl Into<String>) -> ObservableBuilder<'_, i64> {
        ObservableBuilder::new(self.builder::<()>(name, InstrumentKind::ObservableGauge, true))
    }

    /// An `f64` observable gauge.
    pub fn f64_observable_gauge(&self, name: impl Into<String>) -> ObservableBuilder<'_, f64> {
        ObservableBuilder::new(self.builder::<()>(name, InstrumentKind::ObservableGauge, false))
    }

    fn streams(&self, spec: &InstrumentSpec) -> Vec<Vec<Arc<Stream>>> {
        if let Err(why) = check_identity(&spec.name, &spec.unit) {
            tracing::error!(target: "otlp_sdk", "{why}; the instrument records nothing");
            return Vec::new();
        }
        self.pipelines
            .iter()
            .map(|p| p.streams(&self.scope, spec))
            .collect()
    }
}

/// Builds an instrument: unit, description, advisory histogram boundaries.
#[derive(Debug)]
#[must_use = "an instrument builder does nothing until `build` is called"]
pub struct InstrumentBuilder<'m, I> {
    meter: &'m Meter,
    spec: InstrumentSpec,
    _instrument: PhantomData<I>,
}

impl<I> InstrumentBuilder<'_, I> {
    /// The unit (UCUM, e.g. `s`, `By`, `{request}`).
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.spec.unit = unit.into();
        self
    }

    /// The description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.spec.description = description.into();
        self
    }

    /// Advisory explicit bucket boundaries (histograms; a view's aggregation wins). Invalid
    /// boundaries (not finite, not increasing) are ignored with a warning.
    pub fn with_boundaries(mut self, boundaries: Vec<f64>) -> Self {
        let valid =
            boundaries.iter().all(|b| b.is_finite()) && boundaries.windows(2).all(|w| w[0] < w[1]);
        if valid {
            self.spec.boundaries = Some(boundaries);
        } else {
            tracing::warn!(target: "otlp_sdk", "ignoring invalid advisory boundaries of {:?}", self.spec.name);
        }
        self
    }

    fn all_streams(&self) -> Streams {
        Streams(
            self.meter
                .streams(&self.spec)
                .into_iter()
                .flatten()
                .collect(),
        )
    }
}

macro_rules! build {
    ($instrument:ident) => {
        impl<T: Number> InstrumentBuilder<'_, $instrument<T>> {
            /// Creates the instrument.
            pub fn build(self) -> $instrument<T> {
                $instrument::new(self.all_streams())
            }
        }
    };
}
build!(Counter);
build!(UpDownCounter);
build!(Histogram);
build!(Gauge);

/// A callback of an observable instrument.
type ObserveFn<T> = Arc<dyn Fn(&Observer<'_, T>) + Send + Sync>;

/// Builds an observable instrument: unit, description and its callbacks.
#[must_use = "an instrument builder does nothing until `build` is called"]
pub struct ObservableBuilder<'m, T> {
    inner: InstrumentBuilder<'m, ()>,
    callbacks: Vec<ObserveFn<T>>,
}

impl<T> std::fmt::Debug for ObservableBuilder<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservableBuilder")
            .field("spec", &self.inner.spec)
            .field("callbacks", &self.callbacks.len())
            .finish()
    }
}

impl<'m, T: Number> ObservableBuilder<'m, T> {
    fn new(inner: InstrumentBuilder<'m, ()>) -> Self {
        Self {
            inner,
            callbacks: Vec::new(),
        }
    }

    /// The unit.
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.inner = self.inner.with_unit(unit);
        self
    }

    /// The description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.inner = self.inner.with_description(description);
        self
    }

    /// A callback run at every collection; it reports through the [`Observer`].
    pub fn with_callback(
        mut self,
        callback: impl Fn(&Observer<'_, T>) + Send + Sync + 'static,
    ) -> Self {
        self.callbacks.push(Arc::new(callback));
        self
    }

    /// Creates the instrument and registers its callbacks.
    pub fn build(self) -> Observable<T> {
        let meter = self.inner.meter;
        let per_pipeline = meter.streams(&self.inner.spec);
        for (pipeline, streams) in meter.pipelines.iter().zip(per_pipeline) {
            for callback in &self.callbacks {
                let callback = Arc::clone(callback);
                let run: Callback = Arc::new(move |streams: &[Arc<Stream>]| {
                    callback(&Observer::new(streams));
                });
                pipeline.register_callback(&meter.scope, run, streams.clone());
            }
        }
        Observable::new()
    }
}
