//! Instruments: what the application records with.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::metrics::aggregation::SeriesState;
use crate::metrics::aggregation::state::Measure;
use crate::metrics::stream::Stream;
use crate::value::KeyValue;

/// The kinds of instrument, as the specification names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InstrumentKind {
    /// Monotonic, synchronous.
    Counter,
    /// Non-monotonic, synchronous.
    UpDownCounter,
    /// A distribution, synchronous.
    Histogram,
    /// A current value, synchronous.
    Gauge,
    /// Monotonic, observed by a callback.
    ObservableCounter,
    /// Non-monotonic, observed by a callback.
    ObservableUpDownCounter,
    /// A current value, observed by a callback.
    ObservableGauge,
}

impl InstrumentKind {
    /// Whether a callback feeds it.
    #[must_use]
    pub fn is_observable(self) -> bool {
        matches!(
            self,
            Self::ObservableCounter | Self::ObservableUpDownCounter | Self::ObservableGauge
        )
    }

    /// Whether its sums only grow.
    #[must_use]
    pub fn is_monotonic(self) -> bool {
        matches!(
            self,
            Self::Counter | Self::ObservableCounter | Self::Histogram
        )
    }
}

/// The number types instruments record: `u64`, `i64`, `f64`.
pub trait Number: Copy + Send + Sync + 'static + private::Sealed {}

impl Number for u64 {}
impl Number for i64 {}
impl Number for f64 {}

// `Measure` is the crate's own type; the trait is sealed, so nobody outside can name it.
#[allow(private_interfaces)]
mod private {
    use crate::metrics::aggregation::state::Measure;

    /// Sealed: the SDK's own conversion of a measurement.
    pub trait Sealed {
        fn measure(self) -> Measure;
    }

    impl Sealed for u64 {
        fn measure(self) -> Measure {
            Measure::Int(i64::try_from(self).unwrap_or(i64::MAX))
        }
    }

    impl Sealed for i64 {
        fn measure(self) -> Measure {
            Measure::Int(self)
        }
    }

    impl Sealed for f64 {
        fn measure(self) -> Measure {
            Measure::Float(self)
        }
    }
}

/// The streams an instrument feeds (one per reader and matching view).
#[derive(Clone, Debug, Default)]
pub(crate) struct Streams(pub(crate) Arc<[Arc<Stream>]>);

impl Streams {
    fn record(&self, m: Measure, attributes: &[KeyValue]) {
        for stream in self.0.iter() {
            stream.record(m, attributes);
        }
    }

    fn bind(&self, attributes: &[KeyValue]) -> Bound {
        Bound {
            series: self.0.iter().filter_map(|s| s.bind(attributes)).collect(),
        }
    }
}

/// Series fixed once for a bound instrument.
#[derive(Debug)]
struct Bound {
    series: Vec<(Arc<Stream>, Arc<SeriesState>)>,
}

impl Bound {
    fn record(&self, m: Measure) {
        for (stream, series) in &self.series {
            stream.record_bound(series, m);
        }
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        for (_, series) in &self.series {
            series.unbind();
        }
    }
}

macro_rules! sync_instrument {
    ($(#[$doc:meta])* $name:ident, $bound:ident, $method:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name<T> {
            streams: Streams,
            _number: PhantomData<T>,
        }

        impl<T: Number> $name<T> {
            pub(crate) fn new(streams: Streams) -> Self {
                Self { streams, _number: PhantomData }
            }

            #[doc = concat!("Records ", $what, " with `attributes` (any order).")]
            pub fn $method(&self, value: T, attributes: &[KeyValue]) {
                self.streams.record(value.measure(), attributes);
            }

            /// An instrument bound to `attributes`: recording skips the attribute lookup.
            pub fn bind(&self, attributes: &[KeyValue]) -> $bound<T> {
                $bound { bound: Arc::new(self.streams.bind(attributes)), _number: PhantomData }
            }
        }

        #[doc = concat!("A [`", stringify!($name), "`] bound to one attribute set.")]
        #[derive(Clone, Debug)]
        pub struct $bound<T> {
            bound: Arc<Bound>,
            _number: PhantomData<T>,
        }

        impl<T: Number> $bound<T> {
            #[doc = concat!("Records ", $what, ".")]
            pub fn $method(&self, value: T) {
                self.bound.record(value.measure());
            }
        }
    };
}

sync_instrument!(
    /// A monotonic sum (`u64`, `f64`): requests served, bytes sent.
    Counter, BoundCounter, add, "an increment"
);
sync_instrument!(
    /// A sum that goes up and down (`i64`, `f64`): queue length, active requests.
    UpDownCounter, BoundUpDownCounter, add, "a change"
);
sync_instrument!(
    /// A distribution (`u64`, `f64`): request durations, payload sizes.
    Histogram, BoundHistogram, record, "a value"
);
sync_instrument!(
    /// A current value recorded when it changes (`u64`, `i64`, `f64`): a temperature.
    Gauge, BoundGauge, record, "the current value"
);

/// What an observable instrument's callback reports into.
#[derive(Debug)]
pub struct Observer<'a, T> {
    streams: &'a [Arc<Stream>],
    _number: PhantomData<T>,
}

impl<'a, T: Number> Observer<'a, T> {
    pub(crate) fn new(streams: &'a [Arc<Stream>]) -> Self {
        Self {
            streams,
            _number: PhantomData,
        }
    }

    /// Reports the value of the series with `attributes` (for observable counters: the
    /// running total).
    pub fn observe(&self, value: T, attributes: &[KeyValue]) {
        for stream in self.streams {
            stream.record(value.measure(), attributes);
        }
    }
}

/// The handle of an observable instrument: the callback stays registered for the provider's
/// life.
#[derive(Clone, Debug)]
pub struct Observable<T> {
    _number: PhantomData<T>,
}

impl<T> Observable<T> {
    pub(crate) fn new() -> Self {
        Self {
            _number: PhantomData,
        }
    }
}
