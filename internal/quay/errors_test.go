package quay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Calls that reach the endpoints whose failures read differently.
var (
	callUser = func(c *Client) error { _, err := c.WhoAmI(context.Background()); return err }
	callOrg  = func(c *Client) error { return c.Organization(context.Background(), "acme") }
	callTags = func(c *Client) error {
		_, err := c.Tags(context.Background(), "acme", "api", 1)
		return err
	}
	callSecurity = func(c *Client) error {
		_, err := c.Security(context.Background(), "acme", "api", "sha256:5b0be1")
		return err
	}
)

const nginx429 = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n" +
	"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx/1.12.1</center>\r\n" +
	"</body>\r\n</html>\r\n"

func TestStatusErrors(t *testing.T) {
	tests := []struct {
		name    string
		call    func(*Client) error
		status  int
		ctype   string
		body    string
		kind    ErrorKind
		message string   // the wanted Error.Message
		parts   []string // parts of the wanted Error()
	}{
		{name: "401 on user", call: callUser, status: 401, ctype: "application/json",
			body: `{"detail": "Requires authentication", "error_message": "Requires ` +
				`authentication", "error_type": "invalid_token", "title": "invalid_token", ` +
				`"status": 401, "session_required": false}`,
			kind: KindUnauthorized, message: "Requires authentication",
			parts: []string{"GET http://", "/api/v1/user/: 401 Unauthorized: the token was " +
				`rejected: it is invalid or expired, or it lacks "Read User Information" ` +
				`(user:read), and Quay answers 401 for both (Quay answered "Requires ` +
				`authentication"); generate an OAuth access token for the organization's ` +
				`application with "View all visible repositories" and "Read User Information"`}},
		{name: "401 on tags", call: callTags, status: 401, ctype: "application/json",
			body: `{"message": "Anonymous access is not allowed"}`, kind: KindUnauthorized,
			message: "Anonymous access is not allowed",
			parts:   []string{"the request ran as anonymous", "generate an OAuth access token"}},
		{name: "403 on tags", call: callTags, status: 403, ctype: "application/json",
			body: `{"detail": "Unauthorized", "error_message": "Unauthorized", ` +
				`"error_type": "insufficient_scope", "status": 403}`,
			kind: KindForbidden, message: "Unauthorized",
			parts: []string{`403 Forbidden: the token may not read repository "acme/api": it ` +
				`lacks "View all visible repositories" (repo:read), or its user has no read ` +
				"access to the repository; Quay also answers 403 for a repository that does " +
				"not exist"}},
		{name: "403 on user", call: callUser, status: 403, ctype: "application/json",
			body: `{"error_message": "Unauthorized"}`, kind: KindForbidden,
			message: "Unauthorized", parts: []string{`lacks "Read User Information"`}},
		{name: "404 on organization", call: callOrg, status: 404, ctype: "application/json",
			body: `{"detail": "Not Found", "error_message": "Not Found", "status": 404}`,
			kind: KindNotFound, message: "Not Found",
			parts: []string{`/api/v1/organization/acme: 404 Not Found: organization "acme" ` +
				"does not exist, or is a user namespace", "check the organization name"}},
		{name: "404 on security without scanner", call: callSecurity, status: 404,
			ctype: "text/html", body: "<!doctype html><title>404 Not Found</title>",
			kind: KindNotFound, parts: []string{"FEATURE_SECURITY_SCANNER is off",
				"the host answered an HTML page", "not a proxy or login page"}},
		{name: "429 nginx page", call: callTags, status: 429, ctype: "text/html",
			body: nginx429, kind: KindRateLimited,
			parts: []string{"429 Too Many Requests: the host is rate limiting requests; retry " +
				"later with fewer concurrent requests"}},
		{name: "400 reqparse", call: callTags, status: 400, ctype: "application/json",
			body: `{"message": {"limit": "Limit on the number of results (int)"}}`,
			kind: KindBadRequest, message: `{"limit": "Limit on the number of results (int)"}`,
			parts: []string{`400 Bad Request: Quay refused the request for repository`}},
		{name: "402", call: callTags, status: 402, ctype: "application/json",
			body: `{"error_type": "exceeds_license"}`, kind: KindBadRequest},
		{name: "409", call: callTags, status: 409, ctype: "application/json",
			body: `{"error_message": "Cannot delete immutable tag 'x'"}`, kind: KindBadRequest,
			message: "Cannot delete immutable tag 'x'"},
		{name: "408", call: callTags, status: 408, kind: KindUnavailable,
			parts: []string{"timed out"}},
		{name: "500 text", call: callTags, status: 500, ctype: "text/plain",
			body: "Internal Server Error\ntraceback…", kind: KindUnavailable,
			message: "Internal Server Error",
			parts:   []string{"the host had a server error (Quay answered", "; retry later"}},
		{name: "502 proxy page", call: callTags, status: 502, ctype: "text/html",
			body: "<html>bad gateway</html>", kind: KindUnavailable},
		{name: "503 read-only", call: callTags, status: 503, ctype: "application/json",
			body: `{"message": "System is currently read-only. Pulls will succeed but all ` +
				`write operations are currently suspended.", "is_readonly": true}`,
			kind: KindUnavailable,
			message: "System is currently read-only. Pulls will succeed but all write " +
				"operations are currently suspended.",
			parts: []string{"read-only mode"}},
		{name: "520 scanner", call: callSecurity, status: 520, ctype: "application/json",
			body: `{"error_message": "Could not load security information", ` +
				`"error_type": "downstream_issue", "status": 520}`,
			kind: KindUnavailable, message: "Could not load security information",
			parts: []string{": 520: Quay's security scanner could not answer"}},
		{name: "302 without location", call: callTags, status: 302, kind: KindMalformed,
			parts: []string{"unexpected status"}},
		{name: "401 login page", call: callUser, status: 401, ctype: "text/html",
			body: "<html><form>Sign in</form></html>", kind: KindUnauthorized,
			parts: []string{"the host answered an HTML page", "login page"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, reply(tt.status, tt.ctype, tt.body), oneAttempt)
			err := tt.call(hs.c)
			e := wantKind(t, err, tt.kind)
			if e.Status != tt.status || e.Message != tt.message || e.Method != "GET" {
				t.Errorf("status %d, message %q, method %q; want %d, %q, GET",
					e.Status, e.Message, e.Method, tt.status, tt.message)
			}
			if !strings.HasPrefix(e.URL, hs.srv.URL+"/api/v1/") {
				t.Errorf("URL %q is not below the server's API", e.URL)
			}
			wantRetry := tt.kind == KindRateLimited || tt.kind == KindUnavailable
			if e.Retryable() != wantRetry {
				t.Errorf("Retryable() = %v, want %v", e.Retryable(), wantRetry)
			}
			wantText(t, err, tt.parts...)
			if tt.ctype == "text/html" && tt.kind == KindRateLimited &&
				strings.Contains(err.Error(), "proxy") {
				t.Errorf("a rate limit page is blamed on a proxy: %v", err)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	e := &Error{Kind: KindForbidden}
	tests := []struct {
		name string
		err  error
		want ErrorKind
	}{
		{name: "nil", err: nil, want: ""},
		{name: "other", err: errors.New("boom"), want: ""},
		{name: "direct", err: e, want: KindForbidden},
		{name: "wrapped", err: fmt.Errorf("list tags of acme/api: %w", e), want: KindForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorWithoutDetails(t *testing.T) {
	err := &Error{Kind: KindEmptyNamespace, Err: context.Canceled}
	if got := err.Error(); got != "empty namespace: context canceled" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(err, context.Canceled) {
		t.Error("Unwrap does not reach the cause")
	}
}

// echoToken answers with the Authorization header it received inside the body, as a careless
// proxy or server might.
func echoToken(status int, ctype, format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", fmt.Sprintf(ctype, r.Header.Get("Authorization")))
		w.WriteHeader(status)
		fmt.Fprintf(w, format, r.Header.Get("Authorization"))
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	tests := []struct {
		name     string
		h        http.HandlerFunc
		redacted bool // whether the message is expected to show the redaction
	}{
		{name: "json 401", h: echoToken(401, "application/json",
			`{"error_message": "bad header %s"}`), redacted: true},
		{name: "text 500", h: echoToken(500, "text/plain", "rejected: %s"), redacted: true},
		{name: "long json 403", h: echoToken(403, "application/json",
			`{"detail": "`+strings.Repeat("x", 190)+` %s"}`)},
		{name: "html 200", h: echoToken(200, "text/html; note=%q", "<p>%s</p>")},
		{name: "html 404", h: echoToken(404, "text/html; note=%q", "<p>%s</p>")},
		{name: "bad json 200", h: echoToken(200, "application/json", `{"username": %s}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, tt.h, oneAttempt)
			_, err := hs.c.WhoAmI(context.Background())
			if err == nil {
				t.Fatal("WhoAmI succeeded")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err),
				fmt.Sprintf("%#v", err)} {
				if strings.Contains(text, testToken) {
					t.Fatal("the error text contains the token")
				}
			}
			if tt.redacted && !strings.Contains(err.Error(), "Bearer [redacted]") {
				t.Errorf("error %q does not show the redaction", err)
			}
		})
	}
}

func TestLongMessageIsTrimmed(t *testing.T) {
	long := strings.Repeat("é", 500)
	hs := newHarness(t, reply(400, "application/json", `{"error_message": "`+long+`"}`))
	e := wantKind(t, callTags(hs.c), KindBadRequest)
	if len(e.Message) > maxMessage+len("…") || !strings.HasSuffix(e.Message, "…") ||
		!strings.HasPrefix(e.Message, "éé") {
		t.Errorf("message of %d bytes, want a trimmed message ending in …", len(e.Message))
	}
}

func TestMalformedBodies(t *testing.T) {
	tests := []struct {
		name  string
		ctype string
		body  string
		want  string
	}{
		{name: "tags not an array", ctype: "application/json",
			body: `{"tags": "none", "page": 1, "has_additional": false}`,
			want: `field "tags" is a JSON string, not an array (content type "application/json")`},
		{name: "tags missing", ctype: "application/json",
			body: `{"page": 1, "has_additional": false}`, want: `the body has no "tags" array`},
		{name: "tags null", ctype: "application/json",
			body: `{"tags": null, "page": 1, "has_additional": false}`,
			want: `the body has no "tags" array`},
		{name: "has_additional missing", ctype: "application/json",
			body: `{"tags": [], "page": 1}`, want: `the body has no "has_additional"`},
		{name: "start_ts a string", ctype: "application/json",
			body: `{"tags": [{"name": "v1", "manifest_digest": "sha256:aa", "start_ts": "x"}],` +
				` "page": 1, "has_additional": false}`,
			want: `field "tags.start_ts" is a JSON string, not an integer`},
		{name: "row without digest", ctype: "application/json",
			body: `{"tags": [{"name": "v1"}], "page": 1, "has_additional": false}`,
			want: `tag 0 has no "name" or "manifest_digest"`},
		{name: "other page", ctype: "application/json",
			body: `{"tags": [], "page": 2, "has_additional": false}`,
			want: "the body is page 2, not the page 1 asked for"},
		{name: "array", ctype: "application/json", body: `[1, 2]`,
			want: "the body is a JSON array, not an object"},
		{name: "syntax", ctype: "application/json", body: `{"tags": [}`,
			want: "the body is not valid JSON (at byte 11: invalid character '}'"},
		{name: "truncated", ctype: "application/json", body: `{"tags": [`,
			want: "the body is not valid JSON (at byte 10: unexpected end of JSON input)"},
		{name: "empty", ctype: "application/json", body: "",
			want: "the body is empty where JSON was expected"},
		{name: "html", ctype: "text/html; charset=utf-8", body: "<html>Log in</html>",
			want: `the host answered an HTML page (content type "text/html; charset=utf-8") ` +
				"where JSON was expected: it may not be a Quay API URL, or a proxy or login " +
				"page answered; check the host URL"},
		{name: "html labelled json", ctype: "application/json", body: " <!DOCTYPE html>",
			want: "the host answered an HTML page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, reply(200, tt.ctype, tt.body))
			err := callTags(hs.c)
			e := wantKind(t, err, KindMalformed)
			wantText(t, err, "GET "+hs.srv.URL+"/api/v1/repository/acme/api/tag/?", tt.want)
			if e.Status != 200 || e.Retryable() || hs.requests() != 1 {
				t.Errorf("status %d, retryable %v after %d requests; want 200, false, 1",
					e.Status, e.Retryable(), hs.requests())
			}
		})
	}
}

func TestOversizedBody(t *testing.T) {
	body := `{"tags": [], "page": 1, "has_additional": false, "pad": "` +
		strings.Repeat("x", defaultBodyLimit) + `"}`
	hs := newHarness(t, jsonOK(body))
	wantText(t, callTags(hs.c), "the body is larger than the 8 MiB this client reads")
}

func TestArgumentErrors(t *testing.T) {
	ctx := context.Background()
	hs := newHarness(t, jsonOK(`{}`))
	c := hs.c
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{name: "empty namespace", call: func() error {
			_, err := c.Repositories(ctx, "", "")
			return err
		}, want: `namespace "" is empty`},
		{name: "dot-dot repository", call: func() error {
			_, err := c.Tags(ctx, "acme", "../../user", 1)
			return err
		}, want: `repository name "../../user" is empty or has an empty, "." or ".."`},
		{name: "empty segment", call: func() error {
			_, err := c.Tags(ctx, "acme", "team//app", 1)
			return err
		}, want: `repository name "team//app"`},
		{name: "slash in namespace", call: func() error {
			_, err := c.Tags(ctx, "acme/x", "app", 1)
			return err
		}, want: `namespace "acme/x" contains a slash`},
		{name: "bad digest", call: func() error {
			_, err := c.Manifest(ctx, "acme", "app", "latest")
			return err
		}, want: `manifest digest "latest" is not of the form algorithm:hex`},
		{name: "empty tag", call: func() error {
			_, _, err := c.ActiveTag(ctx, "acme", "app", "")
			return err
		}, want: "tag name is empty"},
		{name: "empty organization", call: func() error {
			return c.Organization(ctx, "")
		}, want: `organization "" is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			e := wantKind(t, err, KindBadRequest)
			if err.Error() != e.problem || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want only the problem, with %q", err, tt.want)
			}
		})
	}
	if hs.requests() != 0 {
		t.Errorf("%d requests sent for invalid arguments", hs.requests())
	}
}

func TestTokenNeverInTransportErrors(t *testing.T) {
	// A broken server that puts the Authorization header into its status line makes net/http
	// quote it in the transport error.
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		fmt.Fprintf(buf, "HTTP/1.1 %s OK\r\nContent-Length: 0\r\n\r\n", token)
		_ = buf.Flush()
	}), oneAttempt)
	_, err := hs.c.WhoAmI(context.Background())
	e := wantKind(t, err, KindUnavailable)
	if strings.Contains(err.Error(), testToken) || strings.Contains(fmt.Sprintf("%#v", err),
		testToken) {
		t.Fatal("the error text contains the token")
	}
	wantText(t, err, "could not reach the host: ", "[redacted]")
	if e.Err == nil || errors.Unwrap(e.Err) == nil {
		t.Errorf("the redacted cause %v does not unwrap to the original", e.Err)
	}
}
