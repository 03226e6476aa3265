package telemetry

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Exporter names, as OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER spell them.
const (
	ExporterOTLP    = "otlp"
	ExporterConsole = "console"
	ExporterNone    = "none"
)

// signal is traces or metrics, as the OTEL_* variable names spell them.
type signal string

const (
	traces  signal = "TRACES"
	metrics signal = "METRICS"
)

// chooseExporters decides where a signal goes, from the standard variables: the
// OTEL_<SIGNAL>_EXPORTER list when set (otlp, console, none); otherwise OTLP exactly when an
// OTLP endpoint is set, so that a process with no OTEL_* variables exports nothing.
// addConsole adds the console exporter whatever the variables say. The result is sorted.
func chooseExporters(getenv func(string) string, s signal, addConsole bool) ([]string,
	error) {
	name := "OTEL_" + string(s) + "_EXPORTER"
	var chosen []string
	if v := strings.TrimSpace(getenv(name)); v != "" {
		list := strings.Split(v, ",")
		for _, e := range list {
			e = strings.ToLower(strings.TrimSpace(e))
			switch e {
			case ExporterOTLP, ExporterConsole:
				chosen = append(chosen, e)
			case ExporterNone:
				if len(list) > 1 {
					return nil, fmt.Errorf("%s=%q: none cannot be combined with another "+
						"exporter", name, v)
				}
			default:
				return nil, fmt.Errorf("%s=%q: use otlp, console or none", name, v)
			}
		}
	} else if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" ||
		getenv("OTEL_EXPORTER_OTLP_"+string(s)+"_ENDPOINT") != "" {
		chosen = append(chosen, ExporterOTLP)
	}
	if addConsole {
		chosen = append(chosen, ExporterConsole)
	}
	slices.Sort(chosen)
	chosen = slices.Compact(chosen)
	if slices.Contains(chosen, ExporterOTLP) {
		if err := checkProtocol(getenv, s); err != nil {
			return nil, err
		}
	}
	return chosen, nil
}

// checkProtocol refuses an OTLP protocol other than gRPC, the only one built in: an
// http/protobuf endpoint would otherwise receive gRPC and drop everything.
func checkProtocol(getenv func(string) string, s signal) error {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_" + string(s) + "_PROTOCOL",
		"OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := getenv(name); v != "" {
			if v != "grpc" {
				return fmt.Errorf("%s=%q: only grpc is supported; point the endpoint at "+
					"the collector's gRPC port (4317)", name, v)
			}
			return nil
		}
	}
	return nil
}

// spanExporters builds the chosen span exporters. The OTLP exporter reads its endpoint,
// headers, TLS and timeout settings from the OTEL_EXPORTER_OTLP_* variables itself; it
// connects lazily, so an absent collector does not fail start-up.
func spanExporters(ctx context.Context, chosen []string, console io.Writer) (
	[]sdktrace.SpanExporter, error) {
	var exps []sdktrace.SpanExporter
	for _, name := range chosen {
		var exp sdktrace.SpanExporter
		var err error
		switch name {
		case ExporterOTLP:
			exp, err = otlptracegrpc.New(ctx)
		case ExporterConsole:
			exp, err = stdouttrace.New(stdouttrace.WithWriter(console))
		}
		if err != nil {
			return nil, fmt.Errorf("create the %s span exporter: %w", name, err)
		}
		exps = append(exps, exp)
	}
	return exps, nil
}

// metricReaders builds a periodic reader per chosen metric exporter; the interval comes
// from OTEL_METRIC_EXPORT_INTERVAL (default 60 s).
func metricReaders(ctx context.Context, chosen []string, console io.Writer) (
	[]sdkmetric.Reader, error) {
	var readers []sdkmetric.Reader
	for _, name := range chosen {
		var exp sdkmetric.Exporter
		var err error
		switch name {
		case ExporterOTLP:
			exp, err = otlpmetricgrpc.New(ctx)
		case ExporterConsole:
			exp, err = stdoutmetric.New(stdoutmetric.WithWriter(console))
		}
		if err != nil {
			return nil, fmt.Errorf("create the %s metric exporter: %w", name, err)
		}
		readers = append(readers, sdkmetric.NewPeriodicReader(exp))
	}
	return readers, nil
}

// consoleWriter is where console exporters write: w, or standard output.
func consoleWriter(w io.Writer) io.Writer {
	if w == nil {
		return os.Stdout
	}
	return w
}
