//! Our schema in `proto/` is the upstream OTLP schema that `opentelemetry-proto` was built from.
//!
//! `opentelemetry_proto::DESCRIPTORS` is the encoded `FileDescriptorSet` of upstream's `.proto`
//! files. We compile ours with `protox` (pure Rust, no `protoc`) and compare, for the packages
//! `opentelemetry.proto.{common,resource,trace,metrics,logs,profiles}.v1*` and the collector
//! services:
//!
//! - the set of files, and each file's package, syntax and imports;
//! - the set of messages, enums and services (nested ones included, by full name);
//! - for every message: its fields in declaration order (prost writes fields in declaration
//!   order, so it decides the bytes), and for each field its name, number, label, type,
//!   type name, JSON name, oneof (by index and by name), `proto3_optional`, default and options
//!   (`packed` would change the wire format); its oneofs, reserved ranges and names, options;
//! - for every enum: its values (name and number) in order, and options;
//! - for every service: its methods in order, with input and output types, streaming and
//!   options.
//!
//! Source info and comments are ignored. File options (`java_package`, `go_package`, ...) only
//! name generated code in other languages, so a difference there is printed, not a failure.
//! The failure message names the first difference precisely, then lists the rest.

// A test: a panic on an unexpected state is a failure with a message.
#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use prost::Message;
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FileDescriptorProto, FileDescriptorSet,
    ServiceDescriptorProto, field_descriptor_proto,
};

/// The packages compared.
const PACKAGES: &[&str] = &[
    "opentelemetry.proto.common.v1",
    "opentelemetry.proto.resource.v1",
    "opentelemetry.proto.trace.v1",
    "opentelemetry.proto.metrics.v1",
    "opentelemetry.proto.logs.v1",
    "opentelemetry.proto.profiles.v1development",
    "opentelemetry.proto.collector.trace.v1",
    "opentelemetry.proto.collector.metrics.v1",
    "opentelemetry.proto.collector.logs.v1",
    "opentelemetry.proto.collector.profiles.v1development",
];

fn upstream_schema() -> FileDescriptorSet {
    FileDescriptorSet::decode(opentelemetry_proto::DESCRIPTORS)
        .expect("opentelemetry_proto::DESCRIPTORS is a FileDescriptorSet")
}

fn proto_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable proto directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            proto_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
}

fn our_schema() -> FileDescriptorSet {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto"));
    let mut files = Vec::new();
    proto_files(root, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no .proto files under {}",
        root.display()
    );
    protox::Compiler::new([root])
        .and_then(|mut c| {
            c.include_source_info(false)
                .include_imports(true)
                .open_files(&files)?;
            Ok(c.file_descriptor_set())
        })
        .unwrap_or_else(|e| panic!("compiling {}: {e:?}", root.display()))
}

/// Every compared definition of a schema, by full name (`package.Outer.Inner`).
#[derive(Default)]
struct Index<'a> {
    files: BTreeMap<&'a str, &'a FileDescriptorProto>,
    messages: BTreeMap<String, &'a DescriptorProto>,
    enums: BTreeMap<String, &'a EnumDescriptorProto>,
    services: BTreeMap<String, &'a ServiceDescriptorProto>,
}

impl<'a> Index<'a> {
    fn new(set: &'a FileDescriptorSet) -> Self {
        let mut index = Index::default();
        for file in &set.file {
            if !PACKAGES.contains(&file.package()) {
                continue;
            }
            index.files.insert(file.name(), file);
            let package = file.package();
            for message in &file.message_type {
                index.add_message(package, message);
            }
            for e in &file.enum_type {
                index.enums.insert(format!("{package}.{}", e.name()), e);
            }
            for service in &file.service {
                index
                    .services
                    .insert(format!("{package}.{}", service.name()), service);
            }
        }
        index
    }

    fn add_message(&mut self, scope: &str, message: &'a DescriptorProto) {
        let name = format!("{scope}.{}", message.name());
        for nested in &message.nested_type {
            self.add_message(&name, nested);
        }
        for e in &message.enum_type {
            self.enums.insert(format!("{name}.{}", e.name()), e);
        }
        self.messages.insert(name, message);
    }
}

/// The differences found, in the order they were found.
#[derive(Default)]
struct Report {
    /// Differences that matter: they fail the test.
    differences: Vec<String>,
    /// Differences in options that only name code generated for other languages.
    notes: Vec<String>,
}

impl Report {
    fn eq<T: PartialEq + Debug>(&mut self, what: impl FnOnce() -> String, ours: T, upstream: T) {
        if ours != upstream {
            self.differences
                .push(format!("{}: ours {ours:?}, upstream {upstream:?}", what()));
        }
    }

    fn same_names<'k>(
        &mut self,
        what: &str,
        ours: impl Iterator<Item = &'k String>,
        upstream: impl Iterator<Item = &'k String>,
    ) {
        let ours: Vec<_> = ours.collect();
        let upstream: Vec<_> = upstream.collect();
        for name in &upstream {
            if !ours.contains(name) {
                self.differences
                    .push(format!("{what} `{name}` is upstream but not ours"));
            }
        }
        for name in &ours {
            if !upstream.contains(name) {
                self.differences
                    .push(format!("{what} `{name}` is ours but not upstream"));
            }
        }
    }
}

fn compare_files(report: &mut Report, ours: &Index<'_>, upstream: &Index<'_>) {
    let ours_names: Vec<String> = ours.files.keys().map(|s| s.to_string()).collect();
    let upstream_names: Vec<String> = upstream.files.keys().map(|s| s.to_string()).collect();
    report.same_names("file", ours_names.iter(), upstream_names.iter());
    for (name, u) in &upstream.files {
        let Some(o) = ours.files.get(name) else {
            continue;
        };
        report.eq(|| format!("file {name}: package"), o.package(), u.package());
        report.eq(|| format!("file {name}: syntax"), o.syntax(), u.syntax());
        report.eq(
            || format!("file {name}: imports"),
            &o.dependency,
            &u.dependency,
        );
        report.eq(
            || format!("file {name}: public imports"),
            &o.public_dependency,
            &u.public_dependency,
        );
        if options(&o.options) != options(&u.options) {
            report.notes.push(format!(
                "file {name}: options differ: ours {:?}, upstream {:?}",
                o.options, u.options
            ));
        }
    }
}

/// Options, with `Some(empty options)` read as `None`: protoc records `rpc Export(..) returns
/// (..) {}` with empty method options, protox records nothing, and both mean the same.
fn options<T: Default + PartialEq>(options: &Option<T>) -> Option<&T> {
    options.as_ref().filter(|o| **o != T::default())
}

fn oneof_name(message: &DescriptorProto, index: Option<i32>) -> Option<&str> {
    let index = usize::try_from(index?).ok()?;
    Some(message.oneof_decl.get(index)?.name())
}

fn label_name(label: Option<i32>) -> Option<&'static str> {
    label.map(|l| {
        field_descriptor_proto::Label::try_from(l).map_or("unknown label", |l| l.as_str_name())
    })
}

fn type_name(r#type: Option<i32>) -> Option<&'static str> {
    r#type.map(|t| {
        field_descriptor_proto::Type::try_from(t).map_or("unknown type", |t| t.as_str_name())
    })
}

fn compare_message(report: &mut Report, name: &str, o: &DescriptorProto, u: &DescriptorProto) {
    let by_number =
        |m: &DescriptorProto| -> Vec<i32> { m.field.iter().map(|f| f.number()).collect() };
    for uf in &u.field {
        let what = |attr: &str| format!("{name} field `{}` ({}): {attr}", uf.name(), uf.number());
        let Some(of) = o.field.iter().find(|f| f.number() == uf.number()) else {
            report.differences.push(format!(
                "{name} field `{}` ({}) is upstream but not ours",
                uf.name(),
                uf.number()
            ));
            continue;
        };
        report.eq(|| what("name"), of.name(), uf.name());
        report.eq(|| what("label"), label_name(of.label), label_name(uf.label));
        report.eq(|| what("type"), type_name(of.r#type), type_name(uf.r#type));
        report.eq(
            || what("type_name"),
            of.type_name.as_deref(),
            uf.type_name.as_deref(),
        );
        report.eq(
            || what("json_name"),
            of.json_name.as_deref(),
            uf.json_name.as_deref(),
        );
        report.eq(|| what("oneof_index"), of.oneof_index, uf.oneof_index);
        report.eq(
            || what("oneof"),
            oneof_name(o, of.oneof_index),
            oneof_name(u, uf.oneof_index),
        );
        report.eq(
            || what("proto3_optional"),
            of.proto3_optional,
            uf.proto3_optional,
        );
        report.eq(
            || what("extendee"),
            of.extendee.as_deref(),
            uf.extendee.as_deref(),
        );
        report.eq(
            || what("default_value"),
            of.default_value.as_deref(),
            uf.default_value.as_deref(),
        );
        report.eq(
            || what("options"),
            options(&of.options),
            options(&uf.options),
        );
    }
    for of in &o.field {
        if !u.field.iter().any(|f| f.number() == of.number()) {
            report.differences.push(format!(
                "{name} field `{}` ({}) is ours but not upstream",
                of.name(),
                of.number()
            ));
        }
    }
    report.eq(
        || format!("{name}: field declaration order (numbers)"),
        by_number(o),
        by_number(u),
    );
    let oneofs = |m: &DescriptorProto| -> Vec<String> {
        m.oneof_decl.iter().map(|d| d.name().to_owned()).collect()
    };
    report.eq(|| format!("{name}: oneofs"), oneofs(o), oneofs(u));
    let ranges = |m: &DescriptorProto| -> Vec<(i32, i32)> {
        m.reserved_range
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect()
    };
    report.eq(
        || format!("{name}: reserved numbers [start, end)"),
        ranges(o),
        ranges(u),
    );
    report.eq(
        || format!("{name}: reserved names"),
        &o.reserved_name,
        &u.reserved_name,
    );
    report.eq(
        || format!("{name}: extension ranges"),
        o.extension_range.len(),
        u.extension_range.len(),
    );
    report.eq(
        || format!("{name}: options"),
        options(&o.options),
        options(&u.options),
    );
}

fn compare_enum(report: &mut Report, name: &str, o: &EnumDescriptorProto, u: &EnumDescriptorProto) {
    let values = |e: &EnumDescriptorProto| -> Vec<(String, i32)> {
        e.value
            .iter()
            .map(|v| (v.name().to_owned(), v.number()))
            .collect()
    };
    let (ov, uv) = (values(o), values(u));
    if ov != uv {
        // Name the first value that differs rather than dumping both lists.
        let at = ov.iter().zip(&uv).take_while(|(a, b)| a == b).count();
        report.differences.push(format!(
            "enum {name}: value #{at} differs: ours {:?}, upstream {:?} (ours has {} values, upstream {})",
            ov.get(at),
            uv.get(at),
            ov.len(),
            uv.len()
        ));
    }
    for (ovalue, uvalue) in o.value.iter().zip(&u.value) {
        report.eq(
            || format!("enum {name} value {}: options", uvalue.name()),
            options(&ovalue.options),
            options(&uvalue.options),
        );
    }
    let ranges = |e: &EnumDescriptorProto| -> Vec<(i32, i32)> {
        e.reserved_range
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect()
    };
    report.eq(
        || format!("enum {name}: reserved numbers [start, end]"),
        ranges(o),
        ranges(u),
    );
    report.eq(
        || format!("enum {name}: reserved names"),
        &o.reserved_name,
        &u.reserved_name,
    );
    report.eq(
        || format!("enum {name}: options"),
        options(&o.options),
        options(&u.options),
    );
}

fn compare_service(
    report: &mut Report,
    name: &str,
    o: &ServiceDescriptorProto,
    u: &ServiceDescriptorProto,
) {
    let methods = |s: &ServiceDescriptorProto| -> Vec<String> {
        s.method.iter().map(|m| m.name().to_owned()).collect()
    };
    report.eq(|| format!("service {name}: rpcs"), methods(o), methods(u));
    for um in &u.method {
        let Some(om) = o.method.iter().find(|m| m.name() == um.name()) else {
            continue;
        };
        let what = |attr: &str| format!("service {name} rpc {}: {attr}", um.name());
        report.eq(|| what("input type"), om.input_type(), um.input_type());
        report.eq(|| what("output type"), om.output_type(), um.output_type());
        report.eq(
            || what("client streaming"),
            om.client_streaming(),
            um.client_streaming(),
        );
        report.eq(
            || what("server streaming"),
            om.server_streaming(),
            um.server_streaming(),
        );
        report.eq(
            || what("options"),
            options(&om.options),
            options(&um.options),
        );
        if om.options != um.options {
            report.notes.push(format!(
                "{}: ours {:?}, upstream {:?} (both empty)",
                what("options"),
                om.options,
                um.options
            ));
        }
    }
    report.eq(
        || format!("service {name}: options"),
        options(&o.options),
        options(&u.options),
    );
}

fn compare(ours: &FileDescriptorSet, upstream: &FileDescriptorSet) -> Report {
    let (o, u) = (Index::new(ours), Index::new(upstream));
    let mut report = Report::default();
    compare_files(&mut report, &o, &u);
    report.same_names("message", o.messages.keys(), u.messages.keys());
    report.same_names("enum", o.enums.keys(), u.enums.keys());
    report.same_names("service", o.services.keys(), u.services.keys());
    for (name, um) in &u.messages {
        if let Some(om) = o.messages.get(name) {
            compare_message(&mut report, name, om, um);
        }
    }
    for (name, ue) in &u.enums {
        if let Some(oe) = o.enums.get(name) {
            compare_enum(&mut report, name, oe, ue);
        }
    }
    for (name, us) in &u.services {
        if let Some(os) = o.services.get(name) {
            compare_service(&mut report, name, os, us);
        }
    }
    report
}

#[test]
fn our_schema_is_upstreams() {
    let (ours, upstream) = (our_schema(), upstream_schema());
    let report = compare(&ours, &upstream);

    let (o, u) = (Index::new(&ours), Index::new(&upstream));
    eprintln!(
        "compared {} files, {} messages, {} enums, {} services",
        u.files.len(),
        u.messages.len(),
        u.enums.len(),
        u.services.len()
    );
    let skipped: Vec<&str> = upstream
        .file
        .iter()
        .filter(|f| !PACKAGES.contains(&f.package()))
        .map(|f| f.name())
        .collect();
    eprintln!("upstream files not compared: {skipped:?}");
    for note in &report.notes {
        eprintln!("note (not a failure): {note}");
    }
    // Guard against comparing two empty sets.
    assert_eq!(
        u.files.len(),
        PACKAGES.len(),
        "upstream descriptors miss a package"
    );
    assert_eq!(o.files.len(), PACKAGES.len(), "our schema misses a package");
    assert!(
        u.messages.len() > 50,
        "suspiciously few upstream messages: {}",
        u.messages.len()
    );
    // JSON names are compared only if both sides record them.
    for index in [&o, &u] {
        assert!(
            index
                .messages
                .values()
                .flat_map(|m| &m.field)
                .all(|f| f.json_name.is_some()),
            "a descriptor set without json_name"
        );
    }

    if let Some(first) = report.differences.first() {
        panic!(
            "our schema differs from upstream's (opentelemetry-proto {}).\nFirst difference: \
             {first}\nAll {} differences:\n  {}",
            "0.33.1",
            report.differences.len(),
            report.differences.join("\n  ")
        );
    }
}

/// The comparison itself finds differences (so the test above cannot pass vacuously): a schema
/// with one field retyped, one renamed and one enum value renumbered is reported, first
/// difference first.
#[test]
fn the_comparison_catches_differences() {
    let upstream = upstream_schema();
    let mut changed = upstream.clone();
    let trace = changed
        .file
        .iter_mut()
        .find(|f| f.package() == "opentelemetry.proto.trace.v1")
        .expect("trace file");
    let span = trace
        .message_type
        .iter_mut()
        .find(|m| m.name() == "Span")
        .expect("Span");
    let flags = span
        .field
        .iter_mut()
        .find(|f| f.name() == "flags")
        .expect("Span.flags");
    flags.set_type(field_descriptor_proto::Type::Uint32);
    let name = span
        .field
        .iter_mut()
        .find(|f| f.number() == 5)
        .expect("Span.name");
    name.name = Some("title".into());
    let kind = span
        .enum_type
        .iter_mut()
        .find(|e| e.name() == "SpanKind")
        .expect("SpanKind");
    kind.value[1].number = Some(7);

    let report = compare(&changed, &upstream);
    assert_eq!(report.differences.len(), 3, "{:#?}", report.differences);
    // Fields are compared in upstream's declaration order, where `flags` (16) precedes `name`.
    assert_eq!(
        report.differences[0],
        "opentelemetry.proto.trace.v1.Span field `flags` (16): type: ours Some(\"TYPE_UINT32\"), \
         upstream Some(\"TYPE_FIXED32\")"
    );
    assert_eq!(
        report.differences[1],
        "opentelemetry.proto.trace.v1.Span field `name` (5): name: ours \"title\", upstream \"name\""
    );
    assert!(
        report.differences[2]
            .starts_with("enum opentelemetry.proto.trace.v1.Span.SpanKind: value #1 differs"),
        "{}",
        report.differences[2]
    );
    assert!(compare(&upstream, &upstream).differences.is_empty());
}
