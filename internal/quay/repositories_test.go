package quay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestRepositories(t *testing.T) {
	body := `{"repositories": [
		{"namespace": "acme", "name": "api", "description": "API service", "is_public": false,
		 "kind": "image", "state": "NORMAL", "last_modified": 1717000000, "popularity": 12.0,
		 "is_starred": false},
		{"namespace": "acme", "name": "tools/builder", "description": null, "is_public": true,
		 "kind": "image", "state": "MIRROR", "last_modified": null, "popularity": 0.0},
		{"namespace": "acme", "name": "old", "is_public": false, "state": null}],
		"next_page": "gAAAAABmV0-x_y=="}`
	hs := newHarness(t, expect(t, "/api/v1/repository",
		"last_modified=true&namespace=acme&next_page=gAAAAABmV0-prev%3D%3D&public=true", body))
	page, err := hs.c.Repositories(context.Background(), "acme", "gAAAAABmV0-prev==")
	if err != nil {
		t.Fatalf("Repositories: %v", err)
	}
	modified := time.Date(2024, 5, 29, 16, 26, 40, 0, time.UTC)
	want := []Repository{
		{Namespace: "acme", Name: "api", State: "NORMAL", LastModified: &modified},
		{Namespace: "acme", Name: "tools/builder", IsPublic: true, State: "MIRROR"},
		{Namespace: "acme", Name: "old"},
	}
	if page.NextPage != "gAAAAABmV0-x_y==" || len(page.Repositories) != len(want) {
		t.Fatalf("page %+v", page)
	}
	for i, r := range page.Repositories {
		w := want[i]
		if r.Namespace != w.Namespace || r.Name != w.Name || r.IsPublic != w.IsPublic ||
			r.State != w.State || !equalTime(r.LastModified, w.LastModified) {
			t.Errorf("repository %d = %+v, want %+v", i, r, w)
		}
	}
}

func equalTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

func TestRepositoriesShape(t *testing.T) {
	tests := []struct {
		name string
		body string
		kind ErrorKind
		want string
	}{
		{name: "no list", body: `{"next_page": "x"}`, kind: KindMalformed,
			want: `the body has no "repositories" array`},
		{name: "not a list", body: `{"repositories": {}}`, kind: KindMalformed,
			want: `field "repositories" is a JSON object, not an array`},
		{name: "string time", body: `{"repositories": [{"namespace": "acme", "name": "a", ` +
			`"last_modified": "Wed, 29 May 2024 16:26:40 -0000"}]}`, kind: KindMalformed,
			want: `field "repositories.last_modified" is a JSON string, not an integer`},
		{name: "no name", body: `{"repositories": [{"namespace": "acme"}]}`,
			kind: KindMalformed, want: `repository 0 has no "namespace" or "name"`},
		{name: "empty first page", body: `{"repositories": []}`, kind: KindEmptyNamespace,
			want: `namespace=acme&public=true: namespace "acme" lists no repositories: it is empty, the ` +
				"token's user cannot see its repositories, or the token is invalid or " +
				"expired (Quay answers a bad token with an empty list); check the token " +
				"with WhoAmI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, jsonOK(tt.body))
			_, err := hs.c.Repositories(context.Background(), "acme", "")
			e := wantKind(t, err, tt.kind)
			if e.Status != http.StatusOK || e.Retryable() {
				t.Errorf("status %d, retryable %v", e.Status, e.Retryable())
			}
			wantText(t, err, tt.want)
		})
	}
}

func TestRepositoriesEmptyLaterPage(t *testing.T) {
	hs := newHarness(t, jsonOK(`{"repositories": []}`))
	page, err := hs.c.Repositories(context.Background(), "acme", "token")
	if err != nil || len(page.Repositories) != 0 || page.NextPage != "" {
		t.Errorf("page %+v, %v; want an empty last page", page, err)
	}
}

// repoPages serves the repository list from pages keyed by the next_page query value.
func repoPages(t *testing.T, pages map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("next_page")]
		if !ok {
			t.Errorf("unexpected page token %q", r.URL.Query().Get("next_page"))
		}
		jsonOK(body)(w, r)
	}
}

func repoList(next string, names ...string) string {
	body := `{"repositories": [`
	for i, n := range names {
		if i > 0 {
			body += ", "
		}
		body += fmt.Sprintf(`{"namespace": "acme", "name": %q, "is_public": false}`, n)
	}
	if next == "" {
		return body + `]}`
	}
	return body + fmt.Sprintf(`], "next_page": %q}`, next)
}

// walkRepositories returns the names and checkpoints EachRepository delivered.
func walkRepositories(c *Client, from string) (names, tokens []string, err error) {
	err = c.EachRepository(context.Background(), "acme", from, func(p RepositoryPage) error {
		for _, r := range p.Repositories {
			names = append(names, r.Name)
		}
		tokens = append(tokens, p.NextPage)
		return nil
	})
	return names, tokens, err
}

func TestEachRepository(t *testing.T) {
	pages := map[string]string{
		"":   repoList("t1", "api", "web"),
		"t1": repoList("t2", "tools/builder"),
		"t2": repoList("", "worker"),
	}
	hs := newHarness(t, repoPages(t, pages))
	names, tokens, err := walkRepositories(hs.c, "")
	if err != nil {
		t.Fatalf("EachRepository: %v", err)
	}
	if fmt.Sprint(names) != "[api web tools/builder worker]" || fmt.Sprint(tokens) != "[t1 t2 ]" {
		t.Errorf("names %v, checkpoints %q", names, tokens)
	}

	names, tokens, err = walkRepositories(hs.c, "t1")
	if err != nil || fmt.Sprint(names) != "[tools/builder worker]" ||
		fmt.Sprint(tokens) != "[t2 ]" {
		t.Errorf("resumed walk: names %v, checkpoints %q, %v", names, tokens, err)
	}
}

func TestEachRepositoryGuards(t *testing.T) {
	stop := errors.New("stop")
	tests := []struct {
		name      string
		pages     map[string]string
		fn        func(RepositoryPage) error
		want      error
		text      string
		delivered int // pages delivered to fn
	}{
		{name: "token repeats", pages: map[string]string{
			"": repoList("t1", "api"), "t1": repoList("t1", "web")},
			want: ErrNoProgress, delivered: 1,
			text: `list repositories of "acme": page 2 of the walk links to a page token ` +
				"already used: quay pagination made no progress"},
		{name: "token points back", pages: map[string]string{
			"": repoList("t1", "api"), "t1": repoList("t2", "web"), "t2": repoList("t1", "db")},
			want: ErrNoProgress, delivered: 2},
		{name: "silent restart", pages: map[string]string{
			"": repoList("t1", "api", "web"), "t1": repoList("t2", "db"),
			"t2": repoList("t3", "api", "web")},
			want: ErrNoProgress, delivered: 2,
			text: "page 3 of the walk only repeats repositories already listed (Quay " +
				"restarted the listing, probably on an expired page token)"},
		{name: "fn error", pages: map[string]string{"": repoList("t1", "api")},
			fn: func(RepositoryPage) error { return stop }, want: stop, delivered: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, repoPages(t, tt.pages))
			delivered := 0
			err := hs.c.EachRepository(context.Background(), "acme", "",
				func(p RepositoryPage) error {
					delivered++
					if tt.fn != nil {
						return tt.fn(p)
					}
					return nil
				})
			if !errors.Is(err, tt.want) || delivered != tt.delivered {
				t.Errorf("error %v after %d pages, want %v after %d", err, delivered, tt.want,
					tt.delivered)
			}
			if tt.text != "" {
				wantText(t, err, tt.text)
			}
		})
	}
}
