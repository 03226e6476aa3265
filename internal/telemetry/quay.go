package telemetry

import (
	"context"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"quaykeeper/internal/quay"
)

// attrQuayAttempt numbers the attempts of one request from 1.
const attrQuayAttempt = attribute.Key("quay.attempt")

// quayObserver makes a client span per Quay request attempt and measures it. It only ever
// sees what quay.RequestInfo and quay.RequestResult carry, so neither the token nor a URL
// with its query can reach a span or a metric.
type quayObserver struct {
	tracer  trace.Tracer
	metrics *Metrics // not nil
}

// StartRequest implements quay.Observer.
func (o quayObserver) StartRequest(ctx context.Context, req quay.RequestInfo) (
	context.Context, func(quay.RequestResult)) {
	route := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(req.Method),
		semconv.URLTemplate(req.Route)}
	spanAttrs := append([]attribute.KeyValue{attrQuayAttempt.Int(req.Attempt)}, route...)
	if u, err := url.Parse(req.Host); err == nil && u.Hostname() != "" {
		spanAttrs = append(spanAttrs, semconv.ServerAddress(u.Hostname()))
	}
	ctx, span := o.tracer.Start(ctx, "quay "+req.Method+" "+req.Route,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(spanAttrs...))
	if req.Attempt > 1 {
		o.metrics.quayRetries.Add(ctx, 1,
			metric.WithAttributes(semconv.URLTemplate(req.Route)))
	}
	start := time.Now()
	return ctx, func(res quay.RequestResult) {
		elapsed := time.Since(start)
		var outcome []attribute.KeyValue
		if res.Status != 0 {
			outcome = append(outcome, semconv.HTTPResponseStatusCode(res.Status))
		}
		if res.Kind != "" {
			outcome = append(outcome, semconv.ErrorTypeKey.String(string(res.Kind)))
			// The kind alone describes the failure: the error's text names the URL.
			span.SetStatus(codes.Error, string(res.Kind))
		}
		span.SetAttributes(outcome...)
		span.End()
		o.metrics.quayDuration.Record(ctx, elapsed.Seconds(),
			metric.WithAttributes(append(route, outcome...)...))
	}
}
