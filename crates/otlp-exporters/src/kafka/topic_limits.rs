//! What the broker taught the exporter about its topics' size limits.
//!
//! A topic's `max.message.bytes` may be smaller than `producer::max_message_bytes`; Kafka then
//! refuses a record batch larger than it with MESSAGE_TOO_LARGE. The broker checks the whole
//! batch, so a refusal of a batch says only that the topic's limit is smaller than that batch,
//! and a refusal of a message sent alone (a batch of one) that the message is too large. Once a
//! topic refused anything, its messages are sent one per batch; once it refused a message
//! alone, its values are planned at most half that size. Nothing is forgotten: a topic whose
//! limit is raised later keeps the smaller messages until the exporter restarts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// What one topic refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Learned {
    /// The largest value to plan for the topic (`None`: no message was refused alone yet, only
    /// batches).
    pub(crate) max_value: Option<usize>,
    /// The smallest value the broker refused alone.
    pub(crate) refused: Option<usize>,
}

/// The learned limits per topic, shared by every clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct TopicLimits {
    topics: Arc<Mutex<HashMap<String, Learned>>>,
}

impl TopicLimits {
    /// What `topic` refused so far, if anything.
    pub(crate) fn get(&self, topic: &str) -> Option<Learned> {
        self.lock().get(topic).copied()
    }

    /// Whether `topic` refused anything: its messages then go one per batch.
    pub(crate) fn refuses_batches(&self, topic: &str) -> bool {
        self.lock().contains_key(topic)
    }

    /// A batch holding a message for `topic` was refused as too large. True the first time
    /// the topic refused anything.
    pub(crate) fn batch_refused(&self, topic: &str) -> bool {
        let mut topics = self.lock();
        if topics.contains_key(topic) {
            return false;
        }
        topics.insert(topic.to_owned(), Learned::default());
        true
    }

    /// A value of `size` bytes, sent alone to `topic`, was refused as too large: later values
    /// are planned at most `size / 2`. True the first time the topic refused anything.
    pub(crate) fn message_refused(&self, topic: &str, size: usize) -> bool {
        let mut topics = self.lock();
        let new = !topics.contains_key(topic);
        let learned = topics.entry(topic.to_owned()).or_default();
        let half = (size / 2).max(1);
        learned.max_value = Some(learned.max_value.map_or(half, |max| max.min(half)));
        learned.refused = Some(learned.refused.map_or(size, |smallest| smallest.min(size)));
        new
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Learned>> {
        self.topics.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_batch_marks_the_topic_and_a_refused_message_halves_its_limit() {
        let limits = TopicLimits::default();
        assert_eq!(limits.get("t"), None);
        assert!(!limits.refuses_batches("t"));
        assert!(limits.batch_refused("t"));
        assert!(!limits.batch_refused("t"));
        assert!(limits.refuses_batches("t"));
        assert_eq!(limits.get("t"), Some(Learned::default()));
        assert!(!limits.message_refused("t", 100_000));
        assert!(!limits.message_refused("t", 300_000));
        let learned = limits.get("t");
        assert_eq!(
            learned,
            Some(Learned {
                max_value: Some(50_000),
                refused: Some(100_000)
            })
        );
        // Clones share what was learned; other topics are untouched.
        let clone = limits.clone();
        assert!(clone.message_refused("u", 3));
        assert_eq!(limits.get("u").and_then(|l| l.max_value), Some(1));
        assert_eq!(limits.get("t"), learned);
    }
}
