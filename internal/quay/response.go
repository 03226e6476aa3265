package quay

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// endpoint groups the API calls whose failures mean the same thing to a user.
type endpoint int

const (
	epUser         endpoint = iota // GET /user/
	epOrganization                 // GET /organization/{org}
	epRepositories                 // GET /repository
	epRepository                   // tags and manifests of one repository
	epSecurity                     // security report of one manifest
)

// maxMessage is roughly how much of Quay's message an error keeps.
const maxMessage = 200

const (
	scopesFix = `or generate a token with "View all visible repositories" and ` +
		`"Read User Information"`
	retryFix = "retry later"
)

// statusError builds the error for a non-2xx answer.
func (c *Client) statusError(cl call, resp *http.Response, body []byte) *Error {
	e := &Error{
		Kind:       statusKind(resp.StatusCode),
		Status:     resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	e.problem, e.fix = explain(e.Kind, resp.StatusCode, cl)
	ctype := resp.Header.Get("Content-Type")
	if !isHTML(ctype, body) {
		e.Message = trimMessage(c.redact(quayMessage(body)))
	} else if e.Kind != KindRateLimited && e.Kind != KindUnavailable {
		// nginx serves 429 and 5xx as HTML; anything else in HTML is probably not Quay.
		e.problem += fmt.Sprintf(" (the host answered an HTML page, content type %q, not "+
			"JSON: check that the host is the Quay API and not a proxy or login page)",
			c.redact(ctype))
	}
	return e
}

// statusKind maps an HTTP status to a kind.
func statusKind(status int) ErrorKind {
	switch {
	case status == http.StatusUnauthorized:
		return KindUnauthorized
	case status == http.StatusForbidden:
		return KindForbidden
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status == http.StatusRequestTimeout || status >= 500 && status <= 599:
		return KindUnavailable
	case status >= 400 && status <= 499:
		return KindBadRequest
	}
	// A redirect that was not followed, or an informational status.
	return KindMalformed
}

// explain says what a failed call means and what fixes it.
func explain(kind ErrorKind, status int, cl call) (problem, fix string) {
	switch kind {
	case KindUnauthorized:
		if cl.ep == epUser {
			return `the token was rejected: it is invalid or expired, or it lacks "Read User ` +
				`Information" (user:read), and Quay answers 401 for both`, tokenHowTo
		}
		return "the request ran as anonymous: Quay ignores an invalid or expired token", tokenHowTo
	case KindForbidden:
		switch cl.ep {
		case epRepository, epSecurity:
			return fmt.Sprintf(`the token may not read %s: it lacks "View all visible `+
					`repositories" (repo:read), or its user has no read access to the `+
					`repository; Quay also answers 403 for a repository that does not exist`,
					cl.subject),
				"check the repository name, give the token's user read access, " + scopesFix
		case epUser:
			return `the token lacks "Read User Information" (user:read)`, tokenHowTo
		}
		return fmt.Sprintf("the token lacks a permission needed to read %s", cl.subject),
			"give the token's user access to the namespace, " + scopesFix
	case KindNotFound:
		switch cl.ep {
		case epOrganization:
			return fmt.Sprintf("%s does not exist, or is a user namespace (Quay answers 404 "+
				"for both)", cl.subject), "check the organization name"
		case epSecurity:
			return fmt.Sprintf("%s was not found, or this Quay has no security scanner "+
				"(FEATURE_SECURITY_SCANNER is off)", cl.subject), ""
		}
		return fmt.Sprintf("%s was not found", cl.subject), ""
	case KindRateLimited:
		return "the host is rate limiting requests", retryFix + " with fewer concurrent requests"
	case KindUnavailable:
		switch {
		case status == 520 && cl.ep == epSecurity:
			return "Quay's security scanner could not answer", retryFix
		case status == 520:
			return "a service behind Quay failed", retryFix
		case status == http.StatusServiceUnavailable:
			return "the host is unavailable (Quay may be in read-only mode)", retryFix
		case status == http.StatusRequestTimeout:
			return "the host timed out waiting for the request", retryFix
		}
		return "the host had a server error", retryFix
	case KindBadRequest:
		return fmt.Sprintf("Quay refused the request for %s", cl.subject), ""
	}
	return "the host answered with an unexpected status", "check the host URL"
}

// quayMessage finds Quay's message in an error body: a JSON object's error_message, detail,
// message or error (reqparse puts an object under message), or the first line of a text body.
func quayMessage(body []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		return line
	}
	for _, key := range []string{"error_message", "detail", "message", "error"} {
		raw, ok := fields[key]
		if !ok || string(raw) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return string(raw)
		}
		if s != "" {
			return s
		}
	}
	return ""
}

// trimMessage shortens s to about maxMessage characters, on a rune boundary.
func trimMessage(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// transportError classifies a failure to get an answer at all.
func (c *Client) transportError(err error) *Error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	if strings.Contains(inner.Error(), c.token) {
		inner = &redactedError{text: c.redact(inner.Error()), err: inner}
	}
	e := &Error{Kind: KindUnavailable, Err: inner, problem: "could not reach the host",
		fix: "check the host URL and the network, or " + retryFix}
	var cert *tls.CertificateVerificationError
	switch {
	case errors.Is(err, errTooManyRedirects), errors.Is(err, errDowngrade),
		errors.Is(err, errCrossHost):
		e.Kind, e.problem, e.fix = KindMalformed, "the host redirected the request",
			"check the host URL (give the address Quay answers on) and any proxy in front "+
				"of Quay"
	case errors.As(err, &cert):
		e.Kind, e.problem = KindBadRequest, "the host's TLS certificate could not be verified"
		e.fix = "check the host name, or add the registry's CA to the system trust store"
	case errors.Is(err, context.Canceled):
		e.problem, e.fix = "the request was cancelled", ""
	case errors.Is(err, context.DeadlineExceeded) || ue != nil && ue.Timeout():
		e.problem = "the request timed out"
	}
	return e
}
