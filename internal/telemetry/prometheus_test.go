package telemetry

import (
	"context"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"quaykeeper/internal/quay"
)

// noExporters clears the OTEL_* variables that choose exporters, so that a test sees only
// what it sets itself.
func noExporters(t *testing.T) {
	t.Helper()
	for _, name := range []string{"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
		"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"} {
		t.Setenv(name, "")
	}
}

// setup runs Setup and shuts it down when the test ends.
func setup(t *testing.T, opts Options) *Telemetry {
	t.Helper()
	tel, err := Setup(opts)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tel.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return tel
}

// scrape reads the Prometheus endpoint like Prometheus does.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + MetricsPath)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return families
}

// sample finds the metric of a family whose labels include every label given.
func sample(t *testing.T, families map[string]*dto.MetricFamily, name string,
	labels map[string]string) *dto.Metric {
	t.Helper()
	f, ok := families[name]
	if !ok {
		t.Fatalf("the endpoint serves no %s", name)
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if match {
			return m
		}
	}
	t.Fatalf("%s has no sample with labels %v: %v", name, labels, f.GetMetric())
	return nil
}

func TestPrometheusServesPipelineMetrics(t *testing.T) {
	noExporters(t)
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	tel := setup(t, Options{ServiceName: "quaykeeper-test", MetricsAddr: "127.0.0.1:0"})
	if tel.PrometheusHandler == nil || tel.MetricsAddr() == "" {
		t.Fatal("no Prometheus endpoint with MetricsAddr set")
	}
	ctx := context.Background()
	tel.Metrics.RunFinished(ctx, "sync", "completed")
	tel.Metrics.RunFinished(ctx, "sync", "completed")
	tel.Metrics.RunFinished(ctx, "reevaluate", "failed")
	tel.Metrics.TagsCrawled(ctx, 100)
	tel.Metrics.TagsCrawled(ctx, 25)
	tel.Metrics.Decided(ctx, "scan", 3)
	tel.Metrics.Decided(ctx, "prune", 2)
	for attempt := 1; attempt <= 2; attempt++ {
		_, end := tel.QuayObserver.StartRequest(ctx, quay.RequestInfo{Method: "GET",
			Host: "https://quay.example.com", Route: "/api/v1/user/", Attempt: attempt})
		end(quay.RequestResult{Status: 200})
	}
	tel.MetricsHandler.WithTags(map[string]string{"namespace": "default"}).
		Counter("temporal_request").Inc(1)
	tel.MetricsHandler.Timer("temporal_activity_execution_latency").Record(2 * time.Second)

	got := scrape(t, tel.MetricsAddr())
	counters := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"quaykeeper_runs_total", map[string]string{"kind": "sync", "outcome": "completed"}, 2},
		{"quaykeeper_runs_total", map[string]string{"kind": "reevaluate", "outcome": "failed"},
			1},
		{"quaykeeper_tags_crawled_total", nil, 125},
		{"quaykeeper_decisions_total", map[string]string{"kind": "scan"}, 3},
		{"quaykeeper_decisions_total", map[string]string{"kind": "prune"}, 2},
		{"quaykeeper_quay_retries_total", map[string]string{"url_template": "/api/v1/user/"}, 1},
		{"temporal_request_total", map[string]string{"namespace": "default"}, 1},
	}
	for _, c := range counters {
		if v := sample(t, got, c.name, c.labels).GetCounter().GetValue(); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	quayLabels := map[string]string{"http_request_method": "GET",
		"url_template": "/api/v1/user/", "http_response_status_code": "200"}
	histograms := []struct {
		name   string
		labels map[string]string
		count  uint64
	}{
		{"quaykeeper_quay_request_duration_seconds", quayLabels, 2},
		{"temporal_activity_execution_latency_seconds", nil, 1},
	}
	for _, h := range histograms {
		hist := sample(t, got, h.name, h.labels).GetHistogram()
		if hist.GetSampleCount() != h.count {
			t.Errorf("%s counts %d samples, want %d", h.name, hist.GetSampleCount(), h.count)
		}
		var bounds []float64
		for _, b := range hist.GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		want := append(slices.Clone(secondsBuckets), math.Inf(1))
		if !slices.Equal(bounds, want) {
			t.Errorf("%s has buckets %v, want %v", h.name, bounds, want)
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("the endpoint serves no Go runtime metrics")
	}
	target := sample(t, got, "target_info", map[string]string{"service_name": "quaykeeper-test"})
	if target == nil {
		t.Error("the endpoint does not name the service")
	}
}

func TestPrometheusEndpointOff(t *testing.T) {
	noExporters(t)
	tel := setup(t, Options{ServiceName: "quaykeeper-test"})
	if tel.PrometheusHandler != nil || tel.MetricsAddr() != "" {
		t.Errorf("a Prometheus endpoint without MetricsAddr: handler %v, addr %q",
			tel.PrometheusHandler, tel.MetricsAddr())
	}
	// Recording without any reader must be harmless.
	tel.Metrics.TagsCrawled(context.Background(), 1)
}

func TestPrometheusAddressTaken(t *testing.T) {
	noExporters(t)
	first := setup(t, Options{ServiceName: "quaykeeper-test", MetricsAddr: "127.0.0.1:0"})
	if _, err := Setup(Options{ServiceName: "quaykeeper-test",
		MetricsAddr: first.MetricsAddr()}); err == nil {
		t.Fatal("Setup served metrics on an address already in use")
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	ctx := context.Background()
	m.RunFinished(ctx, "sync", "completed")
	m.TagsCrawled(ctx, 1)
	m.Decided(ctx, "scan", 1)
}
