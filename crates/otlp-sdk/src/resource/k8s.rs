//! [`K8sDetector`]: `k8s.pod.name`, `k8s.pod.uid`, `k8s.namespace.name`, `k8s.node.name`.

use std::fmt;
use std::path::PathBuf;

use otlp_model::semconv::resource::{K8S_NAMESPACE_NAME, K8S_NODE_NAME, K8S_POD_NAME, K8S_POD_UID};

use super::{Resource, ResourceDetector, read_trimmed, string_kv};
use crate::env::{Env, ProcessEnv};

/// Variables read for each attribute, first set wins. The specification names none; these
/// are the downward-API variables the OpenTelemetry Operator injects
/// (`OTEL_RESOURCE_ATTRIBUTES_*`) and the plain names common Helm charts use.
pub(crate) const POD_NAME_VARS: &[&str] = &["OTEL_RESOURCE_ATTRIBUTES_POD_NAME", "K8S_POD_NAME"];
/// Variables holding the pod UID.
pub(crate) const POD_UID_VARS: &[&str] = &["OTEL_RESOURCE_ATTRIBUTES_POD_UID", "K8S_POD_UID"];
/// Variables holding the node name.
pub(crate) const NODE_NAME_VARS: &[&str] = &["OTEL_RESOURCE_ATTRIBUTES_NODE_NAME", "K8S_NODE_NAME"];
/// Variables holding the namespace.
pub(crate) const NAMESPACE_VARS: &[&str] = &[
    "OTEL_RESOURCE_ATTRIBUTES_POD_NAMESPACE",
    "K8S_NAMESPACE_NAME",
    "K8S_POD_NAMESPACE",
];
/// Set by the kubelet in every container: the process runs in a pod.
pub(crate) const KUBERNETES_SERVICE_HOST: &str = "KUBERNETES_SERVICE_HOST";
/// The service-account namespace file, relative to the root.
pub(crate) const NAMESPACE_FILE: &str = "var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// Describes the Kubernetes pod, from downward-API environment variables.
///
/// | attribute | variables (first set wins) |
/// | --- | --- |
/// | `k8s.pod.name` | `OTEL_RESOURCE_ATTRIBUTES_POD_NAME`, `K8S_POD_NAME` |
/// | `k8s.pod.uid` | `OTEL_RESOURCE_ATTRIBUTES_POD_UID`, `K8S_POD_UID` |
/// | `k8s.node.name` | `OTEL_RESOURCE_ATTRIBUTES_NODE_NAME`, `K8S_NODE_NAME` |
/// | `k8s.namespace.name` | `OTEL_RESOURCE_ATTRIBUTES_POD_NAMESPACE`, `K8S_NAMESPACE_NAME`, `K8S_POD_NAMESPACE` |
///
/// When no variable gives the namespace and `KUBERNETES_SERVICE_HOST` is set (the process
/// runs in a pod), the namespace is read from the service-account file
/// `/var/run/secrets/kubernetes.io/serviceaccount/namespace`. Outside Kubernetes, with none
/// of these variables, the detector finds nothing.
pub struct K8sDetector {
    env: Box<dyn Env>,
    root: PathBuf,
}

impl K8sDetector {
    /// A detector over the process environment and the root file system.
    #[must_use]
    pub fn new() -> Self {
        Self {
            env: Box::new(ProcessEnv),
            root: PathBuf::from("/"),
        }
    }

    /// Reads variables from `env` instead (a map in tests).
    #[must_use]
    pub fn with_env(mut self, env: impl Env + 'static) -> Self {
        self.env = Box::new(env);
        self
    }

    /// Reads the service-account file under `root` instead (for tests).
    #[must_use]
    pub fn with_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = root.into();
        self
    }

    /// Detects with the variables of `env` (this detector's own environment is not used).
    pub(crate) fn detect_with_env(&self, env: &dyn Env) -> Resource {
        let first = |vars: &[&str]| {
            vars.iter()
                .find_map(|var| env.get(var))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut attributes = Vec::new();
        for (key, vars) in [
            (K8S_POD_NAME, POD_NAME_VARS),
            (K8S_POD_UID, POD_UID_VARS),
            (K8S_NODE_NAME, NODE_NAME_VARS),
        ] {
            if let Some(value) = first(vars) {
                attributes.push(string_kv(key, value));
            }
        }
        let namespace = first(NAMESPACE_VARS).or_else(|| {
            env.get(KUBERNETES_SERVICE_HOST)?;
            read_trimmed(&self.root.join(NAMESPACE_FILE))
        });
        if let Some(namespace) = namespace {
            attributes.push(string_kv(K8S_NAMESPACE_NAME, namespace));
        }
        Resource::new(attributes)
    }
}

impl Default for K8sDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for K8sDetector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("K8sDetector")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl ResourceDetector for K8sDetector {
    fn detect(&self) -> Resource {
        self.detect_with_env(&*self.env)
    }
}
