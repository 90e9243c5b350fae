//! The zPages' HTML (and the expvar JSON), rendered from the topology and the span recorder.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use http::StatusCode;

use otlp_model::time::{rfc3339, system_time_nanos};
use otlp_pipeline::config::duration;
use otlp_pipeline::telemetry::{BUCKETS, SampleSet, SelfSpans, SpanRecord, process_rss};
use otlp_pipeline::topology::{BuildInfo, TopologySnapshot};

use otlp_pipeline::http_server::{Request, Response, escape, percent_encode};

/// A rendered page, or the error answer.
pub(crate) type Page = Result<String, Response>;

const STYLE: &str = "body{font-family:sans-serif;margin:0;background:#fafafa;color:#212121}\
header{background:#3f51b5;color:#fff;padding:12px 24px}\
header h1{margin:0;font-size:22px}\
main{padding:16px 24px}\
table{border-collapse:collapse;margin:8px 0 24px;background:#fff}\
th,td{border:1px solid #c5cae9;padding:4px 10px;text-align:left;vertical-align:top}\
th{background:#e8eaf6}\
td.n{text-align:right;font-family:monospace}\
a{color:#303f9f}\
nav a{margin-right:16px}\
.err{color:#c62828}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>{STYLE}</style></head><body><header><h1>{title}</h1></header>\
         <nav style=\"padding:8px 24px\"><a href=\"servicez\">Service</a><a href=\"pipelinez\">Pipelines</a>\
         <a href=\"extensionz\">Extensions</a><a href=\"featurez\">Features</a><a href=\"tracez\">Traces</a></nav>\
         <main>{body}</main></body></html>\n",
        title = escape(title)
    )
}

fn bad_request(message: &str) -> Response {
    Response::text(StatusCode::BAD_REQUEST, format!("{message}\n"))
}

fn rows(table: &mut String, pairs: &[(&str, String)]) {
    for (key, value) in pairs {
        let _ = write!(
            table,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(key),
            escape(value)
        );
    }
}

fn timestamp(time: SystemTime) -> String {
    rfc3339(system_time_nanos(time))
}

/// `/debug/servicez`.
pub(crate) fn servicez(build: &BuildInfo, started: SystemTime, now: SystemTime) -> String {
    let uptime = now.duration_since(started).unwrap_or_default();
    let uptime = Duration::from_secs(uptime.as_secs());
    let mut body = String::from("<h2>Build Info</h2><table id=\"build\">");
    rows(
        &mut body,
        &[
            ("Command", build.command.clone()),
            ("Description", build.description.clone()),
            ("Version", build.version.clone()),
        ],
    );
    body.push_str("</table><h2>Runtime Info</h2><table id=\"runtime\">");
    rows(
        &mut body,
        &[
            ("StartTimestamp", timestamp(started)),
            ("Uptime", duration::format(uptime)),
            ("OS", std::env::consts::OS.to_owned()),
            ("Arch", std::env::consts::ARCH.to_owned()),
        ],
    );
    body.push_str(
        "</table><p><a href=\"pipelinez\">Pipelines</a> <a href=\"extensionz\">Extensions</a> \
         <a href=\"featurez\">Features</a> <a href=\"tracez\">Traces</a></p>",
    );
    layout(&format!("Service {}", build.command), &body)
}

fn component_links(pipeline: &str, kind: &str, ids: &[otlp_pipeline::ComponentId]) -> String {
    let mut out = String::new();
    for id in ids {
        let _ = write!(
            out,
            "<div><a href=\"?zpipelinename={}&amp;zcomponentname={}&amp;zcomponentkind={kind}\">{}</a></div>",
            percent_encode(pipeline),
            percent_encode(id.as_str()),
            escape(id.as_str())
        );
    }
    out
}

/// `/debug/pipelinez` (and one component with `zpipelinename`, `zcomponentname`,
/// `zcomponentkind`).
pub(crate) fn pipelinez(snapshot: Option<&TopologySnapshot>, request: &Request) -> Page {
    let empty = TopologySnapshot::default();
    let snapshot = snapshot.unwrap_or(&empty);
    if let Some(pipeline) = request.param("zpipelinename") {
        let name = request.param("zcomponentname").unwrap_or_default();
        let kind = request.param("zcomponentkind").unwrap_or_default();
        let found = snapshot
            .pipelines
            .iter()
            .find(|p| p.id.to_string() == pipeline)
            .and_then(|p| match kind.as_str() {
                "receiver" => p.receivers.iter().find(|id| id.as_str() == name),
                "processor" => p.processors.iter().find(|id| id.as_str() == name),
                "exporter" => p.exporters.iter().find(|id| id.as_str() == name),
                _ => None,
            });
        let Some(id) = found else {
            return Err(Response::not_found());
        };
        let connector = snapshot.connectors.contains(id);
        let mut body = String::from("<table id=\"component\">");
        rows(
            &mut body,
            &[
                ("Pipeline", pipeline.clone()),
                ("Name", id.to_string()),
                ("Type", id.type_name().to_owned()),
                (
                    "Kind",
                    if connector {
                        format!("{kind} (connector)")
                    } else {
                        kind.clone()
                    },
                ),
            ],
        );
        body.push_str("</table>");
        return Ok(layout(&format!("{kind} {id}"), &body));
    }
    let mut body = String::from(
        "<table id=\"pipelines\"><tr><th>FullName</th><th>InputType</th><th>MutatesData</th>\
         <th>Receivers</th><th>Processors</th><th>Exporters</th></tr>",
    );
    for p in &snapshot.pipelines {
        let name = p.id.to_string();
        let processors = if p.processors.is_empty() {
            "&rarr;".to_owned()
        } else {
            component_links(&name, "processor", &p.processors)
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{processors}</td><td>{}</td></tr>",
            escape(&name),
            p.id.signal(),
            p.mutates_data,
            component_links(&name, "receiver", &p.receivers),
            component_links(&name, "exporter", &p.exporters),
        );
    }
    body.push_str("</table>");
    Ok(layout("Pipelines", &body))
}

/// `/debug/extensionz` (and one extension with `zextensionname`).
pub(crate) fn extensionz(snapshot: Option<&TopologySnapshot>, request: &Request) -> Page {
    let empty = TopologySnapshot::default();
    let snapshot = snapshot.unwrap_or(&empty);
    if let Some(name) = request.param("zextensionname") {
        let Some(id) = snapshot.extensions.iter().find(|id| id.as_str() == name) else {
            return Err(Response::not_found());
        };
        let mut body = String::from("<table id=\"extension\">");
        rows(
            &mut body,
            &[
                ("Name", id.to_string()),
                ("Type", id.type_name().to_owned()),
            ],
        );
        body.push_str("</table>");
        return Ok(layout(&format!("Extension {id}"), &body));
    }
    let mut body =
        String::from("<table id=\"extensions\"><tr><th>Extension</th><th>Type</th></tr>");
    for id in &snapshot.extensions {
        let _ = write!(
            body,
            "<tr><td><a href=\"?zextensionname={}\">{}</a></td><td>{}</td></tr>",
            percent_encode(id.as_str()),
            escape(id.as_str()),
            escape(id.type_name())
        );
    }
    body.push_str("</table>");
    Ok(layout("Extensions", &body))
}

/// `/debug/featurez`: otlp-rs has no feature gates.
pub(crate) fn featurez() -> String {
    layout(
        "Feature Gates",
        "<table id=\"features\"><tr><th>ID</th><th>Enabled</th><th>Description</th><th>Stage</th>\
         <th>From Version</th><th>To Version</th><th>Reference URL</th></tr></table>\
         <p>otlp-rs has no feature gates.</p>",
    )
}

/// A bucket's label as Go zpages prints it: `>0s`, `>10µs`, … `>1m40s`.
fn bucket_label(index: usize) -> &'static str {
    const LABELS: [&str; BUCKETS] = [
        ">0s", ">10µs", ">100µs", ">1ms", ">10ms", ">100ms", ">1s", ">10s", ">1m40s",
    ];
    LABELS.get(index).copied().unwrap_or(">1m40s")
}

/// `/debug/tracez`: the summary, and the samples a query asks for.
pub(crate) fn tracez(spans: &SelfSpans, request: &Request) -> Page {
    let selected = match request.param("zspanname") {
        None => None,
        Some(name) => {
            let ztype = request.param("ztype").unwrap_or_else(|| "1".into());
            let bucket = match request.param("zlatencybucket") {
                None => 0,
                Some(text) => match text.parse::<usize>() {
                    Ok(n) if n < BUCKETS => n,
                    _ => {
                        return Err(bad_request(&format!(
                            "zlatencybucket must be 0 to {}",
                            BUCKETS - 1
                        )));
                    }
                },
            };
            let set = match ztype.as_str() {
                "0" => None,
                "1" => Some(SampleSet::Latency(bucket)),
                "2" => Some(SampleSet::Errors),
                _ => {
                    return Err(bad_request(
                        "ztype must be 0 (running), 1 (latency) or 2 (errors)",
                    ));
                }
            };
            Some((name, set))
        }
    };
    let mut body = String::from("<table id=\"summary\"><tr><th>Span Name</th>");
    for bucket in 0..BUCKETS {
        let _ = write!(body, "<th>[{}]</th>", escape(bucket_label(bucket)));
    }
    body.push_str("<th>Error Samples</th></tr>");
    for summary in spans.summaries() {
        let name = percent_encode(&summary.name);
        let _ = write!(body, "<tr><td>{}</td>", escape(&summary.name));
        for (bucket, count) in summary.latency.iter().enumerate() {
            if *count > 0 {
                let _ = write!(
                    body,
                    "<td class=\"n\"><a href=\"tracez?zspanname={name}&amp;ztype=1&amp;zlatencybucket={bucket}\">{count}</a></td>"
                );
            } else {
                body.push_str("<td class=\"n\">0</td>");
            }
        }
        if summary.errors > 0 {
            let _ = write!(
                body,
                "<td class=\"n\"><a href=\"tracez?zspanname={name}&amp;ztype=2&amp;zlatencybucket=0\">{}</a></td></tr>",
                summary.errors
            );
        } else {
            body.push_str("<td class=\"n\">0</td></tr>");
        }
    }
    body.push_str("</table>");
    let dropped = spans.dropped_names();
    if dropped > 0 {
        let _ = write!(
            body,
            "<p class=\"err\">{dropped} spans of further names were not kept (at most {} names).</p>",
            otlp_pipeline::telemetry::MAX_NAMES
        );
    }
    if let Some((name, set)) = selected {
        let samples = set.map(|set| spans.samples(&name, set)).unwrap_or_default();
        let what = match set {
            None => "running spans (not tracked)".to_owned(),
            Some(SampleSet::Errors) => "error samples".to_owned(),
            Some(SampleSet::Latency(bucket)) => {
                format!("latency samples [{}]", bucket_label(bucket))
            }
        };
        let _ = write!(
            body,
            "<h2 id=\"samples-title\">Span Name: {}</h2><p>{} Requests, {}</p>",
            escape(&name),
            samples.len(),
            escape(&what)
        );
        body.push_str(
            "<table id=\"samples\"><tr><th>When</th><th>Elapsed (sec)</th><th>Trace ID</th>\
             <th>Span ID</th><th>Kind</th><th>Status</th><th>Attributes</th></tr>",
        );
        for sample in samples.iter().rev() {
            sample_row(&mut body, sample);
        }
        body.push_str("</table>");
    }
    Ok(layout("Trace Spans", &body))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn sample_row(body: &mut String, sample: &SpanRecord) {
    let status = match &sample.error {
        Some(message) => format!("<span class=\"err\">Error: {}</span>", escape(message)),
        None => "Unset".to_owned(),
    };
    let attributes = sample
        .attributes
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = write!(
        body,
        "<tr><td>{}</td><td class=\"n\">{:.6}</td><td class=\"tid\">{}</td><td>{}</td><td>{}</td><td>{status}</td><td>{{{attributes}}}</td></tr>",
        timestamp(sample.start),
        sample.duration.as_secs_f64(),
        hex(&sample.trace_id),
        hex(&sample.span_id),
        sample.kind.as_str(),
    );
}

/// `/debug/expvarz`: a few runtime values as JSON.
pub(crate) fn expvarz(spans: &SelfSpans, started: SystemTime, now: SystemTime) -> String {
    let value = serde_json::json!({
        "cmdline": std::env::args().collect::<Vec<_>>(),
        "uptime_seconds": now.duration_since(started).unwrap_or_default().as_secs_f64(),
        "memory_rss_bytes": process_rss(),
        "self_spans_names": spans.summaries().len(),
        "self_spans_dropped": spans.dropped_names(),
    });
    format!("{value:#}\n")
}
