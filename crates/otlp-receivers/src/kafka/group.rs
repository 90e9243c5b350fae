//! The consumer group's side of librdkafka: the consumer type, and the context that learns of
//! rebalances (partitions revoked go to the dispatcher, which stops their workers) and logs
//! through `tracing`.

use std::sync::{Arc, Mutex, PoisonError};

use otlp_transport::kafka::TracingContext;
use otlp_transport::kafka::rdkafka::client::ClientContext;
use otlp_transport::kafka::rdkafka::config::RDKafkaLogLevel;
use otlp_transport::kafka::rdkafka::consumer::{
    BaseConsumer, ConsumerContext, Rebalance, StreamConsumer,
};
use otlp_transport::kafka::rdkafka::error::{KafkaError, KafkaResult};
use otlp_transport::kafka::rdkafka::topic_partition_list::TopicPartitionList;
use tokio::sync::Notify;

use otlp_pipeline::telemetry::Counter;

/// The receiver's consumer.
pub(crate) type GroupConsumer = StreamConsumer<GroupContext>;

/// A partition: topic and number.
pub(crate) type PartitionKey = (String, i32);

/// Rebalance events and logging.
pub(crate) struct GroupContext {
    logs: TracingContext,
    revoked: Mutex<Vec<PartitionKey>>,
    /// Woken when partitions were revoked (and by workers with room again).
    pub(crate) wake: Arc<Notify>,
    partition_start: Counter,
    partition_close: Counter,
}

impl GroupContext {
    pub(crate) fn new(
        component: &str,
        wake: Arc<Notify>,
        partition_start: Counter,
        partition_close: Counter,
    ) -> GroupContext {
        GroupContext {
            logs: TracingContext::new(component),
            revoked: Mutex::new(Vec::new()),
            wake,
            partition_start,
            partition_close,
        }
    }

    /// The partitions revoked since the last call.
    pub(crate) fn take_revoked(&self) -> Vec<PartitionKey> {
        std::mem::take(&mut *self.revoked.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn keys(tpl: &TopicPartitionList) -> Vec<PartitionKey> {
    tpl.elements()
        .iter()
        .map(|e| (e.topic().to_owned(), e.partition()))
        .collect()
}

impl ClientContext for GroupContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.logs.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.logs.error(error, reason);
    }
}

impl ConsumerContext for GroupContext {
    /// Runs inside the consumer's poll, before librdkafka gives the partitions up (and commits
    /// the offsets stored so far).
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let revoked = keys(tpl);
            if revoked.is_empty() {
                return;
            }
            tracing::info!(receiver = self.logs.component(), partitions = ?revoked, "Kafka partitions revoked");
            self.partition_close.add(revoked.len() as u64);
            self.revoked
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(revoked);
            self.wake.notify_one();
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let assigned = keys(tpl);
                if !assigned.is_empty() {
                    tracing::info!(receiver = self.logs.component(), partitions = ?assigned, "Kafka partitions assigned");
                    self.partition_start.add(assigned.len() as u64);
                }
            }
            Rebalance::Error(error) => {
                tracing::warn!(receiver = self.logs.component(), %error, "Kafka rebalance failed");
            }
            Rebalance::Revoke(_) => {}
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(error) = result {
            // No offsets to commit is not a failure.
            if !matches!(
                error.rdkafka_error_code(),
                Some(otlp_transport::kafka::rdkafka::types::RDKafkaErrorCode::NoOffset)
            ) {
                tracing::warn!(receiver = self.logs.component(), %error, "committing Kafka offsets failed (they are committed again later)");
            }
        }
    }
}
