//! The `hostmetrics` receiver (alias `host_metrics`, otelcol-contrib v0.160.0's name): the
//! host's CPU, memory, disks, file systems, load, network, paging, processes and uptime,
//! read directly from `/proc`, `/sys` and `statvfs` (Linux only; elsewhere the configuration
//! is refused).
//!
//! # Keys and defaults (otelcol's)
//!
//! `collection_interval` (1 m), `initial_delay` (1 s), `timeout` (accepted), `root_path` (the
//! host's `/` mounted elsewhere: `<root>/proc`, `<root>/sys`, `<root>/etc/passwd` and the
//! mount points are read below it), `metadata_collection_interval` (accepted),
//! `scrapers: {cpu, disk, filesystem, load, memory, network, paging, processes, process,
//! system}` (at least one; `nfs` is refused), each with `metrics: {NAME: {enabled,
//! attributes, aggregation_strategy}}` and its own filters (see [`HostMetricsConfig`]).
//! Unknown keys, metric names, attribute names and strategies are refused naming the key.
//!
//! # Output
//!
//! Every `collection_interval` (the first after `initial_delay`) one request holding one
//! resource per scraper (`process`: one per process, with its `process.*` resource
//! attributes), scope `…/hostmetricsreceiver/internal/scraper/<name>scraper` as Go's, schema
//! URL `https://opentelemetry.io/schemas/1.9.0`; cumulative sums start at boot time (a
//! process's at its start). Names, units, types, monotonicity, attributes and which metrics
//! are on by default are the Go scrapers' `metadata.yaml` (`tests/hostmetrics.rs` compares
//! the shape with the Go receiver's output).
//!
//! # Errors
//!
//! A scraper that fails (a file missing or malformed) reports what it could and its errors;
//! the other scrapers are not affected. Errors are counted in
//! `otelcol_scraper_errored_metric_points_total{receiver, scraper}` (one per error), data
//! points in `otelcol_scraper_scraped_metric_points_total`, and each scrape's errors of a
//! scraper are logged once (the count and the first). The pipeline's answer is counted in
//! `otelcol_receiver_accepted_metric_points_total` / `_refused_`.

mod config;
mod cpu;
mod disk;
mod filesystem;
mod host;
mod load;
mod memory;
mod metric;
mod network;
mod paging;
mod process;
mod processes;
mod system;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::metrics::v1::ResourceMetrics;
use tokio::time::Instant;

pub use config::{
    CpuConfig, DeviceMatch, DiskConfig, FilesystemConfig, FsTypeMatch, HostMetricsConfig,
    InterfaceMatch, LoadConfig, MemoryConfig, MetricSetting, MetricsSettings, MountPointMatch,
    NameMatch, NetworkConfig, PagingConfig, ProcessConfig, ProcessesConfig,
    ResourceAttributeSetting, ScrapersConfig, SystemConfig,
};

use otlp_pipeline::ServiceStatus;
use otlp_pipeline::component::{Host as PipelineHost, NextConsumers, Receiver, ReceiverContext};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::task::{BackgroundTask, Stopped};
use otlp_pipeline::telemetry::{Counter, Metrics};
use otlp_pipeline::{Signal, SignalSet};

use config::IncludeExclude;
use host::{Host, ScrapeError, now_nanos};
use metric::{Recorder, resolve};

/// What one scraper's scrape produced.
#[derive(Debug)]
pub(crate) struct Scrape {
    /// Start time of the cumulative points (boot time), Unix nanoseconds.
    start: u64,
    /// The points' timestamp.
    now: u64,
    resources: Vec<ResourceMetrics>,
    points: usize,
    errors: Vec<ScrapeError>,
}

impl Scrape {
    fn new(start: u64) -> Scrape {
        Scrape {
            start,
            now: now_nanos(),
            resources: Vec::new(),
            points: 0,
            errors: Vec::new(),
        }
    }

    /// Part of the scrape failed; the rest goes on.
    pub(crate) fn error(&mut self, _scraper: &str, error: ScrapeError) {
        self.errors.push(error);
    }

    /// The scrape failed as a whole.
    pub(crate) fn failed(&mut self, scraper: &str, error: ScrapeError) {
        self.error(scraper, error);
    }

    /// Adds a resource's metrics (none when nothing was recorded).
    pub(crate) fn emit(&mut self, scraper: &str, resource: Vec<KeyValue>, recorder: Recorder) {
        let points = recorder.points();
        if points == 0 {
            return;
        }
        self.points += points;
        self.resources.push(metric::resource_metrics(
            scraper,
            resource,
            recorder.into_metrics(),
        ));
    }
}

enum AnyScraper {
    Cpu(cpu::CpuScraper),
    Disk(disk::DiskScraper),
    Filesystem(Box<filesystem::FilesystemScraper>),
    Load(load::LoadScraper),
    Memory(memory::MemoryScraper),
    Network(network::NetworkScraper),
    Paging(paging::PagingScraper),
    Processes(processes::ProcessesScraper),
    Process(Box<process::ProcessScraper>),
    System(system::SystemScraper),
}

impl AnyScraper {
    fn name(&self) -> &'static str {
        match self {
            AnyScraper::Cpu(_) => "cpu",
            AnyScraper::Disk(_) => "disk",
            AnyScraper::Filesystem(_) => "filesystem",
            AnyScraper::Load(_) => "load",
            AnyScraper::Memory(_) => "memory",
            AnyScraper::Network(_) => "network",
            AnyScraper::Paging(_) => "paging",
            AnyScraper::Processes(_) => "processes",
            AnyScraper::Process(_) => "process",
            AnyScraper::System(_) => "system",
        }
    }

    fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        match self {
            AnyScraper::Cpu(s) => s.scrape(host, scrape),
            AnyScraper::Disk(s) => s.scrape(host, scrape),
            AnyScraper::Filesystem(s) => s.scrape(host, scrape),
            AnyScraper::Load(s) => s.scrape(host, scrape),
            AnyScraper::Memory(s) => s.scrape(host, scrape),
            AnyScraper::Network(s) => s.scrape(host, scrape),
            AnyScraper::Paging(s) => s.scrape(host, scrape),
            AnyScraper::Processes(s) => s.scrape(host, scrape),
            AnyScraper::Process(s) => s.scrape(host, scrape),
            AnyScraper::System(s) => s.scrape(host, scrape),
        }
    }
}

/// One scraper's part of a [`ScrapeReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScraperReport {
    /// The scraper (`cpu`).
    pub scraper: &'static str,
    /// Data points it produced.
    pub points: usize,
    /// Its errors, as text.
    pub errors: Vec<String>,
}

/// One scrape of every configured scraper.
#[derive(Debug, Clone)]
pub struct ScrapeReport {
    /// The metrics, one resource per scraper (per process for `process`).
    pub request: ExportMetricsServiceRequest,
    /// Per scraper, in configuration order (alphabetical).
    pub scrapers: Vec<ScraperReport>,
}

/// The configured scrapers, usable without a pipeline (tests, benchmarks, a program of its
/// own): [`HostScrapers::scrape`] reads the host once.
pub struct HostScrapers {
    host: Host,
    boot_nanos: u64,
    scrapers: Vec<AnyScraper>,
}

impl std::fmt::Debug for HostScrapers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.scrapers.iter().map(AnyScraper::name).collect();
        f.debug_struct("HostScrapers")
            .field("root", &self.host.root())
            .field("scrapers", &names)
            .finish()
    }
}

fn filter(
    include: Result<Option<config::Filter>, ConfigError>,
    exclude: Result<Option<config::Filter>, ConfigError>,
) -> Result<IncludeExclude, ConfigError> {
    Ok(IncludeExclude {
        include: include?,
        exclude: exclude?,
    })
}

impl HostScrapers {
    /// Validates `config` and prepares its scrapers; reads the boot time.
    pub fn new(config: &HostMetricsConfig) -> Result<HostScrapers, BoxError> {
        config.validate()?;
        let host = Host::new(&config.root_path);
        let boot = host.boot_time()?;
        let s = &config.scrapers;
        let mut scrapers = Vec::new();
        if let Some(c) = &s.cpu {
            scrapers.push(AnyScraper::Cpu(cpu::CpuScraper::new(resolve(
                cpu::METRICS,
                &c.metrics,
            ))));
        }
        if let Some(c) = &s.disk {
            let f = filter(
                c.include.compile("scrapers::disk::include"),
                c.exclude.compile("scrapers::disk::exclude"),
            )?;
            scrapers.push(AnyScraper::Disk(disk::DiskScraper::new(
                resolve(disk::METRICS, &c.metrics),
                f,
            )));
        }
        if let Some(c) = &s.filesystem {
            scrapers.push(AnyScraper::Filesystem(Box::new(
                filesystem::FilesystemScraper::new(
                    resolve(filesystem::METRICS, &c.metrics),
                    c.filters()?,
                    c.include_virtual_filesystems,
                ),
            )));
        }
        if let Some(c) = &s.load {
            scrapers.push(AnyScraper::Load(load::LoadScraper::new(
                resolve(load::METRICS, &c.metrics),
                c.cpu_average,
            )));
        }
        if let Some(c) = &s.memory {
            scrapers.push(AnyScraper::Memory(memory::MemoryScraper::new(resolve(
                memory::METRICS,
                &c.metrics,
            ))));
        }
        if let Some(c) = &s.network {
            let f = filter(
                c.include.compile("scrapers::network::include"),
                c.exclude.compile("scrapers::network::exclude"),
            )?;
            scrapers.push(AnyScraper::Network(network::NetworkScraper::new(
                resolve(network::METRICS, &c.metrics),
                f,
            )));
        }
        if let Some(c) = &s.paging {
            scrapers.push(AnyScraper::Paging(paging::PagingScraper::new(resolve(
                paging::METRICS,
                &c.metrics,
            ))));
        }
        if let Some(c) = &s.processes {
            scrapers.push(AnyScraper::Processes(processes::ProcessesScraper::new(
                resolve(processes::METRICS, &c.metrics),
            )));
        }
        if let Some(c) = &s.process {
            let f = filter(
                c.include.compile("scrapers::process::include"),
                c.exclude.compile("scrapers::process::exclude"),
            )?;
            scrapers.push(AnyScraper::Process(Box::new(process::ProcessScraper::new(
                resolve(process::METRICS, &c.metrics),
                c.clone(),
                f,
            ))));
        }
        if let Some(c) = &s.system {
            scrapers.push(AnyScraper::System(system::SystemScraper::new(resolve(
                system::METRICS,
                &c.metrics,
            ))));
        }
        Ok(HostScrapers {
            host,
            boot_nanos: boot.saturating_mul(1_000_000_000),
            scrapers,
        })
    }

    /// Scrapes every scraper once; one failing does not stop the others.
    pub fn scrape(&mut self) -> ScrapeReport {
        let mut request = ExportMetricsServiceRequest::default();
        let mut reports = Vec::with_capacity(self.scrapers.len());
        for scraper in &mut self.scrapers {
            let mut scrape = Scrape::new(self.boot_nanos);
            scraper.scrape(&self.host, &mut scrape);
            reports.push(ScraperReport {
                scraper: scraper.name(),
                points: scrape.points,
                errors: scrape.errors.iter().map(ToString::to_string).collect(),
            });
            request.resource_metrics.append(&mut scrape.resources);
        }
        ScrapeReport {
            request,
            scrapers: reports,
        }
    }
}

struct Counters {
    scraped: Vec<(&'static str, Counter, Counter)>,
    accepted: Counter,
    refused: Counter,
}

/// The `hostmetrics` receiver.
pub struct HostMetricsReceiver {
    id: ComponentId,
    config: HostMetricsConfig,
    next: NextConsumers,
    metrics: Arc<Metrics>,
    status: Arc<ServiceStatus>,
    task: BackgroundTask,
}

impl std::fmt::Debug for HostMetricsReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostMetricsReceiver")
            .field("id", &self.id)
            .field("collection_interval", &self.config.collection_interval)
            .finish_non_exhaustive()
    }
}

impl HostMetricsReceiver {
    /// Builds the receiver; nothing is read until [`Receiver::start`].
    pub fn new(
        ctx: ReceiverContext,
        config: HostMetricsConfig,
    ) -> Result<HostMetricsReceiver, ConfigError> {
        config.validate()?;
        let status = ServiceStatus::from_resources(&ctx.resources);
        status.receiver_created(&ctx.id);
        Ok(HostMetricsReceiver {
            id: ctx.id,
            config,
            next: ctx.next,
            metrics: Metrics::from_resources(&ctx.resources),
            status,
            task: BackgroundTask::new("the hostmetrics receiver"),
        })
    }

    fn counters(&self, scrapers: &HostScrapers) -> Counters {
        let id = self.id.as_str();
        let scraped = scrapers
            .scrapers
            .iter()
            .map(|s| {
                let labels = [("receiver", id), ("scraper", s.name())];
                (
                    s.name(),
                    self.metrics.counter(
                        "otelcol_scraper_scraped_metric_points_total",
                        "Number of metric points successfully scraped. [alpha]",
                        &labels,
                    ),
                    self.metrics.counter(
                        "otelcol_scraper_errored_metric_points_total",
                        "Number of metric points that were unable to be scraped. [alpha]",
                        &labels,
                    ),
                )
            })
            .collect();
        let labels = [("receiver", id), ("transport", "")];
        Counters {
            scraped,
            accepted: self.metrics.counter(
                "otelcol_receiver_accepted_metric_points_total",
                "Number of metric points successfully pushed into the pipeline. [alpha]",
                &labels,
            ),
            refused: self.metrics.counter(
                "otelcol_receiver_refused_metric_points_total",
                "Number of metric points that could not be pushed into the pipeline. [alpha]",
                &labels,
            ),
        }
    }
}

async fn run(
    id: String,
    mut scrapers: HostScrapers,
    counters: Counters,
    next: Arc<dyn otlp_pipeline::Consumer>,
    initial_delay: Duration,
    interval: Duration,
    mut stopped: Stopped,
) {
    tokio::select! {
        _ = &mut stopped => return,
        _ = tokio::time::sleep(initial_delay) => {}
    }
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = ticks.tick() => {}
        }
        // The scrapers read files: off the async workers.
        let joined = tokio::task::spawn_blocking(move || {
            let report = scrapers.scrape();
            (scrapers, report)
        })
        .await;
        let report = match joined {
            Ok((back, report)) => {
                scrapers = back;
                report
            }
            Err(error) => {
                tracing::error!(receiver = %id, %error, "a host metrics scrape panicked; the receiver stops");
                return;
            }
        };
        let mut points = 0;
        for (s, (name, scraped, errored)) in report.scrapers.iter().zip(&counters.scraped) {
            debug_assert_eq!(s.scraper, *name);
            points += s.points;
            scraped.add(s.points as u64);
            errored.add(s.errors.len() as u64);
            if let Some(first) = s.errors.first() {
                tracing::warn!(receiver = %id, scraper = s.scraper, errors = s.errors.len(), error = %first, "host metrics scrape errors");
            }
        }
        if points == 0 {
            continue;
        }
        let telemetry = Telemetry::new(report.request);
        tokio::select! {
            _ = &mut stopped => return,
            result = next.consume(telemetry) => match result {
                Ok(()) => counters.accepted.add(points as u64),
                Err(error) => {
                    counters.refused.add(points as u64);
                    tracing::warn!(receiver = %id, %error, "the pipeline refused host metrics");
                }
            },
        }
    }
}

#[async_trait]
impl Receiver for HostMetricsReceiver {
    async fn start(&self, _host: &PipelineHost) -> Result<(), BoxError> {
        let Some(next) = self.next.get(Signal::Metrics).cloned() else {
            self.status.receiver_started(&self.id);
            return Ok(());
        };
        let scrapers = HostScrapers::new(&self.config)?;
        let counters = self.counters(&scrapers);
        let (delay, interval) = (self.config.initial_delay, self.config.collection_interval);
        let id = self.id.to_string();
        self.task
            .start(move |stopped| run(id, scrapers, counters, next, delay, interval, stopped))?;
        self.status.receiver_started(&self.id);
        Ok(())
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.status.receiver_stopping(&self.id);
        if self.task.stop(deadline).await {
            Ok(())
        } else {
            Err("the hostmetrics receiver did not stop by the shutdown deadline".into())
        }
    }
}

/// The `hostmetrics` receiver factory (alias `host_metrics`).
pub fn factory() -> impl otlp_pipeline::ReceiverFactory {
    FnFactory::receiver(
        "hostmetrics",
        SignalSet::from(Signal::Metrics),
        |ctx, config: HostMetricsConfig| Ok(Box::new(HostMetricsReceiver::new(ctx, config)?)),
    )
    .with_aliases(&["host_metrics"])
}
