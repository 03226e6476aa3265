package quay

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// recordingObserver keeps every attempt it is told of, with how it ended.
type recordingObserver struct {
	mu       sync.Mutex
	attempts []observedAttempt
}

type observedAttempt struct {
	info   RequestInfo
	result RequestResult
	ends   int
}

// observerKey marks the context the observer hands back, to see it reach the transport.
type observerKey struct{}

func (o *recordingObserver) StartRequest(ctx context.Context, req RequestInfo) (
	context.Context, func(RequestResult)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.attempts = append(o.attempts, observedAttempt{info: req})
	i := len(o.attempts) - 1
	return context.WithValue(ctx, observerKey{}, req.Attempt), func(res RequestResult) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.attempts[i].result = res
		o.attempts[i].ends++
	}
}

func (o *recordingObserver) seen() []observedAttempt {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observedAttempt(nil), o.attempts...)
}

// contextTransport records the observer's mark on each request it sends.
type contextTransport struct {
	marks atomic.Int32
}

func (t *contextTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if _, ok := r.Context().Value(observerKey{}).(int); ok {
		t.marks.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestObserverSeesRouteTemplates(t *testing.T) {
	const digest = "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"
	tests := []struct {
		name  string
		call  func(c *Client) error
		route string
	}{
		{"who am I", func(c *Client) error { _, err := c.WhoAmI(context.Background()); return err },
			"/api/v1/user/"},
		{"organization", func(c *Client) error {
			return c.Organization(context.Background(), "acme")
		}, "/api/v1/organization/{orgname}"},
		{"repositories", func(c *Client) error {
			_, err := c.Repositories(context.Background(), "acme", "")
			return err
		}, "/api/v1/repository"},
		{"tags of a nested repository", func(c *Client) error {
			_, err := c.Tags(context.Background(), "acme", "team/manifest/api", 2)
			return err
		}, "/api/v1/repository/{namespace}/{repo}/tag/"},
		{"specific tag", func(c *Client) error {
			_, _, err := c.ActiveTag(context.Background(), "acme", "api", "v1")
			return err
		}, "/api/v1/repository/{namespace}/{repo}/tag/"},
		{"manifest of a repository named tag", func(c *Client) error {
			_, err := c.Manifest(context.Background(), "acme", "tag", digest)
			return err
		}, "/api/v1/repository/{namespace}/{repo}/manifest/{digest}"},
		{"security", func(c *Client) error {
			_, err := c.Security(context.Background(), "acme", "api", digest)
			return err
		}, "/api/v1/repository/{namespace}/{repo}/manifest/{digest}/security"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := &recordingObserver{}
			hs := newHarness(t, reply(http.StatusNotFound, "application/json",
				`{"error_message": "Not Found"}`), func(c *Config) { c.Observer = obs })
			wantKind(t, tt.call(hs.c), KindNotFound)
			got := obs.seen()
			if len(got) != 1 {
				t.Fatalf("observer saw %d attempts, want 1", len(got))
			}
			want := observedAttempt{info: RequestInfo{Method: http.MethodGet, Host: hs.c.Host(),
				Route: tt.route, Attempt: 1},
				result: RequestResult{Status: http.StatusNotFound, Kind: KindNotFound}, ends: 1}
			if got[0] != want {
				t.Errorf("observed %+v, want %+v", got[0], want)
			}
		})
	}
}

func TestObserverSeesEveryAttempt(t *testing.T) {
	var hits atomic.Int32
	flaky := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			reply(http.StatusServiceUnavailable, "text/html", "<html>busy</html>")(w, r)
			return
		}
		jsonOK(`{"username": "alice", "organizations": []}`)(w, r)
	})
	obs, rt := &recordingObserver{}, &contextTransport{}
	hs := newHarness(t, flaky, func(c *Config) {
		c.Observer, c.HTTPClient = obs, &http.Client{Transport: rt}
	})
	if _, err := hs.c.WhoAmI(context.Background()); err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	got := obs.seen()
	want := []observedAttempt{
		{info: RequestInfo{Method: http.MethodGet, Host: hs.c.Host(), Route: routeUser,
			Attempt: 1}, result: RequestResult{Status: 503, Kind: KindUnavailable}, ends: 1},
		{info: RequestInfo{Method: http.MethodGet, Host: hs.c.Host(), Route: routeUser,
			Attempt: 2}, result: RequestResult{Status: 200}, ends: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observed %+v, want %+v", got, want)
	}
	if rt.marks.Load() != 2 {
		t.Errorf("%d of 2 attempts were sent with the observer's context", rt.marks.Load())
	}
}

func TestObserverResults(t *testing.T) {
	tests := []struct {
		name    string
		handler http.Handler
		want    RequestResult
	}{
		{"malformed 200", jsonOK(`{"username": 7}`),
			RequestResult{Status: 200, Kind: KindMalformed}},
		{"rejected token", reply(http.StatusUnauthorized, "application/json",
			`{"error_message": "Requires authentication"}`),
			RequestResult{Status: 401, Kind: KindUnauthorized}},
		{"no answer", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}), RequestResult{Kind: KindUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := &recordingObserver{}
			hs := newHarness(t, tt.handler, oneAttempt, func(c *Config) { c.Observer = obs })
			if _, err := hs.c.WhoAmI(context.Background()); err == nil {
				t.Fatal("WhoAmI succeeded")
			}
			got := obs.seen()
			if len(got) != 1 || got[0].result != tt.want || got[0].ends != 1 {
				t.Fatalf("observed %+v, want one attempt ending %+v", got, tt.want)
			}
			if s := fmt.Sprint(got); strings.Contains(s, testToken) {
				t.Error("the observer was shown the token")
			}
		})
	}
}
