// Package activities holds the steps of an organization sync that touch the world: Quay's
// API and PostgreSQL. Each is idempotent, so Temporal may retry it freely, and each takes and
// returns small values (IDs, cursors, counts): tag lists live in PostgreSQL, never in workflow
// history.
package activities

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"quaykeeper/internal/quay"
	"quaykeeper/internal/secret"
	"quaykeeper/internal/store"
	"quaykeeper/internal/telemetry"
)

// Error types of permanent failures. Retrying them cannot help; the workflow's retry policy
// lists them as non-retryable and their messages say what to fix.
const (
	ErrTypeQuayUnauthorized = "QuayUnauthorized"
	ErrTypeQuayForbidden    = "QuayForbidden"
	ErrTypeQuayMalformed    = "QuayMalformedResponse"
	ErrTypeQuayBadRequest   = "QuayBadRequest"
	ErrTypeQuayNotFound     = "QuayNotFound"
	ErrTypeUnknownOrg       = "UnknownOrganization"
	ErrTypeNamespaceEmptied = "NamespaceEmptied"
	ErrTypeInvalidSettings  = "InvalidSettings"
	ErrTypeIncompleteCrawl  = "IncompleteCrawl"
	ErrTypeDisconnected     = "Disconnected"
)

// NonRetryableErrorTypes lists every permanent failure type, for retry policies.
var NonRetryableErrorTypes = []string{
	ErrTypeQuayUnauthorized, ErrTypeQuayForbidden, ErrTypeQuayMalformed, ErrTypeQuayBadRequest,
	ErrTypeQuayNotFound, ErrTypeUnknownOrg, ErrTypeNamespaceEmptied, ErrTypeInvalidSettings,
	ErrTypeIncompleteCrawl, ErrTypeDisconnected,
}

// Activities holds what the sync's activities share: the store, the key that opens stored
// tokens and the HTTP client for Quay. It is registered with the worker once.
type Activities struct {
	Store *store.Store
	Box   *secret.Box
	// Temporal starts syncs and keeps schedules, on TaskQueue.
	Temporal  client.Client
	TaskQueue string
	// HTTPClient talks to Quay; nil means a client with QuayTimeout.
	HTTPClient *http.Client
	// Optional: defaulted to 30 s. Bounds one request to Quay.
	QuayTimeout time.Duration
	// Optional: defaulted by the quay package. Attempts and backoff of one request to Quay
	// before the activity fails and Temporal's retry policy takes over.
	QuayAttempts                   int
	QuayMinBackoff, QuayMaxBackoff time.Duration
	// QuayRPS bounds the requests per second this worker sends to one Quay host, across all
	// its activities; 0 means no bound.
	QuayRPS float64

	// Metrics and QuayObserver are optional: nil records nothing. They count the pipeline's
	// work and trace and measure every Quay request.
	Metrics      *telemetry.Metrics
	QuayObserver quay.Observer

	limitersMu sync.Mutex
	limiters   map[string]*rate.Limiter
}

// limiter returns the host's shared request limiter, or nil when there is no bound.
func (a *Activities) limiter(host string) quay.Limiter {
	if a.QuayRPS <= 0 {
		return nil
	}
	a.limitersMu.Lock()
	defer a.limitersMu.Unlock()
	if a.limiters == nil {
		a.limiters = map[string]*rate.Limiter{}
	}
	l, ok := a.limiters[host]
	if !ok {
		l = rate.NewLimiter(rate.Limit(a.QuayRPS), max(1, int(a.QuayRPS)))
		a.limiters[host] = l
	}
	return l
}

// quayClient opens the organization's connection and returns a client for its Quay.
func (a *Activities) quayClient(ctx context.Context, org store.Organization) (*quay.Client,
	error) {
	conn, err := a.Store.Connection(ctx, org.ConnectionID)
	if err != nil {
		return nil, err
	}
	if conn.NeedsTokenReason == store.Disconnected {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s was "+
			"disconnected: connect it again with `starter connect --host %s`", conn.Host,
			conn.Host), ErrTypeDisconnected, nil)
	}
	token, err := conn.Token(a.Box)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(),
			ErrTypeQuayUnauthorized, nil)
	}
	httpClient := a.HTTPClient
	if httpClient == nil {
		timeout := a.QuayTimeout
		if timeout == 0 {
			timeout = 30 * time.Second
		}
		httpClient = &http.Client{Timeout: timeout}
	}
	client, err := quay.New(quay.Config{
		Host: conn.Host, Token: token, AllowHTTP: conn.AllowHTTP, HTTPClient: httpClient,
		MaxAttempts: a.QuayAttempts, MinBackoff: a.QuayMinBackoff, MaxBackoff: a.QuayMaxBackoff,
		Limiter: a.limiter(conn.Host), Observer: a.QuayObserver,
	})
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("connection %s: %v", conn.Host, err), ErrTypeQuayBadRequest, nil)
	}
	return client, nil
}

// quayFailure turns a Quay error into what Temporal should do with it: permanent failures
// become non-retryable application errors, the rest stay retryable.
func quayFailure(err error) error {
	var typ string
	switch quay.KindOf(err) {
	case quay.KindUnauthorized:
		typ = ErrTypeQuayUnauthorized
	case quay.KindForbidden:
		typ = ErrTypeQuayForbidden
	case quay.KindMalformed:
		typ = ErrTypeQuayMalformed
	case quay.KindBadRequest:
		typ = ErrTypeQuayBadRequest
	case quay.KindNotFound:
		typ = ErrTypeQuayNotFound
	default:
		return err
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), typ, nil)
}
