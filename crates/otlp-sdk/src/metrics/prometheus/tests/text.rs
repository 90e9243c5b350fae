//! The encoding rules, one test each, with exact expected text.

use otlp_proto::common::v1::{AnyValue, InstrumentationScope, any_value};
use otlp_proto::metrics::v1::{
    ExponentialHistogram, ScopeMetrics, Summary, SummaryDataPoint, metric::Data,
    summary_data_point::ValueAtQuantile,
};

use super::super::{EncodeStats, TextOptions, encode_text, encode_text_with_stats};
use super::*;

#[test]
fn counter_gets_unit_and_total_suffixes() {
    let mut m = counter(
        "http.server.requests",
        "ms",
        vec![int(7, &[("method", "GET")])],
    );
    m.description = "Time spent.".into();
    let text = encode_text(&single(vec![m]), &bare());
    assert_eq!(
        text,
        "# HELP http_server_requests_milliseconds_total Time spent.\n\
         # TYPE http_server_requests_milliseconds_total counter\n\
         http_server_requests_milliseconds_total{method=\"GET\"} 7\n"
    );
}

#[test]
fn total_is_not_doubled_and_can_be_turned_off() {
    let metrics = single(vec![counter("jobs_total", "", vec![int(1, &[])])]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE jobs_total counter\njobs_total 1\n"
    );

    let metrics = single(vec![counter("jobs", "s", vec![int(1, &[])])]);
    let options = TextOptions {
        without_counter_suffixes: true,
        ..bare()
    };
    assert_eq!(
        encode_text(&metrics, &options),
        "# TYPE jobs_seconds counter\njobs_seconds 1\n"
    );
}

#[test]
fn unit_already_in_the_name_is_not_added() {
    let metrics = single(vec![counter("cpu.time_seconds", "s", vec![int(2, &[])])]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE cpu_time_seconds_total counter\ncpu_time_seconds_total 2\n"
    );
}

#[test]
fn unit_one_is_ratio_for_gauges_only() {
    let metrics = single(vec![
        gauge("cpu.utilization", "1", vec![double(0.5, &[])]),
        sum(
            "queue.fill",
            "1",
            false,
            CUMULATIVE,
            vec![double(0.25, &[])],
        ),
        counter("events", "1", vec![int(3, &[])]),
    ]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE cpu_utilization_ratio gauge\ncpu_utilization_ratio 0.5\n\
         # TYPE events_total counter\nevents_total 3\n\
         # TYPE queue_fill gauge\nqueue_fill 0.25\n"
    );
}

#[test]
fn annotation_units_are_dropped() {
    let metrics = single(vec![counter(
        "http.requests",
        "{requests}",
        vec![int(5, &[])],
    )]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE http_requests_total counter\nhttp_requests_total 5\n"
    );
}

#[test]
fn rate_units_become_per() {
    let metrics = single(vec![gauge("net.io", "By/s", vec![int(1024, &[])])]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE net_io_bytes_per_second gauge\nnet_io_bytes_per_second 1024\n"
    );
}

#[test]
fn without_units_adds_no_unit_suffix() {
    let metrics = single(vec![
        gauge("mem", "By", vec![int(1, &[])]),
        gauge("util", "1", vec![double(0.5, &[])]),
        counter("req", "ms", vec![int(2, &[])]),
    ]);
    let options = TextOptions {
        without_units: true,
        ..bare()
    };
    assert_eq!(
        encode_text(&metrics, &options),
        "# TYPE mem gauge\nmem 1\n# TYPE req_total counter\nreq_total 2\n\
         # TYPE util gauge\nutil 0.5\n"
    );
}

#[test]
fn histogram_buckets_are_cumulative_and_end_in_inf() {
    let point = histogram_point(
        &[0.5, 1.0, 2.5],
        &[1, 2, 0, 3],
        Some(10.5),
        &[("route", "/")],
    );
    let mut m = histogram("http.latency", "s", CUMULATIVE, vec![point]);
    m.description = "Latency.".into();
    assert_eq!(
        encode_text(&single(vec![m]), &bare()),
        "# HELP http_latency_seconds Latency.\n\
         # TYPE http_latency_seconds histogram\n\
         http_latency_seconds_bucket{route=\"/\",le=\"0.5\"} 1\n\
         http_latency_seconds_bucket{route=\"/\",le=\"1\"} 3\n\
         http_latency_seconds_bucket{route=\"/\",le=\"2.5\"} 3\n\
         http_latency_seconds_bucket{route=\"/\",le=\"+Inf\"} 6\n\
         http_latency_seconds_sum{route=\"/\"} 10.5\n\
         http_latency_seconds_count{route=\"/\"} 6\n"
    );
}

#[test]
fn histogram_without_sum_or_buckets() {
    // No sum (negative values were recorded): no _sum series. No buckets: only +Inf.
    let mut point = histogram_point(&[], &[], None, &[]);
    point.count = 4;
    let metrics = single(vec![histogram("h", "", CUMULATIVE, vec![point])]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 4\nh_count 4\n"
    );
}

#[test]
fn inconsistent_histogram_points_are_dropped() {
    let mut wrong_count = histogram_point(&[1.0], &[1, 1], Some(1.0), &[("p", "count")]);
    wrong_count.count = 5;
    let metrics = single(vec![histogram(
        "h",
        "",
        CUMULATIVE,
        vec![
            wrong_count,
            histogram_point(&[2.0, 1.0], &[1, 1, 1], None, &[("p", "order")]),
            histogram_point(&[1.0], &[1, 1, 1], None, &[("p", "length")]),
            histogram_point(&[f64::NAN], &[1, 1], None, &[("p", "nan")]),
            histogram_point(&[1.0], &[1, 0], None, &[("p", "ok"), ("le", "attribute")]),
        ],
    )]);
    let (text, stats) = encode_text_with_stats(&metrics, &bare());
    // The attribute named `le` gives way to the bucket label.
    assert_eq!(
        text,
        "# TYPE h histogram\n\
         h_bucket{p=\"ok\",le=\"1\"} 1\n\
         h_bucket{p=\"ok\",le=\"+Inf\"} 1\n\
         h_count{p=\"ok\"} 1\n"
    );
    assert_eq!(stats.points_dropped, 4);
}

#[test]
fn summary_has_sorted_quantiles_sum_and_count() {
    let point = SummaryDataPoint {
        attributes: attrs(&[("op", "read")]),
        count: 10,
        sum: 12.5,
        quantile_values: vec![
            ValueAtQuantile {
                quantile: 0.99,
                value: 3.0,
            },
            ValueAtQuantile {
                quantile: 0.5,
                value: 1.25,
            },
            ValueAtQuantile {
                quantile: 7.0,
                value: 1.0,
            }, // not a quantile: left out
        ],
        ..Default::default()
    };
    let m = metric(
        "rpc.duration",
        "ms",
        "",
        Data::Summary(Summary {
            data_points: vec![point],
        }),
    );
    assert_eq!(
        encode_text(&single(vec![m]), &bare()),
        "# TYPE rpc_duration_milliseconds summary\n\
         rpc_duration_milliseconds{op=\"read\",quantile=\"0.5\"} 1.25\n\
         rpc_duration_milliseconds{op=\"read\",quantile=\"0.99\"} 3\n\
         rpc_duration_milliseconds_sum{op=\"read\"} 12.5\n\
         rpc_duration_milliseconds_count{op=\"read\"} 10\n"
    );
}

#[test]
fn label_names_are_sanitized_and_collisions_joined_in_key_order() {
    let point = int(
        1,
        &[
            ("http_method", "POST"),
            ("http.method", "GET"),
            ("9lives", "cat"),
            ("__meta", "m"),
            ("küche", "k"),
            ("", "no key"),
        ],
    );
    let metrics = single(vec![gauge("g", "", vec![point])]);
    // "http.method" < "http_method" ('.' < '_'), so GET comes first.
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE g gauge\ng{_9lives=\"cat\",_meta=\"m\",http_method=\"GET;POST\",k_che=\"k\"} 1\n"
    );
}

#[test]
fn label_values_and_help_are_escaped() {
    let mut m = gauge("g", "", vec![int(1, &[("path", "C:\\dir \"x\"\nnext")])]);
    m.description = "Line one\\two \"quoted\"\nline two".into();
    assert_eq!(
        encode_text(&single(vec![m]), &bare()),
        "# HELP g Line one\\\\two \"quoted\"\\nline two\n\
         # TYPE g gauge\n\
         g{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n"
    );
}

#[test]
fn non_string_attributes_are_stringified() {
    let mut point = int(1, &[]);
    point.attributes = vec![
        KeyValue {
            key: "ok".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::BoolValue(true)),
            }),
            ..Default::default()
        },
        KeyValue {
            key: "code".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(404)),
            }),
            ..Default::default()
        },
    ];
    let metrics = single(vec![gauge("g", "", vec![point])]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE g gauge\ng{code=\"404\",ok=\"true\"} 1\n"
    );
}

#[test]
fn values_are_formatted_as_prometheus_parses_them() {
    let metrics = single(vec![gauge(
        "g",
        "",
        vec![
            double(f64::INFINITY, &[("v", "a")]),
            double(f64::NEG_INFINITY, &[("v", "b")]),
            double(f64::NAN, &[("v", "c")]),
            double(1e21, &[("v", "d")]),
            double(3.0, &[("v", "e")]),
            int(-42, &[("v", "f")]),
            double(1.5e-7, &[("v", "g")]),
        ],
    )]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE g gauge\n\
         g{v=\"a\"} +Inf\ng{v=\"b\"} -Inf\ng{v=\"c\"} NaN\ng{v=\"d\"} 1e21\n\
         g{v=\"e\"} 3\ng{v=\"f\"} -42\ng{v=\"g\"} 1.5e-7\n"
    );
}

#[test]
fn metric_names_are_sanitized() {
    let metrics = single(vec![
        gauge("1st.value", "", vec![int(1, &[])]),
        gauge("my-app/requests..in flight", "", vec![int(2, &[])]),
        gauge("ns:sub.x", "", vec![int(3, &[])]),
        gauge("", "", vec![int(4, &[])]),
    ]);
    let (text, stats) = encode_text_with_stats(&metrics, &bare());
    assert_eq!(
        text,
        "# TYPE _1st_value gauge\n_1st_value 1\n\
         # TYPE my_app_requests_in_flight gauge\nmy_app_requests_in_flight 2\n\
         # TYPE ns:sub_x gauge\nns:sub_x 3\n"
    );
    assert_eq!(stats.invalid_metrics_dropped, 1);
}

#[test]
fn target_info_has_the_resource_attributes() {
    let metrics = vec![resource(
        &[
            ("service.name", "shop"),
            ("service.instance.id", "i-1"),
            ("host.name", "h1"),
        ],
        vec![scope("lib", "", vec![gauge("g", "", vec![int(1, &[])])])],
    )];
    let options = TextOptions {
        without_scope_info: true,
        ..Default::default()
    };
    assert_eq!(
        encode_text(&metrics, &options),
        "# TYPE g gauge\ng 1\n\
         # HELP target_info Target metadata\n\
         # TYPE target_info gauge\n\
         target_info{host_name=\"h1\",service_instance_id=\"i-1\",service_name=\"shop\"} 1\n"
    );
    let options = TextOptions {
        without_target_info: true,
        ..options
    };
    assert_eq!(encode_text(&metrics, &options), "# TYPE g gauge\ng 1\n");
}

#[test]
fn job_and_instance_labels_when_asked() {
    let metrics = vec![resource(
        &[
            ("service.name", "shop"),
            ("service.namespace", "prod"),
            ("service.instance.id", "i-1"),
            ("host.name", "h1"),
        ],
        vec![scope(
            "lib",
            "",
            vec![counter("orders", "", vec![int(3, &[("a", "b")])])],
        )],
    )];
    let options = TextOptions {
        without_scope_info: true,
        job_and_instance_labels: true,
        ..Default::default()
    };
    assert_eq!(
        encode_text(&metrics, &options),
        "# TYPE orders_total counter\n\
         orders_total{a=\"b\",instance=\"i-1\",job=\"prod/shop\"} 3\n\
         # HELP target_info Target metadata\n\
         # TYPE target_info gauge\n\
         target_info{host_name=\"h1\",instance=\"i-1\",job=\"prod/shop\"} 1\n"
    );

    // No namespace: job is the service name; no instance id: instance is empty.
    let metrics = vec![resource(
        &[("service.name", "shop")],
        vec![scope("lib", "", vec![gauge("g", "", vec![int(1, &[])])])],
    )];
    assert_eq!(
        encode_text(&metrics, &options),
        "# TYPE g gauge\ng{instance=\"\",job=\"shop\"} 1\n\
         # HELP target_info Target metadata\n\
         # TYPE target_info gauge\n\
         target_info{instance=\"\",job=\"shop\"} 1\n"
    );
}

#[test]
fn at_most_one_target_info() {
    let metrics = vec![
        resource(&[("service.name", "a")], vec![]),
        resource(&[("service.name", "a")], vec![]),
        resource(&[("service.name", "b")], vec![]),
        resource(&[], vec![]),
    ];
    let options = TextOptions {
        without_scope_info: true,
        ..Default::default()
    };
    let (text, stats) = encode_text_with_stats(&metrics, &options);
    assert_eq!(
        text,
        "# HELP target_info Target metadata\n# TYPE target_info gauge\n\
         target_info{service_name=\"a\"} 1\n"
    );
    assert_eq!(stats.target_infos_dropped, 1);

    // With job and instance labels: one per job and instance.
    let options = TextOptions {
        job_and_instance_labels: true,
        ..options
    };
    let (text, stats) = encode_text_with_stats(&metrics, &options);
    assert_eq!(
        text,
        "# HELP target_info Target metadata\n# TYPE target_info gauge\n\
         target_info{instance=\"\",job=\"a\"} 1\ntarget_info{instance=\"\",job=\"b\"} 1\n"
    );
    assert_eq!(stats.target_infos_dropped, 0);
}

#[test]
fn a_metric_named_target_info_gives_way() {
    let metrics = vec![resource(
        &[("service.name", "a")],
        vec![scope(
            "lib",
            "",
            vec![gauge("target.info", "", vec![int(5, &[])])],
        )],
    )];
    let options = TextOptions {
        without_scope_info: true,
        ..Default::default()
    };
    let (text, stats) = encode_text_with_stats(&metrics, &options);
    assert_eq!(
        text,
        "# HELP target_info Target metadata\n# TYPE target_info gauge\n\
         target_info{service_name=\"a\"} 1\n"
    );
    assert_eq!(stats.conflicting_metrics_dropped, 1);
}

#[test]
fn scope_labels_on_every_series() {
    let mut scope_metrics = scope(
        "io.lib",
        "1.2.0",
        vec![gauge(
            "g",
            "",
            vec![int(1, &[("otel.scope.name", "attr"), ("k", "v")])],
        )],
    );
    scope_metrics.schema_url = "https://opentelemetry.io/schemas/1.30.0".into();
    if let Some(scope) = scope_metrics.scope.as_mut() {
        scope.attributes = attrs(&[("mascot", "bear"), ("name", "conflicts: dropped")]);
    }
    let metrics = vec![resource(&[], vec![scope_metrics])];
    let options = TextOptions {
        without_target_info: true,
        ..Default::default()
    };
    // The point attribute `otel.scope.name` meets the scope label: values joined in key
    // order ("otel.scope.name" < "otel_scope_name").
    assert_eq!(
        encode_text(&metrics, &options),
        "# TYPE g gauge\n\
         g{k=\"v\",otel_scope_mascot=\"bear\",otel_scope_name=\"attr;io.lib\",\
         otel_scope_schema_url=\"https://opentelemetry.io/schemas/1.30.0\",\
         otel_scope_version=\"1.2.0\"} 1\n"
    );
}

#[test]
fn scope_labels_without_a_scope_are_empty() {
    let metrics = vec![resource(
        &[],
        vec![ScopeMetrics {
            scope: None,
            metrics: vec![gauge("g", "", vec![int(1, &[])])],
            ..Default::default()
        }],
    )];
    let options = TextOptions {
        without_target_info: true,
        ..Default::default()
    };
    assert_eq!(
        encode_text(&metrics, &options),
        "# TYPE g gauge\n\
         g{otel_scope_name=\"\",otel_scope_schema_url=\"\",otel_scope_version=\"\"} 1\n"
    );
}

#[test]
fn exponential_histograms_are_skipped_and_counted() {
    let exp = metric(
        "exp",
        "s",
        "",
        Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![Default::default()],
            aggregation_temporality: CUMULATIVE as i32,
        }),
    );
    let metrics = single(vec![exp, gauge("g", "", vec![int(1, &[])])]);
    let (text, stats) = encode_text_with_stats(&metrics, &bare());
    assert_eq!(text, "# TYPE g gauge\ng 1\n");
    assert_eq!(
        stats,
        EncodeStats {
            exponential_histograms_skipped: 1,
            ..Default::default()
        }
    );
}

#[test]
fn delta_metrics_are_dropped() {
    let metrics = single(vec![
        sum("d.counter", "", true, DELTA, vec![int(1, &[])]),
        sum("d.updown", "", false, DELTA, vec![int(1, &[])]),
        histogram(
            "d.hist",
            "",
            DELTA,
            vec![histogram_point(&[1.0], &[1, 0], None, &[])],
        ),
        sum(
            "unspecified",
            "",
            true,
            AggregationTemporality::Unspecified,
            vec![int(1, &[])],
        ),
        counter("c", "", vec![int(1, &[])]),
    ]);
    let (text, stats) = encode_text_with_stats(&metrics, &bare());
    assert_eq!(text, "# TYPE c_total counter\nc_total 1\n");
    assert_eq!(stats.delta_metrics_dropped, 3);
    assert_eq!(stats.invalid_metrics_dropped, 1);
}

#[test]
fn equal_names_from_several_scopes_share_one_family() {
    let mut first = counter("hits", "", vec![int(1, &[])]);
    first.description = "Hits.".into();
    let mut second = counter("hits", "", vec![int(2, &[])]);
    second.description = "Other text.".into();
    let conflicting = gauge("hits_total", "", vec![int(9, &[])]);
    let metrics = vec![resource(
        &[],
        vec![
            scope("a", "1", vec![first]),
            scope("b", "2", vec![second]),
            scope("c", "3", vec![conflicting]),
        ],
    )];
    let options = TextOptions {
        without_target_info: true,
        ..Default::default()
    };
    let (text, stats) = encode_text_with_stats(&metrics, &options);
    assert_eq!(
        text,
        "# HELP hits_total Hits.\n\
         # TYPE hits_total counter\n\
         hits_total{otel_scope_name=\"a\",otel_scope_schema_url=\"\",otel_scope_version=\"1\"} 1\n\
         hits_total{otel_scope_name=\"b\",otel_scope_schema_url=\"\",otel_scope_version=\"2\"} 2\n"
    );
    assert_eq!(stats.conflicting_metrics_dropped, 1);
}

#[test]
fn duplicate_series_keep_the_first() {
    let metrics = vec![resource(
        &[],
        vec![
            scope("a", "", vec![gauge("g", "", vec![int(1, &[("k", "v")])])]),
            scope("b", "", vec![gauge("g", "", vec![int(2, &[("k", "v")])])]),
        ],
    )];
    let (text, stats) = encode_text_with_stats(&metrics, &bare());
    assert_eq!(text, "# TYPE g gauge\ng{k=\"v\"} 1\n");
    assert_eq!(stats.duplicate_series_dropped, 1);
}

#[test]
fn series_names_of_other_families_are_not_reused() {
    let metrics = single(vec![
        histogram(
            "x",
            "",
            CUMULATIVE,
            vec![histogram_point(&[], &[], None, &[])],
        ),
        gauge("x_count", "", vec![int(1, &[])]),
        gauge("x_bucket", "", vec![int(1, &[])]),
    ]);
    let (text, stats) = encode_text_with_stats(&metrics, &bare());
    assert_eq!(
        text,
        "# TYPE x histogram\nx_bucket{le=\"+Inf\"} 0\nx_count 0\n"
    );
    assert_eq!(stats.conflicting_metrics_dropped, 2);
}

#[test]
fn families_are_sorted_by_name() {
    let metrics = single(vec![
        gauge("zeta", "", vec![int(1, &[])]),
        gauge("alpha", "", vec![int(2, &[])]),
    ]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE alpha gauge\nalpha 2\n# TYPE zeta gauge\nzeta 1\n"
    );
    assert_eq!(encode_text(&[], &TextOptions::default()), "");
}

#[test]
fn prometheus_type_metadata() {
    let mut unknown = gauge("u", "", vec![int(1, &[])]);
    unknown.metadata = attrs(&[("prometheus.type", "unknown")]);
    let mut info = sum(
        "build",
        "",
        false,
        CUMULATIVE,
        vec![int(1, &[("version", "1.0")])],
    );
    info.metadata = attrs(&[("prometheus.type", "info")]);
    let metrics = single(vec![unknown, info]);
    assert_eq!(
        encode_text(&metrics, &bare()),
        "# TYPE build_info gauge\nbuild_info{version=\"1.0\"} 1\n# TYPE u untyped\nu 1\n"
    );
}

#[test]
fn points_without_a_value_are_dropped() {
    let mut flagged = int(1, &[("p", "flagged")]);
    flagged.flags = 1;
    let mut empty = int(1, &[("p", "empty")]);
    empty.value = None;
    let metrics = single(vec![gauge(
        "g",
        "",
        vec![flagged, empty, int(3, &[("p", "ok")])],
    )]);
    let (text, stats) = encode_text_with_stats(&metrics, &bare());
    assert_eq!(text, "# TYPE g gauge\ng{p=\"ok\"} 3\n");
    assert_eq!(stats.points_dropped, 2);
}

#[test]
fn a_family_with_no_points_writes_nothing() {
    let metrics = single(vec![gauge("g", "", vec![])]);
    assert_eq!(encode_text(&metrics, &bare()), "");
}

#[test]
fn scope_attributes_with_empty_scope_fields() {
    let metrics = vec![resource(
        &[],
        vec![ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: "s".into(),
                attributes: attrs(&[("schema.url", "x"), ("version", "y")]),
                ..Default::default()
            }),
            metrics: vec![gauge("g", "", vec![int(1, &[])])],
            ..Default::default()
        }],
    )];
    // `otel_scope_schema.url` sanitizes to `otel_scope_schema_url`: dropped, like `version`.
    let options = TextOptions {
        without_target_info: true,
        ..Default::default()
    };
    assert_eq!(
        encode_text(&metrics, &options),
        "# TYPE g gauge\n\
         g{otel_scope_name=\"s\",otel_scope_schema_url=\"\",otel_scope_version=\"\"} 1\n"
    );
}

/// `promtool check metrics` on a mixed scrape, when promtool is installed; skips otherwise.
#[test]
fn promtool_accepts_the_output() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("promtool not found: skipped");
        return;
    };
    // Units in base units and a HELP on every family: promtool's lints (which it reports
    // as failures) would otherwise complain about naming, not about the format.
    let mut c = counter(
        "http.server.busy",
        "s",
        vec![int(7, &[("method", "GET"), ("path", "C:\\x \"y\"\nz")])],
    );
    c.description = "Busy time \\ with\nlines.".into();
    let mut h = histogram(
        "http.latency",
        "s",
        CUMULATIVE,
        vec![histogram_point(
            &[0.5, 1.0],
            &[1, 2, 3],
            Some(4.0),
            &[("route", "/")],
        )],
    );
    h.description = "Latency.".into();
    let mut g = gauge(
        "cpu.utilization",
        "1",
        vec![
            double(0.5, &[("cpu", "0"), ("cpu.id", "a"), ("cpu_id", "b")]),
            double(f64::NAN, &[("cpu", "1")]),
            double(f64::INFINITY, &[("cpu", "2")]),
            double(1e-9, &[("cpu", "3")]),
        ],
    );
    g.description = "CPU.".into();
    let point = SummaryDataPoint {
        count: 2,
        sum: 3.0,
        quantile_values: vec![ValueAtQuantile {
            quantile: 0.5,
            value: 1.0,
        }],
        ..Default::default()
    };
    let s = metric(
        "rpc.size",
        "By",
        "Sizes.",
        Data::Summary(Summary {
            data_points: vec![point],
        }),
    );
    let metrics = vec![resource(
        &[("service.name", "shop"), ("service.instance.id", "i-1")],
        vec![
            scope("lib", "1", vec![c, h, g]),
            scope("other", "2", vec![s]),
        ],
    )];
    let text = encode_text(&metrics, &TextOptions::default());
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool failed:\n{report}\n{text}"
    );
    assert!(report.trim().is_empty(), "promtool:\n{report}\n{text}");
}
