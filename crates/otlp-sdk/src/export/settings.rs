//! The knobs of the batch processors, with the specification's `OTEL_BSP_*` (spans) and
//! `OTEL_BLRP_*` (log records) variables and defaults.

use std::time::Duration;

use crate::env::{Env, bool_var, millis_var, usize_var};
use crate::error::SdkError;

/// What a full buffer does with a new item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FullQueue {
    /// The specification's choice: drop the new item, count it (and log it once).
    #[default]
    DropNew,
    /// Opt-in backpressure: the caller waits up to this long for room, then the item is
    /// dropped and counted.
    Block(Duration),
}

/// Batch processor settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSettings {
    /// Items buffered before export at most (spec default 2048). Beyond it, [`FullQueue`]
    /// decides.
    pub max_queue_size: usize,
    /// Delay between two exports (spec default 5000 ms for spans, 1000 ms for logs).
    pub scheduled_delay: Duration,
    /// Items per export at most (spec default 512); a full batch is exported at once.
    pub max_export_batch_size: usize,
    /// Time limit of one export (spec default 30000 ms).
    pub export_timeout: Duration,
    /// What a full buffer does.
    pub full_queue: FullQueue,
    /// Retry of failed exports with exponential backoff, within the export timeout and the
    /// flush/shutdown deadlines (default on: the OTLP exporter specification asks transient
    /// errors to be retried).
    pub retry: bool,
}

/// Which signal's variables to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prefix {
    Spans,
    Logs,
}

impl BatchSettings {
    /// The spec defaults for span processors (`OTEL_BSP_*`).
    #[must_use]
    pub fn spans() -> Self {
        Self::defaults(Duration::from_millis(5000))
    }

    /// The spec defaults for log record processors (`OTEL_BLRP_*`).
    #[must_use]
    pub fn logs() -> Self {
        Self::defaults(Duration::from_millis(1000))
    }

    fn defaults(scheduled_delay: Duration) -> Self {
        Self {
            max_queue_size: 2048,
            scheduled_delay,
            max_export_batch_size: 512,
            export_timeout: Duration::from_millis(30_000),
            full_queue: FullQueue::DropNew,
            retry: true,
        }
    }

    /// Span processor settings from `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_EXPORT_TIMEOUT`,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (invalid values are
    /// logged and ignored; a batch size above the queue size is cut to it).
    #[must_use]
    pub fn spans_from_env(env: &dyn Env) -> Self {
        Self::spans().with_env(env, Prefix::Spans)
    }

    /// Log record processor settings from the `OTEL_BLRP_*` variables of the same names.
    #[must_use]
    pub fn logs_from_env(env: &dyn Env) -> Self {
        Self::logs().with_env(env, Prefix::Logs)
    }

    pub(crate) fn with_env(mut self, env: &dyn Env, prefix: Prefix) -> Self {
        let p = match prefix {
            Prefix::Spans => "OTEL_BSP_",
            Prefix::Logs => "OTEL_BLRP_",
        };
        if let Some(v) = millis_var(env, &format!("{p}SCHEDULE_DELAY")) {
            self.scheduled_delay = v;
        }
        if let Some(v) = millis_var(env, &format!("{p}EXPORT_TIMEOUT")) {
            self.export_timeout = v;
        }
        if let Some(v) = usize_var(env, &format!("{p}MAX_QUEUE_SIZE")).filter(|v| *v > 0) {
            self.max_queue_size = v;
        }
        if let Some(v) = usize_var(env, &format!("{p}MAX_EXPORT_BATCH_SIZE")).filter(|v| *v > 0) {
            self.max_export_batch_size = v;
        }
        // Not in the specification: opt-in backpressure from the environment.
        if bool_var(env, &format!("OTLP_RS_{}BLOCK_ON_FULL", &p[5..])) == Some(true) {
            self.full_queue = FullQueue::Block(self.export_timeout);
        }
        self.max_export_batch_size = self.max_export_batch_size.min(self.max_queue_size);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), SdkError> {
        if self.max_queue_size == 0 || self.max_export_batch_size == 0 {
            return Err(SdkError::Config(
                "max_queue_size and max_export_batch_size must be positive".into(),
            ));
        }
        if self.max_export_batch_size > self.max_queue_size {
            return Err(SdkError::Config(format!(
                "max_export_batch_size ({}) must not exceed max_queue_size ({})",
                self.max_export_batch_size, self.max_queue_size
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn spec_defaults_and_variables() {
        let spans = BatchSettings::spans();
        assert_eq!(spans.max_queue_size, 2048);
        assert_eq!(spans.max_export_batch_size, 512);
        assert_eq!(spans.scheduled_delay, Duration::from_millis(5000));
        assert_eq!(spans.export_timeout, Duration::from_millis(30_000));
        assert_eq!(
            BatchSettings::logs().scheduled_delay,
            Duration::from_millis(1000)
        );

        let env = HashMap::from([
            ("OTEL_BSP_SCHEDULE_DELAY", "250"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "x"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1000"),
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "7"),
            ("OTLP_RS_BSP_BLOCK_ON_FULL", "true"),
        ]);
        let s = BatchSettings::spans_from_env(&env);
        assert_eq!(s.scheduled_delay, Duration::from_millis(250));
        assert_eq!(
            s.export_timeout,
            Duration::from_millis(30_000),
            "invalid value ignored"
        );
        assert_eq!((s.max_queue_size, s.max_export_batch_size), (100, 100));
        assert_eq!(
            s.full_queue,
            FullQueue::Block(Duration::from_millis(30_000))
        );
        let l = BatchSettings::logs_from_env(&env);
        assert_eq!((l.max_queue_size, l.max_export_batch_size), (7, 7));
        assert_eq!(l.full_queue, FullQueue::DropNew);
        assert!(s.validate().is_ok());
        let bad = BatchSettings {
            max_export_batch_size: 10,
            max_queue_size: 5,
            ..BatchSettings::spans()
        };
        assert!(bad.validate().is_err());
    }
}
