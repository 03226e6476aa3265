// Package telemetry sets up OpenTelemetry for quaykeeper's processes: traces of every
// workflow, activity, Quay request and database batch; the pipeline's metrics with Temporal's
// SDK metrics; exporters chosen by the standard OTEL_* variables; and a Prometheus endpoint.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"quaykeeper/internal/quay"
)

// instrumentationName names quaykeeper's own tracer and meter.
const instrumentationName = "quaykeeper"

// Options choose where telemetry goes. The OTEL_* variables choose the exporters (see
// chooseExporters); OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the resource.
type Options struct {
	// ServiceName names the process in traces and metrics, e.g. "quaykeeper-worker".
	ServiceName string
	// Stdout, when set, receives every span as JSON whatever the OTEL_* variables say
	// (the worker sets it for QUAYKEEPER_TRACE_STDOUT). Exporters that the variables set to
	// console write there too, or to os.Stdout when it is nil.
	Stdout io.Writer
	// MetricsAddr, when not empty, is where Setup serves the Prometheus endpoint /metrics,
	// e.g. "127.0.0.1:9464" (QUAYKEEPER_METRICS_ADDR); port 0 picks a free port.
	MetricsAddr string
	// Logger is optional: defaulted to slog.Default(). It receives the errors exporters meet
	// after start-up, such as an unreachable collector.
	Logger *slog.Logger
}

// Telemetry is the process's OpenTelemetry setup and what Temporal and the pipeline need
// from it.
type Telemetry struct {
	// TracerProvider and MeterProvider are also installed as OpenTelemetry's globals.
	TracerProvider *sdktrace.TracerProvider
	MeterProvider  *sdkmetric.MeterProvider
	// Interceptor goes in client.Options.Interceptors; workers inherit it.
	Interceptor interceptor.Interceptor
	// MetricsHandler goes in client.Options.MetricsHandler: the Temporal SDK's metrics
	// (workflow and activity latencies, failures, task slots) then join the pipeline's.
	MetricsHandler client.MetricsHandler
	// Metrics records the pipeline's own measurements.
	Metrics *Metrics
	// QuayObserver goes in quay.Config.Observer: a span and a latency measurement per Quay
	// request attempt, and a count of retries.
	QuayObserver quay.Observer
	// PrometheusHandler serves every metric in Prometheus' text format; nil when
	// Options.MetricsAddr is empty.
	PrometheusHandler http.Handler
	// TraceExporters and MetricExporters name the exporters chosen (otlp, console), for
	// the start-up log; Prometheus is not among them.
	TraceExporters, MetricExporters []string

	server *metricsServer
}

// Setup builds the tracer and meter providers with the exporters the environment chooses,
// installs them as OpenTelemetry's globals, starts the Prometheus endpoint when asked, and
// builds Temporal's interceptor and metrics handler. Nothing is dialled: OTLP exporters
// connect when they first export.
func Setup(opts Options) (*Telemetry, error) {
	ctx := context.Background()
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	res, err := resource(ctx, opts.ServiceName, log)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{}
	if t.TraceExporters, err = chooseExporters(os.Getenv, traces, opts.Stdout != nil); err != nil {
		return nil, err
	}
	if t.MetricExporters, err = chooseExporters(os.Getenv, metrics, false); err != nil {
		return nil, err
	}
	console := consoleWriter(opts.Stdout)
	spanExps, err := spanExporters(ctx, t.TraceExporters, console)
	if err != nil {
		return nil, err
	}
	readers, err := metricReaders(ctx, t.MetricExporters, console)
	if err != nil {
		return nil, err
	}
	if opts.MetricsAddr != "" {
		reader, handler, err := prometheusReader()
		if err != nil {
			return nil, err
		}
		readers, t.PrometheusHandler = append(readers, reader), handler
	}

	traceOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	for _, exp := range spanExps {
		traceOpts = append(traceOpts, sdktrace.WithBatcher(exp))
	}
	t.TracerProvider = sdktrace.NewTracerProvider(traceOpts...)
	meterOpts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithView(secondsView)}
	for _, r := range readers {
		meterOpts = append(meterOpts, sdkmetric.WithReader(r))
	}
	t.MeterProvider = sdkmetric.NewMeterProvider(meterOpts...)
	if err := t.instrument(log); err != nil {
		_ = t.shutdownProviders(ctx)
		return nil, err
	}
	if opts.MetricsAddr != "" {
		if t.server, err = serveMetrics(opts.MetricsAddr, t.PrometheusHandler, log); err != nil {
			_ = t.shutdownProviders(ctx)
			return nil, err
		}
	}
	// The globals change only once nothing can fail: code that obtained a tracer or meter
	// from them earlier (the store's tracer, say) then follows these providers.
	otel.SetTracerProvider(t.TracerProvider)
	otel.SetMeterProvider(t.MeterProvider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{}, propagation.Baggage{}))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("telemetry export failed", "error", err)
	}))
	return t, nil
}

// instrument builds what Temporal and the pipeline record through.
func (t *Telemetry) instrument(log *slog.Logger) error {
	tracer := t.TracerProvider.Tracer(instrumentationName)
	ic, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tracer})
	if err != nil {
		return fmt.Errorf("create Temporal's tracing interceptor: %w", err)
	}
	t.Interceptor = ic
	t.MetricsHandler = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                t.MeterProvider.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		// The default panics: a metric that cannot be recorded must not stop a worker.
		OnError: func(err error) { log.Warn("record a Temporal metric", "error", err) },
	})
	if t.Metrics, err = NewMetrics(t.MeterProvider.Meter(instrumentationName)); err != nil {
		return err
	}
	t.QuayObserver = quayObserver{tracer: tracer, metrics: t.Metrics}
	return nil
}

// MetricsAddr is the address the Prometheus endpoint listens on, "" when it is off.
func (t *Telemetry) MetricsAddr() string {
	if t.server == nil {
		return ""
	}
	return t.server.addr
}

// Shutdown stops the Prometheus endpoint and flushes pending spans and metrics; ctx bounds
// the flush, which waits for an unreachable collector until ctx ends.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if t.server != nil {
		errs = append(errs, t.server.shutdown(ctx))
	}
	errs = append(errs, t.shutdownProviders(ctx))
	return errors.Join(errs...)
}

func (t *Telemetry) shutdownProviders(ctx context.Context) error {
	var errs []error
	if err := t.TracerProvider.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush spans: %w", err))
	}
	if err := t.MeterProvider.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush metrics: %w", err))
	}
	return errors.Join(errs...)
}

// resource describes the process: the SDK, the service name given, and what
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES set, which win. A malformed
// OTEL_RESOURCE_ATTRIBUTES leaves a partial resource, which is still usable.
func resource(ctx context.Context, serviceName string, log *slog.Logger) (
	*sdkresource.Resource, error) {
	res, err := sdkresource.New(ctx, sdkresource.WithTelemetrySDK(),
		sdkresource.WithAttributes(semconv.ServiceName(serviceName)), sdkresource.WithFromEnv())
	if err != nil && (res == nil || errors.Is(err, sdkresource.ErrSchemaURLConflict)) {
		return nil, fmt.Errorf("describe the telemetry resource: %w", err)
	}
	if err != nil {
		log.Warn("telemetry resource is partial", "error", err)
	}
	return res, nil
}
