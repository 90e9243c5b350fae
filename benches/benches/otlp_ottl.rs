//! otlp-ottl: nanoseconds per span for OTTL conditions and statements, alone and through the
//! `transform` processor.
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_ottl`.
//!
//! Every case runs over one request of 1000 spans (two resources; four attributes each, one
//! `/health` route in ten); criterion's throughput is spans.
//!
//! - `condition`: a filter-style condition
//!   (`attributes["http.route"] == "/health" and kind == SPAN_KIND_SERVER`) evaluated against
//!   every span, read-only.
//! - `set`: `set(attributes["x"], "y")` against every span.
//! - `replace_pattern`: `replace_pattern(attributes["process.command_line"], ...)` masking a
//!   password in every span.
//! - `transform_5_statements`: five statements (flat form, contexts inferred) through the
//!   `transform` processor built by its factory, `consume`d on a current-thread runtime into a
//!   no-op next consumer. The request is cloned outside the timed part, so the edit is
//!   in place (no copy-on-write copy inside).
//!
//! In `set` and `replace_pattern`, the request is cloned outside the timed part as well.

use std::hint::black_box;
use std::sync::Arc;

use async_trait::async_trait;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use otlp_model::prelude::*;
use otlp_ottl::{Condition, Context, Item, ItemMut, Statement, Target, TargetMut};
use otlp_pipeline::factory::ProcessorFactory;
use otlp_pipeline::{ConsumeError, Consumer, ProcessorContext, Telemetry};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

const SPANS: usize = 1000;

fn request() -> ExportTraceServiceRequest {
    let mut builder = TracesBuilder::new();
    for r in 0..2 {
        builder = builder
            .resource(resource!["service.name" => format!("svc-{r}"), "host.name" => "h1"])
            .scope("http", "1.0");
        for i in 0..SPANS / 2 {
            builder = builder.span(
                SpanBuilder::new(format!("GET /items/{i}"))
                    .kind(if i % 2 == 0 {
                        SpanKind::Server
                    } else {
                        SpanKind::Client
                    })
                    .attr(
                        "http.route",
                        if i % 10 == 0 {
                            "/health"
                        } else {
                            "/items/{id}"
                        },
                    )
                    .attr("http.method", "GET")
                    .attr("http.status_code", 200)
                    .attr(
                        "process.command_line",
                        format!("worker --id={i} password=hunter{i} --fast"),
                    ),
            );
        }
    }
    builder.build()
}

/// Runs `statement` against every span of `req`.
fn run_all(statement: &Statement, req: &mut ExportTraceServiceRequest) {
    let mut cache = Vec::new();
    for rs in &mut req.resource_spans {
        for ss in &mut rs.scope_spans {
            for span in &mut ss.spans {
                let mut t = TargetMut {
                    item: ItemMut::Span(span),
                    resource: &mut rs.resource,
                    scope: &mut ss.scope,
                    cache: &mut cache,
                };
                let _ = black_box(statement.execute(&mut t));
            }
        }
    }
}

/// The next consumer: drops what it gets.
struct Sink;

#[async_trait]
impl Consumer for Sink {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        black_box(data);
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let req = request();
    let mut group = c.benchmark_group("otlp_ottl");
    group.throughput(Throughput::Elements(SPANS as u64));

    let condition = Condition::parse(
        r#"attributes["http.route"] == "/health" and kind == SPAN_KIND_SERVER"#,
        Context::Span,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    group.bench_function("condition", |b| {
        b.iter(|| {
            let mut hits = 0_usize;
            for rs in &req.resource_spans {
                for ss in &rs.scope_spans {
                    for span in &ss.spans {
                        let t = Target {
                            item: Item::Span(span),
                            resource: rs.resource.as_ref(),
                            scope: ss.scope.as_ref(),
                        };
                        hits += usize::from(condition.eval(&t).unwrap_or(false));
                    }
                }
            }
            black_box(hits)
        });
    });

    for (name, text) in [
        ("set", r#"set(attributes["x"], "y")"#),
        (
            "replace_pattern",
            r#"replace_pattern(attributes["process.command_line"], "password=[^\\s]*", "password=***")"#,
        ),
    ] {
        let statement = Statement::parse(text, Context::Span).unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(name, |b| {
            b.iter_batched(
                || req.clone(),
                |mut r| {
                    run_all(&statement, &mut r);
                    r
                },
                BatchSize::LargeInput,
            );
        });
    }

    let config = r#"
trace_statements:
  - set(span.attributes["env"], "prod") where span.kind == SPAN_KIND_SERVER
  - replace_pattern(span.attributes["process.command_line"], "password=[^\\s]*", "password=***")
  - delete_key(span.attributes, "http.method")
  - set(span.name, Concat([span.attributes["http.route"], resource.attributes["service.name"]], " @ "))
  - truncate_all(span.attributes, 64)
"#;
    let factory = otlp_processors::transform::transform_factory();
    let processor = factory
        .create(
            ProcessorContext::new(
                "transform".parse().unwrap_or_else(|e| panic!("{e:?}")),
                "traces".parse().unwrap_or_else(|e| panic!("{e:?}")),
                Arc::new(Sink),
            ),
            serde_yaml_ng::from_str(config).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    group.bench_function("transform_5_statements", |b| {
        b.iter_batched(
            || Telemetry::new(req.clone()),
            |t| runtime.block_on(processor.consume(t)),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
