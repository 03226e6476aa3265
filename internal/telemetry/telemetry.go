// Package telemetry sets up OpenTelemetry tracing for quaykeeper's processes and hands
// Temporal the interceptor that traces every workflow and activity.
package telemetry

import (
	"context"
	"fmt"
	"io"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Options choose where spans go.
type Options struct {
	// ServiceName names the process in traces, e.g. "quaykeeper-worker".
	ServiceName string
	// Stdout, when set, receives every span as JSON; nil exports nothing. (An OTLP exporter
	// chosen by the OTEL_* variables is not wired yet.)
	Stdout io.Writer
}

// Tracing is the process's tracer provider and Temporal's tracing interceptor.
type Tracing struct {
	// Interceptor goes in client.Options.Interceptors; workers inherit it.
	Interceptor interceptor.Interceptor
	provider    *sdktrace.TracerProvider
}

// Setup installs a global tracer provider and builds Temporal's tracing interceptor.
func Setup(opts Options) (*Tracing, error) {
	res, err := sdkresource.Merge(sdkresource.Default(), sdkresource.NewSchemaless(
		semconv.ServiceName(opts.ServiceName)))
	if err != nil {
		return nil, fmt.Errorf("describe the trace resource: %w", err)
	}
	providerOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if opts.Stdout != nil {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(opts.Stdout))
		if err != nil {
			return nil, fmt.Errorf("create stdout span exporter: %w", err)
		}
		providerOpts = append(providerOpts, sdktrace.WithBatcher(exp))
	}
	provider := sdktrace.NewTracerProvider(providerOpts...)
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{}, propagation.Baggage{}))
	ic, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer: provider.Tracer("quaykeeper"),
	})
	if err != nil {
		return nil, fmt.Errorf("create Temporal tracing interceptor: %w", err)
	}
	return &Tracing{Interceptor: ic, provider: provider}, nil
}

// Shutdown flushes pending spans.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("flush spans: %w", err)
	}
	return nil
}
