package quaysim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The fixture's clock and tokens. The token values are test-only.
var (
	fixtureNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	now0       = fixtureNow.Unix()
)

const (
	tokFull     = "full0000000000000000000000000000000000000"
	tokUserOnly = "useronly0000000000000000000000000000000"
	tokRepoOnly = "repoonly0000000000000000000000000000000"
	tokOutsider = "outsider0000000000000000000000000000000"
	tokCreator  = "creator00000000000000000000000000000000"
)

func ts(v int64) *int64 { return &v }

func dg(name string) string { return digestOf("fixture", name) }

// fixture is a small dataset: acme/api has an alive image with a scheduled expiry, an alive
// multi-arch latest with a dead earlier position, a dead release and a cosign signature.
func fixture() *Dataset {
	sig := "sha256-" + dg("v130")[len("sha256:"):] + ".sig"
	return &Dataset{
		Organizations: []Organization{
			{Name: "acme", Repositories: []Repository{
				{Name: "api", Tags: []Tag{
					{Name: "v1.2.9", ManifestDigest: dg("v129"), StartTS: now0 - 60*day,
						EndTS: ts(now0 - 10*day), Size: 30998112},
					{Name: "latest", ManifestDigest: dg("v130"), StartTS: now0 - 30*day,
						EndTS: ts(now0 - 5*day), Size: 31457280},
					{Name: "v1.3.0", ManifestDigest: dg("v130"), StartTS: now0 - 30*day,
						EndTS: ts(now0 + 20*day), Size: 31457280},
					{Name: sig, ManifestDigest: dg("sig"), StartTS: now0 - 30*day + 30,
						Size: 712},
					{Name: "latest", ManifestDigest: dg("list"), StartTS: now0 - 5*day,
						IsManifestList: true},
				}},
				{Name: "team/app", Tags: []Tag{
					{Name: "v2.0.0", ManifestDigest: dg("app"), StartTS: now0 - 2*day,
						Size: 52428800},
				}},
				{Name: "tools", IsPublic: true, Tags: []Tag{
					{Name: "v0.1.0", ManifestDigest: dg("tools"), StartTS: now0 - 100*day,
						Size: 10485760},
				}},
				{Name: "gone", Tags: []Tag{
					{Name: "old", ManifestDigest: dg("gone"), StartTS: now0 - 90*day,
						EndTS: ts(now0 - 80*day), Size: 10485760},
				}},
			}},
			{Name: "other", Repositories: []Repository{
				{Name: "secret", Tags: []Tag{
					{Name: "v1", ManifestDigest: dg("secret"), StartTS: now0 - day, Size: 1e7},
				}},
				{Name: "pub", IsPublic: true, Tags: []Tag{
					{Name: "v1", ManifestDigest: dg("pub"), StartTS: now0 - day, Size: 1e7},
				}},
			}},
		},
		Tokens: []Token{
			{Token: tokFull, Scopes: []string{"repo:read", "user:read"}, User: "alice",
				Organizations: []string{"acme"}},
			{Token: tokUserOnly, Scopes: []string{"user:read"}, User: "bob",
				Organizations: []string{"acme"}},
			{Token: tokRepoOnly, Scopes: []string{"repo:read"}, User: "carol",
				Organizations: []string{"acme"}},
			{Token: tokOutsider, Scopes: []string{"repo:read", "user:read"}, User: "dave",
				Organizations: []string{"other"}},
			{Token: tokCreator, Scopes: []string{"repo:read", "user:read", "repo:create"},
				User: "erin", Organizations: []string{"acme"}},
		},
	}
}

func newFixtureServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixtureNow }
	}
	return New(fixture(), opts)
}

// result is a recorded response.
type result struct {
	code   int
	header http.Header
	body   []byte
}

// call sends a GET through the handler; headers are name, value pairs.
func call(h http.Handler, path, token string, headers ...string) result {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return result{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// object decodes a JSON object body, keeping numbers as json.Number so tests can tell an
// integer from a float.
func (r result) object(t testing.TB) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode body %q: %v", r.body, err)
	}
	return v
}

// mustStatus fails the test unless the response has status code.
func (r result) mustStatus(t testing.TB, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("status = %d, want %d; body %s", r.code, code, r.body)
	}
	return r
}

// checkAPIError checks status and ApiException body.
func checkAPIError(t *testing.T, r result, status int, errType, detail string) {
	t.Helper()
	r.mustStatus(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	body := r.object(t)
	want := map[string]any{
		"detail": detail, "error_message": detail, "error_type": errType, "title": errType,
		"type":   "http://example.com/api/v1/error/" + errType,
		"status": json.Number(jsonInt(status)),
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %#v, want %#v (body %s)", k, body[k], v, r.body)
		}
	}
}

func jsonInt(v int) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
