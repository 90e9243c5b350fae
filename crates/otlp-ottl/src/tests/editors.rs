//! Every editor on hand-made spans, with exact results (cases adapted from the OTTL functions
//! README and the transform processor README).

use super::*;
use crate::funcs::encoding::sha256_hex;

fn keys(attrs: &[KeyValue]) -> Vec<&str> {
    attrs.iter().map(|kv| kv.key.as_str()).collect()
}

#[test]
fn set_fields_attributes_and_nested_keys() {
    let (sp, resource, _) = run_span(
        &[
            r#"set(attributes["x"], "y")"#,
            r#"set(name, "renamed") where attributes["x"] == "y""#,
            r#"set(attributes["a"]["b"], 1)"#,
            r#"set(attributes["missing_copy"], attributes["nope"])"#,
            "set(status.code, STATUS_CODE_ERROR)",
            r#"set(status.message, "boom")"#,
            "set(kind, SPAN_KIND_CLIENT)",
            r#"set(resource.attributes["env"], "prod")"#,
            r#"set(attributes["service"], resource.attributes["service.name"])"#,
            "set(end_time_unix_nano, 42)",
            "set(dropped_attributes_count, 3)",
            r#"set(span.trace_id.string, "0102030405060708090a0b0c0d0e0f10")"#,
            "set(span_id, SpanID(0x0102030405060708))",
        ],
        span("s", vec![]),
    );
    assert_eq!(sp.name, "renamed");
    assert_eq!(get(&sp.attributes, "x"), Some(&s("y")));
    assert_eq!(get(&sp.attributes, "a"), Some(&map(vec![("b", i(1))])));
    assert_eq!(
        get(&sp.attributes, "missing_copy"),
        None,
        "set with nil does nothing"
    );
    assert_eq!(get(&sp.attributes, "service"), Some(&s("checkout")));
    assert_eq!(
        sp.status.as_ref().map(|s| (s.code, s.message.as_str())),
        Some((2, "boom"))
    );
    assert_eq!(sp.kind, 3);
    assert_eq!(sp.end_time_unix_nano, 42);
    assert_eq!(sp.dropped_attributes_count, 3);
    assert_eq!(sp.trace_id, (1..=16).collect::<Vec<u8>>());
    assert_eq!(sp.span_id, (1..=8).collect::<Vec<u8>>());
    let resource = resource.unwrap_or_default();
    assert_eq!(get(&resource.attributes, "env"), Some(&s("prod")));
}

#[test]
fn set_ignores_values_of_the_wrong_type_and_creates_a_missing_resource() {
    let (sp, _, _) = run_span(&["set(name, 5)", "set(kind, \"x\")"], span("keep", vec![]));
    assert_eq!((sp.name.as_str(), sp.kind), ("keep", 0));

    let st = Statement::parse(r#"set(resource.attributes["k"], "v")"#, Context::Span).unwrap();
    let mut sp = span("s", vec![]);
    let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
    let mut t = TargetMut {
        item: ItemMut::Span(&mut sp),
        resource: &mut resource,
        scope: &mut scope,
        cache: &mut cache,
    };
    assert_eq!(st.execute(&mut t), Ok(true));
    assert_eq!(
        resource.map(|r| r.attributes),
        Some(kvs(vec![("k", s("v"))]))
    );
}

#[test]
fn delete_and_keep_keys() {
    let attrs = || {
        vec![
            ("http.method", s("GET")),
            ("db.password", s("p")),
            ("PASSWORD_HINT", s("h")),
            ("app.version", s("1")),
        ]
    };
    let out = attrs_after(&[r#"delete_key(attributes, "http.method")"#], attrs());
    assert_eq!(keys(&out), ["db.password", "PASSWORD_HINT", "app.version"]);
    let out = attrs_after(
        &[r#"delete_matching_keys(attributes, "(?i).*password.*")"#],
        attrs(),
    );
    assert_eq!(keys(&out), ["http.method", "app.version"]);
    let out = attrs_after(
        &[r#"keep_keys(attributes, ["http.method", "nope"])"#],
        attrs(),
    );
    assert_eq!(keys(&out), ["http.method"]);
    let out = attrs_after(
        &[r#"keep_matching_keys(attributes, "(?i).*version.*")"#],
        attrs(),
    );
    assert_eq!(keys(&out), ["app.version"]);
    let out = attrs_after(&["keep_keys(attributes, [])"], attrs());
    assert!(out.is_empty());
    // A nested map is a target too; an unset one is left alone.
    let out = attrs_after(
        &[
            r#"delete_key(attributes["m"], "a")"#,
            r#"delete_key(attributes["none"], "a")"#,
        ],
        vec![("m", map(vec![("a", i(1)), ("b", i(2))]))],
    );
    assert_eq!(out, kvs(vec![("m", map(vec![("b", i(2))]))]));
}

#[test]
fn limit_keeps_priority_keys_first() {
    let attrs = vec![("a", i(1)), ("b", i(2)), ("c", i(3)), ("d", i(4))];
    let out = attrs_after(&[r#"limit(attributes, 2, ["c"])"#], attrs.clone());
    assert_eq!(keys(&out), ["a", "c"]);
    let out = attrs_after(
        &[r#"limit(attributes, 1, priority_keys = ["d"])"#],
        attrs.clone(),
    );
    assert_eq!(keys(&out), ["d"]);
    let out = attrs_after(&["limit(attributes, 10, [])"], attrs.clone());
    assert_eq!(out.len(), 4);
    let out = attrs_after(&["limit(attributes, 0, [])"], attrs);
    assert!(out.is_empty());
}

#[test]
fn truncate_all_cuts_strings_only_at_character_boundaries() {
    let attrs = vec![("s", s("abcdef")), ("n", i(123_456)), ("u", s("héllo"))];
    let out = attrs_after(&["truncate_all(attributes, 3)"], attrs.clone());
    assert_eq!(get(&out, "s"), Some(&s("abc")));
    assert_eq!(get(&out, "n"), Some(&i(123_456)));
    assert_eq!(get(&out, "u"), Some(&s("hé")));
    let out = attrs_after(&["truncate_all(attributes, 2)"], attrs.clone());
    assert_eq!(
        get(&out, "u"),
        Some(&s("h")),
        "é is two bytes: cut before it"
    );
    let out = attrs_after(
        &[r#"truncate_all(attributes, 5, truncation_marker = "..")"#],
        attrs,
    );
    assert_eq!(get(&out, "s"), Some(&s("abc..")));
    assert_eq!(get(&out, "u"), Some(&s("hé..")), "héllo is 6 bytes");
}

#[test]
fn replace_pattern_and_replace_match() {
    let out = attrs_after(
        &[r#"replace_pattern(attributes["cmd"], "password\\=[^\\s]*(\\s?)", "password=***")"#],
        vec![("cmd", s("run --password=secret now"))],
    );
    assert_eq!(get(&out, "cmd"), Some(&s("run --password=***now")));
    let (sp, _, _) = run_span(
        &[r#"replace_pattern(name, "^kube_([0-9A-Za-z]+_)", "k8s.$1.")"#],
        span("kube_pod_status", vec![]),
    );
    assert_eq!(sp.name, "k8s.pod_.status");
    let (sp, _, _) = run_span(
        &[r#"replace_pattern(name, "^kube_([0-9A-Za-z]+_)", "$1.", SHA256, "k8s.%s")"#],
        span("kube_pod_status", vec![]),
    );
    assert_eq!(sp.name, format!("k8s.{}status", sha256_hex("pod_.")));
    // Not a string: nothing happens.
    let out = attrs_after(
        &[r#"replace_pattern(attributes["n"], "1", "2")"#],
        vec![("n", i(1))],
    );
    assert_eq!(get(&out, "n"), Some(&i(1)));

    let out = attrs_after(
        &[
            r#"replace_match(attributes["http.target"], "/user/*/list/*", "/user/{userId}/list/{listId}")"#,
            r#"replace_match(attributes["other"], "/user/*/list/*", "x")"#,
        ],
        vec![
            ("http.target", s("/user/123/list/456")),
            ("other", s("/user/1/2/list/3")),
        ],
    );
    assert_eq!(
        get(&out, "http.target"),
        Some(&s("/user/{userId}/list/{listId}"))
    );
    assert_eq!(
        get(&out, "other"),
        Some(&s("/user/1/2/list/3")),
        "`*` stops at `/`"
    );
    let out = attrs_after(
        &[r#"replace_match(attributes["t"], "/user/*", "id", SHA256, "/user/%s")"#],
        vec![("t", s("/user/7"))],
    );
    assert_eq!(
        get(&out, "t"),
        Some(&s(&format!("/user/{}", sha256_hex("id"))))
    );
}

#[test]
fn replace_all_matches_and_patterns() {
    let attrs = || {
        vec![
            ("a", s("/user/1/list/2")),
            ("b", s("/account/1234/x")),
            ("kube_node", s("n1")),
            ("n", i(5)),
        ]
    };
    let out = attrs_after(
        &[r#"replace_all_matches(attributes, "/user/*/list/*", "/user/{userId}/list/{listId}")"#],
        attrs(),
    );
    assert_eq!(get(&out, "a"), Some(&s("/user/{userId}/list/{listId}")));
    assert_eq!(get(&out, "b"), Some(&s("/account/1234/x")));
    let out = attrs_after(
        &[
            r#"replace_all_patterns(attributes, "value", "/account/\\d{4}", "/account/{accountId}")"#,
        ],
        attrs(),
    );
    assert_eq!(get(&out, "b"), Some(&s("/account/{accountId}/x")));
    assert_eq!(get(&out, "n"), Some(&i(5)));
    let out = attrs_after(
        &[r#"replace_all_patterns(attributes, "key", "^kube_", "k8s.")"#],
        attrs(),
    );
    assert_eq!(keys(&out), ["a", "b", "k8s.node", "n"]);
    assert_eq!(get(&out, "k8s.node"), Some(&s("n1")));
    // Renaming onto an existing key: the later entry wins, no duplicate keys.
    let out = attrs_after(
        &[r#"replace_all_patterns(attributes, "key", "^old_", "")"#],
        vec![("x", i(1)), ("old_x", i(2))],
    );
    assert_eq!(out, kvs(vec![("x", i(2))]));
}

#[test]
fn merge_maps_strategies() {
    let attrs = || {
        vec![
            ("a", s("keep")),
            ("json", s(r#"{"a": "new", "b": "added"}"#)),
        ]
    };
    let merged = |strategy: &str| {
        let out = attrs_after(
            &[&format!(
                r#"merge_maps(attributes, ParseJSON(attributes["json"]), "{strategy}")"#
            )],
            attrs(),
        );
        (get(&out, "a").cloned(), get(&out, "b").cloned())
    };
    assert_eq!(merged("insert"), (Some(s("keep")), Some(s("added"))));
    assert_eq!(merged("update"), (Some(s("new")), None));
    assert_eq!(merged("upsert"), (Some(s("new")), Some(s("added"))));
    let out = attrs_after(
        &[r#"merge_maps(attributes, resource.attributes, "insert")"#],
        vec![],
    );
    assert_eq!(get(&out, "service.name"), Some(&s("checkout")));
}

#[test]
fn flatten_with_prefix_and_depth() {
    let nested = || {
        vec![
            ("name", s("test")),
            (
                "address",
                map(vec![("street", s("first")), ("house", i(1234))]),
            ),
            ("occupants", list(vec![s("user 1"), s("user 2")])),
        ]
    };
    let out = attrs_after(&["flatten(attributes)"], nested());
    assert_eq!(
        out,
        kvs(vec![
            ("name", s("test")),
            ("address.street", s("first")),
            ("address.house", i(1234)),
            ("occupants.0", s("user 1")),
            ("occupants.1", s("user 2")),
        ])
    );
    let out = attrs_after(&[r#"flatten(attributes, "app")"#], nested());
    assert_eq!(keys(&out)[0], "app.name");
    assert_eq!(keys(&out)[1], "app.address.street");
    let deep = vec![(
        "0",
        map(vec![(
            "1",
            map(vec![("2", map(vec![("3", map(vec![("4", s("value"))]))]))]),
        )]),
    )];
    let out = attrs_after(&["flatten(attributes, depth = 2)"], deep.clone());
    assert_eq!(
        out,
        kvs(vec![(
            "0.1.2",
            map(vec![("3", map(vec![("4", s("value"))]))])
        )])
    );
    let out = attrs_after(&["flatten(attributes, depth = 0)"], deep.clone());
    assert_eq!(out, kvs(deep));
}

#[test]
fn append_to_missing_scalar_and_list() {
    let out = attrs_after(
        &[
            r#"append(attributes["new"], "prod")"#,
            r#"append(attributes["one"], "b")"#,
            r#"append(attributes["many"], values = ["staging", "staging:east"])"#,
            r#"append(attributes["mixed"], 1, [true])"#,
        ],
        vec![("one", s("a")), ("many", list(vec![s("x")]))],
    );
    assert_eq!(get(&out, "new"), Some(&list(vec![s("prod")])));
    assert_eq!(get(&out, "one"), Some(&list(vec![s("a"), s("b")])));
    assert_eq!(
        get(&out, "many"),
        Some(&list(vec![s("x"), s("staging"), s("staging:east")]))
    );
    assert_eq!(get(&out, "mixed"), Some(&list(vec![i(1), b(true)])));
}

#[test]
fn cache_is_scratch_space_for_one_item() {
    let out = attrs_after(
        &[
            r#"set(cache["parsed"], ParseJSON(attributes["json"]))"#,
            r#"set(attributes["user"], cache["parsed"]["user"]["name"])"#,
            r#"delete_key(attributes, "json")"#,
        ],
        vec![("json", s(r#"{"user": {"name": "ada"}}"#))],
    );
    assert_eq!(out, kvs(vec![("user", s("ada"))]));
}

#[test]
fn where_clauses_decide_whether_the_editor_runs() {
    let st = |text: &str| Statement::parse(text, Context::Span).unwrap();
    let mut sp = span("GET /health", vec![("code", i(503))]);
    let (mut r, mut sc, mut c) = (None, None, Vec::new());
    let mut t = TargetMut {
        item: ItemMut::Span(&mut sp),
        resource: &mut r,
        scope: &mut sc,
        cache: &mut c,
    };
    assert_eq!(
        st(r#"set(name, "x") where attributes["code"] < 500"#).execute(&mut t),
        Ok(false)
    );
    assert_eq!(
        st(r#"set(attributes["err"], true) where attributes["code"] >= 500 and IsMatch(name, "^GET")"#)
            .execute(&mut t),
        Ok(true)
    );
    assert_eq!(
        st(r#"set(name, "y") where not (name == "GET /health" or false)"#).execute(&mut t),
        Ok(false)
    );
    assert_eq!(sp.name, "GET /health");
    assert_eq!(get(&sp.attributes, "err"), Some(&b(true)));
}

#[test]
fn runtime_errors_are_eval_errors() {
    assert!(run_error(r#"set(attributes["x"], Len(5))"#, vec![]).contains("Len"));
    assert!(run_error(r#"set(attributes["x"], ParseJSON("{"))"#, vec![]).contains("JSON"));
    assert!(run_error(r#"set(attributes["x"], Split(1, ","))"#, vec![]).contains("string"));
    assert!(run_error(r#"set(attributes["a"]["b"], 1)"#, vec![("a", s("str"))]).contains("string"));
    assert!(run_error(r#"keep_keys(attributes["a"], [])"#, vec![("a", i(1))]).contains("map"));
    assert!(
        run_error(
            r#"merge_maps(attributes, attributes["a"], "insert")"#,
            vec![("a", i(1))]
        )
        .contains("map")
    );
    assert!(run_error(r#"set(trace_id.string, "zz")"#, vec![]).contains("hex"));
}
