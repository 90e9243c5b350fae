//! The message queue between `orders` and `payments`: an in-process bounded channel carrying
//! Kafka-shaped messages (headers as `(String, Vec<u8>)` pairs, an opaque payload).
//!
//! A stand-in for a broker: the Kafka integration replaces it with a real one, and the
//! messaging instrumentation (which only sees the headers) stays as it is.

use bytes::Bytes;
use tokio::sync::mpsc;

/// One message: the headers carry the producer's trace context.
#[derive(Clone, Debug, Default)]
pub struct Message {
    /// Kafka-style headers.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The payload.
    pub payload: Bytes,
}

/// The producer side of a topic.
pub type Producer = mpsc::Sender<Message>;
/// The consumer side of a topic.
pub type Consumer = mpsc::Receiver<Message>;

/// A topic holding at most `capacity` messages: a producer waits when it is full.
#[must_use]
pub fn topic(capacity: usize) -> (Producer, Consumer) {
    mpsc::channel(capacity.max(1))
}
