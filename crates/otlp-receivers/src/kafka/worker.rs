//! One worker per assigned partition: messages in offset order, each decoded, handed to the
//! pipeline and, once the pipeline took it (or refused it for good, or it cannot be decoded),
//! its offset stored for the next commit. A retryable refusal is retried with exponential
//! backoff and the partition waits: nothing after it is processed, and its offset is not
//! stored, until the pipeline takes it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use otlp_transport::kafka::rdkafka::consumer::{CommitMode, Consumer as _};
use tokio::sync::{Notify, mpsc};

use otlp_pipeline::Signal;
use otlp_pipeline::component::Consumer;
use otlp_pipeline::telemetry::{Counter, Gauge, Metrics, item_unit, item_words};

use super::config::SignalTopics;
use super::decode::{self, Message};
use super::group::GroupConsumer;

/// A stop signal a worker can wait on.
#[derive(Default)]
pub(crate) struct Cancel {
    flag: AtomicBool,
    notify: Notify,
}

impl Cancel {
    pub(crate) fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Waits `delay`, or less if cancelled; `true` when cancelled.
    async fn sleep(&self, delay: Duration) -> bool {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_cancelled() {
            return true;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => self.is_cancelled(),
            () = notified => true,
        }
    }
}

/// The retry schedule after retryable refusals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
    pub(crate) multiplier: f64,
    pub(crate) jitter: f64,
}

impl Backoff {
    /// The wait before attempt `attempt + 1` (`attempt` ≥ 1), with jitter.
    pub(crate) fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1))
            .unwrap_or(i32::MAX)
            .min(64);
        let base = self.initial.as_secs_f64() * self.multiplier.powi(exponent);
        let base = base.min(self.max.as_secs_f64());
        let spread = base * self.jitter;
        let seconds = (base - spread + 2.0 * spread * random.clamp(0.0, 1.0)).max(0.001);
        Duration::from_secs_f64(seconds.min(self.max.as_secs_f64().max(0.001)))
    }
}

/// A signal the receiver consumes: its topics, encoding, pipeline and counters.
pub(crate) struct Route {
    pub(crate) topics: SignalTopics,
    pub(crate) next: Arc<dyn Consumer>,
    pub(crate) accepted: Counter,
    pub(crate) refused: Counter,
}

/// What every worker of a receiver shares.
pub(crate) struct Shared {
    pub(crate) id: String,
    pub(crate) consumer: Arc<GroupConsumer>,
    pub(crate) routes: Vec<Route>,
    pub(crate) extract_headers: Vec<String>,
    pub(crate) backoff: Backoff,
    /// `message_marking::on_error`: skip a retryably refused message instead of retrying.
    pub(crate) skip_on_error: bool,
    /// Commit after each stored offset (autocommit off).
    pub(crate) commit_each: bool,
    pub(crate) metrics: Arc<Metrics>,
    /// Woken by a worker that the dispatcher paused once it has room again.
    pub(crate) wake: Arc<Notify>,
}

impl Shared {
    fn route(&self, topic: &str) -> Option<&Route> {
        self.routes.iter().find(|route| route.topics.matches(topic))
    }
}

/// Counters of one partition.
struct PartitionCounters {
    records: Counter,
    unmarshal_failed: [Counter; 4],
    retries: Counter,
    current_offset: Gauge,
}

impl PartitionCounters {
    fn new(metrics: &Metrics, receiver: &str, topic: &str, partition: i32) -> PartitionCounters {
        let partition = partition.to_string();
        let labels = [
            ("receiver", receiver),
            ("topic", topic),
            ("partition", partition.as_str()),
        ];
        let mut with_outcome = labels.to_vec();
        with_outcome.push(("outcome", "success"));
        PartitionCounters {
            records: metrics.counter(
                "otelcol_kafka_receiver_records_total",
                "The number of received records.",
                &with_outcome,
            ),
            unmarshal_failed: Signal::ALL.map(|signal| {
                metrics.counter(
                    &format!(
                        "otelcol_kafka_receiver_unmarshal_failed_{}_total",
                        item_unit(signal)
                    ),
                    &format!(
                        "Number of {} failed to be unmarshaled (messages)",
                        item_words(signal)
                    ),
                    &labels,
                )
            }),
            retries: metrics.counter(
                "otelcol_kafka_receiver_retries_total",
                "Attempts repeated after the pipeline refused a message retryably. [otlp-rs]",
                &labels,
            ),
            current_offset: metrics.gauge(
                "otelcol_kafka_receiver_current_offset",
                "Current message offset",
                &labels,
            ),
        }
    }
}

/// A number in [0, 1) that differs from call to call (spreads retries; not for anything else).
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1_000_000) / 1_000_000.0
}

/// One partition's worker.
pub(crate) struct Worker {
    shared: Arc<Shared>,
    topic: String,
    partition: i32,
    cancel: Arc<Cancel>,
    /// Set by the dispatcher when it paused this partition: wake it after taking a message.
    wanted: Arc<AtomicBool>,
    counters: PartitionCounters,
}

impl Worker {
    pub(crate) fn new(
        shared: Arc<Shared>,
        topic: String,
        partition: i32,
        cancel: Arc<Cancel>,
        wanted: Arc<AtomicBool>,
    ) -> Worker {
        let counters = PartitionCounters::new(&shared.metrics, &shared.id, &topic, partition);
        Worker {
            shared,
            topic,
            partition,
            cancel,
            wanted,
            counters,
        }
    }

    pub(crate) async fn run(self, mut messages: mpsc::Receiver<Message>) {
        while let Some(message) = messages.recv().await {
            if self.wanted.swap(false, Ordering::SeqCst) {
                self.shared.wake.notify_one();
            }
            if self.cancel.is_cancelled() {
                return;
            }
            self.process(message).await;
        }
    }

    /// Marks `offset` consumed: stored for the next commit (committed now with autocommit
    /// off). Not after the partition was revoked: its next owner starts from the committed
    /// offset, so at worst a message is delivered twice, never skipped.
    fn done(&self, offset: i64) {
        if self.cancel.is_cancelled() {
            return;
        }
        let consumer = &self.shared.consumer;
        if let Err(error) = consumer.store_offset(&self.topic, self.partition, offset) {
            tracing::debug!(receiver = %self.shared.id, topic = %self.topic, partition = self.partition, offset, %error, "storing the offset failed (partition revoked?)");
            return;
        }
        if self.shared.commit_each
            && let Err(error) = consumer.commit_consumer_state(CommitMode::Async)
        {
            tracing::debug!(receiver = %self.shared.id, %error, "committing offsets");
        }
    }

    async fn process(&self, message: Message) {
        self.counters.records.add(1);
        self.counters.current_offset.set(message.offset);
        let offset = message.offset;
        let Some(route) = self.shared.route(&message.topic) else {
            tracing::warn!(receiver = %self.shared.id, topic = %message.topic, "a message from a topic no signal of this receiver reads; skipped");
            self.done(offset);
            return;
        };
        let signal = route.topics.signal;
        let data = match decode::telemetry(
            signal,
            route.topics.encoding,
            &message,
            &self.shared.extract_headers,
        ) {
            Ok(data) => data,
            Err(error) => {
                self.counters.unmarshal_failed[signal.index()].add(1);
                tracing::warn!(receiver = %self.shared.id, topic = %message.topic, partition = message.partition, offset, %error, "a Kafka message that cannot be decoded; skipped");
                self.done(offset);
                return;
            }
        };
        let items = data.item_count() as u64;
        if items == 0 {
            self.done(offset);
            return;
        }
        let mut attempt: u32 = 0;
        loop {
            if self.cancel.is_cancelled() {
                return;
            }
            match route.next.consume(data.clone()).await {
                Ok(()) => {
                    route.accepted.add(items);
                    self.done(offset);
                    return;
                }
                Err(error) if error.is_permanent() || self.shared.skip_on_error => {
                    route.refused.add(items);
                    tracing::warn!(receiver = %self.shared.id, %signal, topic = %message.topic, partition = message.partition, offset, items, %error, "the pipeline refused a Kafka message; skipped");
                    self.done(offset);
                    return;
                }
                Err(error) => {
                    route.refused.add(items);
                    attempt = attempt.saturating_add(1);
                    self.counters.retries.add(1);
                    let mut delay = self.shared.backoff.delay(attempt, jitter());
                    if let Some(after) = error.retry_after() {
                        delay = delay.max(after.min(self.shared.backoff.max));
                    }
                    if attempt == 1 {
                        tracing::info!(receiver = %self.shared.id, %signal, topic = %message.topic, partition = message.partition, offset, %error, "the pipeline refused a Kafka message retryably; the partition waits and retries");
                    } else {
                        tracing::debug!(receiver = %self.shared.id, attempt, ?delay, %error, "retrying a refused Kafka message");
                    }
                    if self.cancel.sleep(delay).await {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_with_bounded_jitter() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            multiplier: 2.0,
            jitter: 0.0,
        };
        let delays: Vec<u128> = (1..=8).map(|a| backoff.delay(a, 0.5).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        let jittered = Backoff {
            jitter: 0.5,
            ..backoff
        };
        for random in [0.0, 0.3, 1.0] {
            let d = jittered.delay(1, random).as_millis();
            assert!((50..=150).contains(&d), "{d}");
        }
        assert!(jittered.delay(u32::MAX, 1.0) <= Duration::from_secs(5));
    }

    #[tokio::test]
    async fn cancel_cuts_a_sleep_short() {
        let cancel = Arc::new(Cancel::default());
        let other = Arc::clone(&cancel);
        let started = std::time::Instant::now();
        let sleeper = tokio::spawn(async move { other.sleep(Duration::from_secs(30)).await });
        // Before or after the sleep began: either way it returns at once.
        cancel.cancel();
        assert!(sleeper.await.unwrap());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
