package quaysim

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAuthMatrix covers require_repo_read on every repository endpoint: membership plus
// repo:read for private repositories, anyone for public ones, and 401/403 (never 404) for a
// repository that does not exist.
func TestAuthMatrix(t *testing.T) {
	s := newFixtureServer(t, Options{})
	s.RevokeToken(tokCreator)
	tests := []struct {
		name, token, repo string
		want              int
	}{
		{"member with repo:read", tokFull, "acme/api", 200},
		{"member with only repo:read", tokRepoOnly, "acme/api", 200},
		{"member without repo:read", tokUserOnly, "acme/api", 403},
		{"no token", "", "acme/api", 401},
		{"unknown token", "not-a-token", "acme/api", 401},
		{"revoked token", tokCreator, "acme/api", 401},
		{"non-member", tokOutsider, "acme/api", 403},
		{"non-member on public", tokOutsider, "acme/tools", 200},
		{"anonymous on public", "", "acme/tools", 200},
		{"member without repo:read on public", tokUserOnly, "acme/tools", 200},
		{"missing repository with token", tokFull, "acme/nope", 403},
		{"missing repository anonymous", "", "acme/nope", 401},
		{"missing organization", tokFull, "nope/api", 403},
		{"bare name is library/", tokFull, "api", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			digest := dg("v130")
			if tt.repo == "acme/tools" {
				digest = dg("tools")
			}
			base := "/api/v1/repository/" + tt.repo
			for _, path := range []string{base + "/tag/", base + "/manifest/" + digest,
				base + "/manifest/" + digest + "/security"} {
				r := call(s, path, tt.token)
				switch tt.want {
				case 401:
					checkAPIError(t, r, 401, "invalid_token", "Requires authentication")
				case 403:
					checkAPIError(t, r, 403, "insufficient_scope", "Unauthorized")
				default:
					r.mustStatus(t, tt.want)
				}
			}
		})
	}
}

func TestSecurityAcceptsBasicOAuthToken(t *testing.T) {
	s := newFixtureServer(t, Options{})
	path := "/api/v1/repository/acme/api/manifest/" + dg("v130")
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"security with $oauthtoken", path + "/security", basic("$oauthtoken", tokFull), 200},
		{"security with another user", path + "/security", basic("alice", tokFull), 401},
		{"manifest ignores Basic", path, basic("$oauthtoken", tokFull), 401},
		{"lowercase bearer", path, "bearer " + tokFull, 200},
		{"bearer with extra fields", path, "Bearer " + tokFull + " x", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call(s, tt.path, "", "Authorization", tt.auth).mustStatus(t, tt.want)
		})
	}
}

func TestJWTBearer(t *testing.T) {
	s := newFixtureServer(t, Options{})
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct{ name, token, want string }{
		{"registry JWT", seg(`{"typ":"JWT","alg":"RS256"}`) + "." +
			seg(`{"iss":"quay","sub":"alice"}`) + ".sig", `Issuer quay not configured`},
		{"no issuer", seg(`{"typ":"JWT"}`) + "." + seg(`{"sub":"x"}`) + ".sig",
			"Token does not contain issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/user/", "/api/v1/repository?namespace=acme"} {
				r := call(s, path, tt.token).mustStatus(t, 401)
				if got := r.object(t)["message"]; got != tt.want {
					t.Errorf("%s message = %v, want %q", path, got, tt.want)
				}
			}
		})
	}
	// Three dots without a JWT header is just an unknown token.
	call(s, "/api/v1/repository?namespace=acme", "a.b.c").mustStatus(t, 200)
}

func TestBrowserRequests(t *testing.T) {
	s := newFixtureServer(t, Options{})
	const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
		"Chrome/124.0.0.0 Safari/537.36"
	tests := []struct {
		name, ua, xhr string
		want          int
	}{
		{"chrome", chrome, "", 400},
		{"chrome via XHR", chrome, "XMLHttpRequest", 200},
		{"firefox", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
			"", 400},
		{"safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 " +
			"(KHTML, like Gecko) Version/17.4 Safari/605.1.15", "", 400},
		{"edge is not listed", chrome + " Edg/124.0.0.0", "", 200},
		{"curl", "curl/8.5.0", "", 200},
		{"go client", "Go-http-client/1.1", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(s, "/api/v1/user/", tokFull, "User-Agent", tt.ua, "X-Requested-With", tt.xhr)
			r.mustStatus(t, tt.want)
			if tt.want == 400 {
				want := "API calls must be invoked with an X-Requested-With header if called " +
					"from a browser"
				if got := r.object(t)["message"]; got != want {
					t.Errorf("message = %v", got)
				}
			}
		})
	}
	// Only GETs are checked; other methods are refused anyway by a read-only simulator.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/user/", nil)
	req.Header.Set("User-Agent", chrome)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST status = %d, want 405", rec.Code)
	}
}
