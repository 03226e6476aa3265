package quaysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type repoPage struct {
	Repositories []struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"repositories"`
	NextPage *string `json:"next_page"`
}

func listPage(t *testing.T, s http.Handler, token, query string) repoPage {
	t.Helper()
	r := call(s, "/api/v1/repository?"+query, token).mustStatus(t, http.StatusOK)
	var p repoPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// manyRepos is an organization of n repositories with one tag each.
func manyRepos(n int) *Dataset {
	org := Organization{Name: "acme"}
	for i := range n {
		org.Repositories = append(org.Repositories, Repository{Name: fmt.Sprintf("r%03d", i),
			Tags: []Tag{{Name: "v1", ManifestDigest: dg("r"), StartTS: now0 - day, Size: 1}}})
	}
	return &Dataset{Organizations: []Organization{org}, Tokens: []Token{{Token: tokFull,
		Scopes: []string{"repo:read", "user:read"}, User: "alice",
		Organizations: []string{"acme"}}}}
}

func TestRepositoryPagination(t *testing.T) {
	clock := fixtureNow
	s := New(manyRepos(250), Options{Now: func() time.Time { return clock }})
	var names []string
	var tokens []string
	query := "namespace=acme"
	for {
		p := listPage(t, s, tokFull, query)
		for _, r := range p.Repositories {
			names = append(names, r.Name)
		}
		if p.NextPage == nil {
			break
		}
		tokens = append(tokens, *p.NextPage)
		if len(tokens) > 3 {
			t.Fatal("more than three pages")
		}
		query = "namespace=acme&next_page=" + url.QueryEscape(*p.NextPage)
	}
	if len(tokens) != 2 || len(names) != 250 {
		t.Fatalf("got %d pages and %d repositories, want 3 and 250", len(tokens)+1, len(names))
	}
	for i, n := range names {
		if n != fmt.Sprintf("r%03d", i) {
			t.Fatalf("repository %d = %s, want dataset (id) order", i, n)
		}
	}
	for _, tok := range tokens {
		if !strings.HasPrefix(tok, "gAAAAA") || strings.Contains(tok, "start_index") {
			t.Errorf("page token %q is not an opaque Fernet token", tok)
		}
	}

	first := listPage(t, s, tokFull, "namespace=acme").Repositories[0].Name
	foreign := New(manyRepos(250), Options{Now: func() time.Time { return clock }})
	foreignTok := *listPage(t, foreign, tokFull, "namespace=acme").NextPage
	tampered := tokens[0][:20] + strings.ToUpper(tokens[0][20:21]) + tokens[0][21:]
	if tampered == tokens[0] {
		tampered = tokens[0][:20] + "x" + tokens[0][21:]
	}
	for name, tok := range map[string]string{
		"garbage": "garbage", "foreign key": foreignTok, "tampered": tampered,
	} {
		t.Run(name, func(t *testing.T) {
			p := listPage(t, s, tokFull, "namespace=acme&next_page="+url.QueryEscape(tok))
			if p.Repositories[0].Name != first || len(p.Repositories) != 100 {
				t.Errorf("a bad token gave a page starting at %s, want page 1 (%s)",
					p.Repositories[0].Name, first)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		clock = fixtureNow.Add(49 * time.Hour)
		defer func() { clock = fixtureNow }()
		p := listPage(t, s, tokFull, "namespace=acme&next_page="+url.QueryEscape(tokens[0]))
		if p.Repositories[0].Name != first {
			t.Errorf("an expired token gave a page starting at %s, want page 1",
				p.Repositories[0].Name)
		}
	})
	t.Run("key shared between instances", func(t *testing.T) {
		key := []byte("0123456789abcdef0123456789abcdef")
		a := New(manyRepos(250), Options{Now: func() time.Time { return clock }, PageTokenKey: key})
		b := New(manyRepos(250), Options{Now: func() time.Time { return clock }, PageTokenKey: key})
		tok := *listPage(t, a, tokFull, "namespace=acme").NextPage
		p := listPage(t, b, tokFull, "namespace=acme&next_page="+url.QueryEscape(tok))
		if p.Repositories[0].Name != "r100" {
			t.Errorf("second page starts at %s, want r100", p.Repositories[0].Name)
		}
	})
}

func TestRepositoryKeysetSurvivesDeletes(t *testing.T) {
	s := New(manyRepos(150), Options{Now: func() time.Time { return fixtureNow }})
	p := listPage(t, s, tokFull, "namespace=acme")
	for _, name := range []string{"r000", "r050", "r120"} {
		if err := s.DeleteRepository("acme", name); err != nil {
			t.Fatal(err)
		}
	}
	next := listPage(t, s, tokFull, "namespace=acme&next_page="+url.QueryEscape(*p.NextPage))
	if next.Repositories[0].Name != "r100" || len(next.Repositories) != 49 {
		t.Errorf("page 2 = %s.. (%d), want r100.. (49): keyset pages do not shift",
			next.Repositories[0].Name, len(next.Repositories))
	}
}

func names(p repoPage) []string {
	out := []string{}
	for _, r := range p.Repositories {
		out = append(out, r.Namespace+"/"+r.Name)
	}
	return out
}

func TestRepositoryVisibility(t *testing.T) {
	s := newFixtureServer(t, Options{})
	s.RevokeToken(tokCreator)
	all := "acme/api,acme/team/app,acme/tools,acme/gone"
	tests := []struct {
		name, token, query, want string
	}{
		{"member", tokFull, "namespace=acme", all},
		{"member without repo:read scope", tokUserOnly, "namespace=acme", all},
		{"anonymous", "", "namespace=acme", ""},
		{"unknown token", "nope", "namespace=acme", ""},
		{"revoked token", tokCreator, "namespace=acme", ""},
		{"non-member", tokOutsider, "namespace=acme", ""},
		{"non-member with public", tokOutsider, "namespace=acme&public=true", "acme/tools"},
		{"anonymous public everywhere", "", "public=true", "acme/tools,other/pub"},
		{"member public everywhere", tokFull, "public=1", all + ",other/pub"},
		{"truthy public=no", tokOutsider, "namespace=acme&public=no", "acme/tools"},
		{"public=false", tokOutsider, "namespace=acme&public=false", ""},
		{"unknown namespace", tokFull, "namespace=nope", ""},
		{"starred", tokFull, "starred=true", ""},
		{"other kind", tokFull, "namespace=acme&repo_kind=application", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(names(listPage(t, s, tt.token, tt.query)), ",")
			if got != tt.want {
				t.Errorf("repositories = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRepositoryErrors(t *testing.T) {
	s := newFixtureServer(t, Options{})
	checkAPIError(t, call(s, "/api/v1/repository", tokFull), 400, "invalid_request",
		"namespace, starred or public are required for this API call")
	checkAPIError(t, call(s, "/api/v1/repository?namespace=&public=0", tokFull), 400,
		"invalid_request", "namespace, starred or public are required for this API call")
	r := call(s, "/api/v1/repository?starred=true", "").mustStatus(t, 400)
	if got := r.object(t)["message"]; got != badRequestText {
		t.Errorf("anonymous starred message = %v", got)
	}
}

func TestRepositoryFields(t *testing.T) {
	s := newFixtureServer(t, Options{})
	body := call(s, "/api/v1/repository?namespace=acme&last_modified=true&popularity=true",
		tokFull).mustStatus(t, 200).object(t)
	if _, has := body["next_page"]; has {
		t.Errorf("next_page present on the only page")
	}
	repos := body["repositories"].([]any)
	want := map[string]any{
		"acme/api":      json.Number(fmt.Sprint(now0 - 5*day)),
		"acme/team/app": json.Number(fmt.Sprint(now0 - 2*day)),
		"acme/tools":    json.Number(fmt.Sprint(now0 - 100*day)),
		"acme/gone":     nil,
	}
	for _, v := range repos {
		r := v.(map[string]any)
		key := r["namespace"].(string) + "/" + r["name"].(string)
		if r["last_modified"] != want[key] {
			t.Errorf("%s last_modified = %#v, want %#v", key, r["last_modified"], want[key])
		}
		if _, has := r["last_modified"]; !has {
			t.Errorf("%s has no last_modified key", key)
		}
		if r["kind"] != "image" || r["state"] != "NORMAL" || r["is_starred"] != false ||
			r["description"] != nil || r["popularity"] != json.Number("0.0") {
			t.Errorf("%s fields = %v", key, r)
		}
		if _, ok := r["is_public"].(bool); !ok {
			t.Errorf("%s is_public = %#v, want a bool", key, r["is_public"])
		}
	}
	plain := call(s, "/api/v1/repository?namespace=acme&public=true", "").object(t)
	r := plain["repositories"].([]any)[0].(map[string]any)
	for _, key := range []string{"last_modified", "popularity", "is_starred"} {
		if _, has := r[key]; has {
			t.Errorf("%s present without its parameter or for an anonymous caller", key)
		}
	}
}
