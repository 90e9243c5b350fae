//! The `prometheus` receiver (otelcol-contrib v0.165.1's keys): scrapes Prometheus
//! exposition endpoints listed in `static_configs` and translates what they expose to OTLP
//! metrics as the Go receiver does.
//!
//! # Keys and defaults
//!
//! `config:` is a Prometheus configuration: `global: {scrape_interval (1m), scrape_timeout
//! (10s), evaluation_interval (accepted), external_labels}` and `scrape_configs: [{job_name
//! (required, unique), scrape_interval, scrape_timeout (the global one capped at the
//! interval), metrics_path (/metrics), scheme (http), params, honor_labels (false),
//! honor_timestamps (true), static_configs: [{targets, labels}], relabel_configs,
//! metric_relabel_configs, sample_limit (0: none), body_size_limit (0: 64 MiB)}]`. Beside
//! it: `trim_metric_suffixes` (false), `use_start_time_metric` (false; when true the start
//! time of cumulative points is the value of the first gauge matching
//! `start_time_metric_regex`, default `^(.+_)*process_start_time_seconds$`, when the scrape
//! has one). Refused by name: every `*_sd_configs` block, `target_allocator`, `scheme:
//! https`, the relabel actions `keepequal`/`dropequal`; any other unknown key is refused.
//!
//! # Scrape
//!
//! Every target is scraped on its own task, first right after start, then every
//! `scrape_interval`: an HTTP/1.1 GET with Prometheus's `Accept` (OpenMetrics 1.0, then text
//! 0.0.4), `Accept-Encoding: gzip` and `X-Prometheus-Scrape-Timeout-Seconds`, the timeout as
//! a deadline. The body (at most `body_size_limit` after decompression) is parsed as the
//! Content-Type says ([`parse`]).
//!
//! # Output
//!
//! One `ExportMetricsServiceRequest` per scrape: one resource (`service.name` = job,
//! `service.instance.id` = instance, `server.address` unless the host is loopback or
//! `localhost`, `server.port`, `url.scheme`; `target_info`'s labels are added to it), scope
//! [`translate::SCOPE_NAME`]. Counters become monotonic cumulative sums, gauges and untyped
//! gauges, histograms cumulative explicit-bound histograms (the `+Inf` bucket is not a
//! bound; counts de-cumulated), summaries summaries; `gaugehistogram` families are dropped.
//! `job` and `instance` are not point attributes; other target labels are. Cumulative points
//! start when the series was first seen (or at `_created`), again when its value went down.
//! `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling` and `scrape_series_added` gauges come with every
//! scrape; a failed scrape sends them alone, with `up` = 0, and logs why.

mod config;
pub mod parse;
pub mod relabel;
pub mod scrape;
#[cfg(test)]
mod tests;
pub mod translate;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::metrics::v1::metric;
use tokio::sync::watch;
use tokio::time::Instant;

pub use config::{
    DEFAULT_BODY_LIMIT, GlobalConfig, PromConfig, PrometheusConfig, ScrapeConfig, StaticConfig,
    parse_byte_size, prom_duration,
};
pub use relabel::RelabelConfig;
pub use scrape::ScrapeError;
pub use translate::{Options, ScrapeCounts, SeriesCache, TargetInfo};

use otlp_pipeline::ServiceStatus;
use otlp_pipeline::component::{Host as PipelineHost, NextConsumers, Receiver, ReceiverContext};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::task::{BackgroundTask, Stopped};
use otlp_pipeline::telemetry::{Counter, Metrics};
use otlp_pipeline::{Signal, SignalSet};

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// One target: where it is, its labels, and its series cache. Usable without a pipeline
/// (tests, benchmarks): [`TargetScraper::scrape`] fetches once, [`TargetScraper::process`]
/// translates a body already fetched.
#[derive(Debug)]
pub struct TargetScraper {
    /// The target's identity and labels.
    pub info: TargetInfo,
    address: String,
    path_and_query: String,
    interval: Duration,
    timeout: Duration,
    body_limit: u64,
    options: Arc<Options>,
    cache: SeriesCache,
}

/// The gauge `use_start_time_metric` looks for when `start_time_metric_regex` is empty (the
/// Go receiver's default).
pub const DEFAULT_START_TIME_METRIC_REGEX: &str = "^(.+_)*process_start_time_seconds$";

/// Percent-encodes a query component.
fn encode_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every target of `config` after `relabel_configs` (targets dropped by relabeling are left
/// out).
pub fn targets(config: &PrometheusConfig) -> Result<Vec<TargetScraper>, ConfigError> {
    config.validate()?;
    let global = &config.config.global;
    let start_time_metric = if config.use_start_time_metric {
        let pattern = if config.start_time_metric_regex.is_empty() {
            DEFAULT_START_TIME_METRIC_REGEX
        } else {
            config.start_time_metric_regex.as_str()
        };
        Some(regex::Regex::new(pattern).map_err(|e| {
            ConfigError::bad_value("start_time_metric_regex", format!("invalid regex: {e}"))
        })?)
    } else {
        None
    };
    let mut out = Vec::new();
    for (i, job) in config.config.scrape_configs.iter().enumerate() {
        let compile = |rules: &[RelabelConfig], key: &str| {
            rules
                .iter()
                .map(relabel::Rule::compile)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    ConfigError::bad_value(format!("config::scrape_configs[{i}]::{key}"), e)
                })
        };
        let target_rules = compile(&job.relabel_configs, "relabel_configs")?;
        let options = Arc::new(Options {
            honor_labels: job.honor_labels,
            honor_timestamps: job.honor_timestamps,
            trim_suffixes: config.trim_metric_suffixes,
            sample_limit: job.sample_limit,
            metric_relabel: compile(&job.metric_relabel_configs, "metric_relabel_configs")?,
            external_labels: global.external_labels.clone(),
            start_time_metric: start_time_metric.clone(),
        });
        let interval = job.interval(global);
        let timeout = job.timeout(global);
        for group in &job.static_configs {
            for address in &group.targets {
                let mut labels = BTreeMap::new();
                labels.insert("__address__".to_string(), address.clone());
                for (k, v) in &group.labels {
                    labels.entry(k.clone()).or_insert_with(|| v.clone());
                }
                let defaults = [
                    ("job", job.job_name.clone()),
                    ("__metrics_path__", job.metrics_path.clone()),
                    ("__scheme__", job.scheme.clone()),
                    ("__scrape_interval__", prom_duration::format(interval)),
                    ("__scrape_timeout__", prom_duration::format(timeout)),
                ];
                for (k, v) in defaults {
                    labels.entry(k.to_string()).or_insert(v);
                }
                for (name, values) in &job.params {
                    if let Some(first) = values.first() {
                        labels
                            .entry(format!("__param_{name}"))
                            .or_insert_with(|| first.clone());
                    }
                }
                if !relabel::apply_all(&target_rules, &mut labels) {
                    continue;
                }
                let Some(mut address) =
                    labels.get("__address__").filter(|a| !a.is_empty()).cloned()
                else {
                    continue;
                };
                if config::split_host_port(&address).is_none() {
                    address.push_str(":80");
                }
                labels
                    .entry("instance".to_string())
                    .or_insert_with(|| address.clone());
                let scheme = labels
                    .get("__scheme__")
                    .cloned()
                    .unwrap_or_else(|| "http".into());
                let path = labels
                    .get("__metrics_path__")
                    .cloned()
                    .unwrap_or_else(|| "/metrics".into());
                let mut query: Vec<(String, String)> = Vec::new();
                for (name, values) in &job.params {
                    match labels.get(&format!("__param_{name}")) {
                        Some(v) => query.push((name.clone(), v.clone())),
                        None => query.extend(values.iter().map(|v| (name.clone(), v.clone()))),
                    }
                }
                for (k, v) in &labels {
                    if let Some(name) = k.strip_prefix("__param_")
                        && !job.params.contains_key(name)
                    {
                        query.push((name.to_string(), v.clone()));
                    }
                }
                let mut path_and_query = if path.starts_with('/') {
                    path
                } else {
                    format!("/{path}")
                };
                for (n, (k, v)) in query.iter().enumerate() {
                    path_and_query.push(if n == 0 { '?' } else { '&' });
                    path_and_query.push_str(&encode_query(k));
                    path_and_query.push('=');
                    path_and_query.push_str(&encode_query(v));
                }
                labels.retain(|k, _| !k.starts_with("__"));
                let info = TargetInfo {
                    job: labels.get("job").cloned().unwrap_or_default(),
                    instance: labels.get("instance").cloned().unwrap_or_default(),
                    scheme,
                    labels,
                };
                out.push(TargetScraper {
                    info,
                    address,
                    path_and_query,
                    interval,
                    timeout,
                    body_limit: if job.body_size_limit == 0 {
                        DEFAULT_BODY_LIMIT
                    } else {
                        job.body_size_limit
                    },
                    options: options.clone(),
                    cache: SeriesCache::default(),
                });
            }
        }
    }
    Ok(out)
}

impl TargetScraper {
    /// `host:port` scraped.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The path and query of the scrape URL.
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// Series remembered for start times.
    pub fn cached_series(&self) -> usize {
        self.cache.len()
    }

    /// Translates a fetched body (with the scrape metrics, `up` = 1), scraped at `now`
    /// (Unix nanoseconds) in `duration`.
    pub fn process(
        &mut self,
        body: &[u8],
        content_type: &str,
        now: u64,
        duration: Duration,
    ) -> Result<(ExportMetricsServiceRequest, ScrapeCounts), ScrapeError> {
        let format = parse::Format::from_content_type(content_type);
        let families = parse::parse(body, format)?;
        let (rm, counts) = translate::translate(
            &families,
            format,
            &self.info,
            &self.options,
            &mut self.cache,
            now,
        )?;
        let rm = translate::add_scrape_metrics(
            Some(rm),
            &self.info,
            &self.options,
            true,
            duration.as_secs_f64(),
            counts,
            now,
        );
        Ok((
            ExportMetricsServiceRequest {
                resource_metrics: vec![rm],
            },
            counts,
        ))
    }

    /// The request of a failed scrape: the scrape metrics alone, `up` = 0.
    pub fn failed(&self, now: u64, duration: Duration) -> ExportMetricsServiceRequest {
        let rm = translate::add_scrape_metrics(
            None,
            &self.info,
            &self.options,
            false,
            duration.as_secs_f64(),
            ScrapeCounts::default(),
            now,
        );
        ExportMetricsServiceRequest {
            resource_metrics: vec![rm],
        }
    }

    /// Fetches and translates once: always a request to send (`up` = 0 on failure) and
    /// the outcome.
    pub async fn scrape(
        &mut self,
    ) -> (
        ExportMetricsServiceRequest,
        Result<ScrapeCounts, ScrapeError>,
    ) {
        // Whole milliseconds, as Prometheus's scrape timestamps.
        let now = now_nanos() / 1_000_000 * 1_000_000;
        let started = std::time::Instant::now();
        let fetched = scrape::fetch(
            &self.address,
            &self.path_and_query,
            self.timeout,
            self.body_limit,
        )
        .await;
        let result =
            fetched.and_then(|f| self.process(&f.body, &f.content_type, now, started.elapsed()));
        match result {
            Ok((request, counts)) => (request, Ok(counts)),
            Err(error) => (self.failed(now, started.elapsed()), Err(error)),
        }
    }
}

/// Data points in a request.
fn points(request: &ExportMetricsServiceRequest) -> u64 {
    let mut n = 0usize;
    for m in request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
    {
        n += match &m.data {
            Some(metric::Data::Gauge(g)) => g.data_points.len(),
            Some(metric::Data::Sum(s)) => s.data_points.len(),
            Some(metric::Data::Histogram(h)) => h.data_points.len(),
            Some(metric::Data::Summary(s)) => s.data_points.len(),
            Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
            None => 0,
        };
    }
    n as u64
}

#[derive(Clone)]
struct Counters {
    accepted: Counter,
    refused: Counter,
}

/// The `prometheus` receiver.
pub struct PrometheusReceiver {
    id: ComponentId,
    config: PrometheusConfig,
    next: NextConsumers,
    metrics: Arc<Metrics>,
    status: Arc<ServiceStatus>,
    task: BackgroundTask,
}

impl std::fmt::Debug for PrometheusReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusReceiver")
            .field("id", &self.id)
            .field("jobs", &self.config.config.scrape_configs.len())
            .finish_non_exhaustive()
    }
}

impl PrometheusReceiver {
    /// Builds the receiver; nothing is scraped until [`Receiver::start`].
    pub fn new(
        ctx: ReceiverContext,
        config: PrometheusConfig,
    ) -> Result<PrometheusReceiver, ConfigError> {
        config.validate()?;
        let status = ServiceStatus::from_resources(&ctx.resources);
        status.receiver_created(&ctx.id);
        Ok(PrometheusReceiver {
            id: ctx.id,
            config,
            next: ctx.next,
            metrics: Metrics::from_resources(&ctx.resources),
            status,
            task: BackgroundTask::new("the prometheus receiver"),
        })
    }
}

async fn scrape_loop(
    id: Arc<str>,
    mut target: TargetScraper,
    next: Arc<dyn otlp_pipeline::Consumer>,
    counters: Counters,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(target.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = ticks.tick() => {}
        }
        let (request, outcome) = tokio::select! {
            _ = stop.changed() => return,
            r = target.scrape() => r,
        };
        if let Err(error) = &outcome {
            tracing::warn!(
                receiver = %id,
                job = %target.info.job,
                instance = %target.info.instance,
                %error,
                "prometheus scrape failed"
            );
        }
        let n = points(&request);
        tokio::select! {
            _ = stop.changed() => return,
            result = next.consume(Telemetry::new(request)) => match result {
                Ok(()) => counters.accepted.add(n),
                Err(error) => {
                    counters.refused.add(n);
                    tracing::warn!(receiver = %id, %error, "the pipeline refused scraped metrics");
                }
            },
        }
    }
}

async fn run(
    id: String,
    targets: Vec<TargetScraper>,
    next: Arc<dyn otlp_pipeline::Consumer>,
    counters: Counters,
    stopped: Stopped,
) {
    let id: Arc<str> = id.into();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for target in targets {
        tasks.spawn(scrape_loop(
            id.clone(),
            target,
            next.clone(),
            counters.clone(),
            stop_rx.clone(),
        ));
    }
    let _ = stopped.await;
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
}

#[async_trait]
impl Receiver for PrometheusReceiver {
    async fn start(&self, _host: &PipelineHost) -> Result<(), BoxError> {
        let Some(next) = self.next.get(Signal::Metrics).cloned() else {
            self.status.receiver_started(&self.id);
            return Ok(());
        };
        let targets = targets(&self.config)?;
        let labels = [("receiver", self.id.as_str()), ("transport", "http")];
        let counters = Counters {
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
        };
        let id = self.id.to_string();
        self.task
            .start(move |stopped| run(id, targets, next, counters, stopped))?;
        self.status.receiver_started(&self.id);
        Ok(())
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.status.receiver_stopping(&self.id);
        if self.task.stop(deadline).await {
            Ok(())
        } else {
            Err("the prometheus receiver did not stop by the shutdown deadline".into())
        }
    }
}

/// The `prometheus` receiver factory.
pub fn factory() -> impl otlp_pipeline::ReceiverFactory {
    FnFactory::receiver(
        "prometheus",
        SignalSet::from(Signal::Metrics),
        |ctx, config: PrometheusConfig| Ok(Box::new(PrometheusReceiver::new(ctx, config)?)),
    )
}
