package quay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

const (
	mib = 1 << 20
	// defaultBodyLimit bounds every JSON answer but security reports.
	defaultBodyLimit = 8 * mib
	// securityBodyLimit bounds security reports, which list every package of an image.
	securityBodyLimit = 64 * mib
	// errorBodyLimit bounds what is read of a non-2xx body to find Quay's message.
	errorBodyLimit = 64 << 10
	// maxRetryAfter keeps an absurd Retry-After from overflowing a Duration.
	maxRetryAfter = 24 * time.Hour
)

// call describes one GET below /api/v1.
type call struct {
	ep      endpoint
	subject string // the thing asked for, as a noun phrase for messages
	path    string // escaped path below /api/v1
	query   url.Values
	limit   int64 // largest body read; 0 means defaultBodyLimit
}

// get sends the call, retrying retryable failures, and decodes a 2xx JSON body into out.
// check, if not nil, then inspects out and returns an error for a body of the wrong shape.
func (c *Client) get(ctx context.Context, cl call, out any, check func() *Error) error {
	u := c.host + apiPrefix + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	for attempt := 1; ; attempt++ {
		e := c.once(ctx, cl, u, attempt, out, check)
		if e == nil {
			return nil
		}
		if !e.Retryable() || attempt >= c.maxAttempts {
			return e
		}
		d := c.backoff(attempt, e.RetryAfter)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
			return e
		}
		if c.wait(ctx, d) != nil {
			return e
		}
	}
}

// once sends the call a single time, as the given attempt.
func (c *Client) once(ctx context.Context, cl call, u string, attempt int, out any,
	check func() *Error) (e *Error) {
	fail := func(e *Error) *Error {
		e.Method, e.URL = http.MethodGet, u
		return e
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail(&Error{Kind: KindBadRequest, problem: "cannot build the request", Err: err})
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return fail(&Error{Kind: KindUnavailable, problem: "gave up waiting for the " +
				"request rate limit", Err: err})
		}
	}
	status := 0
	req, done := c.observe(req, cl, attempt)
	defer func() { done(status, e) }()
	resp, err := c.http.Do(req)
	if err != nil {
		return fail(c.transportError(err))
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	limit := cl.limit
	switch {
	case !ok:
		limit = errorBodyLimit
	case limit == 0:
		limit = defaultBodyLimit
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		e := c.transportError(err)
		e.Status, e.problem = resp.StatusCode, "the connection broke while reading the body"
		return fail(e)
	}
	if !ok {
		return fail(c.statusError(cl, resp, body))
	}
	if e := c.decode(resp.Header.Get("Content-Type"), body, limit, out, check); e != nil {
		e.Status = resp.StatusCode
		return fail(e)
	}
	return nil
}

// decode unmarshals a 2xx body read with the given limit into out and checks its shape.
func (c *Client) decode(
	ctype string, body []byte, limit int64, out any, check func() *Error,
) *Error {
	switch {
	case int64(len(body)) > limit:
		return malformed("the body is larger than the %d MiB this client reads", limit/mib)
	case isHTML(ctype, body):
		return &Error{Kind: KindMalformed, fix: "check the host URL",
			problem: fmt.Sprintf("the host answered an HTML page (content type %q) where "+
				"JSON was expected: it may not be a Quay API URL, or a proxy or login page "+
				"answered", c.redact(ctype))}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return malformed("%s (content type %q)", describeJSONError(err, body), c.redact(ctype))
	}
	if check != nil {
		return check()
	}
	return nil
}

// backoff is the wait before the attempt after attempt: Retry-After when the server gave one,
// otherwise MinBackoff doubled per attempt, both capped at MaxBackoff. The exponential wait is
// drawn from its upper half, so that clients failing together do not retry together.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, c.maxBackoff)
	}
	d := c.minBackoff
	for i := 1; i < attempt && d < c.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date; 0 if absent,
// invalid or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// isHTML reports an HTML answer by its content type or, when a proxy mislabels it, by its
// first byte: no JSON document starts with "<".
func isHTML(ctype string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(ctype)
	return mt == "text/html" || mt == "application/xhtml+xml" ||
		bytes.HasPrefix(bytes.TrimSpace(body), []byte("<"))
}

// describeJSONError turns a decoding error into a sentence naming the field at fault.
func describeJSONError(err error, body []byte) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return "the body is empty where JSON was expected"
	case errors.As(err, &te) && te.Field == "":
		return fmt.Sprintf("the body is a JSON %s, not %s", te.Value, jsonKind(te.Type))
	case errors.As(err, &te):
		return fmt.Sprintf("field %q is a JSON %s, not %s", te.Field, te.Value, jsonKind(te.Type))
	case errors.As(err, &se):
		return fmt.Sprintf("the body is not valid JSON (at byte %d: %v)", se.Offset, se)
	default:
		return "the body is not valid JSON (" + err.Error() + ")"
	}
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "the expected type"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// redact removes the token from text that came from the server, which may echo the
// Authorization header back.
func (c *Client) redact(s string) string {
	return strings.ReplaceAll(s, c.token, "[redacted]")
}
