//! Unit tests of the receiver: configuration (defaults, refusals naming the key, metric
//! settings honoured), scrapes of a fixture root (exact values, a failing scraper does not
//! stop the others) and the receiver's lifecycle in a pipeline.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use otlp_pipeline::component::{NextConsumers, ReceiverContext};
use otlp_pipeline::testing::{Probe, id};
use otlp_pipeline::{Factory as _, ReceiverFactory as _};
use otlp_proto::common::v1::any_value;
use otlp_proto::metrics::v1::{Metric, metric, number_data_point};
use serde_yaml_ng::Value;

use super::*;

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).expect("test YAML")
}

fn refused(text: &str) -> String {
    let error = factory()
        .validate(&yaml(text))
        .expect_err("must be refused");
    error.to_string()
}

fn parse(text: &str) -> HostMetricsConfig {
    otlp_pipeline::config::parse_config(&yaml(text)).expect("valid configuration")
}

#[test]
fn defaults_are_otelcols() {
    let c = HostMetricsConfig::default();
    assert_eq!(c.collection_interval, Duration::from_secs(60));
    assert_eq!(c.initial_delay, Duration::from_secs(1));
    assert_eq!(c.timeout, Duration::ZERO);
    assert_eq!(c.metadata_collection_interval, Duration::from_secs(300));
    assert!(c.root_path.is_empty());
    let c = parse("scrapers: {cpu: , memory: {}, process: {mute_process_all_errors: true}}");
    assert!(
        c.scrapers.cpu.is_some(),
        "a key with nothing under it enables the scraper"
    );
    assert!(c.scrapers.memory.is_some());
    assert!(c.scrapers.disk.is_none());
    assert_eq!(c.scrapers.count(), 3);
    factory()
        .validate(&yaml("collection_interval: 10s\nscrapers: {cpu: }"))
        .expect("valid");
    assert_eq!(factory().type_name(), "hostmetrics");
    assert_eq!(factory().aliases(), ["host_metrics"]);
}

#[test]
fn refusals_name_the_key() {
    let cases = [
        ("scrapers: {cpu: }\nbogus: 1", "bogus"),
        ("scrapers: {gpu: }", "gpu"),
        ("scrapers: {nfs: }", "scrapers::nfs"),
        ("scrapers: {}", "scrapers"),
        ("{}", "at least one scraper"),
        ("scrapers: {cpu: {bogus: 1}}", "bogus"),
        (
            "scrapers: {cpu: {metrics: {system.cpu.nope: {enabled: true}}}}",
            "scrapers::cpu::metrics::system.cpu.nope",
        ),
        (
            "scrapers: {cpu: {metrics: {system.cpu.time: {attributes: [core]}}}}",
            "scrapers::cpu::metrics::system.cpu.time::attributes",
        ),
        (
            "scrapers: {cpu: {metrics: {system.cpu.time: {aggregation_strategy: median}}}}",
            "scrapers::cpu::metrics::system.cpu.time::aggregation_strategy",
        ),
        (
            "scrapers: {cpu: {metrics: {system.cpu.time: {enabled: true, colour: red}}}}",
            "colour",
        ),
        (
            "scrapers: {process: {metrics: {process.cpu.time@v1: {enabled: true}}}}",
            "scrapers::process::metrics::process.cpu.time@v1::enabled",
        ),
        (
            "scrapers: {process: {resource_attributes: {process.cgroup: {enabled: true}}}}",
            "scrapers::process::resource_attributes::process.cgroup::enabled",
        ),
        (
            "scrapers: {process: {resource_attributes: {process.colour: {enabled: true}}}}",
            "scrapers::process::resource_attributes::process.colour",
        ),
        (
            "scrapers: {disk: {include: {devices: [sda]}}}",
            "scrapers::disk::include::match_type",
        ),
        (
            "scrapers: {network: {exclude: {interfaces: ['(lo'], match_type: regexp}}}",
            "scrapers::network::exclude::interfaces[0]",
        ),
        (
            "scrapers: {filesystem: {include_fs_types: {fs_types: [ext4], match_type: fuzzy}}}",
            "scrapers::filesystem::include_fs_types::match_type",
        ),
        (
            "scrapers: {disk: {include: {names: [sda], match_type: strict}}}",
            "names",
        ),
        ("scrapers: {cpu: }\nroot_path: /no/such/root", "root_path"),
        (
            "scrapers: {cpu: }\ncollection_interval: 0s",
            "collection_interval",
        ),
        (
            "scrapers: {load: {metrics: {system.cpu.load_average.1m: {attributes: []}}}}",
            "no attributes",
        ),
    ];
    for (text, key) in cases {
        let message = refused(text);
        assert!(
            message.contains(key),
            "{text:?}: {message:?} should name {key:?}"
        );
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write fixture");
}

/// A fake host: `stat`, `meminfo`, `loadavg`, `vmstat`, `swaps`, `net/dev`, `net/tcp` and one
/// process, no `diskstats`.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = dir.path();
    write(
        r,
        "proc/stat",
        "cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 100 0 50 1000 10 0 0 0 0 0\ncpu1 200 0 50 900 0 0 0 0 0 0\nbtime 1700000000\nprocesses 4242\nprocs_running 2\nprocs_blocked 1\n",
    );
    write(
        r,
        "proc/meminfo",
        "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 500 kB\nBuffers: 50 kB\nCached: 200 kB\nSReclaimable: 30 kB\nSUnreclaim: 20 kB\n",
    );
    write(r, "proc/loadavg", "0.50 1.00 2.00 1/100 42\n");
    write(
        r,
        "proc/vmstat",
        "pgpgin 1\npgpgout 2\npswpin 3\npswpout 4\npgfault 10\npgmajfault 4\n",
    );
    write(
        r,
        "proc/swaps",
        "Filename Type Size Used Priority\n/swapfile file 1000 250 -2\n",
    );
    write(
        r,
        "proc/net/dev",
        "Inter-| Receive | Transmit\n face |bytes\n  eth0: 100 2 3 4 0 0 0 0 200 5 6 7 0 0 0 0\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n",
    );
    write(
        r,
        "proc/net/tcp",
        "  sl local rem st\n 0: A B 0A 0\n 1: A B 01 0\n",
    );
    write(
        r,
        "proc/7/stat",
        "7 (worker) S 1 7 7 0 -1 0 11 0 2 0 300 100 0 0 20 0 3 0 500 4096 10 0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 25 0 0\n",
    );
    write(
        r,
        "proc/7/status",
        "Name:\tworker\nState:\tS (sleeping)\nPPid:\t1\nUid:\t0\t0\t0\t0\nvoluntary_ctxt_switches:\t5\nnonvoluntary_ctxt_switches:\t6\nSigQ:\t2/100\n",
    );
    write(r, "proc/7/statm", "100 10 0 0 0 0 0\n");
    write(
        r,
        "proc/7/io",
        "syscr: 3\nsyscw: 4\nread_bytes: 4096\nwrite_bytes: 8192\n",
    );
    write(r, "proc/7/cmdline", "/usr/bin/worker\0--fast\0");
    write(r, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    write(r, "proc/sys/net/netfilter/nf_conntrack_count", "12\n");
    write(r, "proc/sys/net/netfilter/nf_conntrack_max", "65536\n");
    dir
}

fn config_for(root: &Path, scrapers: &str) -> HostMetricsConfig {
    let mut c = parse(&format!("scrapers: {scrapers}"));
    c.root_path = root.display().to_string();
    c
}

fn find<'a>(report: &'a ScrapeReport, name: &str) -> Vec<&'a Metric> {
    report
        .request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == name)
        .collect()
}

/// `(attributes as "k=v,k=v", value)` of every point of `name`.
fn points(report: &ScrapeReport, name: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for m in find(report, name) {
        let dps = match &m.data {
            Some(metric::Data::Sum(s)) => &s.data_points,
            Some(metric::Data::Gauge(g)) => &g.data_points,
            _ => continue,
        };
        for dp in dps {
            let attrs: Vec<String> = dp
                .attributes
                .iter()
                .map(|kv| {
                    let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(any_value::Value::StringValue(s)) => s.clone(),
                        Some(any_value::Value::IntValue(i)) => i.to_string(),
                        other => format!("{other:?}"),
                    };
                    format!("{}={v}", kv.key)
                })
                .collect();
            let v = match dp.value {
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                Some(number_data_point::Value::AsDouble(d)) => d,
                None => f64::NAN,
            };
            out.push((attrs.join(","), v));
        }
    }
    out
}

fn value(report: &ScrapeReport, name: &str, attrs: &str) -> f64 {
    points(report, name)
        .into_iter()
        .find(|(a, _)| a == attrs)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{name} {{{attrs}}} not found in {:?}", points(report, name)))
}

#[test]
fn a_fixture_host_gives_exact_values_and_a_failing_scraper_stops_nothing() {
    let dir = fixture();
    let config = config_for(
        dir.path(),
        "{cpu: , disk: , load: , memory: , network: , paging: , processes: , process: , system: }",
    );
    let mut scrapers = HostScrapers::new(&config).expect("scrapers");
    let report = scrapers.scrape();
    let disk = report
        .scrapers
        .iter()
        .find(|s| s.scraper == "disk")
        .expect("disk");
    assert_eq!(disk.points, 0);
    assert_eq!(disk.errors.len(), 1, "{:?}", disk.errors);
    assert!(disk.errors[0].contains("diskstats"), "{:?}", disk.errors);
    // Every other scraper produced data.
    for s in &report.scrapers {
        if s.scraper != "disk" {
            assert!(s.points > 0, "{s:?}");
        }
    }
    let hz = host::clock_ticks();
    // cpu: summed over both CPUs (the cpu attribute is off by default).
    assert_eq!(value(&report, "system.cpu.time", "state=user"), 300.0 / hz);
    assert_eq!(value(&report, "system.cpu.time", "state=idle"), 1900.0 / hz);
    assert_eq!(value(&report, "system.cpu.time", "state=wait"), 10.0 / hz);
    assert_eq!(points(&report, "system.cpu.time").len(), 8);
    assert_eq!(value(&report, "system.cpu.logical.count", ""), 2.0);
    // memory: gopsutil's legacy used.
    assert_eq!(
        value(&report, "system.memory.usage", "state=used"),
        (1000.0 - 100.0 - 50.0 - 230.0) * 1024.0
    );
    assert_eq!(
        value(&report, "system.memory.usage", "state=cached"),
        230.0 * 1024.0
    );
    assert_eq!(
        value(&report, "system.memory.usage", "state=slab_unreclaimable"),
        20.0 * 1024.0
    );
    assert!(
        find(&report, "system.memory.utilization").is_empty(),
        "off by default"
    );
    // load, paging, network, processes, process, system.
    assert_eq!(value(&report, "system.cpu.load_average.15m", ""), 2.0);
    assert_eq!(
        value(
            &report,
            "system.paging.usage",
            "device=/swapfile,state=free"
        ),
        750.0 * 1024.0
    );
    assert_eq!(
        value(&report, "system.paging.faults", "type=minor"),
        6.0 * 4096.0
    );
    assert_eq!(
        value(
            &report,
            "system.paging.operations",
            "direction=page_in,type=major"
        ),
        3.0 * 4096.0
    );
    assert_eq!(
        value(
            &report,
            "system.network.io",
            "device=eth0,direction=transmit"
        ),
        200.0
    );
    assert_eq!(
        value(
            &report,
            "system.network.dropped",
            "device=eth0,direction=receive"
        ),
        4.0
    );
    assert_eq!(
        value(
            &report,
            "system.network.connections",
            "protocol=tcp,state=LISTEN"
        ),
        1.0
    );
    assert_eq!(
        value(
            &report,
            "system.network.connections",
            "protocol=tcp,state=TIME_WAIT"
        ),
        0.0
    );
    assert_eq!(value(&report, "system.processes.created", ""), 4242.0);
    assert_eq!(
        value(&report, "system.processes.count", "status=running"),
        2.0
    );
    assert_eq!(
        value(&report, "system.processes.count", "status=blocked"),
        1.0
    );
    assert_eq!(value(&report, "process.cpu.time", "state=user"), 300.0 / hz);
    assert_eq!(value(&report, "process.cpu.time", "state=wait"), 25.0 / hz);
    assert_eq!(value(&report, "process.disk.io", "direction=write"), 8192.0);
    let page = host::page_size() as f64;
    assert_eq!(value(&report, "process.memory.usage", ""), 10.0 * page);
    assert_eq!(value(&report, "process.memory.virtual", ""), 100.0 * page);
    let process = report
        .request
        .resource_metrics
        .iter()
        .find(|r| {
            r.scope_metrics[0]
                .scope
                .as_ref()
                .is_some_and(|s| s.name.ends_with("/processscraper"))
        })
        .expect("a process resource");
    let attrs: Vec<(String, String)> = process
        .resource
        .as_ref()
        .expect("resource")
        .attributes
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                format!("{:?}", kv.value.as_ref().and_then(|v| v.value.clone())),
            )
        })
        .collect();
    let keys: Vec<&str> = attrs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "process.pid",
            "process.parent_pid",
            "process.executable.name",
            "process.executable.path",
            "process.command",
            "process.command_line",
            "process.owner"
        ]
    );
    assert!(attrs[0].1.contains("IntValue(7)"), "{attrs:?}");
    assert!(attrs[5].1.contains("/usr/bin/worker --fast"), "{attrs:?}");
    assert!(attrs[6].1.contains("root"), "{attrs:?}");
    // The cumulative sums start at boot; a process's at its start.
    let cpu = find(&report, "system.cpu.time")[0];
    let Some(metric::Data::Sum(sum)) = &cpu.data else {
        panic!("a sum")
    };
    assert_eq!(
        sum.data_points[0].start_time_unix_nano,
        1_700_000_000 * 1_000_000_000
    );
    assert!(sum.is_monotonic);
    let pcpu = find(&report, "process.cpu.time")[0];
    let Some(metric::Data::Sum(sum)) = &pcpu.data else {
        panic!("a sum")
    };
    assert_eq!(
        sum.data_points[0].start_time_unix_nano,
        1_700_000_000 * 1_000_000_000 + (500.0 / hz * 1e9) as u64
    );
    assert_eq!(
        value(&report, "system.uptime", "") as u64,
        host::now_nanos() / 1_000_000_000 - 1_700_000_000
    );
}

#[test]
fn metric_settings_are_honoured() {
    let dir = fixture();
    let config = config_for(
        dir.path(),
        "{memory: {metrics: {system.memory.usage: {enabled: false}, system.memory.utilization: {enabled: true}, system.memory.limit: {enabled: true}}}, \
          cpu: {metrics: {system.cpu.time: {attributes: [cpu, state]}, system.cpu.logical.count: {enabled: false}}}, \
          processes: {metrics: {system.processes.count: {attributes: [], aggregation_strategy: max}}}, \
          network: {include: {interfaces: ['^e'], match_type: regexp}, metrics: {system.network.conntrack.count: {enabled: true}, system.network.conntrack.max: {enabled: true}}}, load: {cpu_average: true}}",
    );
    let mut scrapers = HostScrapers::new(&config).expect("scrapers");
    let report = scrapers.scrape();
    assert!(find(&report, "system.memory.usage").is_empty());
    assert!(find(&report, "system.cpu.logical.count").is_empty());
    assert_eq!(
        value(&report, "system.memory.utilization", "state=free"),
        0.1
    );
    assert_eq!(value(&report, "system.memory.limit", ""), 1000.0 * 1024.0);
    let hz = host::clock_ticks();
    assert_eq!(
        points(&report, "system.cpu.time").len(),
        16,
        "per CPU and state"
    );
    assert_eq!(
        value(&report, "system.cpu.time", "cpu=cpu1,state=user"),
        200.0 / hz
    );
    // No attributes left: one point, the largest count (running = 2).
    assert_eq!(
        points(&report, "system.processes.count"),
        vec![(String::new(), 2.0)]
    );
    let devices: Vec<String> = points(&report, "system.network.io")
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(
        devices.iter().all(|a| a.starts_with("device=eth0")),
        "{devices:?}"
    );
    assert_eq!(
        value(&report, "system.cpu.load_average.1m", ""),
        0.25,
        "divided by 2 CPUs"
    );
    assert_eq!(value(&report, "system.network.conntrack.count", ""), 12.0);
    assert_eq!(value(&report, "system.network.conntrack.max", ""), 65536.0);

    // Utilization appears from the second scrape on.
    let config = config_for(
        dir.path(),
        "{cpu: {metrics: {system.cpu.utilization: {enabled: true}}}}",
    );
    let mut scrapers = HostScrapers::new(&config).expect("scrapers");
    assert!(find(&scrapers.scrape(), "system.cpu.utilization").is_empty());
    write(
        dir.path(),
        "proc/stat",
        "cpu0 150 0 50 1050 10 0 0 0 0 0\ncpu1 200 0 50 900 0 0 0 0 0 0\nbtime 1700000000\n",
    );
    let second = scrapers.scrape();
    // cpu0: +50 user of +100 total; cpu1: nothing elapsed (0); the average over CPUs.
    assert_eq!(value(&second, "system.cpu.utilization", "state=user"), 0.25);
}

#[tokio::test]
async fn the_receiver_scrapes_on_its_interval_and_stops() {
    let dir = fixture();
    let probe = Probe::new();
    let next = NextConsumers::new().with(
        otlp_pipeline::Signal::Metrics,
        probe.clone() as Arc<dyn otlp_pipeline::Consumer>,
    );
    let value = yaml(&format!(
        "collection_interval: 100ms\ninitial_delay: 0s\nroot_path: {}\nscrapers: {{memory: , load: }}",
        dir.path().display()
    ));
    let receiver = factory()
        .create(ReceiverContext::new(id("hostmetrics"), next), value)
        .expect("created");
    receiver
        .start(&otlp_pipeline::component::Host::empty())
        .await
        .expect("started");
    tokio::time::sleep(Duration::from_millis(350)).await;
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(2))
        .await
        .expect("stopped");
    let calls = probe.calls();
    assert!(
        (2..=5).contains(&calls),
        "{calls} scrapes in 350 ms at 100 ms"
    );
    // 6 memory states + 3 load averages per scrape.
    assert_eq!(probe.items(), calls * 9);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(probe.calls(), calls, "no scrape after shutdown");
}

#[test]
fn device_process_and_file_system_filters_apply() {
    let dir = fixture();
    write(
        dir.path(),
        "proc/diskstats",
        "   7 0 loop0 5 0 8 1 0 0 0 0 0 1 1 0 0 0 0\n 253 0 vda 10 1 80 5 20 2 160 7 0 12 13 0 0 0 0\n 253 16 vdb 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0\n",
    );
    let config = config_for(
        dir.path(),
        "{disk: {include: {devices: ['^v'], match_type: regexp}, exclude: {devices: [vdb], match_type: strict}}, \
          process: {exclude: {names: [worker], match_type: strict}}}",
    );
    let report = HostScrapers::new(&config).expect("scrapers").scrape();
    let devices: Vec<String> = points(&report, "system.disk.io")
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        devices,
        ["device=vda,direction=read", "device=vda,direction=write"]
    );
    assert_eq!(
        value(&report, "system.disk.io", "device=vda,direction=write"),
        160.0 * 512.0
    );
    assert_eq!(
        value(
            &report,
            "system.disk.operation_time",
            "device=vda,direction=write"
        ),
        0.007
    );
    assert!(
        find(&report, "process.cpu.time").is_empty(),
        "worker excluded"
    );

    let config = config_for(dir.path(), "{process: {scrape_process_delay: 1000000h}}");
    let report = HostScrapers::new(&config).expect("scrapers").scrape();
    assert!(find(&report, "process.cpu.time").is_empty(), "too young");
    let config = config_for(
        dir.path(),
        "{process: {include: {names: ['^wor'], match_type: regexp}, resource_attributes: {process.owner: {enabled: false}, process.command_line: {enabled: false}}}}",
    );
    let report = HostScrapers::new(&config).expect("scrapers").scrape();
    let keys: Vec<&str> = report.request.resource_metrics[0]
        .resource
        .as_ref()
        .expect("resource")
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "process.pid",
            "process.parent_pid",
            "process.executable.name",
            "process.executable.path",
            "process.command"
        ]
    );

    // This machine's file systems: excluding every type leaves nothing, and no error.
    let mut c =
        parse("scrapers: {filesystem: {exclude_fs_types: {fs_types: ['.*'], match_type: regexp}}}");
    c.root_path = String::new();
    let report = HostScrapers::new(&c).expect("scrapers").scrape();
    assert!(report.request.resource_metrics.is_empty());
    assert!(
        report.scrapers[0].errors.is_empty(),
        "{:?}",
        report.scrapers
    );
    let c = parse(
        "scrapers: {filesystem: {include_virtual_filesystems: true, include_fs_types: {fs_types: [proc], match_type: strict}}}",
    );
    let report = HostScrapers::new(&c).expect("scrapers").scrape();
    let mounts: Vec<String> = points(&report, "system.filesystem.usage")
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(
        !mounts.is_empty() && mounts.iter().all(|a| a.contains("type=proc,")),
        "{mounts:?}"
    );
}
