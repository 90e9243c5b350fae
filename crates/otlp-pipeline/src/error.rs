//! Errors of the data path ([`ConsumeError`]) and of component lifecycles ([`LifecycleError`]).

use std::fmt;
use std::time::Duration;

use crate::component::ComponentKind;
use crate::config::{ComponentId, PipelineId};

/// Any error, boxed: what components return from `start` and `shutdown`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Whether the sender should try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A temporary condition (a full queue, memory pressure, an unreachable backend): the
    /// receiver answers gRPC UNAVAILABLE / HTTP 503 and the sender retries.
    Retryable {
        /// How long the sender should wait before retrying (gRPC `RetryInfo`, HTTP
        /// `Retry-After`), when the component knows.
        retry_after: Option<Duration>,
    },
    /// The data is rejected and retrying would not help (bad data, a policy): gRPC
    /// INVALID_ARGUMENT / HTTP 400; the sender drops it.
    Permanent,
}

/// Why a [`Consumer`](crate::Consumer) did not accept data.
///
/// `Ok(())` from `consume` means "the data is safe": delivered, or in a queue that will
/// deliver it. Anything else is one of these, and travels back unchanged through processors
/// and fan-outs to the receiver, which answers the sender with
/// [`kind`](ConsumeError::kind): retryable → UNAVAILABLE / 503 (+ `Retry-After`), permanent →
/// INVALID_ARGUMENT / 400 (see the `From<ConsumeError>` conversion into the transport's
/// `Refusal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeError {
    kind: ErrorKind,
    message: String,
    component: Option<ComponentId>,
    /// Merged from several errors: the message already names each component.
    merged: bool,
}

/// A refusal from [`Consumer::consume_or_return`](crate::Consumer::consume_or_return): the
/// error, and the data when the consumer can hand it back.
#[derive(Debug)]
pub struct Refused {
    /// Why the data was not accepted.
    pub error: ConsumeError,
    /// The data, handed back unchanged; `None` when the consumer no longer has it (it was
    /// consumed and failed further on, where it was counted).
    pub data: Option<crate::data::Telemetry>,
}

impl ConsumeError {
    /// A retryable error without a suggested delay.
    pub fn retryable(message: impl Into<String>) -> ConsumeError {
        ConsumeError {
            kind: ErrorKind::Retryable { retry_after: None },
            message: message.into(),
            component: None,
            merged: false,
        }
    }

    /// A permanent error: the data is rejected.
    pub fn permanent(message: impl Into<String>) -> ConsumeError {
        ConsumeError {
            kind: ErrorKind::Permanent,
            message: message.into(),
            component: None,
            merged: false,
        }
    }

    /// Sets the suggested retry delay (and makes the error retryable).
    #[must_use]
    pub fn with_retry_after(mut self, delay: Duration) -> ConsumeError {
        self.kind = ErrorKind::Retryable {
            retry_after: Some(delay),
        };
        self
    }

    /// Names the component the error comes from. The pipeline graph fills this in for errors
    /// returned without one, so components need not.
    #[must_use]
    pub fn with_component(mut self, component: ComponentId) -> ConsumeError {
        self.component = Some(component);
        self
    }

    /// Retryable or permanent.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// `true` for [`ErrorKind::Retryable`].
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Retryable { .. })
    }

    /// `true` for [`ErrorKind::Permanent`].
    pub fn is_permanent(&self) -> bool {
        self.kind == ErrorKind::Permanent
    }

    /// The suggested retry delay of a retryable error.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            ErrorKind::Retryable { retry_after } => retry_after,
            ErrorKind::Permanent => None,
        }
    }

    /// The message, without the component (a merged error's message lists every failure, each
    /// with its component).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The component the error comes from.
    pub fn component(&self) -> Option<&ComponentId> {
        self.component.as_ref()
    }

    /// Sets the component if none is set yet.
    pub(crate) fn or_component(mut self, component: &ComponentId) -> ConsumeError {
        if self.component.is_none() {
            self.component = Some(component.clone());
        }
        self
    }

    /// Merges the errors of several consumers that received the same data (a fan-out) into
    /// the one answer the sender gets; `None` when there is none.
    ///
    /// **Retryable wins.** If any consumer failed retryably the merged error is retryable, so
    /// the sender retries: the consumers that failed for good reject the data again, the ones
    /// that succeeded receive it twice (OTLP delivery is at-least-once), and the one that was
    /// temporarily down gets its chance. Answering permanent would make the sender drop data
    /// that one destination would have accepted a moment later. The merged error's
    /// `retry_after` is the longest one suggested, its component the first retryable one's,
    /// and its message lists every failure.
    pub fn merge(errors: impl IntoIterator<Item = ConsumeError>) -> Option<ConsumeError> {
        let errors: Vec<ConsumeError> = errors.into_iter().collect();
        if errors.len() <= 1 {
            return errors.into_iter().next();
        }
        let retryable = errors.iter().any(ConsumeError::is_retryable);
        let kind = if retryable {
            ErrorKind::Retryable {
                retry_after: errors.iter().filter_map(|e| e.retry_after()).max(),
            }
        } else {
            ErrorKind::Permanent
        };
        let component = errors
            .iter()
            .find(|e| e.is_retryable() == retryable)
            .and_then(|e| e.component.clone());
        let message = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Some(ConsumeError {
            kind,
            message,
            component,
            merged: true,
        })
    }
}

impl fmt::Display for ConsumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.component {
            Some(component) if !self.merged => write!(f, "{component}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConsumeError {}

impl From<ConsumeError> for otlp_transport::status::Refusal {
    /// Retryable → `Refusal::Retryable` (UNAVAILABLE / 503, with `Retry-After` when known),
    /// permanent → `Refusal::Rejected` (INVALID_ARGUMENT / 400). The message names the failing
    /// component.
    fn from(error: ConsumeError) -> Self {
        use otlp_transport::status::Refusal;
        let message = error.to_string();
        match error.kind {
            ErrorKind::Retryable {
                retry_after: Some(delay),
            } => Refusal::retryable(message).with_retry_after(delay),
            ErrorKind::Retryable { retry_after: None } => Refusal::retryable(message),
            ErrorKind::Permanent => Refusal::rejected(message),
        }
    }
}

/// Whether a lifecycle error happened while starting or while shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `start`.
    Start,
    /// `shutdown`.
    Shutdown,
}

/// A component failed to start or to shut down (or missed the shutdown deadline).
#[derive(Debug, thiserror::Error)]
#[error("cannot {} {kind} \"{id}\"{}: {source}",
    match phase { Phase::Start => "start", Phase::Shutdown => "shut down" },
    pipeline.as_ref().map(|p| format!(" in pipeline \"{p}\"")).unwrap_or_default())]
pub struct LifecycleError {
    /// Start or shutdown.
    pub phase: Phase,
    /// The kind of component.
    pub kind: ComponentKind,
    /// The component.
    pub id: ComponentId,
    /// The pipeline, for a processor (one instance per pipeline).
    pub pipeline: Option<PipelineId>,
    /// What went wrong.
    #[source]
    pub source: BoxError,
}

/// Every component that failed to shut down cleanly (the others were still shut down).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ShutdownErrors(pub Vec<LifecycleError>);

/// The deadline passed before a component finished shutting down.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the shutdown deadline passed")]
pub struct DeadlineExceeded;

/// A component reported, after it started, that it can no longer work (a listener died);
/// the collector shuts down when it sees one (see [`Host::report_fatal`](crate::Host::report_fatal)).
#[derive(Debug, thiserror::Error)]
#[error("{kind} \"{id}\" failed: {source}")]
pub struct FatalError {
    /// The kind of component.
    pub kind: ComponentKind,
    /// The component.
    pub id: ComponentId,
    /// What went wrong.
    #[source]
    pub source: BoxError,
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_transport::status::Refusal;

    fn id(s: &str) -> ComponentId {
        s.parse().expect("id")
    }

    #[test]
    fn merge_prefers_retryable_and_longest_delay() {
        let merged = ConsumeError::merge([
            ConsumeError::permanent("bad").with_component(id("otlp/a")),
            ConsumeError::retryable("down").with_component(id("otlp/b")),
            ConsumeError::retryable("full").with_retry_after(Duration::from_secs(3)),
        ])
        .expect("an error");
        assert!(merged.is_retryable());
        assert_eq!(merged.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(merged.component(), Some(&id("otlp/b")));
        assert_eq!(merged.message(), "otlp/a: bad; otlp/b: down; full");
        assert_eq!(
            merged.to_string(),
            "otlp/a: bad; otlp/b: down; full",
            "components named once"
        );
        assert_eq!(ConsumeError::merge([]), None);
        let one = ConsumeError::permanent("x");
        assert_eq!(ConsumeError::merge([one.clone()]), Some(one));
        let all_permanent = ConsumeError::merge([
            ConsumeError::permanent("a"),
            ConsumeError::permanent("b").with_component(id("debug")),
        ])
        .expect("an error");
        assert!(all_permanent.is_permanent());
        assert_eq!(all_permanent.component(), None);
    }

    #[test]
    fn maps_to_refusal() {
        let refusal: Refusal = ConsumeError::retryable("queue full")
            .with_retry_after(Duration::from_secs(2))
            .with_component(id("otlp"))
            .into();
        assert_eq!(
            refusal,
            Refusal::retryable("otlp: queue full").with_retry_after(Duration::from_secs(2))
        );
        let refusal: Refusal = ConsumeError::permanent("bad").into();
        assert_eq!(refusal, Refusal::rejected("bad"));
    }
}
