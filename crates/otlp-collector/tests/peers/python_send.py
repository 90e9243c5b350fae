"""Peer for tests/e2e_python.rs: the OpenTelemetry Python SDK sends traces, metrics and logs to
otlp-collector over OTLP/gRPC or OTLP/HTTP (protobuf), then prints as JSON on stdout what it
handed its exporters, so the test can check that all of it came out of the collector.

Usage: python python_send.py --transport grpc|http --endpoint http://127.0.0.1:PORT --tag TAG

Every item carries the attribute e2e.tag=TAG. Delivery is synchronous: force_flush returns once
the exporters got their answers. The exit code is 0 only if every export reported success.
"""

import argparse
import json
import logging
import sys
import warnings

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

TIMEOUT_S = 10
SPANS = 5
LOGS = 4


def exporters(transport, endpoint):
    if transport == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        kw = dict(endpoint=endpoint.removeprefix("http://"), insecure=True, timeout=TIMEOUT_S)
        return OTLPSpanExporter(**kw), OTLPMetricExporter(**kw), OTLPLogExporter(**kw)
    if transport == "http":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return (
            OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=TIMEOUT_S),
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", timeout=TIMEOUT_S),
            OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", timeout=TIMEOUT_S),
        )
    raise SystemExit(f"unknown transport {transport!r}")


def wrap(exporter, kind, results):
    inner = exporter.export

    def export(batch, *args, **kwargs):
        result = inner(batch, *args, **kwargs)
        results.append({"signal": kind, "result": getattr(result, "name", str(result))})
        return result

    exporter.export = export
    return exporter


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--tag", required=True)
    args = parser.parse_args()

    resource = Resource.create({"service.name": f"e2e-python-{args.transport}", "e2e.tag": args.tag})
    span_exporter, metric_exporter, log_exporter = exporters(args.transport, args.endpoint)
    results = []

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(wrap(span_exporter, "spans", results)))
    reader = PeriodicExportingMetricReader(
        wrap(metric_exporter, "metrics", results), export_interval_millis=3_600_000
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(wrap(log_exporter, "logs", results)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.DEBUG, logger_provider=logger_provider)
    log = logging.getLogger("e2e.python")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(handler)

    tracer = tracer_provider.get_tracer("e2e.python")
    span_ids = []
    for i in range(SPANS):
        with tracer.start_as_current_span(f"e2e python span {i}", attributes={"e2e.tag": args.tag}) as span:
            span_ids.append(format(span.get_span_context().span_id, "016x"))
    for i in range(LOGS):
        log.info("e2e python log %d", i, extra={"e2e.tag": args.tag})

    meter = meter_provider.get_meter("e2e.python")
    counter = meter.create_counter("e2e.python.requests")
    counter.add(1, {"route": "/a"})
    counter.add(2, {"route": "/b"})
    histogram = meter.create_histogram("e2e.python.latency", unit="ms")
    histogram.record(12.5, {"route": "/a"})

    ok = tracer_provider.force_flush(TIMEOUT_S * 1000)
    ok = logger_provider.force_flush(TIMEOUT_S * 1000) and ok
    ok = meter_provider.force_flush(TIMEOUT_S * 1000) and ok
    tracer_provider.shutdown()
    logger_provider.shutdown()
    meter_provider.shutdown()

    json.dump(
        {
            "span_ids": span_ids,
            "logs": LOGS,
            "metric_names": ["e2e.python.requests", "e2e.python.latency"],
            "metric_points": 3,
            "results": results,
            "flushed": bool(ok),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    failed = [r for r in results if r["result"] != "SUCCESS"]
    return 1 if failed or not ok else 0


if __name__ == "__main__":
    sys.exit(main())
