//! The `loadbalancing` exporter end to end: the built collector routing traces to three OTLP
//! destinations, each trace whole to the one our ring names; an agent → three gateways tier
//! with `tail_sampling`, sampling whole traces; the Go collector's `loadbalancing` exporter
//! choosing the same backend as ours for every trace id (and service) for the same endpoint
//! list; and a backend that is down receiving what was acknowledged for it once it is up.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod components_support;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use otlp_exporters::loadbalancing::ring::HashRing;
use otlp_model::builders::{SpanBuilder, TracesBuilder};
use otlp_model::resource;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::client::Protocol;
use support::{Peer, Proc, RunningSink, Sink, Timer, free_addr, start_collector, wait_until};

const PATIENCE: Duration = Duration::from_secs(30);

/// A distinct, well-spread trace id for trace `i` (SplitMix64 of `i`, twice).
fn trace_id(i: u64) -> [u8; 16] {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&mix(i * 2).to_be_bytes());
    id[8..].copy_from_slice(&mix(i * 2 + 1).to_be_bytes());
    id
}

/// Requests carrying `traces` traces of `spans` spans, the traces interleaved and each
/// trace's spans spread over `requests` requests (a trace is never whole in one request when
/// `requests > 1`). Trace `t` has an error span when `error(t)`.
fn requests(
    first: u64,
    traces: u64,
    spans: u64,
    requests: u64,
    service: impl Fn(u64) -> String,
    error: impl Fn(u64) -> bool,
) -> Vec<ExportTraceServiceRequest> {
    (0..requests)
        .map(|r| {
            let mut request = ExportTraceServiceRequest::default();
            for t in first..first + traces {
                let built = TracesBuilder::new()
                    .resource(resource!["service.name" => service(t)])
                    .scope("e2e", "1")
                    .spans((0..spans).filter(|s| s % requests == r).map(|s| {
                        let mut span_id = [0u8; 8];
                        span_id[..4].copy_from_slice(&(t as u32).to_be_bytes());
                        span_id[4..].copy_from_slice(&(s as u32 + 1).to_be_bytes());
                        let span = SpanBuilder::new(format!("op-{s}"))
                            .trace_id(trace_id(t))
                            .span_id(span_id)
                            .start(1_000_000_000u64)
                            .end(1_002_000_000u64);
                        if error(t) && s == 0 {
                            span.status_error("boom")
                        } else {
                            span
                        }
                    }))
                    .build();
                request.resource_spans.extend(built.resource_spans);
            }
            request
        })
        .collect()
}

/// Per trace id: the sinks (by index) that received spans of it, and how many spans.
fn arrivals(sinks: &[&Sink]) -> BTreeMap<[u8; 16], BTreeMap<usize, usize>> {
    let mut out: BTreeMap<[u8; 16], BTreeMap<usize, usize>> = BTreeMap::new();
    for (index, sink) in sinks.iter().enumerate() {
        sink.with(|received| {
            for request in &received.traces {
                for rs in &request.resource_spans {
                    for ss in &rs.scope_spans {
                        for span in &ss.spans {
                            let id: [u8; 16] = span.trace_id.as_slice().try_into().unwrap();
                            *out.entry(id).or_default().entry(index).or_default() += 1;
                        }
                    }
                }
            }
        });
    }
    out
}

/// Per service name: the sinks that received spans of it.
fn services(sinks: &[&Sink]) -> BTreeMap<String, BTreeSet<usize>> {
    let mut out: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (index, sink) in sinks.iter().enumerate() {
        sink.with(|received| {
            for request in &received.traces {
                for rs in &request.resource_spans {
                    let service = rs
                        .resource
                        .as_ref()
                        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                        .and_then(|kv| kv.value.as_ref())
                        .and_then(|v| match &v.value {
                            Some(otlp_proto::common::v1::any_value::Value::StringValue(s)) => {
                                Some(s.clone())
                            }
                            _ => None,
                        })
                        .unwrap_or_default();
                    out.entry(service).or_default().insert(index);
                }
            }
        });
    }
    out
}

fn total_spans(sinks: &[&Sink]) -> usize {
    sinks.iter().map(|s| s.with(|r| r.spans.len())).sum()
}

/// The ring over the destinations' `host:port` texts, as both exporters build it (sorted).
fn ring_over(addrs: &[SocketAddr]) -> (HashRing, Vec<String>) {
    let mut members: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    members.sort();
    (HashRing::new(&members), members)
}

/// The index in `addrs` of the destination the ring names for `key`.
fn predicted(addrs: &[SocketAddr], key: &[u8]) -> usize {
    let (ring, _) = ring_over(addrs);
    let member = ring.endpoint_for(key).unwrap();
    addrs.iter().position(|a| a.to_string() == member).unwrap()
}

fn loadbalancing_yaml(name: &str, routing_key: &str, addrs: &[SocketAddr]) -> String {
    let hostnames: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    format!(
        "  loadbalancing/{name}:
    routing_key: {routing_key}
    protocol:
      otlp:
        tls: {{insecure: true}}
        timeout: 5s
        retry_on_failure: {{initial_interval: 100ms, max_interval: 500ms}}
    resolver:
      static:
        hostnames: [{}]
",
        hostnames.join(", ")
    )
}

async fn send_all(addr: SocketAddr, requests: &[ExportTraceServiceRequest]) {
    let sender = support::client(Protocol::Grpc, addr);
    for request in requests {
        sender
            .export(request)
            .await
            .unwrap_or_else(|e| panic!("export to {addr}: {e}"));
    }
}

fn clear(sinks: &[&RunningSink]) {
    for sink in sinks {
        *sink.received.lock().unwrap() = support::Received::default();
    }
}

// ---------------------------------------------------------------------------------------------
// (a) the built collector, three destinations
// ---------------------------------------------------------------------------------------------

fn collector_config(grpc: SocketAddr, exporters: &str, pipelines: &str) -> String {
    format!(
        "receivers:
  otlp:
    protocols:
      grpc: {{endpoint: {grpc}}}
exporters:
{exporters}service:
  telemetry:
    metrics:
      level: none
  pipelines:
{pipelines}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collector_sends_every_trace_whole_to_the_backend_our_ring_names() {
    let _timer = Timer::start("loadbalancing: three destinations");
    let sinks = [
        RunningSink::start().await,
        RunningSink::start().await,
        RunningSink::start().await,
    ];
    let addrs: Vec<SocketAddr> = sinks.iter().map(|s| s.grpc).collect();
    let grpc = free_addr();
    let dir = support::temp_dir("lb-three");
    let config = support::write(
        dir.path(),
        "collector.yaml",
        &collector_config(
            grpc,
            &loadbalancing_yaml("three", "traceID", &addrs),
            "    traces: {receivers: [otlp], exporters: [loadbalancing/three]}\n",
        ),
    );
    let mut collector = start_collector("lb-three", &config, &[]).await;
    let traces = 90;
    let spans = 4;
    send_all(
        grpc,
        &requests(0, traces, spans, 2, |t| format!("svc-{}", t % 3), |_| false),
    )
    .await;
    let views: Vec<&Sink> = sinks.iter().map(|s| &s.sink).collect();
    let expected = (traces * spans) as usize;
    wait_until(
        PATIENCE,
        || {
            format!(
                "{} of {expected} spans\n{}",
                total_spans(&views),
                collector.tail()
            )
        },
        || total_spans(&views) >= expected,
    )
    .await;
    let arrived = arrivals(&views);
    assert_eq!(arrived.len(), traces as usize);
    let mut per_sink = [0usize; 3];
    for (trace, at) in &arrived {
        assert_eq!(at.len(), 1, "trace {trace:02x?} arrived at {at:?}");
        let (sink, count) = at.iter().next().unwrap();
        assert_eq!(*count, spans as usize, "every span of the trace, once");
        assert_eq!(*sink, predicted(&addrs, trace), "the ring's backend");
        per_sink[*sink] += 1;
    }
    assert!(
        per_sink.iter().all(|n| *n > 0),
        "90 traces use all three: {per_sink:?}"
    );
    assert_eq!(total_spans(&views), expected, "nothing twice");
    collector.terminate();
    for sink in sinks {
        sink.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------
// (b) the tier: agent → loadbalancing → three gateways with tail_sampling
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_and_three_tail_sampling_gateways_sample_whole_traces() {
    let _timer = Timer::start("loadbalancing: the tier");
    let sinks = [
        RunningSink::start().await,
        RunningSink::start().await,
        RunningSink::start().await,
    ];
    let mut gateways = Vec::new();
    for sink in &sinks {
        let yaml = format!(
            "receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
processors:
  tail_sampling:
    decision_wait: 500ms
    policies:
      - {{name: errors, type: status_code, status_code: {{status_codes: [ERROR]}}}}
exporters:
  otlp:
    endpoint: http://{}
    tls: {{insecure: true}}
service:
  pipelines:
    traces: {{receivers: [otlp], processors: [tail_sampling], exporters: [otlp]}}
",
            sink.grpc
        );
        gateways.push(components_support::Collector::start(&yaml).await);
    }
    let gateway_addrs: Vec<SocketAddr> = gateways.iter().map(|g| g.addr("otlp", "grpc")).collect();
    let agent_yaml = format!(
        "receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
exporters:
{}service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [loadbalancing/gateways]}}
",
        loadbalancing_yaml("gateways", "traceID", &gateway_addrs)
    );
    let agent = components_support::Collector::start(&agent_yaml).await;
    let traces = 60u64;
    let spans = 6u64;
    let is_error = |t: u64| t.is_multiple_of(3);
    // Each trace's spans in three requests: only a gateway that gets all of them sees the
    // error span of an error trace together with the rest.
    send_all(
        agent.addr("otlp", "grpc"),
        &requests(0, traces, spans, 3, |t| format!("svc-{}", t % 4), is_error),
    )
    .await;
    let views: Vec<&Sink> = sinks.iter().map(|s| &s.sink).collect();
    let sampled = (0..traces).filter(|t| is_error(*t)).count();
    let expected = sampled * spans as usize;
    wait_until(
        PATIENCE,
        || format!("{} of {expected} sampled spans", total_spans(&views)),
        || total_spans(&views) >= expected,
    )
    .await;
    let arrived = arrivals(&views);
    for t in 0..traces {
        let id = trace_id(t);
        match arrived.get(&id) {
            Some(at) => {
                assert!(
                    is_error(t),
                    "trace {t} has no error yet was sampled: {at:?}"
                );
                assert_eq!(at.len(), 1, "trace {t} at one gateway: {at:?}");
                let (gateway, count) = at.iter().next().unwrap();
                assert_eq!(*count, spans as usize, "trace {t} whole");
                assert_eq!(*gateway, predicted(&gateway_addrs, &id), "trace {t}");
            }
            None => assert!(!is_error(t), "error trace {t} was dropped"),
        }
    }
    assert_eq!(arrived.len(), sampled);
    let busy = arrived
        .values()
        .flat_map(|at| at.keys())
        .collect::<BTreeSet<_>>();
    assert!(
        busy.len() > 1,
        "the sampled traces use more than one gateway"
    );
    assert_eq!(total_spans(&views), expected, "nothing twice");
    agent.shutdown(Duration::from_secs(5)).await.unwrap();
    for gateway in &gateways {
        gateway.shutdown(Duration::from_secs(5)).await.unwrap();
    }
    for sink in sinks {
        sink.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------
// (c) differential: the Go collector's loadbalancing exporter picks what ours picks
// ---------------------------------------------------------------------------------------------

/// The configuration both collectors run: traces by trace id through one receiver, by
/// service through another, to the same three destinations.
fn differential_config(
    by_trace: SocketAddr,
    by_service: SocketAddr,
    addrs: &[SocketAddr],
) -> String {
    format!(
        "receivers:
  otlp/trace:
    protocols:
      grpc: {{endpoint: {by_trace}}}
  otlp/service:
    protocols:
      grpc: {{endpoint: {by_service}}}
exporters:
{}{}service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces/trace: {{receivers: [otlp/trace], exporters: [loadbalancing/trace]}}
    traces/service: {{receivers: [otlp/service], exporters: [loadbalancing/service]}}
",
        loadbalancing_yaml("trace", "traceID", addrs),
        loadbalancing_yaml("service", "service", addrs),
    )
}

type Choices = (
    BTreeMap<[u8; 16], BTreeMap<usize, usize>>,
    BTreeMap<String, BTreeSet<usize>>,
);

/// Sends the differential traffic through a collector listening on `by_trace`/`by_service`
/// and returns where every trace and every service went.
async fn differential_run(
    name: &str,
    process: &mut Proc,
    by_trace: SocketAddr,
    by_service: SocketAddr,
    sinks: &[&RunningSink],
) -> Choices {
    process.wait_listening(by_trace, PATIENCE).await;
    process.wait_listening(by_service, PATIENCE).await;
    let traces = 120u64;
    send_all(
        by_trace,
        &requests(0, traces, 2, 1, |_| "one".into(), |_| false),
    )
    .await;
    let views: Vec<&Sink> = sinks.iter().map(|s| &s.sink).collect();
    let first = (traces * 2) as usize;
    wait_until(
        PATIENCE,
        || {
            format!(
                "{name}: {} of {first} spans\n{}",
                total_spans(&views),
                process.tail()
            )
        },
        || total_spans(&views) >= first,
    )
    .await;
    let by_trace_id = arrivals(&views);
    clear(sinks);
    let services_sent = 40u64;
    send_all(
        by_service,
        &requests(
            1000,
            services_sent,
            1,
            1,
            |t| format!("service-{t}"),
            |_| false,
        ),
    )
    .await;
    let expected = services_sent as usize;
    wait_until(
        PATIENCE,
        || {
            format!(
                "{name}: {} of {expected} spans by service\n{}",
                total_spans(&views),
                process.tail()
            )
        },
        || total_spans(&views) >= expected,
    )
    .await;
    let by_service_name = services(&views);
    clear(sinks);
    (by_trace_id, by_service_name)
}

/// The Go collector on `config`; the directory holding the file lives as long as the test.
fn go_collector(binary: &Path, config: &str) -> (Proc, tempfile::TempDir) {
    let dir = support::temp_dir("lb-go");
    let path = support::write(dir.path(), "config.yaml", config);
    let mut command = Command::new(binary);
    command
        .arg("--config")
        .arg(&path)
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    (Proc::spawn("otelcol-contrib-go", command), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_go_loadbalancing_exporter_chooses_what_ours_chooses() {
    let go = require_peer!(Peer::OtelcolContribGo);
    let _timer = Timer::start("loadbalancing: differential against Go");
    let sinks = [
        RunningSink::start().await,
        RunningSink::start().await,
        RunningSink::start().await,
    ];
    let refs: Vec<&RunningSink> = sinks.iter().collect();
    let addrs: Vec<SocketAddr> = sinks.iter().map(|s| s.grpc).collect();

    let (trace_in, service_in) = (free_addr(), free_addr());
    let (mut process, _config_dir) =
        go_collector(&go, &differential_config(trace_in, service_in, &addrs));
    let theirs = differential_run("Go", &mut process, trace_in, service_in, &refs).await;
    process.terminate();

    let (trace_in, service_in) = (free_addr(), free_addr());
    let dir = support::temp_dir("lb-ours");
    let config = support::write(
        dir.path(),
        "collector.yaml",
        &differential_config(trace_in, service_in, &addrs),
    );
    let mut ours_process = start_collector("lb-ours", &config, &[]).await;
    let ours = differential_run("ours", &mut ours_process, trace_in, service_in, &refs).await;
    ours_process.terminate();

    assert_eq!(theirs.0.len(), 120);
    for (trace, at) in &theirs.0 {
        assert_eq!(at.len(), 1, "Go split trace {trace:02x?}: {at:?}");
        let go_choice = *at.keys().next().unwrap();
        assert_eq!(
            go_choice,
            predicted(&addrs, trace),
            "our ring predicts Go's choice"
        );
        assert_eq!(ours.0.get(trace), Some(at), "ours chose as Go did");
    }
    assert_eq!(theirs.1.len(), 40);
    for (service, at) in &theirs.1 {
        assert_eq!(at.len(), 1, "Go sent {service} to {at:?}");
        let key = format!("service.name={service}|");
        assert_eq!(
            *at.iter().next().unwrap(),
            predicted(&addrs, key.as_bytes()),
            "{service}: Go's service key is service.name=VALUE|"
        );
        assert_eq!(ours.1.get(service), Some(at), "{service}");
    }
    for sink in sinks {
        sink.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------
// (d) a backend that is down
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_acknowledged_for_a_down_backend_arrive_once_it_is_up() {
    let _timer = Timer::start("loadbalancing: a backend down");
    let up = [RunningSink::start().await, RunningSink::start().await];
    let down = support::down_addr();
    let addrs = vec![up[0].grpc, up[1].grpc, down];
    let yaml = format!(
        "receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
exporters:
{}service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [loadbalancing/down]}}
",
        loadbalancing_yaml("down", "traceID", &addrs)
    );
    let collector = components_support::Collector::start(&yaml).await;
    let traces = 60u64;
    let spans = 3u64;
    // Every export is acknowledged, the down backend's share included (its queue took it).
    send_all(
        collector.addr("otlp", "grpc"),
        &requests(0, traces, spans, 1, |_| "svc".into(), |_| false),
    )
    .await;
    let for_down: BTreeSet<[u8; 16]> = (0..traces)
        .map(trace_id)
        .filter(|id| predicted(&addrs, id) == 2)
        .collect();
    assert!(
        !for_down.is_empty(),
        "some traces belong to the down backend"
    );
    let up_views: Vec<&Sink> = up.iter().map(|s| &s.sink).collect();
    let up_expected = (traces as usize - for_down.len()) * spans as usize;
    wait_until(
        PATIENCE,
        || {
            format!(
                "{} of {up_expected} spans at the live backends",
                total_spans(&up_views)
            )
        },
        || total_spans(&up_views) >= up_expected,
    )
    .await;
    let live = arrivals(&up_views);
    assert!(
        live.keys().all(|id| !for_down.contains(id)),
        "nothing re-routed away from the down backend"
    );
    // The backend comes up on its address: the queued spans arrive.
    let late = RunningSink::start_on(down, free_addr(), Sink::default()).await;
    let expected = for_down.len() * spans as usize;
    wait_until(
        PATIENCE,
        || {
            format!(
                "{} of {expected} spans at the late backend",
                late.with(|r| r.spans.len())
            )
        },
        || late.with(|r| r.spans.len()) >= expected,
    )
    .await;
    let arrived = arrivals(&[&late.sink]);
    assert_eq!(arrived.keys().copied().collect::<BTreeSet<_>>(), for_down);
    assert!(arrived.values().all(|at| at[&0] == spans as usize));
    let metrics = collector.metrics();
    let outcome = metrics.sum(
        "otelcol_loadbalancer_backend_outcome_total",
        &[("exporter", "loadbalancing/down"), ("success", "true")],
    );
    assert!(outcome >= 3.0, "every backend's part accepted: {outcome}");
    assert_eq!(
        metrics.value(
            "otelcol_loadbalancer_num_backends",
            &[("exporter", "loadbalancing/down"), ("resolver", "static")]
        ),
        Some(3.0)
    );
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    for sink in up {
        sink.stop().await;
    }
    late.stop().await;
}
