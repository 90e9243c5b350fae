//! Differential test: the same measurements recorded with opentelemetry-rust 0.33 (its output
//! turned into OTLP by `opentelemetry-proto`'s transform) and with otlp-sdk, under cumulative
//! and delta temporality, must give the same metrics: names, units, descriptions, kinds,
//! temporality, monotonicity, and every data point's attributes and values (bucket counts,
//! bounds, sum, count, min, max). Timestamps differ by nature; both must be ordered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::metrics::v1::metric;
use prost::Message;

/// The measurements, applied twice with a collection between (so delta shows its reset).
/// One measurement: instrument, value, attributes.
type Measurement = (&'static str, f64, Vec<(&'static str, &'static str)>);

fn rounds() -> Vec<Vec<Measurement>> {
    vec![
        vec![
            ("requests", 1.0, vec![("route", "/a"), ("method", "GET")]),
            ("requests", 2.0, vec![("method", "GET"), ("route", "/a")]),
            ("requests", 5.0, vec![("route", "/b"), ("method", "GET")]),
            ("queue", 4.0, vec![]),
            ("latency", 0.2, vec![("route", "/a")]),
            ("latency", 7.0, vec![("route", "/a")]),
            ("latency", 120.0, vec![("route", "/a")]),
            ("sizes", 3.0, vec![]),
            ("temperature", 20.5, vec![("room", "1")]),
        ],
        vec![
            ("requests", 3.0, vec![("route", "/a"), ("method", "GET")]),
            ("queue", -1.0, vec![]),
            ("latency", 0.0, vec![("route", "/a")]),
            ("sizes", 9.0, vec![]),
            ("temperature", 19.0, vec![("room", "1")]),
        ],
    ]
}

fn ours(delta: bool) -> Vec<ExportMetricsServiceRequest> {
    use otlp_sdk::metrics::{ManualReader, MeterProvider, TemporalityPreference};
    use otlp_sdk::{InstrumentationScope, KeyValue, Resource};
    let reader = ManualReader::new(if delta {
        TemporalityPreference::Delta
    } else {
        TemporalityPreference::Cumulative
    });
    let provider = MeterProvider::builder()
        .with_resource(Resource::builder().with_service_name("diff").build())
        .with_reader(reader.clone())
        .build();
    let meter = provider.meter_with_scope(
        InstrumentationScope::builder("diff.meter")
            .version("1.0")
            .build(),
    );
    let requests = meter
        .u64_counter("requests")
        .with_unit("{request}")
        .with_description("served")
        .build();
    let queue = meter.i64_up_down_counter("queue").build();
    let latency = meter.f64_histogram("latency").with_unit("ms").build();
    let sizes = meter
        .u64_histogram("sizes")
        .with_boundaries(vec![1.0, 5.0, 10.0])
        .build();
    let temperature = meter.f64_gauge("temperature").with_unit("Cel").build();
    let _observed = meter
        .u64_observable_counter("cpu.time")
        .with_callback(|o| o.observe(42, &[KeyValue::new("cpu", "0")]))
        .build();
    let mut out = Vec::new();
    for round in rounds() {
        for (name, value, attrs) in round {
            let attrs: Vec<KeyValue> = attrs
                .into_iter()
                .map(|(k, v)| KeyValue::new(k, v))
                .collect();
            match name {
                "requests" => requests.add(value as u64, &attrs),
                "queue" => queue.add(value as i64, &attrs),
                "latency" => latency.record(value, &attrs),
                "sizes" => sizes.record(value as u64, &attrs),
                "temperature" => temperature.record(value, &attrs),
                _ => unreachable!(),
            }
        }
        out.push(reader.collect().unwrap());
    }
    out
}

mod otel {
    use super::*;
    use opentelemetry::KeyValue;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest as Theirs;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::metrics::data::ResourceMetrics;
    use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
    use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};

    struct ToOtlp {
        temporality: Temporality,
        out: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    impl PushMetricExporter for ToOtlp {
        async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
            self.out
                .lock()
                .unwrap()
                .push(Theirs::from(metrics).encode_to_vec());
            Ok(())
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
            Ok(())
        }
        fn temporality(&self) -> Temporality {
            self.temporality
        }
    }

    /// An exporter that keeps what it is given as OTLP bytes.
    pub(super) fn to_otlp(out: Arc<Mutex<Vec<Vec<u8>>>>, delta: bool) -> impl PushMetricExporter {
        ToOtlp {
            temporality: if delta {
                Temporality::Delta
            } else {
                Temporality::Cumulative
            },
            out,
        }
    }

    pub(super) fn program(delta: bool) -> Vec<ExportMetricsServiceRequest> {
        let out = Arc::new(Mutex::new(Vec::new()));
        let exporter = to_otlp(Arc::clone(&out), delta);
        let reader = PeriodicReader::builder(exporter)
            .with_interval(Duration::from_secs(3600))
            .build();
        let provider = SdkMeterProvider::builder()
            .with_resource(Resource::builder().with_service_name("diff").build())
            .with_reader(reader)
            .build();
        let scope = opentelemetry::InstrumentationScope::builder("diff.meter")
            .with_version("1.0")
            .build();
        let meter = provider.meter_with_scope(scope);
        let requests = meter
            .u64_counter("requests")
            .with_unit("{request}")
            .with_description("served")
            .build();
        let queue = meter.i64_up_down_counter("queue").build();
        let latency = meter.f64_histogram("latency").with_unit("ms").build();
        let sizes = meter
            .u64_histogram("sizes")
            .with_boundaries(vec![1.0, 5.0, 10.0])
            .build();
        let temperature = meter.f64_gauge("temperature").with_unit("Cel").build();
        let _observed = meter
            .u64_observable_counter("cpu.time")
            .with_callback(|o| o.observe(42, &[KeyValue::new("cpu", "0")]))
            .build();
        for round in rounds() {
            for (name, value, attrs) in round {
                let attrs: Vec<KeyValue> = attrs
                    .into_iter()
                    .map(|(k, v)| KeyValue::new(k, v))
                    .collect();
                match name {
                    "requests" => requests.add(value as u64, &attrs),
                    "queue" => queue.add(value as i64, &attrs),
                    "latency" => latency.record(value, &attrs),
                    "sizes" => sizes.record(value as u64, &attrs),
                    "temperature" => temperature.record(value, &attrs),
                    _ => unreachable!(),
                }
            }
            provider.force_flush().unwrap();
        }
        let bytes = out.lock().unwrap().clone();
        bytes
            .iter()
            .map(|b| ExportMetricsServiceRequest::decode(b.as_slice()).unwrap())
            .collect()
    }
}

/// Every metric as text without timestamps, sorted; timestamps checked for order.
fn normalize(request: &ExportMetricsServiceRequest) -> Vec<String> {
    let mut out = Vec::new();
    for rm in &request.resource_metrics {
        let service = rm
            .resource
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .find(|kv| kv.key == "service.name")
            .cloned();
        for sm in &rm.scope_metrics {
            let scope = sm.scope.as_ref().unwrap();
            for m in &sm.metrics {
                let mut m = m.clone();
                let mut points = Vec::new();
                macro_rules! points {
                    ($ps:expr) => {
                        for p in $ps.iter_mut() {
                            assert!(p.start_time_unix_nano <= p.time_unix_nano, "{}", m.name);
                            p.start_time_unix_nano = 0;
                            p.time_unix_nano = 0;
                            p.attributes.sort_by(|a, b| a.key.cmp(&b.key));
                            points.push(format!("{p:?}"));
                        }
                    };
                }
                let kind = match m.data.as_mut() {
                    Some(metric::Data::Sum(s)) => {
                        points!(s.data_points);
                        format!(
                            "sum temporality={} monotonic={}",
                            s.aggregation_temporality, s.is_monotonic
                        )
                    }
                    Some(metric::Data::Gauge(g)) => {
                        points!(g.data_points);
                        "gauge".to_owned()
                    }
                    Some(metric::Data::Histogram(h)) => {
                        points!(h.data_points);
                        format!("histogram temporality={}", h.aggregation_temporality)
                    }
                    other => panic!("unexpected {other:?}"),
                };
                points.sort();
                out.push(format!(
                    "{:?} scope={}@{} {} unit={:?} description={:?} {kind} points={points:?}",
                    service.as_ref().map(|s| &s.value),
                    scope.name,
                    scope.version,
                    m.name,
                    m.unit,
                    m.description
                ));
            }
        }
    }
    out.sort();
    out
}

fn compare(delta: bool) {
    let ours = ours(delta);
    let theirs = otel::program(delta);
    assert_eq!(ours.len(), theirs.len());
    for (round, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        let (a, b) = (normalize(a), normalize(b));
        // requests, queue, latency, sizes, temperature and cpu.time (delta: the gauge and
        // the observable counter still report in the second round).
        assert_eq!(a.len(), 6, "round {round}: {a:#?}");
        assert_eq!(a.len(), b.len(), "round {round}: {a:#?}\n{b:#?}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                x, y,
                "round {round} (delta: {delta})\n ours:   {x}\n theirs: {y}"
            );
        }
    }
}

#[test]
fn cumulative_metrics_match_opentelemetry_rust() {
    compare(false);
}

#[test]
fn delta_metrics_match_opentelemetry_rust() {
    compare(true);
}

#[test]
fn opentelemetry_proto_decodes_our_metrics() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest as Theirs;
    let ours = ours(false);
    let start = Instant::now();
    for request in &ours {
        let bytes = request.encode_to_vec();
        let decoded = Theirs::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.encode_to_vec(), bytes, "nothing lost either way");
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// SplitMix64: fixed-seed values, the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Base-2 exponential histograms, chosen by a view in each SDK, over the same values.
#[test]
fn exponential_histograms_match_opentelemetry_rust() {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::{Instrument, SdkMeterProvider, Stream};

    let mut rng = SplitMix(7);
    let uniform: Vec<f64> = (0..1000).map(|_| rng.unit() * 1000.0).collect();
    let log_uniform: Vec<f64> = (0..1000)
        .map(|_| 10f64.powf(rng.unit() * 12.0 - 6.0))
        .collect();
    let with_zeros: Vec<f64> = (0..1000)
        .map(|i| if i % 5 == 0 { 0.0 } else { rng.unit() * 50.0 })
        .collect();
    for (values, max_size, max_scale) in [
        (&uniform, 160_usize, 20_i8),
        (&log_uniform, 160, 20),
        (&with_zeros, 160, 20),
        (&log_uniform, 4, 20),
        (&uniform, 160, 5),
    ] {
        // Ours.
        let reader = otlp_sdk::metrics::ManualReader::default();
        let provider = otlp_sdk::metrics::MeterProvider::builder()
            .with_reader(reader.clone())
            .with_view(otlp_sdk::metrics::View::named("h").aggregation(
                otlp_sdk::metrics::Aggregation::Base2ExponentialHistogram {
                    max_size,
                    max_scale,
                    record_min_max: true,
                },
            ))
            .build();
        let h = provider.meter("m").f64_histogram("h").build();
        for v in values {
            h.record(*v, &[]);
        }
        let ours = reader.collect().unwrap();

        // Theirs, through opentelemetry-proto's transform.
        let out = Arc::new(Mutex::new(Vec::new()));
        let exporter = otel::to_otlp(Arc::clone(&out), false);
        let view = move |i: &Instrument| {
            (i.name() == "h").then(|| {
                Stream::builder()
                    .with_aggregation(
                        opentelemetry_sdk::metrics::Aggregation::Base2ExponentialHistogram {
                            max_size: max_size as u32,
                            max_scale,
                            record_min_max: true,
                        },
                    )
                    .build()
                    .unwrap()
            })
        };
        let theirs_provider = SdkMeterProvider::builder()
            .with_periodic_exporter(exporter)
            .with_view(view)
            .build();
        let th = theirs_provider.meter("m").f64_histogram("h").build();
        for v in values {
            th.record(*v, &[]);
        }
        theirs_provider.force_flush().unwrap();
        let theirs =
            ExportMetricsServiceRequest::decode(out.lock().unwrap()[0].as_slice()).unwrap();

        let point = |r: &ExportMetricsServiceRequest| {
            let m = &r.resource_metrics[0].scope_metrics[0].metrics[0];
            let Some(metric::Data::ExponentialHistogram(e)) = &m.data else {
                panic!("{m:?}")
            };
            let mut p = e.data_points[0].clone();
            p.start_time_unix_nano = 0;
            p.time_unix_nano = 0;
            p
        };
        let (a, b) = (point(&ours), point(&theirs));
        assert_eq!(a.count, values.len() as u64);
        assert_eq!(a, b, "max_size {max_size}, max_scale {max_scale}");
    }
}
