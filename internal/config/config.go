// Package config reads quaykeeper's configuration from the environment. Every variable has a
// default that works on a local machine; the README lists them all.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Database locates PostgreSQL.
type Database struct {
	// URL is a libpq connection string or URL.
	URL string `envconfig:"DATABASE_URL" default:"postgres://postgres@127.0.0.1:5432/quaykeeper"`
}

// Temporal locates the Temporal frontend and the task queue quaykeeper works on.
type Temporal struct {
	Address   string `envconfig:"TEMPORAL_ADDRESS" default:"127.0.0.1:7233"`
	Namespace string `envconfig:"TEMPORAL_NAMESPACE" default:"default"`
	TaskQueue string `envconfig:"QUAYKEEPER_TASK_QUEUE" default:"quaykeeper"`
	// UIURL is where the Temporal UI is served, for links printed to people.
	UIURL string `envconfig:"TEMPORAL_UI_URL" default:"http://127.0.0.1:8233"`
}

// Log configures the structured logger.
type Log struct {
	Level  string `envconfig:"QUAYKEEPER_LOG_LEVEL" default:"info"`
	Format string `envconfig:"QUAYKEEPER_LOG_FORMAT" default:"text"`
}

// Secret holds the key that seals Quay tokens at rest.
type Secret struct {
	// Key is 32 bytes as 64 hex digits or base64.
	Key string `envconfig:"QUAYKEEPER_SECRET_KEY"`
}

// Worker is the worker process's configuration.
type Worker struct {
	Database Database
	Temporal Temporal
	Log      Log
	Secret   Secret
	// ActivityConcurrency bounds the activities one worker runs at once.
	ActivityConcurrency int `envconfig:"QUAYKEEPER_ACTIVITY_CONCURRENCY" default:"8"`
	// QuayRPS bounds the requests per second the worker sends to one Quay host; 0 = none.
	QuayRPS float64 `envconfig:"QUAYKEEPER_QUAY_RPS" default:"20"`
	// QuayTimeout bounds one HTTP request to Quay.
	QuayTimeout time.Duration `envconfig:"QUAYKEEPER_QUAY_TIMEOUT" default:"30s"`
	// WebAddr is where the worker serves the read-only web screen; empty disables it.
	WebAddr string `envconfig:"QUAYKEEPER_WEB_ADDR" default:"127.0.0.1:8090"`
	// TraceStdout prints OpenTelemetry spans to standard output.
	TraceStdout bool `envconfig:"QUAYKEEPER_TRACE_STDOUT" default:"false"`
	// MetricsAddr is where the Prometheus endpoint /metrics listens; empty turns it off.
	MetricsAddr string `envconfig:"QUAYKEEPER_METRICS_ADDR" default:"127.0.0.1:9464"`
}

// Validate checks the worker's numbers, naming the variable to fix.
func (w Worker) Validate() error {
	switch {
	case w.ActivityConcurrency < 1:
		return fmt.Errorf("QUAYKEEPER_ACTIVITY_CONCURRENCY=%d: give at least 1",
			w.ActivityConcurrency)
	case w.QuayTimeout <= 0:
		return fmt.Errorf("QUAYKEEPER_QUAY_TIMEOUT=%s: give a positive duration such as 30s",
			w.QuayTimeout)
	case w.QuayRPS < 0:
		return fmt.Errorf("QUAYKEEPER_QUAY_RPS=%g: give 0 (no bound) or more", w.QuayRPS)
	}
	return nil
}

// Starter is the command-line client's configuration.
type Starter struct {
	Database Database
	Temporal Temporal
	Log      Log
	Secret   Secret
	// QuayToken is the token `connect` stores; read from the environment, never from a flag.
	QuayToken string `envconfig:"QUAY_TOKEN"`
}

// Load fills spec (a pointer to Worker or Starter) from the environment.
func Load(spec any) error {
	if err := envconfig.Process("", spec); err != nil {
		return fmt.Errorf("read configuration from the environment: %w", err)
	}
	return nil
}

// NewLogger builds the process logger from the Log settings.
func (l Log) NewLogger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		return nil, fmt.Errorf("QUAYKEEPER_LOG_LEVEL=%q: use debug, info, warn or error", l.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(l.Format) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	default:
		return nil, fmt.Errorf("QUAYKEEPER_LOG_FORMAT=%q: use text or json", l.Format)
	}
}
