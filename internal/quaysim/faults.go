package quaysim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Faults make the server misbehave the way a real deployment does: nginx rate limiting,
// proxy and application errors, latency. Every decision is a hash of the seed, the request
// (method and URI) and how often that request was seen, so a test that replays the same
// requests gets the same faults, even with concurrent clients, and a retry of a failed request
// gets a fresh decision.
type Faults struct {
	// RateLimitRate is the fraction of requests answered 429 with nginx's HTML page.
	RateLimitRate float64
	// RetryAfter, when positive, adds a Retry-After header (whole seconds, rounded up) to
	// 429s. Zero sends none, like Quay's nginx.
	RetryAfter time.Duration
	// ServerErrorRate is the fraction of requests answered with one of ServerErrorCodes.
	ServerErrorRate float64
	// ServerErrorCodes are the statuses server errors pick from. Optional: defaulted to 500
	// (Flask's JSON), 502 (Quay's "loading" page), 503 (nginx) and, on the security route,
	// 520 (the scanner's downstream_issue).
	ServerErrorCodes []int
	// Latency is added to every request before it is answered.
	Latency time.Duration
	// Seed varies the fault pattern; the same seed gives the same pattern.
	Seed uint64
	// Inject, when set, is asked about every request after the random faults; a non-zero
	// status answers the request with that status and the body Quay's stack would send.
	// It is called concurrently. FailAfter builds a common one.
	Inject func(route string, r *http.Request) int
}

// FailAfter returns an Inject function that lets the first n requests to route pass and
// answers every later one with status.
func FailAfter(route string, n, status int) func(string, *http.Request) int {
	var seen atomic.Int64
	return func(rt string, _ *http.Request) int {
		if rt == route && seen.Add(1) > int64(n) {
			return status
		}
		return 0
	}
}

type faultState struct {
	mu       sync.Mutex
	f        Faults
	attempts map[string]int
}

func (fs *faultState) set(f Faults) {
	f.ServerErrorCodes = append([]int(nil), f.ServerErrorCodes...)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.attempts = map[string]int{}
}

// SetFaults replaces the faults and restarts their pattern, as if the server were new.
func (s *Server) SetFaults(f Faults) {
	s.faults.set(f)
}

// decide applies latency and returns the fault answer for r, if any.
func (fs *faultState) decide(r *http.Request, route string) (response, bool) {
	key := r.Method + " " + r.URL.RequestURI()
	fs.mu.Lock()
	f := fs.f
	n := fs.attempts[key]
	fs.attempts[key] = n + 1
	fs.mu.Unlock()

	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	seed, attempt := strconv.FormatUint(f.Seed, 10), strconv.Itoa(n)
	if unit(seed, "rate-limit", key, attempt) < f.RateLimitRate {
		return f.answer(r, http.StatusTooManyRequests), true
	}
	if unit(seed, "server-error", key, attempt) < f.ServerErrorRate {
		codes := f.ServerErrorCodes
		if len(codes) == 0 {
			codes = []int{http.StatusInternalServerError, http.StatusBadGateway,
				http.StatusServiceUnavailable}
			if route == RouteSecurity {
				codes = append(codes, statusDownstreamIssue)
			}
		}
		return f.answer(r, codes[pick(len(codes), seed, "code", key, attempt)]), true
	}
	if f.Inject != nil {
		if status := f.Inject(route, r); status != 0 {
			return f.answer(r, status), true
		}
	}
	return response{}, false
}

// statusDownstreamIssue is the status of Quay's DownstreamIssue (a failing scanner).
const statusDownstreamIssue = 520

// answer is the body the component that produces status would send.
func (f Faults) answer(r *http.Request, status int) response {
	switch status {
	case http.StatusTooManyRequests:
		resp := nginxPage(status, "Too Many Requests")
		if f.RetryAfter > 0 {
			secs := int(math.Ceil(f.RetryAfter.Seconds()))
			resp.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
		}
		return resp
	case http.StatusBadGateway:
		return loadingPage()
	case http.StatusServiceUnavailable:
		return nginxPage(status, "Service Temporarily Unavailable")
	case http.StatusGatewayTimeout:
		return nginxPage(status, "Gateway Time-out")
	case statusDownstreamIssue:
		return apiError(r, status, "downstream_issue", "HTTPConnectionPool(host='clair', "+
			"port=8080): Read timed out. (read timeout=30)")
	case http.StatusUnauthorized:
		return apiError(r, status, "invalid_token", "Requires authentication")
	case http.StatusForbidden:
		return apiError(r, status, "insufficient_scope", "Unauthorized")
	case http.StatusNotFound:
		return notFound(r)
	}
	return message(status, http.StatusText(status))
}
