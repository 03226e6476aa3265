package telemetry

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"quaykeeper/internal/quay"
)

// quayToken is distinctive, so that a leak into any span or metric is found by substring.
const quayToken = "qkTELEMETRYtoken0123456789SECRET"

const tagsPage = `{"tags": [{"name": "v1", "start_ts": 1717604800,
	"manifest_digest": "sha256:5b0be1", "is_manifest_list": false, "size": 1}],
	"page": 1, "has_additional": false}`

// quayRig is a Quay client whose attempts are traced into spans and measured into reader.
type quayRig struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	client *quay.Client
}

func newQuayRig(t *testing.T, h http.Handler) *quayRig {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	r := &quayRig{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	m, err := NewMetrics(mp.Meter("test"))
	if err != nil {
		t.Fatal(err)
	}
	r.client, err = quay.New(quay.Config{Host: srv.URL, Token: quayToken, AllowHTTP: true,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Observer: quayObserver{tracer: r.tp.Tracer("test"), metrics: m}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// leakCheck fails when the token or the query string appears anywhere in what was
// recorded: span names, attributes, events, status, and every metric data point.
func (r *quayRig) leakCheck(t *testing.T) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	recorded, err := json.Marshal(struct {
		Spans   any
		Metrics any
	}{tracetest.SpanStubsFromReadOnlySpans(r.spans.Ended()), rm})
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{quayToken, "onlyActiveTags", "?"} {
		if strings.Contains(string(recorded), secret) {
			t.Errorf("spans or metrics contain %q", secret)
		}
	}
}

func attrs(kvs []attribute.KeyValue) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

func TestQuaySpansAndMetrics(t *testing.T) {
	var hits atomic.Int32
	rig := newQuayRig(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(tagsPage))
	}))
	ctx, parent := rig.tp.Tracer("test").Start(context.Background(), "CrawlTags")
	if _, err := rig.client.Tags(ctx, "acme", "team/api", 1); err != nil {
		t.Fatalf("Tags: %v", err)
	}
	parent.End()

	const name = "quay GET /api/v1/repository/{namespace}/{repo}/tag/"
	spans := rig.spans.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want two attempts and their parent", len(spans))
	}
	want := []struct {
		attempt, status, errorType string
		code                       codes.Code
	}{{"1", "503", "unavailable", codes.Error}, {"2", "200", "", codes.Unset}}
	for i, w := range want {
		s := spans[i]
		if s.Name() != name || s.SpanKind() != trace.SpanKindClient {
			t.Errorf("span %d is %q of kind %v, want %q of kind client", i, s.Name(),
				s.SpanKind(), name)
		}
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %d is not a child of the activity's span", i)
		}
		got := attrs(s.Attributes())
		wantAttrs := map[attribute.Key]string{"http.request.method": "GET",
			"url.template":              "/api/v1/repository/{namespace}/{repo}/tag/",
			"http.response.status_code": w.status, "quay.attempt": w.attempt,
			"server.address": "127.0.0.1"}
		if w.errorType != "" {
			wantAttrs["error.type"] = w.errorType
		}
		if len(got) != len(wantAttrs) {
			t.Errorf("span %d has attributes %v, want %v", i, got, wantAttrs)
		}
		for k, v := range wantAttrs {
			if got[k] != v {
				t.Errorf("span %d: %s = %q, want %q", i, k, got[k], v)
			}
		}
		if s.Status().Code != w.code || s.Status().Description != w.errorType {
			t.Errorf("span %d has status %v, want %v %q", i, s.Status(), w.code, w.errorType)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := rig.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	points := map[string]int{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range data.DataPoints {
					status, _ := dp.Attributes.Value("http.response.status_code")
					points[m.Name+" "+status.String()] += int(dp.Count)
				}
			case metricdata.Sum[int64]:
				for _, dp := range data.DataPoints {
					points[m.Name] += int(dp.Value)
				}
			}
		}
	}
	wantPoints := map[string]int{MetricQuayRequestDuration + " 503": 1,
		MetricQuayRequestDuration + " 200": 1, MetricQuayRetries: 1}
	for k, v := range wantPoints {
		if points[k] != v {
			t.Errorf("%s: %d, want %d (all: %v)", k, points[k], v, points)
		}
	}
	rig.leakCheck(t)
}

func TestQuaySpanOfRejectedTokenHoldsNoToken(t *testing.T) {
	// The server echoes the Authorization header, as a misbehaving proxy may.
	rig := newQuayRig(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"error_message": "bad token " + r.Header.Get("Authorization")})
	}))
	if _, err := rig.client.WhoAmI(context.Background()); quay.KindOf(err) !=
		quay.KindUnauthorized {
		t.Fatalf("WhoAmI error %v, want unauthorized", err)
	}
	spans := rig.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name() != "quay GET /api/v1/user/" || s.Status().Code != codes.Error ||
		attrs(s.Attributes())["error.type"] != "unauthorized" || len(s.Events()) != 0 {
		t.Errorf("span %q, status %v, attributes %v, events %v", s.Name(), s.Status(),
			s.Attributes(), s.Events())
	}
	rig.leakCheck(t)
}
