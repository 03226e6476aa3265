// Package quay is a read-only client for the REST API v1 of Red Hat Quay, authenticated with an
// OAuth bearer token. It copes with the quirks described in quay-api.md: bad tokens that look
// like empty data, page tokens that restart silently, offset tag paging that shifts under
// pushes, and fields whose JSON type varies.
package quay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

const (
	defaultTimeout     = 30 * time.Second
	defaultMaxAttempts = 4
	defaultMinBackoff  = 500 * time.Millisecond
	defaultMaxBackoff  = 30 * time.Second
	maxRedirects       = 5
	// Quay answers 400 to a browser-like User-Agent without X-Requested-With (quirk 16).
	userAgent = "quaykeeper/1"
	apiPrefix = "/api/v1"
)

// Config configures a Client. Host and Token are required.
type Config struct {
	// Host is the registry URL, e.g. https://quay.example.com, validated with ParseHost.
	Host string
	// Token is an OAuth access token, validated with ValidateToken.
	Token string
	// AllowHTTP permits a plain http Host, for a local simulator.
	AllowHTTP bool
	// HTTPClient is optional: defaulted to a client with a 30 s timeout. The client copies
	// it, wraps its Transport and replaces its CheckRedirect, to keep the token on the
	// configured host; the caller's value is left unchanged.
	HTTPClient *http.Client
	// MaxAttempts is optional: defaulted to 4. It bounds the attempts per request for
	// retryable failures (429, 5xx, 520, connection failures, timeouts), so one call takes
	// at most MaxAttempts timeouts plus MaxAttempts-1 backoffs; a context deadline that
	// would end during a backoff ends the call at once.
	MaxAttempts int
	// MinBackoff and MaxBackoff are optional: defaulted to 500ms and 30s. The wait doubles
	// from MinBackoff per attempt, with jitter, up to MaxBackoff; a Retry-After (seconds or
	// HTTP date) replaces it, capped at MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Limiter is optional: when set, every request (retries included) first waits for it, so
	// callers that share one limiter per host keep to a request rate Quay tolerates.
	Limiter Limiter
	// Observer is optional: when set, it sees every attempt, for traces and metrics.
	Observer Observer
}

// Limiter paces requests; golang.org/x/time/rate.Limiter is one.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Client calls one Quay registry with one token. It is safe for concurrent use.
type Client struct {
	host                   string // scheme://host
	token                  string
	http                   *http.Client
	maxAttempts            int
	minBackoff, maxBackoff time.Duration
	limiter                Limiter
	observer               Observer
	// wait sleeps between attempts; tests replace it to observe backoffs without sleeping.
	wait func(ctx context.Context, d time.Duration) error
}

// New validates cfg and returns a Client. It sends nothing.
func New(cfg Config) (*Client, error) {
	base, err := ParseHost(cfg.Host, cfg.AllowHTTP)
	if err != nil {
		return nil, err
	}
	if err := ValidateToken(cfg.Token); err != nil {
		return nil, err
	}
	c := &Client{
		host:        base.String(),
		token:       cfg.Token,
		maxAttempts: defaultMaxAttempts,
		minBackoff:  defaultMinBackoff,
		maxBackoff:  defaultMaxBackoff,
		limiter:     cfg.Limiter,
		observer:    cfg.Observer,
		wait:        sleep,
	}
	if cfg.MaxAttempts < 0 || cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 {
		return nil, errors.New("quay client: attempts and backoffs must not be negative")
	}
	if cfg.MaxAttempts > 0 {
		c.maxAttempts = cfg.MaxAttempts
	}
	if cfg.MinBackoff > 0 {
		c.minBackoff = cfg.MinBackoff
	}
	if cfg.MaxBackoff > 0 {
		c.maxBackoff = cfg.MaxBackoff
	}
	if c.minBackoff > c.maxBackoff {
		return nil, fmt.Errorf("quay client: min backoff %s exceeds max backoff %s",
			c.minBackoff, c.maxBackoff)
	}
	hc := http.Client{Timeout: defaultTimeout}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = &authTransport{base: rt, origin: c.host, token: c.token}
	hc.CheckRedirect = checkRedirect
	c.http = &hc
	return c, nil
}

// Host returns scheme://host of the registry, for logs and IDs.
func (c *Client) Host() string { return c.host }

// authTransport adds the token to requests for the configured origin only. Setting the header
// here rather than on the request keeps it off redirects to other hosts: net/http itself would
// forward it to another port of the same host, or to a subdomain.
type authTransport struct {
	base   http.RoundTripper
	origin string
	token  string
}

// RoundTrip implements http.RoundTripper.
func (t *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if origin(r.URL) != t.origin {
		return t.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

var (
	errTooManyRedirects = fmt.Errorf("stopped after %d redirects", maxRedirects)
	errDowngrade        = errors.New("refused a redirect from https to http")
	errCrossHost        = errors.New("refused a redirect to another host")
)

// checkRedirect follows at most maxRedirects redirects and never from https to plain http.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return errTooManyRedirects
	}
	if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errDowngrade
	}
	// The token is never sent to another host, and an answer from one is not Quay's answer
	// to the token, so the client does not follow such a redirect at all.
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("%w (%s)", errCrossHost, req.URL.Host)
	}
	return nil
}

// digestPattern is the digest syntax of Quay's manifest routes.
var digestPattern = regexp.MustCompile(`^[A-Za-z0-9_+.-]+:[A-Fa-f0-9]+$`)

// repoPath returns the escaped path of a repository below /api/v1. Each segment of the name is
// escaped on its own, so "team/app" keeps its slash; empty, "." and ".." segments are refused
// because they would address another resource.
func repoPath(namespace, repo string) (string, *Error) {
	if err := checkSegment("namespace", namespace, namespace); err != nil {
		return "", err
	}
	if strings.Contains(namespace, "/") {
		return "", argError("namespace %q contains a slash", namespace)
	}
	segments := strings.Split(repo, "/")
	for i, s := range segments {
		if err := checkSegment("repository name", repo, s); err != nil {
			return "", err
		}
		segments[i] = url.PathEscape(s)
	}
	return "/repository/" + url.PathEscape(namespace) + "/" + strings.Join(segments, "/"), nil
}

func checkSegment(what, whole, segment string) *Error {
	if segment == "" || segment == "." || segment == ".." {
		return argError("%s %q is empty or has an empty, \".\" or \"..\" path segment",
			what, whole)
	}
	return nil
}

// manifestPath returns the escaped path of a manifest below /api/v1.
func manifestPath(namespace, repo, digest string) (string, *Error) {
	p, err := repoPath(namespace, repo)
	if err != nil {
		return "", err
	}
	if !digestPattern.MatchString(digest) {
		return "", argError("manifest digest %q is not of the form algorithm:hex", digest)
	}
	return p + "/manifest/" + digest, nil
}
