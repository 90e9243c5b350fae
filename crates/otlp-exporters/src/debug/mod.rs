//! The `debug` exporter: prints what it receives.
//!
//! Keys (otelcol's): `verbosity` — `basic` (default: one line per request with its counts),
//! `normal` (one line per span / data point / log record, with resource and scope lines), or
//! `detailed` (everything, in otelcol's layout); `sampling_initial` (default 2) and
//! `sampling_thereafter` (default 1): per second, the first `sampling_initial` requests are
//! printed, then every `sampling_thereafter`-th (0: none); `use_internal_logger` (default
//! true): print through `tracing` at info level (target `otlp_pipeline::debug`), or with
//! `false` to standard output, each request as one write under stdout's lock (lines of
//! concurrent requests never interleave).
//!
//! Always acknowledges (`Ok`): it has nothing to fail. Counted in `otelcol_exporter_sent_*`.
//!
//! Also answers to `logging`, the name of its predecessor (removed from otelcol in v0.111 but
//! still in configs people run), whose `loglevel` key is read too: `debug` prints
//! `detailed`, `info` `normal`, `warn` and `error` `basic`; it wins over `verbosity`.

mod format;
#[cfg(test)]
mod tests;

use std::io::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use format::render;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, SignalSet};
use otlp_pipeline::config::ComponentId;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::{Counter, Metrics, item_unit, item_words};

/// How much is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// One line per request.
    #[default]
    Basic,
    /// One line per item.
    Normal,
    /// Everything.
    Detailed,
}

/// `exporters: debug:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DebugConfig {
    /// `basic`, `normal` or `detailed`.
    pub verbosity: Verbosity,
    /// Requests printed per second before sampling starts.
    pub sampling_initial: u64,
    /// After that, every n-th request (0: none).
    pub sampling_thereafter: u64,
    /// Print through `tracing` (true) or to standard output (false).
    pub use_internal_logger: bool,
    /// The `logging` exporter's key: `debug`, `info`, `warn` or `error` (see the module docs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loglevel: Option<String>,
}

impl Default for DebugConfig {
    fn default() -> Self {
        DebugConfig {
            verbosity: Verbosity::Basic,
            sampling_initial: 2,
            sampling_thereafter: 1,
            use_internal_logger: true,
            loglevel: None,
        }
    }
}

impl DebugConfig {
    /// The verbosity, `loglevel` applied.
    pub fn effective_verbosity(&self) -> Verbosity {
        match self
            .loglevel
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("debug") => Verbosity::Detailed,
            Some("info") => Verbosity::Normal,
            Some("warn" | "error") => Verbosity::Basic,
            _ => self.verbosity,
        }
    }
}

impl ComponentConfig for DebugConfig {
    fn validate(&self) -> Result<(), otlp_pipeline::config::ConfigError> {
        match self
            .loglevel
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("debug" | "info" | "warn" | "error") => Ok(()),
            Some(other) => Err(otlp_pipeline::config::ConfigError::bad_value(
                "loglevel",
                format!("{other:?} is not one of debug, info, warn, error"),
            )),
        }
    }
}

/// zap's sampler: per one-second window, the first `initial` pass, then every
/// `thereafter`-th.
#[derive(Debug)]
struct Sampler {
    initial: u64,
    thereafter: u64,
    window: Mutex<(Instant, u64)>,
}

impl Sampler {
    fn sample(&self) -> bool {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if now.duration_since(window.0) >= Duration::from_secs(1) {
            *window = (now, 0);
        }
        window.1 += 1;
        let n = window.1;
        if n <= self.initial {
            return true;
        }
        self.thereafter > 0 && (n - self.initial).is_multiple_of(self.thereafter)
    }
}

/// The `debug` exporter.
#[derive(Debug)]
pub struct DebugExporter {
    id: ComponentId,
    config: DebugConfig,
    sampler: Sampler,
    sent: [Counter; 4],
}

impl DebugExporter {
    /// An exporter for `ctx`.
    pub fn new(ctx: ExporterContext, config: DebugConfig) -> DebugExporter {
        let metrics = Metrics::from_resources(&ctx.resources);
        let sent = Signal::ALL.map(|signal| {
            metrics.counter(
                &format!("otelcol_exporter_sent_{}_total", item_unit(signal)),
                &format!(
                    "Number of {} successfully sent to destination. [alpha]",
                    item_words(signal)
                ),
                &[("exporter", ctx.id.as_str())],
            )
        });
        DebugExporter {
            id: ctx.id,
            sampler: Sampler {
                initial: config.sampling_initial,
                thereafter: config.sampling_thereafter,
                window: Mutex::new((Instant::now(), 0)),
            },
            config,
            sent,
        }
    }

    /// What would be printed for `data` now: `None` when sampled out.
    pub fn output(&self, data: &Telemetry) -> Option<String> {
        self.sampler
            .sample()
            .then(|| render(data, self.config.effective_verbosity()))
    }
}

#[async_trait]
impl Consumer for DebugExporter {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let index = Signal::ALL
            .iter()
            .position(|s| *s == data.signal())
            .unwrap_or(0);
        self.sent[index].add(data.item_count() as u64);
        let Some(text) = self.output(&data) else {
            return Ok(());
        };
        if self.config.use_internal_logger {
            tracing::info!(target: "otlp_pipeline::debug", exporter = %self.id, "{}", text.trim_end());
        } else {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
        }
        Ok(())
    }
}

impl Exporter for DebugExporter {}

/// The `debug` exporter factory.
pub fn factory() -> impl otlp_pipeline::ExporterFactory {
    FnFactory::exporter("debug", SignalSet::ALL, |ctx, config: DebugConfig| {
        config.validate()?;
        Ok(Box::new(DebugExporter::new(ctx, config)))
    })
    .with_aliases(&["logging"])
}
