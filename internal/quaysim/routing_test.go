package quaysim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRouting(t *testing.T) {
	s := newFixtureServer(t, Options{})
	digest := dg("v130")
	tests := []struct {
		path     string
		want     int
		location string // for redirects
		route    string
	}{
		{"/api/v1/user/", 200, "", RouteUser},
		{"/api/v1/user", 308, "http://example.com/api/v1/user/", RouteUser},
		{"/api/v1/user/?x=1", 200, "", RouteUser},
		{"/api/v1/organization/acme", 200, "", RouteOrganization},
		{"/api/v1/organization/acme/", 404, "", RouteOther},
		{"/api/v1/organization/", 404, "", RouteOther},
		{"/api/v1/repository?namespace=acme", 200, "", RouteRepositories},
		{"/api/v1/repository/?namespace=acme", 404, "", RouteOther},
		{"/api/v1/repository/acme/api/tag/", 200, "", RouteTags},
		{"/api/v1/repository/acme/api/tag?limit=1", 308,
			"http://example.com/api/v1/repository/acme/api/tag/?limit=1", RouteTags},
		{"/api/v1/repository/acme/team/app/tag/", 200, "", RouteTags},
		{"/api/v1/repository/acme//api/tag/", 404, "", RouteOther},
		{"/api/v1/repository/acme/api/manifest/" + digest, 200, "", RouteManifest},
		{"/api/v1/repository/acme/api/manifest/" + digest + "/", 404, "", RouteOther},
		{"/api/v1/repository/acme/api/manifest/latest", 404, "", RouteOther},
		{"/api/v1/repository/acme/api/manifest/" + digest + "/security", 200, "",
			RouteSecurity},
		{"/api/v1/repository/acme/api/manifest/" + digest + "/security/", 404, "", RouteOther},
		{"/api/v1/repository/acme/api", 404, "", RouteOther},
		{"/api/v1/discovery", 404, "", RouteOther},
		{"/v2/_catalog", 404, "", RouteOther},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			s.ResetStats()
			r := call(s, tt.path, tokFull).mustStatus(t, tt.want)
			if got := r.header.Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if tt.want == 404 && !strings.Contains(string(r.body), "<title>404 Not Found</title>") {
				t.Errorf("unrouted 404 body = %s, want werkzeug's HTML page", r.body)
			}
			if tt.want == 308 && !strings.Contains(string(r.body), "Redirecting...") {
				t.Errorf("redirect body = %s", r.body)
			}
			if got := s.Stats().ByRoute[tt.route]; got != 1 {
				t.Errorf("Stats().ByRoute[%q] = %d, want 1", tt.route, got)
			}
		})
	}
}

// TestRedirectOverHTTP checks that Go's client follows the 308 with the method and the
// Authorization header intact (same host), so a client calling /api/v1/user still works.
func TestRedirectOverHTTP(t *testing.T) {
	srv := httptest.NewServer(newFixtureServer(t, Options{}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/user", nil)
	req.Header.Set("Authorization", "Bearer "+tokFull)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/api/v1/user/" {
		t.Errorf("status %d at %s, want 200 at /api/v1/user/", resp.StatusCode,
			resp.Request.URL.Path)
	}
}
