//! [`FanOut`]: one input, several consumers, copies only for the ones that write.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use async_trait::async_trait;

use crate::component::Consumer;
use crate::data::Telemetry;
use crate::error::ConsumeError;

/// A boxed future, as `async_trait` methods return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Polls every future until all are done (in this task: no spawning), and returns their
/// outputs in order.
pub async fn join_all<T>(mut futures: Vec<BoxFuture<'_, T>>) -> Vec<T> {
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Hands each request to several consumers — one receiver's data to the pipelines that list
/// it, one pipeline's data to its exporters — and answers with their merged result.
///
/// # Copies
///
/// The policy is the Go Collector's fan-out consumer's, on copy-on-write data:
///
/// - consumers that report [`mutates_data`](Consumer::mutates_data) each get their own deep
///   copy, except that the **last** of them gets the original when no read-only consumer
///   shares it;
/// - read-only consumers all share the original ([`Telemetry`] clones are reference
///   counts), whatever their number.
///
/// So a fan-out to N read-only exporters makes no copy at all, and M mutating consumers cost
/// M copies (M − 1 without read-only ones). The copies are made here, before any consumer
/// runs, so the count is predictable ([`deep_copies`](FanOut::deep_copies)) rather than
/// dependent on which consumer writes first; a consumer that writes without declaring it is
/// still safe (copy-on-write), it just copies for itself.
///
/// # Concurrency and errors
///
/// All consumers are called at once and awaited together in the caller's task (no spawn). The
/// result is `Ok` only when every consumer accepted; otherwise the errors are merged by
/// [`ConsumeError::merge`]: **retryable if any is retryable**, so that the sender retries
/// rather than drop data one destination would accept later.
///
/// `FanOut` itself reports `mutates_data() == false`: it copies for its mutating consumers, so
/// it can accept shared data.
pub struct FanOut {
    mutating: Vec<Arc<dyn Consumer>>,
    read_only: Vec<Arc<dyn Consumer>>,
    copies: AtomicU64,
}

impl FanOut {
    /// A fan-out over `consumers` (their `mutates_data` is read once, here).
    pub fn new(consumers: impl IntoIterator<Item = Arc<dyn Consumer>>) -> FanOut {
        let (mutating, read_only) = consumers.into_iter().partition(|c| c.mutates_data());
        FanOut {
            mutating,
            read_only,
            copies: AtomicU64::new(0),
        }
    }

    /// How many consumers.
    pub fn len(&self) -> usize {
        self.mutating.len() + self.read_only.len()
    }

    /// `true` when there is no consumer (every request is accepted and dropped).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many deep copies this fan-out has made.
    pub fn deep_copies(&self) -> u64 {
        self.copies.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl Consumer for FanOut {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        // Mutating consumers first, read-only ones last: the last consumer gets the original.
        // (Plain loops: closures here would trip the `Send` check of the boxed future.)
        let total = self.len();
        let mut futures: Vec<BoxFuture<'_, Result<(), ConsumeError>>> = Vec::with_capacity(total);
        let mut data = Some(data);
        for index in 0..total {
            let (consumer, mutates) = if index < self.mutating.len() {
                (&self.mutating[index], true)
            } else {
                (&self.read_only[index - self.mutating.len()], false)
            };
            let item = if index + 1 == total {
                data.take()
            } else if mutates {
                self.copies.fetch_add(1, Ordering::Relaxed);
                data.as_ref().map(Telemetry::deep_clone)
            } else {
                data.clone()
            };
            if let Some(item) = item {
                futures.push(consumer.consume(item));
            }
        }
        let errors = join_all(futures).await.into_iter().filter_map(Result::err);
        match ConsumeError::merge(errors) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("mutating", &self.mutating.len())
            .field("read_only", &self.read_only.len())
            .field("deep_copies", &self.deep_copies())
            .finish()
    }
}
