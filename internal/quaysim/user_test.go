package quaysim

import (
	"net/http"
	"reflect"
	"regexp"
	"testing"
)

var md5Hex = regexp.MustCompile(`^[0-9a-f]{32}$`)

func checkAvatar(t *testing.T, v any, name, kind string) {
	t.Helper()
	a, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("avatar = %#v, want an object", v)
	}
	if a["name"] != name || a["kind"] != kind {
		t.Errorf("avatar name/kind = %v/%v, want %s/%s", a["name"], a["kind"], name, kind)
	}
	if h, _ := a["hash"].(string); !md5Hex.MatchString(h) {
		t.Errorf("avatar hash = %v, want 32 hex digits", a["hash"])
	}
	if c, _ := a["color"].(string); !regexp.MustCompile(`^#[0-9a-f]{6}$`).MatchString(c) {
		t.Errorf("avatar color = %v, want #rrggbb", a["color"])
	}
}

func TestUser(t *testing.T) {
	s := newFixtureServer(t, Options{})
	body := call(s, "/api/v1/user/", tokFull).mustStatus(t, http.StatusOK).object(t)
	if body["anonymous"] != false || body["username"] != "alice" {
		t.Errorf("anonymous/username = %v/%v, want false/alice", body["anonymous"],
			body["username"])
	}
	checkAvatar(t, body["avatar"], "alice", "user")
	if _, has := body["email"]; has {
		t.Errorf("email present; a user:read token must not see it")
	}
	orgs, _ := body["organizations"].([]any)
	if len(orgs) != 1 {
		t.Fatalf("organizations = %v, want only acme", body["organizations"])
	}
	org := orgs[0].(map[string]any)
	if org["name"] != "acme" || org["can_create_repo"] != false || org["public"] != false {
		t.Errorf("organization = %v", org)
	}
	checkAvatar(t, org["avatar"], "acme", "org")
	if _, has := org["is_org_admin"]; has {
		t.Errorf("is_org_admin present; it needs user:admin")
	}
}

func TestUserUnauthenticated(t *testing.T) {
	s := newFixtureServer(t, Options{})
	s.RevokeToken(tokOutsider)
	for name, tok := range map[string]string{
		"no token": "", "unknown token": "nope", "revoked": tokOutsider,
		"no user:read": tokRepoOnly,
	} {
		t.Run(name, func(t *testing.T) {
			r := call(s, "/api/v1/user/", tok)
			checkAPIError(t, r, http.StatusUnauthorized, "invalid_token", "Requires authentication")
			if got := r.object(t)["session_required"]; got != false {
				t.Errorf("session_required = %v, want false", got)
			}
		})
	}
}

func TestOrganization(t *testing.T) {
	s := newFixtureServer(t, Options{})
	tests := []struct {
		name, token string
		member      bool
	}{
		{"read token member", tokFull, false},
		{"anonymous", "", false},
		{"outsider", tokOutsider, false},
		{"member with repo:create", tokCreator, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := call(s, "/api/v1/organization/acme", tt.token).mustStatus(t, 200).object(t)
			if body["name"] != "acme" || body["email"] != "" || body["is_admin"] != false {
				t.Errorf("name/email/is_admin = %v/%v/%v", body["name"], body["email"],
					body["is_admin"])
			}
			checkAvatar(t, body["avatar"], "acme", "user")
			if body["is_member"] != tt.member {
				t.Errorf("is_member = %v, want %v", body["is_member"], tt.member)
			}
			_, hasTeams := body["teams"]
			_, hasOrdered := body["ordered_teams"]
			if hasTeams != tt.member || hasOrdered != tt.member {
				t.Errorf("teams present = %v/%v, want %v", hasTeams, hasOrdered, tt.member)
			}
			if tt.member && !reflect.DeepEqual(body["ordered_teams"], []any{"owners"}) {
				t.Errorf("ordered_teams = %v", body["ordered_teams"])
			}
		})
	}
	checkAPIError(t, call(s, "/api/v1/organization/nope", tokFull), 404, "not_found", "Not Found")
	checkAPIError(t, call(s, "/api/v1/organization/alice", tokFull), 404, "not_found",
		"Not Found")
}
