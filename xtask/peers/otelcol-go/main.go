// otelcol-go: a small distribution of the OpenTelemetry Collector (core modules, and the
// contrib Prometheus components of the same release train), built by `cargo xtask peers`
// (xtask/src/peers.rs) into target/peers/bin/otelcol-go for the interop tests and the
// Prometheus differentials.
//
// Components, by the type names this release uses in a config:
//
//	receivers:  otlp, prometheus
//	processors: batch, memory_limiter
//	exporters:  otlp_grpc (deprecated alias otlp), otlp_http (deprecated alias otlphttp), debug,
//	            prometheus, prometheus_remote_write (deprecated alias prometheusremotewrite)
//
// Core is v0.165.0 (v1.71.0 for the stable modules); the contrib modules are v0.165.1, the
// patch release built on that core.
//
// Config providers: file (the default scheme of a bare --config path), env and yaml.
//
// To move to another collector release: change every go.opentelemetry.io/collector module in
// go.mod to that release (the v0.x and v1.x modules move together), run `go mod tidy`, and
// set the `release` of OTELCOL_GO in xtask/src/peers.rs; `cargo xtask peers` then rebuilds.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
)

// The contrib repository's module path prefix.
const contrib = "github.com/open-telemetry/opentelemetry-collector-contrib/"

// The module whose version names this distribution's version.
const otelcolModule = "go.opentelemetry.io/collector/otelcol"

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
			Command:     "otelcol-go",
			Description: "OpenTelemetry Collector (core components), the otlp-rs interop peer",
			Version:     version(),
		},
		Factories:              factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: resolver},
		ProviderModules:        providerModules,
	}
	if err := otelcol.NewCommand(settings).Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "otelcol-go: %v\n", err)
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
	}

	receivers := []receiver.Factory{otlpreceiver.NewFactory(), prometheusreceiver.NewFactory()}
	if f.Receivers, err = otelcol.MakeFactoryMap(receivers...); err != nil {
		return otelcol.Factories{}, err
	}
	f.ReceiverModules[receivers[0].Type()] = module("go.opentelemetry.io/collector/receiver/otlpreceiver")
	f.ReceiverModules[receivers[1].Type()] = module(contrib + "receiver/prometheusreceiver")

	processors := []processor.Factory{batchprocessor.NewFactory(), memorylimiterprocessor.NewFactory()}
	if f.Processors, err = otelcol.MakeFactoryMap(processors...); err != nil {
		return otelcol.Factories{}, err
	}
	f.ProcessorModules[processors[0].Type()] = module("go.opentelemetry.io/collector/processor/batchprocessor")
	f.ProcessorModules[processors[1].Type()] = module("go.opentelemetry.io/collector/processor/memorylimiterprocessor")

	exporters := []exporter.Factory{
		otlpexporter.NewFactory(),
		otlphttpexporter.NewFactory(),
		debugexporter.NewFactory(),
		prometheusexporter.NewFactory(),
		prometheusremotewriteexporter.NewFactory(),
	}
	// MakeFactoryMap also maps each exporter's deprecated type alias (otlp, otlphttp).
	if f.Exporters, err = otelcol.MakeFactoryMap(exporters...); err != nil {
		return otelcol.Factories{}, err
	}
	f.ExporterModules[exporters[0].Type()] = module("go.opentelemetry.io/collector/exporter/otlpexporter")
	f.ExporterModules[exporters[1].Type()] = module("go.opentelemetry.io/collector/exporter/otlphttpexporter")
	f.ExporterModules[exporters[2].Type()] = module("go.opentelemetry.io/collector/exporter/debugexporter")
	f.ExporterModules[exporters[3].Type()] = module(contrib + "exporter/prometheusexporter")
	f.ExporterModules[exporters[4].Type()] = module(contrib + "exporter/prometheusremotewriteexporter")

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
// `otelcol-go --version` prints it: "otelcol-go version 0.165.0").
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
