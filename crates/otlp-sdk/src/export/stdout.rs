//! [`StdoutExporter`]: one readable line per span or log record, for development.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use otlp_batch::{BatchExporter, ExportFailure, PartialSuccess, async_trait};
use otlp_model::attributes::{AnyValueExt, AttributesExt};
use otlp_model::time::rfc3339;
use otlp_model::views::{LogsView, TracesView};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

/// Writes one line per span or log record to standard output (or any writer):
///
/// ```text
/// 2026-12-02T15:00:00.000000000Z span 4bf9…4736 00f0…02b7 parent=- GET /cart Server 12.000ms Unset {http.route: "/cart"}
/// 2026-12-02T15:00:00.001000000Z log 4bf9…4736 00f0…02b7 INFO "cart loaded" {cart.items: 3}
/// ```
#[derive(Clone)]
pub struct StdoutExporter {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for StdoutExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StdoutExporter")
    }
}

impl Default for StdoutExporter {
    fn default() -> Self {
        Self::to_writer(std::io::stdout())
    }
}

impl StdoutExporter {
    /// An exporter writing to standard output.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An exporter writing to `out` (a file, a buffer in a test).
    pub fn to_writer(out: impl Write + Send + 'static) -> Self {
        Self {
            out: Arc::new(Mutex::new(Box::new(out))),
        }
    }

    fn write(&self, text: &str) -> Result<Option<PartialSuccess>, ExportFailure> {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| ExportFailure::permanent(format!("writing to the output: {e}")))?;
        Ok(None)
    }
}

fn id_or_dash<T: std::fmt::Display>(id: Option<T>) -> String {
    id.map_or_else(|| "-".to_owned(), |id| id.to_string())
}

#[async_trait]
impl BatchExporter<ExportTraceServiceRequest> for StdoutExporter {
    async fn export(
        &self,
        batch: &ExportTraceServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        let mut text = String::new();
        for span in batch.spans() {
            let duration = span.duration_nanos().unwrap_or(0) as f64 / 1e6;
            text.push_str(&format!(
                "{} span {} {} parent={} {} {:?} {duration:.3}ms {:?} {}\n",
                rfc3339(span.span.start_time_unix_nano),
                id_or_dash(span.trace_id()),
                id_or_dash(span.span_id()),
                id_or_dash(span.parent_span_id()),
                span.name(),
                span.kind(),
                span.status_code(),
                span.attributes().display(),
            ));
        }
        self.write(&text)
    }
}

#[async_trait]
impl BatchExporter<ExportLogsServiceRequest> for StdoutExporter {
    async fn export(
        &self,
        batch: &ExportLogsServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        let mut text = String::new();
        for record in batch.log_records() {
            let body = record
                .body()
                .map(|b| b.display().to_string())
                .unwrap_or_default();
            let text_severity = &record.log_record.severity_text;
            let severity = if text_severity.is_empty() {
                record.severity().as_str_name()
            } else {
                text_severity.as_str()
            };
            text.push_str(&format!(
                "{} log {} {} {} {body:?} {}\n",
                rfc3339(record.effective_time_unix_nano()),
                id_or_dash(record.trace_id()),
                id_or_dash(record.span_id()),
                severity,
                record.attributes().display(),
            ));
        }
        self.write(&text)
    }
}

#[async_trait]
impl BatchExporter<otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest>
    for StdoutExporter
{
    async fn export(
        &self,
        batch: &otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        use otlp_proto::metrics::v1::{metric::Data, number_data_point::Value};
        let mut text = String::new();
        let number = |v: &Option<Value>| match v {
            Some(Value::AsInt(i)) => i.to_string(),
            Some(Value::AsDouble(d)) => d.to_string(),
            None => "-".to_owned(),
        };
        for m in batch
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
        {
            let mut line = |time: u64,
                            kind: &str,
                            attributes: &[otlp_proto::common::v1::KeyValue],
                            value: String| {
                text.push_str(&format!(
                    "{} metric {} {kind} {} {value} {}\n",
                    rfc3339(time),
                    m.name,
                    attributes.display(),
                    m.unit
                ));
            };
            match &m.data {
                Some(Data::Sum(s)) => s
                    .data_points
                    .iter()
                    .for_each(|p| line(p.time_unix_nano, "sum", &p.attributes, number(&p.value))),
                Some(Data::Gauge(g)) => g
                    .data_points
                    .iter()
                    .for_each(|p| line(p.time_unix_nano, "gauge", &p.attributes, number(&p.value))),
                Some(Data::Histogram(h)) => h.data_points.iter().for_each(|p| {
                    line(
                        p.time_unix_nano,
                        "histogram",
                        &p.attributes,
                        format!("count={} sum={}", p.count, p.sum.unwrap_or(0.0)),
                    );
                }),
                Some(Data::ExponentialHistogram(h)) => h.data_points.iter().for_each(|p| {
                    line(
                        p.time_unix_nano,
                        "exponential_histogram",
                        &p.attributes,
                        format!(
                            "count={} sum={} scale={}",
                            p.count,
                            p.sum.unwrap_or(0.0),
                            p.scale
                        ),
                    );
                }),
                Some(Data::Summary(s)) => s.data_points.iter().for_each(|p| {
                    line(
                        p.time_unix_nano,
                        "summary",
                        &p.attributes,
                        format!("count={} sum={}", p.count, p.sum),
                    );
                }),
                None => {}
            }
        }
        self.write(&text)
    }
}
