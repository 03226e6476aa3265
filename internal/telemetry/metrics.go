package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Names of the pipeline's instruments. The Prometheus endpoint spells them with underscores
// and unit suffixes: quaykeeper_runs_total, quaykeeper_quay_request_duration_seconds, ...
const (
	MetricRuns                = "quaykeeper.runs"
	MetricTagsCrawled         = "quaykeeper.tags.crawled"
	MetricDecisions           = "quaykeeper.decisions"
	MetricQuayRequestDuration = "quaykeeper.quay.request.duration"
	MetricQuayRetries         = "quaykeeper.quay.retries"
)

// secondsBuckets bound the histograms measured in seconds: Quay requests and Temporal's
// latencies, from a fast API answer to an hour-long crawl. OpenTelemetry's default buckets
// suit milliseconds and would put every Quay request in the first two.
var secondsBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
	60, 300, 1800, 3600}

// secondsView applies secondsBuckets to every histogram in seconds.
var secondsView = sdkmetric.NewView(
	sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
	sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
		Boundaries: secondsBuckets}})

// Metrics records what the pipeline does. A nil *Metrics records nothing, so code that runs
// without telemetry (tests, the starter) needs no checks.
type Metrics struct {
	runs         metric.Int64Counter
	tagsCrawled  metric.Int64Counter
	decisions    metric.Int64Counter
	quayDuration metric.Float64Histogram
	quayRetries  metric.Int64Counter
}

// NewMetrics creates the pipeline's instruments on meter.
func NewMetrics(meter metric.Meter) (*Metrics, error) {
	var m Metrics
	var errs [5]error
	m.runs, errs[0] = meter.Int64Counter(MetricRuns, metric.WithUnit("{run}"),
		metric.WithDescription("Runs that ended, by kind (sync, reevaluate) and outcome "+
			"(completed, failed)."))
	m.tagsCrawled, errs[1] = meter.Int64Counter(MetricTagsCrawled, metric.WithUnit("{tag}"),
		metric.WithDescription("Active tags read from Quay and stored."))
	m.decisions, errs[2] = meter.Int64Counter(MetricDecisions, metric.WithUnit("{tag}"),
		metric.WithDescription("Decisions of completed runs, by kind (scan, retain, prune)."))
	m.quayDuration, errs[3] = meter.Float64Histogram(MetricQuayRequestDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Quay HTTP request attempts, by method, route template and "+
			"status code."))
	m.quayRetries, errs[4] = meter.Int64Counter(MetricQuayRetries, metric.WithUnit("{request}"),
		metric.WithDescription("Quay request attempts that retried a failed one, by route "+
			"template."))
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("create the pipeline's metric instruments: %w", err)
		}
	}
	return &m, nil
}

// RunFinished counts a run that ended; kind is store.KindSync or store.KindReevaluate and
// outcome store.RunCompleted or store.RunFailed.
func (m *Metrics) RunFinished(ctx context.Context, kind, outcome string) {
	if m == nil {
		return
	}
	m.runs.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", kind),
		attribute.String("outcome", outcome)))
}

// TagsCrawled counts n tags read from Quay and stored.
func (m *Metrics) TagsCrawled(ctx context.Context, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.tagsCrawled.Add(ctx, int64(n))
}

// Decided counts n decisions of one kind (scan, retain or prune).
func (m *Metrics) Decided(ctx context.Context, kind string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.decisions.Add(ctx, int64(n), metric.WithAttributes(attribute.String("kind", kind)))
}
