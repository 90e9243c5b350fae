// translators: the Go collector's Zipkin and Jaeger translations timed on a body, for
// `cargo xtask bench --translators` (xtask/src/bench/translators.rs), which times ours on the
// same bodies. It calls exactly what otelcol-contrib v0.160.0's components call per request:
// the zipkin receiver's unmarshalers (pkg/translator/zipkin), the zipkin exporter's marshalers,
// and the jaeger receiver's Thrift deserializer and ThriftToTraces (pkg/translator/jaeger).
//
// Usage: translators FORMAT FILE SECONDS
//
//	FORMAT: zipkin_v2_json, zipkin_v2_proto, zipkin_v1_json (decode and translate), jaeger_thrift
//	        (a bare Thrift binary Batch, as POST /api/traces), zipkin_export_json,
//	        zipkin_export_proto (FILE is then an OTLP ExportTraceServiceRequest in protobuf)
//
// Prints one JSON line: the spans per call, the calls made, the wall and CPU seconds (user +
// system, from getrusage) spent in the timed loop, after one second of warm-up.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	apacheThrift "github.com/apache/thrift/lib/go/thrift"
	"github.com/jaegertracing/jaeger-idl/thrift-gen/jaeger"
	jaegertranslator "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/jaeger"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/zipkin/zipkinv1"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/zipkin/zipkinv2"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return float64(usage.Utime.Sec+usage.Stime.Sec) + float64(usage.Utime.Usec+usage.Stime.Usec)/1e6
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: translators FORMAT FILE SECONDS")
	}
	body, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("%v", err)
	}
	seconds, err := strconv.ParseFloat(os.Args[3], 64)
	if err != nil {
		fail("SECONDS: %v", err)
	}
	var call func() (int, error)
	unmarshal := func(u ptrace.Unmarshaler) func() (int, error) {
		return func() (int, error) {
			td, err := u.UnmarshalTraces(body)
			return td.SpanCount(), err
		}
	}
	switch os.Args[1] {
	case "zipkin_v2_json":
		call = unmarshal(zipkinv2.NewJSONTracesUnmarshaler(false))
	case "zipkin_v2_proto":
		call = unmarshal(zipkinv2.NewProtobufTracesUnmarshaler(false, false))
	case "zipkin_v1_json":
		call = unmarshal(zipkinv1.NewJSONTracesUnmarshaler(false))
	case "jaeger_thrift":
		call = func() (int, error) {
			batch := &jaeger.Batch{}
			if err := apacheThrift.NewTDeserializer().Read(context.Background(), batch, body); err != nil {
				return 0, err
			}
			td, err := jaegertranslator.ThriftToTraces(batch)
			return td.SpanCount(), err
		}
	case "zipkin_export_json", "zipkin_export_proto":
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(body)
		if err != nil {
			fail("the OTLP request: %v", err)
		}
		var m ptrace.Marshaler = zipkinv2.NewJSONTracesMarshaler()
		if os.Args[1] == "zipkin_export_proto" {
			m = zipkinv2.NewProtobufTracesMarshaler()
		}
		call = func() (int, error) {
			out, err := m.MarshalTraces(td)
			if len(out) == 0 && err == nil {
				err = fmt.Errorf("empty body")
			}
			return td.SpanCount(), err
		}
	default:
		fail("unknown FORMAT %q", os.Args[1])
	}
	spans, err := call()
	if err != nil {
		fail("%s: %v", os.Args[1], err)
	}
	for warm := time.Now(); time.Since(warm) < time.Second; {
		_, _ = call()
	}
	cpu0, start := cpuSeconds(), time.Now()
	calls := 0
	for time.Since(start).Seconds() < seconds {
		if _, err := call(); err != nil {
			fail("%v", err)
		}
		calls++
	}
	wall, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
	out, _ := json.Marshal(map[string]any{
		"spans_per_call": spans, "calls": calls, "wall_seconds": wall, "cpu_seconds": cpu,
	})
	fmt.Println(string(out))
}
