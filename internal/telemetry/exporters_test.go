package telemetry

import (
	"bytes"
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

func TestChooseExporters(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		s          signal
		addConsole bool
		want       []string
		wantErr    string
	}{
		{name: "nothing set exports nothing", s: traces},
		{name: "an endpoint chooses OTLP", s: traces,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"},
			want: []string{"otlp"}},
		{name: "a signal's own endpoint chooses OTLP for it", s: metrics,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4317"},
			want: []string{"otlp"}},
		{name: "another signal's endpoint does not", s: traces,
			env: map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4317"}},
		{name: "the stdout flag adds console", s: traces, addConsole: true,
			want: []string{"console"}},
		{name: "the flag adds console to OTLP", s: traces, addConsole: true,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"},
			want: []string{"console", "otlp"}},
		{name: "console chosen", s: metrics,
			env: map[string]string{"OTEL_METRICS_EXPORTER": "console"}, want: []string{"console"}},
		{name: "otlp chosen without an endpoint (the exporter defaults to localhost)",
			s: traces, env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"},
			want: []string{"otlp"}},
		{name: "a list, with spaces and capitals", s: traces,
			env:  map[string]string{"OTEL_TRACES_EXPORTER": " OTLP , console,otlp"},
			want: []string{"console", "otlp"}},
		{name: "none overrides an endpoint", s: traces,
			env: map[string]string{"OTEL_TRACES_EXPORTER": "none",
				"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}},
		{name: "none still takes the flag's console", s: traces, addConsole: true,
			env: map[string]string{"OTEL_TRACES_EXPORTER": "none"}, want: []string{"console"}},
		{name: "the other signal's choice does not apply", s: metrics,
			env: map[string]string{"OTEL_TRACES_EXPORTER": "console"}},
		{name: "an unknown exporter", s: traces,
			env:     map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"},
			wantErr: `OTEL_TRACES_EXPORTER="zipkin": use otlp, console or none`},
		{name: "none combined", s: metrics,
			env:     map[string]string{"OTEL_METRICS_EXPORTER": "none,otlp"},
			wantErr: "none cannot be combined"},
		{name: "OTLP over HTTP", s: traces,
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
				"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
			wantErr: `OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf": only grpc is supported`},
		{name: "the signal's protocol wins", s: traces,
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317",
				"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
				"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"},
			want: []string{"otlp"}},
		{name: "the protocol does not matter without OTLP", s: traces,
			env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			got, err := chooseExporters(getenv, tt.s, tt.addConsole)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("chose %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSetupWritesConsoleSpansAndMetrics(t *testing.T) {
	noExporters(t)
	t.Setenv("OTEL_METRICS_EXPORTER", "console")
	var out bytes.Buffer
	tel, err := Setup(Options{ServiceName: "quaykeeper-test", Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tel.TraceExporters, []string{"console"}) ||
		!slices.Equal(tel.MetricExporters, []string{"console"}) {
		t.Fatalf("exporters %v and %v, want console", tel.TraceExporters, tel.MetricExporters)
	}
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "OrganizationSync")
	span.End()
	tel.Metrics.TagsCrawled(context.Background(), 7)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"Name":"OrganizationSync"`, MetricTagsCrawled,
		"quaykeeper-test"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the console output lacks %s:\n%s", want, out.String())
		}
	}
}

func TestSetupWithoutExporters(t *testing.T) {
	noExporters(t)
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	tel := setup(t, Options{ServiceName: "quaykeeper-test"})
	if len(tel.TraceExporters)+len(tel.MetricExporters) != 0 {
		t.Errorf("exporters %v and %v, want none", tel.TraceExporters, tel.MetricExporters)
	}
	if tel.Interceptor == nil || tel.MetricsHandler == nil || tel.QuayObserver == nil {
		t.Error("Temporal's interceptor, metrics handler or the Quay observer is missing")
	}
}

func TestSetupRefusesAnUnknownExporter(t *testing.T) {
	noExporters(t)
	t.Setenv("OTEL_METRICS_EXPORTER", "prometheus")
	if _, err := Setup(Options{ServiceName: "quaykeeper-test"}); err == nil ||
		!strings.Contains(err.Error(), "OTEL_METRICS_EXPORTER") {
		t.Fatalf("Setup error %v, want one naming OTEL_METRICS_EXPORTER", err)
	}
}

func TestSetupWithAnAbsentCollector(t *testing.T) {
	noExporters(t)
	// Nothing listens there, or something else does: Setup must not dial it.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
	tel, err := Setup(Options{ServiceName: "quaykeeper-test"})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if !slices.Equal(tel.TraceExporters, []string{"otlp"}) ||
		!slices.Equal(tel.MetricExporters, []string{"otlp"}) {
		t.Errorf("exporters %v and %v, want otlp", tel.TraceExporters, tel.MetricExporters)
	}
	// A cancelled flush gives up at once instead of waiting for the collector.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = tel.Shutdown(ctx)
}

func TestSetupExportsOTLPToTheEndpoint(t *testing.T) {
	noExporters(t)
	col := startCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+col.addr)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")
	tel, err := Setup(Options{ServiceName: "quaykeeper-test"})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "CrawlTags")
	span.End()
	tel.Metrics.RunFinished(context.Background(), "sync", "completed")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, want := range []string{"span CrawlTags", "metric " + MetricRuns,
		"resource service.name=quaykeeper-test", "resource deployment.environment.name=test"} {
		if !slices.Contains(col.seen, want) {
			t.Errorf("the collector did not receive %q; it saw %q", want, col.seen)
		}
	}
}

// collector is an OTLP gRPC receiver on loopback that notes what it is sent.
type collector struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func (c *collector) note(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.seen, s) {
		c.seen = append(c.seen, s)
	}
}

type traceReceiver struct {
	coltracepb.UnimplementedTraceServiceServer
	*collector
}

func (r traceReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (
	*coltracepb.ExportTraceServiceResponse, error) {
	for _, rs := range req.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			r.note("resource " + kv.GetKey() + "=" + kv.GetValue().GetStringValue())
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.note("span " + s.GetName())
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type metricsReceiver struct {
	colmetricpb.UnimplementedMetricsServiceServer
	*collector
}

func (r metricsReceiver) Export(_ context.Context,
	req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse,
	error) {
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				r.note("metric " + m.GetName())
			}
		}
	}
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

func startCollector(t *testing.T) *collector {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{addr: ln.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, traceReceiver{collector: c})
	colmetricpb.RegisterMetricsServiceServer(srv, metricsReceiver{collector: c})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("collector: %v", err)
		}
	})
	return c
}
