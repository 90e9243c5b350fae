//! Metrics through a real provider and readers, against hand-computed values.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::metrics::v1::{Metric, NumberDataPoint, metric, number_data_point};
use otlp_sdk::export::InMemoryExporter;
use otlp_sdk::metrics::{
    Aggregation, ExemplarFilter, InstrumentKind, ManualReader, MeterProvider, OVERFLOW_ATTRIBUTE,
    PeriodicReader, PeriodicSettings, TemporalityPreference, View,
};
use otlp_sdk::trace::TracerProvider;
use otlp_sdk::{KeyValue, Resource};

fn provider(readers: &[&ManualReader]) -> MeterProvider {
    let mut builder = MeterProvider::builder().with_resource(Resource::new([KeyValue::new(
        "service.name",
        "metrics-test",
    )]));
    for r in readers {
        builder = builder.with_reader((*r).clone());
    }
    builder.build()
}

fn metric<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> Option<&'a Metric> {
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .find(|m| m.name == name)
}

fn numbers(m: &Metric) -> &[NumberDataPoint] {
    match m.data.as_ref() {
        Some(metric::Data::Sum(s)) => &s.data_points,
        Some(metric::Data::Gauge(g)) => &g.data_points,
        other => panic!("not a number metric: {other:?}"),
    }
}

fn int(p: &NumberDataPoint) -> i64 {
    match p.value {
        Some(number_data_point::Value::AsInt(i)) => i,
        other => panic!("not an int: {other:?}"),
    }
}

fn double(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        other => panic!("not a double: {other:?}"),
    }
}

fn attr(p: &[otlp_proto::common::v1::KeyValue]) -> Vec<String> {
    p.iter()
        .map(|kv| {
            format!(
                "{}={:?}",
                kv.key,
                kv.value.as_ref().and_then(|v| v.value.as_ref())
            )
        })
        .collect()
}

#[test]
fn counters_sum_per_attribute_set_whatever_the_order() {
    let reader = ManualReader::default();
    let provider = provider(&[&reader]);
    let meter = provider.meter("test");
    let counter = meter
        .u64_counter("requests")
        .with_unit("{request}")
        .with_description("served")
        .build();
    counter.add(
        1,
        &[KeyValue::new("route", "/a"), KeyValue::new("code", 200)],
    );
    counter.add(
        2,
        &[KeyValue::new("code", 200), KeyValue::new("route", "/a")],
    );
    counter.add(
        5,
        &[KeyValue::new("route", "/b"), KeyValue::new("code", 200)],
    );
    let request = reader.collect().unwrap();
    let m = metric(&request, "requests").unwrap();
    assert_eq!(
        (m.unit.as_str(), m.description.as_str()),
        ("{request}", "served")
    );
    let Some(metric::Data::Sum(sum)) = &m.data else {
        panic!()
    };
    assert!(sum.is_monotonic);
    assert_eq!(sum.aggregation_temporality, 2, "cumulative");
    let mut points: Vec<(Vec<String>, i64)> = sum
        .data_points
        .iter()
        .map(|p| (attr(&p.attributes), int(p)))
        .collect();
    points.sort();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0].1, 3);
    assert_eq!(points[1].1, 5);
    assert_eq!(
        points[0].0[0], "code=Some(IntValue(200))",
        "attributes sorted by key"
    );

    // Cumulative: the next collection keeps the totals and the start time.
    counter.add(
        1,
        &[KeyValue::new("route", "/a"), KeyValue::new("code", 200)],
    );
    let again = reader.collect().unwrap();
    let p1 = &numbers(metric(&request, "requests").unwrap())[0];
    let p2 = numbers(metric(&again, "requests").unwrap())
        .iter()
        .find(|p| p.attributes == p1.attributes)
        .unwrap();
    assert_eq!(int(p2), int(p1) + 1);
    assert_eq!(p2.start_time_unix_nano, p1.start_time_unix_nano);
    assert!(p2.time_unix_nano >= p1.time_unix_nano);
}

#[test]
fn delta_resets_each_interval_and_forgets_silent_series() {
    let reader = ManualReader::new(TemporalityPreference::Delta);
    let provider = provider(&[&reader]);
    let meter = provider.meter("test");
    let counter = meter.f64_counter("bytes").build();
    let updown = meter.i64_up_down_counter("queue").build();
    counter.add(1.5, &[KeyValue::new("k", "a")]);
    counter.add(2.0, &[KeyValue::new("k", "b")]);
    updown.add(5, &[]);
    let first = reader.collect().unwrap();
    let m = metric(&first, "bytes").unwrap();
    let Some(metric::Data::Sum(sum)) = &m.data else {
        panic!()
    };
    assert_eq!(sum.aggregation_temporality, 1, "delta");
    assert_eq!(sum.data_points.len(), 2);

    counter.add(4.0, &[KeyValue::new("k", "a")]);
    updown.add(-2, &[]);
    let second = reader.collect().unwrap();
    let points = numbers(metric(&second, "bytes").unwrap());
    assert_eq!(points.len(), 1, "b saw nothing and is not reported");
    assert_eq!(double(&points[0]), 4.0, "a delta, not the total");
    let first_a = numbers(m)
        .iter()
        .find(|p| attr(&p.attributes) == attr(&points[0].attributes))
        .unwrap();
    assert_eq!(
        points[0].start_time_unix_nano, first_a.time_unix_nano,
        "delta starts where the last ended"
    );
    // Up-down counters stay cumulative under the delta preference.
    let q = numbers(metric(&second, "queue").unwrap());
    assert_eq!(int(&q[0]), 3);
    // Nothing recorded: no counter metric at all.
    let third = reader.collect().unwrap();
    assert!(metric(&third, "bytes").is_none());
}

#[test]
fn histograms_gauges_and_views() {
    let reader = ManualReader::default();
    let provider = MeterProvider::builder()
        .with_reader(reader.clone())
        .with_view(
            View::named("latency")
                .rename("http.server.request.duration")
                .keep_attributes(["route"]),
        )
        .with_view(View::named("sizes").aggregation(Aggregation::default_exponential()))
        .with_view(View::named("debug.*").aggregation(Aggregation::Drop))
        .with_view(View::all().kind(InstrumentKind::Gauge).describe("a gauge"))
        .build();
    let meter = provider.meter("test");
    let latency = meter
        .f64_histogram("latency")
        .with_unit("s")
        .with_boundaries(vec![0.1, 0.5, 1.0])
        .build();
    for v in [0.05, 0.1, 0.2, 0.7, 2.0] {
        latency.record(
            v,
            &[KeyValue::new("route", "/a"), KeyValue::new("user", "u1")],
        );
    }
    let default_buckets = meter.u64_histogram("default").build();
    default_buckets.record(7, &[]);
    let sizes = meter.u64_histogram("sizes").build();
    for v in [1, 2, 4, 1024] {
        sizes.record(v, &[]);
    }
    let dropped = meter.u64_counter("debug.noise").build();
    dropped.add(1, &[]);
    let gauge = meter.f64_gauge("temperature").build();
    gauge.record(20.0, &[]);
    gauge.record(21.5, &[]);

    let request = reader.collect().unwrap();
    assert!(metric(&request, "latency").is_none(), "renamed");
    let m = metric(&request, "http.server.request.duration").unwrap();
    let Some(metric::Data::Histogram(h)) = &m.data else {
        panic!("{m:?}")
    };
    let p = &h.data_points[0];
    assert_eq!(
        attr(&p.attributes),
        vec!["route=Some(StringValue(\"/a\"))"],
        "only the kept key"
    );
    assert_eq!(
        p.explicit_bounds,
        vec![0.1, 0.5, 1.0],
        "advisory boundaries"
    );
    assert_eq!(p.bucket_counts, vec![2, 1, 1, 1], "upper-inclusive buckets");
    assert_eq!(p.count, 5);
    assert!((p.sum.unwrap() - 3.05).abs() < 1e-9);
    assert_eq!((p.min, p.max), (Some(0.05), Some(2.0)));

    let d = metric(&request, "default").unwrap();
    let Some(metric::Data::Histogram(h)) = &d.data else {
        panic!()
    };
    assert_eq!(
        h.data_points[0].explicit_bounds,
        otlp_sdk::metrics::DEFAULT_BOUNDARIES.to_vec()
    );
    assert_eq!(h.data_points[0].bucket_counts[2], 1, "7 is in (5, 10]");

    let s = metric(&request, "sizes").unwrap();
    assert!(
        matches!(&s.data, Some(metric::Data::ExponentialHistogram(e)) if e.data_points[0].count == 4)
    );
    assert!(
        metric(&request, "debug.noise").is_none(),
        "dropped by the view"
    );
    let g = metric(&request, "temperature").unwrap();
    assert_eq!(g.description, "a gauge");
    assert_eq!(double(&numbers(g)[0]), 21.5, "the last value");
}

#[test]
fn observable_instruments_report_what_the_callback_sees() {
    let cumulative = ManualReader::default();
    let delta = ManualReader::new(TemporalityPreference::Delta);
    let provider = provider(&[&cumulative, &delta]);
    let meter = provider.meter("test");
    let total = Arc::new(std::sync::atomic::AtomicU64::new(10));
    let seen = Arc::clone(&total);
    let _counter = meter
        .u64_observable_counter("cpu.time")
        .with_callback(move |o| {
            o.observe(
                seen.load(std::sync::atomic::Ordering::Relaxed),
                &[KeyValue::new("cpu", 0)],
            )
        })
        .build();
    let _gauge = meter
        .f64_observable_gauge("load")
        .with_callback(|o| o.observe(0.75, &[]))
        .build();

    let c1 = cumulative.collect().unwrap();
    let d1 = delta.collect().unwrap();
    total.store(25, std::sync::atomic::Ordering::Relaxed);
    let c2 = cumulative.collect().unwrap();
    let d2 = delta.collect().unwrap();
    assert_eq!(int(&numbers(metric(&c1, "cpu.time").unwrap())[0]), 10);
    assert_eq!(int(&numbers(metric(&c2, "cpu.time").unwrap())[0]), 25);
    assert_eq!(int(&numbers(metric(&d1, "cpu.time").unwrap())[0]), 10);
    assert_eq!(
        int(&numbers(metric(&d2, "cpu.time").unwrap())[0]),
        15,
        "the change"
    );
    assert_eq!(double(&numbers(metric(&c2, "load").unwrap())[0]), 0.75);
}

#[test]
fn the_cardinality_limit_folds_new_series_into_the_overflow_series() {
    let reader = ManualReader::default();
    let provider = MeterProvider::builder()
        .with_reader(reader.clone())
        .with_cardinality_limit(5)
        .build();
    let counter = provider.meter("test").u64_counter("c").build();
    for i in 0..100 {
        counter.add(1, &[KeyValue::new("user", i)]);
    }
    let request = reader.collect().unwrap();
    let points = numbers(metric(&request, "c").unwrap());
    assert_eq!(points.len(), 5, "four series and the overflow one");
    let overflow = points
        .iter()
        .find(|p| p.attributes.iter().any(|kv| kv.key == OVERFLOW_ATTRIBUTE))
        .unwrap();
    assert_eq!(int(overflow), 96);
    assert_eq!(points.iter().map(int).sum::<i64>(), 100, "nothing lost");
}

#[test]
fn exemplars_carry_the_sampled_span_and_the_filtered_attributes() {
    let reader = ManualReader::default();
    let provider = MeterProvider::builder()
        .with_reader(reader.clone())
        .with_view(View::named("latency").keep_attributes(["route"]))
        .build();
    let histogram = provider
        .meter("test")
        .f64_histogram("latency")
        .with_boundaries(vec![1.0, 10.0])
        .build();
    let tracer_provider = TracerProvider::builder().build();
    let span = tracer_provider.tracer("t").start("request");
    histogram.record(0.5, &[KeyValue::new("route", "/a")]); // no span: no exemplar (trace_based)
    {
        let _guard = span.attach();
        histogram.record(
            5.0,
            &[KeyValue::new("route", "/a"), KeyValue::new("user", "u1")],
        );
    }
    let request = reader.collect().unwrap();
    let Some(metric::Data::Histogram(h)) = &metric(&request, "latency").unwrap().data else {
        panic!()
    };
    let exemplars = &h.data_points[0].exemplars;
    assert_eq!(exemplars.len(), 1);
    let e = &exemplars[0];
    assert_eq!(e.trace_id, span.span_context().trace_id().to_bytes());
    assert_eq!(e.span_id, span.span_context().span_id().to_bytes());
    assert_eq!(
        attr(&e.filtered_attributes),
        vec!["user=Some(StringValue(\"u1\"))"]
    );
    // Collected means reset.
    let again = reader.collect().unwrap();
    let Some(metric::Data::Histogram(h)) = &metric(&again, "latency").unwrap().data else {
        panic!()
    };
    assert!(h.data_points[0].exemplars.is_empty());

    // always_off: none.
    let reader = ManualReader::default();
    let provider = MeterProvider::builder()
        .with_reader(reader.clone())
        .with_exemplar_filter(ExemplarFilter::AlwaysOff)
        .build();
    let c = provider.meter("t").u64_counter("c").build();
    let _guard = span.attach();
    c.add(1, &[]);
    assert!(
        numbers(metric(&reader.collect().unwrap(), "c").unwrap())[0]
            .exemplars
            .is_empty()
    );
}

#[test]
fn bound_instruments_and_many_threads_lose_nothing() {
    let reader = ManualReader::new(TemporalityPreference::Delta);
    let provider = provider(&[&reader]);
    let counter = provider.meter("test").u64_counter("c").build();
    let bound = counter.bind(&[KeyValue::new("fixed", true)]);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (counter, bound) = (counter.clone(), bound.clone());
            std::thread::spawn(move || {
                for i in 0..10_000_u64 {
                    counter.add(
                        1,
                        &[
                            KeyValue::new("thread", t),
                            KeyValue::new("parity", (i % 2) as i64),
                        ],
                    );
                    bound.add(2);
                }
            })
        })
        .collect();
    let mut total = 0;
    let mut collected = Vec::new();
    for _ in 0..5 {
        collected.push(reader.collect().unwrap());
        std::thread::sleep(Duration::from_millis(2));
    }
    for t in threads {
        t.join().unwrap();
    }
    collected.push(reader.collect().unwrap());
    let mut bound_total = 0;
    for request in &collected {
        if let Some(m) = metric(request, "c") {
            for p in numbers(m) {
                if p.attributes.iter().any(|kv| kv.key == "fixed") {
                    bound_total += int(p);
                } else {
                    total += int(p);
                }
            }
        }
    }
    assert_eq!(
        total, 80_000,
        "every add counted once across delta collections"
    );
    assert_eq!(bound_total, 160_000);
    // The bound series is never forgotten, even when silent.
    assert!(
        reader.collect().unwrap().resource_metrics.is_empty(),
        "silent: nothing to report"
    );
    bound.add(1);
    let last = reader.collect().unwrap();
    assert_eq!(int(&numbers(metric(&last, "c").unwrap())[0]), 1);
}

#[test]
fn invalid_instrument_names_record_nothing() {
    let reader = ManualReader::default();
    let provider = provider(&[&reader]);
    let meter = provider.meter("test");
    for name in ["", "1abc", "has space", &"x".repeat(256)] {
        meter.u64_counter(name).build().add(1, &[]);
    }
    meter.u64_counter("ok").with_unit("é").build().add(1, &[]);
    meter.u64_counter("a/b.c-d_e").build().add(1, &[]);
    let request = reader.collect().unwrap();
    let names: Vec<&str> = request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, vec!["a/b.c-d_e"]);
}

#[test]
fn the_periodic_reader_exports_on_flush_and_shutdown() {
    let exporter = InMemoryExporter::new();
    let reader = PeriodicReader::new(
        exporter.clone(),
        PeriodicSettings {
            interval: Duration::from_secs(3600),
            ..PeriodicSettings::default()
        },
    )
    .unwrap();
    let provider = MeterProvider::builder().with_reader(reader).build();
    let counter = provider.meter("test").u64_counter("c").build();
    counter.add(3, &[]);
    provider
        .force_flush(Instant::now() + Duration::from_secs(5))
        .unwrap();
    assert_eq!(exporter.requests().len(), 1);
    counter.add(4, &[]);
    provider
        .shutdown(Instant::now() + Duration::from_secs(5))
        .unwrap();
    let requests = exporter.requests();
    assert_eq!(requests.len(), 2, "shutdown collects once more");
    assert_eq!(int(&numbers(metric(&requests[1], "c").unwrap())[0]), 7);
    assert!(provider.shutdown(Instant::now()).is_err());
}

#[test]
fn process_metrics_agree_with_proc() {
    let reader = ManualReader::default();
    let provider = provider(&[&reader]);
    otlp_sdk::metrics::process::register(&provider.meter("process"));
    let _files: Vec<std::fs::File> = (0..5)
        .map(|_| std::fs::File::open("/proc/self/status").unwrap())
        .collect();
    let busy = Instant::now();
    let mut x = 0_u64;
    while busy.elapsed() < Duration::from_millis(300) {
        x = x.wrapping_mul(31).wrapping_add(7);
    }
    std::hint::black_box(x);
    let request = reader.collect().unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> i64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let rss = int(&numbers(metric(&request, "process.memory.usage").unwrap())[0]);
    assert!(
        rss > 0 && (rss - field("VmRSS:") * 1024).abs() < 64 << 20,
        "rss {rss}"
    );
    let threads = int(&numbers(metric(&request, "process.thread.count").unwrap())[0]);
    assert!(
        threads >= 1 && (threads - field("Threads:")).abs() <= 8,
        "threads {threads}"
    );
    let fds = int(&numbers(metric(&request, "process.unix.file_descriptor.count").unwrap())[0]);
    let now = std::fs::read_dir("/proc/self/fd").unwrap().count() as i64;
    assert!(fds >= 5 + 3 && (fds - now).abs() <= 4, "fds {fds} vs {now}");
    let cpu = metric(&request, "process.cpu.time").unwrap();
    assert_eq!(cpu.unit, "s");
    let user: f64 = numbers(cpu)
        .iter()
        .filter(|p| attr(&p.attributes) == vec!["cpu.mode=Some(StringValue(\"user\"))"])
        .map(double)
        .sum();
    assert!(
        user >= 0.2,
        "300 ms of busy loop shows as user CPU time: {user}"
    );
}

/// A plain HTTP/1.1 GET over loopback; returns the body.
fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

#[test]
fn the_prometheus_reader_serves_what_is_recorded() {
    let reader = otlp_sdk::metrics::PrometheusReader::bind(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = reader.local_addr();
    let provider = MeterProvider::builder()
        .with_resource(Resource::new([KeyValue::new("service.name", "shop")]))
        .with_reader(reader)
        .build();
    let meter = provider.meter("shop.http");
    let requests = meter
        .u64_counter("http.server.requests")
        .with_description("Requests.")
        .build();
    let duration = meter
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .with_boundaries(vec![0.1, 1.0])
        .build();
    requests.add(3, &[KeyValue::new("http.route", "/cart")]);
    duration.record(0.05, &[]);
    duration.record(0.5, &[]);
    let body = http_get(addr, "/metrics");
    assert!(
        body.contains("# TYPE http_server_requests_total counter"),
        "{body}"
    );
    let line = body
        .lines()
        .find(|l| l.starts_with("http_server_requests_total{"))
        .unwrap();
    assert!(
        line.contains("http_route=\"/cart\"")
            && line.contains("otel_scope_name=\"shop.http\"")
            && line.ends_with(" 3"),
        "{line}"
    );
    assert!(
        body.lines().any(
            |l| l.starts_with("http_server_request_duration_seconds_bucket{")
                && l.contains("le=\"0.1\"")
                && l.ends_with(" 1")
        ),
        "{body}"
    );
    assert!(
        body.lines().any(
            |l| l.starts_with("http_server_request_duration_seconds_count") && l.ends_with(" 2")
        ),
        "{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.starts_with("target_info{") && l.contains("service_name=\"shop\"")),
        "{body}"
    );
    // Scrapes are cumulative: the next one adds up.
    requests.add(2, &[KeyValue::new("http.route", "/cart")]);
    let body = http_get(addr, "/metrics");
    assert!(
        body.lines()
            .any(|l| l.starts_with("http_server_requests_total{") && l.ends_with(" 5")),
        "{body}"
    );
    provider
        .shutdown(Instant::now() + Duration::from_secs(2))
        .unwrap();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "shutdown closes the endpoint"
    );
}

proptest::proptest! {
    /// Whatever the measurements and whenever the collections: at every collection, each
    /// cumulative series equals the sum of its deltas so far (histogram counts and sums too).
    #[test]
    fn cumulative_is_the_sum_of_deltas(
        steps in proptest::collection::vec((0usize..4, 0u64..1000, proptest::bool::weighted(0.2)), 1..80)
    ) {
        let cumulative = ManualReader::default();
        let delta = ManualReader::new(TemporalityPreference::Delta);
        let provider = provider(&[&cumulative, &delta]);
        let meter = provider.meter("p");
        let counter = meter.u64_counter("c").build();
        let histogram = meter.f64_histogram("h").build();
        let mut delta_sums = std::collections::BTreeMap::<Vec<String>, i64>::new();
        let mut delta_counts = 0_u64;
        let check = |c: &ExportMetricsServiceRequest, d: &ExportMetricsServiceRequest,
                     sums: &mut std::collections::BTreeMap<Vec<String>, i64>, counts: &mut u64| {
            if let Some(m) = metric(d, "c") {
                for p in numbers(m) {
                    *sums.entry(attr(&p.attributes)).or_default() += int(p);
                }
            }
            if let Some(Metric { data: Some(metric::Data::Histogram(h)), .. }) = metric(d, "h") {
                *counts += h.data_points.iter().map(|p| p.count).sum::<u64>();
            }
            let mut cumulative_sums = std::collections::BTreeMap::new();
            if let Some(m) = metric(c, "c") {
                for p in numbers(m) {
                    cumulative_sums.insert(attr(&p.attributes), int(p));
                }
            }
            let cumulative_count = match metric(c, "h") {
                Some(Metric { data: Some(metric::Data::Histogram(h)), .. }) => h.data_points.iter().map(|p| p.count).sum(),
                _ => 0,
            };
            (cumulative_sums, cumulative_count)
        };
        for (series, value, collect) in steps {
            counter.add(value, &[KeyValue::new("s", series as i64)]);
            histogram.record(value as f64, &[]);
            if collect {
                let (c, d) = (cumulative.collect().unwrap(), delta.collect().unwrap());
                let (sums, count) = check(&c, &d, &mut delta_sums, &mut delta_counts);
                proptest::prop_assert_eq!(&sums, &delta_sums);
                proptest::prop_assert_eq!(count, delta_counts);
            }
        }
        let (c, d) = (cumulative.collect().unwrap(), delta.collect().unwrap());
        let (sums, count) = check(&c, &d, &mut delta_sums, &mut delta_counts);
        proptest::prop_assert_eq!(&sums, &delta_sums);
        proptest::prop_assert_eq!(count, delta_counts);
    }
}
