//! Resource attribute keys: what produced the telemetry.

// ---- service -------------------------------------------------------------------------------

/// Logical name of the service (`checkout`); the one resource key every SDK sets.
pub const SERVICE_NAME: &str = "service.name";
/// Version string of the service API or implementation (`2.0.0`, a commit hash).
pub const SERVICE_VERSION: &str = "service.version";
/// Namespace that groups services, e.g. by team or product (`shop`).
pub const SERVICE_NAMESPACE: &str = "service.namespace";
/// Unique id of this instance of the service, such as a UUID.
pub const SERVICE_INSTANCE_ID: &str = "service.instance.id";

// ---- deployment ----------------------------------------------------------------------------

/// Name of the deployment environment, or tier (`production`, `staging`).
pub const DEPLOYMENT_ENVIRONMENT_NAME: &str = "deployment.environment.name";

// ---- host ----------------------------------------------------------------------------------

/// Name of the host: the hostname, or the fully qualified name chosen by the user.
pub const HOST_NAME: &str = "host.name";
/// Unique host id: the cloud instance id, or the machine id for non-cloud hosts.
pub const HOST_ID: &str = "host.id";
/// CPU architecture of the host (`amd64`, `arm64`).
pub const HOST_ARCH: &str = "host.arch";
/// Type of host; for cloud hosts the machine type (`n1-standard-1`).
pub const HOST_TYPE: &str = "host.type";
/// Name of the VM image or OS install the host was created from.
pub const HOST_IMAGE_NAME: &str = "host.image.name";
/// Id of the VM image the host was created from (`ami-07b06b442921831e5`).
pub const HOST_IMAGE_ID: &str = "host.image.id";
/// Version string of the VM image.
pub const HOST_IMAGE_VERSION: &str = "host.image.version";
/// Available IP addresses of the host, excluding loopback (string array).
pub const HOST_IP: &str = "host.ip";
/// Available MAC addresses of the host, excluding loopback (string array).
pub const HOST_MAC: &str = "host.mac";

// ---- container -----------------------------------------------------------------------------

/// Container id, as the runtime reports it.
pub const CONTAINER_ID: &str = "container.id";
/// Container name used by the container runtime.
pub const CONTAINER_NAME: &str = "container.name";
/// Name of the image the container was built from (`gcr.io/opentelemetry/operator`).
pub const CONTAINER_IMAGE_NAME: &str = "container.image.name";
/// Container image tags (string array).
pub const CONTAINER_IMAGE_TAGS: &str = "container.image.tags";
/// Runtime-specific image id, such as a `sha256:` digest.
pub const CONTAINER_IMAGE_ID: &str = "container.image.id";
/// Repo digests of the container image (string array).
pub const CONTAINER_IMAGE_REPO_DIGESTS: &str = "container.image.repo_digests";
/// Container runtime managing the container (`docker`, `containerd`); replaces
/// [`legacy::CONTAINER_RUNTIME`](super::legacy::CONTAINER_RUNTIME).
pub const CONTAINER_RUNTIME_NAME: &str = "container.runtime.name";
/// Version of the container runtime.
pub const CONTAINER_RUNTIME_VERSION: &str = "container.runtime.version";

// ---- Kubernetes ----------------------------------------------------------------------------

/// Name of the Kubernetes cluster.
pub const K8S_CLUSTER_NAME: &str = "k8s.cluster.name";
/// Pseudo-id of the cluster: the UID of its `kube-system` namespace.
pub const K8S_CLUSTER_UID: &str = "k8s.cluster.uid";
/// Name of the namespace the pod runs in.
pub const K8S_NAMESPACE_NAME: &str = "k8s.namespace.name";
/// Name of the pod.
pub const K8S_POD_NAME: &str = "k8s.pod.name";
/// UID of the pod.
pub const K8S_POD_UID: &str = "k8s.pod.uid";
/// Name of the node.
pub const K8S_NODE_NAME: &str = "k8s.node.name";
/// UID of the node.
pub const K8S_NODE_UID: &str = "k8s.node.uid";
/// Name of the container in the pod spec (not the runtime's container name).
pub const K8S_CONTAINER_NAME: &str = "k8s.container.name";
/// Number of times the container was restarted.
pub const K8S_CONTAINER_RESTART_COUNT: &str = "k8s.container.restart_count";
/// Name of the Deployment.
pub const K8S_DEPLOYMENT_NAME: &str = "k8s.deployment.name";
/// UID of the Deployment.
pub const K8S_DEPLOYMENT_UID: &str = "k8s.deployment.uid";
/// Name of the ReplicaSet.
pub const K8S_REPLICASET_NAME: &str = "k8s.replicaset.name";
/// UID of the ReplicaSet.
pub const K8S_REPLICASET_UID: &str = "k8s.replicaset.uid";
/// Name of the StatefulSet.
pub const K8S_STATEFULSET_NAME: &str = "k8s.statefulset.name";
/// UID of the StatefulSet.
pub const K8S_STATEFULSET_UID: &str = "k8s.statefulset.uid";
/// Name of the DaemonSet.
pub const K8S_DAEMONSET_NAME: &str = "k8s.daemonset.name";
/// UID of the DaemonSet.
pub const K8S_DAEMONSET_UID: &str = "k8s.daemonset.uid";
/// Name of the Job.
pub const K8S_JOB_NAME: &str = "k8s.job.name";
/// UID of the Job.
pub const K8S_JOB_UID: &str = "k8s.job.uid";
/// Name of the CronJob.
pub const K8S_CRONJOB_NAME: &str = "k8s.cronjob.name";
/// UID of the CronJob.
pub const K8S_CRONJOB_UID: &str = "k8s.cronjob.uid";

// ---- cloud ---------------------------------------------------------------------------------

/// Cloud provider (`aws`, `azure`, `gcp`, ...).
pub const CLOUD_PROVIDER: &str = "cloud.provider";
/// Cloud account id the resource belongs to.
pub const CLOUD_ACCOUNT_ID: &str = "cloud.account.id";
/// Geographical region the resource runs in (`us-east-1`).
pub const CLOUD_REGION: &str = "cloud.region";
/// Availability zone or data center within the region (`us-east-1c`).
pub const CLOUD_AVAILABILITY_ZONE: &str = "cloud.availability_zone";
/// Cloud platform the application runs on (`aws_ec2`, `gcp_kubernetes_engine`, ...).
pub const CLOUD_PLATFORM: &str = "cloud.platform";
/// Provider-specific native id of the resource (an AWS ARN, a GCP full resource name, ...).
pub const CLOUD_RESOURCE_ID: &str = "cloud.resource_id";

// ---- telemetry SDK -------------------------------------------------------------------------

/// Name of the telemetry SDK (`opentelemetry`).
pub const TELEMETRY_SDK_NAME: &str = "telemetry.sdk.name";
/// Language of the telemetry SDK (`rust`, `go`, `java`, ...).
pub const TELEMETRY_SDK_LANGUAGE: &str = "telemetry.sdk.language";
/// Version string of the telemetry SDK.
pub const TELEMETRY_SDK_VERSION: &str = "telemetry.sdk.version";
/// Name of the auto-instrumentation agent or distribution, if used.
pub const TELEMETRY_DISTRO_NAME: &str = "telemetry.distro.name";
/// Version of the auto-instrumentation agent or distribution, if used.
pub const TELEMETRY_DISTRO_VERSION: &str = "telemetry.distro.version";

// ---- process -------------------------------------------------------------------------------

/// Process id.
pub const PROCESS_PID: &str = "process.pid";
/// Parent process id.
pub const PROCESS_PARENT_PID: &str = "process.parent_pid";
/// Name of the process executable (`otelcol`).
pub const PROCESS_EXECUTABLE_NAME: &str = "process.executable.name";
/// Full path to the process executable.
pub const PROCESS_EXECUTABLE_PATH: &str = "process.executable.path";
/// Command used to launch the process, without its arguments.
pub const PROCESS_COMMAND: &str = "process.command";
/// Full command line, as one string.
pub const PROCESS_COMMAND_LINE: &str = "process.command_line";
/// Command and arguments, as a string array.
pub const PROCESS_COMMAND_ARGS: &str = "process.command_args";
/// User name of the process owner.
pub const PROCESS_OWNER: &str = "process.owner";
/// Name of the runtime of the process (`OpenJDK Runtime Environment`, `rustc`).
pub const PROCESS_RUNTIME_NAME: &str = "process.runtime.name";
/// Version of the runtime of the process.
pub const PROCESS_RUNTIME_VERSION: &str = "process.runtime.version";
/// Additional description of the runtime of the process.
pub const PROCESS_RUNTIME_DESCRIPTION: &str = "process.runtime.description";

// ---- operating system ----------------------------------------------------------------------

/// Operating system type (`linux`, `windows`, `darwin`, ...).
pub const OS_TYPE: &str = "os.type";
/// Human-readable OS description, such as `uname -a` output.
pub const OS_DESCRIPTION: &str = "os.description";
/// Human-readable OS name (`Ubuntu`, `Microsoft Windows`).
pub const OS_NAME: &str = "os.name";
/// OS version string.
pub const OS_VERSION: &str = "os.version";
/// OS build id (`22621`, kernel release).
pub const OS_BUILD_ID: &str = "os.build_id";
