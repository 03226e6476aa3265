// Command worker runs quaykeeper's Temporal worker: the organization sync workflow and its
// activities against Quay and PostgreSQL.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"quaykeeper/activities"
	"quaykeeper/internal/config"
	"quaykeeper/internal/secret"
	"quaykeeper/internal/store"
	"quaykeeper/internal/telemetry"
	"quaykeeper/internal/web"
	"quaykeeper/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg config.Worker
	if err := config.Load(&cfg); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log, err := cfg.Log.NewLogger()
	if err != nil {
		return err
	}
	key, err := secret.ParseKey(cfg.Secret.Key)
	if err != nil {
		return err
	}
	box, err := secret.NewBox(key)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := store.Open(ctx, cfg.Database.URL, log)
	if err != nil {
		return err
	}
	defer st.Close()

	opts := telemetry.Options{ServiceName: "quaykeeper-worker", MetricsAddr: cfg.MetricsAddr,
		Logger: log}
	if cfg.TraceStdout {
		opts.Stdout = os.Stdout
	}
	tel, err := telemetry.Setup(opts)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tel.Shutdown(flushCtx); err != nil {
			log.Warn("could not flush telemetry", "error", err)
		}
	}()
	log.Info("telemetry", "traces", tel.TraceExporters, "metrics", tel.MetricExporters,
		"prometheus", tel.MetricsAddr())

	tc, err := client.DialContext(ctx, client.Options{
		HostPort:       cfg.Temporal.Address,
		Namespace:      cfg.Temporal.Namespace,
		Logger:         tlog.NewStructuredLogger(log),
		Interceptors:   []interceptor.ClientInterceptor{tel.Interceptor},
		MetricsHandler: tel.MetricsHandler,
	})
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s (is it running? set TEMPORAL_ADDRESS): %w",
			cfg.Temporal.Address, err)
	}
	defer tc.Close()

	w := worker.New(tc, cfg.Temporal.TaskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize: cfg.ActivityConcurrency,
	})
	workflows.Register(w, &activities.Activities{Store: st, Box: box, Temporal: tc,
		TaskQueue: cfg.Temporal.TaskQueue, QuayTimeout: cfg.QuayTimeout, QuayRPS: cfg.QuayRPS,
		Metrics: tel.Metrics, QuayObserver: tel.QuayObserver})
	if cfg.WebAddr != "" {
		screen := web.New(st, web.Options{TemporalUIURL: cfg.Temporal.UIURL,
			Namespace: cfg.Temporal.Namespace, Logger: log})
		if err := serve(ctx, cfg.WebAddr, screen, log); err != nil {
			return err
		}
	}
	log.Info("worker started", "taskQueue", cfg.Temporal.TaskQueue,
		"temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace)
	stopped := make(chan any)
	go func() {
		<-ctx.Done()
		log.Info("stopping worker")
		close(stopped)
	}()
	if err := w.Run(stopped); err != nil {
		return fmt.Errorf("run worker: %w", err)
	}
	return nil
}

// serve listens on addr and serves h until ctx ends. A listen error (the port is taken) is
// returned at once, so the worker does not start half-configured.
func serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for the web screen on %s (set QUAYKEEPER_WEB_ADDR, or \"\" "+
			"to turn it off): %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("web screen stopped", "error", err)
		}
	}()
	log.Info("web screen", "url", "http://"+ln.Addr().String())
	return nil
}
