//! Shared by the filelog integration tests: a storage extension over a temporary directory,
//! a consumer that records (or refuses) what it gets, and starting a receiver from YAML.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use otlp_pipeline::Signal;
use otlp_pipeline::component::{
    Consumer, Extension, Host, NextConsumers, Receiver, ReceiverContext, Resources,
    StorageExtension,
};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::telemetry::Metrics;
use otlp_proto::common::v1::any_value;
use otlp_receivers::filelog::{FileLogConfig, FileLogReceiver};

pub struct Storage(pub PathBuf);

impl Extension for Storage {
    fn as_storage(&self) -> Option<&dyn StorageExtension> {
        Some(self)
    }
}

impl StorageExtension for Storage {
    fn directory(&self) -> &Path {
        &self.0
    }
    fn fsync(&self) -> bool {
        true
    }
}

/// Records bodies; refuses (retryably) while `refuse` is set, and the first `refuse_first`
/// calls.
#[derive(Default)]
pub struct Sink {
    pub bodies: Mutex<Vec<String>>,
    pub batches: Mutex<Vec<usize>>,
    pub refuse: std::sync::atomic::AtomicBool,
    pub refuse_first: AtomicUsize,
    pub permanent: std::sync::atomic::AtomicBool,
    pub delay: Mutex<Duration>,
    pub requests: Mutex<Vec<otlp_proto::collector::logs::v1::ExportLogsServiceRequest>>,
}

#[async_trait]
impl Consumer for Sink {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let first = self
            .refuse_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if first || self.refuse.load(Ordering::SeqCst) {
            return Err(if self.permanent.load(Ordering::SeqCst) {
                ConsumeError::permanent("no")
            } else {
                ConsumeError::retryable("not now")
            });
        }
        let logs = data.logs().unwrap();
        self.requests.lock().unwrap().push(logs.clone());
        let mut n = 0;
        let mut bodies = self.bodies.lock().unwrap();
        for r in &logs.resource_logs {
            for s in &r.scope_logs {
                for l in &s.log_records {
                    n += 1;
                    match l.body.as_ref().and_then(|b| b.value.as_ref()) {
                        Some(any_value::Value::StringValue(s)) => bodies.push(s.clone()),
                        other => bodies.push(format!("{other:?}")),
                    }
                }
            }
        }
        self.batches.lock().unwrap().push(n);
        Ok(())
    }
}

impl Sink {
    pub fn count(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }

    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for b in self.bodies.lock().unwrap().iter() {
            *m.entry(b.clone()).or_insert(0) += 1;
        }
        m
    }

    pub fn largest_batch(&self) -> usize {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
    }

    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if self.count() >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.count() >= n
    }
}

pub struct Running {
    pub receiver: FileLogReceiver,
    pub metrics: Arc<Metrics>,
}

pub async fn start(yaml: &str, sink: Arc<Sink>, storage: Option<&Path>) -> Running {
    let config: FileLogConfig = serde_yaml_ng::from_str(yaml).unwrap();
    let resources = Resources::collector();
    let metrics = Metrics::from_resources(&resources);
    let ctx = ReceiverContext::new(
        "filelog/test".parse().unwrap(),
        NextConsumers::new().with(Signal::Logs, sink as Arc<dyn Consumer>),
    )
    .with_resources(resources.clone());
    let receiver = FileLogReceiver::new(ctx, config).unwrap();
    let extensions: Vec<(otlp_pipeline::ComponentId, Arc<dyn Extension>)> = match storage {
        Some(dir) => vec![(
            "file_storage/fl".parse().unwrap(),
            Arc::new(Storage(dir.to_path_buf())) as Arc<dyn Extension>,
        )],
        None => Vec::new(),
    };
    let (host, _fatal) = Host::new(extensions, resources);
    receiver.start(&host).await.unwrap();
    Running { receiver, metrics }
}

impl Running {
    pub async fn stop(&self, within: Duration) -> bool {
        self.receiver
            .shutdown(tokio::time::Instant::now() + within)
            .await
            .is_ok()
    }

    pub fn metric(&self, name: &str) -> f64 {
        self.metrics.sum(name, &[])
    }
}

pub fn append(path: &Path, lines: impl IntoIterator<Item = String>) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut text = String::new();
    for l in lines {
        text.push_str(&l);
        text.push('\n');
    }
    f.write_all(text.as_bytes()).unwrap();
}
