package config_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"quaykeeper/internal/config"
)

func TestWorkerDefaultsAndValidation(t *testing.T) {
	for _, name := range []string{"TEMPORAL_ADDRESS", "QUAYKEEPER_QUAY_TIMEOUT",
		"QUAYKEEPER_WEB_ADDR", "QUAYKEEPER_ACTIVITY_CONCURRENCY", "QUAYKEEPER_QUAY_RPS"} {
		t.Setenv(name, "") // restored when the test ends
		os.Unsetenv(name)
	}
	var w config.Worker
	if err := config.Load(&w); err != nil {
		t.Fatal(err)
	}
	if w.Temporal.Address != "127.0.0.1:7233" || w.QuayTimeout != 30*time.Second ||
		w.WebAddr != "127.0.0.1:8090" {
		t.Fatalf("defaults = %+v", w)
	}
	if err := w.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for name, mutate := range map[string]func(*config.Worker){
		"QUAYKEEPER_ACTIVITY_CONCURRENCY": func(w *config.Worker) { w.ActivityConcurrency = 0 },
		"QUAYKEEPER_QUAY_TIMEOUT":         func(w *config.Worker) { w.QuayTimeout = -time.Second },
		"QUAYKEEPER_QUAY_RPS":             func(w *config.Worker) { w.QuayRPS = -1 },
	} {
		bad := w
		mutate(&bad)
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: Validate() = %v, want an error naming it", name, err)
		}
	}
	t.Setenv("QUAYKEEPER_QUAY_TIMEOUT", "soon")
	if err := config.Load(&w); err == nil {
		t.Error("a bad duration loaded")
	}
}
