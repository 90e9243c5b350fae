"""Python half of the propagation round trip (tests/interop_python.rs).

The OpenTelemetry Python SDK starts a root span, injects its context into a request to the
Rust service (argv[1]); the Rust service calls back this script's own HTTP server, whose
handler extracts the context and starts a SERVER span. Prints every Python span as JSON lines
on stdout ({"name", "trace_id", "span_id", "parent", "kind"}), then "done".
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("python-roundtrip")


class Callback(BaseHTTPRequestHandler):
    def do_GET(self):
        ctx = propagate.extract(dict(self.headers))
        with tracer.start_as_current_span("python callback", context=ctx, kind=trace.SpanKind.SERVER):
            body = b"pong"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
threading.Thread(target=server.serve_forever, daemon=True).start()
callback = f"http://127.0.0.1:{server.server_address[1]}/callback"

with tracer.start_as_current_span("python root", kind=trace.SpanKind.CLIENT):
    headers = {"x-callback": callback}
    propagate.inject(headers)
    response = requests.get(sys.argv[1], headers=headers, timeout=10)
    response.raise_for_status()

server.shutdown()
for span in exporter.get_finished_spans():
    ctx = span.get_span_context()
    print(json.dumps({
        "name": span.name,
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent": format(span.parent.span_id, "016x") if span.parent else None,
        "kind": span.kind.name,
    }))
print("done", flush=True)
