#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use http::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;
use otlp_pipeline::telemetry::SpanKind;
use otlp_pipeline::testing::id;
use otlp_pipeline::topology::TopologySnapshot;

fn request(path_and_query: &str) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    Request {
        peer: None,
        body: Default::default(),
        body_error: None,
        method: Method::GET,
        path: path.into(),
        query: query.into(),
        headers: http::HeaderMap::new(),
    }
}

fn sources(expvar: bool) -> Sources {
    let topology = ServiceTopology::new();
    let config = otlp_pipeline::Config::from_yaml(
        "t.yaml",
        r#"
receivers: {otlp: }
processors: {batch: }
exporters: {debug: , otlp/back: }
connectors: {forward: }
extensions: {zpages: , pprof/x: }
service:
  extensions: [zpages, pprof/x]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug, forward]
    traces/2:
      receivers: [forward]
      exporters: [otlp/back]
"#,
    )
    .unwrap();
    topology.publish(TopologySnapshot::from_config(&config, |p| {
        p.to_string() == "traces"
    }));
    Sources {
        topology,
        spans: SelfSpans::new(),
        expvar,
    }
}

fn body(response: Response) -> String {
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    String::from_utf8(response.body.to_vec()).unwrap()
}

#[test]
fn servicez_shows_build_and_runtime_info() {
    let html = body(sources(false).answer(&request("/debug/servicez")));
    assert!(html.contains("<th>Version</th><td>0.1.0</td>"), "{html}");
    assert!(html.contains("<th>StartTimestamp</th><td>20"), "{html}");
    assert!(html.contains("<th>Uptime</th><td>0s</td>"), "{html}");
    assert!(html.contains(&format!("<td>{}</td>", std::env::consts::ARCH)));
    for link in ["pipelinez", "extensionz", "featurez", "tracez"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
}

#[test]
fn pipelinez_lists_each_pipeline_with_its_components_and_mutated_flag() {
    let html = body(sources(false).answer(&request("/debug/pipelinez")));
    assert!(html.contains("<th>MutatesData</th>"));
    assert!(
        html.contains("<tr><td>traces</td><td>traces</td><td>true</td>"),
        "{html}"
    );
    assert!(html.contains("<tr><td>traces/2</td><td>traces</td><td>false</td>"));
    assert!(html.contains(
        "href=\"?zpipelinename=traces&amp;zcomponentname=batch&amp;zcomponentkind=processor\">batch</a>"
    ));
    assert!(
        html.contains("zcomponentname=otlp%2Fback&amp;zcomponentkind=exporter\">otlp/back</a>"),
        "{html}"
    );

    let one = body(sources(false).answer(&request(
        "/debug/pipelinez?zpipelinename=traces%2F2&zcomponentname=forward&zcomponentkind=receiver",
    )));
    assert!(
        one.contains("<th>Kind</th><td>receiver (connector)</td>"),
        "{one}"
    );
    let missing = sources(false).answer(&request(
        "/debug/pipelinez?zpipelinename=traces&zcomponentname=nope&zcomponentkind=receiver",
    ));
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[test]
fn extensionz_and_featurez() {
    let html = body(sources(false).answer(&request("/debug/extensionz")));
    assert!(html.contains("<a href=\"?zextensionname=zpages\">zpages</a></td><td>zpages</td>"));
    assert!(html.contains("<a href=\"?zextensionname=pprof%2Fx\">pprof/x</a></td><td>pprof</td>"));
    let one = body(sources(false).answer(&request("/debug/extensionz?zextensionname=pprof%2Fx")));
    assert!(one.contains("<th>Type</th><td>pprof</td>"), "{one}");
    assert_eq!(
        sources(false)
            .answer(&request("/debug/extensionz?zextensionname=x"))
            .status,
        StatusCode::NOT_FOUND
    );
    let html = body(sources(false).answer(&request("/debug/featurez")));
    assert!(html.contains("<th>Reference URL</th>") && html.contains("no feature gates"));
}

#[test]
fn tracez_summarises_and_lists_samples_escaped() {
    let sources = sources(false);
    let _reader = sources.spans.subscribe();
    let mut span = sources.spans.start("POST /v1/traces", SpanKind::Server);
    span.set_attribute("url.path", "/v1/traces");
    span.end();
    let mut bad = sources
        .spans
        .start(String::from("<script>alert(1)</script>"), SpanKind::Client);
    bad.set_attribute("k", "\"><img src=x>");
    bad.set_error("<failed & gone>");
    bad.end();

    let html = body(sources.answer(&request("/debug/tracez")));
    assert!(
        html.contains("<th>[&gt;0s]</th><th>[&gt;10µs]</th>"),
        "{html}"
    );
    assert!(html.contains("<th>[&gt;1m40s]</th><th>Error Samples</th>"));
    assert!(html.contains("<tr><td>POST /v1/traces</td>"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains(
        "href=\"tracez?zspanname=%3Cscript%3Ealert%281%29%3C%2Fscript%3E&amp;ztype=2&amp;zlatencybucket=0\">1</a>"
    ), "{html}");

    let summary = &sources.spans.summaries()[0];
    let bucket = summary.latency.iter().position(|n| *n > 0).unwrap();
    let html = body(sources.answer(&request(&format!(
        "/debug/tracez?zspanname=POST%20%2fv1%2ftraces&ztype=1&zlatencybucket={bucket}"
    ))));
    assert!(
        html.contains("Span Name: POST /v1/traces</h2><p>1 Requests"),
        "{html}"
    );
    assert!(html.contains("url.path=/v1/traces"));
    assert!(html.contains("<td>Server</td><td>Unset</td>"));

    let html = body(sources.answer(&request(
        "/debug/tracez?zspanname=%3Cscript%3Ealert(1)%3C%2Fscript%3E&ztype=2",
    )));
    assert!(html.contains("Error: &lt;failed &amp; gone&gt;"), "{html}");
    assert!(html.contains("k=&#34;&gt;&lt;img src=x&gt;"), "{html}");
    assert!(!html.contains("<img"));

    let html = body(sources.answer(&request("/debug/tracez?zspanname=unknown&ztype=1")));
    assert!(html.contains("0 Requests"));
    let html = body(sources.answer(&request("/debug/tracez?zspanname=x&ztype=0")));
    assert!(html.contains("running spans (not tracked)"));
    for bad in [
        "/debug/tracez?zspanname=x&ztype=3",
        "/debug/tracez?zspanname=x&ztype=a",
        "/debug/tracez?zspanname=x&ztype=1&zlatencybucket=9",
        "/debug/tracez?zspanname=x&ztype=1&zlatencybucket=-1",
    ] {
        assert_eq!(
            sources.answer(&request(bad)).status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

#[test]
fn unknown_paths_methods_and_expvar() {
    let s = sources(false);
    for path in [
        "/",
        "/debug",
        "/debug/rpcz",
        "/debug/tracez/x",
        "/debug/expvarz",
    ] {
        assert_eq!(
            s.answer(&request(path)).status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let mut post = request("/debug/servicez");
    post.method = Method::POST;
    assert_eq!(s.answer(&post).status, StatusCode::METHOD_NOT_ALLOWED);
    let json = body(sources(true).answer(&request("/debug/expvarz")));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        value["cmdline"].is_array() && value["uptime_seconds"].is_number(),
        "{json}"
    );
}

#[test]
fn validation() {
    let parse = |yaml: &str| -> Result<ZPagesConfig, String> {
        let config: ZPagesConfig =
            otlp_pipeline::config::parse_config(&serde_yaml_ng::from_str(yaml).unwrap())
                .map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    };
    let config = parse("{}").unwrap();
    assert_eq!(config.endpoint, "localhost:55679");
    assert!(!config.expvar.enabled);
    let config = parse(
        "endpoint: 0.0.0.0:1\nexpvar: {enabled: true}\nresponse_headers: {X-A: b}\nread_header_timeout: 1s\nkeep_alives_enabled: true\ntransport: tcp",
    )
    .unwrap();
    assert!(config.expvar.enabled);
    assert!(parse("endpoint: nope").unwrap_err().contains("endpoint"));
    assert!(parse("transport: udp").unwrap_err().contains("transport"));
    assert!(parse("tls: {cert_file: x}").unwrap_err().contains("tls"));
    assert!(
        parse("cors: {allowed_origins: [x]}")
            .unwrap_err()
            .contains("cors")
    );
    assert!(parse("bogus: 1").unwrap_err().contains("bogus"));
    assert!(
        parse("response_headers: {\"bad header\": x}")
            .unwrap_err()
            .contains("response_headers")
    );
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, text)
}

#[tokio::test]
async fn serves_records_while_running_and_closes_at_shutdown() {
    let resources = otlp_pipeline::Resources::collector();
    let spans = SelfSpans::from_resources(&resources);
    let config = ZPagesConfig {
        endpoint: "127.0.0.1:0".into(),
        response_headers: [("X-Zpages".to_owned(), "yes".to_owned())].into(),
        ..ZPagesConfig::default()
    };
    let extension = ZPages::new(
        ExtensionContext::new(id("zpages")).with_resources(resources.clone()),
        config,
    );
    spans.start("before", SpanKind::Internal).end();
    extension.start(&Host::empty()).await.unwrap();
    let addr = ServiceStatus::from_resources(&resources)
        .bound_address(&id("zpages"), "http")
        .unwrap();
    spans.start("during", SpanKind::Internal).end();
    let (code, text) = get(addr, "/debug/tracez").await;
    assert_eq!(code, 200);
    assert!(
        text.to_ascii_lowercase().contains("x-zpages: yes"),
        "{text}"
    );
    assert!(
        text.contains("<td>during</td>") && !text.contains("<td>before</td>"),
        "{text}"
    );
    assert_eq!(get(addr, "/nope").await.0, 404);
    extension.shutdown(Instant::now()).await.unwrap();
    spans.start("after", SpanKind::Internal).end();
    assert!(!spans.summaries().iter().any(|s| s.name == "after"));
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
