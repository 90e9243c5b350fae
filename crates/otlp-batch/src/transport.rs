//! [`BatchExporter`] for the `otlp-transport` client (feature `transport-exporter`).

use async_trait::async_trait;
use otlp_transport::client::{ExportError, OtlpExporter};
use otlp_transport::{ExportRequest, PartialSuccess};

use crate::exporter::{BatchExporter, ExportFailure, FailureKind};

/// Exports through an [`OtlpExporter`] (gRPC, OTLP/HTTP protobuf or JSON).
///
/// The transport has its own retry loop; under a [`BatchQueue`](crate::BatchQueue) whose
/// retry is enabled, build the exporter with its retry disabled so that backoff happens in
/// one place (the queue, which keeps the batch and its capacity accounted while waiting).
/// Errors map as follows: a retryable status, a transport error → `Retryable` (with the
/// receiver's `retry_after`); an attempt timeout → `Timeout`; retries exhausted inside the
/// transport → `GaveUp`; a rejection, an encoding error or an invalid response →
/// `Permanent`.
#[async_trait]
impl<R: ExportRequest> BatchExporter<R> for OtlpExporter {
    async fn export(&self, batch: &R) -> Result<Option<PartialSuccess>, ExportFailure> {
        match OtlpExporter::export(self, batch).await {
            Ok(outcome) => Ok(outcome.partial_success),
            Err(error) => Err(failure(&error)),
        }
    }
}

/// The queue's view of a transport error.
pub(crate) fn failure(error: &ExportError) -> ExportFailure {
    let kind = match error {
        ExportError::Timeout(_) => FailureKind::Timeout,
        ExportError::RetriesExhausted { .. } => FailureKind::GaveUp,
        error if error.is_retryable() => FailureKind::Retryable,
        _ => FailureKind::Permanent,
    };
    let failure = ExportFailure::new(kind, error);
    match error.retry_after() {
        Some(delay) if kind == FailureKind::Retryable => failure.with_retry_after(delay),
        _ => failure,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn transport_errors_map_to_failure_kinds() {
        assert_eq!(
            failure(&ExportError::Timeout(Duration::from_secs(1))).kind(),
            FailureKind::Timeout
        );
        assert_eq!(
            failure(&ExportError::InvalidResponse("x".into())).kind(),
            FailureKind::Permanent
        );
        let exhausted = ExportError::RetriesExhausted {
            attempts: 3,
            elapsed: Duration::from_secs(9),
            last: Box::new(ExportError::Timeout(Duration::from_secs(1))),
        };
        assert_eq!(failure(&exhausted).kind(), FailureKind::GaveUp);
    }
}
