package quay

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrorKind classifies a failed call so that a caller can decide between retrying, asking the
// user to fix a setting, and giving up. The values are stable and may serve as error type names.
type ErrorKind string

// The kinds of *Error. Only KindRateLimited and KindUnavailable are retryable.
const (
	// KindUnauthorized is a 401: the token is invalid or expired, or lacks user:read on /user/.
	KindUnauthorized ErrorKind = "unauthorized"
	// KindForbidden is a 403: the token or its user lacks a permission, or (Quay checks
	// permission first) the repository does not exist.
	KindForbidden ErrorKind = "forbidden"
	// KindNotFound is a 404.
	KindNotFound ErrorKind = "not_found"
	// KindRateLimited is a 429, usually an HTML page from Quay's nginx.
	KindRateLimited ErrorKind = "rate_limited"
	// KindUnavailable covers 5xx (with Quay's 520 for a failing scanner), 408, connection
	// failures and timeouts.
	KindUnavailable ErrorKind = "unavailable"
	// KindMalformed is an answer the client cannot use: invalid JSON, an unexpected shape, an
	// HTML page where JSON was expected, an oversized body, or a refused redirect.
	KindMalformed ErrorKind = "malformed"
	// KindBadRequest is a 400 or another 4xx, an invalid argument, or an unverifiable TLS
	// certificate: retrying the same request cannot help.
	KindBadRequest ErrorKind = "bad_request"
	// KindEmptyNamespace is a first repository page without any repository. Quay answers an
	// expired or revoked token exactly like an empty namespace (200, empty list), so the client
	// refuses to report "no repositories" as a success.
	KindEmptyNamespace ErrorKind = "empty_namespace"
)

// ErrNoProgress is wrapped by the errors of EachRepository and EachTagPage when the server's
// pagination stops advancing: a page token repeats, a page only repeats rows already seen, or
// the server claims more pages without end. Restarting the walk from the first page is the
// usual remedy, since an expired repository page token makes Quay restart silently.
var ErrNoProgress = errors.New("quay pagination made no progress")

// Error is the error of every failed request: a non-2xx answer, a transport failure or a body
// that cannot be used. Its text names the request, what went wrong and how to fix it; it never
// contains the token.
type Error struct {
	Kind   ErrorKind
	Method string
	// URL is the request URL with its query; it never contains the token.
	URL string
	// Status is the HTTP status, 0 for transport errors and invalid arguments.
	Status int
	// Message is Quay's own message (error_message, detail or message), with the token
	// redacted and trimmed to about 200 characters.
	Message string
	// RetryAfter is the server's Retry-After, 0 when absent.
	RetryAfter time.Duration
	// Err is the underlying transport error, if any.
	Err error

	problem string // what went wrong, in words a user understands
	fix     string // what the user can do about it
}

// Error returns e.g. `GET https://q/api/v1/user/: 401 Unauthorized: the token was rejected ...
// (Quay answered "Requires authentication"); generate ...`.
func (e *Error) Error() string {
	var b strings.Builder
	if e.URL != "" {
		b.WriteString(e.Method + " " + e.URL + ": ")
	}
	if e.Status != 0 && (e.Status < 200 || e.Status > 299) {
		b.WriteString(strconv.Itoa(e.Status))
		if text := http.StatusText(e.Status); text != "" {
			b.WriteString(" " + text)
		}
		b.WriteString(": ")
	}
	if e.problem != "" {
		b.WriteString(e.problem)
	} else {
		b.WriteString(strings.ReplaceAll(string(e.Kind), "_", " "))
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " (Quay answered %q)", e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.fix != "" {
		b.WriteString("; " + e.fix)
	}
	return b.String()
}

// Unwrap returns the underlying transport error, so errors.Is(err, context.Canceled) works.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed later: rate limits and unavailability.
// It stays true after the client's own retries are exhausted, so an outer retry can take over.
func (e *Error) Retryable() bool {
	return e.Kind == KindRateLimited || e.Kind == KindUnavailable
}

// KindOf returns the kind of the *Error in err's chain, or "" when there is none.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// argError reports an argument that cannot make a valid request, before anything is sent.
func argError(format string, args ...any) *Error {
	return &Error{Kind: KindBadRequest, problem: fmt.Sprintf(format, args...)}
}

// malformed reports a 2xx body of the wrong shape; the request fills in method and URL.
func malformed(format string, args ...any) *Error {
	return &Error{Kind: KindMalformed, problem: fmt.Sprintf(format, args...)}
}

// redactedError stands in for an error whose text contained the token.
type redactedError struct {
	text string
	err  error
}

func (r *redactedError) Error() string { return r.text }
func (r *redactedError) Unwrap() error { return r.err }
