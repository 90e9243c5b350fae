//! Unit tests of the operators: each type on hand-built entries with exact results, the
//! graph (outputs, routers, loops), `on_error`, `if`, and configuration errors.

use serde_json::{Value, json};

use super::Pipeline;
use crate::filelog::entry::Entry;

fn pipeline(yaml: &str) -> Pipeline {
    let ops: Vec<serde_yaml_ng::Value> = serde_yaml_ng::from_str(yaml).unwrap();
    Pipeline::build(&ops).unwrap_or_else(|e| panic!("{e}"))
}

fn build_error(yaml: &str) -> String {
    let ops: Vec<serde_yaml_ng::Value> = serde_yaml_ng::from_str(yaml).unwrap();
    match Pipeline::build(&ops) {
        Ok(p) => panic!("expected an error, got {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn line(text: &str) -> Entry {
    let mut e = Entry::new(json!(text), 7);
    e.attributes
        .insert("log.file.name".into(), json!("app.log"));
    e
}

fn run(p: &Pipeline, e: Entry) -> (Option<Entry>, u64) {
    let mut errors = 0;
    let out = p.run(e, &mut errors);
    (out, errors)
}

fn attrs(e: &Entry) -> Value {
    Value::Object(e.attributes.clone())
}

#[test]
fn json_parser_numbers_are_doubles_and_nested_values_kept() {
    let p = pipeline("- type: json_parser\n");
    let (out, errors) = run(
        &p,
        line(r#"{"n":5,"f":1.5,"b":true,"o":{"x":"y"},"a":[1,"a"],"s":"t"}"#),
    );
    let e = out.unwrap();
    assert_eq!(errors, 0);
    assert_eq!(
        attrs(&e),
        json!({"log.file.name":"app.log","n":5.0,"f":1.5,"b":true,"o":{"x":"y"},"a":[1.0,"a"],"s":"t"})
    );
    assert!(e.attributes["n"].as_f64().is_some() && !e.attributes["n"].is_i64());
    assert_eq!(
        e.body,
        json!(r#"{"n":5,"f":1.5,"b":true,"o":{"x":"y"},"a":[1,"a"],"s":"t"}"#)
    );
    let p = pipeline("- type: json_parser\n  parse_ints: true\n");
    assert!(run(&p, line(r#"{"n":5}"#)).0.unwrap().attributes["n"].is_i64());
}

#[test]
fn json_parser_errors_follow_on_error() {
    let p = pipeline("- type: json_parser\n- type: add\n  field: attributes.after\n  value: yes\n");
    let (out, errors) = run(&p, line("not json"));
    let e = out.unwrap();
    assert_eq!(errors, 1);
    assert_eq!(
        e.attributes["after"],
        json!("yes"),
        "send: the entry goes on unchanged"
    );
    let p = pipeline("- type: json_parser\n  on_error: drop\n");
    assert_eq!(run(&p, line("not json")), (None, 1));
    let p = pipeline("- type: json_parser\n  on_error: drop_quiet\n");
    assert_eq!(run(&p, line("[1,2]")), (None, 1));
    let p = pipeline("- type: json_parser\n  on_error: send_quiet\n");
    assert!(run(&p, line("{")).0.is_some());
}

#[test]
fn json_parser_parse_from_and_to() {
    let p = pipeline("- type: json_parser\n  parse_from: attributes.raw\n  parse_to: body\n");
    let mut e = line("x");
    e.attributes.insert("raw".into(), json!(r#"{"k":"v"}"#));
    assert_eq!(run(&p, e).0.unwrap().body, json!({"k":"v"}));
    let p = pipeline("- type: json_parser\n  parse_from: attributes.missing\n");
    assert_eq!(run(&p, line("x")).1, 1);
}

#[test]
fn regex_parser_named_groups_timestamp_and_severity() {
    let p = pipeline(
        r#"
- type: regex_parser
  regex: '^(?P<time>\S+) (?P<sev>\w+) (?P<msg>.*?)(?: id=(?P<id>\d+))?$'
  cache: {size: 128}
  timestamp:
    parse_from: attributes.time
    layout_type: gotime
    layout: '2006-01-02T15:04:05.000Z07:00'
  severity:
    parse_from: attributes.sev
"#,
    );
    let e = run(&p, line("2024-01-02T03:04:05.123Z ERROR boom"))
        .0
        .unwrap();
    assert_eq!(
        attrs(&e),
        json!({"log.file.name":"app.log","time":"2024-01-02T03:04:05.123Z","sev":"ERROR","msg":"boom","id":""})
    );
    assert_eq!(e.timestamp, Some(1_704_164_645_123_000_000));
    assert_eq!((e.severity, e.severity_text.as_str()), (17, "ERROR"));
    assert_eq!(run(&p, line("nothing")).1, 1, "no match is an error");
}

#[test]
fn severity_default_and_custom_mapping() {
    let p = pipeline("- type: severity_parser\n  parse_from: attributes.l\n");
    for (value, number) in [
        (json!("Warning"), 13),
        (json!("err"), 17),
        (json!("DEBUG"), 5),
        (json!("info"), 9),
        (json!("INFO2"), 10),
        (json!("fatal"), 21),
        (json!("trace"), 1),
        (json!("whatever"), 0),
    ] {
        let mut e = line("x");
        e.attributes.insert("l".into(), value.clone());
        let out = run(&p, e).0.unwrap();
        assert_eq!(out.severity, number, "{value}");
        assert_eq!(Value::String(out.severity_text), value);
    }
    let p = pipeline(
        r#"
- type: severity_parser
  parse_from: attributes.l
  overwrite_text: true
  mapping:
    warn: [w, 'careful']
    error: 5xx
    info: {min: 200, max: 299}
    fatal2: 42
"#,
    );
    for (value, number, text) in [
        (json!("W"), 13, "WARN"),
        (json!("careful"), 13, "WARN"),
        (json!(503.0), 17, "ERROR"),
        (json!("204"), 9, "INFO"),
        (json!(42), 22, "FATAL2"),
    ] {
        let mut e = line("x");
        e.attributes.insert("l".into(), value.clone());
        let out = run(&p, e).0.unwrap();
        assert_eq!(
            (out.severity, out.severity_text.as_str()),
            (number, text),
            "{value}"
        );
    }
    assert!(build_error("- type: severity_parser\n  mapping: {loud: x}\n").contains("loud"));
}

#[test]
fn time_parser_operator() {
    let p = pipeline(
        "- type: time_parser\n  parse_from: attributes.t\n  layout_type: epoch\n  layout: ms\n",
    );
    let mut e = line("x");
    e.attributes.insert("t".into(), json!(1_700_000_000_123.0));
    assert_eq!(
        run(&p, e).0.unwrap().timestamp,
        Some(1_700_000_000_123_000_000)
    );
    assert!(build_error("- type: time_parser\n  layout: '%Q'\n").contains("%Q"));
    assert!(
        build_error("- type: time_parser\n  layout: x\n  location: Europe/Paris\n")
            .contains("location")
    );
}

#[test]
fn router_routes_default_and_drop() {
    let p = pipeline(
        r#"
- type: router
  routes:
    - expr: 'body matches "^\\{"'
      output: js
      attributes: {route: json}
    - expr: 'body matches "^E"'
      output: err
  default: rest
- {type: json_parser, id: js, output: rest}
- {type: add, id: err, field: attributes.kind, value: error, output: rest}
- {type: noop, id: rest}
"#,
    );
    let e = run(&p, line(r#"{"a":"b"}"#)).0.unwrap();
    assert_eq!(e.attributes["a"], json!("b"));
    assert_eq!(e.attributes["route"], json!("json"));
    let e = run(&p, line("E bad")).0.unwrap();
    assert_eq!(e.attributes["kind"], json!("error"));
    let e = run(&p, line("plain")).0.unwrap();
    assert!(!e.attributes.contains_key("kind") && !e.attributes.contains_key("a"));
    let p = pipeline(
        "- type: router\n  routes:\n    - {expr: 'body == \"x\"', output: n}\n- {type: noop, id: n}\n",
    );
    assert_eq!(
        run(&p, line("y")),
        (None, 0),
        "no route and no default: dropped"
    );
}

#[test]
fn filter_drops_when_true() {
    let p = pipeline("- type: filter\n  expr: 'body matches \"^INFO:\"'\n");
    assert_eq!(run(&p, line("INFO: x")).0, None);
    assert!(run(&p, line("WARN: x")).0.is_some());
    let p = pipeline("- type: filter\n  expr: 'body matches \"^INFO\"'\n  drop_ratio: 0.5\n");
    let kept = (0..100)
        .filter(|_| run(&p, line("INFO")).0.is_some())
        .count();
    assert_eq!(kept, 50);
}

#[test]
fn move_copy_add_remove() {
    let p = pipeline(
        r#"
- {type: move, from: attributes.log, to: body}
- {type: move, from: attributes.stream, to: 'attributes["log.iostream"]'}
- {type: copy, from: 'attributes["log.iostream"]', to: 'resource["stream"]'}
- {type: add, field: 'resource["k8s.cluster"]', value: c1}
- {type: add, field: attributes.nested.deep, value: {a: 1}}
- {type: remove, field: attributes.time}
"#,
    );
    let mut e = line("raw");
    e.attributes.insert("log".into(), json!("message"));
    e.attributes.insert("stream".into(), json!("stdout"));
    e.attributes.insert("time".into(), json!("t"));
    let (out, errors) = run(&p, e);
    let out = out.unwrap();
    assert_eq!(errors, 0);
    assert_eq!(out.body, json!("message"));
    assert_eq!(
        attrs(&out),
        json!({"log.file.name":"app.log","log.iostream":"stdout","nested":{"deep":{"a":1}}})
    );
    assert_eq!(
        Value::Object(out.resource),
        json!({"stream":"stdout","k8s.cluster":"c1"})
    );
    // Missing fields are errors, the entry goes on (on_error: send).
    let (out, errors) = run(&p, line("raw"));
    assert_eq!(errors, 4);
    assert_eq!(out.unwrap().body, json!("raw"));
    assert!(
        build_error("- {type: add, field: attributes.x, value: 'EXPR(body)'}\n").contains("EXPR")
    );
}

#[test]
fn body_fields() {
    let p = pipeline(
        "- type: json_parser\n  parse_to: body\n- {type: move, from: body.msg, to: attributes.m}\n- {type: remove, field: body.drop}\n",
    );
    let out = run(&p, line(r#"{"msg":"hi","drop":1,"keep":2}"#))
        .0
        .unwrap();
    assert_eq!(out.body, json!({"keep":2.0}));
    assert_eq!(out.attributes["m"], json!("hi"));
}

#[test]
fn retain_and_flatten() {
    let p = pipeline("- type: retain\n  fields: [attributes.a, 'attributes[\"x.y\"]']\n");
    let mut e = line("b");
    e.attributes.insert("a".into(), json!(1));
    e.attributes.insert("x.y".into(), json!(2));
    e.attributes.insert("z".into(), json!(3));
    e.resource.insert("r".into(), json!(4));
    let out = run(&p, e).0.unwrap();
    assert_eq!(attrs(&out), json!({"a":1,"x.y":2}));
    assert_eq!(out.resource["r"], json!(4), "resource untouched");
    let p = pipeline("- type: flatten\n  field: attributes.a\n");
    let mut e = line("b");
    e.attributes
        .insert("a".into(), json!({"b":"c","d":{"e":1}}));
    let out = run(&p, e).0.unwrap();
    assert_eq!(
        attrs(&out),
        json!({"log.file.name":"app.log","b":"c","d":{"e":1}})
    );
    assert_eq!(run(&p, line("x")).1, 1, "missing field");
}

#[test]
fn if_skips_the_operator() {
    let p = pipeline(
        "- type: add\n  if: 'attributes[\"log.file.name\"] == \"app.log\"'\n  field: attributes.hit\n  value: 1\n",
    );
    assert!(run(&p, line("x")).0.unwrap().attributes.contains_key("hit"));
    let mut e = line("x");
    e.attributes.insert("log.file.name".into(), json!("other"));
    assert!(!run(&p, e).0.unwrap().attributes.contains_key("hit"));
}

fn k8s_line(path: &str, body: &str) -> Entry {
    let mut e = line(body);
    e.attributes.insert("log.file.path".into(), json!(path));
    e
}

const POD: &str = "/var/log/pods/ns1_pod-a_aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/app/3.log";

#[test]
fn container_formats_metadata_and_partials() {
    let p = pipeline("- type: container\n");
    let out = run(
        &p,
        k8s_line(
            POD,
            r#"{"log":"docker line\n","stream":"stderr","time":"2024-01-02T03:04:05.123456789Z"}"#,
        ),
    )
    .0
    .unwrap();
    assert_eq!(out.body, json!("docker line\n"));
    assert_eq!(out.attributes["log.iostream"], json!("stderr"));
    assert_eq!(out.timestamp, Some(1_704_164_645_123_456_789));
    assert_eq!(
        Value::Object(out.resource.clone()),
        json!({"k8s.namespace.name":"ns1","k8s.pod.name":"pod-a","k8s.pod.uid":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","k8s.container.name":"app","k8s.container.restart_count":"3"})
    );
    // CRI: partial lines join up to the final one; the first line's tag and time stay.
    assert_eq!(
        run(
            &p,
            k8s_line(POD, "2024-01-02T03:04:05.1Z stdout P part one ")
        ),
        (None, 0)
    );
    assert_eq!(
        run(&p, k8s_line(POD, "2024-01-02T03:04:05.2Z stdout P two ")),
        (None, 0)
    );
    let out = run(&p, k8s_line(POD, "2024-01-02T03:04:05.3Z stdout F three"))
        .0
        .unwrap();
    assert_eq!(out.body, json!("part one two three"));
    assert_eq!(out.attributes["logtag"], json!("P"));
    assert_eq!(out.timestamp, Some(1_704_164_645_100_000_000));
    let out = run(
        &p,
        k8s_line(POD, "2024-01-02T03:04:06+00:00 stderr F whole"),
    )
    .0
    .unwrap();
    assert_eq!(out.body, json!("whole"));
    assert_eq!(out.attributes["log.iostream"], json!("stderr"));
    assert_eq!(out.attributes["logtag"], json!("F"));
    // Without a pod path the metadata step fails (on_error) after parsing.
    let (out, errors) = run(
        &p,
        k8s_line("/tmp/x.log", "2024-01-02T03:04:06Z stdout F m"),
    );
    assert_eq!(errors, 1);
    assert_eq!(out.unwrap().body, json!("m"));
    let p = pipeline("- type: container\n  format: docker\n  add_metadata_from_filepath: false\n");
    assert_eq!(run(&p, line("2024 stdout F x")).1, 1);
    assert!(build_error("- type: container\n  format: podman\n").contains("podman"));
}

#[test]
fn graph_errors_name_the_operator() {
    assert!(build_error("- type: nope\n").contains("\"nope\" is not supported"));
    assert!(build_error("- type: noop\n  output: missing\n").contains("missing"));
    assert!(
        build_error("- {type: noop, id: a}\n- {type: add, id: a, field: body, value: x}\n")
            .contains("used by two operators")
    );
    // Without ids, stanza's defaults: noop, noop1, …
    let p = pipeline("- type: noop\n- type: noop\n- type: noop\n");
    assert!(format!("{p:?}").contains("noop2"));
    assert!(
        build_error("- {type: noop, id: a, output: b}\n- {type: noop, id: b, output: a}\n")
            .contains("loop")
    );
    let e = build_error("- type: filter\n  id: keep\n  expr: 'type(body) == \"map\"'\n");
    assert!(e.contains("keep") && e.contains("type(body)"), "{e}");
    let e = build_error(
        "- type: router\n  routes:\n    - {expr: 'attributes.x > 1', output: x}\n- {type: noop, id: x}\n",
    );
    assert!(
        e.contains("router") && e.contains("attributes.x > 1"),
        "{e}"
    );
    assert!(build_error("- type: json_parser\n  bogus: 1\n").contains("bogus"));
    assert!(build_error("- type: move\n  from: nowhere.x\n  to: body\n").contains("nowhere"));
    assert!(build_error("- type: noop\n  on_error: explode\n").contains("on_error"));
}

#[test]
fn the_007_kubernetes_config_compiles_and_runs() {
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/filelog/testdata/k8s_operators.yaml"
    ))
    .unwrap();
    let p = pipeline(&yaml);
    let out = run(
        &p,
        k8s_line(POD, "2024-01-02T03:04:05.123456789Z stdout F hello crio"),
    )
    .0
    .unwrap();
    assert_eq!(out.body, json!("hello crio"));
    assert_eq!(out.attributes["log.iostream"], json!("stdout"));
    assert_eq!(out.resource["k8s.pod.name"], json!("pod-a"));
    assert_eq!(out.resource["k8s.container.restart_count"], json!("3"));
    assert_eq!(out.timestamp, Some(1_704_164_645_123_456_789));
    let out = run(
        &p,
        k8s_line(
            POD,
            r#"{"log":"from docker","stream":"stdout","time":"2024-01-02T03:04:05.5Z"}"#,
        ),
    )
    .0
    .unwrap();
    assert_eq!(out.body, json!("from docker"));
    assert_eq!(out.timestamp, Some(1_704_164_645_500_000_000));
}
