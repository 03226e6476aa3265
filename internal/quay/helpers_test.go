package quay

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testToken is long and distinctive so that a leak into any text is found by substring.
const testToken = "qkTESTtoken0123456789abcdefSECRET"

// harness is a loopback server and a client for it whose waits between attempts are recorded
// instead of slept.
type harness struct {
	srv *httptest.Server
	c   *Client

	mu    sync.Mutex
	hits  int
	waits []time.Duration
}

// newHarness serves h on loopback; mods adjust the client's Config before New.
func newHarness(t *testing.T, h http.Handler, mods ...func(*Config)) *harness {
	t.Helper()
	hs := &harness{}
	hs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.mu.Lock()
		hs.hits++
		hs.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.srv.Close)
	cfg := Config{Host: hs.srv.URL, Token: testToken, AllowHTTP: true,
		MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.wait = func(ctx context.Context, d time.Duration) error {
		hs.mu.Lock()
		hs.waits = append(hs.waits, d)
		hs.mu.Unlock()
		return ctx.Err()
	}
	hs.c = c
	return hs
}

// requests returns how many requests the server has seen.
func (hs *harness) requests() int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.hits
}

func oneAttempt(cfg *Config) { cfg.MaxAttempts = 1 }

// reply answers every request with status, content type and body.
func reply(status int, ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// jsonOK answers every request with 200 and a JSON body.
func jsonOK(body string) http.HandlerFunc { return reply(http.StatusOK, "application/json", body) }

// expect answers with a JSON body after checking the escaped path and the raw query.
func expect(t *testing.T, path, query, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != path || r.URL.RawQuery != query {
			t.Errorf("request %s?%s, want %s?%s", r.URL.EscapedPath(), r.URL.RawQuery,
				path, query)
		}
		jsonOK(body)(w, r)
	}
}

// wantKind fails unless err is an *Error of kind; it reports the error text, which tests make
// sure never holds the token.
func wantKind(t *testing.T, err error, kind ErrorKind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an *Error of kind %s", err, err, kind)
	}
	if e.Kind != kind {
		t.Fatalf("kind %s, want %s; error: %v", e.Kind, kind, err)
	}
	return e
}

// wantText fails unless the error's text contains every part.
func wantText(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err.Error(), p)
		}
	}
}

func ptr[T any](v T) *T { return &v }
