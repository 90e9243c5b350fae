//! The consumer loop: one task polls the consumer and hands each message to its partition's
//! worker through a small bounded channel. A worker that is behind (its pipeline refuses and
//! it retries) gets its partition **paused**: librdkafka stops fetching it, the few messages
//! already fetched wait in order in the worker's `pending` list, and the other partitions go
//! on. When the worker has room again it wakes the loop, which refills its channel and resumes
//! the partition. Revoked partitions (a rebalance) lose their worker: it stops after the
//! message in hand, stores nothing more, and whatever it had not finished is fetched again by
//! the partition's next owner from the committed offset.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use otlp_transport::kafka::rdkafka::Message as _;
use otlp_transport::kafka::rdkafka::consumer::Consumer as _;
use otlp_transport::kafka::rdkafka::message::{BorrowedMessage, Headers as _};
use otlp_transport::kafka::rdkafka::topic_partition_list::TopicPartitionList;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::decode::Message;
use super::group::PartitionKey;
use super::worker::{Cancel, Shared, Worker};

/// Messages handed to a worker ahead of the one it is processing.
const CHANNEL: usize = 8;

/// A worker as the loop sees it.
struct Handle {
    sender: mpsc::Sender<Message>,
    pending: VecDeque<Message>,
    paused: bool,
    wanted: Arc<AtomicBool>,
    cancel: Arc<Cancel>,
    task: JoinHandle<()>,
}

/// The loop's state.
pub(crate) struct Dispatcher {
    shared: Arc<Shared>,
    workers: HashMap<PartitionKey, Handle>,
    /// Workers of revoked partitions that may still be finishing a message.
    retired: Vec<JoinHandle<()>>,
}

fn owned(message: &BorrowedMessage<'_>) -> Message {
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| {
                    (
                        h.key.to_owned(),
                        h.value.map(<[u8]>::to_vec).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Message {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        value: message
            .payload()
            .map(Bytes::copy_from_slice)
            .unwrap_or_default(),
        headers,
    }
}

fn partition_list(key: &PartitionKey) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(&key.0, key.1);
    tpl
}

impl Dispatcher {
    pub(crate) fn new(shared: Arc<Shared>) -> Dispatcher {
        Dispatcher {
            shared,
            workers: HashMap::new(),
            retired: Vec::new(),
        }
    }

    /// Polls until `stop` turns true; returns every worker task, each told to stop.
    pub(crate) async fn run(mut self, mut stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        let consumer = Arc::clone(&self.shared.consumer);
        let wake = Arc::clone(&self.shared.wake);
        let mut last_error: Option<Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                biased;
                _ = stop.changed() => break,
                () = wake.notified() => {}
                received = consumer.recv() => {
                    // A rebalance runs inside the poll: forget revoked partitions before
                    // handing on a message that may come from a new assignment.
                    self.forget_revoked();
                    match received {
                        Ok(message) => {
                            let message = owned(&message);
                            self.dispatch(message);
                        }
                        Err(error) => {
                            if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                                tracing::warn!(receiver = %self.shared.id, %error, "consuming from Kafka");
                                last_error = Some(Instant::now());
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            }
            self.forget_revoked();
            self.refill();
        }
        let mut tasks: Vec<JoinHandle<()>> = std::mem::take(&mut self.retired);
        for (_, handle) in self.workers.drain() {
            handle.cancel.cancel();
            tasks.push(handle.task);
        }
        tasks
    }

    fn forget_revoked(&mut self) {
        for key in self.shared.consumer.context().take_revoked() {
            if let Some(handle) = self.workers.remove(&key) {
                handle.cancel.cancel();
                self.retired.push(handle.task);
            }
        }
        self.retired.retain(|task| !task.is_finished());
    }

    fn spawn(&mut self, key: &PartitionKey) -> &mut Handle {
        let (sender, receiver) = mpsc::channel(CHANNEL);
        let cancel = Arc::new(Cancel::default());
        let wanted = Arc::new(AtomicBool::new(false));
        let worker = Worker::new(
            Arc::clone(&self.shared),
            key.0.clone(),
            key.1,
            Arc::clone(&cancel),
            Arc::clone(&wanted),
        );
        let task = tokio::spawn(worker.run(receiver));
        self.workers.entry(key.clone()).or_insert(Handle {
            sender,
            pending: VecDeque::new(),
            paused: false,
            wanted,
            cancel,
            task,
        })
    }

    fn dispatch(&mut self, message: Message) {
        let key = (message.topic.clone(), message.partition);
        if self.workers.get(&key).is_some_and(|h| h.sender.is_closed()) {
            // The worker ended (it cannot, short of a panic): start over from this message.
            self.workers.remove(&key);
        }
        if !self.workers.contains_key(&key) {
            self.spawn(&key);
        }
        let consumer = Arc::clone(&self.shared.consumer);
        let Some(handle) = self.workers.get_mut(&key) else {
            return;
        };
        if !handle.pending.is_empty() {
            handle.pending.push_back(message);
            return;
        }
        match handle.sender.try_send(message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(message))
            | Err(mpsc::error::TrySendError::Closed(message)) => {
                handle.pending.push_back(message);
                if !handle.paused {
                    handle.wanted.store(true, Ordering::SeqCst);
                    match consumer.pause(&partition_list(&key)) {
                        Ok(()) => handle.paused = true,
                        Err(error) => {
                            tracing::debug!(receiver = %self.shared.id, %error, "pausing a partition")
                        }
                    }
                }
            }
        }
    }

    /// Moves waiting messages into workers with room; resumes partitions whose backlog is gone.
    fn refill(&mut self) {
        let consumer = &self.shared.consumer;
        for (key, handle) in self.workers.iter_mut() {
            if !handle.pending.is_empty() {
                // Asked before trying, so a worker that makes room after a failed try wakes
                // the loop.
                handle.wanted.store(true, Ordering::SeqCst);
            }
            while let Some(message) = handle.pending.pop_front() {
                match handle.sender.try_send(message) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(message))
                    | Err(mpsc::error::TrySendError::Closed(message)) => {
                        handle.pending.push_front(message);
                        break;
                    }
                }
            }
            if handle.pending.is_empty() && handle.paused {
                match consumer.resume(&partition_list(key)) {
                    Ok(()) => handle.paused = false,
                    Err(error) => {
                        tracing::debug!(receiver = %self.shared.id, %error, "resuming a partition")
                    }
                }
            }
        }
    }
}
