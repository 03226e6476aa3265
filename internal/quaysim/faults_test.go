package quaysim

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRateLimitPage(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       string
	}{
		{"without Retry-After", 0, ""},
		{"with Retry-After", 1500 * time.Millisecond, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFixtureServer(t, Options{Faults: Faults{RateLimitRate: 1,
				RetryAfter: tt.retryAfter}})
			r := call(s, "/api/v1/user/", tokFull).mustStatus(t, http.StatusTooManyRequests)
			if got := r.header.Get("Retry-After"); got != tt.want {
				t.Errorf("Retry-After = %q, want %q", got, tt.want)
			}
			body := string(r.body)
			if !strings.HasPrefix(body, "<html>\r\n<head><title>429 Too Many Requests</title>") ||
				!strings.Contains(body, "<center>nginx") {
				t.Errorf("body = %q, want nginx's HTML page", body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

// faultSequence replays a fixed request sequence and returns the statuses.
func faultSequence(s *Server) []int {
	var out []int
	for i := range 200 {
		path := fmt.Sprintf("/api/v1/repository/acme/api/tag/?page=%d", i%20+1)
		out = append(out, call(s, path, tokFull).code)
	}
	return out
}

func TestServerErrorRate(t *testing.T) {
	faults := Faults{ServerErrorRate: 0.3, RateLimitRate: 0.1, Seed: 42}
	s := newFixtureServer(t, Options{Faults: faults})
	first := faultSequence(s)
	counts := map[int]int{}
	for _, c := range first {
		counts[c]++
	}
	if counts[200] < 100 || counts[429] == 0 || counts[500] == 0 || counts[502] == 0 ||
		counts[503] == 0 || counts[520] != 0 {
		t.Errorf("status counts = %v, want mostly 200, some 429/500/502/503, no 520 off the "+
			"security route", counts)
	}
	if got := s.Stats().ByStatus; !maps.Equal(got, counts) {
		t.Errorf("Stats().ByStatus = %v, want %v", got, counts)
	}

	s.SetFaults(faults)
	if again := faultSequence(s); !slices.Equal(first, again) {
		t.Errorf("SetFaults with the same seed gave a different pattern")
	}
	other := newFixtureServer(t, Options{Faults: Faults{ServerErrorRate: 0.3, RateLimitRate: 0.1,
		Seed: 43}})
	if slices.Equal(first, faultSequence(other)) {
		t.Errorf("seeds 42 and 43 gave the same pattern")
	}
}

// A retry of a failed request gets a fresh decision, so a client with retries gets through.
func TestFaultsRetryEventuallySucceeds(t *testing.T) {
	s := newFixtureServer(t, Options{Faults: Faults{ServerErrorRate: 0.5, Seed: 7}})
	for attempt := 1; ; attempt++ {
		if call(s, "/api/v1/user/", tokFull).code == 200 {
			break
		}
		if attempt == 30 {
			t.Fatal("30 attempts of one request all failed at a 50% error rate")
		}
	}
}

func TestServerErrorBodies(t *testing.T) {
	tests := []struct {
		status           int
		route, path, has string
	}{
		{500, RouteUser, "/api/v1/user/", `{"message":"Internal Server Error"}`},
		{502, RouteUser, "/api/v1/user/", "Quay is currently loading"},
		{503, RouteUser, "/api/v1/user/", "<title>503 Service Temporarily Unavailable</title>"},
		{520, RouteSecurity, "/api/v1/repository/acme/api/manifest/" + dg("v130") + "/security",
			`"error_type":"downstream_issue"`},
		{404, RouteTags, apiTags, `"error_type":"not_found"`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			s := newFixtureServer(t, Options{Faults: Faults{ServerErrorRate: 1,
				ServerErrorCodes: []int{tt.status}}})
			r := call(s, tt.path, tokFull).mustStatus(t, tt.status)
			if !strings.Contains(string(r.body), tt.has) {
				t.Errorf("body = %s, want it to contain %s", r.body, tt.has)
			}
			injected := newFixtureServer(t, Options{Faults: Faults{
				Inject: FailAfter(tt.route, 0, tt.status)}})
			if got := call(injected, tt.path, tokFull); string(got.body) != string(r.body) {
				t.Errorf("Inject body = %s, want the same as the random fault's", got.body)
			}
		})
	}
	// The default mix on the security route includes the scanner's 520.
	s := newFixtureServer(t, Options{Faults: Faults{ServerErrorRate: 1}})
	seen := map[int]bool{}
	for i := range 100 {
		path := fmt.Sprintf("/api/v1/repository/acme/api/manifest/%s/security?i=%d",
			dg("v130"), i)
		seen[call(s, path, tokFull).code] = true
	}
	if !seen[520] || !seen[500] {
		t.Errorf("security statuses = %v, want 520 among them", seen)
	}
}

func TestFailAfter(t *testing.T) {
	s := newFixtureServer(t, Options{Faults: Faults{Inject: FailAfter(RouteTags, 2, 503)}})
	var got []int
	for range 4 {
		got = append(got, call(s, apiTags, tokFull).code)
		call(s, "/api/v1/user/", tokFull).mustStatus(t, 200)
	}
	if want := []int{200, 200, 503, 503}; !slices.Equal(got, want) {
		t.Errorf("tag statuses = %v, want %v", got, want)
	}
	s.SetFaults(Faults{})
	call(s, apiTags, tokFull).mustStatus(t, 200)
}

func TestLatency(t *testing.T) {
	const latency = 30 * time.Millisecond
	s := newFixtureServer(t, Options{Faults: Faults{Latency: latency}})
	start := time.Now()
	call(s, "/api/v1/user/", tokFull).mustStatus(t, 200)
	// A lower bound only: the delay is added, never skipped.
	if elapsed := time.Since(start); elapsed < latency {
		t.Errorf("request took %v, want at least the injected %v", elapsed, latency)
	}
}

// TestConcurrentUse runs requests, fault changes and data changes together; run with -race.
func TestConcurrentUse(t *testing.T) {
	s := newFixtureServer(t, Options{Now: time.Now})
	srv := httptest.NewServer(s)
	defer srv.Close()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+apiTags, nil)
				req.Header.Set("Authorization", "Bearer "+tokFull)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if w == 0 {
					s.SetFaults(Faults{RateLimitRate: float64(i%2) / 2, Seed: uint64(i)})
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 25 {
			if err := s.PushTag("acme", "api", Tag{Name: fmt.Sprintf("c%d", i),
				ManifestDigest: dg("c"), Size: 1}); err != nil {
				t.Error(err)
			}
			_ = s.Stats()
		}
	})
	wg.Wait()
	if got := s.Stats().ByRoute[RouteTags]; got != 100 {
		t.Errorf("Stats counted %d tag requests, want 100", got)
	}
}
