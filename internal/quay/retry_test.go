package quay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// sequence answers the n-th request with the n-th handler and repeats the last one.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	n := make(chan int, 1)
	n <- 0
	return func(w http.ResponseWriter, r *http.Request) {
		i := <-n
		n <- i + 1
		hs[min(i, len(hs)-1)](w, r)
	}
}

func rateLimited(retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		reply(429, "text/html", nginx429)(w, r)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		h          http.HandlerFunc
		maxBackoff time.Duration
		wantErr    ErrorKind // "" when the call succeeds in the end
		requests   int
		waits      []time.Duration // exact waits; nil to check only their number
		nwaits     int
	}{
		{name: "429 without Retry-After", h: sequence(rateLimited(""), jsonOK(userBody)),
			requests: 2, nwaits: 1},
		{name: "429 with Retry-After seconds", h: sequence(rateLimited("2"), jsonOK(userBody)),
			maxBackoff: time.Minute, requests: 2, waits: []time.Duration{2 * time.Second}},
		{name: "Retry-After capped", h: sequence(rateLimited("120"), jsonOK(userBody)),
			maxBackoff: 10 * time.Second, requests: 2, waits: []time.Duration{10 * time.Second}},
		{name: "520 then success", h: sequence(reply(520, "application/json", `{}`),
			reply(502, "text/html", "<html>bad gateway</html>"), jsonOK(userBody)),
			requests: 3, nwaits: 2},
		{name: "exhausted", h: reply(503, "application/json", `{"message": "down"}`),
			wantErr: KindUnavailable, requests: 4, nwaits: 3},
		{name: "exhausted rate limit", h: rateLimited("1"), wantErr: KindRateLimited,
			maxBackoff: time.Minute, requests: 4,
			waits: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "401 not retried", h: reply(401, "application/json", `{}`),
			wantErr: KindUnauthorized, requests: 1},
		{name: "malformed not retried", h: jsonOK(`{"tags": 1}`),
			wantErr: KindMalformed, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, tt.h, func(cfg *Config) {
				if tt.maxBackoff != 0 {
					cfg.MaxBackoff = tt.maxBackoff
				}
			})
			_, err := hs.c.WhoAmI(context.Background())
			if tt.wantErr == "" && err != nil {
				t.Fatalf("WhoAmI: %v", err)
			}
			if tt.wantErr != "" {
				e := wantKind(t, err, tt.wantErr)
				retryable := tt.wantErr == KindUnavailable || tt.wantErr == KindRateLimited
				if e.Retryable() != retryable {
					t.Errorf("Retryable() = %v after the last attempt", e.Retryable())
				}
			}
			if hs.requests() != tt.requests {
				t.Errorf("%d requests, want %d", hs.requests(), tt.requests)
			}
			if tt.waits != nil && !equalDurations(hs.waits, tt.waits) {
				t.Errorf("waits %v, want %v", hs.waits, tt.waits)
			}
			if tt.waits == nil && len(hs.waits) != tt.nwaits {
				t.Errorf("waits %v, want %d of them", hs.waits, tt.nwaits)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRetryAfterIsReported(t *testing.T) {
	hs := newHarness(t, rateLimited("7"), oneAttempt)
	e := wantKind(t, callTags(hs.c), KindRateLimited)
	if e.RetryAfter != 7*time.Second || e.Message != "" {
		t.Errorf("RetryAfter %s, message %q; want 7s and no message from the HTML page",
			e.RetryAfter, e.Message)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 29, 16, 26, 40, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{" 3 ", 3 * time.Second},
		{"soon", 0},
		{"99999999999999", 24 * time.Hour},
		{"Wed, 29 May 2024 16:28:10 GMT", 90 * time.Second},
		{"Wed, 29 May 2024 16:20:00 GMT", 0},
		{"Thu, 30 May 2024 20:00:00 GMT", 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.value, got, tt.want)
			}
		})
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	hs := newHarness(t, rateLimited(""))
	ctx, cancel := context.WithCancel(context.Background())
	hs.c.wait = func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}
	_, err := hs.c.WhoAmI(ctx)
	wantKind(t, err, KindRateLimited)
	if hs.requests() != 1 {
		t.Errorf("%d requests after cancelling, want 1", hs.requests())
	}

	_, err = hs.c.WhoAmI(ctx)
	e := wantKind(t, err, KindUnavailable)
	if !errors.Is(err, context.Canceled) || e.Status != 0 {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	wantText(t, err, "the request was cancelled: context canceled")
}

func TestDeadlineShorterThanBackoff(t *testing.T) {
	hs := newHarness(t, rateLimited("30"), func(cfg *Config) { cfg.MaxBackoff = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := hs.c.WhoAmI(ctx)
	wantKind(t, err, KindRateLimited)
	if hs.requests() != 1 || len(hs.waits) != 0 {
		t.Errorf("%d requests, waits %v; want 1 and none", hs.requests(), hs.waits)
	}
}

// resetting closes every connection without an answer.
func resetting(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
	}
}

func TestConnectionFailuresAreRetried(t *testing.T) {
	hs := newHarness(t, sequence(resetting(t), resetting(t), jsonOK(userBody)))
	if _, err := hs.c.WhoAmI(context.Background()); err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	if hs.requests() != 3 {
		t.Errorf("%d requests, want 3", hs.requests())
	}

	hs = newHarness(t, resetting(t))
	_, err := hs.c.WhoAmI(context.Background())
	e := wantKind(t, err, KindUnavailable)
	if e.Err == nil || hs.requests() != 4 {
		t.Errorf("cause %v after %d requests; want a cause after 4", e.Err, hs.requests())
	}
	wantText(t, err, "could not reach the host: ", "check the host URL and the network")
}
func TestBackoffIsBounded(t *testing.T) {
	c := &Client{minBackoff: 100 * time.Millisecond, maxBackoff: time.Second}
	for attempt, full := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		full *= time.Millisecond
		for range 50 {
			if d := c.backoff(attempt+1, 0); d < full/2 || d > full {
				t.Fatalf("attempt %d: backoff %s outside [%s, %s]", attempt+1, d, full/2, full)
			}
		}
	}
	if d := c.backoff(1, 3*time.Second); d != time.Second {
		t.Errorf("Retry-After 3s gives %s, want the 1s cap", d)
	}
	if d := c.backoff(1, 300*time.Millisecond); d != 300*time.Millisecond {
		t.Errorf("Retry-After 300ms gives %s, want it unchanged", d)
	}
}

func TestBrokenBodyIsRetried(t *testing.T) {
	short := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = w.Write([]byte(`{"username":`))
	}
	hs := newHarness(t, sequence(short, jsonOK(userBody)))
	if _, err := hs.c.WhoAmI(context.Background()); err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}

	hs = newHarness(t, http.HandlerFunc(short), oneAttempt)
	_, err := hs.c.WhoAmI(context.Background())
	e := wantKind(t, err, KindUnavailable)
	if e.Status != http.StatusOK {
		t.Errorf("status %d, want the 200 whose body broke", e.Status)
	}
	wantText(t, err, "the connection broke while reading the body: unexpected EOF")
}

func TestSleep(t *testing.T) {
	if err := sleep(context.Background(), time.Nanosecond); err != nil {
		t.Errorf("sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep on a cancelled context: %v", err)
	}
}
