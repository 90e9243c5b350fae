//! [`BackgroundTask`]: the timer task a component runs between `start` and `shutdown` (a
//! connector's flush, a processor's decision tick), started once and stopped by a deadline.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::error::BoxError;

/// Resolves when the task is asked to stop: `select!` on it in the task's loop.
pub type Stopped = oneshot::Receiver<()>;

struct Running {
    stop: oneshot::Sender<()>,
    handle: JoinHandle<()>,
}

/// A component's background task (see the [module documentation](self)).
pub struct BackgroundTask {
    what: &'static str,
    running: Mutex<Option<Running>>,
}

impl BackgroundTask {
    /// A task not started yet; `what` names the component in errors (`"the spanmetrics
    /// connector"`).
    pub fn new(what: &'static str) -> BackgroundTask {
        BackgroundTask {
            what,
            running: Mutex::new(None),
        }
    }

    /// Spawns `run(stopped)` on the current runtime. Fails when it is already running (a
    /// component started twice).
    pub fn start<F, Fut>(&self, run: F) -> Result<(), BoxError>
    where
        F: FnOnce(Stopped) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.is_some() {
            return Err(format!("{} was already started", self.what).into());
        }
        let (stop, stopped) = oneshot::channel();
        let handle = tokio::spawn(run(stopped));
        *running = Some(Running { stop, handle });
        Ok(())
    }

    /// Asks the task to stop and waits for it until `deadline`, aborting it then. `true` when
    /// it ended by itself in time (or was not running).
    pub async fn stop(&self, deadline: Instant) -> bool {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(Running { stop, mut handle }) = running else {
            return true;
        };
        let _ = stop.send(());
        if tokio::time::timeout_at(deadline, &mut handle).await.is_ok() {
            true
        } else {
            handle.abort();
            false
        }
    }
}

impl std::fmt::Debug for BackgroundTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let running = self.running.lock().map(|r| r.is_some()).unwrap_or_default();
        f.debug_struct("BackgroundTask")
            .field("what", &self.what)
            .field("running", &running)
            .finish()
    }
}

/// An interval whose first tick is one `period` away and which, after a late tick, waits a
/// whole period again (no burst of catch-up ticks).
pub fn every(period: Duration) -> Interval {
    let mut interval = tokio::time::interval_at(Instant::now() + period, period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    interval
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn ticks_until_stopped_and_starts_once() {
        let task = BackgroundTask::new("the probe");
        let ticks = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&ticks);
        task.start(|mut stopped| async move {
            let mut interval = every(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = interval.tick() => { counted.fetch_add(1, Ordering::SeqCst); }
                }
            }
        })
        .expect("starts");
        let again = task.start(|_| async {}).expect_err("twice");
        assert_eq!(again.to_string(), "the probe was already started");
        tokio::time::sleep(Duration::from_millis(3500)).await;
        assert_eq!(
            ticks.load(Ordering::SeqCst),
            3,
            "the first tick is a period away"
        );
        assert!(task.stop(Instant::now() + Duration::from_secs(1)).await);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(ticks.load(Ordering::SeqCst), 3, "stopped");
        assert!(task.stop(Instant::now()).await, "stopping twice is fine");
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_ignores_stop_is_aborted_at_the_deadline() {
        let task = BackgroundTask::new("the stubborn probe");
        task.start(|_stopped| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        })
        .expect("starts");
        assert!(!task.stop(Instant::now() + Duration::from_secs(1)).await);
    }
}
