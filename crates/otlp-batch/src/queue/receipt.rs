//! Per-request completion: what `enqueue_tracked` hands back.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

use crate::report::Delivery;

/// Shared between a [`Receipt`] and the parts of its request in the queue.
#[derive(Debug)]
pub(crate) struct Completion {
    state: Mutex<CompletionState>,
    cond: Condvar,
    notify: Notify,
}

#[derive(Debug)]
struct CompletionState {
    remaining_parts: usize,
    outcome: Option<Delivery>,
}

fn rank(delivery: &Delivery) -> u8 {
    match delivery {
        Delivery::Exported { partial: None } => 0,
        Delivery::Exported { partial: Some(_) } => 1,
        Delivery::Persisted => 2,
        Delivery::Failed(_) => 3,
    }
}

impl Completion {
    pub(crate) fn new(parts: usize) -> Arc<Self> {
        Arc::new(Self {
            // A request with no items has nothing to wait for.
            state: Mutex::new(CompletionState {
                remaining_parts: parts,
                outcome: (parts == 0).then_some(Delivery::Exported { partial: None }),
            }),
            cond: Condvar::new(),
            notify: Notify::new(),
        })
    }

    /// One part settled; the request's outcome is the worst of its parts'.
    pub(crate) fn settle_part(&self, outcome: &Delivery) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.remaining_parts == 0 {
            return;
        }
        state.remaining_parts -= 1;
        if state
            .outcome
            .as_ref()
            .is_none_or(|current| rank(outcome) > rank(current))
        {
            state.outcome = Some(outcome.clone());
        }
        if state.remaining_parts == 0 {
            drop(state);
            self.cond.notify_all();
            self.notify.notify_waiters();
        }
    }

    fn done(&self) -> Option<Delivery> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.remaining_parts == 0 {
            state.outcome.clone()
        } else {
            None
        }
    }
}

/// The fate of one request enqueued with `enqueue_tracked`: wait on it to learn whether its
/// items were exported. Dropping a receipt changes nothing for the request.
#[derive(Debug, Clone)]
#[must_use = "a receipt does nothing unless waited on"]
pub struct Receipt {
    completion: Arc<Completion>,
}

impl Receipt {
    pub(crate) fn new(completion: Arc<Completion>) -> Self {
        Self { completion }
    }

    /// The outcome, if every part of the request has settled.
    pub fn try_get(&self) -> Option<Delivery> {
        self.completion.done()
    }

    /// Waits until every part of the request has settled.
    pub async fn wait(&self) -> Delivery {
        loop {
            let notified = self.completion.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(outcome) = self.completion.done() {
                return outcome;
            }
            notified.await;
        }
    }

    /// Blocks the thread until every part has settled or `deadline` passes (`None`). Needs
    /// no runtime; do not call it on an async executor thread.
    pub fn wait_blocking(&self, deadline: Instant) -> Option<Delivery> {
        let mut state = self
            .completion
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            if state.remaining_parts == 0 {
                return state.outcome.clone();
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = self
                .completion
                .cond
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
