//! [`InMemoryExporter`]: keeps what it is given, for tests.

use std::sync::{Arc, Mutex, PoisonError};

use otlp_batch::{BatchExporter, ExportFailure, PartialSuccess, async_trait};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::logs::v1::LogRecord;
use otlp_proto::trace::v1::Span;
use otlp_transport::ExportRequest;

/// Keeps every request it exports, in order. Clones share the same store, so a test keeps a
/// clone and reads it after `force_flush`.
#[derive(Debug)]
pub struct InMemoryExporter<R> {
    inner: Arc<Mutex<Store<R>>>,
}

#[derive(Debug)]
struct Store<R> {
    requests: Vec<R>,
    fail_with: Option<ExportFailure>,
}

impl<R> Clone for InMemoryExporter<R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<R> Default for InMemoryExporter<R> {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Store {
                requests: Vec::new(),
                fail_with: None,
            })),
        }
    }
}

impl<R: Clone> InMemoryExporter<R> {
    /// An empty exporter.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The requests exported so far.
    #[must_use]
    pub fn requests(&self) -> Vec<R> {
        self.store().requests.clone()
    }

    /// Forgets what was exported.
    pub fn clear(&self) {
        self.store().requests.clear();
    }

    /// Makes every later export fail with `failure` (`None`: succeed again).
    pub fn fail_with(&self, failure: Option<ExportFailure>) {
        self.store().fail_with = failure;
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store<R>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl InMemoryExporter<ExportTraceServiceRequest> {
    /// Every exported span, in order.
    #[must_use]
    pub fn spans(&self) -> Vec<Span> {
        self.store()
            .requests
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| ss.spans.iter().cloned())
            .collect()
    }
}

impl InMemoryExporter<ExportLogsServiceRequest> {
    /// Every exported log record, in order.
    #[must_use]
    pub fn log_records(&self) -> Vec<LogRecord> {
        self.store()
            .requests
            .iter()
            .flat_map(|r| &r.resource_logs)
            .flat_map(|rl| &rl.scope_logs)
            .flat_map(|sl| sl.log_records.iter().cloned())
            .collect()
    }
}

#[async_trait]
impl<R: ExportRequest> BatchExporter<R> for InMemoryExporter<R> {
    async fn export(&self, batch: &R) -> Result<Option<PartialSuccess>, ExportFailure> {
        let mut store = self.store();
        if let Some(failure) = &store.fail_with {
            return Err(failure.clone());
        }
        store.requests.push(batch.clone());
        Ok(None)
    }
}
