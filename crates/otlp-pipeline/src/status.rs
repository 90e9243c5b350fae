//! [`ServiceStatus`]: whether the pipelines are up (for `health_check`), and where the
//! components' servers listen.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use crate::component::Resources;
use crate::config::ComponentId;

/// Whether the collector's pipelines are up, as the `health_check` extension reports it, and
/// the addresses the components' servers bound (handy with port 0).
///
/// The core's lifecycle has no "pipelines ready" notification for extensions yet, so the
/// status is derived: the graph starts receivers last and stops them first, so the pipelines
/// are **up** when every receiver that reported itself created (the `otlp` receiver does) has started and none is shutting
/// down. A program whose receivers are all custom sets the status itself with
/// [`set_ready`](ServiceStatus::set_ready) (which overrides the derived value).
///
/// Shared through [`Resources`] ([`ServiceStatus::from_resources`], falling back to
/// [`ServiceStatus::global`]).
#[derive(Debug)]
pub struct ServiceStatus {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    created: BTreeSet<ComponentId>,
    started: BTreeSet<ComponentId>,
    forced: Option<bool>,
    ready_since: Option<SystemTime>,
    bound: BTreeMap<(ComponentId, String), SocketAddr>,
}

static GLOBAL: LazyLock<Arc<ServiceStatus>> = LazyLock::new(ServiceStatus::new);

impl ServiceStatus {
    /// A status with no receiver yet (not ready).
    pub fn new() -> Arc<ServiceStatus> {
        Arc::new(ServiceStatus {
            state: Mutex::new(State::default()),
        })
    }

    /// The process-wide status.
    pub fn global() -> Arc<ServiceStatus> {
        GLOBAL.clone()
    }

    /// The status in `resources`, or [`ServiceStatus::global`].
    pub fn from_resources(resources: &Resources) -> Arc<ServiceStatus> {
        resources
            .get::<ServiceStatus>()
            .unwrap_or_else(ServiceStatus::global)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn derived(state: &State) -> bool {
        !state.created.is_empty() && state.started == state.created
    }

    fn update_since(state: &mut State) {
        let ready = state
            .forced
            .unwrap_or_else(|| ServiceStatus::derived(state));
        match (ready, state.ready_since) {
            (true, None) => state.ready_since = Some(SystemTime::now()),
            (false, Some(_)) => state.ready_since = None,
            _ => {}
        }
    }

    /// Forces the status (`Some(true)` up, `Some(false)` down), or returns to the derived
    /// status (`None`).
    pub fn set_ready(&self, ready: Option<bool>) {
        let mut state = self.lock();
        state.forced = ready;
        ServiceStatus::update_since(&mut state);
    }

    /// `true` when the pipelines are up.
    pub fn is_ready(&self) -> bool {
        self.lock().ready_since.is_some()
    }

    /// Since when the pipelines are up.
    pub fn ready_since(&self) -> Option<SystemTime> {
        self.lock().ready_since
    }

    /// The address a server of component `id` bound for `protocol` (`grpc`, `http`
    /// for the `otlp` receiver; `http` for `health_check`).
    pub fn bound_address(&self, id: &ComponentId, protocol: &str) -> Option<SocketAddr> {
        self.lock()
            .bound
            .get(&(id.clone(), protocol.to_owned()))
            .copied()
    }

    /// Records the address a server of component `id` bound for `protocol`.
    pub fn record_bound(&self, id: &ComponentId, protocol: &str, addr: SocketAddr) {
        self.lock()
            .bound
            .insert((id.clone(), protocol.to_owned()), addr);
    }

    /// A receiver was created: the pipelines are not up until it has started.
    pub fn receiver_created(&self, id: &ComponentId) {
        let mut state = self.lock();
        state.created.insert(id.clone());
        ServiceStatus::update_since(&mut state);
    }

    /// A receiver started.
    pub fn receiver_started(&self, id: &ComponentId) {
        let mut state = self.lock();
        state.started.insert(id.clone());
        ServiceStatus::update_since(&mut state);
    }

    /// A receiver is shutting down: the pipelines are no longer up.
    pub fn receiver_stopping(&self, id: &ComponentId) {
        let mut state = self.lock();
        state.started.remove(id);
        ServiceStatus::update_since(&mut state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_when_every_receiver_started() {
        let status = ServiceStatus::new();
        let a: ComponentId = "otlp".parse().expect("id");
        let b: ComponentId = "otlp/2".parse().expect("id");
        assert!(!status.is_ready());
        status.receiver_created(&a);
        status.receiver_created(&b);
        status.receiver_started(&a);
        assert!(!status.is_ready());
        status.receiver_started(&b);
        assert!(status.is_ready());
        status.receiver_stopping(&a);
        assert!(!status.is_ready());
        status.set_ready(Some(true));
        assert!(status.is_ready());
        status.set_ready(None);
        assert!(!status.is_ready());
    }
}
