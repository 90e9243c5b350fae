"""Interop peer for tests/interop_python.rs: the OpenTelemetry Python SDK exports traces,
metrics and logs to an OTLP receiver, then prints as JSON on stdout exactly what the SDK handed
to each exporter (ids, names, attributes, values), so the Rust test can check that every item
arrived intact.

Usage: python python_sdk_export.py --transport TRANSPORT --endpoint http://127.0.0.1:PORT

- grpc:         opentelemetry-exporter-otlp-proto-grpc (grpcio)
- grpc-gzip:    the same with grpc.Compression.Gzip (grpc-encoding: gzip)
- http:         opentelemetry-exporter-otlp-proto-http (protobuf body)
- http-gzip:    the same with Compression.Gzip
- http-deflate: the same with Compression.Deflate
- json:         opentelemetry-exporter-otlp-json-http (OTLP/JSON body)
- json-gzip:    the same with Compression.GZIP

Delivery is synchronous: force_flush and shutdown return once the exporters got their answers.
The exit code is 0 only if every export reported success.
"""

import argparse
import json
import logging
import sys
import warnings

from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    PeriodicExportingMetricReader,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

TIMEOUT_S = 10


def exporters(transport, endpoint):
    """The span, metric and log exporters for `transport`."""
    if transport in ("grpc", "grpc-gzip"):
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        target = endpoint.removeprefix("http://")
        compression = grpc.Compression.Gzip if transport == "grpc-gzip" else grpc.Compression.NoCompression
        kw = dict(endpoint=target, insecure=True, timeout=TIMEOUT_S, compression=compression)
        return OTLPSpanExporter(**kw), OTLPMetricExporter(**kw), OTLPLogExporter(**kw)
    if transport.startswith("http"):
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        compression = {
            "http": Compression.NoCompression,
            "http-gzip": Compression.Gzip,
            "http-deflate": Compression.Deflate,
        }[transport]
        kw = dict(timeout=TIMEOUT_S, compression=compression)
        return (
            OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", **kw),
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", **kw),
            OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", **kw),
        )
    if transport in ("json", "json-gzip"):
        from opentelemetry.exporter.otlp.common.http import Compression
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter

        compression = Compression.GZIP if transport == "json-gzip" else Compression.NONE
        kw = dict(timeout=TIMEOUT_S, compression=compression)
        return (
            OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", **kw),
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", **kw),
            OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", **kw),
        )
    raise SystemExit(f"unknown transport {transport!r}")


class Recorder:
    """Wraps each exporter's export() to keep what the SDK handed it and what it returned."""

    def __init__(self):
        self.batches = {"spans": [], "metrics": [], "logs": []}
        self.results = []

    def wrap(self, kind, exporter):
        inner = exporter.export

        def export(batch, *args, **kwargs):
            self.batches[kind].append(batch)
            result = inner(batch, *args, **kwargs)
            self.results.append({"signal": kind, "result": getattr(result, "name", str(result))})
            return result

        exporter.export = export
        return exporter


def plain(value):
    """An attribute value as JSON (tuples become lists)."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def attrs(attributes):
    return {k: plain(v) for k, v in (attributes or {}).items()}


def hex_id(value, width):
    return format(value, f"0{width}x") if value else ""


def emit(transport):
    """Creates the telemetry. Returns nothing: the exporters' recorder has it all."""
    tracer = trace.get_tracer_provider().get_tracer("interop.python", "1.2.3")
    meter = METER_PROVIDER.get_meter("interop.python.meter", "0.9.0")
    log = logging.getLogger("interop.python")

    # A span in a trace of its own, linked to from the producer span below.
    with tracer.start_as_current_span("background job", kind=SpanKind.INTERNAL) as background:
        background.set_attribute("job.id", 7)
    background_ctx = background.get_span_context()

    with tracer.start_as_current_span(
        "GET /orders/{id}",
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": "GET",
            "http.route": "/orders/{id}",
            "http.response.status_code": 200,
            "interop.ratio": 0.25,
            "interop.flag": True,
            "interop.tags": ("a", "b", "c"),
            "interop.ints": (1, 2, 3),
            "interop.unicode": "ünïcödé ✓ \"quoted\"\n",
        },
    ) as root:
        root.add_event("request.received", {"size": 128, "client": "interop"})
        log.warning(
            "order %s not found",
            "o-42",
            extra={"order.id": "o-42", "retry.count": 3, "interop.transport": transport},
        )
        with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT) as db:
            db.set_attribute("db.system.name", "postgresql")
            db.set_attribute("db.query.text", "SELECT * FROM orders WHERE id = $1")
            db.record_exception(ValueError("connection reset"))
            db.set_status(Status(StatusCode.ERROR, "connection reset"))
            log.error("query failed", extra={"db.system.name": "postgresql"})
        with tracer.start_as_current_span(
            "publish orders",
            kind=SpanKind.PRODUCER,
            links=[Link(background_ctx, {"link.reason": "batch"})],
        ) as producer:
            producer.set_attribute("messaging.system", "kafka")
            with tracer.start_as_current_span("process order", kind=SpanKind.CONSUMER) as consumer:
                consumer.add_event("processed")
        root.set_status(Status(StatusCode.OK))
    log.info("outside any span", extra={"interop.float": 2.5})

    requests = meter.create_counter("interop.requests", unit="{request}", description="requests")
    requests.add(1, {"http.route": "/a"})
    requests.add(2, {"http.route": "/b"})
    requests.add(3, {"http.route": "/a"})
    depth = meter.create_up_down_counter("interop.queue.depth", unit="{item}")
    depth.add(5, {"queue": "q1"})
    depth.add(-2, {"queue": "q1"})
    depth.add(4, {"queue": "q2"})
    latency = meter.create_histogram("interop.latency", unit="ms")
    for value, route in [(5.0, "/a"), (15.0, "/a"), (250.0, "/b")]:
        latency.record(value, {"http.route": route})

    def temperature(_options: CallbackOptions):
        yield Observation(21.5, {"room": "a"})
        yield Observation(19.0, {"room": "b"})

    meter.create_observable_gauge("interop.temperature", callbacks=[temperature], unit="Cel")


def summarize(recorder):
    spans = []
    for batch in recorder.batches["spans"]:
        for s in batch:
            ctx = s.get_span_context()
            spans.append(
                {
                    "trace_id": hex_id(ctx.trace_id, 32),
                    "span_id": hex_id(ctx.span_id, 16),
                    "parent_span_id": hex_id(s.parent.span_id, 16) if s.parent else "",
                    "name": s.name,
                    # SDK SpanKind INTERNAL=0..CONSUMER=4; OTLP INTERNAL=1..CONSUMER=5.
                    "kind": s.kind.value + 1,
                    "start_time_unix_nano": s.start_time,
                    "end_time_unix_nano": s.end_time,
                    "attributes": attrs(s.attributes),
                    "events": [
                        {"name": e.name, "time_unix_nano": e.timestamp, "attributes": attrs(e.attributes)}
                        for e in s.events
                    ],
                    "links": [
                        {
                            "trace_id": hex_id(l.context.trace_id, 32),
                            "span_id": hex_id(l.context.span_id, 16),
                            "attributes": attrs(l.attributes),
                        }
                        for l in s.links
                    ],
                    "status": {"code": s.status.status_code.value, "message": s.status.description or ""},
                    "resource": attrs(s.resource.attributes),
                    "scope": {
                        "name": s.instrumentation_scope.name,
                        "version": s.instrumentation_scope.version or "",
                    },
                }
            )

    points = []
    for data in recorder.batches["metrics"]:
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    kind = {Sum: "sum", Gauge: "gauge", Histogram: "histogram"}.get(type(m.data), type(m.data).__name__)
                    for p in m.data.data_points:
                        if kind == "histogram":
                            value = {"count": p.count, "sum": float(p.sum)}
                        elif isinstance(p.value, int):
                            value = {"int": p.value}
                        else:
                            value = {"double": p.value}
                        points.append(
                            {
                                "name": m.name,
                                "unit": m.unit or "",
                                "type": kind,
                                "monotonic": getattr(m.data, "is_monotonic", None),
                                "attributes": attrs(p.attributes),
                                "value": value,
                                "resource": attrs(rm.resource.attributes),
                                "scope": sm.scope.name,
                            }
                        )

    logs = []
    for batch in recorder.batches["logs"]:
        for r in batch:
            rec = r.log_record
            logs.append(
                {
                    "body": plain(rec.body),
                    "severity_number": rec.severity_number.value if rec.severity_number else 0,
                    "severity_text": rec.severity_text or "",
                    "attributes": attrs(rec.attributes),
                    "trace_id": hex_id(rec.trace_id, 32),
                    "span_id": hex_id(rec.span_id, 16),
                    "time_unix_nano": rec.timestamp or 0,
                    "resource": attrs(r.resource.attributes),
                    "scope": r.instrumentation_scope.name if r.instrumentation_scope else "",
                }
            )
    return {"spans": spans, "metric_points": points, "logs": logs, "exports": recorder.results}


def main():
    global METER_PROVIDER
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", required=True)
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()

    resource = Resource.create(
        {
            "service.name": f"interop-python-{args.transport}",
            "service.version": "1.0.0",
            "deployment.environment.name": "interop",
        }
    )
    span_exporter, metric_exporter, log_exporter = exporters(args.transport, args.endpoint)
    recorder = Recorder()

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(recorder.wrap("spans", span_exporter), schedule_delay_millis=60_000)
    )
    trace.set_tracer_provider(tracer_provider)

    reader = PeriodicExportingMetricReader(
        recorder.wrap("metrics", metric_exporter), export_interval_millis=3_600_000
    )
    METER_PROVIDER = MeterProvider(resource=resource, metric_readers=[reader])

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(recorder.wrap("logs", log_exporter), schedule_delay_millis=60_000)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.DEBUG, logger_provider=logger_provider)
    log = logging.getLogger("interop.python")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(handler)

    emit(args.transport)

    ok = tracer_provider.force_flush(TIMEOUT_S * 1000)
    ok = logger_provider.force_flush(TIMEOUT_S * 1000) and ok
    ok = METER_PROVIDER.force_flush(TIMEOUT_S * 1000) and ok
    tracer_provider.shutdown()
    logger_provider.shutdown()
    METER_PROVIDER.shutdown()

    summary = summarize(recorder)
    summary["flushed"] = bool(ok)
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
    failed = [r for r in recorder.results if r["result"] != "SUCCESS"]
    return 1 if failed or not ok else 0


METER_PROVIDER = None

if __name__ == "__main__":
    sys.exit(main())
