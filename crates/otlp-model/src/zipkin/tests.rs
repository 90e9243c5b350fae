use super::*;
use crate::proto::common::v1::any_value::Value;
use crate::proto::trace::v1::span::SpanKind;

fn attr<'a>(attributes: &'a [crate::proto::common::v1::KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

const V2: &str = r#"[{
  "traceId": "5af7183fb1d4cf5f5af7183fb1d4cf5f", "id": "352bff9a74ca9ad2",
  "parentId": "6b221d5bc9e6496c", "name": "get /api", "kind": "SERVER",
  "timestamp": 1556604172355737, "duration": 1431,
  "localEndpoint": {"serviceName": "backend", "ipv4": "192.168.99.1", "port": 3306},
  "remoteEndpoint": {"serviceName": "frontend", "ipv6": "::1", "port": 63305},
  "annotations": [{"timestamp": 1556604172355800, "value": "retry|{\"attempt\":2,\"ok\":true}|1"}],
  "tags": {"http.method": "GET", "http.status_code": "200", "error": "boom",
           "otel.library.name": "lib", "otel.library.version": "1.0", "host.name": "h1",
           "w3c.tracestate": "a=b",
           "otlp.link.0": "0102030405060708090a0b0c0d0e0f10|0102030405060708||{\"k\":\"v\"}|0"}
}, {"traceId": "1", "id": "2", "name": "no-time"}]"#;

#[test]
fn v2_json_translates_as_otelcol() {
    let spans = decode_v2_json(V2.as_bytes()).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[1].trace_id[15], 1);
    let request = to_otlp(spans, true).unwrap();
    assert_eq!(request.resource_spans.len(), 2);
    // Sorted by service name: "OTLPResourceNoServiceName" < "backend".
    let none = &request.resource_spans[0];
    assert!(none.resource.as_ref().unwrap().attributes.is_empty());
    let s = &none.scope_spans[0].spans[0];
    assert_eq!(
        attr(&s.attributes, START_TIME_ABSENT),
        Some(&Value::BoolValue(true))
    );
    assert_eq!(s.start_time_unix_nano, 0);

    let backend = &request.resource_spans[1];
    let resource = &backend.resource.as_ref().unwrap().attributes;
    assert_eq!(
        attr(resource, "service.name"),
        Some(&Value::StringValue("backend".into()))
    );
    assert_eq!(
        attr(resource, "host.name"),
        Some(&Value::StringValue("h1".into()))
    );
    let scope = backend.scope_spans[0].scope.as_ref().unwrap();
    assert_eq!(
        (scope.name.as_str(), scope.version.as_str()),
        ("lib", "1.0")
    );
    let span = &backend.scope_spans[0].spans[0];
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(span.trace_state, "a=b");
    assert_eq!(span.start_time_unix_nano, 1_556_604_172_355_737_000);
    assert_eq!(
        span.end_time_unix_nano - span.start_time_unix_nano,
        1_431_000
    );
    assert_eq!(
        span.parent_span_id,
        vec![0x6b, 0x22, 0x1d, 0x5b, 0xc9, 0xe6, 0x49, 0x6c]
    );
    // `error` other than "true" makes an error status and stays.
    assert_eq!(span.status.as_ref().unwrap().code, 2);
    assert_eq!(
        attr(&span.attributes, "error"),
        Some(&Value::StringValue("boom".into()))
    );
    assert_eq!(
        attr(&span.attributes, "http.status_code"),
        Some(&Value::IntValue(200))
    );
    assert_eq!(attr(&span.attributes, "host.name"), None);
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events[0].name, "retry");
    assert_eq!(span.events[0].dropped_attributes_count, 1);
    assert_eq!(
        attr(&span.events[0].attributes, "attempt"),
        Some(&Value::IntValue(2))
    );
    assert_eq!(span.links.len(), 1);
    assert_eq!(span.links[0].span_id, vec![1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn round_trip_json_and_proto() {
    let spans = decode_v2_json(V2.as_bytes()).unwrap();
    let json = encode_v2_json(&spans);
    let again = decode_v2_json(&json).unwrap();
    assert_eq!(again[0].tags, spans[0].tags);
    assert_eq!(again[0].remote_endpoint, spans[0].remote_endpoint);
    assert_eq!(again[0].name, "get /api");
    let proto = encode_v2_proto(&spans);
    let back = decode_v2_proto(&proto).unwrap();
    assert_eq!(back[0], spans[0]);
    // A JSON span without a timestamp comes back from proto with the epoch.
    assert_eq!(back[1].timestamp_us, Some(0));
}

#[test]
fn otlp_to_zipkin_and_back() {
    let spans = decode_v2_json(V2.as_bytes()).unwrap();
    let request = to_otlp(spans.clone(), false).unwrap();
    let zipkin = from_otlp(&request).unwrap();
    let backend = zipkin.iter().find(|s| s.id == spans[0].id).unwrap();
    assert_eq!(
        backend.local_endpoint.as_ref().unwrap().service_name,
        "backend"
    );
    assert_eq!(backend.local_endpoint.as_ref().unwrap().port, 3306);
    assert_eq!(
        backend.remote_endpoint.as_ref().unwrap().service_name,
        "frontend"
    );
    assert_eq!(
        backend.tags.get("otel.library.name").map(String::as_str),
        Some("lib")
    );
    assert_eq!(
        backend.tags.get("host.name").map(String::as_str),
        Some("h1")
    );
    assert_eq!(
        backend.tags.get("otel.status_code").map(String::as_str),
        Some("STATUS_CODE_ERROR")
    );
    assert_eq!(backend.tags.get("error").map(String::as_str), Some("true"));
    assert_eq!(backend.duration_us, 1431);
    assert_eq!(
        backend.annotations[0].value,
        "retry|{\"attempt\":2,\"ok\":true}|1"
    );
    assert_eq!(
        backend.tags.get("otlp.link.0").map(String::as_str),
        Some("0102030405060708090a0b0c0d0e0f10|0102030405060708||{\"k\":\"v\"}|0")
    );
    let again = to_otlp(zipkin, false).unwrap();
    assert_eq!(again.resource_spans.len(), 2);
}

#[test]
fn bad_input_is_an_error() {
    for bad in [
        "",
        "{",
        "{}",
        "[{\"traceId\":\"xyz\",\"id\":\"1\"}]",
        "[{\"traceId\":\"1\"}]",
        "[{\"traceId\":\"1\",\"id\":\"0\"}]",
        "[{\"traceId\":\"+1\",\"id\":\"1\"}]",
        "[{\"traceId\":\"1\",\"id\":\"1\",\"timestamp\":-1}]",
        "[{\"traceId\":\"1\",\"id\":\"1\",\"tags\":{\"a\":1}}]",
        "[{\"traceId\":\"1\",\"id\":\"1\",\"localEndpoint\":{\"ipv4\":\"nope\"}}]",
        "[{\"traceId\":\"1\",\"id\":\"1\",\"annotations\":[{\"timestamp\":0,\"value\":\"a\"}]}]",
    ] {
        assert!(decode_v2_json(bad.as_bytes()).is_err(), "{bad}");
    }
    let bad_event = decode_v2_json(
        br#"[{"traceId":"1","id":"1","annotations":[{"timestamp":1,"value":"a|b|c"}]}]"#,
    )
    .unwrap();
    assert!(to_otlp(bad_event, false).is_err());
    assert!(decode_v2_proto(&[0xff, 0xff]).is_err());
    assert_eq!(decode_v2_json(b"null").unwrap(), vec![]);
    assert_eq!(decode_v2_json(b"[]").unwrap(), vec![]);
}

#[test]
fn v1_json_translates() {
    let body = br#"[{"traceId":"0000000000000001","id":"0000000000000002","name":"get",
      "timestamp":1000000,"duration":500,
      "annotations":[{"timestamp":1000000,"value":"sr","endpoint":{"serviceName":"svc","ipv4":"10.0.0.1","port":80}},
                     {"timestamp":1000100,"value":"work"},
                     {"timestamp":1000500,"value":"ss","endpoint":{"serviceName":"svc","ipv4":"10.0.0.1","port":80}}],
      "binaryAnnotations":[{"key":"lc","value":"db"},{"key":"http.status_code","value":"500"}]}]"#;
    let request = decode_v1_json(body, true).unwrap();
    let rs = &request.resource_spans[0];
    let resource = &rs.resource.as_ref().unwrap().attributes;
    assert_eq!(
        attr(resource, "service.name"),
        Some(&Value::StringValue("svc".into()))
    );
    assert_eq!(
        attr(resource, "port"),
        Some(&Value::StringValue("80".into()))
    );
    let span = &rs.scope_spans[0].spans[0];
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(span.events.len(), 1);
    assert_eq!(
        attr(&span.attributes, "component"),
        Some(&Value::StringValue("db".into()))
    );
    assert_eq!(span.status.as_ref().unwrap().code, 2);
    assert_eq!(span.end_time_unix_nano - span.start_time_unix_nano, 500_000);
    assert!(decode_v1_json(br#"[{"traceId":"1","id":"0000000000000002"}]"#, false).is_err());
}

#[test]
fn values_are_written_as_go_writes_them() {
    assert_eq!(value::go_float(1.5).as_deref(), Some("1.5"));
    assert_eq!(value::go_float(1e21).as_deref(), Some("1e+21"));
    assert_eq!(value::go_float(1e-7).as_deref(), Some("1e-7"));
    assert_eq!(value::go_float(100.0).as_deref(), Some("100"));
    assert_eq!(value::go_float(f64::NAN), None);
    let mut s = String::new();
    value::write_json_string(&mut s, "a<b>&\"\u{1}");
    assert_eq!(s, r#""a\u003cb\u003e\u0026\"\u0001""#);
    assert_eq!(value::typed_tag("-12"), Value::IntValue(-12));
    assert_eq!(value::typed_tag("1.25"), Value::DoubleValue(1.25));
    assert_eq!(value::typed_tag(".5"), Value::StringValue(".5".into()));
    assert_eq!(value::typed_tag("True"), Value::StringValue("True".into()));
    assert_eq!(
        value::typed_tag("99999999999999999999"),
        Value::IntValue(i64::MAX)
    );
}
