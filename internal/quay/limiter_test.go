package quay

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

// countingLimiter admits a fixed number of requests, then refuses.
type countingLimiter struct {
	waits, admit int
}

func (l *countingLimiter) Wait(context.Context) error {
	l.waits++
	if l.waits > l.admit {
		return errors.New("rate limit wait cancelled")
	}
	return nil
}

func TestEveryAttemptWaitsForTheLimiter(t *testing.T) {
	lim := &countingLimiter{admit: 10}
	hs := newHarness(t, reply(http.StatusBadGateway, "text/html", "<html>bad gateway</html>"),
		func(c *Config) { c.Limiter = lim; c.MaxAttempts = 3 })
	_, err := hs.c.WhoAmI(context.Background())
	if KindOf(err) != KindUnavailable {
		t.Fatalf("WhoAmI error = %v, want unavailable", err)
	}
	if lim.waits != 3 || hs.requests() != 3 {
		t.Fatalf("limiter waits = %d, requests = %d; want 3 each (retries are paced too)",
			lim.waits, hs.requests())
	}
}

func TestARefusedLimiterSendsNothing(t *testing.T) {
	lim := &countingLimiter{admit: 0}
	hs := newHarness(t, jsonOK(`{"username":"alice","organizations":[]}`),
		func(c *Config) { c.Limiter = lim; c.MaxAttempts = 1 })
	_, err := hs.c.WhoAmI(context.Background())
	if err == nil || hs.requests() != 0 {
		t.Fatalf("err = %v, requests = %d; want an error and no request", err, hs.requests())
	}
}
