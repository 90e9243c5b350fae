//! Zipkin bodies of the shape real instrumentation sends, for the Zipkin benchmarks: traces of
//! ten spans (a server span and nine children) over four services, each span with six tags
//! (HTTP method, route, status, peer, a component, the scope), local and remote endpoints, and
//! an annotation on every tenth span.

use std::fmt::Write as _;

const SERVICES: [&str; 4] = ["frontend", "cart", "checkout", "payments"];

fn hex16(n: u64) -> String {
    format!("{n:016x}")
}

/// A Zipkin v2 JSON array of `spans` spans.
pub fn v2_json_body(spans: usize) -> Vec<u8> {
    let mut out = String::from("[");
    for i in 0..spans {
        let trace = i / 10;
        let in_trace = i % 10;
        let id = 0x1000_0000_0000_0000u64 + i as u64;
        let root = 0x1000_0000_0000_0000u64 + (trace * 10) as u64;
        let service = SERVICES[i % SERVICES.len()];
        let ts = 1_700_000_000_000_000u64 + i as u64 * 137;
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"traceId":"{:016x}{:016x}","id":"{}""#,
            0x5af7_183f_b1d4_cf5fu64,
            trace as u64 + 1,
            hex16(id)
        );
        if in_trace > 0 {
            let _ = write!(out, r#","parentId":"{}""#, hex16(root));
        }
        let kind = if in_trace == 0 { "SERVER" } else { "CLIENT" };
        let _ = write!(
            out,
            r#","name":"GET /api/v1/items/{{id}}","kind":"{kind}","timestamp":{ts},"duration":{},"localEndpoint":{{"serviceName":"{service}","ipv4":"10.0.{}.{}","port":8080}},"remoteEndpoint":{{"serviceName":"{}","ipv4":"10.1.0.{}","port":443}}"#,
            1200 + i % 977,
            i % 4,
            1 + i % 200,
            SERVICES[(i + 1) % SERVICES.len()],
            1 + i % 100
        );
        if i % 10 == 3 {
            let _ = write!(
                out,
                r#","annotations":[{{"timestamp":{},"value":"retry|{{\"attempt\":2}}|0"}}]"#,
                ts + 50
            );
        }
        let _ = write!(
            out,
            r#","tags":{{"http.method":"GET","http.route":"/api/v1/items/{{id}}","http.status_code":"{}","component":"http","otel.library.name":"io.opentelemetry.http","otel.library.version":"1.45.1"}}}}"#,
            if i % 50 == 7 { 503 } else { 200 }
        );
    }
    out.push(']');
    out.into_bytes()
}

/// A Zipkin v1 JSON array of `spans` spans (core annotations, binary annotations).
pub fn v1_json_body(spans: usize) -> Vec<u8> {
    let mut out = String::from("[");
    for i in 0..spans {
        let trace = i / 10;
        let id = 0x1000_0000_0000_0000u64 + i as u64;
        let root = 0x1000_0000_0000_0000u64 + (trace * 10) as u64;
        let service = SERVICES[i % SERVICES.len()];
        let ts = 1_700_000_000_000_000u64 + i as u64 * 137;
        if i > 0 {
            out.push(',');
        }
        let (start, end) = if i % 10 == 0 {
            ("sr", "ss")
        } else {
            ("cs", "cr")
        };
        let endpoint = format!(
            r#"{{"serviceName":"{service}","ipv4":"10.0.0.{}","port":8080}}"#,
            i % 4
        );
        let _ = write!(
            out,
            r#"{{"traceId":"{:016x}","id":"{}"{},"name":"get /api/v1/items","timestamp":{ts},"duration":{},"annotations":[{{"timestamp":{ts},"value":"{start}","endpoint":{endpoint}}},{{"timestamp":{},"value":"{end}","endpoint":{endpoint}}}],"binaryAnnotations":[{{"key":"http.method","value":"GET","endpoint":{endpoint}}},{{"key":"http.status_code","value":"200","endpoint":{endpoint}}},{{"key":"lc","value":"http","endpoint":{endpoint}}}]}}"#,
            trace as u64 + 1,
            hex16(id),
            if i % 10 == 0 {
                String::new()
            } else {
                format!(r#","parentId":"{}""#, hex16(root))
            },
            1200 + i % 977,
            ts + 1200 + (i % 977) as u64,
        );
    }
    out.push(']');
    out.into_bytes()
}
