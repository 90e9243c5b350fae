//! [`ServiceTopology`]: what the running service is made of — its pipelines with their
//! components, its extensions — plus build information and the start time, for pages that
//! show them (the `zpages` extension's `/debug/pipelinez`, `/debug/extensionz`,
//! `/debug/servicez`).
//!
//! [`Pipelines::build_with`](crate::Pipelines::build_with) publishes the topology into the
//! [`ServiceTopology`] of its [`Resources`] (found with [`ServiceTopology::from_resources`],
//! falling back to [`ServiceTopology::global`]); an extension, built first, reads it when
//! asked, after the build.

use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::time::SystemTime;

use crate::component::Resources;
use crate::config::{ComponentId, Config, PipelineId};

/// One pipeline as built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineTopology {
    /// The pipeline's id (`traces`, `metrics/2`).
    pub id: PipelineId,
    /// Its receivers (connectors included), in configuration order.
    pub receivers: Vec<ComponentId>,
    /// Its processors, in order.
    pub processors: Vec<ComponentId>,
    /// Its exporters (connectors included), in configuration order.
    pub exporters: Vec<ComponentId>,
    /// Whether something in it declares that it changes the data (otelcol's `MutatesData`).
    pub mutates_data: bool,
}

/// The program's build information (otelcol's `component.BuildInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// The executable's name.
    pub command: String,
    /// What the program is.
    pub description: String,
    /// Its version.
    pub version: String,
}

impl Default for BuildInfo {
    fn default() -> BuildInfo {
        let command = std::env::args_os()
            .next()
            .and_then(|arg0| {
                std::path::Path::new(&arg0)
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "otlp-collector".to_owned());
        BuildInfo {
            command,
            description: "otlp-rs collector".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// What the service is made of (see the [module docs](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopologySnapshot {
    /// The pipelines, by id.
    pub pipelines: Vec<PipelineTopology>,
    /// The extensions, in `service.extensions` order.
    pub extensions: Vec<ComponentId>,
    /// The connectors, by id.
    pub connectors: Vec<ComponentId>,
}

impl TopologySnapshot {
    /// The topology of `config`; `mutates` says per pipeline whether its data is changed.
    pub fn from_config(config: &Config, mutates: impl Fn(&PipelineId) -> bool) -> TopologySnapshot {
        TopologySnapshot {
            pipelines: config
                .service
                .pipelines
                .iter()
                .map(|(id, p)| PipelineTopology {
                    id: id.clone(),
                    receivers: p.receivers.clone(),
                    processors: p.processors.clone(),
                    exporters: p.exporters.clone(),
                    mutates_data: mutates(id),
                })
                .collect(),
            extensions: config.service.extensions.clone(),
            connectors: config.connectors.keys().cloned().collect(),
        }
    }
}

#[derive(Debug)]
struct State {
    build: BuildInfo,
    snapshot: Option<Arc<TopologySnapshot>>,
}

/// The service's topology, build information and start time (see the [module docs](self)).
#[derive(Debug)]
pub struct ServiceTopology {
    started: SystemTime,
    state: RwLock<State>,
}

static GLOBAL: LazyLock<Arc<ServiceTopology>> = LazyLock::new(ServiceTopology::new);

impl ServiceTopology {
    /// An empty topology (nothing built yet), started now, with the default build info.
    pub fn new() -> Arc<ServiceTopology> {
        Arc::new(ServiceTopology {
            started: SystemTime::now(),
            state: RwLock::new(State {
                build: BuildInfo::default(),
                snapshot: None,
            }),
        })
    }

    /// The process-wide topology.
    pub fn global() -> Arc<ServiceTopology> {
        GLOBAL.clone()
    }

    /// The topology in `resources`, or [`ServiceTopology::global`].
    pub fn from_resources(resources: &Resources) -> Arc<ServiceTopology> {
        resources
            .get::<ServiceTopology>()
            .unwrap_or_else(ServiceTopology::global)
    }

    /// When this service started (the topology was created).
    pub fn started(&self) -> SystemTime {
        self.started
    }

    /// Publishes what was built (replacing an earlier build).
    pub fn publish(&self, snapshot: TopologySnapshot) {
        self.state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .snapshot = Some(Arc::new(snapshot));
    }

    /// Sets the program's build information (the collector passes its own version).
    pub fn set_build_info(&self, build: BuildInfo) {
        self.state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .build = build;
    }

    /// The build information.
    pub fn build_info(&self) -> BuildInfo {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .build
            .clone()
    }

    /// What was built; `None` before a build published.
    pub fn snapshot(&self) -> Option<Arc<TopologySnapshot>> {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .snapshot
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_and_reads() {
        let topology = ServiceTopology::new();
        assert!(topology.snapshot().is_none());
        assert_eq!(topology.build_info().version, env!("CARGO_PKG_VERSION"));
        let config = Config::from_yaml(
            "t.yaml",
            "receivers: {otlp: }\nexporters: {debug: }\nextensions: {zpages: }\nservice:\n  extensions: [zpages]\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n",
        )
        .expect("config");
        topology.publish(TopologySnapshot::from_config(&config, |_| true));
        let snapshot = topology.snapshot().expect("published");
        assert_eq!(snapshot.pipelines.len(), 1);
        assert_eq!(snapshot.pipelines[0].id.to_string(), "traces");
        assert!(snapshot.pipelines[0].mutates_data);
        assert_eq!(snapshot.extensions[0].as_str(), "zpages");
        topology.set_build_info(BuildInfo {
            command: "c".into(),
            description: "d".into(),
            version: "9".into(),
        });
        assert_eq!(topology.build_info().version, "9");
    }
}
