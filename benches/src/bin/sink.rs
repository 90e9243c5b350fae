//! The end-to-end benchmark's sink: an OTLP/gRPC (and optionally OTLP/HTTP) receiver of every
//! signal that decodes every request fully (the receiver hands the handler a decoded Export
//! request) and counts items — spans, metric data points, log records, profiles — with
//! [`ExportRequest::item_count`], and requests. It accepts requests of up to 256 MiB.
//!
//! The counts are written to `--count-file` every 50 ms (written to a temporary file and renamed,
//! so a reader never sees a partial line) as `items requests spans data_points log_records\n`
//! (`items` is the sum of the three and of profiles); the file first appears once the receiver
//! listens, which is the readiness signal. The sink exits when its standard input
//! closes (or when killed), after writing the counts one last time.
//!
//! ```sh
//! sink --grpc 127.0.0.1:4417 --count-file /tmp/sink.count < /dev/tty
//! ```

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::server::{ExportHandler, Limits, Receiver, RequestContext};
use otlp_transport::{ExportRequest, PartialSuccess, Refusal};

/// Command line of the sink.
#[derive(Debug, Parser)]
#[command(about = "OTLP sink for the end-to-end benchmark: decodes and counts items")]
struct Args {
    /// OTLP/gRPC listen address.
    #[arg(long, default_value = "127.0.0.1:4417")]
    grpc: SocketAddr,
    /// OTLP/HTTP listen address (none by default).
    #[arg(long)]
    http: Option<SocketAddr>,
    /// Where the counts are written (`items requests spans data_points log_records`), every
    /// 50 ms.
    #[arg(long)]
    count_file: PathBuf,
    /// Worker threads of the runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Default)]
struct Counts {
    items: AtomicU64,
    requests: AtomicU64,
    spans: AtomicU64,
    data_points: AtomicU64,
    log_records: AtomicU64,
}

impl Counts {
    /// Counts one request; `per_signal` is the signal's own counter, if it has one.
    fn add(
        &self,
        items: usize,
        per_signal: Option<&AtomicU64>,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let items = items as u64;
        if let Some(counter) = per_signal {
            counter.fetch_add(items, Ordering::Relaxed);
        }
        self.items.fetch_add(items, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(None)
    }
}

struct Count(Arc<Counts>);

#[async_trait::async_trait]
impl ExportHandler for Count {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        _context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.0.add(request.item_count(), Some(&self.0.spans))
    }

    async fn export_metrics(
        &self,
        request: ExportMetricsServiceRequest,
        _context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.0.add(request.item_count(), Some(&self.0.data_points))
    }

    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        _context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.0.add(request.item_count(), Some(&self.0.log_records))
    }

    async fn export_profiles(
        &self,
        request: ExportProfilesServiceRequest,
        _context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.0.add(request.item_count(), None)
    }
}

fn write_counts(path: &Path, counts: &Counts) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let line = format!(
        "{} {} {} {} {}\n",
        get(&counts.items),
        get(&counts.requests),
        get(&counts.spans),
        get(&counts.data_points),
        get(&counts.log_records)
    );
    std::fs::write(&tmp, line)?;
    std::fs::rename(&tmp, path)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    let counts = Arc::new(Counts::default());
    let receiver = runtime.block_on(async {
        let mut receiver = Receiver::new(Count(counts.clone())).grpc(args.grpc);
        if let Some(http) = args.http {
            receiver = receiver.http(http);
        }
        // A benchmark sink takes whatever a collector batches (the default gRPC limit, 4 MiB,
        // would refuse a batch of 8192 realistic spans).
        receiver
            .limits(Limits::uniform(256 << 20))
            .max_concurrent_requests(1024)
            .start()
            .await
    })?;
    write_counts(&args.count_file, &counts)?;

    // Standard input closing (the parent exited or closed it) stops the sink.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while matches!(std::io::stdin().read(&mut buf), Ok(n) if n > 0) {}
        let _ = done_tx.send(());
    });
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        done_rx.recv_timeout(Duration::from_millis(50))
    {
        write_counts(&args.count_file, &counts)?;
    }
    runtime.block_on(receiver.shutdown(Duration::from_secs(2)));
    write_counts(&args.count_file, &counts)?;
    Ok(())
}
