// otelcol-contrib-go: a small distribution of the OpenTelemetry Collector with a few contrib
// components, built by `cargo xtask peers` (xtask/src/peers.rs) into
// target/peers/bin/otelcol-contrib-go for the interop tests (Kafka, load balancing, tail
// sampling, and the filelog, hostmetrics, fluentforward, metricstransform, zipkin and jaeger differentials).
//
// Components, by the type names this release uses in a config:
//
//	receivers:  otlp, kafka, file_log (deprecated alias filelog), host_metrics (deprecated alias
//	            hostmetrics), fluent_forward (deprecated alias fluentforward),
//	            zipkin, jaeger
//	processors: batch, tail_sampling, metrics_transform (deprecated alias metricstransform)
//	exporters:  otlp_grpc (deprecated alias otlp), otlp_http (deprecated alias otlphttp), debug,
//	            kafka, load_balancing (deprecated alias loadbalancing)
//	extensions: file_storage, pprof, zpages, bearertokenauth
//
// Config providers: file (the default scheme of a bare --config path), env and yaml.
//
// The release is v0.160.0 (core v0.160.0 and v1.66.0): this machine's Go module proxy serves
// no loadbalancingexporter newer than v0.161.0, and at v0.161.0 it lacks
// pkg/kafka/configkafka (which the kafka receiver and exporter need) and the
// aws-sdk-go-v2/service/servicediscovery version the loadbalancing exporter requires.
//
// To move to another release: `go get` the four contrib modules and
// go.opentelemetry.io/collector/otelcol at that release (with GOFLAGS=-mod=mod), check that
// every go.opentelemetry.io/collector module is at one release (the v0.x and v1.x modules move
// together), run `go mod tidy`, and set the `release` of OTELCOL_CONTRIB_GO in
// xtask/src/peers.rs; `cargo xtask peers` then rebuilds.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/kafkaexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/loadbalancingexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/pprofextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/metricstransformprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/tailsamplingprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/fluentforwardreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/jaegerreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kafkareceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/zipkinreceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/zpagesextension"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
)

// The module whose version names this distribution's version.
const otelcolModule = "go.opentelemetry.io/collector/otelcol"

// The contrib repository's module path prefix.
const contrib = "github.com/open-telemetry/opentelemetry-collector-contrib/"

func main() {
	providers := []struct {
		factory confmap.ProviderFactory
		module  string
	}{
		{fileprovider.NewFactory(), "go.opentelemetry.io/collector/confmap/provider/fileprovider"},
		{envprovider.NewFactory(), "go.opentelemetry.io/collector/confmap/provider/envprovider"},
		{yamlprovider.NewFactory(), "go.opentelemetry.io/collector/confmap/provider/yamlprovider"},
	}
	resolver := confmap.ResolverSettings{
		// `${NAME}` without a scheme reads the environment; a --config value without a scheme
		// is a file path (the resolver's rule, not this setting's).
		DefaultScheme: "env",
	}
	providerModules := map[string]string{}
	for _, p := range providers {
		resolver.ProviderFactories = append(resolver.ProviderFactories, p.factory)
		scheme := p.factory.Create(confmap.ProviderSettings{}).Scheme()
		providerModules[scheme] = module(p.module)
	}
	settings := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "otelcol-contrib-go",
			Description: "OpenTelemetry Collector (core and a few contrib components), the otlp-rs interop peer",
			Version:     version(),
		},
		Factories:              factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: resolver},
		ProviderModules:        providerModules,
	}
	if err := otelcol.NewCommand(settings).Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "otelcol-contrib-go: %v\n", err)
		os.Exit(1)
	}
}

// factories is CollectorSettings.Factories: every component of this distribution.
func factories() (otelcol.Factories, error) {
	var err error
	f := otelcol.Factories{
		Telemetry:        otelconftelemetry.NewFactory(),
		ReceiverModules:  map[component.Type]string{},
		ProcessorModules: map[component.Type]string{},
		ExporterModules:  map[component.Type]string{},
		ExtensionModules: map[component.Type]string{},
	}

	receivers := []struct {
		factory receiver.Factory
		module  string
	}{
		{otlpreceiver.NewFactory(), "go.opentelemetry.io/collector/receiver/otlpreceiver"},
		{kafkareceiver.NewFactory(), contrib + "receiver/kafkareceiver"},
		{filelogreceiver.NewFactory(), contrib + "receiver/filelogreceiver"},
		{hostmetricsreceiver.NewFactory(), contrib + "receiver/hostmetricsreceiver"},
		{fluentforwardreceiver.NewFactory(), contrib + "receiver/fluentforwardreceiver"},
		{zipkinreceiver.NewFactory(), contrib + "receiver/zipkinreceiver"},
		{jaegerreceiver.NewFactory(), contrib + "receiver/jaegerreceiver"},
	}
	var receiverFactories []receiver.Factory
	for _, r := range receivers {
		receiverFactories = append(receiverFactories, r.factory)
		f.ReceiverModules[r.factory.Type()] = module(r.module)
	}
	if f.Receivers, err = otelcol.MakeFactoryMap(receiverFactories...); err != nil {
		return otelcol.Factories{}, err
	}

	processors := []struct {
		factory processor.Factory
		module  string
	}{
		{batchprocessor.NewFactory(), "go.opentelemetry.io/collector/processor/batchprocessor"},
		{tailsamplingprocessor.NewFactory(), contrib + "processor/tailsamplingprocessor"},
		{metricstransformprocessor.NewFactory(), contrib + "processor/metricstransformprocessor"},
	}
	var processorFactories []processor.Factory
	for _, p := range processors {
		processorFactories = append(processorFactories, p.factory)
		f.ProcessorModules[p.factory.Type()] = module(p.module)
	}
	if f.Processors, err = otelcol.MakeFactoryMap(processorFactories...); err != nil {
		return otelcol.Factories{}, err
	}

	exporters := []struct {
		factory exporter.Factory
		module  string
	}{
		{otlpexporter.NewFactory(), "go.opentelemetry.io/collector/exporter/otlpexporter"},
		{otlphttpexporter.NewFactory(), "go.opentelemetry.io/collector/exporter/otlphttpexporter"},
		{debugexporter.NewFactory(), "go.opentelemetry.io/collector/exporter/debugexporter"},
		{kafkaexporter.NewFactory(), contrib + "exporter/kafkaexporter"},
		{loadbalancingexporter.NewFactory(), contrib + "exporter/loadbalancingexporter"},
	}
	var exporterFactories []exporter.Factory
	for _, e := range exporters {
		exporterFactories = append(exporterFactories, e.factory)
		f.ExporterModules[e.factory.Type()] = module(e.module)
	}
	// MakeFactoryMap also maps each exporter's deprecated type alias (otlp, otlphttp,
	// loadbalancing).
	if f.Exporters, err = otelcol.MakeFactoryMap(exporterFactories...); err != nil {
		return otelcol.Factories{}, err
	}

	extensions := []struct {
		factory extension.Factory
		module  string
	}{
		{filestorage.NewFactory(), contrib + "extension/storage/filestorage"},
		{bearertokenauthextension.NewFactory(), contrib + "extension/bearertokenauthextension"},
		{pprofextension.NewFactory(), contrib + "extension/pprofextension"},
		{zpagesextension.NewFactory(), "go.opentelemetry.io/collector/extension/zpagesextension"},
	}
	var extensionFactories []extension.Factory
	for _, e := range extensions {
		extensionFactories = append(extensionFactories, e.factory)
		f.ExtensionModules[e.factory.Type()] = module(e.module)
	}
	if f.Extensions, err = otelcol.MakeFactoryMap(extensionFactories...); err != nil {
		return otelcol.Factories{}, err
	}

	return f, nil
}

// module is "path version" of a module compiled into this binary, from its build info (so the
// versions are go.mod's and are written nowhere else), or the bare path when it is not there.
func module(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				return path + " " + dep.Version
			}
		}
	}
	return path
}

// version is the collector release this binary is built from, without the leading "v" (as
// `otelcol-contrib-go --version` prints it: "otelcol-contrib-go version 0.160.0").
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == otelcolModule && len(dep.Version) > 1 {
				return dep.Version[1:]
			}
		}
	}
	return "unknown"
}
