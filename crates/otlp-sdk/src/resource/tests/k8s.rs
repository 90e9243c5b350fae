use super::{TempRoot, env, get_str};
use crate::resource::{K8sDetector, ResourceDetector};

#[test]
fn operator_variables() {
    let map = env(&[
        (
            "OTEL_RESOURCE_ATTRIBUTES_POD_NAME",
            "checkout-7d9f8c6b5-x2x7k",
        ),
        (
            "OTEL_RESOURCE_ATTRIBUTES_POD_UID",
            "5c7a8f1e-4d2b-4c3a-9e8f-7a6b5c4d3e2f",
        ),
        (
            "OTEL_RESOURCE_ATTRIBUTES_NODE_NAME",
            "ip-10-0-1-23.ec2.internal",
        ),
        ("K8S_POD_NAME", "ignored-operator-wins"),
    ]);
    let root = TempRoot::new();
    let resource = K8sDetector::new()
        .with_env(map)
        .with_root(root.path())
        .detect();
    assert_eq!(
        get_str(&resource, "k8s.pod.name"),
        Some("checkout-7d9f8c6b5-x2x7k")
    );
    assert_eq!(
        get_str(&resource, "k8s.pod.uid"),
        Some("5c7a8f1e-4d2b-4c3a-9e8f-7a6b5c4d3e2f")
    );
    assert_eq!(
        get_str(&resource, "k8s.node.name"),
        Some("ip-10-0-1-23.ec2.internal")
    );
    assert_eq!(resource.get("k8s.namespace.name"), None);
    assert_eq!(resource.len(), 3);
}

#[test]
fn plain_variables() {
    let map = env(&[
        ("K8S_POD_NAME", "api-0"),
        ("K8S_POD_UID", "uid-1"),
        ("K8S_NODE_NAME", "node-a"),
        ("K8S_NAMESPACE_NAME", "shop"),
    ]);
    let resource = K8sDetector::new().with_env(map).detect();
    assert_eq!(get_str(&resource, "k8s.pod.name"), Some("api-0"));
    assert_eq!(get_str(&resource, "k8s.pod.uid"), Some("uid-1"));
    assert_eq!(get_str(&resource, "k8s.node.name"), Some("node-a"));
    assert_eq!(get_str(&resource, "k8s.namespace.name"), Some("shop"));
}

#[test]
fn namespace_from_service_account_file_in_a_pod() {
    let root = TempRoot::new();
    root.write(
        "var/run/secrets/kubernetes.io/serviceaccount/namespace",
        "payments\n",
    );
    let in_pod = env(&[("KUBERNETES_SERVICE_HOST", "10.96.0.1")]);
    let resource = K8sDetector::new()
        .with_env(in_pod)
        .with_root(root.path())
        .detect();
    assert_eq!(get_str(&resource, "k8s.namespace.name"), Some("payments"));

    // A variable wins over the file.
    let map = env(&[
        ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
        ("OTEL_RESOURCE_ATTRIBUTES_POD_NAMESPACE", "from-env"),
    ]);
    let resource = K8sDetector::new()
        .with_env(map)
        .with_root(root.path())
        .detect();
    assert_eq!(get_str(&resource, "k8s.namespace.name"), Some("from-env"));

    // Outside a pod the file is not read.
    let resource = K8sDetector::new()
        .with_env(env(&[]))
        .with_root(root.path())
        .detect();
    assert!(resource.is_empty());
}

#[test]
fn nothing_outside_kubernetes() {
    let root = TempRoot::new();
    let map = env(&[
        ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
        ("K8S_POD_NAME", " "),
    ]);
    let resource = K8sDetector::new()
        .with_env(map)
        .with_root(root.path())
        .detect();
    assert!(resource.is_empty(), "{resource:?}");
}
