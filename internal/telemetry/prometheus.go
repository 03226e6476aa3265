package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// MetricsPath is where the Prometheus endpoint serves.
const MetricsPath = "/metrics"

// prometheusReader returns a metric reader that Prometheus scrapes through handler. It has
// a registry of its own, so nothing else registered in the process leaks into the
// endpoint; Go runtime and process metrics join the pipeline's and Temporal's.
func prometheusReader() (sdkmetric.Reader, http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, nil, fmt.Errorf("register Go runtime metrics: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(
		collectors.ProcessCollectorOpts{})); err != nil {
		return nil, nil, fmt.Errorf("register process metrics: %w", err)
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, fmt.Errorf("create the Prometheus exporter: %w", err)
	}
	return exp, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}

// metricsServer serves the Prometheus endpoint.
type metricsServer struct {
	addr   string
	srv    *http.Server
	served chan error
}

// serveMetrics listens on addr before it returns, so that a taken port fails start-up,
// and serves handler at MetricsPath until shutdown.
func serveMetrics(addr string, handler http.Handler, log *slog.Logger) (*metricsServer,
	error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve Prometheus metrics on %s (set QUAYKEEPER_METRICS_ADDR "+
			"to a free address, or to an empty value to turn the endpoint off): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsPath, handler)
	s := &metricsServer{addr: ln.Addr().String(), served: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		err := s.srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("the Prometheus endpoint stopped", "addr", s.addr, "error", err)
		}
		s.served <- err
	}()
	return s, nil
}

// shutdown stops the server, letting scrapes in flight finish while ctx allows.
func (s *metricsServer) shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("stop the Prometheus endpoint: %w", err)
	}
	if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve Prometheus metrics on %s: %w", s.addr, err)
	}
	return nil
}
