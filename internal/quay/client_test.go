package quay

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const userBody = `{"anonymous": false, "username": "alice", "avatar": {"name": "alice", ` +
	`"hash": "3c1f", "color": "#969696", "kind": "user"}, "organizations": [{"name": "acme", ` +
	`"avatar": {"name": "acme", "hash": "9a0b", "color": "#1f77b4", "kind": "org"}, ` +
	`"can_create_repo": false, "public": false}]}`

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "bad host", cfg: Config{Host: "quay.example.com", Token: "t"},
			wantErr: "has no scheme"},
		{name: "bad token", cfg: Config{Host: "https://q", Token: "t t"},
			wantErr: "contains whitespace"},
		{name: "negative attempts", cfg: Config{Host: "https://q", Token: "t", MaxAttempts: -1},
			wantErr: "must not be negative"},
		{name: "min above max", cfg: Config{Host: "https://q", Token: "t",
			MinBackoff: time.Minute}, wantErr: "min backoff 1m0s exceeds max backoff 30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}

	c, err := New(Config{Host: "https://Quay.Example.com:443/", Token: "t"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if c.Host() != "https://quay.example.com" || c.maxAttempts != 4 ||
		c.minBackoff != 500*time.Millisecond || c.maxBackoff != 30*time.Second ||
		c.http.Timeout != 30*time.Second {
		t.Errorf("defaults: host %s, attempts %d, backoff %s..%s, timeout %s", c.Host(),
			c.maxAttempts, c.minBackoff, c.maxBackoff, c.http.Timeout)
	}

	own := &http.Client{Timeout: time.Second}
	if _, err := New(Config{Host: "https://q", Token: "t", HTTPClient: own}); err != nil {
		t.Fatalf("New: %v", err)
	}
	if own.Transport != nil || own.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}

func TestRequestHeaders(t *testing.T) {
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Error("the request lacks the bearer token")
		}
		if r.Header.Get("Accept") != "application/json" ||
			r.Header.Get("User-Agent") != "quaykeeper/1" || r.Method != http.MethodGet {
			t.Errorf("%s with Accept %q, User-Agent %q", r.Method, r.Header.Get("Accept"),
				r.Header.Get("User-Agent"))
		}
		jsonOK(userBody)(w, r)
	}))
	u, err := hs.c.WhoAmI(context.Background())
	if err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	if u.Username != "alice" {
		t.Errorf("user %q", u.Username)
	}
}

// authRecorder serves userBody and records whether each request carried the token.
type authRecorder struct{ sawToken, sawOther chan bool }

func (a authRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.sawToken <- r.Header.Get("Authorization") == "Bearer "+testToken
	a.sawOther <- r.Header.Get("Authorization") != "" &&
		r.Header.Get("Authorization") != "Bearer "+testToken
	jsonOK(userBody)(w, r)
}

func TestRedirectSameHostKeepsToken(t *testing.T) {
	rec := authRecorder{make(chan bool, 1), make(chan bool, 1)}
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/user/" {
			http.Redirect(w, r, "/api/v1/moved/", http.StatusMovedPermanently)
			return
		}
		rec.ServeHTTP(w, r)
	}))
	if _, err := hs.c.WhoAmI(context.Background()); err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	if !<-rec.sawToken {
		t.Error("the token was not sent after a same-host redirect")
	}
}

func TestRedirectOtherHostRefused(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		jsonOK(userBody).ServeHTTP(w, nil)
	}))
	t.Cleanup(other.Close)
	// Same host name, other port: net/http alone would forward the header here, and the
	// other host's answer is not Quay's answer to the token anyway.
	hs := newHarness(t, http.RedirectHandler(other.URL+"/api/v1/user/", http.StatusFound))
	_, err := hs.c.WhoAmI(context.Background())
	if KindOf(err) != KindMalformed || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("WhoAmI error = %v, want a refused redirect", err)
	}
	if hits.Load() != 0 {
		t.Error("the client followed a redirect to another host")
	}
}

func TestRedirectDowngradeRefused(t *testing.T) {
	plain := httptest.NewServer(jsonOK(userBody))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/api/v1/user/",
		http.StatusFound))
	t.Cleanup(secure.Close)
	c, err := New(Config{Host: secure.URL, Token: testToken, HTTPClient: secure.Client()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = c.WhoAmI(context.Background())
	wantKind(t, err, KindMalformed)
	wantText(t, err, "the host redirected the request: refused a redirect from https to http")
}

func TestRedirectLoopStops(t *testing.T) {
	hs := newHarness(t, http.RedirectHandler("/api/v1/user/", http.StatusFound))
	_, err := hs.c.WhoAmI(context.Background())
	wantKind(t, err, KindMalformed)
	wantText(t, err, "stopped after 5 redirects")
	if n := hs.requests(); n != 6 {
		t.Errorf("%d requests, want the first and 5 redirects", n)
	}
}

func TestUnverifiedCertificateIsNotRetried(t *testing.T) {
	srv := httptest.NewUnstartedServer(jsonOK(userBody))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c, err := New(Config{Host: srv.URL, Token: testToken, MinBackoff: time.Millisecond,
		MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = c.WhoAmI(context.Background())
	wantKind(t, err, KindBadRequest)
	wantText(t, err, "the host's TLS certificate could not be verified")
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1: a certificate error is not retried", n)
	}
}
