//! The end-to-end benchmark's sink: an OTLP/gRPC (and optionally OTLP/HTTP) receiver that
//! decodes every request fully (the receiver hands the handler a decoded
//! `ExportTraceServiceRequest`) and counts spans and requests. It accepts requests of up to
//! 256 MiB.
//!
//! The counts are written to `--count-file` every 50 ms (written to a temporary file and renamed,
//! so a reader never sees a partial line) as `spans requests\n`; the file first appears once the
//! receiver listens, which is the readiness signal. The sink exits when its standard input
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
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::server::{ExportHandler, Limits, Receiver, RequestContext};
use otlp_transport::{ExportRequest, PartialSuccess, Refusal};

/// Command line of the sink.
#[derive(Debug, Parser)]
#[command(about = "OTLP sink for the end-to-end benchmark: decodes and counts spans")]
struct Args {
    /// OTLP/gRPC listen address.
    #[arg(long, default_value = "127.0.0.1:4417")]
    grpc: SocketAddr,
    /// OTLP/HTTP listen address (none by default).
    #[arg(long)]
    http: Option<SocketAddr>,
    /// Where the counts are written (`spans requests`), every 50 ms.
    #[arg(long)]
    count_file: PathBuf,
    /// Worker threads of the runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Default)]
struct Counts {
    spans: AtomicU64,
    requests: AtomicU64,
}

struct Count(Arc<Counts>);

#[async_trait::async_trait]
impl ExportHandler for Count {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        _context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.0
            .spans
            .fetch_add(request.item_count() as u64, Ordering::Relaxed);
        self.0.requests.fetch_add(1, Ordering::Relaxed);
        Ok(None)
    }
}

fn write_counts(path: &Path, counts: &Counts) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let line = format!(
        "{} {}\n",
        counts.spans.load(Ordering::Relaxed),
        counts.requests.load(Ordering::Relaxed)
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
